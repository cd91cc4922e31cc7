// Package verify checks a pagesnap snapshot from outside the guest: it
// parses the snapshot storage (package snapshot's documented format, read
// from a file or from a dump of guest memory), checks the manifest hashes
// and compares every captured page, bit for bit, with a reference image of
// physical memory taken at the snapshot instant (QMP pmemsave while the
// guest is stopped there by the gdbstub).
//
// Each mismatching page is reported with its address, its owner (kernel
// text/data/bss from the kernel ELF's sections and symbols, or a heap,
// stack, DMA or storage region declared by the caller) and the first
// differing byte. A mismatch is an error (Report.Err), never a warning.
package verify
