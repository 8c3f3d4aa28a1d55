# The two commands a newcomer needs: `make demo` and `make test`.
# Everything installs into .venv from constraints.txt (exact pins, one step).
# Engines whose pins clash with ours get their own environment, set up by the
# fragments in mk/ (one per target that needs one); each adds its setup to
# SETUP so that `make test` prepares it.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SETUP := $(STAMP)

export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
export DO_NOT_TRACK := 1
export METAFLOW_USER := flowc
export AIRFLOW__CORE__LOAD_EXAMPLES := False

.PHONY: demo test test-fast install bench fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt requirements-test.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt uv
	$(BIN)/uv pip install --python $(BIN)/python --compile-bytecode --quiet \
		-c constraints.txt -r requirements-test.txt -e ".[ui]"
	touch $@

-include mk/*.mk

demo: install
	$(BIN)/python -m flowc.demo

test: $(SETUP)
	$(BIN)/python -m pytest -q --durations=20

# the edit-test loop: everything but the tests that run a real engine
# (marked `engine`: Airflow dag.test, Prefect runs, Step Functions
# executions in moto, Metaflow parity runs)
test-fast: $(SETUP)
	$(BIN)/python -m pytest -q -m "not engine"

# every benchmark, each rewriting its benchmarks/results/*.md (the Airflow one
# loads DAGs in .venv-airflow2, so it needs what `make test` sets up)
bench: $(SETUP)
	$(BIN)/python benchmarks/run.py

# the large fuzz run (the nightly budget; `make test` runs a fixed slice):
# generated flows through check and every target, counts per target
fuzz: $(SETUP)
	$(BIN)/python tests/fuzz/run.py --cases 10000

clean:
	rm -rf $(VENV) .venv-* build *.egg-info .flowc
