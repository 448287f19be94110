"""report.html opened in headless Chromium: every chart draws, offline, without console errors."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from warehouse.report import CHARTS

pytestmark = pytest.mark.slow

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
CONSOLE_PROBLEM = re.compile(r"CONSOLE.*(?:Uncaught|Error|error|\"chart )")
INBOUND_BLUE = (31, 119, 180)  # SPLIT_COLOURS' inbound, #1f77b4: the volume charts' bars
"""Vega's first category colour: bars drawn by the page show it."""


@pytest.fixture(scope="session")
def browser() -> str:
    """Chromium's path; the test is skipped (before the archive is built) when it is missing."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        f"chromium not installed: none of {', '.join(BROWSERS)} on PATH (make test installs it)"
    )


def _chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            browser, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--no-first-run", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
            "--window-size=1400,3000", "--virtual-time-budget=10000", *args,
        ],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_report_renders_in_headless_chromium(
    browser: str, sandbox_report: dict[str, Any], tmp_path: Path
) -> None:
    url = Path(sandbox_report["result"]["html"]).resolve().as_uri()
    dom = _chromium(browser, tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert [line for line in dom.stderr.splitlines() if CONSOLE_PROBLEM.search(line)] == []
    # vega-embed puts one <svg> with a "marks" group into each chart's div
    assert dom.stdout.count('class="marks"') >= len(CHARTS)
    for name in CHARTS:
        assert f'id="chart-{name}"' in dom.stdout
        assert "vega-embed" in dom.stdout

    shot = tmp_path / "report.png"
    done = _chromium(browser, tmp_path / "profile-shot", f"--screenshot={shot}", url)
    assert done.returncode == 0, done.stderr[-2000:]
    with Image.open(shot) as image:
        pixels = image.convert("RGB")
        assert pixels.size == (1400, 3000)
        colours = pixels.getcolors(maxcolors=1 << 22) or []
    not_white = sum(count for count, colour in colours if colour != (255, 255, 255))
    assert not_white > 0.03 * 1400 * 3000, "the page looks blank"
    assert any(colour == INBOUND_BLUE for _, colour in colours), "no chart bar in the screenshot"
