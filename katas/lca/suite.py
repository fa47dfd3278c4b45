"""Hidden suite for lca: runs in the checker; the harness builds the same trees in the worker.

Trees travel as recipes (katas._shared.trees): both sides build the same shape, the reference
answers here on its own copy, and the harness reports the id of the node the attempt returned.
Outside deep_chain every tree is shallower than 300 levels, as the spec promises, so recursive
attempts lose only deep_chain.
"""
from __future__ import annotations

import functools
import time

from hypothesis import strategies as st

from checker.proxy import AttemptAbort, AttemptRaised
from checker.suite import expect, fail, prop
from katas._shared.trees import BUSHY, DEEP_CHAIN, TIMED, Recipe, build, level_order, link, recipes

MAX_N = 40  # hypothesis trees: readable when they fail, and at most 40 deep


class Node:
    """The reference's node (filled in by trees.link): the same three slots as the attempt's."""
    __slots__ = ("val", "left", "right")


# The timed properties' trees (trees.TIMED) are kept for the whole session: the examples
# hypothesis draws between two checks would evict them from an LRU, and `kata watch` would build
# and link them again (~0.15 s) on every save.
_kept: dict = {}


@functools.lru_cache(maxsize=512)
def _small_shape(recipe: Recipe):
    return build(recipe)


@functools.lru_cache(maxsize=2)
def _small_linked(recipe: Recipe):
    return link(_small_shape(recipe), Node)


def _timed_tree(recipe: Recipe):
    if recipe not in _kept:
        sh = build(recipe)
        _kept[recipe] = sh, link(sh, Node)
    return _kept[recipe]


def shape(recipe: Recipe):
    return _timed_tree(recipe)[0] if recipe in TIMED else _small_shape(recipe)


def linked(recipe: Recipe):
    """Checker-side nodes for the reference (which never changes them)."""
    return _timed_tree(recipe)[1] if recipe in TIMED else _small_linked(recipe)


class Case:
    """A drawn question. Its repr is the counterexample the learner reads (LeetCode notation)."""

    def __init__(self, recipe: Recipe, p: int, q: int):
        self.recipe, self.p, self.q = recipe, p, q

    def __repr__(self):
        sh = shape(self.recipe)
        return f"root = {level_order(sh)}, p = {sh.vals[self.p]}, q = {sh.vals[self.q]}"


@st.composite
def cases(draw, pick="any", min_n=1):
    """A tree and a pair of its nodes. pick: any | same (p is q) | ancestor (one is a proper
    ancestor of the other, either order) | root (p or q is the root)."""
    recipe = draw(recipes(max_n=MAX_N, min_n=min_n))
    sh = shape(recipe)
    node = st.integers(0, sh.n - 1)
    if pick == "any":
        p, q = draw(node), draw(node)
    elif pick == "same":
        p = q = draw(node)
    elif pick == "ancestor":
        low = draw(st.integers(1, sh.n - 1))
        above = sh.ancestors(low)[1:]
        high = above[draw(st.integers(0, len(above) - 1))]
        p, q = (high, low) if draw(st.booleans()) else (low, high)
    elif pick == "root":
        other = draw(node)
        p, q = (0, other) if draw(st.booleans()) else (other, 0)
    return Case(recipe, p, q)


def reference_answers(k, recipe, pairs):
    """The reference's answers (node ids) and its seconds for all pairs, on the checker's copy."""
    nodes = linked(recipe)
    t0 = time.perf_counter()
    got = [k.ref.lowest_common_ancestor(nodes[0], nodes[p], nodes[q]) for p, q in pairs]
    seconds = time.perf_counter() - t0
    return [nodes.index(g) for g in got], seconds  # index: by identity, Node has no __eq__


def ask(k, recipe, pairs, **kwargs):
    """Run the attempt in the worker on each pair; the Outcome's value is the harness's report."""
    return k.harness("lowest_common_ancestor", recipe.data(), [list(pq) for pq in pairs], **kwargs)


