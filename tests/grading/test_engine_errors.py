"""The engine's own failure is never a student's grade, and a hanging attempt has a bounded cost.

A small kata built here (`lazy`): its harness converts a float result with a helper imported
only when needed, and the environment lacks that helper, so an attempt returning a float meets
an engine failure (a missing import in the harness, no frame of the attempt's). Such a pair is
ungraded in `kata grade`, an internal error in `kata check`, and has no score in Gradescope.
"""
import json
import shutil

import pytest
from click.testing import CliRunner

from checker import grading, runner
from checker.catalog import Catalog
from checker.commands import main
from tests.conftest import FIXTURES

SUITE = '''from hypothesis import strategies as st

from checker.suite import expect, prop


@prop(weight=2, given={"xs": st.lists(st.integers(-9, 9), max_size=5)}, examples=10)
def totals(k, xs):
    """total(xs) is the sum of xs."""
    got = k.harness("total", list(xs)).value
    expect(got == sum(xs), "total must equal the sum", expected=sum(xs), got=got)


@prop(weight=1, given={"a": st.integers(-9, 9), "b": st.integers(-9, 9)}, examples=10)
def adds(k, a, b):
    """add(a, b) is a + b."""
    expect(k.attempt.add(a, b) == a + b, "add must return a + b")


@prop(weight=1, given={"x": st.integers(-9, 9)}, examples=10)
def negates(k, x):
    """neg(x) is -x."""
    expect(k.attempt.neg(x) == -x, "neg must return -x")
'''
HARNESS = '''def total(attempt, xs):
    value = attempt.total(xs)
    if isinstance(value, float):
        # Floats go through an optional converter, imported when first needed; this fixture's
        # environment lacks it: an engine failure, whatever the attempt did.
        import kata_fixture_missing_converter  # noqa: F401
    return value
'''
REFERENCE = "def total(xs):\n    return sum(xs)\n\n\ndef add(a, b):\n    return a + b\n\n\ndef neg(x):\n    return -x\n"
FLOAT = REFERENCE.replace("return sum(xs)", "return float(sum(xs))")
STUB = "\n\n\n".join(f"def {f}:\n    raise NotImplementedError" for f in ("total(xs)", "add(a, b)", "neg(x)")) + "\n"
HANGS = "def total(xs):\n    while True:\n        pass\n\n\ndef add(a, b):\n    while True:\n        pass\n\n\ndef neg(x):\n    return -x\n"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    r = tmp_path_factory.mktemp("root")
    kata, sol = r / "katas" / "lazy", r / "solutions" / "lazy"
    kata.mkdir(parents=True)
    sol.mkdir(parents=True)
    toml = (FIXTURES / "root" / "katas" / "toy" / "kata.toml").read_text()
    (kata / "kata.toml").write_text(toml.replace('id = "toy"', 'id = "lazy"').replace("Toy sums", "Lazy sums"))
    (kata / "spec.md").write_text("# Lazy sums\n")
    (kata / "stub.py").write_text(STUB)
    (kata / "suite.py").write_text(SUITE)
    (kata / "harness.py").write_text(HARNESS)
    (sol / "reference.py").write_text(REFERENCE)
    return r


