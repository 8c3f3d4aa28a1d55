"""flowc's option table against Metaflow's own signatures.

The table (compiler/decorators.py OPTIONS) must name every option of every
decorator Metaflow 2.19 ships, of Parameter and of @step, read here from the
installed Metaflow (each decorator class's `defaults`, Parameter's and
step's signatures): an option Metaflow adds fails this test until flowc says
what it does with it. Each option is then written in a flow and compiled:
accepted (never FC402), honoured, carried to the targets that honour it
(FC501 naming every other target), or accepted and ignored (FC407).
"""

from __future__ import annotations

import functools
import inspect
import json
import os

import pytest

from flowc.compiler.decorators import CARRIED, IGNORED, OPTIONS, UNSUPPORTED
from flowc.compiler.diagnostics import CompileError
from flowc.compiler.pipeline import analyze_source
from flowc.targets import registry

TARGETS = ("argo", "airflow", "prefect", "stepfunctions")


@functools.lru_cache(maxsize=None)
def mf():
    """Metaflow 2.19, installed in the test environment (imported on first use: it is slow to import)."""
    os.environ.setdefault("METAFLOW_USER", "flowc")
    import metaflow
    import metaflow.plugins

    return metaflow


@functools.lru_cache(maxsize=None)
def metaflow_decorators() -> dict[str, dict]:
    """{name: defaults} of every user-facing decorator (the *_internal ones are Metaflow's own plumbing)."""
    plugins = mf().plugins
    return {d.name: dict(d.defaults) for d in list(plugins.STEP_DECORATORS) + list(plugins.FLOW_DECORATORS)
            if not d.name.endswith("_internal")}


def test_every_metaflow_decorator_is_in_the_table_or_refused():
    names = metaflow_decorators()
    assert len(names) > 20  # the walk found Metaflow's decorators
    unknown = sorted(n for n in names if n not in OPTIONS and n not in UNSUPPORTED
                     and n not in ("pytorch_parallel",))
    assert not unknown, f"Metaflow decorators flowc neither reads nor refuses: {unknown}"


def test_every_option_of_every_decorator_is_in_the_table():
    missing = [f"@{name}({option}=)" for name, defaults in metaflow_decorators().items() if name in OPTIONS
               for option in defaults if option not in OPTIONS[name]]
    assert not missing, f"options missing from compiler/decorators.py OPTIONS: {missing}"


def test_every_parameter_option_is_in_the_table():
    sig = inspect.signature(mf().Parameter.__init__)
    named = [p for p in sig.parameters if p not in ("self", "kwargs")]
    # Parameter pops separator from its kwargs (parameters.py); is_flag goes to click.Option
    source = inspect.getsource(mf().parameters.Parameter.init)
    assert 'pop("separator"' in source
    missing = [o for o in named + ["separator", "is_flag"] if o not in OPTIONS["Parameter"]]
    assert not missing


def test_every_step_option_is_in_the_table():
    sig = inspect.signature(mf().step)
    options = [p.name for p in sig.parameters.values() if p.kind == p.KEYWORD_ONLY]
    assert "node_info" in options  # 2.19 has it
    assert not [o for o in options if o not in OPTIONS["step"]]


# ------------------------------------------------------------ each option, compiled

