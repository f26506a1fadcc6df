"""Writing a `ProjectData` as a SLEAP 1.4.1-style `.slp` file (format 1.2).

The output mirrors what SLEAP 1.4.1's ``LabelsV1Adaptor`` writes, so SLEAP,
sleap-io and ledger all read it: resizable ``*_json`` datasets of fixed-length
bytes (float64 ``(0,)`` when empty), the four compound tables with SLEAP's exact
dtypes, user-instance scores as NaN, ``from_predicted`` as an instance row that is
dropped (-1) when its target has no visible point, and a compact rapidjson-style
metadata attribute. Tables are built with vectorised numpy from the columns.

Saves are atomic (`ledger.io.atomic`): a failure leaves the previous file intact.

Example::

    write_slp(data, "labels.slp")
    write_slp(data, "labels.pkg.slp", embed={0: [0, 10]}, frame_source=reader)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import h5py
import numpy as np

from ledger.core.columns import ranges_to_index
from ledger.errors import FormatError, LedgerError
from ledger.io import sleap_meta as meta_io
from ledger.io.atomic import describe_os_error, hdf5_image, save_hdf5_image
from ledger.io.jsonfmt import dumps
from ledger.io.project_data import PREDICTED, USER, ProjectData

FORMAT_ID = 1.2

FRAMES_DTYPE = np.dtype(
    [
        ("frame_id", "<u8"),
        ("video", "<u4"),
        ("frame_idx", "<u8"),
        ("instance_id_start", "<u8"),
        ("instance_id_end", "<u8"),
    ]
)
INSTANCES_DTYPE = np.dtype(
    [
        ("instance_id", "<i8"),
        ("instance_type", "u1"),
        ("frame_id", "<u8"),
        ("skeleton", "<u4"),
        ("track", "<i4"),
        ("from_predicted", "<i8"),
        ("score", "<f4"),
        ("point_id_start", "<u8"),
        ("point_id_end", "<u8"),
        ("tracking_score", "<f4"),
    ]
)
POINTS_DTYPE = np.dtype([("x", "<f8"), ("y", "<f8"), ("visible", "?"), ("complete", "?")])
PRED_POINTS_DTYPE = np.dtype(
    [("x", "<f8"), ("y", "<f8"), ("visible", "?"), ("complete", "?"), ("score", "<f8")]
)

FrameSource = Callable[[int, int], np.ndarray]


def point_rows(starts: np.ndarray, lengths: np.ndarray) -> slice | np.ndarray:
    """Rows of consecutive point blocks: a slice when they are already back to back.

    The slice is the common case (files we read keep each kind contiguous) and lets
    numpy copy columns without a fancy-index gather over millions of points.
    """
    starts = np.asarray(starts, np.int64)
    lengths = np.asarray(lengths, np.int64)
    if len(starts) == 0:
        return slice(0, 0)
    ends = starts + lengths
    if np.all(starts[1:] == ends[:-1]):
        return slice(int(starts[0]), int(ends[-1]))
    return ranges_to_index(starts, lengths)


def _exclusive_cumsum(values: np.ndarray) -> np.ndarray:
    out = np.zeros(len(values), np.int64)
    if len(values) > 1:
        np.cumsum(values[:-1], out=out[1:])
    return out


class _Tables:
    """The four compound tables, checked and built from a `ProjectData`."""

    def __init__(self, data: ProjectData, fail: Callable[[str], FormatError]) -> None:
        i64 = np.int64
        nf, ni, npt = data.n_frames, data.n_instances, data.n_points
        problem = data.length_problem()
        if problem:
            raise fail(problem)
        video = np.asarray(data.frame_video, i64)
        start = np.asarray(data.frame_inst_start, i64)
        end = np.asarray(data.frame_inst_end, i64)
        if np.any((video < 0) | (video >= len(data.videos))):
            raise fail("a frame refers to a video that is not in the list")
        if np.any(np.asarray(data.frame_idx, i64) < 0):
            raise fail("a frame has a negative frame index")
        if np.any((start < 0) | (end < start) | (end > ni)):
            raise fail("a frame's instance range is outside the instance table")
        counts = end - start
        if nf and start[0] == 0 and end[-1] == ni and np.all(start[1:] == end[:-1]):
            order = np.arange(ni, dtype=i64)
        else:
            order = ranges_to_index(start, counts)
            if len(order) and np.bincount(order, minlength=ni).max() > 1:
                raise fail("an instance belongs to more than one frame")
        n_out = len(order)

        kind = np.asarray(data.inst_kind)[order].astype(np.uint8)
        skel = np.asarray(data.inst_skeleton, i64)[order]
        track = np.asarray(data.inst_track, i64)[order]
        pt_start = np.asarray(data.inst_pt_start, i64)[order]
        if np.any(kind > PREDICTED):
            raise fail("inst_kind must be 0 (user) or 1 (predicted)")
        if np.any((skel < 0) | (skel >= len(data.skeletons))):
            raise fail("an instance refers to a skeleton that is not in the list")
        if np.any((track < -1) | (track >= len(data.tracks))):
            raise fail("an instance refers to a track that is not in the list")
        n_nodes = np.array([len(s.node_names) for s in data.skeletons], i64)[skel]
        if np.any((pt_start < 0) | (pt_start + n_nodes > npt)):
            raise fail("an instance's points lie outside the point columns")

        user = kind == USER
        pred = ~user
        self._x, self._y = np.asarray(data.point_x, np.float64), np.asarray(data.point_y,
                                                                           np.float64)
        self._vis = np.asarray(data.point_visible, bool)
        self._com = np.asarray(data.point_complete, bool)
        self._score = np.asarray(data.point_score, np.float64)
        self.user_rows = point_rows(pt_start[user], n_nodes[user])
        self.pred_rows = point_rows(pt_start[pred], n_nodes[pred])
        self.n_user_points = int(n_nodes[user].sum())
        self.n_pred_points = int(n_nodes[pred].sum())

        ps = np.zeros(n_out, i64)
        ps[user] = _exclusive_cumsum(n_nodes[user])
        ps[pred] = _exclusive_cumsum(n_nodes[pred])

        # from_predicted: a row position; -1 unless it targets a written predicted
        # instance with at least one visible, non-NaN point (SLEAP drops the rest).
        new_pos = np.full(ni, -1, i64)
        new_pos[order] = np.arange(n_out, dtype=i64)
        fp_old = np.asarray(data.inst_from_predicted, i64)[order]
        if np.any((fp_old < -1) | (fp_old >= ni)):
            raise fail("inst_from_predicted is outside the instance table")
        fp = np.where(fp_old >= 0, new_pos[np.maximum(fp_old, 0)], -1)
        ok = user & (fp >= 0)
        targets = fp[ok]
        ok[ok] = pred[targets] & self._shown(pt_start[targets], n_nodes[targets])
        fp = np.where(ok, fp, -1)

        score = np.asarray(data.inst_score, np.float64)[order]
        tscore = np.asarray(data.inst_tracking_score, np.float64)[order]
        inst = np.empty(n_out, INSTANCES_DTYPE)
        inst["instance_id"] = np.arange(n_out)
        inst["instance_type"] = kind
        inst["frame_id"] = np.repeat(np.arange(nf, dtype=i64), counts)
        inst["skeleton"] = skel
        inst["track"] = track
        inst["from_predicted"] = fp
        inst["score"] = np.where(user, np.nan, score)
        inst["point_id_start"] = ps
        inst["point_id_end"] = ps + n_nodes
        inst["tracking_score"] = np.where(user, np.nan, tscore)
        self.instances = inst

        frames = np.empty(nf, FRAMES_DTYPE)
        frames["frame_id"] = np.arange(nf)
        frames["video"] = video
        frames["frame_idx"] = np.asarray(data.frame_idx, i64)
        frames["instance_id_start"] = _exclusive_cumsum(counts)
        frames["instance_id_end"] = np.cumsum(counts)
        self.frames = frames

    def _shown(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Per instance: has at least one visible, non-NaN point (SLEAP's truthiness)."""
        if len(starts) == 0:
            return np.zeros(0, bool)
        idx = ranges_to_index(starts, lengths)
        shown = self._vis[idx] & ~np.isnan(self._x[idx]) & ~np.isnan(self._y[idx])
        csum = np.concatenate([[0], np.cumsum(shown, dtype=np.int64)])
        ends = np.cumsum(lengths)
        return (csum[ends] - csum[ends - lengths]) > 0

    def write_points(self, f: h5py.File, chunk: int = 1 << 20) -> None:
        """Write `points` and `pred_points` a chunk at a time, so the compound copy
        never holds more than ``chunk`` rows."""
        for name, dtype, rows, n in (("points", POINTS_DTYPE, self.user_rows,
                                      self.n_user_points),
                                     ("pred_points", PRED_POINTS_DTYPE, self.pred_rows,
                                      self.n_pred_points)):
            ds = f.create_dataset(name, shape=(n,), dtype=dtype, maxshape=(None,),
                                  chunks=(min(max(n, 1), 1 << 16),))
            for a in range(0, n, chunk):
                b = min(a + chunk, n)
                sel = (slice(rows.start + a, rows.start + b) if isinstance(rows, slice)
                       else rows[a:b])
                block = np.empty(b - a, dtype)
                block["x"], block["y"] = self._x[sel], self._y[sel]
                block["visible"], block["complete"] = self._vis[sel], self._com[sel]
                if name == "pred_points":
                    block["score"] = self._score[sel]
                ds[a:b] = block