def check_answers(k, recipe, pairs, report, where="", want=None):
    sh = shape(recipe)
    if want is None:
        want, _ = reference_answers(k, recipe, pairs)
    for (p, q), w, got in zip(pairs, want, report["answers"]):
        if got == w:
            continue
        expected = f"node {sh.vals[w]} (for p = {sh.vals[p]}, q = {sh.vals[q]}{where})"
        if isinstance(got, int):
            fail("must return the lowest common ancestor of p and q", expected=expected,
                 got=f"node {sh.vals[got]}")
        if got == "None":
            fail("returned None: p and q are always in the tree, so there is always an answer",
                 expected=expected, got=got)
        if got.startswith(("int ", "str ")):
            fail("must return the node object itself (identity), not its value", expected=expected,
                 got=got)
        fail("must return one of the tree's own nodes", expected=expected, got=got)


def answers_right(k, case):
    pairs = [(case.p, case.q)]
    check_answers(k, case.recipe, pairs, ask(k, case.recipe, pairs).value)


@prop(weight=4, given={"case": cases()}, examples=30)
def random_shapes(k, case):
    """Random, balanced, skewed and broom-shaped trees: returns the LCA node itself."""
    answers_right(k, case)


@prop(weight=2, given={"case": cases(pick="ancestor", min_n=2)}, examples=15)
def ancestor_pairs(k, case):
    """p is an ancestor of q, or q of p: the ancestor is the answer."""
    answers_right(k, case)


@prop(weight=1, given={"case": cases(pick="same")}, examples=8)
def same_node(k, case):
    """p is q: the node is its own lowest common ancestor."""
    answers_right(k, case)


@prop(weight=1, given={"case": cases(pick="root")}, examples=8)
def root_involved(k, case):
    """p or q is the root: the root is the answer."""
    answers_right(k, case)


@prop(weight=2, given={"case": cases()}, examples=15)
def tree_unchanged(k, case):
    """The tree is left exactly as it was after answering with one of its nodes: same links, same values."""
    report = ask(k, case.recipe, [(case.p, case.q)]).value
    # Leaving the tree alone earns the points only with an answer: a function that returns
    # None (or anything but a node of the tree) changes nothing and must not score for it.
    got = report["answers"][0]
    expect(isinstance(got, int), "answer with a node of the tree (then the tree must be left as it was)",
           expected="a node of the tree", got=got)
    changed = report["changed"]
    expect(not changed, "the tree must be left exactly as it was (restore anything you change)",
           expected="every node's val, left and right as before", got="; ".join(changed))


def _timed(k, recipe, pairs, what):
    """The attempt's answers on a big tree, timed against the reference's on the same pairs.

    Same input, same run, so machine load slows both: 10x the reference plus 1 s for the
    worker's round trip and its check that the tree is intact. Anything quadratic in n or in
    the depth takes tens of seconds here. All pairs go in one worker call (one round trip and
    one check of the tree), timed as a whole.
    """
    # The worker's copy is built at its import; prepare rebuilds it, untimed, if an earlier call
    # changed it.
    k.harness("prepare", recipe.data(), timeout=30)
    want, ref_seconds = reference_answers(k, recipe, pairs)
    limit = 10 * ref_seconds + 1
    try:
        out = ask(k, recipe, pairs, timeout=limit + 4)
    except AttemptAbort as exc:
        if exc.status == "timeout":
            raise AttemptAbort("timeout", f"{exc.message} on {what} (the reference needs "
                                          f"{ref_seconds:.2f} s): is the work quadratic?") from None
        raise
    check_answers(k, recipe, pairs, out.value, where=f" on {what}", want=want)
    # tree_unchanged draws small trees; this catches an attempt that changes only big ones.
    expect(not out.value["changed"], f"the tree must be left exactly as it was ({what})",
           expected="every node's val, left and right as before", got="; ".join(out.value["changed"]))
    expect(out.elapsed <= limit, f"must run in linear time on {what}",
           expected=f"≤ {limit:.1f} s for {len(pairs)} pair(s) (the reference takes {ref_seconds:.2f} s)",
           got=f"{out.elapsed:.1f} s")


