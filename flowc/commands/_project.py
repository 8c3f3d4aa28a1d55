"""Compiling a whole project: every configured flow for every configured
target, into each target's output folder, with its manifest.

The work is planned per (target, flow file). A flow file whose inputs did
not change since the manifest was written (the file and the modules it
imports from beside it, the target's settings, flowc's own compiler code)
and whose generated files are still on disk, untouched, is not compiled
again: that is what keeps the pre-commit hook and `flowc compile --check`
fast. ``force`` compiles everything.

Layout: a target whose output is one file per flow (Argo, Airflow) writes
it straight into its folder; a target writing several files per flow
(Prefect, Step Functions) writes them into ``<folder>/<FlowName>/``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowc import __version__, config
from flowc.commands import _manifest as mf

SKIP_DIRS = {".git", ".hg", ".venv", "venv", "node_modules", "__pycache__", "build", "dist", ".tox", ".flowc"}
GLOB_CHARS = set("*?[")


# ------------------------------------------------------------ the plan


@dataclass
class TargetPlan:
    name: str
    folder: str  # relative to the project's folder, POSIX
    folder_origin: str
    flags: dict[str, Any] = field(default_factory=dict)  # option flags (values as given)
    config_sha256: str = ""

    def path(self, project: "Project") -> Path:
        return project.root / self.folder


@dataclass
class Project:
    config: config.ProjectConfig
    root: Path  # absolute
    settings: dict[str, config.Setting]
    targets: list[TargetPlan]
    flows: list[str]  # flow files, relative to root, POSIX, sorted

    def shown(self, rel: str) -> str:
        """A project path as people see it: relative to the current folder."""
        try:
            return Path(os.path.relpath(self.root / rel)).as_posix()
        except ValueError:
            return (self.root / rel).as_posix()


def open_project(project_flags: dict[str, Any] | None = None, target_flags: dict[str, dict[str, Any]] | None = None,
                 start: Path | None = None) -> Project:
    """Read the configuration and find the flows. Raises config.ConfigError.
    ``target_flags``: option flags for each target (by target name)."""
    cfg = config.load(start)
    if cfg.path is None:
        raise config.ConfigError("no pyproject.toml here or in any folder above; add one with a [tool.flowc] "
                                 "table (see `flowc config`), or name a FLOW.py and a --target")
    settings = config.project_settings(cfg, project_flags)
    target_flags = target_flags or {}
    names = settings["targets"].value
    if not names:
        raise config.ConfigError(f"{cfg.path.as_posix()}: no targets: set targets = [\"argo\", ...] in [tool.flowc], "
                                 f"or pass --target")
    if len(set(names)) != len(names):
        raise config.ConfigError(f"{settings['targets'].origin}: a target is named twice in targets")
    plans = []
    for name in names:
        out = config.output_setting(cfg, name, target_flags.get(name, {}).get("output"), settings["output"])
        folder = _relative_folder(out.value, out.origin)
        plans.append(TargetPlan(name, folder, out.origin, {k: v for k, v in target_flags.get(name, {}).items()
                                                           if k != "output"}))
    seen: dict[str, str] = {}
    for plan in plans:
        if plan.folder in seen:
            raise config.ConfigError(f"{plan.folder_origin}: targets {seen[plan.folder]} and {plan.name} both write "
                                     f"to {plan.folder}/; give each target its own output folder")
        seen[plan.folder] = plan.name
    root = cfg.folder
    for plan in plans:
        plan.config_sha256 = _config_sha(cfg, plan)
    flows = find_flows(root, settings["flows"], settings["exclude"].value, [p.folder for p in plans], cfg)
    return Project(cfg, root, settings, plans, flows)


def _relative_folder(value: str, origin: str) -> str:
    p = Path(value)
    if p.is_absolute() or ".." in p.parts or not value.strip():
        raise config.ConfigError(f"{origin}: output {value!r} must be a folder inside the project "
                                 f"(relative to pyproject.toml's folder)")
    return p.as_posix().rstrip("/") or "."


def _config_sha(cfg: config.ProjectConfig, plan: TargetPlan) -> str:
    """What, besides the flow and flowc itself, decides this target's output:
    its own table, the shared values of [tool.flowc], and the flags."""
    shared = {k: v for k, v in cfg.table.items() if not isinstance(v, dict)
              and k not in ("flows", "exclude", "targets", "output")}
    section = cfg.table.get(plan.name, {})
    own = {k: v for k, v in section.items() if k != "output"} if isinstance(section, dict) else section
    data = {"target": plan.name, "shared": shared, "own": own, "flags": plan.flags, "folder": plan.folder}
    return mf.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8"))


# ------------------------------------------------------------ finding flows


def _glob_regex(pattern: str) -> re.Pattern:
    """A glob over POSIX relative paths: ``*`` and ``?`` stay within a folder,
    ``**`` crosses folders."""
    out, i = "", 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif ch == "*":
            out, i = out + "[^/]*", i + 1
        elif ch == "?":
            out, i = out + "[^/]", i + 1
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out, i = out + re.escape(ch), i + 1
            else:
                body = pattern[i + 1:end]
                out, i = out + "[" + ("^" + body[1:] if body.startswith("!") else body) + "]", end + 1
        else:
            out, i = out + re.escape(ch), i + 1
    return re.compile(out + r"\Z")


def _walk(root: Path, start: str) -> list[str]:
    """``*.py`` files under ``root/start``, relative to root, skipping
    virtual environments, caches and hidden folders."""
    out = []
    base = root / start if start else root
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".py"):
                out.append(Path(os.path.relpath(os.path.join(folder, name), root)).as_posix())
    return out


def mentions_flowspec(path: Path) -> bool:
    """The test folder discovery uses (compiler/discover.py): the module
    defines a class deriving from FlowSpec (a mention in a docstring is not one)."""
    from flowc.compiler.discover import looks_like_flow

    return looks_like_flow(path)


def _excluded(rel: str, patterns: list[str]) -> bool:
    for pat in patterns:
        pat = pat.strip().rstrip("/")
        if not pat:
            continue
        if GLOB_CHARS & set(pat):
            if _glob_regex(pat).match(rel):
                return True
        elif rel == pat or rel.startswith(pat + "/") or pat == ".":
            return True
    return False


def find_flows(root: Path, flows: config.Setting, exclude: list[str], outputs: list[str],
               cfg: config.ProjectConfig) -> list[str]:
    """The project's flow files: each ``flows`` entry is a file, a folder
    (searched for files defining a flow class) or a glob (files it matches
    that define one). Output folders and ``exclude`` globs are left out."""
    found: list[str] = []
    for entry in flows.value:
        entry = entry.strip()
        if GLOB_CHARS & set(entry):
            literal = []
            for part in entry.split("/"):
                if GLOB_CHARS & set(part):
                    break
                literal.append(part)
            start = "/".join(literal)
            if not (root / start).is_dir():
                continue
            regex = _glob_regex(entry.lstrip("./") if entry.startswith("./") else entry)
            found += [rel for rel in _walk(root, start) if regex.match(rel) and mentions_flowspec(root / rel)]
            continue
        path = root / entry
        if path.is_dir():
            rel_start = Path(os.path.relpath(path, root)).as_posix()
            found += [rel for rel in _walk(root, "" if rel_start == "." else rel_start)
                      if mentions_flowspec(root / rel)]
        elif path.is_file():
            found.append(Path(os.path.relpath(path, root)).as_posix())
        else:
            raise config.ConfigError(f"{flows.origin}: flows entry {entry!r} is no file, folder or glob "
                                     f"in {cfg.path.parent.as_posix() if cfg.path else '.'}")
    out = []
    for rel in dict.fromkeys(found):
        if rel.startswith("../") or _excluded(rel, exclude) or _excluded(rel, outputs):
            continue
        out.append(rel)
    return sorted(out)


# ------------------------------------------------------------ fingerprints


def compiler_sha256() -> str:
    """sha256 of the code that decides what flowc generates (the compiler,
    the targets and their templates, the code-package rules): a manifest
    written by other code is out of date, even under the same version."""
    from flowc.fingerprint import code_sha256

    return code_sha256(("flowc.compiler", "flowc.targets"),
                       ("flowc", "flowc.packaging", "flowc.runtime.package", "flowc.commands._project"))


# ------------------------------------------------------------ building


@dataclass
class Problem:
    """A generated file that is not what flowc would write now."""

    path: str  # relative to the project's folder
    kind: str  # "missing", "stale", "orphan" (no flow generates it any more), "manifest"
    why: str
    expected: bytes | None = None  # what flowc would write (None: it would remove the file)
    actual: bytes | None = None
    source: str = ""  # the flow file it comes from
    line: int = 1  # the flow's class line in it


@dataclass
class TargetBuild:
    plan: TargetPlan
    old: mf.Manifest | None
    manifest: mf.Manifest
    files: dict[str, bytes] = field(default_factory=dict)  # compiled now: path in folder -> bytes
    lines: dict[str, int] = field(default_factory=dict)  # path in folder -> the flow's line
    compiled: list[str] = field(default_factory=list)  # flow files compiled again
    old_error: str = ""  # why the old manifest could not be read


@dataclass
class Build:
    project: Project
    targets: list[TargetBuild] = field(default_factory=list)
    diagnostics: list = field(default_factory=list)  # Diagnostic, from every flow and target

    @property
    def failed(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


class _Inputs:
    """The flow files' analyses and code packages, each computed once and
    shared by every target."""

    def __init__(self, root: Path):
        self.root = root
        self.analyses: dict[str, Any] = {}
        self.checked: dict[str, tuple] = {}
        self.packages: dict[tuple[str, str], str] = {}

    def analysis(self, rel: str):
        if rel not in self.analyses:
            from flowc.commands._output import remember
            from flowc.compiler import analyze_file

            analysis = analyze_file(self.root / rel)
            for shown, lines in analysis.sources.items():  # the flow and the modules of its base classes
                remember(shown, lines)
            self.analyses[rel] = analysis
        return self.analyses[rel]

    def flows(self, rel: str, result: "Build"):
        """The checked flows of one file and the modules it imports from
        beside it; (None, ()) when it has errors (recorded once in ``result``)."""
        if rel not in self.checked:
            self.checked[rel] = _flows_of(self.analysis(rel), result)
        return self.checked[rel]

    def package_sha(self, rel: str, flow) -> str:
        key = (rel, flow.name)
        if key not in self.packages:
            from flowc.packaging import code_package

            self.packages[key] = code_package(flow, self.root / rel)[1]
        return self.packages[key]


def _module_file(flow_file: Path, module: str) -> Path:
    """A module the IR lists: beside the flow, or at the project root (a base class's module)."""
    from flowc.runtime.package import module_path

    return Path(module_path(str(flow_file), module))


def _source_record(root: Path, rel: str, modules: tuple[str, ...] | list[str], flows: list[str]) -> mf.SourceRecord:
    return mf.SourceRecord(
        sha256=mf.sha256_file(root / rel) or "",
        flows=sorted(flows),
        modules={m: mf.sha256_file(_module_file(root / rel, m)) or "" for m in sorted(modules)},
    )


def _dirty(project: Project, plan: TargetPlan, old: mf.Manifest | None, compiler: str) -> set[str]:
    """The flow files this target must compile again."""
    flows = set(project.flows)
    if (old is None or old.target != plan.name or old.flowc_version != __version__
            or old.compiler_sha256 != compiler or old.config_sha256 != plan.config_sha256):
        return flows
    folder = plan.path(project)
    dirty = set()
    for rel in flows:
        rec = old.sources.get(rel)
        if rec is None or mf.sha256_file(project.root / rel) != rec.sha256:
            dirty.add(rel)
            continue
        if any(mf.sha256_file(_module_file(project.root / rel, m)) != sha for m, sha in rec.modules.items()):
            dirty.add(rel)
            continue
        if any(mf.sha256_file(folder / f) != frec.sha256 for f, frec in old.files_of(rel).items()):
            dirty.add(rel)
    return dirty


def build(project: Project, *, force: bool = False, unsupported_level: str = "error") -> Build:
    """Compile what needs compiling, in memory; nothing is written here."""
    result = Build(project)
    compiler = compiler_sha256()
    inputs = _Inputs(project.root)
    shared = None
    for plan in project.targets:
        folder = plan.path(project)
        old, old_error = None, ""
        try:
            old = mf.read(folder)
        except mf.ManifestError as exc:
            old_error = str(exc)
        dirty = set(project.flows) if force else _dirty(project, plan, old, compiler)
        manifest = mf.Manifest(plan.name, __version__, compiler, plan.config_sha256)
        tb = TargetBuild(plan, old, manifest, old_error=old_error)
        result.targets.append(tb)
        for rel in project.flows:  # clean flow files keep their records
            if rel not in dirty and old is not None:
                manifest.sources[rel] = old.sources[rel]
                manifest.files.update(old.files_of(rel))
        if not dirty and old is not None and old.config_sha256 == plan.config_sha256:
            continue  # settings checked when this manifest was written
        if shared is None:
            config.check_target_names(project.config, [p.name for p in project.targets],
                                      project.settings["targets"].origin)
            shared = config.shared_settings(project.config)
        target = _make_target(project, plan, shared, unsupported_level)
        owner: dict[str, str] = {f: rec.flow for f, rec in manifest.files.items()}
        for rel in sorted(dirty):
            tb.compiled.append(rel)
            flows, modules = inputs.flows(rel, result)
            if flows is None:
                continue
            manifest.sources[rel] = _source_record(project.root, rel, modules, [f.name for f in flows])
            for flow in flows:
                try:
                    target.package_sha = None
                    if not target.option("code_package"):
                        target.package_sha = inputs.package_sha(rel, flow)
                    output = target.compile(flow)
                except _compile_error() as exc:
                    from flowc.commands._output import remember

                    for path, lines in exc.sources.items():
                        remember(path, lines)
                    result.diagnostics.extend(exc.diagnostics)
                    continue
                result.diagnostics.extend(output.diagnostics)
                for name, data in sorted(output.files.items()):
                    path = name if target.OUTPUT_KIND == "file" else f"{flow.name}/{name}"
                    if path == mf.NAME:
                        raise config.ConfigError(f"target {plan.name} writes a file called {mf.NAME}")
                    if path in owner and owner[path] != flow.name:
                        from flowc.compiler.diagnostics import ERROR, Diagnostic

                        result.diagnostics.append(Diagnostic(
                            "FC501", ERROR, f"{plan.name}: flows {owner[path]} and {flow.name} both generate "
                            f"{plan.folder}/{path}", flow.span, "rename one flow, or give it its own name option"))
                        continue
                    owner[path] = flow.name
                    tb.files[path] = data
                    tb.lines[path] = flow.span.line
                    manifest.files[path] = mf.FileRecord(flow.name, rel, manifest.sources[rel].sha256,
                                                         mf.sha256(data), target.code_package_url(flow))
    return result


def _compile_error():
    from flowc.compiler.diagnostics import CompileError

    return CompileError


def _flows_of(analysis, result: Build):
    """The checked flows of one file (None, with its diagnostics recorded,
    when it has errors), and the modules it imports from beside it."""
    CompileError = _compile_error()
    if not analysis.flows:
        try:
            analysis.flow()
        except CompileError as exc:
            result.diagnostics.extend(exc.diagnostics)
        return None, ()
    flows = []
    failed = False
    for f in analysis.flows:
        try:
            flows.append(analysis.flow(f.name))
        except CompileError as exc:
            result.diagnostics.extend(d for d in exc.diagnostics if d not in result.diagnostics)
            failed = True
    result.diagnostics.extend(d for d in analysis.diagnostics if not d.is_error and d not in result.diagnostics)
    if failed:
        return None, ()
    from flowc.packaging import compile_inputs  # modules, config and included files: a change recompiles

    return flows, tuple(dict.fromkeys(m for f in flows for m in compile_inputs(f)))


def _make_target(project: Project, plan: TargetPlan, shared: dict, unsupported_level: str):
    from flowc.targets import registry

    try:
        cls = registry.get(plan.name)
    except registry.UnknownTarget:
        raise config.ConfigError(f"{project.settings['targets'].origin}: unknown target {plan.name!r}; "
                                 f"targets: {', '.join(registry.names())}") from None
    settings = config.target_settings(project.config, cls, plan.flags, shared)
    options = {k: s.value for k, s in settings.items() if k != "output"}
    return cls(options, unsupported_level=unsupported_level)


# ------------------------------------------------------------ writing and checking


@dataclass
class Changes:
    written: list[str] = field(default_factory=list)  # project-relative paths
    removed: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)  # (path, why it was not removed)
    unchanged: int = 0


