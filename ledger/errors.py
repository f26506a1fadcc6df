"""Every error `ledger` raises on purpose derives from `LedgerError`.

Callers catch one base class; the subclasses say what went wrong. Several also
derive from the builtin SLEAP raised in the same place (``KeyError``,
``ValueError``...), so SLEAP code that catches those keeps working.
"""

from __future__ import annotations


class LedgerError(Exception):
    """Base class of all ledger errors."""


class ValidationError(LedgerError, ValueError):
    """An argument is invalid; nothing was changed."""


class NotFoundError(LedgerError, KeyError):
    """A video, frame, instance, track, node or suggestion is not in the labels."""

    def __str__(self) -> str:  # KeyError quotes its message; we want plain text.
        return str(self.args[0]) if self.args else ""


class NotInLabelsError(NotFoundError, ValueError):
    """A frame, instance, node or track is not where the call expects it (SLEAP
    raised ValueError in these places, so this is one too)."""


class SkeletonMismatchError(ValidationError):
    """An instance's points do not fit its skeleton, or the skeleton is wrong."""


class TransactionError(LedgerError):
    """A transaction was used wrongly (nested commit, undo inside a transaction...)."""


class ReadOnlyError(LedgerError):
    """A historical view (`labels.at(seq)`) or a read-only ledger was asked to change."""


class IntegrityError(LedgerError):
    """The hash chain does not verify: an event was changed, removed or reordered."""

    def __init__(self, message: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


class EventMismatch(LedgerError):
    """An event does not fit the state it is applied to (a corrupt or foreign log)."""


class ConcurrencyError(LedgerError):
    """Another writer appended first; re-read and retry."""


class PermissionDeniedError(LedgerError):
    """The server refused: the role is not granted this project, may only read,
    named another author, or tried to change a stored event. Nothing was changed."""


class ConflictError(LedgerError):
    """A name already taken (a tag that exists and was not asked to move)."""


class StoreError(LedgerError):
    """A ledger file is not a ledger, is from a newer version, or is damaged."""


class FormatError(LedgerError, ValueError):
    """A SLEAP file (.slp, .json) is malformed; the message names the file."""

    def __init__(self, path: object, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class MissingFileError(FormatError, FileNotFoundError):
    """A file to read does not exist. Both a `FormatError` (what ledger raised
    before) and a ``FileNotFoundError``, so ``except FileNotFoundError`` works as
    it does with SLEAP."""

    def __init__(self, path: object, problem: str = "file does not exist") -> None:
        FormatError.__init__(self, path, problem)
        self.filename = path

    def __str__(self) -> str:  # OSError's would print "[Errno None] None: ..."
        return f"{self.path}: {self.problem}"


class VideoError(LedgerError):
    """A video cannot be opened or a frame cannot be decoded."""
