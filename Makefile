# campaignpulse: one Makefile for the whole repository.
# `make run` and `make test` are the whole set-up on a fresh machine: they fetch
# Go modules (and, where needed, npm packages and the Kafka jars) themselves.

SHELL := /bin/bash
GO ?= go
BIN := bin/campaignpulse
PLUGIN_ID := campaignpulse-metrics-datasource
PLUGIN_DIST := grafana-plugin/dist
# Grafana runs <plugin dir>/<executable>_<goos>_<goarch>; its container is linux on the host's arch.
PLUGIN_ARCH ?= $(shell $(GO) env GOARCH)
PLUGIN_BIN := $(PLUGIN_DIST)/gpx_campaignpulse_linux_$(PLUGIN_ARCH)
GOTEST_TIMEOUT ?= 20m
# Go packages of this module; npm packages can ship Go files under node_modules.
GOPKGS = $(shell $(GO) list ./... | grep -v /node_modules/)

.PHONY: all build plugin plugin-backend run test test-go lint fmt vet clean chaos integration fuzz

all: build

## build: the campaignpulse binary and the Grafana plugin (backend binary + frontend in grafana-plugin/dist)
build: $(BIN) plugin

$(BIN): FORCE
	$(GO) build -o $(BIN) ./aggregator/cmd/campaignpulse

## plugin: everything docker-compose.yml mounts from grafana-plugin/dist, checked the way Grafana
## loads it: the backend binary (linux, $(PLUGIN_ARCH)) and the frontend (plugin.json, module.js, logos)
plugin: plugin-backend frontend-build
	$(PLUGIN_NPM) run check:dist
	@for f in plugin.json module.js $(notdir $(PLUGIN_BIN)); do test -s $(PLUGIN_DIST)/$$f || { echo "plugin: $(PLUGIN_DIST)/$$f missing"; exit 1; }; done
	@echo "plugin: $(PLUGIN_DIST) ready (plugin.json, module.js, $(notdir $(PLUGIN_BIN)))"

# plugin-backend: the backend binary alone (the frontend build keeps gpx_* files in dist/).
plugin-backend: FORCE
	@mkdir -p $(PLUGIN_DIST)
	CGO_ENABLED=0 GOOS=linux GOARCH=$(PLUGIN_ARCH) $(GO) build -tags arrow_json_stdlib -ldflags '-w -s' -o $(PLUGIN_BIN) ./grafana-plugin/pkg

## run: the whole pipeline in one process on embedded Kafka and MongoDB
run: $(BIN)
	./$(BIN) run $(RUN_ARGS)

## test: everything CI runs (lint, Go unit tests, frontend, real-Kafka integration suite)
test: lint test-go integration

test-go:
	$(GO) test -timeout $(GOTEST_TIMEOUT) $(GOPKGS)

## lint: formatting and vet
lint: fmt vet

fmt:
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(GOPKGS)

## integration: the real Apache Kafka suites (broker lifecycle and faults, ingest through broker
## kills, end-to-end simulator -> ingest -> 2 aggregators -> MongoDB -> plugin); one summary line
## per scenario. Fetches the Kafka jars from Maven Central on first use; fails if java/mvn are missing.
INTEGRATION_PKGS := ./aggregator/testbed/realkafka/... ./aggregator/testbed/brokerfault/... ./aggregator/ingest/... ./aggregator/testbed/integration/... ./aggregator/status/...
integration:
	@mkdir -p .run
	@set -o pipefail; CAMPAIGNPULSE_REQUIRE_KAFKA=1 $(GO) test -tags integration -count=1 -p 1 -timeout 25m -v $(INTEGRATION_PKGS) > .run/integration.log 2>&1; \
	rc=$$?; grep -E '^(scenario |--- FAIL|FAIL|ok |panic)' .run/integration.log; \
	grep -oE 'scenario [^ ]+: .*' .run/integration.log | grep -v '^scenario e2e' | sort -u; \
	if [ $$rc -ne 0 ]; then echo "integration: failed (full log: .run/integration.log)"; \
	  awk '/^=== RUN/ { buf = "" } { buf = buf $$0 "\n" } /^--- FAIL/ { printf "%s", buf; buf = "" }' .run/integration.log | tail -n 150; \
	  tail -n 20 .run/integration.log; fi; exit $$rc

