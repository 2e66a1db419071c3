# imgbuild developer commands. `make demo` runs a full build on the local
# cloud; `make test` runs every test (race detector on).

GO       ?= go
BIN      ?= bin/imgbuild
PKGS     ?= ./...
TESTFLAGS ?= -race -count=1 -parallel 4 -timeout 30m

CHECKFLAGS ?= -short -count=1 -timeout 5m

.PHONY: all build test check lint generate check-generate demo bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/imgbuild

# test first makes the local cloud's guest base system if it is not cached
# (debootstrap, a few minutes the first time; needs root), then runs the
# tests; tests that need guests report a missing root or debootstrap.
test: build
	@$(BIN) localcloud --prepare || echo "the local cloud's guests cannot run here; tests that need them will skip or fail"
	$(GO) test $(TESTFLAGS) $(PKGS)

# check is the fast subset for the edit loop: vet and every test that needs
# no local cloud, sshd or moto (those skip under -short).
check:
	$(GO) vet $(PKGS)
	$(GO) test $(CHECKFLAGS) $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	$(GO) tool staticcheck $(PKGS)

generate:
	$(GO) generate ./hcl2spec

# check-generate fails when the generated specs are stale.
check-generate:
	$(GO) test -count=1 -run TestGeneratedFresh ./hcl2spec

# demo installs debootstrap if it is missing, starts the local cloud
# (realistic profile; the first time it makes the guests' base system),
# builds examples/demo.pkr.hcl on it, launches an instance of the finished
# image in eu-west-1 and prints what it finds there, prints the manifest,
# and stops the cloud.
demo: build
	@command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
	@mkdir -p bin/demo && rm -f bin/demo/manifest.json
	$(GO) build -o bin/demo/inspect ./examples/demo/inspect
	IMGBUILD_STATE_DIR=$(CURDIR)/bin/demo/state $(BIN) localcloud --profile realistic -- sh -c '\
		$(BIN) build -var manifest_path=$(CURDIR)/bin/demo/manifest.json examples/demo.pkr.hcl && \
		echo && bin/demo/inspect $(CURDIR)/bin/demo/manifest.json eu-west-1'
	@echo; echo "Manifest (bin/demo/manifest.json):"; cat bin/demo/manifest.json

# bench prints a table of whole builds on the local cloud (set
# IMGBUILD_BENCH_LARGE=1 to add 100-build runs), the bundler against the
# classic ec2-bundle-image pipeline on a 2 GiB image, then micro-benchmarks.
bench:
	$(GO) test -run '^$$' -bench 'BenchmarkBuild|BenchmarkNightlyNoop' -benchtime 1x -timeout 60m ./cmd/imgbuild/
	$(GO) test -run '^$$' -bench BenchmarkBundle -benchtime 1x -timeout 30m ./internal/bundle/
	$(GO) test -run '^$$' -bench . -benchmem ./internal/journal/ ./internal/template/

clean:
	rm -rf bin
