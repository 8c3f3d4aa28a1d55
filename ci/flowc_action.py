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
    if given:
        return given
    out = subprocess.run([*flowc(), "config", "--format", "json"], capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        raise SystemExit(out.returncode)
    return json.loads(out.stdout)["settings"]["targets"]["value"]


def main() -> int:
    prefix = os.path.relpath(project_root(), repo_root())
    prefix = "" if prefix == "." else Path(prefix).as_posix()
    names = targets()
    if not names:
        print("::error::no targets: set targets in [tool.flowc] or the action's `targets` input")
        return 2
    to = os.environ.get("FLOWC_TO", "").strip()
    if to and len(names) > 1 and "{target}" not in to:
        print("::error::several targets cannot share one destination: write {target} in `to` "
              "(for example s3://bucket/{target})")
        return 2
    run([*flowc(), "config"], group="flowc config")
    listed = subprocess.run([*flowc(), "config", "--list-flows"], capture_output=True, text=True)
    if listed.returncode != 0:
        sys.stderr.write(listed.stderr)
        return listed.returncode
    flows = listed.stdout.splitlines()
    if flows and run([*flowc(), "check", "--format", "github", *flows], prefix, "flowc check"):
        return 1  # compiling would only report the same diagnostics again
    select = [x for name in names for x in ("--target", name)]
    compile_args = ["--check", "--diff"] if truthy("FLOWC_CHECK_ONLY") else []
    if run([*flowc(), "compile", *select, *compile_args, "--format", "github"], prefix, "flowc compile"):
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
        if run([*flowc(), "publish", "--target", name, *dest, *flags], prefix, f"flowc publish {name}"):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
