"""Review pages: what changed and what conflicts, drawn over the video frames.

`write_review` writes ``DIR/index.html`` and its PNG images beside it: the
history timeline, each changed frame since a version (before/after, arrows,
per-node displacement by name) and, with a pending merge, each conflict's base /
ours / theirs on its frame with the command that resolves it. Three modules keep
the concerns apart: `ledger.review.gather` (data, from the ledger's public API),
`ledger.review.draw` (Pillow) and `ledger.review.html` (the page).

Example::

    project = Project.open("project.ledger", read_only=True)
    write_review(project, "review", since="reviewed", title="project.ledger")
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.review.gather import MAX_FRAMES, ReviewData, conflict_views, gather

if TYPE_CHECKING:
    from ledger.project.project import Project

__all__ = ["MAX_FRAMES", "ReviewData", "gather", "write_review"]


def write_review(project: Project, out: str | os.PathLike[str], *, since: Any = None,
                 merge: Any = None, max_frames: int = MAX_FRAMES, title: str = "",
                 merge_specs: tuple[str, str] = ("OURS", "THEIRS"),
                 video_search: list[Path] | None = None) -> ReviewData:
    """Write the review page of ``project`` into folder ``out`` (created).

    ``merge``: theirs (a `Labels`) for a pending merge into ``project``'s labels,
    shown with a dry-run `ledger.merge`; ``merge_specs`` are how the resolving
    command line names both sides. Videos are looked for where the ledger says,
    then by file name in ``video_search`` folders.
    """
    from ledger.review.draw import FrameSource, draw_change, draw_conflict
    from ledger.review.html import render

    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    data = gather(project, since, max_frames, title)
    if merge is not None:
        from ledger.diffing.diff import state_of
        from ledger.merging import merge as merge_fn
        from ledger.sleap.labels import Labels

        result = merge_fn(Labels(project=project), merge, dry_run=True)
        data.merge_source = merge_specs[1]
        data.conflicts_total = len(result.conflicts)
        data.conflicts = conflict_views(result, project, state_of(merge), *merge_specs,
                                        limit=max_frames)
        theirs_videos = state_of(merge).videos
        for vid, v in theirs_videos.items():
            data.videos.setdefault(vid, dict(v.backend))
    for stale in folder.glob("frame_*.png"):
        stale.unlink()
    for stale in folder.glob("conflict_*.png"):
        stale.unlink()
    frames = FrameSource(data.videos, video_search or [])
    try:
        frame_images = []
        for k, change in enumerate(data.frames):
            name = f"frame_{k:04d}.png"
            draw_change(change, frames, folder / name)
            frame_images.append(name)
        conflict_images: list[str | None] = []
        for k, view in enumerate(data.conflicts):
            name = f"conflict_{k:04d}.png"
            conflict_images.append(name if draw_conflict(view, frames, folder / name) else None)
    finally:
        frames.close()
    page = render(data, frame_images, conflict_images)
    tmp = folder / "index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, folder / "index.html")
    return data
