"""Generate benchmark flows (written to a temp folder, never committed)."""

from __future__ import annotations


def linear_flow(n_steps: int, name: str = "BigLinearFlow", import_from: str = "flowc") -> str:
    """A linear flow of n_steps steps, each reading the previous step's artifact."""
    lines = [f"from {import_from} import FlowSpec, step", "", "", f"class {name}(FlowSpec):"]
    names = ["start"] + [f"step_{i}" for i in range(1, n_steps - 1)] + ["end"]
    for i, step in enumerate(names):
        lines += ["    @step", f"    def {step}(self):"]
        if i == 0:
            lines.append("        self.value = 0")
        else:
            lines.append("        self.value = self.value + 1")
        if i + 1 < len(names):
            lines.append(f"        self.next(self.{names[i + 1]})")
        lines.append("")
    return "\n".join(lines) + "\n"


def foreach_flow(width: int, name: str = "WideForeachFlow", import_from: str = "flowc") -> str:
    return f'''from {import_from} import FlowSpec, step


class {name}(FlowSpec):
    @step
    def start(self):
        self.items = list(range({width}))
        self.next(self.work, foreach="items")

    @step
    def work(self):
        self.result = self.input * 2
        self.next(self.join)

    @step
    def join(self, inputs):
        self.total = sum(i.result for i in inputs)
        self.next(self.end)

    @step
    def end(self):
        pass
'''


def wide_branch_flow(width: int, name: str = "WideBranchFlow", import_from: str = "flowc") -> str:
    """start splits into ``width`` parallel steps, joined by one join step."""
    branches = [f"branch_{i}" for i in range(width)]
    lines = [f"from {import_from} import FlowSpec, step", "", "", f"class {name}(FlowSpec):",
             "    @step", "    def start(self):", "        self.value = 1",
             f"        self.next({', '.join(f'self.{b}' for b in branches)})", ""]
    for i, b in enumerate(branches):
        lines += ["    @step", f"    def {b}(self):", f"        self.part = self.value + {i}", "        self.next(self.join)",
                  ""]
    lines += ["    @step", "    def join(self, inputs):", "        self.total = sum(i.part for i in inputs)",
              "        self.next(self.end)", "", "    @step", "    def end(self):", "        pass", ""]
    return "\n".join(lines)
