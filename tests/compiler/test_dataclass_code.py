"""Dataclass methods compiled once and kept (compiler/dataclass_code.py): a
class made from kept code is the class made without it, in every detail of
its generated methods; what one process compiles the next one finds; a
damaged, foreign or overgrown file only means compiling again."""

from __future__ import annotations

import dataclasses
import json
import marshal
import os
import subprocess
import sys
from pathlib import Path

import pytest

from flowc.compiler import dataclass_code
from tests.conftest import REPO

# Every method dataclasses generated for libcst's node classes and the IR's,
# described by everything that makes two code objects behave alike.
METHODS = r'''
import dataclasses, inspect, json, sys, types
from flowc.compiler import dataclass_code
if sys.argv[1] == "on":
    dataclass_code.install()
import libcst
from flowc.compiler import ir

def describe(code):
    return [code.co_name, getattr(code, "co_qualname", ""), code.co_code.hex(),
            [describe(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts],
            list(code.co_names), list(code.co_varnames), list(code.co_freevars), code.co_flags,
            code.co_argcount, code.co_kwonlyargcount, code.co_filename, list(code.co_lines())]

methods = {}
for module in (libcst, ir):
    for name, cls in sorted(vars(module).items()):
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            for attr, fn in sorted(vars(cls).items()):
                fn = inspect.unwrap(fn) if callable(fn) else fn
                code = getattr(fn, "__code__", None)
                if code is not None and code.co_filename == "<string>":
                    methods[f"{module.__name__}.{name}.{attr}"] = [describe(code), repr(fn.__annotations__),
                                                                   repr(fn.__defaults__), repr(fn.__kwdefaults__)]
print(json.dumps({"counts": dataclass_code.counts(), "methods": methods}))
'''


def _methods(mode: str, cache: Path) -> dict:
    r = subprocess.run([sys.executable, "-c", METHODS, mode], cwd=REPO, capture_output=True, text=True,
                       timeout=120, env={**os.environ, "FLOWC_CACHE_DIR": str(cache)})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_classes_made_from_kept_code_are_the_classes_made_without_it(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plain = _methods("off", cache)
    assert plain["counts"] == {"kept": 0, "compiled": 0}
    assert len(plain["methods"]) > 600  # of libcst's ~180 public node classes and the IR's 24

    first = _methods("on", cache)  # compiled through dataclass_code, nothing kept yet
    assert first["counts"]["compiled"] > 500 and first["methods"] == plain["methods"]


def _save_in_child(cache: Path, body: str = "import libcst\nfrom flowc.compiler import ir\n") -> dict:
    script = ("import json\nfrom flowc.compiler import dataclass_code\ndataclass_code.install()\n" + body
              + "dataclass_code.save()\nprint(json.dumps(dataclass_code.counts()))\n")
    r = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "FLOWC_CACHE_DIR": str(cache)})
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.splitlines()[-1])


def test_what_one_process_compiles_the_next_finds_and_makes_the_same_classes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    plain = _methods("off", cache)
    saved = _save_in_child(cache)
    assert saved["compiled"] > 500
    shards = sorted(p.name for p in (cache / "dataclass-code").iterdir() for p in p.iterdir())
    assert shards == ["flowc.marshal", "libcst.marshal"]
    again = _methods("on", cache)
    assert again["counts"]["compiled"] == 0 and again["counts"]["kept"] >= len(plain["methods"])
    assert again["methods"] == plain["methods"]


def test_a_flowc_run_keeps_the_code_its_analysis_child_and_its_runner_compiled(tmp_path: Path) -> None:
    """libcst is loaded only in the analysis child (compiler/apart.py): the child saves it."""
    cache = tmp_path / "cache"

    def run() -> dict[str, int]:
        r = subprocess.run([sys.executable, "-m", "flowc", "run", "examples/switch_flow.py", "-q", "--datastore",
                            str(tmp_path / "ds")], cwd=REPO, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "FLOWC_CACHE_DIR": str(cache)})
        assert r.returncode == 0, r.stderr
        folder = next((cache / "dataclass-code").iterdir())
        return {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}

    first = run()
    assert sorted(first) == ["flowc.marshal", "libcst.marshal"]
    for entry in cache.iterdir():  # the analysis: a new flow again, so libcst is loaded again
        if entry.name != "dataclass-code":
            subprocess.run(["rm", "-rf", str(entry)], check=True)
    assert run() == first  # nothing compiled anew, nothing written


