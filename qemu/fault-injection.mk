# Fault-injection scripts: `make fault-injection` runs every script in
# FAULT_SCRIPTS (default qemu/scripts) with the pagesnap-qemu runner and
# prints a pass/fail report per script and "N passed, N failed, N skipped".
# Real-kernel scripts use $PAGESNAP_KERNEL_AMD64 and $PAGESNAP_KERNEL_ARM64,
# by default the kernels `make kernel` builds (RAM=256M); they are skipped,
# with the reason, when that file does not exist. FAULT_FLAGS=-require-kernel
# makes a skip a failure (always under CI=true); FAULT_FLAGS=-v copies the
# guest consoles into the report.
# Included by the top-level Makefile (or: make -f qemu/fault-injection.mk).
GO ?= go
FAULT_SCRIPTS ?= qemu/scripts
FAULT_FLAGS ?=
FAULT_KERNEL_AMD64 ?= $(abspath build/pagesnap-amd64-256M.elf)
FAULT_KERNEL_ARM64 ?= $(abspath build/pagesnap-arm64-256M.elf)
ifeq ($(CI),true)
FAULT_FLAGS += -require-kernel
endif

.PHONY: fault-injection
fault-injection:
	PAGESNAP_KERNEL_AMD64=$${PAGESNAP_KERNEL_AMD64:-$(FAULT_KERNEL_AMD64)} \
	PAGESNAP_KERNEL_ARM64=$${PAGESNAP_KERNEL_ARM64:-$(FAULT_KERNEL_ARM64)} \
		$(GO) run ./qemu/cmd/pagesnap-qemu run $(FAULT_FLAGS) $(FAULT_SCRIPTS)
