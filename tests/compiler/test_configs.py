"""Config and IncludeFile: read at compile time (compiler/configs.py), resolved
wherever a decorator or Parameter argument reads them, and carried by the IR
to the runtime (runtime/configs.py)."""

from __future__ import annotations

import json
import pickle
import textwrap
from pathlib import Path

import pytest

from flowc.compiler import analyze_file, ir
from flowc.compiler.configs import ConfigInputs

HEAD = "from metaflow import Config, FlowSpec, IncludeFile, Parameter, config_expr, project, resources, retry, step\n"
TAIL = """
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
"""


def analyze(tmp_path: Path, body: str, files: dict[str, str | bytes] | None = None, decorators: str = "",
            inputs: ConfigInputs | None = None, tail: str = TAIL):
    for name, content in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    src = HEAD + decorators + "class F(FlowSpec):\n" + textwrap.indent(textwrap.dedent(body), "    ") + tail
    flow_file = tmp_path / "flow.py"
    flow_file.write_text(src)
    return analyze_file(flow_file, inputs)


def codes(analysis) -> list[str]:
    return sorted(d.code for d in analysis.diagnostics)


def only_flow(analysis) -> ir.Flow:
    assert analysis.ok, [str(d.span) + " " + d.message for d in analysis.diagnostics]
    return analysis.flows[0]


# ------------------------------------------------------------ reading configs


def test_a_json_file_beside_the_flow_is_read_into_the_ir(tmp_path):
    a = analyze(tmp_path, 'cfg = Config("cfg", default="conf/c.json", help="settings")\n',
                {"conf/c.json": '{"a": {"b": [1, 2]}, "name": "x"}'})
    (cfg,) = only_flow(a).configs
    assert (cfg.name, cfg.attribute, cfg.parser, cfg.help) == ("cfg", "cfg", "json.loads", "settings")
    assert json.loads(cfg.value) == {"a": {"b": [1, 2]}, "name": "x"}
    assert cfg.source.file.endswith("conf/c.json") and cfg.source.line == 1
    assert len(cfg.source_sha256) == 64
    assert cfg.span.line == 3


def test_toml_and_yaml_with_the_parser_named_as_text_or_as_the_function(tmp_path):
    a = analyze(tmp_path, '''\
        t1 = Config("t1", default="c.toml", parser="tomllib.loads")
        t2 = Config("t2", default="c.toml", parser=tomllib.loads)
        y = Config("y", default="c.yaml", parser="yaml.safe_load")
        ''', {"c.toml": 'name = "n"\n[limits]\nrows = 5\n', "c.yaml": "labels: [a, b]\nth: 0.5\n"})
    t1, t2, y = only_flow(a).configs
    assert json.loads(t1.value) == json.loads(t2.value) == {"name": "n", "limits": {"rows": 5}}
    assert t2.parser == "tomllib.loads"
    assert json.loads(y.value) == {"labels": ["a", "b"], "th": 0.5}


def test_default_value_as_a_dict_or_as_text(tmp_path):
    a = analyze(tmp_path, '''\
        d = Config("d", default_value={"k": [1, {"x": None}]})
        s = Config("s", default_value='{"k": 2}')
        n = Config("n")
        z = Config("z", default=None)
        ''')
    d, s, n, z = only_flow(a).configs
    assert json.loads(d.value) == {"k": [1, {"x": None}]} and d.source is None
    assert json.loads(s.value) == {"k": 2}
    assert n.value == z.value == "null"  # no default, or default=None: None unless given, as in Metaflow


def test_a_config_with_default_none_takes_a_value_from_the_command_line(tmp_path):
    a = analyze(tmp_path, 'z = Config("z", default=None)\n', inputs=ConfigInputs(values={"z": '{"k": 3}'}))
    (z,) = only_flow(a).configs
    assert json.loads(z.value) == {"k": 3}


