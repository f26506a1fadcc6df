"""A PostgreSQL server for the tests, found or started, never silently missing.

Where the server comes from, in order (`resolve_server`):

1. ``LEDGER_TEST_PG_URL``: a connection string to an admin role (it must be able to
   create databases and roles). If it cannot be reached the tests fail, loudly: a
   variable that points nowhere is a mistake to report, not a reason to skip. The
   value ``throwaway`` forces step 3.
2. ``postgresql://postgres@127.0.0.1:5432/postgres``: every machine of this
   project (developers' and CI's) runs a server there with trust authentication.
3. A throwaway server started from the ``pgserver`` package (in the ``test`` extra:
   PostgreSQL binaries in a wheel), in a temporary directory, stopped at the end.
   If that package is missing too, every PostgreSQL test fails with what to do.

Isolation: the session makes one database; each test gets its own schema in it,
with the ledger tables (`ledger.store.postgres_admin.admin_init`), reached through
``options=-c search_path=...`` in its connection strings, and dropped afterwards.
(A database per test costs a checkpoint on every DROP DATABASE, about a second on
a busy machine; a schema costs a tenth of that.) Roles are cluster-wide, so the
ones a test makes carry a prefix unique to the session and are dropped after the
test's schema (which holds their privileges) is gone.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

ENV = "LEDGER_TEST_PG_URL"
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def probe(url: str) -> str | None:
    """None when ``url`` accepts a connection, else why not (no password shown)."""
    import psycopg

    from ledger.store.postgres_conn import ServerAddress

    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return None
    except psycopg.Error as exc:
        return ServerAddress.parse(url).scrub(str(exc).strip().splitlines()[0])


def start_throwaway() -> tuple[str, Callable[[], None]]:
    """Start a private server from the ``pgserver`` wheel: (admin url, stop)."""
    try:
        import pgserver
    except ImportError:
        raise RuntimeError(
            "no PostgreSQL server for the tests: nothing answers at 127.0.0.1:5432, "
            f"{ENV} is not set, and the 'pgserver' package (in the test extra: "
            "pip install -e '.[test]') is not installed to start a throwaway one") from None
    data = tempfile.mkdtemp(prefix="ledger-pg-")
    server = pgserver.get_server(data, cleanup_mode="stop")

    def stop() -> None:
        server.cleanup()
        shutil.rmtree(data, ignore_errors=True)

    return server.get_uri(), stop


def resolve_server(env: dict[str, str], probe: Callable[[str], str | None] = probe,
                   start: Callable[[], tuple[str, Callable[[], None]]] = start_throwaway
                   ) -> tuple[str, Callable[[], None] | None, str]:
    """(admin url, stop or None, where it came from). `RuntimeError` (which the
    fixture turns into a failure) when no server can be had."""
    wanted = env.get(ENV, "").strip()
    if wanted and wanted != "throwaway":
        why = probe(wanted)
        if why is not None:
            raise RuntimeError(f"{ENV} is set but its server does not answer: {why}")
        return wanted, None, ENV
    if not wanted and probe(DEFAULT_URL) is None:
        return DEFAULT_URL, None, "127.0.0.1:5432"
    url, stop = start()
    return url, stop, "throwaway pgserver"


def with_db(url: str, dbname: str | None = None, user: str | None = None,
            schema: str | None = None) -> str:
    """``url`` changed to another database, role or schema (search_path)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    parts = conninfo_to_dict(url)
    if dbname is not None:
        parts["dbname"] = dbname
    if user is not None:
        parts["user"] = user
        parts.pop("password", None)
    if schema is not None:
        parts["options"] = f"-c search_path={schema}"
    return make_conninfo(**parts)


def admin_sql(url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


@dataclass
class PgServer:
    """The session's server: an admin URL to the session's database, a prefix."""

    url: str
    origin: str
    prefix: str


@dataclass
class PgDatabase:
    """One test's schema. ``url`` connects as the admin (the owner of the
    ledger tables); ``role(name)`` makes a login role and returns its URL."""

    server: PgServer
    schema: str
    url: str
    roles: list[str] = field(default_factory=list)

    def role(self, name: str, password: str | None = None) -> str:
        import psycopg
        from psycopg import sql
        from psycopg.conninfo import conninfo_to_dict, make_conninfo

        real = self.real(name)
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(real)))
            if password:
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(real), sql.Literal(password)))
        self.roles.append(real)
        url = with_db(self.url, user=real)
        if password:
            url = make_conninfo(**{**conninfo_to_dict(url), "password": password})
        return url

    def real(self, name: str) -> str:
        return f"{self.server.prefix}_{name}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    try:
        url, stop, origin = resolve_server(dict(os.environ))
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    prefix = f"ledger_t{uuid.uuid4().hex[:8]}"
    database = f"{prefix}_db"
    try:
        admin_sql(url, f'CREATE DATABASE "{database}"')
        yield PgServer(with_db(url, database), origin, prefix)
    finally:
        admin_sql(url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if stop is not None:
            stop()


@pytest.fixture
def pg(pg_server: PgServer) -> Iterator[PgDatabase]:
    """A fresh schema with the ledger tables, dropped (with the test's roles)
    after the test."""
    from ledger.store.postgres_admin import admin_init

    schema = f"t{uuid.uuid4().hex[:10]}"
    admin_sql(pg_server.url, f'CREATE SCHEMA "{schema}"')
    db = PgDatabase(pg_server, schema, with_db(pg_server.url, schema=schema))
    try:
        admin_init(db.url)
        yield db
    finally:
        admin_sql(pg_server.url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE',
                  *(f'DROP ROLE IF EXISTS "{role}"' for role in db.roles))
