"""The `smsarchive` command line: parses options, reads settings once, and calls the layers."""

from __future__ import annotations

import contextlib
import errno
import inspect
import logging
import os
import re
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from typer._click.core import Context, Parameter
from typer._click.exceptions import ClickException, NoArgsIsHelpError, NoSuchOption, UsageError
from typer._click.formatting import HelpFormatter
from typer.core import TyperCommand, TyperGroup, TyperOption

from extract.printable import printable
from extract.voipms.sandbox.spec import AccountSpec
from flows.env_file import env_file_problems
from flows.help_tables import long_words_folded
from flows.interruptions import (
    NOTHING_LOST,
    Terminated,
    query_interrupted,
    sigterm_as_terminated,
    terminated,
)
from flows.loopback_proxies import loopback_bypasses_proxies
from flows.orchestration import configured_api_url
from flows.refused_writes import NOT_ALLOWED
from flows.settings import Settings, known_zone, without_login
from transform.zone_rules import package_rules_everywhere, zone_info


def _bare_flags(params: list[Parameter]) -> list[Parameter]:
    """Flags given an empty metavar: typer 0.29's help shows `--refetch <bool>` otherwise."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""
    return params


class FlagsBare(TyperCommand):
    """A command whose --help shows flags bare (`--refetch`), long words folded, not cut."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        """The parameters, flags bare."""
        return _bare_flags(super().get_params(ctx))

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """typer's help, its long words folded on a narrow terminal."""
        with long_words_folded():
            super().format_help(ctx, formatter)


class FlagsBareGroup(TyperGroup):
    """The command group, its --help showing flags bare (`--verbose`), long words folded."""

    def get_params(self, ctx: Context) -> list[Parameter]:
        """The parameters, flags bare."""
        return _bare_flags(super().get_params(ctx))

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """typer's help, its long words folded on a narrow terminal."""
        with long_words_folded():
            super().format_help(ctx, formatter)


app = typer.Typer(
    name="smsarchive",
    cls=FlagsBareGroup,
    help=(
        "Archive every SMS and MMS of a VoIP.ms account into DuckDB, and report on it.\n\n"
        "Start with `smsarchive demo` (no account needed); then `smsarchive backfill --start "
        "YYYY-MM-DD` for the history, and `smsarchive sync` (or `serve`, nightly) to keep up.\n\n"
        "Settings come from the environment or a .env file in the current folder (the "
        "environment wins): VOIPMS_API_USERNAME (the account e-mail) and VOIPMS_API_PASSWORD "
        "(the API password of the portal's SOAP & REST/JSON API page) for the commands that "
        "call the API; SMSARCHIVE_DATA_DIR, where the archive, media, reports and export are "
        "(default ./data). .env.example lists every setting; README.md says more.\n\n"
        "-v goes before the command: `smsarchive -v sync`."
    ),
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


WaitOption = Annotated[
    float | None,
    typer.Option(
        min=0,
        metavar="SECONDS",
        help="wait this long when another run or a notebook has the archive open "
        "(default: SMSARCHIVE_BUSY_WAIT_SECONDS, 0)",
    ),
]
"""`--wait`, for the commands that write to the archive."""

RedownloadOption = Annotated[
    bool,
    typer.Option(
        "--redownload-missing-media",
        help="download again every media file missing from the media folder, however many "
        "(by default, most of them missing stops the downloads: the disk that holds them may "
        "not be mounted), and every one damaged (each stored file is read and hashed, then; "
        "a damaged one is moved to media/.damaged); for files lost for good, with no backup",
    ),
]
"""`--redownload-missing-media`, for backfill and sync."""


def parse_day(text: str) -> date:
    """A `YYYY-MM-DD` day, or the reason it is not one (fromisoformat alone would take a week
    date, 2024-W01-1, and full-width digits)."""
    try:
        return date.fromisoformat(text) if _DAY_SHAPE.fullmatch(text) else _not_a_day(text)
    except ValueError:
        return _not_a_day(text)


def _not_a_day(text: str) -> NoReturn:
    if _DAY_SHAPE.fullmatch(text):  # written right, but the calendar has no such day
        raise typer.BadParameter(f"{text!r} is no day of the calendar")
    raise typer.BadParameter(f"{text!r} is not a day written YYYY-MM-DD")


_DAY_SHAPE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def day_option(help_text: str) -> Any:
    """A `YYYY-MM-DD` option (typer's OptionInfo, typed Any as typer's own helpers are)."""
    return typer.Option(parser=parse_day, metavar="YYYY-MM-DD", help=help_text)


def _say_version(asked: bool) -> None:
    if asked:
        from flows.versions import version_line

        typer.echo(version_line())
        raise typer.Exit


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="show debug logs and Prefect's own output")
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_say_version,
            is_eager=True,
            help="print this version, its archive and export schemas and the libraries it "
            "runs on, then exit",
        ),
    ] = False,
) -> None:
    from flows.logging_setup import configure_logging

    configure_logging(verbose=verbose)


