package lines

import (
	"fmt"
	"strconv"
	"strings"
)

// CopyPrefix starts the pagesnap kernel's bench copy answer.
const CopyPrefix = "bench: copy"

// Copy is the bench copy line: the guest time of one bare 4 KiB page copy,
// timed n times one copy at a time (median and minimum, nanoseconds of
// guest time), with the runtime's copy() (memmove) and with the engine's
// 8-byte load/store loop (mmu.Direct.Copy).
type Copy struct {
	N                                          uint64
	MemmoveNs, MemmoveMinNs, LoopNs, LoopMinNs float64
}

// String formats the bench copy line.
func (c Copy) String() string {
	return fmt.Sprintf("%s n=%d memmove-ns=%.1f memmove-min-ns=%.1f loop-ns=%.1f loop-min-ns=%.1f",
		CopyPrefix, c.N, c.MemmoveNs, c.MemmoveMinNs, c.LoopNs, c.LoopMinNs)
}

// ParseCopy parses a bench copy line.
func ParseCopy(line string) (Copy, error) {
	keys := []string{"n", "memmove-ns", "memmove-min-ns", "loop-ns", "loop-min-ns"}
	m, err := fieldMap(line, CopyPrefix, keys...)
	if err != nil {
		return Copy{}, err
	}
	f := &fieldParser{m: m}
	c := Copy{N: f.u("n")}
	for i, p := range []*float64{&c.MemmoveNs, &c.MemmoveMinNs, &c.LoopNs, &c.LoopMinNs} {
		if f.err != nil {
			break
		}
		*p, f.err = strconv.ParseFloat(m[keys[i+1]], 64)
		if f.err == nil && !(*p > 0) {
			f.err = fmt.Errorf("%s=%s: not a positive time", keys[i+1], m[keys[i+1]])
		}
	}
	if f.err != nil {
		return Copy{}, fmt.Errorf("lines: %q: %w", strings.TrimSpace(line), f.err)
	}
	return c, nil
}

// FaultPrefix starts the pagesnap kernel's bench fault answer.
const FaultPrefix = "bench: fault"

// Fault is the bench fault line: n stores, one to each page of a buffer
// captured and write-protected by a running snapshot, timed one by one
// (nanoseconds of guest time); faults of them were slow enough to have
// faulted (more than a plain store and a page copy), and their median, 99th percentile
// and maximum; store is the median of a second, plain store to each page.
type Fault struct {
	N, Faults                       uint64
	MedianNs, P99Ns, MaxNs, StoreNs float64
}

// String formats the bench fault line.
func (f Fault) String() string {
	return fmt.Sprintf("%s n=%d faults=%d median-ns=%.1f p99-ns=%.1f max-ns=%.1f store-ns=%.1f",
		FaultPrefix, f.N, f.Faults, f.MedianNs, f.P99Ns, f.MaxNs, f.StoreNs)
}

// ParseFault parses a bench fault line.
func ParseFault(line string) (Fault, error) {
	keys := []string{"n", "faults", "median-ns", "p99-ns", "max-ns", "store-ns"}
	m, err := fieldMap(line, FaultPrefix, keys...)
	if err != nil {
		return Fault{}, err
	}
	f := &fieldParser{m: m}
	r := Fault{N: f.u("n"), Faults: f.u("faults")}
	for i, p := range []*float64{&r.MedianNs, &r.P99Ns, &r.MaxNs, &r.StoreNs} {
		if f.err != nil {
			break
		}
		*p, f.err = strconv.ParseFloat(m[keys[i+2]], 64)
	}
	if f.err != nil {
		return Fault{}, fmt.Errorf("lines: %q: %w", strings.TrimSpace(line), f.err)
	}
	return r, nil
}
