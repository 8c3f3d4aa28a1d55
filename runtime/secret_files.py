"""Secrets mounted as folders, read into the environment before the step runs.

flowc loads a step's secrets whole, every key an environment variable (on
Kubernetes: ``envFrom``). An engine that can mount a secret as a folder (one
file per key) but cannot load it whole as environment (Kubeflow Pipelines'
platform spec) mounts each secret in a folder of its own and names the
folders in ``FLOWC_SECRET_DIRS`` (``os.pathsep``-separated); the runtime then
sets one variable per file, named as the file, holding its content, as
``envFrom`` would: a variable the container already has (its own ``env``)
keeps its value, and a key in two folders takes the later folder's value.
Hidden entries (Kubernetes' ``..data`` links) are skipped. Any target may
use it (docs/runtime-contract.md, "Secrets mounted as folders").

An engine that hands a secret's text to one variable (AWS Batch's
``secrets``, the Step Functions worker) names those variables in
``FLOWC_SECRET_JSON``; the runtime reads each as Metaflow reads an AWS
Secrets Manager secret: a JSON object whose every key becomes a variable
(``-``, ``.`` and ``/`` as ``_``, values as text), and the holder goes away.
"""

from __future__ import annotations

import os

VARIABLE = "FLOWC_SECRET_DIRS"
JSON_VARIABLE = "FLOWC_SECRET_JSON"


class SecretFolderError(Exception):
    """A folder FLOWC_SECRET_DIRS names is not there (the secret was not mounted)."""


def read_folders(spec: str) -> dict[str, str]:
    """{variable: value} from the folders ``spec`` names, later folders winning."""
    values: dict[str, str] = {}
    for folder in (part for part in spec.split(os.pathsep) if part):
        if not os.path.isdir(folder):
            raise SecretFolderError(f"the secret folder {folder!r} named by {VARIABLE} is not there")
        for name in sorted(os.listdir(folder)):
            path = os.path.join(folder, name)
            if name.startswith(".") or "=" in name or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                values[name] = os.fsdecode(f.read())  # bytes that are not UTF-8 reach the variable as they are
    return values


def load(environ: "os._Environ[str] | dict[str, str]" = os.environ) -> list[str]:
    """Set the variables of the folders ``FLOWC_SECRET_DIRS`` names that
    ``environ`` does not have yet; the names set (none without the variable)."""
    spec = environ.get(VARIABLE, "")
    if not spec:
        return []
    added = []
    for name, value in read_folders(spec).items():
        if name not in environ:
            environ[name] = value
            added.append(name)
    return added


def load_json(environ: "os._Environ[str] | dict[str, str]" = os.environ) -> list[str]:
    """Expand the secrets ``FLOWC_SECRET_JSON`` names (variables holding a JSON
    object each) into one variable per key; the names set."""
    import json

    added = []
    for holder in (part for part in environ.get(JSON_VARIABLE, "").split(os.pathsep) if part):
        text = environ.get(holder)
        if text is None:
            raise SecretFolderError(f"the secret variable {holder!r} named by {JSON_VARIABLE} is not set")
        try:
            values = json.loads(text)
        except ValueError:
            values = None
        if not isinstance(values, dict):
            raise SecretFolderError(f"the secret in {holder!r} is not a JSON object; a secret holds "
                                    "KEY: value pairs, each becoming a variable (as in Metaflow)")
        del environ[holder]
        for key, value in values.items():
            name = str(key).replace("-", "_").replace(".", "_").replace("/", "_")
            if name not in environ:
                environ[name] = value if isinstance(value, str) else str(value)  # Metaflow: str(v)
                added.append(name)
    return added
