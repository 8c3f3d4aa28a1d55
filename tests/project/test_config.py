"""[tool.flowc]: what it accepts, unknown keys with file:line, flags over the
file over defaults, and `flowc config` showing every value and its origin."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowc import config
from tests.project.conftest import PYPROJECT, flowc, make_project

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_common_option_names_are_targets_base_s() -> None:
    """config.py names them to avoid importing a target on every commit."""
    from flowc.targets.base import COMMON_OPTIONS

    assert set(config.COMMON_OPTION_NAMES) == {o.name for o in COMMON_OPTIONS}


@pytest.mark.parametrize("body, needle, message", [
    ('[tool.flowc]\ncolour = "red"\n', "colour", "unknown key 'colour' in [tool.flowc]"),
    ('[tool.flowc]\nnamespace = "data"\n', "namespace", "a target's own options go in [tool.flowc.<target>]"),
    ('[tool.flowc]\ntargets = ["airflow"]\n\n[tool.flowc.airflow]\nnamespcae = "x"\n', "namespcae",
     "unknown key 'namespcae' in [tool.flowc.airflow]"),
    ('[tool.flowc]\ntargets = ["airflow"]\nairflow = { namespace = "a", nope = 1 }\n', "nope",
     "unknown key 'nope' in [tool.flowc.airflow]"),
    ('[tool.flowc]\ntargets = ["airflow"]\nairflow.nope = 1\n', "airflow.nope",
     "unknown key 'nope' in [tool.flowc.airflow]"),
    ('[tool.flowc]\ntargets = ["airflow"]\n\n[tool.flowc.airflw]\nnamespace = "x"\n', "[tool.flowc.airflw]",
     "no target is called 'airflw'"),
    ('[tool.flowc]\ntargets = ["airflow", "argoo"]\n', "targets", "unknown target 'argoo'"),
    ('[tool.flowc]\noutput = 3\n', "output", "output must be a string"),
    ('[tool.flowc]\nflows = [1]\n', "flows", "flows must be a list of strings"),
    ('[tool.flowc]\ntargets = ["airflow"]\n\n[tool.flowc.airflow]\nairflow_version = "three"\n',
     "airflow_version", "must be a whole number"),
    ('[tool.flowc]\ntargets = ["airflow"]\nenvironments = "docker"\n', "environments", "must be one of image, bootstrap"),
])
def test_mistakes_name_the_file_and_line(tmp_path: Path, body: str, needle: str, message: str) -> None:
    text = '[project]\nname = "x"\n\n' + body
    make_project(tmp_path, text, flows={})
    result = flowc("config", cwd=tmp_path)
    assert result.code == 2, result.text
    assert f"pyproject.toml:{line_of(text, needle)}: " in result.err, result.err
    assert message in result.err
    # compiling the project, or one flow, says the same
    assert message in flowc("compile", cwd=tmp_path).err


def test_a_single_flow_compile_reports_unknown_keys_too(tmp_path: Path) -> None:
    text = '[tool.flowc]\nimage = "i:1"\nimagee = "typo"\n'
    make_project(tmp_path, text)
    result = flowc("compile", "flows/foreach_flow.py", "--target", "airflow", "-o", "out/", cwd=tmp_path)
    assert result.code == 2
    assert "pyproject.toml:3: unknown key 'imagee'" in result.err
    assert not (tmp_path / "out").exists()


def test_values_and_origins(project: Path) -> None:
    cfg = config.load(project)
    shared = config.shared_settings(cfg)
    assert shared["datastore"] == config.Setting("s3://team-bucket/flows", f"{cfg.path.as_posix()}:"
                                                 f"{line_of(PYPROJECT, 'datastore')}")
    assert shared["registry"] == config.Setting("", "default")
    assert shared["environments"] == config.Setting("image", "default")
    assert shared["targets"].value == ["airflow", "stepfunctions"]
    flagged = config.shared_settings(cfg, {"registry": "ghcr.io/acme", "targets": "airflow"})
    assert flagged["registry"] == config.Setting("ghcr.io/acme", "flag")
    assert flagged["targets"] == config.Setting(["airflow"], "flag")


def test_flowc_config_prints_every_value_with_its_origin(project: Path) -> None:
    result = flowc("config", cwd=project)
    assert result.code == 0, result.err
    lines = result.out.splitlines()

    def origin(table: str, key: str) -> str:
        start = lines.index(f"[{table}]")
        line = next(x for x in lines[start + 1:] if x.startswith(f"{key} = "))
        return line.rsplit("# ", 1)[1]

    assert origin("tool.flowc", "datastore") == f"pyproject.toml:{line_of(PYPROJECT, 'datastore')}"
    assert origin("tool.flowc", "registry") == "default"
    assert origin("tool.flowc", "environments") == "default"
    assert origin("tool.flowc", "flows") == f"pyproject.toml:{line_of(PYPROJECT, 'flows =')}"
    assert origin("tool.flowc.airflow", "namespace") == f"pyproject.toml:{line_of(PYPROJECT, 'namespace')}"
    assert origin("tool.flowc.airflow", "output") == f"pyproject.toml:{line_of(PYPROJECT, 'output')}"
    # the shared datastore reaches each target, with the line it came from
    assert origin("tool.flowc.stepfunctions", "datastore") == f"pyproject.toml:{line_of(PYPROJECT, 'datastore')}"
    assert origin("tool.flowc.stepfunctions", "output") == "default"
    assert origin("tool.flowc.stepfunctions", "mode") == "default"
    assert "#   flows/foreach_flow.py" in lines
    # every option of every configured target is shown
    from flowc.targets.registry import get

    for name in ("airflow", "stepfunctions"):
        for option in get(name).all_options():
            origin(f"tool.flowc.{name}", option)


def test_flags_override_the_file_and_say_so(project: Path) -> None:
    result = flowc("config", "--target", "airflow", "--namespace", "prod", "--set", "datastore=s3://other",
                   "--set", "output=build/gen", cwd=project)
    assert result.code == 0, result.err
    data = tomllib.loads(result.out)
    assert data["tool"]["flowc"]["targets"] == ["airflow"]
    assert data["tool"]["flowc"]["datastore"] == "s3://other"
    assert data["tool"]["flowc"]["airflow"]["namespace"] == "prod"
    assert "namespace = \"prod\"" in result.out and result.out.count("# flag") >= 4
    # --set TARGET.OPTION for one target among several
    result = flowc("config", "--set", "stepfunctions.mode=worker", "--set", "stepfunctions.queue_url=q", cwd=project)
    data = tomllib.loads(result.out)
    assert data["tool"]["flowc"]["stepfunctions"]["mode"] == "worker"
    assert data["tool"]["flowc"]["airflow"]["namespace"] == "data"
    bad = flowc("config", "--set", "nosuch=1", cwd=project)
    assert bad.code == 2 and "no target compiled here (airflow, stepfunctions) has an option 'nosuch'" in bad.err


def test_the_printed_configuration_is_toml_holding_the_effective_values(project: Path) -> None:
    result = flowc("config", cwd=project)
    data = tomllib.loads(result.out)["tool"]["flowc"]
    as_json = json.loads(flowc("config", "--format", "json", cwd=project).out)
    assert {k: v["value"] for k, v in as_json["settings"].items()} == {
        k: v for k, v in data.items() if not isinstance(v, dict)}
    for target, values in as_json["targets"].items():
        assert {k: v["value"] for k, v in values.items()} == data[target]
    assert as_json["flows"] == ["flows/foreach_flow.py", "flows/params_flow.py", "flows/switch_flow.py"]


def test_without_pyproject_every_value_is_a_default(tmp_path: Path) -> None:
    result = flowc("config", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "no pyproject.toml" in result.out
    assert "targets = []" in result.out and "# no targets" in result.out


def test_flow_files_come_from_folders_globs_and_exclusions(tmp_path: Path) -> None:
    flow = (Path(__file__).parents[2] / "examples" / "foreach_flow.py").read_text()
    make_project(tmp_path, '[tool.flowc]\nflows = ["pipelines/**/*_flow.py", "one.py", "more"]\n'
                           'exclude = ["pipelines/scratch/*", "more/skip_*"]\n', flows={})
    for rel in ("pipelines/a_flow.py", "pipelines/deep/b_flow.py", "pipelines/scratch/c_flow.py",
                "pipelines/helpers_flow.py", "pipelines/other.py", "one.py", "more/x.py", "more/skip_me.py",
                "more/.hidden/y.py", "more/.venv/z.py"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(flow)
    (tmp_path / "pipelines/helpers_flow.py").write_text("def helper():\n    return 1\n")  # no FlowSpec
    result = flowc("config", "--list-flows", cwd=tmp_path)
    assert result.out.split() == ["more/x.py", "one.py", "pipelines/a_flow.py", "pipelines/deep/b_flow.py"]
    # paths are relative to where flowc runs
    assert flowc("config", "--list-flows", cwd=tmp_path / "pipelines").out.split()[0] == "../more/x.py"


def test_a_flows_entry_that_is_nothing_is_an_error(tmp_path: Path) -> None:
    make_project(tmp_path, '[tool.flowc]\ntargets = ["airflow"]\nflows = ["flowz"]\n', flows={})
    result = flowc("compile", cwd=tmp_path)
    assert result.code == 2 and "pyproject.toml:3: flows entry 'flowz' is no file, folder or glob" in result.err


def test_the_line_finder_reads_real_toml() -> None:
    text = ('[tool.flowc]\nflows = [\n  "a = b",\n  "c",\n]\ntargets = ["argo"]  # x\n'
            'doc = """\nfake = 1\n"""\n[tool . "flowc" . argo]\nnamespace = "n"\n\n[[tool.flowc.list]]\n')
    cfg = config.ProjectConfig(Path("pyproject.toml"), text, {})
    assert cfg.line_of("tool.flowc", "targets") == 6
    assert cfg.line_of("tool.flowc", "fake") == 1  # inside a multi-line string: not a key
    assert cfg.line_of("tool.flowc.argo", "namespace") == 11
    assert cfg.line_of("tool.flowc.argo", "missing") == 10  # the table's own line


# ------------------------------------------------------------ hostile values

HOSTILE = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40) | st.sampled_from(
    ['say "hi"', "back\\slash", "{{workflow.name}}", "${HOME}", "$.x", "line\nbreak", "ünïcödé ✓",
     "'''", '"""', "\x7f\x00\t", "# not a comment", "a = b"])


