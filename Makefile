# kelviq-go tasks. `make test` is the test command (README, .ci/run).
GO          ?= go
ACTIONLINT  ?= github.com/rhysd/actionlint/cmd/actionlint@v1.7.12
BENCHTIME   ?= 1s
COUNT       ?= 5

.PHONY: all generate check-generated check-history test test-short lint vet fmt-check actionlint bench demo drift drift-live-test fuzz

all: lint test

## generate: regenerate package api from openapi.json (oapi-codegen + operation table)
generate:
	$(GO) generate ./...

## check-generated: fail when regenerating changes any committed file
check-generated: generate
	@status=$$(git status --porcelain --untracked-files=all -- api kelviq internal/bench/stockapi API.md); \
	if [ -n "$$status" ]; then \
		echo "generated code is out of date; run 'make generate' and commit:"; \
		echo "$$status"; git --no-pager diff --stat -- api kelviq internal/bench/stockapi API.md; exit 1; \
	fi
	@echo "generated code is up to date"

## check-history: the current spec and both earlier versions generate and compile
check-history:
	$(GO) test -run 'TestEverySpecVersionGeneratesAndCompiles' -count=1 .

## test: every test, with the race detector (offline; live tests are opt-in)
test:
	$(GO) test -race -count=1 ./...

## test-short: the quick subset (skips regeneration and go list checks)
test-short:
	$(GO) test -short ./...

## lint: go vet, gofmt and actionlint
lint: vet fmt-check actionlint

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

actionlint:
	$(GO) run $(ACTIONLINT) .github/workflows/*.yml

## bench: the benchmarks, with ratios against baselines measured in the same run
bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime=$(BENCHTIME) -count=$(COUNT) ./... | tee bench.out
	@$(GO) run ./internal/cmd/benchtable < bench.out

## demo: the quickstart against the in-process fake (no network, no keys)
demo:
	$(GO) run ./examples/quickstart

## drift: compare the vendored spec with the live docs (network). Exit 0 no drift,
## 1 drift, 2 could not check. DRIFT_FLAGS adds flags, e.g.
## DRIFT_FLAGS='--format markdown --include-docs' or DRIFT_FLAGS='--against new.json'
## (--against replaces --docs: use DRIFT_DOCS= with it). DRIFT_FLAGS=--go-api adds
## the Go API diff of the regenerated client (docs/spec-drift.md).
DRIFT_DOCS  ?= https://docs.kelviq.com
DRIFT_FLAGS ?=
drift:
	$(GO) run ./cmd/kelviq-specdrift --spec openapi.json $(if $(DRIFT_DOCS),--docs $(DRIFT_DOCS)) $(DRIFT_FLAGS)

## drift-live-test: the opt-in live test of the drift checker against the real docs
drift-live-test:
	KELVIQ_LIVE_DOCS=1 $(GO) test -run TestLiveDocs -count=1 -v ./internal/specdrift/

## fuzz: run every fuzz target for FUZZTIME each
FUZZTIME ?= 30s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done
