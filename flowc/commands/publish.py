"""`flowc publish --to URL`: copy one target's generated files to where the
orchestrator reads them (a folder, or any fsspec URL: s3://, gs://...).

Only files whose bytes differ are written, each atomically (a rename on a
disk, one PUT on an object store), and the manifest last, so a publish cut
short is finished by the next one. Files flowc published before and no
longer generates are removed only with ``--prune``, and only when they
still hold what flowc wrote: the destination's manifest says which files
are flowc's, and nothing else there is ever touched. ``--dry-run`` prints
what would happen. For Argo, ``--kubectl`` applies the templates with the
machine's kubectl; ``--packages`` uploads the flows' code packages.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--target", action="append", default=[],
                   help="the target whose files to publish (default: the only configured target)")
    p.add_argument("-C", "--project", metavar="DIR",
                   help="the project's folder (its pyproject.toml); default: the nearest above the current one")
    p.add_argument("--to", metavar="URL", help="destination: a folder or an fsspec URL (s3://bucket/dags, ...)")
    p.add_argument("--prune", action="store_true",
                   help="remove files flowc published there before that no flow generates any more")
    p.add_argument("--dry-run", action="store_true", help="print what would be done; change nothing")
    p.add_argument("--kubectl", action="store_true", help="Argo: apply the generated YAML with kubectl")
    p.add_argument("--context", help="with --kubectl: the kubeconfig context")
    p.add_argument("--namespace", help="with --kubectl: the namespace (default: each object's, or the context's)")
    p.add_argument("--packages", action="store_true",
                   help="also upload each flow's code package to the datastore its tasks fetch it from")


class PublishError(Exception):
    pass


# ------------------------------------------------------------ destinations


OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az", "adl", "oci", "memory"}


class Destination:
    """A folder or an fsspec URL, with the three operations publish needs."""

    def __init__(self, url: str):
        self.url = url.rstrip("/") or url
        if "://" in url and not url.startswith("file://"):
            import fsspec

            self.fs, root = fsspec.core.url_to_fs(url)
            self.root = root.rstrip("/")
            protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
            self.one_put = protocol in OBJECT_STORES
        else:
            self.fs = None
            self.root = os.path.abspath(url[len("file://"):] if url.startswith("file://") else url)

    def show(self, rel: str) -> str:
        return f"{self.url}/{rel}"

    def _p(self, rel: str) -> str:
        return f"{self.root}/{rel}" if self.fs is not None else os.path.join(self.root, *rel.split("/"))

    def read(self, rel: str) -> bytes | None:
        try:
            if self.fs is None:
                with open(self._p(rel), "rb") as f:
                    return f.read()
            return self.fs.cat_file(self._p(rel))
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def write(self, rel: str, data: bytes) -> None:
        """Atomically: readers see the old bytes or the new, never a part."""
        path = self._p(rel)
        if self.fs is None:
            from flowc.commands._write import write_if_changed

            write_if_changed(path, data)
            os.chmod(path, 0o644)  # an orchestrator's readers are other users
        elif self.one_put:
            self.fs.pipe_file(path, data)
        else:  # a file system: write beside, then rename
            parent, name = path.rsplit("/", 1) if "/" in path else ("", path)
            tmp = f"{parent}/.{name}.flowc-tmp" if parent else f".{name}.flowc-tmp"
            if parent:
                self.fs.makedirs(parent, exist_ok=True)
            self.fs.pipe_file(tmp, data)
            self.fs.mv(tmp, path)

    def remove(self, rel: str) -> None:
        path = self._p(rel)
        if self.fs is None:
            os.unlink(path)
            parent, stop = os.path.dirname(path), self.root
            while parent != stop and parent.startswith(stop + os.sep):
                try:
                    os.rmdir(parent)
                except OSError:
                    break
                parent = os.path.dirname(parent)
        else:
            self.fs.rm_file(path)


# ------------------------------------------------------------ planning


@dataclass
class Plan:
    target: str
    folder: Path  # the local output folder
    writes: list[str] = field(default_factory=list)  # relative paths
    unchanged: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    left: list[str] = field(default_factory=list)  # flowc's old files, kept without --prune
    foreign: list[tuple[str, str]] = field(default_factory=list)  # old files changed by someone else: kept
    manifest: bytes = b""
    manifest_changed: bool = False


def _local(args: argparse.Namespace):
    """The project, the target's plan and its verified local manifest."""
    from flowc.commands import _manifest as mf
    from flowc.commands import _project
    from flowc.commands.compile import _start

    project = _project.open_project({"targets": args.target} if args.target else None, start=_start(args))
    if len(project.targets) != 1:
        raise PublishError(f"name the target to publish with --target "
                           f"({', '.join(p.name for p in project.targets)})")
    (plan,) = project.targets
    folder = plan.path(project)
    try:
        manifest = mf.read(folder)
    except mf.ManifestError as exc:
        raise PublishError(str(exc)) from None
    if manifest is None:
        raise PublishError(f"{project.shown(plan.folder)}/ holds no {mf.NAME}: run `flowc compile` first")
    if manifest.target != plan.name:
        raise PublishError(f"{project.shown(plan.folder)}/{mf.NAME} is {manifest.target}'s, not {plan.name}'s")
    for rel, rec in sorted(manifest.files.items()):
        if mf.sha256_file(folder / rel) != rec.sha256:
            raise PublishError(f"{project.shown(plan.folder + '/' + rel)} is missing or changed since flowc "
                               f"wrote it: run `flowc compile`")
    dirty = _project._dirty(project, plan, manifest, _project.compiler_sha256())
    if dirty:
        raise PublishError(f"the {plan.name} files are stale ({', '.join(sorted(dirty))} changed since they were "
                           f"compiled, or flowc or its settings did): run `flowc compile` first")
    return project, plan, manifest


