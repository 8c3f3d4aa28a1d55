"""A small, safe Markdown renderer for cards: headings, paragraphs, lists,
code blocks, emphasis, inline code and links. Everything is escaped first,
so no Markdown text becomes markup of its own; links keep only http(s) and
mailto addresses, and images are shown as their text (a card fetches
nothing when it is viewed)."""

from __future__ import annotations

import html
import re

_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(([^)\s]+)\)")
_CODE = re.compile(r"`([^`]+)`")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])|(?<![\w_])_(?!\s)(.+?)(?<!\s)_(?![\w_])")
_SAFE_URL = re.compile(r"^(https?://|mailto:)", re.I)


def _inline(text: str) -> str:
    codes: list[str] = []

    def keep_code(m: re.Match) -> str:
        codes.append(f"<code>{html.escape(m.group(1))}</code>")
        return f"\x00{len(codes) - 1}\x00"

    text = _CODE.sub(keep_code, text)
    text = html.escape(text)
    text = _IMAGE.sub(lambda m: f"[image: {m.group(1)}]", text)

    def link(m: re.Match) -> str:
        url = html.unescape(m.group(2))
        if not _SAFE_URL.match(url):
            return m.group(1)
        return f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer" target="_blank">{m.group(1)}</a>'

    text = _LINK.sub(link, text)
    text = _BOLD.sub(lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", text)
    text = _ITALIC.sub(lambda m: f"<em>{m.group(1) or m.group(2)}</em>", text)
    return re.sub("\x00(\\d+)\x00", lambda m: codes[int(m.group(1))], text)


def to_html(source: str | None) -> str:
    if not source:
        return ""
    out: list[str] = []
    para: list[str] = []
    lists: list[str] = []  # open list tags
    lines = source.replace("\r\n", "\n").split("\n")
    i = 0

    def flush_para() -> None:
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
            para.clear()

    def close_lists() -> None:
        while lists:
            out.append(f"</{lists.pop()}>")

    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if stripped.startswith("```"):
            flush_para()
            close_lists()
            block = []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith("```"):
                block.append(lines[i])
                i += 1
            out.append(f"<pre><code>{html.escape(chr(10).join(block))}</code></pre>")
            i += 1
            continue
        heading = re.match(r"^(#{1,6})\s+(.*)$", stripped)
        bullet = re.match(r"^[-*+]\s+(.*)$", stripped)
        number = re.match(r"^\d+[.)]\s+(.*)$", stripped)
        if not stripped:
            flush_para()
            close_lists()
        elif heading:
            flush_para()
            close_lists()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2).rstrip('#').strip())}</h{level}>")
        elif re.match(r"^(-{3,}|\*{3,}|_{3,})$", stripped):
            flush_para()
            close_lists()
            out.append("<hr>")
        elif bullet or number:
            flush_para()
            tag = "ul" if bullet else "ol"
            if lists and lists[-1] != tag:
                close_lists()
            if not lists:
                out.append(f"<{tag}>")
                lists.append(tag)
            out.append(f"<li>{_inline((bullet or number).group(1))}</li>")
        elif stripped.startswith(">"):
            flush_para()
            close_lists()
            out.append(f"<blockquote>{_inline(stripped.lstrip('>').strip())}</blockquote>")
        else:
            close_lists()
            para.append(stripped)
        i += 1
    flush_para()
    close_lists()
    return "\n".join(out)
