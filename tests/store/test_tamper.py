"""Tampering with a ledger file is found by `SqliteStore.verify`, at the right seq.

The store is written by the ledger, then edited behind its back through a second
SQLite connection: flipped bytes in bodies and envelope columns, removed rows,
swapped rows, inserted rows, edited or missing array parts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.core.codec import encode, encode_payload
from ledger.core.events import (
    InstanceBatch,
    InstancesAdded,
    PointSet,
    ProvenanceSet,
    TrackAdded,
    TrackDef,
)
from ledger.core.record import Record, link_hash
from ledger.errors import IntegrityError
from ledger.store.chain import content_prefix
from ledger.store.sqlite import SqliteStore

N_EVENTS = 12
BIG_SEQ = 6  # the event whose arrays are stored as blobs


def _events() -> list:
    n = 3000  # arrays over the inline limit: kept as blobs
    big = InstancesAdded(InstanceBatch(
        ids=np.arange(n, dtype=np.int64), video=np.ones(n, np.int64),
        frame_idx=np.arange(n, dtype=np.int64), skeleton=np.ones(n, np.int64),
        track=np.full(n, -1, np.int64), kind=np.ones(n, np.uint8), score=np.linspace(0, 1, n),
        tracking_score=np.zeros(n), from_predicted=np.full(n, -1, np.int64),
        n_pts=np.ones(n, np.int32), x=np.arange(n, dtype=float), y=np.arange(n, dtype=float),
        visible=np.ones(n, bool), complete=np.zeros(n, bool), point_score=np.ones(n)))
    out: list = []
    for i in range(N_EVENTS):
        if i + 1 == BIG_SEQ:
            out.append(big)
        elif i % 3 == 0:
            out.append(TrackAdded(TrackDef(100 + i, f"track {i}", i), 0))
        elif i % 3 == 1:
            out.append(PointSet(i, 2, float(i), 2.0, True, True, 0.5, 0.0, 0.0, False, False, 0.0))
        else:
            out.append(ProvenanceSet({"i": i - 1}, {"i": i, "who": "ann"}))
    return out


def _meta(tx: int) -> dict:
    """Transaction metadata on even transactions (seqs 4-6 and 10-12)."""
    return {"step": tx, "heads": ["ab" * 8, "cd" * 8]} if tx % 2 == 0 else {}


@pytest.fixture(scope="module")
def ledger_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tamper") / "t.ledger"
    with SqliteStore(path) as store:
        events = _events()
        for tx, lo in enumerate(range(0, N_EVENTS, 3), start=1):
            recs = [Record(seq=lo + k + 1, tx=tx, author="ann", time=f"2024-01-0{tx}",
                           message=f"step {tx}", tool_version="t", tx_kind="do", ref=0,
                           event=e, meta=_meta(tx)) for k, e in enumerate(events[lo:lo + 3])]
            store.append(recs, lo)
        assert store.conn.execute("SELECT count(*) FROM blob_parts").fetchone()[0] > 1
    return path


@pytest.fixture
def store(ledger_file: Path) -> Iterator[SqliteStore]:
    with SqliteStore(ledger_file) as s:
        assert s.verify() == N_EVENTS
        yield s


@pytest.fixture
def raw(ledger_file: Path) -> Iterator[sqlite3.Connection]:
    """A second connection that edits the file behind the store's back."""
    conn = sqlite3.connect(ledger_file, isolation_level=None)
    yield conn
    conn.close()


