"""The code package of a flow: its module, the modules it imports from beside
it, and its IR, in one deterministic archive (see runtime/package.py).

`flowc compile` computes the package's URL without writing anything, so the
emitted tasks can fetch it; `flowc package` builds and uploads exactly that
archive. Both go through ``code_package`` so they always agree.
"""

from __future__ import annotations

from pathlib import Path

from flowc.compiler import ir
from flowc.runtime import package as runtime_package


def code_package(flow: ir.Flow, flow_file: str | Path) -> tuple[bytes, str]:
    """(archive bytes, sha256) of a flow's code package."""
    files = runtime_package.package_files(str(flow_file), ir.dump(flow).encode("utf-8"), flow.name,
                                          package_extras(flow))
    data = runtime_package.build(files)
    return data, runtime_package.sha256(data)


def package_extras(flow: ir.Flow) -> tuple[str, ...]:
    """Files beside the flow the package carries: the modules it imports, and
    the files its IncludeFiles read at run time (the content travels here,
    never in an orchestrator's spec)."""
    included = tuple(i.path for i in flow.includes if i.path is not None)
    return tuple(dict.fromkeys(flow.source.modules + included))


def compile_inputs(flow: ir.Flow) -> tuple[str, ...]:
    """Every file beside the flow (relative to its folder) its generated files
    depend on: the package's extras, and the config files read at compile time."""
    import posixpath

    folder = posixpath.dirname(flow.source.path)
    configs = tuple(posixpath.relpath(c.source.file, folder or ".") for c in flow.configs if c.source is not None)
    return tuple(dict.fromkeys(package_extras(flow) + configs))


def package_url(datastore: str, flow: ir.Flow, sha: str) -> str:
    return runtime_package.url_for(datastore, flow.name, sha)
