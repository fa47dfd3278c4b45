"""Similarity: a disguised copy is caught, independent solutions are not."""
import ast
import builtins
import io
import keyword
import random
import tokenize

import pytest

from checker.catalog import Catalog
from checker.similarity import class_pairs, compare, normalise

THRESHOLD = 0.8  # the grader's default (checker.grading); independent pairs must stay well below


def disguise(src: str, seed: int = 0) -> str:
    """What a copier does: rename every variable and function, rewrite every comment, reorder
    the top-level definitions."""
    rng = random.Random(seed)
    toks = list(tokenize.generate_tokens(io.StringIO(src).readline))
    names, out = {}, []
    for i, t in enumerate(toks):
        s = t.string
        if (t.type == tokenize.NAME and not keyword.iskeyword(s) and not hasattr(builtins, s)
                and (i == 0 or toks[i - 1].string != ".")):
            s = names.setdefault(s, f"v{rng.randrange(10**6)}_{len(names)}")
        elif t.type == tokenize.COMMENT:
            s = "# " + " ".join(rng.sample(["see", "why", "this", "works", "here"], 3))
        out.append((t.type, s))
    text = tokenize.untokenize(out)
    tree, lines = ast.parse(text), text.splitlines(keepends=True)
    starts = [min([n.lineno] + [d.lineno for d in getattr(n, "decorator_list", [])]) - 1 for n in tree.body]
    blocks = ["".join(lines[a:b]) for a, b in zip(starts, starts[1:] + [len(lines)])]
    defs = [b for b, n in zip(blocks, tree.body) if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    rest = [b for b, n in zip(blocks, tree.body) if not isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    rng.shuffle(defs)
    return "".join(rest) + "\n\n".join(defs)


CATALOG = Catalog()


@pytest.mark.parametrize("kata", [k.id for k in CATALOG.all()])
def test_a_renamed_reordered_recommented_copy_scores_at_least_0_9(kata):
    k = CATALOG.get(kata)
    ref = k.reference.read_text()
    copy = disguise(ref)
    assert copy != ref
    ast.parse(copy)
    assert compare(ref, copy, k.stub.read_text()).score >= 0.9


# Alternatives written independently of the reference, in other styles (solutions/<id>/alternatives).
@pytest.mark.parametrize("kata", ["lca", "merge_sorted", "online_softmax"])
def test_independent_correct_solutions_stay_well_below_the_threshold(kata):
    k = CATALOG.get(kata)
    ref, stub = k.reference.read_text(), k.stub.read_text()
    alts = sorted((k.solutions / "alternatives").glob("*.py"))
    assert alts
    for alt in alts:
        assert compare(ref, alt.read_text(), stub).score < THRESHOLD - 0.1, alt.name


def test_the_stub_is_not_evidence():
    stub = 'def f(xs):\n    """Return the thing."""\n    raise NotImplementedError\n'
    assert compare(stub, stub, stub).score == 0.0


def test_names_literals_comments_and_docstrings_are_erased():
    a = 'def f(x):\n    """Doc."""\n    return x + 1  # one\n'
    b = "def g(y):\n    return y + 2\n"
    assert [t.text for t in normalise(a)] == [t.text for t in normalise(b)]
    assert normalise("def broken(:\n") == [] or isinstance(normalise("def broken(:\n"), list)


def test_pairs_report_matching_line_ranges_most_similar_first():
    k = CATALOG.get("lca")
    ref = k.reference.read_text()
    sources = {"ann": ref, "ben": disguise(ref, 1), "cal": k.stub.read_text()}
    pairs = class_pairs("lca", sources, k.stub.read_text())
    assert (pairs[0].a, pairs[0].b) == ("ann", "ben") and pairs[0].score >= 0.9
    assert pairs[0].lines_a and all(a <= b for a, b in pairs[0].lines_a)
    assert all(p.score == 0.0 for p in pairs if "cal" in (p.a, p.b))
