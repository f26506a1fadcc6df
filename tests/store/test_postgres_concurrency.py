"""Concurrent writers on one PostgreSQL project: the loser of a race is told, and
nothing is lost, duplicated or left with a hole.

The first test makes the race certain rather than likely: it holds the project's
row lock from a third connection, waits (by asking the server, not by sleeping)
until the second writer is blocked on it, commits a record, and then the blocked
writer must get `ConcurrencyError`. The second runs four threads that append
with retries and checks every acknowledged transaction is there exactly once, in
whole, with seqs 1..n.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import psycopg
import pytest
from conformance import history, records
from conftest_pg import PgDatabase

from ledger.core.events import TrackAdded, TrackDef
from ledger.errors import ConcurrencyError
from ledger.store.chain import prepare
from ledger.store.postgres import PostgresStore
from ledger.store.postgres_append import write_records


def wait_until_blocked(admin_url: str, pid: int) -> None:
    """Return once backend ``pid`` waits for a lock (fails after a minute)."""
    deadline = time.monotonic() + 60
    with psycopg.connect(admin_url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                               (pid,)).fetchone()
            if row is not None and row[0] == "Lock":
                return
            time.sleep(0.01)
    pytest.fail(f"backend {pid} never waited for the project lock")


def test_blocked_stale_writer_is_refused_after_the_winner_commits(pg: PgDatabase) -> None:
    recs = history()
    with PostgresStore(pg.url, "mice", create=True) as first, \
            PostgresStore(pg.url, "mice") as second:
        first.append(recs[:3], 0)
        outcome: list[BaseException | None] = []

        def loser() -> None:
            try:
                second.append(recs[3:4], 3)
                outcome.append(None)
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                outcome.append(exc)

        with psycopg.connect(pg.url) as winner:  # one transaction, committed on exit
            head_hash = winner.execute("SELECT head_hash FROM projects WHERE id = %s FOR UPDATE",
                                       (first.project_id,)).fetchone()[0]
            thread = threading.Thread(target=loser)
            thread.start()
            wait_until_blocked(pg.url, second.conn.info.backend_pid)
            theirs = records([TrackAdded(TrackDef(9, "theirs"), 0)], 4, 2)
            prepared, _ = prepare(theirs, 3)
            write_records(winner, first.project_id, theirs, prepared, head_hash)
        thread.join(60)
        assert len(outcome) == 1 and isinstance(outcome[0], ConcurrencyError), outcome
        assert second.head() == 4 and [r.seq for r in second.read()] == [1, 2, 3, 4]
        assert second.verify() == 4


WRITERS, TRANSACTIONS = 4, 40


def test_four_writers_with_retries_leave_no_holes(pg: PgDatabase) -> None:
    PostgresStore(pg.url, "mice", create=True).close()
    acked: list[list[int]] = [[] for _ in range(WRITERS)]
    conflicts = [0] * WRITERS
    errors: list[BaseException] = []
    start = threading.Barrier(WRITERS)

    def writer(w: int) -> None:
        try:
            with PostgresStore(pg.url, "mice") as store:
                start.wait()
                for i in range(TRANSACTIONS):
                    ids = [(w * 1000 + i) * 2 + k + 1 for k in range(2)]  # two records per tx
                    while True:
                        head, tx = store.head(), store.last_tx() + 1
                        events = [TrackAdded(TrackDef(t, f"w{w}-{t}"), 0) for t in ids]
                        try:
                            store.append(records(events, head + 1, tx, author=f"w{w}"), head)
                        except ConcurrencyError:
                            conflicts[w] += 1
                            continue
                        acked[w].extend(ids)
                        break
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert errors == []
    with PostgresStore(pg.url, "mice") as store:
        stored = list(store.read())
        total = WRITERS * TRANSACTIONS * 2
        assert [r.seq for r in stored] == list(range(1, total + 1))
        ids = Counter(r.event.track.id for r in stored)
        assert sorted(ids) == sorted(i for mine in acked for i in mine)
        assert set(ids.values()) == {1}
        by_tx: dict[int, list[int]] = {}
        for rec in stored:
            by_tx.setdefault(rec.tx, []).append(rec.seq)
        assert all(len(s) == 2 and s[1] == s[0] + 1 for s in by_tx.values())  # whole, adjacent
        assert store.verify() == total
