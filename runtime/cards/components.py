"""Card components, Metaflow's API (``metaflow.cards``): each renders to the
same plain data as Metaflow's component (``render()``), which the HTML
renderer draws and the datastore keeps beside the card.

Standard library only: pandas, PIL and matplotlib objects are recognised by
their class and methods, never imported here.
"""

from __future__ import annotations

import base64
import itertools
import pprint
import reprlib
import textwrap
from typing import Any

_ids = itertools.count()


def _repr() -> reprlib.Repr:
    r = reprlib.Repr()
    r.maxarray = r.maxstring = r.maxother = r.maxtuple = r.maxlist = 100
    r.maxlevel = 3
    return r


def type_name(value: Any) -> str:
    """``dict`` for a builtin, ``module.Class`` otherwise (as Metaflow's cards name types)."""
    cls = type(value)
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


def pretty(value: Any) -> str:
    """A compact, truncated representation of any object (Metaflow's ``only_repr``)."""
    try:
        short = _repr().repr(value)
    except Exception as exc:  # a __repr__ that raises
        return f"<{type_name(value)}: repr failed: {type(exc).__name__}>"
    if "..." in short:
        return short
    try:
        return pprint.pformat(value, indent=2, width=50, compact=True)
    except Exception:
        return short


class MetaflowCardComponent:
    """The base of every component; a user's own component subclasses it and
    returns a dict (or a string) from ``render()``."""

    REALTIME_UPDATABLE = False
    type = "component"
    component_id: str | None = None

    def render(self) -> Any:
        raise NotImplementedError

    def _id(self) -> str:
        if self.component_id is None:
            self.component_id = f"{type(self).__name__.lower()}_{next(_ids)}"
        return self.component_id

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Components that change while a task runs (ProgressBar, Markdown...) override this."""


UserComponent = MetaflowCardComponent


def render_component(component: Any) -> dict:
    """A component's data; a component that fails to render becomes a log
    component saying so (the card still renders, as in Metaflow)."""
    if isinstance(component, MetaflowCardComponent):
        try:
            data = component.render()
        except Exception as exc:
            return _log(f"Render failed of component named `{type(component).__name__}`",
                        f"{type(exc).__name__}: {exc}")
        if isinstance(data, (dict, str)):
            return data if isinstance(data, dict) else {"type": "html-text", "text": data}
        return _log(f"Render failed of component named `{type(component).__name__}`",
                    "Component render didn't return a string or dict")
    return _log("Not a card component", f"{type_name(component)} cannot be added to a card; "
                "use Markdown, Table, Image, Artifact, VegaChart, ProgressBar or Error")


def _log(headline: str, message: str) -> dict:
    return {"type": "log", "data": f"{headline}\n\n{message}"}


class Markdown(MetaflowCardComponent):
    """A block of Markdown; indentation common to its lines is removed."""

    REALTIME_UPDATABLE = True
    type = "markdown"

    def __init__(self, text: str | None = None):
        self._text = textwrap.dedent(text) if text is not None else None

    def update(self, text: str | None = None) -> None:
        self._text = textwrap.dedent(text) if text is not None else None

    def render(self) -> dict:
        text = self._text
        if text is not None and not text.startswith("#"):
            text = "\n" + text  # as Metaflow stores it
        return {"type": "markdown", "source": text, "id": self._id()}


class Artifact(MetaflowCardComponent):
    """Any Python object, pretty-printed and truncated."""

    REALTIME_UPDATABLE = True
    type = "artifacts"

    def __init__(self, artifact: Any, name: str | None = None, compressed: bool = True):
        self._artifact = artifact
        self._name = name
        self._compressed = compressed

    def update(self, artifact: Any) -> None:
        self._artifact = artifact

    def render(self) -> dict:
        item = {"type": type_name(self._artifact), "data": pretty(self._artifact), "large_object": False,
                "supported_type": False, "only_repr": True,
                "name": None if self._name is None else str(self._name)}
        return {"type": "artifacts", "data": [item], "id": self._id()}


class Table(MetaflowCardComponent):
    """Rows of cells; a cell is text, a number or another component."""

    type = "table"

    def __init__(self, data: list | None = None, headers: list | None = None, disable_updates: bool = False):
        data = data or [[]]
        headers = headers or []
        self._headers = headers if isinstance(headers, list) else []
        self._data = data if isinstance(data, list) and data and all(isinstance(r, list) for r in data) else [[]]

    @classmethod
    def from_dataframe(cls, dataframe: Any = None, truncate: bool = True) -> "Table":
        """A table of a pandas DataFrame (its first 5 rows when truncated, with
        the index as the first column, as Metaflow shows it)."""
        if type_name(dataframe) != "pandas.core.frame.DataFrame":
            return cls(headers=[f"Object type {type_name(dataframe)} not supported"])
        frame = dataframe.head() if truncate else dataframe
        rows = []
        for index, row in zip(frame.index.tolist(), frame.astype(object).values.tolist()):
            rows.append([_cell(index)] + [_cell(v) for v in row])
        return cls(data=rows or [[]], headers=[""] + [str(c) for c in dataframe.columns])

    def update(self, *args: Any, **kwargs: Any) -> None:
        pass  # as in Metaflow: a table is not updated, its cells are

    def render(self) -> dict:
        rows = [[_table_cell(c) for c in row] for row in self._data]
        return {"type": "table", "columns": self._headers, "data": rows, "vertical": False, "id": self._id()}


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    return str(value)


def _table_cell(cell: Any) -> Any:
    if isinstance(cell, MetaflowCardComponent):
        return render_component(cell)
    if cell is None or isinstance(cell, (str, bool, int, float, dict, list, tuple)):
        return list(cell) if isinstance(cell, tuple) else cell
    return "<object>"


_IMAGE_MAGIC = ((b"\x89PNG\r\n\x1a\n", "png"), (b"\xff\xd8", "jpeg"), (b"GIF87a", "gif"), (b"GIF89a", "gif"))


def image_type(data: bytes) -> str | None:
    """png, jpeg, gif or webp: the formats every browser shows."""
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


class Image(MetaflowCardComponent):
    """An image embedded in the card (PNG, JPEG, GIF or WebP bytes, a PIL
    image or a matplotlib figure)."""

    REALTIME_UPDATABLE = True
    type = "image"

    def __init__(self, src: Any = None, label: str | None = None, disable_updates: bool = True):
        self._label = label
        self._src, self._error = self._source(src)

    @staticmethod
    def _source(src: Any) -> tuple[str | None, str | None]:
        if src is None:
            return None, "`Image` Component `src` argument is `None`"
        if isinstance(src, (bytes, bytearray)):
            kind = image_type(bytes(src))
            if kind is None:
                return None, "The `Image` `src` argument should be of type `bytes` holding a PNG, JPEG, GIF or WebP image"
            return f"data:image/{kind};base64, {base64.b64encode(bytes(src)).decode('ascii')}", None
        if isinstance(src, str):
            if src.startswith("data:image/"):
                return src, None
            try:
                data = base64.b64decode(src, validate=True)
            except ValueError:
                return None, "The `Image` `src` argument should be of type `bytes` or valid image base64 string"
            return Image._source(data)
        if type_name(src).startswith("PIL."):
            return Image._pil(src)
        if _is_matplotlib(src):
            return Image._matplotlib(src)
        return None, f"Invalid Type. Object {type(src)} is not supported."

    @staticmethod
    def _pil(image: Any) -> tuple[str | None, str | None]:
        import io

        if not hasattr(image, "save"):
            return None, "first argument for `Image` should be a PIL image"
        buf = io.BytesIO()
        try:
            image.save(buf, format="PNG")
        except Exception as exc:
            return None, f"PIL Image Not Parsable: {type(exc).__name__}: {exc}"
        return Image._source(buf.getvalue())

    @staticmethod
    def _matplotlib(plot: Any) -> tuple[str | None, str | None]:
        import io

        figure = plot if hasattr(plot, "savefig") else getattr(plot, "get_figure", lambda: None)()
        if figure is None or not hasattr(figure, "savefig"):
            return None, "Matplotlib plot's image is not parsable"
        buf = io.BytesIO()
        try:
            figure.savefig(buf, format="png")
        except Exception as exc:
            return None, f"Matplotlib plot's image is not parsable: {type(exc).__name__}: {exc}"
        return Image._source(buf.getvalue())

    @classmethod
    def from_pil_image(cls, pilimage: Any, label: str | None = None, disable_updates: bool = False) -> "Image":
        img = cls(None, label)
        img._src, img._error = cls._pil(pilimage)
        return img

    @classmethod
    def from_matplotlib(cls, plot: Any, label: str | None = None, disable_updates: bool = False) -> "Image":
        img = cls(None, label)
        img._src, img._error = cls._matplotlib(plot)
        return img

    def update(self, image: Any, label: str | None = None) -> None:
        self._src, self._error = self._source(image)
        if label is not None:
            self._label = label

    def render(self) -> dict:
        if self._src is None:
            return {**_log(f"[IMAGE_RENDER FAIL]: {self._error}", ""), "id": self._id()}
        return {"type": "image", "src": self._src, "label": self._label, "id": self._id()}


def _is_matplotlib(value: Any) -> bool:
    name = type_name(value)
    return name.startswith("matplotlib.") and (hasattr(value, "savefig") or hasattr(value, "get_figure"))


class Error(MetaflowCardComponent):
    """An exception shown in the card, with a title."""

    type = "log"

    def __init__(self, exception: BaseException, title: str | None = None):
        self._exception = exception
        self._title = title

    def render(self) -> dict:
        return {"type": "log", "data": f"{self._title}\n\n{self._exception!r}"}


class ProgressBar(MetaflowCardComponent):
    """Progress of a long step; ``update()`` then ``current.card.refresh()``."""

    REALTIME_UPDATABLE = True
    type = "progressBar"

    def __init__(self, max: int = 100, label: str | None = None, value: int = 0, unit: str | None = None,
                 metadata: str | None = None):
        self._max, self._label, self._value, self._unit, self._metadata = max, label, value, unit, metadata

    def update(self, new_value: int, metadata: str | None = None) -> None:
        self._value = new_value
        if metadata is not None:
            self._metadata = metadata

    def render(self) -> dict:
        data = {"type": "progressBar", "id": self._id(), "max": self._max, "value": self._value}
        if self._label:
            data["label"] = self._label
        if self._unit:
            data["unit"] = self._unit
        if self._metadata:
            data["details"] = self._metadata
        return data


class VegaChart(MetaflowCardComponent):
    """A Vega-Lite chart, kept as its spec (the card shows the spec: drawing
    it needs Vega's scripts, which a self-contained card does not fetch)."""

    REALTIME_UPDATABLE = True
    type = "vegaChart"

    def __init__(self, spec: dict, show_controls: bool = False):
        self._spec = spec
        self._show_controls = show_controls

    @classmethod
    def from_altair_chart(cls, altair_chart: Any) -> "VegaChart":
        if not all(x in type_name(altair_chart) for x in ("altair", "Chart")):
            raise ValueError(type_name(altair_chart) + " is not an altair chart")
        return cls(spec=altair_chart.to_dict())

    def update(self, spec: Any = None) -> None:
        if spec is not None:
            self._spec = spec.to_dict() if hasattr(spec, "to_dict") else spec

    def render(self) -> dict:
        spec = dict(self._spec)
        data = {"type": "vegaChart", "id": self._id(), "spec": spec}
        if not self._show_controls:
            data["options"] = {"actions": False}
        spec.setdefault("width", "container")
        return data
