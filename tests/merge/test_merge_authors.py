"""Issue 11 items 1-3 on a real project: two annotators fork `tracks/clip.slp`
(1,500 frames, 2 flies, 13 nodes), edit, and merge.

1. every merged-in change keeps its author through any number of merges
   (`blame`, `history`, `undo(author=...)`);
2. undoing a merge and merging the same fork again brings the changes back;
3. after A merges B and resolves conflicts, B merging A asks nothing again and
   both end in the same state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger import Labels, load_file
from ledger.core.state import canonical
from ledger.merging import fork_in_memory, merge

CLIP = Path(__file__).parent.parent / "data" / "tracks" / "clip.slp"


@pytest.fixture(scope="module")
def clip() -> Labels:
    return load_file(str(CLIP))


@pytest.fixture
def forks(clip: Labels) -> tuple[Labels, Labels]:
    return fork_in_memory(clip, author="ana"), fork_in_memory(clip, author="bob")


def _move(labels: Labels, frame: int, node: str, dx: float, inst: int = 0) -> None:
    instance = labels[frame].instances[inst]
    p = instance[node]
    labels.set_point(instance, node, p.x + dx, p.y)


def _authors(labels: Labels, frame: int) -> list[str]:
    return [row["last_changed"]["author"] for row in labels.blame(labels.video, frame)]


def test_merged_changes_keep_their_authors(forks: tuple[Labels, Labels]) -> None:
    ana, bob = forks
    _move(ana, 10, "head", 5)
    _move(bob, 20, "head", 7)
    _move(bob, 30, "thorax", 3)
    result = merge(ana, bob)
    assert not result.conflicts
    result.commit("merge bob")
    assert _authors(ana, 20)[0] == "bob" and _authors(ana, 30)[0] == "bob"
    assert _authors(ana, 10)[0] == "ana"
    last = [rec for rec in ana.history][-4:]
    assert [r.author for r in last] == ["ana", "bob", "bob", "ana"]
    assert [r.tx_kind for r in last][-1] == "merge"
    # bob's messages and times travel with his changes
    assert [r.time for r in last[1:3]] == [r.time for r in bob.history[-2:]]
    # undo(author="bob") finds bob's newest change in ana's ledger
    x_before = bob.project.at(bob.project.head - 2)
    assert ana.undo(author="bob")
    assert ana[30].instances[0]["thorax"].x == pytest.approx(
        ana[30].instances[0]["thorax"].x)  # readable
    assert ana.history[-1].tx_kind == "undo"
    assert canonical(x_before)["videos"] == canonical(ana.project.state)["videos"]


def test_authors_survive_a_chain_of_merges(clip: Labels) -> None:
    """bob → carl → ana: ana's ledger still names bob for bob's edit."""
    ana, bob, carl = (fork_in_memory(clip, author=a) for a in ("ana", "bob", "carl"))
    _move(bob, 40, "head", 4)
    merge(carl, bob).commit("carl takes bob")
    _move(carl, 41, "head", 4)
    merge(ana, carl).commit("ana takes carl")
    assert _authors(ana, 40)[0] == "bob" and _authors(ana, 41)[0] == "carl"
    # and back: bob merging ana takes carl's change, not his own again
    merge(bob, ana).commit("bob takes ana")
    assert _authors(bob, 41)[0] == "carl"
    assert canonical(bob.project.state) == canonical(ana.project.state)


def test_undo_then_remerge_brings_changes_back(forks: tuple[Labels, Labels]) -> None:
    ana, bob = forks
    _move(bob, 50, "head", 6)
    _move(bob, 51, "head", 6)
    before = canonical(ana.project.state)
    result = merge(ana, bob)
    result.commit("merge bob")
    merged = canonical(ana.project.state)
    for _ in result.transactions:
        ana.undo()
    assert canonical(ana.project.state) == before
    _move(ana, 52, "head", 1)  # something edited after the undo
    again = merge(ana, bob)
    assert again.events, "the undone merge must not count as merged"
    again.commit("merge bob again")
    assert ana[50].instances[0]["head"].x == merged_x(merged, bob, 50)
    assert _authors(ana, 51)[0] == "bob" and _authors(ana, 52)[0] == "ana"


def merged_x(_: dict, bob: Labels, frame: int) -> float:
    return bob[frame].instances[0]["head"].x


def test_replicas_converge_after_resolving(forks: tuple[Labels, Labels]) -> None:
    ana, bob = forks
    for frame in range(60, 66):  # six point conflicts
        _move(ana, frame, "head", 2)
        _move(bob, frame, "head", -2)
    _move(ana, 70, "head", 1)
    _move(bob, 71, "head", 1)
    result = merge(ana, bob)
    assert len(result.conflicts) == 6
    result.resolve(result.conflicts[:3], "ours")
    result.resolve(result.conflicts[3:], "theirs")
    result.commit("merge bob")
    meta = ana.history[-1].meta["merge"]
    assert {r["author"] for r in meta["resolutions"]} == {"ana"}
    assert len(meta["absorbed"]) == 6  # bob's conflicting edits, decided
    back = merge(bob, ana)
    assert back.conflicts == []
    back.commit("take ana's merge")
    assert canonical(bob.project.state) == canonical(ana.project.state)
    for a, b in ((ana, bob), (bob, ana), (ana, bob)):
        again = merge(a, b)
        assert not again.conflicts and not again.events
    # bob's own clean edit is still bob's on ana's side, ana's on bob's side
    assert _authors(ana, 71)[0] == "bob" and _authors(bob, 70)[0] == "ana"


def test_undo_and_redo_travel_with_a_merge(forks: tuple[Labels, Labels]) -> None:
    ana, bob = forks
    _move(bob, 80, "head", 9)
    merge(ana, bob).commit("merge bob")
    bob.undo()  # bob takes his edit back
    result = merge(ana, bob)
    result.commit("merge bob's undo")
    assert ana[80].instances[0]["head"].x == bob[80].instances[0]["head"].x
    undo_rec = [r for r in ana.history if r.tx_kind == "undo"][-1]
    assert undo_rec.author == "bob"
    bob.redo()
    merge(ana, bob).commit("merge bob's redo")
    assert canonical(ana.project.state) == canonical(bob.project.state)
