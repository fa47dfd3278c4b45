"""Binary trees for tree katas, as plain data built from a small recipe.

A Shape is three lists indexed by node id: left[i] and right[i] (a child id, or -1) and vals[i];
the root is id 0 and every child has a larger id than its parent. A Recipe (kind, n, seed, wide,
spine) names a shape, so the checker and the worker each build the *same* tree from a few
numbers instead of shipping 10^5 nodes, and hypothesis draws (and shrinks) the recipe rather
than the nodes.

Builders are iterative and spend their loops in plain arithmetic: they never recurse (chains are
10^5 deep) and stay fast even while a profiler or tracer watches the worker. This module imports
hypothesis only inside the strategy functions, because the worker imports it for the builders.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

VAL_MIN, VAL_MAX = -10**9, 10**9
# Shapes hypothesis draws for ordinary properties, simplest to read first (shrinking goes there).
KINDS = ("random", "path", "balanced", "caterpillar", "broom")


@dataclass(frozen=True)
class Recipe:
    kind: str        # random | path | balanced | caterpillar | broom | forked_path
    n: int           # number of nodes, >= 1
    seed: int = 0
    wide: bool = False   # values spread over [-1e9, 1e9]; else a shuffle of 0..n-1 (readable)
    spine: int = 0       # broom only: spine length (0: about sqrt(n))

    def data(self) -> dict:
        """Plain data for the worker boundary."""
        return {"kind": self.kind, "n": self.n, "seed": self.seed, "wide": self.wide, "spine": self.spine}


# 10^5-node trees for complexity properties. DEEP_CHAIN: a chain 10^5 deep ending in two leaves.
# BUSHY: a broom of 250 chain nodes carrying ~400-node random subtrees, depth < 300 (recursive
# attempts survive it), where searching each subtree again at every level costs O(n * 250).
DEEP_CHAIN = Recipe("forked_path", 100_000, seed=11, wide=True)
BUSHY = Recipe("broom", 100_000, seed=5, wide=True, spine=250)
TIMED = (BUSHY, DEEP_CHAIN)  # both sides keep these built: every check times them again


@dataclass
class Shape:
    left: list
    right: list
    vals: list

    @property
    def n(self):
        return len(self.vals)

    def parents(self) -> list:
        par = [-1] * self.n
        for i in range(self.n):
            if self.left[i] >= 0:
                par[self.left[i]] = i
            if self.right[i] >= 0:
                par[self.right[i]] = i
        return par

    def depths(self) -> list:
        """Depth of every node (root 0), by a top-down sweep over a BFS order."""
        depth = [0] * self.n
        for i in self.bfs():
            for c in (self.left[i], self.right[i]):
                if c >= 0:
                    depth[c] = depth[i] + 1
        return depth

    def bfs(self) -> list:
        order = [0]
        for i in order:
            if self.left[i] >= 0:
                order.append(self.left[i])
            if self.right[i] >= 0:
                order.append(self.right[i])
        return order

    def ancestors(self, i, parents=None) -> list:
        """i, its parent, ..., the root."""
        par = parents or self.parents()
        out = [i]
        while par[out[-1]] >= 0:
            out.append(par[out[-1]])
        return out


def _randoms(seed: int, count: int) -> list:
    """count pseudo-random 32-bit ints from seed, in a few C calls (no per-number Python call)."""
    if count <= 0:
        return []
    bits = random.Random(seed).getrandbits(32 * count)
    return memoryview(bits.to_bytes(4 * count, "little")).cast("I").tolist()


def _values(n: int, seed: int, wide: bool) -> list:
    r = _randoms(seed ^ 0x5EED, n)
    if wide:
        # i -> (a*i + b) mod (2e9 + 1) is a bijection (a is coprime to the modulus): distinct
        # values over the whole range, in no order related to the shape.
        m = VAL_MAX - VAL_MIN + 1
        a, b = 2654435761, (r[0] << 16) | (seed & 0xFFFF)
        return [(a * i + b) % m + VAL_MIN for i in range(n)]
    vals = list(range(n))
    for i in range(n - 1, 0, -1):  # Fisher-Yates with precomputed randoms
        j = r[i] % (i + 1)
        vals[i], vals[j] = vals[j], vals[i]
    return vals


def _grow_random(left, right, ids, r):
    """Hang ids[1:] under ids[0], each in a uniformly chosen free child slot (a random tree of
    logarithmic expected depth). Slot s of node v is 2*v + side."""
    slots = [0] * (2 * len(ids) + 2)
    slots[0], slots[1] = 2 * ids[0], 2 * ids[0] + 1
    top = 2
    for k in range(1, len(ids)):
        j = r[ids[k]] % top
        s = slots[j]
        top -= 1
        slots[j] = slots[top]
        (right if s & 1 else left)[s >> 1] = ids[k]
        slots[top], slots[top + 1] = 2 * ids[k], 2 * ids[k] + 1
        top += 2


def build(recipe: Recipe) -> Shape:
    n, kind = recipe.n, recipe.kind
    if n < 1:
        raise ValueError("a tree has at least one node")
    left, right = [-1] * n, [-1] * n
    r = _randoms(recipe.seed, n)
    if kind == "random":
        _grow_random(left, right, list(range(n)), r)
    elif kind == "balanced":  # complete tree in heap order
        for i in range(n):
            if 2 * i + 1 < n:
                left[i] = 2 * i + 1
            if 2 * i + 2 < n:
                right[i] = 2 * i + 2
    elif kind in ("path", "forked_path"):
        # A chain turning left or right at random; forked_path ends in two leaves, so the
        # deepest pair of nodes has its answer at the bottom of the chain.
        chain = n - 2 if kind == "forked_path" and n >= 3 else n
        for i in range(1, chain):
            (right if r[i] & 1 else left)[i - 1] = i
        if chain < n:
            left[chain - 1], right[chain - 1] = chain, chain + 1
    elif kind == "caterpillar":  # a chain with one leaf hanging off every chain node
        spine = 0
        for i in range(1, n, 2):
            a, b = (left, right) if r[i] & 1 else (right, left)
            a[spine] = i
            if i + 1 < n:
                b[spine] = i + 1
                spine = i + 1
    elif kind == "broom":
        # A chain of `spine` nodes, each carrying a random subtree: subtree sizes shrink
        # linearly down the chain, so re-searching subtrees costs O(n * spine), not O(n log n).
        s = min(n, recipe.spine or max(1, int(n ** 0.5)))
        for i in range(1, s):
            (right if r[i] & 1 else left)[i - 1] = i
        rest = list(range(s, n))
        per, extra = divmod(len(rest), s)
        start = 0
        for v in range(s):
            size = per + (1 if v < extra else 0)
            if size:
                ids = rest[start:start + size]
                start += size
                # The side the chain does not take (the last chain node: either side).
                chain_right = bool(r[v + 1] & 1) if v + 1 < s else not (r[v] & 1)
                (left if chain_right else right)[v] = ids[0]
                _grow_random(left, right, ids, r)
    else:
        raise ValueError(f"unknown tree kind {kind!r}")
    return Shape(left, right, _values(n, recipe.seed, recipe.wide))


def link(shape: Shape, node_class) -> list:
    """Node objects for a shape, listed by id: node_class instances with val, left and right set.

    Made with object.__new__ (node_class's __init__ is not called), then filled in one pass:
    twice as fast as calling a Python __init__ 10^5 times.
    """
    new, n = object.__new__, len(shape.vals)
    nodes = [new(node_class) for _ in range(n)]
    nodes.append(None)  # so that child id -1 reads as None
    for node, val, a, b in zip(nodes, shape.vals, shape.left, shape.right):
        node.val, node.left, node.right = val, nodes[a], nodes[b]
    nodes.pop()
    return nodes


def level_order(shape: Shape, limit: int = 64) -> str:
    """LeetCode's serialization, e.g. [3, 5, 1, null, 2]; long trees are cut after `limit` items."""
    items, queue = [], [0]
    for i in queue:
        if i < 0:
            items.append("null")
            continue
        items.append(str(shape.vals[i]))
        queue += [shape.left[i], shape.right[i]]
        if len(items) > limit:
            break
    while items and items[-1] == "null":
        items.pop()
    cut = len(items) > limit
    return "[" + ", ".join(items[:limit]) + (", …" if cut else "") + "]"


# ---- hypothesis strategies -----------------------------------------------------------------

def recipes(max_n: int = 40, min_n: int = 1, kinds=KINDS, wide=None):
    """Tree recipes: a shape kind, a size, a seed and a value style. Shrinks to a one-node tree
    with small readable values. wide=None draws the value style too."""
    from hypothesis import strategies as st
    return st.builds(Recipe, kind=st.sampled_from(kinds), n=st.integers(min_n, max_n),
                     seed=st.integers(0, 2**16 - 1),
                     wide=st.booleans() if wide is None else st.just(wide))
