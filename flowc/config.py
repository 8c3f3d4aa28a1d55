"""Project configuration: ``[tool.flowc]`` in the nearest pyproject.toml.

    [tool.flowc]
    flows = ["flows/"]              # flow files: folders or globs (default: the whole project)
    exclude = ["flows/scratch_*"]   # files that are never flows
    targets = ["argo", "airflow"]   # what `flowc compile` builds with no FLOW.py
    output = "generated"            # each target writes to <output>/<target> ...
    datastore = "s3://acme-flows"   # options every target has (image, datastore,
    registry = "ghcr.io/acme"       #   code_package, python, registry, environments)
    environments = "image"          #   set here for all targets at once

    [tool.flowc.argo]               # one target's options (see `flowc targets argo`)
    output = "deploy/argo"          # ... unless its own table says otherwise
    namespace = "data"

Flags override the file, the file overrides the defaults; every effective
value carries where it came from (``default``, ``pyproject.toml:LINE`` or
``flag``), which `flowc config` prints. Unknown keys are errors naming the
file and line.

This module is light on purpose (no target, no libcst): the pre-commit hook
reads it on every commit. What needs a target's option table imports it
where it is used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore

DEFAULT = "default"
FLAG = "flag"


class ConfigError(Exception):
    """A problem in pyproject.toml or in a flag: the message carries file:line."""


@dataclass(frozen=True)
class Key:
    """A project-wide setting of ``[tool.flowc]``."""

    name: str
    kind: str  # "str" or "list" (of strings)
    default: Any
    help: str
    choices: tuple[str, ...] = ()


PROJECT_KEYS: tuple[Key, ...] = (
    Key("flows", "list", ["."], "flow files: folders (searched for FlowSpec classes) or globs, "
                                "relative to pyproject.toml's folder"),
    Key("exclude", "list", [], "globs of files that are never flows (fixtures, scratch files...)"),
    Key("targets", "list", [], "the targets `flowc compile` builds when it is given no FLOW.py"),
    Key("output", "str", "generated", "folder holding one folder per target (<output>/<target>), "
                                      "unless [tool.flowc.<target>] sets its own output"),
)
PROJECT = {k.name: k for k in PROJECT_KEYS}

# Target options every target has (targets/base.py COMMON_OPTIONS), which
# [tool.flowc] may set for all targets at once. Named here so that reading
# the file never imports a target; a test keeps the two lists equal.
COMMON_OPTION_NAMES: tuple[str, ...] = (
    "image", "datastore", "code_package", "python", "registry", "environments", "user",
)

# Keys of [tool.flowc.<target>] that belong to the project, not to the target.
TARGET_PROJECT_KEYS: dict[str, str] = {"output": "folder this target's files are written to"}


@dataclass(frozen=True)
class Setting:
    """One effective value and where it came from."""

    value: Any
    origin: str  # "default", "pyproject.toml:LINE" or "flag"


# ------------------------------------------------------------ the file


@dataclass
class ProjectConfig:
    path: Path | None = None  # as shown to people
    text: str = ""
    table: dict[str, Any] = field(default_factory=dict)
    root: Path | None = None  # the folder holding pyproject.toml (absolute)
    _lines: dict[tuple[str, ...], int] | None = None

    @property
    def folder(self) -> Path:
        return self.root or Path.cwd()

    def line_of(self, dotted_table: str, key: str | None = None) -> int:
        """The line setting ``key`` in ``[dotted_table]`` (or the table's own
        line without a key); dotted keys and inline tables are found too; 1
        when unknown."""
        if self._lines is None:
            self._lines = _key_lines(self.text)
        path = tuple(p for p in dotted_table.split(".") if p) + ((key,) if key is not None else ())
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return 1

    def where(self, dotted_table: str, key: str | None = None) -> str:
        return f"{self.path.as_posix() if self.path else 'pyproject.toml'}:{self.line_of(dotted_table, key)}"

    def target_tables(self) -> dict[str, dict[str, Any]]:
        """``[tool.flowc.<name>]`` tables, by name (names unchecked)."""
        return {k: v for k, v in self.table.items() if isinstance(v, dict)}


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load(start: Path | None = None) -> ProjectConfig:
    """The ``[tool.flowc]`` table of the nearest pyproject.toml, its
    project-wide keys checked (target tables are checked by ``target_settings``)."""
    path = find_pyproject(start)
    if path is None:
        return ProjectConfig()
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{_shown(path)}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("flowc", {})
    config = ProjectConfig(_shown(path), text, table if isinstance(table, dict) else {}, path.parent.resolve())
    if not isinstance(table, dict):
        raise ConfigError(f"{config.where('tool', 'flowc')}: tool.flowc must be a table")
    _check_project_keys(config)
    return config


def _shown(path: Path) -> Path:
    try:
        return Path(path.resolve().relative_to(Path.cwd().resolve()).as_posix())
    except ValueError:
        return path


def _check_project_keys(config: ProjectConfig) -> None:
    for key, value in config.table.items():
        where = config.where("tool.flowc", key)
        if isinstance(value, dict):
            if key in PROJECT or key in COMMON_OPTION_NAMES:
                raise ConfigError(f"{where}: {key} must be a value, not a table")
            continue  # a target's table: checked against the target's options when used
        if key in PROJECT:
            check_value(PROJECT[key], value, where)
        elif key not in COMMON_OPTION_NAMES and key not in _common_options():
            known = ", ".join([k.name for k in PROJECT_KEYS] + _common_options())
            raise ConfigError(f"{where}: unknown key {key!r} in [tool.flowc]; known keys: {known}; "
                              f"a target's own options go in [tool.flowc.<target>]")


def _common_options() -> list[str]:
    """The options every target has, from targets/base.py itself (slower:
    asked only for a key COMMON_OPTION_NAMES does not know)."""
    from flowc.targets.base import COMMON_OPTIONS

    return [o.name for o in COMMON_OPTIONS]


def check_value(key: Key, value: Any, where: str) -> Any:
    if key.kind == "list":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{where}: {key.name} must be a list of strings, not {value!r}")
    elif not isinstance(value, str):
        raise ConfigError(f"{where}: {key.name} must be a string, not {value!r}")
    if key.choices and value not in key.choices:
        raise ConfigError(f"{where}: {key.name} must be one of {', '.join(key.choices)}, not {value!r}")
    return value


# ------------------------------------------------------------ effective values


def parse_set(items: list[str]) -> dict[str, str]:
    """``--set KEY=VALUE`` flags, by key (``target.option`` keys included)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set {item!r}: write KEY=VALUE")
        out[key.strip().replace("-", "_")] = value
    return out


