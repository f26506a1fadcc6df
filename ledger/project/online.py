"""Online ledgers: a `Labels` whose every transaction commits on a PostgreSQL server.

``ledger.open("postgresql://…", project="mice")`` binds a `Project` to a
`ledger.store.postgres.PostgresStore`; everything else (undo/redo, history,
``at``, tags, blame, verify) is the same code as for a file, because `Project`
only talks to the `Store` contract. The author of every transaction is the
database role (the server refuses any other name), so ``author`` may be left out;
naming another raises `ValidationError` before anything is written.

Several writers share one head. A writer that commits after someone else did
gets `ConcurrencyError` and its edit is rolled back locally: **refresh and
retry**. `commit` does that for a list of events, and `retrying` for any edit
made through the `Labels` API (what a GUI does): on a lost race it refreshes
(applying the others' transactions, so the editor shows them) and tries again,
unless the others touched what the edit touches (`ledger.project.touch.Touch`),
in which case the edit would overwrite their work unseen and the
`ConcurrencyError` is raised for the user to look again.

``wait_for_changes`` blocks on the server's LISTEN/NOTIFY announcement (one
idle connection), so a viewer can follow other annotators live::

    labels = ledger.open("postgresql://ana@db.lab/labels", project="mice")
    while labels.wait_for_changes(timeout=30) or True:
        labels.refresh()
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from ledger.core.events import Event
from ledger.core.record import DO
from ledger.errors import ConcurrencyError, ValidationError
from ledger.project.project import SNAPSHOT_EVERY, Project
from ledger.project.touch import Touch

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels

URL_PREFIXES = ("postgresql://", "postgres://")
DEFAULT_ATTEMPTS = 5
T = TypeVar("T")


def is_url(path: object) -> bool:
    """Whether ``path`` names a server ledger rather than a file: a
    ``postgresql://`` URL or a libpq ``key=value`` string (``host=db dbname=labels``)."""
    if not isinstance(path, str):
        return False
    if path.startswith(URL_PREFIXES):
        return True
    return re.match(r"^\s*(host|hostaddr|dbname|user|port|service)\s*=", path) is not None


def open_project(url: str, project: str | None, author: str | None = None, *,
                 create: bool = False, read_only: bool = False,
                 snapshot_every: int = SNAPSHOT_EVERY) -> Project:
    """A `Project` on the server: ``open_project(url, "mice").head``. ``create``
    makes the project when missing (owners only)."""
    from ledger.store.postgres import PostgresStore

    if not project:
        raise ValidationError("a postgresql:// ledger needs a project name (project=...)")
    store = PostgresStore(url, project, create=create, read_only=read_only)
    try:
        return Project(store, author, read_only=read_only, snapshot_every=snapshot_every)
    except BaseException:
        store.close()
        raise


def _touched_since(project: Project, head: int) -> Touch:
    touch = Touch()
    if project.head > head:
        for rec in project.records(head + 1):
            touch.add(rec.event)
    return touch


def commit(project: Project, events: list[Event], message: str = "", *, tx_kind: str = DO,
           meta: dict | None = None, author: str | None = None, retry: bool = True,
           attempts: int = DEFAULT_ATTEMPTS) -> int:
    """`Project.commit`, refreshing and committing again after a lost race while
    the events still apply (nobody touched what they touch); returns the tx.

    Example: ``commit(project, [PointSet(...)], "move nose")``.
    """
    events = list(events)
    mine = Touch.of(events)
    for attempt in range(attempts):
        head = project.head
        try:
            return project.commit(events, message, tx_kind=tx_kind, meta=meta, author=author)
        except ConcurrencyError:
            if not retry or attempt == attempts - 1:
                raise
            project.refresh()
            if _touched_since(project, head).clashes(mine):
                raise ConcurrencyError(
                    f"{project.describe()}: another writer changed what this edit changes "
                    "(refreshed: look at their version, then edit again)") from None
            time.sleep(0.001 * attempt)
    raise AssertionError("unreachable")


class _Recorder:
    """Collects the events a `Labels` applies while active (one per Labels)."""

    def __init__(self) -> None:
        self.active = False
        self.touch = Touch()

    def __call__(self, event: Event) -> None:
        if self.active:
            self.touch.add(event)


def retrying(labels: Labels, edit: Callable[[], T], *,
             attempts: int = DEFAULT_ATTEMPTS) -> T:
    """Run ``edit()`` (changes through the `Labels` API); after a lost race,
    refresh and run it again unless the others touched the same things.

    Example (a GUI's drag handler)::

        labels.retrying(lambda: labels.set_point(inst, "nose", x, y))
    """
    recorder: _Recorder | None = getattr(labels, "_edit_recorder", None)
    if recorder is None:
        recorder = _Recorder()
        labels.project.ledger.add_listener(recorder)
        labels._edit_recorder = recorder  # type: ignore[attr-defined]
    project = labels.project
    for attempt in range(attempts):
        head = project.head
        recorder.touch, recorder.active = Touch(), True
        try:
            return edit()
        except ConcurrencyError:
            if attempt == attempts - 1:
                raise
            recorder.active = False
            labels.refresh()
            if _touched_since(project, head).clashes(recorder.touch):
                raise ConcurrencyError(
                    f"{project.describe()}: another writer changed what this edit changes "
                    "(refreshed: look at their version, then edit again)") from None
            time.sleep(0.001 * attempt)
        finally:
            recorder.active = False
    raise AssertionError("unreachable")


def wait_for_changes(project: Project, timeout: float) -> bool:
    """True as soon as the store holds transactions ``project`` has not applied
    (announced by the server), False after ``timeout`` seconds."""
    deadline = time.monotonic() + max(timeout, 0.0)
    while True:
        if project.store.head() > project.head:
            return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        project.store.wait_for_append(left)


def without_password(url: str) -> str:
    """``url`` minus its password, still connectable (the password then comes
    from ``~/.pgpass`` or ``PGPASSWORD``): what a replica may write down.

    Example: ``without_password("postgresql://ana:pw@db/labels")`` keeps
    ``user=ana host=db dbname=labels``.
    """
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from ledger.store.postgres_conn import ServerAddress

    ServerAddress.parse(url)  # validates, with a message that shows no password
    parts = conninfo_to_dict(url)
    parts.pop("password", None)
    return make_conninfo(**parts)
