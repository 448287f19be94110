"""The project's shape: packages from this checkout, no shadowed dependency, layers apart."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["extract", "transform", "warehouse", "flows"]


@pytest.mark.parametrize("name", PACKAGES)
def test_package_is_imported_from_this_checkout(name: str) -> None:
    module = importlib.import_module(name)
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == ROOT / name


def _all_modules() -> list[str]:
    names: list[str] = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names.append(package)
        names.extend(
            info.name for info in pkgutil.walk_packages(module.__path__, prefix=f"{package}.")
        )
    return names


def test_no_module_is_named_after_a_dependency() -> None:
    dependency_modules = {
        top.lower() for top in importlib.metadata.packages_distributions() if top.isidentifier()
    }
    dependency_modules -= set(PACKAGES)
    clashes = [
        name for name in _all_modules() if name.rsplit(".", 1)[-1].lower() in dependency_modules
    ]
    assert clashes == []


def test_every_module_has_a_one_line_docstring() -> None:
    missing = []
    for name in _all_modules():
        doc = importlib.import_module(name).__doc__
        if not doc or len(doc.strip().splitlines()) != 1:
            missing.append(name)
    assert missing == []


def test_no_grab_bag_modules() -> None:
    bad = [p for p in ROOT.glob("*/**/*.py") if p.stem in {"utils", "helpers", "misc", "common"}]
    assert [p for p in bad if ".venv" not in p.parts] == []


FORBIDDEN_IMPORTS = {
    # extract talks to providers and returns raw records: it never touches DuckDB
    "extract": {"duckdb", "warehouse", "transform", "flows", "prefect"},
    # transform is pure polars, frames in and frames out: no I/O, no database, no network
    "transform": {
        "duckdb",
        "warehouse",
        "flows",
        "prefect",
        "httpx",
        "os",
        "pathlib",
        "shutil",
        "socket",
        "subprocess",
        "tempfile",
    },
    # warehouse owns DuckDB, and is driven by flows: it calls no provider and no orchestrator
    "warehouse": {"extract", "flows", "prefect", "httpx"},
}


def _imported(path: Path) -> set[str]:
    """The top-level names of every module `path` imports (relative imports stay in the package)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN_IMPORTS))
def test_each_layer_keeps_to_its_side(layer: str) -> None:
    crossings = {
        str(path.relative_to(ROOT)): sorted(_imported(path) & FORBIDDEN_IMPORTS[layer])
        for path in sorted((ROOT / layer).rglob("*.py"))
    }
    assert {path: names for path, names in crossings.items() if names} == {}
