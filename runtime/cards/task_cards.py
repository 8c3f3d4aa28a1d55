"""The cards of one task: ``current.card`` while the step runs, then each
@card rendered to HTML and stored (runtime/card_store.py) when the task
ends, whether the step succeeded or failed, as Metaflow renders on task
finish. A card never fails its task: a component or card that fails to
render, or takes longer than the card's timeout, becomes an error card and
one line on stderr (nothing is stored with save_errors=False)."""

from __future__ import annotations

import sys
import threading
import time
from typing import Any, Callable

from .. import card_store
from ..current import current
from .collector import CardCollector, CardContents, Throttle
from .components import pretty, render_component, type_name
from .html import component_html, esc, page, section

DEFAULT_TIMEOUT = 45  # seconds, Metaflow's
DEFAULT_REFRESH = 5


class TaskCards:
    """Renders and stores one task's cards; ``facts`` returns what the
    default card shows (artifacts, parameters, timings, the IR)."""

    def __init__(self, specs: list[dict], ds: Any, run: str, step: str, task: str, attempt: int,
                 facts: Callable[[], dict]):
        self.specs, self.ds, self.run, self.step, self.task, self.attempt = specs, ds, run, step, task, attempt
        self.facts = facts
        self.collector: CardCollector = current.card
        self.throttles: dict[int, Throttle] = {}
        self.collector.configure(specs, self._refresh)
        current._update(card=self.collector)

    def _refresh(self, card: CardContents, force: bool) -> None:
        interval = card.spec.get("refresh_interval") or DEFAULT_REFRESH
        throttle = self.throttles.setdefault(id(card), Throttle(interval))
        if throttle.ready(force):
            self._store(card, status="running")

    def finish(self, status: str) -> None:
        """Render every card of the step (status: succeeded, failed or caught)."""
        for card in self.collector.cards:
            self._store(card, status)

    def _store(self, card: CardContents, status: str) -> None:
        timeout = card.spec.get("timeout") or DEFAULT_TIMEOUT
        result: dict[str, Any] = {}

        def work() -> None:
            try:
                result["value"] = self._render(card, status)
            except Exception as exc:  # a bug in a component the user wrote, or ours
                result["error"] = f"{type(exc).__name__}: {exc}"

        worker = threading.Thread(target=work, daemon=True, name="card-render")
        worker.start()
        worker.join(timeout)
        if "value" in result:
            html, data = result["value"]
        else:
            why = result.get("error") or f"rendering took longer than its timeout of {timeout} s"
            sys.stderr.write(f"@card: the {card.type} card {card.id or ''} of {self.step} was not rendered: {why}\n")
            if not card.spec.get("save_errors", True):
                return
            data = {"components": [{"type": "log", "data": f"Card render failed\n\n{why}"}], "error": why}
            html = page(f"{self.facts()['pathspec']}", "this card failed to render", [
                section("Card render failed", component_html(data["components"][0]), "log")])
        try:
            card_store.write_card(self.ds, self.run, self.step, self.task, self.attempt, card.type, card.id, html, data)
        except Exception as exc:  # the datastore failed: the task's own result still stands
            sys.stderr.write(f"@card: cannot store the {card.type} card of {self.step}: {exc}\n")

    def _render(self, card: CardContents, status: str) -> tuple[str, dict]:
        facts = self.facts()
        components = [render_component(c) for c in card.components]
        options = card.spec.get("options") or {}
        data = {"components": components, "status": status, "pathspec": facts["pathspec"],
                "attempt": self.attempt, "options": options, "rendered_at": time.time()}
        sections: list[str] = []
        if card.type == "default":
            task_info = _task_info(facts, status, self.attempt)
            data["task"] = task_info
            rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in task_info.items())
            sections.append(section("Task", f'<table class="meta">{rows}</table>'))
            if facts.get("parameters"):
                sections.append(section("Parameters", _value_table(facts["parameters"])))
            artifacts = {k: v for k, v in facts.get("artifacts", {}).items() if k not in facts.get("parameters", {})}
            data["artifacts"] = [{"name": k, "type": type_name(v), "data": pretty(v)} for k, v in artifacts.items()]
            data["parameters"] = {k: pretty(v) for k, v in facts.get("parameters", {}).items()}
            sections.append(section("Artifacts", _value_table(artifacts) if artifacts else "<p>none</p>"))
            if facts.get("ir"):
                from ..dag_svg import render_dag_svg

                svg = render_dag_svg(facts["ir"], highlight=self.step)
                sections.append(section("DAG", f'<div class="dag">{svg}</div>', "dag"))
        if components:
            body = "".join(component_html(c) for c in components)
            sections.append(section(None if card.type == "blank" else "Components", body))
        title = str(options.get("title") or facts["pathspec"])
        subtitle = f"{card.type} card{f' {card.id}' if card.id else ''} · {status} · attempt {self.attempt}"
        return page(title, subtitle, sections), data


def _task_info(facts: dict, status: str, attempt: int) -> dict[str, Any]:
    started, finished = facts.get("started"), facts.get("finished")
    fmt = "%Y-%m-%d %H:%M:%S UTC"
    return {
        "pathspec": facts["pathspec"], "status": status, "attempt": attempt,
        "started": time.strftime(fmt, time.gmtime(started)) if started else None,
        "finished": time.strftime(fmt, time.gmtime(finished)) if finished else None,
        "duration": f"{finished - started:.3f} s" if started and finished else None,
    }


def _value_table(values: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(type_name(v))}</td><td><pre>{esc(pretty(v))}</pre></td></tr>"
                   for k, v in sorted(values.items()))
    return f"<table><thead><tr><th>name</th><th>type</th><th>value</th></tr></thead><tbody>{rows}</tbody></table>"
