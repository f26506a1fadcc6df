"""Line up two projects that share no history (two `.slp` files).

Ledgers that share history share ids, so they compare by id. Two separately
loaded files do not, so this module matches their contents and rewrites the
second project into the first one's id space: videos by path (exact, then SLEAP's
last-three-components rule, then a unique basename); skeletons by node names,
never node order; tracks by name or by id (the caller's choice); instances per
frame and kind, either SLEAP's exact match (equal points and track) or within a
pixel tolerance, or for diffs by rank within (frame, kind, track). Everything not
matched gets a fresh id. The result is a `State` that `compare` can diff against
the first project directly.
"""

from __future__ import annotations

import os
from typing import Literal

import numpy as np

from ledger.core import events as ev
from ledger.core.apply import apply_event
from ledger.core.columns import ranges_to_index
from ledger.core.ids import NO_ID, IdSource, RandomIds
from ledger.core.state import State
from ledger.diffing import gather as g
from ledger.sleap.labels_merge import weak_filename_match

InstanceRule = Literal["exact", "tolerance", "rank"]


def _filename(v: ev.VideoDef) -> str:
    return str(v.backend.get("filename", ""))


def match_videos(ours: State, theirs: State) -> dict[int, int]:
    """theirs video id -> ours video id."""
    out: dict[int, int] = {}
    free = list(ours.video_order)
    rules = (lambda a, b: a == b, weak_filename_match,
             lambda a, b: os.path.basename(a) == os.path.basename(b))
    for rule in rules:
        for tv in theirs.video_order:
            if tv in out:
                continue
            hits = [ov for ov in free if rule(_filename(ours.videos[ov]),
                                              _filename(theirs.videos[tv]))]
            if len(hits) == 1 or (hits and rule is rules[0]):
                out[tv] = hits[0]
                free.remove(hits[0])
    return out


def match_skeletons(ours: State, theirs: State) -> dict[int, int]:
    """theirs skeleton id -> ours skeleton id, by node names (order ignored); one
    skeleton each that share a node name also match (SLEAP's unify)."""
    out: dict[int, int] = {}
    names = {s: frozenset(n.name for n in ours.skeletons[s].nodes) for s in ours.skeleton_order}
    for ts in theirs.skeleton_order:
        tn = frozenset(n.name for n in theirs.skeletons[ts].nodes)
        hit = [s for s, n in names.items() if n == tn and s not in out.values()]
        if hit:
            out[ts] = hit[0]
    if not out and len(ours.skeletons) == 1 and len(theirs.skeletons) == 1:
        (os_,), (ts,) = ours.skeleton_order, theirs.skeleton_order
        if names[os_] & {n.name for n in theirs.skeletons[ts].nodes}:
            out[ts] = os_
    return out


def match_tracks(ours: State, theirs: State, by: Literal["name", "id"]) -> dict[int, int]:
    if by == "id":
        return {t: t for t in theirs.track_order if t in ours.tracks}
    by_name = {ours.tracks[t].name: t for t in ours.track_order}
    return {t: by_name[theirs.tracks[t].name] for t in theirs.track_order
            if theirs.tracks[t].name in by_name}


def _id_map(keys: np.ndarray, values: np.ndarray, query: np.ndarray, default: int) -> np.ndarray:
    out = np.full(len(query), default, dtype=np.int64)
    if len(keys) == 0 or len(query) == 0:
        return out
    order = np.argsort(keys)
    sk = keys[order]
    pos = np.clip(np.searchsorted(sk, query), 0, len(sk) - 1)
    hit = sk[pos] == query
    out[hit] = values[order][pos[hit]]
    return out