SAMPLES = {
    "image": "python:3.11", "queue": "jobs", "iam_role": "arn:aws:iam::1:role/r", "execution_role": "arn:aws:iam::1:role/e",
    "image_pull_policy": "Always", "image_pull_secrets": ["regcred"], "service_account": "runner", "secrets": ["db"],
    "node_selector": "kubernetes.io/arch=amd64", "namespace": "ml", "gpu": 1, "gpu_vendor": "nvidia",
    "tolerations": [{"key": "gpu", "operator": "Exists"}], "labels": {"team": "ml"}, "annotations": {"a": "b"},
    "use_tmpfs": True, "tmpfs_size": 256, "persistent_volume_claims": {"data": "/data"}, "shared_memory": 64,
    "port": 8080, "compute_pool": "gpu-pool", "executable": "python3", "qos": "Guaranteed",
    "extended_resources": {"example.com/fpga": "1"}, "security_context": {"runAsUser": 1000}, "max_swap": 10,
    "swappiness": 10, "inferentia": 1, "trainium": 1, "efa": 1, "host_volumes": ["/scratch"],
    "efs_volumes": ["fs-1:/mnt"], "aws_batch_tags": {"team": "ml"}, "ephemeral_storage": 50,
    "log_driver": "awslogs", "log_options": ["awslogs-group:g"], "privileged": True, "disk": 1024, "memory": 1024,
    "cpu": 2, "sources": ["db"], "role": "arn:aws:iam::1:role/s", "allow_override": True, "var": "error",
    "vars": {"MODE": "fast"}, "packages": {"pandas": "2.2.2"}, "libraries": {"numpy": "1.26.4"}, "python": "3.11",
    "cron": "0 3 * * *", "timezone": "Europe/Paris", "name": "demand", "branch": "dev", "event": "data_ready",
    "events": ["data_ready"], "flow": "Upstream", "flows": ["Upstream"], "options": {"only_repr": True}, "rank": 1, "times": 2, "minutes_between_retries": 1,
    "seconds": 30, "minutes": 1, "hours": 1, "tmpfs_path": "/scratch", "tmpfs_tempdir": False,
    "hostname_resolution_timeout": 60, "channels": ["conda-forge"], "disabled": False, "id": "summary",
}
# arguments a decorator needs besides the one under test
NEEDS = {"project": {"name": "demand"}, "trigger": {"event": "data_ready"}, "trigger_on_finish": {"flow": "Upstream"}}
FLOW_LEVEL = {"schedule", "project", "trigger", "trigger_on_finish", "pypi_base", "conda_base"}
# one option of a pair Metaflow takes one of (event= or events=, flow= or flows=): without the other
ALTERNATIVES = {("trigger", "events"): "event", ("trigger_on_finish", "flows"): "flow"}


def sample(deco: str, option: str):
    if option in SAMPLES:
        return SAMPLES[option]
    default = metaflow_decorators().get(deco, {}).get(option)
    assert default is not None, f"no sample value for @{deco}({option}=)"
    return default


def flow_source(deco: str, option: str) -> tuple[str, int]:
    """A flow using @deco(option=...); and the line of the decorator."""
    kwargs = {**NEEDS.get(deco, {}), option: sample(deco, option)}
    kwargs.pop(ALTERNATIVES.get((deco, option), ""), None)
    if deco == "schedule" and option in ("weekly", "daily", "hourly"):
        kwargs[option] = True
    args = ", ".join(f"{k}={v!r}" for k, v in kwargs.items())
    if deco in FLOW_LEVEL:
        body = [f"@{deco}({args})", "class OptionFlow(FlowSpec):", "    @step", "    def start(self):"]
        line = 3
    else:
        body = ["class OptionFlow(FlowSpec):", f"    @{deco}({args})", "    @step", "    def start(self):"]
        line = 4
    text = "\n".join([f"from metaflow import FlowSpec, step, {deco}", ""] + body + [
        "        self.next(self.end)", "", "    @step", "    def end(self):", "        pass", ""])
    return text, line


CASES = [(deco, option) for deco, table in OPTIONS.items() if deco not in ("Parameter", "step") for option in table]


