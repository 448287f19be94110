"""Builds the VoIP.ms client from settings, refusing clearly when credentials are missing."""

from __future__ import annotations

from extract.voipms.client import VoipMsClient
from flows.settings import Settings


class MissingCredentialsError(RuntimeError):
    """VOIPMS_API_USERNAME or VOIPMS_API_PASSWORD is not set."""


def api_client(settings: Settings) -> VoipMsClient:
    """One client per run, configured from the settings."""
    if not settings.voipms_api_username or settings.voipms_api_password is None:
        raise MissingCredentialsError(
            "VOIPMS_API_USERNAME and VOIPMS_API_PASSWORD must be set (in the environment or "
            ".env); `smsarchive demo` runs without them, on the built-in sandbox"
        )
    return VoipMsClient(
        settings.voipms_api_url,
        settings.voipms_api_username,
        settings.voipms_api_password,
        page_limit=settings.voipms_page_limit,
        max_concurrency=settings.voipms_max_concurrency,
        requests_per_minute=settings.voipms_requests_per_minute,
        timeout=settings.voipms_timeout_seconds,
        max_attempts=settings.voipms_max_attempts,
        backoff_base=settings.voipms_backoff_seconds,
    )
