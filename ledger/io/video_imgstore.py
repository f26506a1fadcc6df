"""loopbio imgstore directories (SLEAP's ``ImgStoreVideo``), an optional extra.

``imgstore`` pulls in OpenCV and is rarely needed (old ``.json.zip`` exports), so it
is not a dependency: the backend imports it on construction and raises a
`VideoError` saying how to install it when it is absent. Frames are returned as the
store holds them; SLEAP writes its RGB frames in and reads them back unchanged, so
no channel swap is involved.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ledger.errors import VideoError
from ledger.io.video_base import FrameIndexError, VideoBackend, as_uint8_frame

INSTALL_HINT = "install the optional extra: pip install 'ledger[imgstore]'"


def require_imgstore() -> Any:
    """Import and return the ``imgstore`` module, or explain how to get it."""
    try:
        import imgstore
    except ImportError as exc:
        raise VideoError(f"imgstore videos need the 'imgstore' package; {INSTALL_HINT}") from exc
    return imgstore


def imgstore_metadata_path(path: str | os.PathLike[str]) -> str:
    """SLEAP's normal form: an absolute path ending in ``metadata.yaml``."""
    text = os.fspath(path)
    if not text.endswith("metadata.yaml"):
        text = os.path.join(text, "metadata.yaml")
    return os.path.abspath(text)


class ImgStoreBackend(VideoBackend):
    """SLEAP's ``ImgStoreVideo``; ``index_by_original`` addresses frames by number."""

    FIELDS = ("filename", "index_by_original")
    SLEAP_NAME = "ImgStoreVideo"

    def __init__(self, filename: str | os.PathLike[str], index_by_original: bool = True) -> None:
        super().__init__()
        self._imgstore = require_imgstore()
        self.filename = imgstore_metadata_path(filename)
        self.index_by_original = bool(index_by_original)
        self._store: Any = None

    def _open(self) -> Any:
        if self._store is None:
            try:
                self._store = self._imgstore.new_for_filename(self.filename)
            except Exception as exc:
                raise VideoError(f"{self.filename}: cannot open imgstore ({exc})") from exc
        return self._store

    def _image(self, idx: int) -> np.ndarray:
        store = self._open()
        try:
            if self.index_by_original:
                image, _ = store.get_image(frame_number=idx)
            else:
                image, _ = store.get_image(frame_number=None, frame_index=idx)
        except Exception as exc:
            n = None if self.index_by_original else self.frames
            if n is not None and idx >= n:
                raise FrameIndexError(f"{self.filename}: frame {idx} is out of range") from exc
            raise VideoError(f"{self.filename}: cannot read frame {idx} ({exc})") from exc
        return as_uint8_frame(image)

    def _first_index(self) -> int:
        return int(self._open().frame_min) if self.index_by_original else 0

    def _read_shape(self) -> tuple[int, int, int, int]:
        h, w, c = self._image(self._first_index()).shape
        return int(self._open().frame_count), h, w, c

    @property
    def last_frame_idx(self) -> int | None:
        if self.index_by_original:
            try:
                return int(self._open().frame_max)
            except Exception:
                return None
        return super().last_frame_idx

    def _read_frame(self, idx: int) -> np.ndarray:
        return self._image(idx)

    def close(self) -> None:
        store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except Exception:
                pass
