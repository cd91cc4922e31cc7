//go:build tamago && amd64

package pagesnap

import "github.com/pagesnap/pagesnap/kernel"

func setupRAM(ram []Range, dma Range) (*kernel.Machine, error) { return kernel.SetupRAM(ram, dma) }
