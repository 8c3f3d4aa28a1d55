"""A seeded generator of flow sources: valid and invalid graphs, random
decorators and argument values, syntax damage, huge and deep inputs.

``source(rng)`` returns (text, intent): intent is "valid" when the flow was
built to be correct (it may still be rejected for a value flowc refuses),
"invalid" when the graph was broken on purpose, "damaged" for syntax damage
and "extreme" for huge or deep inputs.
"""

from __future__ import annotations

import random

HEAD = "from metaflow import FlowSpec, step, Parameter, JSONType, {decos}\n"
DECORATORS = ("retry", "resources", "timeout", "catch", "environment")
NUMBERS = ("0", "1", "3", "-1", "2.5", "10**400", "1e999", "-1e999", "2**63", "2**62", "9 ** 9 ** 9", "1/0",
           "True", "None", "'4'", "0x10", "1_000", "(1+2)*3", "N", "float('nan')")
STRINGS = ("'a'", "''", "'é'", "'\\n'", "'x' * 3", "'{{x}}'", "'$(x)'", "'\"'", "\"'\"", "'a' + 'b'", "b'x'",
           "f'{N}'", "'" + "z" * 300 + "'", "'\\\\'", "'---'", "': x'", "'# x'", "'\\t'")

FLOW_DOCS = ('"""   """', '"""Doc."""', repr("x" * 500), '"""\n    \n    """')
STEP_DOCS = ('"""  """', '"""Say."""', '"""\n   \n"""', "'\\t'")


GOOD = ("1", "2", "3", "10", "4096", "N")


def _value(rng: random.Random) -> str:
    """Mostly values every decorator takes, sometimes anything."""
    return rng.choice(GOOD) if rng.random() < 0.95 else rng.choice(NUMBERS + STRINGS)


def _decorator(rng: random.Random, name: str) -> str:
    if name == "retry":
        args = rng.choice(["", f"times={_value(rng)}", f"times={_value(rng)}, minutes_between_retries={_value(rng)}"])
    elif name == "resources":
        args = ", ".join(f"{k}={_value(rng)}" for k in rng.sample(["cpu", "memory", "gpu", "disk"], rng.randint(0, 3)))
    elif name == "timeout":
        args = rng.choice([f"seconds={_value(rng)}", f"minutes={_value(rng)}", f"hours={_value(rng)}", ""])
    elif name == "catch":
        var = rng.choice(STRINGS) if rng.random() < 0.1 else "'err'"
        args = rng.choice(["", f"var={var}", f"var={var}, print_exception=False"])
    else:
        key = rng.choice(STRINGS) if rng.random() < 0.1 else rng.choice(["'A'", "'B_1'"])
        value = rng.choice(STRINGS) if rng.random() < 0.5 else "'v'"
        args = f"vars={{{key}: {value}}}"
    return f"    @{name}({args})\n" if args or rng.random() < 0.5 else f"    @{name}\n"


def _parameter(rng: random.Random, i: int) -> str:
    kind = rng.choice(["plain", "typed", "json", "required"])
    name = rng.choice([f"p{i}", f"p{i}", "alpha", "Beta_" + "x" * rng.randint(0, 120), "name", "run"])
    if kind == "plain":
        help_text = rng.choice(STRINGS) if rng.random() < 0.1 else "'Help.'"
        return f"    {name} = Parameter('{name}', default={_value(rng)}, help={help_text})\n"
    if kind == "typed":
        return f"    {name} = Parameter('{name}', type={rng.choice(['int', 'float', 'str', 'bool'])}, default={_value(rng)})\n"
    if kind == "json":
        doc = rng.choice(['{"a": 1}', '[1, 2]', '{"b": [true, null]}', "{}"]) if rng.random() < 0.7 else rng.choice([
                         '{"a": NaN}', "[Infinity]", "{", '{"' + "k" * rng.randint(1, 1500) + '": 1}',
                          "[" * 50 + "]" * 50, "[" * 3000 + "]" * 3000, '{"x": 1e999}', '"s"', "123" * 200])
        return f"    {name} = Parameter('{name}', type=JSONType, default='{doc}')\n"
    return f"    {name} = Parameter('{name}', required=True)\n"


