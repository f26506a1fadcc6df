"""Limits that keep a hostile or damaged file from exhausting memory or time.

Why: readers must bound what they allocate by what a file *declares* and stores,
not by what a crafted header or a compressed stream claims. Every limit here is a
module constant that can be overridden for one process with an environment
variable of the same name prefixed ``LEDGER_`` (e.g. ``LEDGER_MAX_INFLATE_RATIO=500``)
or by assigning the constant (``ledger.io.limits.MAX_JSON_BYTES = ...``). Crossing
one raises `FormatError` naming the file and the limit.

* ``SUSPICIOUS_BYTES`` / ``MAX_HDF5_RATIO``: an HDF5 dataset that decompresses to
  more than ``SUSPICIOUS_BYTES`` and more than ``MAX_HDF5_RATIO`` times the bytes it
  stores is refused before it is read (a chunk bomb or a damaged shape).
* ``MAX_JSON_BYTES``: the largest JSON text read (inflated, for ``.json.zip``).
* ``MAX_INFLATE_RATIO`` / ``MIN_INFLATE_BUDGET``: a zip member is inflated in pieces
  and refused once it passes ``max(MIN_INFLATE_BUDGET, MAX_INFLATE_RATIO × its
  compressed size)`` — bounded while inflating, whatever its header says.
* Non-regular files (FIFOs, devices, sockets, a symlink to ``/dev/zero``) are refused
  before they are opened: reading one could block forever or never end.
* HDF5 external links, external storage and virtual datasets are refused: a file
  must not make the reader open other files.
"""

from __future__ import annotations

import os
import stat

from ledger.errors import FormatError, MissingFileError

SUSPICIOUS_BYTES = 256 * 1024 * 1024
MAX_HDF5_RATIO = 64
MAX_JSON_BYTES = 4 * 1024 ** 3
MAX_INFLATE_RATIO = 200
MIN_INFLATE_BUDGET = 64 * 1024 * 1024


def limit(name: str) -> int:
    """The current value of limit ``name`` (environment first, then the constant)."""
    env = os.environ.get(f"LEDGER_{name}")
    if env:
        try:
            return int(env)
        except ValueError:
            pass
    return int(globals()[name])


def check_regular_file(source: str) -> None:
    """Refuse anything but a regular file (following symlinks) before opening it."""
    try:
        st = os.stat(source)
    except FileNotFoundError:
        raise MissingFileError(source) from None
    except OSError as exc:
        raise FormatError(source, f"cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO" if stat.S_ISFIFO(st.st_mode) else "a directory"
                if stat.S_ISDIR(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                else "not a regular file")
        raise FormatError(source, f"is {kind}, not a regular file; refusing to read it")


def inflate_budget(compressed: int) -> int:
    return min(limit("MAX_JSON_BYTES"),
               max(limit("MIN_INFLATE_BUDGET"), limit("MAX_INFLATE_RATIO") * max(compressed, 1)))