def load_settings() -> Settings:
    """Read settings once, or exit with a one-line message naming the bad setting (or a data
    dir that is a file: every command says so alike, none advises a backfill into it)."""
    problem, warnings = env_file_problems(Settings.model_fields, os.environ)
    if problem is not None:
        fail(f"bad setting: {problem}", code=2)
    for warning in warnings:
        typer.secho(f"warning: {warning}", err=True, fg="yellow")
    dotenv_said = logging.getLogger("dotenv.main")  # its own word on the lines warned of above
    dotenv_said.disabled = True
    try:
        settings = Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: "
            + err["msg"].removeprefix("Value error, ")  # pydantic's word for a validator's error
            for err in exc.errors()
        )
        typer.secho(f"error: bad setting: {problems}", err=True, fg="red")
        raise typer.Exit(2) from None
    finally:
        dotenv_said.disabled = False
    data_dir = settings.smsarchive_data_dir
    if data_dir.exists() and not data_dir.is_dir():
        fail(f"SMSARCHIVE_DATA_DIR {data_dir} is a file, not a folder", code=1)
    from warehouse.landing_files import LANDING_DIR

    # every command alike: none may say "no archive yet, run backfill" of a disk not mounted
    for folder in (data_dir, data_dir / LANDING_DIR):
        gone = link_to_nothing(folder)
        if gone is not None:
            fail(gone, code=1)
    from warehouse.unmounted_disks import FSTAB, unmounted_disk

    disk = unmounted_disk(data_dir, FSTAB)
    if disk is not None:
        fail(
            f"cannot use {data_dir}: it is on {disk}, which {FSTAB} names as a mount point, "
            f"but nothing is mounted there (is the disk connected? `mount {disk}`)",
            code=1,
        )
    return settings


def link_to_nothing(path: Path) -> str | None:
    """What to say of `path` when it is a symbolic link to nothing (a folder on a disk not
    mounted, say); None when it is not one."""
    try:
        os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            return (
                f"cannot use {path}: it is a link to {os.readlink(path)}, which is not there "
                "(is the disk that holds it mounted?)"
            )
    except OSError:  # a link that loops, a folder that cannot be searched: said when used
        return None
    return None


def with_wait(settings: Settings, wait: float | None) -> Settings:
    """The settings with `--wait` applied when it was given."""
    if wait is None:
        return settings
    return settings.model_copy(update={"smsarchive_busy_wait_seconds": wait})


def refuse_while_a_run_writes(settings: Settings, what: str) -> None:
    """Fail with the running run's progress when one holds the archive (none may open it)."""
    from flows.run_progress import describe_run_progress, running_run_progress

    running = running_run_progress(settings.smsarchive_data_dir)
    if running is not None:
        fail(f"{describe_run_progress(running)}; {what} once it ends", code=1)


OLDEST_DAY = date(2000, 1, 1)
"""No backfill starts before this day: VoIP.ms began years later."""


def refuse_before_oldest(flag: str, day: date) -> None:
    """Exit 2 for a day before OLDEST_DAY: no message can be on it."""
    if day < OLDEST_DAY:
        fail(f"{flag} {day} is before {OLDEST_DAY}: VoIP.ms holds no messages that old", code=2)


def refuse_reversed_days(start: date | None, end: date | None) -> None:
    """Exit 2 when both days are given and `start` comes after `end`."""
    if start is not None and end is not None and start > end:
        fail(f"--start {start} is after --end {end}", code=2)


def fail(message: str, *, code: int = 1) -> NoReturn:
    """One line on stderr and a non-zero exit. It may quote the provider's data (a DID, a
    status): control characters are shown escaped, never sent to the terminal."""
    typer.secho(f"error: {printable(message)}", err=True, fg="red")
    raise typer.Exit(code)


INTERRUPTED = f"interrupted; {NOTHING_LOST}"


FULL_DISK = "free some space: nothing archived is lost, the next run goes on"


