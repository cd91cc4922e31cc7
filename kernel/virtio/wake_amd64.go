//go:build tamago

package virtio

// wakeFromIRQ: the completion interrupt wakes the pump (irq.WakeG).
const wakeFromIRQ = true
