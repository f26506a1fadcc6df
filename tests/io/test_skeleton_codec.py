"""The jsonpickle-style skeleton codec: decoding every variant, encoding SLEAP's shape."""

from __future__ import annotations

import json
from typing import Any

import h5py
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from iohelpers import DATA

from ledger.errors import FormatError
from ledger.io.project_data import SkeletonData
from ledger.io.skeleton_codec import (
    decode_skeleton,
    decode_skeleton_json,
    encode_skeleton,
    encode_skeleton_json,
    encode_skeleton_standalone,
)

FLY = DATA / "skeleton" / "fly_skeleton_legs.json"
BODY = {"py/reduce": [{"py/type": "sleap.skeleton.EdgeType"}, {"py/tuple": [1]}]}
SYM = {"py/reduce": [{"py/type": "sleap.skeleton.EdgeType"}, {"py/tuple": [2]}]}
NODES = [("a", 1.0), ("b", 1.0), ("c", 1.0), ("d", 1.0)]


def _strip_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_nulls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strip_nulls(v) for v in value if v is not None]
    return value


def _graph(links: list[dict], nodes: list[int]) -> dict:
    return {
        "directed": True,
        "graph": {"name": "s", "num_edges_inserted": 0},
        "links": links,
        "multigraph": True,
        "nodes": [{"id": n} for n in nodes],
    }


def test_standalone_file_decodes_and_reencodes_identically() -> None:
    text = FLY.read_text()
    sk = decode_skeleton_json(text)
    assert sk.name == "skeleton_legs.mat"
    assert sk.node_names[:3] == ["head", "neck", "thorax"] and len(sk.node_names) == 24
    assert sk.edges[:3] == [(2, 1), (1, 0), (2, 3)]  # edge_insert_idx 0, 1, 2
    assert len(sk.edges) == 23 and sk.symmetries == []
    assert _strip_nulls(json.loads(encode_skeleton_json(sk))) == _strip_nulls(json.loads(text))


@pytest.mark.parametrize(
    "name",
    ["dance.mp4.labels.slp", "clip.slp", "minimal_instance.slp", "small_robot_minimal.slp"],
)
def test_labels_skeletons_reencode_exactly(name: str) -> None:
    path = next(DATA.glob(f"**/{name}"))
    with h5py.File(path) as f:
        meta = json.loads(f["metadata"].attrs["json"])
    nodes = [(n["name"], n["weight"]) for n in meta["nodes"]]
    raw = meta["skeletons"][0]
    sk = decode_skeleton(raw, nodes)
    ids = [n["id"] for n in raw["nodes"]]
    assert encode_skeleton(sk, ids) == raw


def test_symmetry_before_body_and_trailing_nulls() -> None:
    sym_padded = {"py/reduce": [*SYM["py/reduce"], None, None, None]}
    links = [
        {"key": 0, "source": 0, "target": 1, "type": sym_padded},  # SYMMETRY = py/id 1
        {"edge_insert_idx": 1, "key": 0, "source": 1, "target": 2, "type": BODY},  # id 2
        {"key": 0, "source": 1, "target": 0, "type": {"py/id": 1}},
        {"edge_insert_idx": 0, "key": 0, "source": 2, "target": 3, "type": {"py/id": 2}},
        {"key": 0, "source": 2, "target": 3, "type": {"py/id": 2}},  # no insert idx: last
    ]
    sk = decode_skeleton(_graph(links, [0, 1, 2, 3]), NODES)
    assert sk.edges == [(2, 3), (1, 2), (2, 3)]
    assert sk.symmetries == [(0, 1)]


def test_one_direction_symmetry_and_sleap_io_fixed_ids() -> None:
    links = [
        {"key": 0, "source": 3, "target": 2, "type": SYM},
        {"key": 0, "source": 0, "target": 1, "type": {"py/id": 2}},  # sleap-io's fixed id
    ]
    sk = decode_skeleton(_graph(links, [0, 1, 2, 3]), NODES)
    assert sk.edges == [] and sk.symmetries == [(0, 1), (2, 3)]


def test_template_wrapper_round_trips() -> None:
    wrapper = {
        "description": "x",
        "nx_graph": _graph([], [1, 0]),
        "preview_image": {"py/b64": "AA=="},
    }
    sk = decode_skeleton(wrapper, NODES)
    assert sk.node_names == ["b", "a"]
    assert sk.template == {"description": "x", "preview_image": {"py/b64": "AA=="}}
    assert encode_skeleton(sk, [1, 0]) == wrapper


