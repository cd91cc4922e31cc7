package live

import (
	"context"
	"os"
	"testing"
)

// diskRun runs RunDisk on the kernel named by env and fails unless the
// disk image, read back from the host's file, equals memory at the
// instant bit for bit.
func diskRun(t *testing.T, env string, o DiskOptions) *DiskReport {
	t.Helper()
	o.Kernel = kernelFor(t, env)
	o.Log = logWriter{t}
	o.Dir = os.Getenv("PAGESNAP_DISK_KEEP") // keep snap.img and reference.bin there
	rep, err := RunDisk(context.Background(), o)
	if err != nil {
		if rep != nil && rep.Verify != nil {
			t.Log(rep.Verify)
		}
		t.Fatal(err)
	}
	t.Log(rep)
	if rep.WritesDuring == 0 {
		t.Fatalf("the workload wrote nothing while the snapshot ran: %+v", rep)
	}
	if rep.HighWater == 0 || rep.HighWater > rep.BufferPages || rep.Verify.Compared != rep.Verify.Matched {
		t.Fatalf("figures: %+v", rep)
	}
	return rep
}

// TestDiskAMD64: a snapshot streamed to virtio-blk on microvm under the
// never-blocking workload, default buffer, verified from the host's disk
// file against the reference at the instant.
func TestDiskAMD64(t *testing.T) {
	diskRun(t, "PAGESNAP_KERNEL_AMD64", DiskOptions{})
}

// TestDiskARM64: the same on virt.
func TestDiskARM64(t *testing.T) {
	diskRun(t, "PAGESNAP_KERNEL_ARM64", DiskOptions{})
}

// TestDiskBufferFull: a 4 MiB buffer (the eager set takes half) and a
// disk throttled to 32 MiB/s (QEMU throttling.bps-write), so that the
// workload's faults find the buffer full and wait for the drain: still
// complete and bit-exact. (README quotes a 4 MiB/s run too.) The guest
// has 600 MiB of RAM, too little for a RAM image of its 527 MiB captured
// (1088 MiB): the kernel has only a buffer's worth of storage.
func TestDiskBufferFull(t *testing.T) {
	rep := diskRun(t, "PAGESNAP_KERNEL_AMD64", DiskOptions{Buffer: "4M", BpsWrite: 32 << 20, MemoryMiB: 600})
	if st := rep.Layout.Storage; st.End() > 600<<20 || st.Size > 100<<20 {
		t.Fatalf("storage %v: not the small region of a 600 MiB guest", st)
	}
	if rep.FullFaults == 0 || rep.HighWater+8 < rep.BufferPages {
		t.Fatalf("the buffer never filled: %+v", rep)
	}
}
