# Two commands for a new user: `make report` builds results/report.pdf, `make test`
# runs the tests. Both create .venv and install the pinned, hashed lock file first.
SHELL := bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := report

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 4
TEST_WORKERS ?= 2
SEED ?= 20200715
# pip on some machines warns about unreachable extra indexes; keep the output readable. The braces
# keep pip's own exit status (pipefail): a failed install must stop make, not be filtered away.
QUIET_PIP := { grep -v "^WARNING: Location" || true; }

.PHONY: report test bench trace verify cohort lock check-system clean

$(STAMP): envs/requirements.lock pyproject.toml
	@$(MAKE) --no-print-directory check-system
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
		-r envs/requirements.lock 2>&1 | $(QUIET_PIP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		-e . 2>&1 | $(QUIET_PIP)
	touch $(STAMP)

## report: build results/report.pdf from the raw exports in config.yaml's raw_dir
report: $(STAMP)
	$(BIN)/snakemake --cores $(CORES)

## test: run the test suite, in TEST_WORKERS pytest-xdist processes (tests/conftest.py gives each
## shared build's tests to one worker, which builds it once)
test: $(STAMP)
	@bash scripts/system_packages.sh test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

## bench: time the workflow on this machine (results/benchmark.csv, .svg); 15-30 min, less with BENCH_ARGS=--skip-large
bench: $(STAMP)
	$(BIN)/python scripts/benchmark.py $(BENCH_ARGS)

## trace: follow a result down to the raw rows, e.g. make trace WHAT=meld:primary.treatment.mean
trace: $(STAMP)
	$(BIN)/python -m msc_ascites trace '$(WHAT)'

## verify: check every file of the last run against results/manifest.json
verify: $(STAMP)
	$(BIN)/python -m msc_ascites verify

## cohort: regenerate the reconstructed cohort in resources/raw (seeded, byte for byte)
cohort: $(STAMP)
	$(BIN)/python -m msc_ascites.reconstruction.generate --published resources/published/hua2020_abstract.yaml \
		--assumptions resources/reconstruction/assumptions.yaml --seed $(SEED) --out resources/raw

## lock: recompile envs/requirements.lock from envs/requirements.in (needs network to PyPI)
lock:
	$(PYTHON) -m venv /tmp/msc-ascites-lock && /tmp/msc-ascites-lock/bin/pip install --quiet uv
	/tmp/msc-ascites-lock/bin/uv pip compile --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
		--generate-hashes envs/requirements.in -o envs/requirements.lock

## check-system: what Debian must provide (Python 3.11+; Pango and fonts for WeasyPrint, which
## scripts/system_packages.sh installs as root with apt-get, or names the apt-get line to run).
check-system:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	@bash scripts/system_packages.sh

## clean: remove results and Snakemake's metadata (the venv stays)
clean:
	rm -rf results .snakemake
