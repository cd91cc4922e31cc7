# pagesnap — live, consistent snapshots of physical memory for TamaGo
# kernels. `make help` lists the targets; README.md explains them.

ARCH ?= amd64
ARCHS := amd64 arm64
ifeq ($(filter $(ARCH),$(ARCHS)),)
$(error ARCH=$(ARCH) is not supported: use one of: $(ARCHS))
endif

# RAM: the kernel runtime's memory size, any size the board holds
# (cmd/pagesnap-board checks it against board/layout and writes the
# go build -overlay file that sets it): 256M by default on pagesnap's own
# boards, 1G (tamago's) on tamago's.
# BOARD: empty for pagesnap's own QEMU board of ARCH (qemu-microvm,
# qemu-virt), pagesnap's imx8mpevk (the NXP i.MX 8M Plus EVK), or one of
# tamago's: tamago-microvm firecracker cloud-hypervisor gcp
# (docs/boards.md).
BOARD ?=
ifeq ($(BOARD),)
RAM ?= 256M
KERNEL_NAME = pagesnap-$(ARCH)-$(RAM)
else
KERNEL_NAME = pagesnap-$(BOARD)$(if $(RAM),-$(RAM))
endif
TAMAGO_BOARDS := tamago-microvm firecracker cloud-hypervisor gcp
OWN_BOARDS := imx8mpevk

GO ?= go
BUILD ?= build
# The GOOS=tamago toolchain's GOROOT, written by `make toolchain`
# (TAMAGO=/path/to/go/bin/go uses an existing tamago-go instead).
GOROOT_FILE := $(BUILD)/toolchain.goroot
# (expanded by the shell when a recipe runs, after `make toolchain`)
TGO = "$$(cat $(GOROOT_FILE))/bin/go"

# runtime/goos comes from the tamago library (the toolchain's GOOSPKG overlay).
export GOOSPKG := github.com/usbarmory/tamago
export TAMAGO

LDFLAGS_amd64 := -T 0x10010000 -R 0x1000
LDFLAGS_arm64 := -T 0x40110000 -R 0x1000

KERNEL = $(BUILD)/$(KERNEL_NAME).elf
BOARDTOOL = $(BUILD)/pagesnap-board
SELFTEST = $(BUILD)/selftest-$(ARCH).elf
RUNNER = $(GO) run ./qemu/cmd/pagesnap-live

.PHONY: std-test help deps toolchain boardtool image boards kernel selftest-kernel selftest qemu bench faults test test-host kernels fault-injection back-to-back repeat disk campaign heap-repro mutation clean

help:
	@echo "make qemu            boot, live snapshot under load, verify bit-exact, report (ARCH=$(ARCH) RAM=$(RAM))"
	@echo "make bench           pagesnap vs QEMU's background snapshot vs stop-and-copy, one run (ARCH= RAM=256M|1G|2G) -> docs/bench/"
	@echo "make faults          single-step two write faults through the handler: instructions per function (ARCH= RAM=)"
	@echo "make test            all tests (host packages, self-test boot, snapshot verification in QEMU)"
	@echo "make toolchain       build (or reuse) the GOOS=tamago Go toolchain"
	@echo "make kernel          build $(KERNEL)"
	@echo "make selftest        boot the runtime self-check kernel (ARCH=amd64|arm64)"
	@echo "make fault-injection run the fault-injection scripts in qemu/scripts"
	@echo "make back-to-back    20 snapshots in a row under load, each verified (both arches; make test runs 3)"
	@echo "make repeat          100 snapshots in a row under load: tables merged back, pool and pause stable (make test runs 2)"
	@echo "make disk            snapshots to virtio-blk under load, read back from the disk file, verified (both arches; make test runs all but the amd64 default-buffer run)"
	@echo "make campaign        N seeded random scenarios, each verified (N=10 SEED=time ARCH_SET=both; make test runs 2)"
	@echo "make std-test        the Go distribution's tests of 40+ standard packages on GOOS=tamago in QEMU (ARCH=; STD_PKGS=)"
	@echo "make mutation        mutation testing (gremlins) of snapshot, mmu, dma, qemu/verify"
	@echo "make deps            install QEMU and gdb (Debian packages) if missing"
	@echo "make image BOARD=B   what board B's platform boots (docs/boards.md)"
	@echo "make boards          every tamago board's and the EVK's kernel and image, and the boards' host tests"
	@echo "variables: ARCH=$(ARCHS)  RAM=SIZE (e.g. 768M, 2G)  BOARD=$(TAMAGO_BOARDS) $(OWN_BOARDS)  TAMAGO=/path/to/tamago-go/bin/go"