def test_reads_of_a_config_resolve_in_decorators_and_parameter_defaults(tmp_path):
    a = analyze(tmp_path, '''\
        cfg = Config("cfg", default="c.json")
        lr = Parameter("lr", default=cfg.train.lr)
        first = Parameter("first", default=cfg["folds"][0])
        whole = Parameter("whole", default=config_expr("cfg").train.mem)

        @resources(memory=cfg.train.mem, cpu=cfg["train"]["cpu"])
        @retry(times=config_expr("cfg.train.retries"))
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        ''', {"c.json": json.dumps({"project": "demo", "folds": ["f0", "f1"],
                                    "train": {"lr": 0.5, "mem": 4096, "cpu": 2, "retries": 1}})},
                decorators='@project(name=config_expr("cfg.project"))\n', tail="")
    flow = a.flows[0]
    params = {p.name: p for p in flow.parameters}
    assert (params["lr"].default, params["lr"].type) == (0.5, "float")
    assert (params["first"].default, params["first"].type) == ("f0", "str")
    assert (params["whole"].default, params["whole"].type) == (4096, "int")
    work = flow.step("start").decorators
    assert (work.resources.memory, work.resources.cpu, work.retry.times) == (4096, 2.0, 1)
    assert flow.decorators.project.name == "demo"


def test_command_line_overrides_change_every_value_read_from_the_config(tmp_path):
    files = {"c.json": '{"mem": 100}', "other.json": '{"mem": 200}'}
    body = '''\
        cfg = Config("cfg", default="c.json")

        @resources(memory=cfg.mem)
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        '''
    base = analyze(tmp_path, body, files, tail="").flows[0]
    assert base.step("start").decorators.resources.memory == 100
    from_file = analyze(tmp_path, body, files, inputs=ConfigInputs(files={"cfg": str(tmp_path / "other.json")}),
                        tail="").flows[0]
    assert from_file.step("start").decorators.resources.memory == 200
    assert from_file.configs[0].source.file.endswith("other.json")
    from_value = analyze(tmp_path, body, files, inputs=ConfigInputs(values={"cfg": '{"mem": 300}'}),
                         tail="").flows[0]
    assert from_value.step("start").decorators.resources.memory == 300
    assert from_value.configs[0].source is None


def test_the_ir_round_trips_with_configs_and_included_files(tmp_path):
    a = analyze(tmp_path, '''\
        cfg = Config("cfg", default="c.json")
        data = IncludeFile("data", default="d.csv", is_text=False)
        ''', {"c.json": '{"a": 1}', "d.csv": "x,y\n"})
    flow = only_flow(a)
    assert ir.load(ir.dump(flow)) == flow
    assert json.loads(ir.dump(flow))["schema_version"] == ir.SCHEMA_VERSION == 5


def test_an_included_file_is_checked_but_its_content_stays_out_of_the_ir(tmp_path):
    a = analyze(tmp_path, 'data = IncludeFile("data", default="in/d.csv", encoding="latin-1", help="h")\n',
                {"in/d.csv": "secret-content,1\n"})
    flow = only_flow(a)
    (inc,) = flow.includes
    assert (inc.name, inc.path, inc.is_text, inc.encoding, inc.help) == ("data", "in/d.csv", True, "latin-1", "h")
    assert len(inc.sha256) == 64
    assert "secret-content" not in ir.dump(flow)


# ------------------------------------------------------------ diagnostics


