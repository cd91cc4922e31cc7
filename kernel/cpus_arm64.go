//go:build tamago && arm64

package kernel

// CPUCount returns the number of processors the machine has online, from
// the board (SetBoard): on QEMU virt the cpu nodes of its device tree.
func CPUCount() (int, error) {
	if board == nil {
		return 0, errNoBoard
	}
	return board.CPUCount()
}
