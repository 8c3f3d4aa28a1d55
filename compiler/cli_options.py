"""The options of `flowc run` and `flowc resume`, the commands that take flow
parameters as `--NAME VALUE`. The CLI builds its parsers from this table and
`flowc check` refuses a Parameter named like one of them (FC306), so the two
can never drift apart. Standard library only: the compiler imports it.
"""

from __future__ import annotations

# option -> argparse keyword arguments (a default that depends on the machine is filled in by the CLI)
RUN_OPTIONS: dict[tuple[str, ...], dict] = {
    ("-h", "--help"): {"action": "store_true", "help": "show this help, and the flow's parameters"},
    ("--flow",): {"help": "which flow, when the file defines several"},
    ("--datastore",): {"default": None, "help": "folder or fsspec URL (default: .flowc, or $FLOWC_DATASTORE)"},
    ("--run-id",): {"help": "name the run (default: the next number)"},
    ("--max-workers",): {"type": int, "help": "tasks run at once (default: cores + 2)"},
    ("-q", "--quiet"): {"action": "store_true", "help": "print only failures and the summary"},
    ("--no-environments",): {"action": "store_true",
                             "help": "run every step in this interpreter, ignoring @pypi/@conda "
                                     "(warns when a pin is not met)"},
    ("--plan",): {"action": "store_true", "help": "print what would run, in order, and run nothing"},
    ("--trigger",): {"action": "append", "default": [], "metavar": "RUN|EVENT",
                     "help": "run as if triggered: by the end of run FLOW/RUN_ID (@trigger_on_finish), or by "
                             "an event given as JSON ({\"name\": ..., \"payload\": {...}}); repeatable"},
}
# Metaflow's spelling of config overrides; `flowc run`, `compile` and `package`
# take them only for a flow that declares Configs, where a Parameter or
# IncludeFile of that name is FC306 (compiler/configs.py check_names)
CONFIG_OPTIONS = ("--config", "--config-value")
# resume's own options, and the global ones a user may type after the command
OTHER_OPTIONS = ("--from", "--flow-file", "--debug", "--version")


def reserved_parameter_names() -> frozenset[str]:
    """Every Parameter name whose `--name` flag would be one of flowc's options (either spelling of - and _)."""
    names = {flag[2:] for flags in RUN_OPTIONS for flag in flags if flag.startswith("--")}
    names |= {flag[2:] for flag in OTHER_OPTIONS}
    return frozenset(names | {n.replace("-", "_") for n in names})
