// Command mutgate reads the JSON report gremlins writes (unleash -o) and
// fails (exit status 1) if the test efficacy, killed / (killed + lived),
// is under a minimum, or if no mutant was tested at all. It prints the
// package, the figures and every surviving mutant. make mutation runs it
// after each package: gremlins v0.6.0's own --threshold-efficacy never
// fires (the flag is a float64, which its configuration layer returns as a
// string and then reads as 0, "no threshold").
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
)

// report is the part of gremlins' JSON report the gate reads.
type report struct {
	Killed     int `json:"mutants_killed"`
	Lived      int `json:"mutants_lived"`
	NotCovered int `json:"mutants_not_covered"`
	Files      []struct {
		Name      string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// Status strings of gremlins' report.
const (
	statusLived    = "LIVED"
	statusTimedOut = "TIMED OUT"
)

// check writes the verdict on the report r of package pkg to w and
// returns whether the efficacy is at least min percent. The comparison is
// exact (integers): 9 killed and 1 lived is 90 % and passes min 90.
func check(w io.Writer, pkg string, r *report, min int) bool {
	tested := r.Killed + r.Lived
	timedOut := 0
	for _, f := range r.Files {
		for _, m := range f.Mutations {
			if m.Status == statusTimedOut {
				timedOut++
			}
		}
	}
	if tested == 0 {
		fmt.Fprintf(w, "mutation: %s: FAIL: no mutant was tested (0 killed, 0 lived, %d not covered, %d timed out)\n",
			pkg, r.NotCovered, timedOut)
		return false
	}
	eff := float64(r.Killed) / float64(tested) * 100
	ok := 100*r.Killed >= min*tested
	verdict, rel := "ok", "at or above"
	if !ok {
		verdict, rel = "FAIL", "under"
	}
	fmt.Fprintf(w, "mutation: %s: %s: efficacy %.2f %% (%d killed, %d lived; %d not covered, %d timed out) is %s %d %%\n",
		pkg, verdict, eff, r.Killed, r.Lived, r.NotCovered, timedOut, rel, min)
	for _, f := range r.Files {
		for _, m := range f.Mutations {
			if m.Status == statusLived {
				fmt.Fprintf(w, "mutation: %s: lived: %s:%d:%d %s\n", pkg, f.Name, m.Line, m.Column, m.Type)
			}
		}
	}
	return ok
}

func main() {
	pkg := flag.String("pkg", "", "package name for the messages")
	min := flag.Int("min", 90, "minimum efficacy, percent")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: mutgate [-pkg name] [-min percent] report.json")
		os.Exit(2)
	}
	path := flag.Arg(0)
	if *pkg == "" {
		*pkg = path
	}
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mutation: %s: FAIL: no report: %v\n", *pkg, err)
		os.Exit(1)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		fmt.Fprintf(os.Stderr, "mutation: %s: FAIL: report %s: %v\n", *pkg, path, err)
		os.Exit(1)
	}
	if !check(os.Stdout, *pkg, &r, *min) {
		os.Exit(1)
	}
}
