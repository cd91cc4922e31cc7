// Package microvm is the board support for a QEMU microvm machine
// (qemu-system-x86_64 -M microvm) with one x86_64 core, for GOOS=tamago
// GOARCH=amd64 kernels built with the project's toolchain.
//
// It differs from tamago's own board/qemu/microvm where TCG needs it: the
// TSC is calibrated against the i8254 PIT (TCG offers neither kvmclock nor
// a TSC frequency leaf), the machine ends through isa-debug-exit with a
// status instead of a triple fault, and no application processors are
// started. Importing the package initializes the hardware.
//
// Memory map (physical = virtual, identity mapped by the CPU package):
//
//	0x00000000-0x0000ffff  firmware, boot page tables (tamago amd64)
//	0x10000000-RamEnd      runtime RAM: image, heap, stacks (RamSize)
//	DMAStart-DMAEnd        DMA region for device rings and buffers
package microvm

import (
	"runtime/goos"
	_ "unsafe"

	"github.com/pagesnap/pagesnap/board/ioport"
	"github.com/pagesnap/pagesnap/ioapic"
	"github.com/pagesnap/pagesnap/lapic"

	"github.com/usbarmory/tamago/amd64"
	"github.com/usbarmory/tamago/dma"
	"github.com/usbarmory/tamago/soc/intel/uart"
)

// Memory layout.
const (
	// RamStart is where the runtime's memory starts (tamago amd64
	// default; the kernel is linked at RamStart+0x10000).
	RamStart = 0x10000000
	// RamSize is the runtime's memory: image, heap and stacks (ramSize,
	// chosen at build time: see mem_*.go).
	RamSize = ramSizeBytes
	// DMAStart is the start of the DMA region (device-visible buffers).
	DMAStart = RamStart + RamSize
	// DMASize is the DMA region's size.
	DMASize = 0x01000000 // 16 MiB
)

//go:linkname ramSize runtime/goos.RamSize
var ramSize uint = RamSize

// Peripheral addresses.
const (
	// COM1 is the first serial port (16550 UART) I/O base.
	COM1 = 0x3f8
	// VIRTIO_MMIO_BASE is the first virtio-mmio transport on microvm;
	// transport n is at VIRTIO_MMIO_BASE + n*VIRTIO_MMIO_SIZE.
	VIRTIO_MMIO_BASE = 0xfeb00000
	// VIRTIO_MMIO_SIZE is the stride between virtio-mmio transports.
	VIRTIO_MMIO_SIZE = 0x200
	// VIRTIO_MMIO_COUNT is how many transports microvm provides.
	VIRTIO_MMIO_COUNT = 24

	// IOAPIC0_BASE and IOAPIC1_BASE are microvm's two I/O APICs (QEMU
	// 7.2, ioapic2=on by default): GSIs 0-23 and 24-47.
	IOAPIC0_BASE = 0xfec00000
	IOAPIC1_BASE = 0xfec10000
	// VIRTIO_MMIO_GSI is the GSI of transport 0; transport n interrupts
	// on VIRTIO_MMIO_GSI+n (QEMU microvm: the second I/O APIC's pins).
	VIRTIO_MMIO_GSI = 24
)

// Peripheral instances.
var (
	// AMD64 is the bootstrap processor.
	AMD64 = &amd64.CPU{
		// Until calibration, read the TSC as nanoseconds.
		TimerMultiplier: 1,
	}

	// UART0 is the serial console (COM1).
	UART0 = &uart.UART{
		Index: 1,
		Base:  COM1,
	}

	// LAPIC is the bootstrap processor's local APIC, at its reset base:
	// the kernel's periodic tick runs on its timer (kernel.LAPIC).
	LAPIC = &lapic.LAPIC{Base: lapic.LAPIC_BASE}

	// IOAPIC1 is the I/O APIC of the virtio-mmio transports' GSIs.
	IOAPIC1 = &ioapic.IOAPIC{Base: IOAPIC1_BASE, GSIBase: VIRTIO_MMIO_GSI}
)

// nanotime is AMD64.GetTime, written out to be nosplit: the kernel's tick
// interrupt handler reads the clock on its own stack.
//
//go:linkname nanotime runtime/goos.Nanotime
//go:nosplit
func nanotime() int64 {
	return int64(float64(ioport.RDTSC())*AMD64.TimerMultiplier) + AMD64.TimerOffset
}

// Init initializes the processor, the console and the clock once the
// runtime has a heap (runtime/goos.Hwinit1).
//
//go:linkname Init runtime/goos.Hwinit1
func Init() {
	AMD64.Init()
	UART0.Init()
	calibrateTSC()
	goos.Exit = Exit
}

func init() {
	AMD64.EnableExceptions()
	if err := dma.Init(DMAStart, DMASize); err != nil {
		panic(err)
	}
}
