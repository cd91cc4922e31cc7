//go:build !ram1g && !ram2g

package microvm

// ramSizeBytes is the runtime's memory with no ram* build tag: 256 MiB.
const ramSizeBytes = 256 << 20
