"""Every change `Labels` can make, each built as events and committed.

Each public method validates first (so a bad call changes nothing and leaves no
history), then emits its events inside one transaction named after the method.
Objects made by user code (frames, instances, skeletons, tracks, videos) are
registered with ids before the event that introduces them, so the registry can
attach the very same Python objects once the event is applied.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.core import events as ev
from ledger.core.ids import NO_ID
from ledger.core.state_batches import frames_batch, instance_batch_from_rows
from ledger.core.values import check_int, check_text, plain_dict
from ledger.errors import (
    NotFoundError,
    NotInLabelsError,
    SkeletonMismatchError,
    ValidationError,
)
from ledger.model.frame import LabeledFrame
from ledger.model.instance import Instance, PredictedInstance
from ledger.model.skeleton import Node, Skeleton
from ledger.model.track import Track
from ledger.model.video import Video

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


class EditingMixin:
    """The mutating half of `Labels` (mixed into it; not used on its own)."""

    # ----------------------------------------------------------------- registration

    def _fresh_id(self: Labels, obj: Any, wanted: int | None, live: Any,
                  table: dict[int, Any]) -> int:
        """Keep an object's id when it is free here -- not live in the state and not
        another object's (ids stay stable across copies of a project, which is what
        merges match on, and across remove and re-add) -- else draw a new one."""
        if wanted is not None and wanted not in live and table.get(wanted) in (None, obj):
            return wanted
        return self._ids.new_id()

    def _sid(self: Labels, skeleton: Skeleton) -> int | None:
        sid = self._registry.def_id(skeleton, self._registry.skeletons)
        return sid if sid is not None and sid in self._state.skeletons else None

    def _tid(self: Labels, track: Track) -> int | None:
        tid = self._registry.def_id(track, self._registry.tracks)
        return tid if tid is not None and tid in self._state.tracks else None

    def _register_skeleton(self: Labels, skeleton: Skeleton) -> int:
        """The skeleton's id here, adding it first if needed. A skeleton that belongs
        to another labels object is copied (see docs/compat.md)."""
        if not isinstance(skeleton, Skeleton):
            raise ValidationError(f"not a Skeleton: {skeleton!r}")
        check_text(skeleton.name, "a skeleton name")
        for node in skeleton._nodes:
            check_text(node.name, "a node name")
        reg = self._registry
        sid = reg.def_id(skeleton, reg.skeletons)
        if sid is not None and sid in self._state.skeletons:
            return sid
        owner = skeleton._owner
        target = skeleton
        if owner is not None and owner is not self:
            target = skeleton.copy_detached(deep=True)
        live_nodes = {n.id for s in self._state.skeletons.values() for n in s.nodes}
        target._id = self._fresh_id(target, skeleton._id, self._state.skeletons, reg.skeletons)
        for node, orig in zip(target._nodes, skeleton._nodes, strict=True):
            node._id = self._fresh_id(node, orig._id, live_nodes, reg.nodes)
            live_nodes.add(node._id)
            reg.nodes[node._id] = node
        reg.skeletons[target._id] = target
        target._owner = self
        if target is not skeleton:
            reg.alias(skeleton, target._id)
        self._ledger.emit(ev.SkeletonAdded(skeleton_def(target),
                                           len(self._state.skeleton_order)))
        return target._id

    def add_skeleton(self: Labels, skeleton: Skeleton) -> None:
        """Add a skeleton (one undoable event); a skeleton already here is left alone."""
        self._register_skeleton(skeleton)

    def _register_track(self: Labels, track: Track) -> int:
        if not isinstance(track, Track):
            raise ValidationError(f"not a Track: {track!r}")
        reg = self._registry
        tid = reg.def_id(track, reg.tracks)
        if tid is not None and tid in self._state.tracks:
            return tid
        owner = track._owner
        check_text(track.name, "a track name")
        check_int(track.spawned_on, "spawned_on")
        target = track if owner is None or owner is self else Track(track.spawned_on, track.name)
        target._id = self._fresh_id(target, track._id, self._state.tracks, reg.tracks)
        reg.tracks[target._id] = target
        target._owner = self
        if target is not track:
            reg.alias(track, target._id)
        self._ledger.emit(ev.TrackAdded(ev.TrackDef(target._id, target.name, target.spawned_on),
                                        len(self._state.track_order)))
        return target._id

    def add_track(self: Labels, video: Video | None, track: Track) -> None:
        """Register a track (once; SLEAP appended duplicates)."""
        self._register_track(track)

    def add_video(self: Labels, video: Video) -> int:
        """Add a video if it is not in the labels yet; return its id."""
        if not isinstance(video, Video):
            raise ValidationError(f"not a Video: {video!r}")
        vid = self._vid(video)
        if vid is not None:
            return vid
        backend = plain_dict(video.backend_dict(), "the video's backend")
        check_text(backend.get("filename", ""), "a video filename")
        if video.source_video is not None:
            plain_dict(video.source_video, "source_video")
        reg = self._registry
        owner = video._owner
        target = video if owner is None or owner is self else Video(
            video.backend_dict(), source_video=video.source_video)
        target._id = self._fresh_id(target, video._id, self._state.videos, reg.videos)
        reg.videos[target._id] = target
        target._owner = self
        if target is not video:
            reg.alias(video, target._id)
        self._ledger.emit(ev.VideoAdded(
            ev.VideoDef(target._id, backend, target.source_video),
            len(self._state.video_order)))
        return target._id

    # ----------------------------------------------------------------- batches

    def _instance_batch(self: Labels, entries: list[tuple[Instance, int, int]]
                        ) -> tuple[ev.InstanceBatch, list[int]]:
        n = len(entries)
        if n == 0:
            return ev.InstanceBatch.empty(), []
        base = self._ids.new_block(n)
        ids = list(range(base, base + n))
        new_of = {id(inst): ident for (inst, _, _), ident in zip(entries, ids, strict=True)}
        cols: dict[str, list[Any]] = {k: [] for k in (
            "video", "frame_idx", "skeleton", "track", "kind", "score", "tracking_score",
            "from_predicted", "n_pts")}
        rows_list = []
        for inst, vid, fidx in entries:
            skel = inst.skeleton
            sid = self._register_skeleton(skel)
            rows = inst.point_rows()
            if rows.shape[0] != len(skel.nodes):
                raise SkeletonMismatchError(
                    f"instance has {rows.shape[0]} points but skeleton {skel.name!r} has "
                    f"{len(skel.nodes)} nodes")
            track = inst.track
            fp = inst.from_predicted
            link = NO_ID
            if fp is not None:
                if id(fp) in new_of:
                    link = new_of[id(fp)]
                elif fp._labels is self and self._state.instances.row_of(fp._id) is not None:
                    link = fp._id
            predicted = isinstance(inst, PredictedInstance)
            cols["video"].append(vid)
            cols["frame_idx"].append(fidx)
            cols["skeleton"].append(sid)
            cols["track"].append(NO_ID if track is None else self._register_track(track))
            cols["kind"].append(1 if predicted else 0)
            cols["score"].append(inst.score if predicted else math.nan)
            cols["tracking_score"].append(inst.tracking_score if predicted else math.nan)
            cols["from_predicted"].append(link)
            cols["n_pts"].append(rows.shape[0])
            rows_list.append(rows)
        pts = np.concatenate(rows_list) if rows_list else np.zeros((0, 5))
        i64 = np.int64
        batch = ev.InstanceBatch(
            ids=np.asarray(ids, i64), video=np.asarray(cols["video"], i64),
            frame_idx=np.asarray(cols["frame_idx"], i64),
            skeleton=np.asarray(cols["skeleton"], i64), track=np.asarray(cols["track"], i64),
            kind=np.asarray(cols["kind"], np.uint8),
            score=np.asarray(cols["score"], np.float64),
            tracking_score=np.asarray(cols["tracking_score"], np.float64),
            from_predicted=np.asarray(cols["from_predicted"], i64),
            n_pts=np.asarray(cols["n_pts"], np.int32),
            x=pts[:, 0].copy(), y=pts[:, 1].copy(), visible=pts[:, 2] != 0,
            complete=pts[:, 3] != 0, point_score=pts[:, 4].copy())
        return batch, ids

    def _adopt_objects(self: Labels, objects: list[Instance], ids: list[int]) -> None:
        """Let the registry attach free instance objects once their event applies."""
        for inst, ident in zip(objects, ids, strict=True):
            if inst._labels is None:
                inst._id = ident
                self._registry.instances[ident] = inst

    # ----------------------------------------------------------------- frames

    def append(self: Labels, value: LabeledFrame) -> None:
        """Add a labelled frame (merged into an existing frame with the same video and index, as
        SLEAP does)."""
        self.insert(len(self), value)

    def extend(self: Labels, values: Iterable[LabeledFrame]) -> None:
        """Add several labelled frames in one transaction."""
        with self.transaction("extend"):
            for lf in values:
                self.append(lf)

    def insert(self: Labels, index: int, value: LabeledFrame) -> None:
        """Insert a frame at a list position. Like SLEAP, a frame whose (video,
        frame_idx) is already labelled is silently ignored."""
        self._check_writable()
        frame_arg(value)
        index = int_arg(index, "index")
        if value._labels is self:
            return
        video = value.video
        vid = self._vid(video)
        if vid is not None and self._state.frames.row_of(vid, value.frame_idx) is not None:
            return
        n = len(self)
        index = max(0, n + index) if index < 0 else min(index, n)
        with self.transaction("insert frame"):
            vid = self.add_video(video)
            insts = list(value.instances)
            batch, ids = self._instance_batch([(i, vid, value.frame_idx) for i in insts])
            if value._labels is None:
                self._adopt_objects(insts, ids)
                self._registry.frames[(vid, value.frame_idx)] = value
            self._ledger.emit(ev.FramesAdded(ev.FrameBatch(
                np.array([vid], np.int64), np.array([value.frame_idx], np.int64),
                np.array([index], np.int64), batch)))

    def __setitem__(self: Labels, index: int, value: LabeledFrame) -> None:
        """Replace the frame at a list position. A frame whose (video, frame_idx) is
        already elsewhere in the labels is refused (frames are unique by key)."""
        frame_arg(value)
        old = self.get(int_arg(index, "index"), raise_errors=True)
        if value is old:
            return
        vid = self._vid(value.video)
        row = None if vid is None else self._state.frames.row_of(vid, value.frame_idx)
        if row is not None and row != self._frame_row(old):
            raise ValidationError(
                f"frame {value.frame_idx} of {value.video!r} is already in the labels at "
                f"position {self._state.frames.order().index(row)}")
        with self.transaction("replace frame"):
            position = self.index(old)
            self.remove(old)
            self.insert(position, value)

    def __delitem__(self: Labels, index: int | slice) -> None:
        frames = self[index] if isinstance(index, slice) else [self.get(index, raise_errors=True)]
        self.remove_frames(frames)

    def remove(self: Labels, value: LabeledFrame) -> None:
        """Remove a labelled frame (SLEAP's name for `remove_frame`)."""
        if self._frame_row(frame_arg(value)) is None:
            raise NotInLabelsError("frame is not in the labels")
        self.remove_frames([value])

    def remove_frame(self: Labels, lf: LabeledFrame) -> None:
        """Remove a labelled frame and its instances (one undoable event)."""
        self.remove(lf)

    def remove_frames(self: Labels, lfs: Iterable[LabeledFrame]) -> None:
        """Remove several labelled frames in one transaction."""
        rows = [r for r in (self._frame_row(lf) for lf in lfs) if r is not None]
        if not rows:
            return
        with self.transaction("remove frames"):
            self._ledger.emit(ev.FramesRemoved(frames_batch(self._state, rows)))

    def remove_empty_frames(self: Labels) -> None:
        """Remove frames with no instances (one transaction)."""
        fc = self._state.frames.cols.cols
        self.remove_frames([self._frame_at_row(r) for r in self._state.frames.order()
                            if fc["n_user"][r] + fc["n_pred"][r] == 0])

    def remove_empty_instances(self: Labels, keep_empty_frames: bool = True) -> None:
        """Remove instances with no visible points (``keep_empty_frames`` as SLEAP)."""
        with self.transaction("remove empty instances"):
            for lf in self.labeled_frames:
                for inst in list(lf.instances):
                    if len(inst) == 0:
                        self.remove_instance(lf, inst)
            if not keep_empty_frames:
                self.remove_empty_frames()

    def _remove_kind(self: Labels, predicted: bool, new_labels: Any, message: str) -> None:
        with self.transaction(message):
            for lf in self.labeled_frames:
                if new_labels is not None and not new_labels.has_frame(lf):
                    continue
                insts = list(lf.instances)
                doomed = [i for i in insts if isinstance(i, PredictedInstance) == predicted]
                for inst in doomed:
                    self.remove_instance(lf, inst)
                if doomed and len(doomed) == len(insts):
                    self.remove(lf)

    def remove_user_instances(self: Labels, new_labels: Any = None) -> None:
        """Remove user instances (of ``new_labels``' frames when given), as SLEAP does."""
        self._remove_kind(False, new_labels, "remove user instances")

    def remove_predictions(self: Labels, new_labels: Any = None) -> None:
        """Remove predicted instances (of ``new_labels``' frames when given), as SLEAP does."""
        self._remove_kind(True, new_labels, "remove predictions")

    # ----------------------------------------------------------------- instances

    def _require_instance(self: Labels, instance: Instance) -> int:
        if not isinstance(instance, Instance):
            raise ValidationError(f"not an Instance: {instance!r}")
        if instance._labels is not self or self._state.instances.row_of(instance._id) is None:
            raise NotInLabelsError("instance is not in the labels")
        return instance._id  # type: ignore[return-value]

    def add_instance(self: Labels, frame: LabeledFrame, instance: Instance) -> None:
        """Add an instance to a frame (adding the frame when it is new). As in SLEAP,
        an instance whose track is already used by a user instance of the frame
        loses its track."""
        self._check_writable()
        frame_arg(frame)
        if not isinstance(instance, Instance):
            raise ValidationError(f"not an Instance: {instance!r}")
        if instance._labels is self and self._state.instances.row_of(instance._id) is not None:
            raise ValidationError("instance is already in the labels")
        target = frame if frame._labels is self else self.find_first(frame.video, frame.frame_idx)
        if target is None:
            if frame._labels is not None:
                raise NotFoundError("frame is not in the labels")
            frame.append(instance)
            self.append(frame)
            return
        track = instance.track
        if track is not None and any(type(i) is Instance and i.track is track
                                     for i in target.instances):
            if instance._labels is None:
                instance._track = None
            track = None
        with self.transaction("add instance"):
            vid = self.add_video(target.video)
            batch, ids = self._instance_batch([(instance, vid, target.frame_idx)])
            if track is None and instance.track is not None:
                batch = _with_tracks(batch, NO_ID)
            self._adopt_objects([instance], ids)
            self._ledger.emit(ev.InstancesAdded(batch))

    def remove_instance(self: Labels, frame: LabeledFrame, instance: Instance,
                        in_transaction: bool = False) -> None:
        """Remove an instance from its frame; the frame stays, even when empty."""
        self._check_writable()
        ident = self._require_instance(instance)
        row = self._state.instances.row_of(ident)
        key = self._state.frame_key(int(self._state.instances.cols.cols["frame"][row]))
        if frame_arg(frame)._labels is not self or frame._key != key:
            raise NotInLabelsError("instance is not in that frame")
        with self.transaction("remove instance"):
            self._ledger.emit(ev.InstancesRemoved(
                instance_batch_from_rows(self._state, np.array([row]))))

    def set_frame_instances(self: Labels, frame: LabeledFrame,
                            instances: list[Instance]) -> None:
        """Make a frame hold exactly ``instances``. Every element is checked before
        anything changes (and the transaction undoes a later failure)."""
        frame_arg(frame)
        instances = list(instances)
        for inst in instances:
            if not isinstance(inst, Instance):
                raise ValidationError(f"not an Instance: {inst!r}")
        keep = {id(i) for i in instances}
        with self.transaction("set frame instances"):
            for inst in list(frame.instances):
                if id(inst) not in keep:
                    self.remove_instance(frame, inst)
            current = {id(i) for i in frame.instances}
            for inst in instances:
                if id(inst) not in current:
                    self.add_instance(frame, inst)

    def set_point(self: Labels, instance: Instance, node: Node | str | int, x: float, y: float,
                  visible: bool = True, complete: bool = False, score: float | None = None
                  ) -> None:
        """Move one point (an undoable `PointSet` event). ``complete`` defaults to
        False as for SLEAP's ``Point(x, y)`` (and ``inst[node] = Point(...)``), so the
        two ways of placing the same point agree and never conflict in a merge."""
        self._check_writable()
        ident = self._require_instance(instance)
        skel = instance.skeleton
        target = skel.node(node)
        pos = skel.node_to_index(target)
        x, y = float_arg(x, "x"), float_arg(y, "y")
        if math.isinf(x) or math.isinf(y):
            raise ValidationError(f"a point must be finite (or NaN for missing), not ({x}, {y})")
        if score is not None:
            score = float_arg(score, "score")
        table = self._state.instances
        row = table.row_of(ident)
        old_x, old_y, old_vis, old_comp, old_score = table.points.get(
            int(table.cols.cols["pt_start"][row]) + pos)
        new_score = old_score if score is None else float(score)
        self._ledger.emit(ev.PointSet(
            ident, target._id, float(x), float(y), bool(visible), bool(complete), new_score,
            old_x, old_y, old_vis, old_comp, old_score))

    def set_points(self: Labels, instance: Instance, points: Any) -> None:
        """Replace all points of an instance: (n_nodes, 2) xy (NaN = missing) or
        (n_nodes, 5) rows x, y, visible, complete, score."""
        self._check_writable()
        ident = self._require_instance(instance)
        old = self._instance_rows(ident)
        try:
            arr = np.asarray(points, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValidationError(f"points must be numbers in rows of equal length ({exc})"
                                  ) from None
        if arr.ndim != 2 or arr.shape[0] != old.shape[0] or arr.shape[1] not in (2, 5):
            raise SkeletonMismatchError(
                f"points of shape {arr.shape} do not fit an instance with {old.shape[0]} nodes")
        if arr.shape[1] == 2:
            new = old.copy()
            new[:, :2] = arr
            missing = np.isnan(arr).any(axis=1)
            new[:, 2] = 1.0
            new[:, 3] = np.where(missing, 0.0, 1.0)
        else:
            new = arr.copy()
            if not np.all(np.isin(new[:, 2:4], (0.0, 1.0))):
                raise ValidationError("visible and complete columns must be 0 or 1")
        self._ledger.emit(ev.PointsSet(ident, new, old))

    def set_from_predicted(self: Labels, instance: Instance,
                           predicted: PredictedInstance | None) -> None:
        """Set which predicted instance a user instance was made from (None to clear)."""
        ident = self._require_instance(instance)
        link = NO_ID if predicted is None else self._require_instance(predicted)
        c = self._state.instances.cols.cols
        row = self._state.instances.row_of(ident)
        self._ledger.emit(ev.InstanceUpdated(
            ident, int(c["from_predicted"][row]), link, float(c["score"][row]),
            float(c["score"][row]), float(c["tracking_score"][row]),
            float(c["tracking_score"][row])))

    # ----------------------------------------------------------------- tracks

    def track_set_instance(self: Labels, frame: LabeledFrame, instance: Instance,
                           new_track: Track | None) -> None:
        """Set an instance's track (registering a new track, unlike SLEAP)."""
        self._check_writable()
        ident = self._require_instance(instance)
        old = instance.track
        if old is new_track:
            return
        with self.transaction("track_set_instance"):
            new_id = NO_ID if new_track is None else self._register_track(new_track)
            self._ledger.emit(ev.TracksAssigned(
                (ident,), (NO_ID if old is None else self._tid(old),), (new_id,)))

    def track_swap(self: Labels, video: Video, new_track: Track, old_track: Track | int | None,
                   frame_range: tuple[int, int] | range) -> None:
        """Swap two tracks' instances on frames ``[start, end)`` of a video. With
        ``old_track=None`` untracked instances and ``new_track``'s swap; with an int
        k the untracked instance at position k of each frame joins ``new_track``."""
        self._check_writable()
        self._require_vid(video)
        if isinstance(frame_range, range):
            start, end = frame_range.start, frame_range.stop
        elif isinstance(frame_range, tuple | list) and len(frame_range) == 2:
            start, end = int_arg(frame_range[0], "range start"), int_arg(frame_range[1],
                                                                          "range end")
        else:
            raise ValidationError(f"frame_range must be (start, end) or a range, not "
                                  f"{frame_range!r}")
        if end <= start:
            raise ValidationError(f"track_swap needs a non-empty frame range, got [{start}, {end})")
        if not isinstance(new_track, Track):
            raise ValidationError("new_track must be a Track")
        if old_track is not None and not isinstance(old_track, Track | int):
            raise ValidationError("old_track must be a Track, an int or None")
        new_id = self._tid(new_track)
        old_id = self._tid(old_track) if isinstance(old_track, Track) else NO_ID
        pseudo = isinstance(old_track, int) and not isinstance(old_track, bool)
        moves: list[tuple[int, int, str]] = []  # (instance, old track id, "new"/"old")
        for lf in self._frames_in_range(video, start, end):
            for k, inst in enumerate(lf.instances):
                t = inst.track
                tid = NO_ID if t is None else self._tid(t)
                if pseudo:
                    if k == old_track and t is None:
                        moves.append((inst._id, NO_ID, "new"))
                elif old_id is not None and tid == old_id and tid != new_id:
                    moves.append((inst._id, tid, "new"))
                elif new_id is not None and tid == new_id and tid != old_id:
                    moves.append((inst._id, tid, "old"))
        if not moves:
            return
        with self.transaction("track_swap"):
            targets = {"new": self._register_track(new_track),
                       "old": self._register_track(old_track)
                       if isinstance(old_track, Track) else NO_ID}
            self._ledger.emit(ev.TracksAssigned(
                tuple(m[0] for m in moves), tuple(m[1] for m in moves),
                tuple(targets[m[2]] for m in moves)))

    def _frames_in_range(self: Labels, video: Video, start: int, end: int
                         ) -> list[LabeledFrame]:
        """The video's labelled frames with ``start <= frame_idx < end``, by frame
        index: the cost follows the labelled frames, not the range's width."""
        vid = self._require_vid(video)
        fc = self._state.frames.cols.cols
        rows = [r for r in self._rows_of_video(vid) if start <= fc["frame_idx"][r] < end]
        rows.sort(key=lambda r: int(fc["frame_idx"][r]))
        return [self._frame_at_row(r) for r in rows]

    # ----------------------------------------------------------------- videos

    def remove_video(self: Labels, video: Video) -> None:
        """Remove a video with its frames, suggestions and negative anchors (one
        event that carries all of it, so undo restores everything)."""
        self._check_writable()
        vid = self._vid(video)
        if vid is None:
            raise NotFoundError("Video is not in labels.")
        st = self._state
        rows = self._rows_of_video(vid)
        suggs = tuple((k, s) for k, s in enumerate(st.suggestions) if s.video == vid)
        anchors = tuple(tuple(a) for a in st.anchors.get(vid, []))
        with self.transaction("remove video"):
            self._ledger.emit(ev.VideoRemoved(
                st.videos[vid], st.video_order.index(vid),
                frames_batch(st, rows) if rows else None, suggs, anchors))  # type: ignore[arg-type]


def skeleton_def(skeleton: Skeleton, sid: int | None = None) -> ev.SkeletonDef:
    return ev.SkeletonDef(
        sid if sid is not None else skeleton._id,  # type: ignore[arg-type]
        skeleton.name,
        tuple(ev.NodeDef(n._id, n.name, n.weight) for n in skeleton._nodes),  # type: ignore[arg-type]
        tuple((a._id, b._id) for a, b in skeleton._edges),  # type: ignore[misc]
        tuple((a._id, b._id) for a, b in skeleton._symmetries),  # type: ignore[misc]
    )


def _with_tracks(batch: ev.InstanceBatch, track: int) -> ev.InstanceBatch:
    fields = {f: getattr(batch, f) for f in ev.InstanceBatch.__struct_fields__}
    fields["track"] = np.full(len(batch), track, dtype=np.int64)
    return ev.InstanceBatch(**fields)


def int_arg(value: Any, what: str) -> int:
    """An integer argument (64-bit), or `ValidationError` naming it."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValidationError(f"{what} must be an integer, not {value!r}")
    return check_int(value, what)


def float_arg(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValidationError(f"{what} must be a number, not {value!r}")
    return float(value)


def frame_arg(value: Any) -> LabeledFrame:
    if not isinstance(value, LabeledFrame):
        raise ValidationError(f"not a LabeledFrame: {value!r}")
    return value
