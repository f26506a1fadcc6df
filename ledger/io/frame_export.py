"""Writing video frames out: embedded images, frame-data files, training exports.

These take plain inputs (backends, frame numbers, point arrays) so the `Labels`
facade decides *which* frames to write and this module only decides *how*.

Embedded images (reference §4.6): group ``<name>`` holds ``video`` (one encoded
image per row, int8, zero padded, gzip; attrs ``format``, ``channels``, ``height``,
``width``, plus ``channel_order="BGR"`` for sleap-io), ``frame_numbers`` (int64
original indices) and ``source_video`` (attr ``json``). SLEAP encodes its RGB frames
with ``cv2.imencode``, which takes them for BGR, so the bytes hold the channels
swapped; we reverse the channels before encoding to write the same bytes, so SLEAP,
sleap-io and `HDF5Backend` all decode the original frame. With ``format=""`` frames
are stored raw, ``(n, H, W, C)`` uint8, gzip 9.

``export_training_data`` writes the datasets of SLEAP's old exporter (§6) **without
its three defects**, deliberately, because a bug-for-bug file is useless to train
from: ``imgs`` is stacked ``(n, H, W, C)`` (SLEAP concatenated to ``(n*H, W, C)``),
``peaks/track`` holds real track indices (-1 for none; SLEAP wrote a copy of the
channel array), and ``peaks/video_ind`` / ``peaks/frame_ind`` are written (SLEAP
computed and dropped them). Like every other ``peaks/*`` dataset they have one row
per peak, so ``peaks/sample`` is the join key to ``imgs``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

import h5py
import numpy as np

from ledger.errors import ValidationError, VideoError
from ledger.io.video_base import VideoBackend
from ledger.io.video_hdf5 import HDF5Backend
from ledger.io.video_imgstore import imgstore_metadata_path, require_imgstore

ProgressCallback = Callable[[int, int], Any]


class NoTrainingDataError(ValidationError, IndexError):
    """There is no user-labelled frame to export (SLEAP raised ``IndexError``)."""


class TrainingSample(NamedTuple):
    """One frame to train from: its video, index, and user instances' points.

    ``points`` is ``(n_instances, n_nodes, 2)`` with NaN for missing or invisible
    points; ``tracks`` gives each instance's track index (``None`` or -1 for none).
    """

    video: VideoBackend
    frame_idx: int
    points: Any
    tracks: Sequence[int | None] | None = None


# -- encoding ---------------------------------------------------------------------------


def encode_image(frame: np.ndarray, format: str = "png") -> bytes:
    """Encode an RGB ``(H, W, C)`` uint8 frame the way SLEAP's bytes are laid out.

    Three-channel frames are written with the channels reversed (see the module
    docstring); single-channel frames are written as plain grayscale images.
    """
    import imageio.v3 as iio

    arr = _frame(frame)
    image = arr[..., 0] if arr.shape[-1] == 1 else arr[..., ::-1]
    try:
        return bytes(iio.imwrite("<bytes>", np.ascontiguousarray(image), extension=f".{format}"))
    except Exception as exc:
        raise VideoError(f"cannot encode a {arr.shape} frame as {format!r} ({exc})") from exc


def _frame(frame: Any) -> np.ndarray:
    arr = np.asarray(frame)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3 or arr.dtype != np.uint8 or arr.shape[-1] not in (1, 3):
        raise ValidationError(
            f"a frame must be (H, W, 1|3) uint8, got shape {arr.shape} dtype {arr.dtype}"
        )
    return arr


@contextlib.contextmanager
def _h5(target: str | os.PathLike[str] | h5py.File, mode: str = "a") -> Iterator[h5py.File]:
    """Use an open file as is, or open (and close) a path."""
    if isinstance(target, h5py.File):
        yield target
        return
    with h5py.File(os.fspath(target), mode) as f:
        yield f


def _hdf5_dict(filename: str, group: str) -> dict[str, Any]:
    return {
        "filename": filename,
        "dataset": f"{group}/video",
        "input_format": "channels_last",
        "convert_range": False,
    }


# -- embedded images --------------------------------------------------------------------


def write_embedded_video(
    h5file_or_path: str | os.PathLike[str] | h5py.File,
    group_name: str,
    frames: Iterable[tuple[int, np.ndarray]],
    source_video_dict: Mapping[str, Any] | None,
    format: str = "png",
    *,
    frame_shape: tuple[int, int, int] | None = None,
) -> dict[str, Any]:
    """Write one video's frames into ``group_name`` (replaced if present).

    ``frames`` yields ``(original frame number, (H, W, C) uint8 frame)``; numbers
    must be distinct and are stored in the order given (callers pass them sorted,
    as SLEAP does). ``frame_shape`` ``(H, W, C)`` fills the attributes when there
    are no frames. Returns the serialised `HDF5Backend` dict for the group.
    """
    fmt = format.lstrip(".").lower()
    with _h5(h5file_or_path) as f:
        group_name = group_name.strip("/")
        if group_name in f:
            del f[group_name]
        grp = f.create_group(group_name)
        if fmt:
            numbers = _write_encoded(grp, frames, fmt, frame_shape)
        else:
            numbers = _write_raw(grp, frames)
        grp.create_dataset("frame_numbers", data=np.asarray(numbers, dtype=np.int64))
        if source_video_dict is not None:
            _write_source(grp, source_video_dict)
        name = f.filename if isinstance(h5file_or_path, h5py.File) else os.fspath(h5file_or_path)
        return _hdf5_dict(name, group_name)


def _collect(frames: Iterable[tuple[int, np.ndarray]]) -> Iterator[tuple[int, np.ndarray]]:
    """Validate frames as they stream by: distinct numbers, one shape."""
    seen: set[int] = set()
    shape: tuple[int, ...] | None = None
    for number, frame in frames:
        n = int(number)
        if n in seen:
            raise ValidationError(f"frame number {n} is given twice")
        seen.add(n)
        arr = _frame(frame)
        if shape is not None and arr.shape != shape:
            raise ValidationError(f"frame {n} has shape {arr.shape}, expected {shape}")
        shape = arr.shape
        yield n, arr


def _write_encoded(
    grp: h5py.Group,
    frames: Iterable[tuple[int, np.ndarray]],
    fmt: str,
    frame_shape: tuple[int, int, int] | None,
) -> list[int]:
    numbers: list[int] = []
    blobs: list[bytes] = []
    shape = frame_shape
    for n, arr in _collect(frames):
        numbers.append(n)
        blobs.append(encode_image(arr, fmt))
        shape = arr.shape  # type: ignore[assignment]
    width = max((len(b) for b in blobs), default=0)
    ds = grp.create_dataset(
        "video",
        shape=(len(blobs), width),
        dtype=np.int8,
        compression="gzip",
        chunks=(1, max(width, 1)) if blobs else None,
    )
    for row, blob in enumerate(blobs):  # one row at a time: no (n, width) copy in memory
        padded = np.zeros(width, dtype=np.int8)
        padded[: len(blob)] = np.frombuffer(blob, dtype=np.int8)
        ds[row] = padded
    h, w, c = shape if shape is not None else (0, 0, 0)
    ds.attrs["format"] = fmt
    ds.attrs["channels"] = np.int64(c)
    ds.attrs["height"] = np.int64(h)
    ds.attrs["width"] = np.int64(w)
    ds.attrs["channel_order"] = "BGR"
    return numbers


def _write_raw(grp: h5py.Group, frames: Iterable[tuple[int, np.ndarray]]) -> list[int]:
    numbers: list[int] = []
    ds = None
    for row, (n, arr) in enumerate(_collect(frames)):
        if ds is None:
            ds = grp.create_dataset(
                "video",
                shape=(0, *arr.shape),
                maxshape=(None, *arr.shape),
                chunks=(1, *arr.shape),
                dtype=np.uint8,
                compression="gzip",
                compression_opts=9,
            )
        ds.resize(row + 1, axis=0)
        ds[row] = arr
        numbers.append(n)
    if ds is None:  # SLEAP's placeholder for an empty raw selection
        grp.create_dataset(
            "video", data=np.zeros((1, 1, 1, 1), np.uint8), compression="gzip", compression_opts=9
        )
    return numbers


def _write_source(grp: h5py.Group, source_video_dict: Mapping[str, Any]) -> None:
    text = json.dumps(source_video_dict, separators=(",", ":"))
    node = grp.create_group("source_video")
    try:  # SLEAP reads only the attribute (large ones work through dense storage)
        node.attrs["json"] = text
    except (OSError, ValueError, RuntimeError):
        node.create_dataset("json", data=text)  # sleap-io's layout for large JSON


def source_dict(video: VideoBackend) -> dict[str, Any]:
    """The serialised original of ``video``: an embedded video points past itself."""
    if isinstance(video, HDF5Backend):
        original = video.source_video_dict
        if original is not None:
            return original
    return {"backend": video.to_dict()}


def save_frame_data_hdf5(
    videos: Sequence[VideoBackend],
    frame_numbers_per_video: Sequence[Iterable[int]],
    output_path: str | os.PathLike[str] | h5py.File,
    format: str = "png",
    progress_callback: ProgressCallback | None = None,
) -> list[dict[str, Any]]:
    """Embed each video's selected frames as group ``video<i>`` of ``output_path``.

    The file is opened in append mode (other groups are kept). Frame numbers are
    de-duplicated and sorted. ``progress_callback(n_done, n_total)`` runs after each
    video; returning ``False`` stops and returns ``[]``, leaving what was written.
    Returns the serialised `HDF5Backend` dicts of the new videos.
    """
    if len(videos) != len(frame_numbers_per_video):
        raise ValidationError(
            f"{len(videos)} videos but {len(frame_numbers_per_video)} frame selections"
        )
    results: list[dict[str, Any]] = []
    with _h5(output_path) as f:
        filename = f.filename if isinstance(output_path, h5py.File) else os.fspath(output_path)
        for i, (video, numbers) in enumerate(zip(videos, frame_numbers_per_video, strict=True)):
            wanted = sorted({int(n) for n in numbers})
            frames = ((n, video.get_frame(n)) for n in wanted)
            write_embedded_video(
                f, f"video{i}", frames, source_dict(video), format, frame_shape=_hwc(video)
            )
            results.append(_hdf5_dict(filename, f"video{i}"))
            if progress_callback is not None and progress_callback(i + 1, len(videos)) is False:
                return []
    return results


def _hwc(video: VideoBackend) -> tuple[int, int, int] | None:
    _, h, w, c = video.shape
    return None if h is None or w is None or c is None else (h, w, c)


def save_frame_data_imgstore(
    videos: Sequence[VideoBackend],
    frame_numbers_per_video: Sequence[Iterable[int]],
    output_dir: str | os.PathLike[str] = "./",
    format: str = "png",
    progress_callback: ProgressCallback | None = None,
) -> list[dict[str, Any]]:
    """Write each video's selected frames to ``<output_dir>/frame_data_vid<i>``.

    Needs the optional ``imgstore`` package (`VideoError` otherwise). Existing
    stores are replaced; frames keep their original numbers; an empty selection
    stores one black frame numbered 0, as SLEAP does. ``progress_callback(i, n)``
    runs before each result is added; ``False`` stops and returns ``[]``. Returns
    ``{"filename": <abs path>/metadata.yaml, "index_by_original": True}`` dicts.
    """
    imgstore = require_imgstore()
    if len(videos) != len(frame_numbers_per_video):
        raise ValidationError(
            f"{len(videos)} videos but {len(frame_numbers_per_video)} frame selections"
        )
    results: list[dict[str, Any]] = []
    for i, (video, numbers) in enumerate(zip(videos, frame_numbers_per_video, strict=True)):
        path = os.path.join(os.fspath(output_dir), f"frame_data_vid{i}")
        if os.path.exists(path):
            shutil.rmtree(path)
        wanted = sorted({int(n) for n in numbers})
        shape = _hwc(video)
        if shape is None:
            shape = video.get_frame(wanted[0]).shape if wanted else None  # type: ignore[assignment]
        if shape is None:
            raise VideoError(f"{video.filename}: cannot read the video's frame size")
        store = imgstore.new_for_format(
            format, mode="w", basedir=path, imgshape=shape, chunksize=1000
        )
        try:
            store.add_extra_data(source_sleap_video_obj=source_dict(video))
            if not wanted:
                store.add_image(np.zeros(shape, dtype=np.uint8), 0, time.time())
            for n in wanted:
                store.add_image(video.get_frame(n), n, time.time())
        finally:
            store.close()
        if progress_callback is not None and progress_callback(i, len(videos)) is False:
            return []
        results.append({"filename": imgstore_metadata_path(path), "index_by_original": True})
    return results


# -- training data ------------------------------------------------------------------------


def _samples(samples: Iterable[TrainingSample | tuple[Any, ...]]) -> list[TrainingSample]:
    out = [s if isinstance(s, TrainingSample) else TrainingSample(*s) for s in samples]
    if not out:
        raise NoTrainingDataError("no user-labelled frames to export")
    return out


def _points(sample: TrainingSample, n_nodes: int | None) -> np.ndarray:
    pts = np.asarray(sample.points, dtype=np.float64)
    if pts.ndim == 2 and pts.shape[0] == 0:
        pts = pts.reshape(0, n_nodes or 0, 2)
    if pts.ndim != 3 or pts.shape[-1] != 2 or (n_nodes is not None and pts.shape[1] != n_nodes):
        raise ValidationError(
            f"frame {sample.frame_idx}: points must be (n_instances, {n_nodes}, 2), got {pts.shape}"
        )
    return pts


def generate_training_data(
    samples: Iterable[TrainingSample | tuple[Any, ...]],
) -> tuple[np.ndarray | list[np.ndarray], list[np.ndarray]]:
    """SLEAP's ``generate_training_data``: ``(imgs, points)`` for user-labelled frames.

    ``imgs`` is stacked ``(N, H, W, C)`` when all frames have one shape, else a
    list; ``points`` holds one ``(n_instances, n_nodes, 2)`` array per frame.
    Raises `NoTrainingDataError` (an ``IndexError``) when there is nothing.
    """
    items = _samples(samples)
    imgs = [s.video.get_frame(s.frame_idx) for s in items]
    points = [_points(s, None) for s in items]
    if len({img.shape for img in imgs}) == 1:
        return np.stack(imgs, axis=0), points
    return imgs, points


def export_training_data(
    samples: Iterable[TrainingSample | tuple[Any, ...]],
    node_names: Sequence[str],
    edge_inds: Sequence[tuple[int, int]],
    save_path: str | os.PathLike[str],
    *,
    videos: Sequence[VideoBackend] | None = None,
) -> None:
    """Write SLEAP's training-data HDF5 (§6), without its defects (module docstring).

    ``videos`` fixes the order of the ``videos/*`` tables and ``peaks/video_ind``;
    by default it is the samples' videos in order of first appearance. The file is
    written to a temporary file beside ``save_path`` and moved into place.
    """
    items = _samples(samples)
    n_nodes = len(node_names)
    table = list(videos) if videos is not None else []
    for s in items:
        if not any(s.video is v for v in table):
            if videos is not None:
                raise ValidationError(f"sample video {s.video!r} is not in videos")
            table.append(s.video)
    peaks = _peak_tables(items, n_nodes, table)
    target = os.fspath(save_path)
    fd, tmp = tempfile.mkstemp(suffix=".h5.tmp", dir=os.path.dirname(os.path.abspath(target)))
    os.close(fd)
    try:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("skeleton/node_names", data=_bytes(node_names))
            f.create_dataset("skeleton/n_nodes", data=n_nodes)
            edges = np.asarray(list(edge_inds), dtype=np.int64).reshape(-1, 2)
            f.create_dataset("skeleton/edges", data=edges)
            f.create_dataset("videos/filepath", data=_bytes([v.filename for v in table]))
            f.create_dataset(
                "videos/dataset", data=_bytes([getattr(v, "dataset", "") or "" for v in table])
            )
            shapes = [[-1 if d is None else d for d in v.shape] for v in table]
            f.create_dataset("videos/shape", data=np.asarray(shapes, np.int64).reshape(-1, 4))
            f.create_dataset(
                "videos/image_data_format",
                data=_bytes([getattr(v, "input_format", "") or "" for v in table]),
            )
            _write_imgs(f, items)
            for name, values in peaks.items():
                f.create_dataset(f"peaks/{name}", data=values)
            f.flush()
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def _peak_tables(
    items: list[TrainingSample], n_nodes: int, table: list[VideoBackend]
) -> dict[str, np.ndarray]:
    xy, sample, instance, channel, track, video_ind, frame_ind = ([] for _ in range(7))
    for k, s in enumerate(items):
        pts = _points(s, n_nodes)
        n_inst = pts.shape[0]
        tracks = list(s.tracks) if s.tracks is not None else [None] * n_inst
        if len(tracks) != n_inst:
            raise ValidationError(
                f"frame {s.frame_idx}: {len(tracks)} tracks for {n_inst} instances"
            )
        v = next(i for i, v in enumerate(table) if v is s.video)
        for j in range(n_inst):
            xy.append(pts[j])
            sample.append(np.full(n_nodes, k))
            instance.append(np.full(n_nodes, j))
            channel.append(np.arange(n_nodes))
            track.append(np.full(n_nodes, -1 if tracks[j] is None else int(tracks[j])))
            video_ind.append(np.full(n_nodes, v))
            frame_ind.append(np.full(n_nodes, int(s.frame_idx)))

    def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    return {
        "xy": np.concatenate(xy).astype(np.float32) if xy else np.zeros((0, 2), np.float32),
        "sample": cat(sample, np.int32),
        "instance": cat(instance, np.int32),
        "channel": cat(channel, np.int32),
        "track": cat(track, np.int32),
        "video_ind": cat(video_ind, np.int32),
        "frame_ind": cat(frame_ind, np.int64),
    }


def _write_imgs(f: h5py.File, items: list[TrainingSample]) -> None:
    """Stream frames into ``imgs`` (n, H, W, C), gzip 1, one frame per chunk."""
    ds = None
    for k, s in enumerate(items):
        img = s.video.get_frame(s.frame_idx)
        if ds is None:
            ds = f.create_dataset(
                "imgs",
                shape=(len(items), *img.shape),
                dtype=np.uint8,
                chunks=(1, *img.shape),
                compression="gzip",
                compression_opts=1,
            )
        elif img.shape != ds.shape[1:]:
            raise ValidationError(
                f"{s.video.filename} frame {s.frame_idx} is {img.shape}; imgs are {ds.shape[1:]}"
            )
        ds[k] = img


def _bytes(values: Iterable[str]) -> np.ndarray:
    encoded = [str(v).encode() for v in values]
    return np.array(encoded, dtype=f"S{max((len(b) for b in encoded), default=1) or 1}")
