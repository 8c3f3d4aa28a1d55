"""Airflow 2 shows a DAG's doc_md through DAG.get_doc_md, which renders it
with a plain, unsandboxed jinja2.Template: a flow docstring holding {{ }}
would run in the webserver. The DAG file for Airflow 2 carries a doc_md that
this very rendering turns back into the docstring, whatever it holds."""

from __future__ import annotations

import ast

import jinja2
from hypothesis import given, settings
from hypothesis import strategies as st

from flowc.compiler import load_flow
from flowc.targets import registry
from flowc.targets.airflow import dag_doc_v2

FLOW = '''from flowc import FlowSpec, step


class DocFlow(FlowSpec):
    {doc}

    @step
    def start(self):
        self.next(self.end)

    @step
    def end(self):
        pass
'''
NASTY = ["{{", "}}", "{%", "%}", "{#", "#}", "{{ 7*7 }}", "{% raw %}", "{% endraw %}", '"', "'", "\\", "\n", "\r",
         "\r\n", "\t", "\x00", "\u2028", "\x85", "é", "日本", ".md", "\\u0041"]
docs = st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=5)), max_size=8).map("".join)


def airflow2_shows(doc_md: str) -> str:
    """What Airflow 2's DAG.get_doc_md does with doc_md not ending in .md."""
    assert not doc_md.endswith(".md")  # that branch would read a template file
    return jinja2.Template(doc_md).render()


@settings(max_examples=300, deadline=None)
@given(docs)
def test_airflow2_renders_the_dag_doc_back_to_the_docstring(text):
    shown = airflow2_shows(dag_doc_v2(text))
    assert shown == (text + "\n" if text.rstrip().endswith(".md") else text)


def dag_doc_md(tmp_path, doc: str, version: int):
    path = tmp_path / "docflow.py"
    path.write_text(FLOW.format(doc=repr(doc)), encoding="utf-8")
    files = registry.get("airflow")({"airflow_version": version}).compile(load_flow(path)).files
    (source,) = [v for k, v in files.items() if k.endswith(".py")]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.keyword) and node.arg == "doc_md":
            return ast.literal_eval(node.value)
    raise AssertionError("no doc_md")


def test_a_docstring_with_jinja_does_not_run_in_the_airflow2_webserver(tmp_path):
    canary = tmp_path / "PWNED"
    doc = "Docs {{ cycler.__init__.__globals__.os.system('touch " + str(canary) + "') }} {% if 1 %}x{% endif %}"
    doc_md = dag_doc_md(tmp_path, doc, 2)
    assert airflow2_shows(doc_md) == doc
    assert not canary.exists()
    assert dag_doc_md(tmp_path, doc, 3) == doc  # Airflow 3 shows doc_md as it is
