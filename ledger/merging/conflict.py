"""`Conflict`: one place both sides of a merge changed differently, as data.

A conflict says what (``kind``), where (video, frame, instance, node), the value
at the fork (``base``), on each side (``ours``, ``theirs``), and who made each
side's change in which transactions. How to apply each choice is kept with it
(`appliers`), so resolving is choosing, not recomputing.

Kinds: ``point`` (same (instance, node) set differently), ``track`` (same
instance given different tracks), ``instance`` (scores or from_predicted set
differently), ``removed_edited`` (an instance removed on one side and edited on
the other), ``frame`` (both sides added instances of the same kind to a frame:
user on both, or predictions on both), ``node`` (a node renamed or removed
differently, removed on one side while its points were edited on the other, or
added with the same name on both), ``skeleton`` (name/edges changed differently,
or removed while in use), ``video`` (removed on one side and edited on the
other, or changed differently), ``track_def`` (a track renamed differently, or
removed while the other side uses it) and ``provenance`` (a key set differently).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ledger.core.state import State

POINT_FIELDS = ("x", "y", "visible", "complete", "score")
Choice = str  # "ours" | "theirs" | "both" | a value (see `MergeResult.resolve`)
Applier = Callable[[Any, Any], None]  # (plan, value) -> None


def plain(value: Any) -> Any:
    """A JSON-friendly copy (numpy to lists, NaN to None, defs to dicts)."""
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if hasattr(value, "__struct_fields__"):
        return {f: plain(getattr(value, f)) for f in value.__struct_fields__}
    return value


@dataclass(eq=False)
class Conflict:
    """One conflict of a merge (see the module docstring for the kinds)."""

    kind: str
    base: Any
    ours: Any
    theirs: Any
    video: int | None = None
    frame_idx: int | None = None
    instance: int | None = None
    node: int | None = None
    node_name: str | None = None
    ours_authors: list[str] = field(default_factory=list)
    theirs_authors: list[str] = field(default_factory=list)
    ours_tx: list[int] = field(default_factory=list)
    theirs_tx: list[int] = field(default_factory=list)
    choices: tuple[str, ...] = ("ours", "theirs")
    appliers: dict[str, Applier] = field(default_factory=dict, repr=False)
    value_applier: Applier | None = field(default=None, repr=False)
    subjects: dict[str, Any] = field(default_factory=dict, repr=False)

    names: dict[str, Any] = field(default_factory=dict, repr=False)
    """Readable context filled by `label_conflicts`: ``video`` (file name),
    ``track``, ``index`` (the instance's position in its frame), ``edited``."""

    @property
    def key(self) -> tuple:
        return (self.kind, self.video, self.frame_idx, self.instance, self.node)

    @property
    def id(self) -> str:
        """A short stable name for this conflict (8 hex digits of a hash of its
        kind and subjects): the same conflict of the same merge always gets the
        same id, so a person can say ``--resolve 1a2b3c4d=theirs``.

        Example: ``result.resolve(next(c for c in result.conflicts if c.id == "1a2b3c4d"),
        "theirs")``."""
        subjects = sorted((k, repr(v)) for k, v in self.subjects.items())
        text = repr((self.kind, subjects, self.video, self.frame_idx, self.instance, self.node,
                     self.node_name))
        return hashlib.sha1(text.encode()).hexdigest()[:8]

    def where(self) -> str:
        """Video file, frame, track, instance index and node, as far as known.

        Example: ``'clip.mp4 frame 12, track "m", instance #1, node "head"'``."""
        n = self.names
        parts = []
        if self.video is not None or "video" in n:
            parts.append(str(n.get("video", f"video {self.video}")))
        if self.frame_idx is not None:
            parts.append(f"frame {self.frame_idx}")
        if n.get("track"):
            parts.append(f"track {n['track']!r}")
        if "index" in n:
            parts.append(f"instance #{n['index']}")
        elif self.instance is not None:
            parts.append(f"instance {self.instance}")
        if self.node_name is not None:
            parts.append(f"node {self.node_name!r}")
        for k in ("skeleton", "track_def", "provenance"):
            if k in n:
                parts.append(f"{k.replace('_def', '')} {n[k]!r}")
        return (" ".join(parts[:2]) + (", " if len(parts) > 2 else "") + ", ".join(parts[2:])
                if len(parts) > 1 else (parts[0] if parts else "project"))

    def describe(self) -> str:
        """One readable line: kind, id, where, and base / ours / theirs with the
        point values labelled and each side's authors.

        Example: ``point conflict 1a2b3c4d at clip.mp4 frame 12, track 'm', instance #0,
        node 'head': base x=1, y=2, visible; ours x=5, y=2, visible (by ana); theirs …``."""
        ours_by = f" (by {', '.join(self.ours_authors)})" if self.ours_authors else ""
        theirs_by = f" (by {', '.join(self.theirs_authors)})" if self.theirs_authors else ""
        edited = self.names.get("edited")
        extra = f"; edited: {edited}" if edited else ""
        return (f"{self.kind} conflict {self.id} at {self.where()}: "
                f"base {_show(self.kind, self.base)}; ours {_show(self.kind, self.ours)}"
                f"{ours_by}; theirs {_show(self.kind, self.theirs)}{theirs_by}{extra}")

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind,
                "video": self.names.get("video", self.video), "video_id": self.video,
                "frame_idx": self.frame_idx, "instance": self.instance,
                "instance_index": self.names.get("index"), "track": self.names.get("track"),
                "node": self.node, "node_name": self.node_name,
                "base": plain(self.base), "ours": plain(self.ours),
                "theirs": plain(self.theirs),
                "values": {side: _labelled(self.kind, getattr(self, side))
                           for side in ("base", "ours", "theirs")},
                "edited": self.names.get("edited"),
                "ours_authors": self.ours_authors,
                "theirs_authors": self.theirs_authors, "ours_tx": self.ours_tx,
                "theirs_tx": self.theirs_tx, "choices": list(self.choices),
                "description": self.describe()}


