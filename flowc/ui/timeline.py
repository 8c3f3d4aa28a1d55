"""The run's timeline (a Gantt chart): one bar per task attempt, placed in
percent of the run's span so the page lays it out without scripts."""

from __future__ import annotations

import time
from dataclasses import dataclass

MAX_BARS = 400


@dataclass
class Bar:
    step: str
    task: str | None  # None: a step that is running, no task stored yet
    attempt: int | None
    state: str
    start: float
    end: float
    left: float  # percent
    width: float  # percent


@dataclass
class Timeline:
    bars: list[Bar]
    start: float
    end: float
    left_out: int

    @property
    def span(self) -> float:
        return self.end - self.start


def timeline(page) -> Timeline | None:
    now = time.time()
    spans = []
    for step in page.steps:
        for task in step.tasks:
            for a in task.attempts:
                if a.started is not None:
                    spans.append((step.name, task.id, a.number, a.state, a.started, a.finished or now))
        if step.state == "running" and step.reached_at is not None:
            spans.append((step.name, None, None, "running", step.reached_at, now))
    if not spans:
        return None
    t0 = min([s[4] for s in spans] + ([page.started] if page.started else []))
    t1 = max(s[5] for s in spans)
    if page.status == "running":
        t1 = max(t1, now)
    width = max(t1 - t0, 1e-3)
    spans.sort(key=lambda s: (s[4], s[0]))
    bars = [Bar(step, task, n, state, a, b, 100 * (a - t0) / width, max(100 * (b - a) / width, 0.4))
            for step, task, n, state, a, b in spans[:MAX_BARS]]
    return Timeline(bars, t0, t1, max(0, len(spans) - MAX_BARS))