# QEMU, gdb and gdb-multiarch (the core-file test: gdb debugs the host's
# architecture, gdb-multiarch arm64) and binutils (as, ld: the GCE boot
# sector) from Debian packages; installed when
# missing and we may (root + apt).
deps:
	@missing=; \
	command -v qemu-system-x86_64 >/dev/null || missing="$$missing qemu-system-x86"; \
	command -v qemu-system-aarch64 >/dev/null || missing="$$missing qemu-system-arm"; \
	command -v gdb >/dev/null || missing="$$missing gdb"; \
	command -v gdb-multiarch >/dev/null || missing="$$missing gdb-multiarch"; \
	command -v as >/dev/null && command -v ld >/dev/null || missing="$$missing binutils"; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "deps: installing$$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || \
				{ echo "deps: apt-get install$$missing failed" >&2; exit 1; }; \
		else \
			echo "deps: QEMU or gdb is missing; install the Debian packages:$$missing (as root: apt-get install$$missing)" >&2; exit 1; \
		fi; \
	fi
	@command -v $(GO) >/dev/null || { echo "deps: a host Go toolchain (go1.24+) is needed: https://go.dev/dl or the golang Debian package" >&2; exit 1; }

toolchain:
	@mkdir -p $(BUILD)
	@toolchain/build.sh > $(GOROOT_FILE).tmp && mv $(GOROOT_FILE).tmp $(GOROOT_FILE)
	@echo "toolchain: $$(cat $(GOROOT_FILE))/bin/go ($$($(TGO) version))"

boardtool:
	@mkdir -p $(BUILD)
	@$(GO) build -o $(BOARDTOOL) ./cmd/pagesnap-board

# The RAM size reaches the runtime through a generated mem_size.go
# (go build -overlay); the tool refuses sizes the board cannot hold.
kernel: toolchain boardtool
	@$(BOARDTOOL) env $(if $(BOARD),-board $(BOARD),-arch $(ARCH)) $(if $(RAM),-ram $(RAM)) -o $(BUILD)/$(KERNEL_NAME).overlay.json > $(BUILD)/$(KERNEL_NAME).env || { rm -f $(BUILD)/$(KERNEL_NAME).env; exit 2; }
	@. ./$(BUILD)/$(KERNEL_NAME).env && \
	echo "GOOS=tamago GOARCH=$$GOARCH go build -overlay $$OVERLAY -tags '$$TAGS' -ldflags '$$LDFLAGS' -o $(KERNEL) ./kernel/cmd/pagesnap" && \
	GOOS=tamago GOARCH=$$GOARCH $(TGO) build -overlay "$$OVERLAY" -tags "$$TAGS" -ldflags "$$LDFLAGS" -o $(KERNEL) ./kernel/cmd/pagesnap
	@echo "kernel: $(KERNEL)"

# What the board's platform boots (docs/boards.md), in build/image-BOARD.
image: kernel
	$(BOARDTOOL) image -board $(BOARD) $(if $(RAM),-ram $(RAM)) -kernel $(KERNEL) -o $(BUILD)/image-$(BOARD)$(if $(RAM),-$(RAM))

# Every tamago board's and the EVK's kernel and image, and the boards'
# host tests (memory layouts, eager/DMA sets, image files). Builds only:
# make test runs it.
IMAGE_BOARDS := firecracker cloud-hypervisor tamago-microvm gcp imx8mpevk
boards: toolchain boardtool
	@for b in $(TAMAGO_BOARDS) $(OWN_BOARDS); do $(MAKE) --no-print-directory kernel BOARD=$$b || exit 1; done
	@for b in $(IMAGE_BOARDS); do $(MAKE) --no-print-directory image BOARD=$$b || exit 1; done
	$(CHECKED) $(GO) test -count=1 ./board/layout ./cmd/pagesnap-board

