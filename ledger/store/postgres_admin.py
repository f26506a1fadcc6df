"""Setting up a team server: the schema, projects, and who may do what.

Run by the database's administrator (the role that will own the tables; the
owner of a project may also write any author, which is how an existing file
ledger is imported with its history). Roles themselves are made with the
server's own tools (``CREATE ROLE alice LOGIN PASSWORD ...``); these functions
only give them access::

    admin_init("postgresql://admin@db.lab/ledger")
    create_project("postgresql://admin@db.lab/ledger", "mice")
    grant("postgresql://admin@db.lab/ledger", "mice", "alice", "annotator")
    grant("postgresql://admin@db.lab/ledger", "mice", "rita", "reviewer")

A grant is two things: table privileges (SELECT for a reviewer; INSERT, and
changing tags and snapshots, for an annotator), and a row in ``grants`` that the
row-level policies check, so privileges on the tables never reach projects the
role was not granted. What the server then enforces is described in
`ledger.store.postgres_schema`.
"""

from __future__ import annotations

from typing import Literal

import psycopg
from psycopg import sql

from ledger.errors import ConflictError, NotFoundError, StoreError, ValidationError
from ledger.store.postgres_conn import ServerAddress, connect, ledger_error
from ledger.store.postgres_schema import FORMAT, FUNCTIONS, READ, TABLES, VERSION, WRITE, policies

Level = Literal["annotator", "reviewer"]


def admin_init(url: str) -> bool:
    """Create the ledger tables, functions and policies in the connection's
    current schema; return False when they are already there (idempotent)."""
    address = ServerAddress.parse(url)
    with connect(address) as conn:
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(hashtext('ledger admin init'))")
                if conn.execute("SELECT to_regclass('ledger_meta')").fetchone()[0]:
                    _check_version(conn, address)
                    return False
                schema = conn.execute("SELECT current_schema()").fetchone()[0]
                if schema is None:
                    raise StoreError(f"{address.describe()}: no schema to create tables in "
                                     "(check search_path)")
                path = sql.Identifier(schema).as_string(conn)
                conn.execute(TABLES)
                conn.execute(FUNCTIONS.replace("{path}", path))
                conn.execute(policies())
                conn.execute("INSERT INTO ledger_meta VALUES ('format', %s), ('version', %s)",
                             (FORMAT, str(VERSION)))
        except psycopg.Error as exc:
            raise ledger_error(exc, f"{address.describe()}: admin init", address) from None
    return True


def _check_version(conn: psycopg.Connection, address: ServerAddress) -> None:
    meta = dict(conn.execute("SELECT key, value FROM ledger_meta").fetchall())
    if meta.get("format") != FORMAT or meta.get("version") != str(VERSION):
        raise StoreError(f"{address.describe()}: holds ledger tables of format "
                         f"{meta.get('format')!r} version {meta.get('version')!r}; this "
                         f"code uses {FORMAT!r} version {VERSION}")


def create_project(url: str, name: str) -> int:
    """Make an empty project owned by the connecting role; return its id.
    `ConflictError` if the name is taken."""
    if not isinstance(name, str) or not name:
        raise ValidationError("a project needs a name")
    address = ServerAddress.parse(url)
    with connect(address) as conn:
        try:
            row = conn.execute("INSERT INTO projects (name) VALUES (%s) RETURNING id",
                               (name,)).fetchone()
        except psycopg.errors.UniqueViolation:
            raise ConflictError(f"{address.describe()}: project {name!r} exists") from None
        except psycopg.Error as exc:
            raise ledger_error(exc, f"{address.describe()}: creating {name!r}",
                               address) from None
    return int(row[0])


def grant(url: str, project: str, role: str, level: Level) -> None:
    """Let ``role`` read (``reviewer``) or also append to (``annotator``) the
    project. Granting again changes the level."""
    if level not in ("annotator", "reviewer"):
        raise ValidationError(f"level must be 'annotator' or 'reviewer', not {level!r}")
    address = ServerAddress.parse(url)
    who = sql.Identifier(role)
    with connect(address) as conn:
        try:
            with conn.transaction():
                pid = _project_id(conn, address, project)
                schema = conn.execute("SELECT current_schema()").fetchone()[0]
                conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                    sql.Identifier(schema), who))
                for privilege in (READ, *(WRITE if level == "annotator" else ())):
                    conn.execute(sql.SQL(f"GRANT {privilege} TO {{}}").format(who))
                conn.execute("INSERT INTO grants VALUES (%s, %s, %s) ON CONFLICT (project, role)"
                             " DO UPDATE SET level = EXCLUDED.level", (pid, role, level))
        except psycopg.errors.UndefinedObject:
            raise NotFoundError(f"{address.describe()}: no role {role!r}") from None
        except psycopg.Error as exc:
            raise ledger_error(exc, f"{address.describe()}: granting {project!r}",
                               address) from None


def revoke(url: str, project: str, role: str) -> None:
    """Take the project away from ``role`` (its table privileges stay for the
    other projects it has; the policies stop it reaching this one)."""
    address = ServerAddress.parse(url)
    with connect(address) as conn:
        try:
            pid = _project_id(conn, address, project)
            gone = conn.execute("DELETE FROM grants WHERE project = %s AND role = %s",
                                (pid, role)).rowcount
        except psycopg.Error as exc:
            raise ledger_error(exc, f"{address.describe()}: revoking {project!r}",
                               address) from None
    if not gone:
        raise NotFoundError(f"{address.describe()}: role {role!r} has no grant on {project!r}")


def _project_id(conn: psycopg.Connection, address: ServerAddress, project: str) -> int:
    row = conn.execute("SELECT id FROM projects WHERE name = %s", (project,)).fetchone()
    if row is None:
        raise NotFoundError(f"{address.describe()}: no project {project!r}")
    return int(row[0])
