# Prefect 3.8 in an environment of its own (.venv-prefect38). The main
# environment holds Prefect 3.7.7, the newest that shares its pins with
# Airflow 3.3; the tests also run compiled flows on 3.8.8 (the newest 3.x
# that installs here in one step), so the output is not tied to one release.
PREFECT38_VENV := .venv-prefect38
PREFECT38_STAMP := $(PREFECT38_VENV)/.installed

$(PREFECT38_STAMP): mk/prefect.mk mk/constraints-prefect38.txt | $(STAMP)
	test -x $(PREFECT38_VENV)/bin/python || $(PYTHON) -m venv $(PREFECT38_VENV)
	$(BIN)/uv pip install --python $(PREFECT38_VENV)/bin/python --compile-bytecode --quiet \
		-c mk/constraints-prefect38.txt prefect==3.8.8 prefect-kubernetes==0.8.0 "fastapi<0.151"
	# flowc itself, without its dependencies: a compiled flow imports flowc.engines.prefect
	# (standard library and Prefect only), as it does in the flow's image
	$(BIN)/uv pip install --python $(PREFECT38_VENV)/bin/python --quiet --no-deps -e .
	touch $@

SETUP += $(PREFECT38_STAMP)

# with the environment built, its test must not be skipped
export FLOWC_REQUIRE_PREFECT38 := 1
