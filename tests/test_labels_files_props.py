"""Property tests: random projects built through the `Labels` API survive files.

Three round trips per project (several videos and skeletons, NaN and invisible
points, empty frames, tracks, ``from_predicted`` links inside a frame, suggestions
with groups, negative anchors, provenance):

* our save -> our load: everything `Labels` models, anchors, ``spawned_on`` and
  provenance included;
* our save -> sleap-io load: what sleap-io models (no anchors or ``spawned_on``);
* sleap-io save (of the sleap-io `Labels` read from our file) -> our load.

The content view comes from `tests/test_labels_files.py`.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import sleap_io as sio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_labels_files import _inst_ours, assert_content_equal, content, load, load_sio

from ledger import (
    Instance,
    LabeledFrame,
    Labels,
    Point,
    PredictedInstance,
    PredictedPoint,
    Skeleton,
    Track,
    Video,
)

NODE_NAMES = ["head", "neck", "tail", "l_ear", "r_ear"]
COORD = st.one_of(
    st.just(math.nan),
    st.floats(-2000, 2000, allow_nan=False, allow_infinity=False),
    st.integers(-100, 100).map(float),
)
SCORE = st.floats(0, 1, allow_nan=False)


@st.composite
def skeletons(draw: st.DrawFn, k: int) -> Skeleton:
    names = draw(st.lists(st.sampled_from(NODE_NAMES), min_size=1, max_size=5, unique=True))
    n = len(names)
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=4)) if pairs else []
    skel = Skeleton.from_names_and_edge_inds(names, edges, name=f"skel{k}")
    free = list(range(n))
    for _ in range(draw(st.integers(0, n // 2))):
        a, b = draw(st.sampled_from(free)), draw(st.sampled_from(free))
        if a != b:
            skel.add_symmetry(names[a], names[b])
            free = [i for i in free if i not in (a, b)]
            if len(free) < 2:
                break
    return skel


@st.composite
def point_rows(draw: st.DrawFn, n: int, predicted: bool) -> list[Point]:
    out: list[Point] = []
    for _ in range(n):
        x = draw(COORD)
        y = x if math.isnan(x) else draw(COORD.filter(lambda v: not math.isnan(v)))
        visible = draw(st.booleans())
        complete = draw(st.booleans())
        if predicted:
            out.append(PredictedPoint(x, y, visible=visible, complete=complete,
                                      score=draw(SCORE)))
        else:
            out.append(Point(x, y, visible=visible, complete=complete))
    return out


@st.composite
def projects(draw: st.DrawFn) -> Labels:
    skels = [draw(skeletons(k)) for k in range(draw(st.integers(1, 3)))]
    videos = [Video.from_filename(f"/no/such/dir/video_{k}.mp4")
              for k in range(draw(st.integers(1, 3)))]
    tracks = [Track(draw(st.integers(0, 50)), f"track{k}")
              for k in range(draw(st.integers(0, 3)))]
    track_or_none = st.sampled_from([None, *tracks])
    labels = Labels()
    keys = draw(st.lists(st.tuples(st.integers(0, len(videos) - 1), st.integers(0, 40)),
                         unique=True, max_size=6))
    for v, f in keys:
        preds: list[PredictedInstance] = []
        users: list[Instance] = []
        for _ in range(draw(st.integers(0, 2))):
            skel = draw(st.sampled_from(skels))
            preds.append(PredictedInstance(skel, draw(point_rows(len(skel.nodes), True)),
                                           score=draw(SCORE), tracking_score=draw(SCORE),
                                           track=draw(track_or_none)))
        for _ in range(draw(st.integers(0, 2))):
            link = draw(st.sampled_from([None, *preds]))
            skel = link.skeleton if link is not None else draw(st.sampled_from(skels))
            users.append(Instance(skel, draw(point_rows(len(skel.nodes), False)),
                                  track=draw(track_or_none), from_predicted=link))
        instances: list[Instance] = [*preds, *users]
        if draw(st.booleans()):
            instances.reverse()
        labels.append(LabeledFrame(videos[v], f, instances))
    for track in tracks:
        if track not in labels.tracks and draw(st.booleans()):
            labels.add_track(None, track)
    for video in videos:
        if labels.find(video) == [] and draw(st.booleans()):
            labels.add_video(video)
    for skel in skels:
        if skel not in labels.skeletons and draw(st.booleans()):
            labels.add_skeleton(skel)
    for s in draw(st.lists(st.tuples(st.integers(0, len(labels.videos) - 1) if labels.videos
                                     else st.nothing(), st.integers(0, 60),
                                     st.none() | st.integers(0, 3)),
                           max_size=4, unique_by=lambda t: t[:2])) if labels.videos else []:
        labels.add_suggestion(labels.videos[s[0]], s[1], group=s[2])
    for _ in range(draw(st.integers(0, 3)) if labels.videos else 0):
        video = draw(st.sampled_from(labels.videos))
        labels.add_negative_anchor(video, draw(st.integers(0, 60)),
                                   (draw(st.floats(0, 500)), draw(st.floats(0, 500))))
    if draw(st.booleans()):
        labels.provenance = draw(st.dictionaries(
            st.sampled_from(["model", "tool", "note", "n"]),
            st.one_of(st.text(max_size=8), st.integers(-5, 5), st.booleans()), max_size=3))
    return labels


# ---------------------------------------------------------------------- helpers


def _visible_pred(inst: PredictedInstance) -> bool:
    rows = inst.point_rows()
    return bool(np.any((rows[:, 2] > 0) & ~np.isnan(rows[:, 0]) & ~np.isnan(rows[:, 1])))


def expected_content(labels: Labels) -> dict[str, Any]:
    """What a `.slp` must hold: SLEAP drops a ``from_predicted`` link whose target
    has no visible point (it is falsy in SLEAP), so that link is not expected."""
    view = content(labels)
    frames = []
    for (key, _), lf in zip(view["frames"], labels.labeled_frames, strict=True):
        entries = []
        for inst in lf.instances:
            fp = inst.from_predicted
            link = _inst_ours(fp) if fp is not None and _visible_pred(fp) else None
            entries.append((*_inst_ours(inst), link))
        frames.append((key, sorted(entries, key=repr)))
    view["frames"] = frames
    return view


def extras(labels: Labels) -> dict[str, Any]:
    """What only ledger/SLEAP model: spawned_on, anchors, provenance, groups."""
    names = {id(v): v.filename for v in labels.videos}
    return {
        "tracks": [(t.spawned_on, t.name) for t in labels.tracks],
        "anchors": sorted((names[id(v)], tuple(a)) for v, lst in labels.negative_anchors.items()
                          for a in lst),
        "provenance": labels.provenance,
        "n_videos": len(labels.videos),
        "n_skeletons": len(labels.skeletons),
    }


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(labels=projects())
def test_random_projects_survive_files(labels: Labels) -> None:
    expected = expected_content(labels)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours_path = str(Path(tmp) / "ours.slp")
        labels.save(ours_path)

        # our save -> our load
        ours = load(ours_path)
        assert_content_equal(content(ours), expected)
        assert extras(ours) == extras(labels)

        # our save -> sleap-io load
        theirs = load_sio(ours_path)
        assert_content_equal(content(theirs), expected)

        # sleap-io save -> our load
        sio_path = str(Path(tmp) / "sio.slp")
        sio.save_slp(theirs, sio_path, verbose=False)
        back = load(sio_path)
        assert_content_equal(content(back), expected)
        assert [t.name for t in back.tracks] == [t.name for t in labels.tracks]
