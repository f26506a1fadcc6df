"""The interface every video backend shares, and the helpers they have in common.

SLEAP's `Video` forwards almost everything to its backend, so the backend is where
the interface lives: ``frames``, ``height``, ``width``, ``channels``, ``dtype``,
``shape``, ``get_frame``, ``get_frames``, ``last_frame_idx``, ``is_missing``,
``close`` and ``to_dict``. Each concrete backend only has to say how to read its
shape and one frame (`_read_shape`, `_read_frame`); bounds, missing files, batching
and error wrapping are done once, here.

Two rules hold for every backend, because labels files must load even when their
videos are not on this machine:

* constructing a backend never touches the file, so a missing video is reported by
  ``is_missing`` and an all-``None`` ``shape`` instead of an exception;
* reading a frame that cannot be read raises a `ledger.errors.VideoError` naming the
  file and the frame (`FrameIndexError` for an index outside the video, which is
  also an ``IndexError`` as in SLEAP).

Frames are always ``(height, width, channels)`` ``uint8`` arrays that the caller owns
(never a view into a cache), so callers can modify them freely.
"""

from __future__ import annotations

import operator
import os
from abc import ABC, abstractmethod
from collections.abc import Iterable
from typing import Any, ClassVar, Self

import numpy as np

from ledger.errors import VideoError

Shape = tuple[int | None, int | None, int | None, int | None]
UNKNOWN_SHAPE: Shape = (None, None, None, None)
UINT8 = np.dtype("uint8")


class FrameIndexError(VideoError, IndexError):
    """A frame index is outside the video (or not embedded and no source video)."""


class VideoNotFoundError(VideoError, FileNotFoundError):
    """The video file is absent; raised on read, never on construction."""


def split_any(path: str) -> tuple[str, str]:
    """Split a path into (directory, basename) on both ``/`` and ``\\``.

    Labels files carry paths written on other systems (``"D:/data\\\\clip.mp4"``);
    ``os.path`` on POSIX would not split the backslash, so do it by hand.
    """
    cut = max(path.rfind("/"), path.rfind("\\"))
    if cut < 0:
        return "", path
    return path[:cut], path[cut + 1 :]


def basename_any(path: str) -> str:
    """The last component of ``path`` whichever separator it was written with."""
    return split_any(path)[1]


def as_uint8_frame(array: Any) -> np.ndarray:
    """Return ``array`` as an owned ``(H, W, C)`` uint8 frame.

    2-D images gain a channel axis. Other dtypes are clipped to [0, 255] and cast,
    so every backend honours the interface's uint8 promise.
    """
    frame = np.asarray(array)
    if frame.ndim == 2:
        frame = frame[..., None]
    if frame.ndim != 3:
        raise ValueError(f"expected a 2-D or 3-D image, got shape {frame.shape}")
    if frame.dtype != UINT8:
        if frame.dtype == np.bool_:
            frame = frame.astype(UINT8)
        else:
            frame = np.clip(frame, 0, 255).astype(UINT8)
    return np.array(frame, dtype=UINT8, copy=True, order="C")


