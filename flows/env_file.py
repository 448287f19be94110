"""The `.env` file checked before settings are read from it: no setting silently dropped."""

from __future__ import annotations

import io
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Final

from dotenv.parser import parse_stream

ENV_FILE: Final = Path(".env")
_NAME = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[=:]")
QUOTING: Final = (
    'quote a value holding spaces, quotes or #, in "double" quotes with \\" inside, or in '
    "'single' quotes without ' inside"
)


def env_file_problems(
    ours: Collection[str], environ: Mapping[str, str], path: Path = ENV_FILE
) -> tuple[str | None, list[str]]:
    """What is wrong with `path` (none there is fine): an error, and warnings.

    Unreadable or not UTF-8 is an error. A line python-dotenv cannot parse is dropped by it:
    an error where the line sets one of `ours` (setting names, any case) that `environ`
    does not set, since that setting would be silently left out; a warning otherwise (a line
    of another tool's). Lines are named by number and setting, never by value (it may be
    the password).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, []
    except UnicodeDecodeError:
        return f"{path.absolute()} is not UTF-8 text", []
    except OSError as exc:
        return f"{path.absolute()} cannot be read: {exc.strerror or exc}", []
    settings = {name.lower() for name in ours}
    given = {name.lower() for name in environ}
    warnings = []
    for binding in parse_stream(io.StringIO(text)):
        if not binding.error:
            continue
        named = _NAME.match(binding.original.string)
        name = named.group(1) if named else None
        where = f"{path.absolute()} line {binding.original.line}"
        if name is not None and name.lower() in settings and name.lower() not in given:
            return f"{where} ({name}) cannot be read: {QUOTING}", []
        what = f" ({name})" if name else ""
        warnings.append(f"{where}{what} cannot be read, and is ignored")
    return None, warnings
