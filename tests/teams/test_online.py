"""Online ledgers: a `Labels` on a server project, shared by several writers."""

from __future__ import annotations

import threading

import pytest
from teamkit import point, team_project

import ledger
from ledger.core.state import canonical
from ledger.errors import ConcurrencyError, LedgerError, ValidationError


def test_round_trip_history_undo_tags_blame_verify(pg):
    urls = team_project(pg)
    labels = ledger.open(urls["ana"], project="mice")
    assert labels.author == pg.real("ana")
    labels.set_point(labels[1].instances[0], "head", 50.0, 60.0)
    assert labels.project.history[-1].author == pg.real("ana")
    labels.tag("moved")
    assert labels.undo()
    assert point(labels, 1) == (1.0, 1.0)
    assert labels.redo()
    again = ledger.open(urls["ben"], project="mice")
    assert point(again, 1) == (50.0, 60.0)
    assert canonical(again.project.state) == canonical(labels.project.state)
    assert again.tags() == {"moved": labels.tags()["moved"]}
    assert point(again.at("moved"), 1) == (50.0, 60.0)
    blame = again.blame(again.videos[0], 1)
    assert blame[0]["last_changed"]["author"] == pg.real("ana")
    assert again.verify() == again.project.head
    labels.close()
    again.close()


def test_another_author_is_refused_before_writing(pg):
    urls = team_project(pg)
    with pytest.raises(ValidationError):
        ledger.open(urls["ana"], project="mice", author="someone-else")
    with pytest.raises(ValidationError):
        ledger.open(urls["ana"])  # no project
    outsider = pg.role("eve")
    with pytest.raises(LedgerError, match="not granted"):
        ledger.open(outsider, project="mice")


def test_refresh_applies_the_other_writers_transactions(pg):
    urls = team_project(pg)
    ana = ledger.open(urls["ana"], project="mice")
    ben = ledger.open(urls["ben"], project="mice")
    ana.set_point(ana[0].instances[0], "tail", 7.0, 8.0)
    ana.set_point(ana[2].instances[0], "tail", 9.0, 9.5)
    assert ben.refresh() == 2
    assert point(ben, 0, "tail") == (7.0, 8.0)
    assert ben.refresh() == 0
    assert ben.head_hash() == ana.head_hash()
    # ben undoes ana's newest edit: the stacks are the shared history's
    assert ben.undo(author=pg.real("ana"))
    ana.refresh()
    assert point(ana, 2, "tail") == (3.0, 2.0)
    ana.close()
    ben.close()


def test_stale_writer_gets_concurrency_error_then_retry_succeeds(pg):
    urls = team_project(pg)
    ana = ledger.open(urls["ana"], project="mice")
    ben = ledger.open(urls["ben"], project="mice")
    ana.set_point(ana[0].instances[0], "head", 1.5, 1.5)
    inst = ben[3].instances[0]
    with pytest.raises(ConcurrencyError):
        ben.set_point(inst, "head", 30.0, 30.0)
    assert point(ben, 3) == (3.0, 3.0)  # rolled back locally
    # retrying refreshes and applies again: ana touched another instance
    ana.set_point(ana[1].instances[0], "head", 2.5, 2.5)
    ben.retrying(lambda: ben.set_point(ben[3].instances[0], "head", 30.0, 30.0))
    assert point(ben, 3) == (30.0, 30.0)
    assert point(ben, 1) == (2.5, 2.5)
    ana.refresh()
    assert ana.head_hash() == ben.head_hash()
    ana.close()
    ben.close()


def test_retry_refuses_to_overwrite_the_same_point(pg):
    urls = team_project(pg)
    ana = ledger.open(urls["ana"], project="mice")
    ben = ledger.open(urls["ben"], project="mice")
    ana.set_point(ana[3].instances[0], "head", 11.0, 11.0)
    with pytest.raises(ConcurrencyError, match="changed what this edit changes"):
        ben.retrying(lambda: ben.set_point(ben[3].instances[0], "head", 30.0, 30.0))
    assert point(ben, 3) == (11.0, 11.0)  # refreshed: ben now sees ana's version
    # but another node of the same instance is fine
    ana.set_point(ana[3].instances[0], "head", 12.0, 12.0)
    ben.retrying(lambda: ben.set_point(ben[3].instances[0], "tail", 0.5, 0.5))
    assert point(ben, 3, "tail") == (0.5, 0.5)
    ana.close()
    ben.close()


def test_commit_with_retry_on_events(pg):
    from ledger.core import events as ev
    from ledger.project.online import commit

    urls = team_project(pg)
    ana = ledger.open(urls["ana"], project="mice")
    ben = ledger.open(urls["ben"], project="mice")
    ana.set_point(ana[0].instances[0], "head", 5.0, 5.0)
    inst = ben[4].instances[0]._id
    node = ben.project.state.skeletons[ben.project.state.skeleton_order[0]].nodes[0].id
    p = ben[4].instances[0]["head"]
    score = float(getattr(p, "score", 1.0))
    event = ev.PointSet(inst, node, 40.0, 41.0, True, True, score, p.x, p.y, bool(p.visible),
                        bool(p.complete), score)
    with pytest.raises(ConcurrencyError):
        commit(ben.project, [event], "move", retry=False)
    tx = commit(ben.project, [event], "move")
    assert tx == ben.project.last_tx
    assert point(ben, 4) == (40.0, 41.0)
    ana.close()
    ben.close()


def test_wait_for_changes_across_two_connections(pg):
    urls = team_project(pg)
    ana = ledger.open(urls["ana"], project="mice")
    ben = ledger.open(urls["ben"], project="mice")
    assert ben.wait_for_changes(0.05) is False
    started = threading.Event()

    def writer() -> None:
        started.wait()
        ana.set_point(ana[5].instances[0], "head", 99.0, 98.0)

    thread = threading.Thread(target=writer)
    thread.start()
    started.set()
    assert ben.wait_for_changes(20.0) is True
    thread.join()
    assert ben.refresh() == 1
    assert point(ben, 5) == (99.0, 98.0)
    assert ben.wait_for_changes(0.05) is False
    # a change that happened before the call is reported at once
    ana.set_point(ana[5].instances[0], "head", 1.0, 2.0)
    assert ben.wait_for_changes(20.0) is True
    ana.close()
    ben.close()


def test_password_never_shown(pg):
    urls = team_project(pg)
    url = pg.role("pat", password="s3cr3t-pw")
    from ledger.store.postgres_admin import grant

    grant(pg.url, "mice", pg.real("pat"), "annotator")
    labels = ledger.open(url, project="mice")
    assert "s3cr3t-pw" not in repr(labels.project) + labels.project.describe()
    labels.set_point(labels[0].instances[0], "head", 3.0, 3.0)
    assert all("s3cr3t-pw" not in str(rec) for rec in labels.project.history)
    labels.close()
    with pytest.raises(LedgerError) as info:
        ledger.open(url, project="no-such-project")
    assert "s3cr3t-pw" not in str(info.value)
    del urls
