"""`ledger upgrade`: a format-1 file (arrays inline, hashed inline) becomes a format-2
file with the same history, tags and state; a tampered one is refused and nothing
is written."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conformance import big_frames, records

from ledger.cli.commands import main
from ledger.core.apply import apply_event
from ledger.core.codec import encode, encode_event
from ledger.core.events import ProvenanceSet, SkeletonAdded, TrackAdded, TrackDef, VideoAdded
from ledger.core.record import GENESIS
from ledger.core.state import State, canonical
from ledger.errors import IntegrityError, StoreError
from ledger.project.project import Project
from ledger.store.sqlite import SqliteStore
from ledger.store.upgrade import upgrade_v1

V1_SCHEMA = (
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value NOT NULL)",
    "CREATE TABLE events(seq INTEGER PRIMARY KEY, tx INTEGER NOT NULL, author TEXT NOT NULL,"
    " time TEXT NOT NULL, message TEXT NOT NULL, tool_version TEXT NOT NULL,"
    " tx_kind TEXT NOT NULL, ref INTEGER NOT NULL, tx_meta BLOB, kind TEXT NOT NULL,"
    " hash TEXT NOT NULL, body BLOB)",
    "CREATE TABLE chunks(seq INTEGER NOT NULL, part INTEGER NOT NULL, data BLOB NOT NULL,"
    " PRIMARY KEY (seq, part))",
    "CREATE TABLE tags(name TEXT PRIMARY KEY, seq INTEGER NOT NULL, created TEXT NOT NULL)",
)


def _history() -> list:
    from conformance import SKELETON, VIDEO

    return (records([SkeletonAdded(SKELETON, 0), VideoAdded(VIDEO, 0, None),
                     TrackAdded(TrackDef(3, "t", 0), 0)], 1, 1)
            + records([big_frames(3000)], 4, 2, author="bob", meta={"source": "x.slp"}))


def write_v1(path: Path, recs: list, chunk: int = 50_000) -> None:
    """A format-1 ledger as the first round wrote it (bodies inline, chunked)."""
    conn = sqlite3.connect(path)
    for statement in V1_SCHEMA:
        conn.execute(statement)
    parent = GENESIS
    for r in recs:
        body = encode_event(r.event)
        content = encode((r.seq, r.tx, r.author, r.time, r.message, r.tool_version,
                          r.tx_kind, r.ref, r.meta, r.event))
        digest = hashlib.sha256(parent + content).digest()
        small = len(body) <= chunk
        conn.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (r.seq, r.tx, r.author, r.time, r.message, r.tool_version, r.tx_kind,
                      r.ref, encode(r.meta) if r.meta else None, r.kind, digest.hex(),
                      body if small else None))
        if not small:
            for k, at in enumerate(range(0, len(body), chunk)):
                conn.execute("INSERT INTO chunks VALUES (?, ?, ?)", (r.seq, k, body[at:at + chunk]))
        parent = digest
    conn.executemany("INSERT INTO meta VALUES (?, ?)", [
        ("format", "ledger-events"), ("version", 1), ("head_seq", len(recs)),
        ("head_hash", parent.hex())])
    conn.execute("INSERT INTO tags VALUES ('imported', 4, 'then')")
    conn.commit()
    conn.close()


def test_upgrade_keeps_history_tags_and_state(tmp_path: Path) -> None:
    recs = _history() + records([ProvenanceSet({}, {"model": "v1"})], 5, 3)
    old, new = tmp_path / "old.ledger", tmp_path / "new.ledger"
    write_v1(old, recs)
    with pytest.raises(StoreError, match="format 1"):
        SqliteStore(old)  # refused as it is, with the way out in the message
    before = old.read_bytes()
    old_head, new_head, n = upgrade_v1(old, new)
    assert n == len(recs) and old_head != new_head and len(new_head) == 64
    assert old.read_bytes() == before
    with Project.open(new, create=False) as project:
        assert project.verify() == len(recs)
        assert project.tags() == {"imported": 4}
        got = project.records()
        assert [(r.seq, r.tx, r.author, r.time, r.message, r.meta) for r in got] == \
            [(r.seq, r.tx, r.author, r.time, r.message, r.meta) for r in recs]
        replayed = State()
        for r in recs:
            apply_event(replayed, r.event)
        assert canonical(project.state) == canonical(replayed)


def test_tampered_v1_file_is_refused_and_nothing_written(tmp_path: Path) -> None:
    old, new = tmp_path / "old.ledger", tmp_path / "new.ledger"
    write_v1(old, _history())
    conn = sqlite3.connect(old)
    conn.execute("UPDATE events SET author = 'mallory' WHERE seq = 2")
    conn.commit()
    conn.close()
    with pytest.raises(IntegrityError) as info:
        upgrade_v1(old, new)
    assert info.value.seq == 2
    assert not new.exists() and not list(tmp_path.glob(".new.ledger*"))


def test_upgrade_command(tmp_path: Path) -> None:
    old, new = tmp_path / "old.ledger", tmp_path / "new.ledger"
    write_v1(old, _history())
    out = CliRunner().invoke(main, ["upgrade", str(old), str(new)])
    assert out.exit_code == 0, out.output
    assert "4 records" in out.output
    again = CliRunner().invoke(main, ["upgrade", str(old), str(new)])
    assert again.exit_code == 1 and "already exists" in again.output