@prop(weight=1)
def deep_chain(k):
    """A chain 10^5 deep: answered without RecursionError, in time comparable to the reference."""
    n = DEEP_CHAIN.n
    # A mid-chain node and a leaf at the bottom: the answer is the mid-chain node, 50000 deep,
    # 50000 levels above the leaf (so rescanning a list of ancestors is quadratic here).
    pairs = [(n // 2, n - 1)]
    try:
        _timed(k, DEEP_CHAIN, pairs, "a chain of 10^5 nodes")
    except AttemptRaised as exc:
        if exc.is_a("RecursionError"):
            fail("must not recurse once per level: a chain 10^5 deep exceeds Python's recursion "
                 "limit (1000, fixed in the checker); use an explicit stack or a parent map",
                 expected="an answer", got="RecursionError")
        raise


def _deep_pair(recipe):
    """The deepest nodes under the last two spine nodes of a broom: their answer is the
    second-to-last spine node, so a search from the root must go all the way down."""
    sh = shape(recipe)
    order, par = sh.bfs(), sh.parents()
    spine = recipe.spine
    under = {}
    for i in order:  # BFS order: the last node seen under each spine node is a deepest one
        top = i
        while top >= spine:
            top = par[top]
        under[top] = i
    return under[spine - 1], under[spine - 2]


def _far_pairs(recipe):
    """Nodes found last by a left-first DFS, a right-first DFS and a BFS: whatever order an
    attempt searches in, one of these pairs makes it visit nearly the whole tree."""
    sh = shape(recipe)

    def last_preorder(first, second):
        # The last node of a preorder: keep taking the child visited second, else the first.
        i = 0
        while first[i] >= 0 or second[i] >= 0:
            i = second[i] if second[i] >= 0 else first[i]
        return i

    bfs = sh.bfs()
    return [(last_preorder(sh.left, sh.right), last_preorder(sh.right, sh.left)), (bfs[-1], bfs[-2])]


# Line counts at two sizes (8x the nodes), on the shapes worst for each kind of extra work:
#   broom    — 20 nodes per spine node, 8x the depth too (≤ 90 levels): searching the subtrees
#              again at every level down the spine costs O(n · depth);
#   balanced — the widest tree (half the nodes on the last level): work per level or per frontier;
#   path     — a chain (≤ 200 levels, still within the recursion limit): rescanning the path or
#              the ancestors at every step costs O(depth²).
# The pair asked is the one whose search goes deepest (the answer at the bottom of the spine,
# or the last leaves a search finds).
LINE_SHAPES = {
    "broom": [Recipe("broom", 20 * spine, seed=spine, wide=True, spine=spine) for spine in (10, 80)],
    "balanced": [Recipe("balanced", n, seed=n, wide=True) for n in (500, 4000)],
    "path": [Recipe("path", n, seed=n, wide=True) for n in (25, 200)],
}


def _worst_pair(recipe):
    return _deep_pair(recipe) if recipe.kind == "broom" else _far_pairs(recipe)[1]


@prop(weight=2)
def linear_time(k):
    """O(n) time: lines counted at two sizes (broom, widest, chain), then time compared with the reference on 10^5 nodes."""
    for kind, recipes_ in LINE_SHAPES.items():
        counts = []
        for recipe in recipes_:
            pairs = [_worst_pair(recipe)]
            report = ask(k, recipe, pairs, count_lines=True).value
            check_answers(k, recipe, pairs, report, where=f" on a {kind} tree of {recipe.n} nodes")
            counts.append(report["lines"][0])
        # 8x the nodes: a linear search does at most ~8x the lines; searching each subtree again
        # at every level, or rescanning a path, does ~64x.
        ratio = counts[1] / max(counts[0], 1)
        expect(ratio <= 16, f"work must grow linearly with the number of nodes ({kind} trees)",
               expected="at most ~8x the lines for 8x the nodes",
               got=f"{ratio:.1f}x ({counts[0]} → {counts[1]} lines, {recipes_[0].n} → {recipes_[1].n} nodes)")
    # Far pairs make any search visit nearly every node; the deep pair makes a descent from the
    # root go all the way down the 250-node spine.
    _timed(k, BUSHY, _far_pairs(BUSHY) + [_deep_pair(BUSHY)], "a tree of 10^5 nodes (depth < 300)")
