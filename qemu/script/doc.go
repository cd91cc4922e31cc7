// Package script parses and runs pagesnap fault-injection scripts: YAML
// files (gopkg.in/yaml.v3, unknown keys rejected with their line) that
// name the machine, the kernel and workload, a list of steps and the
// expected outcome.
//
// # Format
//
//	name: DMA bursts during the drain       # free text (default: file name)
//	board: microvm                          # QEMU machine (default microvm / virt)
//	arch: amd64                             # amd64 | arm64            (required)
//	memory: 1G                              # RAM: 512M, 1G, or MiB    (default 128M)
//	kernel: ${PAGESNAP_KERNEL_AMD64}        # ELF path, $VARs expanded, relative to the
//	                                        # script; "testguest" = built-in tiny guest
//	append: "console=ttyS0"                 # kernel command line
//	workload: gc-churn                      # appended to the command line as workload=NAME
//	devices: ["virtio-rng-device"]          # extra -device arguments
//	qemu_args: ["-global", "virtio-mmio.force-legacy=false"]  # extra QEMU arguments
//	accel: tcg                              # tcg | kvm
//	icount: false                           # -icount shift=0,sleep=off
//	keep_memory: false                      # RAM in /dev/shm: storage readable after kill
//	pause_on_fault: false                   # triple fault/reset pauses the VM for a report
//	instant: github.com/pagesnap/pagesnap/kernel.snapshotInstant
//	storage: {addr: 0x30000000}             # or {line: "^snap: storage (0x[0-9a-f]+)"}
//	regions:                                # owners for mismatch reports
//	  - {name: rings, kind: dma, base: 0x20000000, size: 16M}   # heap|stack|dma|storage|other
//	timeout: 10m                            # whole run (default 5m)
//	steps: [...]
//	expect: verified                        # verified | ok | error NAME
//
// Addresses are numbers (0x…) or kernel symbols with an optional +offset;
// sizes take K, M, G suffixes; durations are Go durations (500ms, 2m).
//
// Steps (one action each):
//
//	steps:
//	  - expect: "REGEXP"                      # wait for a console line (30s)
//	  - expect: {re: "REGEXP", timeout: 2m}
//	  - send: "snap start"                    # type a console line
//	  - snapshot: {command: snap start, timeout: 1m, fail: "error: "}
//	      # break at the instant symbol, type command ("-": none), wait for the
//	      # stop, save the reference image of all RAM (pmemsave), resume;
//	      # a console line matching fail first ends the step (error refused)
//	  - write: {addr: SYM+0x10, u32: 42}      # or u64: / bytes: "de ad": vCPUs stopped
//	  - dma: {addr: A, len: 64K, pattern: "d00d", repeat: 20, gap: 5ms, mode: concurrent}
//	      # bus-master write: physical, bypasses the MMU and write protection;
//	      # concurrent (default with keep_memory): while the vCPUs run, through
//	      # the shared RAM file; stopped (default otherwise): via the gdbstub
//	  - irq_storm: {kind: serial, count: 4096}   # or kind: nmi (QMP inject-nmi)
//	  - pause: 200ms                          # stop every vCPU, wait, resume
//	  - sleep: 1s                             # host wait, guest keeps running
//	  - kill: {}                              # SIGKILL QEMU
//	  - reset: {}                             # QMP system_reset
//	  - corrupt: {page: A, offset: 0, xor: 0xff}  # flip bits of the page's copy in storage
//	  - verify: {}                            # read storage, check manifest, compare pages
//	  - exit: {code: 42, timeout: 20s}        # wait for QEMU to exit (isa-debug-exit code)
//
// Outcomes: "verified" (every step passed and a verify step matched the
// reference bit for bit), "ok" (every step passed), or "error NAME" where
// NAME is one of mismatch, hash-mismatch, root-mismatch, incomplete,
// bad-magic, not-captured, timeout, exited, killed, guest-fault, refused: the run
// must fail with an error of that kind. A script whose kernel image is
// absent (variable unset, file missing) is skipped with that reason, never
// passed.
package script
