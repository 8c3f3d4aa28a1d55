"""Flow base classes and mixins defined in other modules of the project
(compiler/bases.py): found against the flow's folder, a package's relative
imports and the project root, read without importing, linearized as Python
does (C3), and reported by name when flowc cannot read them."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from flowc.compiler import analyze_file
from flowc.compiler.discover import flow_files, looks_like_flow


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")


BASE = '''
    from flowc import FlowSpec, Parameter, step

    RATE = 0.5

    class BaseFlow(FlowSpec):
        rate = Parameter("rate", default=RATE)

        @step
        def start(self):
            self.x = 1
            self.next(self.middle)

        @step
        def middle(self):
            self.where = "base"
            self.next(self.end)

        @step
        def end(self):
            print(self.where)
'''


def project(tmp_path: Path, files: dict[str, str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    write(tmp_path, files)
    return tmp_path


def errors(analysis) -> list[str]:
    return [f"{d.code} {d.span}: {d.message}" for d in analysis.diagnostics if d.is_error]


def test_a_base_flow_in_a_package_gives_its_steps_and_parameters(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "flows/common/__init__.py": "",
        "flows/common/base.py": BASE,
        "flows/train.py": '''
            from common.base import BaseFlow

            class TrainFlow(BaseFlow):
                pass
        ''',
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flows" / "train.py")
    assert errors(a) == []
    flow = a.flow()
    assert [s.name for s in flow.steps] == ["start", "middle", "end"]
    (rate,) = flow.parameters
    assert (rate.name, rate.default) == ("rate", 0.5)  # RATE is the base module's constant
    assert rate.span.file == "flows/common/base.py" and rate.span.line == 7
    assert flow.step("middle").span.file == "flows/common/base.py"
    assert "common/base.py" in flow.source.modules  # the code package carries it


def test_a_step_overridden_in_the_subclass_replaces_the_bases(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "common/__init__.py": "from .base import BaseFlow\n",  # a re-export by relative import
        "common/base.py": BASE,
        "flow.py": '''
            from flowc import step
            from common import BaseFlow

            class F(BaseFlow):
                @step
                def middle(self):
                    self.where = "subclass"
                    self.next(self.end)
        ''',
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    assert errors(a) == []
    middle = a.flow().step("middle")
    assert middle.span.file == "flow.py"
    assert [s.name for s in a.flow().steps] == ["middle", "start", "end"]


def test_mro_follows_c3_for_diamonds_across_modules(tmp_path: Path, monkeypatch) -> None:
    """class F(Left, Right): Left and Right both derive from Root and define
    `middle`; Python's MRO is F, Left, Right, Root, so Left's wins; Right's
    wins over Root's for a step Left does not define."""
    root = project(tmp_path, {
        "mixins/__init__.py": "",
        "mixins/root.py": '''
            from flowc import step

            class Root:
                @step
                def middle(self):
                    self.who = "root"
                    self.next(self.other)

                @step
                def other(self):
                    self.other_who = "root"
                    self.next(self.end)
        ''',
        "mixins/left.py": '''
            from flowc import step
            from .root import Root

            class Left(Root):
                @step
                def middle(self):
                    self.who = "left"
                    self.next(self.other)
        ''',
        "mixins/right.py": '''
            from flowc import step
            from . import root

            class Right(root.Root):
                @step
                def middle(self):
                    self.who = "right"
                    self.next(self.other)

                @step
                def other(self):
                    self.other_who = "right"
                    self.next(self.end)
        ''',
        "flow.py": '''
            from flowc import FlowSpec, step
            from mixins.left import Left
            import mixins.right

            class F(Left, mixins.right.Right, FlowSpec):
                @step
                def start(self):
                    self.next(self.middle)

                @step
                def end(self):
                    pass
        ''',
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    assert errors(a) == []
    flow = a.flow()
    assert flow.step("middle").span.file == "mixins/left.py"
    assert flow.step("other").span.file == "mixins/right.py"


def test_a_base_at_the_project_root_is_found_from_a_flow_in_a_subfolder(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "shared/__init__.py": "",
        "shared/base.py": BASE,
        "flows/f.py": '''
            from shared.base import BaseFlow

            class F(BaseFlow):
                """Steps from the project root's shared package."""
        ''',
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flows" / "f.py")
    assert [s.name for s in a.flow().steps] == ["start", "middle", "end"]
    assert looks_like_flow(root / "flows" / "f.py")


def test_a_base_from_an_installed_package_is_named_in_the_diagnostic(tmp_path: Path, monkeypatch) -> None:
    pkg = tmp_path / "site" / "obproject"
    write(pkg, {"__init__.py": "class ProjectFlow:\n    pass\n"})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    root = project(tmp_path / "proj", {
        "flow.py": '''
            from flowc import step
            from obproject import ProjectFlow

            class F(ProjectFlow):
                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
        ''',
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    (d,) = [d for d in a.diagnostics if d.is_error]
    assert d.code == "FC720"
    assert "ProjectFlow" in d.message and "obproject" in d.message
    assert (d.span.file, d.span.line, d.span.col) == ("flow.py", 5, 9)
    assert "obproject" not in sys.modules  # looked up, never imported
    assert looks_like_flow(root / "flow.py")  # so `flowc check DIR` reports it


def test_a_missing_module_and_a_missing_class_are_reported(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "common/__init__.py": "",
        "common/base.py": "X = 1\n",
        "flow.py": '''
            from flowc import FlowSpec, step
            from common.base import BaseFlow
            from nowhere_to_be_found import Mixin

            class F(Mixin, BaseFlow, FlowSpec):
                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
        ''',
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    got = sorted((d.code, d.span.col) for d in a.diagnostics if d.is_error)
    assert got == [("FC005", 9), ("FC721", 16)]
    by_code = {d.code: d for d in a.diagnostics}
    assert "nowhere_to_be_found" in by_code["FC005"].message and "Mixin" in by_code["FC005"].message
    assert "common/base.py defines no class BaseFlow" in by_code["FC721"].message


def test_diagnostics_in_a_base_module_point_into_it_and_show_its_line(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "common/__init__.py": "",
        "common/base.py": '''
            from flowc import FlowSpec, Parameter, step

            class BaseFlow(FlowSpec):
                size = Parameter("size", default=compute())

                @step
                def start(self):
                    self.next(self.nowhere)
        ''',
        "flow.py": '''
            from flowc import step
            from common.base import BaseFlow

            class F(BaseFlow):
                @step
                def end(self):
                    pass
        ''',
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    spans = {d.code: d.span for d in a.diagnostics if d.is_error}
    assert spans["FC302"].file == "common/base.py" and spans["FC302"].line == 5
    assert spans["FC110"].file == "common/base.py" and spans["FC110"].line == 9
    assert "common/base.py" in a.sources  # what renders the source line and caret
    assert "self.next(self.nowhere)" in a.sources["common/base.py"][8]


def test_a_module_imported_by_name_and_an_aliased_import(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "common/__init__.py": "",
        "common/base.py": BASE,
        "flow.py": '''
            import common.base as cb

            class F(cb.BaseFlow):
                """Derives through an aliased module."""
        ''',
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    assert errors(a) == []
    assert [p.name for p in a.flow().parameters] == ["rate"]
    assert sorted(p.name for p in flow_files([str(root)])) == ["base.py", "flow.py"]


def test_standard_library_and_builtin_bases_are_neutral(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "flow.py": '''
            import abc
            from flowc import FlowSpec, step

            class F(FlowSpec, abc.ABC, object):
                @step
                def start(self):
                    self.next(self.end)

                @step
                def end(self):
                    pass
        ''',
    })
    monkeypatch.chdir(root)
    assert analyze_file(root / "flow.py").diagnostics == ()


def test_a_base_flow_of_a_namespace_package_is_carried(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "lib/base.py": BASE,  # no __init__.py: a namespace package
        "flow.py": "from lib.base import BaseFlow\n\n\nclass F(BaseFlow):\n    pass\n",
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    assert errors(a) == []
    assert a.flow().source.modules == ("lib/base.py",)


def test_discovery_follows_a_package_reexport_and_a_module_attribute() -> None:
    from tests.conftest import REPO

    compat = REPO / "tests" / "flows" / "metaflow_compat"
    names = {p.name for p in flow_files([str(compat)])}
    # bases_package: `from common import BaseFlow` (re-exported by common/__init__.py) and common.mixins.FanOutMixin
    assert {"bases_absolute.py", "bases_package.py", "bases_inherited.py"} <= names
    assert "mixins.py" not in names and "helpers.py" not in names  # mixins without FlowSpec are no flows


def test_flow_decorators_of_a_base_flow_are_inherited_and_twice_is_an_error(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "common/__init__.py": "",
        "common/base.py": "from flowc import project\n" + textwrap.dedent(BASE).replace(
            "class BaseFlow(FlowSpec):", "@project(name='shared_project')\nclass BaseFlow(FlowSpec):"),
        "flow.py": "from common.base import BaseFlow\n\n\nclass F(BaseFlow):\n    pass\n",
        "twice.py": "from flowc import project\nfrom common.base import BaseFlow\n\n\n"
                    "@project(name='mine')\nclass G(BaseFlow):\n    pass\n",
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    assert errors(a) == []
    assert a.flow().decorators.project.name == "shared_project"
    b = analyze_file(root / "twice.py")
    (d,) = [d for d in b.diagnostics if d.is_error]
    assert d.code == "FC405" and d.span.file == "common/base.py" and "BaseFlow" in d.message


def test_a_submodule_imported_with_from_import(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "common/__init__.py": "",
        "common/base.py": BASE,
        "flow.py": "from common import base\n\n\nclass F(base.BaseFlow):\n    pass\n",
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    assert errors(a) == []
    assert [s.name for s in a.flow().steps] == ["start", "middle", "end"]
    assert looks_like_flow(root / "flow.py")


def test_base_modules_are_read_never_imported(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "sidefx/__init__.py": "raise SystemExit('the package was imported')\n",
        "sidefx/base.py": "raise SystemExit('the module was imported')\n" + textwrap.dedent(BASE),
        "flow.py": "from sidefx.base import BaseFlow\n\n\nclass F(BaseFlow):\n    pass\n",
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    assert errors(a) == [] and len(a.flow().steps) == 3
    assert not any(m.startswith("sidefx") for m in sys.modules)


def test_bases_python_cannot_order_are_an_error(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "common/__init__.py": "",
        "common/base.py": BASE,
        "flow.py": "from common.base import BaseFlow\nfrom flowc import FlowSpec\n\n\n"
                   "class F(FlowSpec, BaseFlow):  # FlowSpec before its own subclass\n    pass\n",
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    assert [(d.code, d.span.line) for d in a.diagnostics if d.is_error] == [("FC721", 5)]


def test_a_base_module_that_does_not_parse_is_named_with_its_error(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "common/__init__.py": "",
        "common/base.py": "class BaseFlow(:\n    pass\n",
        "flow.py": "from common.base import BaseFlow\n\n\nclass F(BaseFlow):\n    pass\n",
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    (d,) = [d for d in a.diagnostics if d.is_error]
    assert d.code == "FC721" and "common/base.py:1:" in d.message and "not valid Python" in d.message


def test_a_flow_with_only_an_installed_base_names_it_rather_than_no_flow(tmp_path: Path, monkeypatch) -> None:
    pkg = tmp_path / "site" / "obproject"
    write(pkg, {"__init__.py": "class ProjectFlow:\n    pass\n"})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    root = project(tmp_path / "proj", {
        "flow.py": "from obproject import ProjectFlow\n\n\nclass F(ProjectFlow):\n    pass\n",
        "model.py": "from obproject import Layer\n\n\nclass Model(Layer):\n    pass\n",
    })
    monkeypatch.chdir(root)
    (d,) = [d for d in analyze_file(root / "flow.py").diagnostics if d.is_error]
    assert d.code == "FC720" and "ProjectFlow" in d.message
    (d,) = [d for d in analyze_file(root / "model.py").diagnostics if d.is_error]
    assert d.code == "FC002"  # a class deriving from a package's class that is no flow: no flow here


def test_a_config_declared_in_a_base_module_is_read_there_and_resolves(tmp_path: Path, monkeypatch) -> None:
    root = project(tmp_path, {
        "common/__init__.py": "",
        "common/base.py": '''
            from flowc import Config, FlowSpec, Parameter, resources, step

            class Base(FlowSpec):
                cfg = Config("cfg", default="cfg.json")
                lr = Parameter("lr", default=cfg.lr)

                @resources(memory=cfg.memory)
                @step
                def start(self):
                    self.next(self.end)
        ''',
        "cfg.json": '{"lr": 0.5, "memory": 2048}',
        "flow.py": '''
            from flowc import step
            from common.base import Base

            class Child(Base):
                @step
                def end(self):
                    pass
        ''',
    })
    monkeypatch.chdir(root)
    a = analyze_file(root / "flow.py")
    assert errors(a) == []
    flow = a.flow()
    (cfg,) = flow.configs
    assert cfg.span.file == "common/base.py"
    (lr,) = flow.parameters
    assert lr.default == 0.5
    assert flow.step("start").decorators.resources.memory == 2048
