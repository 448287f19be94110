"""`python -m benchmarks.run`: backfill a big sandbox account and measure it against issue 6.

Every measured run is a separate child process (the sandbox too), so the client and the
server never share a GIL and each peak RSS is of one clean process tree.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psutil  # type: ignore[import-untyped]

from benchmarks import machine_limits
from benchmarks.process_tree import MB, Measured, run_measured
from benchmarks.sandbox_process import PASSWORD, USERNAME, AccountShape, SandboxProcess
from benchmarks.targets import Row, render_markdown, render_text
from benchmarks.warehouse_10m import time_commands

README = Path(__file__).with_name("README.md")
BIN = Path(sys.executable).parent
PAGE_LIMIT = 10_000  # VOIPMS_PAGE_LIMIT's default, what a real run uses
API_CONCURRENCY = 4  # VOIPMS_MAX_CONCURRENCY's default
MEDIA_CONCURRENCY = 8  # SMSARCHIVE_MEDIA_CONCURRENCY's default
LATENCY_S = 8.0
RATE_PER_MINUTE = 60  # VOIPMS_REQUESTS_PER_MINUTE's default, and the sandbox's cap
TEN_MILLION = 10_000_000
FLOWS = Path(__file__).resolve().parent.parent / "flows"


@dataclass
class Options:
    """The command line."""

    messages: int
    years: int
    dids: int
    mms_share: float
    repeat: int
    json_path: Path | None
    append_readme: bool
    skip_latency: bool
    skip_10m: bool
    skip_3m: bool
    skip_media: bool
    latency_messages: int
    rss_3m_years: int
    quick: bool
    notes: list[str] = field(default_factory=list)


def parse(argv: list[str] | None = None) -> Options:
    """Read the options; `--quick` shrinks the account and the repeats."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    p.add_argument("--messages", type=int, default=1_000_000)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--dids", type=int, default=10)
    p.add_argument("--mms-share", type=float, default=0.1)
    p.add_argument("--repeat", type=int, default=3, help="runs per measure; medians reported")
    p.add_argument("--quick", action="store_true", help="50,000 messages, 1 repeat, no 3M/10M")
    p.add_argument("--json", type=Path, default=None, dest="json_path")
    p.add_argument("--append-readme", action="store_true")
    p.add_argument("--skip-latency", action="store_true")
    p.add_argument("--skip-10m", action="store_true")
    p.add_argument("--skip-3m", action="store_true")
    p.add_argument(
        "--skip-media",
        action="store_true",
        help="messages only: the stage driver without media, and no end-to-end backfill, "
        "sync or 3M run (all of them download every media file)",
    )
    p.add_argument(
        "--latency-messages",
        type=int,
        default=50_000,
        help="account size of the 8 s latency run (smaller than --messages: it is slow)",
    )
    p.add_argument(
        "--rss-3m-years",
        type=int,
        default=None,
        help="span of the 3M RSS run (default 3 x --years: the same messages a day over three "
        "times the history; --years for three times the density)",
    )
    a = p.parse_args(argv)
    if a.quick:
        a.messages, a.repeat, a.skip_3m, a.skip_10m = 50_000, 1, True, True
    return Options(
        messages=a.messages,
        years=a.years,
        dids=a.dids,
        mms_share=a.mms_share,
        repeat=a.repeat,
        json_path=a.json_path,
        append_readme=a.append_readme,
        skip_latency=a.skip_latency,
        skip_10m=a.skip_10m,
        skip_3m=a.skip_3m,
        skip_media=a.skip_media,
        latency_messages=min(a.latency_messages, a.messages),
        rss_3m_years=a.rss_3m_years or 3 * a.years,
        quick=a.quick,
    )


def span(years: int) -> tuple[date, date]:
    """`years` years ending today in the account's zone (so `sync` has nothing new to do)."""
    end = datetime.now(ZoneInfo("America/New_York")).date()
    return end - timedelta(days=round(365.25 * years)) + timedelta(days=1), end


def log(message: str) -> None:
    """Progress on stderr."""
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stderr.flush()


