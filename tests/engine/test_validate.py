"""`kata validate` fails loudly, naming the mutant, for every way a kata's invariants can break."""
import shutil

import pytest
from click.testing import CliRunner

from checker.commands import main
from tests.conftest import FIXTURES


@pytest.fixture
def root(tmp_path):
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "root", root)
    return root


def validate(root, *args):
    return CliRunner().invoke(main, ["--root", str(root), "validate", "toy", *args])


def add_mutant(root, entry):
    with open(root / "solutions/toy/mutants.toml", "a") as f:
        f.write("\n[[mutant]]\n" + entry)


def failing_rows(output):
    return [ln for ln in output.splitlines() if "FAIL" in ln]


def test_a_surviving_mutant_fails(root):
    add_mutant(root, 'name = "same"\nmistake = "m"\nkilled_by = ["adds"]\n'
                     'edits = [{ old = "return a + b", new = "return b + a" }]\n')
    r = validate(root)
    assert r.exit_code == 1 and "mutant same" in "".join(failing_rows(r.output)), r.output


def test_a_declared_killer_that_passes_fails(root):
    add_mutant(root, 'name = "wrong_killer"\nmistake = "m"\nkilled_by = ["totals"]\n'
                     'edits = [{ old = "return a + b", new = "return a - b" }]\n')
    r = validate(root, "--mutant", "wrong_killer")
    rows = failing_rows(r.output)
    assert r.exit_code == 1 and rows and "declared killer(s) passed: totals" in r.output, r.output


def test_an_edit_that_no_longer_applies_fails_with_the_mutant_name(root):
    add_mutant(root, 'name = "stale"\nmistake = "m"\nkilled_by = ["adds"]\n'
                     'edits = [{ old = "return a * b", new = "return a" }]\n')
    r = validate(root, "--mutant", "stale")
    assert r.exit_code == 1 and "mutant stale" in r.output and "does not occur" in r.output, r.output


def test_killed_by_must_name_real_properties(root):
    add_mutant(root, 'name = "typo"\nmistake = "m"\nkilled_by = ["addz"]\n'
                     'edits = [{ old = "return a + b", new = "return a - b" }]\n')
    r = validate(root, "--mutant", "typo")
    assert r.exit_code == 1 and "names no property: addz" in r.output, r.output


def test_spec_table_must_match_the_suite_and_fix_spec_rewrites_it(root):
    spec = root / "katas/toy/spec.md"
    spec.write_text(spec.read_text().replace("| 3 |", "| 5 |"))
    r = validate(root)
    assert r.exit_code == 1 and "differs from the suite" in r.output
    r = validate(root, "--fix-spec")
    assert r.exit_code == 0, r.output
    assert "| `totals` | 3 |" in spec.read_text()


def test_unlisted_kata_stray_file_and_wrong_alternative_fail(root):
    (root / "katas/order.toml").write_text("order = []\n")
    (root / "solutions/toy/mutants/forgotten.py").write_text("def total(xs):\n    return 0\n")
    (root / "solutions/toy/alternatives").mkdir()
    (root / "solutions/toy/alternatives/loop.py").write_text(
        "def total(xs):\n    s = 0\n    for x in xs:\n        s += x\n    return s\n\n\n"
        "def add(a, b):\n    return a - (-b)\n")
    (root / "solutions/toy/alternatives/wrong.py").write_text(
        "def total(xs):\n    return sum(xs)\n\n\ndef add(a, b):\n    return a * b\n")
    r = validate(root)
    rows = "\n".join(failing_rows(r.output))
    assert r.exit_code == 1
    assert "order" in rows and "forgotten.py" in rows and "alternative wrong" in rows
    assert "alternative loop" not in rows


def test_show_prints_the_mutant_as_a_diff_and_runs_nothing(root):
    r = validate(root, "--show", "adds_twice")
    assert r.exit_code == 0 and "+    return a + a" in r.output and "killed by: adds" in r.output
    r = validate(root, "--show", "nope")
    assert r.exit_code == 2 and "no mutant named 'nope'" in r.output
