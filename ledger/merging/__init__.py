"""Merging ledgers: three-way with conflicts as data, state-based without shared
history (see `ledger.merging.merge`).

Example::

    from ledger.merging import merge
    result = merge(ours, theirs)
    print(result.conflicts[0].describe())
"""

from functools import wraps
from typing import Any

from ledger.merging.conflict import Conflict, label_conflicts
from ledger.merging.fork import fork_in_memory
from ledger.merging.merge import merge as _merge
from ledger.merging.result import MergeConflictError, MergeResult


@wraps(_merge)
def merge(ours: Any, theirs: Any, *args: Any, **kwargs: Any) -> MergeResult:
    result = _merge(ours, theirs, *args, **kwargs)
    if result.conflicts:
        fork_seq = result.info.get("fork_seq")
        base = ours.project.at(fork_seq) if fork_seq else None
        label_conflicts(result.conflicts, ours.project.state, theirs.project.state, base)
    return result


__all__ = ["Conflict", "MergeConflictError", "MergeResult", "fork_in_memory", "label_conflicts",
           "merge"]
