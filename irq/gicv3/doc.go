// Package gicv3 drives an Arm Generic Interrupt Controller version 3 (Arm
// IHI 0069H, "Arm Generic Interrupt Controller Architecture
// Specification, GIC architecture version 3 and version 4") for one
// processor at EL1: the distributor (distributor.go) routes shared
// peripheral interrupts (SPIs), this processor's redistributor
// (redistributor.go) its private ones (PPIs, such as the generic timer's),
// and the CPU interface's system registers (cpuif.go, ICC_*_EL1)
// acknowledge and end them.
//
// Every interrupt the package enables is put in Group 1 and so signalled
// to EL1 as an IRQ: with the GIC's security disabled (GICD_CTLR.DS = 1,
// QEMU virt without secure=on) the driver sets the groups itself; with two
// Security states (secure=on, the i.MX 8M Plus) the Non-secure EL1 driver
// cannot, and the firmware at EL3 must first have put the interrupts in
// Non-secure Group 1, woken the redistributor and set ICC_SRE_EL3
// (SecureInit does that, for a kernel entered at EL3); the group
// registers are then Secure, and Enabled tells whether an Enable took.
//
// Enable, Disable, Ack and EOI run in interrupt handlers: they are
// nosplit, allocate nothing and take no lock.
package gicv3
