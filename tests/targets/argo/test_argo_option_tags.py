"""Options (config values) reach the Argo templates as they are (the image,
the datastore, the runtime's python...), where Argo substitutes {{...}} and
has no escape: an option holding '{{' is refused (FC502), never changed."""

from __future__ import annotations

import pytest

from flowc.compiler import CompileError, load_flow
from flowc.targets import registry

FLOW = '''from flowc import FlowSpec, step


class Plain(FlowSpec):
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    path = tmp_path_factory.mktemp("opt") / "plain.py"
    path.write_text(FLOW, encoding="utf-8")
    return load_flow(path)


@pytest.mark.parametrize("options", [{"image": "img:{{workflow.name}}"}, {"datastore": "s3://b/{{workflow.name}}"},
                                     {"service_account": "{{workflow.parameters.p}}"},
                                     {"labels": {"team": "{{pod.name}}"}}])
def test_an_option_with_an_argo_tag_is_refused(flow, options):
    with pytest.raises(CompileError) as err:
        registry.get("argo")(options).compile(flow)
    errors = [d for d in err.value.diagnostics if d.is_error]
    (opt,) = options
    assert any(d.code == "FC502" and d.message.startswith(f"argo: --{opt.replace('_', '-')} holds") for d in errors)


def test_an_option_with_single_braces_is_kept(flow):
    files = registry.get("argo")({"image": "img:{x}"}).compile(flow).files
    assert any("image: img:{x}" in v.decode() for v in files.values())
