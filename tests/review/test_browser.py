"""The review page in a real browser: headless Chromium opens it from disk.

Checks what only a browser can: every image loads (the page's inline script
writes ``data-images-loaded`` / ``data-images-failed`` on ``<body>`` once all
``img`` load or error events fired, read back from ``--dump-dom`` after
``--virtual-time-budget``), the sections render with the ledger's counts, and the
author filter works. A screenshot is saved under pytest's tmp dir and its path
printed (``-s`` shows it). Without a ``chromium`` binary the test is skipped with
the reason; ``.ci/run`` installs Debian's ``chromium`` so CI runs it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from review_scenario import build

from ledger.cli.commands import main

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def _browser() -> str | None:
    return next((p for p in map(shutil.which, BROWSERS) if p), None)


def _run(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
           "--disable-dev-shm-usage", f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)


def test_review_page_in_headless_chromium(tmp_path):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium on PATH (looked for chromium, chromium-browser, google-chrome):"
                    " install Debian's `chromium` (as .ci/run does) to run the browser test; "
                    "the structural checks in test_review.py ran without it")
    files = build(tmp_path / "proj")
    out = tmp_path / "review"
    result = CliRunner().invoke(main, ["review", str(files["ledger"]), "--out", str(out),
                                       "--since", "imported", "--merge", str(files["theirs"])])
    assert result.exit_code == 0, result.output
    url = (out / "index.html").resolve().as_uri()
    page = (out / "index.html").read_text()
    n_images = len(re.findall(r"<img ", page))
    with tempfile.TemporaryDirectory(dir=tmp_path) as profile:
        dom = _run(browser, Path(profile), "--virtual-time-budget=10000", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    body = re.search(r"<body[^>]*>", dom.stdout)
    assert body, dom.stdout[:500]
    assert f'data-images-loaded="{n_images}"' in body.group(0), body.group(0)
    assert 'data-images-failed="0"' in body.group(0), body.group(0)
    assert n_images == 5
    assert re.search(r'<section id="timeline" data-count="5"', dom.stdout)
    assert re.search(r'<section id="changes" data-frames-changed="4" data-frames-drawn="4"',
                     dom.stdout)
    assert re.search(r'<section id="conflicts" data-count="1"', dom.stdout)
    assert len(re.findall(r'<tr class="tx"', dom.stdout)) == 5
    with tempfile.TemporaryDirectory(dir=tmp_path) as profile:  # the author filter
        bob = _run(browser, Path(profile), "--virtual-time-budget=5000", "--dump-dom",
                   url + "#author=bob")
    assert re.search(r'<section id="timeline" data-count="5" data-listed="5" data-shown="3"',
                     bob.stdout), bob.stdout[:3000]
    assert len(re.findall(r'<tr class="tx hidden"', bob.stdout)) == 2
    shot = tmp_path / "review-screenshot.png"
    with tempfile.TemporaryDirectory(dir=tmp_path) as profile:
        run = _run(browser, Path(profile), f"--screenshot={shot}", "--window-size=1280,1600",
                   "--hide-scrollbars", url)
    assert run.returncode == 0 and shot.is_file() and shot.stat().st_size > 10_000, \
        run.stderr[-2000:]
    print(f"\nreview page screenshot: {shot}")
    if os.environ.get("LEDGER_ARTIFACTS"):
        shutil.copy(shot, Path(os.environ["LEDGER_ARTIFACTS"]) / shot.name)
