"""`flowc environments FLOW.py`: each step's environment, and their build contexts."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", metavar="FLOW.py", nargs="?",
                   help="the flow (without one: only the default runtime image's context)")
    p.add_argument("--flow", help="which flow, when the file defines several")
    p.add_argument("--registry", help="image registry (default: [tool.flowc] registry)")
    p.add_argument("--build-context", metavar="DIR", help="write one Docker build context per environment")
    p.add_argument("--build", action="store_true", help="also build and push the images (docker or buildah)")
    p.add_argument("--python", help="the default image's Python (default: the flow's, else "
                                     "flowc's fixed default)")
    p.add_argument("--format", choices=["text", "json"], default="text")


def main(args: argparse.Namespace) -> int:
    import json

    from flowc import config
    from flowc.build_context import (DEFAULT_CONTEXT, BuildToolMissing, build_tool, contexts, default_context,
                                     default_python, image_names)
    from flowc.targets.base import default_image
    from flowc.commands._write import write_if_changed
    from flowc.compiler import load_flow
    from flowc.compiler.environments import resolve

    registry = args.registry
    if args.file is None:
        flow = plan = None
        names: dict[str, str] = {}
    else:
        flow = load_flow(args.file, args.flow)
        plan = resolve(flow)
        if registry is None:
            registry = config.load(Path(args.file).resolve().parent).table.get("registry", "")
        names = image_names(flow, plan, registry)
    if plan is None:
        pass
    elif args.format == "json":
        print(json.dumps([dict(e.to_json(), image_name=names.get(e.id)) for e in plan.environments], indent=2))
    else:
        for env in plan.environments:
            if env.is_default:
                what = f"the default environment (the target's image; by default {default_image()})"
            elif env.manager == "none":
                what = f"image {env.image}"
            else:
                pins = ", ".join(env.requirements()) or "no packages"
                what = f"{env.manager}, python {env.python or 'default'}: {pins}"
            print(f"{env.id:<13} {what}")
            print(f"{'':<13} steps: {', '.join(env.steps)}" + (f"\n{'':<13} image: {names[env.id]}" if env.id in names else ""))
    if args.build_context or args.build:
        out = Path(args.build_context or "build/environments")
        every = {DEFAULT_CONTEXT: default_context(args.python or default_python(plan))}
        every.update(contexts(flow, plan) if flow is not None else {})
        names = {DEFAULT_CONTEXT: default_image(), **names}
        for env_id, files in every.items():
            for rel, data in files.items():
                write_if_changed(out / env_id / rel, data)
            print(f"wrote {out / env_id}/  ->  {names[env_id]}", file=sys.stderr)
    if args.build:
        try:
            tool = build_tool()
        except BuildToolMissing as exc:
            print(f"flowc environments: cannot build images: {exc}", file=sys.stderr)
            return 1
        for env_id, name in names.items():
            folder = str(Path(args.build_context or "build/environments") / env_id)
            cmds = [[*tool, "build", "-t", name, folder], [*tool, "push", name]]
            if env_id == DEFAULT_CONTEXT:
                # The name compiled steps reference has no registry: push a copy
                # only when one is given, and say how to point the targets at it.
                cmds = cmds[:1]
                if registry:
                    remote = f"{registry.rstrip('/')}/{name}"
                    cmds += [[*tool, "tag", name, remote], [*tool, "push", remote]]
                    print(f"set image = \"{remote}\" under [tool.flowc] to run compiled steps in it",
                          file=sys.stderr)
            for cmd in cmds:
                print("$ " + " ".join(cmd), file=sys.stderr)
                if subprocess.run(cmd).returncode != 0:
                    print(f"flowc environments: `{' '.join(cmd)}` failed", file=sys.stderr)
                    return 1
    return 0
