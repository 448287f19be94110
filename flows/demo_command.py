"""`smsarchive demo`: the whole pipeline on a sandbox started on a free loopback port."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from shlex import quote
from typing import Final

from pydantic import SecretStr
from rich.console import Console

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import run_backfill
from flows.export_run import run_export
from flows.progress import Reporter
from flows.report_command import run_report
from flows.run_progress import PROGRESS_NAME
from flows.runtime import use_settings
from flows.sandbox_command import SANDBOX_PASSWORD, SANDBOX_USERNAME
from flows.settings import Settings
from flows.status_view import render_status
from flows.summary_lines import summary_lines
from warehouse import WarehouseBusyError, archive_status, open_warehouse, writer_alive
from warehouse.writer_lock import LOCK_NAME

DEMO_DIR = "demo"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
"""The repository's notebooks (absent from an installed wheel)."""
UV_BOOTSTRAP = ".uv-bootstrap/bin/uv"
"""Where `make` installs uv when it is not on PATH (see the Makefile)."""
DEMO_ACCOUNT_FILE = "demo-account.json"
"""Beside the demo's archive: the size of the sandbox account it holds."""
EARLIER_DEMO_MESSAGES = 3_000
"""What a demo archive made before DEMO_ACCOUNT_FILE existed holds (the default then too)."""


class DemoSizeError(ValueError):
    """The demo folder holds a demo of another size (its windows would all be skipped)."""


class ForeignDemoFolderError(ValueError):
    """The demo folder holds files no demo made, which the demo would have to remove."""


def prepare_demo_dir(demo_dir: Path, archive: Path, messages: int, *, fresh: bool) -> None:
    """Make `demo_dir` ready for a demo of `messages`; with `fresh`, empty it first.

    A demo rerun reuses the archive, whose windows are then all skipped: so it must hold an
    account of the same size, else DemoSizeError says how to replace it.
    """
    if writer_alive(demo_dir):
        raise WarehouseBusyError(f"another smsarchive run is writing {demo_dir}; wait for it")
    marker = demo_dir / DEMO_ACCOUNT_FILE
    # a demo whose archive is gone starts again: its answers under landing/ are the
    # sandbox's, which any run makes again (a real account's would be rebuilt by a replay)
    if demo_dir.is_dir() and (fresh or not archive.exists()) and any(demo_dir.iterdir()):
        if not (marker.exists() or archive.exists() or _all_named_by_a_demo(demo_dir)):
            raise ForeignDemoFolderError(
                f"{demo_dir} holds files no demo made, which the demo would remove: move them, "
                "or run the demo with another SMSARCHIVE_DATA_DIR"
            )
        _empty(demo_dir)
    if archive.exists():
        if marker.exists():
            held = int(json.loads(marker.read_text(encoding="utf-8"))["messages"])
            what = f"the demo of {held:,} messages"
        else:
            held = EARLIER_DEMO_MESSAGES
            what = f"a demo an earlier version made (of {held:,} messages, unless told otherwise)"
        if held != messages:
            raise DemoSizeError(
                f"{demo_dir} holds {what}; add --fresh to replace it with one of {messages:,}"
            )
    # private: owner only, the data dir too when the demo is what makes it
    demo_dir.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    demo_dir.mkdir(mode=0o700, exist_ok=True)
    marker.write_text(json.dumps({"messages": messages}), encoding="utf-8")


DEMO_NAMES: Final = frozenset(
    {
        "archive.duckdb.wal",
        "landing",
        "media",
        "reports",
        "export",
        "prefect-results",
        LOCK_NAME,
        PROGRESS_NAME,
    }
)
"""What a demo's folder holds besides its archive and marker: an earlier version's folder,
made before the marker, whose archive is gone, holds these alone."""


def _all_named_by_a_demo(folder: Path) -> bool:
    """Whether every entry of `folder` is one a demo makes: nothing of the user's is lost."""
    return all(entry.name in DEMO_NAMES for entry in folder.iterdir())