class VideoBackend(ABC):
    """Common behaviour of all backends.

    Subclasses set `FIELDS` (the serialised attrs of SLEAP's backend, in SLEAP's
    order), `MATCH_FIELDS` (what SLEAP's ``matches`` compares) and `OPTIONS` (extra
    constructor keywords that are accepted but never serialised).
    """

    FIELDS: ClassVar[tuple[str, ...]] = ("filename",)
    MATCH_FIELDS: ClassVar[tuple[str, ...]] = ("filename",)
    OPTIONS: ClassVar[tuple[str, ...]] = ()
    SLEAP_NAME: ClassVar[str] = "Video"

    filename: str

    # Serialised fields a backend fills in itself while reading (not user edits).
    DERIVED_FIELDS: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        self._shape: tuple[int, int, int, int] | None = None

    def __setattr__(self, name: str, value: Any) -> None:
        """A backend owned by a `Video` reports edits of its serialised fields to
        that video (``video.backend.filename = new`` must become an event)."""
        hook = self.__dict__.get("_field_hook")
        if hook is not None and name in self.FIELDS and name not in self.DERIVED_FIELDS:
            hook(name, value)
        else:
            object.__setattr__(self, name, value)

    # -- what subclasses implement -------------------------------------------------

    @abstractmethod
    def _read_shape(self) -> tuple[int, int, int, int]:
        """Read ``(frames, height, width, channels)``; may raise anything."""

    @abstractmethod
    def _read_frame(self, idx: int) -> np.ndarray:
        """Read frame ``idx`` (already checked to be >= 0) as ``(H, W, C)`` uint8."""

    # -- shape ------------------------------------------------------------------------

    @property
    def shape(self) -> Shape:
        """``(frames, height, width, channels)``, or all ``None`` when unreadable.

        A successful read is cached; a failure is not, so a video that appears
        later (a mounted drive, a fixed path) is picked up.
        """
        if self._shape is None:
            try:
                self._shape = tuple(int(v) for v in self._read_shape())  # type: ignore[assignment]
            except Exception:
                return UNKNOWN_SHAPE
        return self._shape  # type: ignore[return-value]

    @property
    def frames(self) -> int | None:
        return self.shape[0]

    @property
    def height(self) -> int | None:
        return self.shape[1]

    @property
    def width(self) -> int | None:
        return self.shape[2]

    @property
    def channels(self) -> int | None:
        return self.shape[3]

    @property
    def dtype(self) -> np.dtype:
        """Always uint8: every backend converts its frames to it."""
        return UINT8

    @property
    def last_frame_idx(self) -> int | None:
        """Largest valid frame index (``frames - 1``); ``None`` when unreadable."""
        n = self.frames
        return None if n is None else n - 1

    @property
    def is_missing(self) -> bool:
        """True when the file is absent (checked on every call, never cached)."""
        return not os.path.exists(self.filename)

    # -- frames -----------------------------------------------------------------------

    def get_frame(self, idx: int) -> np.ndarray:
        """Frame ``idx`` as an owned ``(H, W, C)`` uint8 array."""
        i = _index(idx, self.filename)
        self._check_present(i)
        return self._read_frame(i)

    def _check_present(self, idx: int) -> None:
        """Fail fast, with a clear error, when the file is gone."""
        if self.is_missing:
            raise VideoNotFoundError(f"{self.filename}: video file not found (frame {idx})")

    def get_frames(self, idxs: int | Iterable[int]) -> np.ndarray:
        """Frames ``idxs`` stacked as ``(n, H, W, C)``, in the order asked.

        Distinct indices are read once each, in ascending order: for compressed
        media that turns a random request into a forward scan.
        """
        wanted = [idxs] if np.isscalar(idxs) else list(idxs)  # type: ignore[list-item]
        keys = [_index(i, self.filename) for i in wanted]
        if not keys:
            _, h, w, c = self.shape
            return np.zeros((0, h or 0, w or 0, c or 0), dtype=UINT8)
        read = {i: self.get_frame(i) for i in sorted(set(keys))}
        try:
            return np.stack([read[i] for i in keys], axis=0)
        except ValueError as exc:
            raise VideoError(f"{self.filename}: frames {keys} differ in shape") from exc

    # -- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:  # noqa: B027 - optional hook; most backends hold nothing open
        """Release open files or decoders; the backend reopens them when needed."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- serialisation ------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """SLEAP's serialised backend attrs (``videos_json``'s ``"backend"``)."""
        return {name: _plain(getattr(self, name)) for name in self.FIELDS}

    def matches(self, other: object) -> bool:
        """SLEAP's ``backend.matches``: same backend type and same key fields."""
        if type(other) is not type(self):
            return False
        mine, theirs = self.to_dict(), other.to_dict()  # type: ignore[attr-defined]
        return all(mine.get(k) == theirs.get(k) for k in self.MATCH_FIELDS)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(filename={self.filename!r})"


def _index(idx: Any, filename: str) -> int:
    """Validate a frame index: an integer (numpy ints too), not negative.

    Negative indices are refused rather than wrapped: a negative frame number is
    always a caller bug in labels code, and backends would disagree on wrapping.
    """
    try:
        i = operator.index(idx)
    except TypeError:
        raise TypeError(f"frame index must be an integer, not {type(idx).__name__}") from None
    if i < 0:
        raise FrameIndexError(f"{filename}: frame index {i} is negative")
    return i


def _plain(value: Any) -> Any:
    """Turn numpy scalars and tuples into JSON-ready Python values."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
