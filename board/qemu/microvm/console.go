package microvm

import (
	_ "unsafe"
)

//go:linkname printk runtime/goos.Printk
func printk(c byte) {
	UART0.Tx(c)
}
