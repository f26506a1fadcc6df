"""Small shared fixtures for the model and Labels semantics tests, and the
PostgreSQL server fixtures (`conftest_pg`)."""

from __future__ import annotations

import pytest
from conftest_pg import pg, pg_server  # noqa: F401 - PostgreSQL fixtures for every test dir

from ledger import Skeleton, Video


@pytest.fixture
def skel() -> Skeleton:
    """Three nodes a, b, c with body edges a->b, b->c."""
    return Skeleton.from_names_and_edge_inds(["a", "b", "c"], [(0, 1), (1, 2)], name="s")


@pytest.fixture
def video(tmp_path) -> Video:
    """A video whose file does not exist (allowed; only frames need the file)."""
    return Video.from_filename(str(tmp_path / "vids" / "clip.mp4"))


@pytest.fixture
def video2(tmp_path) -> Video:
    return Video.from_filename(str(tmp_path / "vids" / "other.mp4"))
