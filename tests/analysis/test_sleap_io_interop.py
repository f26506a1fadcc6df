"""`Labels.from_sleap_io` / `labels.to_sleap_io()`: equal content both ways.

On every real file in tests/data: our load converted to sleap-io equals sleap-io's
own load of the file (compared through sleap-io's objects), and sleap-io's load
converted to ours equals our own load (compared through our columns). Then random
projects built with sleap-io, an edited project round-tripped, and the promise that
importing ledger does not import sleap-io."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sio_projects import REAL_SLP, random_project, single_instance_project

import ledger
from ledger import Labels
from ledger.errors import ValidationError
from ledger.io.project_convert import export_project

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "io"))
from iohelpers import assert_views_equal, view_ours, view_sio  # noqa: E402


def _sio_load(path):
    import sleap_io as sio

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sio.load_slp(str(path), open_videos=False)


def _ours(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ledger.load_file(path)


def _extra_columns(labels):
    """What the shared views leave out: complete flags, user tracking scores, the
    suggestion groups, provenance."""
    d = export_project(labels._state)
    user = np.asarray(d.inst_kind) == 0
    return {"complete": np.asarray(d.point_complete).tolist(),
            "user_ts": np.asarray(d.inst_tracking_score)[user].tolist(),
            "groups": [g or 0 for _, _, g in d.suggestions],
            "provenance": {k: v for k, v in d.provenance.items() if k != "filename"}}


def _assert_extras_equal(a, b, user_ts=True):
    """``user_ts=False`` across libraries: for files without a tracking_score column
    (format < 1.2) sleap-io reads 0.0 and we read NaN (a reader difference, not a
    conversion one)."""
    ea, eb = _extra_columns(a), _extra_columns(b)
    assert ea["complete"] == eb["complete"]
    if user_ts:
        np.testing.assert_array_equal(ea["user_ts"], eb["user_ts"])
    assert ea["groups"] == eb["groups"]
    assert ea["provenance"] == eb["provenance"]


@pytest.mark.parametrize("path", REAL_SLP, ids=lambda p: p.split("data/")[-1])
def test_to_sleap_io_equals_sleap_io_load(path):
    ours = _ours(path).to_sleap_io()
    theirs = _sio_load(path)
    assert_views_equal(view_sio(ours), view_sio(theirs))
    for a, b in zip(ours.labeled_frames, theirs.labeled_frames, strict=True):
        for ia, ib in zip(a.instances, b.instances, strict=True):
            np.testing.assert_array_equal(ia.points["complete"], ib.points["complete"])
            assert list(ia.points["name"]) == list(ib.points["name"])
    assert [s.metadata.get("group") for s in ours.suggestions] == \
        [s.metadata.get("group") for s in theirs.suggestions]


@pytest.mark.parametrize("path", REAL_SLP, ids=lambda p: p.split("data/")[-1])
def test_from_sleap_io_equals_our_load(path):
    ours = _ours(path)
    converted = Labels.from_sleap_io(_sio_load(path))
    assert_views_equal(view_ours(export_project(converted._state)),
                       view_ours(export_project(ours._state)))
    _assert_extras_equal(converted, ours, user_ts=False)
    assert [v.filename.replace("\\", "/") for v in converted.videos] == \
        [v.filename.replace("\\", "/") for v in ours.videos]
    assert len(converted.history) >= 1 and converted.can_undo


@pytest.mark.parametrize("make", [lambda: random_project(0, True),
                                  lambda: random_project(1, False),
                                  lambda: single_instance_project(2)],
                         ids=["tracked", "untracked", "single"])
def test_generated_projects_both_ways(make):
    sio_labels = make()
    ours = Labels.from_sleap_io(sio_labels)
    assert_views_equal(view_sio(ours.to_sleap_io()), view_sio(sio_labels))
    np.testing.assert_array_equal(ours.numpy(), sio_labels.numpy())


def test_round_trip_of_an_edited_project(tmp_path):
    path = tmp_path / "p.slp"
    random_project(4, tracked=True).save(str(path))
    labels = _ours(path)
    lf = labels[3]
    labels.add_instance(lf, ledger.Instance.from_numpy(np.ones((4, 2)), labels.skeleton,
                                                       track=labels.tracks[0]))
    labels.set_point(labels[0].instances[0] if labels[0].instances else
                     lf.instances[-1], "n1", 5.0, 6.0)
    labels.add_suggestion(labels.video, 7)
    back = Labels.from_sleap_io(labels.to_sleap_io())
    assert_views_equal(view_ours(export_project(back._state)),
                       view_ours(export_project(labels._state)))
    _assert_extras_equal(back, labels)


def test_from_sleap_io_refuses_other_objects():
    with pytest.raises(ValidationError):
        Labels.from_sleap_io({"labeled_frames": []})


def test_importing_ledger_does_not_import_sleap_io():
    code = ("import sys, ledger; l = ledger.Labels(); l.numpy if hasattr(l, 'numpy') else None;"
            "assert 'sleap_io' not in sys.modules, 'sleap_io imported'")
    subprocess.run([sys.executable, "-c", code], check=True,
                   cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
