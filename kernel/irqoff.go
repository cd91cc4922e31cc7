//go:build tamago

package kernel

// WithInterruptsOff runs fn with the processor's interrupts masked and then
// restores the previous mask: nothing else runs on this CPU meanwhile (no
// timer tick, no drain, no preemption, no device interrupt). Synchronous
// exceptions, such as a snapshot's write fault, are still taken. fn must
// not block.
func WithInterruptsOff(fn func()) {
	flags := cli()
	defer restoreFlags(flags)
	fn()
}
