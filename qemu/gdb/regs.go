package gdb

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"path"
	"strconv"
	"strings"
)

// targetXML is the subset of GDB's target description format we use
// (GDB manual G.2 "Target Description Format").
type targetXML struct {
	Arch     string       `xml:"architecture"`
	Includes []includeXML `xml:"include"`
	Features []featureXML `xml:"feature"`
}

type featureXML struct {
	Name string   `xml:"name,attr"`
	Regs []regXML `xml:"reg"`
}

type includeXML struct {
	Href string `xml:"href,attr"`
}

type regXML struct {
	Name    string `xml:"name,attr"`
	Bitsize string `xml:"bitsize,attr"`
	Regnum  string `xml:"regnum,attr"`
}

// readXfer reads a whole qXfer:features:read annex.
func (c *Client) readXfer(annex string) ([]byte, error) {
	var out []byte
	for off := 0; ; {
		req := fmt.Sprintf("qXfer:features:read:%s:%x,%x", annex, off, c.maxPacket-64)
		r, err := c.request(req)
		if err != nil {
			return nil, err
		}
		if err := errorReply(req, r); err != nil {
			return nil, err
		}
		out = append(out, r[1:]...)
		off += len(r) - 1
		if r[0] == 'l' {
			return out, nil
		}
		if r[0] != 'm' {
			return nil, fmt.Errorf("gdb: qXfer %s: bad answer %q", annex, trunc(r))
		}
	}
}

// loadTargetDescription fetches target.xml and the files it includes and
// computes the register layout.
func (c *Client) loadTargetDescription() error {
	var regs []regXML
	var visit func(annex string, depth int) error
	visit = func(annex string, depth int) error {
		if depth > 4 {
			return fmt.Errorf("gdb: target description includes nest too deep at %s", annex)
		}
		b, err := c.readXfer(annex)
		if err != nil {
			return err
		}
		var t targetXML
		// Included files have <feature> as the root element.
		if strings.Contains(string(b), "<target") {
			if err := xml.Unmarshal(b, &t); err != nil {
				return fmt.Errorf("gdb: %s: %w", annex, err)
			}
		} else {
			var f featureXML
			if err := xml.Unmarshal(b, &f); err != nil {
				return fmt.Errorf("gdb: %s: %w", annex, err)
			}
			t.Features = []featureXML{f}
		}
		if t.Arch != "" {
			c.Arch = t.Arch
		}
		for _, f := range t.Features {
			regs = append(regs, f.Regs...)
		}
		for _, inc := range t.Includes {
			if err := visit(path.Clean(inc.Href), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := visit("target.xml", 0); err != nil {
		return err
	}
	num, off := 0, 0
	c.Regs = c.Regs[:0]
	for _, r := range regs {
		bits, err := strconv.Atoi(r.Bitsize)
		if err != nil {
			return fmt.Errorf("gdb: register %s: bad bitsize %q", r.Name, r.Bitsize)
		}
		if r.Regnum != "" {
			if num, err = strconv.Atoi(r.Regnum); err != nil {
				return fmt.Errorf("gdb: register %s: bad regnum %q", r.Name, r.Regnum)
			}
		}
		c.Regs = append(c.Regs, Reg{Name: r.Name, Bits: bits, Num: num, Offset: off})
		num++
		off += bits / 8
	}
	return nil
}

// Reg returns the layout entry of the named register.
func (c *Client) Reg(name string) (Reg, bool) {
	for _, r := range c.Regs {
		if r.Name == name {
			return r, true
		}
	}
	return Reg{}, false
}

// PCName returns the name of the program counter register.
func (c *Client) PCName() string {
	for _, n := range []string{"rip", "pc", "eip"} {
		if _, ok := c.Reg(n); ok {
			return n
		}
	}
	return "pc"
}

// ReadRegister reads one register ('p'), little-endian, as raw bytes.
func (c *Client) ReadRegisterBytes(name string) ([]byte, error) {
	r, ok := c.Reg(name)
	if !ok {
		return nil, fmt.Errorf("gdb: no register %q in the target description", name)
	}
	req := fmt.Sprintf("p%x", r.Num)
	a, err := c.request(req)
	if err != nil {
		return nil, err
	}
	if err := errorReply(req, a); err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(a)
	if err != nil {
		return nil, fmt.Errorf("gdb: register %s: %w", name, err)
	}
	return b, nil
}

// ReadRegister reads a register of at most 64 bits.
func (c *Client) ReadRegister(name string) (uint64, error) {
	b, err := c.ReadRegisterBytes(name)
	if err != nil {
		return 0, err
	}
	if len(b) > 8 {
		return 0, fmt.Errorf("gdb: register %s is %d bits: use ReadRegisterBytes", name, len(b)*8)
	}
	var v [8]byte
	copy(v[:], b)
	return binary.LittleEndian.Uint64(v[:]), nil
}

// WriteRegister writes a register of at most 64 bits ('P').
func (c *Client) WriteRegister(name string, v uint64) error {
	r, ok := c.Reg(name)
	if !ok {
		return fmt.Errorf("gdb: no register %q in the target description", name)
	}
	n := r.Bits / 8
	if n > 8 {
		return fmt.Errorf("gdb: register %s is %d bits", name, r.Bits)
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return c.ok(fmt.Sprintf("P%x=%s", r.Num, hex.EncodeToString(b[:n])))
}

// PC reads the program counter.
func (c *Client) PC() (uint64, error) { return c.ReadRegister(c.PCName()) }

// Registers reads every register of the 'g' packet, by name, for registers
// of at most 64 bits.
func (c *Client) Registers() (map[string]uint64, error) {
	a, err := c.request("g")
	if err != nil {
		return nil, err
	}
	if err := errorReply("g", a); err != nil {
		return nil, err
	}
	b, err := hex.DecodeString(a)
	if err != nil {
		return nil, fmt.Errorf("gdb: g: %w", err)
	}
	m := map[string]uint64{}
	for _, r := range c.Regs {
		n := r.Bits / 8
		if r.Offset+n > len(b) {
			break
		}
		if n > 8 || n == 0 {
			continue
		}
		var v [8]byte
		copy(v[:], b[r.Offset:r.Offset+n])
		m[r.Name] = binary.LittleEndian.Uint64(v[:])
	}
	return m, nil
}
