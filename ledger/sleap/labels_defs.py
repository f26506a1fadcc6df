"""Editing what is not frames or instances: tracks, suggestions, negative anchors, the
structure of skeletons (nodes added, renamed, removed; edges; symmetries) and
provenance. Like `ledger.sleap.labels_edit`, every method validates, then emits events.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.core import events as ev
from ledger.core.ids import NO_ID
from ledger.core.values import check_frame_idx, check_int, check_text, plain_dict, same_value
from ledger.errors import NotFoundError, ValidationError
from ledger.model.skeleton import Node, Skeleton, weight_arg
from ledger.model.suggestion import SuggestionFrame
from ledger.model.track import Track
from ledger.model.video import Video
from ledger.sleap.labels_edit import float_arg, skeleton_def

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


class DefinitionsMixin:
    """Suggestions, anchors, skeleton structure and provenance (mixed into `Labels`)."""

    # ----------------------------------------------------------------- suggestions

    def _suggestion_def(self: Labels, s: SuggestionFrame) -> ev.SuggestionDef:
        if not isinstance(s, SuggestionFrame):
            raise ValidationError(f"not a SuggestionFrame: {s!r}")
        frame_idx = check_frame_idx(s.frame_idx, "a suggestion's frame_idx")
        group = None if s.group is None else check_int(s.group, "a suggestion's group")
        return ev.SuggestionDef(self.add_video(s.video), frame_idx, group)

    def set_suggestions(self: Labels, suggestions: Iterable[SuggestionFrame]) -> None:
        """Replace the suggestions with ``suggestions`` (one undoable event)."""
        suggestions = list(suggestions)
        with self.transaction("set suggestions"):
            after = tuple(self._suggestion_def(s) for s in suggestions)
            before = tuple(self._state.suggestions)
            if after != before:
                self._ledger.emit(ev.SuggestionsReplaced(before, after))

    def append_suggestions(self: Labels, suggestions: Iterable[SuggestionFrame]) -> None:
        """Add suggestions not already present."""
        self.set_suggestions(self.suggestions + list(suggestions))

    def delete_suggestions(self: Labels, video: Video) -> None:
        """Remove the suggestions of ``video``."""
        self.set_suggestions([s for s in self.suggestions if s.video is not video])

    def clear_suggestions(self: Labels) -> None:
        """Remove every suggestion."""
        self.set_suggestions([])

    def add_suggestion(self: Labels, video: Video, frame_idx: int, group: int | None = None
                       ) -> None:
        """Add a suggestion unless that (video, frame) is already suggested."""
        frame_idx = check_frame_idx(frame_idx)
        if group is not None:
            group = check_int(group, "group")
        if self.find_suggestion(video, frame_idx) is not None:
            return
        with self.transaction("add suggestion"):
            d = self._suggestion_def(SuggestionFrame(video, frame_idx, group))
            self._ledger.emit(ev.SuggestionAdded(d, len(self._state.suggestions)))

    def remove_suggestion(self: Labels, video: Video, frame_idx: int) -> None:
        """Remove the suggestion of ``video`` at ``frame_idx`` (if any)."""
        vid = self._vid(video)
        for k, s in enumerate(self._state.suggestions):
            if s.video == vid and s.frame_idx == frame_idx:
                self._ledger.emit(ev.SuggestionRemoved(s, k))
                return
        raise NotFoundError(f"no suggestion for frame {frame_idx} of {video!r}")

    # ----------------------------------------------------------------- anchors

    def add_negative_anchor(self: Labels, video: Video, frame_idx: int,
                            where: tuple[float, float]) -> None:
        """Mark (x, y) of frame ``frame_idx`` of ``video`` as containing no instance."""
        if not isinstance(where, tuple | list | np.ndarray) or len(where) != 2:
            raise ValidationError(f"where must be (x, y), not {where!r}")
        entry = (check_frame_idx(frame_idx), float_arg(where[0], "x"),
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
        check_text(name, "a node name")
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
        """Rename a node of ``skeleton`` (points keep their values; one undoable event)."""
        sid = self._skeleton_id(skeleton)
        before = self._state.skeletons[sid]
        names = [n.name for n in before.nodes]
        if old_name not in names:
            raise NotFoundError(f"node {old_name!r} is not in skeleton {skeleton.name!r}")
        check_text(new_name, "a node name")
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

    # ----------------------------------------------------------------- tracks

    def remove_track(self: Labels, track: Track) -> None:
        """Untrack its instances, then remove the track."""
        if not isinstance(track, Track):
            raise ValidationError(f"not a Track: {track!r}")
        tid = self._tid(track)
        if tid is None:
            raise NotFoundError(f"track {track.name!r} is not in the labels")
        st = self._state
        c = st.instances.cols.cols
        live = st.live_instance_rows()
        rows = live[c["track"][live] == tid]
        with self.transaction("remove track"):
            if len(rows):
                ids = tuple(int(i) for i in c["id"][rows])
                self._ledger.emit(ev.TracksAssigned(ids, (tid,) * len(ids), (NO_ID,) * len(ids)))
            self._ledger.emit(ev.TrackRemoved(st.tracks[tid], st.track_order.index(tid)))

    def remove_all_tracks(self: Labels) -> None:
        """Unset the track of every instance and remove all tracks."""
        with self.transaction("remove all tracks"):
            for track in self.tracks:
                self.remove_track(track)

    def remove_unused_tracks(self: Labels) -> None:
        """Remove tracks no instance uses."""
        st = self._state
        live = st.live_instance_rows()
        used = set(st.instances.cols.cols["track"][live].tolist())
        with self.transaction("remove unused tracks"):
            for track in self.tracks:
                if self._tid(track) not in used:
                    self.remove_track(track)

    def _change_track(self: Labels, track: Track, name: str, spawned_on: int) -> None:
        name = check_text(name, "a track name")
        spawned_on = check_int(spawned_on, "spawned_on")
        tid = self._tid(track)
        if tid is None:
            raise NotFoundError(f"track {track.name!r} is not in the labels")
        before = self._state.tracks[tid]
        self._ledger.emit(ev.TrackChanged(before, ev.TrackDef(tid, name, spawned_on)))

    def rename_track(self: Labels, track: Track, name: str) -> None:
        """Rename ``track`` (one undoable event)."""
        self._change_track(track, name, track.spawned_on)

    def set_track_spawned_on(self: Labels, track: Track, spawned_on: int) -> None:
        """Set the frame a track was spawned on."""
        self._change_track(track, track.name, spawned_on)

    # ----------------------------------------------------------------- provenance

    def set_provenance(self: Labels, provenance: dict[str, Any]) -> None:
        """Replace the provenance dict. Checked first (string keys, JSON-like values,
        at most 64 deep; tuples become lists), so what is committed replays equal."""
        after = plain_dict(provenance, "provenance")
        before = dict(self._state.provenance)
        if not same_value(before, after):
            self._ledger.emit(ev.ProvenanceSet(before, after))

    # ----------------------------------------------------------------- node weights, videos

    def set_node_weight(self: Labels, skeleton: Skeleton, node: Node, weight: float) -> None:
        """``node.weight = w`` on a skeleton in these labels: a `SkeletonChanged`."""
        self._check_writable()
        sid = self._skeleton_id(skeleton)
        weight = weight_arg(weight)
        before = self._state.skeletons[sid]
        if node._id not in [n.id for n in before.nodes]:
            raise NotFoundError(f"node {node.name!r} is not in skeleton {skeleton.name!r}")
        nodes = tuple(ev.NodeDef(n.id, n.name, weight if n.id == node._id else n.weight)
                      for n in before.nodes)
        after = ev.SkeletonDef(sid, before.name, nodes, before.edges, before.symmetries)
        if after != before:
            self._ledger.emit(ev.SkeletonChanged(before, after))

    def set_video_backend(self: Labels, video: Video, backend: dict[str, Any],
                          source_video: dict[str, Any] | None) -> None:
        """Repoint a video or change its backend attributes (``video.backend.filename
        = new``, ``video.filename = new``, ``video.source_video = ...``): a
        `VideoChanged`, so saving, undo and history see it."""
        self._check_writable()
        vid = self._require_vid(video)
        backend = plain_dict(backend, "the video's backend")
        check_text(backend.get("filename", ""), "a video filename")
        if source_video is not None:
            source_video = plain_dict(source_video, "source_video")
        before = self._state.videos[vid]
        after = ev.VideoDef(vid, backend, source_video)
        if not (same_value(before.backend, after.backend)
                and same_value(before.source_video, after.source_video)):
            self._ledger.emit(ev.VideoChanged(before, after))
