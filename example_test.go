//go:build tamago

package pagesnap_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/pagesnap/pagesnap"
	"github.com/pagesnap/pagesnap/lines"
)

// The application's work: it allocates and writes while the snapshot is
// taken and keeps going until the image is complete.
func work(stop <-chan struct{}) {
	var keep [64][]byte
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		keep[i%len(keep)] = make([]byte, 4096)
		keep[i%len(keep)][i%4096] = byte(i)
	}
}

// Take a live snapshot while the application works, wait for the image
// and check it against its manifest.
func Example() {
	s := snapshotter() // pagesnap.Open(board), once per machine

	stop := make(chan struct{})
	go work(stop)

	started, err := s.Start(pagesnap.Options{})
	if err != nil {
		fmt.Println("start:", err)
		return
	}
	err = s.Wait(10 * time.Minute) // the work goes on meanwhile
	close(stop)
	if err != nil {
		fmt.Println("wait:", err)
		return
	}
	line, err := s.Verify()
	if err != nil {
		fmt.Println("verify:", err)
		return
	}
	v, err := lines.ParseVerified(line)
	status, _ := s.Status()
	st, _ := lines.ParseStatus(status)
	fmt.Println("verified:", err == nil, "every page:", v.Pages == st.Pages)
	fmt.Println("pause under 100 ms:", s.Micros(started.PauseTicks) < 100e3)
	// Output:
	// verified: true every page: true
	// pause under 100 ms: true
}

// A complete image is kept: a new snapshot refuses to replace it until the
// application discards it (or starts with Options.Overwrite).
func ExampleSnapshotter_Discard() {
	s := snapshotter()

	_, err := s.Start(pagesnap.Options{})
	fmt.Println("kept:", errors.Is(err, pagesnap.ErrKept))

	fmt.Println("discard:", s.Discard())
	_, err = s.Start(pagesnap.Options{Share: 50})
	fmt.Println("start:", err)
	fmt.Println("wait:", s.Wait(10*time.Minute))
	// Output:
	// kept: true
	// discard: <nil>
	// start: <nil>
	// wait: <nil>
}

// Status reports the current or last snapshot's progress, in the
// snap status line the host harness parses with package lines.
func ExampleSnapshotter_Status() {
	s := snapshotter()

	line, err := s.Status()
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := lines.ParseStatus(line)
	fmt.Println(err, st.Phase, st.Hashed == st.Pages)
	// Output:
	// <nil> done true
}

// Options select the DMA eager set and the drain's CPU share; a share
// outside 1–90 % is refused before anything is touched.
func ExampleOptions() {
	s := snapshotter()

	_, err := s.Start(pagesnap.Options{Share: 95, Overwrite: true})
	fmt.Println(errors.Is(err, pagesnap.ErrShare))
	// Output:
	// true
}
