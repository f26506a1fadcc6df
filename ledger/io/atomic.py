"""Atomic file replacement for every writer in `ledger`.

A save must never leave a half-written labels file behind: a crash, a full disk or
an exception in the middle of writing would otherwise destroy the user's previous
version. Writers therefore fill a unique temporary file next to the target (same
directory, hence same filesystem, so ``os.replace`` is atomic), fsync it, and only
then swap it in.

Example::

    with atomic_write_path("labels.slp") as tmp:
        with h5py.File(tmp, "w") as f:
            ...
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ledger.errors import FormatError, LedgerError


def _default_mode() -> int:
    """Permissions a plain ``open(path, "w")`` would give (mkstemp uses 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


_DEFAULT_MODE = _default_mode()


def _describe(exc: OSError) -> str:
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"permission denied or read-only location ({exc.strerror})"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"no space left on device ({exc.strerror})"
    if exc.errno == errno.ENOENT:
        return f"directory does not exist ({exc.strerror})"
    return f"{exc.strerror or exc}"


describe_os_error = _describe  # for writers that build their file before `atomic_write_path`


def _fsync_path(path: str, directory: bool = False) -> None:
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return  # some platforms cannot open directories; the data is synced
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


def _temp_prefix(target: Path, pid: int) -> str:
    return f".{target.name}.{pid}."


def clean_stale_temps(target: Path) -> list[str]:
    """Remove temporary files an earlier save of ``target`` left behind when it
    was killed (SIGKILL, power loss: no ``finally`` ran). A temp file names the
    process that made it; only those of processes that no longer exist are
    removed, so a concurrent save by a live process keeps its file."""
    removed = []
    try:
        names = os.listdir(target.parent if str(target.parent) else ".")
    except OSError:
        return removed
    head = f".{target.name}."
    for name in names:
        if not (name.startswith(head) and name.endswith(".tmp")):
            continue
        pid_text = name[len(head):].split(".", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(target.parent / name)
            removed.append(name)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours (EPERM)
        return True
    return True


def resolve_target(path: str | os.PathLike[str]) -> Path:
    """The file a save must replace: through a symlink, its target (the link
    stays a link and the file it names is replaced atomically)."""
    target = Path(os.fspath(path))
    if target.is_symlink():
        return Path(os.path.realpath(target))
    return target


@contextlib.contextmanager
def atomic_write_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path; on success fsync it and move it over ``path``.

    On any exception the temporary file is removed, ``path`` is left untouched, and
    the error is re-raised as a `LedgerError` (a `FormatError` naming the file for
    OS errors) unless it already is one. A symlink is followed (its target is
    replaced); temp files of earlier saves that were killed are removed first.
    """
    target = resolve_target(path)
    directory = str(target.parent) if str(target.parent) else "."
    clean_stale_temps(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(target, os.getpid()), suffix=".tmp",
                                   dir=directory)
        os.close(fd)
    except OSError as exc:
        raise FormatError(target, f"cannot write: {_describe(exc)}") from exc
    try:
        yield tmp
        try:
            mode = stat.S_IMODE(os.stat(target).st_mode)
        except OSError:
            mode = _DEFAULT_MODE
        os.chmod(tmp, mode)
        _fsync_path(tmp)
        os.replace(tmp, target)
        _fsync_path(directory, directory=True)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, LedgerError) or not isinstance(exc, Exception):
            raise
        if isinstance(exc, OSError):
            raise FormatError(target, f"cannot write: {_describe(exc)}") from exc
        raise FormatError(target, f"cannot write: {type(exc).__name__}: {exc}") from exc


def write_bytes_to(tmp: str, chunks: Iterable[bytes | memoryview]) -> None:
    """Write ``chunks`` to ``tmp`` with plain file I/O (no HDF5 library on the
    disk path: an ENOSPC here is an ordinary `OSError`, never a crash)."""
    with open(tmp, "wb") as fh:
        for chunk in chunks:
            fh.write(chunk)
        fh.flush()


def hdf5_image() -> Any:
    """A new, empty HDF5 file that lives only in memory (core driver without a
    backing store). Why: h5py has crashed the process (SIGSEGV on close) after a
    write failed with ENOSPC; building the whole image in memory and writing the
    bytes with ordinary file I/O (`save_hdf5_image`) makes a full disk an
    ordinary, clean error."""
    import uuid

    import h5py

    return h5py.File(f"ledger-image-{uuid.uuid4().hex}.h5", "w", driver="core",
                     backing_store=False)


def save_hdf5_image(f: Any, path: str | os.PathLike[str]) -> None:
    """Write the in-memory HDF5 file ``f`` (from `hdf5_image`) atomically to
    ``path``, then close it."""
    try:
        f.flush()
        image = f.id.get_file_image()
    finally:
        f.close()
    with atomic_write_path(path) as tmp:
        write_bytes_to(tmp, [memoryview(image)])
