"""What an instructor gets besides the gradebook: report.html (checked in a real headless
Chromium), similarity.csv and its flags, JUnit XML (parsed by junitparser), a Canvas CSV, a
PrairieLearn results.json, and details hidden until a date."""
import csv
import datetime
import json
import re
import subprocess
from pathlib import Path

import pytest

from checker import grading as grade
from checker import prairielearn
from checker.catalog import Catalog
from checker.grading.plan import effective_hide
from tests.conftest import ATTEMPTS, FIXTURES
from tests.unit.test_similarity import disguise

ROOT = FIXTURES / "root"
CHROMIUM = "/usr/bin/chromium"
TOY = {"ann": ROOT / "solutions/toy/reference.py", "ben": ROOT / "solutions/toy/mutants/off_by_one.py",
       "cid": ATTEMPTS / "raises.py", "eve": ROOT / "katas/toy/stub.py"}


def _class(folder: Path, files: dict, kata: str) -> Path:
    for student, text in files.items():
        (folder / student).mkdir(parents=True)
        (folder / student / f"{kata}.py").write_text(text if isinstance(text, str) else text.read_text())
    return folder


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("toy")
    subs = _class(tmp / "subs", TOY, "toy")
    (subs / "gus").mkdir()  # no file: a missing pair
    out = tmp / "out"
    result = grade.run(grade.Options(submissions=subs, out=out, katas=["toy"], root=str(ROOT), seed=3,
                                     progress=False, junit=tmp / "junit.xml", canvas=tmp / "canvas.csv",
                                     hide=["toy.adds"], hidden_until="2999-01-01"))
    return tmp, out, result


def test_junit_xml_parses_with_the_right_counts(toy_run):
    from junitparser import Error, Failure, JUnitXml
    tmp, out, _ = toy_run
    xml = JUnitXml.fromfile(str(tmp / "junit.xml"))
    suites = list(xml)
    assert [s.name for s in suites] == ["toy"]
    grades = json.loads((out / "grades.json").read_text())["students"]
    expected_failures = sum(1 for s in ("ann", "ben", "cid", "eve") for p in grades[s]["reports"]["toy"]["properties"]
                            if p["status"] in ("fail", "timeout", "crash", "forbidden")) + 1  # gus: missing
    expected_errors = sum(1 for s in ("ann", "ben", "cid", "eve") for p in grades[s]["reports"]["toy"]["properties"]
                          if p["status"] == "error")
    suite = suites[0]
    assert suite.tests == 4 * 2 + 1 and suite.failures == expected_failures and suite.errors == expected_errors
    cases = {(c.classname, c.name): c for c in suite}
    assert cases[("ann.toy", "totals")].is_passed
    ben = cases[("ben.toy", "totals")]
    assert isinstance(ben.result[0], Failure) and "input" in (ben.result[0].text or "")
    assert isinstance(cases[("cid.toy", "totals")].result[0], Error)
    # adds is hidden until 2999: its failure says so, without the counterexample
    assert not (cases[("eve.toy", "adds")].result[0].text or "")


def test_canvas_csv_has_the_import_columns_and_one_row_per_student(toy_run):
    tmp, _, _ = toy_run
    rows = list(csv.reader((tmp / "canvas.csv").open()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "kata toy"]
    assert rows[1][0].strip() == "Points Possible" and rows[1][-1] == "100"
    by_student = {r[0]: r for r in rows[2:]}
    assert set(by_student) == {"ann", "ben", "cid", "eve", "gus"}
    assert by_student["ann"][-1] == "100" and by_student["gus"][-1] == "0"


def test_feedback_hides_details_until_the_date_and_shows_them_after(toy_run, tmp_path):
    _, out, _ = toy_run
    assert "(details of this property are hidden)" in (out / "feedback/eve.md").read_text()
    day = datetime.date(2030, 6, 1)
    assert effective_hide(["toy.adds"], "2030-06-02", today=day) == ["toy.adds"]
    assert effective_hide(["toy.adds"], "2030-06-01", today=day) == []
    with pytest.raises(grade.GradeError, match="YYYY-MM-DD"):
        effective_hide(["x"], "next week")


def _chromium(*args):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                           "--no-first-run", "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", *args], capture_output=True, text=True, timeout=120)


def test_report_html_renders_in_a_real_browser(toy_run, tmp_path):
    from PIL import Image
    _, out, _ = toy_run
    page = (out / "report.html").as_uri()
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    dom = _chromium(profile, "--dump-dom", page).stdout
    assert 'data-kata="toy"' in dom and dom.count("<svg") >= 2  # histogram and pass rates, inline
    assert "totals" in dom and "adds" in dom and 'href="feedback/ann.md"' in dom
    assert not re.search(r'(src|href)="(https?:)?//', dom) and "<link" not in dom  # self-contained
    shot = tmp_path / "report.png"
    _chromium(profile, f"--screenshot={shot}", "--window-size=1100,1600", page)
    image = Image.open(shot).convert("L")
    assert image.size == (1100, 1600)
    dark = sum(1 for v in image.get_flattened_data() if v < 128)
    assert dark > 2000  # text and bars were drawn, not a blank page


def test_a_renamed_copy_is_flagged_similar_and_independent_solutions_are_not(tmp_path):
    lca = Catalog().get("lca")
    ref = lca.reference.read_text()
    alts = sorted((lca.solutions / "alternatives").glob("*.py"))
    subs = _class(tmp_path / "subs", {"ann": ref, "ben": disguise(ref, 5), "cal": alts[0].read_text(),
                                      "dan": alts[1].read_text()}, "lca")
    out = tmp_path / "out"
    grade.run(grade.Options(submissions=subs, out=out, katas=["lca"], seed=1, progress=False))
    rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
    assert "lca:similar:ben" in rows["ann"]["flags"] and "lca:similar:ann" in rows["ben"]["flags"]
    assert "similar" not in rows["cal"]["flags"] and "similar" not in rows["dan"]["flags"]
    pairs = list(csv.DictReader((out / "similarity.csv").open()))
    assert len(pairs) == 6
    top = pairs[0]
    assert (top["student_a"], top["student_b"]) == ("ann", "ben") and float(top["score"]) >= 0.9
    assert top["flagged"] == "yes" and top["lines_a"]
    assert "similar: ann ~ ben" in (out / "report.html").read_text()


def test_prairielearn_results_follow_its_schema(tmp_path):
    job = tmp_path / "grade"
    (job / "student").mkdir(parents=True)
    (job / "student" / "toy.py").write_text(TOY["ben"].read_text())
    data = prairielearn.run(job, ["toy"], seed=2, root=str(ROOT))
    assert json.loads((job / "results/results.json").read_text()) == data
    assert data["gradable"] is True and 0 <= data["score"] < 1
    assert {t["name"] for t in data["tests"]} == {"toy: totals", "toy: adds"}
    for t in data["tests"]:
        assert set(t) == {"name", "description", "points", "max_points", "output", "message"}
        assert 0 <= t["points"] <= t["max_points"]
    assert abs(sum(t["max_points"] for t in data["tests"]) - 100) < 1e-6
    assert data["score"] == pytest.approx(sum(t["points"] for t in data["tests"]) / 100, abs=1e-4)
