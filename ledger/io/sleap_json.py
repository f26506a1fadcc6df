"""SLEAP's JSON labels format (``.json`` and ``.json.zip``) and ``Labels.to_dict``.

SLEAP can save labels as one JSON document (optionally zipped). References are
string indices, only labelled (non-NaN) points are listed, keyed by the *global*
node index, and a user instance's ``from_predicted`` is a full nested copy of the
predicted instance rather than a reference. On reading we resolve that copy back
to the predicted instance of the same frame with equal points, so the link
survives a round trip; when none matches the link is dropped with a warning.

JSON labels are small (GUI projects), so per-instance Python loops are fine here.

Example::

    data = read_sleap_json("labels.json")
    write_sleap_json(data, "copy.json.zip")
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ledger.core.values import FRAME_IDX_LIMIT
from ledger.errors import FormatError, LedgerError
from ledger.io import limits
from ledger.io import sleap_meta as meta_io
from ledger.io.atomic import atomic_write_path
from ledger.io.failures import format_errors
from ledger.io.jsonfmt import dumps
from ledger.io.project_data import PREDICTED, USER, ProjectData
from ledger.io.validate import check_values

__all__ = ["project_to_dict", "read_sleap_json", "write_sleap_json"]


def _point(x: float, y: float, vis: bool, com: bool, score: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "x": float(x),
        "y": float(y),
        "visible": bool(vis),
        "complete": bool(com),
    }
    if score is not None:
        out["score"] = float(score)
    return out


def project_to_dict(data: ProjectData) -> dict[str, Any]:
    """SLEAP's ``Labels.to_dict()``: metadata keys in SLEAP order, then ``labels``."""
    videos = [{"backend": v.backend, **v.extra} for v in data.videos]
    meta, node_ids = meta_io.metadata_dict(
        data,
        videos=videos,
        tracks=[meta_io.track_row(t) for t in data.tracks],
        suggestions=[meta_io.suggestion_row(s) for s in data.suggestions],
    )
    x, y = np.asarray(data.point_x, float), np.asarray(data.point_y, float)
    vis, com = np.asarray(data.point_visible, bool), np.asarray(data.point_complete, bool)
    pscore = np.asarray(data.point_score, float)
    labelled = ~(np.isnan(x) | np.isnan(y))
    cache: dict[int, dict[str, Any]] = {}

    def instance(i: int) -> dict[str, Any]:
        if i in cache:
            return cache[i]
        sk = int(data.inst_skeleton[i])
        ids = node_ids[sk]
        start = int(data.inst_pt_start[i])
        predicted = int(data.inst_kind[i]) == PREDICTED
        points = {}
        for k, node in enumerate(ids):
            j = start + k
            if labelled[j]:
                points[str(node)] = _point(
                    x[j], y[j], vis[j], com[j], pscore[j] if predicted else None
                )
        track = int(data.inst_track[i])
        link = int(data.inst_from_predicted[i])
        out: dict[str, Any] = {
            "skeleton": str(sk),
            "track": None if track < 0 else str(track),
            "from_predicted": instance(link) if link >= 0 and not predicted else None,
            "_points": points,
        }
        if predicted:
            out["score"] = float(data.inst_score[i])
            out["tracking_score"] = float(data.inst_tracking_score[i])
        cache[i] = out
        return out

    labels = []
    for f in range(data.n_frames):
        start, end = int(data.frame_inst_start[f]), int(data.frame_inst_end[f])
        labels.append(
            {
                "video": str(int(data.frame_video[f])),
                "frame_idx": int(data.frame_idx[f]),
                "_instances": [instance(i) for i in range(start, end)],
            }
        )
    meta["labels"] = labels
    return meta