def plan_publish(project, target_plan, manifest, dest: Destination, prune: bool) -> Plan:
    from flowc.commands import _manifest as mf

    folder = target_plan.path(project)
    plan = Plan(target_plan.name, folder)
    raw = dest.read(mf.NAME)
    old = None
    if raw is not None:
        try:
            old = mf.Manifest.loads(raw, dest.show(mf.NAME))
        except mf.ManifestError as exc:
            raise PublishError(f"{exc}; flowc will not guess which files there are its own") from None
        if old.target != target_plan.name:
            raise PublishError(f"{dest.url} holds {old.target}'s files (its {mf.NAME} says so); "
                               f"publish each target to its own place")
    for rel, rec in sorted(manifest.files.items()):
        data = (folder / rel).read_bytes()
        (plan.unchanged if dest.read(rel) == data else plan.writes).append(rel)
    published = mf.Manifest(manifest.target, manifest.flowc_version, manifest.compiler_sha256,
                            manifest.config_sha256, dict(manifest.sources), dict(manifest.files))
    for rel, rec in sorted((old.files if old else {}).items()):
        if rel in manifest.files:
            continue
        there = dest.read(rel)
        if there is None:
            continue
        if mf.sha256(there) != rec.sha256:
            plan.foreign.append((rel, "changed since flowc published it"))
        elif prune:
            plan.removes.append(rel)
        else:
            plan.left.append(rel)
            published.files[rel] = rec  # still flowc's: a later --prune may remove it
    plan.manifest = published.dumps()
    plan.manifest_changed = raw != plan.manifest
    return plan


def apply(plan: Plan, dest: Destination) -> None:
    from flowc.commands import _manifest as mf

    for rel in plan.writes:
        dest.write(rel, (plan.folder / rel).read_bytes())
    for rel in plan.removes:
        dest.remove(rel)
    if plan.manifest_changed:
        dest.write(mf.NAME, plan.manifest)


def report(plan: Plan, dest: Destination, dry_run: bool) -> None:
    from flowc.commands import _manifest as mf

    would = "would " if dry_run else ""
    for rel in plan.writes:
        print(f"{would}write {dest.show(rel)}")
    for rel in plan.removes:
        print(f"{would}remove {dest.show(rel)} (no flow generates it any more)")
    if plan.manifest_changed:
        print(f"{would}write {dest.show(mf.NAME)}")
    for rel in plan.left:
        print(f"left {dest.show(rel)}: no flow generates it any more; --prune removes it")
    for rel, why in plan.foreign:
        print(f"left {dest.show(rel)}: no flow generates it any more, but it {why}, so it is not flowc's to remove")
    verb = "would publish" if dry_run else "published"
    print(f"{verb} {plan.target} to {dest.url}: {len(plan.writes)} written, {len(plan.unchanged)} unchanged, "
          f"{len(plan.removes)} removed", file=sys.stderr)


# ------------------------------------------------------------ kubectl


