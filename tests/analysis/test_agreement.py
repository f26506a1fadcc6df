"""Agreement between annotators and consensus of several (issue 11, "go beyond")."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from click.testing import CliRunner

import ledger
from ledger import Instance, LabeledFrame, Labels, Skeleton, Track, Video
from ledger.cli.commands import main
from ledger.core.state import canonical
from ledger.merging import fork_in_memory

CLIP = os.path.join(os.path.dirname(__file__), "..", "data", "tracks", "clip.slp")


def two_node() -> tuple[Skeleton, Video]:
    return Skeleton.from_names_and_edge_inds(["head", "tail"], [(0, 1)]), \
        Video.from_filename("/lab/v.mp4")


def project(frames: dict[int, list[np.ndarray]], tracks: dict[int, list[str]] | None = None
            ) -> Labels:
    skel, video = two_node()
    labels = Labels()
    made: dict[str, Track] = {}
    for f, insts in frames.items():
        names = (tracks or {}).get(f, [None] * len(insts))
        labels.append(LabeledFrame(video, f, [
            Instance.from_numpy(p, skel, track=None if t is None else made.setdefault(
                t, Track(0, t))) for p, t in zip(insts, names, strict=True)]))
    return labels


def test_hand_computed_example() -> None:
    # frame 0: a's box is 100 × 100 (area 10,000); b moved the head by (3, 4) = 5 px.
    # OKS = (exp(-25 / (2 · 0.05² · 10,000)) + 1) / 2 = (exp(-0.5) + 1) / 2.
    a = project({0: [np.array([[0.0, 0], [100, 100]])], 1: [np.array([[5.0, 5], [9, 9]])]})
    b = project({0: [np.array([[3.0, 4], [100, 100]])], 2: [np.array([[5.0, 5], [9, 9]])]})
    ag = ledger.agreement(a, b)
    assert isinstance(ag, ledger.Agreement)
    assert (ag.matched, ag.only_in_a, ag.only_in_b) == (1, 1, 1)
    assert (ag.frames_a, ag.frames_b, ag.frames_both) == (2, 2, 1)
    assert ag.mean_oks == pytest.approx((math.exp(-0.5) + 1) / 2)
    head, tail = ag.nodes["head"], ag.nodes["tail"]
    assert head["p50"] == pytest.approx(5.0) and tail["p99"] == pytest.approx(0.0)
    assert head["pck"] == {1: 0.0, 2: 0.0, 5: 0.0, 10: 1.0}   # 5 px is not < 5 px
    assert tail["pck"] == {1: 1.0, 2: 1.0, 5: 1.0, 10: 1.0}
    assert ag.pck(5) == pytest.approx(0.5)
    d = ag.to_dict()
    json.dumps(d)
    assert d["nodes"]["head"]["pck"]["10"] == 1.0 and d["worst"][0]["video"] == "v.mp4"
    # per-node sigma: a wider spread for the head forgives more
    wide = ledger.agreement(a, b, sigma=[0.1, 0.025])
    assert wide.mean_oks == pytest.approx((math.exp(-25 / (2 * 0.2 ** 2 * 10_000)) + 1) / 2)


def test_missing_points_and_visibility() -> None:
    a = project({0: [np.array([[0.0, 0], [100, 100]])]})
    b = project({0: [np.array([[np.nan, np.nan], [100, 100]])]})
    ag = ledger.agreement(a, b)
    assert ag.mean_oks == pytest.approx(0.5)        # a's head has no partner: KS 0
    assert ag.nodes["head"]["n"] == 0 and ag.nodes["head"]["visible_only_a"] == 1
    assert ag.nodes["head"]["pck"][10] == 0.0        # visible on one side: a miss
    # the other way round, b's missing node is not in a's OKS denominator
    assert ledger.agreement(b, a).mean_oks == pytest.approx(1.0)


def test_matches_by_track_when_both_tracked() -> None:
    p, q = np.array([[0.0, 0], [50, 50]]), np.array([[200.0, 200], [250, 250]])
    a = project({0: [p, q]}, {0: ["m", "f"]})
    swapped = project({0: [p + 1, q + 1]}, {0: ["f", "m"]})   # identities swapped
    ag = ledger.agreement(a, swapped)
    assert ag.matched == 0 and ag.only_in_a == 2                   # far apart, OKS ~0
    untracked = project({0: [q + 1, p + 1]})                       # by OKS, not order
    ag = ledger.agreement(a, untracked)
    assert ag.matched == 2 and ag.mean_oks == pytest.approx(math.exp(-2 / 12.5))
    assert sorted(w["track"] for w in ag.worst()) == ["f", "m"]
    assert ag.nodes["head"]["p50"] == pytest.approx(math.sqrt(2))


def _reference_oks(gt: np.ndarray, pr: np.ndarray, sigma: float) -> float:
    """COCO/SLEAP OKS written out point by point, independently of the library."""
    vis = [k for k in range(len(gt)) if not math.isnan(gt[k, 0])]
    xs, ys = [gt[k, 0] for k in vis], [gt[k, 1] for k in vis]
    area = (max(xs) - min(xs)) * (max(ys) - min(ys))
    total = 0.0
    for k in vis:
        if math.isnan(pr[k, 0]):
            continue
        d2 = (gt[k, 0] - pr[k, 0]) ** 2 + (gt[k, 1] - pr[k, 1]) ** 2
        total += math.exp(-d2 / (2 * (2 * sigma) ** 2 * (area + np.spacing(1))))
    return total / len(vis)


def test_oks_agrees_with_an_independent_computation() -> None:
    rng = np.random.default_rng(7)
    truth = rng.random((60, 2, 2)) * 300
    noisy = truth + rng.normal(0, 4, truth.shape)
    noisy[rng.random(60) < 0.2, 1] = np.nan
    a = project({f: [truth[f]] for f in range(60)})
    b = project({f: [noisy[f]] for f in range(60)})
    ag = ledger.agreement(a, b, sigma=0.05)
    by_frame = dict(zip(ag.pairs["frame_idx"].tolist(), ag.oks.tolist(), strict=True))
    expected = {f: _reference_oks(truth[f], noisy[f], 0.05) for f in range(60)}
    matched = {f for f, v in expected.items() if v > 0}
    assert set(by_frame) == matched
    for f in matched:
        assert by_frame[f] == pytest.approx(expected[f], rel=1e-9, abs=1e-12)
    dists = np.hypot(*(truth - noisy).transpose(2, 0, 1))
    tail = dists[:, 1][~np.isnan(dists[:, 1])]
    assert ag.nodes["tail"]["p90"] == pytest.approx(np.percentile(tail, 90))


def test_versions_files_and_ledgers_agree(tmp_path) -> None:
    clip = ledger.load_file(CLIP)
    edited = fork_in_memory(clip)
    insts = [lf.instances[0] for lf in list(edited)[:20]]
    for inst in insts:
        edited.set_point(inst, "head", inst["head"].x + 3, inst["head"].y + 4)
    ag = ledger.agreement(clip, edited)
    assert ag.matched == 3000 and ag.only_in_a == ag.only_in_b == 0
    assert ag.nodes["head"]["pck"][5] == pytest.approx(1 - 20 / 3000)
    assert ag.nodes["thorax"]["p99"] == 0.0
    assert ledger.agreement(edited.at(clip.project.head), edited).to_dict() == ag.to_dict()
    edited.save(str(tmp_path / "b.slp"))
    from_files = ledger.agreement(CLIP, str(tmp_path / "b.slp"))
    assert from_files.summary() == ag.summary()
    assert from_files.nodes["head"] == ag.nodes["head"]


def test_agree_cli(tmp_path) -> None:
    a = project({0: [np.array([[0.0, 0], [100, 100]])]})
    b = project({0: [np.array([[3.0, 4], [100, 100]])]})
    a.save(str(tmp_path / "a.slp"))
    b.save(str(tmp_path / "b.slp"))
    runner = CliRunner()
    out = runner.invoke(main, ["agree", str(tmp_path / "a.slp"), str(tmp_path / "b.slp"),
                               "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["matched"] == 1 and d["nodes"]["head"]["p50"] == 5.0
    text = runner.invoke(main, ["agree", str(tmp_path / "a.slp"), str(tmp_path / "b.slp")])
    assert text.exit_code == 0 and "head" in text.output and "PCK@5" in text.output
    bad = runner.invoke(main, ["agree", str(tmp_path / "a.slp"), str(tmp_path / "none")])
    assert bad.exit_code == 1 and "error" in bad.output


# --------------------------------------------------------------------- consensus


def noisy_copies(rng: np.random.Generator, n_frames: int = 40) -> tuple[np.ndarray, list]:
    truth = rng.random((n_frames, 2, 5, 2)) * 100 + np.array([[[0, 0]], [[400, 400]]])
    skel = Skeleton.from_names_and_edge_inds([f"n{k}" for k in range(5)], [(0, 1)])
    video = Video.from_filename("/lab/session.mp4")
    copies = []
    for who in ("ana", "bob", "cy"):
        labels = Labels(author=who)
        pts = truth + rng.normal(0, 3, truth.shape)
        tracks = [Track(0, "m"), Track(0, "f")]
        for f in range(n_frames):
            insts = [Instance.from_numpy(pts[f, k], skel, track=tracks[k]) for k in range(2)
                     if not (who == "cy" and f == 0 and k == 1)]   # cy missed one animal
            labels.append(LabeledFrame(video, f, insts))
        copies.append(labels)
    return truth, copies


def _error(labels: Labels, truth: np.ndarray) -> float:
    errs = []
    for lf in labels:
        for inst in lf.user_instances:
            k = 0 if inst.track.name == "m" else 1
            errs.append(np.hypot(*(inst.numpy() - truth[lf.frame_idx, k]).T))
    return float(np.mean(np.concatenate(errs)))


@pytest.mark.parametrize("method", ["medoid", "median"])
def test_consensus_lands_closer_to_truth_than_any_annotator(method: str) -> None:
    truth, copies = noisy_copies(np.random.default_rng(11))
    into = fork_in_memory(copies[0])
    before, n_tx = canonical(into._state), len(into.history)
    result = ledger.consensus(copies, into, method=method, names=["ana", "bob", "cy"])
    assert isinstance(result, ledger.MergeResult) and result.committed_tx
    assert len(into.history) > n_tx and into.history[-1].meta["consensus"]["method"] == method
    assert len({r.tx for r in into.history[n_tx:]}) == 1          # one transaction
    singles = [_error(c, truth) for c in copies]
    assert _error(into, truth) < min(singles)
    info = into.history[-1].meta["consensus"]
    assert len(info["instances"]) == 80
    missed = [i for i in info["instances"] if i["frame_idx"] == 0 and i["votes"] == 2]
    assert len(missed) == 1 and missed[0]["annotators"] == ["ana", "bob"]
    assert missed[0]["score"] < max(i["score"] for i in info["instances"])
    assert all(0 < i["score"] <= 1 for i in info["instances"])
    assert into.undo() and canonical(into._state) == before


def test_consensus_cli(tmp_path) -> None:
    _, copies = noisy_copies(np.random.default_rng(2), n_frames=5)
    paths = []
    for k, c in enumerate(copies):
        paths.append(str(tmp_path / f"s{k}.slp"))
        c.save(paths[-1])
    runner = CliRunner()
    assert runner.invoke(main, ["import", paths[0], str(tmp_path / "into.ledger")]).exit_code == 0
    out = runner.invoke(main, ["consensus", str(tmp_path / "into.ledger"), *paths, "--json"])
    assert out.exit_code == 0, out.output
    d = json.loads(out.output)
    assert d["tx"] and len(d["instances"]) == 10 and d["annotators"] == ["s0.slp", "s1.slp",
                                                                         "s2.slp"]
    assert runner.invoke(main, ["consensus", str(tmp_path / "into.ledger"),
                                paths[0]]).exit_code != 0
