"""The projection: what a ledger's events add up to.

`State` holds definitions (videos, skeletons, tracks), the ordered containers SLEAP
exposes (suggestions, negative anchors, provenance), the columnar frame and
instance tables, and the caches SLEAP's `LabelsDataCache` keeps: track occupancy
per (video, track) as `RangeList`s and frame counts per video. Only
`ledger.core.apply.apply_event` changes a `State`; `rebuild_caches` recomputes the
caches from the tables, which is what the property tests compare against.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ledger.core.events import SkeletonDef, SuggestionDef, TrackDef, VideoDef
from ledger.core.rangelist import RangeList
from ledger.core.tables import FrameTable, InstanceTable

OccupancyKey = tuple[int, int]  # (video id, track id or NO_ID)


class State:
    """Mutable projection of an event log. Read it freely; change it only by
    applying events."""

    def __init__(self) -> None:
        self.videos: dict[int, VideoDef] = {}
        self.video_order: list[int] = []
        self.skeletons: dict[int, SkeletonDef] = {}
        self.skeleton_order: list[int] = []
        self.tracks: dict[int, TrackDef] = {}
        self.track_order: list[int] = []
        self.suggestions: list[SuggestionDef] = []
        self.anchors: dict[int, list[tuple[int, float, float]]] = {}
        self.provenance: dict[str, Any] = {}
        self.frames = FrameTable()
        self.instances = InstanceTable()
        self.occupancy: dict[OccupancyKey, RangeList] = {}
        # video id -> [frames, frames with user instances, frames with predictions]
        self.counts: dict[int, list[int]] = {}

    # ----------------------------------------------------------------- reading

    def frame_instance_rows(self, frame_row: int) -> list[int]:
        inst = self.instances.cols
        return self.frames.instance_rows(frame_row, inst.cols["alive"], inst.cols["frame"])

    def live_instance_rows(self) -> np.ndarray:
        return np.flatnonzero(self.instances.cols.view("alive"))

    def frame_key(self, frame_row: int) -> tuple[int, int]:
        c = self.frames.cols.cols
        return int(c["video"][frame_row]), int(c["frame_idx"][frame_row])


def rebuild_caches(state: State) -> tuple[dict[OccupancyKey, RangeList], dict[int, list[int]]]:
    """Occupancy and counts computed from the tables alone (never from caches)."""
    fc = state.frames.cols
    ic = state.instances.cols
    counts: dict[int, list[int]] = {v: [0, 0, 0] for v in state.video_order}
    f_alive = fc.view("alive")
    rows = np.flatnonzero(f_alive)
    f_video = fc.view("video")
    inst_rows = state.live_instance_rows()
    i_frame = ic.view("frame")[inst_rows]
    i_kind = ic.view("kind")[inst_rows]
    n = fc.n
    user = np.zeros(n, dtype=np.int64)
    pred = np.zeros(n, dtype=np.int64)
    np.add.at(user, i_frame[i_kind == 0], 1)
    np.add.at(pred, i_frame[i_kind == 1], 1)
    for r in rows.tolist():
        c = counts.setdefault(int(f_video[r]), [0, 0, 0])
        c[0] += 1
        c[1] += int(user[r] > 0)
        c[2] += int(pred[r] > 0)
    occupancy: dict[OccupancyKey, RangeList] = {}
    if len(inst_rows):
        vids = f_video[i_frame]
        fidx = fc.view("frame_idx")[i_frame]
        tracks = ic.view("track")[inst_rows]
        groups: dict[OccupancyKey, list[int]] = {}
        for v, t, f in zip(vids.tolist(), tracks.tolist(), fidx.tolist(), strict=True):
            groups.setdefault((v, t), []).append(f)
        for key, idxs in groups.items():
            occupancy[key] = RangeList.from_indices(np.unique(np.asarray(idxs, dtype=np.int64)))
    return occupancy, counts


def _canon_float(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def canonical(state: State) -> dict[str, Any]:
    """A plain, comparable picture of everything observable in a state.

    Two states are the same project exactly when their pictures are equal (NaN is
    written as None so that it compares equal to itself). Row numbers, dead rows
    and capacities do not appear: they are internal.
    """
    ic = state.instances.cols.cols
    frames = []
    for row in state.frames.order():
        video, fidx = state.frame_key(row)
        insts = []
        for r in state.frame_instance_rows(row):
            pts = state.instances.points_of(r)
            insts.append((
                int(ic["id"][r]), int(ic["skeleton"][r]), int(ic["track"][r]),
                int(ic["kind"][r]), _canon_float(ic["score"][r]),
                _canon_float(ic["tracking_score"][r]), int(ic["from_predicted"][r]),
                tuple(tuple(_canon_float(v) for v in p) for p in pts.tolist()),
            ))
        frames.append((video, fidx, tuple(insts)))
    return {
        "videos": [state.videos[v] for v in state.video_order],
        "skeletons": [state.skeletons[s] for s in state.skeleton_order],
        "tracks": [state.tracks[t] for t in state.track_order],
        "suggestions": list(state.suggestions),
        "anchors": {v: list(a) for v, a in state.anchors.items() if a},
        "provenance": dict(state.provenance),
        "frames": frames,
    }


def canonical_caches(state: State) -> tuple[dict[OccupancyKey, tuple], dict[int, list[int]]]:
    occ = {k: v.intervals for k, v in state.occupancy.items() if not v.is_empty}
    counts = {v: list(c) for v, c in state.counts.items()}
    return occ, counts

