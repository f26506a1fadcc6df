"""SLEAP's skeleton encoding: networkx node-link JSON with jsonpickle-style tags.

SLEAP stores a skeleton as ``networkx.node_link_data`` of its MultiDiGraph, pickled
with jsonpickle tags (``py/reduce``, ``py/id``, ``py/object``...). We decode and
encode that shape with our own small interpreter that knows exactly two classes,
``sleap.skeleton.EdgeType`` and ``sleap.skeleton.Node``. Nothing is imported or
instantiated from a name found in a file; any other tag is a ``FormatError``.

Two forms exist:

* inside a labels file, nodes are integer indices into the global ``nodes`` table
  and ``py/id`` counts only EdgeTypes;
* a standalone skeleton file (``Skeleton.save_json``) spells nodes as
  ``py/object`` and ``py/id`` counts nodes and EdgeTypes together.

Both are handled by one decoder that assigns ``py/id`` numbers by first
appearance in document order, as jsonpickle does.

Example::

    sk = decode_skeleton(meta["skeletons"][0], nodes=[("head", 1.0), ("tail", 1.0)])
    encode_skeleton(sk, node_ids=[0, 1])
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from ledger.errors import FormatError
from ledger.io.jsonfmt import dumps
from ledger.io.project_data import SkeletonData

BODY = 1
SYMMETRY = 2
_EDGE_TYPE = "sleap.skeleton.EdgeType"
_NODE_TYPE = "sleap.skeleton.Node"


class _EdgeType:
    """A decoded EdgeType object (identity matters only for py/id bookkeeping)."""

    __slots__ = ("value",)

    def __init__(self, value: int) -> None:
        self.value = value


class _Node:
    """A decoded standalone-file Node."""

    __slots__ = ("name", "weight")

    def __init__(self) -> None:
        self.name = ""
        self.weight = 1.0


class _Unresolved:
    """A ``py/id`` that names no object seen so far (sleap-io's hard-coded ids)."""

    __slots__ = ("number",)

    def __init__(self, number: int) -> None:
        self.number = number


class _Decoder:
    """Walks a jsonpickle document in order, resolving tags into plain values."""

    def __init__(self, source: object) -> None:
        self.source = source
        self.objects: list[Any] = []

    def fail(self, problem: str) -> FormatError:
        return FormatError(self.source, f"skeleton: {problem}")

    def decode(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        tags = [k for k in value if isinstance(k, str) and k.startswith("py/")]
        if not tags:
            return {k: self.decode(v) for k, v in value.items()}
        if "py/id" in value:
            return self._ref(value["py/id"])
        if "py/reduce" in value:
            return self._reduce(value["py/reduce"])
        if "py/object" in value:
            return self._object(value)
        if "py/tuple" in value:
            items = value["py/tuple"]
            if not isinstance(items, list):
                raise self.fail("py/tuple is not a list")
            return tuple(self.decode(v) for v in items)
        raise self.fail(f"unsupported jsonpickle tag {tags[0]!r}")

    def _ref(self, number: Any) -> Any:
        if not isinstance(number, int) or isinstance(number, bool) or number < 1:
            raise self.fail(f"bad py/id {number!r}")
        if number <= len(self.objects):
            return self.objects[number - 1]
        return _Unresolved(number)

    def _reduce(self, items: Any) -> _EdgeType:
        if not isinstance(items, list):
            raise self.fail("py/reduce is not a list")
        parts = [p for p in items if p is not None]  # old jsonpickle pads with nulls
        if len(parts) != 2 or not isinstance(parts[0], dict) or not isinstance(parts[1], dict):
            raise self.fail("py/reduce must hold a type and an argument tuple")
        if parts[0] != {"py/type": _EDGE_TYPE}:
            raise self.fail(f"py/reduce of unsupported type {parts[0]!r}")
        args = parts[1].get("py/tuple")
        if (
            len(parts[1]) != 1
            or not isinstance(args, list)
            or len(args) != 1
            or args[0] not in (BODY, SYMMETRY)
            or isinstance(args[0], bool)
        ):
            raise self.fail(f"bad EdgeType arguments {parts[1]!r}")
        edge_type = _EdgeType(int(args[0]))
        self.objects.append(edge_type)
        return edge_type

    def _object(self, value: dict[str, Any]) -> _Node:
        if value.get("py/object") != _NODE_TYPE:
            raise self.fail(f"py/object of unsupported class {value.get('py/object')!r}")
        extra = set(value) - {"py/object", "py/state"}
        if extra:
            raise self.fail(f"unsupported keys in a Node: {sorted(extra)}")
        node = _Node()
        self.objects.append(node)  # jsonpickle registers before restoring state
        state = self.decode(value.get("py/state", {}))
        if isinstance(state, tuple) and 1 <= len(state) <= 2:
            name, weight = state[0], state[1] if len(state) == 2 else 1.0
        elif isinstance(state, dict):
            name, weight = state.get("name"), state.get("weight", 1.0)
        else:
            raise self.fail("Node state is neither a tuple nor a dict")
        if not isinstance(name, str) or not _is_number(weight):
            raise self.fail("Node state needs a string name and a numeric weight")
        node.name, node.weight = name, float(weight)
        return node


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _edge_type_value(value: Any, dec: _Decoder) -> int:
    if isinstance(value, _EdgeType):
        return value.value
    if isinstance(value, _Unresolved) and value.number in (BODY, SYMMETRY):
        return value.number  # sleap-io writes fixed ids: 1 = BODY, 2 = SYMMETRY
    raise dec.fail("link type is not an EdgeType")


def decode_skeleton(
    obj: Any,
    nodes: Sequence[tuple[str, float]] | None = None,
    *,
    source: object = "<skeleton>",
) -> SkeletonData:
    """Decode one skeleton (labels-file or standalone form, optionally template-wrapped).

    ``nodes`` is the labels file's global node table as ``(name, weight)``; integer
    node references index into it. Node objects (standalone files) need no table.
    """
    dec = _Decoder(source)
    if not isinstance(obj, dict):
        raise dec.fail("not a JSON object")
    template: dict[str, Any] | None = None
    if "nx_graph" in obj:
        template = {
            "description": obj.get("description"),
            "preview_image": obj.get("preview_image"),
        }
        obj = obj["nx_graph"]
        if not isinstance(obj, dict):
            raise dec.fail("nx_graph is not a JSON object")
    graph = dec.decode(obj)
    if not isinstance(graph, dict):
        raise dec.fail("graph is not a JSON object")
    table = list(nodes) if nodes is not None else []

    def node_key(ref: Any) -> tuple[str, int]:
        if isinstance(ref, int) and not isinstance(ref, bool):
            if not 0 <= ref < len(table):
                raise dec.fail(f"node index {ref} outside the nodes table ({len(table)})")
            return ("g", ref)
        if isinstance(ref, _Node):
            return ("o", id(ref))
        raise dec.fail(f"bad node reference {ref!r}")

    raw_nodes = graph.get("nodes", [])
    raw_links = graph.get("links", graph.get("edges", []))
    if not isinstance(raw_nodes, list) or not isinstance(raw_links, list):
        raise dec.fail("nodes and links must be lists")
    positions: dict[tuple[str, int], int] = {}
    names: list[str] = []
    weights: list[float] = []
    for entry in raw_nodes:
        if not isinstance(entry, dict) or "id" not in entry:
            raise dec.fail("node entry without an id")
        ref = entry["id"]
        key = node_key(ref)
        if key in positions:
            raise dec.fail("node listed twice")
        positions[key] = len(names)
        if key[0] == "g":
            name, weight = table[key[1]]
        else:
            name, weight = ref.name, ref.weight
        names.append(str(name))
        weights.append(float(weight))

    body: list[tuple[tuple[int, float, int], tuple[int, int]]] = []
    sym_seen: set[tuple[int, int]] = set()
    symmetries: list[tuple[int, int]] = []
    for order, link in enumerate(raw_links):
        if not isinstance(link, dict) or "source" not in link or "target" not in link:
            raise dec.fail("link without source/target")
        src_key, dst_key = node_key(link["source"]), node_key(link["target"])
        if src_key not in positions or dst_key not in positions:
            raise dec.fail("link refers to a node that is not in the skeleton")
        src, dst = positions[src_key], positions[dst_key]
        if "type" not in link:
            raise dec.fail("link without an edge type")
        kind = _edge_type_value(link["type"], dec)
        if kind == BODY:
            idx = link.get("edge_insert_idx")
            if idx is not None and not _is_number(idx):
                raise dec.fail("edge_insert_idx is not a number")
            sort_key = (0, float(idx), order) if idx is not None else (1, 0.0, order)
            body.append((sort_key, (src, dst)))
        else:
            pair = (min(src, dst), max(src, dst))
            if pair not in sym_seen:
                sym_seen.add(pair)
                symmetries.append(pair)
    body.sort(key=lambda item: item[0])
    meta = graph.get("graph", {})
    if isinstance(meta, list):  # networkx 1.x wrote graph attributes as pairs
        meta = {k: v for k, v in (p for p in meta if isinstance(p, list) and len(p) == 2)}
    if not isinstance(meta, dict):
        raise dec.fail("graph attributes are not an object")
    name = meta.get("name")
    return SkeletonData(
        name=None if name is None else str(name),
        node_names=names,
        edges=[edge for _, edge in body],
        symmetries=sorted(symmetries),
        node_weights=None if all(w == 1.0 for w in weights) else weights,
        template=template,
    )


class _Encoder:
    """Emits EdgeTypes (and standalone Nodes) with jsonpickle's first-use/py-id rule."""

    def __init__(self) -> None:
        self.count = 0
        self.ids: dict[Any, int] = {}

    def ref(self, key: Any, full: Any) -> Any:
        if key in self.ids:
            return {"py/id": self.ids[key]}
        self.count += 1
        self.ids[key] = self.count
        return full


def _edge_full(value: int) -> dict[str, Any]:
    return {"py/reduce": [{"py/type": _EDGE_TYPE}, {"py/tuple": [value]}]}


def _links(sk: SkeletonData) -> list[tuple[int, int, int, int, int | None]]:
    """Links in networkx adjacency order: (src, dst, key, type, edge_insert_idx)."""
    n = len(sk.node_names)
    adj: list[dict[int, list[tuple[int, int | None]]]] = [{} for _ in range(n)]
    for i, (s, d) in enumerate(sk.edges):
        adj[s].setdefault(d, []).append((BODY, i))
    for a, b in sk.symmetries:
        adj[a].setdefault(b, []).append((SYMMETRY, None))
        adj[b].setdefault(a, []).append((SYMMETRY, None))
    out = []
    for s in range(n):
        for d, items in adj[s].items():
            for key, (kind, idx) in enumerate(items):
                out.append((s, d, key, kind, idx))
    return out


def _encode(sk: SkeletonData, node_ref: Any, enc: _Encoder) -> dict[str, Any]:
    links = []
    for s, d, key, kind, idx in _links(sk):
        link: dict[str, Any] = {}
        if idx is not None:
            link["edge_insert_idx"] = idx
        link["key"] = key
        link["source"] = node_ref(s)
        link["target"] = node_ref(d)
        link["type"] = enc.ref(("edge", kind), _edge_full(kind))
        links.append(link)
    graph = {
        "directed": True,
        "graph": {"name": sk.name, "num_edges_inserted": len(sk.edges)},
        "links": links,
        "multigraph": True,
        "nodes": [{"id": node_ref(i)} for i in range(len(sk.node_names))],
    }
    if sk.template is not None:
        return {
            "description": sk.template.get("description"),
            "nx_graph": graph,
            "preview_image": sk.template.get("preview_image"),
        }
    return graph


def _check(sk: SkeletonData) -> None:
    n = len(sk.node_names)
    for s, d in list(sk.edges) + list(sk.symmetries):
        if not (0 <= s < n and 0 <= d < n):
            raise ValueError(f"skeleton {sk.name!r}: edge ({s}, {d}) outside its {n} nodes")


def encode_skeleton(sk: SkeletonData, node_ids: Sequence[int]) -> dict[str, Any]:
    """Encode for a labels file; node position ``i`` is written as ``node_ids[i]``."""
    _check(sk)
    return _encode(sk, lambda i: int(node_ids[i]), _Encoder())


def encode_skeleton_standalone(sk: SkeletonData) -> dict[str, Any]:
    """Encode as ``Skeleton.save_json`` does: nodes as ``py/object`` then ``py/id``."""
    _check(sk)
    enc = _Encoder()
    weights = sk.node_weights or [1.0] * len(sk.node_names)

    def node_ref(i: int) -> Any:
        full = {
            "py/object": _NODE_TYPE,
            "py/state": {"py/tuple": [sk.node_names[i], float(weights[i])]},
        }
        return enc.ref(("node", i), full)

    return _encode(sk, node_ref, enc)


def decode_skeleton_json(text: str | bytes, *, source: object = "<skeleton>") -> SkeletonData:
    """Parse a standalone skeleton JSON file's text."""
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FormatError(source, f"skeleton JSON does not parse: {exc}") from exc
    return decode_skeleton(obj, None, source=source)


def encode_skeleton_json(sk: SkeletonData) -> str:
    """Standalone skeleton JSON text (compact, like SLEAP's encoder)."""
    return dumps(encode_skeleton_standalone(sk))
