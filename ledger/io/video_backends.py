"""Video backends: choosing one for a file or a serialised dict, and finding videos.

A labels file stores each video as SLEAP's backend attrs dict, never the backend
type. SLEAP picks the backend again from the file extension
(``Video.from_filename``) and drops keys the chosen backend does not know, so files
written by sleap-io (``type``, ``shape``, ``fps``, ...) load too. `backend_from_dict`
and `backend_from_filename` do the same here:

* ``.h5 .hdf5 .slp`` -> `HDF5Backend`; ``.mp4 .avi .mov .mj2 .mkv`` -> `MediaBackend`;
  ``.jpg .jpeg .png .tif .tiff`` -> `ImageListBackend` (all case-insensitive);
* ``.npy .npz`` -> `NumpyBackend` (case-sensitive, as in SLEAP);
* a directory, or a path containing ``metadata.yaml`` -> `ImgStoreBackend`;
* anything else -> ``VideoError("Could not detect backend for ...")``.

Construction never reads the file: a missing video loads, reports ``is_missing``
and an all-``None`` ``shape``, and can be relocated later with `find_video_path`.

Example::

    backend = backend_from_dict({"filename": "clip.mp4", "grayscale": True,
                                 "bgr": True, "dataset": "", "input_format": ""})
    backend.shape            # (1500, 1024, 1024, 1)
    backend.get_frame(10)    # (1024, 1024, 1) uint8
    backend.to_dict()        # the same five keys, in SLEAP's order
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from ledger.errors import VideoError
from ledger.io.video_base import (
    FrameIndexError,
    VideoBackend,
    VideoNotFoundError,
    basename_any,
    split_any,
)
from ledger.io.video_hdf5 import HDF5Backend
from ledger.io.video_images import RAW_VIDEO_NAME, ImageListBackend, NumpyBackend
from ledger.io.video_imgstore import ImgStoreBackend
from ledger.io.video_media import MediaBackend

__all__ = [
    "RAW_VIDEO_NAME",
    "FrameIndexError",
    "HDF5Backend",
    "ImageListBackend",
    "ImgStoreBackend",
    "MediaBackend",
    "NumpyBackend",
    "VideoBackend",
    "VideoNotFoundError",
    "backend_class_for",
    "backend_from_dict",
    "backend_from_filename",
    "basename_any",
    "find_video_path",
    "split_any",
]


def backend_class_for(filename: str) -> type[VideoBackend]:
    """The backend SLEAP would choose for ``filename`` (see the module docstring)."""
    lower = filename.lower()
    if lower.endswith(HDF5Backend.EXTENSIONS):
        return HDF5Backend
    if filename.endswith(NumpyBackend.EXTENSIONS):
        return NumpyBackend
    if lower.endswith(MediaBackend.EXTENSIONS):
        return MediaBackend
    if os.path.isdir(filename) or "metadata.yaml" in filename:
        return ImgStoreBackend
    if lower.endswith(ImageListBackend.EXTENSIONS):
        return ImageListBackend
    raise VideoError(
        f"Could not detect backend for {filename!r}: expected a media file "
        f"({', '.join(MediaBackend.EXTENSIONS)}), HDF5 ({', '.join(HDF5Backend.EXTENSIONS)}), "
        f"images ({', '.join(ImageListBackend.EXTENSIONS)}), .npy/.npz or an imgstore directory"
    )


def backend_from_filename(filename: str | os.PathLike[str], **options: Any) -> VideoBackend:
    """Build the backend for ``filename``; options it does not take are dropped."""
    name = os.fspath(filename)
    cls = backend_class_for(name)
    allowed = (set(cls.FIELDS) | set(cls.OPTIONS)) - {"filename"}
    kwargs = {k: v for k, v in options.items() if k in allowed}
    return cls(name, **kwargs)


def backend_from_dict(d: Mapping[str, Any]) -> VideoBackend:
    """Build a backend from a serialised video.

    Accepts the inner backend attrs dict (SLEAP's ``videos_json["backend"]``) or the
    whole video dict (``{"backend": {...}}``, sleap-io's ``{"filename": ...,
    "backend": {...}}``). The filename comes from ``filename`` or the old ``file``
    key; a list of filenames (sleap-io's image videos) becomes ``filenames``.
    """
    outer_filename = None
    inner = d.get("backend")
    if isinstance(inner, Mapping):
        outer_filename = d.get("filename")
        d = inner
    options = dict(d)
    filename = options.pop("filename", None)
    file_alias = options.pop("file", None)
    if filename is None:
        filename = file_alias if file_alias is not None else outer_filename
    if isinstance(filename, list | tuple):
        options.setdefault("filenames", list(filename))
        filename = filename[0] if filename else None
    if filename is None and options.get("filenames"):
        filename = options["filenames"][0]
    if filename is None:
        raise VideoError(f"serialised video has no filename: {dict(d)!r}")
    return backend_from_filename(str(filename), **options)


def find_video_path(filename: str, search_paths: Iterable[str | os.PathLike[str]]) -> str | None:
    """SLEAP's video search: ``filename``'s basename in each search directory.

    The basename is taken on both ``/`` and ``\\`` so Windows paths work on POSIX.
    A search path that is a file stands for its directory. Returns the first path
    that exists, or ``None``.
    """
    base = basename_any(filename)
    if not base:
        return None
    for entry in search_paths:
        path = os.fspath(entry)
        folder = os.path.dirname(path) if os.path.isfile(path) else path
        candidate = os.path.join(folder, base)
        if os.path.exists(candidate):
            return candidate
    return None
