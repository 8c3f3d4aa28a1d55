"""Target options: image, datastore, namespace... Each target declares its
own beside the common ones; values come from flags and from
``[tool.flowc.<target>]`` and are checked against their declared type."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowc import __version__



@dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: Any
    help: str
    choices: tuple[Any, ...] = ()


def default_image() -> str:
    """The image every step without its own runs in; `flowc environments` builds it."""
    return f"flowc:{__version__}"


COMMON_OPTIONS: tuple[Option, ...] = (
    Option("image", str, default_image(), "container image with Python and flowc installed"),
    Option("datastore", str, "s3://flowc-datastore", "datastore URL the tasks read and write (fsspec)"),
    Option("code_package", str, "", "URL of the code package (default: computed in the datastore)"),
    Option("python", str, "python", "the Python interpreter inside the container"),
    Option("registry", str, "", "image registry of per-step environments (REGISTRY/FLOW:ENVID)"),
    Option("user", str, "", "the user a @project flow without a branch deploys for, as PROJECT.user.NAME "
           "(default: $METAFLOW_USER, else $USER)"),
    Option("environments", str, "image", "per-step environments: prebuilt images, or built by each container "
           "at start (bootstrap)", ("image", "bootstrap")),
)


class OptionError(Exception):
    pass


def coerce_option(opt: Option, value: Any, origin: str) -> Any:
    """Check (and convert flag strings to) an option's declared type."""
    if opt.type is bool and isinstance(value, str):
        if value.lower() in ("1", "true", "yes", "on"):
            value = True
        elif value.lower() in ("0", "false", "no", "off"):
            value = False
    elif opt.type is int and isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise OptionError(f"{origin}: option {opt.name} must be a whole number, not {value!r}") from None
    elif opt.type is float and isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise OptionError(f"{origin}: option {opt.name} must be a number, not {value!r}") from None
    elif opt.type is dict and isinstance(value, str):
        try:
            value = dict(item.split("=", 1) for item in value.split(",") if item)
        except ValueError:
            raise OptionError(f"{origin}: option {opt.name} takes key=value,key=value") from None
    if opt.type is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, opt.type) or (opt.type is int and isinstance(value, bool)):
        raise OptionError(f"{origin}: option {opt.name} must be of type {opt.type.__name__}, not {value!r}")
    if opt.choices and value not in opt.choices:
        raise OptionError(f"{origin}: option {opt.name} must be one of {', '.join(map(str, opt.choices))}")
    return value