def write(result: Build) -> Changes:
    """Write what changed, remove what flowc wrote before and no flow
    generates any more (only when nobody edited it since), then the manifest."""
    from flowc.commands._write import write_if_changed

    project = result.project
    changes = Changes()
    for tb in result.targets:
        folder = tb.plan.path(project)
        for path, data in sorted(tb.files.items()):
            rel = f"{tb.plan.folder}/{path}"
            if write_if_changed(folder / path, data):
                changes.written.append(rel)
            else:
                changes.unchanged += 1
        if tb.old is not None:
            for path, rec in sorted(tb.old.files.items()):
                if path in tb.manifest.files:
                    continue
                rel = f"{tb.plan.folder}/{path}"
                on_disk = mf.sha256_file(folder / path)
                if on_disk is None:
                    continue
                if on_disk != rec.sha256:
                    changes.kept.append((rel, "changed since flowc wrote it"))
                    continue
                (folder / path).unlink()
                changes.removed.append(rel)
                _remove_empty_parents(folder / path, folder)
        if write_if_changed(folder / mf.NAME, tb.manifest.dumps()):
            changes.written.append(f"{tb.plan.folder}/{mf.NAME}")
    return changes


def _remove_empty_parents(path: Path, stop: Path) -> None:
    parent = path.parent
    while parent != stop and stop in parent.parents:
        try:
            parent.rmdir()
        except OSError:
            return
        parent = parent.parent


