"""Videos next to the labels file are found, as SLEAP and sleap-io find them
(issue 12, item 3)."""

from __future__ import annotations

import os
import shutil
import warnings

import pytest
from sio_projects import DATA

import ledger
from ledger import Labels

CLIP = os.path.join(DATA, "tracks", "clip.2node.slp")  # stores "tests/data/tracks\\clip.mp4"
MP4 = os.path.join(DATA, "videos", "small_robot_3_frame.mp4")


def _load(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ledger.load_file(*args, **kwargs)


@pytest.fixture
def moved(tmp_path):
    """A real file copied away from its video, and the video put beside it."""
    folder = tmp_path / "project"
    folder.mkdir()
    shutil.copy(CLIP, folder / "clip.2node.slp")
    return folder


def test_stored_path_is_elsewhere():
    labels = _load(CLIP)
    assert labels.video.filename.replace("\\", "/") == "tests/data/tracks/clip.mp4"
    assert labels.video.is_missing


def test_video_next_to_the_file_is_found(moved):
    shutil.copy(MP4, moved / "clip.mp4")
    for load in (ledger.load_file, Labels.load_file):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels = load(str(moved / "clip.2node.slp"))
        assert labels.video.filename == str(moved / "clip.mp4")
        assert not labels.video.is_missing
        assert labels.video.shape[0] == 3  # the video opens


def test_own_folder_comes_before_video_search(moved, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(MP4, other / "clip.mp4")
    labels = _load(moved / "clip.2node.slp", video_search=[str(other)])
    assert labels.video.filename == str(other / "clip.mp4")  # not beside: search path
    shutil.copy(MP4, moved / "clip.mp4")
    labels = _load(moved / "clip.2node.slp", video_search=str(other))
    assert labels.video.filename == str(moved / "clip.mp4")  # beside wins


def test_full_path_in_video_search_replaces_by_position(moved, tmp_path):
    target = tmp_path / "renamed.mp4"
    shutil.copy(MP4, target)
    labels = _load(moved / "clip.2node.slp", video_search=[str(target)])
    assert labels.video.filename == str(target)


def test_nothing_found_keeps_the_stored_path(moved):
    labels = _load(moved / "clip.2node.slp")
    assert labels.video.filename.replace("\\", "/") == "tests/data/tracks/clip.mp4"


def test_callback_video_search_runs_after_the_folder(moved):
    seen = []

    def callback(dicts):
        seen.extend(d["backend"]["filename"] for d in dicts)
        return False

    shutil.copy(MP4, moved / "clip.mp4")
    _load(moved / "clip.2node.slp", video_search=callback)
    assert seen == [str(moved / "clip.mp4")]
