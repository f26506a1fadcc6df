"""Stateful property tests of the event core.

Random sequences of `Labels` API calls (with undo, redo and transactions that fail
midway). After every step:
- replaying the history (encoded and decoded, as a store would) from empty gives
  the live state;
- the caches (track occupancy, frame counts) equal a rebuild from the tables;
- undo then redo returns to the same state;
- ``at(seq)`` equals the state that was live right after ``seq``.
"""

from __future__ import annotations

import math
import os

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from ledger import (
    Instance,
    LabeledFrame,
    Labels,
    Point,
    PredictedInstance,
    Skeleton,
    SuggestionFrame,
    Track,
    Video,
)
from ledger.core.apply import apply_event
from ledger.core.codec import decode_event, encode_event
from ledger.core.point_pool import PointPool
from ledger.core.state import State, canonical, canonical_caches, rebuild_caches
from ledger.errors import LedgerError
from ledger.io.project_convert import import_events
from ledger.io.project_data import ProjectData, SkeletonData, VideoData

coords = st.one_of(st.just(math.nan), st.integers(0, 50).map(float))


class Boom(Exception):
    """Raised on purpose inside a transaction."""


def _points(draw_values: list[tuple[float, float, bool]]) -> dict[str, Point]:
    return {f"n{k}": Point(x, y, visible=v) for k, (x, y, v) in enumerate(draw_values)}


def _imported_project(data: st.DataObject) -> ProjectData:
    """A file's worth of frames (more instances than the editor's small-batch path
    takes), to start from a bulk import whose columns the tables borrow."""
    keys = sorted(data.draw(st.sets(st.tuples(st.integers(0, 1), st.integers(0, 12)),
                                    min_size=8, max_size=20)))
    per_frame = [data.draw(st.integers(1, 3)) for _ in keys]
    n = sum(per_frame)
    kind = np.array([data.draw(st.integers(0, 1)) for _ in range(n)], np.uint8)
    xy = np.array([data.draw(coords) for _ in range(2 * 3 * n)]).reshape(2, -1)
    ends = np.cumsum(per_frame)
    return ProjectData(
        videos=[VideoData(backend={"filename": f"/missing/v{k}.mp4"}) for k in range(2)],
        skeletons=[SkeletonData("s", ["n0", "n1", "n2"], [(0, 1)])],
        tracks=[(0, "a"), (3, "b"), (1, "c")],
        frame_video=np.array([v for v, _ in keys], np.int64),
        frame_idx=np.array([f for _, f in keys], np.int64),
        frame_inst_start=ends - per_frame, frame_inst_end=ends,
        inst_frame=np.repeat(np.arange(len(keys)), per_frame),
        inst_kind=kind, inst_skeleton=np.zeros(n, np.int64),
        inst_track=np.array([data.draw(st.integers(-1, 2)) for _ in range(n)], np.int64),
        inst_from_predicted=np.full(n, -1, np.int64),
        inst_score=np.where(kind == 1, 0.5, np.nan),
        inst_tracking_score=np.where(kind == 1, 0.25, np.nan),
        inst_pt_start=np.arange(n, dtype=np.int64) * 3,
        point_x=xy[0], point_y=xy[1], point_visible=~np.isnan(xy[0]),
        point_complete=np.zeros(3 * n, bool), point_score=np.repeat(kind * 0.75, 3))


