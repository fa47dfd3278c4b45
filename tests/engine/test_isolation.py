"""The attempt runs in another process and cannot reach the reference or the hidden suite."""
from tests.conftest import ATTEMPTS, by_name


def test_importing_the_reference_fails(check):
    p = by_name(check("imports_reference"))["totals"]
    assert p.status == "error"
    assert "cannot be imported by an attempt" in p.message


def test_reading_reference_and_suite_files_fails(check):
    for kind in ("reads_reference", "reads_suite"):
        p = by_name(check(kind))["totals"]
        assert p.status == "error" and "not readable" in p.message, kind


def test_starting_processes_fails(check):
    p = by_name(check("fork_bomb"))["totals"]
    assert p.status == "error" and "starting processes is not allowed" in p.message


def test_attempt_runs_in_another_process(catalog, toy, tmp_path):
    import os
    attempt = tmp_path / "pid.py"
    attempt.write_text("import os\n\ndef total(xs):\n    return os.getpid()\n\n"
                       "def add(a, b):\n    return a + b\n")
    from checker.proxy import LoadSpec, WorkerProxy
    w = WorkerProxy(LoadSpec(str(attempt), "toy", None, [], [], catalog.secret_paths(), 512, 10))
    try:
        pid = w.call("total", [[]], timeout=5).value
    finally:
        w.stop()
    assert pid != os.getpid()


def test_worker_environment_is_scrubbed(catalog, tmp_path, monkeypatch):
    monkeypatch.setenv("KATA_SECRET_TOKEN", "x")
    attempt = tmp_path / "env.py"
    attempt.write_text("import os\n\ndef total(xs):\n    return sorted(os.environ)\n")
    from checker.proxy import LoadSpec, WorkerProxy
    w = WorkerProxy(LoadSpec(str(attempt), "toy", None, [], [], catalog.secret_paths(), 512, 10))
    try:
        names = w.call("total", [[]], timeout=5).value
    finally:
        w.stop()
    assert "KATA_SECRET_TOKEN" not in names


def test_fixture_attempts_exist():
    assert (ATTEMPTS / "raises.py").exists()
