"""The non-tabular parts of a SLEAP labels file, shared by the `.slp` and JSON codecs.

Videos, tracks, suggestions, nodes, skeletons, negative anchors and provenance are
spelled the same way in the `.slp` metadata attribute, its ``*_json`` datasets and
SLEAP's JSON labels format (`Labels.to_dict`). Parsing and serialising them in one
place keeps the two file formats in agreement.

Every parser raises `FormatError` naming ``source`` for malformed input, so readers
never leak ``KeyError``/``TypeError`` from a damaged file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ledger.errors import FormatError
from ledger.io.project_data import ProjectData, SkeletonData, VideoData
from ledger.io.skeleton_codec import decode_skeleton, encode_skeleton

SLEAP_VERSION = "2.0.0"


def _int(value: Any, source: object, what: str) -> int:
    """Accept ints, integral floats and numeric strings (SLEAP calls ``int(x)``)."""
    if isinstance(value, bool):
        raise FormatError(source, f"{what}: expected an integer, found {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise FormatError(source, f"{what}: expected an integer, found {value!r}")


def parse_nodes(raw: Any, source: object) -> list[tuple[str, float]]:
    """The global node table as ``(name, weight)`` pairs."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FormatError(source, "metadata 'nodes' is not a list")
    out = []
    for item in raw:
        if isinstance(item, str):
            out.append((item, 1.0))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise FormatError(source, f"bad node entry {item!r}")
        weight = item.get("weight", 1.0)
        if not isinstance(weight, int | float) or isinstance(weight, bool):
            raise FormatError(source, f"bad node weight {weight!r}")
        out.append((item["name"], float(weight)))
    return out


def parse_skeletons(raw: Any, nodes: list[tuple[str, float]], source: object) -> list[SkeletonData]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise FormatError(source, "metadata 'skeletons' is not a list")
    return [decode_skeleton(item, nodes, source=source) for item in raw]


def parse_video(row: Any, labels_path: str, source: object) -> VideoData:
    """One ``{"backend": {...}}`` video dict; ``"."`` becomes the labels path."""
    if not isinstance(row, dict):
        raise FormatError(source, f"video entry is not an object: {row!r:.80}")
    row = dict(row)
    backend = row.pop("backend", None)
    if backend is None and "filename" in row:
        backend = {"filename": row["filename"]}
    if not isinstance(backend, dict):
        raise FormatError(source, "video entry has no 'backend' object")
    backend = dict(backend)
    if "filename" not in backend and "file" in backend:
        backend["filename"] = backend["file"]
    if backend.get("filename") == ".":
        backend["filename"] = labels_path
    if row.get("filename") == ".":
        row["filename"] = labels_path
    source_video = row.pop("source_video", None)
    if source_video is not None and not isinstance(source_video, dict):
        raise FormatError(source, "video 'source_video' is not an object")
    return VideoData(backend=backend, source_video=source_video, extra=row)


def parse_track(row: Any, source: object) -> tuple[int, str]:
    """``[spawned_on, name]`` (tuple form) or ``{"spawned_on":..., "name":...}``."""
    if isinstance(row, list) and len(row) == 2:
        spawned, name = row
    elif isinstance(row, dict):
        spawned, name = row.get("spawned_on", 0), row.get("name", "")
    else:
        raise FormatError(source, f"bad track entry {row!r:.80}")
    if name is None or isinstance(name, dict | list):
        raise FormatError(source, f"bad track name {name!r:.80}")
    return _int(spawned, source, "track spawned_on"), str(name)


def parse_suggestions(raw: Any, n_videos: int, source: object) -> list[tuple[int, int, int | None]]:
    """Suggestion rows; also the ancient ``{video: [frame, ...]}`` form."""
    if raw is None:
        return []
    items: list[Any]
    if isinstance(raw, dict):
        items = [{k: v} for k, v in raw.items()]
    elif isinstance(raw, list):
        items = raw
    else:
        raise FormatError(source, "suggestions are not a list")
    out: list[tuple[int, int, int | None]] = []
    for row in items:
        if not isinstance(row, dict):
            raise FormatError(source, f"bad suggestion {row!r:.80}")
        if "frame_idx" in row:
            video = _int(row.get("video"), source, "suggestion video")
            frame = _int(row["frame_idx"], source, "suggestion frame_idx")
            group = row.get("group")
            out.append((video, frame, None if group is None else _int(group, source, "group")))
        else:  # {video: [frame indices]}
            for key, frames in row.items():
                video = _int(key, source, "suggestion video")
                if not isinstance(frames, list):
                    raise FormatError(source, "old-style suggestions need frame lists")
                out.extend((video, _int(f, source, "suggestion frame"), None) for f in frames)
    for video, frame, _ in out:
        if not 0 <= video < n_videos:
            raise FormatError(source, f"suggestion refers to video {video} of {n_videos}")
        if frame < 0:
            raise FormatError(source, f"suggestion has negative frame index {frame}")
    return out


