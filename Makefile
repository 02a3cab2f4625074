# The README's commands. Set-up (virtualenv, pip, npm, Maven) happens inside them.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
JAR := connectors/target/connect-metrics-connectors.jar
INFLUXD := .local/bin/influxd
INFLUXDB_VERSION := v1.8.3
DURATION ?= 0
SINK ?=
PYTEST_ARGS ?=
BENCH_RECORDS ?= 100000
BENCH_ARGS ?=

.PHONY: demo test bench setup prerequisites connectors lint clean

demo: setup
	$(PY) -m cli demo --duration $(DURATION) $(if $(SINK),--sink $(SINK))

test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) -m benchmarks --records $(BENCH_RECORDS) $(BENCH_ARGS)

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check jobs cli connectors simulator benchmarks deploy docker tests main.py

setup: prerequisites $(VENV)/.installed node_modules/.installed $(JAR) $(INFLUXD)

prerequisites:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] in ((3, 11), (3, 12)) else "Python 3.11 or 3.12 is needed; found " + sys.version.split()[0] + ". Install python3.11, or run make PYTHON=/path/to/python3.11")'
	@$(PYTHON) -m cli.prerequisites

$(VENV)/.installed: pyproject.toml requirements.lock
	@echo "setup: Python virtualenv and dependencies (about a minute the first time)"
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock -e '.[dev]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	@echo "setup: kinesis-mock from npm"
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

connectors: $(JAR)

$(JAR): connectors/pom.xml $(shell find connectors/src -type f 2>/dev/null)
	@echo "setup: building the Kinesis connector jar with Maven"
	mvn --batch-mode --quiet --no-transfer-progress -f connectors/pom.xml package
	@test -f $@

# The local InfluxDB server (InfluxDB 1.8: v1 /write and /query, v2 /api/v2/write), built from
# its Go module; an influxd already on PATH (Debian's influxdb package) is used instead.
$(INFLUXD):
	@if command -v influxd >/dev/null; then mkdir -p $(@D) && ln -sf "$$(command -v influxd)" $@; \
	elif command -v go >/dev/null; then \
	  echo "setup: building InfluxDB $(INFLUXDB_VERSION) with Go (about two minutes the first time)"; \
	  GOBIN=$(abspath $(@D)) go install github.com/influxdata/influxdb/cmd/influxd@$(INFLUXDB_VERSION); \
	else echo "setup: the local InfluxDB needs Go (https://go.dev/dl) or Debian's influxdb package" >&2; exit 1; fi

clean:
	-$(PY) -m cli dev down 2>/dev/null
	rm -rf $(VENV) node_modules connectors/target .local
