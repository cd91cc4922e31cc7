package kernel

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
)

// Command is a console command: args are the words after its name.
type Command struct {
	Usage string
	Help  string
	Run   func(out io.Writer, args []string) error
}

// Console reads command lines from a byte source (a UART) and runs them.
type Console struct {
	// Read returns the next input byte, or false when none is waiting.
	Read     func() (byte, bool)
	Out      io.Writer
	Commands map[string]*Command
}

// Serve runs the console until the machine stops. It polls the input,
// sleeping 1 ms when idle so that the processor can idle (and drain).
func (c *Console) Serve() {
	var line []byte
	fmt.Fprint(c.Out, "> ")
	for {
		b, ok := c.Read()
		if !ok {
			time.Sleep(time.Millisecond)
			continue
		}
		switch b {
		case '\r', '\n':
			if len(line) > 0 {
				c.Exec(string(line))
			}
			line = line[:0]
			fmt.Fprint(c.Out, "> ")
		case 0x7f, 0x08:
			if len(line) > 0 {
				line = line[:len(line)-1]
			}
		default:
			if b >= 0x20 && len(line) < 256 {
				line = append(line, b)
			}
		}
	}
}

// Exec runs one command line and prints its result or error.
func (c *Console) Exec(line string) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return
	}
	if f[0] == "help" {
		c.help()
		return
	}
	cmd, ok := c.Commands[f[0]]
	if !ok {
		fmt.Fprintf(c.Out, "error: unknown command %q (try help)\n", f[0])
		return
	}
	if err := cmd.Run(c.Out, f[1:]); err != nil {
		fmt.Fprintf(c.Out, "error: %v\n", err)
	}
}

func (c *Console) help() {
	names := make([]string, 0, len(c.Commands))
	for n := range c.Commands {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(c.Out, "commands:")
	for _, n := range names {
		fmt.Fprintf(c.Out, "  %-28s %s\n", c.Commands[n].Usage, c.Commands[n].Help)
	}
}
