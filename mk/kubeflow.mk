# Kubeflow Pipelines' SDK (kfp 2.17.3, kfp-kubernetes) in an environment of its own
# (.venv-kfp): its protobuf and Kubernetes client pins clash with ours. The tests
# validate every package with it and run the fixtures under kfp.local's orchestrator
# (tests/targets/kubeflow/kfp_harness.py).
KFP_VENV := .venv-kfp
KFP_STAMP := $(KFP_VENV)/.installed

$(KFP_STAMP): mk/kubeflow.mk mk/constraints-kubeflow.txt | $(STAMP)
	test -x $(KFP_VENV)/bin/python || $(PYTHON) -m venv $(KFP_VENV)
	$(BIN)/uv pip install --python $(KFP_VENV)/bin/python --compile-bytecode --quiet \
		-c mk/constraints-kubeflow.txt kfp==2.17.3 kfp-kubernetes==2.17.3
	touch $@

SETUP += $(KFP_STAMP)
