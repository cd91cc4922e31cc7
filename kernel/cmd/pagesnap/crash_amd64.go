//go:build tamago && amd64

package main

import (
	"fmt"
	"io"

	"github.com/pagesnap/pagesnap/kernel"
)

// crashAddr is in page 0, which pagesnap never maps.
const crashAddr = 0x10

// The amd64 kernel's extra crash variants: an instruction fetch from an
// unmapped page, and a page fault inside the page-fault handler. Both end
// in the fatal report and status 3.
const (
	crashVariantsUsage = "|fetch|nested"
	crashVariantsHelp  = "; fetch: jump to an unmapped address (an instruction-fetch fault: the report says its bytes are unreadable); nested: make the page-fault handler itself fault while it handles a nil dereference (the nested-fault report, then the inner fault's)"
)

var crashVariants = map[string]func(io.Writer) error{
	"fetch": func(out io.Writer) error {
		fmt.Fprintf(out, "crash: jumping to %#x\n", crashAddr)
		kernel.CrashFetch(crashAddr)
		return fmt.Errorf("crash: the jump to %#x returned", crashAddr)
	},
	"nested": func(out io.Writer) error {
		fmt.Fprintf(out, "crash: the fault handler will read %#x\n", crashAddr)
		kernel.CrashNested(crashAddr)
		return fmt.Errorf("crash: no nested fault")
	},
}

// The pagesnap kernel keeps every page fault that is not the snapshot's
// fatal, with the decoded report (CR2, RIP, instruction bytes, frames) that
// "crash nil" checks (qemu/live TestFatalFault); other programs get
// kernel.GoFaultPanic's default, a recoverable Go panic.
func init() { kernel.GoFaultPanic = false }
