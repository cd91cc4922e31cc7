// Package layout is the memory plan of every board a pagesnap kernel is
// built for, computed on the host: the runtime's memory for a RAM size
// chosen at build time (`make kernel RAM=768M`), the DMA window after it,
// pagesnap's reserved region and the snapshot storage (kernel.Plan), the
// guest memory the machine needs, and the largest RAM size the board can
// hold. cmd/pagesnap-board uses it to refuse sizes that do not fit and to
// write the build overlay that sets the runtime's memory size.
package layout

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/memrange"
)

// Range is a physical address range.
type Range = kernel.Range

// Units.
const (
	MiB = 1 << 20
	GiB = 1 << 30
	// SizeUnit is the granule of RAM sizes: the 2 MiB page-table leaf
	// (Intel SDM Vol. 3A, 4.5 "4-level paging", PDE mapping a 2-MByte
	// page; Arm ARM D8.3, level 2 block descriptor with a 4 KiB granule).
	// The DMA window starts where the runtime's memory ends, and pagesnap
	// rounds the DMA blocks in use out to these leaves on amd64.
	SizeUnit = 2 * MiB
	// MinRAM is the smallest runtime memory accepted: the kernel image,
	// its heap and stacks, and the pagesnap kernel's 32 MiB workload
	// array.
	MinRAM = 64 * MiB
	// FourGiB is where RAM above the 32-bit device hole starts on x86
	// machines, and the end of what the GOOS=tamago heap can address.
	FourGiB = 4 * GiB
)

// Board describes where a board puts RAM, the runtime and the DMA window.
type Board struct {
	// Name is the make BOARD= value.
	Name string
	// Arch is the GOARCH.
	Arch string
	// Package is the board package the kernel links.
	Package string
	// Platform is what runs the kernel.
	Platform string
	// RAMBase is where the machine's RAM starts.
	RAMBase uint64
	// RuntimeStart is goos.RamStart: the runtime's memory starts here.
	RuntimeStart uint64
	// TextStart is where kernels are linked (-ldflags "-T").
	TextStart uint64
	// SizeBase is what the RAM size counts from: the runtime's memory
	// ends at SizeBase+size (RuntimeStart on x86; the device tree's base
	// on QEMU virt, whose first MiB below RuntimeStart holds the blob).
	SizeBase uint64
	// DMASize is the size of the DMA window that follows the runtime's
	// memory.
	DMASize uint64
	// DMARoundOut is the unit the DMA blocks in use are widened to for
	// the eager set: the leaf size pagesnap maps the DMA window with.
	DMARoundOut uint64
	// LowRAMTop is where RAM below 4 GiB ends, at most (the 32-bit
	// device hole starts there); guest memory beyond it continues at
	// FourGiB. Zero: one bank from RAMBase.
	LowRAMTop uint64
	// FixedRAM is the RAM a board has from RAMBase when it is not the
	// guest memory an image asks for (a physical board: the EVK's DDR);
	// the plan, storage included, must fit it. Zero: no such bound.
	FixedRAM uint64
	// EndLimit bounds the end of the DMA window (and so the runtime's
	// memory), with Why saying what sets it.
	EndLimit uint64
	Why      string
	// Tags are the build tags a kernel for one of pagesnap's own boards
	// needs (its glue in kernel/cmd/pagesnap is chosen by tag).
	Tags string
	// TamagoBoard is true for the tamago library's own board packages
	// (their mem.go is replaced under the linkramsize build tag).
	TamagoBoard bool
	// DefaultRAM is the size used when RAM= is not given.
	DefaultRAM uint64
}

// LinkerFlags returns the -ldflags value kernels for b are linked with.
func (b Board) LinkerFlags() string {
	return fmt.Sprintf("-T %#x -R 0x1000", b.TextStart)
}

// Layout is the plan for one board and RAM size.
type Layout struct {
	Board Board
	// RAMSize is the size given at build time.
	RAMSize uint64
	// Runtime is the runtime's memory (goos.RamStart, goos.RamSize).
	Runtime Range
	// DMA is the DMA window.
	DMA Range
	// GuestMiB is the least guest memory, in MiB, that holds the
	// captured RAM, the reserved region and the storage.
	GuestMiB uint64
	// Machine is pagesnap's plan (kernel.Plan) for GuestMiB of RAM.
	Machine *kernel.Machine
	// DiskGuestMiB is the least guest memory, in MiB, of a disk-only
	// machine: the captured RAM, the reserved region and the RAM region
	// of a snapshot to disk with the default buffer
	// (Machine.HoldsDiskBuffer), no image in RAM (snap start refuses,
	// snap start disk works).
	DiskGuestMiB uint64
}

