"""`ledger review`: the page's structure and numbers against the ledger's own.

The browser half (images really load, the page renders) is `test_browser.py`;
these checks need no browser, so they run everywhere.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from review_scenario import build

import ledger
from ledger.cli.commands import main
from ledger.review import write_review
from ledger.review.draw import BLANK, RED


@pytest.fixture(scope="module")
def project_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return build(tmp_path_factory.mktemp("review") / "proj")


def _review(files: dict[str, Path], out: Path, *args: str) -> tuple[str, str]:
    result = CliRunner().invoke(main, ["review", str(files["ledger"]), "--out", str(out),
                                       *args])
    assert result.exit_code == 0, result.output
    return (out / "index.html").read_text(), result.output


def _attr(page: str, element_id: str, name: str) -> int:
    m = re.search(rf'id="{element_id}"[^>]*\b{name}="(\d+)"', page)
    assert m, f"{element_id} has no {name}"
    return int(m.group(1))


def test_page_counts_match_the_ledger(project_files, tmp_path):
    page, output = _review(project_files, tmp_path / "r", "--since", "imported",
                           "--merge", str(project_files["theirs"]))
    labels = ledger.open(str(project_files["ledger"]), read_only=True)
    theirs = ledger.open(str(project_files["theirs"]), read_only=True)
    try:
        txs = {rec.tx for rec in labels.history}
        frames = ledger.diff(labels.at("imported"), labels).frames()
        conflicts = ledger.merge(labels, theirs, dry_run=True).conflicts
    finally:
        labels.close()
        theirs.close()
    assert _attr(page, "timeline", "data-count") == len(txs) == 5
    assert page.count('class="tx"') == len(txs)
    assert _attr(page, "changes", "data-frames-changed") == len(frames) == 4
    assert _attr(page, "changes", "data-frames-drawn") == 4
    assert _attr(page, "conflicts", "data-count") == len(conflicts) == 1
    assert "4 changed frame(s)" in output and "1 conflict(s)" in output
    # who, what, how many frames: bob's removal touched one frame
    row = re.search(r'<tr class="tx" data-author="bob" data-tx="3">(.*?)</tr>', page).group(1)
    assert "InstancesRemoved" in row and row.endswith('<td class="touched">1</td>')
    # per-node displacement by name: alice moved head 2 px, thorax sqrt(45) px
    assert re.search(r"<td>head</td><td>\([\d.]+, [\d.]+\)</td><td>\([\d.]+, [\d.]+\)</td>"
                     r"<td>2.00 px</td>", page)
    assert f"{np.hypot(6, 3):.2f} px" in page
    assert "removed instance #1 user (male)" in page
    # the conflict names both authors and the command that resolves it
    card = re.search(r'<div class="card conflict".*?</div>', page).group(0)
    assert "bob" in card and "carol" in card and "node head" in card
    assert f"ledger merge {project_files['ledger']} {project_files['theirs']} --" in card


def test_page_is_self_contained(project_files, tmp_path):
    out = tmp_path / "r"
    page, _ = _review(project_files, out, "--merge", str(project_files["theirs"]))
    sources = re.findall(r'<img src="([^"]+)"', page)
    assert len(sources) == 5  # 4 frames, 1 conflict
    for src in sources:
        assert "/" not in src and (out / src).is_file()
        with Image.open(out / src) as im:
            assert im.format == "PNG" and im.size[0] >= 200
    assert not re.search(r'(src|href)="(https?:|//)', page)
    assert "<link" not in page and "<script src" not in page


def test_cap_is_said_on_the_page(project_files, tmp_path):
    page, _ = _review(project_files, tmp_path / "r", "--max-frames", "2")
    assert _attr(page, "changes", "data-frames-drawn") == 2
    assert "4 frames changed; the first 2 are drawn" in page
    assert len(list((tmp_path / "r").glob("frame_*.png"))) == 2


def test_two_pixel_move_is_drawn_as_a_visible_arrow(project_files, tmp_path):
    labels = ledger.open(str(project_files["ledger"]), read_only=True)
    try:
        data = write_review(labels.project, tmp_path / "r", since="imported")
    finally:
        labels.close()
    frame10 = next(k for k, f in enumerate(data.frames) if f.frame_idx == 10)
    (moved,) = data.frames[frame10].moves.values()
    moves = {m.node: m.displacement for m in moved}
    assert moves["head"] == pytest.approx(2.0)
    img = np.asarray(Image.open(tmp_path / "r" / f"frame_{frame10:04d}.png").convert("RGB"))
    red = np.all(img == RED, axis=2)
    assert red.sum() > 100  # arrows, heads and rings: far more than the 2 px moved


def test_missing_video_gives_a_blank_canvas(project_files, tmp_path):
    import shutil

    folder = tmp_path / "novideo"
    folder.mkdir()
    shutil.copy(project_files["ledger"], folder / "clip.ledger")
    labels = ledger.open(str(folder / "clip.ledger"), author="dan")
    labels.video.filename = str(folder / "gone.mp4")
    labels.close()
    result = CliRunner().invoke(main, ["review", str(folder / "clip.ledger"), "--out",
                                       str(folder / "r"), "--since", "imported"])
    assert result.exit_code == 0, result.output
    img = np.asarray(Image.open(folder / "r" / "frame_0000.png").convert("RGB"))
    assert np.mean(np.all(img == BLANK, axis=2)) > 0.5
    page = (folder / "r" / "index.html").read_text()
    assert _attr(page, "changes", "data-frames-changed") == 4  # the rename touches no frame


def test_bad_since_is_one_line_error(project_files, tmp_path):
    result = CliRunner().invoke(main, ["review", str(project_files["ledger"]), "--out",
                                       str(tmp_path / "r"), "--since", "99"])
    assert result.exit_code == 1
    assert "outside the history" in result.output
