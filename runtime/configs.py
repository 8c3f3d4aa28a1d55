"""Metaflow's ``Config`` and ``IncludeFile`` at run time.

The compiler resolved every config (compiler/configs.py): its value is in
the IR this task reads, and decorators already hold what they read from it.
Here, the start task stores each config's value and each included file's
content as artifacts that every task inherits, like parameters; inside a
step ``self.cfg`` is a read-only ``ConfigValue`` (attribute and item access),
as in Metaflow. In the class body, ``cfg.a.b`` and ``config_expr("...")``
only have to evaluate without error: their values come from the IR.
"""

from __future__ import annotations

import collections.abc
import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Any

from .parameters import Parameter


class ConfigError(Exception):
    pass


class ConfigValue(collections.abc.Mapping, dict):
    """A config's value: a read-only mapping whose keys are also attributes
    (``cfg.train.lr`` and ``cfg["train"]["lr"]``); nested mappings are
    ConfigValues too. A dict subclass, so json.dumps and isinstance work."""

    def __init__(self, data: collections.abc.Mapping):
        items = {k: self._wrap(v) for k, v in data.items()}
        object.__setattr__(self, "_data", items)
        dict.__init__(self, items)

    @classmethod
    def _wrap(cls, value: Any) -> Any:
        if isinstance(value, ConfigValue):
            return value
        if isinstance(value, collections.abc.Mapping):
            return cls(value)
        if isinstance(value, (list, tuple)):
            return type(value)(cls._wrap(v) for v in value)
        return value

    @classmethod
    def _plain(cls, value: Any) -> Any:
        if isinstance(value, collections.abc.Mapping):
            return {k: cls._plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(cls._plain(v) for v in value)
        return value

    def to_dict(self) -> dict:
        """A plain (mutable) dict, all the way down."""
        return self._plain(self._data)

    def __getattr__(self, key: str) -> Any:
        if key == "_data":  # during unpickling
            raise AttributeError(key)
        try:
            return self._data[key]
        except KeyError:
            raise AttributeError(key) from None

    def __getitem__(self, key: Any) -> Any:
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: Any) -> bool:
        return key in self._data

    def keys(self):
        return self._data.keys()

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, ConfigValue):
            return self._data == other._data
        return isinstance(other, dict) and self._data == other

    def __ne__(self, other: Any) -> bool:
        return not self.__eq__(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._data)

    def __str__(self) -> str:
        return str(self._data)

    def __dir__(self):
        return list(dir(type(self))) + [k for k in self._data if isinstance(k, str) and k.isidentifier()]

    def __reduce__(self):
        return (self.__class__, (self.to_dict(),))

    def copy(self) -> "ConfigValue":
        return ConfigValue(self._data)

    def _immutable(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("ConfigValue is immutable")

    __setattr__ = __setitem__ = __delattr__ = __delitem__ = _immutable  # type: ignore[assignment]
    clear = update = setdefault = pop = popitem = _immutable  # type: ignore[assignment]


class DelayedConfig:
    """``cfg.a.b`` or ``config_expr("cfg.a.b")`` in a class body: a placeholder
    whose value the compiler already put in the IR."""

    def __init__(self, expr: str):
        object.__setattr__(self, "_expr", expr)

    def __getattr__(self, name: str) -> "DelayedConfig":
        if name.startswith("__"):
            raise AttributeError(name)
        return DelayedConfig(f"{self._expr}.{name}")

    def __getitem__(self, key: Any) -> "DelayedConfig":
        return DelayedConfig(f"{self._expr}[{key!r}]")

    def keys(self) -> tuple:
        """``**cfg.section`` in a decorator unpacks nothing here: the compiler put the values in the IR."""
        return ()

    def __repr__(self) -> str:
        return f"config_expr({self._expr!r})"


def config_expr(expr: str) -> DelayedConfig:
    """An expression over the flow's configs, for decorator arguments; flowc
    resolves it at compile time (attribute and item reads)."""
    return DelayedConfig(expr)


class Config(Parameter):
    """``cfg = Config("cfg", default="config.json")``: see the module docstring."""

    def __init__(self, name: str, default: Any = None, default_value: Any = None, help: str | None = None,
                 required: bool | None = None, parser: Any = None, plain: bool = False, **kwargs: Any):
        super().__init__(name, default=default if default is not None else default_value, help=help,
                         required=bool(required), **kwargs)
        self.parser = parser
        self.plain = plain

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        reader = getattr(obj, "_flowc_artifact", None)
        if reader is None:
            return None
        value = reader(self.attribute)
        return value if value is None or self.plain else ConfigValue(value)

    def __getattr__(self, name: str) -> DelayedConfig:
        if name.startswith("__") or name in ("parser", "plain", "attribute", "name", "default"):
            raise AttributeError(name)
        return DelayedConfig(f"{self.name}.{name}")

    def __getitem__(self, key: Any) -> DelayedConfig:
        return DelayedConfig(f"{self.name}[{key!r}]")

    def keys(self) -> tuple:
        return ()

    def __repr__(self) -> str:
        return f"Config({self.name!r})"


class IncludeFile(Parameter):
    """``data = IncludeFile("data", default="data.csv")``: the file's content,
    read by the start task, is an artifact of every task."""

    def __init__(self, name: str, required: bool | None = None, is_text: bool | None = None,
                 encoding: str | None = None, help: str | None = None, parser: Any = None, **kwargs: Any):
        super().__init__(name, required=bool(required), help=help, **kwargs)
        self.is_text = True if is_text is None else is_text
        self.encoding = encoding or "utf-8"
        self.parser = parser

    def __repr__(self) -> str:
        return f"IncludeFile({self.name!r})"


# ------------------------------------------------------------ the start task


def attributes(raw_ir: dict) -> set[str]:
    """The artifacts configs and included files add to every task."""
    return {c["attribute"] for c in raw_ir.get("configs") or ()} | \
        {i["attribute"] for i in raw_ir.get("includes") or ()}


def start_values(raw_ir: dict, given: dict[str, Any], flow_path: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """({attribute: value} of every config and included file, the given
    values left for the parameters). An included file is read from the path
    given under its name (`flowc run --data PATH`), else from its default
    beside the flow file (in a container, the unpacked code package)."""
    import json

    values: dict[str, Any] = {c["attribute"]: json.loads(c.get("value") or "null") for c in raw_ir.get("configs") or ()}
    includes = raw_ir.get("includes") or ()
    names = {i["name"] for i in includes}
    rest = {k: v for k, v in given.items() if k not in names}
    folder = os.path.dirname(os.path.abspath(flow_path))
    for inc in includes:
        path = given.get(inc["name"])
        if path is None and inc.get("path"):
            path = os.path.join(folder, *inc["path"].split("/"))
        if path is None:
            if inc.get("required"):
                raise ConfigError(f"included file '{inc['name']}' is required: give --{inc['name']} PATH")
            values[inc["attribute"]] = None
            continue
        values[inc["attribute"]] = read_included(inc, str(path))
    return values, rest


def read_included(inc: dict, path: str) -> Any:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ConfigError(f"included file '{inc['name']}' cannot be read: {path}: {exc.strerror or exc}") from None
    if not inc.get("is_text", True):
        return data
    try:
        text = data.decode(inc.get("encoding") or "utf-8")
    except (UnicodeDecodeError, LookupError) as exc:
        raise ConfigError(f"included file '{inc['name']}' ({path}) is not {inc.get('encoding')} text: {exc}") from None
    parser = inc.get("parser")
    if parser == "json.loads":
        import json

        return json.loads(text)
    if parser == "tomllib.loads":
        import tomllib

        return tomllib.loads(text)
    return text
