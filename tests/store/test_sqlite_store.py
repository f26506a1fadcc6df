"""SqliteStore: round trips, the hash chain, optimistic appends, refusing bad files,
and the whole ledger (transactions, undo/redo) surviving a reopen."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import msgspec
import numpy as np
import pytest

from ledger.core.codec import encode_event, encode_payload
from ledger.core.events import (
    FrameBatch,
    FramesAdded,
    InstanceBatch,
    InstancesAdded,
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
from ledger.core.state import canonical
from ledger.errors import (
    ConcurrencyError,
    ConflictError,
    NotFoundError,
    ReadOnlyError,
    StoreError,
    ValidationError,
)
from ledger.project.event_ledger import EventLedger
from ledger.store.chain import content_prefix
from ledger.store.sqlite import SqliteStore
from ledger.store.sqlite_file import FORMAT_VERSION

SKELETON = SkeletonDef(id=1, name="s", nodes=(NodeDef(2, "a"), NodeDef(5, "b")), edges=((2, 5),))
TRACK = TrackDef(3, "t", 0)
VIDEO = VideoDef(4, {"filename": "x.mp4"})
MERGE_META = {"theirs": "ab" * 32, "resolved": [[1, "ours"], [2, "theirs"]]}


def instances(ids: list[int], frame_idx: int, n_nodes: int = 2) -> InstanceBatch:
    n = len(ids)
    pts = n * n_nodes
    rng = np.random.default_rng(ids[0])
    return InstanceBatch(
        ids=np.asarray(ids, np.int64), video=np.full(n, VIDEO.id, np.int64),
        frame_idx=np.full(n, frame_idx, np.int64), skeleton=np.full(n, SKELETON.id, np.int64),
        track=np.full(n, TRACK.id, np.int64), kind=np.zeros(n, np.uint8),
        score=np.full(n, np.nan), tracking_score=np.full(n, np.nan),
        from_predicted=np.full(n, -1, np.int64), n_pts=np.full(n, n_nodes, np.int32),
        x=rng.random(pts) * 100, y=rng.random(pts) * 100, visible=np.ones(pts, bool),
        complete=np.zeros(pts, bool), point_score=np.full(pts, np.nan))


def frames(frame_idx: int, ids: list[int]) -> FrameBatch:
    return FrameBatch(video=np.array([VIDEO.id]), frame_idx=np.array([frame_idx]),
                      position=np.array([0]), instances=instances(ids, frame_idx))


def point_set(instance: int, x: float, state: object = None) -> PointSet:
    """A move of node 2's point; with ``state``, its old value is the current one
    (applying checks it)."""
    old = (0.0, 0.0, False, False, 0.0)
    if state is not None:
        table = state.instances  # type: ignore[attr-defined]
        row = table.row_of(instance)
        old = table.points.get(int(table.cols.cols["pt_start"][row]))
    return PointSet(instance=instance, node=2, x=x, y=1.0, visible=True, complete=True,
                    score=0.0, old_x=old[0], old_y=old[1], old_visible=bool(old[2]),
                    old_complete=bool(old[3]), old_score=old[4])


def sample_events() -> list:
    """Events of every shape the store must carry: structs, dicts, numpy batches."""
    return [
        SkeletonAdded(SKELETON, 0), TrackAdded(TRACK, 0), VideoAdded(VIDEO, 0),
        FramesAdded(FrameBatch(video=np.array([VIDEO.id]), frame_idx=np.array([7]),
                               position=np.array([0]), instances=InstanceBatch.empty())),
        InstancesAdded(instances([10, 11], 7)), point_set(10, 3.5),
        ProvenanceSet({}, {"model": "x", "nested": {"a": [1, 2]}}),
    ]


def make_records(events: list, start: int = 1, tx: int = 1,
                 meta: dict | None = None) -> list[Record]:
    return [Record(seq=start + i, tx=tx, author="ann", time="2024-01-01T00:00:00+00:00",
                   message=f"tx {tx}", tool_version="test", tx_kind="do", ref=0, event=e,
                   meta=dict(meta or {})) for i, e in enumerate(events)]


def same_event(a: object, b: object) -> bool:
    return encode_event(a) == encode_event(b)  # numpy fields: compare by encoding


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "project.ledger"


# ----------------------------------------------------------------- round trips


def test_content_prefix_plus_body_is_record_content() -> None:
    for rec in make_records(sample_events()):
        assert content_prefix(rec) + encode_payload(rec.event).body == rec.content()
        rec = msgspec.structs.replace(rec, meta={"merge": {"heads": ["ab", "cd"], "n": 2}})
        assert content_prefix(rec) + encode_payload(rec.event).body == rec.content()


def test_round_trip_reopen_and_hashes_match_memory_chain(path: Path) -> None:
    events = sample_events()
    with SqliteStore(path) as store:
        assert store.head() == 0 and store.head_hash() == ""
        first = make_records(events[:3], 1, tx=1)
        second = make_records(events[3:], 4, tx=2, meta=MERGE_META)
        store.append(first, 0)
        store.append(second, 3)
        assert store.head() == len(events)
    in_memory = make_records(events[:3], 1, tx=1) + make_records(events[3:], 4, tx=2,
                                                                  meta=MERGE_META)
    in_memory = chain_hashes(in_memory)
    expected_head = in_memory[-1].hash
    with SqliteStore(path, create=False) as store:
        got = list(store.read())
        assert [r.seq for r in got] == list(range(1, len(events) + 1))
        assert [r.hash for r in got] == [r.hash for r in in_memory]
        assert store.head_hash() == expected_head
        for a, b in zip(got, in_memory, strict=True):
            assert (a.tx, a.author, a.time, a.message, a.tx_kind, a.kind, a.meta) == \
                (b.tx, b.author, b.time, b.message, b.tx_kind, b.kind, b.meta)
            assert same_event(a.event, b.event)
            assert a.content() == b.content()
        assert [r.seq for r in store.read(3, 5)] == [3, 4, 5]
        assert [r.seq for r in store.read(6)] == [6, 7]
        assert list(store.read(8)) == []
        assert store.verify() == len(events)


def test_stale_expected_head_raises_and_writes_nothing(path: Path) -> None:
    with SqliteStore(path) as store, SqliteStore(path) as other:
        store.append(make_records(sample_events()[:2]), 0)
        with pytest.raises(ConcurrencyError):
            other.append(make_records(sample_events()[:1]), 0)
        with pytest.raises(ConcurrencyError):
            store.append(make_records(sample_events()[2:3], 4), 3)
        rejected = make_records(sample_events()[2:3], 2)
        with pytest.raises(ConcurrencyError):
            store.append(rejected, 1)
        assert rejected[0].hash == ""
        assert store.head() == 2 and other.head() == 2
        assert store.verify() == 2


def test_append_waits_for_another_writers_lock(path: Path) -> None:
    with SqliteStore(path) as store:
        blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, blocker.execute, ("ROLLBACK",))
        release.start()
        store.append(make_records(sample_events()[:1]), 0)  # waits, then succeeds
        release.join()
        blocker.close()
        assert store.head() == 1


def test_append_gives_up_on_a_lock_held_too_long(path: Path) -> None:
    with SqliteStore(path, busy_timeout=0.2) as store:
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="write lock"):
            store.append(make_records(sample_events()[:1]), 0)
        blocker.execute("ROLLBACK")
        blocker.close()
        store.append(make_records(sample_events()[:1]), 0)
        assert store.head() == 1


def test_append_and_read_never_scan_the_events_table(path: Path) -> None:
    """Every SELECT that append, head and read run is a primary-key search, so
    their cost does not grow with the history (checked with the query plans)."""
    with SqliteStore(path) as store:
        store.append(make_records(sample_events()), 0)
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        store.append(make_records([point_set(10, 1.0)], 8), 7)
        store.head()
        list(store.read(3, 5))
        list(store.read(6))
        store.conn.set_trace_callback(None)
        selects = {s for s in statements if s.lstrip().upper().startswith("SELECT")}
        assert selects
        for sql in selects:
            plan = " ".join(row[3] for row in store.conn.execute("EXPLAIN QUERY PLAN " + sql))
            assert "SCAN" not in plan, (sql, plan)


def test_records_must_continue_the_expected_head(path: Path) -> None:
    with SqliteStore(path) as store, pytest.raises(ValidationError):
        store.append(make_records(sample_events()[:1], start=5), 0)


def test_read_only_store_reads_but_refuses_writes(path: Path) -> None:
    with SqliteStore(path) as store:
        store.append(make_records(sample_events()[:2]), 0)
    before = sha256(path)
    with SqliteStore(path, read_only=True) as store:
        assert [r.seq for r in store.read()] == [1, 2]
        with pytest.raises(ReadOnlyError):
            store.append(make_records(sample_events()[2:3], 3), 2)
        with pytest.raises(ReadOnlyError):
            store.set_tag("v1", 1)
    assert sha256(path) == before


def test_tags(path: Path) -> None:
    with SqliteStore(path) as store:
        store.append(make_records(sample_events()), 0)
        store.set_tag("imported", 3)
        store.set_tag("edited", 7)
        with pytest.raises(ConflictError):
            store.set_tag("imported", 2)  # tags move only when asked
        store.set_tag("imported", 2, move=True)
        assert store.tags() == {"imported": 2, "edited": 7}
        assert store.tag_seq("edited") == 7
        with pytest.raises(NotFoundError):
            store.tag_seq("nope")
        with pytest.raises(ValidationError):
            store.set_tag("future", 8)
        store.delete_tag("edited")
    with SqliteStore(path) as store:
        assert store.tags() == {"imported": 2}


def test_snapshots_are_checked_against_the_chain(path: Path) -> None:
    with SqliteStore(path) as store:
        assert store.latest_snapshot() is None
        store.append(make_records(sample_events()), 0)
        h3 = store.hash_at(3)
        assert h3 is not None
        store.save_snapshot(3, h3, encode_payload({"at": 3}), keep=2)
        big = np.arange(5000, dtype=np.float64)
        store.save_snapshot(7, store.head_hash(), encode_payload({"at": 7, "x": big}), keep=2)
        seq, _, data = store.latest_snapshot()
        assert seq == 7 and np.array_equal(data["x"], big)
        # a damaged newest snapshot is skipped in favour of the older one
        store.conn.execute("UPDATE blob_parts SET data = zeroblob(100)")
        with pytest.warns(UserWarning, match="seq 7: it does not decode"):
            assert store.latest_snapshot() == (3, h3, {"at": 3})
        store.conn.execute("UPDATE snapshots SET body = x'00' WHERE seq = 3")
        # a snapshot that does not belong to this chain is skipped too
        store.conn.execute("UPDATE snapshots SET head_hash = ? WHERE seq = 3", ("0" * 64,))
        with pytest.warns(UserWarning) as caught:
            assert store.latest_snapshot() is None
        assert sorted(str(w.message).split(": ", 1)[1] for w in caught)[0] == \
            "ignoring the snapshot at seq 3: it was built from a different history"


# ----------------------------------------------------------------- refusing files


def test_missing_file_with_create_false(path: Path) -> None:
    with pytest.raises(StoreError, match="no such ledger file"):
        SqliteStore(path, create=False)
    with pytest.raises(StoreError):
        SqliteStore(path, read_only=True)
    assert not path.exists()


def _assert_refused(path: Path, match: str, **options: object) -> None:
    before = sha256(path)
    with pytest.raises(StoreError, match=match) as info:
        SqliteStore(path, **options)
    message = str(info.value)
    assert str(path) in message and "\n" not in message
    assert sha256(path) == before


def _run_sql(path: Path, statement: str, params: tuple = ()) -> None:
    """Change the file behind the store's back, as another program would."""
    conn = sqlite3.connect(path)
    conn.execute(statement, params)
    conn.commit()
    conn.close()


