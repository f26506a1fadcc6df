"""docs/tutorial.md runs: every ```bash and ```python block, in order, in one
empty folder, as a reader would (``ledger`` and ``python`` on PATH point at this
interpreter and checkout). A block that fails fails the test with its output."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TUTORIAL = ROOT / "docs" / "tutorial.md"


def blocks() -> list[tuple[str, str]]:
    return re.findall(r"^```(bash|python)\n(.*?)^```", TUTORIAL.read_text(), re.S | re.M)


def test_tutorial_has_the_main_steps():
    text = " ".join(code for _, code in blocks())
    for step in ("ledger import", "set_point", "undo", "ledger log", "ledger blame",
                 "ledger verify", "fork", "ledger merge", "ledger review", "ledger diff",
                 "ledger export"):
        assert step in text, step
    for image in re.findall(r"\]\((images/[^)]+)\)", TUTORIAL.read_text()):
        assert (TUTORIAL.parent / image).is_file(), image


def test_tutorial_runs(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shims = {"ledger": f'exec "{sys.executable}" -c "import sys; from ledger.cli.commands '
                       f"import main; sys.argv[0] = 'ledger'; main()\" \"$@\"",
             "python": f'exec "{sys.executable}" "$@"'}
    for name, body in shims.items():
        shim = bin_dir / name
        shim.write_text(f"#!/bin/sh\n{body}\n")
        shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "COLUMNS": "120", "PYTHONWARNINGS": "ignore"}
    found = blocks()
    assert len(found) >= 8
    for k, (lang, code) in enumerate(found):
        cmd = ["bash", "-euo", "pipefail", "-c", code] if lang == "bash" else \
            [sys.executable, "-c", code]
        run = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True,
                             timeout=120, check=False)
        assert run.returncode == 0, (f"tutorial block {k + 1} ({lang}) failed:\n{code}\n"
                                     f"--- stdout\n{run.stdout}\n--- stderr\n{run.stderr}")
    assert (work / "review" / "index.html").is_file()
    assert (work / "edited.slp").is_file() and (work / "original.slp").is_file()
