"""What a merge reads from the two histories: the fork point, the merge base,
which instances and frames the events after the fork touched, and who touched
them.

The fork point is the longest common prefix of event hashes (equal hashes at
``seq`` vouch for equal histories up to ``seq``). A previous merge of the same
theirs is recorded in our merge envelope (``meta["merge"]["theirs_head"]``); when
theirs still contains that head, the merge base moves up to it, as git's does, so
merging the same theirs twice changes nothing and merging it again later only
brings its newer changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ledger.core import events as ev
from ledger.core.record import MERGE, Record
from ledger.diffing.changes import Scope

if TYPE_CHECKING:
    from ledger.merging.conflict import Conflict
    from ledger.sleap.labels import Labels


@dataclass
class Base:
    """Where the two histories meet."""

    fork_seq: int  # last common seq (0: no shared history)
    theirs_seq: int  # seq of theirs the base state is taken from
    from_theirs: bool  # base is theirs@theirs_seq (a previous merge), else ours@fork_seq


def _quick_differs(a: Labels, b: Labels) -> bool:
    """True when the first envelopes differ (saves hashing or decoding a large
    bulk import just to learn that two loaded files share nothing)."""
    ea, eb = a.project.envelopes(1, 1), b.project.envelopes(1, 1)
    if not ea or not eb:
        return True
    return (ea[0].time, ea[0].author, ea[0].tx, ea[0].message, ea[0].kind) != (
        eb[0].time, eb[0].author, eb[0].tx, eb[0].message, eb[0].kind)


def find_base(ours: Labels, theirs: Labels) -> tuple[Base, list[Record], list[Record]]:
    """The merge base and both sides' records after the fork point (hashes filled
    in). The fork point is found by binary search over stored hashes (equal hashes
    at k imply equal histories up to k), so only the records after it are read."""
    if _quick_differs(ours, theirs):
        return Base(0, 0, False), ours.project.records(), theirs.project.records()
    po, pt = ours.project, theirs.project
    lo, hi = 0, min(po.head, pt.head)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if po.store.hash_at(mid) == pt.store.hash_at(mid):
            lo = mid
        else:
            hi = mid - 1
    fork = lo
    theirs_at = {e.hash: e.seq for e in pt.envelopes(fork + 1)}
    best = 0
    for env in po.envelopes(fork + 1):
        if env.tx_kind == MERGE:
            head = env.meta.get("merge", {}).get("theirs_head")
            if head in theirs_at:
                best = max(best, theirs_at[head])
    ro, rt = po.records(fork + 1), pt.records(fork + 1)
    if best:
        return Base(fork, best, True), ro, rt
    return Base(fork, fork, False), ro, rt


def _batch_keys(batch: ev.InstanceBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return batch.ids, batch.video, batch.frame_idx


def mentions(event: ev.Event) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(instance ids, frame videos, frame indices) an event touches."""
    e = event
    empty = np.zeros(0, np.int64)
    if isinstance(e, ev.PointSet | ev.PointsSet | ev.InstanceUpdated):
        return np.array([e.instance], np.int64), empty, empty
    if isinstance(e, ev.TracksAssigned):
        return np.asarray(e.instances, np.int64), empty, empty
    if isinstance(e, ev.InstancesAdded | ev.InstancesRemoved):
        return _batch_keys(e.instances)
    frames = None
    if isinstance(e, ev.FramesAdded | ev.FramesRemoved):
        frames = e.frames
    elif isinstance(e, ev.VideoAdded | ev.VideoRemoved):
        frames = e.frames
    if frames is not None:
        return (frames.instances.ids, np.concatenate([frames.video, frames.instances.video]),
                np.concatenate([frames.frame_idx, frames.instances.frame_idx]))
    return empty, empty, empty


def scope_of(records: Iterable[Record]) -> Scope:
    ids, vids, fidx = [], [], []
    for rec in records:
        i, v, f = mentions(rec.event)
        if len(i):
            ids.append(i)
        if len(v):
            vids.append(v)
            fidx.append(f)

    def cat(parts: list[np.ndarray]) -> np.ndarray:
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

    return Scope(np.unique(cat(ids)), cat(vids), cat(fidx))


def attribute(conflicts: list[Conflict], side: str, records: list[Record]) -> None:
    """Fill each conflict's authors and transactions for one side."""
    if not conflicts or not records:
        return
    inst = {c.subjects["instance"]: [] for c in conflicts if "instance" in c.subjects}
    inst_arr = np.fromiter(inst, np.int64, len(inst))
    frame = {c.subjects["frame"]: [] for c in conflicts if "frame" in c.subjects}
    other: dict[tuple[str, int], list] = {}
    for c in conflicts:
        for k in ("video", "node", "skeleton", "track", "provenance"):
            if k in c.subjects:
                other.setdefault((k, c.subjects[k]), [])
    for rec in records:
        e = rec.event
        who = (rec.author, rec.tx)
        if inst:
            ids, v, f = mentions(e)
            if len(ids):
                for i in ids[np.isin(ids, inst_arr)].tolist():
                    inst[i].append(who)
            if frame and len(v):
                for key in set(zip(v.tolist(), f.tolist(), strict=True)) & frame.keys():
                    frame[key].append(who)
        elif frame:
            _, v, f = mentions(e)
            for key in set(zip(v.tolist(), f.tolist(), strict=True)) & frame.keys():
                frame[key].append(who)
        if other:
            for key in _def_mentions(e):
                if key in other:
                    other[key].append(who)
    for c in conflicts:
        hits: list = []
        if "instance" in c.subjects:
            hits += inst[c.subjects["instance"]]
        if "frame" in c.subjects:
            hits += frame[c.subjects["frame"]]
        for k in ("video", "node", "skeleton", "track", "provenance"):
            if k in c.subjects:
                hits += other[(k, c.subjects[k])]
        authors = sorted({a for a, _ in hits})
        txs = sorted({t for _, t in hits})
        setattr(c, f"{side}_authors", authors)
        setattr(c, f"{side}_tx", txs)


def _def_mentions(e: ev.Event) -> list[tuple[str, object]]:
    if isinstance(e, ev.VideoAdded | ev.VideoRemoved):
        return [("video", e.video.id)]
    if isinstance(e, ev.VideoChanged):
        return [("video", e.after.id)]
    if isinstance(e, ev.NodeAdded | ev.NodeRemoved):
        return [("node", e.node), ("skeleton", e.skeleton_before.id)]
    if isinstance(e, ev.SkeletonChanged):
        before = {n.id: n.name for n in e.before.nodes}
        return [("skeleton", e.after.id)] + [("node", n.id) for n in e.after.nodes
                                             if before.get(n.id) != n.name]
    if isinstance(e, ev.SkeletonAdded | ev.SkeletonRemoved):
        return [("skeleton", e.skeleton.id)]
    if isinstance(e, ev.TrackAdded | ev.TrackRemoved):
        return [("track", e.track.id)]
    if isinstance(e, ev.TrackChanged):
        return [("track", e.after.id)]
    if isinstance(e, ev.ProvenanceSet):
        return [("provenance", k) for k in set(e.before) | set(e.after)
                if e.before.get(k) != e.after.get(k)]
    if isinstance(e, ev.PointSet):
        return [("node", e.node)]
    return []
