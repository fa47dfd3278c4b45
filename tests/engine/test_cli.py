"""The `kata` command line through click.testing, against the toy kata."""
import json

from click.testing import CliRunner

from checker.commands import main
from tests.conftest import ATTEMPTS, FIXTURES

ROOT = str(FIXTURES / "root")


def test_list_shows_kata_and_status(kata):
    r = kata("list")
    assert r.exit_code == 0 and "toy" in r.output and "not started" in r.output


def test_show_prints_spec(kata):
    r = kata("show", "toy")
    assert r.exit_code == 0 and "Toy sums" in r.output


def test_unknown_kata_suggests_closest(kata):
    r = kata("check", "tyo")
    assert r.exit_code == 2 and "Did you mean 'toy'" in r.output


def test_start_never_overwrites_without_force(kata, tmp_path):
    assert kata("start", "toy").exit_code == 0
    attempt = tmp_path / "ws" / "toy.py"
    attempt.write_text("# my work\n")
    r = kata("start", "toy")
    assert r.exit_code == 2 and "already exists" in r.output
    assert attempt.read_text() == "# my work\n"
    assert kata("start", "toy", "--force").exit_code == 0
    assert (tmp_path / "ws" / "toy.py.bak").read_text() == "# my work\n"
    assert "NotImplementedError" in attempt.read_text()


def test_check_exit_codes_and_progress(kata, tmp_path):
    r = kata("check", "toy")
    assert r.exit_code == 2 and "kata start toy" in r.output
    kata("start", "toy")
    r = kata("check", "toy", "--seed", "1")
    assert r.exit_code == 1 and "Score: 0/100" in r.output and "seed 1" in r.output
    (tmp_path / "ws" / "toy.py").write_text((ATTEMPTS / "total_off_by_one.py").read_text())
    r = kata("check", "toy", "--seed", "1")
    assert r.exit_code == 1 and "xs=[0, 0, 0]" in r.output
    (tmp_path / "ws" / "toy.py").write_text("def total(xs):\n    return sum(xs)\n\n"
                                             "def add(a, b):\n    return a + b\n")
    r = kata("check", "toy")
    assert r.exit_code == 0 and "Score: 100/100" in r.output
    assert "solved" in kata("list").output


def test_check_json_and_reference(kata):
    r = kata("check", "toy", "--reference", "--json", "--seed", "7")
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert data["score"] == 100 and data["passed"] is True and data["seed"] == 7


def test_check_missing_file_is_a_usage_error(kata):
    r = kata("check", "toy", "--file", "/nonexistent/x.py")
    assert r.exit_code == 2 and "no attempt at" in r.output


def test_hints_one_more_each_time(kata):
    assert "Hint 1/2" in kata("hint", "toy").output
    assert "Hint 2/2" in kata("hint", "toy").output
    assert "Hint 2/2" in kata("hint", "toy").output


def test_validate_passes_on_toy(kata):
    r = kata("validate", "toy")
    assert r.exit_code == 0, r.output
    assert "mutant off_by_one" in r.output and "all invariants hold" in r.output


def test_validate_fails_when_a_mutant_survives(tmp_path):
    import shutil
    root = tmp_path / "root"
    shutil.copytree(FIXTURES / "root", root)
    with open(root / "solutions/toy/mutants.toml", "a") as f:
        f.write('\n[[mutant]]\nname = "same"\nmistake = "m"\nkilled_by = ["adds"]\nedits = [{ old = "a + b", new = "b + a" }]\n')
    r = CliRunner().invoke(main, ["--root", str(root), "validate", "toy"])
    assert r.exit_code == 1 and "FAIL" in r.output and "mutant same" in r.output
