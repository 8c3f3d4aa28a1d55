"""What `flowc run` and `flowc resume` share: compile, keep the IR where the
tasks can read it, notes about decorators that mean nothing locally."""

from __future__ import annotations

import hashlib
import os
import tempfile

from flowc.compiler import ir


def write_ir(flow: ir.Flow) -> str:
    """The IR as a file tasks can read, content-addressed in a cache folder."""
    text = ir.dump(flow).encode("utf-8")
    folder = os.path.join(tempfile.gettempdir(), "flowc-ir")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{flow.name}-{hashlib.sha256(text).hexdigest()[:16]}.ir.json")
    if not os.path.exists(path):
        tmp = path + f".{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(text)
        os.replace(tmp, path)
    return path


def local_notes(flow: ir.Flow) -> list[str]:
    """One note per decorator that has no effect on this machine."""
    notes = []
    for s in flow.steps:
        d = s.decorators
        if d.resources is not None:
            parts = [f"{k}={getattr(d.resources, k)}" for k in ("cpu", "memory", "gpu", "disk", "shared_memory")
                     if getattr(d.resources, k) is not None]
            notes.append(f"@resources({', '.join(parts)}) on {s.name}: runs on this machine as it is")
        for name in ("kubernetes", "batch"):
            if getattr(d, name) is not None:
                notes.append(f"@{name} on {s.name}: placement applies on an orchestrator; runs here locally")
        for pkg in (d.pypi, d.conda):
            if pkg is not None and not pkg.disabled:
                notes.append(f"@{pkg.manager} on {s.name}: runs in this interpreter (pins not applied locally)")
        if d.secrets is not None:
            notes.append(f"@secrets on {s.name}: not injected locally; set the variables yourself if the step needs them")
    return notes
