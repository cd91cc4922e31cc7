//go:build tamago && arm64

package pagesnap

import (
	"errors"

	"github.com/pagesnap/pagesnap/kernel"
)

// setupRAM: on arm64 the RAM map always comes from the device tree.
func setupRAM([]Range, Range) (*kernel.Machine, error) {
	return nil, errors.New("pagesnap: Board.RAM is not supported on arm64: the RAM map comes from the device tree")
}
