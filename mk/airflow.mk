# Airflow 2.10 in an environment of its own (.venv-airflow2): its pins clash
# with Airflow 3's, and the tests load every `--airflow-version 2` DAG in it.
AIRFLOW2_VENV := .venv-airflow2
AIRFLOW2_STAMP := $(AIRFLOW2_VENV)/.installed

$(AIRFLOW2_STAMP): mk/airflow.mk mk/constraints-airflow2.txt | $(STAMP)
	test -x $(AIRFLOW2_VENV)/bin/python || $(PYTHON) -m venv $(AIRFLOW2_VENV)
	$(BIN)/uv pip install --python $(AIRFLOW2_VENV)/bin/python --compile-bytecode --quiet \
		-c mk/constraints-airflow2.txt apache-airflow==2.10.5 \
		apache-airflow-providers-cncf-kubernetes apache-airflow-providers-amazon
	touch $@

SETUP += $(AIRFLOW2_STAMP)

# with the environment built, its test must not be skipped
export FLOWC_REQUIRE_AIRFLOW2 := 1