def _os_error_line(exc: OSError, writes: Path | None = None) -> str:
    """A file system error as one line naming the path (e.g. SMSARCHIVE_DATA_DIR's); a full
    disk that names no file is said to be `writes`'s, the folder the command writes into."""
    if isinstance(exc, FileExistsError) and exc.filename:
        gone = link_to_nothing(Path(exc.filename))
        if gone is not None:
            return gone
        return f"cannot make the folder {exc.filename}: a file of that name is in the way"
    if exc.errno == errno.ENOSPC:  # a write that fills the disk names no file
        where = exc.filename or writes
        disk = f"the disk of {where}" if where is not None else "the disk"
        return f"{disk} is full ({exc.strerror or exc}): {FULL_DISK}"
    hidden = exc.filename and writes is not None and _hidden_entry_of(Path(exc.filename), writes)
    if hidden and exc.errno in NOT_ALLOWED:
        # refused a temp folder or lock file of ours, which the person never made: the
        # folder is theirs to mend
        return f"cannot write into {writes}: {exc.strerror or exc}"
    where = f"cannot use {exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _hidden_entry_of(path: Path, folder: Path) -> bool:
    """`path` is a dot-named entry directly in `folder` (a temp folder or lock file of ours)."""
    return path.name.startswith(".") and path.parent.absolute() == folder.absolute()


def _damage_line(
    exc: BaseException, archive: Path | None, writes: Path | None = None
) -> str | None:
    """One line for DuckDB finding the archive damaged, or failing to read or write a file
    (a full disk); None for any other error."""
    import duckdb

    if not isinstance(exc, duckdb.Error):
        return None
    said = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    # only the archive is a DuckDB database here; one cut short reads past its end
    if "Corrupt database file" in said or "Could not read enough bytes from file" in said:
        which = f"the archive {archive}" if archive is not None else "the archive"
        return (
            f"{which} is damaged ({said}); keep a copy of it, then restore it from a backup, "
            "or move it aside and make it again from landing/ with `smsarchive replay`"
        )
    if isinstance(exc, duckdb.IOException) or "Could not write file" in said:
        # the archive, or an export's files in --out; a commit that could not write its log
        # (a full disk) is a TransactionException naming the file
        full = f" ({FULL_DISK})"
        return f"DuckDB could not read or write a file ({said})" + (
            full if "No space left" in said else ""
        )
    if "No space left on device" in str(exc):
        # a database the full disk made DuckDB close for good (FatalException) says so lower
        where = writes or (archive.parent if archive is not None else None)
        disk = f"the disk of {where}" if where is not None else "a disk"
        return f"{disk} is full (DuckDB: {said}): {FULL_DISK}"
    return None


def _prefect_unreachable_line(exc: BaseException) -> str | None:
    """One line for a configured Prefect server that does not answer; None otherwise."""
    from flows.prefect_outage import prefect_unreachable

    url = configured_api_url()
    if url is None or not prefect_unreachable(exc):
        return None
    return (
        f"the Prefect server at PREFECT_API_URL={without_login(url)} does not answer: start it "
        "(`.venv/bin/prefect server start`), or unset PREFECT_API_URL to run without Prefect"
    )


@contextmanager
def friendly_errors(
    *, sigterm_stops: bool = True, archive: Path | None = None, writes: Path | None = None
) -> Iterator[None]:
    """Turn the errors a person can act on into one line and a non-zero exit.

    With `sigterm_stops`, SIGTERM meanwhile stops the command as Ctrl-C does (exit 143).
    `archive` is the command's archive, named when DuckDB finds it damaged; `writes` the
    folder it writes into (default: the archive's), named when a disk is full.
    """
    import duckdb
    import httpx

    from extract.voipms.errors import RateLimitedError, TransientError, VoipMsError
    from flows.api_client import MissingCredentialsError
    from flows.archive_run import WindowsFailedError
    from flows.prefect_outage import drop_undeliverable_events
    from flows.replay_run import ReplayFailedError
    from warehouse import WarehouseError

    message: str | None = None
    code = 1
    try:
        with sigterm_as_terminated() if sigterm_stops else contextlib.nullcontext():
            yield
    except (
        VoipMsError,
        MissingCredentialsError,
        WarehouseError,
        WindowsFailedError,
        ReplayFailedError,
        ValueError,
    ) as exc:
        message = str(exc)
        if isinstance(exc, MissingCredentialsError):  # a setting to make, as serve says it
            code = 2
        if isinstance(exc, RateLimitedError):  # the API's own cap, tried again and again
            message += (
                f"; {NOTHING_LOST}, or lower VOIPMS_REQUESTS_PER_MINUTE (calls a minute) or "
                "VOIPMS_MAX_CONCURRENCY (calls at once) to stay under it"
            )
        elif isinstance(exc, TransientError):  # the API down or unreachable: it may come back
            message += f"; {NOTHING_LOST}"
        # The traceback's frames hold the run's DuckDB connection; let it go before exit.
        traceback.clear_frames(exc.__traceback__)
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
        if isinstance(exc, Terminated):
            message, code = f"stopped by SIGTERM; {NOTHING_LOST}", 143
        else:
            message, code = INTERRUPTED, 130
        traceback.clear_frames(exc.__traceback__)  # DuckDB objects are let go before exit
    except (RuntimeError, duckdb.Error, httpx.TransportError) as exc:
        no_prefect = _prefect_unreachable_line(exc)
        if no_prefect is not None:  # else the exit waits minutes on what cannot be sent
            drop_undeliverable_events()
        damage = _damage_line(exc, archive, writes) or no_prefect
        if damage is not None:  # a damaged archive, a full disk, no Prefect: not a bug
            message = damage
        elif terminated(exc):  # SIGTERM while DuckDB ran a query
            message, code = f"stopped by SIGTERM; {NOTHING_LOST}", 143
        elif query_interrupted(exc):
            message, code = INTERRUPTED, 130  # Ctrl-C while DuckDB ran a query
        else:
            raise
        traceback.clear_frames(exc.__traceback__)
    except OSError as exc:  # a data dir or output folder that cannot be made or written
        message = _os_error_line(exc, writes or (archive.parent if archive else None))
        traceback.clear_frames(exc.__traceback__)
    if message is not None:
        fail(_without_secrets(message), code=code)


