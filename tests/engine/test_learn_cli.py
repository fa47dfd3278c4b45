"""`kata next`, `kata list`'s mark, `kata watch` and `kata solution` through click.testing."""
import threading
import time

from click.testing import CliRunner

from checker.commands import main
from tests.conftest import ATTEMPTS, FIXTURES

ROOT = str(FIXTURES / "root")
RIGHT = "def total(xs):\n    return sum(xs)\n\n\ndef add(a, b):\n    return a + b\n"


def test_next_starts_the_first_unsolved_kata_in_catalogue_order(kata, tmp_path):
    r = kata("next")
    assert r.exit_code == 0 and "Started it" in r.output
    first = r.output.split("Next: ")[1].split(" ")[0]
    assert (tmp_path / "ws" / f"{first}.py").exists()
    r = kata("next")  # not solved yet: the same kata, resumed, never overwritten
    assert r.exit_code == 0 and f"Next: {first}" in r.output and "Started" not in r.output
    assert "← next" in kata("list").output


def test_next_moves_on_once_a_kata_scores_100(kata, tmp_path):
    kata("start", "toy")
    (tmp_path / "ws" / "toy.py").write_text(RIGHT)
    assert kata("check", "toy", "--seed", "1").exit_code == 0
    r = kata("next")
    assert r.exit_code == 0 and "Next: toy" not in r.output
    listing = kata("list").output
    toy_row = next(line for line in listing.splitlines() if " toy " in line)
    assert "solved" in toy_row and "next" not in toy_row


def test_watch_rechecks_on_save_and_survives_a_syntax_error(kata, tmp_path):
    kata("start", "toy")
    attempt = tmp_path / "ws" / "toy.py"
    stop = threading.Event()

    def saves():  # keep saving until the watcher has seen one (it may not be watching yet)
        time.sleep(1.0)
        i = 0
        while not stop.is_set():
            i += 1
            attempt.write_text(f"def total(xs:  # save {i}\n")  # changed each time
            stop.wait(1.0)

    saver = threading.Thread(target=saves)
    saver.start()
    try:
        r = kata("watch", "--seed", "1", "--max-checks", "2")
    finally:
        stop.set()
        saver.join()
    assert r.exit_code == 0, r.output
    assert r.output.count("Score: 0/100") == 2          # the first check, then a broken save
    assert "SyntaxError" in r.output and "Stopped watching" in r.output


def test_watch_defaults_to_the_kata_last_started(kata):
    assert kata("watch").exit_code == 2  # nothing started: a clear usage error
    kata("start", "toy")
    r = kata("watch", "--max-checks", "1")
    assert r.exit_code == 0 and "kata check toy" in r.output


def test_watch_of_a_missing_attempt_is_a_usage_error(kata):
    r = kata("watch", "toy")
    assert r.exit_code == 2 and "kata start toy" in r.output


def test_solution_refuses_before_solving_and_force_is_recorded(kata, tmp_path):
    import json
    r = kata("solution", "toy")
    assert r.exit_code == 2 and "not solved yet" in r.output and "def total" not in r.output
    r = kata("solution", "toy", "--force")
    assert r.exit_code == 0 and "def total" in r.output
    state = json.loads((tmp_path / "ws" / ".kata" / "state.json").read_text())
    assert state["toy"]["solution_forced"] == 1


def test_solution_after_solving_shows_reference_then_each_mistake_with_its_diff(kata, tmp_path):
    kata("start", "toy")
    (tmp_path / "ws" / "toy.py").write_text(RIGHT)
    assert kata("check", "toy", "--seed", "1").exit_code == 0
    r = kata("solution", "toy")
    assert r.exit_code == 0, r.output
    ref_at, gallery_at = r.output.index("return sum(xs)"), r.output.index("mistakes the suite catches")
    assert ref_at < gallery_at
    assert "+    return sum(xs) + (len(xs) > 2)" in r.output  # the off_by_one mutant's diff


def test_watch_exits_cleanly_on_ctrl_c(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "toy.py").write_text(RIGHT)
    env = dict(os.environ, PYTHONUNBUFFERED="1", KATA_ROOT=ROOT)
    # SIGINT at its default, as in a terminal (a background CI job may have it ignored).
    proc = subprocess.Popen([sys.executable, "-m", "checker", "-w", str(ws), "watch", "toy"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        for line in proc.stdout:
            if line.startswith("Score:"):
                break
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "Stopped watching" in out and "Traceback" not in out


def test_serve_answers_one_json_report_per_request_line(kata, tmp_path):
    import json
    attempt = tmp_path / "toy.py"
    attempt.write_text(RIGHT)
    requests = (json.dumps({"file": str(attempt), "seed": 1}) + "\n" + "not json\n"
                + json.dumps({"file": str(ATTEMPTS / "total_off_by_one.py"), "seed": 1}) + "\n")
    r = CliRunner().invoke(main, ["--root", ROOT, "serve", "toy"], input=requests)
    assert r.exit_code == 0, r.output
    answers = [json.loads(line) for line in r.output.splitlines()]
    assert answers[0]["score"] == 100 and "error" in answers[1] and answers[2]["score"] < 100
