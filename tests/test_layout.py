"""The project's shape: packages come from this checkout and no module shadows a dependency."""

from __future__ import annotations

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
