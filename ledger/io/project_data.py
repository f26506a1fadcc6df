"""The columnar, file-shaped description of a whole project.

Readers (`.slp`, SLEAP JSON) produce a `ProjectData`; writers consume one. It sits
between the files and the ledger so that file formats know nothing about events,
and the ledger knows nothing about HDF5 or JSON. Everything is positional, exactly
as in the files: a track is an index into ``tracks``, a skeleton an index into
``skeletons``, a node a position in its skeleton's node order.

Tables are numpy arrays so that a 300,000-frame prediction file moves through here
without one Python object per frame, instance or point.

Example::

    data = read_slp("predictions.slp")
    data.n_frames, data.n_instances
    write_slp(data, "copy.slp")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

USER = 0
PREDICTED = 1


@dataclass
class SkeletonData:
    """One skeleton; nodes in skeleton order (the order point rows follow).

    ``edges`` are BODY edges as ``(src, dst)`` node positions in SLEAP's edge order
    (sorted by ``edge_insert_idx``). ``symmetries`` are unordered pairs of node
    positions, each pair once. ``template`` keeps the optional template wrapper
    fields (``description``, ``preview_image``) when the file had them.
    """

    name: str | None
    node_names: list[str]
    edges: list[tuple[int, int]] = field(default_factory=list)
    symmetries: list[tuple[int, int]] = field(default_factory=list)
    node_weights: list[float] | None = None
    template: dict[str, Any] | None = None


@dataclass
class VideoData:
    """A serialised SLEAP video.

    ``backend`` is SLEAP's ``{"backend": {...}}`` inner dict (attrs fields of the
    backend, ``filename`` included, already with ``"."`` replaced by the labels
    path). ``source_video`` is the serialised original video of an embedded one
    (a dict of the same shape as a ``videos_json`` row), else ``None``. ``extra``
    keeps keys other writers add (sleap-io's ``type``, ``shape``, ``fps``...).
    """

    backend: dict[str, Any]
    source_video: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def filename(self) -> str:
        return str(self.backend.get("filename", ""))


def _empty(dtype: Any) -> np.ndarray:
    return np.zeros(0, dtype=dtype)


@dataclass
class ProjectData:
    """A whole project in file order.

    Frames keep file (list) order. Instances are contiguous per frame, in frame
    order: frame ``f`` owns instance rows ``[frame_inst_start[f], frame_inst_end[f])``
    and ``inst_frame[i]`` is the frame row of instance ``i``. Points are one pool for
    both kinds: instance ``i`` owns point rows ``[inst_pt_start[i], inst_pt_start[i] +
    n_nodes(skeleton))`` in its skeleton's node order, every node present (missing
    points are NaN). ``point_score`` is 0 for user points.

    ``inst_kind`` is 0 for user instances, 1 for predicted ones. ``inst_track`` and
    ``inst_from_predicted`` are -1 for none. ``inst_score`` and
    ``inst_tracking_score`` are NaN for user instances.

    Integer columns may have any integer dtype and may be read-only views of the
    file's tables (the `.slp` reader keeps them as stored rather than copy them);
    consumers convert what they keep.
    """

    videos: list[VideoData] = field(default_factory=list)
    skeletons: list[SkeletonData] = field(default_factory=list)
    tracks: list[tuple[int, str]] = field(default_factory=list)  # (spawned_on, name)
    suggestions: list[tuple[int, int, int | None]] = field(default_factory=list)
    negative_anchors: dict[int, list[tuple[int, float, float]]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    frame_video: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    frame_idx: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    frame_inst_start: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    frame_inst_end: np.ndarray = field(default_factory=lambda: _empty(np.int64))

    inst_frame: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    inst_kind: np.ndarray = field(default_factory=lambda: _empty(np.uint8))
    inst_skeleton: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    inst_track: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    inst_from_predicted: np.ndarray = field(default_factory=lambda: _empty(np.int64))
    inst_score: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    inst_tracking_score: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    inst_pt_start: np.ndarray = field(default_factory=lambda: _empty(np.int64))

    point_x: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    point_y: np.ndarray = field(default_factory=lambda: _empty(np.float64))
    point_visible: np.ndarray = field(default_factory=lambda: _empty(np.bool_))
    point_complete: np.ndarray = field(default_factory=lambda: _empty(np.bool_))
    point_score: np.ndarray = field(default_factory=lambda: _empty(np.float64))

    format_id: float | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return int(self.frame_idx.shape[0])

    @property
    def n_instances(self) -> int:
        return int(self.inst_kind.shape[0])

    @property
    def n_points(self) -> int:
        return int(self.point_x.shape[0])

    def length_problem(self) -> str | None:
        """What is wrong with the column lengths, or None when they agree."""
        frames = (self.frame_video, self.frame_idx, self.frame_inst_start, self.frame_inst_end)
        insts = (self.inst_kind, self.inst_frame, self.inst_skeleton, self.inst_track,
                 self.inst_from_predicted, self.inst_score, self.inst_tracking_score,
                 self.inst_pt_start)
        points = (self.point_x, self.point_y, self.point_visible, self.point_complete,
                  self.point_score)
        for name, cols, n in (("frame", frames, self.n_frames),
                              ("instance", insts, self.n_instances),
                              ("point", points, self.n_points)):
            if any(len(c) != n for c in cols):
                return f"ProjectData {name} columns have inconsistent lengths"
        return None
