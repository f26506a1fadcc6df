"""Durable ledgers through the public API: open, reopen, snapshots, undo across
sessions, per-author undo, tags, blame, fork, verify."""

from __future__ import annotations

import os
import sqlite3
import warnings

import numpy as np
import pytest

import ledger
from ledger import Instance, LabeledFrame, Labels, Point, Skeleton, Track, Video
from ledger.core.apply import apply_event
from ledger.core.state import State, canonical
from ledger.errors import IntegrityError, LedgerError, StoreError
from ledger.project.project import Project
from ledger.store.sqlite import SqliteStore

DATA = os.path.join(os.path.dirname(__file__), "data")


def _project(path: str, author: str = "ana") -> Labels:
    labels = ledger.open(path, author=author)
    skel = Skeleton.from_names_and_edge_inds(["head", "tail"], [(0, 1)])
    video = Video.from_filename("/missing/clip.mp4")
    track = Track(0, "mouse")
    with labels.transaction("seed"):
        for f in range(5):
            labels.append(LabeledFrame(video, f, [
                Instance(skel, {"head": Point(f, f), "tail": Point(f + 1, f)}, track=track)]))
    return labels


def test_reopen_gives_the_same_project_and_history(tmp_path):
    path = str(tmp_path / "p.ledger")
    labels = _project(path)
    labels.set_point(labels[2].instances[0], "head", 10.0, 11.0)
    before, head, head_hash = labels.canonical(), labels.project.head, labels.head_hash()
    labels.close()
    again = ledger.open(path)
    assert again.canonical() == before
    assert again.project.head == head
    assert again.head_hash() == head_hash
    assert again.verify() == head
    again.close()


def test_undo_and_redo_survive_reopen(tmp_path):
    path = str(tmp_path / "p.ledger")
    labels = _project(path)
    labels.set_point(labels[0].instances[0], "head", 50.0, 60.0)
    labels.close()
    again = ledger.open(path)
    assert again.can_undo
    assert again.undo()
    assert again[0].instances[0]["head"].x == 0.0
    again.close()
    third = ledger.open(path)
    assert third.can_redo and third.redo()
    assert third[0].instances[0]["head"].x == 50.0
    third.close()


def test_undo_limited_to_one_author(tmp_path):
    path = str(tmp_path / "p.ledger")
    ana = _project(path, author="ana")
    ana.set_point(ana[0].instances[0], "head", 1.5, 1.5)
    ana.close()
    bob = ledger.open(path, author="bob")
    bob.set_point(bob[3].instances[0], "tail", 9.0, 9.0)
    assert bob.undo(author="ana")  # ana's edit goes, bob's stays
    assert bob[0].instances[0]["head"].x == 0.0
    assert bob[3].instances[0]["tail"].x == 9.0
    assert bob.history[-1].tx_kind == "undo"
    assert bob.history[-1].author == "bob"
    bob.close()


def test_snapshot_is_used_and_a_bad_one_is_ignored(tmp_path):
    path = str(tmp_path / "p.ledger")
    labels = _project(path)
    labels.project.snapshot()
    labels.close()
    con = sqlite3.connect(path)
    n_snaps = con.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    con.close()
    assert n_snaps == 1
    with Project.open(path) as reference:
        expected = canonical(reference.ledger.build_state(reference.head)[0])
        replayed = State()
        for rec in reference.records():
            apply_event(replayed, rec.event)
        assert canonical(replayed) == expected
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a good snapshot gives no warning
        fast = ledger.open(path)
        assert fast.project.ledger.loaded_from == fast.project.head
    assert fast.canonical() == expected
    fast.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE snapshots SET body = x'c1c1'")
    con.commit()
    con.close()
    with pytest.warns(UserWarning, match="damaged|decode"):
        slow = ledger.open(path)
        assert slow.canonical() == expected
    assert slow.project.ledger.loaded_from == 0
    slow.close()


def test_tags_and_time_travel(tmp_path):
    path = str(tmp_path / "p.ledger")
    labels = _project(path)
    inst = labels[1].instances[0]
    labels.tag("before")
    labels.set_point(inst, "head", 42.0, 43.0)
    old = labels.at("before")
    assert old[1].instances[0]["head"].x == 1.0
    assert labels[1].instances[0]["head"].x == 42.0
    assert labels.tags()["before"] == labels.project.head - 1
    with pytest.raises(LedgerError):
        old.set_point(old[1].instances[0], "head", 0.0, 0.0)
    labels.close()