## fuzz: every parser of external input for FUZZTIME each (push JSON and GET form, pull CSV rows,
## raw events, Grafana query JSON, datasource settings); CI runs it with FUZZTIME=10s. A finding always
## writes its failing input under testdata/fuzz/; Go's fuzzing coordinator (before Go 1.27) can also fail a
## run with a bare "context deadline exceeded" when -fuzztime expires while a starved worker is mid-call,
## and that alone is reported, not counted as a finding.
FUZZ_TARGETS := ./aggregator/event:FuzzParse ./aggregator/appsflyer:FuzzRowReader \
	./aggregator/appsflyer:FuzzPushQueryToJSON ./aggregator/ingest/push:FuzzPushPOST \
	./aggregator/ingest/push:FuzzPushGET ./grafana-plugin/pkg/request:FuzzParse \
	./grafana-plugin/pkg/plugin:FuzzLoadConfig
fuzz:
	@mkdir -p .run; set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
	echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) $$pkg > .run/fuzz.log 2>&1 || { \
	  if ! grep -q 'Failing input written' .run/fuzz.log && grep -qx '    context deadline exceeded' .run/fuzz.log; then \
	    echo "fuzz $$fn: stopped at the -fuzztime deadline with a worker mid-call, no failing input written: not a finding"; \
	  else tail -n 30 .run/fuzz.log; exit 1; fi; }; done

## chaos: SIGKILL the aggregator at random points and take MongoDB away; totals must stay exact
chaos: $(BIN)
	$(GO) run ./aggregator/testbed/cmd/chaos --binary $(BIN) $(CHAOS_ARGS)

clean:
	rm -rf bin $(PLUGIN_DIST) .run

FORCE:

# ---- parts ----

# ---- real Apache Kafka broker (scripts/kafka.sh, aggregator/testbed/realkafka) ----
.PHONY: kafka-start kafka-stop test-realkafka bench-freshness

## kafka-start / kafka-stop: a KRaft broker on 127.0.0.1:19092 from the Maven Central jars (Java 17)
kafka-start:
	scripts/kafka.sh start

kafka-stop:
	scripts/kafka.sh stop

## test-realkafka: the real-broker suite: broker lifecycle, then broker faults (kill -9, SIGTERM,
## SIGSTOP) under ingest's producer and the push receiver; prints `scenario <name>: ...` lines.
## Fails (not skips) if java/mvn are missing.
test-realkafka:
	CAMPAIGNPULSE_REQUIRE_KAFKA=1 $(GO) test -tags integration -count=1 -p 1 -timeout 20m -v ./aggregator/testbed/realkafka/... ./aggregator/testbed/brokerfault/...

## chaos-realkafka: aggregator/testbed/chaos (aggregator SIGKILLs, store outage) on the real broker while the
## broker itself is restarted and frozen; needs `make chaos` green first
.PHONY: chaos-realkafka
chaos-realkafka:
	CAMPAIGNPULSE_REQUIRE_KAFKA=1 $(GO) test -tags 'integration chaos' -count=1 -timeout 15m -v -run AggregatorExactThroughBrokerFaults ./aggregator/testbed/brokerfault/

# ---- grafana-plugin ----
.PHONY: plugin-contract plugin-bench
## plugin-contract: build the plugin binary, launch it like Grafana and call every handler against FerretDB + kfake
plugin-contract:
	@GO=$(GO) bash grafana-plugin/contract/run.sh
## plugin-bench: frame shaping, 30 days x hourly x 200 campaigns
plugin-bench:
	$(GO) test -run '^$$' -bench . -benchmem ./grafana-plugin/pkg/frames/

# ---- appsflyer wire formats + simulator ----
.PHONY: fuzz-appsflyer bench-simulate
FUZZTIME ?= 30s
## fuzz-appsflyer: fuzz the pull CSV row reader and the GET postback conversion, FUZZTIME each
fuzz-appsflyer:
	$(GO) test -run '^$$' -fuzz '^FuzzRowReader$$' -fuzztime $(FUZZTIME) ./aggregator/appsflyer/
	$(GO) test -run '^$$' -fuzz '^FuzzPushQueryToJSON$$' -fuzztime $(FUZZTIME) ./aggregator/appsflyer/
## bench-simulate: CSV row reader, simulated traffic generation, pull report serving
bench-simulate:
	$(GO) test -run '^$$' -bench . -benchmem ./aggregator/appsflyer/ ./aggregator/testbed/simulate/