selftest-kernel: toolchain
	GOOS=tamago GOARCH=$(ARCH) $(TGO) build -ldflags "$(LDFLAGS_$(ARCH))" -o $(SELFTEST) ./kernel/cmd/selftest

selftest: deps selftest-kernel
	$(RUNNER) selftest -arch $(ARCH) -kernel $(SELFTEST)

# LIVE_FLAGS: extra pagesnap-live snapshot flags, e.g. "-dma whole -icount".
LIVE_FLAGS ?=
# ARCH=arm64 runs the same job on QEMU virt (the runner reads the arch
# from the kernel ELF).
qemu: deps
	@$(MAKE) --no-print-directory kernel
	$(RUNNER) snapshot -kernel $(KERNEL) -ram $(RAM) $(LIVE_FLAGS)

# pagesnap, QEMU's own background snapshot and stop-and-copy on one guest
# under the never-blocking workload, TCG with -icount (guest-time figures):
# prints the table, writes docs/bench/ARCH-RAM.md and .png (qemu/bench).
# BENCH_FLAGS: e.g. "-share 20" (pagesnap's drain share; default 50 %).
BENCH_FLAGS ?= -share 50
bench: deps
	@$(MAKE) --no-print-directory kernel
	$(GO) run ./qemu/cmd/pagesnap-live bench -kernel $(KERNEL) -ram $(RAM) -icount -out docs/bench $(BENCH_FLAGS)

# make faults: the kernel's write-fault probe, two faults single-stepped
# through the fault handler (gdbstub); instructions per function
# (pagesnap-live faults, qemu/live.ProfileFaults).
faults: deps
	@$(MAKE) --no-print-directory kernel
	$(GO) run ./qemu/cmd/pagesnap-live faults -kernel $(KERNEL) -ram $(RAM) -n 2 -q

kernels: toolchain
	$(MAKE) --no-print-directory selftest-kernel ARCH=amd64
	$(MAKE) --no-print-directory kernel ARCH=amd64 RAM=256M
	$(MAKE) --no-print-directory kernel ARCH=amd64 RAM=1G
	$(MAKE) --no-print-directory kernel ARCH=amd64 RAM=2G
	$(MAKE) --no-print-directory kernel ARCH=arm64 RAM=256M
	$(MAKE) --no-print-directory kernel ARCH=arm64 RAM=1G
	$(MAKE) --no-print-directory kernel ARCH=arm64 RAM=2G
	$(MAKE) --no-print-directory kernel ARCH=amd64 RAM=768M
	$(MAKE) --no-print-directory kernel ARCH=amd64 RAM=2790M
	$(MAKE) --no-print-directory kernel ARCH=arm64 RAM=3056M

# Host packages: every package that builds on the host and has tests. They
# run one package at a time (-p 1): the QEMU tests time guest sleeps, and a
# machine shared with a second test binary makes TCG guests late.
HOST_PKGS = $(shell $(GO) list -e -f '{{if and (not .Error) (or .TestGoFiles .XTestGoFiles)}}{{.ImportPath}}{{end}}' ./...)

# CHECKED runs a go test command line with -json and passes its events
# through internal/cmd/testcheck, which prints the usual report, each skip
# with its reason, and fails if a test failed or a package's every test
# was skipped; the go test status is checked too.
CHECKED = sh -c 'rc=$(BUILD)/.test-rc.$$$$; { "$$@" -json; echo $$? > $$rc; } | $(GO) run ./internal/cmd/testcheck; s=$$?; r=$$(cat $$rc); rm -f $$rc; [ $$s = 0 ] && [ "$$r" = 0 ]' checked

test-host:
	@mkdir -p $(BUILD)
	$(GO) vet $(HOST_PKGS)
	$(CHECKED) $(GO) test $(HOST_PKGS)

