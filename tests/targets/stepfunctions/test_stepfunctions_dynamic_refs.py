"""CloudFormation resolves dynamic references ({{resolve:ssm:...}},
{{resolve:secretsmanager:...}}) in a stack's values: a docstring or a
decorator value holding one would copy a parameter or a secret of the
deploying account into the stack. In the state machine's JSON the braces
are escaped (the same definition to Step Functions); anywhere else there is
no escape, so the value is refused with a diagnostic naming the target."""

from __future__ import annotations

import json

import pytest

from flowc.compiler import CompileError, load_flow
from flowc.targets import registry

REF = "{{resolve:secretsmanager:prod-db:SecretString:password}}"
FLOW = '''from flowc import FlowSpec, environment, step


class Refs(FlowSpec):
    {doc!r}

    @environment(vars={{"X": {env!r}}})
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def compile_refs(tmp_path, doc: str, env: str):
    path = tmp_path / "refs.py"
    path.write_text(FLOW.format(doc=doc, env=env), encoding="utf-8")
    return registry.get("stepfunctions")({}).compile(load_flow(path)).files


def test_a_docstring_with_a_dynamic_reference_stays_text(tmp_path):
    doc = f"Docs {REF} and ${{AWS::Region}}, {{{{x}}}}"
    files = compile_refs(tmp_path, doc, "plain")
    template = files["Refs.template.json"].decode("utf-8")
    assert "{{resolve:" not in template
    definition = json.loads(template)["Resources"]["StateMachine"]["Properties"]["DefinitionString"]
    assert "{{" not in definition and "${" not in definition
    assert doc in json.loads(definition)["Comment"]  # Step Functions reads the same text
    assert doc in json.loads(files["Refs.asl.json"])["Comment"]


def test_an_environment_value_with_a_dynamic_reference_is_refused(tmp_path):
    with pytest.raises(CompileError) as err:
        compile_refs(tmp_path, "Doc.", REF)
    errors = [d for d in err.value.diagnostics if d.is_error]
    assert errors and all(d.code == "FC501" and d.message.startswith("stepfunctions: ") and REF in d.message
                          for d in errors)
    assert errors[0].span.line == 4