@pytest.mark.parametrize("body, files, code", [
    ('cfg = Config("cfg", default="missing.json")\n', {}, "FC701"),
    ('cfg = Config("cfg", required=True)\n', {}, "FC701"),
    ('cfg = Config("cfg", default="c.json")\n', {"c.json": "{not json"}, "FC702"),
    ('cfg = Config("cfg", default="c.toml", parser="tomllib.loads")\n', {"c.toml": "when = 2024-01-01\n"}, "FC702"),
    ('cfg = Config("cfg", default_value="[1, 2]")\n', {}, "FC702"),
    ('cfg = Config("cfg", default="c.json")\nx = Parameter("x", default=cfg.nope)\n', {"c.json": '{"a": 1}'}, "FC703"),
    ('cfg = Config("cfg", default_value={"a": [1]})\nx = Parameter("x", default=cfg.a[3])\n', {}, "FC703"),
    ('cfg = Config("cfg", default_value={"a": 1})\nx = Parameter("x", default=config_expr("other.a"))\n', {},
     "FC703"),
    ('cfg = Config("cfg", default_value="a: 1", parser="mine.parse")\n', {}, "FC704"),
    ('cfg = Config("cfg", default="c.json", default_value={})\n', {}, "FC705"),
    ('cfg = Config(name_var)\n', {}, "FC705"),
    ('data = IncludeFile("data", default="nope.csv")\n', {}, "FC706"),
    ('data = IncludeFile("data", default="/etc/hostname")\n', {}, "FC706"),
    ('cfg = Config("cfg", default_value={"a": "B"})\nx = Parameter("x", default=config_expr("cfg.a.lower()"))\n',
     {}, "FC707"),
    ('cfg = Config("cfg", default_value={})\nx = Parameter("cfg", default=1)\n', {}, "FC305"),
    ('cfg = Config("cfg", default_value={})\nx = Parameter("config", default=1)\n', {}, "FC306"),
    ('data = IncludeFile("datastore", default="d.csv")\n', {"d.csv": "x"}, "FC306"),
])
def test_each_problem_has_its_code(tmp_path, body, files, code):
    a = analyze(tmp_path, body, files)
    assert code in codes(a), [d.message for d in a.diagnostics]
    for d in a.diagnostics:
        assert d.hint and d.span.file.endswith("flow.py")


def test_a_missing_key_names_the_keys_there_are_and_the_closest_one(tmp_path):
    a = analyze(tmp_path, 'cfg = Config("cfg", default="c.json")\nx = Parameter("x", default=cfg.train.epoch)\n',
                {"c.json": '{"train": {"epochs": 1, "lr": 0.1}}'})
    (d,) = a.diagnostics
    assert d.code == "FC703" and "cfg.train has no key 'epoch'" in d.message and "c.json" in d.message
    assert "did you mean 'epochs'?" in d.hint and "epochs, lr" in d.hint
    assert (d.span.line, d.span.col) == (4, 32)


def test_a_config_that_failed_is_reported_once_not_at_every_read(tmp_path):
    a = analyze(tmp_path, '''\
        cfg = Config("cfg", default="missing.json")
        x = Parameter("x", default=cfg.a)

        @resources(memory=cfg.mem)
        @step
        def start(self):
            self.next(self.end)

        @step
        def end(self):
            pass
        ''', decorators='@project(name=config_expr("cfg.project"))\n', tail="")
    assert codes(a) == ["FC701"]


def test_reading_a_config_never_imports_the_flow(tmp_path):
    a = analyze(tmp_path, 'import sys\nsys.exit(3)\ncfg = Config("cfg", default_value={"a": 1})\n')
    assert json.loads(a.flows[0].configs[0].value) == {"a": 1}


# ------------------------------------------------------------ run time


def test_config_value_reads_like_metaflows():
    from flowc.runtime.configs import ConfigValue

    v = ConfigValue({"train": {"lr": 0.1, "layers": [{"n": 1}]}, "name": "x"})
    assert v.train.lr == v["train"]["lr"] == 0.1
    assert v.train.layers[0].n == 1
    assert isinstance(v, dict) and v == {"train": {"lr": 0.1, "layers": [{"n": 1}]}, "name": "x"}
    assert json.loads(json.dumps(v)) == v.to_dict()
    assert type(v.to_dict()["train"]) is dict
    assert pickle.loads(pickle.dumps(v)) == v
    assert "train" in v and "nope" not in v and sorted(v.keys()) == ["name", "train"]
    with pytest.raises(TypeError):
        v["name"] = "y"
    with pytest.raises(TypeError):
        v.name = "y"
    with pytest.raises(AttributeError):
        v.missing


