package qemu_test

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/pagesnap/pagesnap/qemu"
	"github.com/pagesnap/pagesnap/qemu/gdb"
	"github.com/pagesnap/pagesnap/qemu/verify"
)

// Example shows the flow of an integration test against the real kernel:
// boot, take the reference image at the snapshot instant, wait for the
// snapshot to complete, read the storage and compare page by page.
func Example() {
	const kernelELF = "kernel.elf"
	const storageAddr, storageSize = 0x30000000, 0x2000000
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	vm, err := qemu.Start(ctx, qemu.Config{Arch: qemu.AMD64, MemoryMiB: 1024, Kernel: kernelELF,
		DebugExit: true, GDB: true, Paused: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer vm.Kill()
	owners, err := verify.LoadOwners(kernelELF)
	if err != nil {
		fmt.Println(err)
		return
	}
	pa, _ := owners.Symbol("github.com/pagesnap/pagesnap/kernel.snapshotInstant")
	g, _ := vm.GDB() // connecting stops the guest
	g.Continue()
	if _, err := vm.Console.Expect(regexp.MustCompile(`^pagesnap: ready`), 2*time.Minute); err != nil {
		fmt.Println(err)
		return
	}
	base, err := vm.ReferenceAt(owners.Virtual(pa), func() error { return vm.Send("snap start") }, "/tmp/ref.bin", time.Minute)
	if err != nil {
		fmt.Println(err)
		return
	}
	vm.Send("snap status")
	if _, err := vm.Console.Expect(regexp.MustCompile(`^snap: complete`), 5*time.Minute); err != nil {
		fmt.Println(err)
		return
	}
	var raw []byte
	vm.Stopped(func(*gdb.Client) error { raw, err = vm.ReadPhys(storageAddr, storageSize); return err })
	im, err := verify.ReadImage(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		fmt.Println(err)
		return
	}
	ref, _ := verify.OpenPhys("/tmp/ref.bin", base)
	defer ref.Close()
	rep := verify.Compare(ref, im, owners)
	fmt.Println(rep) // "VERIFIED: …" or every mismatching page
}
