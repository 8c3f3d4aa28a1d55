# The two Amazon States Language validators the Step Functions target's tests
# run on every emitted state machine (asl-validator and AWS's
# amazon-states-language-service), pinned in tests/targets/stepfunctions/package.json
# and installed with npm into that folder's node_modules (no lockfile kept).
SFN_TOOLS := tests/targets/stepfunctions
SFN_STAMP := $(SFN_TOOLS)/node_modules/.installed

$(SFN_STAMP): mk/stepfunctions.mk $(SFN_TOOLS)/package.json
	cd $(SFN_TOOLS) && npm install --no-audit --no-fund --no-package-lock --loglevel=error
	touch $@

SETUP += $(SFN_STAMP)