def write_sleap_json(
    data: ProjectData, path: str | os.PathLike[str], compress: bool = False
) -> str:
    """Write SLEAP JSON (zipped when ``compress`` or the path ends in ``.zip``).

    Like SLEAP, ``compress=True`` appends ``.zip`` to a path lacking it. Returns the
    path written.
    """
    target = os.fspath(path)
    zipped = compress or target.endswith(".zip")
    if zipped and not target.endswith(".zip"):
        target += ".zip"
    try:
        doc = project_to_dict(data)
    except LedgerError:
        raise
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise FormatError(target, f"cannot write: invalid project data ({exc})") from exc
    doc["format_id"] = 1
    text = dumps(doc)
    with atomic_write_path(target) as tmp:
        if zipped:
            member = Path(target).name[: -len(".zip")]
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
                zf.writestr(member, text)
        else:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(text)
    return target


def _load_text(source: str) -> tuple[str, list[str]]:
    warnings: list[str] = []
    if source.endswith(".zip"):
        with zipfile.ZipFile(source) as zf:
            names = [n for n in zf.namelist() if n.endswith(".json") and "/" not in n]
            if not names:
                raise FormatError(source, "zip holds no top-level .json labels file")
            others = [n for n in zf.namelist() if n not in names]
            if others:
                warnings.append(
                    f"frame data inside the zip was not extracted ({len(others)} entries); "
                    "video paths are kept as stored"
                )
            return _inflate(source, zf, names[0]).decode("utf-8"), warnings
    size = os.stat(source).st_size
    if size > limits.limit("MAX_JSON_BYTES"):
        raise FormatError(source, f"JSON of {size} bytes is over the limit (MAX_JSON_BYTES, "
                                  "see ledger.io.limits)")
    with open(source, encoding="utf-8") as fh:
        return fh.read(), warnings


def _inflate(source: str, zf: zipfile.ZipFile, name: str) -> bytes:
    """A zip member's bytes, inflated in pieces and refused as soon as they pass
    the budget (`ledger.io.limits`): a zip bomb costs at most the budget, never
    what its header claims or what it would expand to."""
    info = zf.getinfo(name)
    budget = limits.inflate_budget(info.compress_size)
    parts, total = [], 0
    with zf.open(info) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > budget:
                raise FormatError(source, f"{name} inflates past {budget} bytes "
                                          f"({info.compress_size} compressed): a zip bomb? "
                                          "(limits MAX_INFLATE_RATIO / MIN_INFLATE_BUDGET, see "
                                          "ledger.io.limits)")
            parts.append(chunk)
    return b"".join(parts)


def read_sleap_json(path: str | os.PathLike[str]) -> ProjectData:
    """Read ``.json`` / ``.json.zip`` labels. Raises only `FormatError` for bad files."""
    source = os.fspath(path)
    limits.check_regular_file(source)
    with format_errors(source, "not a readable SLEAP JSON file"):
        text, warnings = _load_text(source)
        doc = json.loads(text)
        data = _Builder(source, warnings).build(doc)
    check_values(data, source)
    return data


