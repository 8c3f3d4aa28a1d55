"""Project configuration: ``[tool.flowc]`` in the nearest pyproject.toml.

``[tool.flowc]`` holds settings every target shares (image, datastore,
code_package, ...); ``[tool.flowc.<target>]`` holds one target's options and
overrides the shared ones. Flags override both. Unknown keys are errors that
name the file and line.
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


class ConfigError(Exception):
    """A problem in pyproject.toml: message carries file:line."""


@dataclass
class ProjectConfig:
    path: Path | None = None
    text: str = ""
    table: dict[str, Any] = field(default_factory=dict)

    def line_of(self, dotted_table: str, key: str) -> int:
        """The line where ``key`` is set under ``[dotted_table]`` (1 when unknown)."""
        current = None
        for number, line in enumerate(self.text.splitlines(), 1):
            header = re.match(r"\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$", line)
            if header:
                current = header.group(1).replace('"', "").replace(" ", "")
                continue
            if current == dotted_table and re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
                return number
        return 1

    def where(self, dotted_table: str, key: str) -> str:
        return f"{self.path.as_posix() if self.path else 'pyproject.toml'}:{self.line_of(dotted_table, key)}"


def find_pyproject(start: Path | None = None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in [here, *here.parents]:
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load(start: Path | None = None) -> ProjectConfig:
    path = find_pyproject(start)
    if path is None:
        return ProjectConfig()
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get("flowc", {})
    shown = Path(path.name) if path.parent.resolve() == Path.cwd().resolve() else path
    return ProjectConfig(shown, text, table)


def target_options(config: ProjectConfig, target: str, shared_keys: set[str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Options for one target from the config, and where each came from."""
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
        values[key] = value
        origins[key] = config.where(f"tool.flowc.{target}", key)
    return values, origins
