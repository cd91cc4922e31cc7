//go:build tamago

package virtio

// wakeFromIRQ is false on arm64: with irq.WakeG called from the device
// interrupt the runtime died within seconds under the never-blocking
// workload (fatal error: mspan.sweep: bad span state; or a fault in
// runtime.notetsleep_internal), not yet diagnosed; without the call it
// runs. The interrupt is taken, acknowledged and counted, and the pump
// sleeps RNGConfig.Wait between looks at the ring.
const wakeFromIRQ = false