def test_state_dict_form_and_shared_ids() -> None:
    node = {"py/object": "sleap.skeleton.Node", "py/state": {"name": "p", "weight": 2.0}}
    node2 = {"py/object": "sleap.skeleton.Node", "py/state": {"py/tuple": ["q", 1.0]}}
    doc = {
        "directed": True,
        "graph": {"name": "t", "num_edges_inserted": 1},
        "links": [{"edge_insert_idx": 0, "key": 0, "source": node, "target": node2, "type": BODY}],
        "multigraph": True,
        "nodes": [
            {"id": {"py/id": 2}},
            {"id": {"py/id": 1}},
            {"id": {"py/object": "sleap.skeleton.Node", "py/state": {"py/tuple": ["lonely", 1.0]}}},
        ],
    }
    sk = decode_skeleton_json(json.dumps(doc))
    assert sk.node_names == ["q", "p", "lonely"]
    assert sk.node_weights == [1.0, 2.0, 1.0]
    assert sk.edges == [(1, 0)]


@pytest.mark.parametrize(
    "bad_type",
    [
        {"py/function": "os.system"},
        {"py/object": "os.system"},
        {"py/reduce": [{"py/type": "os.system"}, {"py/tuple": ["ls"]}]},
        {"py/reduce": [{"py/type": "sleap.skeleton.EdgeType"}, {"py/tuple": [7]}]},
        {"py/repr": "os/os.system('ls')"},
        {"py/type": "sleap.skeleton.EdgeType"},
        {"py/id": 5},
        "BODY",
    ],
)
def test_unknown_or_bad_tags_raise_format_error(bad_type: Any) -> None:
    links = [{"edge_insert_idx": 0, "key": 0, "source": 0, "target": 1, "type": bad_type}]
    with pytest.raises(FormatError):
        decode_skeleton(_graph(links, [0, 1]), NODES, source="f.slp")


@pytest.mark.parametrize(
    "doc",
    [
        [],
        _graph([], [0, 0]),
        _graph([], [9]),
        _graph([{"key": 0, "source": 0, "target": 2, "type": BODY}], [0, 1]),
        _graph([{"key": 0, "source": 0, "target": 1}], [0, 1]),
    ],
)
def test_structural_errors(doc: Any) -> None:
    with pytest.raises(FormatError):
        decode_skeleton(doc, NODES)


def test_encoding_shape() -> None:
    sk = SkeletonData("s", ["a", "b", "c"], edges=[(1, 2), (0, 1)], symmetries=[(0, 2)])
    enc = encode_skeleton(sk, [10, 11, 12])
    assert enc["graph"] == {"name": "s", "num_edges_inserted": 2}
    links = [
        (link["source"], link["target"], link.get("edge_insert_idx"), link["type"])
        for link in enc["links"]
    ]
    assert links == [
        (10, 11, 1, BODY),  # grouped by source in node order
        (10, 12, None, SYM),
        (11, 12, 0, {"py/id": 1}),
        (12, 10, None, {"py/id": 2}),
    ]
    assert list(enc) == sorted(enc) and all(list(x) == sorted(x) for x in enc["links"])
    assert decode_skeleton(enc, [("?", 1.0)] * 10 + [("a", 1.0), ("b", 1.0), ("c", 1.0)]) == sk


def _ids_defined_before_use(value: Any, seen: list[int]) -> None:
    if isinstance(value, dict):
        if "py/id" in value:
            assert value["py/id"] <= len(seen)
        if "py/reduce" in value or "py/object" in value:
            seen.append(1)
        for v in value.values():
            _ids_defined_before_use(v, seen)
    elif isinstance(value, list):
        for v in value:
            _ids_defined_before_use(v, seen)


@st.composite
def skeletons(draw: st.DrawFn) -> SkeletonData:
    n = draw(st.integers(1, 7))
    names = draw(
        st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=n, max_size=n, unique=True)
    )
    pairs = [(a, b) for a in range(n) for b in range(n) if a != b]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=8)) if pairs else []
    free = list(range(n))
    draw(st.randoms()).shuffle(free)
    syms = []
    for k in range(draw(st.integers(0, n // 2))):
        a, b = free[2 * k], free[2 * k + 1]
        syms.append((min(a, b), max(a, b)))
    weights = draw(st.one_of(st.none(), st.lists(st.floats(0.5, 2.0), min_size=n, max_size=n)))
    if weights is not None and all(w == 1.0 for w in weights):
        weights = None
    return SkeletonData(
        draw(st.one_of(st.none(), st.text(max_size=5))), names, edges, sorted(syms), weights
    )


@settings(max_examples=150, deadline=None)
@given(skeletons())
def test_property_round_trip_both_forms(sk: SkeletonData) -> None:
    labels_form = encode_skeleton(sk, list(range(len(sk.node_names))))
    table = list(zip(sk.node_names, sk.node_weights or [1.0] * len(sk.node_names), strict=True))
    assert decode_skeleton(json.loads(json.dumps(labels_form)), table) == sk
    standalone = encode_skeleton_standalone(sk)
    _ids_defined_before_use(standalone, [])
    _ids_defined_before_use(labels_form, [])
    assert decode_skeleton_json(json.dumps(standalone)) == sk