def project_settings(config: ProjectConfig, flags: dict[str, Any] | None = None) -> dict[str, Setting]:
    """The project-wide settings (flows, exclude, targets, output), each with
    its origin. Flags are values already parsed
    (lists for list keys) or ``--set`` strings (comma-separated for lists).
    Imports nothing heavy."""
    flags = flags or {}
    out: dict[str, Setting] = {}
    for key in PROJECT_KEYS:
        if key.name in flags:
            value = flags[key.name]
            if key.kind == "list" and isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            out[key.name] = Setting(check_value(key, value, f"flag --set {key.name}"), FLAG)
        elif key.name in config.table:
            where = config.where("tool.flowc", key.name)
            out[key.name] = Setting(_copy(check_value(key, config.table[key.name], where)), where)
        else:
            out[key.name] = Setting(_copy(key.default), DEFAULT)
    return out


def shared_settings(config: ProjectConfig, flags: dict[str, Any] | None = None) -> dict[str, Setting]:
    """Every setting of ``[tool.flowc]``, with its origin: the project-wide
    ones (``flows``, ``exclude``, ``targets``, ``output``) and the options
    every target has (``image``, ``datastore``, ``code_package``, ``python``,
    ``registry``, ``environments``; defaults from targets/base.py), which a
    target's own table or a flag may still override for that target
    (``target_settings``).

        settings = shared_settings(load(Path("flow.py").resolve().parent))
        settings["registry"].value, settings["registry"].origin   # "", "default"
    """
    from flowc.targets.base import COMMON_OPTIONS, OptionError, coerce_option

    flags = flags or {}
    out = project_settings(config, {k: v for k, v in flags.items() if k in PROJECT})
    for opt in COMMON_OPTIONS:
        try:
            if opt.name in flags:
                out[opt.name] = Setting(coerce_option(opt, flags[opt.name], "flag"), FLAG)
            elif opt.name in config.table:
                where = config.where("tool.flowc", opt.name)
                out[opt.name] = Setting(coerce_option(opt, config.table[opt.name], where), where)
            else:
                out[opt.name] = Setting(_copy(opt.default), DEFAULT)
        except OptionError as exc:
            raise ConfigError(str(exc)) from None
    return out


