"""The store contract as one test class every backend subclasses.

A new backend is "implement `ledger.store.base.Store`, subclass `StoreContract`
with a ``make_store`` fixture" (as the eventsourcing library does with its recorder
test cases). ``make_store()`` returns a fresh, empty, writable store;
``reopen(store)`` returns a second handle on the same storage (a new connection;
the memory store, having no other handle, returns itself).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from ledger.core.codec import encode_canonical, encode_event, encode_payload
from ledger.core.events import (
    FrameBatch,
    FramesAdded,
    InstanceBatch,
    NodeDef,
    PointSet,
    ProvenanceSet,
    SkeletonAdded,
    SkeletonDef,
    TrackAdded,
    TrackDef,
    VideoAdded,
    VideoDef,
)
from ledger.core.record import Record, chain_hashes
from ledger.errors import (
    ConcurrencyError,
    ConflictError,
    IntegrityError,
    NotFoundError,
    ValidationError,
)
from ledger.store.base import Store

SKELETON = SkeletonDef(id=1, name="s", nodes=(NodeDef(2, "a"), NodeDef(5, "b")), edges=((2, 5),))
VIDEO = VideoDef(4, {"filename": "x.mp4"})


def big_frames(n: int, seed: int = 0, first_id: int = 100) -> FramesAdded:
    """A bulk event whose arrays are far over the inline limit."""
    rng = np.random.default_rng(seed)
    pts = n * 2
    inst = InstanceBatch(
        ids=np.arange(first_id, first_id + n, dtype=np.int64), video=np.full(n, VIDEO.id),
        frame_idx=np.arange(n, dtype=np.int64), skeleton=np.full(n, SKELETON.id),
        track=np.full(n, -1), kind=np.ones(n, np.uint8), score=rng.random(n),
        tracking_score=rng.random(n), from_predicted=np.full(n, -1),
        n_pts=np.full(n, 2, np.int32), x=rng.random(pts) * 640, y=rng.random(pts) * 480,
        visible=np.ones(pts, bool), complete=np.zeros(pts, bool), point_score=rng.random(pts))
    return FramesAdded(FrameBatch(video=np.full(n, VIDEO.id), frame_idx=np.arange(n),
                                  position=np.arange(n), instances=inst))


def point_set(instance: int, x: float) -> PointSet:
    return PointSet(instance=instance, node=2, x=x, y=1.0, visible=True, complete=True,
                    score=0.0, old_x=0.0, old_y=1.0, old_visible=True, old_complete=False,
                    old_score=0.0)


def records(events: list, start: int = 1, tx: int = 1, author: str = "ann",
            tx_kind: str = "do", ref: int = 0, meta: dict | None = None) -> list[Record]:
    return [Record(seq=start + i, tx=tx, author=author, time=f"2026-01-01T00:00:{tx:02d}",
                   message=f"tx {tx}", tool_version="test", tx_kind=tx_kind, ref=ref, event=e,
                   meta=dict(meta or {})) for i, e in enumerate(events)]


def history() -> list[Record]:
    """Three transactions: definitions, a bulk import, two point edits."""
    return (records([SkeletonAdded(SKELETON, 0), VideoAdded(VIDEO, 0, None),
                     TrackAdded(TrackDef(3, "t", 0), 0)], 1, 1)
            + records([big_frames(3000)], 4, 2, author="bob", meta={"source": "x.slp"})
            + records([point_set(100, 5.0), point_set(101, 6.0)], 5, 3, tx_kind="undo", ref=2))


def same(a: object, b: object) -> bool:
    return encode_event(a) == encode_event(b) if not hasattr(a, "frames") else \
        encode_payload(a).body == encode_payload(b).body


class StoreContract:
    """Subclass with fixtures ``make_store`` (→ fresh empty store) and
    ``reopen`` (store → a second handle on the same storage)."""

    make_store: Callable[[], Store]

    # ------------------------------------------------------------- appends

    def test_empty(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        assert store.head() == 0
        assert store.hash_at(0) == "" and store.hash_at(1) is None
        assert store.head_hash() == ""
        assert list(store.read()) == [] and list(store.read_envelopes()) == []
        assert store.last_tx() == 0 and store.transactions(1, 10) == []
        assert store.summary() == {} and store.tags() == {}
        assert store.latest_snapshot() is None and store.snapshot_seqs() == []
        assert store.verify() == 0

    def test_round_trip_and_chain(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        recs = history()
        store.append(recs[:3], 0)
        store.append(recs[3:4], 3)
        store.append(recs[4:], 4)
        assert store.head() == len(recs)
        expected = chain_hashes(recs)
        got = list(store.read())
        assert [r.hash for r in got] == [r.hash for r in expected]
        for a, b in zip(got, recs, strict=True):
            assert (a.seq, a.tx, a.author, a.time, a.message, a.tx_kind, a.ref, a.meta) == \
                (b.seq, b.tx, b.author, b.time, b.message, b.tx_kind, b.ref, b.meta)
            assert same(a.event, b.event)
        assert store.head_hash() == expected[-1].hash
        assert store.hash_at(4) == expected[3].hash
        assert store.verify() == len(recs)

    def test_ranges_and_envelopes(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        recs = history()
        store.append(recs, 0)
        assert [r.seq for r in store.read(2, 4)] == [2, 3, 4]
        assert [r.seq for r in store.read(5)] == [5, 6]
        assert list(store.read(7)) == [] and list(store.read(4, 3)) == []
        envs = list(store.read_envelopes(3, 5))
        assert [e.seq for e in envs] == [3, 4, 5]
        assert [e.kind for e in envs] == ["TrackAdded", "FramesAdded", "PointSet"]
        assert envs[1].meta == {"source": "x.slp"} and envs[1].author == "bob"
        assert [e.hash for e in envs] == [r.hash for r in store.read(3, 5)]

    def test_transactions(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        store.append(history(), 0)
        assert store.last_tx() == 3
        txs = store.transactions(1, 3)
        assert [(t.tx, t.first, t.last, t.author, t.tx_kind, t.ref) for t in txs] == \
            [(1, 1, 3, "ann", "do", 0), (2, 4, 4, "bob", "do", 0), (3, 5, 6, "ann", "undo", 2)]
        assert [t.tx for t in store.transactions(2, 99)] == [2, 3]
        assert store.tx_range(3) == (5, 6) and store.tx_range(9) is None

    def test_stale_writer_gets_concurrency_error(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        recs = history()
        store.append(recs[:3], 0)
        with pytest.raises(ConcurrencyError):
            store.append(records([point_set(100, 1.0)], 3, 2), 2)  # believes an older head
        with pytest.raises(ConcurrencyError):
            store.append(recs[:3], 0)   # would overwrite
        assert store.head() == 3 and store.verify() == 3

    def test_seqs_must_follow(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        recs = history()
        with pytest.raises(ValidationError):
            store.append(recs[1:3], 0)  # starts at 2: would leave a hole
        assert store.head() == 0

    def test_copied_history_must_chain(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        hashed = chain_hashes(history())
        store.append(hashed[:4], 0)  # hashes that continue the chain are accepted
        forged = hashed[4].with_hash("00" * 32)
        with pytest.raises(IntegrityError):
            store.append([forged, hashed[5]], 4)
        assert store.head() == 4

    def test_summary_travels_with_append(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        recs = history()
        store.append(recs[:3], 0, summary={"frames": 0})
        store.append(recs[3:4], 3)
        assert store.summary() == {"frames": 0}
        store.append(recs[4:], 4, summary={"frames": 3000, "videos": 1})
        assert store.summary() == {"frames": 3000, "videos": 1}

    def test_canonical_content_is_small(self, make_store: Callable[[], Store]) -> None:
        event = big_frames(30_000)
        assert event.frames.instances.x.nbytes > 100 * len(encode_canonical(event))

    # ------------------------------------------------------------- tags

    def test_tags(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        store.append(history(), 0)
        store.set_tag("v1", 4)
        store.set_tag("start", 0)
        store.set_tag("v1", 4)  # same place: fine
        with pytest.raises(ConflictError):
            store.set_tag("v1", 6)
        assert store.tags() == {"start": 0, "v1": 4}
        store.set_tag("v1", 6, move=True)
        assert store.tag_seq("v1") == 6
        with pytest.raises(ValidationError):
            store.set_tag("far", 7)
        with pytest.raises(ValidationError):
            store.set_tag("", 1)
        store.delete_tag("start")
        with pytest.raises(NotFoundError):
            store.delete_tag("start")
        with pytest.raises(NotFoundError):
            store.tag_seq("start")
        assert store.verify() == 6  # tags are outside the chain

    # ------------------------------------------------------------- snapshots

    def test_snapshots(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        recs = history()
        store.append(recs, 0)
        big = big_frames(3000).frames.instances.x
        first = encode_payload({"at": 4, "x": big})
        store.save_snapshot(4, store.hash_at(4), first, keep=2)
        second = encode_payload({"at": 6, "x": big[::-1].copy(), "small": [1, 2]})
        store.save_snapshot(6, store.hash_at(6), second, keep=2)
        assert store.snapshot_seqs() == [4, 6]
        seq, head_hash, data = store.latest_snapshot()
        assert (seq, head_hash) == (6, store.hash_at(6))
        assert np.array_equal(data["x"], big[::-1]) and data["small"] == [1, 2]
        seq, _, data = store.latest_snapshot(max_seq=5)
        assert seq == 4 and np.array_equal(data["x"], big)
        assert store.latest_snapshot(max_seq=3) is None
        with pytest.raises(ValidationError):
            store.save_snapshot(5, "ab" * 32, first)
        store.save_snapshot(6, store.hash_at(6), second, keep=1)
        assert store.snapshot_seqs() == [6]

    def test_snapshot_arrays_read_only(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        store.append(history(), 0)
        big = np.arange(10_000, dtype=np.float64)
        store.save_snapshot(6, store.hash_at(6), encode_payload({"x": big}))
        _, _, data = store.latest_snapshot()
        with pytest.raises(ValueError):
            data["x"][0] = 1.0

    # ------------------------------------------------------------- other handles

    def test_second_handle_sees_appends(self, make_store: Callable[[], Store],
                                        reopen: Callable[[Store], Store]) -> None:
        store = make_store()
        other = reopen(store)
        recs = history()
        store.append(recs[:3], 0)
        assert other.head() == 3
        with pytest.raises(ConcurrencyError):
            other.append(recs[:3], 0)
        other.append(recs[3:], 3, summary={"n": 1})
        assert store.head() == 6 and store.summary() == {"n": 1}
        assert [r.hash for r in store.read()] == [r.hash for r in other.read()]
        other.close()

    def test_decoded_events_equal(self, make_store: Callable[[], Store]) -> None:
        store = make_store()
        store.append(records([ProvenanceSet({}, {"model": "x", "n": [1, 2]})]), 0)
        (rec,) = list(store.read())
        assert rec.event == ProvenanceSet({}, {"model": "x", "n": [1, 2]})

    def test_same_bytes_as_two_dtypes(self, make_store: Callable[[], Store]) -> None:
        """One digest, two declared layouts: each reference reads as it declares."""
        store = make_store()
        store.append(history(), 0)
        zeros_i, zeros_f = np.zeros(5000, np.int64), np.zeros(5000, np.float64)
        square = np.zeros((100, 50), np.int64)
        store.save_snapshot(6, store.hash_at(6), encode_payload(
            {"i": zeros_i, "f": zeros_f, "sq": square}))
        _, _, data = store.latest_snapshot()
        assert data["i"].dtype == np.int64 and data["f"].dtype == np.float64
        assert data["sq"].shape == (100, 50) and not data["f"].any()
