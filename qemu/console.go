package qemu

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"
)

// ErrTimeout is wrapped by Expect errors when no line matched in time.
var ErrTimeout = errors.New("qemu: console timeout")

// maxLines bounds the console history kept in memory.
const maxLines = 1 << 20

// Console is the guest's serial port: output is split into lines and kept so
// that tests can wait for lines in order; input is typed with Send.
type Console struct {
	r       io.Reader
	w       *os.File
	vmDone  <-chan struct{}
	exitErr func() error
	log     io.Writer

	mu      sync.Mutex
	lines   []string // complete lines, '\r' removed
	dropped int      // lines dropped from the front of lines
	partial strings.Builder
	cursor  int           // absolute index of the next line Expect looks at
	changed chan struct{} // closed and replaced on every update
	eof     chan struct{}
}

// SendTimeout bounds each console write: a guest that does not read its
// serial port stops QEMU from draining the pipe.
var SendTimeout = 10 * time.Second

func newConsole(r io.Reader, w *os.File, done <-chan struct{}, exitErr func() error) *Console {
	return &Console{r: r, w: w, vmDone: done, exitErr: exitErr, changed: make(chan struct{}), eof: make(chan struct{})}
}

func (c *Console) read() {
	defer close(c.eof)
	br := bufio.NewReader(c.r)
	for {
		b, err := br.ReadByte()
		if err != nil {
			c.mu.Lock()
			if c.partial.Len() > 0 {
				c.addLine(c.partial.String())
				c.partial.Reset()
			}
			c.notify()
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		switch b {
		case '\n':
			c.addLine(c.partial.String())
			c.partial.Reset()
		case '\r':
		default:
			c.partial.WriteByte(b)
		}
		// Notify on every byte only when no more input is buffered, so that
		// prompts without a newline are seen without a wake-up per byte.
		if b == '\n' || br.Buffered() == 0 {
			c.notify()
		}
		c.mu.Unlock()
	}
}

func (c *Console) addLine(l string) {
	c.lines = append(c.lines, l)
	if c.log != nil {
		fmt.Fprintf(c.log, "console: %s\n", l)
	}
	if len(c.lines) > maxLines {
		n := len(c.lines) - maxLines/2
		c.lines = append(c.lines[:0], c.lines[n:]...)
		c.dropped += n
	}
}

func (c *Console) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Console) waitEOF(d time.Duration) {
	select {
	case <-c.eof:
	case <-time.After(d):
	}
}

// Lines returns a copy of every complete line kept so far.
func (c *Console) Lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

// Output returns the kept console text, including an unterminated last line.
func (c *Console) Output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := strings.Join(c.lines, "\n")
	if len(c.lines) > 0 {
		s += "\n"
	}
	return s + c.partial.String()
}

// Send types line and a newline on the console.
func (c *Console) Send(line string) error {
	select {
	case <-c.vmDone:
		return c.exitErr()
	default:
	}
	return c.SendRaw([]byte(line + "\n"))
}

// SendRaw writes b to the console as is.
func (c *Console) SendRaw(b []byte) error {
	select {
	case <-c.vmDone:
		return c.exitErr()
	default:
	}
	c.w.SetWriteDeadline(time.Now().Add(SendTimeout))
	n, err := c.w.Write(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("%w: console send: %d of %d bytes written in %v: the guest is not reading its serial port", ErrTimeout, n, len(b), SendTimeout)
	}
	if err != nil {
		return fmt.Errorf("qemu: console send: %w", err)
	}
	return nil
}

// Match is a console line matched by Expect.
type Match struct {
	// Line is the whole matching line.
	Line string
	// Groups are the regular expression's submatches (Groups[0] is the match).
	Groups []string
	// Index is the line number, counting from 0 at QEMU start.
	Index int
}

// Expect waits up to timeout for a console line, after the last line any
// earlier Expect matched, that matches re. An unterminated last line (a
// prompt) never matches: use ExpectPrompt for that. It fails with ErrTimeout, or ErrExited if QEMU exits
// first; both errors quote the last console lines.
func (c *Console) Expect(re *regexp.Regexp, timeout time.Duration) (Match, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if c.cursor < c.dropped {
			c.cursor = c.dropped
		}
		for i := c.cursor - c.dropped; i < len(c.lines); i++ {
			if g := re.FindStringSubmatch(c.lines[i]); g != nil {
				m := Match{Line: c.lines[i], Groups: g, Index: i + c.dropped}
				c.cursor = m.Index + 1
				c.mu.Unlock()
				return m, nil
			}
		}
		if c.cursor < len(c.lines)+c.dropped {
			c.cursor = len(c.lines) + c.dropped
		}
		ch := c.changed
		eof := c.eof
		c.mu.Unlock()
		select {
		case <-ch:
		case <-eof:
			// Drain anything left, then report the exit.
			c.mu.Lock()
			pending := c.cursor-c.dropped < len(c.lines)
			c.mu.Unlock()
			if pending {
				continue
			}
			<-c.vmDone
			return Match{}, fmt.Errorf("waiting for %q: %w%s", re, c.exitErr(), c.tail(10))
		case <-deadline.C:
			return Match{}, fmt.Errorf("%w after %v waiting for %q%s", ErrTimeout, timeout, re, c.tail(10))
		}
	}
}

// ExpectPrompt waits up to timeout until the unterminated last console
// line ends with prompt (a shell prompt the guest prints without a
// newline). Lines before it are consumed.
func (c *Console) ExpectPrompt(prompt string, timeout time.Duration) error {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		if strings.HasSuffix(c.partial.String(), prompt) {
			c.cursor = len(c.lines) + c.dropped + 1
			c.mu.Unlock()
			return nil
		}
		ch, eof := c.changed, c.eof
		c.mu.Unlock()
		select {
		case <-ch:
		case <-eof:
			<-c.vmDone
			return fmt.Errorf("waiting for prompt %q: %w%s", prompt, c.exitErr(), c.tail(10))
		case <-deadline.C:
			return fmt.Errorf("%w after %v waiting for prompt %q%s", ErrTimeout, timeout, prompt, c.tail(10))
		}
	}
}

// ExpectString is Expect for a line containing s.
func (c *Console) ExpectString(s string, timeout time.Duration) (Match, error) {
	return c.Expect(regexp.MustCompile(regexp.QuoteMeta(s)), timeout)
}

func (c *Console) tail(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	l := c.lines
	if len(l) > n {
		l = l[len(l)-n:]
	}
	if p := c.partial.String(); p != "" {
		l = append(append([]string(nil), l...), p)
	}
	if len(l) == 0 {
		return "; console is empty"
	}
	return "; last console lines:\n\t" + strings.Join(l, "\n\t")
}
