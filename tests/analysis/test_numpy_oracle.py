"""`labels.numpy()` against sleap-io 0.9.5's `Labels.numpy()` (the oracle).

Every real file in tests/data (copies of ../shared/data/sleap) and random tracked,
untracked and single-instance projects, saved once and read by both libraries;
then the same after edits made here (instances added to existing frames take
another path through the state's tables)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sio_projects import REAL_SLP, random_project, single_instance_project

import ledger
from ledger import Labels
from ledger.errors import NotFoundError, ValidationError

OPTIONS = [dict(untracked=u, return_confidence=c) for u in (False, True) for c in (False, True)]


def _sio_load(path):
    import sleap_io as sio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sio.load_slp(str(path))


def _same(ours: np.ndarray, theirs: np.ndarray) -> None:
    assert ours.dtype == theirs.dtype == np.float32
    assert ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)  # NaN == NaN here


@pytest.mark.parametrize("path", REAL_SLP, ids=lambda p: p.split("data/")[-1])
def test_numpy_equals_sleap_io_on_real_files(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = Labels.load_file(path)
    theirs = _sio_load(path)
    for opts in OPTIONS:
        _same(ours.numpy(**opts), theirs.numpy(**opts))


def _both(tmp_path, sio_labels, name="p.slp"):
    path = tmp_path / name
    sio_labels.save(str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ledger.load_file(path), _sio_load(path)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("tracked", [True, False], ids=["tracked", "untracked"])
def test_numpy_equals_sleap_io_on_generated_projects(tmp_path, seed, tracked):
    ours, theirs = _both(tmp_path, random_project(seed, tracked))
    for opts in OPTIONS:
        _same(ours.numpy(**opts), theirs.numpy(**opts))


def test_numpy_single_instance_project_prefers_user_instances(tmp_path):
    ours, theirs = _both(tmp_path, single_instance_project(3))
    for opts in OPTIONS:
        _same(ours.numpy(**opts), theirs.numpy(**opts))
    assert ours.numpy().shape[1] == 1


@pytest.mark.parametrize("seed", range(3))
def test_numpy_after_edits_equals_sleap_io_of_the_saved_file(tmp_path, seed):
    ours, _ = _both(tmp_path, random_project(seed, tracked=True))
    skel, video = ours.skeleton, ours.video
    rng = np.random.default_rng(seed)
    frames = list(ours)
    for lf in frames[::5]:  # add to existing frames: rows outside the frame's block
        ours.add_instance(lf, ledger.Instance.from_numpy(rng.random((4, 2)), skel,
                                                         track=ours.tracks[1]))
    for lf in frames[1::7]:
        if lf.instances:
            ours.remove_instance(lf, lf.instances[0])
    ours.append(ledger.LabeledFrame(video, 500, [ledger.PredictedInstance.from_numpy(
        rng.random((4, 2)), rng.random(4), 0.9, skel, track=ours.tracks[0])]))
    saved = tmp_path / "edited.slp"
    ours.save(str(saved))
    theirs = _sio_load(saved)
    for opts in OPTIONS:
        _same(ours.numpy(**opts), theirs.numpy(**opts))


def test_numpy_all_frames_false_starts_at_first_labelled_frame(tmp_path):
    ours, theirs = _both(tmp_path, random_project(1, tracked=True))
    first = min(lf.frame_idx for lf in ours)
    np.testing.assert_array_equal(ours.numpy(all_frames=False), theirs.numpy()[first:])


def test_numpy_video_argument(tmp_path):
    ours, _ = _both(tmp_path, random_project(2, tracked=True))
    np.testing.assert_array_equal(ours.numpy(video=0), ours.numpy(video=ours.video))
    with pytest.raises(NotFoundError):
        ours.numpy(video=3)
    with pytest.raises(ValidationError):
        ours.numpy(video="clip.mp4")
    with pytest.raises(ValidationError):
        Labels().numpy()