# Kernels and the toolchain for the tests that boot QEMU (each test says
# when it skips for lack of one).
TEST_ENV = PAGESNAP_SELFTEST_AMD64=$(abspath $(BUILD)/selftest-amd64.elf) \
	PAGESNAP_KERNEL_AMD64=$(abspath $(BUILD)/pagesnap-amd64-256M.elf) \
	PAGESNAP_KERNEL_AMD64_256M=$(abspath $(BUILD)/pagesnap-amd64-256M.elf) \
	PAGESNAP_KERNEL_AMD64_1G=$(abspath $(BUILD)/pagesnap-amd64-1G.elf) \
	PAGESNAP_KERNEL_AMD64_2G=$(abspath $(BUILD)/pagesnap-amd64-2G.elf) \
	PAGESNAP_KERNEL_ARM64=$(abspath $(BUILD)/pagesnap-arm64-256M.elf) \
	PAGESNAP_KERNEL_ARM64_1G=$(abspath $(BUILD)/pagesnap-arm64-1G.elf) \
	PAGESNAP_KERNEL_ARM64_2G=$(abspath $(BUILD)/pagesnap-arm64-2G.elf) \
	PAGESNAP_KERNEL_AMD64_768M=$(abspath $(BUILD)/pagesnap-amd64-768M.elf) \
	PAGESNAP_KERNEL_AMD64_2790M=$(abspath $(BUILD)/pagesnap-amd64-2790M.elf) \
	PAGESNAP_KERNEL_ARM64_3056M=$(abspath $(BUILD)/pagesnap-arm64-3056M.elf) \
	TAMAGO_GO=$(TGO)

# The engine's concurrency tests also run under the race detector.
RACE_PKGS := ./snapshot/... ./mmu/... ./dma/...

test: deps kernels boards
	$(GO) vet $(HOST_PKGS)
	$(CHECKED) $(GO) test -race -timeout 20m $(RACE_PKGS)
	$(TEST_ENV) $(CHECKED) $(GO) test -p 1 -timeout 80m -skip 'TestDiskAMD64$$' $(HOST_PKGS)

# Snapshots streamed to a virtio-blk disk under the never-blocking workload
# (default buffer on each arch; full buffer and throttled disk on amd64),
# in disk-only guests, each read back from the disk file and verified
# against its reference; a disk image kept across a reboot (arm64).
# make test skips the amd64 default-buffer run (TestDiskBufferFull covers amd64).
disk: deps
	@$(MAKE) --no-print-directory kernel ARCH=amd64 RAM=256M
	@$(MAKE) --no-print-directory kernel ARCH=arm64 RAM=256M
	$(TEST_ENV) $(GO) test -v -timeout 40m -run 'TestDisk' ./qemu/live

# 20 back-to-back snapshots under the never-blocking workload on each arch,
# each verified against its own reference (make test runs 3 per arch).
back-to-back: deps
	@$(MAKE) --no-print-directory kernel ARCH=amd64 RAM=256M
	@$(MAKE) --no-print-directory kernel ARCH=arm64 RAM=256M
	$(TEST_ENV) PAGESNAP_BACK_TO_BACK=20 $(GO) test -v -timeout 240m -run 'TestBackToBack' ./qemu/live

# 100 snapshots in a row under the never-blocking workload (amd64 256M,
# -icount): split tables joined back after each, the table pool back to its
# boot count, the pause not growing (make test runs 2; about 35 s each).
repeat: deps
	@$(MAKE) --no-print-directory kernel ARCH=amd64 RAM=256M
	$(TEST_ENV) PAGESNAP_REPEAT=100 $(GO) test -v -timeout 240m -run 'TestRepeatedSnapshots' ./qemu/live

# A seeded campaign of random scenarios on the 256M kernels (qemu/campaign):
# run i uses seed SEED+i, even seeds on amd64 and odd on arm64 (ARCH_SET
# both), each snapshot verified against its own reference; a failing run's
# replay script is saved in build/. Ends with "N passed, N failed".
N ?= 10
SEED ?= $(shell date +%s)
ARCH_SET ?= both
campaign: deps
	@$(MAKE) --no-print-directory kernel ARCH=amd64 RAM=256M
	@$(MAKE) --no-print-directory kernel ARCH=arm64 RAM=256M
	$(TEST_ENV) $(GO) run ./qemu/cmd/pagesnap-campaign -n $(N) -seed $(SEED) -arch $(ARCH_SET) -out $(BUILD)

