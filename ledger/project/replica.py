"""Replicas: a local ledger file that works offline and syncs with a server project.

``ledger.clone(url, path, project="mice")`` copies the project's history into a
new SQLite ledger (same records, same hashes) and writes its origin into the
file's ``remote`` table: the URL *without* its password, the project, the author
(the database role) and the last synced position (seq and hash). The replica is
then an ordinary ledger file; every edit commits locally.

**Layout: an origin prefix and a local tail.** Records ``1..synced`` are the
origin's, hash for hash; records after it are this replica's unpushed
transactions. The synced position is only a hint: the true fork point is the
longest common prefix of hashes, found by binary search, so a crash between
writing records and writing the hint is harmless.

* `push` appends the tail to the origin with the expected head ``synced``: the
  records keep author and time, and since their parent is the same, their
  hashes too. `ConcurrencyError` when the origin moved: pull first. The server
  refuses a record whose author is not the pushing role (unless that role owns
  the project), so a replica is meant to be edited by the role that cloned it.
* `pull` with no local tail appends the origin's new records (a fast-forward).
  With a tail it **rebases**: the new history is the origin's followed by the
  tail's transactions replayed one by one (`ledger.project.rebase.replay`), each
  keeping author, time and message; the hashes change since the parents do.
  The store is append-only, so the new history is built in a private copy of
  the file (cut back to the fork point, `ledger.store.sqlite_file.truncate_copy`)
  and moved over the replica with one atomic rename; a crash at any point
  leaves either the old replica or the new one, never a mix. The replica before
  the pull stays beside it as ``.NAME.before-pull`` until the next pull.
* Transactions the rebase cannot replay (they touch what the origin changed)
  become a three-way merge of the rebased replica (*ours*, i.e. the origin's
  side, as in ``git rebase``) with the replica before the pull (*theirs*, the
  local side): `pull` returns its `MergeResult`, conflicts as data. With no
  conflicts it is already committed; otherwise ``resolve``/``resolve_all`` and
  ``commit``, then `push`: the resolution is a transaction like any other, so
  the other replicas receive it and never see the conflict.

One process edits a replica at a time (`pull` swaps the file under the open
`Labels`, which follows; another process would keep the old file).

Example::

    labels = ledger.clone("postgresql://ana@db.lab/labels", "mice.ledger", project="mice")
    labels.set_point(...)
    result = labels.pull()
    if result.unresolved:
        result.resolve_all("theirs"); result.commit("keep my points")
    labels.push()
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.core.events import invert
from ledger.core.record import Record
from ledger.errors import ConcurrencyError, StoreError, ValidationError
from ledger.project.online import is_url, without_password
from ledger.project.project import Project
from ledger.project.rebase import by_transaction, replay
from ledger.project.touch import Touch
from ledger.store.base import Store
from ledger.store.sqlite_file import read_remote, truncate_copy, write_remote

if TYPE_CHECKING:
    from ledger.merging.result import MergeResult
    from ledger.sleap.labels import Labels

_COPY_BATCH = 4096


# ----------------------------------------------------------------- helpers

def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _remove(*paths: Path) -> None:
    for p in paths:
        for q in (p, Path(f"{p}-wal"), Path(f"{p}-shm")):
            with contextlib.suppress(FileNotFoundError):
                q.unlink()


def copy_records(src: Store, dst: Store, start: int, stop: int) -> int:
    """Append ``src``'s records ``start..stop`` to ``dst`` (whose head is
    ``start - 1``) in batches, hashes checked; the summary goes with the last
    batch when ``src`` has one for ``stop``. Returns how many."""
    summary = src.summary()
    summary = summary if summary.get("seq") == stop else None
    for lo in range(start, stop + 1, _COPY_BATCH):
        hi = min(lo + _COPY_BATCH - 1, stop)
        dst.append(list(src.read(lo, hi)), lo - 1, summary=summary if hi == stop else None)
    return max(stop - start + 1, 0)


def fork_point(a: Store, b: Store, hint: int = 0) -> int:
    """The last seq where ``a`` and ``b`` hold the same record (equal hashes at k
    vouch for equal histories up to k): binary search from ``hint`` upwards."""
    hi = min(a.head(), b.head())
    lo = 0
    if 0 < hint <= hi:
        if a.hash_at(hint) != b.hash_at(hint):
            raise StoreError(f"{b.describe()}: no longer holds the history this replica "
                             f"synced (they differ at seq {hint})")
        lo = hint
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a.hash_at(mid) == b.hash_at(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _origin(labels: Labels) -> tuple[Path, dict[str, Any]]:
    from ledger.store.sqlite import SqliteStore

    store = labels.project.store
    if not isinstance(store, SqliteStore):
        raise ValidationError(f"{store.describe()}: not a replica (pull/push need a ledger "
                              "file made by ledger.clone)")
    origin = read_remote(store.path)
    if origin is None:
        raise ValidationError(f"{store.path}: not a replica (it has no origin; make one with "
                              "ledger.clone)")
    return store.path, origin


def _connect(origin: dict[str, Any], read_only: bool) -> Store:
    from ledger.store.postgres import PostgresStore

    return PostgresStore(origin["url"], origin["project"], read_only=read_only)


def _record_sync(path: Path, origin: dict[str, Any], store: Store, seq: int) -> None:
    if (origin["synced_seq"], origin["synced_hash"]) != (seq, store.hash_at(seq) or ""):
        write_remote(path, {**origin, "synced_seq": seq, "synced_hash": store.hash_at(seq) or ""})


def _clean(labels: Labels, info: dict[str, Any]) -> MergeResult:
    """A committed, conflict-free result (what a clean pull returns)."""
    from ledger.merging.plan import Plan
    from ledger.merging.result import MergeResult

    result = MergeResult(labels, Plan(), [], dry_run=False, info=info)
    result.committed_tx = 0
    return result


# ----------------------------------------------------------------- clone

def clone(url: str, path: str | os.PathLike[str], project: str,
          author: str | None = None) -> Labels:
    """A new replica of ``project`` at ``path`` (see the module docstring).

    Example: ``ledger.clone("postgresql://ana@db/labels", "mice.ledger", project="mice")``.
    """
    from ledger.project.durable import open as open_file
    from ledger.store.postgres import PostgresStore
    from ledger.store.sqlite import SqliteStore

    if not is_url(url):
        raise ValidationError("clone needs a postgresql:// URL")
    target = Path(path)
    if target.exists():
        raise StoreError(f"{target}: already exists; a clone needs a new path")
    tmp = target.with_name(f".{target.name}.clone.tmp")
    _remove(tmp)
    with PostgresStore(url, project, read_only=True) as src:
        role = src.author
        head = src.head()
        dst = SqliteStore(tmp, create=True)
        try:
            copy_records(src, dst, 1, head)
            synced_hash = dst.hash_at(head) or ""
        finally:
            dst.close()
    write_remote(tmp, {"url": without_password(url), "project": project,
                       "author": author or role, "synced_seq": head,
                       "synced_hash": synced_hash})
    try:
        os.link(tmp, target)
    except FileExistsError:
        _remove(tmp)
        raise StoreError(f"{target}: already exists; a clone needs a new path") from None
    _remove(tmp)
    _fsync_dir(target.parent)
    return open_file(target, author=author or role, create=False)


# ----------------------------------------------------------------- push / pull

def remote(labels: Labels) -> dict[str, Any]:
    """Where the replica syncs and how far apart they are: origin (no password),
    project, author, ahead (unpushed records), behind (the origin's new ones).

    Example: ``labels.remote()["ahead"]``.
    """
    from ledger.store.postgres_conn import ServerAddress

    path, origin = _origin(labels)
    project = labels.project
    project.refresh()
    with _connect(origin, read_only=True) as src:
        fork = fork_point(project.store, src, origin["synced_seq"])
        head = src.head()
    return {"origin": ServerAddress.parse(origin["url"]).describe(),
            "project": origin["project"], "author": origin["author"], "synced": fork,
            "ahead": project.head - fork, "behind": head - fork}


def push(labels: Labels) -> int:
    """Send the unpushed transactions to the origin; return how many.
    `ConcurrencyError` when the origin has transactions this replica has not
    pulled (pull first)."""
    path, origin = _origin(labels)
    project = labels.project
    project.refresh()
    with _connect(origin, read_only=False) as src:
        fork = fork_point(project.store, src, origin["synced_seq"])
        if src.head() != fork:
            raise ConcurrencyError(f"{src.describe()}: the origin has {src.head() - fork} "
                                   "record(s) this replica has not pulled: pull first")
        head = project.head
        if head == fork:
            _record_sync(path, origin, project.store, fork)
            return 0
        records = project.records(fork + 1, head)
        src.append(records, fork, summary=project.summary())
        _record_sync(path, origin, project.store, head)
        return len({rec.tx for rec in records})


def pull(labels: Labels, message: str = "pull: merge local changes") -> MergeResult:
    """Fetch the origin's new transactions and replay the unpushed ones on top
    (see the module docstring); returns a `MergeResult` (committed when clean)."""
    path, origin = _origin(labels)
    project = labels.project
    project.refresh()
    _remove(path.with_name(f".{path.name}.rebase.tmp"))
    with _connect(origin, read_only=True) as src:
        fork = fork_point(project.store, src, origin["synced_seq"])
        o_head, l_head = src.head(), project.head
        info: dict[str, Any] = {"mode": "pull", "pull": {
            "fetched": o_head - fork, "rebased": 0, "skipped": []}}
        if o_head == fork:
            _record_sync(path, origin, project.store, fork)
            return _clean(labels, info)
        if l_head == fork:
            copy_records(src, project.store, fork + 1, o_head)
            _record_sync(path, origin, project.store, o_head)
            project.refresh()
            return _clean(labels, info)
        fetched = list(src.read(fork + 1, o_head))
    _remove(path.with_name(f".{path.name}.before-pull"))
    tail = project.records(fork + 1, l_head)
    done = _rebuild(project, path, origin, fetched, tail)
    info["pull"].update(rebased=len(done.new_tx), skipped=done.skipped)
    if not done.skipped:
        _remove(path.with_name(f".{path.name}.before-pull"))
        return _clean(labels, info)
    return _merge_skipped(labels, path, info, message)


def _rebuild(project: Project, path: Path, origin: dict[str, Any], fetched: list[Record],
             tail: list[Record]) -> Any:
    """Build origin + rebased tail in a private copy, move it over the replica,
    and bring the open project onto it."""
    from ledger.project.event_ledger import EventLedger
    from ledger.store.sqlite import SqliteStore

    fork = fetched[0].seq - 1
    tmp = path.with_name(f".{path.name}.rebase.tmp")
    store = project.store
    assert isinstance(store, SqliteStore)
    store.copy_to(tmp)
    tags = truncate_copy(tmp, fork)
    dst = SqliteStore(tmp)
    try:
        dst.append(fetched, fork)
        state = EventLedger(dst).build_state(dst.head())[0]
        done = replay(dst, state, by_transaction(tail), dirty=Touch.of(r.event for r in fetched))
        _place_tags(dst, tags, tail, done.new_tx)
        synced_seq, synced_hash = fetched[-1].seq, dst.hash_at(fetched[-1].seq) or ""
    finally:
        dst.close()
    write_remote(tmp, {**origin, "synced_seq": synced_seq, "synced_hash": synced_hash})
    backup = path.with_name(f".{path.name}.before-pull")
    store.close()
    os.link(path, backup)
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    _switch(project, SqliteStore(path), tail, fetched + done.records)
    return done


def _place_tags(dst: Store, tags: list[tuple[str, int]], tail: list[Record],
                new_tx: dict[int, int]) -> None:
    """Tags on the local tail follow their transaction (dropped if it was skipped)."""
    tx_of = {rec.seq: rec.tx for rec in tail}
    for name, seq in tags:
        new = new_tx.get(tx_of.get(seq, -1))
        span = dst.tx_range(new) if new is not None else None
        if span is not None:
            dst.set_tag(name, span[1], move=True)


def _switch(project: Project, store: Store, back: list[Record], forward: list[Record]) -> None:
    """Point the open project at the rebuilt file: undo the old tail in the
    state, apply the new records (listeners keep the `Labels` objects right)."""
    ledger = project.ledger
    project.store = store
    ledger.store = store
    if ledger.state_loaded:
        for rec in reversed(back):
            ledger._apply(invert(rec.event))
        for rec in forward:
            ledger._apply(rec.event)
    ledger._head = store.head()
    ledger._last_tx = store.last_tx()


def _merge_skipped(labels: Labels, path: Path, info: dict[str, Any],
                   message: str) -> MergeResult:
    """Three-way merge of the rebased replica with the replica before the pull,
    which brings the skipped transactions' changes in as conflicts as data."""
    from ledger.merging.merge import merge
    from ledger.sleap.labels import Labels
    from ledger.store.sqlite import SqliteStore

    before = path.with_name(f".{path.name}.before-pull")
    theirs = Labels(project=Project(SqliteStore(before, read_only=True), read_only=True))
    try:
        result = merge(labels, theirs)
    finally:
        theirs.close()
    result.info.update(info)
    if not result.conflicts:
        result.commit(message)
    return result


def sync(labels: Labels, attempts: int = 5) -> MergeResult:
    """Pull, then push while the pull left nothing unresolved; a push that loses
    a race with another writer pulls again (up to ``attempts`` times). The
    result's ``info["pushed"]`` counts the transactions sent."""
    for attempt in range(attempts):
        result = pull(labels)
        if result.committed_tx is None:  # conflicts to resolve first
            result.info["pushed"] = 0
            return result
        try:
            result.info["pushed"] = push(labels)
            return result
        except ConcurrencyError:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")
