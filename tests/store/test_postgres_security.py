"""What the server refuses, with real roles: the client is not trusted.

Each refusal is exercised both through `PostgresStore` and, where a client could
skip the store, with raw SQL on the role's own connection, and the psycopg error
is checked to map onto a `ledger.errors` exception. Roles (alice and bob
annotators, rita a reviewer) are made per test with a session-unique prefix and
dropped afterwards (``tests/conftest_pg.py``). The administrator (the fixture's
admin URL) owns the tables and the projects.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from conformance import history, point_set, records
from conftest_pg import PgDatabase

from ledger.core.codec import encode_payload
from ledger.core.record import Record, chain_hashes
from ledger.errors import (
    IntegrityError,
    LedgerError,
    NotFoundError,
    PermissionDeniedError,
    StoreError,
    ValidationError,
)
from ledger.store.postgres import PostgresStore
from ledger.store.postgres_admin import create_project, grant, revoke
from ledger.store.postgres_conn import ServerAddress, ledger_error


def raw(url: str, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run SQL as the role of ``url``, bypassing the store; errors mapped."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            cur = conn.execute(statement, params)
            return cur.fetchall() if cur.description else []
    except psycopg.Error as exc:
        raise ledger_error(exc, "raw sql", ServerAddress.parse(url)) from None


def authored(recs: list[Record], author: str) -> list[Record]:
    return [Record(r.seq, r.tx, author, r.time, r.message, r.tool_version, r.tx_kind, r.ref,
                   r.event, meta=r.meta) for r in recs]


@pytest.fixture
def team(pg: PgDatabase) -> dict[str, str]:
    """Projects mice (3 records) and rats; alice annotates mice, bob annotates
    rats, rita reviews mice. Returns each role's URL."""
    create_project(pg.url, "mice")
    create_project(pg.url, "rats")
    urls = {name: pg.role(name) for name in ("alice", "bob", "rita")}
    grant(pg.url, "mice", pg.real("alice"), "annotator")
    grant(pg.url, "rats", pg.real("bob"), "annotator")
    grant(pg.url, "mice", pg.real("rita"), "reviewer")
    with PostgresStore(pg.url, "mice") as owner:
        owner.append(history()[:3], 0)  # the owner may import any authors
    return urls


EVENT_ROW = ("SELECT project, tx, time, message, tool_version, tx_kind, ref, kind, hash, body, "
             "n_blobs FROM events WHERE seq = 3 AND project = (SELECT id FROM projects WHERE "
             "name = 'mice')")
INSERT = ("INSERT INTO events (project, seq, tx, author, time, message, tool_version, tx_kind, "
          "ref, kind, hash, body, n_blobs) VALUES (%s, 4, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
          "%s, %s) RETURNING author")


