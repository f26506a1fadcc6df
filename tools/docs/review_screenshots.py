"""Regenerate the review-page screenshots shown in docs/tutorial.md.

Builds the real project of the review tests (SLEAP's ``clip.slp`` with edits by
alice and bob and carol's conflicting fork; ``tests/review/review_scenario.py``),
writes its review page, and has headless Chromium photograph two parts of it:
the pending conflict and (on a page without it) the changed frames. The PNGs are
reduced to a 128-colour palette so they stay small in the repository.

Usage: python tools/docs/review_screenshots.py   (needs ``chromium`` on PATH)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "review"))
from review_scenario import build  # noqa: E402

from ledger.project.project import Project  # noqa: E402
from ledger.review import write_review  # noqa: E402

OUT = ROOT / "docs" / "images"


def shoot(url: str, path: Path, size: str, profile: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        raise SystemExit("needs chromium on PATH")
    subprocess.run([browser, "--headless", "--disable-gpu", "--no-sandbox",
                    f"--user-data-dir={profile}", "--hide-scrollbars",
                    f"--window-size={size}", f"--screenshot={path}", url],
                   check=True, capture_output=True)
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=128)
    small.save(path, optimize=True)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp) / "proj")
        from ledger import open as open_labels

        theirs = open_labels(str(files["theirs"]), read_only=True)
        with Project.open(files["ledger"], read_only=True) as project:
            write_review(project, Path(tmp) / "review", since="imported", merge=theirs,
                         title="clip.ledger", merge_specs=("clip.ledger", "carol.ledger"))
            write_review(project, Path(tmp) / "changes", since="imported",
                         title="clip.ledger")  # changes first, for the second picture
        theirs.close()
        url = (Path(tmp) / "review" / "index.html").as_uri()
        shoot(url, OUT / "review-conflict.png", "1000,820", Path(tmp) / "p1")
        shoot((Path(tmp) / "changes" / "index.html").as_uri(), OUT / "review-changes.png",
              "1000,1000", Path(tmp) / "p2")
    for name in ("review-conflict.png", "review-changes.png"):
        print(f"{OUT / name}: {(OUT / name).stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
