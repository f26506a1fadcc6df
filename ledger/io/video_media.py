"""Compressed media files (mp4, avi, mov, mj2, mkv) read through imageio-ffmpeg.

SLEAP reads these with OpenCV; we use imageio's ffmpeg reader so that no OpenCV
build is needed. The conventions are SLEAP's:

* ``grayscale=None`` is decided from frame 0 (channels 0 and -1 equal), and a
  grayscale video yields ``(H, W, 1)`` frames (channel 0);
* ``bgr=True`` (the default, and what every real file has) gives RGB frames. SLEAP
  gets BGR from OpenCV and reverses it; imageio already gives RGB, so we reverse only
  when ``bgr=False``, which reproduces what SLEAP returns in that case;
* ``dataset`` and ``input_format`` mean nothing for media but are serialised, so
  they are kept verbatim.

Random access: the imageio reader is kept open between calls. It reads forward
cheaply (it decodes and drops up to 100 frames) and restarts ffmpeg with an accurate
two-stage ``-ss`` seek for anything else. The reader is dropped after any error so a
failed read never leaves it at an unknown position.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from ledger.errors import VideoError
from ledger.io.video_base import FrameIndexError, VideoBackend, as_uint8_frame


class MediaBackend(VideoBackend):
    """SLEAP's ``MediaVideo``."""

    EXTENSIONS = (".mp4", ".avi", ".mov", ".mj2", ".mkv")
    FIELDS = ("filename", "grayscale", "bgr", "dataset", "input_format")
    MATCH_FIELDS = ("filename", "grayscale", "bgr")
    SLEAP_NAME = "MediaVideo"

    def __init__(
        self,
        filename: str | os.PathLike[str],
        grayscale: bool | None = None,
        bgr: bool = True,
        dataset: str = "",
        input_format: str = "",
    ) -> None:
        super().__init__()
        self.filename = os.fspath(filename)
        self._grayscale = None if grayscale is None else bool(grayscale)
        self.bgr = bool(bgr)
        self.dataset = dataset
        self.input_format = input_format
        self._reader: Any = None
        self._lock = threading.RLock()
        self._frame0_shape: tuple[int, int, int] | None = None
        self._frame_count: int | None = None

    # -- SLEAP attributes -----------------------------------------------------------------

    @property
    def grayscale(self) -> bool | None:
        """Whether frames are returned single-channel; detected lazily from frame 0.

        ``None`` only while undecidable (the file is missing or unreadable).
        """
        if self._grayscale is None:
            try:
                self._detect()
            except Exception:
                return None
        return self._grayscale

    @grayscale.setter
    def grayscale(self, value: bool | None) -> None:
        self._grayscale = None if value is None else bool(value)
        self._shape = None

    # -- reading ----------------------------------------------------------------------------

    def _detect(self) -> None:
        """Read frame 0 once: its size, and grayscale when not given."""
        rgb = self._decode(0)
        self._frame0_shape = rgb.shape  # type: ignore[assignment]
        if self._grayscale is None:
            self._grayscale = bool(np.array_equal(rgb[..., 0], rgb[..., -1]))

    def _count_frames(self) -> int:
        """Count frames from the container's packets (stream copy, no decoding)."""
        if self._frame_count is None:
            import imageio_ffmpeg

            try:
                self._frame_count = int(imageio_ffmpeg.count_frames_and_secs(self.filename)[0])
            except Exception as exc:
                raise VideoError(f"{self.filename}: cannot count frames ({exc})") from exc
        return self._frame_count

    def _read_shape(self) -> tuple[int, int, int, int]:
        if self._frame0_shape is None or self._grayscale is None:
            self._detect()
        h, w, c = self._frame0_shape  # type: ignore[misc]
        return self._count_frames(), h, w, 1 if self._grayscale else c

    def _open(self) -> Any:
        if self._reader is None:
            import imageio

            try:
                self._reader = imageio.get_reader(self.filename, "ffmpeg")
            except Exception as exc:
                raise VideoError(f"{self.filename}: cannot open video ({exc})") from exc
        return self._reader

    def _decode(self, idx: int) -> np.ndarray:
        """Frame ``idx`` exactly as ffmpeg gives it: RGB ``(H, W, 3)``, owned."""
        with self._lock:
            reader = self._open()
            try:
                return np.array(reader.get_data(idx), copy=True)
            except IndexError:
                self._drop_reader()
                n = self._count_frames()
                raise FrameIndexError(
                    f"{self.filename}: frame {idx} is out of range (video has {n} frames)"
                ) from None
            except Exception as exc:
                self._drop_reader()
                raise VideoError(f"{self.filename}: cannot decode frame {idx} ({exc})") from exc

    def _read_frame(self, idx: int) -> np.ndarray:
        rgb = self._decode(idx)
        if self._grayscale is None:
            if idx == 0:  # the frame SLEAP detects from is already in hand
                self._frame0_shape = rgb.shape  # type: ignore[assignment]
                self._grayscale = bool(np.array_equal(rgb[..., 0], rgb[..., -1]))
            else:
                self._detect()
        if self._grayscale:
            return as_uint8_frame(rgb[..., :1])
        if not self.bgr:
            return as_uint8_frame(rgb[..., ::-1])
        return rgb

    # -- lifecycle ----------------------------------------------------------------------------

    def _drop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            try:
                reader.close()
            except Exception:  # a broken ffmpeg pipe must not mask the real error
                pass

    def close(self) -> None:
        with self._lock:
            self._drop_reader()

    def to_dict(self) -> dict[str, Any]:
        return {
            "filename": self.filename,
            "grayscale": self.grayscale,
            "bgr": self.bgr,
            "dataset": self.dataset,
            "input_format": self.input_format,
        }
