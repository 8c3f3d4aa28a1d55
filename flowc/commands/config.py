"""`flowc config`: the effective configuration, and where each value came from.

Printed as TOML (it parses back to the same values), each value followed by
its origin: ``default``, ``pyproject.toml:LINE`` or ``flag``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("-t", "--target", action="append", default=[],
                   help="show this target's settings (repeatable; default: the configured targets)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value, as `flowc compile` would (KEY, or TARGET.OPTION)")
    p.add_argument("-C", "--project", metavar="DIR",
                   help="the project's folder (its pyproject.toml); default: the nearest above the current one")
    p.add_argument("--format", choices=["toml", "json"], default="toml", help="for people (toml) or programs (json)")
    p.add_argument("--list-flows", action="store_true",
                   help="print only the project's flow files, one a line (relative to the current folder)")
    p.set_defaults(accepts_extra=True)


def toml_value(value: Any) -> str:
    """A TOML literal for a setting's value (strings as basic strings: JSON's
    escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):  # TOML also wants DEL escaped, which JSON leaves alone
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{toml_value(str(k))} = {toml_value(v)}"
                                for k, v in sorted(value.items())) + " }"
    raise TypeError(f"no TOML for {value!r}")


def _lines(settings: dict, width: int) -> list[str]:
    out = []
    for key, setting in settings.items():
        line = f"{key} = {toml_value(setting.value)}"
        out.append(f"{line.ljust(width)}  # {setting.origin}" if "\n" not in line else f"{line}  # {setting.origin}")
    return out


def effective(args: argparse.Namespace) -> dict:
    """Everything `flowc config` shows: settings, per-target settings, flows."""
    from flowc import config
    from flowc.commands import _project
    from flowc.commands.compile import _start, _target_class, project_flags

    flags, per_target = project_flags(args)
    cfg = config.load(_start(args))
    shared = config.shared_settings(cfg, flags)
    names = list(shared["targets"].value)
    config.check_target_names(cfg, names, shared["targets"].origin)
    for name in cfg.target_tables():  # a table for a target not (yet) compiled is shown too
        if name not in names:
            names.append(name)
    targets = {}
    for name in names:
        targets[name] = config.target_settings(cfg, _target_class(name), per_target.get(name, {}), shared)
        out = targets[name].pop("output")
        targets[name] = {"output": out, **targets[name]}
    outputs = [s["output"].value.rstrip("/") for s in targets.values()]
    flows = _project.find_flows(cfg.folder, shared["flows"], shared["exclude"].value, outputs, cfg)
    return {"pyproject": cfg.path.as_posix() if cfg.path else None, "root": cfg.folder,
            "shared": shared, "targets": targets, "flows": flows}


def main(args: argparse.Namespace) -> int:
    import os

    from flowc import config

    try:
        info = effective(args)
    except config.ConfigError as exc:
        print(f"flowc: {exc}", file=sys.stderr)
        return 2
    flows = [os.path.relpath(info["root"] / f) for f in info["flows"]]
    if args.list_flows:
        for f in flows:
            print(f)
        return 0
    if args.format == "json":
        data = {
            "pyproject": info["pyproject"],
            "settings": {k: {"value": s.value, "origin": s.origin} for k, s in info["shared"].items()},
            "targets": {t: {k: {"value": s.value, "origin": s.origin} for k, s in ss.items()}
                        for t, ss in info["targets"].items()},
            "flows": info["flows"],
        }
        print(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False))
        return 0
    every = [info["shared"], *info["targets"].values()]
    width = min(60, max((len(f"{k} = {toml_value(s.value)}") for ss in every for k, s in ss.items()), default=0))
    where = info["pyproject"] or "no pyproject.toml: every value is a default"
    print(f"# flowc's effective configuration ({where}); each value's origin follows it")
    print("[tool.flowc]")
    print("\n".join(_lines(info["shared"], width)))
    for name, settings in info["targets"].items():
        print(f"\n[tool.flowc.{name}]")
        print("\n".join(_lines(settings, width)))
    if not info["targets"]:
        print("\n# no targets: set targets = [\"argo\", ...] for `flowc compile` to build them")
    print(f"\n# flow files ({len(flows)}):")
    for f in flows:
        print(f"#   {f}")
    return 0
