"""A flow's DAG as a standalone SVG picture, from the IR as JSON: the one
drawing behind the default card (the task's place in the DAG), the web UI
(steps coloured by state, linked to their pages) and ``flowc graph --format
svg`` (READMEs, CI summaries). Standard library only: cards render inside
containers.

foreach splits fan out with a dashed edge, the steps inside a foreach are
drawn stacked (one card per task), joins have a bar where their inputs meet,
switches are hexagons with each case on its edge. Colours follow ``states``
(step name to done / failed / running / pending).
"""

from __future__ import annotations

from html import escape

W, H, GAP_X, GAP_Y, PAD = 150, 34, 26, 46, 18
FILL = {"done": "#e3f4e1", "failed": "#fbe1df", "running": "#dfeafc", "pending": "#f3f3f3"}
STROKE = {"done": "#3b873e", "failed": "#c62828", "running": "#1f62c9", "pending": "#9e9e9e"}


def render_dag_svg(ir: dict, highlight: str | None = None, states: dict[str, str] | None = None,
                   link=None) -> str:
    """An SVG picture of the IR's steps; ``highlight`` marks one step (a
    task's place), ``link(step)`` gives each node's href."""
    states = states or {}
    steps = {s["name"]: s for s in ir.get("steps", [])}
    if not steps:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" role="img"></svg>'
    start = ir.get("start") if ir.get("start") in steps else next(iter(steps))
    layer, back = _layers(steps, start)
    rows: dict[int, list[str]] = {}
    for name in steps:  # source order within a layer
        rows.setdefault(layer[name], []).append(name)
    widest = max(len(r) for r in rows.values())
    width = widest * (W + GAP_X) - GAP_X + 2 * PAD + 40
    height = (max(rows) + 1) * (H + GAP_Y) - GAP_Y + 2 * PAD
    pos = {}
    for depth, names in rows.items():
        span = len(names) * (W + GAP_X) - GAP_X
        x0 = (width - 40 - span) / 2
        for i, name in enumerate(names):
            pos[name] = (x0 + i * (W + GAP_X), PAD + depth * (H + GAP_Y))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="dag" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="the flow\'s steps">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker></defs>']
    for name, s in steps.items():
        cases = {v: k for k, v in (s.get("cases") or {}).items()}
        for child in s.get("next", []):
            if child not in pos:
                continue
            label = f"foreach {s.get('foreach')}" if s.get("kind") == "foreach" and s.get("foreach") else \
                "foreach" if s.get("kind") == "foreach" else cases.get(child)
            out.append(_edge(pos[name], pos[child], s.get("kind") == "foreach", (name, child) in back, label))
    for name, s in steps.items():
        out.append(_node(name, s, pos[name], states.get(name, "pending"), link(name) if link else None,
                         name == highlight))
    out.append("</svg>")
    return "\n".join(out)


def _layers(steps: dict[str, dict], start: str) -> tuple[dict[str, int], set[tuple[str, str]]]:
    """Longest path from start; edges that close a loop (a recursive switch) are set apart."""
    back: set[tuple[str, str]] = set()
    order: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str) -> None:  # iterative depth-first search: flows may be long
        stack = [(n, iter(steps[n].get("next", [])))]
        state[n] = 1
        while stack:
            node, children = stack[-1]
            child = next((c for c in children if c in steps), None)
            if child is None:
                state[node] = 2
                order.append(node)
                stack.pop()
            elif state.get(child) == 1:
                back.add((node, child))
            elif child not in state:
                state[child] = 1
                stack.append((child, iter(steps[child].get("next", []))))

    visit(start)
    for name in steps:
        if name not in state:
            visit(name)
    layer = {n: 0 for n in steps}
    for node in reversed(order):  # topological order
        for child in steps[node].get("next", []):
            if child in steps and (node, child) not in back:
                layer[child] = max(layer[child], layer[node] + 1)
    return layer, back


