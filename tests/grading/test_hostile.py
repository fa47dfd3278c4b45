"""A class of hostile submissions graded in one batch (toy kata): every kind of tests/hostile_kinds.py
is contained, scores nothing it could not earn, is flagged where suspicious, and leaves the honest
students' grades alone."""
import json
import os
from pathlib import Path

import pytest

from checker import grading as grade
from checker.catalog import Catalog
from tests import hostile_kinds
from tests.conftest import FIXTURES

ROOT = FIXTURES / "root"
REFERENCE = (ROOT / "solutions" / "toy" / "reference.py").resolve()
MUTANT = ROOT / "solutions" / "toy" / "mutants" / "off_by_one.py"  # alone it scores 25 (adds)


def expected_score(name):
    """A kind misbehaving at import or in every call earns nothing; mischief earns the mutant's 25."""
    return 25 if hostile_kinds.KINDS[name].where == "mutant" else 0


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    subs, out = base / "subs", base / "out"
    out.mkdir()
    toy = Catalog(str(ROOT)).get("toy")
    for name in hostile_kinds.NAMES:
        d = subs / name
        d.mkdir(parents=True)
        for fname, text in hostile_kinds.files(name, toy, MUTANT.read_text(), [out]).items():
            (d / fname).write_text(text)
    (subs / "alice").mkdir()
    (subs / "alice" / "toy.py").write_text(REFERENCE.read_text())
    (subs / "bob").mkdir()
    (subs / "bob" / "toy.py").write_text((ROOT / "solutions" / "toy" / "mutants" / "off_by_one.py").read_text())
    (subs / "mallory_symlink").mkdir()
    (subs / "mallory_symlink" / "toy.py").symlink_to(REFERENCE)
    (subs / "nobody_home").mkdir()
    result = grade.run(grade.Options(submissions=subs, out=out, katas=["toy"], seed=3, jobs=2,
                                     root=str(ROOT), progress=False))
    grades = json.loads((out / "grades.json").read_text())
    return result, grades, out


def test_batch_finishes_with_every_student_graded(batch):
    result, grades, out = batch
    assert not result.ungraded
    assert set(grades["students"]) == set(hostile_kinds.NAMES) | {"alice", "bob", "mallory_symlink", "nobody_home"}
    assert (out / "gradebook.csv").read_text().count("\n") == len(grades["students"]) + 1


def test_honest_students_are_unaffected(batch):
    _, grades, out = batch
    assert grades["students"]["alice"]["total"] == 100 and grades["students"]["alice"]["flags"] == []
    assert grades["students"]["bob"]["total"] == 25
    book = (out / "gradebook.csv").read_text()
    assert "alice,100,100,," in book and "hacked" not in book
    assert "hacked" not in (out / "feedback" / "alice.md").read_text()


@pytest.mark.parametrize("student", hostile_kinds.NAMES)
def test_hostile_kind_is_contained_and_flagged(batch, student):
    _, grades, _ = batch
    entry = grades["students"][student]
    got_flags = {f.split(":", 1)[1] for f in entry["flags"]}
    assert entry["reports"]["toy"]["score"] == expected_score(student), entry["reports"]["toy"]
    assert set(hostile_kinds.FLAGS[student]) <= got_flags, (student, got_flags)
    totals = {p["name"]: p for p in entry["reports"]["toy"]["properties"]}["totals"]
    assert totals["status"] != "pass"  # the affected property scores 0


def test_printed_text_never_reaches_the_grade(batch):
    _, grades, out = batch
    report = grades["students"]["fake_verdict"]["reports"]["toy"]
    assert "Score: 100/100" not in json.dumps(report)
    assert "PASSED" not in (out / "feedback" / "fake_verdict.md").read_text()


def test_symlinked_submission_is_refused(batch):
    _, grades, _ = batch
    e = grades["students"]["mallory_symlink"]
    assert e["total"] == 0 and "toy:bad-file" in e["flags"]
    assert "symlink" in e["reports"]["toy"]["problem"]


def test_missing_file_scores_zero_and_is_listed(batch):
    _, grades, _ = batch
    assert grades["students"]["nobody_home"]["missing"] == ["toy"]


def test_crash_messages_stay_clear_through_the_zygote(batch):
    _, grades, _ = batch

    def totals(s):
        return {p["name"]: p for p in grades["students"][s]["reports"]["toy"]["properties"]}["totals"]["message"]
    assert "segmentation fault" in totals("segfault_in_call")
    assert "exited with status 0" in totals("os_exit_in_call")
    assert "sys.exit(0)" in totals("exit_in_call")
    assert "did not finish within 2 s" in totals("loop_in_call")


def _counterexample_got(grades, student):
    props = {p["name"]: p for p in grades["students"][student]["reports"]["toy"]["properties"]}
    return props["totals"]["counterexample"]["got"]


def test_attempts_run_as_an_unprivileged_uid_when_root(batch):
    _, grades, _ = batch
    uid = int(_counterexample_got(grades, "whoami"))
    if os.geteuid() == 0:
        base = batch[0].uid_base
        assert base <= uid < base + 2 and uid >= 61000  # a slot uid of this run, never root
    else:  # documented fallback: the grader's own uid
        assert uid == os.getuid()


def test_reference_is_invisible_even_to_raw_syscalls_when_root(batch):
    _, grades, _ = batch
    got = int(_counterexample_got(grades, "raw_read_reference"))
    if os.geteuid() == 0:
        assert got <= 0  # an empty file (mount namespace) or refused
    else:  # documented fallback: only the in-process guard, which ctypes bypasses
        assert got == len(REFERENCE.read_bytes())


def test_no_process_of_a_slot_uid_survives(batch):
    alive = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            uid = int(status.split("\nUid:")[1].split()[0])
            if os.geteuid() == 0 and batch[0].uid_base <= uid < batch[0].uid_base + 2:
                alive.append(pid)
    assert alive == []


def test_outputs_are_root_only(batch):
    _, _, out = batch
    assert (out.stat().st_mode & 0o077) == 0
