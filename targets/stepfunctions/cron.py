"""@schedule's cron line as an EventBridge cron() expression."""

from __future__ import annotations

import re

class CronError(ValueError):
    pass


_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


def _day_number(token: str) -> int:
    token = token.upper()
    if token in _DAYS:
        return _DAYS.index(token)
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token) % 7
    raise CronError(f"day of week {token!r}")


def _days(field_text: str) -> set[int]:
    days: set[int] = set()
    for part in field_text.split(","):
        base, _, step = part.partition("/")
        stride = int(step) if step.isdigit() and int(step) > 0 else None
        if step and stride is None:
            raise CronError(f"step {step!r}")
        if base == "*":
            lo, hi = 0, 6
        elif "-" in base:
            a, b = base.split("-", 1)
            lo, hi = _day_number(a), _day_number(b)
            if b.strip() == "7":
                hi = 7
        else:
            lo = hi = _day_number(base)
            if stride:
                hi = 6
        if lo > hi:
            raise CronError(f"range {base!r}")
        days.update(d % 7 for d in range(lo, hi + 1, stride or 1))
    return days


def _day_list(days: set[int]) -> str:
    """Sorted day names, runs of three or more written as ranges (MON-FRI)."""
    out: list[str] = []
    ordered = sorted(days)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        if j - i >= 2:
            out.append(f"{_DAYS[ordered[i]]}-{_DAYS[ordered[j]]}")
        else:
            out.extend(_DAYS[d] for d in ordered[i:j + 1])
        i = j + 1
    return ",".join(out)


def aws_cron(line: str) -> str:
    """A five-field cron line as an EventBridge cron() expression.

    EventBridge has six fields (a year), numbers its days 1-7 from Sunday,
    and needs ``?`` in one of day-of-month and day-of-week; a line that
    restricts both (cron's "either" rule) has no EventBridge equivalent."""
    fields = line.split()
    if len(fields) != 5:
        raise CronError("not five fields")
    minute, hour, dom, month, dow = fields
    for text in (minute, hour, dom, month):
        if not re.fullmatch(r"[A-Za-z0-9*,/-]+", text):
            raise CronError(f"field {text!r}")
    days = None if dow == "*" else _days(dow)
    if days is not None and len(days) == 7:
        days = None
    if days is None:
        return f"cron({minute} {hour} {dom} {month} ? *)"
    if dom != "*":
        raise CronError("both day of month and day of week are restricted")
    return f"cron({minute} {hour} ? {month} {_day_list(days)} *)"
