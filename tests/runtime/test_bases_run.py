"""A flow whose base class lives in another module of the project runs with
`flowc run`, and its code package carries that module: beside the flow, or
at the project root under its import path (compiler/modules.py)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

from flowc.compiler import load_flow
from flowc.compiler import ir
from flowc.runtime import package
from flowc.runtime.client import Run

BASE = '''
    from flowc import FlowSpec, Parameter, step

    class BaseFlow(FlowSpec):
        rate = Parameter("rate", default=2)

        @step
        def start(self):
            self.x = self.rate * 3
            self.next(self.end)

        @step
        def end(self):
            self.y = self.x + 1
'''


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    (root / "shared").mkdir()
    (root / "shared" / "__init__.py").write_text("")
    (root / "shared" / "base.py").write_text(textwrap.dedent(BASE))
    (root / "flows").mkdir()
    flow = root / "flows" / "f.py"
    flow.write_text("from shared.base import BaseFlow\n\n\nclass RootBaseFlow(BaseFlow):\n    pass\n")
    return flow


def test_a_base_at_the_project_root_runs_and_is_packaged(tmp_path: Path) -> None:
    flow_file = make_project(tmp_path / "proj")
    ds = tmp_path / "ds"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, "-m", "flowc", "run", str(flow_file), "--datastore", str(ds), "--rate", "5"],
                       capture_output=True, text=True, cwd=tmp_path, env=env, timeout=180)
    assert r.returncode == 0, r.stdout + r.stderr
    assert Run("RootBaseFlow/1", str(ds))["end"].task.data.y == 16

    flow = load_flow(flow_file)
    assert flow.source.modules == ("shared/__init__.py", "shared/base.py")
    files = package.package_files(str(flow_file), ir.dump(flow).encode(), flow.name, flow.source.modules)
    assert files["shared/base.py"] == (tmp_path / "proj" / "shared" / "base.py").read_bytes()
    with tarfile.open(fileobj=io.BytesIO(package.build(files)), mode="r:gz") as tar:
        assert sorted(tar.getnames()) == ["RootBaseFlow.ir.json", "f.py", "shared/__init__.py", "shared/base.py"]


def test_a_root_base_carries_its_package_and_what_it_imports_from_the_root(tmp_path: Path) -> None:
    flow_file = make_project(tmp_path / "proj")
    root = tmp_path / "proj"
    (root / "shared" / "helpers.py").write_text("def double(x):\n    return 2 * x\n")
    (root / "utils.py").write_text("K = 1\n")
    base = (root / "shared" / "base.py").read_text()
    (root / "shared" / "base.py").write_text("from .helpers import double\nimport utils\n" + base)
    flow = load_flow(flow_file)
    assert flow.source.modules == ("shared/__init__.py", "shared/base.py", "shared/helpers.py", "utils.py")
