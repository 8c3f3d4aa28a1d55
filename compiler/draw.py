"""Draw a flow's DAG from the IR: text for terminals, Mermaid and Graphviz DOT.

Foreach edges, joins and switch cases look different in every format, so a
reader sees fan-out, fan-in and choice at a glance.
"""

from __future__ import annotations

from . import ir


def _kind_label(flow: ir.Flow, s: ir.Step) -> str:
    if s.kind == ir.FOREACH:
        return f"foreach over self.{s.foreach}"
    if s.kind == ir.JOIN:
        split = flow.step(s.closes) if s.closes else None
        return f"join of {split.kind} in {split.name}" if split else "join"
    if s.kind == ir.SWITCH:
        return f"switch on self.{s.condition}"
    if s.name == flow.start and s.kind != ir.END:
        return f"start, {s.kind}"
    return s.kind


def text(flow: ir.Flow) -> str:
    lines = [f"flow {flow.name}  ({flow.source.path})"]
    if flow.parameters:
        lines.append("  parameters: " + ", ".join(
            f"{p.name}: {p.type}" + (" (required)" if p.required else f" = {p.default!r}" if p.default is not None else "")
            for p in flow.parameters))
    steps = flow.ordered_steps() or list(flow.steps)
    width = max(len(s.name) + 2 * len(s.foreach_stack) for s in steps) + 2
    for s in steps:
        indent = "  " * (1 + len(s.foreach_stack))
        if s.kind == ir.SWITCH:
            arrows = "  ? " + " | ".join(
                f"{case} -> {'itself (loop)' if target == s.name else target}" for case, target in s.cases.items())
        elif s.kind == ir.FOREACH:
            arrows = "  => " + ", ".join(s.next) + " (one task per item)"
        elif s.next:
            arrows = "  -> " + " | ".join(s.next) if s.kind == ir.BRANCH else "  -> " + ", ".join(s.next)
        else:
            arrows = ""
        name = (indent + s.name).ljust(width + 2)
        lines.append(f"{name}[{_kind_label(flow, s)}]{arrows}")
    return "\n".join(lines) + "\n"


def _mermaid_text(value: str) -> str:
    return value.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def mermaid(flow: ir.Flow) -> str:
    out = ["flowchart TD"]
    steps = flow.ordered_steps() or list(flow.steps)
    for s in steps:
        nid = f"s_{s.name}"
        label = _mermaid_text(s.name if s.kind in (ir.LINEAR, ir.END, ir.BRANCH) else f"{s.name}: {_kind_label(flow, s)}")
        if s.kind == ir.JOIN:
            shape = f'{nid}{{{{"{label}"}}}}'
        elif s.kind == ir.SWITCH:
            shape = f'{nid}{{"{label}"}}'
        elif s.kind == ir.FOREACH:
            shape = f'{nid}[["{label}"]]'
        elif s.name in (flow.start, flow.end):
            shape = f'{nid}(["{label}"])'
        else:
            shape = f'{nid}["{label}"]'
        out.append(f"    {shape}")
    for s in steps:
        for target in s.next:
            if s.kind == ir.FOREACH:
                out.append(f'    s_{s.name} ==>|"foreach {_mermaid_text(s.foreach or "")}"| s_{target}')
            elif s.kind == ir.SWITCH:
                cases = ", ".join(k for k, v in s.cases.items() if v == target)
                out.append(f'    s_{s.name} -.->|"{_mermaid_text(cases)}"| s_{target}')
            else:
                out.append(f"    s_{s.name} --> s_{target}")
    return "\n".join(out) + "\n"


def _dot_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def dot(flow: ir.Flow) -> str:
    out = [f'digraph "{_dot_text(flow.name)}" {{', "    rankdir=TB;", '    node [shape=box, fontname="Helvetica"];']
    steps = flow.ordered_steps() or list(flow.steps)
    shapes = {ir.JOIN: "invtrapezium", ir.SWITCH: "diamond", ir.FOREACH: "box3d", ir.BRANCH: "trapezium"}
    for s in steps:
        shape = shapes.get(s.kind, "ellipse" if s.name in (flow.start, flow.end) else "box")
        label = s.name if s.kind in (ir.LINEAR, ir.END) else f"{s.name}\\n({_dot_text(_kind_label(flow, s))})"
        out.append(f'    "{s.name}" [shape={shape}, label="{label}"];')
    for s in steps:
        for target in s.next:
            if s.kind == ir.FOREACH:
                attrs = f'style=bold, penwidth=2, label="foreach {_dot_text(s.foreach or "")}"'
            elif s.kind == ir.SWITCH:
                cases = ", ".join(k for k, v in s.cases.items() if v == target)
                attrs = f'style=dashed, label="{_dot_text(cases)}"'
            else:
                attrs = ""
            out.append(f'    "{s.name}" -> "{target}"' + (f" [{attrs}]" if attrs else "") + ";")
    out.append("}")
    return "\n".join(out) + "\n"


def svg(flow: ir.Flow) -> str:
    """A standalone SVG picture (runtime/dag_svg.py, the drawing cards and the
    web UI show), for READMEs and CI summaries. No PNG: a raster needs an
    image library flowc does not depend on; browsers and GitHub show SVG."""
    import json

    from flowc.runtime.dag_svg import render_dag_svg

    return '<?xml version="1.0" encoding="UTF-8"?>\n' + render_dag_svg(json.loads(ir.dump(flow))) + "\n"


FORMATS = {"text": text, "mermaid": mermaid, "dot": dot, "svg": svg}
