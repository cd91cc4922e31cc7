//go:build tamago && arm64 && board_imx8mpevk

package main

import (
	"errors"
	"fmt"

	"github.com/pagesnap/pagesnap/board/aarch64"
	"github.com/pagesnap/pagesnap/board/nxp/imx8mpevk"
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/kernel/virtio"
)

// The i.MX 8M Plus EVK (make kernel BOARD=imx8mpevk; board/nxp/imx8mpevk):
// generic timer clock, UART2 console, DMA window in DDR after the
// runtime's memory, PSCI exit. No virtio device: the kernel runs without
// its virtio-rng DMA device (pagesnap: no DMA device at boot).

// The kernel takes the tick, DDR and the CPU count from the EVK board.
func init() { kernel.SetBoard(imx8mpevk.Board{}) }

// clockBanner names the counter's frequency and the tick's GIC.
func clockBanner() string {
	return fmt.Sprintf("counter %d MHz, GICv3", aarch64.CounterFrequency()/1e6)
}

func ticksPerSecond() uint64 { return aarch64.CounterFrequency() }

func boardDMA() kernel.Range {
	base, size := imx8mpevk.DMA()
	return kernel.Range{Base: base, Size: size}
}

// virtioTransports is empty: the i.MX 8M Plus has no virtio-mmio.
func virtioTransports() virtio.Transports { return virtio.Transports{} }

// routeDeviceIRQ is never reached without a transport; it reports that.
func routeDeviceIRQ(n int) error {
	return errors.New("imx8mpevk: no virtio-mmio transport")
}

func consoleRead() (byte, bool) { return imx8mpevk.UART0.Rx() }
