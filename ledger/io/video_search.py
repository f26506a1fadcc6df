"""Finding moved videos when a labels file is loaded (SLEAP's search rule).

Projects travel: a lab copies ``clip.slp`` and ``clip.mp4`` into a new folder and
the stored video path points at the old machine. SLEAP's module-level
``load_file`` and sleap-io both look next to the labels file, so scripts rely on it.
The rule applied here, once any stored video path is missing (as SLEAP's callback
does):

1. each video's basename (split on ``/`` and ``\\``) in the labels file's own folder;
2. then in each ``video_search`` path (a file path counts as its folder);
3. otherwise the stored path stays (the video is reported by ``is_missing``).

Then, as in SLEAP, when videos are still missing and ``video_search`` lists exactly
one path per video with matching extensions, those paths replace the missing ones
position by position. A callable ``video_search`` (SLEAP's callback protocol) is
called after step 1 with the serialised video dicts.

Example::

    dicts = [{"backend": {"filename": "/old/place/clip.mp4"}}]
    search_videos("/new/place/clip.slp", dicts, None)
    dicts[0]["backend"]["filename"]   # '/new/place/clip.mp4' when it exists
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ledger.io.video_backends import find_video_path


def _filename(item: dict) -> str:
    return str(item.setdefault("backend", {}).get("filename", ""))


def _missing(item: dict) -> bool:
    name = _filename(item)
    return bool(name) and not os.path.exists(name)


def search_videos(labels_path: str, video_dicts: list[dict[str, Any]],
                  video_search: Any = None) -> None:
    """Repoint missing videos in ``video_dicts`` (edited in place)."""
    folder = os.path.dirname(os.path.abspath(labels_path))
    user: list[str] = []
    callback: Callable[[list[dict]], Any] | None = None
    if callable(video_search):
        callback = video_search
    elif isinstance(video_search, str | os.PathLike):
        user = [os.fspath(video_search)]
    elif video_search is not None:
        user = [os.fspath(p) for p in video_search]
    if any(_missing(d) for d in video_dicts):
        for item in video_dicts:
            name = _filename(item)
            found = find_video_path(name, [folder, *user]) if name else None
            if found is not None:
                item["backend"]["filename"] = found
    if callback is not None:
        callback(video_dicts)
        return
    missing = [i for i, d in enumerate(video_dicts) if _missing(d)]
    if missing and len(user) == len(video_dicts) and all(
            os.path.splitext(p)[1].lower() == os.path.splitext(_filename(d))[1].lower()
            for p, d in zip(user, video_dicts, strict=True)):
        for i in missing:
            video_dicts[i]["backend"]["filename"] = user[i]
