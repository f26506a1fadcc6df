"""The heart of a merge: two sides' `Changes` become a plan and conflicts.

Given what ours and theirs each changed since the base, every change of theirs
either goes into the plan (it touches something ours left alone, or ours made
the same change) or becomes a `Conflict` whose choices say how to alter the
plan. The plan is a `Patch` against ours' current state plus, per skeleton, the
node decisions (kept, renamed, removed, added) from which the final skeleton is
computed once all conflicts are resolved.

Everything about instances is decided with numpy set operations over ids, so a
merge that adds 600,000 instances costs array work, not Python loops; only
conflicts (few by nature) are handled one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ledger.core import events as ev
from ledger.core.ids import NO_ID
from ledger.core.state import State
from ledger.diffing import gather as g
from ledger.diffing.changes import Changes
from ledger.diffing.patch import Patch
from ledger.merging.conflict import Conflict


@dataclass
class SkeletonPlan:
    """Node decisions for one skeleton both sides have."""

    ours: ev.SkeletonDef
    names: dict[int, str] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    added: list[ev.NodeDef] = field(default_factory=list)
    name: str | None = None
    edges: tuple | None = None
    symmetries: tuple | None = None

    def target(self) -> ev.SkeletonDef:
        nodes = [ev.NodeDef(n.id, self.names.get(n.id, n.name), n.weight)
                 for n in self.ours.nodes if n.id not in self.removed]
        nodes += [n for n in self.added if n.id not in self.removed]
        keep = {n.id for n in nodes}
        edges = self.ours.edges if self.edges is None else self.edges
        syms = self.ours.symmetries if self.symmetries is None else self.symmetries
        return ev.SkeletonDef(self.ours.id, self.name or self.ours.name, tuple(nodes),
                              tuple(e for e in edges if e[0] in keep and e[1] in keep),
                              tuple(s for s in syms if s[0] in keep and s[1] in keep))


class Plan:
    """A patch under construction plus skeleton node decisions."""

    def __init__(self) -> None:
        self.patch = Patch()
        self.skeletons: dict[int, SkeletonPlan] = {}

    def copy(self) -> Plan:
        """An independent copy (resolutions are applied to copies)."""
        out = Plan()
        out.patch = Patch()
        out.patch.extend(self.patch)
        out.patch.suggestions = self.patch.suggestions
        out.patch.provenance = None if self.patch.provenance is None else dict(
            self.patch.provenance)
        out.patch.frames_add_pos = self.patch.frames_add_pos
        out.skeletons = {k: SkeletonPlan(v.ours, dict(v.names), set(v.removed), list(v.added),
                                         v.name, v.edges, v.symmetries)
                         for k, v in self.skeletons.items()}
        return out

    def add(self, part: Patch) -> None:
        self.patch.extend(part)

    def finish(self) -> Patch:
        for sid, sp in self.skeletons.items():
            target = sp.target()
            if target != sp.ours:
                self.patch.skeletons[sid] = target
        return self.patch


def _isin(a: np.ndarray, b: np.ndarray | set) -> np.ndarray:
    if isinstance(b, set):
        b = np.fromiter(b, np.int64, len(b))
    return np.isin(a, b)


def _videos_of_ids(states: list[State], ids: np.ndarray) -> np.ndarray:
    """Video of each instance id, looked up in the first state that has it."""
    out = np.full(len(ids), NO_ID, dtype=np.int64)
    for st in states:
        todo = out == NO_ID
        if not todo.any():
            break
        rows = g.rows_of(st, ids[todo])
        ok = rows >= 0
        v, _ = g.frame_keys_of_rows(st, rows[ok])
        sub = out[todo]
        sub[ok] = v
        out[todo] = sub
    return out


def touched_videos(ch: Changes, states: list[State]) -> set[int]:
    """Videos whose frames, instances, suggestions or anchors a side changed."""
    vids: set[int] = set()
    for arr in (ch.added.video, ch.removed.video, ch.pt_video, ch.frames_added[0],
                ch.frames_removed[0]):
        vids.update(np.unique(arr).tolist())
    vids.update(_videos_of_ids(states, np.concatenate([ch.tr_inst, ch.at_inst])).tolist())
    vids.update(s.video for s in set(ch.suggestions[0]) ^ set(ch.suggestions[1]))
    vids.update(ch.anchors)
    vids.discard(NO_ID)
    return vids


class Combiner:
    """Builds the plan and the conflicts from ``dO`` (base→ours) and ``dT``
    (base→theirs). ``ours``/``theirs`` are the sides' current states."""

    def __init__(self, ours: State, theirs: State, d_o: Changes, d_t: Changes) -> None:
        self.ours, self.theirs = ours, theirs
        self.dO, self.dT = d_o, d_t
        self.plan = Plan()
        self.conflicts: list[Conflict] = []
        self.gone_videos: set[int] = set()  # removed by ours: theirs' content there is dropped

    # ----------------------------------------------------------------- helpers

    def _conflict(self, **kw: Any) -> Conflict:
        c = Conflict(**kw)
        self.conflicts.append(c)
        return c

    def _theirs_instances(self, ids: np.ndarray) -> Patch:
        """A patch that (re)adds theirs' instances as they are now."""
        rows = g.rows_of(self.theirs, ids)
        rows = rows[rows >= 0]
        batch = g.batch_rows(self.theirs, rows)
        return Patch(add=batch, layouts={s: g.node_ids(self.theirs, s)
                                         for s in np.unique(batch.skeleton).tolist()})

    # ----------------------------------------------------------------- parts

    def run(self) -> tuple[Plan, list[Conflict]]:
        self.videos()
        self.skeletons()
        self.instances()
        self.tracks()
        self.containers()
        return self.plan, self.conflicts

    def videos(self) -> None:
        dO, dT = self.dO, self.dT
        o_touch = touched_videos(dO, [self.ours])
        t_touch = touched_videos(dT, [self.theirs])
        for vid, (b, t) in dT.videos.items():
            o_change = dO.videos.get(vid)
            o = o_change[1] if o_change else b
            if b is None:
                if vid not in self.ours.videos:
                    self.plan.patch.videos[vid] = t
                continue
            if t is None and o is None:
                continue
            if t is None:
                if o_change is None and vid not in o_touch:
                    self.plan.patch.videos[vid] = None
                else:
                    self._video_conflict(vid, b, o, t)
                continue
            if o is None:
                self._video_conflict(vid, b, o, t)
            elif o_change is None:
                self.plan.patch.videos[vid] = t
            elif o != t:
                self._video_conflict(vid, b, o, t)
        for vid, (b, o) in dO.videos.items():
            if b is not None and o is None:
                self.gone_videos.add(vid)
                if vid in t_touch and vid not in dT.videos:
                    self._video_conflict(vid, b, o, self.theirs.videos.get(vid))

    def _video_conflict(self, vid: int, b: Any, o: Any, t: Any) -> None:
        def take_theirs(plan: Plan, _: Any) -> None:
            if t is None:
                plan.patch.videos[vid] = None
                return
            plan.patch.videos[vid] = t
            if o is None:  # re-add the video with theirs' contents
                th = self.theirs
                fv, ff = g.live_frame_keys(th)
                sel = fv == vid
                ids, rows = g.live_ids(th)
                v, _ = g.frame_keys_of_rows(th, rows)
                plan.add(Patch(frames_add=(fv[sel], ff[sel])))
                plan.add(self._theirs_instances(ids[v == vid]))

        self._conflict(kind="video", base=_fname(b), ours=_fname(o), theirs=_fname(t),
                       video=vid, appliers={"ours": _noop, "theirs": take_theirs},
                       subjects={"video": vid})
        if o is None:
            self.gone_videos.add(vid)

    def skeletons(self) -> None:
        dO, dT = self.dO, self.dT
        o_pts = {}
        for i, n in zip(dO.pt_inst.tolist(), dO.pt_node.tolist(), strict=True):
            o_pts.setdefault(n, []).append(i)
        t_pts = {}
        for i, n in zip(dT.pt_inst.tolist(), dT.pt_node.tolist(), strict=True):
            t_pts.setdefault(n, []).append(i)
        self.dropped_nodes: set[int] = set()  # theirs' point edits on these are held back
        for sid, (b, t) in dT.skeletons.items():
            o = self.ours.skeletons.get(sid)
            if b is None:
                if o is None:
                    self.plan.patch.skeletons[sid] = t
                continue
            if o is None:
                continue  # ours removed it; theirs' instances of it conflict as videos do
            if t is None:
                self._skeleton_removal(sid, o)
                continue
            sp = self.plan.skeletons.setdefault(sid, SkeletonPlan(o))
            bn = {n.id: n.name for n in b.nodes}
            on = {n.id: n.name for n in o.nodes}
            tn = {n.id: n.name for n in t.nodes}
            for nid, bname in bn.items():
                oname, tname = on.get(nid), tn.get(nid)
                if tname == bname or oname == tname:
                    continue
                if oname == bname and not (tname is None and nid in o_pts):
                    if tname is None:
                        sp.removed.add(nid)
                    else:
                        sp.names[nid] = tname
                    continue
                self._node_conflict(sid, sp, nid, bname, oname, tname, t)
            taken = {sp.names.get(n.id, n.name) for n in o.nodes if n.id not in sp.removed}
            for node in t.nodes:
                if node.id in bn or node.id in on:
                    continue
                if node.name in taken:
                    self._node_conflict(sid, sp, node.id, None, node.name, node.name, t,
                                        clash=True)
                else:
                    sp.added.append(node)
            for attr in ("name", "edges", "symmetries"):
                bv, ov, tv = getattr(b, attr), getattr(o, attr), getattr(t, attr)
                if tv == bv or ov == tv:
                    continue
                if ov == bv:
                    setattr(sp, attr, tv)
                else:
                    self._conflict(kind="skeleton", base=bv, ours=ov, theirs=tv,
                                   appliers={"ours": _noop, "theirs": _set_attr(sid, attr, tv)},
                                   subjects={"skeleton": sid})
        # theirs' point edits on nodes ours removed
        for sid, (b, o) in dO.skeletons.items():
            t = self.theirs.skeletons.get(sid)
            if b is None or o is None or t is None:
                continue
            on = {n.id for n in o.nodes}
            for node in b.nodes:
                if node.id not in on and node.id in t_pts:
                    self._node_conflict(sid, self.plan.skeletons.setdefault(sid, SkeletonPlan(o)),
                                        node.id, node.name, None, node.name, t, restore=node)

    def _node_conflict(self, sid: int, sp: SkeletonPlan, nid: int, bname: Any, oname: Any,
                       tname: Any, t: ev.SkeletonDef, clash: bool = False,
                       restore: ev.NodeDef | None = None) -> None:
        self.dropped_nodes.add(nid)

        def take_theirs(plan: Plan, _: Any) -> None:
            p = plan.skeletons[sid]
            if clash:  # replace ours' same-named node by theirs'
                for n in p.ours.nodes:
                    if p.names.get(n.id, n.name) == tname:
                        p.removed.add(n.id)
                p.added.append(next(n for n in t.nodes if n.id == nid))
                plan.add(self._points_on(nid))
            elif restore is not None:
                p.added.append(restore)
                plan.add(self._points_on(nid))
            elif tname is None:
                p.removed.add(nid)
            else:
                p.names[nid] = tname

        self._conflict(kind="node", base=bname, ours=oname, theirs=tname, node=nid,
                       node_name=bname or tname or oname,
                       appliers={"ours": _noop, "theirs": take_theirs},
                       subjects={"node": nid, "skeleton": sid})

    def _points_on(self, nid: int) -> Patch:
        sel = self.dT.pt_node == nid
        return Patch(pt_inst=self.dT.pt_inst[sel], pt_node=self.dT.pt_node[sel],
                     pt_val=self.dT.pt_after[sel])

    def _skeleton_removal(self, sid: int, o: ev.SkeletonDef) -> None:
        live = self.ours.live_instance_rows()
        used = bool(np.any(self.ours.instances.cols.cols["skeleton"][live] == sid))
        removed_ids = set(self.dT.removed.ids.tolist())
        if used:
            ids = self.ours.instances.cols.cols["id"][live][
                self.ours.instances.cols.cols["skeleton"][live] == sid]
            used = not set(ids.tolist()) <= removed_ids
        if not used:
            self.plan.patch.skeletons[sid] = None
            return

        def take_theirs(plan: Plan, _: Any) -> None:
            rows = live[self.ours.instances.cols.cols["skeleton"][live] == sid]
            plan.add(Patch(remove=self.ours.instances.cols.cols["id"][rows].copy()))
            plan.patch.skeletons[sid] = None
            plan.skeletons.pop(sid, None)

        self._conflict(kind="skeleton", base=o.name, ours="in use", theirs=None,
                       appliers={"ours": _noop, "theirs": take_theirs},
                       subjects={"skeleton": sid})

    def instances(self) -> None:
        dO, dT = self.dO, self.dT
        o_rm, t_rm = dO.removed.ids, dT.removed.ids
        o_add, t_add = dO.added.ids, dT.added.ids
        o_edit, t_edit = dO.edited_ids(), dT.edited_ids()
        gone = self.gone_videos
        # theirs' removals
        rm = t_rm[~_isin(t_rm, o_rm) & ~_isin(t_rm, t_add)]
        rm_video = dT.removed.video[_isin(dT.removed.ids, rm)]
        rm = rm[~_isin(rm_video, gone)]
        clash = _isin(rm, o_edit)
        self.plan.add(Patch(remove=rm[~clash]))
        for ident in rm[clash].tolist():
            self._removed_edited(ident, "theirs")
        fv, ff = dT.frames_removed
        keep = ~_isin(fv, gone)
        self.plan.add(Patch(frames_remove=(fv[keep], ff[keep])))
        # ours' removals that theirs edited
        held = set(o_rm[_isin(o_rm, t_edit)].tolist())
        for ident in sorted(held):
            if self._video_of(ident) not in gone:
                self._removed_edited(ident, "ours")
        held |= set(t_rm.tolist())
        self._edits(held)
        self._additions(o_add, t_add)

    def _video_of(self, ident: int) -> int:
        return int(_videos_of_ids([self.theirs, self.ours], np.array([ident]))[0])

    def _removed_edited(self, ident: int, remover: str) -> None:
        state = self.ours if remover == "theirs" else self.theirs
        row = state.instances.row_of(ident)
        v, f = state.frame_key(int(state.instances.cols.cols["frame"][row]))

        def take_theirs(plan: Plan, _: Any) -> None:
            if remover == "theirs":
                plan.add(Patch(remove=np.array([ident])))
            else:
                plan.add(self._theirs_instances(np.array([ident])))
                plan.add(Patch(frames_add=(np.array([v]), np.array([f]))))

        self._conflict(kind="removed_edited", base="present",
                       ours="removed" if remover == "ours" else "edited",
                       theirs="removed" if remover == "theirs" else "edited",
                       video=v, frame_idx=f, instance=ident,
                       appliers={"ours": _noop, "theirs": take_theirs},
                       subjects={"instance": ident})

    def _edits(self, held: set[int]) -> None:
        dO, dT = self.dO, self.dT
        skip_node = self.dropped_nodes
        o_pts = {(i, n): k for k, (i, n) in enumerate(zip(dO.pt_inst.tolist(),
                                                          dO.pt_node.tolist(), strict=True))}
        keep = ~_isin(dT.pt_inst, held) & ~_isin(dT.pt_node, skip_node) & ~_isin(
            dT.pt_video, self.gone_videos)
        take = np.zeros(len(dT.pt_inst), dtype=bool)
        for k in np.flatnonzero(keep).tolist():
            key = (int(dT.pt_inst[k]), int(dT.pt_node[k]))
            j = o_pts.get(key)
            if j is None:
                take[k] = True
            elif not g.same_values(dO.pt_after[j], dT.pt_after[k]).all():
                self._value_conflict("point", k, j, dT.pt_inst[k], dT.pt_node[k],
                                     dT.pt_before[k], dO.pt_after[j], dT.pt_after[k])
        self.plan.add(Patch(pt_inst=dT.pt_inst[take], pt_node=dT.pt_node[take],
                            pt_val=dT.pt_after[take]))
        for kind, o_ids, o_after, t_ids, t_before, t_after in (
                ("track", dO.tr_inst, dO.tr_after, dT.tr_inst, dT.tr_before, dT.tr_after),
                ("instance", dO.at_inst, dO.at_after, dT.at_inst, dT.at_before, dT.at_after)):
            o_idx = {i: k for k, i in enumerate(o_ids.tolist())}
            ok = ~_isin(t_ids, held)
            take = np.zeros(len(t_ids), dtype=bool)
            for k in np.flatnonzero(ok).tolist():
                j = o_idx.get(int(t_ids[k]))
                if j is None:
                    take[k] = True
                elif not np.all(g.same_values(np.asarray(o_after[j], float),
                                              np.asarray(t_after[k], float))):
                    self._value_conflict(kind, k, j, t_ids[k], None, t_before[k], o_after[j],
                                         t_after[k])
            if kind == "track":
                self.plan.add(Patch(tr_inst=t_ids[take], tr_new=t_after[take]))
            else:
                self.plan.add(Patch(at_inst=t_ids[take], at_val=t_after[take]))

    def _value_conflict(self, kind: str, k: int, j: int, ident: Any, node: Any, base: Any,
                        ours: Any, theirs: Any) -> None:
        ident = int(ident)
        row = self.ours.instances.row_of(ident)
        v, f = self.ours.frame_key(int(self.ours.instances.cols.cols["frame"][row])) \
            if row is not None else (None, None)
        node = None if node is None else int(node)

        def setter(value: Any) -> Patch:
            if kind == "point":
                val = np.asarray(value, dtype=np.float64).reshape(-1)
                if len(val) == 2:
                    val = np.array([val[0], val[1], 1.0, 1.0, 0.0])
                return Patch(pt_inst=np.array([ident]), pt_node=np.array([node]),
                             pt_val=val.reshape(1, 5))
            if kind == "track":
                tid = getattr(value, "_id", value)
                return Patch(tr_inst=np.array([ident]),
                             tr_new=np.array([NO_ID if tid is None else int(tid)]))
            return Patch(at_inst=np.array([ident]),
                         at_val=np.asarray(value, dtype=np.float64).reshape(1, 3))

        self._conflict(kind=kind, base=base, ours=ours, theirs=theirs, video=v, frame_idx=f,
                       instance=ident, node=node,
                       node_name=None if node is None else self._node_name(node),
                       appliers={"ours": _noop,
                                 "theirs": lambda plan, _: plan.add(setter(theirs))},
                       value_applier=lambda plan, value: plan.add(setter(value)),
                       subjects={"instance": ident})

    def _node_name(self, nid: int) -> str:
        for st in (self.ours, self.theirs):
            for s in st.skeletons.values():
                for n in s.nodes:
                    if n.id == nid:
                        return n.name
        return str(nid)

    def _additions(self, o_add: np.ndarray, t_add: np.ndarray) -> None:
        dO, dT = self.dO, self.dT
        new = ~_isin(t_add, o_add) & ~_isin(dT.added.video, self.gone_videos)
        batch = g.take(dT.added, np.flatnonzero(new))
        fv, ff = dT.frames_added
        keep = ~_isin(fv, self.gone_videos)
        self.plan.add(Patch(frames_add=(fv[keep], ff[keep])))
        o_new = ~_isin(o_add, t_add)
        ob = g.take(dO.added, np.flatnonzero(o_new))
        coder = g.KeyCoder(self.ours.video_order, self.theirs.video_order)
        ok = coder.pack(ob.video, ob.frame_idx) * 2 + ob.kind
        tk = coder.pack(batch.video, batch.frame_idx) * 2 + batch.kind
        clash_keys = np.intersect1d(ok, tk)
        clash_frames = np.unique(clash_keys >> 1)
        t_frame = tk >> 1
        in_clash = _isin(t_frame, clash_frames)
        self.plan.add(Patch(add=g.take(batch, np.flatnonzero(~in_clash)),
                            layouts=dict(dT.layouts)))
        o_frame = ok >> 1
        for key in clash_frames.tolist():
            ts = g.take(batch, np.flatnonzero(t_frame == key))
            os_ = ob.ids[o_frame == key]
            v, f = coder.unpack(np.array([key]))
            self._frame_conflict(int(v[0]), int(f[0]), os_, ts)

    def _frame_conflict(self, v: int, f: int, ours_ids: np.ndarray,
                        theirs_batch: ev.InstanceBatch) -> None:
        layouts = dict(self.dT.layouts)

        def add_theirs(plan: Plan, _: Any) -> None:
            plan.add(Patch(add=theirs_batch, layouts=layouts))

        def take_theirs(plan: Plan, _: Any) -> None:
            plan.add(Patch(remove=ours_ids, add=theirs_batch, layouts=layouts))

        self._conflict(kind="frame", base=[], ours=ours_ids.tolist(),
                       theirs=theirs_batch.ids.tolist(), video=v, frame_idx=f,
                       choices=("ours", "theirs", "both"),
                       appliers={"ours": _noop, "theirs": take_theirs, "both": add_theirs},
                       subjects={"frame": (v, f)})

    def tracks(self) -> None:
        dO, dT = self.dO, self.dT
        for tid, (b, t) in dT.tracks.items():
            o_change = dO.tracks.get(tid)
            o = o_change[1] if o_change else b
            if b is None:
                if tid not in self.ours.tracks:
                    self.plan.patch.tracks[tid] = t
                continue
            if t is None:
                if o is None:
                    continue
                if o_change is None and not self._track_used(tid):
                    self.plan.patch.tracks[tid] = None
                    continue
            elif o is not None and (o_change is None or o == t):
                self.plan.patch.tracks[tid] = t
                continue
            elif o is None:
                pass
            self._track_conflict(tid, b, o, t)

    def _track_used(self, tid: int) -> bool:
        """Would the merged project still use track ``tid``?"""
        st = self.ours
        live = st.live_instance_rows()
        c = st.instances.cols.cols
        ids = c["id"][live][c["track"][live] == tid]
        p = self.plan.patch
        moved = set(p.tr_inst[p.tr_new != tid].tolist()) | set(p.remove.tolist())
        return bool(set(ids.tolist()) - moved) or bool(np.any(p.add.track == tid))

    def _track_conflict(self, tid: int, b: Any, o: Any, t: Any) -> None:
        def take_theirs(plan: Plan, _: Any) -> None:
            if t is None:
                st = self.ours
                live = st.live_instance_rows()
                c = st.instances.cols.cols
                ids = c["id"][live][c["track"][live] == tid]
                plan.add(Patch(tr_inst=ids, tr_new=np.full(len(ids), NO_ID)))
                p = plan.patch
                p.add = g.replace(p.add, track=np.where(p.add.track == tid, NO_ID, p.add.track))
            plan.patch.tracks[tid] = t

        self._conflict(kind="track_def", base=_tname(b), ours=_tname(o), theirs=_tname(t),
                       appliers={"ours": _noop, "theirs": take_theirs},
                       subjects={"track": tid})

    def containers(self) -> None:
        dO, dT = self.dO, self.dT
        sb, so, st_ = dT.suggestions[0], self.ours.suggestions, dT.suggestions[1]
        if sb != st_:
            key = lambda s: (s.video, s.frame_idx)  # noqa: E731
            base = {key(s): s for s in sb}
            theirs = {key(s): s for s in st_}
            out = []
            for s in so:
                k = key(s)
                if k in base and base[k] == s:
                    if k not in theirs:
                        continue
                    s = theirs[k]
                out.append(s)
            have = {key(s) for s in out} | {key(s) for s in so}
            out += [s for s in st_ if key(s) not in base and key(s) not in have]
            self.plan.patch.suggestions = tuple(out)
        for vid, (before, after) in dT.anchors.items():
            cur = [tuple(a) for a in self.ours.anchors.get(vid, [])]
            gone = {tuple(a) for a in before} - {tuple(a) for a in after}
            new = [tuple(a) for a in after if tuple(a) not in {tuple(x) for x in before}]
            lst = [a for a in cur if a not in gone] + [a for a in new if a not in cur]
            if lst != cur:
                self.plan.patch.anchors[vid] = lst
        pb, pt = dT.provenance
        if pb != pt:
            po = dict(self.ours.provenance)
            out_p = dict(po)
            for k in set(pb) | set(pt):
                bv, tv, ov = pb.get(k, _MISSING), pt.get(k, _MISSING), po.get(k, _MISSING)
                if tv == bv or ov == tv:
                    continue
                if ov == bv:
                    _put(out_p, k, tv)
                else:
                    self._conflict(kind="provenance", base=_un(bv), ours=_un(ov), theirs=_un(tv),
                                   appliers={"ours": _noop, "theirs": _set_prov(k, tv)},
                                   subjects={"provenance": k})
            self.plan.patch.provenance = out_p
        del dO


_MISSING = object()


def _un(v: Any) -> Any:
    return None if v is _MISSING else v


def _put(d: dict, k: str, v: Any) -> None:
    if v is _MISSING:
        d.pop(k, None)
    else:
        d[k] = v


def _set_prov(k: str, v: Any) -> Any:
    def apply(plan: Plan, _: Any) -> None:
        _put(plan.patch.provenance, k, v)  # type: ignore[arg-type]
    return apply


def _set_attr(sid: int, attr: str, value: Any) -> Any:
    def apply(plan: Plan, _: Any) -> None:
        setattr(plan.skeletons[sid], attr, value)
    return apply


def _noop(plan: Plan, value: Any) -> None:
    del plan, value


def _fname(v: ev.VideoDef | None) -> str | None:
    return None if v is None else str(v.backend.get("filename", ""))


def _tname(t: ev.TrackDef | None) -> Any:
    return None if t is None else {"name": t.name, "spawned_on": t.spawned_on}
