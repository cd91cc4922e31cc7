// Command testcheck reads `go test -json` on its standard input, prints
// what plain `go test` would (each package's ok/FAIL line, the output of
// failed tests) plus each skipped test and its reason, and fails (exit
// status 1) if a test failed or if every test of a package was skipped: a
// package whose tests did not run must not read "ok". make test pipes its
// test runs through it.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// event is one line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// outcomes maps a package's test names (subtests included) to their
// outcome: "pass", "fail" or "skip".
type outcomes map[string]string

// leaves counts the outcomes of the tests that have no subtests (a test
// whose subtests all skipped passes itself).
func (o outcomes) leaves() (pass, fail, skip int) {
	for name, a := range o {
		leaf := true
		for other := range o {
			if strings.HasPrefix(other, name+"/") {
				leaf = false
				break
			}
		}
		if !leaf {
			continue
		}
		switch a {
		case "pass":
			pass++
		case "fail":
			fail++
		case "skip":
			skip++
		}
	}
	return
}

func main() {
	bad, err := check(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testcheck:", err)
		os.Exit(2)
	}
	if len(bad) > 0 {
		for _, b := range bad {
			fmt.Println("testcheck:", b)
		}
		os.Exit(1)
	}
}

// check copies the report of the events in r to w and returns the
// problems found: failed packages, and packages whose every test skipped.
func check(r io.Reader, w io.Writer) ([]string, error) {
	out := map[string][]string{} // package/test -> output lines so far
	pkgs := map[string]outcomes{}
	var failed []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Not an event (e.g. a build error printed as text): pass it on.
			fmt.Fprintln(w, sc.Text())
			continue
		}
		o := pkgs[e.Package]
		if o == nil {
			o = outcomes{}
			pkgs[e.Package] = o
		}
		key := e.Package + "\x00" + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(w, e.Output) // compiler errors
		case "output":
			if e.Test == "" {
				// Package lines: ok, FAIL, build errors, "no test files".
				if !strings.HasPrefix(e.Output, "=== ") && e.Output != "PASS\n" && e.Output != "FAIL\n" {
					fmt.Fprint(w, e.Output)
				}
				continue
			}
			out[key] = append(out[key], e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				if e.Action == "fail" {
					failed = append(failed, e.Package+": FAIL")
				}
				continue
			}
			o[e.Test] = e.Action
			switch e.Action {
			case "fail":
				fmt.Fprint(w, strings.Join(out[key], ""))
			case "skip":
				fmt.Fprintf(w, "    skipped: %s %s: %s\n", e.Package, e.Test, skipReason(out[key]))
			}
			delete(out, key)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(pkgs))
	for p := range pkgs {
		names = append(names, p)
	}
	sort.Strings(names)
	bad := failed
	for _, p := range names {
		if pass, fail, skip := pkgs[p].leaves(); skip > 0 && pass == 0 && fail == 0 {
			bad = append(bad, fmt.Sprintf("%s: every test (%d) was skipped: nothing was checked", p, skip))
		}
	}
	return bad, nil
}

// skipReason is the message of a skipped test's output (the line after
// its file:line prefix), or "" if none.
func skipReason(lines []string) string {
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") || l == "" {
			continue
		}
		return l
	}
	return ""
}
