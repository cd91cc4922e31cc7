// Package virtio drives virtio devices on the virtio-mmio transports of
// the microvm (amd64) and virt (arm64) boards for GOOS=tamago kernels:
// today an entropy device (virtio-rng), whose continuous DMA writes
// exercise the snapshot engine's DMA path.
//
// The caller gives the board's transports (Transports: base, stride,
// count); the package imports no board.
//
// Transport set-up uses tamago's kvm/virtio (MMIO, version 2 "modern"
// transport only, and VirtualQueue for the split-queue layout and its DMA
// memory), through internal/transport, which on arm64 ports the part used
// here (tamago's package also holds amd64-only PCI code); the queues are then driven by ring (this package). With
// RNGConfig.Interrupts the device signals completions by interrupt (the
// caller routes the transport's line to the handler RNG.Interrupts
// returns: an I/O APIC pin on microvm, a GIC SPI on virt) and the pump
// sleeps until it; otherwise the pump polls the used ring. (VirtualQueue's own
// Pop re-publishes a descriptor in available slot (idx+1) mod size, one
// past the slot the device reads next, so a descriptor can be handed to
// the device twice; ring's host tests catch that pattern.) Every ring and buffer
// range is passed to the dma package's guard (dma.Expose, or allocated
// through dma.Reserve) before the device can learn its address.
//
// DMA keeps going while the CPU has interrupts off: for a bit-exact
// snapshot, RNG.Quiesce before the snapshot's Start (the device then holds
// no buffer and writes nothing) and RNG.Resume after it.
//
// QEMU (7.2) flags for an entropy device on microvm:
//
//	-global virtio-mmio.force-legacy=false -device virtio-rng-device
//
// Without force-legacy=false QEMU offers the legacy (version 1) transport,
// which tamago's virtio.MMIO rejects; Probe reports such transports.
//
// The ring code is plain Go and is tested on the host; the device code
// builds only for GOOS=tamago.
package virtio
