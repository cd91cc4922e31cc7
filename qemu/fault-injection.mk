# Fault-injection scripts: `make fault-injection` runs every script in
# FAULT_SCRIPTS (default qemu/scripts) with the pagesnap-qemu runner and
# prints a pass/fail report per script. Scripts that need the real kernel
# are skipped, with the reason, while PAGESNAP_KERNEL_AMD64 /
# PAGESNAP_KERNEL_ARM64 are unset; FAULT_FLAGS=-require-kernel makes that a
# failure. Included by the top-level Makefile (or: make -f qemu/fault-injection.mk).
GO ?= go
FAULT_SCRIPTS ?= qemu/scripts
FAULT_FLAGS ?=

.PHONY: fault-injection
fault-injection:
	$(GO) run ./qemu/cmd/pagesnap-qemu run $(FAULT_FLAGS) $(FAULT_SCRIPTS)