def toml_string(value: str) -> str:
    from flowc.commands.config import toml_value

    return toml_value(value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(registry=HOSTILE, datastore=HOSTILE, namespace=HOSTILE, output=st.text(
    alphabet=string.ascii_letters + string.digits + "-_ üñ", min_size=1, max_size=12).filter(str.strip))
def test_hostile_values_come_out_literally(tmp_path_factory, registry: str, datastore: str, namespace: str,
                                           output: str) -> None:
    """Whatever a value holds, `flowc config` prints TOML that reads back to
    exactly that value, and its JSON too."""
    root = tmp_path_factory.mktemp("hostile")
    text = (f"[tool.flowc]\ntargets = [\"airflow\"]\nregistry = {toml_string(registry)}\n"
            f"datastore = {toml_string(datastore)}\n\n[tool.flowc.airflow]\nnamespace = {toml_string(namespace)}\n"
            f"output = {toml_string(output)}\n")
    assert tomllib.loads(text)["tool"]["flowc"]["registry"] == registry  # the test writes valid TOML
    make_project(root, text, flows={})
    result = flowc("config", cwd=root)
    assert result.code == 0, result.err
    data = tomllib.loads(result.out)["tool"]["flowc"]
    assert data["registry"] == registry and data["datastore"] == datastore
    assert data["airflow"]["namespace"] == namespace and data["airflow"]["datastore"] == datastore
    assert data["airflow"]["output"] == output
    as_json = json.loads(flowc("config", "--format", "json", cwd=root).out)
    assert as_json["settings"]["registry"] == {"value": registry, "origin": "pyproject.toml:3"}
    assert as_json["targets"]["airflow"]["namespace"] == {"value": namespace, "origin": "pyproject.toml:7"}
