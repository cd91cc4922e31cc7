//go:build tamago

// Package console is the snap console command for any application that
// embeds pagesnap: mount Snap on a kernel.Console (or call its Run from
// your own command loop) and the host harness can drive snapshots:
//
//	snap start [inuse|whole|none] [share=N%] [overwrite] [noguard] [disk [buffer=N[K|M]]]
//	snap status | snap verify | snap discard | snap protected
//
// The lines it prints are the ones the host harness (qemu/live) reads.
package console

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/pagesnap/pagesnap"
	"github.com/pagesnap/pagesnap/kernel"
	"github.com/pagesnap/pagesnap/lines"
)

// Snap returns the snap command for s. extra, if set, returns one
// key=value field appended to the started line (the pagesnap kernel adds
// its workload's mark=). The line is lines.Started.
func Snap(s *pagesnap.Snapshotter, extra func() string) *kernel.Command {
	return &kernel.Command{
		Usage: "snap start [inuse|whole|none] [share=N%] [overwrite] [noguard] [disk [buffer=N[K|M]]]",
		Help:  "take a live snapshot (DMA eager set: in-use buffers, whole window, or none = negative control; share: CPU the timer tick drains, default " + strconv.Itoa(pagesnap.DefaultShare) + "%; overwrite: replace a kept image; noguard: no DMA allocation guard = negative control; disk: stream the image to the virtio-blk disk through a RAM buffer of buffer= bytes, default min(64M, 5% of captured RAM)); snap status; snap verify; snap discard (drop the kept image); snap protected (count the read-only pages of captured RAM and of the storage)",
		Run: func(out io.Writer, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("usage: snap start [inuse|whole|none] [share=N%%] [overwrite] [noguard] [disk [buffer=N[K|M]]] | snap status | snap verify | snap discard | snap protected")
			}
			switch args[0] {
			case "start":
				o, err := ParseStart(args[1:])
				if err != nil {
					return err
				}
				r, err := s.Start(o)
				if err != nil {
					return err
				}
				l := lines.Started{Mode: r.Mode.String(), Instant: r.Instant, PauseMicros: s.Micros(r.PauseTicks), PauseTicks: r.PauseTicks,
					Eager: r.EagerPages, EntriesTouched: r.EntriesTouched, DMARanges: len(r.DMARanges), Share: r.Share}
				if extra != nil {
					k, v, _ := strings.Cut(extra(), "=")
					l.Extra = [][2]string{{k, v}}
				}
				fmt.Fprintln(out, l)
				return nil
			case "status":
				st, err := s.Status()
				if err != nil {
					return err
				}
				fmt.Fprintln(out, st)
				return nil
			case "verify":
				v, err := s.Verify()
				if err != nil {
					return err
				}
				fmt.Fprintln(out, v)
				return nil
			case "discard":
				if err := s.Discard(); err != nil {
					return err
				}
				fmt.Fprintln(out, "snap: discarded: the storage is writable again")
				return nil
			case "protected":
				c, st, err := s.Protected()
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "snap: read-only pages: captured=%d storage=%d/%d kept=%v\n", c, st, s.Storage().Size/4096, s.Controller().Kept())
				return nil
			}
			return fmt.Errorf("snap: unknown subcommand %q (start, status, verify, discard, protected)", args[0])
		},
	}
}

// ParseStart parses the words after "snap start".
func ParseStart(args []string) (pagesnap.Options, error) {
	var o pagesnap.Options
	modeSet := false
	for _, a := range args {
		switch {
		case a == "inuse" || a == "whole" || a == "none":
			if modeSet {
				return o, fmt.Errorf("snap start: DMA mode given twice (%q)", a)
			}
			modeSet = true
			o.Mode = map[string]pagesnap.DMAMode{"inuse": pagesnap.DMAInUse, "whole": pagesnap.DMAWhole, "none": pagesnap.DMANone}[a]
		case a == "overwrite":
			o.Overwrite = true
		case a == "noguard":
			o.NoGuard = true
		case a == "disk":
			o.Disk = true
		case strings.HasPrefix(a, "buffer="):
			v := strings.TrimPrefix(a, "buffer=")
			unit := uint64(1)
			if u, ok := strings.CutSuffix(v, "K"); ok {
				v, unit = u, 1<<10
			} else if u, ok := strings.CutSuffix(v, "M"); ok {
				v, unit = u, 1<<20
			}
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil || n*unit < 4096 {
				return o, fmt.Errorf("snap start: bad buffer %q: want buffer=N, N[K] or N[M] bytes, at least 4K", a)
			}
			o.BufferPages = n * unit / 4096
		case strings.HasPrefix(a, "share="):
			v, ok := strings.CutSuffix(strings.TrimPrefix(a, "share="), "%")
			n, err := strconv.Atoi(v)
			if !ok || err != nil || n < 1 || n > kernel.MaxShare {
				return o, fmt.Errorf("snap start: bad share %q: want share=N%% with N a whole number from 1 to %d", a, kernel.MaxShare)
			}
			o.Share = n
		default:
			return o, fmt.Errorf("snap start: unknown argument %q (inuse, whole, none, share=N%%, overwrite, noguard, disk, buffer=N)", a)
		}
	}
	if o.BufferPages != 0 && !o.Disk {
		return o, fmt.Errorf("snap start: buffer= applies to disk only")
	}
	return o, nil
}
