"""Generated flows for size tests and benchmarks (test code)."""

from __future__ import annotations


def linear_flow(steps: int, name: str = "WideLinearFlow") -> str:
    """start -> step_1 -> ... -> end: ``steps`` steps in all."""
    names = ["start"] + [f"step_{i}" for i in range(1, steps - 1)] + ["end"]
    out = ["from flowc import FlowSpec, step", "", "", f"class {name}(FlowSpec):",
           f'    """{steps} steps in a line."""', ""]
    for here, nxt in zip(names, names[1:] + [None]):
        out += ["    @step", f"    def {here}(self):", f"        self.{here}_done = True"]
        if nxt:
            out.append(f"        self.next(self.{nxt})")
        out.append("")
    return "\n".join(out)


def mixed_flow(steps: int, name: str = "BigMixedFlow") -> str:
    """A long flow of repeated blocks: a branch, a foreach with a two-step
    body, and a switch, each block joined before the next (13 steps a block; about ``steps`` steps)."""
    out = ["from flowc import FlowSpec, resources, retry, step", "", "", f"class {name}(FlowSpec):",
           '    """Many blocks of every construct."""', "", "    @step", "    def start(self):",
           "        self.items = [1, 2, 3]", "        self.mode = 'x'", "        self.next(self.b0_split)", ""]
    blocks = max(1, (steps - 2) // 13)
    for b in range(blocks):
        nxt = f"b{b + 1}_split" if b + 1 < blocks else "end"
        p = f"b{b}"
        out += [
            "    @step", f"    def {p}_split(self):", f"        self.next(self.{p}_left, self.{p}_right)", "",
            "    @retry(times=2)", "    @step", f"    def {p}_left(self):", f"        self.next(self.{p}_join)", "",
            "    @resources(cpu=2, memory=2048)", "    @step", f"    def {p}_right(self):",
            f"        self.next(self.{p}_join)", "",
            "    @step", f"    def {p}_join(self, inputs):", "        self.items = inputs[0].items",
            "        self.mode = inputs[0].mode", f"        self.next(self.{p}_fan)", "",
            "    @step", f"    def {p}_fan(self):", f"        self.next(self.{p}_each, foreach='items')", "",
            "    @step", f"    def {p}_each(self):", f"        self.next(self.{p}_each2)", "",
            "    @step", f"    def {p}_each2(self):", f"        self.next(self.{p}_gather)", "",
            "    @step", f"    def {p}_gather(self, inputs):", "        self.items = [1, 2, 3]",
            "        self.mode = 'x'", f"        self.next(self.{p}_route)", "",
            "    @step", f"    def {p}_route(self):",
            f"        self.next({{'x': self.{p}_x, 'y': self.{p}_y}}, condition='mode')", "",
            "    @step", f"    def {p}_x(self):", f"        self.next(self.{p}_merge)", "",
            "    @step", f"    def {p}_y(self):", f"        self.next(self.{p}_merge)", "",
            "    @step", f"    def {p}_merge(self):", f"        self.next(self.{nxt})", "",
        ]
    out += ["    @step", "    def end(self):", "        pass", ""]
    return "\n".join(out)


def foreach_flow(width: int) -> str:
    """A foreach over ``width`` items: the width lives only in the flow's code."""
    return "\n".join([
        "from flowc import FlowSpec, step", "", "",
        "class WidthFlow(FlowSpec):",
        "    @step", "    def start(self):", f"        self.items = list(range({width:>8}))",
        "        self.next(self.each, foreach='items')", "",
        "    @step", "    def each(self):", "        self.double = self.input * 2", "        self.next(self.join)", "",
        "    @step", "    def join(self, inputs):", "        self.total = sum(i.double for i in inputs)",
        "        self.next(self.end)", "",
        "    @step", "    def end(self):", "        pass", ""])