# The fixed arm64 heap corruption (README, "The arm64 R27 bug"): replays
# campaign seed 1796611263's first two snapshots 3 times
# (TestDMAGuardHeapARM64, also in make test).
heap-repro: deps
	@$(MAKE) --no-print-directory kernel ARCH=arm64 RAM=256M
	$(TEST_ENV) $(GO) test -v -count=1 -timeout 30m -run 'TestDMAGuardHeapARM64' ./qemu/campaign

# Mutation testing of the engine packages with gremlins (installed here if
# missing), one package at a time (CPU-heavy: each mutant runs the
# package's tests, in their reduced PAGESNAP_QUICK form). Fails if a
# package's efficacy, killed / (killed + lived), is under 90 % or no
# mutant was tested: internal/cmd/mutgate reads each package's JSON report
# and names the package, the figure and the survivors (gremlins v0.6.0's
# own --threshold-efficacy never fires: its float flag reaches the check
# as 0). The survivors are explained in MUTANTS.md beside each package's
# tests.
# (gremlins' --test-cpu is not used: v0.6.0 passes "-cpu N" as one
# argument and every run fails, so every mutant would read "killed".)
# A mutant's test run (build included) may take the coverage run's time
# times a coefficient before it counts as timed out, which gremlins leaves
# out of the efficacy: 10 for the small packages (their coverage run is
# seconds, mostly the build), 2 for snapshot (its coverage run is minutes).
GREMLINS_VERSION := v0.6.0
GREMLINS = $$(command -v gremlins || echo "$$($(GO) env GOPATH)/bin/gremlins")
MUTATION_PKGS ?= snapshot mmu dma qemu/verify
# MUTATION_EXCLUDE: a regexp of more files to leave out (a part of a large
# package), e.g. '(^|/)(disk|format|layout|owned|prepare)\.go$'.
MUTATION_EXCLUDE ?=

mutation:
	@command -v gremlins >/dev/null || test -x "$$($(GO) env GOPATH)/bin/gremlins" || \
		$(GO) install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)
	@mkdir -p $(BUILD)
	@$(GO) build -o $(BUILD)/mutgate ./internal/cmd/mutgate
	@fail=; for p in $(MUTATION_PKGS); do \
		echo "mutation: $$p"; \
		case $$p in snapshot) c=2;; *) c=10;; esac; \
		j=$(BUILD)/mutation-$$(echo $$p | tr / -).json; rm -f $$j; \
		GOFLAGS="-count=1 -failfast" PAGESNAP_QUICK=1 $(GREMLINS) unleash ./$$p --workers 1 --timeout-coefficient $$c \
			--exclude-files '^(snapshot/)?(sim|cmd)/' --exclude-files '(^|/)mk[a-z0-9]*\.go$$' $(if $(MUTATION_EXCLUDE),--exclude-files '$(MUTATION_EXCLUDE)') \
			-S lt -o $$j || { echo "mutation: $$p: FAIL: gremlins exited $$?" >&2; fail="$$fail $$p"; continue; }; \
		$(BUILD)/mutgate -pkg $$p -min 90 $$j || fail="$$fail $$p"; \
	done; \
	if [ -n "$$fail" ]; then echo "mutation: FAIL (efficacy under 90 % or run failed):$$fail" >&2; exit 1; fi

# The Go distribution's own tests of standard packages on GOOS=tamago
# (qemu/stdtest): each built with go test -c and the board linked in, its
# testdata/ loaded into the in-memory file system, booted in QEMU with
# -test.short. One line per package, then "N passed, N failed".
# STD_PKGS: packages to run instead of the list, PKG or PKG@RAM (e.g.
# "regexp@1G strings").
STD_PKGS ?=
std-test: deps toolchain
	@mkdir -p $(BUILD)/std-test
	$(GO) run ./qemu/cmd/pagesnap-stdtest -arch $(ARCH) -go $(TGO) -dir $(abspath $(BUILD)/std-test) $(STD_PKGS)

include qemu/fault-injection.mk

clean:
	rm -rf $(BUILD)
