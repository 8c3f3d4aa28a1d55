"""The manifest flowc writes beside a target's generated files.

One ``flowc-manifest.json`` per output folder (and per destination
`flowc publish` copies it to) records which files flowc wrote there and
from what: for each file its flow, source file, the source's sha256 and
the file's own sha256, with the flowc version and target. It is what lets
flowc

- skip a flow whose inputs did not change (the pre-commit hook),
- say why a file is stale (`flowc compile --check`),
- remove only files it wrote itself (`flowc publish --prune`, and compile
  when a flow disappears), and only if nobody changed them since.

Deterministic: sorted keys, relative POSIX paths, no time stamps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

NAME = "flowc-manifest.json"
FORMAT = 1


class ManifestError(Exception):
    pass


@dataclass
class FileRecord:
    flow: str
    source: str  # the flow file, relative to pyproject.toml's folder
    source_sha256: str
    sha256: str  # of the generated file
    code_package: str = ""  # where the file's tasks fetch the code from ("" when in the image)


@dataclass
class SourceRecord:
    sha256: str
    flows: list[str] = field(default_factory=list)
    # modules the flow imports from beside it (the code package carries
    # them): path relative to the flow's folder -> sha256
    modules: dict[str, str] = field(default_factory=dict)


@dataclass
class Manifest:
    target: str
    flowc_version: str
    compiler_sha256: str = ""  # of flowc's compiler and targets code
    config_sha256: str = ""  # of the settings this target was compiled with
    sources: dict[str, SourceRecord] = field(default_factory=dict)
    files: dict[str, FileRecord] = field(default_factory=dict)

    def dumps(self) -> bytes:
        data = {"format": FORMAT, **asdict(self)}
        return (json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")

    @classmethod
    def loads(cls, raw: bytes, where: str = NAME) -> "Manifest":
        try:
            data: dict[str, Any] = json.loads(raw.decode("utf-8"))
            if data.get("format") != FORMAT:
                raise ManifestError(f"{where}: manifest format {data.get('format')!r}, this flowc reads {FORMAT}")
            return cls(
                target=data["target"],
                flowc_version=data["flowc_version"],
                compiler_sha256=data.get("compiler_sha256", ""),
                config_sha256=data.get("config_sha256", ""),
                sources={k: SourceRecord(**v) for k, v in data.get("sources", {}).items()},
                files={k: FileRecord(**v) for k, v in data.get("files", {}).items()},
            )
        except ManifestError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ManifestError(f"{where}: not a flowc manifest ({type(exc).__name__}: {exc})") from None

    def files_of(self, source: str) -> dict[str, FileRecord]:
        return {rel: rec for rel, rec in self.files.items() if rec.source == source}


def read(folder: Path) -> Manifest | None:
    """The manifest in a folder; None when there is none."""
    try:
        raw = (folder / NAME).read_bytes()
    except OSError:
        return None
    return Manifest.loads(raw, str(folder / NAME))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str | None:
    try:
        return sha256(path.read_bytes())
    except OSError:
        return None