def _is_point(kind: str, value: Any) -> bool:
    return kind == "point" and isinstance(value, list | tuple | np.ndarray) and \
        len(value) == 5


def _labelled(kind: str, value: Any) -> Any:
    if _is_point(kind, value):
        return dict(zip(POINT_FIELDS, plain(value), strict=True))
    return plain(value)


def _show(kind: str, value: Any) -> str:
    if _is_point(kind, value):
        x, y, vis, comp, score = (plain(v) for v in value)
        if x is None:
            return "missing"
        text = f"x={x:g}, y={y:g}, {'visible' if vis else 'hidden'}"
        text += ", complete" if comp else ""
        return text + (f", score {score:g}" if score else "")
    return repr(plain(value))


def _instance_context(states: list[State | None], ident: int) -> dict[str, Any]:
    for st in states:
        if st is None:
            continue
        row = st.instances.row_of(ident)
        if row is None or not st.instances.cols.cols["alive"][row]:
            continue
        c = st.instances.cols.cols
        frame = int(c["frame"][row])
        out: dict[str, Any] = {"index": st.frame_instance_rows(frame).index(row)}
        tid = int(c["track"][row])
        if tid in st.tracks:
            out["track"] = st.tracks[tid].name
        return out
    return {}


def _edited(base: State | None, side: State | None, ident: int) -> str | None:
    """What one side changed on an instance since the base (nodes moved, track)."""
    if base is None or side is None:
        return None
    rb, rs = base.instances.row_of(ident), side.instances.row_of(ident)
    if rb is None or rs is None:
        return None
    from ledger.diffing import gather as g

    cb, cs = base.instances.cols.cols, side.instances.cols.cols
    sid = int(cs["skeleton"][rs])
    if sid not in base.skeletons or sid not in side.skeletons:
        return None
    nodes = g.node_ids(side, sid)
    pb = g.points_by_node(base, np.array([rb]), int(cb["skeleton"][rb]), nodes)[0]
    ps = g.points_block(side, np.array([rs]), len(nodes))[0]
    names = {n.id: n.name for n in side.skeletons[sid].nodes}
    moved = [names[n] for j, n in enumerate(nodes) if not g.same_values(pb[j], ps[j]).all()]
    parts = [f"{', '.join(moved)} moved"] if moved else []
    if int(cb["track"][rb]) != int(cs["track"][rs]):
        tname = {t: d.name for st in (base, side) for t, d in st.tracks.items()}
        parts.append(f"track {tname.get(int(cb['track'][rb]))} -> "
                     f"{tname.get(int(cs['track'][rs]))}")
    return "; ".join(parts) or "scores changed"


def label_conflicts(conflicts: list[Conflict], ours: State, theirs: State | None = None,
                    base: State | None = None) -> None:
    """Fill each conflict's `Conflict.names` from the states: the video's file
    name, the instance's track and index in its frame, and for removed-vs-edited
    what the editing side changed.

    Example: ``label_conflicts(result.conflicts, ours.project.state, theirs.project.state,
    ours.project.at(result.info["fork_seq"]))``."""
    for c in conflicts:
        n: dict[str, Any] = {}
        if c.video is not None:
            for st in (ours, theirs, base):
                if st is not None and c.video in st.videos:
                    name = st.videos[c.video].backend.get("filename")
                    n["video"] = str(name) if name else f"video {c.video}"  # as diff gives it
                    break
        if c.instance is not None:
            n.update(_instance_context([ours, theirs, base], c.instance))
            if c.kind == "removed_edited":
                n["edited"] = _edited(base, ours if c.ours == "edited" else theirs, c.instance)
        for key, table in (("skeleton", "skeletons"), ("track", "tracks")):
            ident = c.subjects.get(key)
            for st in (ours, theirs, base):
                if ident is not None and st is not None and ident in getattr(st, table):
                    n["skeleton" if key == "skeleton" else "track_def"] = \
                        getattr(st, table)[ident].name
                    break
        if "provenance" in c.subjects:
            n["provenance"] = c.subjects["provenance"]
        c.names = n
