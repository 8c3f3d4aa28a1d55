"""What runs inside every container, and under `flowc run`.

``python -m flowc.runtime step ...`` executes exactly one task (see
runtime/task.py). This package imports nothing from flowc.compiler or
flowc.targets, and nothing heavier than the standard library and fsspec, so
a container needs only Python and flowc. Importing it is cheap: modules are
loaded when a command needs them.
"""