def _without_secrets(text: str) -> str:
    """`text` with the configured API password blanked, whatever form it came in."""
    from extract.voipms.errors import OWN_TEXTS
    from extract.voipms.redaction import redact

    try:
        password = Settings().voipms_api_password
    except ValidationError:
        return text
    secrets = [password.get_secret_value()] if password is not None else []
    return redact(text, secrets, keep=OWN_TEXTS)


@contextmanager
def summary_even_if_days_failed() -> Iterator[None]:
    """A run whose some days could not be archived still prints what it did (the rest is
    archived), before its error line."""
    from flows.archive_run import WindowsFailedError

    try:
        yield
    except WindowsFailedError as exc:
        if exc.summary is not None:
            print_summary(exc.summary)
        raise


def print_summary(summary: dict[str, Any]) -> None:
    """The run's counts in a few plain lines."""
    from flows.summary_lines import summary_lines

    for line in summary_lines(summary):
        typer.echo(line)


SANDBOX_SPEC = AccountSpec()
"""The sandbox's account when not told otherwise (its defaults shown in `--help`)."""


@app.command(cls=FlagsBare)
def sandbox(
    port: Annotated[
        int,
        typer.Option(
            min=0, max=65535, metavar="PORT", help="TCP port on 127.0.0.1 (0 = any free port)"
        ),
    ] = 8765,
    seed: Annotated[int, typer.Option(metavar="N", help="seed of the synthetic account")] = 7,
    messages: Annotated[
        int, typer.Option(min=1, metavar="N", help="number of messages to generate")
    ] = 5_000,
    start: Annotated[
        date | None,
        day_option(f"first day of history (default: {SANDBOX_SPEC.start})"),
    ] = None,
    end: Annotated[
        date | None,
        day_option(f"last day of history (default: {SANDBOX_SPEC.end})"),
    ] = None,
    dids: Annotated[
        int,
        typer.Option(min=1, max=99, metavar="N", help="number of DIDs (one is in E.164 mode)"),
    ] = 3,
    mms_share: Annotated[
        float, typer.Option(min=0.0, max=1.0, metavar="SHARE", help="share of MMS (0 to 1)")
    ] = 0.15,
    latency: Annotated[
        float, typer.Option(min=0.0, metavar="SECONDS", help="seconds added to every API call")
    ] = 0.0,
    rate_per_minute: Annotated[
        int | None,
        typer.Option(
            min=1, metavar="N", help="answer api_limit_exceeded above this many calls a minute"
        ),
    ] = None,
    fault_rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            metavar="SHARE",
            help="share of API calls that fail (500, 522, reset, truncated, ...)",
        ),
    ] = 0.0,
    fault_seed: Annotated[int, typer.Option(metavar="N", help="seed of the fault generator")] = 0,
) -> None:
    """Serve a VoIP.ms look-alike API on loopback, with a deterministic synthetic account.

    It answers getSMS, getMMS, getMediaMMS, getDIDsInfo, getIP, sendSMS, sendMMS, deleteSMS,
    deleteMMS and setSMS like the real API, and serves the MMS media itself. It accepts the
    credentials in VOIPMS_API_USERNAME / VOIPMS_API_PASSWORD when they are set; otherwise it
    prints the ones it accepts. Stop it with Ctrl-C.
    """
    from flows.sandbox_command import SandboxOptionsError, SandboxPortError, run_sandbox

    settings = load_settings()
    try:
        with sigterm_as_terminated():  # a service manager's stop ends it as Ctrl-C does
            run_sandbox(
                settings,
                port=port,
                seed=seed,
                messages=messages,
                start=start,
                end=end,
                dids=dids,
                mms_share=mms_share,
                latency=latency,
                rate_per_minute=rate_per_minute,
                fault_rate=fault_rate,
                fault_seed=fault_seed,
            )
    except SandboxOptionsError as exc:
        fail(str(exc), code=2)
    except SandboxPortError as exc:
        fail(str(exc))
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before it began serving: the same stop
        return