def test_the_start_task_reads_included_files_from_the_flow_folder_or_the_given_path(tmp_path):
    from flowc.runtime.configs import ConfigError, start_values

    (tmp_path / "d.csv").write_text("a,b\n")
    (tmp_path / "other.csv").write_text("c,d\n")
    (tmp_path / "b.bin").write_bytes(b"\x00\xff")
    raw = {"configs": [{"attribute": "cfg", "value": '{"k": 1}'}],
           "includes": [{"name": "data", "attribute": "data", "path": "d.csv", "is_text": True, "encoding": "utf-8"},
                        {"name": "blob", "attribute": "blob", "path": "b.bin", "is_text": False}]}
    flow_file = str(tmp_path / "flow.py")
    values, rest = start_values(raw, {"alpha": "1"}, flow_file)
    assert values == {"cfg": {"k": 1}, "data": "a,b\n", "blob": b"\x00\xff"} and rest == {"alpha": "1"}
    values, rest = start_values(raw, {"data": str(tmp_path / "other.csv")}, flow_file)
    assert values["data"] == "c,d\n" and rest == {}
    with pytest.raises(ConfigError, match="cannot be read"):
        start_values(raw, {"data": str(tmp_path / "gone.csv")}, flow_file)
    required = {"includes": [{"name": "x", "attribute": "x", "path": None, "required": True}]}
    with pytest.raises(ConfigError, match="--x PATH"):
        start_values(required, {}, flow_file)


def test_a_config_table_unpacked_into_a_decorator_gives_its_arguments(tmp_path):
    a = analyze(tmp_path, '''\
        cfg = Config("cfg", default_value={"res": {"memory": 512, "cpu": 2}, "flat": 3, "typo": {"memry": 1}})

        @resources(**cfg.res)
        @step
        def start(self):
            self.next(self.end)

        @resources(**cfg["typo"])
        @step
        def end(self):
            pass
        ''', tail="")
    flow = a.flows[0]
    assert (flow.step("start").decorators.resources.memory, flow.step("start").decorators.resources.cpu) == (512, 2.0)
    (d,) = a.diagnostics
    assert d.code == "FC402" and "memry" in d.message and (d.span.line, d.span.col) == (10, 16)
    flat = analyze(tmp_path, 'cfg = Config("cfg", default_value={"flat": 3})\n', decorators="", tail='''
    @resources(**cfg.flat)
    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
''')
    assert codes(flat) == ["FC703"]


def test_a_deeply_nested_config_is_a_diagnostic_not_a_crash(tmp_path):
    deep = "[" * 5000 + "]" * 5000
    for text in ('{"a": ' + deep + "}", '{"a": ' + "[" * 900 + "]" * 900 + "}"):
        a = analyze(tmp_path, 'cfg = Config("cfg", default="c.json")\n', {"c.json": text})
        assert set(codes(a)) <= {"FC702"}


def test_an_included_file_with_a_parser_is_parsed_by_the_start_task(tmp_path):
    from flowc.runtime.configs import start_values

    a = analyze(tmp_path, 'spec = IncludeFile("spec", default="s.json", parser="json.loads")\n'
                          'bad = IncludeFile("bad", default="s.json", parser="yaml.safe_load")\n',
                {"s.json": '{"rows": [1, 2]}'})
    assert codes(a) == ["FC704"]  # the runtime parses with the standard library only
    (inc,) = a.flows[0].includes
    values, _ = start_values(json.loads(ir.dump(a.flows[0])), {}, str(tmp_path / "flow.py"))
    assert inc.parser == "json.loads" and values["spec"] == {"rows": [1, 2]}


