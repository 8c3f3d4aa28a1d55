"""Metaflow's @project namespace rule, on plain values: the one rule behind
deployment names (targets/naming.py) and event names (runtime/events.py).

    production=True            prod          (prod.BRANCH with a branch)
    a branch                   test.BRANCH
    neither                    user.NAME     NAME: the user option, else $METAFLOW_USER, else $USER
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time: it costs every task command milliseconds
    from typing import Optional

UNKNOWN_USER = "unknown"


def user_name(given: str = "") -> str:
    """The user a personal @project namespace belongs to (Metaflow's order)."""
    return given or os.environ.get("METAFLOW_USER") or os.environ.get("USER") or UNKNOWN_USER


def branch_parts(production: bool, branch: Optional[str], user: str = "") -> tuple[str, ...]:
    """``("prod",)``, ``("prod", BRANCH)``, ``("test", BRANCH)`` or ``("user", NAME)``."""
    if production:
        return ("prod", branch) if branch else ("prod",)
    if branch:
        return ("test", branch)
    return ("user", user_name(user))