def _json_dataset(f: h5py.File, name: str, rows: Sequence[Any]) -> None:
    """Fixed-length null-padded bytes, or float64 (0,) when empty, as SLEAP does."""
    if not rows:
        f.create_dataset(name, data=np.zeros(0, np.float64), maxshape=(None,))
        return
    encoded = [dumps(r).encode("utf-8") for r in rows]
    width = max(len(e) for e in encoded)
    f.create_dataset(name, data=np.array(encoded, dtype=f"S{width}"), maxshape=(None,))


def _check_lists(data: ProjectData, fail: Callable[[str], FormatError]) -> None:
    nv = len(data.videos)
    for video, frame, _group in data.suggestions:
        if not 0 <= int(video) < nv or int(frame) < 0:
            raise fail(f"suggestion ({video}, {frame}) refers to a missing video or frame")
    for video in data.negative_anchors:
        if not 0 <= int(video) < nv:
            raise fail(f"negative anchors refer to missing video {video}")


def write_slp(
    data: ProjectData,
    path: str | os.PathLike[str],
    *,
    frame_source: FrameSource | None = None,
    embed: Mapping[int, Sequence[int]] | None = None,
) -> None:
    """Write ``data`` as a format-1.2 `.slp` file, atomically.

    ``embed`` maps a video index to the frame numbers whose images are stored in the
    file (a "package"); ``frame_source(video_index, frame_idx)`` supplies each image
    as an ``(H, W, C)`` uint8 RGB array. With ``embed`` every video is rewritten to
    point at the file itself, as SLEAP's ``save(with_images=True)`` does.
    """
    target = os.fspath(path)

    def fail(problem: str) -> FormatError:
        return FormatError(target, f"cannot write: {problem}")

    if embed is not None and frame_source is None:
        raise fail("embedding images needs a frame_source")
    if embed is not None and any(not 0 <= int(v) < len(data.videos) for v in embed):
        raise fail("embed refers to a video that is not in the list")
    try:
        tables = _Tables(data, fail)
        _check_lists(data, fail)
        if embed is not None:
            videos = [meta_io.embedded_video_row(i) for i in range(len(data.videos))]
        else:
            videos = [meta_io.video_row(v) for v in data.videos]
        tracks = [meta_io.track_row(t) for t in data.tracks]
        suggestions = [meta_io.suggestion_row(s) for s in data.suggestions]
        meta, _ids = meta_io.metadata_dict(data, videos=[], tracks=[], suggestions=[])
        meta_text = dumps(meta).encode("utf-8")
    except LedgerError:
        raise
    except (ValueError, TypeError, IndexError, KeyError, OverflowError) as exc:
        raise fail(f"invalid project data ({exc})") from exc

    # The image is built in memory and written with plain file I/O (see
    # `ledger.io.atomic.hdf5_image`): a full disk is then a clean FormatError.
    f = hdf5_image()
    try:
        if embed is not None:
            from ledger.io.slp_embed import write_embedded

            assert frame_source is not None
            write_embedded(f, data, embed, frame_source)
        group = f.create_group("metadata")
        group.attrs["format_id"] = np.float64(FORMAT_ID)
        _json_dataset(f, "videos_json", videos)
        _json_dataset(f, "tracks_json", tracks)
        _json_dataset(f, "suggestions_json", suggestions)
        group.attrs["json"] = np.bytes_(meta_text)
        for name, table in (
            ("frames", tables.frames),
            ("instances", tables.instances),
        ):
            f.create_dataset(name, data=table, maxshape=(None,))
        tables.write_points(f)
    except BaseException as exc:
        f.close()
        if isinstance(exc, LedgerError) or not isinstance(exc, Exception):
            raise
        if isinstance(exc, OSError):
            raise fail(describe_os_error(exc)) from exc
        raise fail(f"{type(exc).__name__}: {exc}") from exc
    save_hdf5_image(f, target)
