package live

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/pagesnap/pagesnap/lines"
	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/snapshot"
)

var hashRE = regexp.MustCompile(regexp.QuoteMeta(lines.HashPrefix) + " |error: ")

// BenchHash boots kernel (a pagesnap kernel; arch "" reads it from the
// ELF) on an idle guest, under -icount when icount is set (guest time
// then counts instructions), and runs its "bench hash n" command: one
// line per hash algorithm of the snapshot format, with the guest time of
// hashing one 4 KiB page and the SIMD features Go's packages can use.
func BenchHash(ctx context.Context, kernel string, arch qemu.Arch, n int, icount bool, log io.Writer) ([]lines.Hash, error) {
	if log == nil {
		log = io.Discard
	}
	t, err := resolveTarget(kernel, arch, "256M")
	if err != nil {
		return nil, err
	}
	vm, g, err := startVM(ctx, t, kernel, log, nil, func(c *qemu.Config) { c.ICount = icount })
	if err != nil {
		return nil, err
	}
	defer vm.Kill()
	g.Continue()
	if _, err := vm.Console.ExpectString("pagesnap: ready", 2*time.Minute); err != nil {
		return nil, err
	}
	if err := vm.Send(fmt.Sprintf("bench hash %d", n)); err != nil {
		return nil, err
	}
	var out []lines.Hash
	for range snapshot.HashAlgs {
		m, err := vm.Console.Expect(hashRE, 10*time.Minute)
		if err != nil {
			return nil, err
		}
		h, err := lines.ParseHash(m.Line)
		if err != nil {
			return nil, fmt.Errorf("live: bench hash: %w", err)
		}
		out = append(out, h)
	}
	return out, nil
}
