package live

import (
	"context"
	"os"
	"regexp"
	"testing"
	"time"

	"github.com/pagesnap/pagesnap/board/layout"
	"github.com/pagesnap/pagesnap/qemu"
)

// TestLayoutSizes boots kernels built for RAM sizes that are none of the
// old build tags' (make kernel RAM=768M; the largest each board holds:
// amd64 2790M, arm64 3056M) in the guest memory board/layout computes, and
// checks the kernel's layout: line equals board/layout's plan, byte for
// byte: the runtime's memory, DMA window, reserved region and storage
// reach the guest from the one build variable. (The largest sizes put the
// storage above 4 GiB on amd64 and the reserved region at 4 GiB on arm64.)
func TestLayoutSizes(t *testing.T) {
	for _, tc := range []struct {
		arch qemu.Arch
		ram  string
		env  string
	}{
		{qemu.AMD64, "768M", "PAGESNAP_KERNEL_AMD64_768M"},
		{qemu.AMD64, "2790M", "PAGESNAP_KERNEL_AMD64_2790M"},
		{qemu.ARM64, "3056M", "PAGESNAP_KERNEL_ARM64_3056M"},
	} {
		t.Run(string(tc.arch)+"-"+tc.ram, func(t *testing.T) {
			k := os.Getenv(tc.env)
			if k == "" {
				if os.Getenv("CI") == "true" {
					t.Fatalf("%s is not set: `make test` builds the kernel and sets it", tc.env)
				}
				t.Skipf("%s is not set: `make test` builds the kernel and sets it", tc.env)
			}
			b, err := layout.Default(string(tc.arch))
			if err != nil {
				t.Fatal(err)
			}
			size, err := layout.ParseSize(tc.ram)
			if err != nil {
				t.Fatal(err)
			}
			l, err := b.Plan(size)
			if err != nil {
				t.Fatal(err)
			}
			mem, err := MemoryFor(tc.arch, tc.ram)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := machine(tc.arch, mem, k)
			if err != nil {
				t.Fatal(err)
			}
			cfg.ConsoleLog = logWriter{t}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			vm, err := qemu.Start(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer vm.Kill()
			want := l.Machine.String()
			if _, err := vm.Console.Expect(regexp.MustCompile("^"+regexp.QuoteMeta(want)+"$"), 3*time.Minute); err != nil {
				t.Fatalf("want the line %q: %v", want, err)
			}
			if _, err := vm.Console.ExpectString("pagesnap: ready", 2*time.Minute); err != nil {
				t.Fatal(err)
			}
		})
	}
}