def test_refuses_non_sqlite_file(path: Path) -> None:
    path.write_bytes(b"frame,x,y\n1,2,3\n" * 100)
    _assert_refused(path, "not an SQLite database")


def test_refuses_sqlite_file_that_is_not_a_ledger(path: Path) -> None:
    _run_sql(path, "CREATE TABLE people(name)")
    _assert_refused(path, "not a ledger")


def test_refuses_foreign_format_name(path: Path) -> None:
    SqliteStore(path).close()
    _run_sql(path, "UPDATE meta SET value = 'something-else' WHERE key = 'format'")
    _assert_refused(path, "not a ledger")


def test_refuses_newer_format_version(path: Path) -> None:
    with SqliteStore(path) as store:
        store.append(make_records(sample_events()[:2]), 0)
    _run_sql(path, "UPDATE meta SET value = ? WHERE key = 'version'", (FORMAT_VERSION + 1,))
    _assert_refused(path, "newer")
    _assert_refused(path, "newer", read_only=True)


@pytest.mark.parametrize("keep", [10, 99, 1000, 4096, 3 * 4096 + 17])
def test_refuses_truncated_file(path: Path, keep: int) -> None:
    with SqliteStore(path) as store:
        for i in range(40):
            store.append(make_records([ProvenanceSet({}, {"i": "x" * 2000})], i + 1), i)
    data = path.read_bytes()
    assert len(data) > keep
    path.write_bytes(data[:keep])
    _assert_refused(path, "truncated")