@pytest.mark.parametrize("deco,option", CASES, ids=[f"{d}-{o}" for d, o in CASES])
def test_each_option_is_accepted_and_handled_as_the_table_says(deco, option):
    text, line = flow_source(deco, option)
    analysis = analyze_source(text, "option_flow.py")
    codes = [(d.code, d.severity) for d in analysis.diagnostics]
    assert not [d for d in analysis.diagnostics if d.is_error], [d.message for d in analysis.diagnostics]
    opt = OPTIONS[deco][option]
    warned = [d for d in analysis.diagnostics if d.code == "FC407" and f"({option}=" in d.message]
    assert bool(warned) == (opt.how == IGNORED and not opt.quiet), codes
    flow = analysis.flow()
    if opt.how != CARRIED:
        return
    holder = getattr(flow.decorators, deco) if deco in FLOW_LEVEL else getattr(flow.step("start").decorators, deco)
    assert option in holder.options  # in the IR, for the targets
    for name in TARGETS:
        target = registry.get(name)({})
        try:
            out = target.compile(flow)
            refused = [d for d in out.diagnostics if d.code == "FC501"]
        except CompileError as err:
            refused = [d for d in err.diagnostics if d.code == "FC501"]
        mine = [d for d in refused if f"@{deco}({option}=...)" in d.message]
        if name in opt.targets:
            assert not mine, f"{name} honours {deco}.{option} but said {[d.message for d in mine]}"
        elif not any(d.message.startswith(f"{name}: @{deco} on") for d in refused):  # the decorator itself refused
            assert mine and all(d.message.startswith(f"{name}: ") for d in mine), (name, [d.message for d in refused])


def test_parameter_separator_and_flag_reach_the_ir():
    text = "\n".join([
        "from metaflow import FlowSpec, Parameter, step", "",
        "class P(FlowSpec):",
        "    regions = Parameter('regions', default='eu,us', separator=',')",
        "    dry = Parameter('dry', is_flag=True)",
        "    cache = Parameter('cache', is_flag=True, default=True, show_default=False)",
        "    @step", "    def start(self):", "        pass", ""])
    flow = analyze_source(text, "p.py").flow()
    by = {p.name: p for p in flow.parameters}
    assert (by["regions"].separator, by["regions"].type) == (",", "str")
    assert (by["dry"].is_flag, by["dry"].type, by["dry"].default) == (True, "bool", None)
    assert (by["cache"].is_flag, by["cache"].default) == (True, True)


@pytest.mark.parametrize("decl,message", [
    ("Parameter('n', default=3, separator=',')", "separator= needs a str parameter"),
    ("Parameter('n', default='a', is_flag=True)", "is_flag=True needs a bool parameter"),
    ("Parameter('n', default='a', separator=3)", "separator= must be a string"),
])
def test_parameter_options_are_checked(decl, message):
    text = "\n".join(["from metaflow import FlowSpec, Parameter, step", "", "class P(FlowSpec):",
                      f"    n = {decl}", "    @step", "    def start(self):", "        pass", ""])
    analysis = analyze_source(text, "p.py")
    assert [d.code for d in analysis.diagnostics if d.is_error] == ["FC301"]
    assert message in analysis.diagnostics[0].message


def test_runtime_splits_on_the_separator_as_metaflow_does():
    from flowc.runtime.params import resolve

    params = [{"name": "r", "attribute": "r", "type": "str", "default": "eu,us", "separator": ","},
              {"name": "e", "attribute": "e", "type": "str", "default": "", "separator": ","}]
    assert resolve(params, {}) == {"r": ["eu", "us"], "e": ""}  # Metaflow leaves an empty text as it is
    assert resolve(params, {"r": "a,b,c"})["r"] == ["a", "b", "c"]


def test_ir_without_the_new_fields_is_unchanged():
    """Fields added to the IR are left out at their default, so flows that do not
    use them keep byte-identical IR (and goldens)."""
    from flowc.compiler import ir

    text = "from metaflow import FlowSpec, Parameter, step\nclass P(FlowSpec):\n    a = Parameter('a', default=1)\n" \
           "    @step\n    def start(self):\n        pass\n"
    flow = analyze_source(text, "p.py").flow()
    data = json.loads(ir.dump(flow))
    assert "separator" not in data["parameters"][0] and "is_flag" not in data["parameters"][0]
    assert "wrappers" not in data["steps"][0]
    assert ir.load(ir.dump(flow)) == flow


def test_the_docs_show_the_table():
    from pathlib import Path

    from flowc.compiler.decorators import options_markdown

    doc = (Path(__file__).resolve().parents[2] / "docs" / "options.md").read_text()
    assert doc.split("## The option table\n\n", 1)[1] == options_markdown(), \
        "docs/options.md is stale: rewrite its table from compiler/decorators.py options_markdown()"
