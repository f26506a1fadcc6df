"""Embedded images in a `.slp` package, laid out as SLEAP 1.4.1 writes them.

A package stores, per video ``i``, a group ``video<i>`` with the encoded frames
(``video``: int8 rows of zero-padded PNG bytes, gzip), their original frame numbers
(``frame_numbers``) and the original video (``source_video`` attribute ``json``), so
the file is usable without the source videos.

Colour convention: SLEAP hands RGB frames to ``cv2.imencode``, which treats them as
BGR, so SLEAP's PNG bytes hold the channels reversed and SLEAP's ``cv2.imdecode``
gives back RGB. We reverse the channels before encoding to produce the same bytes,
and also write ``channel_order="BGR"``, which sleap-io honours.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import h5py
import numpy as np

from ledger.errors import FormatError
from ledger.io import sleap_meta as meta_io
from ledger.io.jsonfmt import dumps
from ledger.io.project_data import ProjectData


def encode_png(frame: np.ndarray) -> bytes:
    """PNG bytes of an ``(H, W, C)`` uint8 RGB frame, channels stored as SLEAP does."""
    import imageio.v3 as iio

    arr = np.asarray(frame)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4) or arr.dtype != np.uint8:
        raise ValueError(
            f"frame must be (H, W, C) uint8 with C in 1/3/4, got {arr.shape} {arr.dtype}"
        )
    if arr.shape[2] == 1:
        img = arr[:, :, 0]
    elif arr.shape[2] == 3:
        img = arr[:, :, ::-1]
    else:
        img = arr[:, :, [2, 1, 0, 3]]
    buf = io.BytesIO()
    iio.imwrite(buf, np.ascontiguousarray(img), extension=".png")
    return buf.getvalue()


def _shape_hint(backend: Mapping[str, Any], extra: Mapping[str, Any]) -> tuple[int, int, int]:
    """(height, width, channels) for a video with no embedded frame, if known."""
    shape = backend.get("shape") or extra.get("shape")
    if isinstance(shape, list) and len(shape) == 4 and all(isinstance(v, int) for v in shape[1:]):
        return int(shape[1]), int(shape[2]), int(shape[3])
    h, w, c = backend.get("height_"), backend.get("width_"), backend.get("channels_")
    if all(isinstance(v, int) for v in (h, w, c)):
        return int(h), int(w), int(c)  # type: ignore[arg-type]
    return 0, 0, 0


def write_embedded(
    f: h5py.File,
    data: ProjectData,
    embed: Mapping[int, Sequence[int]],
    frame_source: Callable[[int, int], np.ndarray],
) -> None:
    """Write ``video<i>`` groups for every video (empty when nothing is selected)."""
    for index, video in enumerate(data.videos):
        numbers = sorted({int(n) for n in embed.get(index, ())})
        encoded: list[bytes] = []
        hwc = _shape_hint(video.backend, video.extra)
        for number in numbers:
            frame = np.asarray(frame_source(index, number))
            if frame.ndim == 2:
                frame = frame[:, :, None]
            try:
                encoded.append(encode_png(frame))
            except ValueError as exc:
                raise FormatError(f.filename, f"video {index} frame {number}: {exc}") from exc
            hwc = (int(frame.shape[0]), int(frame.shape[1]), int(frame.shape[2]))
        width = max((len(b) for b in encoded), default=0)
        rows = np.zeros((len(encoded), width), np.uint8)
        for row, blob in enumerate(encoded):
            rows[row, : len(blob)] = np.frombuffer(blob, np.uint8)
        group = f.create_group(f"video{index}")
        ds = group.create_dataset("video", data=rows.view(np.int8), compression="gzip")
        ds.attrs["format"] = "png"
        ds.attrs["channels"] = np.int64(hwc[2])
        ds.attrs["height"] = np.int64(hwc[0])
        ds.attrs["width"] = np.int64(hwc[1])
        ds.attrs["channel_order"] = "BGR"
        group.create_dataset("frame_numbers", data=np.array(numbers, np.int64))
        source = group.create_group("source_video")
        source.attrs["json"] = dumps(meta_io.video_row(video))
