"""Semantic diffs between versions of a project (see `ledger.diffing.diff`)."""

from ledger.diffing.changes import Changes, Scope, compare
from ledger.diffing.diff import Diff, diff
from ledger.diffing.patch import Patch, PatchError, events_for

__all__ = ["Changes", "Diff", "Patch", "PatchError", "Scope", "compare", "diff", "events_for"]