// ErrSize is wrapped by every error about a RAM size.
var ErrSize = errors.New("RAM size")

// ParseSize reads a size such as 256M, 3G, 2800M or 1536K (binary units;
// a plain number is bytes).
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	mult := uint64(1)
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K', 'k':
			mult = 1 << 10
		case 'M', 'm':
			mult = MiB
		case 'G', 'g':
			mult = GiB
		}
		if mult != 1 {
			t = t[:n-1]
		}
	}
	v, err := strconv.ParseUint(t, 10, 64)
	if err != nil || v == 0 || v > (1<<44)/mult {
		return 0, fmt.Errorf("%w: %q is not a size: want a whole number with K, M or G, e.g. 768M or 3G", ErrSize, s)
	}
	return v * mult, nil
}

// FormatSize writes n as the RAM= value it came from: G when whole
// gibibytes, else M.
func FormatSize(n uint64) string {
	if n%GiB == 0 {
		return fmt.Sprintf("%dG", n/GiB)
	}
	if n%MiB == 0 {
		return fmt.Sprintf("%dM", n/MiB)
	}
	return fmt.Sprintf("%dK", n>>10)
}

// Check says whether the board holds a runtime of size bytes, and why not.
func (b Board) Check(size uint64) error {
	if size%SizeUnit != 0 {
		return fmt.Errorf("%w: RAM=%s on %s: the runtime's memory must be a whole number of 2 MiB (the DMA window after it starts on a 2 MiB page-table leaf)",
			ErrSize, FormatSize(size), b.Name)
	}
	if size < MinRAM {
		return fmt.Errorf("%w: RAM=%s on %s: at least %s (the kernel image, heap, stacks and the workload's 32 MiB array)",
			ErrSize, FormatSize(size), b.Name, FormatSize(MinRAM))
	}
	dmaEnd := b.SizeBase + size + b.DMASize
	if dmaEnd > b.EndLimit {
		return fmt.Errorf("%w: RAM=%s does not fit %s: the runtime's memory %#x-%#x and the %d MiB DMA window after it must end by %#x (%s); the largest size is RAM=%s",
			ErrSize, FormatSize(size), b.Name, b.RuntimeStart, b.SizeBase+size, b.DMASize/MiB, b.EndLimit, b.Why, FormatSize(b.MaxRAM()))
	}
	if !b.fixedHolds(size) {
		return fmt.Errorf("%w: RAM=%s does not fit %s: the captured RAM, pagesnap's %d MiB reserved region and the snapshot's storage must fit its %d MiB of RAM from %#x; the largest size is RAM=%s",
			ErrSize, FormatSize(size), b.Name, kernel.ReservedSize/MiB, b.FixedRAM/MiB, b.RAMBase, FormatSize(b.MaxRAM()))
	}
	return nil
}

// fixedHolds says whether the board's FixedRAM (if any) holds the plan
// for a runtime of size bytes, storage included.
func (b Board) fixedHolds(size uint64) bool {
	if b.FixedRAM == 0 {
		return true
	}
	m, err := kernel.Plan([]Range{{Base: b.RAMBase, Size: b.FixedRAM}}, Range{Base: b.SizeBase + size, Size: b.DMASize})
	return err == nil && m.HoldsImage()
}

