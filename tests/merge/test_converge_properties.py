"""Property test: forks that edit, undo, redo and merge each other in random
orders converge, keep every change's author, and never ask a conflict twice.

Two or three forks of a random project (each fork its own author) take random
steps: an edit (its own transaction, `test_merge_properties.edit`), an undo, a
redo, or a merge of another fork (conflicts resolved with a random choice).
Then every fork merges every other, in random order, until no merge changes
anything. Checked, independently of the merge code:

- all forks end in the same state;
- every record names the author who made its change: a record replayed from
  elsewhere (``meta["origin"]``) has the author of the record it came from, and
  any other record is its own fork's (or the base's);
- right after A merges B and commits, B merging A asks no conflict (what A
  decided is taken in), and no conflict is ever asked twice between the same
  two forks about the same values.

``LEDGER_PROPERTY_EXAMPLES`` raises the number of examples (default 25, the
same ones every run; with the variable set, random ones).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_merge_properties import build_base, edit

from ledger import Labels
from ledger.core.state import canonical
from ledger.merging import fork_in_memory, merge
from ledger.merging.conflict import plain

AUTHORS = ["ana", "bob", "cy"]
# Skeleton edits (rename/remove/add node) are left out: resolving a node rename
# against its removal does not yet converge (`plan.py` node conflicts), see the
# report of issue 11.
EDITS = ["point", "points", "remove", "add", "track", "suggest", "new_frame"]
SETTINGS = settings(max_examples=int(os.environ.get("LEDGER_PROPERTY_EXAMPLES", "25")),
                    derandomize="LEDGER_PROPERTY_EXAMPLES" not in os.environ,
                    deadline=None, report_multiple_bugs=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Run:
    def __init__(self, forks: list[Labels]) -> None:
        self.forks = forks
        self.asked: set[tuple] = set()

    def merge(self, a: int, b: int, choice: str) -> bool:
        """Merge fork b into fork a; True when it changed a."""
        ours, theirs = self.forks[a], self.forks[b]
        result = merge(ours, theirs)
        for c in result.conflicts:
            key = (frozenset((a, b)), c.kind, c.instance, c.node, c.frame_idx, c.video,
                   frozenset((repr(plain(c.ours)), repr(plain(c.theirs)))))
            assert key not in self.asked, f"asked twice: {c.describe()}"
            self.asked.add(key)
        if result.is_noop:
            return False
        result.resolve_all(choice)
        result.commit(f"{AUTHORS[a]} merges {AUTHORS[b]}")
        back = merge(theirs, ours)
        assert not back.conflicts, [c.describe() for c in back.conflicts]
        return True


def _check_authors(forks: list[Labels], base_head: int) -> None:
    origin_author: dict[str, str] = {}
    for labels in forks:
        for rec in labels.history[base_head:]:
            if "origin" not in rec.meta:
                origin_author.setdefault(rec.hash, rec.author)
    for k, labels in enumerate(forks):
        for rec in labels.history[base_head:]:
            if "origin" in rec.meta:
                first = rec.meta["origin"]
                if first in origin_author:
                    assert rec.author == origin_author[first], (rec, origin_author[first])
            else:
                assert rec.author == AUTHORS[k], rec


def _state(labels: Labels) -> dict:
    """The canonical state, nodes of a skeleton as a set: when both sides add a
    node to one skeleton, each lists its own first (known limitation)."""
    out = canonical(labels.project.state)
    out["skeletons"] = [(s.id, s.name, frozenset(s.nodes), s.edges, s.symmetries)
                        for s in out["skeletons"]]
    return out


@SETTINGS
@given(data=st.data())
def test_forks_converge(data: st.DataObject) -> None:
    base = build_base(data)
    n = data.draw(st.integers(2, 3), label="forks")
    run = Run([fork_in_memory(base, author=AUTHORS[k]) for k in range(n)])
    for _ in range(data.draw(st.integers(1, 14), label="steps")):
        k = data.draw(st.integers(0, n - 1))
        labels = run.forks[k]
        what = data.draw(st.sampled_from(["edit", "edit", "edit", "undo", "redo", "merge"]))
        if what == "edit":
            edit(labels, data, AUTHORS[k], EDITS)
        elif what == "undo":
            top = next(labels.project.ledger.undo_stack(), None)
            if top is not None and top.tx > base.project.last_tx:  # keep the base
                labels.undo()
                # an undone merge is un-merged: its conflicts may be asked again
                run.asked = {key for key in run.asked if k not in key[0]}
        elif what == "redo":
            labels.redo()
        else:
            other = data.draw(st.sampled_from([j for j in range(n) if j != k]))
            run.merge(k, other, data.draw(st.sampled_from(["ours", "theirs", "both"])))
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    for _ in range(6):
        order = data.draw(st.permutations(pairs))
        if not any([run.merge(a, b, "theirs") for a, b in order]):
            break
    else:
        raise AssertionError("merging back and forth never went quiet")
    states = [_state(f) for f in run.forks]
    assert all(s == states[0] for s in states[1:])
    _check_authors(run.forks, base.project.head)
