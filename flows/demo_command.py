"""`smsarchive demo`: the whole pipeline on a sandbox started on a free loopback port."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from rich.console import Console

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.archive_run import run_backfill
from flows.export_run import run_export
from flows.progress import Reporter
from flows.report_command import run_report
from flows.runtime import use_settings
from flows.sandbox_command import SANDBOX_PASSWORD, SANDBOX_USERNAME
from flows.settings import Settings
from flows.status_view import render_status
from warehouse import archive_status, open_warehouse

DEMO_DIR = "demo"


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


def run_demo(settings: Settings, *, messages: int) -> int:
    """Start the sandbox, back up its whole history, show the status; returns the exit code."""
    console = Console(stderr=True)
    spec = AccountSpec(messages=messages)
    with console.status(f"generating a sandbox account of {messages:,} messages…"):
        account = SandboxAccount.generate(spec)
    server = SandboxServer(account, username=SANDBOX_USERNAME, password=SANDBOX_PASSWORD)
    with server:
        console.print(f"sandbox serving the VoIP.ms API at {server.url}")
        demo = demo_settings(settings, server)
        with use_settings(demo, Reporter()):
            summary = run_backfill(spec.start, spec.end)
    made = run_report(demo, start=None, end=None, did=None, grain="week", out=None)
    with use_settings(demo):
        exported = run_export()
    media = summary["media"]
    console.print(
        f"backfill {summary['start']}..{summary['end']}: {summary['inserted']:,} new messages, "
        f"{summary['updated']:,} known ones changed, {summary['rejected']} rejected rows, "
        f"{summary['api_calls']} API calls; media: {media['stored']} stored, "
        f"{media['expired']} expired, {media['failed']} failed"
    )
    con = open_warehouse(demo.archive_path, read_only=True)
    try:
        render_status(archive_status(con), Console())
    finally:
        con.close()
    out = Console()
    out.print("\n[bold]Where everything is[/bold]")
    out.print(f"  archive  {demo.archive_path.resolve()}")
    out.print(f"  media    {demo.media_dir.resolve()}")
    out.print(f"  report   {Path(made['html']).resolve()}")
    out.print(f"  export   {Path(exported['current']).absolute()}  (parquet, by year)")
    data_dir = demo.smsarchive_data_dir
    out.print(f"  status   SMSARCHIVE_DATA_DIR={data_dir} .venv/bin/smsarchive status")
    out.print(f"  explore  SMSARCHIVE_DATA_DIR={data_dir} notebooks/explore_archive.ipynb")
    return 0
