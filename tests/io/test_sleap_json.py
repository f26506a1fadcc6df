"""SLEAP JSON labels (`.json`, `.json.zip`) and `project_to_dict`."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from iohelpers import DATA, SLP_FILES, assert_same, assert_views_equal, view_ours

from ledger.errors import FormatError
from ledger.io.project_data import ProjectData
from ledger.io.sleap_json import project_to_dict, read_sleap_json, write_sleap_json
from ledger.io.slp import read_slp

MINIMAL_JSON = DATA / "json_format_v2" / "minimal_instance.json"
DANCE = DATA / "slp_hdf5" / "dance.mp4.labels.slp"


def json_canonical(data: ProjectData) -> ProjectData:
    """JSON lists only labelled points; missing ones come back with default flags."""
    out = copy.copy(data)
    missing = np.isnan(data.point_x) | np.isnan(data.point_y)
    out.point_visible = np.where(missing, True, data.point_visible)
    out.point_complete = np.where(missing, False, data.point_complete)
    out.point_score = np.where(missing, 0.0, data.point_score)
    out.point_x = np.where(missing, np.nan, data.point_x)
    out.point_y = np.where(missing, np.nan, data.point_y)
    return out


def test_real_json_file() -> None:
    data = read_sleap_json(MINIMAL_JSON)
    assert data.n_frames == 1 and data.inst_kind.tolist() == [0, 0]
    assert data.skeletons[0].node_names == ["A", "B"] and data.skeletons[0].edges == [(0, 1)]
    assert data.videos[0].backend == {
        "filename": "tests/data/json_format_v1/centered_pair_low_quality.mp4",
        "grayscale": True,
        "bgr": True,
    }
    same = read_slp(DATA / "slp_hdf5" / "minimal_instance.slp")
    a, b = view_ours(data), view_ours(same)
    assert_views_equal(a, b)


@pytest.mark.parametrize("path", SLP_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize("suffix", [".json", ".json.zip"])
def test_round_trip_through_json(tmp_path: Path, path: Path, suffix: str) -> None:
    data = read_slp(path)
    data.suggestions = [(0, 1, None), (0, 2, 0)]
    data.negative_anchors = {0: [(3, 1.5, 2.5)]}
    out = write_sleap_json(data, tmp_path / f"labels{suffix}")
    back = read_sleap_json(out)
    assert back.warnings == []
    assert_same(json_canonical(data), back)


def test_compress_appends_zip(tmp_path: Path) -> None:
    out = write_sleap_json(read_slp(DANCE), tmp_path / "a.json", compress=True)
    assert out.endswith("a.json.zip")
    with zipfile.ZipFile(out) as zf:
        assert zf.namelist() == ["a.json"]


def test_dict_structure() -> None:
    data = read_slp(DANCE)
    d = project_to_dict(data)
    assert list(d) == [
        "version",
        "skeletons",
        "nodes",
        "videos",
        "tracks",
        "suggestions",
        "negative_anchors",
        "provenance",
        "labels",
    ]
    frame = d["labels"][0]
    assert list(frame) == ["video", "frame_idx", "_instances"] and frame["video"] == "0"
    pred, user = frame["_instances"]
    assert list(pred) == [
        "skeleton",
        "track",
        "from_predicted",
        "_points",
        "score",
        "tracking_score",
    ]
    assert pred["skeleton"] == "0" and pred["track"] is None and pred["from_predicted"] is None
    assert user["from_predicted"] == pred and "score" not in user
    # Points are keyed by GLOBAL node index; only labelled nodes are listed.
    nose = [n["name"] for n in d["nodes"]].index("nose")
    assert user["_points"][str(nose)]["x"] == pytest.approx(193.83285522460938)
    assert len(pred["_points"]) == 16 and set(pred["_points"]["0"]) == {
        "x",
        "y",
        "visible",
        "complete",
        "score",
    }


def test_written_text_is_rapidjson_like(tmp_path: Path) -> None:
    data = read_slp(DATA / "tracks" / "clip.slp")
    out = Path(write_sleap_json(data, tmp_path / "c.json"))
    text = out.read_text()
    assert text.startswith('{"version":"2.0.0"') and text.endswith(',"format_id":1}')
    assert '"track":"0"' in text


def test_unmatched_from_predicted_is_dropped_with_warning(tmp_path: Path) -> None:
    d = project_to_dict(read_slp(DANCE))
    d["labels"][0]["_instances"][1]["from_predicted"] = copy.deepcopy(
        d["labels"][1]["_instances"][0]
    )
    path = tmp_path / "x.json"
    path.write_text(json.dumps(d))
    back = read_sleap_json(path)
    assert back.inst_from_predicted[1] == -1
    assert any("from_predicted" in w for w in back.warnings)


@pytest.mark.parametrize(
    "text",
    [
        '{"videos": [], "labels": []}',  # old LEAP format
        '{"version": "2.0.0", "format_id": 2}',
        '{"version": "2.0.0", "labels": [{"video": "3", "frame_idx": 0}]}',
        '{"version": "2.0.0", "skeletons": [{"py/object": "os.system"}]}',
        "[1, 2",
        "[]",
    ],
)
def test_bad_json_files(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(FormatError):
        read_sleap_json(path)


def test_missing_and_broken_zip(tmp_path: Path) -> None:
    with pytest.raises(FormatError):
        read_sleap_json(tmp_path / "none.json")
    bad = tmp_path / "bad.json.zip"
    bad.write_bytes(b"PK\x03\x04garbage")
    with pytest.raises(FormatError):
        read_sleap_json(bad)