def attempt(tmp_path, text, name="lazy.py"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_check_reports_an_internal_error_not_a_score(root, tmp_path):
    r = CliRunner().invoke(main, ["--root", str(root), "check", "lazy", "--file", str(attempt(tmp_path, FLOAT))])
    assert r.exit_code == 3, r.output
    assert "Internal error" in r.output and "kata_fixture_missing_converter" in r.output
    assert "Score:" not in r.output


def test_check_json_has_no_score_and_the_error(root, tmp_path):
    r = CliRunner().invoke(main, ["--root", str(root), "check", "lazy", "--json",
                                  "--file", str(attempt(tmp_path, FLOAT))])
    data = json.loads(r.output)
    assert r.exit_code == 3 and data["score"] is None and not data["passed"]
    assert "No module named 'kata_fixture_missing_converter'" in data["internal_error"]


def test_an_attempt_raising_an_import_error_itself_is_its_own_fault(root, tmp_path):
    own = REFERENCE.replace("return sum(xs)", "import no_such_module_of_the_attempt\n    return sum(xs)")
    rep = runner.check(Catalog(str(root)), Catalog(str(root)).get("lazy"), attempt(tmp_path, own), seed=1)
    assert rep.engine_error is None
    assert {p.name: p.status for p in rep.properties}["totals"] == "error" and rep.score == 50


def test_grade_leaves_the_pair_ungraded_never_zero(root, tmp_path):
    subs = tmp_path / "subs"
    for student, text in {"ann": REFERENCE, "ben": FLOAT, "cid": STUB}.items():
        (subs / student).mkdir(parents=True)
        (subs / student / "lazy.py").write_text(text)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["--root", str(root), "grade", str(subs), "--out", str(out), "--no-progress"])
    assert r.exit_code == 1, r.output
    assert "1 (student, kata) pair could not be graded" in r.output and "ungraded ben/lazy" in r.output
    assert "Traceback" not in r.output.split("could not be graded")[0]
    book = (out / "gradebook.csv").read_text().splitlines()
    # ann and ben handed in nearly the same file: both are also flagged similar
    assert "ann,100,100,lazy:similar:ben," in book and "cid,0,0,," in book
    assert "ben,ungraded,ungraded,lazy:ungraded; lazy:similar:ann," in book
    entry = json.loads((out / "grades.json").read_text())["students"]["ben"]
    assert entry["total"] is None and entry["ungraded"] == ["lazy"]
    assert entry["reports"]["lazy"]["score"] is None
    assert "kata_fixture_missing_converter" in entry["reports"]["lazy"]["ungraded"]
    assert "not graded yet" in (out / "feedback" / "ben.md").read_text()
    again = grading.run(grading.Options(submissions=subs, out=out, root=str(root), progress=False))
    assert again.graded == 0 and again.reused == 2 and [u.student for u in again.ungraded] == ["ben"]


def test_gradescope_gives_no_score_for_an_engine_failure(root, tmp_path):
    (tmp_path / "submission").mkdir()
    (tmp_path / "submission" / "lazy.py").write_text(FLOAT)
    results = tmp_path / "results.json"
    r = CliRunner().invoke(main, ["--root", str(root), "gradescope", "run", "--submission",
                                  str(tmp_path / "submission"), "--results", str(results), "--katas", "lazy"])
    assert r.exit_code == 3, r.output
    data = json.loads(results.read_text())
    assert "score" not in data and all("score" not in t for t in data["tests"])
    assert "could not be graded" in data["output"]


def test_the_canary_stops_grading_when_a_reference_fails(root, tmp_path):
    broken = tmp_path / "root"
    shutil.copytree(root, broken)
    (broken / "solutions" / "lazy" / "reference.py").write_text(FLOAT)  # meets the missing import
    subs = tmp_path / "subs"
    (subs / "ann").mkdir(parents=True)
    (subs / "ann" / "lazy.py").write_text(REFERENCE)
    r = CliRunner().invoke(main, ["--root", str(broken), "grade", str(subs), "--out", str(tmp_path / "o"),
                                  "--no-progress"])
    assert r.exit_code == 2, r.output
    assert r.output.startswith("kata grade stopped: the reference of lazy does not score 100")
    assert "kata_fixture_missing_converter" in r.output
    assert not (tmp_path / "o" / "gradebook.csv").exists()


def test_a_hanging_attempt_stops_being_called_after_two_timeouts(root, tmp_path):
    rep = runner.check(Catalog(str(root)), Catalog(str(root)).get("lazy"), attempt(tmp_path, HANGS), seed=1)
    status = {p.name: (p.status, p.message) for p in rep.properties}
    assert status["totals"][0] == status["adds"][0] == "timeout"
    assert status["negates"] == ("timeout", runner.NOT_RUN)  # neg itself is right: the budget, not a verdict
    assert "time-budget" in rep.flags and rep.score == 0


def test_one_timeout_leaves_the_other_properties_running(root, tmp_path):
    one = REFERENCE.replace("return a + b", "while True:\n        pass")
    rep = runner.check(Catalog(str(root)), Catalog(str(root)).get("lazy"), attempt(tmp_path, one), seed=1)
    assert [p.status for p in rep.properties] == ["pass", "timeout", "pass"]
    assert "time-budget" not in rep.flags
