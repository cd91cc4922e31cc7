// Package snapshot takes a live, consistent snapshot of physical memory by
// copy-on-write: the snapshot equals memory at the instant of Start, bit for
// bit, while the machine keeps running.
//
// # Method
//
// Start (interrupts off, one CPU, nothing else running) copies the eager set
// to storage — every page the snapshot machinery itself writes (fault
// handler stack and data, page tables and the table pool) and every
// DMA-capable range, since DMA bypasses the MMU — marks those pages copied,
// write-protects every other captured page (at the highest page-table level
// that covers it, see package mmu) and flushes the TLB. A write to a
// protected page faults into HandleWriteFault, which copies the page before
// the write, marks it and makes it writable. DrainStep, called from the idle
// task, copies the remaining pages and hashes every page as it passes it
// in order (hash while hot: a copied page's slot is final), writing the
// manifest as it goes; when all are copied and hashed it writes the root
// hash and the complete header.
//
// Prepare, called right before Start with interrupts on, does ahead of
// the instant what need not happen with interrupts off: it marks the
// storage capturing, clears the copy map and builds the page tables of the
// 2 MiB regions Start protects only in part (those holding eager or DMA
// pages), which Start then links with one entry each (mmu.Tables.Prepare)
// instead of splitting a 2 MiB page and protecting its 4 KiB pages one by
// one. When the snapshot completes or aborts, once every page is writable
// again, the engine restores the large mappings: the tables that Start's
// and the faults' splits made are joined back into 2 MiB pages and the
// table pool is returned (mmu.Tables.Merge; Stats.TablesMerged and
// TablesLeft), so the program runs on the mappings it had before and the
// next snapshot starts with the whole pool. On arm64 the join needs
// break-before-make, which the engine does not do while the program runs:
// split tables stay there (the kernel maps captured RAM in 4 KiB pages on
// arm64, so nothing is split).
//
// # Storage layout (format version 2)
//
// The storage is a byte-addressed region outside every captured range. All
// integers are little-endian; offsets are from the start of the storage and
// multiples of the page size P.
//
//	0            header (one page, at least 4096 bytes)
//	               0  [8]byte "PAGESNAP"
//	               8  uint32  version (2)
//	              12  uint32  hash algorithm (1 = SHA-256, 2 = BLAKE2b-256)
//	              16  uint64  page size P
//	              24  uint32  number of captured ranges R (>= 1)
//	              28  uint32  state: 1 capturing, 2 complete, 3 aborted, 4 discarded
//	              32  uint64  number of pages N
//	              40  uint64  instant (caller-defined time of Start)
//	              48  uint64  copy map offset   (= max(4096, P))
//	              56  uint64  scratch offset
//	              64  uint64  page data offset
//	              72  uint64  manifest offset
//	              80  uint64  total size
//	              88  uint32  number of excluded ranges X
//	              92  uint32  0
//	             128  R × {uint64 base, uint64 size}, sorted, disjoint
//	       128+16R    X × {uint64 base, uint64 size, uint32 reason, uint32 0},
//	                  sorted, disjoint, outside the captured ranges
//	                  (128 + 16R + 24X <= 4096)
//	map          copy map: ceil(N/32) uint64 words, padded to P
//	scratch      one page: the drain's bounce buffer
//	data         N pages, page i (in range order) at data + i*P
//	manifest     N 32-byte page hashes, then the root hash, padded to P
//
// The excluded ranges are the RAM the image leaves out on purpose, each
// with a reason: 1 page zero (left unmapped), 2 the snapshot machinery's
// reserved region, 3 the storage itself, 4 RAM the kernel does not use
// (Reason). An address in neither list is not RAM to the kernel. Version 1
// had no excluded ranges; readers refuse every version but their own.
//
// The copy map holds 2 bits per page. Word w holds pages 32w..32w+31: bit i
// is the page's C (copied) bit, bit 32+i its B (busy) bit. A page's data is
// valid iff C=1 and B=0; when the snapshot is complete every page reads
// C=1, B=0. The root hash is the header's hash algorithm over the header's
// first 128+16R+24X bytes (with the state field zeroed) followed by the N
// page hashes. ReadImage and (*Image).Verify read and check an image.
//
// The hash algorithm is SHA-256 or BLAKE2b-256 (RFC 7693, unkeyed, 32-byte
// digest; Config.HashAlg, NewHash); the layout is the same for both. Both
// are cryptographic: the root hash, which the kernel prints when it has
// verified its image, commits to every byte of every page, so an image
// altered afterwards — by a fault, a bug, or someone who can write the
// storage but cannot change the printed root — fails Verify. (A
// non-cryptographic page hash under a cryptographic root would not
// survive the last case: whoever writes the storage could craft a page
// with the same page hash.) The kernel uses BLAKE2b-256 on amd64, where
// x/crypto's AVX2 code hashes a page in a sixth of the instructions of
// SHA-256's (no SHA-NI under QEMU's TCG), and SHA-256 on arm64, where Go
// uses the SHA2 instructions (KernelHashAlg). Version 2 readers before BLAKE2b refuse a
// BLAKE2b image with ErrHashAlg.
//
// # Keeping finished images
//
// Start writes the header state first (one atomic store: capturing), so
// an image reads complete only until Start begins rewriting it, never
// during. Start refuses with ErrImageKept, touching nothing, when the
// storage holds a complete image, unless Config.Overwrite is set;
// Discard marks the image discarded (state 4) so that the next Start may
// reuse the storage.
//
// The layout is a pure function of P and the ranges (NewLayout), each part is
// at a fixed offset and every page has a fixed slot, so the same format works
// for a reserved memory region (now) and for a block device later: pages can
// be written to their slots in any order, the copy map and header are small
// and can be rewritten last, and the manifest is written once at the end.
//
// # Storage backends
//
// The image goes either to the reserved RAM region (Config.Storage, as
// above) or, with Config.Disk, to a block device in the same format from
// byte 0, so that one reader (ReadImage, the pagesnap CLI) takes a RAM
// dump or a disk file alike. With a disk, Config.Storage is only a RAM
// region of BufferLayout.Size bytes: the image's header, copy map and
// scratch page at their usual offsets (the copy map stays in RAM, where
// the fault path CASes it), a slot directory, the manifest (32 bytes a
// page: 1/128 of the captured RAM), DiskStages staging areas and a buffer
// of Config.BufferPages slots (default min(64 MiB, 5 % of the captured
// RAM)). That is all the RAM a snapshot to disk needs: no second copy of
// the captured RAM (a kernel may run on a machine whose RAM cannot hold
// an image: board/layout's DiskGuestMiB).
//
// Start and the fault path cannot do I/O (interrupts off, no waiting), so
// they copy a page into a free buffer slot (claimed by a CAS on its
// directory entry) and publish it. The drain (DrainStep) does the I/O,
// asynchronously: the Disk's Submit posts a request and returns, Kick
// notifies the device (lazily: an exit to the hypervisor is costly), Reap
// takes completions without waiting. A step first reaps what completed
// (freeing the slots and staging areas those requests read), then, while
// request tags are free (DiskQueue), submits the header (state capturing,
// the first request), buffered pages, each hashed into the manifest in
// RAM and left claimed until its write completes, and runs of uncopied
// pages with consecutive indices staged a page at a time by the scratch
// protocol below (DrainWrite while staged: the staging area holds the
// clean copy, so the page may be made writable at once; Copied when the
// run's write completes), hashed there and written with one request. So
// no step waits for the device, and a budget unit is one page copied or
// hashed: the drain keeps to its share (see "Drain share"). Every page is
// hashed exactly once, when it is written; the hash phase reads nothing
// back: once every page is hashed it takes the manifest into the root
// hash in page order, writes the manifest, then (every request done) the
// copy map, then (done) the complete header.
// Start refuses (ErrBufferSmall, and New and AddEager with the size
// needed) when the eager set does not fit the buffer.
//
// A full buffer slows the writer, never the snapshot: a write fault that
// finds no free slot returns without copying or unprotecting, so the
// store faults again, and again, until the drain has written buffered
// pages out. The faulting goroutine thus waits inside its store (retrying
// through the fault) for as long as the disk needs, nothing is dropped
// and nothing fails. The alternatives were worse: a buffer sized for the
// worst case is all of RAM (every page may be written before the drain
// reaches it), and failing the snapshot when the buffer fills is what
// the Linux livedump RFC does. The wait needs the drain to run while the
// writer spins: on the kernel the timer tick drains (its share) between
// two faults, so the block backend needs the tick (irq.Hz > 0); with
// several CPUs the drain may run on another one. Code that writes
// captured memory with interrupts off would spin forever on a full
// buffer. The kernel has two such writers. The timer interrupt writes
// the interrupted g (before draining) and may push a preemption frame:
// it calls PrepareWrite, which may also use the last InterruptSlots
// slots that write faults leave free, and which refuses instead of
// waiting when they are taken too (the tick then skips its drain or the
// preemption); since the tick's drain writes buffered pages out before
// anything else, the reserve refills. The DMA allocation guard copies
// pages with interrupts off and retries with interrupts on until Saved
// reports the page kept. The
// buffer's high-water mark (DiskStats) is the memory the snapshot
// needed; FullFaults counts the faults turned away.
//
// A disk error aborts the snapshot (DrainStep returns it); the disk then
// still reads capturing (or aborted). Config.Overwrite and ErrImageKept
// concern the RAM header only: a snapshot to disk overwrites the disk.
//
// # Per-page protocol
//
// Each page has a 2-bit state in the copy map, changed only by 64-bit CAS on
// its word (no locks anywhere):
//
//	Uncopied   C=0 B=0
//	FaultCopy  C=0 B=1  a fault handler copies the live page to its slot
//	DrainWrite C=1 B=1  the drain writes a clean copy from scratch to the slot
//	Copied     C=1 B=0
//
// Invariant: a captured page is writable (in the page tables) only in state
// DrainWrite or Copied, and the state never returns to Uncopied (except when
// Abort overlaps a fault-path copy: that copy is then not trusted). Hence
// while a page is Uncopied or FaultCopy its content is still the content at
// Start (DMA ranges are eager, so no device writes it either).
//
// Fault path (HandleWriteFault): Uncopied → CAS to FaultCopy, copy the page
// to its slot (the page is still protected, so the bytes are those of
// Start), CAS to Copied, make the page writable. Seeing DrainWrite or Copied
// it only makes the page writable (the slot is or will be filled from a
// clean copy). Seeing FaultCopy — only possible when another CPU's fault
// handler is copying, since fault handlers run with interrupts off and never
// nest — it returns without unprotecting, so the store retries and faults
// again until the other CPU finishes.
//
// Drain (DrainStep): copy the Uncopied page to the scratch page first (no
// claim), then CAS Uncopied → DrainWrite. If the CAS fails a fault handler
// took the page and the scratch copy is discarded. If it succeeds, no fault
// handler touched the page during the scratch copy (the state would have left
// Uncopied for good), so the page was protected throughout and the scratch
// copy is the content at Start. It then copies scratch to the slot and CASes
// to Copied. Drained pages are made writable a 2 MiB-aligned run at a time
// (one entry for a 2 MiB page, no split), only pages that read Copied.
//
// Why this works on one CPU, where a fault can interrupt DrainStep anywhere:
// the fault handler never waits for the drain. Interrupting the scratch copy,
// it takes the page itself (the drain's CAS then fails); interrupting the
// scratch-to-slot copy (DrainWrite), it just makes the page writable — the
// drain later finishes the slot from the clean scratch copy, whatever the
// program wrote to the page meanwhile. With true concurrency (host tests) the
// same arguments hold, and a page's slot is written by exactly one copier:
// the winner of the CAS out of Uncopied. When the drain has visited every
// page it has hashed them in order (as it visited them, hash while hot;
// from the first page a fault on another CPU was still copying, in the
// hash phase, waiting for each to read Copied), and only then makes all
// captured memory writable — unprotecting a page in FaultCopy would let the program
// write it under the copier. The page-table updates are CAS-based
// and idempotent (package mmu) so a fault can also interrupt or race a
// drain's unprotect of a neighbouring page.
//
// With Config.DrainUninterrupted (the kernel masks interrupts around
// DrainStep and runs it on a stack outside captured RAM, so nothing on its
// CPU writes captured memory meanwhile), or for one call with
// DrainStepUninterrupted, the drain claims the Uncopied pages it takes
// from one copy-map word as FaultCopy with one CAS of the word, copies
// each straight to its slot (one copy instead of two) and marks them all
// Copied with one more CAS; faults on other CPUs see FaultCopy and retry
// until then. The two kinds of call may alternate: each finishes its
// pages' copies before it returns.
//
// When the table pool is empty, a fault on a large page copies every
// Uncopied page of it (as FaultCopy → Copied) and makes the whole large
// page writable without splitting it: correct, but a 1 GiB page costs a
// 1 GiB copy in the handler (see mmu.Pool for sizing).
//
// # Drain share: completion on a busy machine
//
// A snapshot completes only when its drain has copied and hashed every
// page, and a program that never blocks leaves no idle time. So the kernel
// (kernel/tick.go) drains from three places:
//
//   - the timer tick: on every periodic timer interrupt (package irq,
//     irq.Hz, 100 Hz by default) while a snapshot is capturing or hashing,
//     the tick calls DrainStepUninterrupted(1) (interrupts are off and it
//     runs on the drain stack) until share × tick period has passed
//     (plus at most one step; a tick that overran its budget pays the
//     overrun back from the next ticks' budgets, so one long step — a
//     disk notification under emulation — does not shift the share):
//     the drain share, a setting of each snapshot (kernel "snap start
//     share=N%", 1–90 %, default 20 %);
//   - the idle hook: whenever no goroutine can run, all of the idle time;
//   - with no timer tick (irq.Hz = 0), a fallback goroutine, which gets
//     the CPU only when the program blocks.
//
// The tick, not a goroutine, carries the guarantee: with preemption a
// goroutine gets a fair turn among the runnable ones (1/(n+1) with n
// spinning goroutines), which no setting controls; the tick runs whatever
// the program does. What is guaranteed: the tick does at least
// max(1, ⌊B/c⌋) steps per tick for a budget B = share × period and a cost c
// per step (but for ticks paying back an earlier tick's overrun), and a
// snapshot needs at most U + N + 2 steps (U pages left
// uncopied at Start, N pages hashed, the two phase transitions;
// TestTickAloneCompletes checks this bound with the tick as the only
// drain). Hence completion under any load takes at most about 1/share of
// the drain's work time, which is the completion time on an idle machine,
// where the drain gets all the CPU; the program keeps at least 1 − share
// of the CPU while a snapshot runs, all of it otherwise (the tick's
// overhead with no snapshot is a pointer load).
//
// Why DrainStep may run in a timer interrupt:
//
//   - It allocates nothing in either phase (the hashes reuse buffers and
//     hash states made by New; TestDrainStepAllocates) and takes no locks
//     (atomics only), so it cannot deadlock with or corrupt an interrupted
//     allocator or lock holder.
//   - Its memory writes go to the storage, the engine's own heap memory
//     (Owned: the Snapshot value, its buffers and hash states), the page
//     tables and the table pool — all eager or outside captured RAM, so
//     the interrupt takes no write fault — and to its stack: the kernel
//     runs it on a drain stack in the reserved region, outside captured
//     RAM, with the interrupted goroutine's stackguard0 cleared, so the
//     stack checks of DrainStep and the code below it (sha256, package
//     mmu: ordinary Go functions) never call morestack on a stack they are
//     not on, nor act on a preemption request meant for the interrupted
//     goroutine.
//   - Interrupts stay off in the tick, in Start and in the fault path, so
//     the tick never lands inside Start or inside a write fault on the
//     kernel; it may land inside the idle hook's DrainStep, which its busy
//     flag turns away (ErrDrainBusy: the CPU is draining anyway).
//   - For the per-page protocol the tick's drain is just the drain, run
//     between two instructions of the program: a program store that
//     faulted before the tick completed its copy; a page the tick copies is
//     still protected while it copies. Nothing new is needed — the host
//     tests inject the tick's work at random memory operations inside write
//     faults (which the kernel never allows: a stronger test), inside the
//     idle drain's copies and inside its hashing, and between the program's
//     stores, and compare the image with memory at Start bit for bit
//     (TestTickInterleavings).
//   - The interrupt path also writes outside its own stack: preemption
//     pushes a call frame on the interrupted goroutine's stack, which a
//     snapshot may have write-protected. It calls PrepareWrite first — the
//     fault path run before the store instead of after it — so the page is
//     copied and writable before the store (irq.PrepareWrite).
//   - Hashing in the interrupt uses SIMD registers (sha256): the boards'
//     interrupt entry saves the full FP/SIMD state. (One visible side
//     effect: the interrupted goroutine's FIPS 140 service indicator may
//     be set to "approved" by the hash.)
//
// The default share, 20 %, is a compromise measured with `make qemu` (see
// README.md, "The main job"): it bounds the program's loss while a
// snapshot runs to 20 % (plus the write faults, which any share costs) and
// completion under a never-blocking load to about 5 × the idle-machine
// time.
//
// # Where the drain's time goes
//
// With Config.DrainClock (the kernel passes its cycle counter) each
// DrainStep reads the clock when it begins and ends and around the pages
// it hashes (those of one copy-map word it visits at a time; with a
// disk, each page): Stats.DrainHashTicks is the time spent hashing
// (page digests, root hash, manifest entries), Stats.DrainCopyTicks all
// the rest of the drain's time (its page copies, the copy map, the
// page-table releases, the end's unprotect and table merge; with a disk,
// its requests), so
// that drain throughput and hashing throughput are measured apart though
// the drain hashes each page as it copies it; Stats.DrainProtectTicks is
// the part of the copy ticks spent making pages writable again. Two
// counter readings per copy-map word visited with pages to hash (per
// hashed page with a disk), two per step and two per release of
// a drained run (2 MiB); the fault path is not timed. TestDrainClock
// checks the split tick for tick with a clock that counts copies, reads
// and TLB invalidations.
//
// # Fault-path rules
//
// HandleWriteFault and everything it calls (PhysMem and mmu methods) run in
// an exception handler on bare metal: interrupts off, a small dedicated
// stack, possibly interrupting the engine itself. Hence they are
// //go:nosplit (no stack-growth check, which would try to grow a stack the
// runtime does not own), allocate nothing (the allocator takes locks and may
// run the GC), store no heap pointers (write barriers may be enabled by the
// GC at any moment and take the slow path) and take no locks (the
// interrupted code may hold them: a deadlock on one CPU). All their state is
// preallocated by New: the table-page pool for page-table splits, the
// storage, the counters (atomics in the Snapshot value, which the kernel must
// place in the eager set or outside captured RAM). Start, run on the
// kernel's snapshot stack with interrupts off, follows the same rules
// except nosplit; so does DrainStep, hashing included (reused digests and
// buffers), so that a kernel can drain and hash from an idle hook or a
// timer tick. TestNoAllocations proves it on the host.
//
// # Using it from the kernel
//
//	tables := &mmu.Tables{Arch: mmu.AMD64, Mem: mmu.Direct{}, Root: mmu.Root(),
//		Pool: mmu.NewPool(poolBase, poolSize)}
//	s, err := snapshot.New(snapshot.Config{
//		Ranges:  ram,                 // captured RAM, sorted
//		Storage: storage,             // reserved, mapped writable, outside ram
//		Eager:   []snapshot.Range{faultStack, handlerData, pageTables, pool},
//		DMA:     dmaRanges,           // every device-writable range
//		Mem:     mmu.Direct{}, Tables: tables, TLB: mmu.TLB{},
//		Clock:   readTSC,             // recorded as the snapshot instant
//		DrainClock: readTSC,          // times the drain's copying and hashing
//	})
//	s.AddEager(pagesOf(s), pagesOf(tables.Pool)) // the fault path writes them
//	// interrupts off, other activity stopped:
//	err = s.Start()
//	// write-protection fault handler (error code W=1 and P=1 on amd64,
//	// permission fault on a write on arm64):
//	if !s.HandleWriteFault(faultAddr) { /* a genuine fault */ }
//	// idle task:
//	for done, _ := s.DrainStep(64); !done; done, _ = s.DrainStep(64) {}
//	st := s.Stats() // EntriesTouched, EagerPages, Faults, FaultCopies, DrainedPages, ...
//
// Requirements on the kernel: every CPU write to captured RAM goes through
// Tables (identity mapped); on amd64 CR0.WP=1 so that supervisor writes
// honour R/W (SDM 4.6.1); on arm64 TCR_EL1.HPD=0 (APTable honoured) and no
// Contiguous bit in captured mappings; page tables and the pool are in the
// eager set or outside captured RAM; the storage is outside captured RAM
// and not in the eager set. Pages the kernel maps read-only stay read-only:
// the mmu marks what it protects with a software bit and only releases
// those.
package snapshot
