package lines

import (
	"fmt"
	"strconv"
	"strings"
)

// HashPrefix starts the pagesnap kernel's bench hash answer, one line per
// hash algorithm of the snapshot format.
const HashPrefix = "bench: hash"

// Hash is a bench hash line: the guest time of hashing one 4 KiB page with
// algorithm Alg (its snapshot.HashName: "SHA-256", "BLAKE2b-256"), timed n
// times one page at a time (median and minimum, nanoseconds of guest
// time); Kernel is true for the algorithm the kernel snapshots with
// (snapshot.KernelHashAlg); CPU lists the SIMD features Go's packages can
// use on the guest's processor (kernel.SIMDFeatures: "avx+avx2+bmi2",
// "aes+sha1+sha2", "none").
type Hash struct {
	Alg, CPU  string
	N         uint64
	Ns, MinNs float64
	Kernel    bool
}

// String formats the bench hash line.
func (h Hash) String() string {
	return fmt.Sprintf("%s alg=%s n=%d ns=%.1f min-ns=%.1f kernel=%t cpu=%s",
		HashPrefix, h.Alg, h.N, h.Ns, h.MinNs, h.Kernel, h.CPU)
}

// ParseHash parses a bench hash line.
func ParseHash(line string) (Hash, error) {
	m, err := fieldMap(line, HashPrefix, "alg", "n", "ns", "min-ns", "kernel", "cpu")
	if err != nil {
		return Hash{}, err
	}
	f := &fieldParser{m: m}
	h := Hash{Alg: m["alg"], CPU: m["cpu"], N: f.u("n")}
	for _, k := range []struct {
		key string
		p   *float64
	}{{"ns", &h.Ns}, {"min-ns", &h.MinNs}} {
		if f.err != nil {
			break
		}
		*k.p, f.err = strconv.ParseFloat(m[k.key], 64)
		if f.err == nil && !(*k.p > 0) {
			f.err = fmt.Errorf("%s=%s: not a positive time", k.key, m[k.key])
		}
	}
	if f.err == nil {
		h.Kernel, f.err = strconv.ParseBool(m["kernel"])
	}
	if f.err == nil && (h.Alg == "" || h.CPU == "") {
		f.err = fmt.Errorf("empty alg= or cpu=")
	}
	if f.err != nil {
		return Hash{}, fmt.Errorf("lines: %q: %w", strings.TrimSpace(line), f.err)
	}
	return h, nil
}
