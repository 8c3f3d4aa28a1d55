"""What the flowc GitHub Action (action.yml) runs, after installing flowc:
check the flows, compile them, publish the generated files.

Inputs come from the environment (action.yml maps the action's inputs to
these variables; never pasted into a shell line):

    FLOWC_TARGETS     targets, separated by spaces or commas (default: [tool.flowc] targets)
    FLOWC_TO          destination URL or folder; {target} stands for each target's name
    FLOWC_CHECK_ONLY  "true": the repository commits the generated files, so
                      verify them (`flowc compile --check --diff`) instead of compiling
    FLOWC_PRUNE, FLOWC_DRY_RUN, FLOWC_KUBECTL, FLOWC_PACKAGES   "true" to pass the flag to publish
    FLOWC             the flowc command (default: flowc)

What it did goes where GitHub reads it: the step's outputs (GITHUB_OUTPUT:
`flows`, `targets`, `folders`, `files`, each JSON, paths relative to the
repository) and a table in the job's summary (GITHUB_STEP_SUMMARY).

It runs in the project's folder (the one holding pyproject.toml). Diagnostics
are GitHub annotations whose paths are made relative to the repository's root
(GITHUB_WORKSPACE, else git's top folder), so they land on the flow's lines
in a pull request even when the project is a subfolder.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path


def truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def flowc() -> list[str]:
    return shlex.split(os.environ.get("FLOWC", "flowc"))


def repo_root() -> Path:
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace:
        return Path(workspace).resolve()
    found = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    return Path(found.stdout.strip()).resolve() if found.returncode == 0 and found.stdout.strip() else Path.cwd()


def project_root() -> Path:
    """The folder diagnostics paths are relative to: the nearest one above
    the current folder holding pyproject.toml or .git (as flowc shows them)."""
    here = Path.cwd().resolve()
    for folder in [here, *here.parents]:
        if (folder / "pyproject.toml").is_file() or (folder / ".git").exists():
            return folder
    return here


_FILE = re.compile(r"^(::(?:error|warning|notice) )([^:]*)(::.*)$")


def rebase(line: str, prefix: str) -> str:
    """Prefix the file= property of an annotation with the project's folder."""
    if not prefix:
        return line
    match = _FILE.match(line)
    if not match:
        return line
    props = [f"file={prefix}/{p[5:]}" if p.startswith("file=") else p for p in match.group(2).split(",")]
    return match.group(1) + ",".join(props) + match.group(3)


def run(args: list[str], prefix: str = "", group: str = "") -> int:
    """Run one command, its annotations rebased; its exit code."""
    print(f"::group::{group or shlex.join(args)}", flush=True)
    print(f"$ {shlex.join(args)}", flush=True)
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    annotations = []
    for line in proc.stdout:
        line = rebase(line.rstrip("\n"), prefix)
        if line.startswith(("::error", "::warning", "::notice")):
            annotations.append(line)  # each one once, after the group, where people look first
        else:
            print(line, flush=True)
    code = proc.wait()
    print("::endgroup::", flush=True)
    for line in annotations:
        print(line, flush=True)
    return code


def targets() -> list[str]:
    given = [t for t in re.split(r"[\s,]+", os.environ.get("FLOWC_TARGETS", "")) if t]
    return given or config()["settings"]["targets"]["value"]


def config(*args: str) -> dict:
    out = subprocess.run([*flowc(), "config", "--format", "json", *args], capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(out.returncode)
    return json.loads(out.stdout)


def github_file(variable: str, text: str) -> None:
    """Append to one of the files GitHub reads after the step (outputs, summary)."""
    path = os.environ.get(variable)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)


