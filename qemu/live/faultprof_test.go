package live

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestFaultProfile single-steps write faults of the 256M kernels through
// the fault handler (pagesnap-live faults) and checks each trace: it starts
// at the handler's entry, its per-function counts add up to its total, and
// the page copy in it ran exactly one page's worth of iterations of its
// inner loop (amd64: REP MOVSQ 4096/8, or 4096/128 of the 128-byte AVX
// loop when the kernel enabled AVX; arm64: 4096/128 of the 128-byte
// LDP/STP loop) — a fault that copied nothing, or twice, fails. The
// profile is logged: where a write fault's instructions go.
func TestFaultProfile(t *testing.T) {
	for _, tc := range []struct {
		env  string
		iter []int // executions of the copy loop's most executed instruction
	}{
		{"PAGESNAP_KERNEL_AMD64", []int{4096 / 8, 4096 / 128}},
		{"PAGESNAP_KERNEL_ARM64", []int{4096 / 128}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			k := kernelFor(t, tc.env)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			traces, err := ProfileFaults(ctx, k, "256M", 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(traces) != 2 {
				t.Fatalf("%d traces, want 2", len(traces))
			}
			for i, tr := range traces {
				t.Logf("fault %d: %s", i+1, tr)
				sum, copies := 0, 0
				for _, f := range tr.ByFunc {
					sum += f.N
				}
				if sum != tr.Total || len(tr.PCs) != tr.Total {
					t.Errorf("fault %d: functions add up to %d, %d addresses, total %d", i+1, sum, len(tr.PCs), tr.Total)
				}
				if tr.ByFunc[0].Func == "" || len(tr.PCs) == 0 {
					t.Fatalf("fault %d: empty trace", i+1)
				}
				for _, f := range tr.ByFunc {
					if f.Func == copyFunc {
						copies++
					}
				}
				if copies != 1 {
					t.Errorf("fault %d: %s not in the trace", i+1, copyFunc)
				}
				if got := tr.CopyIterations; !slices.Contains(tc.iter, got) {
					t.Errorf("fault %d: the copy loop ran %d times, want one of %v (one 4 KiB page)", i+1, got, tc.iter)
				}
			}
		})
	}
}