# ---- grafana-plugin frontend ----
# npm ci runs only when node_modules is missing or package-lock.json changed.
# The webpack build writes dist/module.js and copies src/plugin.json + src/img.
PLUGIN_NPM := cd grafana-plugin && npm --no-audit --no-fund

.PHONY: frontend-deps frontend-test frontend-build
frontend-deps: grafana-plugin/node_modules/.campaignpulse-installed

grafana-plugin/node_modules/.campaignpulse-installed: grafana-plugin/package-lock.json grafana-plugin/package.json
	$(PLUGIN_NPM) ci
	@touch $@

## frontend-test: TypeScript typecheck, jest, production build of the plugin frontend, and the
## editors in headless chromium (skipped with the reason where /usr/bin/chromium is missing,
## required when CAMPAIGNPULSE_REQUIRE_BROWSER=1 as in CI)
frontend-test: frontend-deps
	$(PLUGIN_NPM) run typecheck
	$(PLUGIN_NPM) run test:ci
	$(PLUGIN_NPM) run build
	$(PLUGIN_NPM) run check:dist
	$(PLUGIN_NPM) run test:browser

## frontend-screenshots: rewrite docs/img/editor-*.png from the browser test
.PHONY: frontend-screenshots
frontend-screenshots: frontend-deps
	$(PLUGIN_NPM) run test:browser -- --update-screenshots

frontend-build: frontend-deps
	$(PLUGIN_NPM) run build

test: frontend-test

# ---- ingest ----
.PHONY: fuzz-ingest bench-ingest test-ingest-realkafka
## fuzz-ingest: fuzz the push receiver's POST JSON and GET query-form input paths, FUZZTIME each
fuzz-ingest:
	$(GO) test -run '^$$' -fuzz '^FuzzPushPOST$$' -fuzztime $(FUZZTIME) ./aggregator/ingest/push/
	$(GO) test -run '^$$' -fuzz '^FuzzPushGET$$' -fuzztime $(FUZZTIME) ./aggregator/ingest/push/
## bench-ingest: push receiver against kfake on one core: events/s, p50/p99 time to the 2xx
bench-ingest:
	$(GO) test -run '^$$' -bench '^BenchmarkPush' -cpu 1 -benchtime 100000x -benchmem ./aggregator/ingest/push/
## bench-freshness: 2,000 events/s through the push receiver for 2 min on Apache Kafka while the poller
## downloads a 200,000-row report served over 60 s; per event, 2xx -> shown by QueryData and the live stream.
## EMBEDDED=1: the same on make run's kfake + FerretDB at 200 events/s. FRESHNESS_ARGS passes flags.
bench-freshness:
	$(GO) run ./aggregator/testbed/cmd/benchfreshness $(if $(EMBEDDED),--embedded) $(FRESHNESS_ARGS)
## test-ingest-realkafka: pull poller on Apache Kafka through a stop, a crash and a broker kill -9
test-ingest-realkafka:
	CAMPAIGNPULSE_REQUIRE_KAFKA=1 $(GO) test -tags integration -count=1 -timeout 10m ./aggregator/ingest/...

# ---- aggregate ----
.PHONY: bench-aggregate test-aggregate-realkafka
## bench-aggregate: parse + de-dup + window update per event (one core), state bytes per identity/window
bench-aggregate:
	$(GO) test -run '^$$' -bench '^Benchmark(Process|StateMemory)$$' -cpu 1 -benchtime 3s -benchmem ./aggregator/aggregate/
## bench-state: 50M identities over a 27 h horizon through the memory-bounded de-dup state (last line `state: ...`)
.PHONY: bench-state bench-recovery
bench-state:
	$(GO) run ./aggregator/testbed/cmd/benchstate $(BENCH_STATE_ARGS)
## bench-recovery: 1M events through Apache Kafka (scripts/kafka.sh), SIGKILL, restart; restore bytes vs a raw replay (last line `recovery: ...`)
bench-recovery: $(BIN)
	$(GO) run ./aggregator/testbed/cmd/benchrecovery --binary $(BIN) $(BENCH_RECOVERY_ARGS)
## test-aggregate-realkafka: aggregator on Apache Kafka through a broker kill -9 and an aggregator crash
test-aggregate-realkafka:
	CAMPAIGNPULSE_REQUIRE_KAFKA=1 $(GO) test -tags integration -count=1 -timeout 10m -run RealKafka ./aggregator/aggregate/