def problems(result: Build) -> list[Problem]:
    """Every generated file that differs from what flowc writes now, and why.
    A flow the build did not compile again is up to date: its inputs, flowc's
    code, the settings and its generated files all match the manifest."""
    project = result.project
    out: list[Problem] = []
    for tb in result.targets:
        folder = tb.plan.path(project)
        old = tb.old
        for path, data in sorted(tb.files.items()):
            rel = f"{tb.plan.folder}/{path}"
            rec = tb.manifest.files[path]
            actual = _read(folder / path)
            if actual == data:
                continue
            kind = "missing" if actual is None else "stale"
            why = _why(project, tb, path, rec, actual)
            out.append(Problem(rel, kind, why, data, actual, rec.source, tb.lines.get(path, 1)))
        if old is not None:
            for path, rec in sorted(old.files.items()):
                if path in tb.manifest.files:
                    continue
                actual = _read(folder / path)
                if actual is None:
                    continue
                gone = rec.source not in project.flows
                why = (f"flow {rec.flow} no longer exists ({rec.source} is gone)" if gone and not
                       (project.root / rec.source).exists() else
                       f"{rec.source} is no longer a configured flow file" if gone else
                       f"flow {rec.flow} in {rec.source} no longer generates it")
                out.append(Problem(f"{tb.plan.folder}/{path}", "orphan", why, None, actual, rec.source, 1))
        manifest_now = tb.manifest.dumps()
        actual = _read(folder / mf.NAME)
        if actual != manifest_now:
            if actual is None:
                why = "missing"
            elif tb.old_error:
                why = tb.old_error
            elif old is not None and old.flowc_version != __version__:
                why = f"written by flowc {old.flowc_version}; this is flowc {__version__}"
            elif old is not None and old.compiler_sha256 != tb.manifest.compiler_sha256:
                why = f"written by another build of flowc {__version__} (compiler_sha256 differs)"
            else:
                why = "does not match the generated files"
            out.append(Problem(f"{tb.plan.folder}/{mf.NAME}", "missing" if actual is None else "stale", why,
                               manifest_now, actual))
    return out


