"""Videos that are really image files (one per frame) or numpy arrays.

``ImageListBackend`` is SLEAP's ``SingleImageVideo``: one image file per frame,
``frames = len(filenames)``. Its serialised dicts were often written on another
machine (``"D:/data\\\\robot0.jpg"``), so a listed file that does not exist is looked
up by basename in the directory of ``filename``, as SLEAP does. Images are decoded
like OpenCV's default ``imread`` (always 3 colour channels, 8 bit, RGB order after
SLEAP's conversion); ``grayscale`` (given, or detected from the first image) keeps
channel 0 only.

``NumpyBackend`` is SLEAP's ``NumpyVideo``: a ``.npy``/``.npz`` file or an array in
memory (serialised as ``"Raw Video Data"``). Arrays are ``(frames, H, W, C)``, the
layout `get_frame` returns; SLEAP labels axes 1 and 2 ``width`` and ``height`` the
other way round, which is a SLEAP naming slip we do not copy.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ledger.errors import ValidationError, VideoError
from ledger.io.video_base import (
    FrameIndexError,
    VideoBackend,
    VideoNotFoundError,
    as_uint8_frame,
    basename_any,
    split_any,
)

RAW_VIDEO_NAME = "Raw Video Data"


def read_image_rgb(path: str) -> np.ndarray:
    """Decode an image file like ``cv2.imread`` + BGR->RGB: ``(H, W, 3)`` uint8."""
    import imageio.v3 as iio

    image = np.asarray(iio.imread(path, index=0))
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    if image.ndim != 3:
        raise VideoError(f"{path}: not a single 2-D image (shape {image.shape})")
    image = image[..., :3]
    if image.dtype == np.uint16:
        image = (image >> 8).astype(np.uint8)
    return as_uint8_frame(image)


class ImageListBackend(VideoBackend):
    """SLEAP's ``SingleImageVideo``."""

    EXTENSIONS = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
    FIELDS = ("filename", "filenames", "height_", "width_", "channels_", "grayscale")
    DERIVED_FIELDS = ("height_", "width_", "channels_")  # filled in on first read
    MATCH_FIELDS = ("filename", "filenames")
    SLEAP_NAME = "SingleImageVideo"

    def __init__(
        self,
        filename: str | os.PathLike[str] | None = None,
        filenames: list[str] | None = None,
        height_: int | None = None,
        width_: int | None = None,
        channels_: int | None = None,
        grayscale: bool | None = None,
    ) -> None:
        super().__init__()
        names = [os.fspath(f) for f in filenames] if filenames else []
        if filename is None:
            if not names:
                raise ValidationError("an image video needs a filename or filenames")
            filename = names[0]
        self.filename = os.fspath(filename)
        self.filenames = names or [self.filename]
        self.height_ = height_
        self.width_ = width_
        self.channels_ = channels_
        self._grayscale = None if grayscale is None else bool(grayscale)

    def resolve(self, path: str) -> str | None:
        """Where ``path`` really is: itself, or its basename beside ``filename``."""
        if os.path.exists(path):
            return path
        folder = split_any(self.filename)[0]
        candidate = os.path.join(folder, basename_any(path)) if folder else basename_any(path)
        return candidate if os.path.exists(candidate) else None

    @property
    def is_missing(self) -> bool:
        return any(self.resolve(p) is None for p in self.filenames)

    def _check_present(self, idx: int) -> None:
        """Only frame ``idx``'s image matters (checked when it is read), not all."""

    @property
    def grayscale(self) -> bool | None:
        """Given, or detected from the first image; ``None`` while undecidable."""
        if self._grayscale is None:
            try:
                first = self._image(0)
            except Exception:
                return None
            self._grayscale = bool(np.array_equal(first[..., 0], first[..., -1]))
        return self._grayscale

    @grayscale.setter
    def grayscale(self, value: bool | None) -> None:
        self._grayscale = None if value is None else bool(value)
        self._shape = None

    def _image(self, idx: int) -> np.ndarray:
        if idx >= len(self.filenames):
            raise FrameIndexError(
                f"{self.filename}: frame {idx} is out of range ({len(self.filenames)} images)"
            )
        listed = self.filenames[idx]
        path = self.resolve(listed)
        if path is None:
            raise VideoNotFoundError(f"{listed}: image for frame {idx} not found")
        try:
            return read_image_rgb(path)
        except VideoError:
            raise
        except Exception as exc:
            raise VideoError(f"{path}: cannot decode image for frame {idx} ({exc})") from exc

    def _read_shape(self) -> tuple[int, int, int, int]:
        if self.is_missing:
            raise VideoNotFoundError(self.filename)
        if self.height_ is None or self.width_ is None or self.channels_ is None:
            h, w, c = self._image(0).shape
            self.height_ = h if self.height_ is None else self.height_
            self.width_ = w if self.width_ is None else self.width_
            self.channels_ = c if self.channels_ is None else self.channels_
        channels = 1 if self.grayscale else int(self.channels_)
        return len(self.filenames), int(self.height_), int(self.width_), channels

    def _read_frame(self, idx: int) -> np.ndarray:
        image = self._image(idx)
        return as_uint8_frame(image[..., :1]) if self.grayscale else image

    def to_dict(self) -> dict[str, Any]:
        self.shape  # noqa: B018 - fills height_/width_/channels_ as SLEAP does on access
        return {
            "filename": self.filename,
            "filenames": list(self.filenames),
            "height_": self.height_,
            "width_": self.width_,
            "channels_": self.channels_,
            "grayscale": self.grayscale,
        }