def _empty(folder: Path) -> None:
    """Remove everything in `folder` (a link to a folder may be the demo folder: it stays, as
    do the folders that links inside it point to)."""
    for entry in folder.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def demo_settings(settings: Settings, server: SandboxServer) -> Settings:
    """The user's settings pointed at the sandbox, with the archive under <data dir>/demo."""
    return settings.model_copy(
        update={
            "voipms_api_url": server.url,
            "voipms_api_username": SANDBOX_USERNAME,
            "voipms_api_password": SecretStr(SANDBOX_PASSWORD),
            "voipms_media_hosts": [server.media_host],
            "voipms_requests_per_minute": None,
            "smsarchive_data_dir": settings.smsarchive_data_dir / DEMO_DIR,
        }
    )


def run_demo(settings: Settings, *, messages: int, fresh: bool = False) -> int:
    """Start the sandbox, back up its whole history, show the status; returns the exit code."""
    console = Console(stderr=True)
    demo_dir = settings.smsarchive_data_dir / DEMO_DIR
    prepare_demo_dir(demo_dir, demo_dir / settings.archive_path.name, messages, fresh=fresh)
    spec = AccountSpec(messages=messages)
    with console.status(f"generating a sandbox account of {messages:,} messages…"):
        account = SandboxAccount.generate(spec)
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD)
    with server:
        console.print(f"sandbox serving the VoIP.ms API at {server.url}")
        demo = demo_settings(settings, server)
        reporter = Reporter()
        with use_settings(demo, reporter), reporter.running():
            summary = run_backfill(spec.start, spec.end)
    made = run_report(demo, start=None, end=None, did=None, grain=None, out=None)
    with use_settings(demo):
        exported = run_export()
    for line in summary_lines(summary):  # a line per fact, never broken mid-sentence
        console.print(line, soft_wrap=True, markup=False, highlight=False)
    con = open_warehouse(demo.archive_path, read_only=True, upgrade=True)
    try:
        zone = demo.voipms_account_timezone
        shown = Console(soft_wrap=True)  # a long line (a command to paste) kept whole
        status = archive_status(con, timezone=zone, data_dir=demo.smsarchive_data_dir)
        render_status(status, shown, timezone=zone)
    finally:
        con.close()
    out = Console()
    out.print("\n[bold]Where everything is[/bold]")
    # paths as they are: never read as markup (a folder named `texts [old]`), never broken
    lines = [
        f"  archive  {demo.archive_path.resolve()}",
        f"  media    {demo.media_dir.resolve()}",
        f"  report   {Path(made['html']).resolve()}",
        f"  export   {Path(exported['current']).absolute()}  (parquet, by year)",
    ]
    # commands to paste from anywhere: absolute paths, this install's own smsarchive
    data_dir = quote(str(demo.smsarchive_data_dir.absolute()))
    smsarchive = quote(str(Path(sys.executable).parent / "smsarchive"))
    lines.append(f"  status   SMSARCHIVE_DATA_DIR={data_dir} {smsarchive} status")
    if NOTEBOOKS.is_dir():  # a clone of the repository, not an installed wheel
        # `--project`: outside the repository `uv run` would not use this install's packages
        project = quote(str(NOTEBOOKS.parent))
        lines.append(
            f"  explore  SMSARCHIVE_DATA_DIR={data_dir} {quote(uv_command())} run --project "
            f"{project} --with jupyterlab jupyter lab {quote(str(NOTEBOOKS))}"
        )
    for line in lines:
        out.print(line, markup=False, highlight=False, soft_wrap=True)
    return 0


def uv_command() -> str:
    """The uv to name in a command: the one on PATH, else the one `make` bootstrapped."""
    if shutil.which("uv") is not None:
        return "uv"
    bootstrapped = NOTEBOOKS.parent / UV_BOOTSTRAP
    return str(bootstrapped) if bootstrapped.is_file() else "uv"
