"""`Changes`: what differs between two states that share one id space.

A diff is `compare(a, b)`; a three-way merge is two of them (base to ours, base to
theirs). Comparing by id, not by position or name, is what lets a merge tell "the
same instance edited on both sides" from "two instances that look alike".

Everything about instances and points is columnar, so comparing two 50,000-frame
projects is a few array operations. ``scope`` limits the comparison to instances
and frames that events say were touched, which is how a merge of two forks with
a few thousand edits avoids comparing a million untouched instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ledger.core import events as ev
from ledger.core.state import State
from ledger.diffing import gather as g

Def = ev.VideoDef | ev.SkeletonDef | ev.TrackDef
ATTRS = ("from_predicted", "score", "tracking_score")


@dataclass
class Scope:
    """Instances and frames worth comparing (everything else is known equal)."""

    instances: np.ndarray
    frame_video: np.ndarray
    frame_idx: np.ndarray


@dataclass
class Changes:
    """Differences from state ``a`` (before) to state ``b`` (after).

    Definitions map id to ``(before, after)`` (None when absent). Instance
    changes are columns: ``added`` holds the new instances as they are in ``b``
    (points in ``layouts[skeleton]`` node order), ``removed`` as they were in
    ``a``; ``pt_*`` are per (instance, node) point changes, ``tr_*`` track
    changes and ``at_*`` changes of ``from_predicted``, score and tracking score.
    """

    videos: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    skeletons: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    tracks: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    frames_added: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64),
                                                   np.zeros(0, np.int64))
    frames_added_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    frames_removed: tuple[np.ndarray, np.ndarray] = (np.zeros(0, np.int64),
                                                     np.zeros(0, np.int64))
    added: ev.InstanceBatch = field(default_factory=ev.InstanceBatch.empty)
    removed: ev.InstanceBatch = field(default_factory=ev.InstanceBatch.empty)
    layouts: dict[int, tuple[int, ...]] = field(default_factory=dict)
    pt_inst: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pt_node: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pt_before: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))
    pt_after: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))
    pt_video: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    pt_frame: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    tr_inst: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    tr_before: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    tr_after: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    at_inst: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    at_before: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    at_after: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    suggestions: tuple[tuple, tuple] = ((), ())
    anchors: dict[int, tuple[list, list]] = field(default_factory=dict)
    provenance: tuple[dict, dict] = field(default_factory=lambda: ({}, {}))
    positions: dict[str, dict[int, int]] = field(default_factory=dict)

    def edited_ids(self) -> np.ndarray:
        """Instances whose points, track or attributes changed."""
        return np.unique(np.concatenate([self.pt_inst, self.tr_inst, self.at_inst]))

    @property
    def empty(self) -> bool:
        return not (self.videos or self.skeletons or self.tracks or len(self.added)
                    or len(self.removed) or len(self.pt_inst) or len(self.tr_inst)
                    or len(self.at_inst) or len(self.frames_added[0])
                    or len(self.frames_removed[0]) or self.anchors
                    or self.suggestions[0] != self.suggestions[1]
                    or self.provenance[0] != self.provenance[1])


def _defs(before: dict[int, Any], after: dict[int, Any]) -> dict[int, tuple[Any, Any]]:
    out = {}
    for k in list(before) + [k for k in after if k not in before]:
        a, b = before.get(k), after.get(k)
        if a != b:
            out[k] = (a, b)
    return out


def _positions(order_b: list[int], changed: dict[int, tuple[Any, Any]]) -> dict[int, int]:
    return {k: pos for pos, k in enumerate(order_b) if k in changed and changed[k][0] is None}


def compare(a: State, b: State, scope: Scope | None = None) -> Changes:
    """Everything that turns ``a`` into ``b`` (``scope`` limits instances/frames)."""
    ch = Changes()
    ch.videos = _defs(a.videos, b.videos)
    ch.skeletons = _defs(a.skeletons, b.skeletons)
    ch.tracks = _defs(a.tracks, b.tracks)
    ch.positions = {"videos": _positions(b.video_order, ch.videos),
                    "skeletons": _positions(b.skeleton_order, ch.skeletons),
                    "tracks": _positions(b.track_order, ch.tracks)}
    ch.suggestions = (tuple(a.suggestions), tuple(b.suggestions))
    for vid in set(a.anchors) | set(b.anchors):
        la, lb = list(a.anchors.get(vid, [])), list(b.anchors.get(vid, []))
        if [tuple(x) for x in la] != [tuple(x) for x in lb]:
            ch.anchors[vid] = (la, lb)
    ch.provenance = (dict(a.provenance), dict(b.provenance))
    _compare_frames(a, b, scope, ch)
    _compare_instances(a, b, scope, ch)
    return ch


def _compare_frames(a: State, b: State, scope: Scope | None, ch: Changes) -> None:
    va, fa = g.live_frame_keys(a)
    vb, fb = g.live_frame_keys(b)
    coder = g.KeyCoder(a.video_order, b.video_order, va, vb)
    ka, kb = coder.pack(va, fa), coder.pack(vb, fb)
    if scope is not None:
        ks = coder.pack(scope.frame_video, scope.frame_idx)
        ka = ka[np.isin(ka, ks)]
        kb_mask = np.isin(kb, ks)
    else:
        kb_mask = np.ones(len(kb), dtype=bool)
    add_mask = kb_mask & ~np.isin(kb, ka)
    ch.frames_added = coder.unpack(kb[add_mask])
    ch.frames_added_pos = np.flatnonzero(add_mask)
    ch.frames_removed = coder.unpack(np.setdiff1d(ka, kb, assume_unique=False))


def _compare_instances(a: State, b: State, scope: Scope | None, ch: Changes) -> None:
    if scope is None:
        ids_a, rows_a_all = g.live_ids(a)
        ids_b, rows_b_all = g.live_ids(b)
    else:
        ids = np.unique(scope.instances)
        ra, rb = g.rows_of(a, ids), g.rows_of(b, ids)
        ids_a, rows_a_all = ids[ra >= 0], ra[ra >= 0]
        ids_b, rows_b_all = ids[rb >= 0], rb[rb >= 0]
    common, ia, ib = np.intersect1d(ids_a, ids_b, assume_unique=True, return_indices=True)
    ra, rb = rows_a_all[ia], rows_b_all[ib]
    ca, cb = a.instances.cols.cols, b.instances.cols.cols
    # an instance that changed frame, kind or skeleton is removed and added again
    va, fa = g.frame_keys_of_rows(a, ra)
    vb, fb = g.frame_keys_of_rows(b, rb)
    moved = ((va != vb) | (fa != fb) | (ca["kind"][ra] != cb["kind"][rb])
             | (ca["skeleton"][ra] != cb["skeleton"][rb]))
    only_a = np.ones(len(ids_a), dtype=bool)
    only_a[ia[~moved]] = False
    only_b = np.ones(len(ids_b), dtype=bool)
    only_b[ib[~moved]] = False
    ch.removed = g.batch_rows(a, rows_a_all[only_a])
    ch.added = g.batch_rows(b, rows_b_all[only_b])
    for sk in np.unique(ch.added.skeleton).tolist():
        ch.layouts[sk] = g.node_ids(b, sk)
    keep = ~moved
    common, ra, rb = common[keep], ra[keep], rb[keep]
    vb, fb = vb[keep], fb[keep]
    tra, trb = ca["track"][ra], cb["track"][rb]
    diff_t = tra != trb
    ch.tr_inst, ch.tr_before, ch.tr_after = common[diff_t], tra[diff_t], trb[diff_t]
    att_a = np.stack([ca["from_predicted"][ra].astype(np.float64), ca["score"][ra],
                      ca["tracking_score"][ra]], axis=1)
    att_b = np.stack([cb["from_predicted"][rb].astype(np.float64), cb["score"][rb],
                      cb["tracking_score"][rb]], axis=1)
    diff_a = ~g.same_values(att_a, att_b).all(axis=1)
    ch.at_inst, ch.at_before, ch.at_after = common[diff_a], att_a[diff_a], att_b[diff_a]
    _compare_points(a, b, common, ra, rb, vb, fb, ch)


def _compare_points(a: State, b: State, common: np.ndarray, ra: np.ndarray, rb: np.ndarray,
                    vb: np.ndarray, fb: np.ndarray, ch: Changes) -> None:
    parts: list[tuple[np.ndarray, ...]] = []
    skel = b.instances.cols.cols["skeleton"][rb]
    for sk in np.unique(skel).tolist():
        sel = np.flatnonzero(skel == sk)
        nodes_b = g.node_ids(b, sk)
        if sk in a.skeletons and g.node_ids(a, sk) == nodes_b:
            # same layout: compare columns in place, gather only what differs
            mask = g.differing_points(a, ra[sel], b, rb[sel], len(nodes_b))
            sel = sel[mask.any(axis=1)]
            if len(sel) == 0:
                continue
        pa = g.points_by_node(a, ra[sel], sk, nodes_b) if sk in a.skeletons else \
            np.broadcast_to(g.MISSING_POINT, (len(sel), len(nodes_b), 5))
        pb = g.points_block(b, rb[sel], len(nodes_b))
        differs = ~g.same_values(pa, pb).all(axis=2)
        i, j = np.nonzero(differs)
        if len(i):
            nodes = np.asarray(nodes_b, dtype=np.int64)
            parts.append((common[sel][i], nodes[j], pa[i, j], pb[i, j], vb[sel][i],
                          fb[sel][i]))
    if parts:
        ch.pt_inst, ch.pt_node, ch.pt_before, ch.pt_after, ch.pt_video, ch.pt_frame = (
            np.concatenate([p[k] for p in parts]) for k in range(6))
