"""The `smsarchive` command: a Ctrl-C while its libraries load is one line, as later on."""

from __future__ import annotations

import signal
import sys

INTERRUPTED_EXIT = 130


def main() -> None:
    """Load the command line (polars, DuckDB, httpx: about a second), then run it; a Ctrl-C
    while it loads is an `error:` line and exit 130, as one during a command is."""
    try:
        from flows.cli import main as command_line
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C held down: said once
        sys.stderr.write("error: interrupted while smsarchive started; nothing was done\n")
        sys.exit(INTERRUPTED_EXIT)
    command_line()
