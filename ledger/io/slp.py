"""Reading SLEAP `.slp` (HDF5) labels files into a `ProjectData`.

Every format in the wild is accepted: no ``format_id`` and integer ``1`` (gridline
coordinates, so user points are shifted by -0.5 as SLEAP does), ``1.1`` (no
``tracking_score`` column), ``1.2`` (SLEAP 1.4.1) and sleap-io's ``1.3``-``2.x``,
whose extra datasets are reported in ``data.warnings`` rather than silently lost.

Speed matters: a 300,000-frame prediction file is four big tables. Each table is
read with one ``ds[()]`` call and turned into columns with vectorised numpy; the
point columns are used as zero-copy views when only one kind of point exists.
When both kinds exist (a proofread project), `ledger.io.slp_points` places the
two point tables into one instance-ordered pool at about the cost of reading them.

Robustness matters as much: a damaged file must raise `FormatError` naming the
file, never an ``h5py``/``KeyError``/``IndexError`` from deep inside, and never a
half-built result. All structural invariants the rest of `ledger` relies on are
checked here with cheap vectorised tests.

Example::

    data = read_slp("labels.v001.slp")
    write_slp(data, "copy.slp")
"""

from __future__ import annotations

import math
import os
import re
from typing import Any

import h5py
import numpy as np

from ledger.core.values import FRAME_IDX_LIMIT
from ledger.errors import FormatError, MissingFileError
from ledger.io import limits
from ledger.io import sleap_meta as meta_io
from ledger.io.failures import format_errors
from ledger.io.jsonfmt import loads
from ledger.io.project_data import PREDICTED, USER, ProjectData, VideoData
from ledger.io.slp_points import as_bool, interleave, kind_order
from ledger.io.slp_write import POINTS_DTYPE, write_slp
from ledger.io.validate import check_values

__all__ = ["read_slp", "write_slp"]

CORE_TABLES = ("frames", "instances", "points", "pred_points")
_FIELDS: dict[str, tuple[str, ...]] = {
    "frames": ("frame_id", "video", "frame_idx", "instance_id_start", "instance_id_end"),
    "instances": (
        "instance_id",
        "instance_type",
        "frame_id",
        "skeleton",
        "track",
        "from_predicted",
        "score",
        "point_id_start",
        "point_id_end",
        "tracking_score",
    ),
    "points": ("x", "y", "visible", "complete"),
    "pred_points": ("x", "y", "visible", "complete", "score"),
}
_OPTIONAL = {"tracking_score"}
_KNOWN = {"metadata", "videos_json", "tracks_json", "suggestions_json", *CORE_TABLES}
_META_KEYS = {
    "version",
    "skeletons",
    "nodes",
    "videos",
    "tracks",
    "suggestions",
    "negative_anchors",
    "provenance",
}
_EMBED_GROUP = re.compile(r"^/?(video\d+)(/video)?$")


def read_slp(path: str | os.PathLike[str]) -> ProjectData:
    """Read a `.slp` file. Raises `FormatError` (and nothing else) for bad files."""
    source = os.fspath(path)
    limits.check_regular_file(source)  # a FIFO or /dev/zero must not block or fill memory
    with format_errors(source, "damaged or unreadable file"):
        try:
            handle = h5py.File(source, "r")
        except (OSError, ValueError) as exc:
            if not os.path.exists(source):
                raise MissingFileError(source) from exc
            raise FormatError(source, f"not an HDF5 file or cannot be opened ({exc})") from exc
        with handle as f:
            data = _Reader(f, source).read()
        check_values(data, source)
        return data


def _bad(condition: Any) -> bool:
    return bool(np.any(condition))


def _outside(col: np.ndarray, lo: int, hi: int | None) -> bool:
    """Whether any value lies outside ``lo <= v < hi`` (reductions, no temporaries)."""
    if len(col) == 0:
        return False
    low = lo > 0 or col.dtype.kind != "u"  # unsigned values are never below 0
    return bool((low and col.min() < lo) or (hi is not None and col.max() >= hi))


def _fractional(col: np.ndarray) -> bool:
    """Whether a float column holds a value that is not a whole number (0.4 must
    not silently become frame 0, nor instance type 0.5 a user instance)."""
    if col.dtype.kind != "f" or len(col) == 0:
        return False
    return bool(np.any(np.asarray(col) != np.floor(col)))


def _ints(col: np.ndarray) -> np.ndarray:
    """An integer column as stored (no copy); other numbers become int64."""
    return col if col.dtype.kind in "iu" else col.astype(np.int64)