def child_env(sandbox: SandboxProcess, data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a measured child: ours, pointed at the sandbox and `data_dir`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VOIPMS_", "SMSARCHIVE_"))}
    env.update(sandbox.env(str(data_dir)))
    env.update(
        VOIPMS_PAGE_LIMIT=str(PAGE_LIMIT),
        VOIPMS_MAX_CONCURRENCY=str(API_CONCURRENCY),
        SMSARCHIVE_MEDIA_CONCURRENCY=str(MEDIA_CONCURRENCY),
    )
    env.update(extra)
    return env


def run_child(cmd: list[str], env: dict[str, str], cwd: Path, what: str) -> Measured:
    """Run a measured child; fail loudly when it fails."""
    result = run_measured(cmd, env, cwd=str(cwd))
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed ({result.returncode}):\n{result.stderr[-4000:]}")
    return result


def driver(
    sandbox: SandboxProcess,
    data_dir: Path,
    start: date,
    end: date,
    *,
    media: bool = True,
    **extra: str,
) -> tuple[dict[str, Any], Measured, dict[str, int]]:
    """The stage driver in a child; its result, wall/RSS and the sandbox's call counts."""
    sandbox.reset_stats()
    cmd = [sys.executable, "-m", "benchmarks.stage_driver", f"--start={start}", f"--end={end}"]
    if not media:
        cmd.append("--no-media")
    env = child_env(sandbox, data_dir, **extra)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    measured = run_child(cmd, env, data_dir.parent, "stage driver")
    return json.loads(measured.stdout.strip().splitlines()[-1]), measured, sandbox.stats()


def cli(
    sandbox: SandboxProcess, data_dir: Path, args: list[str], what: str
) -> tuple[Measured, dict[str, int]]:
    """`smsarchive ARGS` in a child (Prefect's temporary server and all); wall, RSS, calls."""
    sandbox.reset_stats()
    measured = run_child(
        [str(BIN / "smsarchive"), *args], child_env(sandbox, data_dir), data_dir.parent, what
    )
    return measured, sandbox.stats()


def lower_bound(windows: int, sms_rows: int, mms_rows: int) -> dict[str, int]:
    """Fewest calls per method: max(windows, ceil(rows / page limit)); one getDIDsInfo."""
    return {
        "getDIDsInfo": 1,
        "getSMS": max(windows, math.ceil(sms_rows / PAGE_LIMIT)),
        "getMMS": max(windows, math.ceil(mms_rows / PAGE_LIMIT)),
    }


def api_calls(counts: dict[str, int]) -> dict[str, int]:
    """API calls only (media fetches are counted apart)."""
    return {k: v for k, v in counts.items() if k != "media"}


def one_round(
    opts: Options, sandbox: SandboxProcess, work: Path, start: date, end: date, index: int
) -> dict[str, Any]:
    """Stage driver, end-to-end CLI backfill, sync, and the machine's limits, once."""
    out: dict[str, Any] = {}
    stage_dir = work / f"stages-{index}" / "data"
    stage_dir.parent.mkdir(parents=True)
    log(f"round {index + 1}: stage driver backfill {start}..{end}")
    result, measured, calls = driver(sandbox, stage_dir, start, end, media=not opts.skip_media)
    out["stages"] = result
    out["stages_wall_s"] = measured.wall_s
    out["stages_peak_rss_mb"] = measured.peak_rss_mb
    out["stages_api_calls"] = api_calls(calls)

    if not opts.skip_media:
        e2e_and_sync(sandbox, work, start, end, index, out)
    log(f"round {index + 1}: machine limits (bare serve, DuckDB read_json, bare media)")
    sandbox.reset_stats()
    serve_s, serve_rows = machine_limits.serve_all_windows(
        sandbox.url, USERNAME, PASSWORD, start, end, concurrency=API_CONCURRENCY
    )
    out["limit_serve_s"], out["limit_serve_rows"] = serve_s, serve_rows
    load_s, load_rows = machine_limits.duckdb_load(stage_dir, work, USERNAME)
    out["limit_duckdb_s"], out["limit_duckdb_rows"] = load_s, load_rows
    if not opts.skip_media:
        urls = machine_limits.media_urls(stage_dir / "archive.duckdb")
        out["limit_media_s"] = machine_limits.fetch_media(urls, concurrency=MEDIA_CONCURRENCY)
        out["limit_media_items"] = len(urls)
    out["sandbox_rss_mb"] = psutil.Process(sandbox.pid).memory_info().rss / MB
    return out


def e2e_and_sync(
    sandbox: SandboxProcess, work: Path, start: date, end: date, index: int, out: dict[str, Any]
) -> None:
    """`smsarchive backfill` of the whole account into a fresh dir, then `sync` on it."""
    e2e_dir = work / f"e2e-{index}" / "data"
    e2e_dir.parent.mkdir(parents=True)
    log(f"round {index + 1}: end-to-end `smsarchive backfill`")
    measured, calls = cli(
        sandbox, e2e_dir, ["backfill", f"--start={start}", f"--end={end}"], "backfill"
    )
    out["e2e_wall_s"] = measured.wall_s
    out["e2e_peak_rss_mb"] = measured.peak_rss_mb
    out["e2e_api_calls"] = api_calls(calls)
    out["e2e_media_fetches"] = calls.get("media", 0)

    log(f"round {index + 1}: `smsarchive sync` with nothing new")
    measured, calls = cli(sandbox, e2e_dir, ["sync"], "sync")
    out["sync_wall_s"] = measured.wall_s
    out["sync_api_calls"] = api_calls(calls)


def median(rounds: list[dict[str, Any]], *path: str) -> float:
    """The median over rounds of a nested number."""
    values = []
    for r in rounds:
        value: Any = r
        for key in path:
            value = value[key]
        values.append(float(value))
    return statistics.median(values)


def latency_run(opts: Options, work: Path, start: date, end: date) -> dict[str, Any]:
    """Messages only, 8 s per API call and the sandbox's rate cap on, on a smaller account."""
    shape = AccountShape(opts.latency_messages, start, end, opts.dids, opts.mms_share)
    log(f"latency run: {opts.latency_messages:,} messages, {LATENCY_S:.0f} s per call")
    with SandboxProcess(shape) as sandbox:
        sandbox.set_faults(latency_s=LATENCY_S, rate_per_minute=RATE_PER_MINUTE)
        data_dir = work / "latency" / "data"
        data_dir.parent.mkdir(parents=True)
        result, measured, calls = driver(
            sandbox,
            data_dir,
            start,
            end,
            media=False,
            VOIPMS_REQUESTS_PER_MINUTE=str(RATE_PER_MINUTE),
        )
    counts = result["counts"]
    bound = lower_bound(counts["windows"], counts["sms_rows"], counts["mms_rows"])
    bound_s = sum(bound.values()) / API_CONCURRENCY * LATENCY_S
    return {
        "messages": opts.latency_messages,
        "wall_s": result["seconds"]["total"],
        "child_wall_s": measured.wall_s,
        "api_calls": api_calls(calls),
        "lower_bound_calls": bound,
        "bound_s": bound_s,
    }


def rss_at(opts: Options, work: Path, start: date, end: date, messages: int) -> dict[str, Any]:
    """Peak RSS of an end-to-end `smsarchive backfill` of `messages` spread over `start`..`end`."""
    shape = AccountShape(messages, start, end, opts.dids, opts.mms_share)
    log(f"RSS run: generating {messages:,} messages")
    with SandboxProcess(shape) as sandbox:
        data_dir = work / f"rss-{messages}" / "data"
        data_dir.parent.mkdir(parents=True)
        log(f"RSS run: `smsarchive backfill` of {messages:,} messages")
        measured, _ = cli(
            sandbox, data_dir, ["backfill", f"--start={start}", f"--end={end}"], "backfill"
        )
    return {
        "messages": messages,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "wall_s": measured.wall_s,
        "peak_rss_mb": measured.peak_rss_mb,
    }


def warehouse_10m(opts: Options, work: Path) -> dict[str, Any]:
    """report and export on a synthesised 10M-message archive, once their flows exist."""
    if opts.skip_10m:
        return {"state": "skipped"}
    missing = [n for n in ("report_flow.py", "export_flow.py") if not (FLOWS / n).exists()]
    if missing:
        return {"state": "not built yet", "missing": missing}
    log(f"synthesising a {TEN_MILLION:,}-message archive for report and export")
    result = time_commands(work / "warehouse-10m" / "data", TEN_MILLION, opts.repeat)
    result["state"] = "ran"
    return result


def fmt_s(seconds: float) -> str:
    """Seconds, 1 decimal."""
    return f"{seconds:,.1f} s"


def rate(n: float, seconds: float) -> str:
    """Items per second."""
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "-"


def table(opts: Options, rounds: list[dict[str, Any]], extra: dict[str, Any]) -> list[Row]:
    """The rows of the result table, targets judged on medians."""
    rows: list[Row] = []
    e2e_ran = "e2e_wall_s" in rounds[0]
    n = median(rounds, "stages", "counts", "messages")
    sec = {k: median(rounds, "stages", "seconds", k) for k in rounds[0]["stages"]["seconds"]}
    if e2e_ran:
        e2e = median(rounds, "e2e_wall_s")
        rows.append(Row("end to end: smsarchive backfill", fmt_s(e2e), ratio=rate(n, e2e)))
    else:
        rows.append(Row("end to end: smsarchive backfill", "skipped (--skip-media)"))
    msg_wall = sec["setup"] + sec["messages_wall"]
    serve = median(rounds, "limit_serve_s")
    duck = median(rounds, "limit_duckdb_s")
    bound = serve + duck
    rows.append(
        Row(
            "messages (fetch+land+transform+load)",
            f"{fmt_s(msg_wall)} ({rate(n, msg_wall)})",
            f"serve {fmt_s(serve)} + DuckDB {fmt_s(duck)}",
            f"{msg_wall / bound:.2f}x",
            "<= 1.5x",
            msg_wall <= 1.5 * bound,
        )
    )
    if e2e_ran:
        e2e_msgs = e2e - sec["media"]
        rows.append(
            Row(
                "messages, CLI end to end (e2e - driver media)",
                fmt_s(e2e_msgs),
                target="<= 45 s",
                met=e2e_msgs <= 45,
            )
        )
    rows.append(
        Row(
            "  fetch: main thread waiting",
            fmt_s(sec["fetch_wait"]),
            ratio=rate(n, sec["fetch_wait"]),
        )
    )
    rows.append(
        Row(
            "  fetch: busy, summed over workers",
            fmt_s(sec["fetch_busy"]),
            f"serve {fmt_s(serve)}",
            f"{sec['fetch_busy'] / API_CONCURRENCY / serve:.2f}x (busy/{API_CONCURRENCY})",
        )
    )
    for stage in ("land", "transform", "load"):
        rows.append(Row(f"  {stage}", fmt_s(sec[stage]), ratio=rate(n, sec[stage])))
    ltl = sec["land"] + sec["transform"] + sec["load"]
    rows.append(
        Row(
            "  land+transform+load",
            fmt_s(ltl),
            f"DuckDB read_json {fmt_s(duck)}",
            f"{ltl / duck:.2f}x",
        )
    )
    if "limit_media_s" in rounds[0]:
        items = median(rounds, "stages", "counts", "media_items")
        bare = median(rounds, "limit_media_s")
        ours_rate = items / sec["media"] if sec["media"] else 0.0
        bare_rate = median(rounds, "limit_media_items") / bare if bare else 0.0
        rows.append(
            Row(
                "media",
                f"{fmt_s(sec['media'])} ({ours_rate:,.0f}/s, {items:,.0f} files)",
                f"bare client {bare_rate:,.0f}/s",
                f"{ours_rate / bare_rate:.0%}" if bare_rate else "-",
                ">= 80%",
                ours_rate >= 0.8 * bare_rate if bare_rate else None,
            )
        )
    else:
        rows.append(Row("media", "skipped (--skip-media)"))
    rss = median(rounds, "e2e_peak_rss_mb") if e2e_ran else 0.0
    if e2e_ran:
        rows.append(
            Row(
                f"peak RSS, backfill tree at {opts.messages:,}",
                f"{rss:,.0f} MB",
                target="<= 600 MB",
                met=rss <= 600,
            )
        )
    rows.append(Row("  peak RSS, stage driver", f"{median(rounds, 'stages_peak_rss_mb'):,.0f} MB"))
    rows.append(Row("  sandbox RSS (apart)", f"{median(rounds, 'sandbox_rss_mb'):,.0f} MB"))
    counts = rounds[0]["stages"]["counts"]
    bounds = lower_bound(counts["windows"], counts["sms_rows"], counts["mms_rows"])
    calls = rounds[0]["e2e_api_calls"] if e2e_ran else rounds[0]["stages_api_calls"]
    source = "" if e2e_ran else " (driver)"
    for method in sorted(set(bounds) | set(calls)):
        got, lb = calls.get(method, 0), bounds.get(method, 0)
        rows.append(
            Row(
                f"API calls {method}{source}",
                f"{got:,}",
                f"lower bound {lb:,}",
                f"{got / lb:.2f}x" if lb else "-",
                "<= 1.1x LB + 2",
                got <= 1.1 * lb + 2 if lb else None,
            )
        )
    got, lb = sum(calls.values()), sum(bounds.values())
    rows.append(
        Row(
            f"API calls, all{source}",
            f"{got:,}",
            f"lower bound {lb:,}",
            f"{got / lb:.2f}x",
            "<= 1.1x LB + 2",
            got <= 1.1 * lb + 2,
        )
    )
    lat = extra.get("latency")
    if lat:
        rows.append(
            Row(
                f"8 s latency, {lat['messages']:,} msgs (driver, no media)",
                f"{fmt_s(lat['wall_s'])}, {sum(lat['api_calls'].values())} calls",
                f"bound {fmt_s(lat['bound_s'])}",
                f"{lat['wall_s'] / lat['bound_s']:.2f}x",
                "<= 1.2x",
                lat["wall_s"] <= 1.2 * lat["bound_s"],
            )
        )
    else:
        rows.append(Row("8 s latency run", "skipped"))
    if e2e_ran:
        sync_s = median(rounds, "sync_wall_s")
        sync_calls = rounds[0]["sync_api_calls"]
        rows.append(Row("sync, nothing new: wall", fmt_s(sync_s), target="<= 5 s", met=sync_s <= 5))
        rows.append(
            Row(
                "sync, nothing new: API calls",
                f"{sum(sync_calls.values())} {sync_calls}",
                target="<= 4",
                met=sum(sync_calls.values()) <= 4,
            )
        )
    else:
        rows.append(Row("sync, nothing new", "skipped (--skip-media)"))
    ten = extra["warehouse_10m"]
    for name, limit in (("report", 5.0), ("export", 10.0)):
        label = f"{name} on {TEN_MILLION:,} (CLI, whole command)"
        if ten["state"] != "ran":
            rows.append(Row(label, ten["state"], target=f"<= {limit:.0f} s"))
            continue
        wall = ten[f"{name}_wall_s"]
        ok = ten[f"{name}_ok"]
        walls = ten.get(f"{name}_walls_s", [wall])
        spread = f" ({min(walls):.1f}–{max(walls):.1f})" if len(walls) > 1 else ""
        rows.append(
            Row(
                label,
                f"{fmt_s(wall)}{spread}, {ten[f'{name}_peak_rss_mb']:,.0f} MB"
                + ("" if ok else " FAILED"),
                target=f"<= {limit:.0f} s",
                met=ok and wall <= limit,
            )
        )
    big = extra.get("rss_3m")
    if big and rss:
        ratio = big["peak_rss_mb"] / rss
        rows.append(
            Row(
                f"peak RSS at {big['messages']:,}, {big.get('start')}..{big.get('end')}",
                f"{big['peak_rss_mb']:,.0f} MB",
                f"at {opts.messages:,}: {rss:,.0f} MB",
                f"{ratio:.2f}x",
                "<= 1.2x",
                ratio <= 1.2,
            )
        )
    else:
        rows.append(Row("peak RSS at 3M", "skipped"))
    return rows


def machine() -> dict[str, Any]:
    """What this ran on."""
    model = ""
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def main(argv: list[str] | None = None) -> None:
    """Run every measure, print the table, write JSON, maybe append to the README."""
    opts = parse(argv)
    start, end = span(opts.years)
    began = time.perf_counter()
    rounds: list[dict[str, Any]] = []
    extra: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="smsarchive-bench-") as tmp:
        work = Path(tmp)
        shape = AccountShape(opts.messages, start, end, opts.dids, opts.mms_share)
        log(f"generating {opts.messages:,} messages over {start}..{end} in the sandbox")
        with SandboxProcess(shape) as sandbox:
            extra["sandbox_generate_s"] = sandbox.generate_s
            for index in range(opts.repeat):
                rounds.append(one_round(opts, sandbox, work, start, end, index))
        if not opts.skip_latency:
            extra["latency"] = latency_run(opts, work, start, end)
        if not opts.skip_3m and not opts.skip_media:
            start_3m, _ = span(opts.rss_3m_years)
            extra["rss_3m"] = rss_at(opts, work, start_3m, end, 3 * opts.messages)
        extra["warehouse_10m"] = warehouse_10m(opts, work)
    rows = table(opts, rounds, extra)
    stamp = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    info = machine()
    title = (
        f"{stamp}: {opts.messages:,} messages, {opts.years} years ({start}..{end}), "
        f"{opts.dids} DIDs, {opts.mms_share:.0%} MMS, median of {opts.repeat}"
    )
    print(title)
    print(render_text(rows))
    report = {
        "title": title,
        "machine": info,
        "options": {k: str(v) for k, v in vars(opts).items()},
        "span": [start.isoformat(), end.isoformat()],
        "rows": [r.as_dict() for r in rows],
        "rounds": rounds,
        "extra": extra,
        "benchmark_wall_s": time.perf_counter() - began,
    }
    if opts.json_path:
        opts.json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if opts.append_readme:
        section = (
            f"\n## {title}\n\nMachine: {info['cpus']} cores ({info['cpu_model']}), "
            f"{info['memory_gb']} GB, Python {info['python']}. "
            f"Page limit {PAGE_LIMIT:,}, API concurrency {API_CONCURRENCY}, "
            f"media concurrency {MEDIA_CONCURRENCY}.\n\n{render_markdown(rows)}\n"
        )
        with README.open("a", encoding="utf-8") as readme:
            readme.write(section)


if __name__ == "__main__":
    main()
