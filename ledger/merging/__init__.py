"""Merging ledgers: three-way with conflicts as data, state-based without shared
history (see `ledger.merging.merge`)."""

from ledger.merging.conflict import Conflict
from ledger.merging.fork import fork_in_memory
from ledger.merging.merge import merge
from ledger.merging.result import MergeConflictError, MergeResult

__all__ = ["Conflict", "MergeConflictError", "MergeResult", "fork_in_memory", "merge"]
