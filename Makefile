# Entry points for people and CI. `make run` starts the embedded default; `make test` runs every test.
GO        ?= go
WIRE      := github.com/google/wire/cmd/wire@v0.7.0
PKGS      := ./...

.PHONY: run test test-short generate check-generate lint fuzz bench bench-local bench-compare bench-outbox chaos scale-test load build

run: ## start the service on the embedded default (SQLite, in-process broker, sandbox payments)
	$(GO) run ./cmd/wolfix serve

VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

build: ## bin/wolfix, stamped with VERSION (git describe) and the commit (wolfix --version)
	$(GO) build -buildvcs=auto -ldflags "-X main.version=$(VERSION)" -o bin/wolfix ./cmd/wolfix

test: ## every test, with the race detector; starts a pinned stripe-mock for the Stripe contract tests
	@eval "$$(bash .ci/stripe-mock.sh start)" && trap 'bash .ci/stripe-mock.sh stop' EXIT && \
		$(GO) test -race -count=1 -timeout 45m $(PKGS)
	@$(MAKE) --no-print-directory test-browser

CHROMIUM ?= /usr/bin/chromium
.PHONY: test-browser
test-browser: ## the pages in a real browser: web/e2e (node --test, playwright-core) drives Debian's Chromium; Stripe mode against stripe-mock
	@if [ ! -x "$(CHROMIUM)" ] || ! command -v npm >/dev/null; then \
		if [ "$$CI" = true ]; then echo "test-browser: needs $(CHROMIUM) and npm (apt-get install chromium npm)" >&2; exit 1; fi; \
		echo "!!! test-browser SKIPPED: $(CHROMIUM) or npm is missing (apt-get install chromium npm)"; exit 0; fi; \
	test -d web/e2e/node_modules/playwright-core || (cd web/e2e && npm ci --no-audit --no-fund) && \
	eval "$$(bash .ci/stripe-mock.sh start)" && trap 'bash .ci/stripe-mock.sh stop' EXIT && \
	(cd web/e2e && CHROMIUM_PATH=$(CHROMIUM) npm test)

test-short: ## the fast tests only (no race detector, no stripe-mock)
	$(GO) test -count=1 $(PKGS)

generate: ## regenerate wire_gen.go
	$(GO) run $(WIRE) gen ./cmd/wolfix

check-generate: ## fail when the committed wire_gen.go is stale
	@saved=$$(mktemp) && trap 'rm -f "$$saved"' EXIT && cp cmd/wolfix/wire_gen.go "$$saved" && \
		$(GO) run $(WIRE) gen ./cmd/wolfix >/dev/null && \
		if ! diff -u "$$saved" cmd/wolfix/wire_gen.go; then \
			cp "$$saved" cmd/wolfix/wire_gen.go; \
			echo "cmd/wolfix/wire_gen.go is stale: run make generate and commit it"; exit 1; fi

lint: ## gofmt, go vet, and the architecture rules of .ci/archlint (layers, pure domain, the event contract)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet $(PKGS)
	GO=$(GO) .ci/archlint

FUZZTIME ?= 20s
fuzz: ## every fuzz target for FUZZTIME each (FuzzRoutes drives every route; e.g. make fuzz FUZZTIME=30m, or 1000000x)
	@for pkg in $$($(GO) list ./...); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; done; done

bench: ## every benchmark (the Postgres ones need the local Postgres, like the tests)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

bench-local: ## the benchmarks that need nothing installed (SQLite, in-process)
	$(GO) test -run '^$$' -bench 'SQLite|Decimal' -benchmem ./internal/...

LOAD_FLAGS ?= -mode card-flow -customers 8 -duration 20s
load: ## drive a running wolfix (make run) on loopback; prints req/s, orders/s, errors, latency percentiles
	$(GO) run ./cmd/loadgen $(LOAD_FLAGS)

CHAOS_SECONDS ?= 60
CHAOS_KILLS   ?= 10
SCALE_BUDGET ?= 60s
scale-test: ## 3 API replicas and 2 relays on Postgres + NATS, one of each SIGKILLed mid-load; prints the audit table
	WOLFIX_SCALE_BUDGET=$(SCALE_BUDGET) $(GO) test -count=1 -timeout 20m -run '^TestScaleOut$$' -v ./cmd/wolfix/

chaos: ## fault injection through the real binary on Postgres + NATS: kill -9 under load, a database outage; prints the audits
	WOLFIX_CHAOS_SECONDS=$(CHAOS_SECONDS) WOLFIX_CHAOS_KILLS=$(CHAOS_KILLS) \
		$(GO) test -race -count=1 -timeout 30m -run '^TestChaosE2E' -v ./cmd/wolfix/

BENCH_COMPARE_FLAGS ?= -runs 3 -duration 15s -customers 32
bench-compare: ## the service against the Postgres floor in one run: orders/s, ratio to the floor, latency, confirm→Paid, RSS, CPU/order
	$(GO) run ./cmd/benchcompare $(BENCH_COMPARE_FLAGS)

bench-outbox: ## relay throughput and commit-to-publish lag, Postgres → NATS
	$(GO) test -run '^$$' -bench Relay -benchtime 5000x ./internal/adapters/outbox/
