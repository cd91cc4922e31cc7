//go:build ram1g

package microvm

// ramSizeBytes is the runtime's memory with the ram1g build tag: 1 GiB.
const ramSizeBytes = 1 << 30
