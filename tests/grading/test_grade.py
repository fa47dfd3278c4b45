"""kata grade end to end on the toy kata: reproducible, resumable, shardable, Gradescope output."""
import json
import zipfile

import pytest
from click.testing import CliRunner

from checker import grading as grade, gradescope
from checker.catalog import Catalog
from checker.commands import main
from tests import hostile_kinds
from tests.conftest import ATTEMPTS, FIXTURES

ROOT = FIXTURES / "root"
FILES = {"ann": ROOT / "solutions/toy/reference.py", "ben": ROOT / "solutions/toy/mutants/off_by_one.py",
         "cid": ATTEMPTS / "raises.py", "dee": "segfault_in_call", "eve": ROOT / "katas/toy/stub.py",
         "fay": ATTEMPTS / "flaky.py"}
OUTPUTS = ("gradebook.csv", "grades.json", "feedback/ann.md", "feedback/cid.md", "feedback/fay.md")


@pytest.fixture
def subs(tmp_path):
    d = tmp_path / "subs"
    toy = Catalog(str(ROOT)).get("toy")
    for s, f in FILES.items():
        (d / s).mkdir(parents=True)
        (d / s / "toy.py").write_text(hostile_kinds.one_call(f, toy, "total") if isinstance(f, str) else f.read_text())
    (d / "gus").mkdir()  # no file at all
    return d


def run(subs, out, **kw):
    kw.setdefault("seed", 7)
    return grade.run(grade.Options(submissions=subs, out=out, katas=["toy"], root=str(ROOT),
                                   progress=False, **kw))


def read(out):
    return {name: (out / name).read_text() for name in OUTPUTS}


def test_same_input_same_outputs_for_any_jobs_and_twice(subs, tmp_path):
    run(subs, tmp_path / "a", jobs=1)
    run(subs, tmp_path / "b", jobs=2)
    run(subs, tmp_path / "c", jobs=2)
    assert read(tmp_path / "a") == read(tmp_path / "b") == read(tmp_path / "c")
    book = (tmp_path / "a" / "gradebook.csv").read_text().splitlines()
    assert book[0] == "student,toy,total,flags,missing"
    assert "ann,100,100,," in book and "gus,0,0,,toy" in book and "eve,0,0,," in book


def test_grades_json_is_auditable(subs, tmp_path):
    run(subs, tmp_path / "o")
    g = json.loads((tmp_path / "o" / "grades.json").read_text())
    assert g["seed"] == 7 and g["engine"].startswith("0.1.0+")
    assert g["katas"]["toy"]["version"] == Catalog(str(ROOT)).get("toy").version()
    assert g["katas"]["toy"]["seed"] == grade.kata_seed(7, "toy")
    rep = g["students"]["ben"]["reports"]["toy"]
    assert rep["score"] == 25.0 and len(rep["sha256"]) == 64
    totals = [p for p in rep["properties"] if p["name"] == "totals"][0]
    assert totals["counterexample"]["got"] == "1"


def test_a_different_seed_is_recorded(subs, tmp_path):
    run(subs, tmp_path / "o", seed=8)
    assert json.loads((tmp_path / "o" / "grades.json").read_text())["seed"] == 8


def test_resume_skips_unchanged_and_regrades_changed(subs, tmp_path):
    out = tmp_path / "o"
    first = run(subs, out)
    assert first.graded == 6 and first.reused == 0
    (subs / "ben" / "toy.py").write_text((ROOT / "solutions/toy/reference.py").read_text())
    second = run(subs, out)
    assert second.graded == 1 and second.reused == 5
    assert "ben,100,100,toy:similar:ann," in (out / "gradebook.csv").read_text()  # now ann's file


def test_interrupted_journal_line_is_regraded(subs, tmp_path):
    out = tmp_path / "o"
    run(subs, out)
    journal = out / ".state" / "journal.jsonl"
    lines = journal.read_text().splitlines()
    journal.write_text("\n".join(lines[:-1]) + "\n" + lines[-1][:20])  # a write cut by a crash
    again = run(subs, out)
    assert again.graded == 1 and again.reused == 5


def test_shards_partition_and_merge_identically(subs, tmp_path):
    run(subs, tmp_path / "single")
    parts = [tmp_path / f"s{i}" for i in (1, 2, 3)]
    seen = []
    for i, p in enumerate(parts, 1):
        seen += run(subs, p, shard=(i, 3)).students
    assert sorted(seen) == sorted(list(FILES) + ["gus"])
    grade.merge(tmp_path / "merged", parts)
    assert read(tmp_path / "merged") == read(tmp_path / "single")


