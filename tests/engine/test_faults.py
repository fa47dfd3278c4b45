"""Every way an attempt can fail is contained in its property, with a clear message."""
import pytest

from tests.conftest import by_name


def test_reference_scores_100(check, toy):
    report = check(toy.reference)
    assert report.score == 100 and report.passed and report.error is None


def test_wrong_value_is_a_failure_with_shrunk_counterexample(check):
    report = check("total_off_by_one")
    p = by_name(report)["totals"]
    assert p.status == "fail"
    assert p.input == "xs=[0, 0, 0]"  # hypothesis shrinks to the smallest list of length 3
    assert p.expected == "0" and p.got == "1"
    assert by_name(report)["adds"].passed
    assert report.score == 25.0  # adds (weight 1) of 4


def test_exception_traceback_is_trimmed_to_attempt_frames(check):
    p = by_name(check("raises"))["totals"]
    assert p.status == "error"
    assert "IndexError" in p.message and "raises.py" in p.message
    assert "checker/" not in p.message and "hypothesis" not in p.message
    assert "helper = lambda" in p.message or "<lambda>" in p.message


@pytest.mark.parametrize("name, status, words", [
    ("loop_in_call", "timeout", "did not finish within 2 s"),
    ("exit_in_call", "error", "sys.exit(0)"),
    ("os_exit_in_call", "crash", "exited with status 0"),
    ("segfault_in_call", "crash", "segmentation fault"),
    ("memory_bomb_in_call", "error", "MemoryError"),
])
def test_fault_fails_only_its_property_and_next_gets_fresh_worker(check, name, status, words):
    report = check(name)
    p = by_name(report)
    assert p["totals"].status == status, p["totals"].message
    assert words in p["totals"].message
    assert p["adds"].passed, "the property after a fault must run in a working worker"
    assert report.score == 25.0


def test_unsendable_return_value_fails_clearly(check):
    p = by_name(check("returns_object"))["totals"]
    assert p.status != "pass" and "cannot" in p.message


def test_missing_function_is_named(check):
    p = by_name(check("missing_function"))["totals"]
    assert p.status == "error" and "no function 'total'" in p.message


@pytest.mark.parametrize("name, words", [
    ("syntax_error", "SyntaxError at line 1"),
    ("import_error", "No module named 'no_such_module_anywhere'"),
    ("exit_at_import", "sys.exit(0)"),
    ("loop_at_import", "did not finish within 5 s"),
])
def test_broken_attempt_gives_score_zero_with_the_error(check, name, words):
    report = check(name)
    assert report.score == 0 and not report.passed
    assert words in report.error
    assert all(p.status == "error" for p in report.properties)
    assert "Traceback (most recent call last)" not in report.error  # no engine traceback


def test_non_deterministic_attempt_fails(check):
    report = check("flaky", seed=5)
    assert by_name(report)["totals"].status == "fail"


def test_printing_cannot_change_the_verdict(check, toy, tmp_path):
    from tests import hostile_kinds
    mutant = (toy.solutions / "mutants" / "off_by_one.py").read_text()
    (tmp_path / "fake.py").write_text(hostile_kinds.files("fake_verdict", toy, mutant, [])[toy.filename])
    report = check(tmp_path / "fake.py")
    assert by_name(report)["totals"].status == "fail"
