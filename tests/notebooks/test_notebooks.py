"""The notebooks run top to bottom, without error, on an archive built through the real flow."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import duckdb
import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"

pytestmark = pytest.mark.slow


def run_notebook(name: str, kernel_name: str, env: dict[str, str], root: Path = ROOT) -> Any:
    """Execute a copy of `notebooks/<name>` from `root` (a folder holding a pyproject.toml,
    as the repository root does); the executed notebook."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell("import sys\nprint(sys.executable)"))
    with pytest.MonkeyPatch.context() as patch:
        for key, value in env.items():
            patch.setenv(key, value)
        client = NotebookClient(
            notebook,
            kernel_name=kernel_name,
            timeout=120,
            resources={"metadata": {"path": str(root)}},
        )
        client.execute()
    return notebook


def text_outputs(cell: Any) -> str:
    """Everything a cell printed or displayed as text."""
    parts: list[str] = []
    for output in cell.get("outputs", []):
        if output["output_type"] == "stream":
            parts.append(output["text"])
        elif "data" in output:
            parts.append(output["data"].get("text/plain", ""))
    return "".join(parts)


def assert_ran_with_this_venv(notebook: Any) -> None:
    assert text_outputs(notebook.cells[-1]).strip() == sys.executable


@pytest.mark.parametrize("name", ["explore_archive.ipynb", "explore_export.ipynb"])
def test_notebooks_are_stored_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


def test_explore_archive_runs_and_reads_a_thread(archive_dir: Path, kernel_env: str) -> None:
    notebook = run_notebook(
        "explore_archive.ipynb", kernel_env, {"SMSARCHIVE_DATA_DIR": str(archive_dir)}
    )
    assert_ran_with_this_venv(notebook)
    printed = "\n".join(text_outputs(cell) for cell in notebook.cells)
    assert f"archive: {archive_dir / 'archive.duckdb'}" in printed
    thread = next(
        text_outputs(cell) for cell in notebook.cells if "arrow =" in "".join(cell.source)
    )
    lines = thread.splitlines()
    assert "⇄" in lines[0]
    assert len(lines) > 5
    assert any(" → " in line for line in lines[1:])
    assert any(" ← " in line for line in lines[1:])
    assert "2024-" in printed  # the volume chart's months
    assert "stored" in printed
    assert "image/" in printed


def test_explore_export_runs_on_a_fresh_export(archive_dir: Path, kernel_env: str) -> None:
    from warehouse.export import export_archive

    export_dir = archive_dir / "export"
    export_archive(archive_dir / "archive.duckdb", export_dir)
    notebook = run_notebook(
        "explore_export.ipynb", kernel_env, {"SMSARCHIVE_EXPORT_DIR": str(export_dir)}
    )
    assert_ran_with_this_venv(notebook)
    printed = "\n".join(text_outputs(cell) for cell in notebook.cells)
    assert f"reading {(export_dir / 'current').resolve()}" in printed
    assert "no _manifest.json" not in printed
    assert "2024-01 (UTC)" in printed
    assert "  messages: " in printed  # the manifest's tables and their rows
    assert "  carrier_status_history: " in printed
    assert "image/" in printed
    assert "year (UTC)" in printed
    # attachments by their MMS's direction: each counted once, by the documented join
    shown = next(
        text_outputs(cell) for cell in notebook.cells if "attachments = (" in "".join(cell.source)
    )
    with duckdb.connect(str(archive_dir / "archive.duckdb"), read_only=True) as con:
        counts = con.execute(
            "SELECT direction, count(*) FROM media JOIN messages USING (provider, account, "
            "message_id) WHERE kind = 'mms' GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        attachments = con.execute("SELECT count(*) FROM media").fetchone()
    assert attachments is not None
    assert sum(n for _, n in counts) == attachments[0] > 0
    rows = [line.split("┆") for line in shown.splitlines() if "bound" in line]
    assert [(r[0].strip(' │"'), int(r[1].strip())) for r in rows] == counts


def test_explore_export_reads_its_folder_from_dot_env_as_smsarchive_reads_settings(
    archive_dir: Path, kernel_env: str, tmp_path: Path
) -> None:
    from warehouse.export import export_archive

    export_dir = tmp_path / "elsewhere"
    export_archive(archive_dir / "archive.duckdb", export_dir)
    root = tmp_path / "checkout"  # a repository root of its own, with its .env
    root.mkdir()
    (root / "pyproject.toml").write_text("")
    (root / ".env").write_text(
        f"SMSARCHIVE_DATA_DIR={archive_dir}\nSMSARCHIVE_EXPORT_DIR={export_dir}\n"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SMSARCHIVE_EXPORT_DIR", raising=False)
        patch.delenv("SMSARCHIVE_DATA_DIR", raising=False)
        notebook = run_notebook("explore_export.ipynb", kernel_env, {}, root=root)
    printed = "\n".join(text_outputs(cell) for cell in notebook.cells)
    assert f"reading {(export_dir / 'current').resolve()}" in printed


def test_explore_archive_runs_on_an_archive_with_no_messages(
    tmp_path: Path, kernel_env: str
) -> None:
    from warehouse import open_warehouse

    open_warehouse(tmp_path / "archive.duckdb").close()  # a backfill of days with no message
    notebook = run_notebook(
        "explore_archive.ipynb", kernel_env, {"SMSARCHIVE_DATA_DIR": str(tmp_path)}
    )
    assert_ran_with_this_venv(notebook)  # every cell ran, its connection closed at the end
    printed = "\n".join(text_outputs(cell) for cell in notebook.cells)
    assert "no messages yet: run `smsarchive backfill`" in printed


def test_explore_export_names_a_missing_export_instead_of_reading_the_demo(
    tmp_path: Path, kernel_env: str
) -> None:
    from nbclient.exceptions import CellExecutionError

    # a data dir chosen by the user and never exported: never the demo's export in its place
    with pytest.raises(CellExecutionError, match=r"no export in .*: run `smsarchive export`"):
        run_notebook("explore_export.ipynb", kernel_env, {"SMSARCHIVE_DATA_DIR": str(tmp_path)})
