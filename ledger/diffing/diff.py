"""`diff(a, b)`: a semantic diff between two versions of a project.

Versions of one ledger (``labels.at(seq)``), forks and ledgers sharing history
compare by id; projects with no shared history (two `.slp` files) are first lined
up by content (`ledger.diffing.matching`). The diff reports what a person reviewing
a labelling session wants: videos, skeleton nodes, tracks, frames added or
removed, instances added, removed or changed with per-node displacement in
pixels, visibility and track changes, suggestions and anchors. ``diff.events``
are the events that turn ``a`` into ``b``.

Example::

    d = diff(labels.at(10), labels)
    d.summary()["points_changed"]
    json.dumps(d.to_dict())
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ledger.core import events as ev
from ledger.core.ids import NO_ID
from ledger.core.state import State
from ledger.diffing.changes import Changes, compare
from ledger.diffing.matching import InstanceRule, translate
from ledger.diffing.patch import Patch, events_for

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels

Side = "Labels | State"


def state_of(x: Labels | State) -> State:
    return x if isinstance(x, State) else x.project.state


def shares_ids(a: State, b: State) -> bool:
    """Do two states come from one lineage (so equal ids mean the same thing)?"""
    common = (set(a.videos) & set(b.videos)) | (set(a.skeletons) & set(b.skeletons))
    if not common:
        return not (a.videos or a.skeletons) or not (b.videos or b.skeletons)
    return all(a.videos[v].backend.get("filename") == b.videos[v].backend.get("filename")
               for v in set(a.videos) & set(b.videos))


def patch_from_changes(ch: Changes) -> Patch:
    """Everything in ``ch`` as a patch (a diff applies all of it)."""
    return Patch(
        videos={k: v[1] for k, v in ch.videos.items()},
        skeletons={k: v[1] for k, v in ch.skeletons.items()},
        tracks={k: v[1] for k, v in ch.tracks.items()},
        positions={k: dict(v) for k, v in ch.positions.items()},
        frames_add=ch.frames_added, frames_add_pos=ch.frames_added_pos,
        frames_remove=ch.frames_removed, add=ch.added, layouts=dict(ch.layouts),
        remove=ch.removed.ids, pt_inst=ch.pt_inst, pt_node=ch.pt_node, pt_val=ch.pt_after,
        tr_inst=ch.tr_inst, tr_new=ch.tr_after, at_inst=ch.at_inst, at_val=ch.at_after,
        suggestions=ch.suggestions[1] if ch.suggestions[0] != ch.suggestions[1] else None,
        anchors={v: list(after) for v, (_, after) in ch.anchors.items()},
        provenance=ch.provenance[1] if ch.provenance[0] != ch.provenance[1] else None)


def _node_changes(ch: Changes) -> tuple[list, list, list]:
    added, removed, renamed = [], [], []
    for sid, (before, after) in ch.skeletons.items():
        bn = {n.id: n.name for n in before.nodes} if before else {}
        an = {n.id: n.name for n in after.nodes} if after else {}
        name = (after or before).name
        added += [(name, an[n]) for n in an if n not in bn]
        removed += [(name, bn[n]) for n in bn if n not in an]
        renamed += [(name, bn[n], an[n]) for n in bn if n in an and bn[n] != an[n]]
        del sid
    return added, removed, renamed


class Diff:
    """What changed from ``a`` to ``b`` (see the module docstring)."""

    def __init__(self, a: State, b: State, changes: Changes) -> None:
        self.a = a
        self.b = b
        self.changes = changes

    @cached_property
    def events(self) -> list[ev.Event]:
        """Events that turn ``a`` into ``b``."""
        return events_for(self.a, patch_from_changes(self.changes))

    @property
    def is_empty(self) -> bool:
        return self.changes.empty

    def __bool__(self) -> bool:
        return not self.changes.empty

    @cached_property
    def displacement(self) -> np.ndarray:
        """Pixel distance each changed point moved (NaN when it appeared or vanished)."""
        ch = self.changes
        return np.hypot(ch.pt_after[:, 0] - ch.pt_before[:, 0],
                        ch.pt_after[:, 1] - ch.pt_before[:, 1])

    @cached_property
    def _visibility(self) -> np.ndarray:
        ch = self.changes
        before = (ch.pt_before[:, 2] != 0) & ~np.isnan(ch.pt_before[:, 0])
        after = (ch.pt_after[:, 2] != 0) & ~np.isnan(ch.pt_after[:, 0])
        return before != after

    def summary(self) -> dict[str, int]:
        """Counts of every kind of change."""
        ch = self.changes
        n_add, n_rem, n_ren = (len(x) for x in _node_changes(ch))
        sa, sb = set(ch.suggestions[0]), set(ch.suggestions[1])
        anchors_added = sum(len(set(map(tuple, b)) - set(map(tuple, a)))
                            for a, b in ch.anchors.values())
        anchors_removed = sum(len(set(map(tuple, a)) - set(map(tuple, b)))
                              for a, b in ch.anchors.values())
        changed = np.unique(np.concatenate([ch.pt_inst, ch.tr_inst, ch.at_inst]))

        def count(defs: dict, which: str) -> int:
            return sum(1 for b, a in defs.values() if (
                (which == "added" and b is None) or (which == "removed" and a is None)
                or (which == "changed" and a is not None and b is not None)))

        return {
            "videos_added": count(ch.videos, "added"),
            "videos_removed": count(ch.videos, "removed"),
            "videos_changed": count(ch.videos, "changed"),
            "skeletons_added": count(ch.skeletons, "added"),
            "skeletons_removed": count(ch.skeletons, "removed"),
            "nodes_added": n_add, "nodes_removed": n_rem, "nodes_renamed": n_ren,
            "tracks_added": count(ch.tracks, "added"),
            "tracks_removed": count(ch.tracks, "removed"),
            "tracks_changed": count(ch.tracks, "changed"),
            "frames_added": len(ch.frames_added[0]),
            "frames_removed": len(ch.frames_removed[0]),
            "instances_added": len(ch.added), "instances_removed": len(ch.removed),
            "instances_changed": len(changed), "points_changed": len(ch.pt_inst),
            "visibility_changed": int(self._visibility.sum()),
            "track_changes": len(ch.tr_inst),
            "suggestions_added": len(sb - sa), "suggestions_removed": len(sa - sb),
            "anchors_added": anchors_added, "anchors_removed": anchors_removed,
            "provenance_changed": int(ch.provenance[0] != ch.provenance[1]),
        }

    def _video_name(self, vid: int) -> str:
        v = self.b.videos.get(vid) or self.a.videos.get(vid)
        return str(v.backend.get("filename", vid)) if v else str(vid)

    def _track_name(self, tid: int) -> str | None:
        if tid == NO_ID:
            return None
        t = self.b.tracks.get(tid) or self.a.tracks.get(tid)
        return t.name if t else str(tid)

    def _node_name(self, nid: int) -> str:
        for st in (self.b, self.a):
            for s in st.skeletons.values():
                for n in s.nodes:
                    if n.id == nid:
                        return n.name
        return str(nid)

    def frames(self) -> list[dict[str, Any]]:
        """Per-frame detail: instances added, removed and changed (with nodes)."""
        ch = self.changes
        out: dict[tuple[int, int], dict[str, Any]] = {}

        def entry(v: int, f: int) -> dict[str, Any]:
            return out.setdefault((v, f), {"video": self._video_name(v), "frame_idx": f,
                                           "added": [], "removed": [], "changed": {}})

        for batch, key in ((ch.added, "added"), (ch.removed, "removed")):
            for i, v, f, k, t in zip(batch.ids.tolist(), batch.video.tolist(),
                                     batch.frame_idx.tolist(), batch.kind.tolist(),
                                     batch.track.tolist(), strict=True):
                entry(v, f)[key].append({"instance": i, "kind": "predicted" if k else "user",
                                         "track": self._track_name(t)})
        disp = self.displacement
        vis = self._visibility
        names: dict[int, str] = {}
        for k, (i, n, v, f) in enumerate(zip(ch.pt_inst.tolist(), ch.pt_node.tolist(),
                                              ch.pt_video.tolist(), ch.pt_frame.tolist(),
                                              strict=True)):
            if n not in names:
                names[n] = self._node_name(n)
            d = entry(v, f)["changed"].setdefault(i, {"instance": i, "nodes": []})
            d["nodes"].append({"node": names[n],
                               "displacement": None if np.isnan(disp[k]) else float(disp[k]),
                               "visibility_changed": bool(vis[k])})
        if len(ch.tr_inst):
            keys = self._instance_keys(ch.tr_inst)
            for i, before, after in zip(ch.tr_inst.tolist(), ch.tr_before.tolist(),
                                        ch.tr_after.tolist(), strict=True):
                d = entry(*keys[i])["changed"].setdefault(i, {"instance": i, "nodes": []})
                d["track"] = [self._track_name(before), self._track_name(after)]
        fv, ff = ch.frames_added
        for v, f in zip(fv.tolist(), ff.tolist(), strict=True):
            entry(v, f)["frame"] = "added"
        fv, ff = ch.frames_removed
        for v, f in zip(fv.tolist(), ff.tolist(), strict=True):
            entry(v, f)["frame"] = "removed"
        rows = []
        for key in sorted(out, key=lambda k: (out[k]["video"], k[1])):
            e = out[key]
            e["changed"] = list(e["changed"].values())
            rows.append(e)
        return rows

    def _instance_keys(self, ids: np.ndarray) -> dict[int, tuple[int, int]]:
        from ledger.diffing import gather as g

        rows = g.rows_of(self.b, ids)
        v, f = g.frame_keys_of_rows(self.b, np.maximum(rows, 0))
        return {int(i): (int(vv), int(ff)) for i, vv, ff in
                zip(ids.tolist(), v.tolist(), f.tolist(), strict=True)}

    def definitions(self) -> dict[str, Any]:
        ch = self.changes
        added, removed, renamed = _node_changes(ch)
        return {
            "videos": [{"video": self._video_name(k), "change": _what(b, a)}
                       for k, (b, a) in ch.videos.items()],
            "nodes_added": [list(x) for x in added], "nodes_removed": [list(x) for x in removed],
            "nodes_renamed": [list(x) for x in renamed],
            "tracks": [{"track": (a or b).name, "change": _what(b, a)}
                       for b, a in ch.tracks.values()],
            "suggestions_added": [[self._video_name(s.video), s.frame_idx] for s in
                                  set(ch.suggestions[1]) - set(ch.suggestions[0])],
            "suggestions_removed": [[self._video_name(s.video), s.frame_idx] for s in
                                    set(ch.suggestions[0]) - set(ch.suggestions[1])],
            "anchors": {self._video_name(v): {"before": [list(x) for x in a],
                                              "after": [list(x) for x in b]}
                        for v, (a, b) in ch.anchors.items()},
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: summary, definition changes and per-frame detail."""
        return {"summary": self.summary(), "definitions": self.definitions(),
                "frames": self.frames()}

    def __repr__(self) -> str:
        s = {k: v for k, v in self.summary().items() if v}
        return f"Diff({s})"


def _what(before: Any, after: Any) -> str:
    return "added" if before is None else "removed" if after is None else "changed"


def diff(a: Labels | State, b: Labels | State, *, match: Literal["auto", "ids", "content"]
         = "auto", tracks: Literal["name", "id"] = "name", instances: InstanceRule = "rank",
         tolerance: float = 0.0) -> Diff:
    """The semantic diff from ``a`` to ``b``.

    ``match="auto"`` compares by id when both come from one lineage (versions,
    forks) and lines up contents otherwise; ``tracks`` and ``instances`` choose
    how contents are matched (see `ledger.diffing.matching`)."""
    sa, sb = state_of(a), state_of(b)
    if match == "content" or (match == "auto" and not shares_ids(sa, sb)):
        sb = translate(sa, sb, tracks=tracks, instances=instances, tolerance=tolerance)
    return Diff(sa, sb, compare(sa, sb))
