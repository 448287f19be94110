"""`smsarchive sandbox`: generate the synthetic account and serve it until Ctrl-C."""

from __future__ import annotations

from datetime import date
from shlex import quote

from rich.console import Console

from extract.voipms.sandbox.account import SandboxAccount
from extract.voipms.sandbox.faults import FAULT_KINDS, FaultConfig
from extract.voipms.sandbox.server import SandboxServer
from extract.voipms.sandbox.spec import AccountSpec
from flows.settings import Settings

SANDBOX_USERNAME = "sandbox@example.com"
SANDBOX_PASSWORD = "sandbox-password"  # noqa: S105 - the sandbox's public demo credential


class SandboxPortError(RuntimeError):
    """The sandbox could not listen on the port asked for."""


class SandboxOptionsError(ValueError):
    """The options describe no account the sandbox can generate."""


def sandbox_credentials(settings: Settings) -> tuple[str, str, bool]:
    """The credentials the sandbox accepts: the settings' when set, else the public demo pair.

    The third value says whether they came from the settings (and so must not be printed).
    """
    if settings.voipms_api_username and settings.voipms_api_password is not None:
        return settings.voipms_api_username, settings.voipms_api_password.get_secret_value(), True
    return SANDBOX_USERNAME, SANDBOX_PASSWORD, False


def faults_from_rate(fault_rate: float, seed: int, latency: float, rate: int | None) -> FaultConfig:
    """Spread one overall failure rate evenly over every kind of fault the sandbox can make."""
    share = fault_rate / len(FAULT_KINDS)
    return FaultConfig(
        seed=seed,
        rate_per_minute=rate,
        latency_s=latency,
        **dict.fromkeys(FAULT_KINDS, share),
    )


def run_sandbox(
    settings: Settings,
    *,
    port: int,
    seed: int,
    messages: int,
    start: date | None,
    end: date | None,
    dids: int,
    mms_share: float,
    latency: float,
    rate_per_minute: int | None,
    fault_rate: float,
    fault_seed: int,
) -> None:
    """Generate the account, print how to reach it, and serve until interrupted."""
    console = Console(stderr=True)
    defaults = AccountSpec()
    try:
        spec = AccountSpec(
            seed=seed,
            messages=messages,
            start=start or defaults.start,
            end=end or defaults.end,
            dids=dids,
            mms_share=mms_share,
        )
    except ValueError as exc:
        raise SandboxOptionsError(f"no such sandbox account: {exc}") from None
    with console.status(f"generating {messages:,} messages…"):
        account = SandboxAccount.generate(spec)
    username, password, from_settings = sandbox_credentials(settings)
    try:
        server = SandboxServer(
            account,
            username=username,
            password=password,
            port=port,
            faults=faults_from_rate(fault_rate, fault_seed, latency, rate_per_minute),
        )
    except OSError as exc:  # the port is taken, or not ours to take
        raise SandboxPortError(
            f"the sandbox cannot listen on port {port}: {exc.strerror or exc}; "
            "pick another with --port (0 lets the system choose)"
        ) from None
    shown_password = "(VOIPMS_API_PASSWORD from your settings)" if from_settings else password
    console.print(
        f"VoIP.ms sandbox: {account.message_count():,} messages, "
        f"{spec.start}..{spec.end}, DIDs {', '.join(account.dids)}\n"
        f"  endpoint  {server.url}\n"
        f"  username  {username}\n"
        f"  password  {shown_password}\n"
        "Point smsarchive at it with:\n"
        f"  export VOIPMS_API_URL={quote(server.url)} VOIPMS_API_USERNAME={quote(username)} "
        f"VOIPMS_MEDIA_HOSTS={quote(server.media_host)}"
        + ("" if from_settings else f" VOIPMS_API_PASSWORD={quote(password)}")
        + "\nCtrl-C stops it.",
        # never wrapped at the terminal's width (the export line is pasted as one line), and
        # a password holding [brackets] is printed as it is, not read as markup
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
    server.serve_forever()
