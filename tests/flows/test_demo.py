"""`smsarchive demo` runs the whole pipeline on the sandbox and says where everything is."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from prefect.settings import PREFECT_API_URL

SMSARCHIVE = str(Path(sys.executable).parent / "smsarchive")


@pytest.mark.usefixtures("prefect_server")
def test_demo_archives_reports_exports_and_prints_the_paths(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOIPMS_", "SMSARCHIVE_"))}
    env.update(
        SMSARCHIVE_DATA_DIR=str(tmp_path / "data"),
        PREFECT_API_URL=str(PREFECT_API_URL.value()),
        COLUMNS="200",
    )
    result = subprocess.run(
        [SMSARCHIVE, "demo", "--messages", "400"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    paths = dict(re.findall(r"^\s+(archive|media|report|export)\s+(\S+)", result.stdout, re.M))
    assert set(paths) == {"archive", "media", "report", "export"}, result.stdout
    demo_dir = tmp_path / "data" / "demo"
    assert Path(paths["archive"]) == (demo_dir / "archive.duckdb").resolve()
    with duckdb.connect(paths["archive"], read_only=True) as con:
        row = con.execute("SELECT count(*) FROM messages").fetchone()
    assert row is not None
    assert row[0] == 400
    assert Path(paths["report"]).is_file()
    assert Path(paths["report"]).name == "report.html"
    assert list(Path(paths["export"]).glob("messages/year=*/*.parquet"))
    assert any(Path(paths["media"]).rglob("*"))
