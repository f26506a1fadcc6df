"""The store contract on PostgreSQL, and what only a server store has: many
projects in one database, announcements, read-only sessions, messages without
passwords.

The server comes from ``tests/conftest_pg.py`` (a real one, or a throwaway one;
never skipped). Each test has its own database.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import numpy as np
import psycopg
import pytest
from conformance import StoreContract, history, point_set, records
from conftest_pg import PgDatabase, with_db

from ledger.core.codec import encode_payload
from ledger.errors import (
    ConcurrencyError,
    PermissionDeniedError,
    ReadOnlyError,
    StoreError,
    ValidationError,
)
from ledger.store.base import Store
from ledger.store.blob_codec import PART_BYTES
from ledger.store.chain import content_prefix
from ledger.store.postgres import PostgresStore
from ledger.store.postgres_append import write_records
from ledger.store.postgres_conn import ServerAddress, ledger_error
from ledger.store.sqlite import SqliteStore


class TestPostgresStore(StoreContract):
    @pytest.fixture
    def make_store(self, pg: PgDatabase) -> Iterator[Callable[[], Store]]:
        made: list[PostgresStore] = []

        def make() -> Store:
            made.append(PostgresStore(pg.url, f"p{len(made)}", create=True))
            return made[-1]

        yield make
        for store in made:
            store.close()

    @pytest.fixture
    def reopen(self, pg: PgDatabase) -> Callable[[Store], Store]:
        return lambda store: PostgresStore(pg.url, store.project)  # type: ignore[attr-defined]


@pytest.fixture
def store(pg: PgDatabase) -> Iterator[PostgresStore]:
    with PostgresStore(pg.url, "mice", create=True) as made:
        yield made  # type: ignore[misc]


def test_same_hashes_as_sqlite(store: PostgresStore, tmp_path) -> None:
    """Both stores hash from the same shared chain code: same records, same chain."""
    with SqliteStore(tmp_path / "a.ledger") as local:
        local.append(history(), 0)
        store.append(history(), 0)
        assert [r.hash for r in store.read()] == [r.hash for r in local.read()]


def test_projects_are_independent(pg: PgDatabase) -> None:
    with PostgresStore(pg.url, "a", create=True) as a, \
            PostgresStore(pg.url, "b", create=True) as b:
        a.append(history(), 0)
        b.append(history()[:3], 0)
        b.set_tag("start", 0)
        assert (a.head(), b.head()) == (6, 3)
        assert a.tags() == {} and b.tags() == {"start": 0}
        assert a.verify() == 6 and b.verify() == 3
        assert [r.hash for r in b.read()] == [r.hash for r in a.read(1, 3)]


def test_missing_project_and_uninitialised_database(pg: PgDatabase) -> None:
    with pytest.raises(StoreError, match="no such project"):
        PostgresStore(pg.url, "nope")
    bare = f"{pg.schema}_bare"
    with psycopg.connect(pg.url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{bare}"')
    try:
        with pytest.raises(StoreError, match="admin init"):
            PostgresStore(with_db(pg.url, schema=bare), "mice", create=True)
    finally:
        with psycopg.connect(pg.url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{bare}" CASCADE')


def test_array_split_into_parts_round_trips(store: PostgresStore) -> None:
    """An array over one part (incompressible, so stored raw) comes back whole."""
    store.append(history(), 0)
    big = np.random.default_rng(1).random(PART_BYTES // 8 + 1000)
    store.save_snapshot(6, store.hash_at(6), encode_payload({"x": big}))
    parts = store.conn.execute("SELECT count(*) FROM blob_parts WHERE project = %s",
                               (store.project_id,)).fetchone()[0]
    assert parts >= 3  # the big array in two parts, plus the event's arrays
    _, _, data = store.latest_snapshot()
    assert np.array_equal(data["x"], big)


def test_pruned_snapshot_frees_only_its_arrays(store: PostgresStore) -> None:
    store.append(history(), 0)
    count = "SELECT count(*) FROM blobs WHERE project = %s"
    before = store.conn.execute(count, (store.project_id,)).fetchone()[0]
    own = np.arange(50_000, dtype=np.float64)
    store.save_snapshot(4, store.hash_at(4), encode_payload({"x": own}), keep=1)
    assert store.conn.execute(count, (store.project_id,)).fetchone()[0] == before + 1
    store.save_snapshot(6, store.hash_at(6), encode_payload({"y": [1]}), keep=1)
    assert store.conn.execute(count, (store.project_id,)).fetchone()[0] == before
    assert store.verify() == 6  # the events' arrays survived


def test_wait_for_append_hears_other_writers(pg: PgDatabase, store: PostgresStore) -> None:
    assert store.wait_for_append(0) is False
    store.append(history()[:3], 0)
    assert store.wait_for_append(0) is False  # its own append is not news
    heard: list[bool] = []
    waiter = threading.Thread(target=lambda: heard.append(store.wait_for_append(60)))
    waiter.start()
    with PostgresStore(pg.url, "mice") as other:
        other.append(history()[3:4], 3)
    waiter.join(90)
    assert heard == [True]
    assert store.wait_for_append(0) is False


def test_read_only_refuses_writes_on_client_and_server(pg: PgDatabase,
                                                       store: PostgresStore) -> None:
    store.append(history(), 0)
    with PostgresStore(pg.url, "mice", read_only=True) as reader:
        assert reader.verify() == 6 and len(list(reader.read())) == 6
        with pytest.raises(ReadOnlyError):
            reader.append(records([point_set(100, 1.0)], 7, 4), 6)
        with pytest.raises(ReadOnlyError):
            reader.set_tag("x", 1)
        with pytest.raises(ReadOnlyError):  # the session itself is read-only
            reader._run("raw", lambda c: c.execute("DELETE FROM tags"))


def test_server_refuses_a_gap_from_any_client(store: PostgresStore) -> None:
    """A client that skips the store's checks still cannot leave a hole."""
    store.append(history()[:3], 0)
    row = store.conn.execute("SELECT tx, author, time, message, tool_version, tx_kind, ref, "
                             "kind, hash, body, n_blobs FROM events WHERE project = %s AND "
                             "seq = 3", (store.project_id,)).fetchone()
    with pytest.raises(psycopg.Error) as caught:
        store.conn.execute("INSERT INTO events (project, seq, tx, author, time, message, "
                           "tool_version, tx_kind, ref, kind, hash, body, n_blobs) VALUES "
                           "(%s, 5, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                           (store.project_id, *row))
    assert isinstance(ledger_error(caught.value, "raw", store.address), ConcurrencyError)
    holey = [*records([point_set(100, 1.0)], 4, 2), *records([point_set(100, 2.0)], 6, 2)]
    with pytest.raises(psycopg.Error) as caught, store.conn.transaction():
        write_records(store.conn, store.project_id, holey,
                      [(content_prefix(r), encode_payload(r.event)) for r in holey],
                      store.head_hash())
    assert isinstance(ledger_error(caught.value, "raw", store.address), ConcurrencyError)
    assert store.head() == 3 and store.verify() == 3


def test_password_never_shown(pg: PgDatabase) -> None:
    url = pg.role("pw_user", password="Sup3rSecretPw")
    secret = "Sup3rSecretPw"
    with pytest.raises(PermissionDeniedError) as missing:  # granted nothing at all
        PostgresStore(url, "no-such-project")
    assert secret not in str(missing.value)
    bad_db = with_db(url, dbname="no_such_database_here")
    bad_db = bad_db + " password=Sup3rSecretPw"
    with pytest.raises(StoreError) as unreachable:
        PostgresStore(bad_db, "mice")
    assert secret not in str(unreachable.value) and "cannot connect" in str(unreachable.value)
    address = ServerAddress.parse(f"postgresql://alice:{secret}@db.example:5433/lab")
    assert address.describe() == "postgresql://alice@db.example:5433/lab"
    assert secret not in repr(address) and secret not in address.scrub(f"x {secret} y")
    with PostgresStore(pg.url, "mice", create=True):
        pass
    pg_admin_url = pg.url + " password=Sup3rSecretPw"  # trust auth ignores it
    with PostgresStore(pg_admin_url, "mice") as opened:
        assert secret not in opened.describe() and secret not in repr(opened)
        with pytest.raises(ValidationError) as invalid:
            opened.set_tag("far", 99)
        assert secret not in str(invalid.value)


def test_denied_role_error_has_no_password(pg: PgDatabase) -> None:
    secret = "An0therSecret"
    url = pg.role("outsider", password=secret)
    with PostgresStore(pg.url, "mice", create=True) as owner:
        owner.append(history()[:3], 0)
    with pytest.raises(PermissionDeniedError) as caught:
        PostgresStore(url, "mice")
    assert secret not in str(caught.value)