def parse_anchors(
    raw: Any, n_videos: int, source: object
) -> dict[int, list[tuple[int, float, float]]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FormatError(source, "negative_anchors is not an object")
    out: dict[int, list[tuple[int, float, float]]] = {}
    for key, rows in raw.items():
        video = _int(key, source, "negative anchor video")
        if not 0 <= video < n_videos or not isinstance(rows, list):
            raise FormatError(source, f"bad negative anchors for video {key!r}")
        parsed = []
        for row in rows:
            if not isinstance(row, list | tuple) or len(row) != 3:
                raise FormatError(source, f"bad negative anchor {row!r:.80}")
            frame = _int(row[0], source, "anchor frame")
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in row[1:]):
                raise FormatError(source, f"bad negative anchor {row!r:.80}")
            parsed.append((frame, float(row[1]), float(row[2])))
        out[video] = parsed
    return out


def parse_provenance(raw: Any, source: object) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FormatError(source, "provenance is not an object")
    return dict(raw)


# --------------------------------------------------------------------------- writing


def node_table(skeletons: Sequence[SkeletonData]) -> tuple[list[dict[str, Any]], list[list[int]]]:
    """The global ``nodes`` table (first appearance) and each skeleton's node indices.

    Nodes with equal name and weight are shared between skeletons, as SLEAP shares
    Node objects; the k-th duplicate name inside one skeleton maps to the k-th
    global node of that name, so no skeleton ever loses a node.
    """
    table: list[dict[str, Any]] = []
    index: dict[tuple[str, float, int], int] = {}
    per_skeleton: list[list[int]] = []
    for sk in skeletons:
        weights = sk.node_weights or [1.0] * len(sk.node_names)
        if len(weights) != len(sk.node_names):
            raise ValueError(f"skeleton {sk.name!r}: node_weights length differs from nodes")
        seen: dict[tuple[str, float], int] = {}
        ids = []
        for name, weight in zip(sk.node_names, weights, strict=True):
            base = (str(name), float(weight))
            k = seen.get(base, 0)
            seen[base] = k + 1
            key = (*base, k)
            if key not in index:
                index[key] = len(table)
                table.append({"name": base[0], "weight": base[1]})
            ids.append(index[key])
        per_skeleton.append(ids)
    return table, per_skeleton


def video_row(video: VideoData) -> dict[str, Any]:
    """The dict SLEAP stores for a video (the source video for a loaded package)."""
    if video.source_video is not None:
        return video.source_video
    return {"backend": video.backend, **video.extra}


def embedded_video_row(index: int) -> dict[str, Any]:
    return {
        "backend": {
            "filename": ".",
            "dataset": f"video{index}/video",
            "input_format": "channels_last",
            "convert_range": False,
        }
    }


def track_row(track: tuple[int, str]) -> list[Any]:
    return [int(track[0]), str(track[1])]


def suggestion_row(suggestion: tuple[int, int, int | None]) -> dict[str, Any]:
    video, frame, group = suggestion
    return {"video": str(int(video)), "frame_idx": int(frame), "group": group}


def anchors_dict(data: ProjectData) -> dict[str, list[list[Any]]]:
    return {
        str(int(v)): [[int(f), float(x), float(y)] for f, x, y in rows]
        for v, rows in data.negative_anchors.items()
    }


def metadata_dict(
    data: ProjectData,
    *,
    videos: list[Any],
    tracks: list[Any],
    suggestions: list[Any],
) -> tuple[dict[str, Any], list[list[int]]]:
    """``Labels.to_dict(skip_labels=True)`` in SLEAP's key order, plus node ids."""
    nodes, ids = node_table(data.skeletons)
    skeletons = [
        encode_skeleton(sk, sk_ids) for sk, sk_ids in zip(data.skeletons, ids, strict=True)
    ]
    meta = {
        "version": SLEAP_VERSION,
        "skeletons": skeletons,
        "nodes": nodes,
        "videos": videos,
        "tracks": tracks,
        "suggestions": suggestions,
        "negative_anchors": anchors_dict(data),
        "provenance": data.provenance,
    }
    return meta, ids