class NumpyBackend(VideoBackend):
    """SLEAP's ``NumpyVideo``: a ``.npy``/``.npz`` file, or an array in memory."""

    EXTENSIONS = (".npy", ".npz")  # compared case-sensitively, as SLEAP does
    FIELDS = ("filename",)
    SLEAP_NAME = "NumpyVideo"

    def __init__(self, filename: str | os.PathLike[str] | np.ndarray) -> None:
        super().__init__()
        self._raw = isinstance(filename, np.ndarray)
        if isinstance(filename, np.ndarray):
            self.filename = RAW_VIDEO_NAME
            self._data: np.ndarray | None = _as_video_array(filename, RAW_VIDEO_NAME)
        else:
            self.filename = os.fspath(filename)
            self._data = None

    @property
    def is_missing(self) -> bool:
        return False if self._raw else super().is_missing

    def _array(self) -> np.ndarray:
        if self._data is None:
            try:
                if self.filename.endswith(".npz"):
                    with np.load(self.filename, allow_pickle=False) as npz:
                        if not npz.files:
                            raise VideoError(f"{self.filename}: the .npz file holds no array")
                        loaded = npz[npz.files[0]]
                else:  # memory-mapped: a large .npy is not read until frames are asked for
                    loaded = np.load(self.filename, mmap_mode="r", allow_pickle=False)
            except VideoError:
                raise
            except Exception as exc:
                raise VideoError(f"{self.filename}: cannot load array ({exc})") from exc
            self._data = _as_video_array(loaded, self.filename)
        return self._data

    def _read_shape(self) -> tuple[int, int, int, int]:
        n, h, w, c = self._array().shape
        return n, h, w, c

    def _read_frame(self, idx: int) -> np.ndarray:
        data = self._array()
        if idx >= data.shape[0]:
            raise FrameIndexError(
                f"{self.filename}: frame {idx} is out of range ({data.shape[0]} frames)"
            )
        return as_uint8_frame(data[idx])

    def close(self) -> None:
        if not self._raw:
            self._data = None


def _as_video_array(array: np.ndarray, name: str) -> np.ndarray:
    if array.ndim == 3:
        return array[..., None]
    if array.ndim != 4:
        raise VideoError(f"{name}: expected a (frames, H, W[, C]) array, got {array.shape}")
    return array