def _int64(col: np.ndarray) -> np.ndarray:
    """An integer column as int64 without a copy where possible: 8-byte unsigned is
    reinterpreted (a value past 2**63 turns negative and fails the range checks)."""
    if col.dtype == np.uint64:
        return col.view(np.int64)
    return col.astype(np.int64, copy=False)


class _Reader:
    """One read of one open file; ``fail`` builds errors that name the file."""

    def __init__(self, f: h5py.File, source: str) -> None:
        self.f = f
        self.source = source
        self.warnings: list[str] = []
        self._declared = self._stored = 0  # bytes over every dataset read (`_check_size`)

    def fail(self, problem: str) -> FormatError:
        return FormatError(self.source, problem)

    # ------------------------------------------------------------------ metadata

    def _format_id(self, group: h5py.Group) -> float | None:
        if "format_id" not in group.attrs:
            return None
        raw = np.asarray(group.attrs["format_id"])
        if raw.size != 1 or raw.dtype.kind not in "iuf":
            raise self.fail(f"metadata format_id is not a number ({raw!r:.60})")
        value = float(raw.reshape(-1)[0])
        if not math.isfinite(value):
            raise self.fail(f"metadata format_id is {value}")
        if value >= 3.0:
            raise self.fail(f"format_id {value:g} is newer than supported (< 3.0)")
        if value >= 2.0:
            self.warnings.append(
                f"format_id {value:g} was written by sleap-io; only the SLEAP 1.x tables "
                "(frames, instances, points) were read and any newer data was ignored"
            )
        return value

    def _linked(self, name: str) -> Any:
        """``f.get(name)``, refusing an external link (it would open another file)."""
        if isinstance(self.f.get(name, getlink=True), h5py.ExternalLink):
            raise self.fail(f"'{name}' is an external link to another file (refused)")
        return self.f.get(name)

    def _dataset(self, name: str) -> np.ndarray:
        obj = self._linked(name)
        if obj is None:
            raise self.fail(f"missing dataset '{name}'")
        if not isinstance(obj, h5py.Dataset):
            raise self.fail(f"'{name}' is not a dataset")
        self._check_size(obj, name)
        return obj[()]

    def _check_size(self, obj: h5py.Dataset, name: str) -> None:
        """Refuse what would make the reader open other files or allocate far more
        than the file stores (limits in `ledger.io.limits`)."""
        if obj.external or obj.is_virtual:
            raise self.fail(f"dataset '{name}' keeps its data in other files (refused)")
        nbytes = int(np.prod(obj.shape, dtype=np.float64) * obj.dtype.itemsize) if obj.shape else 0
        stored = obj.id.get_storage_size()
        # per dataset and summed over the datasets read: several bombs each under
        # the limit must not add up to one
        self._declared += nbytes
        self._stored += stored
        if any(n > limits.limit("SUSPICIOUS_BYTES") and n > limits.limit(
                "MAX_HDF5_RATIO") * max(1, st)
               for n, st in ((nbytes, stored), (self._declared, self._stored))):
            raise self.fail(f"dataset '{name}' claims {nbytes} bytes but stores far less "
                            "(SUSPICIOUS_BYTES / MAX_HDF5_RATIO, see ledger.io.limits)")

    def _json_rows(self, name: str) -> list[Any]:
        arr = self._dataset(name)
        if not isinstance(arr, np.ndarray):
            arr = np.asarray(arr)
        if arr.ndim == 0:
            arr = arr.reshape(1)
        if arr.ndim != 1:
            raise self.fail(f"'{name}' is not one-dimensional")
        if arr.size == 0:
            return []
        if arr.dtype.kind not in "SOU":
            raise self.fail(f"'{name}' holds {arr.dtype} values, not JSON strings")
        try:
            return [loads(item) for item in arr]
        except (ValueError, UnicodeDecodeError) as exc:
            raise self.fail(f"'{name}' holds invalid JSON ({exc})") from exc

    def _metadata(self) -> tuple[float | None, dict[str, Any]]:
        group = self.f.get("metadata")
        if group is None:
            raise self.fail("missing 'metadata' group (not a SLEAP labels file)")
        if not isinstance(group, h5py.Group):
            raise self.fail("'metadata' is not a group")
        format_id = self._format_id(group)
        if "json" not in group.attrs:
            raise self.fail("metadata has no 'json' attribute")
        try:
            meta = loads(group.attrs["json"])
        except (ValueError, UnicodeDecodeError) as exc:
            raise self.fail(f"metadata json does not parse ({exc})") from exc
        if not isinstance(meta, dict):
            raise self.fail("metadata json is not an object")
        return format_id, meta

    def _list(self, meta: dict[str, Any], key: str) -> list[Any]:
        if f"{key}_json" in self.f:
            return self._json_rows(f"{key}_json")
        value = meta.get(key)
        if value is None:
            return []
        if key == "suggestions" and isinstance(value, dict):
            return [value]
        if not isinstance(value, list):
            raise self.fail(f"metadata '{key}' is not a list")
        return value

    def _source_video(self, video: VideoData, known: set[str]) -> None:
        """Attach ``video<i>/source_video`` of an embedded video, if the file has it."""
        if video.backend.get("filename") != self.source:
            return
        match = _EMBED_GROUP.match(str(video.backend.get("dataset", "")))
        if match is None or match.group(1) not in self.f:
            return
        known.add(match.group(1))
        group = self.f[match.group(1)]
        if not isinstance(group, h5py.Group) or "source_video" not in group:
            return
        holder = group["source_video"]
        raw = holder.attrs.get("json")
        if raw is None and isinstance(holder, h5py.Group) and "json" in holder:
            raw = holder["json"][()]
        if raw is None or video.source_video is not None:
            return
        try:
            parsed = loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise self.fail(f"{match.group(1)}/source_video json does not parse ({exc})") from exc
        if not isinstance(parsed, dict):
            raise self.fail(f"{match.group(1)}/source_video json is not an object")
        video.source_video = parsed

    def _provenance(self, meta: dict[str, Any]) -> dict[str, Any]:
        provenance = meta_io.parse_provenance(meta.get("provenance"), self.source)
        if "provenance_json" not in self.f:
            return provenance
        rows = self._json_rows("provenance_json")
        extra = rows[0] if rows else {}
        if not isinstance(extra, dict):
            raise self.fail("provenance_json is not an object")
        added = [k for k in extra if k not in provenance]
        for key in added:
            provenance[key] = extra[key]
        if added:
            self.warnings.append(f"merged provenance keys from 'provenance_json': {added}")
        return provenance

    # -------------------------------------------------------------------- tables

    def _columns(self, name: str) -> dict[str, np.ndarray]:
        arr = self._dataset(name)
        fields = _FIELDS[name]
        if not isinstance(arr, np.ndarray):
            raise self.fail(f"'{name}' is not an array")
        if arr.dtype.names:
            if arr.ndim != 1:
                raise self.fail(f"'{name}' is not one-dimensional")
            missing = [f for f in fields if f not in arr.dtype.names and f not in _OPTIONAL]
            if missing:
                raise self.fail(f"'{name}' lacks field(s) {missing}")
            cols = {f: arr[f] for f in fields if f in arr.dtype.names}
        elif arr.ndim == 2 and arr.dtype.kind in "iufb":
            width = arr.shape[1]
            if width not in (len(fields), len(fields) - int(name == "instances")):
                raise self.fail(f"'{name}' has {width} columns, expected {len(fields)}")
            cols = {f: arr[:, i] for i, f in enumerate(fields[:width])}
        elif arr.size == 0 and arr.dtype.kind in "iufb":
            cols = {f: np.zeros(0, np.float64) for f in fields if f not in _OPTIONAL}
        else:
            raise self.fail(f"'{name}' has an unexpected layout ({arr.dtype}, shape {arr.shape})")
        for f, col in cols.items():
            if col.dtype.kind not in "iufb" or col.ndim != 1:
                raise self.fail(f"'{name}.{f}' has unexpected type {col.dtype}")
        return cols

    def read(self) -> ProjectData:
        format_id, meta = self._metadata()
        src = self.source
        nodes = meta_io.parse_nodes(meta.get("nodes"), src)
        skeletons = meta_io.parse_skeletons(meta.get("skeletons"), nodes, src)
        videos = [meta_io.parse_video(r, src, src) for r in self._list(meta, "videos")]
        tracks = [meta_io.parse_track(r, src) for r in self._list(meta, "tracks")]
        suggestions = meta_io.parse_suggestions(self._list(meta, "suggestions"), len(videos), src)
        anchors = meta_io.parse_anchors(meta.get("negative_anchors"), len(videos), src)
        provenance = self._provenance(meta)
        known = set(_KNOWN)
        for video in videos:
            self._source_video(video, known)

        data = ProjectData(
            videos=videos,
            skeletons=skeletons,
            tracks=tracks,
            suggestions=suggestions,
            negative_anchors=anchors,
            provenance=provenance,
            format_id=format_id,
        )
        with np.errstate(all="ignore"):
            self._tables(data, format_id)
        self._report_extras(meta, known)
        data.warnings = self.warnings
        return data

    def _tables(self, data: ProjectData, format_id: float | None) -> None:
        frames = self._columns("frames")
        inst = self._columns("instances")
        pts_ds, pred_ds = self._linked("points"), self._linked("pred_points")
        # A file with both kinds has its point tables read straight into their places
        # in the pool (`slp_points`), so a full table and the pool never coexist in
        # memory: the user table too, when it is stored as SLEAP stores it.
        pts_later = (format_id is not None and format_id >= 1.1
                     and isinstance(pts_ds, h5py.Dataset) and pts_ds.dtype == POINTS_DTYPE
                     and pts_ds.ndim == 1 and pts_ds.shape[0] > 0)
        pts = None if pts_later else self._columns("points")
        n_user_pts = int(pts_ds.shape[0]) if pts_later else len(pts["x"])
        direct = (n_user_pts > 0 and isinstance(pred_ds, h5py.Dataset)
                  and pred_ds.ndim == 1 and pred_ds.dtype.names is not None
                  and all(f in pred_ds.dtype.names for f in _FIELDS["pred_points"]))
        pred = None if direct else self._columns("pred_points")
        n_pred_pts = int(pred_ds.shape[0]) if direct else len(pred["x"])
        if pts_later and n_pred_pts == 0:
            pts, pts_later = self._columns("points"), False
        i64 = np.int64

        n_frames = len(frames["video"])
        n_inst = len(inst["instance_type"])
        f_video = np.ascontiguousarray(_int64(frames["video"]))
        f_idx = np.ascontiguousarray(_int64(frames["frame_idx"]))
        f_start = _int64(frames["instance_id_start"])
        f_end = _int64(frames["instance_id_end"])
        if len({len(c) for c in frames.values()}) > 1 or len({len(c) for c in inst.values()}) > 1:
            raise self.fail("table columns have different lengths")
        if _outside(f_video, 0, len(data.videos)):
            raise self.fail(f"frames refer to a video outside 0..{len(data.videos) - 1}")
        if _outside(f_idx, 0, FRAME_IDX_LIMIT) or _fractional(frames["frame_idx"]):
            raise self.fail(f"frames have a frame index that is not a whole number in "
                            f"0..{FRAME_IDX_LIMIT - 1}")
        if n_frames:
            if (
                f_start[0] != 0
                or f_end[-1] != n_inst
                or _bad(f_end < f_start)
                or _bad(f_start[1:] != f_end[:-1])
            ):
                raise self.fail("frame instance ranges are not contiguous over 'instances'")
        elif n_inst:
            raise self.fail("instances exist but no frame owns them")
        counts = f_end - f_start
        inst_frame = np.repeat(np.arange(n_frames, dtype=i64), counts)
        if "frame_id" in inst and _bad(_int64(inst["frame_id"]) != inst_frame):
            self.warnings.append("instances.frame_id disagrees with frame ranges; ranges used")

        kind = inst["instance_type"].astype(np.uint8)
        if _fractional(inst["instance_type"]) or (
                inst["instance_type"].dtype not in (np.uint8, np.bool_)
                and _bad(_int64(inst["instance_type"]) != kind)) or _bad(kind > PREDICTED):
            raise self.fail("instances.instance_type must be 0 (user) or 1 (predicted)")
        skel = _ints(inst["skeleton"])
        if _outside(skel, 0, len(data.skeletons)):
            raise self.fail(f"instances refer to a skeleton outside 0..{len(data.skeletons) - 1}")
        track = _ints(inst["track"])
        if _outside(track, -1, len(data.tracks)):
            raise self.fail(f"instances refer to a track outside -1..{len(data.tracks) - 1}")
        from_pred = _int64(inst["from_predicted"])
        if _outside(from_pred, -1, n_inst):
            raise self.fail("instances.from_predicted is outside the instance table")
        linked = np.flatnonzero(from_pred >= 0)
        if linked.size:
            wrong = (kind[linked] != USER) | (kind[from_pred[linked]] != PREDICTED)
            if _bad(wrong):
                from_pred = from_pred.copy()
                from_pred[linked[wrong]] = -1
                self.warnings.append(
                    f"dropped {int(wrong.sum())} from_predicted link(s) that did not go "
                    "from a user instance to a predicted instance"
                )

        p_start = _int64(inst["point_id_start"])
        p_end = _int64(inst["point_id_end"])
        n_nodes = np.array([len(s.node_names) for s in data.skeletons], dtype=i64)
        inst_nodes = (np.broadcast_to(n_nodes[:1], (n_inst,)) if len(n_nodes) == 1
                      else n_nodes[skel])
        is_user = kind == USER
        # Files store each kind's points in instance order; then every range is
        # known from the node counts and one comparison per column checks them all.
        dest, in_order_starts, totals = kind_order(~is_user, inst_nodes)
        in_order = bool(n_inst) and np.array_equal(p_start, in_order_starts)
        if in_order:
            if not np.array_equal(p_end - p_start, inst_nodes):
                raise self.fail(
                    "an instance's point range length differs from its skeleton's nodes")
            if totals[USER] > n_user_pts or totals[PREDICTED] > n_pred_pts:
                raise self.fail("an instance's point range lies outside its point table")
        elif n_inst:
            if _bad(p_end - p_start != inst_nodes):
                raise self.fail(
                    "an instance's point range length differs from its skeleton's nodes")
            # each kind's ranges within its own table; the smaller table's kind is
            # checked on its own rows, the rest against the larger table
            small = USER if n_user_pts <= n_pred_pts else PREDICTED
            big_table, small_table = max(n_user_pts, n_pred_pts), min(n_user_pts, n_pred_pts)
            if _outside(p_start, 0, None) or _outside(p_end, 0, big_table + 1) or \
                    _outside(p_end[kind == small], 0, small_table + 1):
                raise self.fail("an instance's point range lies outside its point table")
            if totals[USER] > n_user_pts or totals[PREDICTED] > n_pred_pts:
                # overlapping ranges: the points read would outgrow the tables the
                # file stores (memory must follow the declared content)
                raise self.fail("instances' point ranges overlap: they claim more points "
                                "than the point tables hold")

        score = inst["score"].astype(np.float64)
        if "tracking_score" in inst:
            tscore = inst["tracking_score"].astype(np.float64)
        else:
            tscore = np.zeros(n_inst, np.float64)
        score[is_user] = np.nan
        tscore[is_user] = np.nan

        user: tuple[np.ndarray, ...] | h5py.Dataset
        if pts_later:
            self._check_size(pts_ds, "points")
            user = pts_ds
        else:
            shift = format_id is None or format_id < 1.1
            ux = pts["x"].astype(np.float64, copy=False)
            uy = pts["y"].astype(np.float64, copy=False)
            if shift and n_user_pts:
                ux, uy = ux - 0.5, uy - 0.5
            user = ux, uy, as_bool(pts["visible"]), as_bool(pts["complete"])
        if n_pred_pts == 0:
            x, y, vis, com = user  # a tuple: the user table was read above
            pscore = np.zeros(n_user_pts, np.float64)
            pt_start = dest if in_order else p_start
        elif n_user_pts == 0:
            x = pred["x"].astype(np.float64, copy=False)
            y = pred["y"].astype(np.float64, copy=False)
            vis, com = as_bool(pred["visible"]), as_bool(pred["complete"])
            pscore = pred["score"].astype(np.float64, copy=False)
            pt_start = dest if in_order else p_start
        else:
            if pred is None:
                self._check_size(pred_ds, "pred_points")
                pred = pred_ds
            x, y, vis, com, pscore = interleave(
                kind, inst_nodes, p_start, dest, in_order, user, pred)
            pt_start = dest

        data.frame_video, data.frame_idx = f_video, f_idx
        data.frame_inst_start, data.frame_inst_end = f_start, f_end
        data.inst_frame, data.inst_kind, data.inst_skeleton = inst_frame, kind, skel
        data.inst_track, data.inst_from_predicted = track, from_pred
        data.inst_score, data.inst_tracking_score = score, tscore
        data.inst_pt_start = pt_start
        data.point_x, data.point_y = x, y
        data.point_visible, data.point_complete, data.point_score = vis, com, pscore

    def _report_extras(self, meta: dict[str, Any], known: set[str]) -> None:
        extra = sorted(name for name in self.f if name not in known and name != "provenance_json")
        if extra:
            self.warnings.append(
                "ignored data not kept by ledger (SLEAP 1.x ignores it too): " + ", ".join(extra)
            )
        keys = sorted(k for k, v in meta.items() if k not in _META_KEYS and v not in ([], {}, None))
        if keys:
            self.warnings.append("ignored metadata keys: " + ", ".join(keys))