@app.command(cls=FlagsBare)
def demo(
    messages: Annotated[
        int, typer.Option(min=1, metavar="N", help="size of the sandbox account")
    ] = 3_000,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="delete <SMSARCHIVE_DATA_DIR>/demo first (needed to change --messages)",
        ),
    ] = False,
) -> None:
    """Run smsarchive end to end on the built-in sandbox, no VoIP.ms account needed.

    Starts the sandbox on a free loopback port, backs up its whole history into
    <SMSARCHIVE_DATA_DIR>/demo, and prints the archive's status and where everything is.
    """
    from flows.demo_command import run_demo

    settings = load_settings()
    with friendly_errors(archive=settings.smsarchive_data_dir / "demo" / "archive.duckdb"):
        code = run_demo(settings, messages=messages, fresh=fresh)
    raise typer.Exit(code)


@app.command(cls=FlagsBare)
def backfill(
    start: Annotated[
        date,
        day_option("first local day to archive"),
    ],
    end: Annotated[
        date | None,
        day_option("last local day, not after today (default: today)"),
    ] = None,
    refetch: Annotated[
        bool,
        typer.Option(
            "--refetch",
            help="fetch again even the windows already archived (when `replay` says a landed "
            "answer is missing or changed)",
        ),
    ] = False,
    redownload_missing_media: RedownloadOption = False,
    wait: WaitOption = None,
) -> None:
    """Archive every message between two days (inclusive), in windows of at most 92 days.

    Days already archived by a window merged after its last day was over are not asked
    again, whatever start the earlier run had, so a rerun only does what is missing; an
    interrupted run loses nothing and duplicates nothing.

    Calls the API as VOIPMS_API_USERNAME with VOIPMS_API_PASSWORD; archives into
    SMSARCHIVE_DATA_DIR (default ./data), media files included.
    """
    from flows.archive_run import FutureDayError, account_today, refuse_future_end, run_backfill
    from flows.progress import Reporter
    from flows.runtime import use_settings

    settings = with_wait(load_settings(), wait)
    last = end or account_today(settings)
    refuse_before_oldest("--start", start)  # a typo (0224): thousands of windows of nothing
    if end is None and start > last:
        zone = settings.voipms_account_timezone
        fail(f"--start {start} is after today ({last} in {zone}): nothing is over yet", code=2)
    refuse_reversed_days(start, last)
    try:
        refuse_future_end(last, settings)
    except FutureDayError as exc:
        fail(str(exc), code=2)
    reporter = Reporter()
    with (
        friendly_errors(archive=settings.archive_path),
        use_settings(settings, reporter),
        summary_even_if_days_failed(),
        reporter.running(),  # innermost: the bars end before any summary or error is said
    ):
        summary = run_backfill(
            start, last, refetch=refetch, redownload_missing_media=redownload_missing_media
        )
    print_summary(summary)


@app.command(cls=FlagsBare)
def sync(
    redownload_missing_media: RedownloadOption = False,
    wait: WaitOption = None,
) -> None:
    """Fetch the recent past again: new messages and carrier status changes.

    Runs from the newest archived day minus SMSARCHIVE_SYNC_LOOKBACK_DAYS (default 7) to
    today; every change of carrier status is kept in carrier_status_history. After a sync
    that was stopped or failed, it also fetches the days since that one's first that no
    finished window holds. With nothing archived yet it fetches only the last days:
    `backfill` fetches the history.

    Calls the API as VOIPMS_API_USERNAME with VOIPMS_API_PASSWORD; archives into
    SMSARCHIVE_DATA_DIR (default ./data).
    """
    from flows.archive_run import run_sync
    from flows.progress import Reporter
    from flows.runtime import use_settings

    settings = with_wait(load_settings(), wait)
    reporter = Reporter()
    with (
        friendly_errors(archive=settings.archive_path),
        use_settings(settings, reporter),
        summary_even_if_days_failed(),
        reporter.running(),
    ):
        summary = run_sync(redownload_missing_media=redownload_missing_media)
    print_summary(summary)


