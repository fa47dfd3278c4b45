"""'This looks like a known mistake' (checker/diagnose.py) on the toy kata's mutants."""
from checker import runner
from checker.diagnose import rank, similarity
from checker.mutants import load_mutants, write_attempt


def test_a_mutant_is_named_by_its_own_words(catalog, toy, tmp_path):
    mutant = next(m for m in load_mutants(toy) if m.name == "adds_twice")
    report = runner.check(catalog, toy, write_attempt(toy, mutant, tmp_path), seed=1)
    assert report.diagnosis and report.diagnosis[0]["mutant"] == "adds_twice"
    d = report.to_json()["diagnosis"][0]
    assert d["mistake"] == "adds the first operand twice" and d["similarity"] == 1.0 and d["why"]
    assert "a + a" not in str(report.to_json())  # the mistake's words, never its code


def test_no_diagnosis_when_passing_unfinished_or_unloadable(catalog, toy, check):
    assert runner.check(catalog, toy, toy.reference, seed=1).diagnosis == []
    assert runner.check(catalog, toy, toy.stub, seed=1).diagnosis == []
    assert check("syntax_error").diagnosis == []


def test_rendered_report_says_it_looks_like_a_known_mistake(check):
    from rich.console import Console
    from checker.report import render
    console = Console(record=True, width=120)
    render(check("total_off_by_one"), console)
    assert "looks like a known mistake: adds one too many" in console.export_text()


def test_similarity_is_weighted_and_nothing_close_names_nothing():
    w = {"a": 4, "b": 1, "c": 1}
    assert similarity({"a"}, {"a", "b"}, w) == 0.8
    assert similarity({"c"}, {"a"}, w) == 0.0

    class M:
        def __init__(self, name, killed_by):
            self.name, self.killed_by = name, killed_by
    ranked = rank({"a", "b"}, [M("wide", ("a", "b", "c")), M("exact", ("a", "b"))], w)
    assert [m.name for _, m in ranked] == ["exact", "wide"]
