"""A flow's DAG as a standalone SVG picture, from the IR as JSON.

One drawing serves the default card (the task's place in the DAG), the web
UI (steps coloured by state) and ``flowc graph --format svg`` (READMEs and
CI summaries). Standard library only, since cards render in containers.
Layers follow the longest path from the start; a step loops back (a
recursive switch) with an arrow round the side. Foreach edges are dashed,
foreach steps stacked, joins carry a bar, switch steps are hexagons with
each case on its edge. Every name is escaped; the output is the same bytes
for the same input.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

W, H, GAP_X, GAP_Y, PAD = 160, 38, 36, 58, 24
COLOURS = {  # fill, stroke
    "done": ("#dafbe1", "#1a7f37"), "failed": ("#ffebe9", "#cf222e"),
    "running": ("#ddf4ff", "#0969da"), "pending": ("#f6f8fa", "#8c959f"),
    None: ("#ffffff", "#57606a"),
}


def _label(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _layout(steps: list[dict]) -> tuple[dict[str, int], dict[str, float], set[tuple[str, str]]]:
    """(layer of each step, x slot of each step, back edges)."""
    position = {s["name"]: i for i, s in enumerate(steps)}
    layer: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    parents: dict[str, list[str]] = {s["name"]: [] for s in steps}
    for s in steps:
        for n in s.get("next") or []:
            if n not in position:
                continue
            if position[n] <= position[s["name"]]:
                back.add((s["name"], n))
            else:
                parents[n].append(s["name"])
    for s in steps:  # the IR's order is topological for forward edges
        name = s["name"]
        layer[name] = max((layer[p] + 1 for p in parents[name] if p in layer), default=0)
    rows: dict[int, list[str]] = {}
    for s in steps:
        rows.setdefault(layer[s["name"]], []).append(s["name"])
    slot: dict[str, float] = {}
    for depth in sorted(rows):
        names = rows[depth]
        if depth:  # barycentre of the parents, then the IR's order
            names.sort(key=lambda n: (sum(slot[p] for p in parents[n]) / len(parents[n]) if parents[n] else 0,
                                      position[n]))
        for i, n in enumerate(names):
            slot[n] = float(i)
        width = len(names)
        for n in names:  # centre each row
            slot[n] -= (width - 1) / 2
    return layer, slot, back


def render_dag_svg(ir: dict, highlight: str | None = None, states: dict[str, str] | None = None) -> str:
    steps = list(ir.get("steps") or [])
    order = ir.get("order") or []
    if order:
        by_name = {s["name"]: s for s in steps}
        steps = [by_name[n] for n in order if n in by_name] + [s for s in steps if s["name"] not in set(order)]
    layer, slot, back = _layout(steps)
    min_slot = min(slot.values(), default=0.0)
    columns = (max(slot.values(), default=0.0) - min_slot) + 1
    width = int(PAD * 2 + columns * W + (columns - 1) * GAP_X + (90 if back else 0))
    width = max(width, 360) if states else width  # room for the legend
    height = int(PAD * 2 + (max(layer.values(), default=0) + 1) * (H + GAP_Y) - GAP_Y + (28 if states else 0))

    def box(name: str) -> tuple[float, float]:
        x = PAD + (slot[name] - min_slot) * (W + GAP_X)
        y = PAD + layer[name] * (H + GAP_Y)
        return x, y

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="monospace" font-size="12" role="img">',
           f"<title>{escape(str(ir.get('name') or 'flow'))}</title>",
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#57606a"/></marker></defs>']
    kinds = {s["name"]: s.get("kind") for s in steps}
    for s in steps:
        name = s["name"]
        cases = {}
        for case, target in sorted((s.get("cases") or {}).items()):
            cases.setdefault(target, []).append(case)
        x1, y1 = box(name)
        for n in s.get("next") or []:
            if n not in layer:
                continue
            x2, y2 = box(n)
            kind = "foreach" if s.get("kind") == "foreach" else "switch" if s.get("kind") == "switch" else "edge"
            dash = ' stroke-dasharray="6 4"' if kind == "foreach" else ""
            if n == name:  # a step that runs again: a loop on its right side
                path = (f"M{x1 + W:.0f},{y1 + 10:.0f} C{x1 + W + 44:.0f},{y1 - 12:.0f} {x1 + W + 44:.0f},"
                        f"{y1 + H + 12:.0f} {x1 + W:.0f},{y1 + H - 10:.0f}")
                lx, ly = x1 + W + 40, y1 + H / 2 + 4
            elif (name, n) in back:
                right = PAD + columns * W + (columns - 1) * GAP_X + 30
                path = (f"M{x1 + W:.0f},{y1 + H / 2:.0f} C{right:.0f},{y1 + H / 2:.0f} {right:.0f},"
                        f"{y2 + H / 2:.0f} {x2 + W:.0f},{y2 + H / 2:.0f}")
                lx, ly = right - 4, (y1 + y2 + H) / 2
            else:
                sx, sy, ex, ey = x1 + W / 2, y1 + H, x2 + W / 2, y2
                mid = (sy + ey) / 2
                path = f"M{sx:.0f},{sy:.0f} C{sx:.0f},{mid:.0f} {ex:.0f},{mid:.0f} {ex:.0f},{ey:.0f}"
                lx, ly = (sx + ex) / 2 + 4, mid
            out.append(f'<path class="edge {kind}" d="{path}" fill="none" stroke="#57606a" stroke-width="1.4"'
                       f'{dash} marker-end="url(#arrow)"/>')
            label = "foreach " + str(s.get("foreach") or "") if kind == "foreach" else \
                ", ".join(map(str, cases.get(n, []))) if kind == "switch" else ""
            if label:
                out.append(f'<text class="edge-label" x="{lx:.0f}" y="{ly:.0f}" fill="#57606a" font-size="11">'
                           f"{escape(_label(label.strip(), 28))}</text>")
    for s in steps:
        name = s["name"]
        x, y = box(name)
        state = (states or {}).get(name)
        fill, stroke = COLOURS.get(state, COLOURS[None])
        width_px = 3 if name == highlight else 1.4
        stroke = "#bf8700" if name == highlight else stroke
        kind = kinds.get(name)
        attrs = f'class="step {escape(str(kind))}{" highlight" if name == highlight else ""}"'
        out.append(f"<g {attrs} data-step={quoteattr(name)}{f' data-state={quoteattr(state)}' if state else ''}>")
        out.append(f"<title>{escape(name)} ({escape(str(kind))})</title>")
        if kind == "foreach":  # a stack: one task per item below
            out.append(f'<rect x="{x + 6:.0f}" y="{y + 6:.0f}" width="{W}" height="{H}" rx="6" fill="{fill}" '
                       f'stroke="{stroke}" stroke-width="1"/>')
        if kind == "switch":
            pts = [(x + 12, y), (x + W - 12, y), (x + W, y + H / 2), (x + W - 12, y + H), (x + 12, y + H),
                   (x, y + H / 2)]
            out.append('<polygon points="' + " ".join(f"{a:.0f},{b:.0f}" for a, b in pts) +
                       f'" fill="{fill}" stroke="{stroke}" stroke-width="{width_px}"/>')
        else:
            out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{W}" height="{H}" rx="6" fill="{fill}" '
                       f'stroke="{stroke}" stroke-width="{width_px}"/>')
        if kind == "join":
            out.append(f'<rect x="{x:.0f}" y="{y:.0f}" width="{W}" height="5" fill="{stroke}"/>')
        out.append(f'<text x="{x + W / 2:.0f}" y="{y + H / 2 + 4:.0f}" text-anchor="middle" fill="#1f2328">'
                   f"{escape(_label(name))}</text></g>")
    if states:
        lx, ly = PAD, height - 12
        for key in ("done", "running", "failed", "pending"):
            fill, stroke = COLOURS[key]
            out.append(f'<rect x="{lx}" y="{ly - 10}" width="12" height="12" fill="{fill}" stroke="{stroke}"/>'
                       f'<text x="{lx + 16}" y="{ly}" font-size="11" fill="#57606a">{key}</text>')
            lx += 80
    out.append("</svg>")
    return "\n".join(out) + "\n"