def test_merge_refuses_incomplete_or_mismatched_shards(subs, tmp_path):
    run(subs, tmp_path / "s1", shard=(1, 2))
    with pytest.raises(grade.GradeError, match="shards 1..2"):
        grade.merge(tmp_path / "m", [tmp_path / "s1"])
    run(subs, tmp_path / "s2", shard=(2, 2), seed=99)
    with pytest.raises(grade.GradeError, match="different seed"):
        grade.merge(tmp_path / "m", [tmp_path / "s1", tmp_path / "s2"])


def test_hidden_details_show_names_only(subs, tmp_path):
    run(subs, tmp_path / "o", hide=["toy.totals"])
    md = (tmp_path / "o" / "feedback" / "ben.md").read_text()
    assert "totals" in md and "details of this property are hidden" in md and "got: 1" not in md


@pytest.mark.parametrize("args, words", [
    (["grade", "MISSING"], "does not exist"),
    (["grade", "SUBS", "--shard", "0/2"], "--shard takes i/N"),
    (["grade", "SUBS", "--shard", "x"], "--shard takes i/N"),
    (["grade", "SUBS", "--katas", "tyo"], "Did you mean 'toy'"),
    (["grade", "SUBS", "--out", "SUBS/out"], "must not be inside"),
    (["grade-merge", "SUBS", "--out", "M"], "not a grading output folder"),
])
def test_cli_errors_are_usage_errors(subs, tmp_path, args, words):
    args = [a.replace("SUBS", str(subs)).replace("MISSING", str(tmp_path / "nope")).replace("M", str(tmp_path / "m"))
            if a in ("SUBS", "MISSING", "M", "SUBS/out") else a for a in args]
    r = CliRunner().invoke(main, ["--root", str(ROOT), *args])
    assert r.exit_code == 2, r.output
    assert words in r.output and "Traceback" not in r.output


def test_cli_grade_writes_outputs_and_summary(subs, tmp_path):
    r = CliRunner().invoke(main, ["--root", str(ROOT), "grade", str(subs), "--out", str(tmp_path / "o"),
                                  "--no-progress", "--jobs", "2"])
    assert r.exit_code == 0, r.output
    assert "score distribution per kata" in r.output and "dee" in r.output  # flagged: crash
    assert (tmp_path / "o" / "feedback" / "gus.md").exists()


def test_gradescope_results_follow_the_schema(tmp_path):
    sub = tmp_path / "submission" / "nested"
    sub.mkdir(parents=True)
    (sub / "toy.py").write_text((ROOT / "solutions/toy/mutants/off_by_one.py").read_text())
    results = tmp_path / "results" / "results.json"
    cfg = gradescope.load_config(None) | {"katas": ["toy"], "hide": ["toy.adds"]}
    gradescope.run(tmp_path / "submission", results, cfg, root=str(ROOT))
    data = json.loads(results.read_text())
    assert set(data) >= {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"}
    assert data["stdout_visibility"] == "hidden"
    for t in data["tests"]:
        assert set(t) >= {"name", "score", "max_score", "output", "visibility"}
        assert t["visibility"] in ("hidden", "after_due_date", "after_published", "visible")
        assert t["status"] in ("passed", "failed")
    by = {t["name"]: t for t in data["tests"]}
    assert by["toy: totals"]["score"] == 0 and by["toy: totals"]["max_score"] == 75
    assert by["toy: adds"]["score"] == 25 and by["toy: adds"]["visibility"] == "after_published"
    assert data["score"] == 25


def test_gradescope_missing_file_scores_zero(tmp_path):
    (tmp_path / "submission").mkdir()
    results = tmp_path / "results.json"
    gradescope.run(tmp_path / "submission", results, gradescope.load_config(None) | {"katas": ["toy"]},
                   root=str(ROOT))
    data = json.loads(results.read_text())
    assert data["score"] == 0 and all("No file toy.py" in t["output"] for t in data["tests"])


def test_gradescope_bundle_has_scripts_and_only_chosen_katas(tmp_path):
    out = tmp_path / "ag.zip"
    r = CliRunner().invoke(main, ["--root", str(ROOT), "gradescope", "bundle", "--katas", "toy", "--out", str(out)])
    assert r.exit_code == 0, r.output
    with zipfile.ZipFile(out) as z:
        names = set(z.namelist())
        assert {"setup.sh", "run_autograder", "kata_autograder.json"} <= names
        assert "kata/katas/toy/suite.py" in names and "kata/solutions/toy/reference.py" in names
        assert "kata/checker/zygote.py" in names and "kata/pyproject.toml" in names
        assert (z.getinfo("run_autograder").external_attr >> 16) & 0o111
        assert json.loads(z.read("kata_autograder.json"))["katas"] == ["toy"]
        assert b"gradescope run" in z.read("run_autograder")
