"""An attempt is always run from its current source, however quickly it is saved again."""
import os

from tests.conftest import by_name


def test_a_same_size_rewrite_in_the_same_second_is_seen(check, tmp_path):
    path = tmp_path / "toy.py"
    right = "def total(xs):\n    return sum(xs)\n\n\ndef add(a, b):\n    return a + b\n"
    wrong = right.replace("a + b", "a + a")
    assert len(right) == len(wrong)
    path.write_text(right)
    first = os.stat(path)
    assert by_name(check(path))["adds"].passed
    path.write_text(wrong)
    os.utime(path, ns=(first.st_atime_ns, first.st_mtime_ns))  # same size, same mtime: a fast re-save
    assert not by_name(check(path))["adds"].passed


def test_a_harness_named_in_preload_is_imported_once(tmp_path):
    """lca preloads its harness so a warm zygote builds the big trees once: the worker must use
    that module, not import the file a second time (which would build them again)."""
    import importlib.util

    from checker.proxy import LoadSpec, WorkerProxy

    attempt = tmp_path / "attempt.py"
    attempt.write_text("import sys\n\ndef f():\n    return 'kata_harness' in sys.modules\n")
    # Its path only: importing it here would patch sys.setrecursionlimit in the test process.
    harness = importlib.util.find_spec("katas.lca.harness").origin
    seen = {}
    for preload in ([], ["katas.lca.harness"]):
        worker = WorkerProxy(LoadSpec(attempt=str(attempt), module="attempt", harness=harness,
                                      preload=preload, forbidden=[], secret=[], memory_mb=1024,
                                      load_timeout=60))
        try:
            seen[bool(preload)] = worker.call("f", [], {}, timeout=30).value
        finally:
            worker.stop()
    assert seen == {False: True, True: False}
