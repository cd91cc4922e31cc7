package kernel

// The arm64 fault frame (fault_arm64.h, from abortFrame) and the register
// probe (probe_arm64.s) are generated; TestGeneratedUpToDate checks that
// they are current. The directives live in this untagged file so that
// go generate ./kernel runs them on the host.

//go:generate go run gen_fault_arm64.go
//go:generate go run gen_probe_arm64.go
