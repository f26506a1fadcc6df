"""Durable ledgers: `open` a ledger file as `Labels`, `fork` one.

`open(path)` returns a `Labels` over a `Project` bound to a SQLite ledger file.
Every committed transaction is on disk when the call returns (the store commits
with ``synchronous=FULL``). Opening reads the head only; the state is built from
the newest snapshot and the tail on first use, and `close` writes a snapshot only
when the tail has grown long (see `ledger.project.project`).

A ``postgresql://`` URL with ``project=`` opens an online ledger instead
(`ledger.project.online`), and `clone` makes a file replica of one
(`ledger.project.replica`). A replica opened without ``author`` writes as the
role it was cloned by, so that its pushes are accepted.

Example::

    import ledger
    with ledger.open("project.ledger", author="ana") as labels:
        labels.set_point(labels[0].instances[0], "head", 10, 20)
    online = ledger.open("postgresql://ana@db.lab/labels", project="mice")
"""

from __future__ import annotations

import os

from ledger.errors import LedgerError, ValidationError
from ledger.project.project import SNAPSHOT_EVERY, Project
from ledger.sleap.labels import Labels


def open(path: str | os.PathLike[str], author: str | None = None, *,
         project: str | None = None, create: bool | None = None, read_only: bool = False,
         snapshot_every: int = SNAPSHOT_EVERY) -> Labels:
    """Open (or create) a ledger file, or the server project ``project`` at a
    ``postgresql://`` URL (created only with ``create=True``), as `Labels`."""
    from ledger.project.online import is_url, open_project

    if is_url(path) or (project is not None and not os.path.exists(path)):
        return Labels(project=open_project(str(path), project, author, create=bool(create),
                                           read_only=read_only, snapshot_every=snapshot_every))
    if project is not None:
        raise ValidationError("project= names a server project; a ledger file is one project")
    if author is None and os.path.isfile(path):
        from pathlib import Path

        from ledger.store.sqlite_file import read_remote

        try:
            origin = read_remote(Path(path))
        except LedgerError:  # not a ledger: Project.open says so properly
            origin = None
        author = origin["author"] if origin else None
    return Labels(project=Project.open(path, author, create=create is not False,
                                       read_only=read_only, snapshot_every=snapshot_every))


def clone(url: str, path: str | os.PathLike[str], project: str,
          author: str | None = None) -> Labels:
    """A local replica of a server project (see `ledger.project.replica`).

    Example: ``ledger.clone("postgresql://ana@db/labels", "mice.ledger", project="mice")``.
    """
    from ledger.project.replica import clone as make_clone

    return make_clone(url, path, project=project, author=author)


def fork(source: Labels | Project | str | os.PathLike[str], path: str | os.PathLike[str],
         author: str | None = None) -> Labels:
    """A new ledger file at ``path`` holding ``source``'s whole history (same
    hashes), opened as ``author``. ``source`` is a `Labels`, a `Project` or a
    ledger file path; a file is copied, never replayed."""
    if isinstance(source, Labels):
        return Labels(project=source.project.fork(path, author))
    if isinstance(source, Project):
        return Labels(project=source.fork(path, author))
    writable = os.access(source, os.W_OK)  # then the copy takes the file's bytes whole
    with Project.open(source, create=False, read_only=not writable) as project:
        return Labels(project=project.fork(path, author))