def _why(project: Project, tb: TargetBuild, path: str, rec: mf.FileRecord, actual: bytes | None) -> str:
    old = tb.old
    before = old.files.get(path) if old else None
    if actual is None:
        if before is not None:
            return f"deleted since flowc wrote it (flow {rec.flow} in {rec.source})"
        return f"never compiled: flow {rec.flow} in {rec.source} has no {tb.plan.name} output yet"
    if before is None:
        return f"not written by flowc compile (flow {rec.flow} in {rec.source} generates it)"
    if mf.sha256(actual) != before.sha256:
        return "edited by hand since flowc wrote it"
    if before.source_sha256 != rec.source_sha256:
        return f"{rec.source} changed since it was compiled"
    old_src, new_src = old.sources.get(rec.source), tb.manifest.sources.get(rec.source)
    if old_src and new_src and old_src.modules != new_src.modules:
        changed = sorted(set(old_src.modules.items()) ^ set(new_src.modules.items()))
        return f"module {changed[0][0]} beside {rec.source} changed since it was compiled"
    if old.config_sha256 != tb.plan.config_sha256:
        return f"the {tb.plan.name} settings changed since it was compiled (pyproject.toml or flags)"
    if old.flowc_version != __version__:
        return f"compiled by flowc {old.flowc_version}; this is flowc {__version__}"
    if old.compiler_sha256 != tb.manifest.compiler_sha256:
        return "compiled by a different build of flowc"
    return "differs from what flowc generates"


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None
