"""Parameter values: typed from the IR, defaults applied, required enforced.

The same rules whatever passed the values: `flowc run` flags, Argo workflow
arguments, Airflow params, Prefect parameters or a Step Functions input all
reach the start step as text (or JSON) and are typed here.
"""

from __future__ import annotations

import json

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any


class ParameterError(ValueError):
    pass


_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


def convert(param: dict, value: Any) -> Any:
    """One parameter's value, typed. Text is parsed; typed JSON values are checked."""
    ptype, name = param["type"], param["name"]
    try:
        if ptype == "json":
            return json.loads(value) if isinstance(value, (str, bytes)) else value
        if ptype == "str":
            if isinstance(value, str):
                return value
            return value if value is None else str(value)
        if ptype == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise ValueError("not a boolean")
        if ptype == "int":
            if isinstance(value, bool):
                raise ValueError("a boolean is not an int")
            if isinstance(value, float) and not value.is_integer():
                raise ValueError("not a whole number")
            return int(value) if not isinstance(value, str) else int(value.strip(), 10)
        if ptype == "float":
            if isinstance(value, bool):
                raise ValueError("a boolean is not a float")
            return float(value)
    except (ValueError, TypeError) as exc:
        shown = value if len(str(value)) < 60 else str(value)[:57] + "..."
        raise ParameterError(f"parameter '{name}' must be {_article(ptype)}, not {shown!r} ({exc})") from None
    raise ParameterError(f"parameter '{name}' has unknown type {ptype!r}")


def _article(ptype: str) -> str:
    return {"int": "an int", "float": "a float", "bool": "true or false", "json": "JSON", "str": "text"}[ptype]


def resolve(parameters: tuple[dict, ...] | list[dict], given: dict[str, Any]) -> dict[str, Any]:
    """{attribute: value} for every parameter of the flow."""
    by_name = {p["name"]: p for p in parameters}
    for key in given:
        if key not in by_name:
            known = ", ".join(sorted(by_name)) or "none"
            raise ParameterError(f"unknown parameter '{key}' (parameters: {known})")
    out = {}
    for p in parameters:
        if p["name"] in given and given[p["name"]] is not None:
            value = convert(p, given[p["name"]])
        elif p.get("required"):
            raise ParameterError(f"parameter '{p['name']}' is required" + (f": {p['help']}" if p.get("help") else ""))
        else:
            value = p.get("default")
        out[p["attribute"]] = split(p, value)
    return out


def split(param: dict, value: Any) -> Any:
    """Parameter(separator=","): non-empty text becomes a list, the default too (as in Metaflow)."""
    sep = param.get("separator")
    return value.split(sep) if sep and isinstance(value, str) and value else value


def parse_pairs(pairs: list[str]) -> dict[str, str]:
    out = {}
    for item in pairs:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ParameterError(f"--param {item!r}: write NAME=VALUE")
        out[name] = value
    return out
