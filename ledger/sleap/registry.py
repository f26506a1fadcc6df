"""Keeps the facade's Python objects and the state's ids in step.

Definitions (videos, skeletons, nodes, tracks) are held strongly by id: they are
few and SLEAP code keeps comparing them with ``is``. Frames and instances are
views made on demand and interned weakly, so the same id gives back the same
object while anyone holds it, and a 300,000-frame project costs no objects until
they are asked for.

`Registry.on_event` runs after every applied event (including undo, redo and
rollback) and attaches or detaches the objects the event concerns, so an object
held by user code always tells the truth about the ledger.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ledger.core import events as ev
from ledger.core.ids import NO_ID
from ledger.model.frame import LabeledFrame
from ledger.model.instance import Instance, instance_class
from ledger.model.skeleton import Node, Skeleton
from ledger.model.track import Track
from ledger.model.video import Video

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


class InstanceRecord(NamedTuple):
    skeleton: Skeleton
    track: Track | None
    from_predicted: Any
    frame: LabeledFrame | None
    score: float
    tracking_score: float


def rows_of_batch(batch: ev.InstanceBatch, k: int, offsets: np.ndarray) -> np.ndarray:
    a, b = int(offsets[k]), int(offsets[k + 1])
    return np.stack([batch.x[a:b], batch.y[a:b], batch.visible[a:b], batch.complete[a:b],
                     batch.point_score[a:b]], axis=1).astype(np.float64)


class Registry:
    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self.videos: dict[int, Video] = {}
        self.skeletons: dict[int, Skeleton] = {}
        self.nodes: dict[int, Node] = {}
        self.tracks: dict[int, Track] = {}
        self.instances: weakref.WeakValueDictionary[int, Instance] = weakref.WeakValueDictionary()
        self.frames: weakref.WeakValueDictionary[tuple[int, int], LabeledFrame] = (
            weakref.WeakValueDictionary())
        # Objects owned by another labels object that were copied into this one:
        # Python id of the foreign object -> id of our copy. The foreign objects are
        # kept alive here so their Python ids cannot be reused.
        self.aliases: dict[int, int] = {}
        self._foreign: list[Any] = []

    def def_id(self, obj: Any, table: dict[int, Any]) -> int | None:
        """This labels object's id for a definition object (its own or an alias)."""
        ident = getattr(obj, "_id", None)
        if ident is not None and table.get(ident) is obj:
            return ident
        return self.aliases.get(id(obj))

    def alias(self, foreign: Any, ident: int) -> None:
        self.aliases[id(foreign)] = ident
        self._foreign.append(foreign)

    # ----------------------------------------------------------------- defs -> objects

    def sync_skeleton(self, d: ev.SkeletonDef) -> Skeleton:
        skel = self.skeletons.get(d.id)
        if skel is None:
            skel = Skeleton(d.name)
            skel._id = d.id
            self.skeletons[d.id] = skel
        nodes = []
        for nd in d.nodes:
            node = self.nodes.get(nd.id)
            if node is None:
                node = Node(nd.name, nd.weight)
                node._id = nd.id
                self.nodes[nd.id] = node
            node._id = nd.id
            node._name = nd.name
            node._weight = nd.weight  # the object follows the event (no new event)
            node._skeleton = skel
            nodes.append(node)
        skel._id = d.id
        skel._name = d.name
        skel._nodes = nodes
        skel._edges = [(self.nodes[a], self.nodes[b]) for a, b in d.edges]
        skel._symmetries = [(self.nodes[a], self.nodes[b]) for a, b in d.symmetries]
        if skel._owner is None:
            skel._owner = self.labels
        return skel

    def sync_track(self, d: ev.TrackDef) -> Track:
        track = self.tracks.get(d.id)
        if track is None:
            track = Track(d.spawned_on, d.name)
            track._id = d.id
            self.tracks[d.id] = track
        track._id = d.id
        track._name = d.name
        track._spawned_on = d.spawned_on
        if track._owner is None:
            track._owner = self.labels
        return track

    def sync_video(self, d: ev.VideoDef) -> Video:
        video = self.videos.get(d.id)
        if video is None:
            video = Video(dict(d.backend), source_video=d.source_video)
            video._id = d.id
            self.videos[d.id] = video
        else:
            video._id = d.id
            video._sync(d.backend, d.source_video)
        if video._owner is None:
            video._owner = self.labels
        return video

    # ----------------------------------------------------------------- views

    def instance_view(self, ident: int, kind: int) -> Instance:
        obj = self.instances.get(ident)
        if obj is None:
            obj = instance_class(kind)._attached(self.labels, ident)
            self.instances[ident] = obj
        return obj

    def frame_view(self, key: tuple[int, int]) -> LabeledFrame:
        obj = self.frames.get(key)
        if obj is None or obj._labels is not self.labels:
            obj = LabeledFrame._attached(self.labels, key)
            self.frames[key] = obj
        return obj

    # ----------------------------------------------------------------- listener

    def on_event(self, event: ev.Event) -> None:
        handler = _SYNC.get(type(event))
        if handler is not None:
            handler(self, event)

    def _attach_instances(self, batch: ev.InstanceBatch) -> None:
        if not len(self.instances):
            return
        for ident in batch.ids.tolist():
            obj = self.instances.get(ident)
            if obj is not None and obj._labels is None:
                obj._labels = self.labels
                obj._id = ident
                obj._skeleton = obj._track = obj._from_predicted = obj._frame = None
                obj._rows = None
                obj._nodes = None

    def _detach_instances(self, batch: ev.InstanceBatch,
                          complete: set[int] | None = None) -> dict[int, Instance]:
        """Give removed instances' objects their data back.

        Objects someone holds are detached; for the batch positions in
        ``complete`` (the instances of a removed frame that someone holds) an
        object is made if there was none, so that the frame keeps all of its
        instances whatever the garbage collector has already dropped."""
        objs: dict[int, tuple[int, Instance]] = {}
        for k, ident in enumerate(batch.ids.tolist()):
            obj = self.instances.get(ident) if len(self.instances) else None
            if obj is None or obj._labels is not self.labels:
                if complete is None or k not in complete or obj is not None:
                    continue
                obj = instance_class(int(batch.kind[k]))._attached(self.labels, ident)
                self.instances[ident] = obj
            objs[ident] = (k, obj)
        if not objs:
            return {}
        offsets = batch.pt_offsets
        st = self.labels._state
        for k, obj in objs.values():
            link = int(batch.from_predicted[k])
            if link == NO_ID:
                fp = None
            elif link in objs:
                fp = objs[link][1]
            else:
                row = st.instances.row_of(link)
                fp = (self.instance_view(link, int(st.instances.cols.cols["kind"][row]))
                      if row is not None else self.instances.get(link))
            obj._labels = None
            obj._skeleton = self.skeletons[int(batch.skeleton[k])]
            track = int(batch.track[k])
            obj._track = None if track == NO_ID else self.tracks.get(track)
            obj._from_predicted = fp
            obj._rows = rows_of_batch(batch, k, offsets)
            obj._nodes = list(obj._skeleton._nodes)
            obj._score = float(batch.score[k])
            obj._tracking_score = float(batch.tracking_score[k])
            obj._frame = None
        return {ident: obj for ident, (_, obj) in objs.items()}

    def _attach_frames(self, frames: ev.FrameBatch) -> None:
        if len(self.frames):
            for key in zip(frames.video.tolist(), frames.frame_idx.tolist(), strict=True):
                obj = self.frames.get(key)
                if obj is not None and obj._labels is None:
                    obj._labels = self.labels
                    obj._key = key
                    obj._video = None
                    obj._instances = []
        self._attach_instances(frames.instances)

    def _detach_frames(self, frames: ev.FrameBatch) -> None:
        """Removed frames that someone holds become free frames with all their
        instances (as objects); other held instances are just detached."""
        held: dict[tuple[int, int], LabeledFrame] = {}
        if len(self.frames):
            for key in zip(frames.video.tolist(), frames.frame_idx.tolist(), strict=True):
                obj = self.frames.get(key)
                if obj is not None and obj._labels is self.labels:
                    held[key] = obj
        batch = frames.instances
        keys = list(zip(batch.video.tolist(), batch.frame_idx.tolist(), strict=True))
        complete = {k for k, key in enumerate(keys) if key in held}
        objs = self._detach_instances(batch, complete)
        for key, obj in held.items():
            obj._labels = None
            obj._key = None
            obj._video = self.videos[key[0]]
            obj._instances = []
        for ident, key in zip(batch.ids.tolist(), keys, strict=True):
            if key in held:
                held[key]._adopt(objs[ident])

