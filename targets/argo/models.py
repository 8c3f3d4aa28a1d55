"""Argo's objects as plain data, built the way hera's typed models are.

Importing ``hera.workflows.models`` costs half a second of CPU per process
(hundreds of pydantic classes), ten times the rest of `flowc compile`. The
Argo target only builds those objects and dumps them, so it builds them with
this stand-in instead: ``m.Template(name=..., dag=...)``, attributes set
later, and ``model_dump(by_alias=True, exclude_none=True, mode="json")``
giving what hera's dump gives (camelCase names with hera's own exceptions,
None left out, root models as their value). Any class name hera has works.

What keeps it honest: tests/targets/argo/test_argo_models.py compiles the
whole corpus through hera's real models and through this module and wants
the same bytes, and validates every emitted document with hera's models
(the strict schema tests read the same output).
"""

from __future__ import annotations

import functools
from typing import Any

# hera's field aliases that are not the plain camelCase of the field name
ALIASES = {
    "volume_id": "volumeID", "type_url": "type_url", "artifact_gc": "artifactGC", "repo_url": "repoURL",
    "use_sdk_creds": "useSDKCreds", "disk_uri": "diskURI", "host_ip": "hostIP", "target_ww_ns": "targetWWNs",
    "dataset_uuid": "datasetUUID", "insecure_skip_tls": "insecureSkipTLS", "boundary_id": "boundaryID",
    "pod_ip": "podIP", "restarting_pod_uid": "restartingPodUID", "client_id_secret": "clientIDSecret",
    "token_url_secret": "tokenURLSecret", "pd_id": "pdID", "role_arn": "roleARN", "grpc_code": "grpc_code",
    "http_code": "http_code", "http_status": "http_status", "downward_api": "downwardAPI", "scale_io": "scaleIO",
    "storage_policy_id": "storagePolicyID", "instance_id": "instanceID", "pod_gc": "podGC",
    "volume_claim_gc": "volumeClaimGC", "artifact_gc_status": "artifactGCStatus",
}

# hera's root models: one value, dumped as that value
ROOTS = ("Amount", "IntOrString", "Item", "MicroTime", "ParallelSteps", "Quantity", "Time")


@functools.lru_cache(maxsize=None)
def alias(name: str) -> str:
    if name in ALIASES:
        return ALIASES[name]
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _dump(value: Any) -> Any:
    if isinstance(value, Model):
        return value.model_dump()
    if isinstance(value, (list, tuple)):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value


class Model:
    """One object: its fields as given, dumped under hera's names."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> Any:  # an unset field reads as None, as on hera's models
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    @classmethod
    def model_validate(cls, data: dict) -> "Model":
        """An object from its dumped (camelCase) form, as hera's: dumped back
        as given (nested objects stay plain data)."""
        return cls(**data)

    def model_dump(self, *, by_alias: bool = True, exclude_none: bool = True, mode: str = "json") -> dict:
        assert by_alias and exclude_none and mode == "json", "only hera's by_alias, exclude_none JSON dump"
        return {alias(k): _dump(v) for k, v in self.__dict__.items() if v is not None}


class RootModel(Model):
    def __init__(self, root: Any) -> None:
        self.root = root

    def model_dump(self, **_: Any) -> Any:  # type: ignore[override]
        return _dump(self.root)


@functools.lru_cache(maxsize=None)
def _model(name: str) -> type:
    return type(name, (RootModel if name in ROOTS else Model,), {"__module__": __name__})


def __getattr__(name: str) -> type:
    if not name[:1].isupper():
        raise AttributeError(name)
    return _model(name)
