//go:build tamago

package irq

// WakeG asks the scheduler to end the time.Sleep of the goroutine gp (from
// runtime.GetG): interrupt context, nosplit, no stack use (it calls
// runtime.WakeG, wake_*.s). The sleep ends the next time the processor
// would idle; a goroutine that is not asleep then is not woken, and a
// busy processor reaches the sleep's own deadline first. It returns false
// for gp 0.
//
//go:nosplit
func WakeG(gp uint) bool