# ---- bench: the Go aggregator against Spark Structured Streaming and Kafka Streams ----
.PHONY: bench bench-setup bench-micro bench-profile
BENCH_VENV := bench/.venv
BENCH_KAFKA_DIR := $(CURDIR)/.kafka/bench
BENCH_KAFKA_PORT ?= 29092
BENCH_KAFKA_CONTROLLER_PORT ?= 29093
## BENCH_ARGS: flags of bench/cmd/benchrun run (e.g. "--events 200000 --reps 1 --steady 10s"); see bench/README.md
BENCH_ARGS ?=

## bench-setup: pyspark into bench/.venv, the Spark Kafka connector jars and the Kafka Streams peer
## (Maven Central); idempotent, re-runs only what changed
bench-setup: $(BENCH_VENV)/.installed bench/.spark-jars/.resolved bench/.kstreams/.built

$(BENCH_VENV)/.installed: bench/spark/requirements.txt
	@command -v java >/dev/null || { echo "bench: java 17 not found"; exit 1; }
	python3 -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install -q -r bench/spark/requirements.txt
	@touch $@

bench/.spark-jars/.resolved: bench/spark/pom.xml
	rm -rf bench/.spark-jars
	mvn -q -B -f bench/spark/pom.xml dependency:copy-dependencies -DoutputDirectory=$(CURDIR)/bench/.spark-jars
	@touch $@

bench/.kstreams/.built: bench/kstreams/pom.xml $(wildcard bench/kstreams/src/main/java/io/campaignpulse/bench/*.java)
	rm -rf bench/.kstreams && mkdir -p bench/.kstreams/classes
	mvn -q -B -f bench/kstreams/pom.xml dependency:build-classpath -Dmdep.outputFile=$(CURDIR)/bench/.kstreams/classpath.txt
	javac -nowarn -d bench/.kstreams/classes -cp "$$(cat bench/.kstreams/classpath.txt)" bench/kstreams/src/main/java/io/campaignpulse/bench/*.java
	@touch $@

## bench: a real broker of its own, then ours, Spark and Kafka Streams one after the other on the same
## events; throughput, CPU, RSS, freshness; last line `bench: ours_eps=... kstreams_eps=...`
bench: $(BIN) bench-setup
	@mkdir -p .run/bench
	$(GO) build -o bin/benchrun ./bench/cmd/benchrun
	@KAFKA_DIR=$(BENCH_KAFKA_DIR) KAFKA_PORT=$(BENCH_KAFKA_PORT) KAFKA_CONTROLLER_PORT=$(BENCH_KAFKA_CONTROLLER_PORT) \
		KAFKA_HEAP="-Xms1g -Xmx1g" KAFKA_EXTRA_CONFIG="group.initial.rebalance.delay.ms=3000" scripts/kafka.sh start
	@set -o pipefail; ./bin/benchrun run --brokers 127.0.0.1:$(BENCH_KAFKA_PORT) --broker-pid-file $(BENCH_KAFKA_DIR)/kafka.pid --binary $(BIN) $(BENCH_ARGS) 2>&1 | tee .run/bench/bench.log; \
	rc=$$?; KAFKA_DIR=$(BENCH_KAFKA_DIR) KAFKA_PORT=$(BENCH_KAFKA_PORT) KAFKA_CONTROLLER_PORT=$(BENCH_KAFKA_CONTROLLER_PORT) scripts/kafka.sh stop; \
	grep '^bench: ours_eps=' .run/bench/bench.log | tail -n 1 >/dev/null; exit $$rc

## bench-micro: Go microbenchmarks of the hot path (parse + de-dup + window update), tracked in bench/README.md
bench-micro:
	$(GO) test -run '^$$' -bench '^BenchmarkProcess$$' -cpu 1 -benchtime 3s -count 3 -benchmem ./aggregator/aggregate/

## bench-profile: CPU profile of the hot path (production state: hot set in memory + local store) into bench/results/process.pprof (go tool pprof -top ...)
bench-profile:
	@mkdir -p bench/results
	$(GO) test -run '^$$' -bench '^BenchmarkProcess$$/^state=store$$/^event_value=escaped$$' -cpu 1 -benchtime 5s -cpuprofile bench/results/process.pprof -o bench/results/aggregate.test ./aggregator/aggregate/
	$(GO) tool pprof -top -nodecount 25 bench/results/aggregate.test bench/results/process.pprof | tee bench/results/process-top.txt
