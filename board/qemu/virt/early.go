//go:build tamago && arm64

package virt

import (
	"errors"

	"github.com/pagesnap/pagesnap/board/aarch64"
)

// early holds what earlyInit learnt before the runtime started.
var early struct {
	// err is why the device tree could not size memory ("" if it did).
	err string
	// banks are the RAM ranges from the device tree.
	banks  [maxBanks]Range
	nbanks int
}

// earlyInit sizes the runtime's memory from the device tree. cpuinit calls
// it with the MMU on, on the exception stack, before the runtime exists:
// there is no g, so it and everything it calls is nosplit and allocates
// nothing; it writes only non-pointer globals and a string constant
// (write barriers are off until the runtime enables them).
//
//go:nosplit
func earlyInit() {
	f, err := parseFDT(aarch64.PhysPointer(DTBAddress), DTBMaxSize)
	if err == fdtOK {
		early.nbanks, err = f.memoryBanks(&early.banks)
	}
	if err == fdtOK {
		var size uint64
		if size, err = runtimeRamSize(early.banks[:early.nbanks]); err == fdtOK {
			ramSize = uint(size)
			limitRam(size)
		}
	}
	if err != fdtOK {
		early.err = err.String()
	}
}

// Memory returns the RAM ranges the device tree describes (all of RAM,
// including what the runtime owns, see goos.RamStart and goos.RamSize).
func Memory() []Range {
	return append([]Range(nil), early.banks[:early.nbanks]...)
}

// DeviceTree returns the device tree blob QEMU passed, or nil if there is
// none. It lies below RamStart and stays valid.
func DeviceTree() []byte {
	f, err := parseFDT(aarch64.PhysPointer(DTBAddress), DTBMaxSize)
	if err != fdtOK {
		return nil
	}
	return f.blob
}

// deviceTree returns the validated blob QEMU passed.
func deviceTree() (fdt, error) {
	f, err := parseFDT(aarch64.PhysPointer(DTBAddress), DTBMaxSize)
	if err != fdtOK {
		return f, errors.New("virt: " + err.String())
	}
	return f, nil
}

// VirtioMMIOTransports returns the virtio-mmio transports the device tree
// lists (its virtio,mmio nodes), in device tree order: on QEMU virt 32
// transports of 0x200 bytes from 0x0a000000 interrupting on SPI 16 up.
// QEMU attaches -device virtio-*-device to the highest-numbered free
// transport first.
func VirtioMMIOTransports() ([]VirtioMMIO, error) {
	f, err := deviceTree()
	if err != nil {
		return nil, err
	}
	var ts [MaxVirtioMMIO]VirtioMMIO
	n, ferr := f.virtioMMIO(&ts)
	if ferr != fdtOK {
		return nil, errors.New("virt: " + ferr.String())
	}
	return append([]VirtioMMIO(nil), ts[:n]...), nil
}

// CPUCount returns the number of processors the device tree lists as
// available (the cpu nodes under /cpus).
func CPUCount() (int, error) {
	f, err := deviceTree()
	if err != nil {
		return 0, err
	}
	n, ferr := f.cpuCount()
	if ferr != fdtOK {
		return 0, errors.New("virt: " + ferr.String())
	}
	return n, nil
}
