"""Editing what is not frames or instances: suggestions, negative anchors, the
structure of skeletons (nodes added, renamed, removed; edges; symmetries) and
provenance. Like `ledger.sleap.labels_edit`, every method validates, then emits events.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.core import events as ev
from ledger.errors import NotFoundError, ValidationError
from ledger.model.skeleton import Skeleton
from ledger.model.suggestion import SuggestionFrame
from ledger.model.video import Video
from ledger.sleap.labels_edit import float_arg, int_arg, skeleton_def

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


class DefinitionsMixin:
    """Suggestions, anchors, skeleton structure and provenance (mixed into `Labels`)."""

    # ----------------------------------------------------------------- suggestions

    def _suggestion_def(self: Labels, s: SuggestionFrame) -> ev.SuggestionDef:
        if not isinstance(s, SuggestionFrame):
            raise ValidationError(f"not a SuggestionFrame: {s!r}")
        return ev.SuggestionDef(self.add_video(s.video), int(s.frame_idx), s.group)

    def set_suggestions(self: Labels, suggestions: Iterable[SuggestionFrame]) -> None:
        suggestions = list(suggestions)
        with self.transaction("set suggestions"):
            after = tuple(self._suggestion_def(s) for s in suggestions)
            before = tuple(self._state.suggestions)
            if after != before:
                self._ledger.emit(ev.SuggestionsReplaced(before, after))

    def append_suggestions(self: Labels, suggestions: Iterable[SuggestionFrame]) -> None:
        self.set_suggestions(self.suggestions + list(suggestions))

    def delete_suggestions(self: Labels, video: Video) -> None:
        self.set_suggestions([s for s in self.suggestions if s.video is not video])

    def clear_suggestions(self: Labels) -> None:
        self.set_suggestions([])

    def add_suggestion(self: Labels, video: Video, frame_idx: int, group: int | None = None
                       ) -> None:
        """Add a suggestion unless that (video, frame) is already suggested."""
        frame_idx = int_arg(frame_idx, "frame_idx")
        if group is not None:
            group = int_arg(group, "group")
        if self.find_suggestion(video, frame_idx) is not None:
            return
        with self.transaction("add suggestion"):
            d = self._suggestion_def(SuggestionFrame(video, frame_idx, group))
            self._ledger.emit(ev.SuggestionAdded(d, len(self._state.suggestions)))

    def remove_suggestion(self: Labels, video: Video, frame_idx: int) -> None:
        vid = self._vid(video)
        for k, s in enumerate(self._state.suggestions):
            if s.video == vid and s.frame_idx == frame_idx:
                self._ledger.emit(ev.SuggestionRemoved(s, k))
                return
        raise NotFoundError(f"no suggestion for frame {frame_idx} of {video!r}")

    # ----------------------------------------------------------------- anchors

    def add_negative_anchor(self: Labels, video: Video, frame_idx: int,
                            where: tuple[float, float]) -> None:
        if not isinstance(where, tuple | list | np.ndarray) or len(where) != 2:
            raise ValidationError(f"where must be (x, y), not {where!r}")
        entry = (int_arg(frame_idx, "frame_idx"), float_arg(where[0], "x"),
                 float_arg(where[1], "y"))
        with self.transaction("add negative anchor"):
            vid = self.add_video(video)
            n = len(self._state.anchors.get(vid, []))
            self._ledger.emit(ev.AnchorsAdded(vid, (n,), (entry,)))

    def remove_negative_anchors(self: Labels, video: Video, frame_idx: int,
                                where: tuple[float, float] | None = None) -> None:
        """Remove a frame's anchors (only the one at ``where`` when given); a video
        that is not in the labels has none (as in SLEAP)."""
        vid = self._vid(video)
        if vid is None:
            return
        lst = self._state.anchors.get(vid, [])
        hits = [(k, tuple(a)) for k, a in enumerate(lst) if a[0] == frame_idx and (
            where is None or (abs(a[1] - where[0]) < 1e-9 and abs(a[2] - where[1]) < 1e-9))]
        if hits:
            self._ledger.emit(ev.AnchorsRemoved(vid, tuple(k for k, _ in hits),
                                                tuple(a for _, a in hits)))  # type: ignore[misc]

    # ----------------------------------------------------------------- skeletons

    def _skeleton_id(self: Labels, skeleton: Skeleton) -> int:
        sid = self._sid(skeleton)
        if sid is None:
            raise NotFoundError(f"skeleton {skeleton.name!r} is not in the labels")
        return sid

    def add_node(self: Labels, skeleton: Skeleton, name: str) -> None:
        """Add a node; every instance of the skeleton gets a missing point for it."""
        if not isinstance(name, str) or not name:
            raise ValidationError(f"a node name must be a non-empty string, not {name!r}")
        sid = self._skeleton_id(skeleton)
        before = self._state.skeletons[sid]
        if any(n.name == name for n in before.nodes):
            raise ValidationError(f"skeleton {skeleton.name!r} already has a node named {name!r}")
        node = ev.NodeDef(self._ids.new_id(), str(name))
        after = ev.SkeletonDef(sid, before.name, before.nodes + (node,), before.edges,
                               before.symmetries)
        self._ledger.emit(ev.NodeAdded(before, after, node.id, np.zeros(0, np.int64),
                                       np.zeros((0, 5))))

    def rename_node(self: Labels, skeleton: Skeleton, old_name: str, new_name: str) -> None:
        sid = self._skeleton_id(skeleton)
        before = self._state.skeletons[sid]
        names = [n.name for n in before.nodes]
        if old_name not in names:
            raise NotFoundError(f"node {old_name!r} is not in skeleton {skeleton.name!r}")
        if new_name != old_name and new_name in names:
            raise ValidationError(f"skeleton {skeleton.name!r} already has a node {new_name!r}")
        nodes = tuple(ev.NodeDef(n.id, new_name if n.name == old_name else n.name, n.weight)
                      for n in before.nodes)
        self._ledger.emit(ev.SkeletonChanged(before, ev.SkeletonDef(
            sid, before.name, nodes, before.edges, before.symmetries)))

    def remove_node(self: Labels, skeleton: Skeleton, name: str) -> None:
        """Remove a node; instances drop its point (kept in the event for undo)."""
        sid = self._skeleton_id(skeleton)
        st = self._state
        before = st.skeletons[sid]
        hit = [n for n in before.nodes if n.name == name]
        if not hit:
            raise NotFoundError(f"node {name!r} is not in skeleton {skeleton.name!r}")
        node = hit[0]
        pos = before.node_position(node.id)
        after = ev.SkeletonDef(
            sid, before.name, tuple(n for n in before.nodes if n.id != node.id),
            tuple(e for e in before.edges if node.id not in e),
            tuple(s for s in before.symmetries if node.id not in s))
        c = st.instances.cols.cols
        live = st.live_instance_rows()
        rows = live[c["skeleton"][live] == sid]
        values = np.array([st.instances.points_of(int(r))[pos] for r in rows]).reshape(-1, 5)
        self._ledger.emit(ev.NodeRemoved(before, after, node.id, c["id"][rows].copy(), values))

    def _edit_skeleton(self: Labels, skeleton: Skeleton, method: str, args: tuple) -> None:
        """Apply a structural edit (edges, symmetries) to a copy, then commit the
        difference as one `SkeletonChanged` event."""
        sid = self._skeleton_id(skeleton)
        clone = skeleton.copy_detached()
        getattr(clone, method)(*args)
        self._ledger.emit(ev.SkeletonChanged(self._state.skeletons[sid], skeleton_def(clone, sid)))

    # ----------------------------------------------------------------- provenance

    def set_provenance(self: Labels, provenance: dict[str, Any]) -> None:
        before = dict(self._state.provenance)
        if before != provenance:
            self._ledger.emit(ev.ProvenanceSet(before, dict(provenance)))