def test_the_flow_class_decorators_read_configs_through_config_expr_only(tmp_path):
    a = analyze(tmp_path, 'cfg = Config("cfg", default_value={"p": "demo"})\n',
                decorators='@project(name=cfg.p)\n')
    (d,) = a.diagnostics
    assert d.code == "FC703" and "class attribute" in d.message and 'config_expr("cfg' in d.hint
    assert (d.span.line, d.span.col) == (2, 15)
    ok = analyze(tmp_path, 'cfg = Config("cfg", default_value={"p": "demo"})\n',
                 decorators='@project(name=config_expr("cfg.p"))\n')
    assert only_flow(ok).decorators.project.name == "demo"


def test_a_config_keeps_the_order_of_its_file(tmp_path):
    from flowc.runtime.configs import ConfigValue, start_values

    a = analyze(tmp_path, 'cfg = Config("cfg", default="c.json")\n', {"c.json": '{"zeta": 1, "alpha": {"z": 2, "a": 3}}'})
    raw = json.loads(ir.dump(only_flow(a)))
    values, _ = start_values(raw, {}, str(tmp_path / "flow.py"))
    assert list(values["cfg"]) == ["zeta", "alpha"] and list(ConfigValue(values["cfg"]).alpha) == ["z", "a"]


# ------------------------------------------------------------ files named beside the module

SCRIPT_PATH = '''
import os


def script_path(filename):
    """Metaflow's tutorials name their data files this way."""
    return os.path.join(os.path.dirname(os.path.realpath(__file__)), filename)


'''


def test_a_default_file_named_through_a_script_path_helper_or_an_inline_join(tmp_path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "c.json").write_text('{"k": 5}')
    (tmp_path / "movies.csv").write_text("a,b\n1,2\n")
    src = SCRIPT_PATH.replace("import os\n", "import os\n" + HEAD) + textwrap.dedent('''\
        class F(FlowSpec):
            movies = IncludeFile("movies", default=script_path("movies.csv"))
            cfg = Config("cfg", default=os.path.join(os.path.dirname(__file__), "conf", "c.json"))
        ''') + TAIL
    (tmp_path / "flow.py").write_text(src)
    flow = only_flow(analyze_file(tmp_path / "flow.py"))
    assert flow.includes[0].path == "movies.csv"
    assert json.loads(flow.configs[0].value) == {"k": 5}


@pytest.mark.parametrize("helper", [
    "def script_path(filename):\n    return os.path.join(os.getcwd(), filename)\n",  # not the module's folder
    "def script_path(filename):\n    print(filename)\n    return os.path.join(os.path.dirname(__file__), filename)\n",
    "def script_path(filename, other):\n    return os.path.join(os.path.dirname(__file__), filename)\n",
    "def script_path(filename):\n    return os.path.join(os.path.dirname(__file__), 'x.csv')\n",
])
def test_any_other_helper_is_still_a_call_flowc_cannot_read(tmp_path, helper):
    (tmp_path / "movies.csv").write_text("a\n")
    src = "import os\n" + HEAD + helper + textwrap.dedent('''\
        class F(FlowSpec):
            movies = IncludeFile("movies", default=script_path("movies.csv"))
        ''') + TAIL
    (tmp_path / "flow.py").write_text(src)
    assert "FC705" in codes(analyze_file(tmp_path / "flow.py"))


def test_a_base_class_in_a_subfolder_names_its_file_beside_its_own_module(tmp_path):
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("")
    (tmp_path / "common" / "rows.csv").write_text("r\n")
    (tmp_path / "common" / "base.py").write_text(SCRIPT_PATH.replace("import os\n", "import os\n" + HEAD)
                                                 + 'class Base(FlowSpec):\n'
                                                   '    rows = IncludeFile("rows", default=script_path("rows.csv"))\n')
    (tmp_path / "flow.py").write_text(HEAD + "from common.base import Base\n\nclass F(Base):\n" + TAIL)
    flow = only_flow(analyze_file(tmp_path / "flow.py"))
    assert flow.includes[0].path == "common/rows.csv"
