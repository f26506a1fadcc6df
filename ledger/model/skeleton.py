"""Node and Skeleton with SLEAP 1.x semantics.

Nodes and skeletons compare by identity (as in SLEAP); ``matches`` compares by
value. Node order is insertion order and is the order of every point array. Body
edges keep insertion order (SLEAP's ``edge_insert_idx`` order); symmetries are
unordered pairs, at most one partner per node.

A skeleton that belongs to a `Labels` routes its changes (``add_node``,
``add_edge``, ``relabel_node``...) through that labels object so that they are
recorded as events and the instances follow; a free-standing skeleton just changes.

Example::

    skel = Skeleton("fly")
    skel.add_nodes(["head", "thorax"])
    skel.add_edge("head", "thorax")
    skel.edge_inds        # [(0, 1)]
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ledger.errors import NotInLabelsError, ValidationError
from ledger.model.owned import OwnedByLabels

if TYPE_CHECKING:
    from ledger.sleap.labels import Labels


class Node:
    """A body part. ``Node(name, weight=1.0)``."""

    __slots__ = ("_name", "_weight", "_id", "_skeleton", "__weakref__")

    def __init__(self, name: str, weight: float = 1.0) -> None:
        self._name = str(name)
        self._weight = weight_arg(weight)
        self._id: int | None = None
        self._skeleton: Skeleton | None = None

    @property
    def weight(self) -> float:
        return self._weight

    @weight.setter
    def weight(self, value: float) -> None:
        """A node of a skeleton in a `Labels` changes its weight through the labels
        (a `SkeletonChanged` event): assigning it on the object alone would leave
        the ledger, the saved file and undo unaware of it."""
        weight = weight_arg(value)
        skeleton = self._skeleton
        owner = None if skeleton is None else skeleton._owner
        if owner is not None and any(n is self for n in skeleton._nodes):  # type: ignore[union-attr]
            owner.set_node_weight(skeleton, self, weight)
        else:
            self._weight = weight

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        if self._skeleton is not None:
            self._skeleton.relabel_node(self._name, str(value))
        else:
            self._name = str(value)

    def matches(self, other: Any) -> bool:
        return isinstance(other, Node) and self.name == other.name and self.weight == other.weight

    def __repr__(self) -> str:
        return f"Node(name={self.name!r}, weight={self.weight})"


NodeRef = Node | str | int


def weight_arg(value: Any) -> float:
    """A node weight: a finite number (NaN would make a skeleton unequal to itself,
    which the ledger's checks rely on)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValidationError(f"a node weight must be a number, not {value!r}")
    if not math.isfinite(float(value)):
        raise ValidationError(f"a node weight must be finite, not {value!r}")
    return float(value)


class Skeleton(OwnedByLabels):
    """``Skeleton(name=None)``; see the module docstring."""

    def __init__(self, name: str | None = None) -> None:
        self._name = "Skeleton" if name is None else str(name)
        self._nodes: list[Node] = []
        self._edges: list[tuple[Node, Node]] = []
        self._symmetries: list[tuple[Node, Node]] = []
        self._id: int | None = None
        self._owner_ref: weakref.ref[Labels] | None = None

    # ----------------------------------------------------------------- reading

    @property
    def name(self) -> str:
        return self._name

    @name.setter
    def name(self, value: str) -> None:
        raise NotImplementedError(
            "Cannot change a skeleton's name (as in SLEAP): make a new skeleton instead")

    @property
    def nodes(self) -> list[Node]:
        return list(self._nodes)

    @property
    def node_names(self) -> list[str]:
        return [n.name for n in self._nodes]

    @property
    def edges(self) -> list[tuple[Node, Node]]:
        return list(self._edges)

    @property
    def edge_names(self) -> list[tuple[str, str]]:
        return [(a.name, b.name) for a, b in self._edges]

    @property
    def edge_inds(self) -> list[tuple[int, int]]:
        index = {id(n): i for i, n in enumerate(self._nodes)}
        return [(index[id(a)], index[id(b)]) for a, b in self._edges]

    @property
    def symmetries(self) -> list[tuple[Node, Node]]:
        """Unordered pairs, each sorted by node name."""
        return [tuple(sorted(pair, key=lambda n: n.name)) for pair in self._symmetries]  # type: ignore[misc]

    @property
    def symmetry_names(self) -> list[tuple[str, str]]:
        return [(a.name, b.name) for a, b in self.symmetries]

    @property
    def symmetry_inds(self) -> list[tuple[int, int]]:
        index = {id(n): i for i, n in enumerate(self._nodes)}
        return [(index[id(a)], index[id(b)]) for a, b in self.symmetries]

    @property
    def symmetric_inds(self) -> np.ndarray:
        return np.array(self.symmetry_inds, dtype=np.int64).reshape(-1, 2)

    @property
    def graph_edges(self) -> list[tuple[Node, Node]]:
        return self.edges

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, node: object) -> bool:
        if isinstance(node, Node):
            return any(n is node for n in self._nodes)
        return isinstance(node, str) and node in self.node_names

    def __iter__(self):  # noqa: ANN204 - iterates nodes like SLEAP's graph
        return iter(list(self._nodes))

    def find_node(self, name: NodeRef) -> Node | None:
        if isinstance(name, Node):
            return name if any(n is name for n in self._nodes) else None
        for n in self._nodes:
            if n.name == name:
                return n
        return None

    def has_node(self, name: NodeRef) -> bool:
        return self.find_node(name) is not None

    def node(self, ref: NodeRef) -> Node:
        """The node for a `Node`, name or index; `NotFoundError` when absent."""
        if isinstance(ref, int | np.integer) and not isinstance(ref, bool):
            if not 0 <= int(ref) < len(self._nodes):
                raise NotInLabelsError(f"node index {ref} is out of range for skeleton "
                                    f"{self.name!r} ({len(self._nodes)} nodes)")
            return self._nodes[int(ref)]
        found = self.find_node(ref)
        if found is None:
            label = ref.name if isinstance(ref, Node) else ref
            raise NotInLabelsError(f"node {label!r} is not in skeleton {self.name!r}")
        return found

    def node_to_index(self, node: NodeRef) -> int:
        target = self.node(node)
        return next(i for i, n in enumerate(self._nodes) if n is target)

    def get_symmetry(self, node: NodeRef) -> Node | None:
        target = self.node(node)
        for a, b in self._symmetries:
            if a is target:
                return b
            if b is target:
                return a
        return None

    def get_symmetry_name(self, node: NodeRef) -> str | None:
        partner = self.get_symmetry(node)
        return None if partner is None else partner.name

    def matches(self, other: Any) -> bool:
        """Same node names in order and the same body edges (by position)."""
        if not isinstance(other, Skeleton):
            return False
        return (self.node_names == other.node_names
                and sorted(self.edge_inds) == sorted(other.edge_inds))

    # ----------------------------------------------------------------- changing

    def _route(self, method: str, *args: Any) -> bool:
        if self._owner is None:
            return False
        self._owner._edit_skeleton(self, method, args)
        return True

    def add_node(self, node: Node | str) -> Node:
        if not isinstance(node, Node | str) or not str(getattr(node, "name", node)):
            raise ValidationError(f"a node is a Node or a non-empty name, not {node!r}")
        name = node.name if isinstance(node, Node) else node
        if self.find_node(name) is not None:
            raise ValidationError(f"skeleton {self.name!r} already has a node named {name!r}")
        if self._owner is not None:
            self._owner.add_node(self, name)
            return self._nodes[-1]
        new = node if isinstance(node, Node) else Node(name)
        new._skeleton = self
        self._nodes.append(new)
        return new

    def add_nodes(self, nodes: Iterable[Node | str]) -> None:
        for node in nodes:
            self.add_node(node)

    def add_edge(self, source: NodeRef, destination: NodeRef) -> None:
        if self._route("add_edge", source, destination):
            return
        a, b = self.node(source), self.node(destination)
        if any(x is a and y is b for x, y in self._edges):
            raise ValidationError(f"skeleton {self.name!r} already has edge {a.name}->{b.name}")
        self._edges.append((a, b))

    def delete_edge(self, source: NodeRef, destination: NodeRef) -> None:
        if self._route("delete_edge", source, destination):
            return
        a, b = self.node(source), self.node(destination)
        for i, (x, y) in enumerate(self._edges):
            if x is a and y is b:
                del self._edges[i]
                return
        raise NotInLabelsError(f"skeleton {self.name!r} has no edge {a.name}->{b.name}")

    def add_symmetry(self, node1: NodeRef, node2: NodeRef) -> None:
        if self._route("add_symmetry", node1, node2):
            return
        a, b = self.node(node1), self.node(node2)
        if a is b:
            raise ValidationError("a node cannot be symmetric to itself")
        for n in (a, b):
            if self.get_symmetry(n) is not None:
                raise ValidationError(f"node {n.name!r} already has a symmetry")
        self._symmetries.append((a, b))

    def delete_symmetry(self, node1: NodeRef, node2: NodeRef) -> None:
        if self._route("delete_symmetry", node1, node2):
            return
        a, b = self.node(node1), self.node(node2)
        for i, (x, y) in enumerate(self._symmetries):
            if (x is a and y is b) or (x is b and y is a):
                del self._symmetries[i]
                return
        raise NotInLabelsError(f"no symmetry between {a.name!r} and {b.name!r}")

    def delete_node(self, name: NodeRef) -> None:
        node = self.node(name)
        if self._owner is not None:
            self._owner.remove_node(self, node.name)
            return
        self._nodes = [n for n in self._nodes if n is not node]
        self._edges = [(a, b) for a, b in self._edges if a is not node and b is not node]
        self._symmetries = [(a, b) for a, b in self._symmetries
                            if a is not node and b is not node]
        node._skeleton = None

    def relabel_node(self, old_name: str, new_name: str) -> None:
        if self._owner is not None:
            self._owner.rename_node(self, old_name, new_name)
            return
        node = self.node(old_name)
        if new_name != old_name and self.find_node(new_name) is not None:
            raise ValidationError(f"skeleton {self.name!r} already has a node named {new_name!r}")
        node._name = str(new_name)

    def relabel_nodes(self, mapping: dict[str, str]) -> None:
        for old, new in mapping.items():
            self.relabel_node(old, new)

    # ----------------------------------------------------------------- building

    @classmethod
    def from_names_and_edge_inds(cls, node_names: Sequence[str],
                                 edge_inds: Sequence[Sequence[int]] | None = None,
                                 name: str | None = None) -> Skeleton:
        skel = cls(name)
        skel.add_nodes(list(node_names))
        for src, dst in edge_inds or []:
            skel.add_edge(int(src), int(dst))
        return skel

    def copy_detached(self, deep: bool = False) -> Skeleton:
        """A free-standing copy: sharing the Node objects (to stage an edit), or with
        new Node objects (``deep``, to copy a skeleton into another labels)."""
        clone = Skeleton(self._name)
        if not deep:
            clone._nodes = list(self._nodes)
            clone._edges = list(self._edges)
            clone._symmetries = list(self._symmetries)
            return clone
        new = {id(n): Node(n.name, n.weight) for n in self._nodes}
        for node in new.values():
            node._skeleton = clone
        clone._nodes = [new[id(n)] for n in self._nodes]
        clone._edges = [(new[id(a)], new[id(b)]) for a, b in self._edges]
        clone._symmetries = [(new[id(a)], new[id(b)]) for a, b in self._symmetries]
        return clone

    def __repr__(self) -> str:
        return f"Skeleton(name={self.name!r}, nodes={self.node_names}, edges={self.edge_names})"
