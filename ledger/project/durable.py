"""Durable ledgers: `open` a ledger file as `Labels`, `fork` one.

`open(path)` returns a `Labels` over a `Project` bound to a SQLite ledger file.
Every committed transaction is on disk when the call returns (the store commits
with ``synchronous=FULL``). Opening reads the head only; the state is built from
the newest snapshot and the tail on first use, and `close` writes a snapshot only
when the tail has grown long (see `ledger.project.project`).

Example::

    import ledger
    with ledger.open("project.ledger", author="ana") as labels:
        labels.set_point(labels[0].instances[0], "head", 10, 20)
"""

from __future__ import annotations

import os

from ledger.project.project import SNAPSHOT_EVERY, Project
from ledger.sleap.labels import Labels


def open(path: str | os.PathLike[str], author: str | None = None, *, create: bool = True,
         read_only: bool = False, snapshot_every: int = SNAPSHOT_EVERY) -> Labels:
    """Open (or create) a ledger file and return its `Labels`."""
    return Labels(project=Project.open(path, author, create=create, read_only=read_only,
                                       snapshot_every=snapshot_every))


def fork(source: Labels | Project | str | os.PathLike[str], path: str | os.PathLike[str],
         author: str | None = None) -> Labels:
    """A new ledger file at ``path`` holding ``source``'s whole history (same
    hashes), opened as ``author``. ``source`` is a `Labels`, a `Project` or a
    ledger file path; a file is copied, never replayed."""
    if isinstance(source, Labels):
        return Labels(project=source.project.fork(path, author))
    if isinstance(source, Project):
        return Labels(project=source.fork(path, author))
    with Project.open(source, create=False, read_only=True) as project:
        return Labels(project=project.fork(path, author))
