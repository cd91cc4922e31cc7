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
// the page copy in it copied exactly one page (amd64 without AVX: REP
// MOVSQ ran 4096/8 times; with AVX, and on arm64: the generated page body,
// 256 32-byte loads and stores, ran once, no instruction of the copy
// twice) — a fault that copied nothing, or twice, fails. The profile is
// logged: where a write fault's instructions go.
func TestFaultProfile(t *testing.T) {
	for _, tc := range []struct {
		env  string
		iter []int // executions of the copy's most executed instruction
	}{
		{"PAGESNAP_KERNEL_AMD64", []int{4096 / 8, 1}},
		{"PAGESNAP_KERNEL_ARM64", []int{1}},
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
						if f.N < 4096/32*2 {
							t.Errorf("fault %d: the copy ran %d instructions, fewer than one page's 256 loads and stores", i+1, f.N)
						}
					}
				}
				if copies != 1 {
					t.Errorf("fault %d: %s not in the trace", i+1, copyFunc)
				}
				if got := tr.CopyIterations; !slices.Contains(tc.iter, got) {
					t.Errorf("fault %d: the copy's most executed instruction ran %d times, want one of %v (one 4 KiB page)", i+1, got, tc.iter)
				}
			}
		})
	}
}
