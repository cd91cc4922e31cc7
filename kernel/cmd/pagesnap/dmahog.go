package main

import (
	"sync"
	"time"

	"github.com/pagesnap/pagesnap/dma"
)

// dmaHog pushes DMA allocations past a snapshot's eager set (console: dma
// hog N). The virtio-rng driver rotates a buffer by reserving a new one
// and then releasing the old, so one hole circulates below the allocator's
// frontier and every rotation would reuse it, inside the eager set. The
// hog reserves one block of its size (the frontier moves past the eager
// set), and a goroutine takes, every 200 µs, any free page below that
// block as soon as a release frees it, up to the same size again: the rotations meanwhile are allocated past the block,
// outside the eager set, where only the allocation guard copies them
// before the device writes.
type dmaHog struct {
	mu     sync.Mutex
	blocks []uint
	stop   chan struct{}
	done   chan struct{}
}

var hog dmaHog

// start reserves a block of kib KiB and starts the squeezer (as much again) and returns the big block's address.
func (h *dmaHog) start(kib int) uint {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop != nil {
		h.stopLocked()
	}
	big, _ := dma.Reserve(kib<<10, dma.PageSize)
	h.blocks = append(h.blocks, big)
	h.stop, h.done = make(chan struct{}), make(chan struct{})
	go h.squeeze(big, kib<<10, h.stop, h.done)
	return big
}

// squeeze holds every free page below limit it can get, up to budget
// bytes, until stop is closed.
func (h *dmaHog) squeeze(limit uint, budget int, stop, done chan struct{}) {
	defer close(done)
	held := 0
	for held < budget {
		select {
		case <-stop:
			return
		case <-time.After(200 * time.Microsecond):
		}
		for held < budget {
			a, _ := dma.Reserve(dma.PageSize, dma.PageSize)
			if a >= limit {
				dma.Release(a) // no free page below the block
				break
			}
			h.mu.Lock()
			h.blocks = append(h.blocks, a)
			h.mu.Unlock()
			held += dma.PageSize
		}
	}
}

func (h *dmaHog) stopLocked() {
	close(h.stop)
	h.mu.Unlock()
	<-h.done
	h.mu.Lock()
	h.stop, h.done = nil, nil
}

// free stops the squeezer and releases every block; it returns how many.
func (h *dmaHog) free() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.stop != nil {
		h.stopLocked()
	}
	n := len(h.blocks)
	for _, a := range h.blocks {
		dma.Release(a)
	}
	h.blocks = nil
	return n
}