def check_target_names(config: ProjectConfig, names: list[str], origin: str) -> None:
    """Every named target exists, and every [tool.flowc.<name>] table is a target's."""
    from flowc.targets import registry

    known = registry.names()
    for name in config.target_tables():
        if name not in known:
            raise ConfigError(f"{config.where('tool.flowc', name)}: unknown key [tool.flowc.{name}]: "
                              f"no target is called {name!r}; targets: {', '.join(known)}")
    for name in names:
        if name not in known:
            raise ConfigError(f"{origin}: unknown target {name!r}; targets: {', '.join(known)}")


def target_settings(config: ProjectConfig, target_cls, flags: dict[str, Any] | None = None,
                    shared: dict[str, Setting] | None = None) -> dict[str, Setting]:
    """Every option of one target plus its ``output`` folder, with origins:
    flag > [tool.flowc.<target>] > [tool.flowc] (options every target has) >
    default. Flag values may be strings (converted to the option's type)."""
    from flowc.targets.base import OptionError, coerce_option

    flags = flags or {}
    name = target_cls.name
    section = config.table.get(name, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{config.where('tool.flowc', name)}: [tool.flowc.{name}] must be a table")
    known = target_cls.all_options()
    for key in section:
        if key not in known and key not in TARGET_PROJECT_KEYS:
            raise ConfigError(f"{config.where(f'tool.flowc.{name}', key)}: unknown key {key!r} in "
                              f"[tool.flowc.{name}]; options: {', '.join(sorted([*known, *TARGET_PROJECT_KEYS]))}")
    for key in flags:
        if key not in known and key not in TARGET_PROJECT_KEYS:
            raise ConfigError(f"flag: target {name} has no option {key!r}; "
                              f"options: {', '.join(sorted([*known, *TARGET_PROJECT_KEYS]))}")
    shared = shared if shared is not None else shared_settings(config)
    out: dict[str, Setting] = {}
    try:
        for opt in known.values():
            if opt.name in flags:
                out[opt.name] = Setting(coerce_option(opt, flags[opt.name], "flag"), FLAG)
            elif opt.name in section:
                where = config.where(f"tool.flowc.{name}", opt.name)
                out[opt.name] = Setting(coerce_option(opt, section[opt.name], where), where)
            elif opt.name in shared:
                out[opt.name] = shared[opt.name]
            else:
                out[opt.name] = Setting(_copy(opt.default), DEFAULT)
    except OptionError as exc:
        raise ConfigError(str(exc)) from None
    out["output"] = output_setting(config, name, flags.get("output"), shared.get("output"))
    return out


def output_setting(config: ProjectConfig, target: str, flag: str | None = None,
                   root: Setting | None = None) -> Setting:
    """Where a target's files go, relative to pyproject.toml's folder."""
    if flag is not None:
        return Setting(check_value(PROJECT["output"], flag, "flag"), FLAG)
    section = config.table.get(target, {})
    if isinstance(section, dict) and "output" in section:
        where = config.where(f"tool.flowc.{target}", "output")
        return Setting(check_value(PROJECT["output"], section["output"], where), where)
    root = root or project_settings(config)["output"]
    return Setting(f"{root.value.rstrip('/')}/{target}", root.origin)


def target_options(config: ProjectConfig, target: str, shared_keys: set[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Options for one target as the file gives them (no defaults), and where
    each came from: ``[tool.flowc]`` keys in ``shared_keys``, then the target's
    own table. Project keys (``output``) are not options and are left out."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for key, value in config.table.items():
        if key in shared_keys and not isinstance(value, dict):
            values[key] = value
            origins[key] = config.where("tool.flowc", key)
    section = config.table.get(target, {})
    if not isinstance(section, dict):
        raise ConfigError(f"{config.where('tool.flowc', target)}: [tool.flowc.{target}] must be a table")
    for key, value in section.items():
        if key in TARGET_PROJECT_KEYS:
            continue
        values[key] = value
        origins[key] = config.where(f"tool.flowc.{target}", key)
    return values, origins


def _copy(value: Any) -> Any:
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


# ------------------------------------------------------------ lines of keys


_HEADER = re.compile(r"\s*\[(\[)?\s*(?P<name>[^\]]+?)\s*\]\]?\s*(#.*)?$")


def _split_dotted(text: str) -> tuple[str, ...]:
    """``a."b.c" . d`` -> ("a", "b.c", "d")."""
    parts, current, quote = [], "", ""
    for ch in text:
        if quote:
            if ch == quote:
                quote = ""
            else:
                current += ch
        elif ch in "\"'":
            quote = ch
        elif ch == ".":
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return tuple(parts)


def _key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Where each table and key (as a full dotted path) is first set.
    Inline tables are followed one level (``argo = {namespace = "x"}``);
    multi-line strings and arrays are skipped."""
    out: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    depth, quote = 0, ""  # open brackets and multi-line string of a value that goes on
    for number, line in enumerate(text.split("\n"), 1):  # TOML lines end at \n only
        if depth or quote:
            depth, quote = _scan(line, depth, quote)
            continue
        header = _HEADER.match(line)
        if header:
            table = _split_dotted(header.group("name"))
            out.setdefault(table, number)
            continue
        key_match = _KEY.match(line)
        if key_match:
            path = table + _split_dotted(key_match.group(1))
            out.setdefault(path, number)
            rest = key_match.group(2)
            for inner in re.finditer(r"[{,]\s*([A-Za-z0-9_\-]+|\"[^\"]*\")\s*=", _blank_strings(rest)):
                out.setdefault(path + _split_dotted(inner.group(1)), number)
            depth, quote = _scan(rest, 0, "")
    return out


_KEY = re.compile(r"\s*((?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_\-]+|\"[^\"]*\"|'[^']*'))*)\s*=(.*)")


def _scan(text: str, depth: int, quote: str) -> tuple[int, str]:
    """Follow a value's text: (open brackets, open multi-line string) after it."""
    i = 0
    while i < len(text):
        if quote:
            if quote in ('"', '"""') and text[i] == "\\":
                i += 2
                continue
            if text.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
            i += 1
            continue
        ch = text[i]
        if text.startswith('"""', i) or text.startswith("'''", i):
            quote = text[i:i + 3]
            i += 3
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth = max(0, depth - 1)
        i += 1
    if quote in ('"', "'"):  # a one-line string cannot go on
        quote = ""
    return depth, quote


def _blank_strings(text: str) -> str:
    """The text with the inside of every string blanked (for finding keys)."""
    out, quote, i = [], "", 0
    while i < len(text):
        ch = text[i]
        if quote:
            if quote == '"' and ch == "\\":
                out.append("  ")
                i += 2
                continue
            if ch == quote:
                quote = ""
                out.append(ch)
            else:
                out.append(" ")
        else:
            if ch in "\"'":
                quote = ch
            out.append(ch)
        i += 1
    return "".join(out)
