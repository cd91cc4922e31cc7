package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a progress bar on one terminal line of standard error.
type progress struct {
	w     io.Writer // nil: no bar
	label string
	total uint64
	unit  string
	last  time.Time
	start time.Time
}

// newProgress returns a bar for total units of work, drawn when stderr is
// a terminal or force is set.
func newProgress(e *env, force bool, label string, total uint64, unit string) *progress {
	p := &progress{label: label, total: total, unit: unit, start: time.Now()}
	if e.tty || force {
		p.w = e.stderr
	}
	return p
}

// Set draws done of total (at most ten times a second).
func (p *progress) Set(done uint64) {
	if p == nil || p.w == nil {
		return
	}
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || done == p.total {
		p.last = now
		p.draw(done)
	}
}

func (p *progress) draw(done uint64) {
	const width = 30
	frac := 1.0
	if p.total > 0 {
		frac = float64(min(done, p.total)) / float64(p.total)
	}
	n := int(frac * width)
	fmt.Fprintf(p.w, "\r%s [%s%s] %3.0f%% %d/%d %s", p.label, strings.Repeat("=", n), strings.Repeat(" ", width-n),
		frac*100, done, p.total, p.unit)
}

// Done ends the bar's line.
func (p *progress) Done() {
	if p == nil || p.w == nil {
		return
	}
	fmt.Fprintf(p.w, " (%.1fs)\n", time.Since(p.start).Seconds())
}