@contextmanager
def tampered(raw: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Edit the file (committed, so the store sees it), then put every table back."""
    saved = {t: raw.execute(f"SELECT * FROM {t}").fetchall() for t in _TABLES}
    try:
        yield raw
    finally:
        raw.execute("BEGIN")
        for table, rows in saved.items():
            raw.execute(f"DELETE FROM {table}")
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                raw.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        raw.execute("COMMIT")


_TABLES = ("events", "blobs", "blob_parts", "event_blobs", "meta")


def _expect(store: SqliteStore, seq: int) -> None:
    with pytest.raises(IntegrityError) as info:
        store.verify()
    assert info.value.seq == seq, str(info.value)


def _flip(data: bytes, pos: int, mask: int = 0x01) -> bytes:
    b = bytearray(data)
    b[pos] ^= mask
    return bytes(b)


def _small_body(raw: sqlite3.Connection, seq: int) -> bytes:
    return bytes(raw.execute("SELECT body FROM events WHERE seq = ?", (seq,)).fetchone()[0])


def test_untouched_file_verifies(store: SqliteStore) -> None:
    assert store.verify() == N_EVENTS


@pytest.mark.parametrize("seq", [s for s in range(1, N_EVENTS + 1) if s != BIG_SEQ])
def test_every_byte_of_a_body(store: SqliteStore, raw: sqlite3.Connection, seq: int) -> None:
    body = _small_body(raw, seq)
    for pos in range(len(body)):
        raw.execute("UPDATE events SET body = ? WHERE seq = ?", (_flip(body, pos), seq))
        _expect(store, seq)
    raw.execute("UPDATE events SET body = ? WHERE seq = ?", (body, seq))
    assert store.verify() == N_EVENTS


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_byte_of_a_chunk(store: SqliteStore, raw: sqlite3.Connection,
                             data: st.DataObject) -> None:
    """A changed byte of a stored array part is caught, unless it left the array's
    content intact (a flag bit of the compressed frame): then nothing vouched for
    changed, and reading gives the very same event."""
    parts = raw.execute("SELECT digest, part, data FROM blob_parts WHERE digest IN "
                        "(SELECT digest FROM event_blobs WHERE seq = ?) ORDER BY digest, part",
                        (BIG_SEQ,)).fetchall()
    digest, part, chunk = data.draw(st.sampled_from(parts))
    pos = data.draw(st.integers(0, len(chunk) - 1))
    mask = data.draw(st.integers(1, 255))
    before = encode_payload(next(store.read(BIG_SEQ, BIG_SEQ)).event).body
    with tampered(raw):
        raw.execute("UPDATE blob_parts SET data = ? WHERE digest = ? AND part = ?",
                    (_flip(chunk, pos, mask), digest, part))
        try:
            store.verify()
        except IntegrityError as exc:
            assert exc.seq == BIG_SEQ, str(exc)
        else:
            event = next(store.read(BIG_SEQ, BIG_SEQ)).event
            assert encode_payload(event).body == before  # digests of identical arrays


def test_missing_or_extra_chunk(store: SqliteStore, raw: sqlite3.Connection) -> None:
    (digest,) = raw.execute("SELECT digest FROM event_blobs WHERE seq = ? LIMIT 1",
                            (BIG_SEQ,)).fetchone()
    with tampered(raw):
        raw.execute("DELETE FROM blob_parts WHERE digest = ? AND part = 0", (digest,))
        _expect(store, BIG_SEQ)
    with tampered(raw):
        raw.execute("INSERT INTO blob_parts VALUES (?, 999, 0, x'00')", (digest,))
        _expect(store, BIG_SEQ)
    with tampered(raw):
        raw.execute("DELETE FROM blobs WHERE digest = ?", (digest,))
        _expect(store, BIG_SEQ)
    assert store.verify() == N_EVENTS


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seq=st.integers(1, N_EVENTS),
       column=st.sampled_from(["author", "time", "message", "tool_version", "tx_kind",
                               "hash", "kind"]),
       data=st.data())
def test_any_character_of_an_envelope_column(store: SqliteStore, raw: sqlite3.Connection,
                                             seq: int, column: str,
                                             data: st.DataObject) -> None:
    value = raw.execute(f"SELECT {column} FROM events WHERE seq = ?", (seq,)).fetchone()[0]
    pos = data.draw(st.integers(0, len(value) - 1))
    replacement = data.draw(st.sampled_from("0123456789abcdefXYZ é").filter(
        lambda c: c != value[pos]))
    with tampered(raw):
        raw.execute(f"UPDATE events SET {column} = ? WHERE seq = ?",
                    (value[:pos] + replacement + value[pos + 1:], seq))
        _expect(store, seq)


@pytest.mark.parametrize("column", ["tx", "ref"])
@pytest.mark.parametrize("seq", [1, 5, N_EVENTS])
@pytest.mark.parametrize("value", [7, "7", -1, 2.5])
def test_integer_envelope_columns(store: SqliteStore, raw: sqlite3.Connection, column: str,
                                  seq: int, value: object) -> None:
    with tampered(raw):
        raw.execute(f"UPDATE events SET {column} = ? WHERE seq = ?", (value, seq))
        _expect(store, seq)


@pytest.mark.parametrize("seq", [4, 5, 11])
def test_every_byte_of_transaction_metadata(store: SqliteStore, raw: sqlite3.Connection,
                                            seq: int) -> None:
    blob = bytes(raw.execute("SELECT tx_meta FROM events WHERE seq = ?", (seq,)).fetchone()[0])
    for pos in range(len(blob)):
        with tampered(raw):
            raw.execute("UPDATE events SET tx_meta = ? WHERE seq = ?", (_flip(blob, pos), seq))
            _expect(store, seq)


@pytest.mark.parametrize("seq", [1, 4, 12])
def test_metadata_added_or_removed(store: SqliteStore, raw: sqlite3.Connection,
                                   seq: int) -> None:
    with tampered(raw):
        has = raw.execute("SELECT tx_meta IS NOT NULL FROM events WHERE seq = ?",
                          (seq,)).fetchone()[0]
        value = None if has else encode({"forged": True})
        raw.execute("UPDATE events SET tx_meta = ? WHERE seq = ?", (value, seq))
        _expect(store, seq)


@pytest.mark.parametrize("seq", range(1, N_EVENTS + 1))
def test_removed_row(store: SqliteStore, raw: sqlite3.Connection, seq: int) -> None:
    with tampered(raw):
        raw.execute("DELETE FROM events WHERE seq = ?", (seq,))
        _expect(store, seq)
    assert store.verify() == N_EVENTS


def test_removed_tail(store: SqliteStore, raw: sqlite3.Connection) -> None:
    with tampered(raw):
        raw.execute("DELETE FROM events WHERE seq > 8")
        _expect(store, 9)


@pytest.mark.parametrize("pair", [(1, 2), (2, 9), (4, 12), (11, 12), (3, BIG_SEQ)])
def test_swapped_rows(store: SqliteStore, raw: sqlite3.Connection,
                      pair: tuple[int, int]) -> None:
    a, b = pair
    with tampered(raw):
        for table in ("events", "event_blobs"):
            raw.execute(f"UPDATE {table} SET seq = -1 WHERE seq = ?", (a,))
            raw.execute(f"UPDATE {table} SET seq = ? WHERE seq = ?", (a, b))
            raw.execute(f"UPDATE {table} SET seq = ? WHERE seq = -1", (b,))
        _expect(store, a)


@pytest.mark.parametrize("pair", [(1, 2), (5, 7), (11, 12)])
def test_swapped_bodies_only(store: SqliteStore, raw: sqlite3.Connection,
                             pair: tuple[int, int]) -> None:
    a, b = pair
    body_a, body_b = _small_body(raw, a), _small_body(raw, b)
    with tampered(raw):
        raw.execute("UPDATE events SET body = ? WHERE seq = ?", (body_b, a))
        raw.execute("UPDATE events SET body = ? WHERE seq = ?", (body_a, b))
        _expect(store, a)


@pytest.mark.parametrize("new_seq", [0, -5, N_EVENTS + 1, N_EVENTS + 3])
def test_inserted_row(store: SqliteStore, raw: sqlite3.Connection, new_seq: int) -> None:
    with tampered(raw):
        raw.execute("INSERT INTO events SELECT ?, tx, author, time, message, tool_version, "
                    "tx_kind, ref, tx_meta, kind, hash, body, n_blobs FROM events WHERE seq = 2",
                    (new_seq,))
        _expect(store, 1 if new_seq < 1 else N_EVENTS + 1)


def test_forged_tail_with_recomputed_hash_is_caught_by_the_recorded_head(
        store: SqliteStore, raw: sqlite3.Connection) -> None:
    """Re-hashing a rewritten last record hides it from the chain, not from the
    head recorded in meta (an attacker must edit both, which no hash chain stops)."""
    row = raw.execute("SELECT tx, author, time, message, tool_version, tx_kind, ref, body "
                      "FROM events WHERE seq = ?", (N_EVENTS,)).fetchone()
    parent = bytes.fromhex(raw.execute("SELECT hash FROM events WHERE seq = ?",
                                       (N_EVENTS - 1,)).fetchone()[0])
    envelope = Record(N_EVENTS, row[0], "mallory", *row[2:7], event=None)  # type: ignore
    forged = content_prefix(envelope) + bytes(row[7])
    with tampered(raw):
        raw.execute("UPDATE events SET author = 'mallory', hash = ? WHERE seq = ?",
                    (link_hash(parent, forged).hex(), N_EVENTS))
        _expect(store, N_EVENTS)


def test_undecodable_body_is_reported_by_read(store: SqliteStore,
                                              raw: sqlite3.Connection) -> None:
    body = _small_body(raw, 3)
    with tampered(raw):
        raw.execute("UPDATE events SET body = ? WHERE seq = 3", (b"\xc1" + body[1:],))
        with pytest.raises(IntegrityError) as info:
            list(store.read())
        assert info.value.seq == 3
        _expect(store, 3)
    assert store.verify() == N_EVENTS