@app.command(cls=FlagsBare)
def replay(
    start: Annotated[
        date | None,
        day_option("replay only windows that end on or after this day (default: all)"),
    ] = None,
    end: Annotated[
        date | None,
        day_option("replay only windows that start on or before this day (default: all)"),
    ] = None,
    wait: WaitOption = None,
) -> None:
    """Transform the landed API answers again and merge them, without calling the API.

    Run it after an upgrade that reads messages better: bodies, numbers and statuses are
    derived again from the answers kept under landing/, and rows the new version can read
    are archived. Carrier status history and archived windows stay as the runs that fetched
    them left them; media of newly archived MMS are fetched by the next backfill or sync.

    With no archive (it was lost), it makes one again from every answer of
    VOIPMS_API_USERNAME's account under landing/: messages the provider has forgotten
    since come back too. Then backfill, for what landing/ lacks.
    """
    from flows.progress import Reporter
    from flows.replay_run import replay_archive
    from flows.runtime import use_settings

    settings = with_wait(load_settings(), wait)
    refuse_reversed_days(start, end)
    reporter = Reporter()
    with (
        friendly_errors(archive=settings.archive_path),
        use_settings(settings, reporter),
        reporter.running(),
    ):
        summary = replay_archive(settings, start, end).as_dict()
    typer.echo(
        f"replay: {summary['replayed']} of {summary['windows']} landed windows, "
        f"{summary['inserted']:,} new messages, {summary['corrected']:,} corrected, "
        f"{summary['rejected']:,} rejected rows"
    )
    for line in summary["notices"]:
        typer.echo(f"note: the API sent {line}")


@app.command(cls=FlagsBare)
def status() -> None:
    """Show what the archive holds: messages, windows, runs, media, rejected rows, statuses.

    Reads the archive of SMSARCHIVE_DATA_DIR (default ./data) read-only; while a run writes
    it, shows that run's progress instead.
    """
    from rich.console import Console

    from flows.media_step import missing_files_line
    from flows.run_progress import describe_run_progress, running_run_progress
    from flows.status_view import render_status
    from flows.unfinished_replay import unfinished_replay
    from warehouse import archive_status, open_warehouse, writer_alive
    from warehouse.connection import missing_archive

    settings = load_settings()
    running = running_run_progress(settings.smsarchive_data_dir)
    if running is not None:
        # the run holds the archive open for writing: no other process may open it meanwhile
        typer.echo(describe_run_progress(running))
        typer.echo("the archive itself is shown once that run ends")
        return
    if not settings.archive_path.exists():
        fail(missing_archive(settings.archive_path), code=1)
    stopped_replay = unfinished_replay(settings.smsarchive_data_dir)
    if stopped_replay is not None:  # first: what follows may lack what it would archive
        typer.echo(f"warning: {stopped_replay}")
    with friendly_errors(archive=settings.archive_path):
        con = open_warehouse(settings.archive_path, read_only=True, upgrade=True)
        try:
            render_status(
                archive_status(
                    con,
                    timezone=settings.voipms_account_timezone,
                    data_dir=settings.smsarchive_data_dir,
                ),
                Console(soft_wrap=True),  # a long line (a command to paste) kept whole
                writer_alive=writer_alive(settings.smsarchive_data_dir),
                timezone=settings.voipms_account_timezone,
                missing_media=missing_files_line(con, settings.media_dir),
            )
        finally:
            con.close()


def out_folder(out: str | None) -> Path | None:
    """`--out` as a full path (a relative one means nothing in a Prefect run's parameters),
    `~` expanded, which the shell leaves as it is in `--out=~/x`."""
    if not out:
        return None
    try:
        return Path(out).expanduser().absolute()
    except RuntimeError:  # no home folder to be found (HOME unset, a user without one)
        fail(f"--out {out}: there is no home folder for ~ (HOME is unset): give a full path")


