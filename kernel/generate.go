package kernel

// The arm64 fault frame (fault_arm64.h, from abortFrame) is generated;
// TestGeneratedUpToDate checks that it is current. The directive lives in
// this untagged file so that go generate ./kernel runs it on the host.

//go:generate go run gen_fault_arm64.go
