"""``ledger demo``: the main job, end to end, on the bundled SLEAP sample.

Loads a real SLEAP file, makes it a durable ledger, edits it as two people,
undoes one person's change without touching the other's, shows the history, the
audit trail of a frame and the chain check; forks it for a third person, merges
the fork back with its conflict shown as data, diffs the result, then writes a
`.slp` that SLEAP and sleap-io open, and reloads it.
"""

from __future__ import annotations

import os
import time

from rich.console import Console
from rich.table import Table

import ledger
from ledger.project.project import Project
from ledger.samples import DANCE
from ledger.sleap.labels import Labels


def _summary(labels: Labels, title: str) -> Table:
    table = Table(title=title)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, value in (("videos", len(labels.videos)), ("frames", len(labels)),
                        ("user instances", len(labels.user_instances)),
                        ("predicted instances", len(labels.predicted_instances)),
                        ("nodes", len(labels.skeleton.nodes)),
                        ("events", len(labels.history))):
        table.add_row(name, f"{value:,}")
    return table


def run_demo(folder: str, console: Console) -> None:
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "dance.ledger")
    if os.path.exists(path):
        os.remove(path)
    t0 = time.perf_counter()
    labels = Labels.load_file(DANCE, project=Project.open(path, author="alice"))
    console.print(f"imported {DANCE.name} in {(time.perf_counter() - t0) * 1e3:.0f} ms")
    console.print(_summary(labels, f"{path}"))

    lf = labels.user_labeled_frames[0]
    frame_idx = lf.frame_idx
    inst = lf.user_instances[0]
    node = labels.skeleton.node_names[0]
    with labels.transaction("alice nudges the nose"):
        p = inst[node]
        labels.set_point(inst, node, p.x + 2.0, p.y - 1.0)
    labels.add_suggestion(labels.video, 100)
    labels.close()

    bob = ledger.open(path, author="bob")
    pred = bob.find_first(bob.video, 10).predicted_instances[0]
    bob.remove_instance(bob.find_first(bob.video, 10), pred)
    frame = bob.find_first(bob.video, frame_idx)
    bob.track_set_instance(frame, frame.user_instances[0], ledger.Track(name="dancer"))
    console.print(f"bob undoes his own last change: {bob.undo(author='bob')}")
    console.print(f"alice's nudge is still there: {frame.user_instances[0][node]}")

    table = Table(title="history (newest first)")
    for col in ("seq", "tx", "author", "kind", "message"):
        table.add_column(col)
    for rec in reversed(bob.history[-8:]):
        table.add_row(str(rec.seq), str(rec.tx), rec.author,
                      rec.kind + ("" if rec.tx_kind == "do" else f" ({rec.tx_kind})"),
                      rec.message)
    console.print(table)
    for row in bob.blame(bob.video, frame_idx):
        last = row["last_changed"]
        console.print(f"blame frame {frame_idx} #{row['index']} {row['kind']}: last changed "
                      f"by {last['author']} in '{last['message']}' (seq {last['seq']})")
    console.print(f"verify: {bob.verify()} events, head {bob.head_hash()[:16]}")

    carol_path = os.path.join(folder, "carol.ledger")
    if os.path.exists(carol_path):
        os.remove(carol_path)
    bob.fork(carol_path).close()                 # carol's copy shares the history
    carol = ledger.open(carol_path, author="carol")
    before_merge = bob.project.head
    for who, x in ((bob, 10.0), (carol, 20.0)):  # both move the same point
        inst20 = who.find_first(who.video, 20).instances[0]
        who.set_point(inst20, node, x, x)
    carol.add_suggestion(carol.video, 300)       # and carol adds a suggestion
    result = ledger.merge(bob, carol)
    for conflict in result.conflicts:
        console.print(f"conflict: {conflict.describe()}")
    result.resolve_all("theirs")
    result.commit("merge carol's session")
    changes = ledger.diff(bob.at(before_merge), bob).summary()
    console.print("merge changed: " + ", ".join(f"{k}={v}" for k, v in changes.items() if v))
    carol.close()

    out = os.path.join(folder, "dance.edited.slp")
    bob.save(out)
    again = Labels.load_file(out)
    console.print(f"wrote {out}: {len(again)} frames, "
                  f"{len(again.all_instances)} instances (reloaded)")
    bob.close()
