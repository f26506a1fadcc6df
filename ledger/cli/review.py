"""``ledger review LEDGER --out DIR [--since SEQ|TAG] [--merge THEIRS]``.

Writes a self-contained review page (``DIR/index.html`` and PNG images beside
it; see `ledger.review`). Registered into the main CLI by ``commands.py``; the
drawing stack (Pillow, video decoding) is imported only when the verb runs.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from ledger.cli.output import console


@click.command("review")
@click.argument("path")
@click.option("--out", required=True, help="Folder for index.html and its images.")
@click.option("--since", default=None,
              help="A seq or tag: show the frames changed after it (default: after the "
                   "first transaction, usually the import).")
@click.option("--merge", "theirs", default=None,
              help="A ledger (PATH, PATH@SEQ, PATH@TAG) or labels file to show a pending "
                   "merge of: each conflict drawn as base / ours / theirs.")
@click.option("--max-frames", default=60, show_default=True,
              help="Draw at most this many changed frames (and conflicts); the page says "
                   "how many there are.")
@click.option("--video-dir", "video_dirs", multiple=True,
              help="Also look for videos (by file name) in this folder; repeatable.")
def review_command(path: str, out: str, since: str | None, theirs: str | None,
                   max_frames: int, video_dirs: tuple[str, ...]) -> None:
    """Write a review page: history timeline, changed frames, merge conflicts."""
    from ledger.cli.commands import _project, guarded
    from ledger.cli.merge import _load

    @guarded
    def run() -> None:
        from ledger.review import write_review

        search = [Path(d) for d in video_dirs] + [Path(os.path.dirname(os.path.abspath(path)))]
        with _project(path, read_only=True) as project:
            other, closer = _load(theirs) if theirs else (None, None)
            try:
                data = write_review(project, out, since=since, merge=other,
                                    max_frames=max_frames, title=os.path.basename(path),
                                    merge_specs=(path, theirs or "THEIRS"),
                                    video_search=search)
            finally:
                if closer is not None:
                    closer.close()
        extra = (f", {data.conflicts_total} conflict(s) with {theirs}"
                 if theirs is not None else "")
        console.print(f"wrote {os.path.join(out, 'index.html')}: {data.frames_changed} "
                      f"changed frame(s) since version {data.since}, {len(data.frames)} "
                      f"drawn{extra}", markup=False, soft_wrap=True)

    run()
