"""Bad arguments get a clear `ledger.errors` exception (issue 12, item 7)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from click.testing import CliRunner

import ledger
from ledger import Instance, LabeledFrame, Labels, Point
from ledger.cli.commands import main
from ledger.errors import LedgerError, MissingFileError, NotFoundError, ValidationError


@pytest.fixture
def labels(skel, video):
    lab = Labels()
    for f in (0, 1, 10):
        lab.append(LabeledFrame(video, f, [Instance(skel, {"a": Point(1, 2)})]))
    return lab


def test_find_refuses_strings_and_floats(labels, video):
    with pytest.raises(ValidationError):
        labels.find(video, "10")  # used to iterate the characters: frames 1 and 0
    with pytest.raises(ValidationError):
        labels.find(video, 10.0)
    with pytest.raises(ValidationError):
        labels.find(video, [1, "0"])
    with pytest.raises(ValidationError):
        labels.find_first(video, "10")
    assert [lf.frame_idx for lf in labels.find(video, np.array([10, 1]))] == [10, 1]
    assert [lf.frame_idx for lf in labels.find(video, 10)] == [10]


def test_getitem_with_an_unknown_key_raises_key_error(labels, video, video2):
    for key in ("x", (video, 99), video2):
        with pytest.raises(KeyError) as info:
            labels[key]
        assert isinstance(info.value, NotFoundError) and isinstance(info.value, LedgerError)
    assert labels.get("x") is None  # get() keeps returning None, as in SLEAP
    assert labels[(video, 10)].frame_idx == 10


@pytest.mark.parametrize("xy", [(math.inf, 2.0), (1.0, -math.inf)])
def test_set_point_refuses_infinite_coordinates(labels, xy):
    inst = labels[0].instances[0]
    before = inst.numpy().copy()
    n = len(labels.history)
    with pytest.raises(ValidationError):
        labels.set_point(inst, "a", *xy)
    np.testing.assert_array_equal(inst.numpy(), before)
    assert len(labels.history) == n
    labels.set_point(inst, "a", math.nan, 2.0)  # NaN still means "missing"


def test_missing_file_is_both_a_ledger_error_and_file_not_found(tmp_path):
    for name in ("nope.slp", "nope.json", "nope.txt"):
        with pytest.raises(FileNotFoundError) as info:
            ledger.load_file(tmp_path / name)
        assert isinstance(info.value, MissingFileError)
        assert isinstance(info.value, LedgerError)
        assert name in str(info.value) and "Errno" not in str(info.value)


@pytest.mark.parametrize("name", ["new.slp", "new.json", "new.analysis.h5"])
def test_cli_init_refuses_sleap_file_names(tmp_path, name):
    result = CliRunner().invoke(main, ["init", str(tmp_path / name)])
    assert result.exit_code == 1
    assert "not a SLEAP file" in result.output
    assert not (tmp_path / name).exists()
    ok = CliRunner().invoke(main, ["init", str(tmp_path / "new.ledger")])
    assert ok.exit_code == 0
