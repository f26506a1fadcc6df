"""Issue 11 items 6 and 10: readable conflicts with stable ids, per-conflict CLI
resolution, `ledger fork --author`, blame of removed instances by video name."""

from __future__ import annotations

import numpy as np
from click.testing import CliRunner

import ledger
from ledger import Instance, LabeledFrame, Labels, Skeleton, Track, Video
from ledger.cli.commands import main
from ledger.merging import fork_in_memory, merge

PTS = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])


def base() -> Labels:
    skel = Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1)])
    video = Video.from_filename("/lab/clip.mp4")
    labels = Labels(author="base")
    labels.append(LabeledFrame(video, 0, [Instance.from_numpy(PTS, skel, track=Track(0, "m"))]))
    labels.append(LabeledFrame(video, 1, [Instance.from_numpy(PTS, skel),
                                          Instance.from_numpy(PTS + 9, skel)]))
    return labels


def conflicting(b: Labels) -> tuple[Labels, Labels]:
    o, t = fork_in_memory(b, author="ana"), fork_in_memory(b, author="bob")
    o.set_point(o[0].instances[0], "a", 10, 20)
    t.set_point(t[0].instances[0], "a", 11, 21)
    o.remove_instance(o[1], o[1].instances[1])
    t.set_point(t[1].instances[1], "b", 50, 60)
    return o, t


def test_describe_names_everything_and_ids_are_stable() -> None:
    b = base()
    o, t = conflicting(b)
    result = merge(o, t)
    by_kind = {c.kind: c for c in result.conflicts}
    point = by_kind["point"].describe()
    for text in ("clip.mp4 frame 0", "track 'm'", "instance #0", "node 'a'",
                 "base x=1, y=2, visible", "ours x=10, y=20", "(by ana)",
                 "theirs x=11, y=21", "(by bob)", by_kind["point"].id):
        assert text in point, (text, point)
    gone = by_kind["removed_edited"].describe()
    assert "frame 1" in gone and "instance #1" in gone and "edited: b moved" in gone
    d = by_kind["point"].to_dict()
    assert d["ours"][:2] == [10.0, 20.0]
    # set_point leaves complete False by default, as SLEAP's Point(x, y) (issue 11 item 5)
    assert d["values"]["ours"] == {"x": 10.0, "y": 20.0, "visible": 1.0, "complete": 0.0,
                                   "score": 0.0}
    assert d["video"] == "/lab/clip.mp4" and d["track"] == "m" and d["instance_index"] == 0
    ids = [c.id for c in result.conflicts]
    assert all(len(i) == 8 and int(i, 16) >= 0 for i in ids) and len(set(ids)) == len(ids)
    assert [c.id for c in merge(o, t).conflicts] == ids        # same merge, same ids


def test_diff_and_merge_json_name_videos_the_same_way() -> None:
    o, t = conflicting(base())
    conflicts = merge(o, t).to_dict()["conflicts"]
    frames = ledger.diff(o, t).to_dict()["frames"]
    assert {c["video"] for c in conflicts} == {f["video"] for f in frames} == {"/lab/clip.mp4"}


def test_cli_resolves_each_conflict_and_says_what_to_do(tmp_path) -> None:
    runner = CliRunner()
    b = base()
    ours = ledger.fork(b, str(tmp_path / "ours.ledger"), "ana")
    assert ours.author == "ana"
    theirs = ours.fork(str(tmp_path / "theirs.ledger"), author="bob")
    assert theirs.author == "bob"
    ours.set_point(ours[0].instances[0], "a", 10, 20)
    theirs.set_point(theirs[0].instances[0], "a", 11, 21)
    ours.remove_instance(ours[1], ours[1].instances[1])
    theirs.set_point(theirs[1].instances[1], "b", 50, 60)
    ids = {c.kind: c.id for c in merge(ours, theirs).conflicts}
    ours.close()
    theirs.close()
    args = ["merge", str(tmp_path / "ours.ledger"), str(tmp_path / "theirs.ledger")]
    first = runner.invoke(main, args)
    assert first.exit_code == 1
    assert "nothing committed" in first.output and "--resolve" in first.output
    assert ids["point"] in first.output
    capped = runner.invoke(main, [*args, "--limit", "1"])
    assert "and 1 more" in capped.output
    bad = runner.invoke(main, [*args, "--resolve", "ffffffff=ours"])
    assert bad.exit_code == 1 and "no conflict" in bad.output
    half = runner.invoke(main, [*args, "--resolve", f"{ids['point']}=12.5,30"])
    assert half.exit_code == 1 and "1 unresolved" in half.output
    done = runner.invoke(main, [*args, "--resolve", f"{ids['point']}=12.5,30", "--prefer",
                                "theirs"])
    assert done.exit_code == 0, done.output
    merged = ledger.open(str(tmp_path / "ours.ledger"))
    head = merged[0].instances[0]["a"]
    assert (head.x, head.y) == (12.5, 30.0)
    assert len(merged[1].instances) == 2                      # theirs' edit kept it
    merged.close()


def test_fork_cli_and_blame_of_removed_instances_by_video_name(tmp_path) -> None:
    runner = CliRunner()
    src = tmp_path / "p.ledger"
    labels = ledger.open(str(src), author="ana")
    video = Video.from_filename("/lab/clip.mp4")
    for lf in base():
        labels.append(LabeledFrame(video, lf.frame_idx,
                                   [Instance.from_numpy(i.numpy(), labels.skeleton if
                                                        labels.skeletons else i.skeleton)
                                    for i in lf.instances]))
    labels.close()
    out = runner.invoke(main, ["fork", str(src), str(tmp_path / "bob.ledger"), "--author", "bob"])
    assert out.exit_code == 0 and "as bob" in out.output, out.output
    bob = ledger.open(str(tmp_path / "bob.ledger"), author="bob")
    bob.remove_instance(bob[1], bob[1].instances[0])
    rows = bob.blame("clip.mp4", 1)
    assert [r["index"] for r in rows] == [0, None]
    assert rows[1]["removed"]["author"] == "bob" and rows[1]["created"]["author"] == "ana"
    bob.close()
    text = runner.invoke(main, ["blame", str(tmp_path / "bob.ledger"), "clip.mp4", "1"])
    assert text.exit_code == 0 and "(removed)" in text.output and "bob" in text.output
    by_index = runner.invoke(main, ["blame", str(tmp_path / "bob.ledger"), "0", "1"])
    assert by_index.exit_code == 0 and "(removed)" in by_index.output
    missing = runner.invoke(main, ["blame", str(tmp_path / "bob.ledger"), "nope.mp4", "1"])
    assert missing.exit_code != 0 and "clip.mp4" in missing.output
