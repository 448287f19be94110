"""The VoIP.ms sandbox in its own process, so the client and the server never share a GIL."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from types import TracebackType
from typing import Any

import httpx

USERNAME = "bench@example.com"
PASSWORD = "bench-password"  # noqa: S105 - a throwaway loopback credential


@dataclass(frozen=True)
class AccountShape:
    """The synthetic account to serve."""

    messages: int
    start: date
    end: date
    dids: int
    mms_share: float
    seed: int = 1


class SandboxProcess:
    """`python -m benchmarks.sandbox_process` started as a child; its URL read from stdout."""

    def __init__(self, shape: AccountShape) -> None:
        self.shape = shape
        self.info: dict[str, Any] = {}
        self.generate_s = 0.0
        self._proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> SandboxProcess:
        shape = self.shape
        cmd = [
            sys.executable,
            "-m",
            "benchmarks.sandbox_process",
            f"--messages={shape.messages}",
            f"--start={shape.start.isoformat()}",
            f"--end={shape.end.isoformat()}",
            f"--dids={shape.dids}",
            f"--mms-share={shape.mms_share}",
            f"--seed={shape.seed}",
        ]
        self._proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            cmd, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox process ended before serving")
        self.info = json.loads(line)
        self.generate_s = float(self.info["generate_s"])
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is not None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()

    @property
    def pid(self) -> int:
        """The sandbox process id."""
        assert self._proc is not None
        return self._proc.pid

    @property
    def url(self) -> str:
        """The API endpoint."""
        return str(self.info["url"])

    @property
    def media_host(self) -> str:
        """`HOST:PORT` of the media URLs."""
        return str(self.info["media_host"])

    @property
    def base(self) -> str:
        """`http://HOST:PORT`."""
        return f"http://{self.media_host}"

    def env(self, data_dir: str, *, requests_per_minute: int | None = None) -> dict[str, str]:
        """Settings for a child `smsarchive` pointed at this sandbox."""
        return {
            "VOIPMS_API_URL": self.url,
            "VOIPMS_API_USERNAME": USERNAME,
            "VOIPMS_API_PASSWORD": PASSWORD,
            "VOIPMS_MEDIA_HOSTS": self.media_host,
            "VOIPMS_REQUESTS_PER_MINUTE": ""
            if requests_per_minute is None
            else str(requests_per_minute),
            "SMSARCHIVE_DATA_DIR": data_dir,
        }

    def _control(self, verb: str, name: str, body: dict[str, Any] | None = None) -> Any:
        with httpx.Client(timeout=60) as client:
            url = f"{self.base}/_sandbox/{name}"
            answer = client.get(url) if verb == "GET" else client.post(url, json=body or {})
            answer.raise_for_status()
            return answer.json()

    def stats(self) -> dict[str, int]:
        """Calls received by method since the last reset (media fetches as `media`)."""
        return {str(k): int(v) for k, v in self._control("GET", "stats").items()}

    def reset_stats(self) -> None:
        """Forget the call counts."""
        self._control("POST", "reset_stats")

    def set_faults(self, **faults: Any) -> None:
        """Replace the fault configuration (latency, rate cap, ...)."""
        self._control("POST", "faults", faults)


def main() -> None:
    """Child entry: generate the account, print one JSON line, serve until terminated."""
    from extract.voipms.sandbox.account import SandboxAccount
    from extract.voipms.sandbox.server import SandboxServer
    from extract.voipms.sandbox.spec import AccountSpec

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--start", type=date.fromisoformat, required=True)
    parser.add_argument("--end", type=date.fromisoformat, required=True)
    parser.add_argument("--dids", type=int, default=10)
    parser.add_argument("--mms-share", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    spec = AccountSpec(
        seed=args.seed,
        messages=args.messages,
        start=args.start,
        end=args.end,
        dids=args.dids,
        mms_share=args.mms_share,
    )
    started = time.perf_counter()
    account = SandboxAccount.generate(spec)
    generate_s = time.perf_counter() - started
    server = SandboxServer(account, username=USERNAME, password=PASSWORD)
    info = {
        "url": server.url,
        "media_host": server.media_host,
        "messages": account.message_count(),
        "generate_s": generate_s,
    }
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