def match_instances(ours: State, theirs: State, video_map: dict[int, int],
                    skel_map: dict[int, int], track_map: dict[int, int],
                    rule: InstanceRule = "exact", tolerance: float = 0.0
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (ours ids, theirs ids) of instances that are the same, vectorised
    over all frames both projects have."""
    o_ids, o_rows = g.live_ids(ours)
    t_ids, t_rows = g.live_ids(theirs)
    if len(o_ids) == 0 or len(t_ids) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    oc, tc = ours.instances.cols.cols, theirs.instances.cols.cols
    ov, of = g.frame_keys_of_rows(ours, o_rows)
    tv, tf = g.frame_keys_of_rows(theirs, t_rows)
    tv_mapped = _id_map(np.fromiter(video_map, np.int64, len(video_map)),
                        np.fromiter(video_map.values(), np.int64, len(video_map)), tv, NO_ID)
    coder = g.KeyCoder(ours.video_order)
    ok_t = np.isin(tv_mapped, coder.videos)
    o_key = coder.pack(ov, of) * 2 + oc["kind"][o_rows]
    t_key = np.where(ok_t, coder.pack(np.where(ok_t, tv_mapped, coder.videos[0]), tf) * 2
                     + tc["kind"][t_rows], -1)
    order = np.argsort(o_key, kind="stable")
    sk = o_key[order]
    start = np.searchsorted(sk, t_key, "left")
    cnt = np.searchsorted(sk, t_key, "right") - start
    cnt[t_key < 0] = 0
    t_idx = np.repeat(np.arange(len(t_key)), cnt)
    o_idx = order[ranges_to_index(start, cnt)] if cnt.sum() else np.zeros(0, np.int64)
    if len(t_idx) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    t_skel = _id_map(np.fromiter(skel_map, np.int64, len(skel_map)),
                     np.fromiter(skel_map.values(), np.int64, len(skel_map)),
                     tc["skeleton"][t_rows][t_idx], NO_ID)
    ok = t_skel == oc["skeleton"][o_rows][o_idx]
    t_track = _id_map(np.fromiter(track_map, np.int64, len(track_map)),
                      np.fromiter(track_map.values(), np.int64, len(track_map)),
                      tc["track"][t_rows][t_idx], -2)
    t_track[tc["track"][t_rows][t_idx] == NO_ID] = NO_ID
    same_track = t_track == oc["track"][o_rows][o_idx]
    good = np.flatnonzero(ok & same_track)
    if rule != "rank":
        close = np.zeros(len(good), dtype=bool)
        for sk_o in np.unique(oc["skeleton"][o_rows][o_idx[good]]).tolist():
            sel = good[oc["skeleton"][o_rows][o_idx[good]] == sk_o]
            nodes_o = g.node_ids(ours, sk_o)
            names_o = [n.name for n in ours.skeletons[sk_o].nodes]
            po = g.points_block(ours, o_rows[o_idx[sel]], len(nodes_o))[..., :2]
            pt = np.full_like(po, np.nan)
            for ts in np.unique(tc["skeleton"][t_rows][t_idx[sel]]).tolist():
                sub = tc["skeleton"][t_rows][t_idx[sel]] == ts
                t_names = [n.name for n in theirs.skeletons[ts].nodes]
                block = g.points_block(theirs, t_rows[t_idx[sel][sub]], len(t_names))[..., :2]
                for j, name in enumerate(names_o):
                    if name in t_names:
                        pt[sub, j] = block[:, t_names.index(name)]
            same_nan = np.isnan(po) == np.isnan(pt)
            if rule == "exact":
                near = g.same_values(po, pt)
            else:
                near = same_nan & ((np.abs(po - pt) <= tolerance) | np.isnan(po))
            close[np.searchsorted(good, sel)] = (near & same_nan).all(axis=(1, 2))
        good = good[close]
    # one-to-one, first come first served (theirs in order, then ours)
    _, first_t = np.unique(t_idx[good], return_index=True)
    good = good[np.sort(first_t)]
    _, first_o = np.unique(o_idx[good], return_index=True)
    good = good[np.sort(first_o)]
    return o_ids[o_idx[good]], t_ids[t_idx[good]]


def translate(ours: State, theirs: State, *, tracks: Literal["name", "id"] = "name",
              instances: InstanceRule = "exact", tolerance: float = 0.0,
              ids: IdSource | None = None) -> State:
    """``theirs`` rebuilt in ``ours``' id space: matched things take ours' ids,
    the rest fresh ids from ``ids``."""
    ids = ids or RandomIds()
    vmap = match_videos(ours, theirs)
    smap = match_skeletons(ours, theirs)
    tmap = match_tracks(ours, theirs, tracks)
    o_match, t_match = match_instances(ours, theirs, vmap, smap, tmap, instances, tolerance)
    out = State()
    node_map: dict[int, int] = {}
    for k, sid in enumerate(theirs.skeleton_order):
        s = theirs.skeletons[sid]
        target = ours.skeletons[smap[sid]] if sid in smap else None
        by_name = {n.name: n.id for n in target.nodes} if target else {}
        for n in s.nodes:
            node_map[n.id] = by_name.get(n.name) or ids.new_id()
        new_sid = smap.get(sid) or ids.new_id()
        smap[sid] = new_sid
        apply_event(out, ev.SkeletonAdded(ev.SkeletonDef(
            new_sid, s.name, tuple(ev.NodeDef(node_map[n.id], n.name, n.weight) for n in s.nodes),
            tuple((node_map[a], node_map[b]) for a, b in s.edges),
            tuple((node_map[a], node_map[b]) for a, b in s.symmetries)), k))
    for k, vid in enumerate(theirs.video_order):
        v = theirs.videos[vid]
        vmap[vid] = vmap.get(vid) or ids.new_id()
        apply_event(out, ev.VideoAdded(ev.VideoDef(vmap[vid], v.backend, v.source_video), k))
    for k, tid in enumerate(theirs.track_order):
        t = theirs.tracks[tid]
        tmap[tid] = tmap.get(tid) or ids.new_id()
        apply_event(out, ev.TrackAdded(ev.TrackDef(tmap[tid], t.name, t.spawned_on), k))
    t_ids, t_rows = g.live_ids(theirs)
    fresh = ids.new_block(max(len(t_ids), 1)) + np.arange(len(t_ids), dtype=np.int64)
    new_ids = _id_map(t_match, o_match, t_ids, NO_ID)
    new_ids = np.where(new_ids == NO_ID, fresh, new_ids)

    def remap(mapping: dict[int, int], values: np.ndarray) -> np.ndarray:
        keys = np.fromiter(mapping, np.int64, len(mapping))
        vals = np.fromiter(mapping.values(), np.int64, len(mapping))
        res = _id_map(keys, vals, values, NO_ID)
        return np.where(values == NO_ID, NO_ID, res)

    fv, ff = g.live_frame_keys(theirs)
    frame_rows = np.asarray(theirs.frames.order(), dtype=np.int64)
    tc = theirs.instances.cols.cols
    # instances in frame order, so the bulk add lays frames out contiguously
    pos = np.full(theirs.frames.n, -1, dtype=np.int64)
    pos[frame_rows] = np.arange(len(frame_rows))
    order = np.lexsort((t_rows, pos[tc["frame"][t_rows]]))
    batch = g.batch_rows(theirs, t_rows[order])
    batch = g.replace(
        batch, ids=new_ids[order], video=remap(vmap, batch.video),
        skeleton=remap(smap, batch.skeleton), track=remap(tmap, batch.track),
        from_predicted=remap(dict(zip(t_ids.tolist(), new_ids.tolist(), strict=True)),
                             batch.from_predicted))
    if len(fv):
        apply_event(out, ev.FramesAdded(ev.FrameBatch(
            remap(vmap, fv), ff, np.arange(len(fv), dtype=np.int64), batch)))
    if theirs.suggestions:
        apply_event(out, ev.SuggestionsReplaced((), tuple(
            ev.SuggestionDef(vmap[s.video], s.frame_idx, s.group) for s in theirs.suggestions)))
    for vid, lst in theirs.anchors.items():
        if lst:
            apply_event(out, ev.AnchorsAdded(vmap[vid], tuple(range(len(lst))),
                                             tuple(tuple(a) for a in lst)))  # type: ignore[misc]
    if theirs.provenance:
        apply_event(out, ev.ProvenanceSet({}, dict(theirs.provenance)))
    return out