def test_blame_names_creator_and_last_editor(tmp_path):
    path = str(tmp_path / "p.ledger")
    labels = _project(path, author="ana")
    labels.close()
    bob = ledger.open(path, author="bob")
    with bob.transaction("bob fixes the head"):
        bob.set_point(bob[4].instances[0], "head", 7.0, 7.0)
    (row,) = bob.blame(bob.video, 4)
    assert row["created"]["author"] == "ana"
    assert row["created"]["message"] == "seed"
    assert row["last_changed"]["author"] == "bob"
    assert row["last_changed"]["message"] == "bob fixes the head"
    bob.close()


def test_fork_shares_history(tmp_path):
    path = str(tmp_path / "p.ledger")
    labels = _project(path)
    fork = labels.fork(str(tmp_path / "fork.ledger"))
    assert fork.head_hash() == labels.head_hash()
    assert fork.canonical() == labels.canonical()
    fork.set_point(fork[0].instances[0], "head", 3.0, 3.0)
    assert labels[0].instances[0]["head"].x == 0.0
    with pytest.raises(StoreError):
        labels.fork(str(tmp_path / "fork.ledger"))
    fork.close()
    labels.close()


def test_tampering_is_detected_with_its_seq(tmp_path):
    path = str(tmp_path / "p.ledger")
    labels = _project(path)
    labels.close()
    con = sqlite3.connect(path)
    con.execute("UPDATE events SET author = 'mallory' WHERE seq = 4")
    con.commit()
    con.close()
    again = ledger.open(path)
    with pytest.raises(IntegrityError) as info:
        again.verify()
    assert info.value.seq == 4
    again.close()


def test_failed_transaction_reaches_neither_state_nor_disk(tmp_path):
    path = str(tmp_path / "p.ledger")
    labels = _project(path)
    before, head = labels.canonical(), labels.project.head
    with pytest.raises(RuntimeError):
        with labels.transaction("half"):
            labels.set_point(labels[0].instances[0], "head", 99.0, 99.0)
            raise RuntimeError("boom")
    assert labels.canonical() == before
    labels.close()
    again = ledger.open(path)
    assert again.project.head == head
    assert again.canonical() == before
    again.close()


def test_imported_file_round_trips_through_a_ledger(tmp_path):
    src = Labels.load_file(os.path.join(DATA, "tracks", "clip.slp"))
    path = str(tmp_path / "clip.ledger")
    labels = ledger.open(path)
    labels.project.commit([r.event for r in src.history], "import clip.slp")
    labels.close()
    again = ledger.open(path)
    assert len(again) == len(src) == 1500
    assert np.allclose(again[10].instances[1].numpy(), src[10].instances[1].numpy(),
                       equal_nan=True)
    assert [t.name for t in again.tracks] == [t.name for t in src.tracks]
    again.close()


def test_not_a_ledger_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"hello, not sqlite")
    with pytest.raises(StoreError):
        ledger.open(str(path))
    assert path.read_bytes() == b"hello, not sqlite"


def test_close_snapshots_only_a_long_tail(tmp_path):
    """A session of a few edits writes only those edits; a tail longer than
    ``snapshot_every`` records (counted from the last snapshot) is snapshotted at
    close, so the next open replays nothing."""
    path = str(tmp_path / "p.ledger")
    labels = _project(path)
    labels.close()
    assert SqliteStore(path).snapshot_seqs() == []
    few = ledger.open(path, snapshot_every=100)
    for k in range(3):
        few.set_point(few[0].instances[0], "head", float(k), 5.0)
    few.close()
    assert SqliteStore(path).snapshot_seqs() == []
    many = ledger.open(path, snapshot_every=15)
    for k in range(6):
        many.set_point(many[0].instances[0], "head", float(k), 6.0)
    head = many.project.head
    many.close()
    with SqliteStore(path) as store:
        assert store.snapshot_seqs() == [head]
    again = ledger.open(path)
    assert again.project.ledger.loaded_from == head
    assert again[0].instances[0]["head"].x == 5.0
    again.close()
