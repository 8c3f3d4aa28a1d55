"""The run page's DAG: the runtime's one drawing (runtime/dag_svg.py), its
steps coloured by state and linked to their pages."""

from __future__ import annotations

from flowc.runtime.dag_svg import render_dag_svg


def draw(ir: dict, states: dict[str, str] | None = None, link=None) -> str:
    return render_dag_svg(ir, states=states, link=link)
