"""Time the sandbox at scale: generating a big account and answering a full 92-day window."""

from __future__ import annotations

import argparse
import resource
import time
from datetime import date

import httpx

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec


def measure(messages: int, dids: int, mms_share: float) -> dict[str, float]:
    """Seconds to generate, and to fetch and parse each kind of 92-day window over HTTP."""
    spec = AccountSpec(
        seed=1,
        messages=messages,
        start=date(2022, 1, 1),
        end=date(2024, 12, 31),
        dids=dids,
        mms_share=mms_share,
    )
    started = time.perf_counter()
    account = SandboxAccount.generate(spec)
    out = {"generate_s": time.perf_counter() - started}
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    password = "measure"  # noqa: S105 - a throwaway loopback credential
    with SandboxServer(account, password=password) as server, httpx.Client(timeout=120) as client:
        for method in ("getSMS", "getMMS"):
            for every in ("0", "1"):
                params = {
                    "api_username": server.username,
                    "api_password": password,
                    "method": method,
                    "from": "2024-01-01",
                    "to": "2024-04-02",
                    "limit": "10000000",
                    "all_messages": every,
                }
                started = time.perf_counter()
                rows = client.get(server.url, params=params).json()["sms"]
                label = f"{method}{'_all' if every == '1' else ''}"
                out[f"{label}_s"] = time.perf_counter() - started
                out[f"{label}_rows"] = float(len(rows))
    started = time.perf_counter()
    account.truth()
    out["truth_s"] = time.perf_counter() - started
    return out


def main() -> None:
    """`python -m extract.voipms.sandbox.measure [--messages N]`: print the timings."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--dids", type=int, default=10)
    parser.add_argument("--mms-share", type=float, default=0.1)
    args = parser.parse_args()
    for name, value in measure(args.messages, args.dids, args.mms_share).items():
        print(f"{name:>18} {value:,.3f}")


if __name__ == "__main__":
    main()
