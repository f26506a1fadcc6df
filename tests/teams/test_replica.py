"""Replicas: clone, pull, push, sync; rebases keep authors; conflicts as data."""

from __future__ import annotations

import pytest
from teamkit import point, same, team_project

import ledger
from ledger.errors import ConcurrencyError, PermissionDeniedError, ValidationError
from ledger.store.sqlite_file import read_remote


def _clones(pg, tmp_path):
    urls = team_project(pg)
    a = ledger.clone(urls["ana"], tmp_path / "a.ledger", project="mice")
    b = ledger.clone(urls["ben"], tmp_path / "b.ledger", project="mice")
    return urls, a, b


def test_clone_is_the_same_history_and_remembers_its_origin(pg, tmp_path):
    url = pg.role("pat", password="pw-not-stored")
    urls = team_project(pg)
    from ledger.store.postgres_admin import grant

    grant(pg.url, "mice", pg.real("pat"), "annotator")
    labels = ledger.clone(url, tmp_path / "p.ledger", project="mice")
    with ledger.open(urls["ana"], project="mice") as online:
        assert same(labels, online)
    origin = read_remote(tmp_path / "p.ledger")
    assert origin["project"] == "mice" and origin["author"] == pg.real("pat")
    assert origin["synced_seq"] == labels.project.head
    raw = (tmp_path / "p.ledger").read_bytes()
    assert b"pw-not-stored" not in raw
    assert labels.author == pg.real("pat")
    labels.close()
    reopened = ledger.open(tmp_path / "p.ledger")  # author defaults to the role
    assert reopened.author == pg.real("pat")
    assert reopened.remote()["ahead"] == 0
    reopened.close()
    with pytest.raises(ValidationError):
        ledger.open(tmp_path / "q.ledger").pull()


def test_push_then_pull_fast_forward_keeps_authors_and_hashes(pg, tmp_path):
    urls, a, b = _clones(pg, tmp_path)
    a.set_point(a[0].instances[0], "head", 10.0, 10.0)
    a.set_point(a[1].instances[0], "head", 11.0, 11.0)
    assert a.remote()["ahead"] == 2
    assert a.push() == 2
    assert a.push() == 0
    result = b.pull()
    assert result.committed_tx == 0 and not result.conflicts
    assert result.info["pull"]["fetched"] == 2
    assert same(a, b)
    assert [r.author for r in b.project.history[-2:]] == [pg.real("ana")] * 2
    with ledger.open(urls["ana"], project="mice") as online:
        assert online.head_hash() == a.head_hash()
        assert online.verify() == online.project.head
    a.close()
    b.close()


def test_push_refuses_when_origin_moved_and_pull_rebases(pg, tmp_path):
    urls, a, b = _clones(pg, tmp_path)
    a.set_point(a[0].instances[0], "head", 10.0, 10.0)
    a.push()
    b.set_point(b[3].instances[0], "head", 33.0, 33.0)
    b.set_point(b[4].instances[0], "tail", 44.0, 44.0)
    assert b.undo()
    assert b.redo()
    old = b.project.history[-4:]
    with pytest.raises(ConcurrencyError, match="pull first"):
        b.push()
    result = b.pull()
    assert not result.conflicts and result.committed_tx == 0
    assert result.info["pull"] == {"fetched": 1, "rebased": 4, "skipped": []}
    new = b.project.history[-4:]
    # each transaction keeps author, time, message and kind; positions and hashes move
    assert [(r.author, r.time, r.message, r.tx_kind) for r in new] == \
        [(r.author, r.time, r.message, r.tx_kind) for r in old]
    assert all(n.hash != o.hash for n, o in zip(new, old, strict=True))
    assert new[-1].ref == new[-2].ref == new[0].tx + 1  # undo/redo refs renumbered
    assert point(b, 0) == (10.0, 10.0) and point(b, 3) == (33.0, 33.0)
    assert point(b, 4, "tail") == (44.0, 44.0)
    assert b.verify() == b.project.head
    assert b.push() == 4
    a.pull()
    assert same(a, b)
    assert b.undo()  # the stacks survive the rebase: undoes the redo'd edit
    assert point(b, 4, "tail") == (5.0, 4.0)
    a.close()
    b.close()


def test_conflict_is_data_and_resolved_once(pg, tmp_path):
    urls, a, b = _clones(pg, tmp_path)
    a.set_point(a[2].instances[0], "head", 20.0, 20.0)
    a.push()
    b.set_point(b[2].instances[0], "head", 25.0, 25.0)  # the same point
    b.set_point(b[5].instances[0], "head", 55.0, 55.0)  # elsewhere: rebased cleanly
    result = b.pull()
    assert result.info["pull"]["rebased"] == 1 and len(result.info["pull"]["skipped"]) == 1
    assert len(result.conflicts) == 1 and result.unresolved
    conflict = result.conflicts[0]
    assert conflict.ours_authors == [pg.real("ana")]
    assert conflict.theirs_authors == [pg.real("ben")]
    assert point(b, 2) == (20.0, 20.0)  # nothing overwritten until resolved
    result.resolve(conflict, "theirs")
    result.commit("keep ben's point")
    assert point(b, 2) == (25.0, 25.0)
    sync = b.sync()
    assert sync.info["pushed"] == 2 and not sync.conflicts
    again = a.pull()
    assert not again.conflicts
    assert same(a, b)
    assert point(a, 2) == (25.0, 25.0) and point(a, 5) == (55.0, 55.0)
    # the resolution is history: a later sync on either side asks nothing again
    assert not a.sync().conflicts and not b.sync().conflicts
    assert same(a, b)
    a.close()
    b.close()


def test_two_replicas_converge_with_concurrent_edits(pg, tmp_path):
    urls, a, b = _clones(pg, tmp_path)
    for k in range(3):
        a.set_point(a[k].instances[0], "head", 100.0 + k, 0.0)
        b.set_point(b[k + 3].instances[0], "tail", 200.0 + k, 0.0)
    a.sync()
    b.sync()
    a.sync()
    assert same(a, b)
    with ledger.open(urls["ana"], project="mice") as online:
        assert same(a, online)
        authors = {r.author for r in online.project.history if r.message != "seed"}
        assert authors == {pg.real("ana"), pg.real("ben")}
    for labels in (a, b):
        assert labels.verify() == labels.project.head
        assert labels.remote() | {"origin": ""} == {
            "origin": "", "project": "mice", "author": labels.author,
            "synced": labels.project.head, "ahead": 0, "behind": 0}
    a.close()
    b.close()


def test_pushing_someone_elses_transactions_is_refused(pg, tmp_path):
    urls = team_project(pg)
    a = ledger.clone(urls["ana"], tmp_path / "a.ledger", project="mice", author="mallory")
    a.set_point(a[0].instances[0], "head", 1.0, 9.0)
    with pytest.raises(PermissionDeniedError):
        a.push()
    a.close()