def test_refuses_read_only_file_for_writing(path: Path) -> None:
    with SqliteStore(path) as store:
        store.append(make_records(sample_events()[:2]), 0)
    path.chmod(0o444)
    try:
        _assert_refused(path, "read-only")
        with SqliteStore(path, read_only=True) as store:
            assert store.head() == 2
    finally:
        path.chmod(0o644)


def test_refuses_directory(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="directory"):
        SqliteStore(tmp_path)


def test_empty_file_becomes_a_ledger(path: Path) -> None:
    path.write_bytes(b"")
    with SqliteStore(path) as store:
        store.append(make_records(sample_events()[:1]), 0)
    with SqliteStore(path, create=False) as store:
        assert store.head() == 1


def test_closed_store_says_so(path: Path) -> None:
    store = SqliteStore(path)
    store.close()
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.head()


# ----------------------------------------------------------------- with the ledger


def test_event_ledger_survives_reopen_with_undo_and_redo(path: Path) -> None:
    led = EventLedger(store=SqliteStore(path), author="ann")
    with led.transaction("setup"):
        led.emit(SkeletonAdded(SKELETON, 0))
        led.emit(TrackAdded(TRACK, 0))
        led.emit(VideoAdded(VIDEO, 0))
    with led.transaction("label"):
        led.emit(FramesAdded(frames(0, [20, 21])))
    led.emit(point_set(20, 42.0, led.state))
    with led.transaction("big"):
        led.emit(FramesAdded(frames(1, list(range(1000, 1300)))))
    led.undo()
    picture = canonical(led.state)
    head, head_hash = led.head, led.head_hash()
    assert led.can_undo and led.can_redo
    led.store.close()

    again = EventLedger(store=SqliteStore(path, create=False), author="bob")
    assert canonical(again.state) == picture
    assert again.head == head and again.head_hash() == head_hash
    assert again.verify() == head and again.store.verify() == head
    assert again.can_redo
    assert again.redo()
    assert len(again.state.live_instance_rows()) == 302
    assert again.undo() and again.undo()  # the redo, then the point edit
    x = again.state.instances.points_of(again.state.instances.row_of(20))[0][0]
    assert x != 42.0
    picture2 = canonical(again.state)
    again.store.close()

    third = EventLedger(store=SqliteStore(path, read_only=True))
    assert canonical(third.state) == picture2
    history = third.records()
    assert [r.tx_kind for r in history][-1] == "undo"
    assert {r.author for r in history} == {"ann", "bob"}
    third.store.close()


