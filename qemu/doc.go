// Package qemu launches and controls QEMU for pagesnap's host-side checks,
// so that every claim about a snapshot is checked from outside the guest.
//
// Start boots a kernel for an architecture and board (amd64 microvm,
// arm64 virt, …) under TCG (or KVM), with a memory size and devices. The
// first serial port is streamed into VM.Console, whose Expect waits for a
// matching line with a timeout; VM.Send types a console command. QEMU runs
// in its own process group with SIGKILL as parent-death signal; Kill,
// Wait's timeout and the cancellation of Start's context kill it and reap
// it, so a failed or timed-out test leaves no QEMU behind. A missing QEMU
// binary is ErrNoQEMU at once, never a hang; QEMU's own errors (a bad
// kernel image) surface as ErrExited with its standard error quoted.
//
// Control:
//
//   - VM.QMP: the QEMU Machine Protocol through
//     github.com/digitalocean/go-qemu's qmp.SocketMonitor and its
//     generated qmp/raw commands (stop, cont, pmemsave, system_reset,
//     inject-nmi, quit, human-monitor-command), each wrapped with a timeout
//     because go-qemu blocks forever on a silent QEMU.
//     github.com/hugelgupf/vmtest is not used: it launches QEMU and matches
//     the console but offers neither QMP nor a gdbstub client, and its
//     process handling cannot give the exit-status and kill guarantees
//     above.
//   - VM.GDB: the GDB remote protocol of QEMU's gdbstub (package
//     qemu/gdb): breakpoints and watchpoints, run to a symbol's address
//     (the snapshot instant), read and write registers and memory
//     (virtual or physical), single-step, resume.
//   - VM.SaveRAM / VM.ReadPhys: physical memory through QMP pmemsave;
//     Config.MemPath backs RAM with a shared file that stays readable
//     after QEMU exits.
//   - VM.Fault: registers and the decoded instruction at the PC (package
//     qemu/disasm over golang.org/x/arch) for every report involving a
//     guest fault; Config.PauseOnReset keeps a triple-faulted vCPU
//     readable.
//
// Package qemu/verify compares a snapshot image with a reference image
// page by page; package qemu/script runs fault-injection scripts; command
// qemu/cmd/pagesnap-qemu puts both on the command line. See README.md.
//
// Under TCG, wall-clock time measures the emulator, not the guest: report
// counts, ratios from one run, or guest time with Config.ICount.
package qemu
