"""`smsarchive demo` runs the whole pipeline on the sandbox and says where everything is."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import duckdb
import pytest
from prefect.settings import PREFECT_API_URL

from flows.demo_command import DemoSizeError, ForeignDemoFolderError, prepare_demo_dir
from tests.flows.conftest import SMSARCHIVE, without_our_settings


def _demo(cwd: Path, env: dict[str, str], messages: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SMSARCHIVE, "demo", "--messages", messages],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _printed(stdout: str, label: str) -> str:
    """The command the demo printed after `label`."""
    (line,) = [line.strip() for line in stdout.splitlines() if line.strip().startswith(label)]
    return line.removeprefix(label).strip()


def _pasted(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`command` as a person pastes it into a shell in `cwd`."""
    return subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.usefixtures("prefect_server")
def test_demo_archives_reports_exports_and_prints_the_paths(tmp_path: Path) -> None:
    env = without_our_settings()
    # a folder name Rich would read as markup, and a terminal narrower than the paths
    data = tmp_path / "my texts [old]"
    env.update(
        SMSARCHIVE_DATA_DIR=str(data),
        PREFECT_API_URL=str(PREFECT_API_URL.value()),
        COLUMNS="60",
    )
    result = _demo(tmp_path, env, "400")
    assert result.returncode == 0, result.stderr[-3000:]
    shown = re.findall(
        r"^  (archive|media|report|export) +(.+?)(?:  \(parquet.*)?$", result.stdout, re.M
    )
    paths = dict(shown)
    assert set(paths) == {"archive", "media", "report", "export"}, result.stdout
    assert all(Path(path).is_relative_to(data) for path in paths.values()), paths
    demo_dir = data / "demo"
    assert Path(paths["archive"]) == (demo_dir / "archive.duckdb").resolve()
    with duckdb.connect(paths["archive"], read_only=True) as con:
        row = con.execute("SELECT count(*) FROM messages").fetchone()
    assert row is not None
    assert row[0] == 400
    assert Path(paths["report"]).is_file()
    assert Path(paths["report"]).name == "report.html"
    assert list(Path(paths["export"]).glob("messages/year=*/*.parquet"))
    assert any(Path(paths["media"]).rglob("*"))
    # the status it shows is the one `status` shows, the answers landed included
    assert re.search(r"^landed answers: \d", result.stdout, re.M), result.stdout
    # the status line is a command that works pasted anywhere
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pasted_env = {k: v for k, v in env.items() if k != "SMSARCHIVE_DATA_DIR"}
    shown = _pasted(_printed(result.stdout, "status"), elsewhere, pasted_env)
    assert shown.returncode == 0, shown.stderr
    assert "400 messages" in shown.stdout
    # so is the explore line: its uv runs this project's packages from anywhere (Jupyter
    # itself left out, so that nothing is downloaded here)
    command = _printed(result.stdout, "explore")
    assert " --with jupyterlab jupyter lab " in command, command
    head, _, notebooks = command.partition(" --with jupyterlab jupyter lab ")
    assert Path(notebooks).is_dir()
    imports = "import duckdb, polars, os; print(os.environ['SMSARCHIVE_DATA_DIR'])"
    explored = _pasted(f'{head} --offline python -c "{imports}"', elsewhere, pasted_env)
    assert explored.returncode == 0, explored.stderr
    assert explored.stdout.strip() == str((data / "demo").absolute())

    # another size on the same folder would skip every window: it is refused, not ignored
    again = _demo(tmp_path, env, "500")
    assert again.returncode == 1
    assert "holds the demo of 400 messages; add --fresh" in again.stderr


def test_a_demo_of_another_size_needs_fresh(tmp_path: Path) -> None:
    demo_dir = tmp_path / "demo"
    archive = demo_dir / "archive.duckdb"
    prepare_demo_dir(demo_dir, archive, 400, fresh=False)
    archive.write_bytes(b"an archive")  # as the first demo leaves it
    prepare_demo_dir(demo_dir, archive, 400, fresh=False)  # the same size: reused
    assert archive.exists()
    with pytest.raises(DemoSizeError, match="holds the demo of 400 messages; add --fresh"):
        prepare_demo_dir(demo_dir, archive, 500, fresh=False)
    assert archive.exists()
    prepare_demo_dir(demo_dir, archive, 500, fresh=True)
    assert not archive.exists()
    assert json.loads((demo_dir / "demo-account.json").read_text()) == {"messages": 500}


