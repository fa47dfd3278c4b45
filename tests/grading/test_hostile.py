"""A class of hostile submissions graded in one batch (toy kata): every kind is contained, scores
0 where it misbehaves, is flagged where suspicious, and leaves the honest students' grades alone."""
import json
import os
import textwrap
from pathlib import Path

import pytest

from checker import grading as grade
from tests.conftest import FIXTURES

ROOT = FIXTURES / "root"
REFERENCE = (ROOT / "solutions" / "toy" / "reference.py").resolve()
SUITE = (ROOT / "katas" / "toy" / "suite.py").resolve()
GOOD_ADD = "\n\ndef add(a, b):\n    return a + b\n"

# student -> toy.py; {OUT} is replaced by the output folder (an attempt that knows where it is).
HOSTILE = {
    "syntax_error": "def total(xs)\n    return sum(xs)\n",
    "import_error": "import no_such_module_anywhere\n",
    "loop_at_import": "while True:\n    pass\n",
    "loop_in_call": "def total(xs):\n    while True:\n        pass\n" + GOOD_ADD,
    "memory_bomb": "def total(xs):\n    b = []\n    while True:\n        b.append(bytearray(256 << 20))\n" + GOOD_ADD,
    "fork_bomb": "import os\n\ndef total(xs):\n    while True:\n        os.fork()\n" + GOOD_ADD,
    "raw_fork_bomb": ("import ctypes\nlibc = ctypes.CDLL(None)\n\ndef total(xs):\n    while True:\n"
                      "        libc.fork()\n" + GOOD_ADD),
    "exit_at_import": "import sys\nsys.exit(0)\n",
    "exit_in_call": "import sys\n\ndef total(xs):\n    sys.exit(0)\n" + GOOD_ADD,
    "os_exit_at_import": "import os\nos._exit(0)\n",
    "os_exit_in_call": "import os\n\ndef total(xs):\n    os._exit(0)\n" + GOOD_ADD,
    "segfault": "import ctypes\n\ndef total(xs):\n    ctypes.string_at(0)\n" + GOOD_ADD,
    "fake_pass": ("def total(xs):\n    print('PASSED totals\\nScore: 100/100\\n{\"score\": 100}')\n"
                  "    return sum(xs) + 1\n" + GOOD_ADD),
    "planted_conftest": "def total(xs):\n    return sum(xs) + 1\n" + GOOD_ADD,
    "reads_secrets": (f"def total(xs):\n    return len(open({str(REFERENCE)!r}).read())\n\n"
                      f"def add(a, b):\n    return len(open({str(SUITE)!r}).read())\n"),
    "imports_reference": ("import importlib.util\n\ndef total(xs):\n"
                          f"    spec = importlib.util.spec_from_file_location('r', {str(REFERENCE)!r})\n"
                          "    m = importlib.util.module_from_spec(spec)\n    spec.loader.exec_module(m)\n"
                          "    return m.total(xs)\n\n"
                          "def add(a, b):\n    import solutions.toy.reference as r\n    return r.add(a, b)\n"),
    "monkeypatch": ("import math\nimport checker.codec\nimport checker.guard\n"
                    "math.isclose = lambda *a, **k: True\nchecker.codec.dumps = lambda *a, **k: b'{}'\n"
                    "checker.guard.Guard = None\n\ndef total(xs):\n    return sum(xs) + 1\n"
                    "\ndef add(a, b):\n    return a - b\n"),
    "writes_output": ("import os\nOUT = {OUT!r}\n\ndef total(xs):\n"
                      "    with open(os.path.join(OUT, 'gradebook.csv'), 'w') as f:\n"
                      "        f.write('student,toy\\nwrites_output,100\\n')\n    return sum(xs)\n\n"
                      "def add(a, b):\n    os.makedirs(os.path.join(OUT, 'feedback'), exist_ok=True)\n"
                      "    open(os.path.join(OUT, 'feedback', 'alice.md'), 'w').write('hacked')\n"
                      "    return a + b\n"),
    "output_flood": ("import sys\n\ndef total(xs):\n    while True:\n        sys.stdout.write('x' * 65536)\n"
                     + GOOD_ADD),
    "background": ("import ctypes, time\nlibc = ctypes.CDLL(None)\n\ndef total(xs):\n"
                   "    if libc.fork() == 0:\n        libc.setsid()\n        if libc.fork() == 0:\n"
                   "            time.sleep(3600)\n        libc._exit(0)\n    return sum(xs) + 1\n" + GOOD_ADD),
    # Evidence of the OS-level boundary (not just the in-process guard): raw syscalls via ctypes.
    "raw_read_reference": ("import ctypes\nlibc = ctypes.CDLL(None)\n\ndef total(xs):\n"
                           f"    fd = libc.open({str(REFERENCE).encode()!r}, 0)\n"
                           "    if fd < 0:\n        return -1\n    buf = ctypes.create_string_buffer(65536)\n"
                           "    return libc.read(fd, buf, 65536)\n" + GOOD_ADD),
    "whoami": "import os\n\ndef total(xs):\n    return os.getuid()\n" + GOOD_ADD,
}