@app.command(cls=FlagsBare)
def export(
    out: Annotated[
        str | None,
        typer.Option(
            "--out",
            metavar="DIR",
            help="folder to export into (default: <SMSARCHIVE_DATA_DIR>/export)",
        ),
    ] = None,
) -> None:
    """Export messages, media and carrier_status_history as parquet for DuckDB, polars, Spark.

    Zstd parquet with a fixed schema, hive-partitioned by year in UTC (of the message's
    sent_at; for history, of seen_at): DIR/current/<table>/year=2024/. DIR/_manifest.json
    lists the tables, row counts, schema version and exported_at.

    Each export is a whole snapshot under DIR/snapshots/, made current in one atomic step:
    readers never see half an export, and rerunning is safe. The current snapshot and the
    one before it are kept; older ones are deleted (one that cannot be is left, with a
    warning). A DIR holding anything an export did not
    make is refused, untouched.
    """

    from flows.export_command import run_export_command

    settings = load_settings()
    refuse_while_a_run_writes(settings, "export")
    with friendly_errors(archive=settings.archive_path):
        run_export_command(settings, out_folder(out))


@app.command(cls=FlagsBare)
def report(
    start: Annotated[
        date | None,
        day_option("first local day (default: the archive's first)"),
    ] = None,
    end: Annotated[
        date | None,
        day_option("last local day (default: the archive's last)"),
    ] = None,
    did: Annotated[
        str | None,
        typer.Option(
            metavar="NUMBER",
            help="one DID (+1… as archived, or 10 digits as the portal shows it)",
        ),
    ] = None,
    grain: Annotated[
        str,
        typer.Option(
            metavar="auto|day|week|month",
            help="period of the time series; auto: weeks, or months when the days hold more "
            "weeks than a chart draws readably (over about six years)",
        ),
    ] = "auto",
    out: Annotated[
        str | None,
        typer.Option(
            metavar="DIR",
            help="folder to write (default: <SMSARCHIVE_DATA_DIR>/reports/<timestamp>, "
            "with reports/latest pointing at it)",
        ),
    ] = None,
    account: Annotated[
        str | None,
        typer.Option(
            metavar="EMAIL",
            help="one account of the archive, its e-mail in any case (default: every account "
            "it holds, counted together; `status` lists them)",
        ),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            metavar="ZONE",
            help="IANA zone of the local days and hours (default: SMSARCHIVE_REPORT_TIMEZONE, "
            "else VOIPMS_ACCOUNT_TIMEZONE)",
        ),
    ] = None,
) -> None:
    """Report on the archive: volume, carrier status, replies and media, as HTML, PNG and CSV.

    Writes report.html (charts inline, opens offline), one PNG per chart and one CSV per
    table, and prints a short summary. Days and hours are local to --tz (by default
    SMSARCHIVE_REPORT_TIMEZONE, else VOIPMS_ACCOUNT_TIMEZONE, the API's zone); the archive is
    opened read-only.
    """

    from flows.report_command import run_report
    from warehouse.report import GRAINS

    if grain not in ("auto", *GRAINS):
        fail(f"--grain must be auto or one of {', '.join(GRAINS)}, not {grain!r}", code=2)
    if tz is not None and not known_zone(tz):
        fail(f"--tz must be an IANA time zone such as America/Vancouver, not {tz!r}", code=2)
    if did is not None and not any(c.isdigit() for c in did):
        fail(f"--did takes a phone number (+1… or the 10 digits), not {did!r}", code=2)
    if account is not None and not account.strip():
        fail("--account takes an account's e-mail (`status` lists them), not an empty one", code=2)
    refuse_reversed_days(start, end)
    settings = load_settings()
    zone = tz or settings.report_timezone
    today = datetime.now(zone_info(zone)).date()
    # an empty report of days that cannot hold messages would look like quiet days
    if start is not None and start > today:
        fail(f"--start {start} is after today ({today} in {zone}): no message is that new", code=2)
    if end is not None:
        refuse_before_oldest("--end", end)
        if end > today:  # days to come would be drawn as quiet ones, and change the grain
            fail(
                f"--end {end} is after today ({today} in {zone}): days to come hold no messages "
                "yet; leave --end out to end at the archive's last day",
                code=2,
            )
    refuse_while_a_run_writes(settings, "report")
    given = out_folder(out)
    folder = given or settings.smsarchive_data_dir / "reports"
    with friendly_errors(archive=settings.archive_path, writes=folder):
        result = run_report(
            settings,
            start=start,
            end=end,
            did=did,
            grain=None if grain == "auto" else grain,  # type: ignore[arg-type]  # checked
            out=given,
            account=account,
            timezone=tz,
        )
    for label, value in result["summary"].items():
        typer.echo(f"{label:>16}: {value}")
    typer.echo(f"{'report':>16}: {result['html']}")
    if result["messages"] == 0 and (start or end or did):
        # a year typed wrong looks like a quiet year: say so rather than leave it to the zeros
        typer.echo(
            "note: no message of the archive is in this scope; `smsarchive status` shows the "
            "days it holds"
        )