def test_author_is_the_role_and_cannot_be_forged(pg: PgDatabase, team: dict[str, str]) -> None:
    alice = pg.real("alice")
    with PostgresStore(team["alice"], "mice") as store:
        assert store.author == alice
        forged = authored(history()[3:4], "ann")
        with pytest.raises(PermissionDeniedError, match="author"):
            store.append(forged, 3)
        assert store.head() == 3
        store.append(authored(history()[3:4], alice), 3)
        assert [t.author for t in store.transactions(2, 2)] == [alice]
        assert store.verify() == 4
    # a client that skips the store: naming someone else is refused by the server...
    project, tx, *rest = raw(pg.url, EVENT_ROW)[0]
    with pytest.raises(PermissionDeniedError, match="author"):
        raw(team["alice"], INSERT.replace("4,", "5,", 1), (project, tx, "ann", *rest))
    # ...and leaving the author out stores the role (the column default)
    with psycopg.connect(team["alice"]) as conn:  # a transaction rolled back at the end
        row = conn.execute(
            "INSERT INTO events (project, seq, tx, time, message, tool_version, tx_kind, ref, "
            "kind, hash, body, n_blobs) VALUES (%s, 5, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " RETURNING author", (project, tx, *rest)).fetchone()
        conn.rollback()
    assert row == (alice,)


def test_nobody_updates_or_deletes_stored_events(pg: PgDatabase, team: dict[str, str]) -> None:
    with PostgresStore(team["alice"], "mice") as store:  # a record with arrays
        store.append(authored(history()[3:4], pg.real("alice")), 3)
    for who in (team["alice"], team["rita"], pg.url):  # annotator, reviewer, even the owner
        with pytest.raises(PermissionDeniedError):
            raw(who, "UPDATE events SET message = 'rewritten' WHERE seq = 2")
        with pytest.raises(PermissionDeniedError):
            raw(who, "DELETE FROM events WHERE seq = 3")
        with pytest.raises(PermissionDeniedError):
            raw(who, "TRUNCATE events")
        with pytest.raises(PermissionDeniedError):
            raw(who, "DELETE FROM event_blobs")
    with PostgresStore(pg.url, "mice") as store:
        assert store.verify() == 4 and next(store.read_envelopes(2, 2)).message == "tx 1"


def test_appending_to_a_project_not_granted_is_refused(pg: PgDatabase,
                                                       team: dict[str, str]) -> None:
    with pytest.raises(StoreError, match="no such project"):  # mice is invisible to bob
        PostgresStore(team["bob"], "mice")
    project, tx, *rest = raw(pg.url, EVENT_ROW)[0]
    bob = pg.real("bob")
    with pytest.raises(PermissionDeniedError):  # row-level security, then the trigger
        raw(team["bob"], INSERT, (project, tx, bob, *rest))
    with pytest.raises(PermissionDeniedError):
        raw(team["bob"], "INSERT INTO tags (project, name, seq) VALUES (%s, 'x', 1)", (project,))
    with pytest.raises(PermissionDeniedError):
        raw(team["bob"], "INSERT INTO blobs VALUES (%s, 'ab', 1, 1, 0)", (project,))
    assert raw(team["bob"], "SELECT count(*) FROM events WHERE project = %s",
               (project,)) == [(0,)]  # nor can he read it
    with PostgresStore(team["bob"], "rats") as rats:  # his own project works
        rats.append(authored(history()[:3], bob), 0)
        assert rats.verify() == 3


def test_reviewer_reads_only(pg: PgDatabase, team: dict[str, str]) -> None:
    rita = pg.real("rita")
    with PostgresStore(team["rita"], "mice") as store:  # opened for writing on purpose
        assert store.verify() == 3 and len(list(store.read())) == 3
        with pytest.raises(PermissionDeniedError):
            store.append(authored(history()[3:4], rita), 3)
        with pytest.raises(PermissionDeniedError):
            store.set_tag("v1", 3)
        with pytest.raises(PermissionDeniedError):
            store.save_snapshot(3, store.hash_at(3), encode_payload({"a": 1}))
        assert store.head() == 3 and store.tags() == {} and store.snapshot_seqs() == []
    project, tx, *rest = raw(pg.url, EVENT_ROW)[0]
    with pytest.raises(PermissionDeniedError):
        raw(team["rita"], INSERT, (project, tx, rita, *rest))


def test_reviewer_of_one_project_annotator_of_another(pg: PgDatabase,
                                                      team: dict[str, str]) -> None:
    """Table privileges from one grant do not reach another project."""
    grant(pg.url, "mice", pg.real("bob"), "reviewer")
    with PostgresStore(team["bob"], "mice") as store:
        assert store.head() == 3
        with pytest.raises(PermissionDeniedError):
            store.append(authored(history()[3:4], pg.real("bob")), 3)
        with pytest.raises(PermissionDeniedError):
            store.set_tag("v1", 3)
    revoke(pg.url, "mice", pg.real("alice"))
    with pytest.raises(StoreError, match="no such project"):
        PostgresStore(team["alice"], "mice")


def test_admin_checks(pg: PgDatabase, team: dict[str, str]) -> None:
    with pytest.raises(NotFoundError):
        grant(pg.url, "mice", pg.real("nobody"), "annotator")
    with pytest.raises(NotFoundError):
        grant(pg.url, "elephants", pg.real("alice"), "annotator")
    with pytest.raises(ValidationError):
        grant(pg.url, "mice", pg.real("alice"), "admin")  # type: ignore[arg-type]
    with pytest.raises(PermissionDeniedError):  # annotators cannot make projects
        PostgresStore(team["alice"], "owls", create=True)
    with pytest.raises(PermissionDeniedError):
        create_project(team["alice"], "owls")


def _tamper(url: str, statement: str, params: tuple[Any, ...] = ()) -> None:
    """The owner disables the guard triggers, changes stored rows, re-enables."""
    with psycopg.connect(url) as conn:
        conn.execute("ALTER TABLE events DISABLE TRIGGER USER")
        conn.execute(statement, params)
        conn.execute("ALTER TABLE events ENABLE TRIGGER USER")


def test_owner_tampering_is_detected(pg: PgDatabase, team: dict[str, str]) -> None:
    with PostgresStore(team["alice"], "mice") as store:
        store.append(authored(history()[3:], pg.real("alice")), 3)
        assert store.verify() == 6
    _tamper(pg.url, "UPDATE events SET author = 'mallory' WHERE seq = 5")
    with PostgresStore(team["rita"], "mice") as reader, pytest.raises(IntegrityError) as bad:
        reader.verify()
    assert bad.value.seq == 5
    _tamper(pg.url, "DELETE FROM events WHERE seq = 6")
    with PostgresStore(pg.url, "mice") as store, pytest.raises(IntegrityError) as gone:
        store.verify()
    assert gone.value.seq == 5  # the first bad record still wins


def test_array_tampering_is_detected(pg: PgDatabase, team: dict[str, str]) -> None:
    with PostgresStore(team["alice"], "mice") as store:
        store.append(authored(history()[3:4], pg.real("alice")), 3)  # the bulk import
    with psycopg.connect(pg.url) as conn:
        conn.execute("ALTER TABLE blob_parts DISABLE TRIGGER USER")
        conn.execute("UPDATE blob_parts SET data = data || '\\x00'::bytea, codec = 0 "
                     "WHERE part = 0 AND digest = (SELECT min(digest) FROM blob_parts)")
        conn.execute("ALTER TABLE blob_parts ENABLE TRIGGER USER")
    with PostgresStore(pg.url, "mice") as store, pytest.raises(IntegrityError) as bad:
        store.verify()
    assert bad.value.seq == 4


def test_consistent_rewrite_caught_by_a_client_that_saw_the_old_chain(
        pg: PgDatabase, team: dict[str, str]) -> None:
    """An owner who rewrites a record and re-hashes everything after it leaves a
    chain that verifies on its own; a client that saw the old head catches it."""
    alice = pg.real("alice")
    witness = PostgresStore(team["alice"], "mice")
    try:
        mine = authored(history()[3:], alice)
        witness.append(mine, 3)
        rewritten = chain_hashes([*history()[:3], *authored(history()[3:4], alice),
                                  *records([point_set(100, 99.0), point_set(101, 6.0)], 5, 3,
                                           author=alice, tx_kind="undo", ref=2)])
        body = encode_payload(rewritten[4].event).body
        _tamper(pg.url, "UPDATE events SET body = %s, hash = %s WHERE seq = 5",
                (body, rewritten[4].hash))
        _tamper(pg.url, "UPDATE events SET hash = %s WHERE seq = 6", (rewritten[5].hash,))
        raw(pg.url, "UPDATE projects SET head_hash = %s WHERE name = 'mice'",
            (rewritten[5].hash,))
        with PostgresStore(pg.url, "mice") as fresh:
            assert fresh.verify() == 6  # nothing inside the server says otherwise
        with pytest.raises(IntegrityError, match="rewritten") as caught:
            witness.verify()
        assert caught.value.seq == 6
    finally:
        witness.close()


def test_refusals_are_ledger_errors_without_passwords(pg: PgDatabase) -> None:
    secret = "Pa55wordThatMustNotLeak"
    url = pg.role("carol", password=secret)
    create_project(pg.url, "mice")
    grant(pg.url, "mice", pg.real("carol"), "reviewer")
    with PostgresStore(url, "mice") as store:
        with pytest.raises(LedgerError) as caught:
            store.append(authored(history()[:1], pg.real("carol")), 0)
        assert isinstance(caught.value, PermissionDeniedError)
        assert secret not in str(caught.value) and secret not in store.describe()
