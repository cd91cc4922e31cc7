package main

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const stream = `{"Action":"run","Package":"a","Test":"TestX"}
{"Action":"output","Package":"a","Test":"TestX","Output":"    x_test.go:9: PAGESNAP_KERNEL_AMD64 is not set\n"}
{"Action":"skip","Package":"a","Test":"TestX"}
{"Action":"run","Package":"a","Test":"TestP"}
{"Action":"run","Package":"a","Test":"TestP/sub"}
{"Action":"skip","Package":"a","Test":"TestP/sub"}
{"Action":"pass","Package":"a","Test":"TestP"}
{"Action":"output","Package":"a","Output":"ok  \ta\t0.1s\n"}
{"Action":"pass","Package":"a"}
{"Action":"run","Package":"b","Test":"TestY"}
{"Action":"skip","Package":"b","Test":"TestY"}
{"Action":"run","Package":"b","Test":"TestZ"}
{"Action":"pass","Package":"b","Test":"TestZ"}
{"Action":"pass","Package":"b"}
{"Action":"run","Package":"c","Test":"TestW"}
{"Action":"output","Package":"c","Test":"TestW","Output":"    w_test.go:3: broken\n"}
{"Action":"fail","Package":"c","Test":"TestW"}
{"Action":"fail","Package":"c"}
`
	var w strings.Builder
	bad, err := check(strings.NewReader(stream), &w)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"c: FAIL", "a: every test (2) was skipped: nothing was checked"}
	if strings.Join(bad, "|") != strings.Join(want, "|") {
		t.Errorf("problems %q, want %q", bad, want)
	}
	for _, s := range []string{"ok  \ta\t0.1s", "skipped: a TestX: x_test.go:9: PAGESNAP_KERNEL_AMD64 is not set", "w_test.go:3: broken"} {
		if !strings.Contains(w.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, w.String())
		}
	}
}
