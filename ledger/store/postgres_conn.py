"""Connecting to PostgreSQL without ever showing a password, and naming its errors.

A connection string may carry a password (``postgresql://alice:s3cret@host/lab``).
It must never reach a message, a log line, ``repr`` or history, so everything the
store says about where it is comes from `ServerAddress.describe`, built from the
parsed string with the password dropped, and every message passed through
`ServerAddress.scrub` in case a server or libpq message quotes it back.

The server refuses things on its own authority (the row-level policies and
triggers of `ledger.store.postgres_schema`); `ledger_error` turns those refusals
into the `ledger.errors` exception a caller catches, by SQLSTATE:

========================  =====================================================
42501, LD001, LD003       `PermissionDeniedError` (not granted, forged author,
                          changing a stored event)
LD002, 23505, 40001,      `ConcurrencyError` (the head moved; a writer that lost
40P01                     a race retries after re-reading)
25006                     `ReadOnlyError` (a read-only session asked to write)
anything else             `StoreError`
========================  =====================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from ledger.errors import (
    ConcurrencyError,
    LedgerError,
    PermissionDeniedError,
    ReadOnlyError,
    StoreError,
    ValidationError,
)

CONNECT_TIMEOUT = 10

_PERMISSION = {"42501", "LD001", "LD003"}
_CONCURRENCY = {"LD002", "23505", "40001", "40P01"}
_READ_ONLY = {"25006"}


@dataclass(frozen=True)
class ServerAddress:
    """A parsed connection string: what to connect with, and what may be shown."""

    conninfo: str
    user: str
    host: str
    port: str
    dbname: str
    _password: str

    @classmethod
    def parse(cls, url: str) -> ServerAddress:
        """Accept a ``postgresql://`` URL or a libpq ``key=value`` string."""
        if not isinstance(url, str) or not url:
            raise ValidationError("a PostgreSQL ledger needs a connection string")
        try:
            parts = conninfo_to_dict(url)
        except psycopg.ProgrammingError:
            raise ValidationError("not a valid PostgreSQL connection string") from None
        return cls(conninfo=make_conninfo(**parts), user=str(parts.get("user", "")),
                   host=str(parts.get("host", "")), port=str(parts.get("port", "")),
                   dbname=str(parts.get("dbname", "")), _password=str(parts.get("password", "")))

    def describe(self) -> str:
        """``postgresql://user@host:port/db`` with no password (hosts that are
        socket directories are shown as ``host=...``)."""
        user = f"{self.user}@" if self.user else ""
        if self.host.startswith("/"):
            return f"postgresql://{user}/{self.dbname}?host={self.host}"
        port = f":{self.port}" if self.port else ""
        return f"postgresql://{user}{self.host}{port}/{self.dbname}"

    def scrub(self, text: str) -> str:
        """``text`` with the password (and the raw connection string) masked."""
        out = text.replace(self.conninfo, self.describe())
        return out.replace(self._password, "***") if self._password else out

    def with_user(self, user: str, password: str | None = None) -> str:
        """The same server as another role (admin tools and tests)."""
        parts = conninfo_to_dict(self.conninfo)
        parts["user"] = user
        parts.pop("password", None)
        if password:
            parts["password"] = password
        return make_conninfo(**parts)

    def __repr__(self) -> str:
        return f"ServerAddress({self.describe()!r})"


def connect(address: ServerAddress, *, autocommit: bool = True) -> psycopg.Connection:
    """One connection, autocommit (the store opens transactions explicitly)."""
    try:
        return psycopg.connect(address.conninfo, autocommit=autocommit,
                               connect_timeout=CONNECT_TIMEOUT)
    except psycopg.Error as exc:
        raise StoreError(address.scrub(
            f"{address.describe()}: cannot connect ({_first_line(exc)})")) from None


def _first_line(exc: BaseException) -> str:
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if diag is not None else None
    return str(primary or exc).strip()


def ledger_error(exc: psycopg.Error, where: str, address: ServerAddress) -> LedgerError:
    """The `ledger.errors` exception for a psycopg error (see the module table)."""
    state = getattr(exc, "sqlstate", None) or ""
    text = address.scrub(f"{where}: {_first_line(exc)}")
    if state in _PERMISSION:
        return PermissionDeniedError(text)
    if state in _CONCURRENCY:
        return ConcurrencyError(text)
    if state in _READ_ONLY:
        return ReadOnlyError(text)
    return StoreError(text)
