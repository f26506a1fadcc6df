"""The ``diff`` and ``merge`` commands on files."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from ledger import Instance, LabeledFrame, Labels, Skeleton, Video
from ledger.cli.merge import diff_command, merge_command


def _labels(shift: float, extra: bool) -> Labels:
    skel = Skeleton.from_names_and_edge_inds(["a", "b"], [(0, 1)])
    video = Video.from_filename("/x/v.mp4")
    pts = np.array([[1.0, 2.0], [3.0, 4.0]])
    labels = Labels()
    labels.append(LabeledFrame(video, 0, [Instance.from_numpy(pts + shift, skel)]))
    if extra:
        labels.append(LabeledFrame(video, 3, [Instance.from_numpy(pts, skel)]))
    return labels


def test_diff_command_json(tmp_path) -> None:
    a, b = tmp_path / "a.slp", tmp_path / "b.slp"
    _labels(0, False).save(str(a))
    _labels(0, True).save(str(b))
    out = CliRunner().invoke(diff_command, [str(a), str(b), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["summary"]["frames_added"] == 1
    text = CliRunner().invoke(diff_command, [str(a), str(b)])
    assert text.exit_code == 0 and "frames added" in text.output


def test_merge_command_exit_codes(tmp_path) -> None:
    import ledger

    if not hasattr(ledger, "open"):
        return  # durable ledgers come from the store layer
    ours_path = tmp_path / "ours.ledger"
    theirs = tmp_path / "theirs.slp"
    _labels(5, True).save(str(theirs))
    with ledger.open(str(ours_path), author="ana") as ours:
        with ours.transaction("seed"):
            for lf in _labels(0, False).labeled_frames:
                ours.append(LabeledFrame(lf.video, lf.frame_idx, list(lf.instances)))
    dry = CliRunner().invoke(merge_command, [str(ours_path), str(theirs), "--dry-run"])
    assert dry.exit_code == 1 and "frame conflict" in dry.output
    done = CliRunner().invoke(merge_command, [str(ours_path), str(theirs), "--prefer", "theirs"])
    assert done.exit_code == 0, done.output
    with ledger.open(str(ours_path)) as merged:
        assert len(merged) == 2
