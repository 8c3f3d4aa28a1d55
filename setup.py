"""Which packages and data files make up flowc; everything else is in pyproject.toml.

The source folders compiler/, targets/ and runtime/ install as flowc.compiler,
flowc.targets and flowc.runtime. A fixed `packages` list once left
flowc.commands out of the wheel, so every package under each folder is found
here, and every file in it that is not Python source (the targets' templates,
...) ships as package data.
"""

from pathlib import Path

from setuptools import find_packages, setup

ROOTS = {"flowc": "flowc", "flowc.compiler": "compiler", "flowc.targets": "targets", "flowc.runtime": "runtime"}
NOT_DATA = {".py", ".pyc", ".pyo"}


def folder(package: str) -> Path:
    root = max((name for name in ROOTS if package == name or package.startswith(name + ".")), key=len)
    return Path(ROOTS[root], *package[len(root):].split(".")[1:])


def packages() -> list[str]:
    return [p for name, where in ROOTS.items() for p in [name, *(f"{name}.{sub}" for sub in find_packages(where))]]


def data(package: str) -> list[str]:
    """The package's files that are not Python source, outside its subpackages."""
    base = folder(package)
    found = []
    for path in sorted(base.rglob("*")):
        parts = path.relative_to(base).parts
        inside_subpackage = any((base.joinpath(*parts[:i]) / "__init__.py").exists() for i in range(1, len(parts)))
        if path.is_file() and path.suffix not in NOT_DATA and "__pycache__" not in parts and not inside_subpackage:
            found.append("/".join(parts))
    return found


PACKAGES = packages()
setup(packages=PACKAGES, package_dir=ROOTS, package_data={p: data(p) for p in PACKAGES if data(p)})
