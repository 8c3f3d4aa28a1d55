"""Metaflow's ``Config`` and ``IncludeFile``, read statically.

A ``Config`` is data known before the run: flowc reads its file (or its
``default_value``, or a ``--config``/``--config-value`` override) at compile
time, puts the value in the IR, and resolves every ``cfg.a.b``,
``cfg["a"]`` and ``config_expr("cfg.a.b")`` written in a decorator or
Parameter argument to the value it names. Reading a data file is not
running the user's code: the module is still never imported.

An ``IncludeFile`` is only checked here (the file exists, beside the flow):
its content is read by the start task at run time (runtime/configs.py) from
the flow's folder, which the code package carries.

Problems are diagnostics at the expression that needs the value.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import libcst as cst

from . import ir
from .diagnostics import ERROR, Diagnostic
from .literals import AMBIGUOUS, NotLiteral, dotted_name, evaluate
from .spans import Span

# The parsers flowc can run at compile time, by the name Metaflow's parser=
# takes (a string, or the function itself written as a dotted name).
PARSERS = ("json.loads", "tomllib.loads", "tomli.loads", "toml.loads", "yaml.safe_load")
INCLUDE_PARSERS = ("json.loads", "tomllib.loads")  # what the runtime (standard library only) can run
_CONFIG_ARGS = ("name", "default", "default_value", "help", "required", "parser", "plain", "show_default")
_INCLUDE_ARGS = ("name", "default", "is_text", "encoding", "required", "help", "parser", "show_default")


@dataclass
class ConfigInputs:
    """Where a flow's configs come from: its folder (default files are read
    beside the flow file) and the command line's overrides."""

    folder: Path | None = None
    files: dict[str, str] = field(default_factory=dict)  # --config NAME PATH (PATH from the current folder)
    values: dict[str, str] = field(default_factory=dict)  # --config-value NAME JSON

    def key(self) -> str:
        """A stable text of the overrides, for caches."""
        return json.dumps([sorted(self.files.items()), sorted(self.values.items())])


class ConfigProblem(NotLiteral):
    """A config reference that cannot be resolved: reported with its own code."""

    def __init__(self, node: cst.CSTNode, code: str, reason: str, hint: str):
        super().__init__(node, reason)
        self.code = code
        self.hint = hint


def parse_config_text(text: str, parser: str) -> Any:
    """Run one of PARSERS on a config's text (ValueError on bad input)."""
    if parser == "json.loads":
        def no_constant(name: str) -> Any:
            raise ValueError(f"{name} is not JSON")
        return json.loads(text, parse_constant=no_constant)
    if parser in ("tomllib.loads", "tomli.loads", "toml.loads"):
        try:
            import tomllib as toml
        except ImportError:  # Python 3.10
            try:
                import tomli as toml  # type: ignore[no-redef]
            except ImportError:
                raise ValueError("reading TOML needs Python 3.11 (tomllib) or the tomli package") from None
        try:
            return toml.loads(text)
        except toml.TOMLDecodeError as exc:
            raise ValueError(str(exc)) from None
    if parser == "yaml.safe_load":
        import yaml

        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(" ".join(str(exc).split())) from None
    raise ValueError(f"unknown parser {parser}")


def json_problem(value: Any, where: str = "") -> str | None:
    """Why a parsed value cannot travel as JSON (a TOML date, inf...), or None."""
    if value is None or isinstance(value, (str, bool)):
        return None
    if isinstance(value, int):
        return None if value.bit_length() <= 63 else f"{where or 'a value'}: {value} is out of the 64-bit range"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{where or 'a value'}: {value} is not a finite number"
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            p = json_problem(v, f"{where}[{i}]")
            if p:
                return p
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"{where or 'a mapping'}: key {k!r} is not a string"
            p = json_problem(v, f"{where}.{k}" if where else k)
            if p:
                return p
        return None
    return f"{where or 'a value'} is a {type(value).__name__}, which is not JSON data"


MAX_DEPTH = 100  # config data deeper than this is refused: every later pass recurses over it


def nesting(value: Any) -> int:
    """How deeply lists and mappings nest in a value (without recursing)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        v, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        if isinstance(v, (list, tuple)):
            stack.extend((x, depth + 1) for x in v)
        elif isinstance(v, dict):
            stack.extend((x, depth + 1) for x in v.values())
    return deepest


def _jsonable(value: Any) -> Any:
    """Tuples as lists, as the IR's JSON holds them."""
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------ declarations


