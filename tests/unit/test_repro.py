"""The failing call shown as the attempt received it, and reproduction scripts (checker/repro.py),
on the fixture kata `calls` (an overriding property, an in-place one, raises, a harness)."""
import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from checker import runner
from checker.commands import main
from conftest import ATTEMPTS, FIXTURES, by_name

WRONG = ATTEMPTS / "calls" / "wrong.py"
RAISES = ATTEMPTS / "calls" / "raises.py"


@pytest.fixture(scope="module")
def calls_kata(catalog):
    return catalog.get("calls")


@pytest.fixture(scope="module")
def wrong(catalog, calls_kata):
    return by_name(runner.check(catalog, calls_kata, WRONG, seed=1, repro=True))


@pytest.fixture(scope="module")
def raising(catalog, calls_kata):
    return by_name(runner.check(catalog, calls_kata, RAISES, seed=1, repro=True))


def run_script(text, attempt, tmp_path):
    path = tmp_path / "repro.py"
    path.write_text(text)
    return subprocess.run([sys.executable, str(path), str(attempt)], capture_output=True, text=True,
                          timeout=60)


def test_the_call_shown_is_the_one_made_after_the_property_overrides_the_draw(wrong):
    p = wrong["scaled"]
    assert "'factor': None" in p.input          # what hypothesis drew
    assert p.call == "scale(xs=[0], factor=2.5)"  # what the attempt received


def test_the_call_is_in_the_json_counterexample(catalog, calls_kata):
    data = runner.check(catalog, calls_kata, WRONG, seed=1, repro=True).to_json()
    props = {p["name"]: p for p in data["properties"]}
    assert props["fills"]["counterexample"]["call"] == "zero_fill(xs=[1])"
    assert props["counts"]["counterexample"]["call"] == "harness.report(attempt, 0)"
    assert props["fills"]["repro"].startswith("#!/usr/bin/env python3")
    json.dumps(data)


@pytest.mark.parametrize("prop", ["scaled", "fills", "rejects", "counts"])
def test_each_kind_of_script_fails_on_the_attempt_and_passes_on_the_reference(
        prop, wrong, raising, calls_kata, tmp_path):
    for results, attempt in ((wrong, WRONG), (raising, RAISES)):
        script = results[prop].repro
        assert script, results[prop].repro_note
        bad = run_script(script, attempt, tmp_path)
        assert bad.returncode == 1, bad.stdout + bad.stderr
        assert "expected:" in bad.stdout and "got:" in bad.stdout
        good = run_script(script, calls_kata.reference, tmp_path)
        assert good.returncode == 0, good.stdout + good.stderr


def test_the_expectation_is_data_never_the_references_code(wrong, calls_kata):
    ref_source = calls_kata.reference.read_text()
    for p in (p for p in wrong.values() if not p.passed):
        assert "range(n, 0, -1)" not in p.repro and "def zero_fill" not in p.repro
        assert str(calls_kata.reference) not in p.repro
    assert "def countdown" in ref_source


def test_a_tolerance_comparison_keeps_its_tolerance(wrong):
    assert "'kind': 'close'" in wrong["scaled"].repro and "'rtol': 1e-12" in wrong["scaled"].repro


def test_no_script_for_timeouts_with_a_reason(check):
    p = by_name(check("loop_in_call", repro=True))
    failed = [r for r in p.values() if r.status == "timeout"]
    assert failed and all(r.repro is None and "timeout" in r.repro_note for r in failed)


def test_kata_check_repro_prints_and_writes_the_script(tmp_path):
    root = str(FIXTURES / "root")
    runner_ = CliRunner()
    res = runner_.invoke(main, ["--root", root, "check", "calls", "--file", str(WRONG), "--seed", "1",
                                "--repro", "fills"])
    assert res.exit_code == 0, res.output
    assert res.output.startswith("#!/usr/bin/env python3")
    out = tmp_path / "r.py"
    res = runner_.invoke(main, ["--root", root, "check", "calls", "--file", str(WRONG), "--seed", "1",
                                "--repro", "fills", "--out", str(out)])
    assert res.exit_code == 0 and out.read_text().startswith("#!")
    assert run_script(out.read_text(), WRONG, tmp_path).returncode == 1


def test_kata_check_repro_refuses_unknown_properties_and_passing_ones():
    root = str(FIXTURES / "root")
    res = CliRunner().invoke(main, ["--root", root, "check", "calls", "--reference", "--repro", "nope"])
    assert res.exit_code == 2 and "no property 'nope'" in res.output
    res = CliRunner().invoke(main, ["--root", root, "check", "calls", "--reference", "--repro", "fills"])
    assert res.exit_code == 1 and "passes" in res.output


def test_locate_prefers_identity_then_a_unique_value_and_refuses_ambiguity():
    import numpy as np
    from checker.repro import locate
    rows = np.array([[1.0, 2.0], [3.0, 4.0]])
    box = [5, 6]
    root = {"value": {"a": box, "n": 3, "m": 3, "rows": rows}, "args": [], "kwargs": {}}
    assert locate(root, box) == ["value", "a"]                       # the object itself
    assert locate(root, 6) == ["value", "a", 1]                      # one equal value
    assert locate(root, 3) is None                                   # two: which one was judged?
    assert locate(root, [3.0, 4.0]) == ["value", "rows", 1, ".tolist"]  # a row, as a list
    assert locate(root, (2, 2)) == ["value", "rows", ".shape"]


def test_check_hints_at_repro_after_a_failure():
    res = CliRunner().invoke(main, ["--root", str(FIXTURES / "root"), "check", "calls", "--file",
                                    str(WRONG), "--seed", "1"])
    assert res.exit_code == 1 and "--repro scaled --out repro.py" in res.output


def test_a_property_that_turns_the_calls_exception_into_a_failure_gets_a_returns_script(catalog, tmp_path):
    kata = catalog.get("calls")
    attempt = tmp_path / "calls.py"
    attempt.write_text(RAISES.read_text().replace('raise KeyError("oops")\n\n\ndef positive',
                                                  'raise RecursionError("deep")\n\n\ndef positive'))
    r = by_name(runner.check(catalog, kata, attempt, seed=1, repro=True, only={"fills_deep"}))
    p = r["fills_deep"]
    assert p.status == "fail" and p.repro, p.repro_note
    assert "'kind': 'returns'" in p.repro
    assert run_script(p.repro, attempt, tmp_path).returncode == 1
    assert run_script(p.repro, kata.reference, tmp_path).returncode == 0