def _edge(a: tuple[float, float], b: tuple[float, float], foreach: bool, loop: bool, label: str | None) -> str:
    dash = ' stroke-dasharray="5,4"' if foreach else ""
    if loop or a == b:  # back to an earlier step: around the right side
        x1, y1 = a[0] + W, a[1] + H / 2
        x2, y2 = b[0] + W, b[1] + H / 2
        bulge = max(x1, x2) + 30
        path = f"M{x1:.0f},{y1:.0f} C{bulge:.0f},{y1:.0f} {bulge:.0f},{y2:.0f} {x2 + 2:.0f},{y2:.0f}"
        lx, ly = bulge - 4, (y1 + y2) / 2
    else:
        x1, y1 = a[0] + W / 2, a[1] + H
        x2, y2 = b[0] + W / 2, b[1] - 2
        path = f"M{x1:.0f},{y1:.0f} C{x1:.0f},{y1 + GAP_Y / 2:.0f} {x2:.0f},{y2 - GAP_Y / 2:.0f} {x2:.0f},{y2:.0f}"
        lx, ly = (x1 + x2) / 2 + 4, (y1 + y2) / 2 + 4
    svg = (f'<path class="edge" d="{path}" fill="none" stroke="#666" stroke-width="1.4"{dash} '
           f'marker-end="url(#arrow)"/>')
    if label:
        svg += (f'<text class="edge-label" x="{lx:.0f}" y="{ly:.0f}" font-size="11" fill="#555" '
                f'font-family="sans-serif">{escape(_short(label, 24))}</text>')
    return svg


def _node(name: str, s: dict, at: tuple[float, float], state: str, href: str | None, highlight: bool = False) -> str:
    x, y = at
    fill, stroke = FILL.get(state, FILL["pending"]), STROKE.get(state, STROKE["pending"])
    kind = s.get("kind", "linear")
    inside_foreach = bool(s.get("foreach_stack"))
    parts = [f'<g class="node {escape(kind)} {escape(state)}{" highlight" if highlight else ""}" '
             f'data-step="{escape(name)}">',
             f"<title>{escape(name)}: {escape(kind)} step, {escape(state)}"
             f"{', inside a foreach' if inside_foreach else ''}</title>"]
    width = 3.5 if highlight else 2.5 if state in ("failed", "running") else 1.5
    stroke = "#bf8700" if highlight else stroke
    style = f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"'
    if inside_foreach:  # one card per task: a stack
        parts.append(f'<rect x="{x + 6:.0f}" y="{y - 6:.0f}" width="{W}" height="{H}" rx="6" {style}/>')
        parts.append(f'<rect x="{x + 3:.0f}" y="{y - 3:.0f}" width="{W}" height="{H}" rx="6" {style}/>')
    if kind == "switch":
        c = 14
        pts = f"{x + c},{y} {x + W - c},{y} {x + W},{y + H / 2} {x + W - c},{y + H} {x + c},{y + H} {x},{y + H / 2}"
        parts.append(f'<polygon points="{pts}" {style}/>')
    else:
        parts.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{W}" height="{H}" rx="{3 if kind == "join" else 8}" '
                     f'{style}/>')
    if kind == "join":
        parts.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{W}" height="5" fill="{stroke}"/>')
    if kind == "foreach":
        parts.append(f'<text x="{x + W - 8:.0f}" y="{y + H - 6:.0f}" font-size="10" text-anchor="end" '
                     f'fill="{stroke}" font-family="sans-serif">×N</text>')
    parts.append(f'<text x="{x + W / 2:.0f}" y="{y + H / 2 + 4:.0f}" font-size="13" text-anchor="middle" '
                 f'font-family="monospace" fill="#222">{escape(_short(name, 18))}</text>')
    parts.append("</g>")
    body = "".join(parts)
    return f'<a href="{escape(href)}">{body}</a>' if href else body


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
