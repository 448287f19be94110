"""The `.env` file settings are read from, checked first: a line it cannot read is an error,
not a warning after which the setting it held is silently left out."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Final

from dotenv.parser import parse_stream

ENV_FILE: Final = Path(".env")
_NAME = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=")


def env_file_problem(path: Path = ENV_FILE) -> str | None:
    """What is wrong with `path` (none there is fine): unreadable, not UTF-8, or a line
    python-dotenv cannot parse, named by its number and setting, never by its value (it may
    be the password)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError:
        return f"{path.absolute()} is not UTF-8 text"
    except OSError as exc:
        return f"{path.absolute()} cannot be read: {exc.strerror or exc}"
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            named = _NAME.match(binding.original.string)
            what = f" ({named.group(1)})" if named else ""
            return (
                f"{path.absolute()} line {binding.original.line}{what} cannot be read: quote a "
                'value holding spaces, quotes or #, in "double" quotes with \\" inside, or '
                "in 'single' quotes without ' inside"
            )
    return None