def _video_added(reg: Registry, e: ev.VideoAdded) -> None:
    reg.sync_video(e.video)
    if e.frames is not None:
        reg._attach_frames(e.frames)


def _video_removed(reg: Registry, e: ev.VideoRemoved) -> None:
    if e.frames is not None:
        reg._detach_frames(e.frames)
    video = reg.videos.get(e.video.id)
    if video is not None and video._owner is reg.labels:
        video._owner = None


def _skeleton_removed(reg: Registry, e: ev.SkeletonRemoved) -> None:
    skel = reg.skeletons.get(e.skeleton.id)
    if skel is not None and skel._owner is reg.labels:
        skel._owner = None


def _track_removed(reg: Registry, e: ev.TrackRemoved) -> None:
    track = reg.tracks.get(e.track.id)
    if track is not None and track._owner is reg.labels:
        track._owner = None


def _instances_removed(reg: Registry, e: ev.InstancesRemoved) -> None:
    reg._detach_instances(e.instances)  # objects nobody holds need no data


_SYNC: dict[type, Any] = {
    ev.FramesAdded: lambda reg, e: reg._attach_frames(e.frames),
    ev.FramesRemoved: lambda reg, e: reg._detach_frames(e.frames),
    ev.InstancesAdded: lambda reg, e: reg._attach_instances(e.instances),
    ev.InstancesRemoved: _instances_removed,
    ev.SkeletonAdded: lambda reg, e: reg.sync_skeleton(e.skeleton),
    ev.SkeletonChanged: lambda reg, e: reg.sync_skeleton(e.after),
    ev.NodeAdded: lambda reg, e: reg.sync_skeleton(e.skeleton_after),
    ev.NodeRemoved: lambda reg, e: reg.sync_skeleton(e.skeleton_after),
    ev.SkeletonRemoved: _skeleton_removed,
    ev.TrackAdded: lambda reg, e: reg.sync_track(e.track),
    ev.TrackChanged: lambda reg, e: reg.sync_track(e.after),
    ev.TrackRemoved: _track_removed,
    ev.VideoAdded: _video_added,
    ev.VideoChanged: lambda reg, e: reg.sync_video(e.after),
    ev.VideoRemoved: _video_removed,
}
