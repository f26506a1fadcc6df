"""What a merge reads from the two histories: the fork point, the merge base,
which instances and frames the events after the fork touched, and who touched
them.

The fork point is the longest common prefix of event hashes (equal hashes at
``seq`` vouch for equal histories up to ``seq``). After it, the two histories
are compared by *transaction identity* (`ledger.project.rebase.origin_of`): a
merge or a pull replays the other side's transactions, each keeping its
identity in ``meta["origin"]``, and the final ``merge`` transaction lists the
identities it *absorbed* (theirs' transactions that did not replay and came in,
or were turned down, through the resolutions). A side *holds* a transaction when
one with that identity is in effect there (committed, or absorbed by a merge in
effect, and not undone since), so an undone merge holds nothing and merging the
same fork again brings its changes back.

The merge base is the longest prefix of one side's history (after the fork)
that the other side holds: the state there is one both sides contain, as git's
merge base is. Merging the same theirs twice changes nothing, merging back the
other way after a merge finds the merge itself as the base (no conflict is
asked twice), and the larger of the two prefixes wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ledger.core import events as ev
from ledger.core.record import MERGE, REDO, UNDO, Envelope, Record
from ledger.diffing.changes import Scope

if TYPE_CHECKING:
    from ledger.merging.conflict import Conflict
    from ledger.sleap.labels import Labels


@dataclass
class Tx:
    """One transaction after the fork, as the base search sees it."""

    tx: int
    oid: str
    kind: str
    ref: int
    first: int
    last: int
    absorbed: tuple[str, ...] = ()
    own: bool = True  # first committed here (not replayed from another history)


@dataclass
class Side:
    """One side's transactions after the fork and what it holds."""

    txs: list[Tx]
    holds: dict[str, int] = field(default_factory=dict)  # oid -> tx in effect here
    oid_of: dict[int, str] = field(default_factory=dict)
    known: set[str] = field(default_factory=set)  # every identity seen here
    in_effect: set[int] = field(default_factory=set)
    own: dict[int, bool] = field(default_factory=dict)
    unmerged: set[str] = field(default_factory=set)  # merged here, then undone here


def transactions(envelopes: Iterable[Envelope]) -> list[Tx]:
    out: list[Tx] = []
    for env in envelopes:
        if out and out[-1].tx == env.tx:
            out[-1].last = env.seq
            continue
        merge_meta = env.meta.get("merge", {}) if env.tx_kind == MERGE else {}
        out.append(Tx(env.tx, env.meta.get("origin") or env.hash, env.tx_kind, env.ref,
                      env.seq, env.seq, tuple(merge_meta.get("absorbed", ())),
                      "origin" not in env.meta))
    return out


def side_of(txs: list[Tx]) -> Side:
    """Which identities are in effect after these transactions: a do or merge
    holds its own (and a merge its absorbed ones) until an undo takes it back
    and again after a redo; an undo or redo transaction holds its own."""
    side = Side(txs)
    by_tx = {t.tx: t for t in txs}
    effect: dict[int, bool] = {}
    toggled_by: dict[int, Tx] = {}
    for t in txs:
        side.oid_of[t.tx] = t.oid
        side.own[t.tx] = t.own
        side.known.add(t.oid)
        side.known.update(t.absorbed)
        if t.kind in (UNDO, REDO):
            effect[t.tx] = True
            if t.ref in by_tx:
                effect[t.ref] = t.kind == REDO
                toggled_by[t.ref] = t
        else:
            effect[t.tx] = True
    for t in txs:
        if effect.get(t.tx):
            side.in_effect.add(t.tx)
            side.holds[t.oid] = t.tx
            for a in t.absorbed:
                side.holds.setdefault(a, t.tx)
            continue
        if t.kind == MERGE:
            side.unmerged.update(t.absorbed)
        undo = toggled_by.get(t.tx)
        if undo is not None and undo.own and not t.own:
            side.unmerged.add(t.oid)
    side.unmerged -= side.holds.keys()
    return side


@dataclass
class Base:
    """Where the two histories meet."""

    fork_seq: int  # last common seq (0: no shared history)
    theirs_seq: int  # seq of theirs the base state is taken from (when from_theirs)
    from_theirs: bool  # base is theirs@theirs_seq, else ours@ours_seq
    ours_seq: int = 0
    ours: Side | None = None
    theirs: Side | None = None


def _quick_differs(a: Labels, b: Labels) -> bool:
    """True when the first envelopes differ (saves hashing or decoding a large
    bulk import just to learn that two loaded files share nothing)."""
    ea, eb = a.project.envelopes(1, 1), b.project.envelopes(1, 1)
    if not ea or not eb:
        return True
    return (ea[0].time, ea[0].author, ea[0].tx, ea[0].message, ea[0].kind) != (
        eb[0].time, eb[0].author, eb[0].tx, eb[0].message, eb[0].kind)