class Declarations:
    """Reads the Config and IncludeFile declarations of one flow."""

    def __init__(self, inputs: ConfigInputs, constants: dict[str, Any], span_of: Callable[[cst.CSTNode], Span],
                 display: Callable[[Path], str], canonical: Callable[[cst.CSTNode], str | None],
                 beside: Callable[[cst.BaseExpression], str | None] = lambda node: None):
        self.inputs = inputs
        self.beside = beside  # a default file named as "beside this module" (compiler/flow_paths.py)
        self.constants = constants
        self.span_of = span_of
        self.display = display
        self.canonical = canonical
        self.diagnostics: list[Diagnostic] = []
        self.configs: list[ir.Config] = []
        self.includes: list[ir.IncludeFile] = []
        self.failed: set[str] = set()  # attributes of configs whose value could not be read

    def error(self, code: str, node: cst.CSTNode | Span, message: str, hint: str) -> None:
        span = node if isinstance(node, Span) else self.span_of(node)
        self.diagnostics.append(Diagnostic(code, ERROR, message, span, hint))

    def _args(self, kind: str, attr: str, call: cst.Call, known: tuple[str, ...]) -> dict[str, Any] | None:
        """{argument: (node, value)} of a declaration, literals evaluated; None if unreadable."""
        out: dict[str, Any] = {}
        positional = []
        for arg in call.args:
            if arg.star:
                self.error("FC705", arg, f"{kind}(*args/**kwargs) cannot be read without running the module",
                           f'write every argument out: {kind}("name", default=...)')
                return None
            if arg.keyword is None:
                positional.append(arg)
            else:
                out[arg.keyword.value] = arg.value
        if positional:
            out.setdefault("name", positional[0].value)
        for extra in positional[1:]:
            self.error("FC705", extra, f"{kind} takes its name positionally; pass the rest by keyword",
                       f'write {kind}("name", default=...)')
        values: dict[str, Any] = {}
        ok = True
        for key, node in out.items():
            if key not in known:
                self.error("FC402", node, f"{kind} has no argument '{key}'", "known arguments: " + ", ".join(known))
                continue
            if key == "parser":
                values[key] = (node, node)  # read by _parser
                continue
            if key == "default" and (path := self.beside(node)) is not None:
                values[key] = (node, path)
                continue
            try:
                values[key] = (node, evaluate(node, self.constants))
            except NotLiteral as exc:
                self.error("FC705", exc.node, f"argument '{key}' of {kind} '{attr}' is not a literal: {exc.reason}",
                           "flowc reads flows without running them; give a literal value")
                ok = False
        name = values.get("name", (call, None))[1]
        if ok and (not isinstance(name, str) or not name):
            self.error("FC705", call, f"{kind} '{attr}' needs a name: {kind}(\"{attr}\", ...)",
                       "the name is what users pass on the command line")
            return None
        if ok and (not name[0].isalpha() or not all(c.isalnum() or c in "_-" for c in name)):
            self.error("FC705", values["name"][0], f"{kind} name {name!r} must start with a letter and hold only "
                       "letters, digits, - and _", "e.g. train-config or train_config")
            return None
        return values if ok else None

    def _parser(self, kind: str, node: cst.BaseExpression | None, allowed: tuple[str, ...]) -> str | None:
        if node is None:
            return "json.loads"
        text: Any = None
        try:
            text = evaluate(node, self.constants)
        except NotLiteral:
            text = dotted_name(node)  # parser=tomllib.loads, the function itself
        if isinstance(text, str) and text in allowed:
            return text
        shown = text if isinstance(text, str) else "this parser"
        self.error("FC704", node, f"{kind} parser {shown!r} is not one flowc can run at compile time",
                   "known parsers: " + ", ".join(f'"{p}"' for p in allowed)
                   + "; or parse the text yourself in the start step")
        return None

    # ---- Config

    def config(self, attr: str, call: cst.Call) -> None:
        values = self._args("Config", attr, call, _CONFIG_ARGS)
        if values is None:
            self.failed.add(attr)
            return
        name = values["name"][1]
        parser = self._parser("Config", values.get("parser", (None, None))[0], PARSERS)
        plain = values.get("plain", (None, False))[1]
        required = values.get("required", (None, False))[1]
        help_text = values.get("help", (None, None))[1]
        for key, want in (("plain", bool), ("required", (bool, type(None)))):
            if key in values and not isinstance(values[key][1], want):
                self.error("FC705", values[key][0], f"{key}= of Config '{attr}' must be True or False",
                           f"write {key}=True or leave it out")
                self.failed.add(attr)
                return
        if help_text is not None and not isinstance(help_text, str):
            self.error("FC705", values["help"][0], "help= must be a string", 'write help="what the config holds"')
            help_text = None
        if values.get("default", (None, None))[1] is not None and "default_value" in values:
            self.error("FC705", values["default_value"][0],
                       f"Config '{attr}' has both default (a file) and default_value",
                       "keep one: default='config.json' names a file, default_value={...} is the value itself")
            self.failed.add(attr)
            return
        if parser is None:
            self.failed.add(attr)
            return
        value, origin, sha = self._config_value(attr, name, call, values, parser, bool(required))
        if value is AMBIGUOUS:
            self.failed.add(attr)
            return
        if value is not None and not plain and not isinstance(value, dict):
            self.error("FC702", call, f"config '{name}' is a {type(value).__name__}, not a mapping",
                       "a Config holds a mapping (a JSON object, a TOML table); use plain=True for any other value")
            self.failed.add(attr)
            return
        problem = f"it nests deeper than {MAX_DEPTH} levels" if nesting(value) > MAX_DEPTH else json_problem(value)
        if problem:
            self.error("FC702", call, f"config '{name}' holds a value flowc cannot pass to the steps: {problem}",
                       "configs travel as JSON: use strings for dates and finite numbers")
            self.failed.add(attr)
            return
        text = json.dumps(_jsonable(value), ensure_ascii=False)  # keys in the file's order, as Metaflow gives them
        self.configs.append(ir.Config(name=name, attribute=attr, span=self.span_of(call), value=text,
                                      parser=parser, plain=bool(plain), source=origin, source_sha256=sha,
                                      help=help_text))

    def _config_value(self, attr: str, name: str, call: cst.Call, values: dict, parser: str,
                      required: bool) -> tuple[Any, Span | None, str | None]:
        """(value, the file's position or None, its sha256); AMBIGUOUS after a diagnostic."""
        key = name.replace("-", "_").lower()
        overrides_f = {k.replace("-", "_").lower(): v for k, v in self.inputs.files.items()}
        overrides_v = {k.replace("-", "_").lower(): v for k, v in self.inputs.values.items()}
        if key in overrides_v:
            return self._parse(overrides_v[key], parser, name, call, f"--config-value {name}"), None, None
        if key in overrides_f:
            return self._read(Path(overrides_f[key]), parser, name, call, f"--config {name} {overrides_f[key]}")
        if values.get("default", (None, None))[1] is not None:  # default=None: no file, as no default
            node, path = values["default"]
            if not isinstance(path, str) or not path:
                self.error("FC705", node, f"default= of Config '{attr}' must name a file",
                           "write default='config.json' (a file beside the flow), or default_value={...}")
                return AMBIGUOUS, None, None
            folder = self.inputs.folder or Path(".")
            return self._read(folder / path, parser, name, node, f"default file {path!r}")
        if "default_value" in values:
            node, value = values["default_value"]
            if isinstance(value, str):
                return self._parse(value, parser, name, node, "default_value"), None, None
            return value, None, None
        if required:
            self.error("FC701", call, f"config '{name}' is required and has no value",
                       f"give it on the command line: --config {name} FILE or --config-value {name} JSON; "
                       "or add default='file.json'")
            return AMBIGUOUS, None, None
        return None, None, None

    def _read(self, path: Path, parser: str, name: str, node: cst.CSTNode, what: str):
        try:
            data = path.read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = "no such file" if isinstance(exc, FileNotFoundError) else (
                "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else (exc.strerror or str(exc)))
            self.error("FC701", node, f"config '{name}': {what} cannot be read ({self.display(path)}: {reason})",
                       "config files are read beside the flow file (--config paths from the current folder); "
                       "check the name")
            return AMBIGUOUS, None, None
        value = self._parse(text, parser, name, node, f"{what} ({self.display(path)})")
        if value is AMBIGUOUS:
            return AMBIGUOUS, None, None
        return value, Span.at(self.display(path), 1), hashlib.sha256(data).hexdigest()

    def _parse(self, text: str, parser: str, name: str, node: cst.CSTNode, what: str) -> Any:
        try:
            return parse_config_text(text, parser)
        except (ValueError, RecursionError) as exc:
            self.error("FC702", node, f"config '{name}': {what} cannot be parsed with {parser}: {exc}",
                       "fix the file, or name the parser that reads it: parser=\"tomllib.loads\" or "
                       "parser=\"yaml.safe_load\"")
            return AMBIGUOUS

    # ---- IncludeFile

    def include(self, attr: str, call: cst.Call) -> None:
        values = self._args("IncludeFile", attr, call, _INCLUDE_ARGS)
        if values is None:
            return
        name = values["name"][1]
        parser = None
        if "parser" in values:
            parser = self._parser("IncludeFile", values["parser"][0], INCLUDE_PARSERS)
            if parser is None:
                return
        is_text = values.get("is_text", (None, True))[1]
        encoding = values.get("encoding", (None, "utf-8"))[1]
        required = values.get("required", (None, False))[1]
        help_text = values.get("help", (None, None))[1]
        if is_text is None:
            is_text = True
        if encoding is None:
            encoding = "utf-8"
        if required is None:
            required = False
        for key, value, want, what in (("is_text", is_text, bool, "True or False"),
                                       ("required", required, bool, "True or False"),
                                       ("encoding", encoding, str, "a codec name such as 'utf-8'")):
            if not isinstance(value, want):
                self.error("FC705", values[key][0], f"{key}= of IncludeFile '{attr}' must be {what}",
                           f"write {key}=... with {what}, or leave it out")
                return
        import codecs

        try:
            codecs.lookup(encoding)
        except LookupError:
            self.error("FC705", values["encoding"][0], f"encoding {encoding!r} of IncludeFile '{attr}' is unknown",
                       "e.g. encoding='utf-8' or encoding='latin-1'")
            return
        rel = sha = None
        if values.get("default", (None, None))[1] is not None:  # default=None: no file, as no default
            node, path = values["default"]
            rel = self._included_path(attr, node, path)
            if rel is None:
                return
            sha = file_sha256((self.inputs.folder or Path(".")) / rel)
        self.includes.append(ir.IncludeFile(name=name, attribute=attr, span=self.span_of(call), path=rel,
                                            is_text=is_text, encoding=encoding, parser=parser,
                                            required=bool(required), help=help_text, sha256=sha))

    def _included_path(self, attr: str, node: cst.CSTNode, path: Any) -> str | None:
        if not isinstance(path, str) or not path:
            self.error("FC705", node, f"default= of IncludeFile '{attr}' must name a file",
                       "write default='data.csv' (a file beside the flow)")
            return None
        rel = Path(path)
        folder = (self.inputs.folder or Path(".")).resolve()
        full = (folder / rel).resolve()
        try:
            inside = full.relative_to(folder).as_posix()
        except ValueError:
            inside = None
        if rel.is_absolute() or inside is None:
            self.error("FC706", node, f"included file {path!r} is outside the flow's folder",
                       "the code package carries the flow's folder: put the file beside the flow or below it")
            return None
        if not full.is_file():
            reason = "it is a folder" if full.is_dir() else "no such file"
            close = difflib.get_close_matches(rel.name, [p.name for p in full.parent.glob("*") if p.is_file()], n=1) \
                if full.parent.is_dir() else []
            self.error("FC706", node, f"included file {path!r} cannot be read ({self.display(full)}: {reason})",
                       (f"did you mean {close[0]!r}? " if close else "")
                       + "IncludeFile's default is read from the flow's folder")
            return None
        return inside


# ------------------------------------------------------------ references


class ConfigScope(dict):
    """The names literal evaluation sees inside a flow's class body: the
    module's constants, and each config bound to its value. ``cfg.a.b``,
    ``cfg["a"]`` and ``config_expr("cfg.a")`` are resolved by
    ``resolve_reference``, which literals.evaluate calls."""

    def __init__(self, base: dict[str, Any], configs: dict[str, ir.Config], failed: set[str],
                 is_config_expr: Callable[[cst.CSTNode], bool]):
        super().__init__(base)
        self.base = base
        self.configs = configs
        self.failed = failed
        self.is_config_expr = is_config_expr
        self.values = {attr: json.loads(c.value) for attr, c in configs.items()}
        self.cascades: list[cst.CSTNode] = []  # reads of configs that failed: their errors are cascades
        # the flow class's own decorators run in the module's scope, where the class
        # attribute `cfg` does not exist (Metaflow: use config_expr there)
        self.outside_class: Callable[[cst.CSTNode], bool] = lambda node: False
        for attr, c in configs.items():
            self[attr] = self.values[attr]
        for attr in failed:
            self[attr] = AMBIGUOUS

    def resolve_reference(self, node: cst.BaseExpression) -> tuple[bool, Any]:
        """(True, value) when node reads a config; (False, None) when it does not."""
        try:
            return self._resolve(node)
        except ConfigProblem as problem:
            self.cascades.append(problem.node)
            raise

    def _resolve(self, node: cst.BaseExpression) -> tuple[bool, Any]:
        chain: list[tuple[cst.CSTNode, Any]] = []  # (node, key), innermost last
        root = node
        while True:
            if isinstance(root, cst.Attribute):
                chain.append((root, root.attr.value))
                root = root.value
            elif isinstance(root, cst.Subscript) and len(root.slice) == 1 \
                    and isinstance(root.slice[0].slice, cst.Index):
                try:
                    key = evaluate(root.slice[0].slice.value, self)
                except NotLiteral:
                    return False, None
                chain.append((root, key))
                root = root.value
            else:
                break
        chain.reverse()
        if isinstance(root, cst.Call) and self.is_config_expr(root):
            label, value = self._config_expr(root)
        elif isinstance(root, cst.Name) and root.value in self.configs and self.outside_class(root):
            if root.value in self.base:
                return False, None  # a module-level name of the same spelling
            raise ConfigProblem(node, "FC703", f"'{root.value}' is a class attribute, not defined where the flow "
                                f"class's decorators run", f'write config_expr("{root.value}...") there, as Metaflow '
                                "requires")
        elif isinstance(root, cst.Name) and root.value in self.configs:
            label, value = root.value, self.values[root.value]
        elif isinstance(root, cst.Name) and root.value in self.failed and chain:
            raise ConfigProblem(node, "", f"config '{root.value}' has no value", "")
        else:
            return False, None
        return True, self._walk(label, value, chain)

    def _walk(self, label: str, value: Any, chain: list[tuple[cst.CSTNode, Any]]) -> Any:
        for node, key in chain:
            if isinstance(value, dict) and key in value:
                value = value[key]
                label = f"{label}.{key}" if isinstance(key, str) and key.isidentifier() else f"{label}[{key!r}]"
                continue
            if isinstance(value, list) and isinstance(key, int) and not isinstance(key, bool) \
                    and -len(value) <= key < len(value):
                value = value[key]
                label = f"{label}[{key}]"
                continue
            raise ConfigProblem(node, "FC703", self._missing(label, value, key), self._hint(label, value, key))
        return value

    def _missing(self, label: str, value: Any, key: Any) -> str:
        root = label.split(".")[0].split("[")[0]
        cfg = self.configs.get(root)
        where = f" (read from {cfg.source.file})" if cfg is not None and cfg.source is not None else ""
        if isinstance(value, dict):
            return f"{label} has no key {key!r}{where}"
        if isinstance(value, list):
            return f"{label} has no item {key!r}{where}"
        return f"{label} is {value!r}, which has no key {key!r}{where}"

    @staticmethod
    def _hint(label: str, value: Any, key: Any) -> str:
        if isinstance(value, dict):
            keys = [k for k in value if isinstance(k, str)]
            close = difflib.get_close_matches(str(key), keys, n=1)
            listed = ", ".join(sorted(keys)[:12]) or "none"
            return (f"did you mean '{close[0]}'? " if close else "") + f"keys of {label}: {listed}"
        return "add the key to the config file, or read another one"

    def _config_expr(self, call: cst.Call) -> tuple[str, Any]:
        args = [a for a in call.args if a.keyword is None and not a.star]
        if len(args) != 1 or len(call.args) != 1:
            raise ConfigProblem(call, "FC707", "config_expr() takes one string: the expression",
                                'write config_expr("cfg.key")')
        arg = args[0].value
        try:
            text = evaluate(arg, self.base)
        except NotLiteral:
            text = None
        if not isinstance(text, str):
            raise ConfigProblem(arg, "FC707", "config_expr() takes a string literal", 'write config_expr("cfg.key")')
        try:
            expr = cst.parse_expression(text.strip())
        except (cst.ParserSyntaxError, RecursionError):
            raise ConfigProblem(arg, "FC707", f"config_expr({text!r}) is not a Python expression",
                                'write config_expr("cfg.key")') from None
        return text.strip(), self._evaluate_text(expr, arg, text)

    def _evaluate_text(self, expr: cst.BaseExpression, arg: cst.CSTNode, text: str) -> Any:
        """An expression inside config_expr("..."): config reads and literals; positions are the string's."""
        chain: list[Any] = []
        root = expr
        while isinstance(root, (cst.Attribute, cst.Subscript)):
            if isinstance(root, cst.Attribute):
                chain.append(root.attr.value)
            else:
                if len(root.slice) != 1 or not isinstance(root.slice[0].slice, cst.Index):
                    break
                try:
                    chain.append(evaluate(root.slice[0].slice.value, self.base))
                except NotLiteral:
                    break
            root = root.value
        if isinstance(root, cst.Name) and root.value in self.configs and not isinstance(root, cst.Call):
            chain.reverse()
            return self._walk(root.value, self.values[root.value], [(arg, k) for k in chain])
        if isinstance(root, cst.Name) and root.value in self.failed:
            raise ConfigProblem(arg, "", f"config '{root.value}' has no value", "")
        if isinstance(root, cst.Name):
            names = ", ".join(sorted(self.configs)) or "none"
            raise ConfigProblem(arg, "FC703", f"config_expr({text!r}) names no config of this flow",
                                f"configs of this flow: {names}")
        raise ConfigProblem(arg, "FC707", f"config_expr({text!r}) is evaluated only by running the module",
                            "flowc resolves attribute and item reads of a config (config_expr(\"cfg.a.b\")); "
                            "compute anything else in a step")


def check_names(configs: list[ir.Config], includes: list[ir.IncludeFile], parameters: tuple[ir.Parameter, ...],
                reserved: frozenset[str]) -> list[Diagnostic]:
    """Duplicate names (FC305) and names that would shadow flowc run's options (FC306)."""
    out: list[Diagnostic] = []
    seen: dict[str, str] = {p.name.replace("-", "_").lower(): "parameter" for p in parameters}
    for item, kind in [(c, "config") for c in configs] + [(i, "included file") for i in includes]:
        key = item.name.replace("-", "_").lower()
        if key in seen:
            out.append(Diagnostic("FC305", ERROR, f"{kind} '{item.name}' has the name of a {seen[key]}", item.span,
                                  "parameters, configs and included files share one namespace; rename one"))
        seen[key] = kind
    for inc in includes:
        if inc.name in reserved or inc.name.replace("-", "_") in reserved:
            out.append(Diagnostic("FC306", ERROR, f"included file '{inc.name}' is named like flowc run's option "
                                  f"--{inc.name}", inc.span, "rename it: its --NAME PATH flag would be taken"))
    if configs:
        from .cli_options import CONFIG_OPTIONS

        for item in list(parameters) + includes:
            if "--" + item.name.replace("_", "-") in CONFIG_OPTIONS:
                out.append(Diagnostic("FC306", ERROR, f"'{item.name}' is named like the --{item.name} option this "
                                      "flow's configs add to flowc run", item.span, "rename it"))
    return out


def unpack(scope: Any, arg: cst.Arg, positions: dict) -> dict[str, cst.BaseExpression] | None:
    """``@decorator(**cfg.resources)``: one literal node per key of the config
    mapping, each placed (for diagnostics) where the ``**`` expression is.
    None when the expression reads no config."""
    resolve = getattr(scope, "resolve_reference", None)
    if resolve is None or arg.star != "**":
        return None
    found, value = resolve(arg.value)
    if not found:
        return None
    if not isinstance(value, dict) or not all(isinstance(k, str) and k.isidentifier() for k in value):
        raise ConfigProblem(arg.value, "FC703", f"**{dotted_name(arg.value) or 'config'} is not a mapping of "
                            "argument names", "unpack a config table whose keys are the decorator's arguments")
    where = positions[arg.value] if arg.value in positions else positions[arg]
    out: dict[str, cst.BaseExpression] = {}
    for key, item in value.items():
        node = cst.parse_expression(repr(item))

        class Place(cst.CSTVisitor):
            def on_visit(self, n: cst.CSTNode) -> bool:
                positions[n] = where
                return True

        node.visit(Place())
        out[key] = node
    return out
