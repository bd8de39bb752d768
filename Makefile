# Mini-Kart. `make run` serves the API on http://127.0.0.1:8080 (starting a
# PostgreSQL of its own unless DATABASE_URL is set, installing the server with
# apt when root and it is missing); `make test` runs every
# unit and integration test with the race detector.

GO       ?= go
PKGS     := ./...
SCALE    ?= 0.1
PROFILE  ?= real

.PHONY: run build test test-unit test-integration test-faults test-e2e bench-promo bench-scale lint fmt vet db-start db-stop migrate clean loadtest bench-tracing soak cluster cluster-stop cluster-status test-cluster

# The binary that ships (make build, the Dockerfile, make run) links ISA-L's
# in-process gzip decoder (cgo, build tag isal) whenever its headers are
# installed (Debian libisal-dev), and is pure Go otherwise; either way the
# coupon engine falls back at run time to igzip or compress/gzip.
BUILD_TAGS  ?= $(shell test -f /usr/include/isa-l/igzip_lib.h && command -v $${CC:-cc} >/dev/null 2>&1 && echo isal)
BUILD_FLAGS := -trimpath -ldflags='-s -w' -tags '$(BUILD_TAGS)'
BIN         ?= bin/minikart

build: ## compile the server to bin/minikart (BIN=path to put it elsewhere)
	$(GO) build $(BUILD_FLAGS) -o $(BIN) .

# make run builds bin/minikart and execs it: the server takes the shell's
# place, so the SIGTERM make passes on to its recipe (and Ctrl-C's SIGINT)
# reaches the server itself, which drains and exits; nothing is left behind.
run: ## serve in development mode (local PostgreSQL unless DATABASE_URL is set); Ctrl-C or SIGTERM to make stops it
	@echo "compiling $(BIN) (the first time takes a few minutes)"
	@$(MAKE) --no-print-directory -s build
	@url=$${DATABASE_URL:-}; \
	if [ -z "$$url" ]; then url=$$($(GO) run ./test/devdb start) || exit 1; echo "using local PostgreSQL: $$url"; fi; \
	exec env DATABASE_URL="$$url" MINIKART_ENV=$${MINIKART_ENV:-development} $(BIN) serve

db-start: ## start the checkout's own PostgreSQL (go run ./test/devdb dir says where; port 55432 unless taken) and record its URL in .devdb/url, where the commands find it
	$(GO) run ./test/devdb start

db-stop: ## stop the checkout's own PostgreSQL
	$(GO) run ./test/devdb stop

migrate: ## apply migrations (DATABASE_URL or the local cluster)
	@url=$${DATABASE_URL:-$$($(GO) run ./test/devdb start)}; DATABASE_URL="$$url" $(GO) run . migrate up

test: vet ## unit + integration tests, race detector on
	$(GO) test -race -count=1 -timeout 20m -tags '$(BUILD_TAGS)' $(PKGS)

# Unit packages: everything but minikart/test and below (the integration,
# fault, browser and load suites, which start PostgreSQL or a server).
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -E '^minikart/test(/|$$)')

test-unit: ## quick loop: unit tests only (no PostgreSQL, no server)
	$(GO) test -race -count=1 -tags '$(BUILD_TAGS)' $(UNIT_PKGS)

test-integration: ## integration tests only (real PostgreSQL, real HTTP)
	$(GO) test -race -count=1 -tags '$(BUILD_TAGS)' ./test/...

test-faults: ## fault tests under load: SIGTERM, kill -9, PostgreSQL restart and failover, bad start-up, two instances
	$(GO) test -tags faults -race -count=1 -timeout 15m ./test/faults/...

test-e2e: ## browser test: /docs rendered in headless Chromium (apt-get install chromium)
	$(GO) test -tags e2e -count=1 ./test/e2e/...

cluster: ## the production topology on loopback, ports 18800-18899 (as root: apt-get install -y patroni etcd-server haproxy nginx prometheus): etcd x3, PostgreSQL x3 under Patroni, HAProxy, minikart x3, nginx, Prometheus; prints where each listens
	$(GO) run ./test/cluster up

cluster-stop: ## stop everything make cluster started (its data stays; go run ./test/cluster dir says where)
	$(GO) run ./test/cluster down

cluster-status: ## what the cluster runs, where, and each PostgreSQL node's role
	$(GO) run ./test/cluster status

test-cluster: ## chaos under load on its own cluster (about 4 minutes; packages as for make cluster): kills the PostgreSQL primary twice, an instance, HAProxy, stops an etcd member, cuts the primary off from etcd while orders flow through nginx; the database judges; prints the figures (CLUSTER_DB_ROUTE=multihost: the instances use a multi-host URL instead of HAProxy)
	$(GO) test -tags cluster -count=1 -timeout 20m -v -run TestChaos ./test/cluster/

loadtest: ## bounded load test on 127.0.0.1 against anchors (DURATION per step, default 10s; LOADTEST_PROFILE=1 saves CPU and allocation profiles; LOADTEST_FLAGS=-postgres=stock for PostgreSQL's default settings, -postgres-fresh-wal for a cluster with no WAL segments ready for reuse; LOADTEST_SERVER_ENV='GOGC=400' sets the server's environment alone); writes loadtest-report.json, .svg and -postgres.log
	$(GO) run ./test/load $(LOADTEST_FLAGS)

bench-tracing: ## what tracing costs (DURATION per variant and scenario, default 10s): three servers on one PostgreSQL, tracing off, on at 100 % and at 1 % sampling, exporting over OTLP/HTTP to a sink in the load tool; checkout and browse at saturation, taking turns; prints each one's throughput, server CPU and p99 against off; writes loadtest-report-tracing.json
	$(GO) run ./test/load -tracing $(LOADTEST_FLAGS)

soak: ## soak test, not in CI (DURATION, default 10m): mixed load at half the saturated rate, fails if RSS, goroutines, FDs, pool or tables grow without bound
	$(GO) run ./test/load -soak -duration $(or $(DURATION),10m)

bench-promo: ## coupon engine benchmark on generated data (SCALE=0.1 PROFILE=real|dense RUNS=3): ratios to the decode floor, cores busy, phase timeline; data in data/generated/
	SCALE=$(SCALE) PROFILE=$(PROFILE) test/bench/bench-promo.sh

ORDERS   ?= 10000000
PRODUCTS ?= 100000
KEYS     ?= 1000000

bench-scale: build ## costs as the data grows (ORDERS=10000000 PRODUCTS=100000 KEYS=1000000, DURATION per pair of steps, default 10s; about 9 minutes at the defaults): fills a throwaway PostgreSQL (on disk under TMPDIR, removed after) and runs bin/minikart on it and on an empty database alternately; prints name: value lines and the plans of the statements that could grow
	$(GO) run ./test/load -scale -bin $(BIN) -orders $(ORDERS) -products $(PRODUCTS) -keys $(KEYS)

vet: ## go vet and gofmt check
	$(GO) vet -tags '$(BUILD_TAGS)' $(PKGS)
	$(GO) vet -tags e2e ./test/e2e/...
	$(GO) vet -tags faults ./test/faults/...
	$(GO) vet -tags cluster ./test/cluster/...
	$(GO) vet -tags purego ./modules/promo/internal/couponset/...
	@files=$$(git ls-files '*.go' 2>/dev/null); [ -n "$$files" ] || files=$$(find . -name '*.go' -not -path './.devdb/*'); \
	out=$$(gofmt -l $$files); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

fmt:
	find . -name '*.go' -not -path './.devdb/*' | xargs gofmt -w

clean:
	rm -rf bin/ coverage.out