def _held_prefix(side: Side, other: Side, fork: int) -> int:
    """The end of the longest run of ``side``'s transactions that ``other``
    knows: both sides' states since then are that state plus their own changes
    (an undo of a known change, one's own or replayed, is such a change). A
    transaction either side merged and then undid itself ends the run: undoing
    a merge *un-merges* it (merging again brings it back), it is no change for
    the other side to take in."""
    seq = fork
    for t in side.txs:
        if t.oid not in other.known or t.oid in other.unmerged or t.oid in side.unmerged:
            break
        seq = t.last
    return seq


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
    so = side_of(transactions(po.envelopes(fork + 1)))
    st = side_of(transactions(pt.envelopes(fork + 1)))
    k = _held_prefix(st, so, fork)  # theirs' prefix ours holds
    j = _held_prefix(so, st, fork)  # ours' prefix theirs holds
    ro, rt = po.records(fork + 1), pt.records(fork + 1)
    if k > fork and k - fork >= j - fork:
        return Base(fork, k, True, fork, so, st), ro, rt
    return Base(fork, fork, False, j, so, st), ro, rt


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


_SINGLE = (ev.PointSet, ev.PointsSet, ev.InstanceUpdated)


@dataclass
class Mentions:
    """What a run of records mentions, as flat arrays with the index of the
    record each entry came from, gathered in one pass (single-instance events,
    the common case, cost a list append, not an array each), so the scope and
    the attribution of conflicts are a few vectorised set operations however
    many transactions there are."""

    records: list[Record]
    ids: np.ndarray
    id_rec: np.ndarray
    video: np.ndarray
    frame_idx: np.ndarray
    frame_rec: np.ndarray

    @classmethod
    def of(cls, records: list[Record]) -> Mentions:
        single, single_rec = [], []
        ids, id_rec, vids, fidx, frec = [], [], [], [], []
        for k, rec in enumerate(records):
            e = rec.event
            if isinstance(e, _SINGLE):
                single.append(e.instance)
                single_rec.append(k)
                continue
            i, v, f = mentions(e)
            if len(i):
                ids.append(np.asarray(i, np.int64))
                id_rec.append(np.full(len(i), k, np.int64))
            if len(v):
                vids.append(np.asarray(v, np.int64))
                fidx.append(np.asarray(f, np.int64))
                frec.append(np.full(len(v), k, np.int64))
        ids.append(np.array(single, np.int64))
        id_rec.append(np.array(single_rec, np.int64))

        def cat(parts: list[np.ndarray]) -> np.ndarray:
            return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)

        return cls(records, cat(ids), cat(id_rec), cat(vids), cat(fidx), cat(frec))


def scope_of(*sides: Mentions) -> Scope:
    return Scope(np.unique(np.concatenate([m.ids for m in sides])),
                 np.concatenate([m.video for m in sides]),
                 np.concatenate([m.frame_idx for m in sides]))


def _pack(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    return (np.asarray(v, np.int64).astype(np.uint64) * np.uint64(1 << 32)
            ^ np.asarray(f, np.int64).astype(np.uint64))


def attribute(conflicts: list[Conflict], side: str, found: Mentions,
              start: int = 0) -> None:
    """Fill each conflict's authors and transactions for one side, from the
    records ``found.records[start:]`` (one `np.isin` per side, not per record)."""
    records = found.records
    if not conflicts or len(records) <= start:
        for c in conflicts:
            setattr(c, f"{side}_authors", [])
            setattr(c, f"{side}_tx", [])
        return
    hits: dict[tuple, set[int]] = {}
    inst = np.array(sorted({c.subjects["instance"] for c in conflicts
                            if "instance" in c.subjects}), np.int64)
    if len(inst):
        keep = (found.id_rec >= start) & np.isin(found.ids, inst)
        for i, k in zip(found.ids[keep].tolist(), found.id_rec[keep].tolist(), strict=True):
            hits.setdefault(("instance", i), set()).add(k)
    frames = {c.subjects["frame"] for c in conflicts if "frame" in c.subjects}
    if frames:
        want = _pack(np.array([f[0] for f in frames]), np.array([f[1] for f in frames]))
        packed = _pack(found.video, found.frame_idx)
        keep = (found.frame_rec >= start) & np.isin(packed, want)
        for v, f, k in zip(found.video[keep].tolist(), found.frame_idx[keep].tolist(),
                           found.frame_rec[keep].tolist(), strict=True):
            hits.setdefault(("frame", (v, f)), set()).add(k)
    other = {(k, c.subjects[k]) for c in conflicts
             for k in ("video", "node", "skeleton", "track", "provenance") if k in c.subjects}
    if other:
        for k in range(start, len(records)):
            e = records[k].event
            if isinstance(e, _SINGLE) and not isinstance(e, ev.PointSet):
                continue
            for key in _def_mentions(e):
                if key in other:
                    hits.setdefault(key, set()).add(k)
    for c in conflicts:
        got: set[int] = set()
        if "instance" in c.subjects:
            got |= hits.get(("instance", c.subjects["instance"]), set())
        if "frame" in c.subjects:
            got |= hits.get(("frame", tuple(c.subjects["frame"])), set())
        for k in ("video", "node", "skeleton", "track", "provenance"):
            if k in c.subjects:
                got |= hits.get((k, c.subjects[k]), set())
        setattr(c, f"{side}_authors", sorted({records[k].author for k in got}))
        setattr(c, f"{side}_tx", sorted({records[k].tx for k in got}))


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
