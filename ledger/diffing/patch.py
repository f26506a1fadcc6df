"""`Patch`: a target description of changes, and the events that make it true.

Diffs and merges both end in "make these changes to that state". Rather than
replaying another ledger's events (which carry *its* old values and list
positions, so undoing them would not restore ours), `events_for` builds fresh
events against the state they will be applied to: removals carry what the state
actually holds, point edits the state's actual old values, and positions are
tracked as the events are laid out. Undoing the resulting transaction therefore
returns the state exactly.

The order is fixed so each event fits the state left by the previous ones:
removals (instances, frames, videos), skeleton node edits, new definitions, new
frames and instances, point / track / attribute edits, then definition changes
and removals, suggestions, anchors and provenance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ledger.core import events as ev
from ledger.core.ids import NO_ID
from ledger.core.state import State
from ledger.diffing import gather as g
from ledger.errors import LedgerError


class PatchError(LedgerError):
    """A patch cannot be laid out as events on this state."""


def _i64() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass
class Patch:
    """Target values for what should change; ``None`` definitions are removals.

    ``add`` carries new instances with points in ``layouts[skeleton]`` node order;
    they are re-laid out to the skeleton's final node order when applied.
    ``frames_add_pos`` (optional) gives list positions for new frames; without it
    they go to the end.
    """

    videos: dict[int, ev.VideoDef | None] = field(default_factory=dict)
    skeletons: dict[int, ev.SkeletonDef | None] = field(default_factory=dict)
    tracks: dict[int, ev.TrackDef | None] = field(default_factory=dict)
    positions: dict[str, dict[int, int]] = field(default_factory=dict)
    frames_add: tuple[np.ndarray, np.ndarray] = field(default_factory=lambda: (_i64(), _i64()))
    frames_add_pos: np.ndarray | None = None
    frames_remove: tuple[np.ndarray, np.ndarray] = field(
        default_factory=lambda: (_i64(), _i64()))
    add: ev.InstanceBatch = field(default_factory=ev.InstanceBatch.empty)
    layouts: dict[int, tuple[int, ...]] = field(default_factory=dict)
    remove: np.ndarray = field(default_factory=_i64)
    pt_inst: np.ndarray = field(default_factory=_i64)
    pt_node: np.ndarray = field(default_factory=_i64)
    pt_val: np.ndarray = field(default_factory=lambda: np.zeros((0, 5)))
    tr_inst: np.ndarray = field(default_factory=_i64)
    tr_new: np.ndarray = field(default_factory=_i64)
    at_inst: np.ndarray = field(default_factory=_i64)
    at_val: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    suggestions: tuple[ev.SuggestionDef, ...] | None = None
    anchors: dict[int, list] = field(default_factory=dict)
    provenance: dict[str, Any] | None = None

    def extend(self, other: Patch) -> None:
        """Add ``other``'s changes (its values win where both set one)."""
        self.videos.update(other.videos)
        self.skeletons.update(other.skeletons)
        self.tracks.update(other.tracks)
        for k, v in other.positions.items():
            self.positions.setdefault(k, {}).update(v)
        self.frames_add = (np.concatenate([self.frames_add[0], other.frames_add[0]]),
                           np.concatenate([self.frames_add[1], other.frames_add[1]]))
        self.frames_remove = (np.concatenate([self.frames_remove[0], other.frames_remove[0]]),
                              np.concatenate([self.frames_remove[1], other.frames_remove[1]]))
        self.add = g.concat([self.add, other.add])
        self.layouts.update(other.layouts)
        self.remove = np.concatenate([self.remove, other.remove])
        self.pt_inst = np.concatenate([self.pt_inst, other.pt_inst])
        self.pt_node = np.concatenate([self.pt_node, other.pt_node])
        self.pt_val = np.concatenate([self.pt_val, other.pt_val])
        self.tr_inst = np.concatenate([self.tr_inst, other.tr_inst])
        self.tr_new = np.concatenate([self.tr_new, other.tr_new])
        self.at_inst = np.concatenate([self.at_inst, other.at_inst])
        self.at_val = np.concatenate([self.at_val, other.at_val])
        if other.suggestions is not None:
            self.suggestions = other.suggestions
        self.anchors.update(other.anchors)
        if other.provenance is not None:
            self.provenance = other.provenance