def kubectl_commands(project, target_plan, manifest, args: argparse.Namespace) -> list[list[str]]:
    """`kubectl apply` for templates, `kubectl create` for Workflows (which
    Argo names with generateName, so they cannot be applied)."""
    import yaml

    folder = target_plan.path(project)
    apply_files, create_files = [], []
    for rel in sorted(manifest.files):
        if not rel.endswith((".yaml", ".yml")):
            continue
        docs = [d for d in yaml.safe_load_all((folder / rel).read_bytes()) if isinstance(d, dict)]
        generated = any((d.get("metadata") or {}).get("generateName") for d in docs)
        (create_files if generated else apply_files).append(project.shown(f"{target_plan.folder}/{rel}"))
    binary = os.environ.get("KUBECTL", "kubectl")
    common = (["--context", args.context] if args.context else []) + (["-n", args.namespace] if args.namespace else [])
    commands = []
    for verb, files in (("apply", apply_files), ("create", create_files)):
        if files:
            commands.append([binary, verb, *common, *[x for f in files for x in ("-f", f)]])
    return commands


def run_kubectl(commands: list[list[str]], dry_run: bool) -> int:
    import shutil
    import subprocess

    if not commands:
        print("flowc publish: no YAML to apply", file=sys.stderr)
        return 0
    if dry_run:
        for cmd in commands:
            print(shlex.join(cmd))
        return 0
    found = shutil.which(commands[0][0])
    if found is None:
        print(f"flowc publish: kubectl not found ({commands[0][0]!r} is not on PATH): install kubectl, set KUBECTL "
              f"to its path, or see the command with --dry-run", file=sys.stderr)
        return 2
    for cmd in commands:
        print(f"running {shlex.join(cmd)}", file=sys.stderr)
        code = subprocess.run([found, *cmd[1:]]).returncode
        if code != 0:
            print(f"flowc publish: kubectl exited with {code}", file=sys.stderr)
            return 1
    return 0


# ------------------------------------------------------------ code packages


def upload_packages(project, manifest, dry_run: bool) -> None:
    """Each flow's code package, to the URL its tasks fetch it from."""
    from flowc.compiler import load_flow
    from flowc.packaging import code_package
    from flowc.runtime.storage import open_storage

    done = set()
    for rel, rec in sorted(manifest.files.items()):
        url = rec.code_package
        if not url or url in done:
            continue
        done.add(url)
        match = re.fullmatch(rf"(.*)/{re.escape(rec.flow)}/packages/([0-9a-f]{{64}})\.tar\.gz", url)
        if match is None:
            print(f"{url}: set by the code_package option; not uploaded", file=sys.stderr)
            continue
        flow = load_flow(project.root / rec.source, rec.flow)
        data, sha = code_package(flow, project.root / rec.source)
        if sha != match.group(2):
            raise PublishError(f"the code package of {rec.flow} changed since {rel} was compiled: run `flowc compile`")
        storage = open_storage(url.rsplit("/", 1)[0])
        name = url.rsplit("/", 1)[1]
        if storage.exists(name):
            print(f"{url}: already there")
        elif dry_run:
            print(f"would upload {url} ({len(data)} bytes)")
        else:
            storage.write_atomic(name, data)
            print(f"uploaded {url} ({len(data)} bytes)")


# ------------------------------------------------------------ the command


def main(args: argparse.Namespace) -> int:
    from flowc import config

    if not args.to and not args.kubectl and not args.packages:
        print("flowc publish: say where: --to URL (a folder or fsspec URL), --kubectl (Argo) or --packages",
              file=sys.stderr)
        return 2
    try:
        project, target_plan, manifest = _local(args)
        if args.kubectl and target_plan.name != "argo":
            raise PublishError(f"--kubectl applies Argo's YAML; {target_plan.name}'s files go out with --to")
        if args.prune and not args.to:
            raise PublishError("--prune removes files from a --to destination; remove Argo templates of deleted "
                               "flows with `kubectl delete workflowtemplate NAME`")
        if args.to:
            try:
                dest = Destination(args.to)
                plan = plan_publish(project, target_plan, manifest, dest, args.prune)
                if not args.dry_run:
                    apply(plan, dest)
            except (PublishError, config.ConfigError):
                raise
            except Exception as exc:  # whatever the storage says: a message, not a traceback
                raise PublishError(f"cannot publish to {args.to}: {type(exc).__name__}: {exc}") from None
            report(plan, dest, args.dry_run)
        if args.packages:
            upload_packages(project, manifest, args.dry_run)
    except (config.ConfigError, PublishError) as exc:
        print(f"flowc: {exc}", file=sys.stderr)
        return 2
    if args.kubectl:
        return run_kubectl(kubectl_commands(project, target_plan, manifest, args), args.dry_run)
    return 0
