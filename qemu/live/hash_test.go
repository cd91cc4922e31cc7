package live

import (
	"strings"
	"testing"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/snapshot"
)

// TestBenchHash boots each arch's kernel under -icount and runs bench hash:
// one line per algorithm of the format, in the format's order, exactly one
// of them the kernel's (snapshot.KernelHashAlg), and the SIMD features Go
// uses for SHA-256 present (amd64: AVX2, which the runtime's entry
// enables; arm64: the SHA2 instructions). The figures are logged, not
// judged (speed goals are met in make bench's output).
func TestBenchHash(t *testing.T) {
	for _, c := range []struct {
		arch qemu.Arch
		env  string
		want string
	}{{qemu.AMD64, "PAGESNAP_KERNEL_AMD64", "avx2"}, {qemu.ARM64, "PAGESNAP_KERNEL_ARM64", "sha2"}} {
		t.Run(string(c.arch), func(t *testing.T) {
			k := kernelFor(t, c.env)
			hs, err := BenchHash(t.Context(), k, c.arch, 50, true, logWriter{t})
			if err != nil {
				t.Fatal(err)
			}
			kernelAlgs := 0
			for i, h := range hs {
				t.Logf("%s", h)
				if want := snapshot.HashName(snapshot.HashAlgs[i]); h.Alg != want {
					t.Errorf("line %d: alg %s, want %s", i, h.Alg, want)
				}
				if h.Kernel {
					kernelAlgs++
					if want := snapshot.HashName(snapshot.KernelHashAlg(string(c.arch))); h.Alg != want {
						t.Errorf("kernel=true on %s, the kernel hashes with %s", h.Alg, want)
					}
				}
				if !strings.Contains("+"+h.CPU+"+", "+"+c.want+"+") {
					t.Errorf("cpu=%s: no %s", h.CPU, c.want)
				}
			}
			if kernelAlgs != 1 {
				t.Errorf("%d lines say kernel=true, want 1", kernelAlgs)
			}
		})
	}
}
