// Package virtio drives virtio devices on the virtio-mmio transports of
// the microvm (amd64) and virt (arm64) boards for GOOS=tamago kernels:
// an entropy device (virtio-rng), whose continuous DMA writes exercise the
// snapshot engine's DMA path, and a block device (virtio-blk) the
// snapshot image is streamed to.
//
// The caller gives the board's transports (Transports: base, stride,
// count); the package imports no board.
//
// One transport and one queue owner serve every device on both arches:
// Transport drives the virtio-mmio register block (version 2 "modern"
// only; regs.go, 1.2 4.2.2), queue allocates a split virtqueue's
// descriptor table, available ring and used ring in one page-aligned
// block from the dma package's allocator (dma.Reserve) and gives its
// addresses to the device (4.2.3.2), and ring (this package, tested on
// the host) is the only code that reads or writes the queue afterwards.
// The devices' buffers (virtio-rng's, virtio-blk's request headers and
// status bytes) come from dma.Reserve too, so the dma guard knows every
// range before the device can learn its address. No tamago virtio code is
// used.
//
// With RNGConfig.Interrupts the device signals completions by interrupt
// (the caller routes the transport's line to the handler RNG.Interrupts
// returns: an I/O APIC pin on microvm, a GIC SPI on virt) and the pump
// sleeps until it; otherwise the pump polls the used ring.
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
// which this package does not drive; Probe reports such transports.
//
// The ring and queue code is plain Go and is tested on the host; the
// device code builds only for GOOS=tamago.
package virtio
