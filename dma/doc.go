// Package dma says which physical memory devices can write by DMA, for the
// snapshot engine's eager set (DMA bypasses the MMU, so write protection
// cannot catch a device's stores: such pages must be copied at Start).
//
// # Ranges
//
// Window is the whole DMA region of a tamago dma.Region: copying all of it
// at Start is correct but makes the pause as long as the region is large.
// InUse is what devices can reach at this instant: the region's allocated
// blocks (every ring and buffer a driver has handed, or may hand, to a
// device), rounded out to whole pages and merged. It is enough provided
// every block allocated later is copied before a device learns its address,
// which the guard below does.
//
// # Guard
//
// The kernel installs a Guard (SetGuard, or Begin when a snapshot starts);
// Reserve and Alloc allocate from tamago's dma package and call the guard on
// the new block's pages before returning, so a snapshot in progress copies
// those pages before any device can be told the address. Hence:
//
//   - Every driver must allocate device-visible memory through this
//     package's Reserve/Alloc (RegionReserve/RegionAlloc for other regions),
//     never through tamago's dma package directly, nor through tamago code
//     that allocates from it (kvm/virtio's VirtualQueue): kernel/virtio
//     allocates its queues and buffers here.
//   - The guard runs with this package's lock held: it must not allocate or
//     release DMA memory.
//
// Begin makes snapshot start and allocation mutually exclusive: while its
// callback computes InUse and starts the snapshot no allocation or release
// can happen, and the guard it returns is installed before any can,
// so every block is either in InUse at Start or passed to the new guard.
//
// A kernel starts a snapshot like this (s is the *snapshot.Snapshot; the
// guard makes each page copied before a device can write it, exactly as a
// write fault would):
//
//	err := dma.Begin(func() (dma.Guard, error) {
//		s, err := snapshot.New(snapshot.Config{..., DMA: dma.InUse(nil)})
//		if err != nil {
//			return nil, err
//		}
//		if err := startWithInterruptsOff(s); err != nil {
//			return nil, err
//		}
//		return func(base, size uint64) {
//			for a := base; a < base+size; a += dma.PageSize {
//				s.HandleWriteFault(a)
//			}
//		}, nil
//	})
//
// and calls SetGuard(nil) once the snapshot is complete or aborted.
//
// Devices keep writing while Start copies the eager set (the device model
// runs beside the CPU, interrupts off or not), so a DMA page's copy shows
// the page at the moment it was copied, not at the instant. For a
// bit-exact image quiesce the devices across Start (kernel/virtio's
// RNG.Quiesce: the device holds no buffer, so it writes nothing) and
// resume them after; they then write during the rest of the capture.
//
// Ranges are memrange.Range values, page-aligned to PageSize (4 KiB, the
// snapshot's copy granularity on amd64 and arm64 with 4 KiB granules).
package dma