@pytest.fixture
def kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """dataclass_code installed in this process over a folder of the test's own."""
    monkeypatch.setenv("FLOWC_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(dataclass_code, "KEPT", dataclass_code.KEPT | {"tests"})
    dataclass_code.uninstall()
    dataclass_code.install()
    try:
        yield Path(dataclass_code._folder[0])
    finally:
        dataclass_code.uninstall()


def _make(name: str, *fields: str, module: str = __name__) -> type:
    """A dataclass of this module (so its code goes to the "tests" file), or of ``module``."""
    return dataclasses.make_dataclass(name, [(f, int, 0) for f in fields], namespace={"__module__": module},
                                      frozen=True)


def test_a_class_of_another_package_is_compiled_as_dataclasses_would(kept: Path) -> None:
    """A flow's own module (in a task forked from `flowc run`): nothing kept, read or written for it."""
    import types

    user = types.ModuleType("myflow")
    sys.modules["myflow"] = user
    try:
        cls = _make("Row", "a", "b", module="myflow")
    finally:
        del sys.modules["myflow"]
    assert cls(1, 2) == cls(1, 2) and cls.__init__.__annotations__["return"] is None
    assert dataclass_code.counts() == {"kept": 0, "compiled": 0} and "myflow" not in dataclass_code._used
    dataclass_code.save()
    assert not kept.exists()


def test_the_code_inherits_no_future_flag_from_flowc(kept: Path) -> None:
    """This module, as dataclass_code.py, has `from __future__ import annotations`: were it inherited, the
    generated __init__ would be annotated with strings, not with None."""
    cls = _make("Point", "x", "y")
    assert cls.__init__.__annotations__["return"] is None
    assert dataclass_code.counts()["compiled"] > 0
    assert cls(1, 2) == cls(1, 2) and cls(1, 2) != cls(2, 1) and repr(cls(1, 2)) == "Point(x=1, y=2)"


def test_a_damaged_file_means_compiling_again_and_writing_it_anew(kept: Path) -> None:
    kept.mkdir(parents=True)
    (kept / "tests.marshal").write_bytes(b"\x00not marshal data")
    cls = _make("Damaged", "a")
    assert cls(a=3).a == 3 and dataclass_code.counts()["kept"] == 0
    dataclass_code.save()
    texts = marshal.loads((kept / "tests.marshal").read_bytes())
    assert isinstance(texts, dict) and set(texts) == dataclass_code._used["tests"]


def test_save_adds_to_what_another_process_wrote_meanwhile(kept: Path) -> None:
    _make("Mine", "m")  # loads the (missing) file
    kept.mkdir(parents=True, exist_ok=True)
    theirs = "def __create_fn__():\n def f(): return 1\n return f"
    (kept / "tests.marshal").write_bytes(marshal.dumps({theirs: compile(theirs, "<string>", "exec")}))
    dataclass_code.save()
    texts = marshal.loads((kept / "tests.marshal").read_bytes())
    assert set(texts) == {theirs, *dataclass_code._used["tests"]}


def test_an_overgrown_file_is_written_again_with_what_this_process_used(kept: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dataclass_code, "MAX_TEXTS", 8)
    kept.mkdir(parents=True)
    old = {f"x = {i}": compile(f"x = {i}", "<string>", "exec") for i in range(20)}
    (kept / "tests.marshal").write_bytes(marshal.dumps(old))
    _make("Fresh", "f")
    dataclass_code.save()
    texts = marshal.loads((kept / "tests.marshal").read_bytes())
    assert set(texts) == dataclass_code._used["tests"]


def test_nothing_is_installed_when_the_cache_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWC_CACHE_DIR", "off")
    dataclass_code.uninstall()
    try:
        dataclass_code.install()
        assert "exec" not in vars(dataclasses)
        dataclass_code.save()  # nothing to write, nowhere to write it
    finally:
        dataclass_code.uninstall()