def test_a_demo_archive_from_before_the_size_was_kept_counts_as_the_default(
    tmp_path: Path,
) -> None:
    demo_dir = tmp_path / "demo"
    demo_dir.mkdir()
    (demo_dir / "archive.duckdb").write_bytes(b"an archive")
    prepare_demo_dir(demo_dir, demo_dir / "archive.duckdb", 3_000, fresh=False)
    with pytest.raises(DemoSizeError, match="3,000 messages"):
        prepare_demo_dir(demo_dir, demo_dir / "archive.duckdb", 400, fresh=False)


def test_a_demo_whose_archive_is_gone_starts_again(tmp_path: Path) -> None:
    # its landed answers are the sandbox's: no archive to rebuild from them, as a lost one is
    demo_dir = tmp_path / "demo"
    prepare_demo_dir(demo_dir, demo_dir / "archive.duckdb", 400, fresh=False)
    landed = demo_dir / "landing" / "voipms" / "sandbox_example.com" / "getSMS.json"
    landed.parent.mkdir(parents=True)
    landed.write_text("[]")
    prepare_demo_dir(demo_dir, demo_dir / "archive.duckdb", 400, fresh=False)
    assert not (demo_dir / "landing").exists()
    assert json.loads((demo_dir / "demo-account.json").read_text()) == {"messages": 400}


@pytest.mark.parametrize("fresh", [False, True])
def test_a_demo_folder_of_the_users_own_is_refused_and_left_as_it_is(
    tmp_path: Path, fresh: bool
) -> None:
    # `./data/demo` of a project the demo is run from, say
    demo_dir = tmp_path / "demo"
    (demo_dir / "slides").mkdir(parents=True)
    (demo_dir / "slides" / "talk.md").write_text("mine")
    with pytest.raises(ForeignDemoFolderError, match="holds files no demo made"):
        prepare_demo_dir(demo_dir, demo_dir / "archive.duckdb", 400, fresh=fresh)
    assert (demo_dir / "slides" / "talk.md").read_text() == "mine"
    assert sorted(p.name for p in demo_dir.iterdir()) == ["slides"]


def test_an_empty_demo_folder_and_a_linked_one_are_used(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    prepare_demo_dir(empty, empty / "archive.duckdb", 400, fresh=False)
    assert (empty / "demo-account.json").exists()
    # a link to a folder on another disk: emptied for --fresh, the link and its target kept
    target = tmp_path / "elsewhere"
    target.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("not the demo's")
    linked = tmp_path / "linked"
    linked.symlink_to(target)
    prepare_demo_dir(linked, linked / "archive.duckdb", 400, fresh=False)
    (linked / "archive.duckdb").write_bytes(b"an archive")
    (linked / "landing").mkdir()
    (linked / "to-outside").symlink_to(outside)
    prepare_demo_dir(linked, linked / "archive.duckdb", 400, fresh=True)
    assert linked.is_symlink()
    assert sorted(p.name for p in target.iterdir()) == ["demo-account.json"]
    assert outside.read_text() == "not the demo's"


def test_an_earlier_demo_folder_whose_archive_is_gone_starts_again(tmp_path: Path) -> None:
    # made before the marker existed: only the names a demo gives, so nothing of the user's
    demo_dir = tmp_path / "demo"
    (demo_dir / "landing" / "voipms").mkdir(parents=True)
    (demo_dir / "reports").mkdir()
    (demo_dir / ".writer.lock").touch()
    prepare_demo_dir(demo_dir, demo_dir / "archive.duckdb", 400, fresh=False)
    assert sorted(p.name for p in demo_dir.iterdir()) == ["demo-account.json"]
