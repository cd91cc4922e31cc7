package dma

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"
)

// recorder is a Guard that records its calls.
type recorder struct {
	mu    sync.Mutex
	calls []R
}

func (r *recorder) guard(base, size uint64) {
	r.mu.Lock()
	r.calls = append(r.calls, rg(base, size))
	r.mu.Unlock()
}

func (r *recorder) got() []R {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

func TestAllocateGuardsBeforeReturning(t *testing.T) {
	var rec recorder
	SetGuard(rec.guard)
	defer SetGuard(nil)

	addr := allocate(func() (uint, int) {
		if len(rec.got()) != 0 {
			t.Error("guard called before the allocation")
		}
		return 0x20001010, 0x1ff0 // pages 1..2 of the window
	})
	if addr != 0x20001010 {
		t.Fatalf("addr %#x", addr)
	}
	if got, want := rec.got(), []R{rg(0x20001000, 0x2000)}; !slices.Equal(got, want) {
		t.Fatalf("guard calls %v, want %v", got, want)
	}

	// A zero-size result (nothing allocated, or a buffer already
	// reserved) calls no guard.
	allocate(func() (uint, int) { return 0x20005000, 0 })
	allocate(func() (uint, int) { return 0x20007ff8, 0x10 })
	if got, want := rec.got(), []R{rg(0x20001000, 0x2000), rg(0x20007000, 0x2000)}; !slices.Equal(got, want) {
		t.Fatalf("guard calls %v, want %v", got, want)
	}

	if prev := SetGuard(nil); prev == nil {
		t.Fatal("SetGuard returned a nil previous guard")
	}
	allocate(func() (uint, int) { return 0x20008000, 0x1000 })
	if n := len(rec.got()); n != 2 {
		t.Fatalf("guard called after removal: %d calls", n)
	}
}

// TestBeginExcludesAllocation checks that an allocation racing with Begin
// either completes before the callback (so the callback's InUse would see
// it) or is passed to the guard the callback installs.
func TestBeginExcludesAllocation(t *testing.T) {
	defer SetGuard(nil)
	var rec recorder
	inCallback := make(chan struct{})
	allocated := make(chan struct{})
	var beginErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		beginErr = Begin(func() (Guard, error) {
			close(inCallback)
			select {
			case <-allocated:
				t.Error("an allocation completed while Begin's callback ran")
			case <-time.After(100 * time.Millisecond):
			}
			return rec.guard, nil
		})
	}()
	<-inCallback
	go func() {
		allocate(func() (uint, int) { return 0x20010000, 0x100 })
		release(func() {})
		close(allocated)
	}()
	<-done
	<-allocated
	if beginErr != nil {
		t.Fatal(beginErr)
	}
	if got, want := rec.got(), []R{rg(0x20010000, 0x1000)}; !slices.Equal(got, want) {
		t.Fatalf("guard calls %v, want %v", got, want)
	}
}

func TestBeginErrorKeepsGuard(t *testing.T) {
	var rec recorder
	SetGuard(rec.guard)
	defer SetGuard(nil)
	boom := errors.New("boom")
	if err := Begin(func() (Guard, error) { return nil, boom }); err != boom {
		t.Fatalf("Begin = %v, want %v", err, boom)
	}
	allocate(func() (uint, int) { return 0x3000, 1 })
	if got, want := rec.got(), []R{rg(0x3000, 0x1000)}; !slices.Equal(got, want) {
		t.Fatalf("guard calls %v, want %v", got, want)
	}
	// Begin installing nil removes the guard.
	if err := Begin(func() (Guard, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	allocate(func() (uint, int) { return 0x4000, 1 })
	if n := len(rec.got()); n != 1 {
		t.Fatalf("%d guard calls, want 1", n)
	}
}
