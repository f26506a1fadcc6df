"""A real project with edits by two people and a pending conflict, for review tests
and the tutorial screenshots (``tools/docs/review_screenshots.py``).

From SLEAP's ``clip.slp`` (1,500 frames, two tracked flies): alice nudges two
nodes of frame 10 (2 px and 6.7 px); bob removes an instance of frame 20 and
moves a node of frame 30, then forks the ledger for carol; bob and carol then
move the same point of frame 40 differently (the conflict).
"""

from __future__ import annotations

import shutil
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "tracks"


def build(folder: Path) -> dict[str, Path]:
    """Write clip.slp, clip.mp4, clip.ledger (alice, bob) and carol.ledger into
    ``folder``; returns their paths."""
    import ledger
    from ledger import Labels
    from ledger.project.project import Project

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / "clip.slp", folder / "clip.slp")
    # the video lives apart in tests/data, so that loading tracks/clip.slp there
    # still meets a missing video (what the video-search tests rely on)
    shutil.copy(DATA.parent / "videos" / "clip.mp4", folder / "clip.mp4")
    path, carol_path = folder / "clip.ledger", folder / "carol.ledger"
    labels = Labels.load_file(folder / "clip.slp", project=Project.open(path, author="alice"))
    inst = labels.find(labels.video, 10)[0].instances[0]
    with labels.transaction("alice fixes the head and thorax in frame 10"):
        p = inst["head"]
        labels.set_point(inst, "head", p.x + 2.0, p.y)
        p = inst["thorax"]
        labels.set_point(inst, "thorax", p.x + 6.0, p.y + 3.0)
    labels.project.tag("imported", 5)
    labels.close()
    bob = ledger.open(path, author="bob")
    frame = bob.find_first(bob.video, 20)
    bob.remove_instance(frame, frame.instances[1])
    inst = bob.find_first(bob.video, 30).instances[0]
    bob.set_point(inst, "abdomen", inst["abdomen"].x - 8, inst["abdomen"].y + 4)
    bob.fork(carol_path).close()
    carol = ledger.open(carol_path, author="carol")
    for who, dx in ((bob, 5.0), (carol, -7.0)):
        inst = who.find_first(who.video, 40).instances[0]
        who.set_point(inst, "head", inst["head"].x + dx, inst["head"].y + dx)
    carol.close()
    bob.close()
    return {"ledger": path, "theirs": carol_path, "video": folder / "clip.mp4"}