class _Builder:
    """Accumulates columns for the frames of one JSON document."""

    def __init__(self, source: str, warnings: list[str]) -> None:
        self.source = source
        self.warnings = warnings
        self.cols: dict[str, list[Any]] = {
            k: []
            for k in (
                "kind",
                "skel",
                "track",
                "fp",
                "score",
                "tscore",
                "frame",
                "x",
                "y",
                "vis",
                "com",
                "pscore",
            )
        }

    def fail(self, problem: str) -> FormatError:
        return FormatError(self.source, problem)

    def _int(self, value: Any, what: str) -> int:
        return meta_io._int(value, self.source, what)

    def build(self, doc: Any) -> ProjectData:
        if not isinstance(doc, dict):
            raise self.fail("top level is not a JSON object")
        if "version" not in doc:
            raise self.fail("old LEAP JSON format (no 'version' key) is not supported")
        fmt = doc.get("format_id")
        if fmt is not None and fmt != 1:
            raise self.fail(f"unsupported JSON format_id {fmt!r} (expected 1)")
        src = self.source
        nodes = meta_io.parse_nodes(doc.get("nodes"), src)
        skeletons = meta_io.parse_skeletons(doc.get("skeletons"), nodes, src)
        raw_videos = doc.get("videos") or []
        raw_tracks = doc.get("tracks") or []
        if not isinstance(raw_videos, list) or not isinstance(raw_tracks, list):
            raise self.fail("'videos' and 'tracks' must be lists")
        videos = [meta_io.parse_video(v, src, src) for v in raw_videos]
        tracks = [meta_io.parse_track(t, src) for t in raw_tracks]
        data = ProjectData(
            videos=videos,
            skeletons=skeletons,
            tracks=tracks,
            suggestions=meta_io.parse_suggestions(doc.get("suggestions"), len(videos), src),
            negative_anchors=meta_io.parse_anchors(doc.get("negative_anchors"), len(videos), src),
            provenance=meta_io.parse_provenance(doc.get("provenance"), src),
            format_id=None if fmt is None else float(fmt),
        )
        # Global node index -> position, per skeleton.
        self.node_pos = [
            {node: k for k, node in enumerate(self._node_ids(sk_raw, nodes))}
            for sk_raw in (doc.get("skeletons") or [])
        ]
        self.n_nodes = [len(s.node_names) for s in skeletons]
        self.n_tracks = len(tracks)
        labels = doc.get("labels") or []
        if not isinstance(labels, list):
            raise self.fail("'labels' is not a list")
        f_video, f_idx, f_start, f_end = [], [], [], []
        for frame_no, frame in enumerate(labels):
            if not isinstance(frame, dict):
                raise self.fail("a labelled frame is not an object")
            video = self._int(frame.get("video"), "frame video")
            if not 0 <= video < len(videos):
                raise self.fail(f"frame refers to video {video} of {len(videos)}")
            idx = self._int(frame.get("frame_idx"), "frame_idx")
            if not 0 <= idx < FRAME_IDX_LIMIT:
                raise self.fail(f"frame index {idx} is outside 0..{FRAME_IDX_LIMIT - 1}")
            instances = frame.get("_instances", frame.get("instances", []))
            if not isinstance(instances, list):
                raise self.fail("frame instances are not a list")
            f_video.append(video)
            f_idx.append(idx)
            f_start.append(len(self.cols["kind"]))
            self._frame(instances, frame_no)
            f_end.append(len(self.cols["kind"]))
        self._fill(data, f_video, f_idx, f_start, f_end)
        data.warnings = self.warnings
        return data

    def _node_ids(self, sk_raw: Any, nodes: list[tuple[str, float]]) -> list[int]:
        graph = sk_raw.get("nx_graph", sk_raw) if isinstance(sk_raw, dict) else {}
        return [e["id"] for e in graph.get("nodes", []) if isinstance(e, dict)]

    def _instance(self, raw: Any, frame_no: int) -> tuple[int, np.ndarray]:
        """Append one instance; returns its skeleton and (n, 2) coordinates."""
        if not isinstance(raw, dict):
            raise self.fail("an instance is not an object")
        sk = self._int(raw.get("skeleton"), "instance skeleton")
        if not 0 <= sk < len(self.n_nodes):
            raise self.fail(f"instance refers to skeleton {sk} of {len(self.n_nodes)}")
        track_raw = raw.get("track")
        track = -1 if track_raw is None else self._int(track_raw, "instance track")
        if not -1 <= track < self.n_tracks:
            raise self.fail(f"instance refers to track {track} of {self.n_tracks}")
        predicted = "score" in raw
        n = self.n_nodes[sk]
        xs, ys = np.full(n, np.nan), np.full(n, np.nan)
        vis, com, score = np.ones(n, bool), np.zeros(n, bool), np.zeros(n)
        points = raw.get("_points", raw.get("points", {})) or {}
        if not isinstance(points, dict):
            raise self.fail("instance points are not an object")
        for key, pt in points.items():
            node = self._int(key, "point node")
            pos = self.node_pos[sk].get(node)
            if pos is None:
                continue  # SLEAP silently ignores points of nodes outside the skeleton
            if not isinstance(pt, dict):
                raise self.fail("a point is not an object")
            xs[pos], ys[pos] = _num(pt.get("x"), self), _num(pt.get("y"), self)
            vis[pos], com[pos] = bool(pt.get("visible", True)), bool(pt.get("complete", False))
            if predicted:
                score[pos] = _num(pt.get("score", 0.0), self)
        c = self.cols
        c["kind"].append(PREDICTED if predicted else USER)
        c["skel"].append(sk)
        c["track"].append(track)
        c["fp"].append(-1)
        c["score"].append(_num(raw.get("score"), self) if predicted else np.nan)
        c["tscore"].append(_num(raw.get("tracking_score", 0.0), self) if predicted else np.nan)
        c["frame"].append(frame_no)
        c["x"].append(xs)
        c["y"].append(ys)
        c["vis"].append(vis)
        c["com"].append(com)
        c["pscore"].append(score)
        return sk, np.stack([xs, ys], axis=1)

    def _frame(self, instances: list[Any], frame_no: int) -> None:
        first = len(self.cols["kind"])
        shapes = [self._instance(raw, frame_no) for raw in instances]
        index: dict[tuple[int, bytes, bytes], int] | None = None
        for offset, raw in enumerate(instances):
            nested = raw.get("from_predicted")
            if nested is None or "score" in raw:
                continue
            if not isinstance(nested, dict):
                raise self.fail("from_predicted is not an object")
            if index is None:  # predictions by (skeleton, points): linear, not quadratic
                index = {}
                for k, other in enumerate(instances):
                    if "score" in other:
                        index.setdefault(_shape_key(*shapes[k]), k)
            target = self._match(nested, index)
            if target is None:
                self.warnings.append(
                    f"frame {frame_no}: from_predicted matched no prediction in the frame; "
                    "link dropped"
                )
            else:
                self.cols["fp"][first + offset] = first + target

    def _match(self, nested: dict[str, Any], index: dict[tuple[int, bytes, bytes], int]
               ) -> int | None:
        sk = self._int(nested.get("skeleton"), "from_predicted skeleton")
        if not 0 <= sk < len(self.n_nodes):
            return None
        xy = np.full((self.n_nodes[sk], 2), np.nan)
        points = nested.get("_points", {}) or {}
        if not isinstance(points, dict):
            return None
        for key, pt in points.items():
            pos = self.node_pos[sk].get(self._int(key, "point node"))
            if pos is not None and isinstance(pt, dict):
                xy[pos] = (_num(pt.get("x"), self), _num(pt.get("y"), self))
        return index.get(_shape_key(sk, xy))

    def _fill(
        self, data: ProjectData, fv: list[int], fi: list[int], fs: list[int], fe: list[int]
    ) -> None:
        c = self.cols
        i64 = np.int64
        data.frame_video, data.frame_idx = np.array(fv, i64), np.array(fi, i64)
        data.frame_inst_start, data.frame_inst_end = np.array(fs, i64), np.array(fe, i64)
        data.inst_frame = np.array(c["frame"], i64)
        data.inst_kind = np.array(c["kind"], np.uint8)
        data.inst_skeleton = np.array(c["skel"], i64)
        data.inst_track = np.array(c["track"], i64)
        data.inst_from_predicted = np.array(c["fp"], i64)
        data.inst_score = np.array(c["score"], np.float64)
        data.inst_tracking_score = np.array(c["tscore"], np.float64)
        sizes = np.array([len(a) for a in c["x"]], i64)
        data.inst_pt_start = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(i64)[: len(sizes)]

        def cat(name: str, dtype: Any) -> np.ndarray:
            return np.concatenate(c[name]).astype(dtype) if c[name] else np.zeros(0, dtype)

        data.point_x, data.point_y = cat("x", np.float64), cat("y", np.float64)
        data.point_visible, data.point_complete = cat("vis", bool), cat("com", bool)
        data.point_score = cat("pscore", np.float64)


def _shape_key(sk: int, xy: np.ndarray) -> tuple[int, bytes, bytes]:
    """What makes two instances' points equal for from_predicted matching: the
    same NaN pattern and the same values elsewhere (-0.0 counts as 0.0)."""
    xy = np.asarray(xy, np.float64)
    return sk, np.isnan(xy).tobytes(), (np.nan_to_num(xy) + 0.0).tobytes()


def _num(value: Any, builder: _Builder) -> float:
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise builder.fail(f"expected a number, found {value!r:.40}")
    return float(value)
