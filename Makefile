# ros — make targets. `make deps` installs host tools (Debian), `make demo`
# builds and boots the default OS, `make test` runs the whole suite.
SHELL   := /bin/bash
GO      ?= go
ROS     := bin/ros
OUT     ?= out
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/ros-os/ros/os/cli.Version=$(VERSION)
SUDO    := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Every host tool the build and the tests use, as Debian packages.
DEPS := mmdebstrap squashfs-tools kmod cpio xz-utils zstd \
	qemu-system-x86 qemu-utils ovmf \
	grub-common grub-efi-amd64-bin grub-pc-bin xorriso mtools dosfstools gdisk e2fsprogs \
	openssh-client openssh-server containerd runc busybox-static socat dpkg-dev libcap2-bin \
	libdqlite-dev libraft-dev libsqlite3-dev libuv1-dev liblz4-dev gcc libc6-dev \
	golang-github-canonical-go-dqlite-dev ca-certificates git minisign

# go-dqlite (the state store) comes from Debian (see the replace in go.mod)
# and links the system SQLite: libsqlite3 keeps mattn/go-sqlite3 from
# compiling a second, bundled copy.
export GOFLAGS := -tags=libsqlite3

.PHONY: all deps build bin test test-race test-static test-short bench demo run lint fuzz soak fmt clean schema

all: build

deps:
	@missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

bin: $(ROS)

$(ROS): FORCE
	@mkdir -p bin
	$(GO) build -ldflags '$(LDFLAGS)' -o $@ ./os/cmd/ros

FORCE:

build: bin
	$(ROS) build --dir $(OUT) --name ros yml/ros.yml
	$(ROS) build --dir $(OUT) --name ros-docker yml/ros.yml yml/docker.yml

# The whole suite: unit tests, integration tests against Debian's containerd,
# image builds and QEMU boots (root is needed for some; CI runs as root).
test: lint
	$(GO) test -count=1 -timeout 80m ./...
	$(MAKE) test-race test-static

# The packages that run goroutines against each other, under the race
# detector: the daemon (with its containerd integration tests), the
# supervisor, the API server, the upgrade engine, and the QEMU harness
# (its unit tests; its boots ran above).
test-race:
	$(GO) test -race -count=1 -timeout 20m ./os/rosd/... ./pkg/supervisor/... ./pkg/api/... ./upgrade/...
	$(GO) test -race -short -count=1 ./pkg/qemu/...

# The state store linked as the machine links it (pkg/recipe `static:
# true`): static, with the linker's wrap of raft_uv_init (pkg/state).
test-static:
	$(GO) test -count=1 -tags 'libsqlite3 netgo osusergo rosstatic' \
		-ldflags '-linkmode=external -extldflags=-static' ./pkg/state

# Unit tests only: no image builds, no QEMU, no root.
test-short:
	$(GO) test -short ./...

# Regenerate the editor schema of the build format from its Go types.
schema:
	$(GO) run ./tools/schemagen

# Speed and size goals: build times, image sizes, boot times and memory.
bench: bin
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 90m ./...

# Build the default OS, boot it in QEMU, show it working, power it off.
demo: deps bin
	$(GO) run ./tools/demo

# Boot an image interactively: make run IMAGE=out/ros.iso
run: bin
	$(ROS) run $(or $(IMAGE),$(OUT)/ros.iso)

# Static analysis: gofmt, go vet, staticcheck and golangci-lint v2
# (.golangci.yml) for the host and the device (-tags rosdevice) builds,
# plus a check that the device build links no host-side build code.
# The linters are pinned in tools/lint/go.mod and built into
# $ROS_CACHE/lint (~/.cache/ros/lint) on first use.
lint:
	GO=$(GO) tools/lint/run

# Fuzz every target for FUZZTIME each, one after another, and print execs
# and new corpus entries (make test runs each target's seed corpus and
# testdata/fuzz as ordinary tests).
FUZZTIME ?= 2m
fuzz:
	$(GO) run ./tools/fuzz -time $(FUZZTIME)

# Soak the upgrade path: SOAK_CYCLES cycles (default 20) of upgrade, trial
# boot, health and rollback on one QEMU machine, with power cuts injected at
# random (SOAK_SEED replays a run). Not part of make test: about 4 minutes a
# cycle under TCG.
SOAK_CYCLES ?= 20
soak:
	ROS_SOAK_CYCLES=$(SOAK_CYCLES) $(if $(SOAK_SEED),ROS_SOAK_SEED=$(SOAK_SEED)) \
		$(GO) test -count=1 -timeout 0 -run '^TestSoak$$' -v ./tests/e2e

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin $(OUT)
