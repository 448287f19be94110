"""A/B of the messages stage: the stage driver (no media) of several source trees, alternated.

Each variant is one argument, `NAME=TREE` optionally followed by `;VAR=VALUE` settings for
its child (`base=/tmp/base 'new=.;_RJEM_MALLOC_CONF=dirty_decay_ms:0'`). Every round runs each
variant once against the same sandbox, the order rotated from round to round, so a noisy
machine spreads over all of them. One line per run: wall, the driver's clocks, peak RSS of
the tree and CPU seconds (user + system) of the child. Trees must share this interpreter's
dependencies (a `git worktree` of this repository, say). Data dirs are kept, not deleted,
between runs: see "ext4 here has no journal" in README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.process_tree import run_measured
from benchmarks.run import child_env, span
from benchmarks.sandbox_process import AccountShape, SandboxProcess


@dataclass(frozen=True)
class Variant:
    """A source tree and the extra environment its child runs with."""

    name: str
    tree: Path
    env: dict[str, str]


def parse_variant(text: str) -> Variant:
    """`NAME=TREE[;VAR=VALUE...]` as a Variant."""
    name, _, rest = text.partition("=")
    tree, *settings = rest.split(";")
    if not name or not tree:
        raise argparse.ArgumentTypeError(f"not NAME=TREE[;VAR=VALUE...]: {text!r}")
    env = dict(setting.split("=", 1) for setting in settings if setting)
    return Variant(name, Path(tree).resolve(), env)


def one_run(sandbox: SandboxProcess, variant: Variant, work: Path, years: int) -> str:
    """The stage driver of `variant` once, as one line."""
    start, end = span(years)
    data_dir = work / f"{variant.name}-{time.time_ns()}" / "data"
    data_dir.parent.mkdir(parents=True)
    env = child_env(sandbox, data_dir, **variant.env)
    env["PYTHONPATH"] = str(variant.tree)
    cmd = [sys.executable, "-m", "benchmarks.stage_driver", f"--start={start}", f"--end={end}"]
    before = os.times()
    measured = run_measured([*cmd, "--no-media"], env, cwd=str(variant.tree))
    after = os.times()
    if measured.returncode != 0:
        return f"{variant.name:10s} FAILED ({measured.returncode}): {measured.stderr[-2000:]}"
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    result = json.loads(measured.stdout.strip().splitlines()[-1])
    s = result["seconds"]
    return (
        f"{variant.name:10s} wall {measured.wall_s:5.1f} messages {s['messages_wall']:5.1f} "
        f"load {s['load']:5.1f} wait {s['fetch_wait']:4.1f} transform {s['transform']:5.1f} "
        f"land {s['land']:4.1f} peak {measured.peak_rss_mb:6.0f} MB cpu {cpu:5.1f} s "
        f"({result['counts']['messages']:,} messages)"
    )


def main(argv: list[str] | None = None) -> None:
    """Run every variant `--rounds` times against one sandbox account."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+", type=parse_variant, metavar="NAME=TREE[;VAR=V]")
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "smsarchive-ab")
    args = parser.parse_args(argv)
    start, end = span(args.years)
    args.work.mkdir(parents=True, exist_ok=True)
    variants: list[Variant] = args.variants
    with SandboxProcess(AccountShape(args.messages, start, end, 10, 0.1)) as sandbox:
        for index in range(args.rounds):
            shift = index % len(variants)
            for variant in variants[shift:] + variants[:shift]:
                print(f"round {index + 1}: {one_run(sandbox, variant, args.work, args.years)}")
                sys.stdout.flush()


if __name__ == "__main__":
    main()
