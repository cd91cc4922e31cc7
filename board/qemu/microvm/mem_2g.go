//go:build ram2g && !ram1g

package microvm

// ramSizeBytes is the runtime's memory with the ram2g build tag: 2 GiB.
const ramSizeBytes = 2 << 30
