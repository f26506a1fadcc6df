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
from collections.abc import Iterator
from pathlib import Path

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


@contextlib.contextmanager
def atomic_write_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary path; on success fsync it and move it over ``path``.

    On any exception the temporary file is removed, ``path`` is left untouched, and
    the error is re-raised as a `LedgerError` (a `FormatError` naming the file for
    OS errors) unless it already is one.
    """
    target = Path(os.fspath(path))
    directory = str(target.parent) if str(target.parent) else "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{target.name}.", suffix=".tmp", dir=directory)
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
