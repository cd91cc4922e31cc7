package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestCheckMMUReport: the mmu report of 2026-12-07 (252 killed, 41 lived,
// efficacy 86.01 %, which gremlins' own threshold let pass) fails the gate
// and names the package, the figure and each survivor.
func TestCheckMMUReport(t *testing.T) {
	b, err := os.ReadFile("testdata/mmu-2026-12-07.json")
	if err != nil {
		t.Fatal(err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if check(&out, "mmu", &r, 90) {
		t.Fatalf("86 %% passed the 90 %% gate:\n%s", out.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	const want = "mutation: mmu: FAIL: efficacy 86.01 % (252 killed, 41 lived; 17 not covered, 5 timed out) is under 90 %"
	if lines[0] != want {
		t.Errorf("first line\n%s\nwant\n%s", lines[0], want)
	}
	if len(lines) != 1+41 {
		t.Errorf("%d lines, want the verdict and 41 survivors", len(lines))
	}
	if lines[1] != "mutation: mmu: lived: walker.go:187:11 CONDITIONALS_NEGATION" {
		t.Errorf("first survivor: %s", lines[1])
	}
	if !check(&out, "mmu", &r, 86) {
		t.Error("86.01 % failed a gate of 86 %")
	}
}

// TestCheckBoundary: the comparison at the minimum is exact.
func TestCheckBoundary(t *testing.T) {
	for _, c := range []struct {
		killed, lived, min int
		ok                 bool
		line               string
	}{
		{9, 1, 90, true, "mutation: p: ok: efficacy 90.00 % (9 killed, 1 lived; 0 not covered, 0 timed out) is at or above 90 %"},
		{899, 101, 90, false, "mutation: p: FAIL: efficacy 89.90 % (899 killed, 101 lived; 0 not covered, 0 timed out) is under 90 %"},
		{8999, 1001, 90, false, "mutation: p: FAIL: efficacy 89.99 % (8999 killed, 1001 lived; 0 not covered, 0 timed out) is under 90 %"},
		{10, 0, 90, true, "mutation: p: ok: efficacy 100.00 % (10 killed, 0 lived; 0 not covered, 0 timed out) is at or above 90 %"},
		{0, 0, 90, false, "mutation: p: FAIL: no mutant was tested (0 killed, 0 lived, 0 not covered, 0 timed out)"},
		{0, 0, 0, false, "mutation: p: FAIL: no mutant was tested (0 killed, 0 lived, 0 not covered, 0 timed out)"},
	} {
		var out strings.Builder
		r := report{Killed: c.killed, Lived: c.lived}
		if got := check(&out, "p", &r, c.min); got != c.ok {
			t.Errorf("%d killed, %d lived, min %d: %v, want %v", c.killed, c.lived, c.min, got, c.ok)
		}
		if got := strings.TrimSuffix(out.String(), "\n"); got != c.line {
			t.Errorf("got\n%s\nwant\n%s", got, c.line)
		}
	}
}