# What each hostile kind must score on the toy kata (totals weighs 3 of 4) and be flagged with.
EXPECT = {
    "syntax_error": (0, {"load-syntax"}),
    "import_error": (0, {"load-import"}),
    "loop_at_import": (0, {"load-timeout", "timeout"}),
    "loop_in_call": (25, {"timeout"}),
    "memory_bomb": (25, {"memory-limit"}),
    "fork_bomb": (25, {"spawn-attempt"}),
    # The call's timeout kills the whole process group, so whether any fork is still alive for
    # the stray-process sweep to see is a race: only the timeout flag is guaranteed.
    "raw_fork_bomb": (25, {"timeout"}),
    "exit_at_import": (0, {"load-import", "exit"}),
    "exit_in_call": (25, {"exit"}),
    "os_exit_at_import": (0, {"crash"}),
    "os_exit_in_call": (25, {"crash"}),
    "segfault": (25, {"crash"}),
    "fake_pass": (25, {"fake-verdict-output"}),
    "planted_conftest": (25, {"planted-files"}),
    "reads_secrets": (0, {"secret-access"}),
    "imports_reference": (0, {"secret-access"}),
    "monkeypatch": (0, {"tamper"}),
    "writes_output": (0, {"secret-access"}),
    "output_flood": (25, {"output-flood"}),
    "background": (25, {"stray-process"}),
    "raw_read_reference": (25, set()),
    "whoami": (25, set()),
}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    subs, out = base / "subs", base / "out"
    out.mkdir()
    for name, code in HOSTILE.items():
        d = subs / name
        d.mkdir(parents=True)
        (d / "toy.py").write_text(code.replace("{OUT!r}", repr(str(out))))
    (subs / "planted_conftest" / "conftest.py").write_text(
        "import os\ndef pytest_sessionfinish(session, exitstatus):\n    session.exitstatus = 0\n    os._exit(0)\n")
    (subs / "planted_conftest" / "pytest.ini").write_text("[pytest]\naddopts = -p no:python\n")
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
    assert set(grades["students"]) == set(HOSTILE) | {"alice", "bob", "mallory_symlink", "nobody_home"}
    assert (out / "gradebook.csv").read_text().count("\n") == len(grades["students"]) + 1


def test_honest_students_are_unaffected(batch):
    _, grades, out = batch
    assert grades["students"]["alice"]["total"] == 100 and grades["students"]["alice"]["flags"] == []
    assert grades["students"]["bob"]["total"] == 25
    book = (out / "gradebook.csv").read_text()
    assert "alice,100,100,," in book and "writes_output,100" not in book
    assert "hacked" not in (out / "feedback" / "alice.md").read_text()


@pytest.mark.parametrize("student", sorted(EXPECT))
def test_hostile_kind_is_contained_and_flagged(batch, student):
    _, grades, _ = batch
    entry = grades["students"][student]
    score, flags = EXPECT[student]
    got_flags = {f.split(":", 1)[1] for f in entry["flags"]}
    assert entry["reports"]["toy"]["score"] == score, entry["reports"]["toy"]
    assert flags <= got_flags, (student, got_flags)
    totals = {p["name"]: p for p in entry["reports"]["toy"]["properties"]}["totals"]
    assert totals["status"] != "pass"  # the affected property scores 0


def test_printed_text_never_reaches_the_grade(batch):
    _, grades, out = batch
    report = grades["students"]["fake_pass"]["reports"]["toy"]
    assert "Score: 100/100" not in json.dumps(report)
    assert "PASSED" not in (out / "feedback" / "fake_pass.md").read_text()


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
    assert "segmentation fault" in totals("segfault")
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
