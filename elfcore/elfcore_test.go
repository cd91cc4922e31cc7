package elfcore_test

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"testing"

	"github.com/pagesnap/pagesnap/elfcore"
	"github.com/pagesnap/pagesnap/internal/simimage"
	"github.com/pagesnap/pagesnap/snapshot"
)

func image(t testing.TB) (*simimage.Machine, *snapshot.Image, []byte) {
	t.Helper()
	m, err := simimage.New(snapshot.Range{Base: 0x1000, Size: 0x3000}, snapshot.Range{Base: 0x200000, Size: 0x2000})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range m.Ranges {
		for a := r.Base; a < r.End(); a += 8 {
			m.Store64(a, a*0x9e3779b97f4a7c15)
		}
	}
	b, err := m.Snapshot(1234)
	if err != nil {
		t.Fatal(err)
	}
	im, err := snapshot.ReadImage(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return m, im, b
}

// TestCore: every captured page is in the core at its physical address
// (identity), bit for bit; one PT_LOAD per range; the note carries the
// instant, format version and root hash.
func TestCore(t *testing.T) {
	m, im, _ := image(t)
	var buf bytes.Buffer
	var last uint64
	if err := elfcore.Write(&buf, im, elfcore.Options{Machine: elf.EM_X86_64, Progress: func(d, n uint64) { last = d }}); err != nil {
		t.Fatal(err)
	}
	if uint64(buf.Len()) != elfcore.Size(im) || last != im.NumPages {
		t.Fatalf("core %d bytes (Size says %d), progress ended at %d of %d", buf.Len(), elfcore.Size(im), last, im.NumPages)
	}
	f, err := elf.NewFile(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != elf.ET_CORE || f.Machine != elf.EM_X86_64 || f.Class != elf.ELFCLASS64 {
		t.Fatalf("header: %v %v %v", f.Type, f.Machine, f.Class)
	}
	var loads []*elf.Prog
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			loads = append(loads, p)
		}
	}
	if len(loads) != len(m.Ranges) {
		t.Fatalf("%d PT_LOAD, want %d", len(loads), len(m.Ranges))
	}
	for i, p := range loads {
		r := m.Ranges[i]
		if p.Vaddr != r.Base || p.Paddr != r.Base || p.Filesz != r.Size || p.Memsz != r.Size || p.Off%4096 != 0 {
			t.Fatalf("PT_LOAD %d: %+v, want %v identity", i, p.ProgHeader, r)
		}
		for a := r.Base; a < r.End(); a += 4096 {
			got := make([]byte, 4096)
			if _, err := p.ReadAt(got, int64(a-r.Base)); err != nil {
				t.Fatal(err)
			}
			want := make([]byte, 4096)
			m.M.Mem.Read(a, want)
			if !bytes.Equal(got, want) {
				t.Fatalf("page %#x differs in the core", a)
			}
		}
	}
	in, err := elfcore.ReadInfo(f)
	if err != nil {
		t.Fatal(err)
	}
	root, _ := im.RootHash()
	want := elfcore.Info{Version: snapshot.Version, State: snapshot.StateComplete, Instant: 1234, PageSize: 4096, NumPages: 5, Root: root}
	if in != want {
		t.Fatalf("note %+v, want %+v", in, want)
	}
}

// TestCoreIncomplete: an image with a page not copied is refused.
func TestCoreIncomplete(t *testing.T) {
	_, im, b := image(t)
	// The same image with page 2's copy-map bit cleared.
	b = append([]byte(nil), b...)
	b[im.Layout.MapOff] &^= 1 << 2
	im2, err := snapshot.ReadImage(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	err = elfcore.Write(new(bytes.Buffer), im2, elfcore.Options{Machine: elf.EM_X86_64})
	if !errors.Is(err, elfcore.ErrIncomplete) || err.Error() != "elfcore: the snapshot is not complete: 4 of 5 pages copied" {
		t.Fatalf("got %v", err)
	}
	err = elfcore.Write(new(bytes.Buffer), im, elfcore.Options{Machine: elf.EM_386})
	if err == nil || err.Error() != "elfcore: unsupported machine EM_386 (EM_X86_64 or EM_AARCH64)" {
		t.Fatalf("got %v", err)
	}
}

// ExampleWrite converts a snapshot image to an ELF core and reads its
// segments back.
func ExampleWrite() {
	m, _ := simimage.New(snapshot.Range{Base: 0x1000, Size: 0x3000})
	m.Store64(0x2008, 42)
	img, _ := m.Snapshot(7)
	im, _ := snapshot.ReadImage(bytes.NewReader(img), int64(len(img)))

	var core bytes.Buffer
	if err := elfcore.Write(&core, im, elfcore.Options{Machine: elf.EM_X86_64}); err != nil {
		fmt.Println(err)
		return
	}
	f, _ := elf.NewFile(bytes.NewReader(core.Bytes()))
	for _, p := range f.Progs {
		fmt.Printf("%v vaddr=%#x paddr=%#x size=%#x\n", p.Type, p.Vaddr, p.Paddr, p.Filesz)
	}
	in, _ := elfcore.ReadInfo(f)
	fmt.Printf("format version %d, instant %d, %d pages\n", in.Version, in.Instant, in.NumPages)
	// Output:
	// PT_NOTE vaddr=0x0 paddr=0x0 size=0x58
	// PT_LOAD vaddr=0x1000 paddr=0x1000 size=0x3000
	// format version 2, instant 7, 3 pages
}
