"""Code that generated files import inside an orchestrator's own process.

A compiled flow's module (``prefect_flow.py``) runs in the orchestrator's
process, beside flowc's runtime; what it needs at run time lives here, once,
instead of being pasted into every generated file. Each module imports only
the standard library and its orchestrator (never the compiler, libcst or the
targets), and exports a narrow API (its ``__all__``): a generated module
imports those names alone, and passes in every value of its own flow.

    prefect.py    Prefect 3: how a task runs the runtime; what the flow body waits for
"""
