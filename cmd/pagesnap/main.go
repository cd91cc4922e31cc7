// Command pagesnap reads pagesnap snapshot images on the host: it prints
// an image's header, verifies its manifest, extracts a page, compares two
// snapshots page by page and converts an image into an ELF core for gdb.
//
// An image is read from a file holding exactly the storage region (QMP
// pmemsave of the region), a block-device image (the image at offset 0,
// the device possibly larger), or a raw dump of guest RAM (pmemsave of all
// RAM, or QEMU's memory-backend-file): there the image is found by looking
// for its header on every 4096-byte boundary, or taken at -offset.
//
// Run "pagesnap help" for the commands and "pagesnap help COMMAND" for
// examples. Exit status: see exitCodes.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0 // success; diff: no page differs
	exitFound   = 1 // verify: the image does not verify; diff: pages differ
	exitUsage   = 2 // bad command line
	exitInput   = 3 // input unusable: unreadable, not a pagesnap image, truncated, unsupported version, malformed header
	exitMissing = 4 // the image lacks what was asked: address not captured or page not copied, elf of an incomplete image, diff of different page sizes
	exitOutput  = 5 // the output could not be written
)

const exitCodes = `exit status:
  0  success (verify: the image verifies; diff: no page differs)
  1  verify: the image does not verify; diff: pages differ
  2  usage error
  3  input unusable: unreadable, not a pagesnap image, truncated, unsupported
     format version or malformed header
  4  the image lacks what was asked: address not captured, page not copied,
     elf of an incomplete image, diff of images with different page sizes
  5  the output could not be written`

// exitError carries an exit status with the error to print.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func fail(code int, format string, args ...any) error {
	return &exitError{code, fmt.Errorf(format, args...)}
}

// env is what a command runs with.
type env struct {
	stdout, stderr io.Writer
	// tty reports whether stderr is a terminal (progress bars by default).
	tty bool
}

type command struct {
	name, args, short, long string
	// setup defines the command's flags in fs and returns the function
	// that runs it with the positional arguments.
	setup func(fs *flag.FlagSet) func(e *env, args []string) error
	// nargs is the number of positional arguments.
	nargs int
}

// parse defines c's flags and parses args, flags and positional arguments
// in any order.
func (c *command) parse(args []string) (func(*env, []string) error, []string, error) {
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	runf := c.setup(fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return runf, pos, nil
}

var commands []*command

func init() {
	commands = []*command{infoCmd, verifyCmd, extractCmd, diffCmd, elfCmd}
	sort.Slice(commands, func(i, j int) bool { return commands[i].name < commands[j].name })
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func main() {
	tty := false
	if st, err := os.Stderr.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		tty = true
	}
	os.Exit(run(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr, tty: tty}))
}

// run runs one command line and returns the exit status.
func run(args []string, e *env) int {
	if len(args) == 0 {
		usage(e.stderr)
		return exitUsage
	}
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			c := lookup(args[1])
			if c == nil {
				fmt.Fprintf(e.stderr, "pagesnap: unknown command %q (try pagesnap help)\n", args[1])
				return exitUsage
			}
			commandHelp(e.stdout, c)
			return exitOK
		}
		usage(e.stdout)
		return exitOK
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(e.stderr, "pagesnap: unknown command %q (try pagesnap help)\n", name)
		return exitUsage
	}
	runf, pos, err := c.parse(args[1:])
	if errors.Is(err, flag.ErrHelp) {
		commandHelp(e.stdout, c)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "pagesnap %s: %v\nusage: pagesnap %s %s (pagesnap help %s)\n", c.name, err, c.name, c.args, c.name)
		return exitUsage
	}
	if len(pos) != c.nargs {
		fmt.Fprintf(e.stderr, "pagesnap %s: want %d arguments, got %d\nusage: pagesnap %s %s (pagesnap help %s)\n",
			c.name, c.nargs, len(pos), c.name, c.args, c.name)
		return exitUsage
	}
	err = runf(e, pos)
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(e.stderr, "pagesnap: "+ee.err.Error())
		}
		return ee.code
	}
	fmt.Fprintln(e.stderr, "pagesnap: "+err.Error())
	return exitInput
}

func usage(w io.Writer) {
	fmt.Fprint(w, `pagesnap reads pagesnap snapshot images: a storage-region file (pmemsave of
the region), a block-device image, or a raw dump of guest RAM (pmemsave of
all RAM, QEMU memory-backend-file), where the image is found by its header.

usage: pagesnap COMMAND [flags] ARGS

commands:
`)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.short)
	}
	fmt.Fprint(w, `
pagesnap help COMMAND shows a command's flags and examples.

`+exitCodes+"\n")
}

func commandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "usage: pagesnap %s %s\n\n%s\n", c.name, c.args, strings.TrimSpace(c.long))
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	c.setup(fs)
	fmt.Fprintln(w, "\nflags:")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprintln(w, "\n"+exitCodes)
}