class LedgerMachine(RuleBasedStateMachine):
    @initialize(data=st.data(), imported=st.booleans())
    def setup(self, data: st.DataObject, imported: bool) -> None:
        # tiny point segments, so that gathers and writes cross segment borders
        self._segment = PointPool.MAX_SEGMENT
        PointPool.MAX_SEGMENT = 16
        self.labels = Labels()
        self.skeleton = Skeleton.from_names_and_edge_inds(["n0", "n1", "n2"], [(0, 1)])
        self.videos = [Video.from_filename(f"/missing/v{k}.mp4") for k in range(2)]
        self.tracks = [Track(0, "a"), Track(3, "b"), Track(1, "c")]
        self.seen: dict[int, dict] = {0: canonical(self.labels._state)}
        self.frozen: dict[int, bytes] = {}
        if imported:
            with self.labels.transaction("import"):
                for event in import_events(_imported_project(data), self.labels._ids):
                    self.labels._ledger.emit(event)
            self.skeleton = self.labels.skeletons[0]
            self.videos = list(self.labels.videos)
            self.tracks = list(self.labels.tracks)
            self.seen[self.labels._ledger.head] = canonical(self.labels._state)
            self.frozen = {rec.seq: encode_event(rec.event) for rec in self.labels.history}
        self.removed_frames: list[LabeledFrame] = []
        self.removed_instances: list[Instance] = []

    def teardown(self) -> None:
        PointPool.MAX_SEGMENT = getattr(self, "_segment", PointPool.MAX_SEGMENT)

    # ----------------------------------------------------------------- helpers

    def _frames(self) -> list[LabeledFrame]:
        return self.labels.labeled_frames

    def _instances(self) -> list[tuple[LabeledFrame, Instance]]:
        return [(lf, i) for lf in self._frames() for i in lf.instances]

    def _make_instance(self, data: st.DataObject) -> Instance:
        n = len(self.labels.skeletons[0].nodes) if self.labels.skeletons else 3
        skel = self.labels.skeletons[0] if self.labels.skeletons else self.skeleton
        pts = np.array([[data.draw(coords), data.draw(coords)] for _ in range(n)])
        track = data.draw(st.sampled_from([None, *self.tracks]))
        if data.draw(st.booleans()):
            return PredictedInstance.from_numpy(pts, np.full(n, 0.5), 0.9, skel, track=track)
        return Instance.from_numpy(pts, skel, track=track)

    # ----------------------------------------------------------------- rules

    @rule(data=st.data(), video=st.integers(0, 1), frame_idx=st.integers(0, 12),
          n=st.integers(0, 3))
    def append_frame(self, data: st.DataObject, video: int, frame_idx: int, n: int) -> None:
        insts = [self._make_instance(data) for _ in range(n)]
        self.labels.append(LabeledFrame(self.videos[video], frame_idx, insts))

    @precondition(lambda self: len(self.labels) > 0)
    @rule(data=st.data())
    def add_instance(self, data: st.DataObject) -> None:
        lf = data.draw(st.sampled_from(self._frames()))
        self.labels.add_instance(lf, self._make_instance(data))

    @precondition(lambda self: len(self.labels) > 0)
    @rule(data=st.data())
    def remove_instance(self, data: st.DataObject) -> None:
        pairs = self._instances()
        if pairs:
            lf, inst = data.draw(st.sampled_from(pairs))
            self.labels.remove_instance(lf, inst)
            self.removed_instances.append(inst)

    @precondition(lambda self: len(self.labels) > 0)
    @rule(data=st.data())
    def remove_frame(self, data: st.DataObject) -> None:
        frame = data.draw(st.sampled_from(self._frames()))
        self.labels.remove(frame)
        self.removed_frames.append(frame)

    @precondition(lambda self: self.removed_frames or self.removed_instances)
    @rule(data=st.data())
    def readd_removed_object(self, data: st.DataObject) -> None:
        """The same Python object goes back in (undo may have put it back already)."""
        frames = [f for f in self.removed_frames if f._labels is None]
        insts = [i for i in self.removed_instances if i._labels is None]
        if frames and data.draw(st.booleans()):
            self.labels.append(data.draw(st.sampled_from(frames)))
        elif insts and len(self.labels):
            inst = data.draw(st.sampled_from(insts))
            if inst.skeleton in self.labels.skeletons and \
                    len(inst.point_rows()) == len(inst.skeleton.nodes):
                self.labels.add_instance(data.draw(st.sampled_from(self._frames())), inst)

    @precondition(lambda self: len(self.labels) > 0)
    @rule(data=st.data(), x=coords, y=coords, visible=st.booleans())
    def set_point(self, data: st.DataObject, x: float, y: float, visible: bool) -> None:
        pairs = self._instances()
        if pairs:
            _, inst = data.draw(st.sampled_from(pairs))
            node = data.draw(st.sampled_from(inst.skeleton.node_names))
            self.labels.set_point(inst, node, x, y, visible=visible)

    @precondition(lambda self: len(self.labels) > 0)
    @rule(data=st.data())
    def set_track(self, data: st.DataObject) -> None:
        pairs = self._instances()
        if pairs:
            lf, inst = data.draw(st.sampled_from(pairs))
            self.labels.track_set_instance(lf, inst, data.draw(st.sampled_from(
                [None, *self.tracks])))

    @rule(video=st.integers(0, 1), a=st.integers(0, 2), b=st.integers(-1, 2),
          start=st.integers(0, 12), length=st.integers(0, 6))
    def track_swap(self, video: int, a: int, b: int, start: int, length: int) -> None:
        old = None if b < 0 else self.tracks[b]
        try:
            self.labels.track_swap(self.videos[video], self.tracks[a], old,
                                   (start, start + length))
        except LedgerError:
            pass  # empty range or unknown video: refused, nothing changed

    @rule(video=st.integers(0, 1))
    def remove_video(self, video: int) -> None:
        if self.videos[video] in self.labels:
            self.labels.remove_video(self.videos[video])

    @rule(video=st.integers(0, 1), frame_idx=st.integers(0, 12),
          group=st.none() | st.integers(0, 2))
    def add_suggestion(self, video: int, frame_idx: int, group: int | None) -> None:
        self.labels.add_suggestion(self.videos[video], frame_idx, group)

    @rule(data=st.data())
    def set_suggestions(self, data: st.DataObject) -> None:
        items = data.draw(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 12)), max_size=4))
        self.labels.set_suggestions([SuggestionFrame(self.videos[v], f) for v, f in items])

    @rule(video=st.integers(0, 1), frame_idx=st.integers(0, 5), x=st.integers(0, 9))
    def add_anchor(self, video: int, frame_idx: int, x: int) -> None:
        self.labels.add_negative_anchor(self.videos[video], frame_idx, (float(x), 1.0))

    @rule(video=st.integers(0, 1), frame_idx=st.integers(0, 5))
    def remove_anchors(self, video: int, frame_idx: int) -> None:
        if self.videos[video] in self.labels:
            self.labels.remove_negative_anchors(self.videos[video], frame_idx)

    @precondition(lambda self: len(self.labels.skeletons) > 0)
    @rule(data=st.data())
    def edit_nodes(self, data: st.DataObject) -> None:
        skel = self.labels.skeletons[0]
        action = data.draw(st.sampled_from(["add", "rename", "remove"]))
        names = skel.node_names
        if action == "add":
            name = f"x{data.draw(st.integers(0, 99))}"
            if name not in names:
                self.labels.add_node(skel, name)
        elif action == "rename":
            old = data.draw(st.sampled_from(names))
            new = f"r{data.draw(st.integers(0, 99))}"
            if new not in names:
                self.labels.rename_node(skel, old, new)
        elif len(names) > 1:
            self.labels.remove_node(skel, data.draw(st.sampled_from(names)))

    @rule(k=st.integers(0, 2))
    def remove_track(self, k: int) -> None:
        if self.tracks[k] in self.labels.tracks:
            self.labels.remove_track(self.tracks[k])

    @rule(data=st.data(), n=st.integers(1, 3))
    def failing_transaction(self, data: st.DataObject, n: int) -> None:
        before = canonical(self.labels._state)
        head = len(self.labels.history)
        try:
            with self.labels.transaction("will fail"):
                for k in range(n):
                    self.labels.append(LabeledFrame(self.videos[k % 2], 20 + k,
                                                    [self._make_instance(data)]))
                    if self._instances():
                        lf, inst = self._instances()[0]
                        self.labels.set_point(inst, inst.skeleton.node_names[0], 1.0, 2.0)
                raise Boom()
        except Boom:
            pass
        assert canonical(self.labels._state) == before
        assert len(self.labels.history) == head

    @rule()
    def undo(self) -> None:
        self.labels.undo()

    @rule()
    def redo(self) -> None:
        self.labels.redo()

    # ----------------------------------------------------------------- invariants

    @invariant()
    def replay_equals_live(self) -> None:
        state = State()
        for rec in self.labels.history:
            apply_event(state, decode_event(encode_event(rec.event)))
        assert canonical(state) == canonical(self.labels._state)

    @invariant()
    def recorded_events_never_change(self) -> None:
        # tables borrow the import's arrays: no edit may write through to them
        for rec in self.labels.history[:len(self.frozen)]:
            assert encode_event(rec.event) == self.frozen[rec.seq]

    @invariant()
    def caches_equal_rebuild(self) -> None:
        occ, counts = rebuild_caches(self.labels._state)
        live_occ, live_counts = canonical_caches(self.labels._state)
        assert live_occ == {k: v.intervals for k, v in occ.items()}
        assert {v: c for v, c in live_counts.items() if v in counts} == counts

    @invariant()
    def record_and_check_time_travel(self) -> None:
        head = self.labels._ledger.head
        self.seen[head] = canonical(self.labels._state)
        if head:
            seq = max(s for s in self.seen if s <= head // 2 + 1)
            assert self.labels.at(seq).canonical() == self.seen[seq]

    @invariant()
    def undo_then_redo_is_identity(self) -> None:
        if self.labels.can_undo:
            before = canonical(self.labels._state)
            self.labels.undo()
            self.labels.redo()
            assert canonical(self.labels._state) == before
            self.seen[self.labels._ledger.head] = before


# LEDGER_PROPERTY_EXAMPLES raises the example count for long runs (default 300).
LedgerMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("LEDGER_PROPERTY_EXAMPLES", "300")),
    stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestLedgerMachine = LedgerMachine.TestCase