class Report:
    """What the step outputs and the job summary say: the flows, each target's
    folder and generated files, what was published where, and how it ended."""

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.flows: list[str] = []
        self.targets: list[str] = []
        self.folders: dict[str, str] = {}
        self.files: dict[str, list[str]] = {}
        self.published: dict[str, str] = {}
        self.pictures: dict[str, str] = {}  # flow file -> its DAG as Mermaid
        self.outcome = ""

    def repo_path(self, path: str) -> str:
        return f"{self.prefix}/{path}" if self.prefix else path

    def read_outputs(self, names: list[str]) -> None:
        """Each target's folder, the files its manifest lists and the manifest (none before compiling)."""
        settings = config(*[x for name in names for x in ("--target", name)])["targets"]
        for name in names:
            folder = settings[name]["output"]["value"]
            manifest = Path(folder) / "flowc-manifest.json"
            listed = sorted([*json.loads(manifest.read_text())["files"], manifest.name]) if manifest.is_file() else []
            self.folders[name] = self.repo_path(folder)
            self.files[name] = [self.repo_path(f"{folder}/{f}") for f in listed]

    def write(self) -> None:
        outputs = {"flows": [self.repo_path(f) for f in self.flows], "targets": self.targets,
                   "folders": self.folders, "files": [f for files in self.files.values() for f in files]}
        github_file("GITHUB_OUTPUT", "".join(f"{k}={json.dumps(v)}\n" for k, v in outputs.items()))
        lines = ["## flowc", "", f"{len(self.flows)} flow files: {self.outcome}", ""]
        if self.folders:
            lines += ["| target | generated files | published to |", "|---|---|---|"]
            for name, folder in self.folders.items():
                where = self.published.get(name, "")
                lines.append(f"| {name} | {len(self.files[name])} in `{folder}` | {f'`{where}`' if where else '-'} |")
        for flow, picture in self.pictures.items():
            # GitHub draws Mermaid in a job summary; it shows no SVG of ours (it keeps
            # only images it can fetch), so the picture travels as the DAG's Mermaid text
            lines += ["", f"<details open><summary>the DAG of <code>{self.repo_path(flow)}</code></summary>", "",
                      "```mermaid", picture.rstrip("\n"), "```", "", "</details>"]
        github_file("GITHUB_STEP_SUMMARY", "\n".join(lines) + "\n")


def main() -> int:
    prefix = os.path.relpath(project_root(), repo_root())
    report = Report("" if prefix == "." else Path(prefix).as_posix())
    try:
        code = steps(report)
    except SystemExit:
        report.outcome = "flowc config failed"
        report.write()
        raise
    report.write()
    return code


def steps(report: Report) -> int:
    report.targets = names = targets()
    if not names:
        print("::error::no targets: set targets in [tool.flowc] or the action's `targets` input")
        report.outcome = "no targets"
        return 2
    to = os.environ.get("FLOWC_TO", "").strip()
    if to and len(names) > 1 and "{target}" not in to:
        print("::error::several targets cannot share one destination: write {target} in `to` "
              "(for example s3://bucket/{target})")
        report.outcome = "several targets, one destination"
        return 2
    run([*flowc(), "config"], group="flowc config")
    listed = subprocess.run([*flowc(), "config", "--list-flows"], capture_output=True, text=True)
    if listed.returncode != 0:
        sys.stderr.write(listed.stderr)
        report.outcome = "flowc config failed"
        return listed.returncode
    report.flows = flows = listed.stdout.splitlines()
    if flows and run([*flowc(), "check", "--format", "github", *flows], report.prefix, "flowc check"):
        report.outcome = "flowc check failed (see the annotations)"
        return 1  # compiling would only report the same diagnostics again
    for flow in flows:  # a file of several flows is left out: `flowc graph` draws one
        drawn = subprocess.run([*flowc(), "graph", flow, "--format", "mermaid"], capture_output=True, text=True)
        if drawn.returncode == 0 and "```" not in drawn.stdout:
            report.pictures[flow] = drawn.stdout
    select = [x for name in names for x in ("--target", name)]
    check_only = truthy("FLOWC_CHECK_ONLY")
    compile_args = ["--check", "--diff"] if check_only else []
    failed = run([*flowc(), "compile", *select, *compile_args, "--format", "github"], report.prefix, "flowc compile")
    report.read_outputs(names)
    if failed:
        report.outcome = "generated files missing or stale" if check_only else "flowc compile failed"
        return 1
    publish_flags = [flag for env, flag in (("FLOWC_PRUNE", "--prune"), ("FLOWC_DRY_RUN", "--dry-run"),
                                            ("FLOWC_KUBECTL", "--kubectl"), ("FLOWC_PACKAGES", "--packages"))
                     if truthy(env)]
    for name in names:
        flags = [f for f in publish_flags if f != "--kubectl" or name == "argo"]  # kubectl applies Argo's YAML
        dest = ["--to", to.replace("{target}", name)] if to else []
        if not dest and not ({"--kubectl", "--packages"} & set(flags)):
            print(f"{name}: nothing to publish (no `to`" + (", and kubectl is for argo)" if name != "argo" else ")"))
            continue
        if run([*flowc(), "publish", "--target", name, *dest, *flags], report.prefix, f"flowc publish {name}"):
            report.outcome = f"flowc publish {name} failed"
            return 1
        if dest and "--dry-run" not in flags:
            report.published[name] = dest[1]
    report.outcome = "checked" + (", generated files up to date" if check_only else ", compiled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
