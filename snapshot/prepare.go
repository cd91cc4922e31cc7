package snapshot

// PrepareWrite is HandleWriteFault taken before a store instead of after
// it: an interrupt handler calls it with an address it is about to write
// outside its own stack (the timer interrupt pushing a preemption frame on
// the interrupted goroutine's stack), so that the page is copied and made
// writable first and the handler's store never faults. It returns true if
// the store may proceed: no snapshot is running, addr is not captured, or
// its page is now copied and writable. It returns false if the page cannot
// be made writable now (another CPU's fault handler is copying it, the
// block backend's buffer is full, or the page tables refuse); the caller
// must then not store there. Pages it
// prepares count as faults in Stats. Same rules as HandleWriteFault:
// nosplit, no allocation, no write barriers, no locks.
//
//go:nosplit
func (s *Snapshot) PrepareWrite(addr uint64) bool {
	if Phase(s.phase.Load()) == PhaseIdle {
		return true
	}
	i, ok := s.pageIndex(addr)
	if !ok {
		return true // not captured: the engine never protects it
	}
	if s.state(i) == pageFaultCopy {
		return false // another CPU copies it and unprotects it when done
	}
	handled, wait := s.handleFault(addr, s.buf2.Slots) // may use InterruptSlots
	return handled && !wait                            // wait: the page is still protected
}