// MaxRAM returns the largest RAM size the board holds.
func (b Board) MaxRAM() uint64 {
	if b.EndLimit < b.SizeBase+b.DMASize+MinRAM {
		return 0
	}
	max := (b.EndLimit - b.SizeBase - b.DMASize) &^ (SizeUnit - 1)
	if b.fixedHolds(max) {
		return max
	}
	// The largest size whose plan fits FixedRAM (the plan grows with
	// the size).
	lo, hi := uint64(0), max/SizeUnit
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if b.fixedHolds(mid * SizeUnit) {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	if lo*SizeUnit < MinRAM {
		return 0
	}
	return lo * SizeUnit
}

// GuestRAM returns the RAM banks of a guest given mib MiB of memory.
func (b Board) GuestRAM(mib uint64) []Range {
	n := mib * MiB
	if b.LowRAMTop == 0 || b.RAMBase+n <= b.LowRAMTop {
		return []Range{{Base: b.RAMBase, Size: n}}
	}
	low := b.LowRAMTop - b.RAMBase
	return []Range{{Base: b.RAMBase, Size: low}, {Base: FourGiB, Size: n - low}}
}

// Plan computes the layout for a runtime of size bytes.
func (b Board) Plan(size uint64) (*Layout, error) {
	if err := b.Check(size); err != nil {
		return nil, err
	}
	l := &Layout{
		Board:   b,
		RAMSize: size,
		Runtime: Range{Base: b.RuntimeStart, Size: b.SizeBase + size - b.RuntimeStart},
		DMA:     Range{Base: b.SizeBase + size, Size: b.DMASize},
	}
	// The least guest memory whose plan has room for the storage: the
	// storage is about the captured size, so search up to four times
	// the end of the DMA window.
	// A plan always gets some storage once RAM follows the reserved
	// region (the RAM buffer of a snapshot to disk): an image in RAM
	// needs all of StorageNeeded.
	lo, hi := uint64(1), 4*(l.DMA.End()-b.RAMBase)/MiB+64
	if m, err := kernel.Plan(b.GuestRAM(hi), l.DMA); err != nil || !m.HoldsImage() {
		return nil, fmt.Errorf("%w: RAM=%s on %s: no guest memory size holds the plan: %v", ErrSize, FormatSize(size), b.Name, err)
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if m, err := kernel.Plan(b.GuestRAM(mid), l.DMA); err == nil && m.HoldsImage() {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	l.GuestMiB = lo
	l.DiskGuestMiB = leastGuest(b, l.DMA, lo, (*kernel.Machine).HoldsDiskBuffer)
	m, err := kernel.Plan(b.GuestRAM(lo), l.DMA)
	if err != nil {
		return nil, err
	}
	l.Machine = m
	return l, nil
}

// leastGuest returns the least guest memory, in MiB, at most hi, whose
// plan (kernel.Plan) satisfies holds, which the plan for hi does.
func leastGuest(b Board, dma Range, hi uint64, holds func(*kernel.Machine) bool) uint64 {
	lo := uint64(1)
	for lo < hi {
		mid := (lo + hi) / 2
		if m, err := kernel.Plan(b.GuestRAM(mid), dma); err == nil && holds(m) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// DiskImageMiB is the guest memory of a disk-only machine as the tests
// give it: DiskGuestMiB rounded up to a multiple of 16 MiB.
func DiskImageMiB(l *Layout) uint64 { return (l.DiskGuestMiB + 15) &^ 15 }

// ImageMiB is the guest memory the images of make image give the guest:
// GuestMiB rounded up to a multiple of 64 MiB.
func ImageMiB(l *Layout) uint64 { return (l.GuestMiB + 63) &^ 63 }

// EagerDMA returns the eager set's DMA ranges for blocks in use: each
// widened to the board's DMARoundOut within the DMA window (the
// default mode of snap start), or the whole window.
func (l *Layout) EagerDMA(inUse []Range, whole bool) []Range {
	if whole {
		return []Range{l.DMA}
	}
	return memrange.Set(inUse).RoundOut(l.Board.DMARoundOut, l.DMA)
}

// String describes the layout on a few lines.
func (l *Layout) String() string {
	m := l.Machine
	var cap []string
	for _, r := range m.Captured {
		cap = append(cap, fmt.Sprintf("%#x-%#x", r.Base, r.End()))
	}
	return fmt.Sprintf("board %s (%s, %s), RAM=%s\n"+
		"  runtime  %#x-%#x (goos.RamStart, goos.RamSize %#x)\n"+
		"  dma      %#x-%#x\n"+
		"  captured %s (%d MiB)\n"+
		"  reserved %#x-%#x\n"+
		"  storage  %#x-%#x (%d MiB)\n"+
		"  guest memory at least %d MiB (largest RAM= for this board: %s); disk-only (snap start disk): %d MiB\n",
		l.Board.Name, l.Board.Arch, l.Board.Platform, FormatSize(l.RAMSize),
		l.Runtime.Base, l.Runtime.End(), l.Runtime.Size,
		l.DMA.Base, l.DMA.End(),
		strings.Join(cap, ","), capturedBytes(m)/MiB,
		m.Reserved.Base, m.Reserved.End(),
		m.Storage.Base, m.Storage.End(), m.Storage.Size/MiB,
		l.GuestMiB, FormatSize(l.Board.MaxRAM()), l.DiskGuestMiB)
}

func capturedBytes(m *kernel.Machine) uint64 {
	var n uint64
	for _, r := range m.Captured {
		n += r.Size
	}
	return n
}