def _graph(rng: random.Random) -> list[tuple[str, str, bool]]:
    """Steps as (name, next-call or '', is_join), a correct graph of random shape."""
    steps: list[tuple[str, str, bool]] = []
    count = [0]

    def fresh() -> str:
        count[0] += 1
        return f"s{count[0]}"

    def chain(first: str, last: str, depth: int) -> None:
        """Steps from `first` that end by going to `last`."""
        shape = rng.choice(["line", "line", "branch", "foreach"] if depth < 3 else ["line"])
        if shape == "line":
            steps.append((first, f"self.next(self.{last})", False))
        elif shape == "branch":
            heads = [fresh() for _ in range(rng.randint(2, 3))]
            join = fresh()
            steps.append((first, "self.next(" + ", ".join(f"self.{h}" for h in heads) + ")", False))
            for h in heads:
                chain(h, join, depth + 1)
            steps.append((join, f"self.next(self.{last})", True))
        else:
            body, join = fresh(), fresh()
            steps.append((first, f"self.items = [1, 2]\n        self.next(self.{body}, foreach='items')", False))
            chain(body, join, depth + 1)
            steps.append((join, f"self.next(self.{last})", True))

    chain("start", "end", 0)
    steps.append(("end", "", False))
    return steps


def _break(rng: random.Random, steps: list[tuple[str, str, bool]]) -> list[tuple[str, str, bool]]:
    i = rng.randrange(len(steps) - 1)  # not the end step: it has no self.next to break
    name, nxt, join = steps[i]
    how = rng.choice(["drop_next", "unknown", "self_loop", "to_start", "rename_start", "drop_end", "join_flag",
                      "dup", "next_in_end", "double"])
    if how == "drop_next":
        steps[i] = (name, "pass", join)
    elif how == "unknown":
        steps[i] = (name, "self.next(self.nowhere)", join)
    elif how == "self_loop":
        steps[i] = (name, f"self.next(self.{name})", join)
    elif how == "to_start":
        steps[i] = (name, "self.next(self.start)", join)
    elif how == "rename_start":
        steps[0] = ("begin", steps[0][1], steps[0][2])
    elif how == "drop_end":
        steps = [s for s in steps if s[0] != "end"]
    elif how == "join_flag":
        steps[i] = (name, nxt, not join)
    elif how == "dup":
        steps.insert(i, steps[i])
    elif how == "next_in_end":
        steps[-1] = ("end", "self.next(self.start)", False)
    else:
        steps[i] = (name, f"self.next(self.end, self.end)", join)
    return steps


def flow_text(rng: random.Random, steps: list[tuple[str, str, bool]]) -> str:
    decos = sorted({d for d in DECORATORS})
    cls = rng.choice(["F", "MyFlow", "Long" + "Abc" * rng.randint(1, 40), "Ünïcode"])
    out = [HEAD.format(decos=", ".join(decos)), "N = 3\n", f"class {cls}(FlowSpec):\n"]
    if rng.random() < 0.3:
        out.append("    " + rng.choice(FLOW_DOCS) + "\n")
    for i in range(rng.randint(0, 3)):
        out.append(_parameter(rng, i))
    for name, nxt, join in steps:
        for deco in rng.sample(DECORATORS, rng.randint(0, 2) if rng.random() < 0.6 else 0):
            out.append(_decorator(rng, deco))
        out.append("    @step\n")
        out.append(f"    def {name}(self{', inputs' if join else ''}):\n")
        if rng.random() < 0.2:
            out.append("        " + rng.choice(STEP_DOCS) + "\n")
        if join and rng.random() < 0.5:
            out.append("        self.merge_artifacts(inputs)\n")
        out.append(f"        {nxt or 'pass'}\n")
    return "".join(out)


def _damage(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(text))
        piece = rng.choice(["", "(", ")", ":", "\n", "    ", "'", '"""', "@step", "\\", "é", "def", "lambda:", "\t"])
        text = text[:pos] + piece + text[pos + rng.randint(0, 8):]
    return text


def _extreme(rng: random.Random, text: str) -> str:
    n = rng.choice([50, 99, 150, 1000, 20_000])
    kind = rng.choice(["parens", "brackets", "unary", "chain", "attrs", "long_list", "long_string", "many_steps"])
    filler = {
        "parens": "(" * n + "1" + ")" * n, "brackets": "[" * n + "]" * n, "unary": "-" * n + "1",
        "chain": "+".join(["1"] * n), "attrs": "a" + ".b" * n, "long_list": "[" + "1, " * n + "]",
        "long_string": repr("x" * n * 10), "many_steps": "1",
    }[kind]
    if kind == "many_steps":
        return text.replace("class ", "".join(f"def helper{i}():\n    pass\n" for i in range(min(n, 2000))) + "class ", 1)
    return text.replace("N = 3\n", f"N = 3\nX = {filler}\n", 1)


def source(rng: random.Random) -> tuple[str, str]:
    steps = _graph(rng)
    intent = rng.choices(["valid", "invalid", "damaged", "extreme"], weights=[5, 3, 2, 1])[0]
    if intent == "invalid":
        steps = _break(rng, steps)
    text = flow_text(rng, steps)
    if intent == "damaged":
        text = _damage(rng, text)
    elif intent == "extreme":
        text = _extreme(rng, text)
    return text, intent
