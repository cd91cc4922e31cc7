// Package transport is the virtio-mmio transport and split-queue set-up
// package virtio builds on: on amd64 tamago's kvm/virtio itself (type and
// constant aliases), on arm64 a port of the part package virtio uses,
// because tamago's kvm/virtio also holds PCI code that builds for amd64
// only. Both offer the same names: MMIO (Init, NegotiatedFeatures,
// QueueReady, MaxQueueSize, SetQueueSize, Status, SetQueue, SetReady,
// QueueNotify), VirtualQueue (Init, Address, Destroy, Descriptors), the
// MMIO register offsets and the device status bits.
package transport
