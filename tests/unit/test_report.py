"""Report shape, scoring, seeds and the example database."""
import json

from checker.report import PropertyResult, Report


def _strip_times(d):
    d = dict(d, seconds=0)
    d["properties"] = [dict(p, seconds=0) for p in d["properties"]]
    return d


def test_json_report_has_the_documented_fields(check):
    data = check("total_off_by_one").to_json()
    assert {"kata", "score", "passed", "seed", "properties"} <= set(data)
    assert data["kata"] == "toy" and data["seed"] == 1 and data["passed"] is False
    assert 0 <= data["score"] <= 100
    for p in data["properties"]:
        assert {"name", "weight", "status", "message"} <= set(p)
    failing = [p for p in data["properties"] if p["status"] != "pass"]
    assert failing[0]["counterexample"] == {"input": "xs=[0, 0, 0]", "call": "total(xs=[0, 0, 0])",
                                            "expected": "0", "got": "1"}
    json.dumps(data)  # serialisable as it is


def test_score_is_weighted_and_100_only_when_all_pass():
    props = [PropertyResult("a", 3, "", "pass"), PropertyResult("b", 1, "", "fail")]
    r = Report("k", 1, "x.py", props)
    assert r.score == 75.0 and not r.passed
    props[1].status = "pass"
    assert r.score == 100 and r.passed
    assert Report("k", 1, "x.py", [PropertyResult("a", 1, "", "timeout")]).score == 0


def test_same_seed_repeats_exactly(check):
    a = _strip_times(check("total_off_by_one", seed=42).to_json())
    b = _strip_times(check("total_off_by_one", seed=42).to_json())
    assert a == b


def test_failing_example_is_replayed_from_the_database(check, tmp_path):
    from hypothesis.database import DirectoryBasedExampleDatabase
    db = DirectoryBasedExampleDatabase(str(tmp_path / "examples"))
    first = check("total_off_by_one", seed=3, database=db)
    assert any((tmp_path / "examples").iterdir()), "the failure must be saved"
    again = check("total_off_by_one", seed=99, database=db)
    assert [p.input for p in again.properties] == [p.input for p in first.properties]


def test_drawn_cases_do_not_depend_on_modules_loaded_before(check, tmp_path, monkeypatch):
    """Hypothesis harvests literal constants from loaded modules into its draws; a grade must
    not depend on what the process imported before (a grading slot runs many checks)."""
    from hypothesis.internal.conjecture import providers
    first = check("total_off_by_one", seed=11)
    mod = tmp_path / "constants_galore.py"
    mod.write_text("VALUES = [" + ", ".join(str(i) for i in range(-100, 101, 3)) + "]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import constants_galore  # noqa: F401  a local module full of in-range constants
    assert len(providers._get_local_constants().integers) == 0
    again = check("total_off_by_one", seed=11)
    assert _strip_times(first.to_json()) == _strip_times(again.to_json())
