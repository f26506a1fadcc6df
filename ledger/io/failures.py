"""One rule for readers: whatever goes wrong while reading a file is reported as a
`FormatError` naming the file, never as the library exception underneath.

Example::

    with format_errors(path, "not a readable SLEAP JSON file"):
        return parse(path)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ledger.errors import FormatError, MissingFileError


@contextmanager
def format_errors(source: str, what: str) -> Iterator[None]:
    """Turn any failure inside the block into `FormatError(source, ...)`; ``what``
    describes an unexpected failure (damaged files raise anything)."""
    try:
        yield
    except FormatError:
        raise
    except FileNotFoundError as exc:
        raise MissingFileError(source) from exc
    except MemoryError as exc:
        raise FormatError(source, "a dataset is too large to load (damaged file?)") from exc
    except RecursionError as exc:
        raise FormatError(source, "JSON nested too deeply") from exc
    except Exception as exc:  # noqa: BLE001 - report the file, whatever the cause
        raise FormatError(source, f"{what} ({type(exc).__name__}: {exc})") from exc
