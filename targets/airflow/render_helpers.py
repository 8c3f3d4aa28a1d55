"""Helpers the Airflow template's filters use: edges written as chains,
literals for templated fields, comment text, doc_md text."""

from __future__ import annotations

from typing import Any

from ..kubernetes import Pod
from ..python_emit import comment_lines, py_literal, py_str  # noqa: F401 (comment_lines: the template's filter)

# Jinja's markers in Airflow's templated fields: text holding one is wrapped in
# literal() so that Airflow passes it on as it is
JINJA_MARKERS = ("{{", "{%", "{#")


def jinja_would_change(text: str) -> bool:
    """Whether rendering the text as a template could change it: Jinja reads
    its markers, turns "\r" and "\r\n" into "\n", and drops one trailing newline."""
    return any(m in text for m in JINJA_MARKERS) or "\r" in text or text.endswith("\n")


def templated_literal(value: Any) -> str:
    """A literal for an operator's templated field: text Jinja would change is
    wrapped in literal(), so it reaches the pod or the job unchanged."""
    if isinstance(value, str) and jinja_would_change(value):
        return f"literal({py_str(value)})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {templated_literal(v)}" for k, v in value.items()) + "}"
    return py_literal(value)


def doc_text(text: str) -> str:
    """A docstring for Airflow's doc_md, which reads text ending in ".md" as a
    file name: such text gets a trailing newline, so it stays text."""
    return text + "\n" if text.rstrip().endswith(".md") else text


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def grouped(edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Edges written as few lines as reads well: "a >> [b, c]", "[a, b] >> c"."""
    by_source: dict[str, list[str]] = {}
    for a, b in edges:
        by_source.setdefault(a, []).append(b)
    by_targets: dict[str, list[str]] = {}
    for a, bs in by_source.items():
        by_targets.setdefault(_listed(bs), []).append(a)
    chains = []
    for targets, sources in by_targets.items():
        if len(sources) > 1 and targets.startswith("["):  # Airflow has no list >> list
            chains += [[source, targets] for source in sources]
        else:
            chains.append([_listed(sources), targets])
    # a >> b, b >> c: a >> b >> c. A chain absorbs the one chain that starts
    # where it ends, when nothing else leads there; in list order, each chain
    # as far as it goes. Starts and counts are indexed, so this is linear.
    alive = [True] * len(chains)
    tails = [set(c[1:]) for c in chains]
    inside: dict[str, int] = {}  # name -> how many chains hold it after their first element
    starts: dict[str, list[int]] = {}
    for i, c in enumerate(chains):
        starts.setdefault(c[0], []).append(i)
        for x in tails[i]:
            inside[x] = inside.get(x, 0) + 1
    for i, first in enumerate(chains):
        while alive[i]:
            link = first[-1]
            heads = [j for j in starts.get(link, ()) if alive[j] and j != i]
            if len(heads) != 1 or inside.get(link) != 1:
                break
            (j,) = heads
            for x in chains[j][1:]:
                if x in tails[i]:
                    inside[x] -= 1
                else:
                    tails[i].add(x)
            first.extend(chains[j][1:])
            alive[j] = False
    return [(" >> ".join(chain[:-1]), chain[-1]) for chain, keep in zip(chains, alive) if keep]


def _listed(names: list[str]) -> str:
    return names[0] if len(names) == 1 else "[" + ", ".join(names) + "]"


def tolerations(pod: Pod) -> list[dict[str, Any]]:
    """The pod's tolerations with the field names KubernetesPodOperator passes
    to V1Toleration (toleration_seconds)."""
    return [{("toleration_seconds" if k == "tolerationSeconds" else k): v for k, v in t.items()}
            for t in pod.tolerations]
