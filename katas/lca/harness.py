"""Worker-side glue for lca: build the tree, call the attempt, report what came back.

Runs next to the attempt, so it only measures: which node (by id) each call returned, Python
lines executed, and whether the tree still has exactly its original links and values. The suite
judges all of it against the reference.
"""
from __future__ import annotations

import sys
from operator import attrgetter, is_

from checker.probes import LineCount
from katas._shared.trees import TIMED, Recipe, build, link


class TreeNode:
    """The checker's node: exactly val, left, right (no other attribute can be set)."""
    __slots__ = ("val", "left", "right")

    def __init__(self, val=0, left=None, right=None):
        self.val, self.left, self.right = val, left, right

    def __repr__(self):
        return f"TreeNode(val={getattr(self, 'val', '?')})"


def _ignored_setrecursionlimit(limit):
    """The spec fixes Python's default recursion limit; an attempt's change has no effect."""


# Without this, raising the limit at import time would let deep recursion through the chain.
sys.setrecursionlimit = _ignored_setrecursionlimit

_kept: dict = {}  # the timed properties' trees (katas._shared.trees.TIMED), ~15 MB each


class _Tree:
    def __init__(self, recipe: Recipe):
        self.shape = build(recipe)
        self.nodes = link(self.shape, TreeNode)
        # What every node's fields must still be, for a check that runs at C speed.
        self.want = [(name, [self.nodes[i] if i >= 0 else None for i in ids])
                     for name, ids in (("left", self.shape.left), ("right", self.shape.right))]
        self.want.append(("val", self.shape.vals))

    def intact(self) -> bool:
        try:
            return all(all(map(is_, map(attrgetter(name), self.nodes), want)) for name, want in self.want)
        except AttributeError:  # a deleted attribute
            return False

    def changes(self, limit=3) -> list:
        """How the tree differs from its shape now (empty when it is intact)."""
        if self.intact():
            return []
        out, nodes, shape, missing = [], self.nodes, self.shape, object()
        for i, node in enumerate(nodes):
            for attr, want in (("left", shape.left[i]), ("right", shape.right[i])):
                got = getattr(node, attr, missing)
                if got is not (nodes[want] if want >= 0 else None):
                    out.append(f"node {shape.vals[i]}: .{attr} was {self.name(want)}, "
                               f"now {self.describe(got) if got is not missing else 'deleted'}")
            val = getattr(node, "val", missing)
            if type(val) is not int or val != shape.vals[i]:
                out.append(f"node {shape.vals[i]}: .val is now "
                           f"{'deleted' if val is missing else self.describe(val)}")
            if len(out) >= limit:
                break
        return out[:limit]

    def node_id(self, obj):
        """The id of obj if it is one of this tree's nodes (by identity), else None."""
        if type(obj) is not TreeNode:
            return None
        try:  # list.index tries identity first, and TreeNode has no __eq__
            return self.nodes.index(obj)
        except ValueError:
            return None

    def name(self, i):
        return "None" if i < 0 else f"node {self.shape.vals[i]}"

    def describe(self, obj) -> str:
        """A returned object in words: a tree node by its value, anything else by type and repr."""
        if obj is None:
            return "None"
        i = self.node_id(obj)
        if i is not None:
            return f"node {self.shape.vals[i]}"
        if isinstance(obj, TreeNode):
            return f"a TreeNode with val {getattr(obj, 'val', '?')!r} that is not a node of this tree"
        try:
            text = repr(obj)
        except Exception:
            text = "?"
        return f"{type(obj).__name__} {text[:60]}"


def _tree(data) -> _Tree:
    recipe = Recipe(**data)
    if recipe not in TIMED:
        return _Tree(recipe)
    if recipe not in _kept:  # only after an attempt changed it
        _kept[recipe] = _Tree(recipe)
    return _kept[recipe]


# The timed trees are built at import (~0.2 s): kata.toml preloads this module, so a warm
# zygote (kata watch, kata grade) builds them once and every worker forked from it starts with
# them.
for _recipe in TIMED:
    _tree(_recipe.data())


def prepare(attempt, recipe):
    """Rebuild a timed tree an earlier call changed before it is timed again, so the timing sees
    only the attempt."""
    return _tree(recipe).shape.n


def lowest_common_ancestor(attempt, recipe, queries, count_lines=False):
    """Answer each (p, q) pair of node ids with the attempt on the tree the recipe names.

    Returns answers (a node id, or a description of what came back instead of a tree node),
    Python lines per call when count_lines, and the changes found in the tree afterwards.
    """
    tree = _tree(recipe)
    nodes, answers, lines = tree.nodes, [], []
    try:
        for p, q in queries:
            if count_lines:
                with LineCount() as probe:
                    got = attempt.lowest_common_ancestor(nodes[0], nodes[p], nodes[q])
                lines.append(probe.result())
            else:
                got = attempt.lowest_common_ancestor(nodes[0], nodes[p], nodes[q])
            i = tree.node_id(got)
            answers.append(i if i is not None else tree.describe(got))
    finally:
        changed = tree.changes()
        if changed:
            _kept.pop(Recipe(**recipe), None)  # never reuse a tree the attempt has modified
    return {"answers": answers, "lines": lines, "changed": changed}