@app.command(cls=FlagsBare)
def serve() -> None:
    """Run sync, then report, then export on SMSARCHIVE_SCHEDULE_CRON until stopped.

    The cron (default 0 3 * * *: 03:00 daily) is read in VOIPMS_ACCOUNT_TIMEZONE. Serves the
    Prefect deployment nightly/smsarchive-nightly-<hash>, one per data dir and account; runs
    never overlap (one due while another runs is cancelled). Uses PREFECT_API_URL, and waits
    for it when it stops answering; when it is unset, starts a local Prefect server on
    127.0.0.1 (port 4200 when free), starts it again if it dies, and stops it on exit. Stop
    with Ctrl-C.

    The first run is at the cron's next time, not when serve starts: `smsarchive sync` runs
    one now.
    """
    from flows.schedule import next_run_at, nightly_schedule
    from flows.serve_command import serve_nightly

    settings = load_settings()
    if not settings.has_credentials:
        fail("set VOIPMS_API_USERNAME and VOIPMS_API_PASSWORD (see .env.example)", code=2)
    try:
        nightly_schedule(settings)
    except ValueError:
        fail(
            "bad setting: SMSARCHIVE_SCHEDULE_CRON: not a cron schedule of five fields "
            f"(minute hour day month weekday): {settings.smsarchive_schedule_cron!r}",
            code=2,
        )
    try:
        next_run_at(settings, datetime.now(UTC))
    except ValueError:  # 30 February: Prefect would take it and never start a run
        fail(
            "bad setting: SMSARCHIVE_SCHEDULE_CRON: "
            f"{settings.smsarchive_schedule_cron!r} never comes due",
            code=2,
        )
    # Ctrl-C, a closed terminal or SIGTERM (serve_command._Runner) is how serve is meant to
    # stop: a KeyboardInterrupt out of Prefect's loop; one before the loop began is let go
    with (
        friendly_errors(sigterm_stops=False, archive=settings.archive_path),
        contextlib.suppress(KeyboardInterrupt),
    ):
        serve_nightly(settings)
    typer.echo("serve stopped (and the Prefect server it started, if it started one)")


def _one_line_paragraphs(text: str) -> str:
    """Help text with each paragraph on one line, for Rich to wrap at the terminal's width.

    typer keeps a docstring's own line breaks, which are at 100 columns in the source: in an
    80-column terminal every sentence would break midway.
    """
    return "\n\n".join(" ".join(p.split()) for p in inspect.cleandoc(text).split("\n\n"))


for _command in app.registered_commands:
    _command.help = _one_line_paragraphs(_command.help or inspect.getdoc(_command.callback) or "")


def refuse_prefect_without_a_home(args: list[str]) -> None:
    """Exit with one line where Prefect is to run (`serve`, or a PREFECT_API_URL) but no home
    folder can be found: Prefect cannot even be imported without one (its default home)."""
    command = next((arg for arg in args if not arg.startswith("-")), None)
    if command != "serve" and not configured_api_url():
        return
    try:
        Path.home()
    except RuntimeError:
        typer.secho(
            "error: Prefect (serve, or PREFECT_API_URL) needs a home folder, and none can be "
            "found (HOME is unset, and this user has none): set HOME to a folder this user "
            "can write",
            err=True,
            fg="red",
        )
        sys.exit(1)


_GOES_FIRST = {
    "-v": "smsarchive -v …",
    "--verbose": "smsarchive -v …",
    "--version": "smsarchive --version",
}
"""The top-level options, given after a command, and how they are written instead."""


def main() -> None:
    """Console entry point. A command line it cannot take (a bad day, an unknown option) is
    one `error:` line and exit 2, as every other failure a person can fix."""
    loopback_bypasses_proxies(os.environ)
    package_rules_everywhere(os.environ)
    refuse_prefect_without_a_home(sys.argv[1:])
    command = typer.main.get_command(app)
    try:
        code = command.main(standalone_mode=False)
    except NoArgsIsHelpError as exc:  # `smsarchive` alone: typer has printed the help
        sys.exit(exc.exit_code)
    except UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "smsarchive"
        said = exc.format_message()
        if isinstance(exc, NoSuchOption) and exc.option_name in _GOES_FIRST:
            said += f" (it goes before the command: {_GOES_FIRST[exc.option_name]})"
        typer.secho(f"error: {said} (see {where} --help)", err=True, fg="red")
        sys.exit(exc.exit_code)
    except ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except typer.Abort:
        typer.echo("Aborted!", err=True)
        sys.exit(1)
    # commands return None; typer.Exit(code) comes back as its code
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
