"""A card as one self-contained HTML page: inline CSS, images as data URIs,
no script and nothing fetched when it is viewed. Every value from the flow
is escaped; only the DAG picture (drawn by flowc from the IR, its names
escaped there) is inserted as markup."""

from __future__ import annotations

import html
import json
import re
from typing import Any

from .markdown import to_html as markdown_html

_IMAGE_SRC = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,\s?[A-Za-z0-9+/=\s]*$")

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;background:#f6f7f9;color:#1f2328}
main{max-width:1100px;margin:0 auto;padding:24px}
header{border-bottom:1px solid #d0d7de;margin-bottom:16px}
header h1{font-size:20px;margin:0 0 4px}
header p{color:#57606a;margin:0 0 12px;font-size:13px}
section{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:16px;margin-bottom:16px}
section>h2{font-size:15px;margin:0 0 12px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
pre{background:#f6f8fa;padding:8px;overflow:auto;font-size:12px;white-space:pre-wrap;margin:0}
figure{margin:0 0 12px}figure img{max-width:100%}figcaption{color:#57606a;font-size:12px}
.log pre{background:#fff8f8;border-left:3px solid #cf222e}
progress{width:60%}.component{margin-bottom:12px}
.dag svg{max-width:100%;height:auto}
.meta td:first-child{width:160px;color:#57606a}
"""


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def component_html(data: Any) -> str:
    """One component's data (components.py) as HTML."""
    if not isinstance(data, dict):
        return f"<pre>{esc(data)}</pre>"
    kind = data.get("type")
    title = f"<h3>{esc(data['title'])}</h3>" if data.get("title") else ""
    if kind == "markdown":
        return f'<div class="component markdown">{markdown_html(data.get("source"))}</div>'
    if kind == "table":
        head = "".join(f"<th>{esc(h)}</th>" for h in data.get("columns") or [])
        rows = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in row) + "</tr>"
                       for row in data.get("data") or [] if row)
        return f'<div class="component">{title}<table>{f"<thead><tr>{head}</tr></thead>" if head else ""}' \
               f"<tbody>{rows}</tbody></table></div>"
    if kind == "image":
        src = str(data.get("src") or "")
        if not _IMAGE_SRC.match(src):
            return '<div class="component log"><pre>an image whose source is not an embedded image</pre></div>'
        label = f"<figcaption>{esc(data['label'])}</figcaption>" if data.get("label") else ""
        return f'<figure class="component"><img alt="{esc(data.get("label") or "image")}" src="{esc(src)}">' \
               f"{label}</figure>"
    if kind == "artifacts":
        rows = "".join(f"<tr><td>{esc(a.get('name') or '')}</td><td>{esc(a.get('type'))}</td>"
                       f"<td><pre>{esc(a.get('data'))}</pre></td></tr>" for a in data.get("data") or [])
        return f'<div class="component">{title}<table><thead><tr><th>name</th><th>type</th><th>value</th></tr>' \
               f"</thead><tbody>{rows}</tbody></table></div>"
    if kind == "log":
        return f'<div class="component log"><pre>{esc(data.get("data"))}</pre></div>'
    if kind == "progressBar":
        label = esc(data.get("label") or "")
        unit = esc(data.get("unit") or "")
        details = f" <small>{esc(data['details'])}</small>" if data.get("details") else ""
        return (f'<div class="component"><div>{label}</div><progress max="{esc(data.get("max"))}" '
                f'value="{esc(data.get("value"))}"></progress> {esc(data.get("value"))} / {esc(data.get("max"))} '
                f"{unit}{details}</div>")
    if kind == "vegaChart":
        spec = json.dumps(data.get("spec"), indent=1, sort_keys=True, default=str)
        return (f'<details class="component"><summary>Vega-Lite chart (its spec; open the card in a Vega-enabled '
                f"viewer to draw it)</summary><pre>{esc(spec)}</pre></details>")
    if kind == "section":
        inner = "".join(component_html(c) for c in data.get("contents") or [])
        return f"<section>{title}{inner}</section>"
    if kind == "html-text":
        return f'<div class="component"><pre>{esc(data.get("text"))}</pre></div>'
    return f'<div class="component"><pre>{esc(json.dumps(data, indent=1, sort_keys=True, default=str))}</pre></div>'


def _cell(cell: Any) -> str:
    if isinstance(cell, dict) and "type" in cell:
        return component_html(cell)
    if isinstance(cell, (list, dict)):
        return f"<pre>{esc(json.dumps(cell, default=str))}</pre>"
    return esc(cell)


def page(title: str, subtitle: str, sections: list[str]) -> str:
    """The whole card; ``sections`` are HTML fragments made by this module."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            f"<title>{esc(title)}</title><style>{CSS}</style></head><body><main>"
            f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
            + "".join(sections) + "</main></body></html>\n")


def section(heading: str | None, inner: str, css_class: str = "") -> str:
    h = f"<h2>{esc(heading)}</h2>" if heading else ""
    return f'<section class="{esc(css_class)}">{h}{inner}</section>'
