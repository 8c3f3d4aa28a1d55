"""A PyYAML dumper whose scalars are written the same way in every process.

Other libraries (hera among them) change SafeDumper's str representer
process-wide when they are imported, so a target writing YAML through
SafeDumper itself would give other bytes after such an import. A dumper made
here carries its own copies of the safe scalar representers."""

from __future__ import annotations

import yaml

_SCALARS = ((str, yaml.representer.SafeRepresenter.represent_str),
            (bool, yaml.representer.SafeRepresenter.represent_bool),
            (int, yaml.representer.SafeRepresenter.represent_int),
            (float, yaml.representer.SafeRepresenter.represent_float),
            (type(None), yaml.representer.SafeRepresenter.represent_none))


def stable(dumper: type) -> type:
    """``dumper`` (a SafeDumper subclass) with its scalar representers pinned."""
    for kind, represent in _SCALARS:
        dumper.add_representer(kind, represent)
    return dumper