def _last_wins(ids: np.ndarray) -> np.ndarray:
    """Positions of the last occurrence of each id (later patch parts win)."""
    if len(ids) == 0:
        return _i64()
    rev = ids[::-1]
    _, first = np.unique(rev, return_index=True)
    return np.sort(len(ids) - 1 - first)


class _Layout:
    """Builds the events, keeping the positional lists in step as it goes."""

    def __init__(self, state: State, patch: Patch) -> None:
        self.st = state
        self.p = patch
        self.events: list[ev.Event] = []
        self.order: list[int] = list(state.frames.order())
        self.video_order = list(state.video_order)
        self.track_order = list(state.track_order)
        self.skeleton_order = list(state.skeleton_order)
        self.suggestions = list(state.suggestions)
        self.skeletons = dict(state.skeletons)
        self.gone_rows: set[int] = set()  # instance rows removed so far
        self.gone_frames: set[int] = set()
        self.track_now: dict[int, int] = {}

    # ----------------------------------------------------------------- helpers

    def _frame_rows(self, video: np.ndarray, frame_idx: np.ndarray) -> np.ndarray:
        """Live frame rows for keys (-1 when absent), vectorised."""
        keys = self.st.frames.key_index()
        fc = self.st.frames.cols.cols
        out = np.full(len(video), -1, dtype=np.int64)
        for k, key in enumerate(zip(video.tolist(), frame_idx.tolist(), strict=True)):
            row = keys.get(key)
            if row is not None and fc["alive"][row] and row not in self.gone_frames:
                out[k] = row
        return out

    def _instances_of_frames(self, frame_rows: np.ndarray) -> np.ndarray:
        live = self.st.live_instance_rows()
        rows = live[np.isin(self.st.instances.cols.cols["frame"][live], frame_rows)]
        if self.gone_rows:
            rows = rows[~np.isin(rows, np.fromiter(self.gone_rows, np.int64))]
        return rows

    def _frames_batch(self, frame_rows: list[int]) -> ev.FrameBatch:
        where = {r: k for k, r in enumerate(self.order)}
        pairs = sorted((where[r], r) for r in frame_rows)
        rows = np.array([r for _, r in pairs], dtype=np.int64)
        fc = self.st.frames.cols.cols
        inst = self._instances_of_frames(rows)
        self.gone_rows.update(inst.tolist())
        self.gone_frames.update(rows.tolist())
        gone = set(rows.tolist())
        self.order = [r for r in self.order if r not in gone]
        return ev.FrameBatch(fc["video"][rows].copy(), fc["frame_idx"][rows].copy(),
                             np.array([p for p, _ in pairs], dtype=np.int64),
                             g.batch_rows(self.st, inst))

    # ----------------------------------------------------------------- steps

    def removals(self) -> None:
        st, p = self.st, self.p
        rm_videos = [v for v, d in p.videos.items() if d is None and v in st.videos]
        rm_vset = np.asarray(rm_videos, dtype=np.int64)
        remove_ids = np.unique(p.remove)
        rows = g.rows_of(st, remove_ids)
        rows = rows[rows >= 0]
        fv, ff = p.frames_remove
        f_rows = self._frame_rows(fv, ff) if len(fv) else _i64()
        f_rows = np.unique(f_rows[(f_rows >= 0) & ~np.isin(fv, rm_vset)])
        kill_frames: list[int] = []
        if len(f_rows):
            add_v, add_f = self.p.add.video, self.p.add.frame_idx
            add_rows = self._frame_rows(add_v, add_f) if len(add_v) else _i64()
            remove_rows = set(rows.tolist())
            c = st.instances.cols.cols
            for fr in f_rows.tolist():
                inst = st.frame_instance_rows(fr)
                if all(r in remove_rows for r in inst) and fr not in set(add_rows.tolist()):
                    kill_frames.append(fr)
            del c
        c = st.instances.cols.cols
        fc = st.frames.cols.cols
        in_gone_video = np.isin(fc["video"][c["frame"][rows]], rm_vset)
        in_kill = np.isin(c["frame"][rows], np.asarray(kill_frames, dtype=np.int64))
        solo = rows[~in_gone_video & ~in_kill]
        if len(solo):
            self.events.append(ev.InstancesRemoved(g.batch_rows(st, solo)))
            self.gone_rows.update(solo.tolist())
        if kill_frames:
            self.events.append(ev.FramesRemoved(self._frames_batch(kill_frames)))
        for vid in rm_videos:
            self._remove_video(vid)

    def _remove_video(self, vid: int) -> None:
        fc = self.st.frames.cols.cols
        rows = [r for r in self.order if int(fc["video"][r]) == vid]
        suggs = tuple((k, s) for k, s in enumerate(self.suggestions) if s.video == vid)
        anchors = tuple(tuple(a) for a in self.st.anchors.get(vid, []))
        pos = self.video_order.index(vid)
        frames = self._frames_batch(rows) if rows else None
        self.events.append(ev.VideoRemoved(self.st.videos[vid], pos, frames, suggs,
                                           anchors))  # type: ignore[arg-type]
        self.video_order.remove(vid)
        self.suggestions = [s for s in self.suggestions if s.video != vid]

    def node_edits(self) -> None:
        for sid, target in self.p.skeletons.items():
            if target is None or sid not in self.st.skeletons:
                continue
            cur = original = self.st.skeletons[sid]
            want = {n.id for n in target.nodes}
            for node in [n for n in cur.nodes if n.id not in want]:
                after = ev.SkeletonDef(
                    sid, cur.name, tuple(n for n in cur.nodes if n.id != node.id),
                    tuple(e for e in cur.edges if node.id not in e),
                    tuple(s for s in cur.symmetries if node.id not in s))
                rows = self._live_rows_of_skeleton(sid)
                # the state still has the original layout (node edits come before
                # any point edit of the patch), so read the node's column there
                values = g.points_block(self.st, rows, len(original.nodes))[
                    :, original.node_position(node.id)] if len(rows) else np.zeros((0, 5))
                ids = self.st.instances.cols.cols["id"][rows].copy()
                self.events.append(ev.NodeRemoved(cur, after, node.id, ids, values))
                cur = after
            have = {n.id for n in cur.nodes}
            for k, node in enumerate(target.nodes):
                if node.id in have:
                    continue
                nodes = list(cur.nodes)
                nodes.insert(min(k, len(nodes)), node)
                after = ev.SkeletonDef(sid, cur.name, tuple(nodes), cur.edges, cur.symmetries)
                self.events.append(ev.NodeAdded(cur, after, node.id, _i64(), np.zeros((0, 5))))
                cur = after
            if [n.id for n in cur.nodes] != [n.id for n in target.nodes]:
                raise PatchError(f"skeleton {target.name!r}: nodes cannot be reordered")
            if cur != target:
                self.events.append(ev.SkeletonChanged(cur, target))
            self.skeletons[sid] = target

    def _live_rows_of_skeleton(self, sid: int) -> np.ndarray:
        live = self.st.live_instance_rows()
        rows = live[self.st.instances.cols.cols["skeleton"][live] == sid]
        if self.gone_rows:
            rows = rows[~np.isin(rows, np.fromiter(self.gone_rows, np.int64))]
        return rows

    def new_definitions(self) -> None:
        p = self.p
        for kind, defs, order, make in (
                ("skeletons", p.skeletons, self.skeleton_order, ev.SkeletonAdded),
                ("tracks", p.tracks, self.track_order, ev.TrackAdded),
                ("videos", p.videos, self.video_order, ev.VideoAdded)):
            have = getattr(self.st, kind)
            new = [d for i, d in defs.items() if d is not None and i not in have]
            wanted = p.positions.get(kind, {})
            new.sort(key=lambda d: wanted.get(d.id, 1 << 62))
            for d in new:
                pos = min(wanted.get(d.id, len(order)), len(order))
                order.insert(pos, d.id)
                self.events.append(make(d, pos))  # type: ignore[operator]
                if kind == "skeletons":
                    self.skeletons[d.id] = d
        for vid, d in p.videos.items():
            if d is not None and vid in self.st.videos and self.st.videos[vid] != d:
                self.events.append(ev.VideoChanged(self.st.videos[vid], d))

    def additions(self) -> None:
        p = self.p
        targets = {sid: tuple(n.id for n in d.nodes) for sid, d in self.skeletons.items()}
        batch = g.relayout(p.add, {**targets, **p.layouts}, targets)
        if len(batch):
            keep = _last_wins(batch.ids)
            if len(keep) != len(batch):
                batch = g.take(batch, keep)
        fv, ff = p.frames_add
        coder = g.KeyCoder(self.video_order, fv, batch.video)
        live_keys = coder.pack(self.st.frames.cols.cols["video"][self.order],
                               self.st.frames.cols.cols["frame_idx"][self.order])
        want = coder.pack(fv, ff)
        inst_keys = coder.pack(batch.video, batch.frame_idx)
        new_keys, first = np.unique(np.concatenate([want, inst_keys]), return_index=True)
        new_keys = new_keys[np.argsort(first)]
        new_keys = new_keys[~np.isin(new_keys, live_keys)]
        if len(new_keys):
            nv, nf = coder.unpack(new_keys)
            if p.frames_add_pos is not None and len(p.frames_add_pos) == len(want):
                pos_of = dict(zip(want.tolist(), p.frames_add_pos.tolist(), strict=True))
                positions = np.array([pos_of.get(k, 1 << 62) for k in new_keys.tolist()])
                order = np.argsort(positions, kind="stable")
                new_keys, nv, nf = new_keys[order], nv[order], nf[order]
                positions = np.minimum(positions[order],
                                       len(self.order) + np.arange(len(new_keys)))
            else:
                positions = len(self.order) + np.arange(len(new_keys), dtype=np.int64)
            in_new = np.isin(inst_keys, new_keys)
            self.events.append(ev.FramesAdded(ev.FrameBatch(
                nv, nf, positions.astype(np.int64), g.take(batch, np.flatnonzero(in_new)))))
            batch = g.take(batch, np.flatnonzero(~in_new))
        if len(batch):
            self.events.append(ev.InstancesAdded(batch))
        self.added_ids = set(p.add.ids.tolist())

    def edits(self) -> None:
        p, st = self.p, self.st
        c = st.instances.cols.cols
        skip = self.added_ids
        if len(p.pt_inst):
            by_inst: dict[int, dict[int, np.ndarray]] = {}
            for k in range(len(p.pt_inst)):
                i, n = int(p.pt_inst[k]), int(p.pt_node[k])
                by_inst.setdefault(i, {})[n] = p.pt_val[k]
            rows = g.rows_of(st, np.fromiter(by_inst, np.int64))
            for (ident, nodes), row in zip(by_inst.items(), rows.tolist(), strict=True):
                if row < 0 or row in self.gone_rows or ident in skip:
                    continue
                sid = int(c["skeleton"][row])
                layout = tuple(n.id for n in self.skeletons[sid].nodes)
                old = g.points_by_node(st, np.array([row]), sid, layout)[0]
                pos = {n: j for j, n in enumerate(layout)}
                new = old.copy()
                for n, val in nodes.items():
                    if n in pos:
                        new[pos[n]] = val
                if g.same_values(old, new).all():
                    continue
                if len(nodes) == 1:
                    n, val = next(iter(nodes.items()))
                    j = pos[n]
                    self.events.append(ev.PointSet(
                        ident, n, float(val[0]), float(val[1]), bool(val[2]), bool(val[3]),
                        float(val[4]), float(old[j, 0]), float(old[j, 1]), bool(old[j, 2]),
                        bool(old[j, 3]), float(old[j, 4])))
                else:
                    self.events.append(ev.PointsSet(ident, new, old))
        if len(p.tr_inst):
            keep = _last_wins(p.tr_inst)
            ids, new = p.tr_inst[keep], p.tr_new[keep]
            rows = g.rows_of(st, ids)
            ok = (rows >= 0) & ~np.isin(ids, np.fromiter(skip, np.int64, len(skip)))
            if self.gone_rows:
                ok &= ~np.isin(rows, np.fromiter(self.gone_rows, np.int64))
            old = np.where(rows >= 0, c["track"][np.maximum(rows, 0)], NO_ID)
            ok &= old != new
            if ok.any():
                self.events.append(ev.TracksAssigned(
                    tuple(ids[ok].tolist()), tuple(old[ok].tolist()), tuple(new[ok].tolist())))
                self.track_now = dict(zip(rows[ok].tolist(), new[ok].tolist(), strict=True))
        if len(p.at_inst):
            keep = _last_wins(p.at_inst)
            rows = g.rows_of(st, p.at_inst[keep])
            for k, row in zip(keep.tolist(), rows.tolist(), strict=True):
                ident = int(p.at_inst[k])
                if row < 0 or row in self.gone_rows or ident in skip:
                    continue
                v = p.at_val[k]
                self.events.append(ev.InstanceUpdated(
                    ident, int(c["from_predicted"][row]), int(v[0]), float(c["score"][row]),
                    float(v[1]), float(c["tracking_score"][row]), float(v[2])))

    def definition_changes(self) -> None:
        p, st = self.p, self.st
        for tid, d in p.tracks.items():
            if d is not None and tid in st.tracks and st.tracks[tid] != d:
                self.events.append(ev.TrackChanged(st.tracks[tid], d))
        live = st.live_instance_rows()
        c = st.instances.cols.cols
        tracks_now = c["track"][live].copy()
        if self.track_now:
            idx = {r: k for k, r in enumerate(live.tolist())}
            for r, t in self.track_now.items():
                tracks_now[idx[r]] = t
        if self.gone_rows:
            alive = ~np.isin(live, np.fromiter(self.gone_rows, np.int64))
            tracks_now, skels_now = tracks_now[alive], c["skeleton"][live][alive]
        else:
            skels_now = c["skeleton"][live]
        used_tracks = set(np.unique(tracks_now).tolist()) | set(self.p.add.track.tolist())
        used_skels = set(np.unique(skels_now).tolist()) | set(self.p.add.skeleton.tolist())
        self._remove_unused(p.tracks, st.tracks, used_tracks, self.track_order,
                            ev.TrackRemoved, "track")
        self._remove_unused(p.skeletons, st.skeletons, used_skels, self.skeleton_order,
                            ev.SkeletonRemoved, "skeleton")

    def _remove_unused(self, patched: dict[int, Any], current: dict[int, Any], used: set[int],
                       order: list[int], removed: Any, what: str) -> None:
        """Events removing the definitions the patch drops; one still in use is refused."""
        for ident, new in patched.items():
            if new is None and ident in current:
                if ident in used:
                    raise PatchError(f"{what} {current[ident].name!r} is still in use")
                self.events.append(removed(current[ident], order.index(ident)))
                order.remove(ident)

    def containers(self) -> None:
        p, st = self.p, self.st
        gone_videos = {v for v, d in p.videos.items() if d is None}
        if p.suggestions is not None:
            after = tuple(s for s in p.suggestions if s.video not in gone_videos)
            if tuple(self.suggestions) != after:
                self.events.append(ev.SuggestionsReplaced(tuple(self.suggestions), after))
        for vid, target in p.anchors.items():
            if vid in gone_videos:
                continue
            cur = [tuple(a) for a in st.anchors.get(vid, [])]
            want = [tuple(a) for a in target]
            if cur == want:
                continue
            if cur:
                self.events.append(ev.AnchorsRemoved(vid, tuple(range(len(cur))),
                                                     tuple(cur)))  # type: ignore[arg-type]
            if want:
                self.events.append(ev.AnchorsAdded(vid, tuple(range(len(want))),
                                                   tuple(want)))  # type: ignore[arg-type]
        if p.provenance is not None and dict(st.provenance) != p.provenance:
            self.events.append(ev.ProvenanceSet(dict(st.provenance), dict(p.provenance)))


def events_for(state: State, patch: Patch) -> list[ev.Event]:
    """Events that make ``patch`` true when applied to ``state``, in one order
    that fits (see the module docstring). ``state`` is only read."""
    lay = _Layout(state, patch)
    lay.removals()
    lay.node_edits()
    lay.new_definitions()
    lay.additions()
    lay.edits()
    lay.definition_changes()
    lay.containers()
    return lay.events