def test_failed_transaction_reaches_neither_state_nor_disk(path: Path) -> None:
    led = EventLedger(store=SqliteStore(path))
    with led.transaction("setup"):
        led.emit(TrackAdded(TRACK, 0))
    picture = canonical(led.state)
    with pytest.raises(RuntimeError), led.transaction("doomed"):
        led.emit(TrackAdded(TrackDef(9, "u", 0), 1))
        raise RuntimeError("boom")
    assert canonical(led.state) == picture
    led.store.close()
    with SqliteStore(path) as store:
        assert store.head() == 1


def test_stale_ledger_catches_up_and_retries(path: Path) -> None:
    a = EventLedger(store=SqliteStore(path), author="a")
    b = EventLedger(store=SqliteStore(path), author="b")
    a.emit(TrackAdded(TRACK, 0))
    with pytest.raises(ConcurrencyError):
        b.emit(TrackAdded(TrackDef(9, "u", 0), 0))
    assert 9 not in b.state.tracks  # rolled back in memory
    assert b.refresh() == 1
    b.emit(TrackAdded(TrackDef(9, "u", 0), 1))
    assert a.refresh() == 1
    assert canonical(a.state) == canonical(b.state)
    assert a.head_hash() == b.head_hash() == a.store.head_hash()
    a.store.close()
    b.store.close()
