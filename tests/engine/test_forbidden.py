"""Forbidden APIs fail the property they are called in, naming the API."""
from tests.conftest import by_name


def test_forbidden_builtin_is_named(check):
    report = check("uses_sorted")
    p = by_name(report)["totals"]
    assert p.status == "forbidden" and "sorted" in p.message
    assert by_name(report)["adds"].passed
    assert "forbidden-api" in report.flags


def test_swallowing_the_forbidden_error_does_not_hide_it(check):
    p = by_name(check("swallows_forbidden"))["totals"]
    assert p.status == "forbidden"


def test_forbidden_c_method_and_module_function(tmp_path):
    from checker.guard import Guard
    import sys
    path = tmp_path / "att.py"
    path.write_text("import heapq\n\ndef f(xs):\n    xs.sort()\n\ndef g(xs):\n    return list(heapq.merge(xs, xs))\n"
                    "def ok(xs):\n    return len(xs)\n")
    import importlib.util
    spec = importlib.util.spec_from_file_location("att_forbid", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    guard = Guard([], str(path))
    guard.forbid(["list.sort", "heapq.merge"])
    caught = []
    for fn in (mod.f, mod.g, mod.ok):
        guard.arm()
        try:
            fn([3, 1, 2])
        except BaseException as exc:  # ForbiddenCall
            caught.append(str(exc))
        finally:
            guard.disarm()
    guard.unpatch()
    assert sys.getprofile() is None
    assert caught == ["list.sort is forbidden in this kata", "heapq.merge is forbidden in this kata"]


def test_engine_code_may_use_forbidden_api(tmp_path):
    """Only calls made from the attempt's frames count: the harness may sort."""
    from checker.guard import Guard
    guard = Guard([], str(tmp_path / "att.py"))
    guard.forbid(["sorted"])
    guard.arm()
    try:
        assert sorted([2, 1]) == [1, 2]
    finally:
        guard.disarm()
        guard.unpatch()
    assert guard.violations == []
    import builtins
    assert not hasattr(builtins.sorted, "__wrapped__"), "unpatch must restore the original"


def test_forbidden_class_means_using_it(tmp_path):
    """Calling a class is no call event of its own; its Python methods stand for it."""
    from checker.guard import ForbiddenCall, Guard
    import importlib.util
    path = tmp_path / "att_cls.py"
    path.write_text("import argparse\n\ndef f():\n    return argparse.ArgumentParser(prog='x')\n")
    spec = importlib.util.spec_from_file_location("att_cls", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    guard = Guard([], str(path))
    guard.forbid(["argparse.ArgumentParser"])
    guard.arm()
    try:
        mod.f()
    except ForbiddenCall as exc:
        message = str(exc)
    else:
        message = ""
    finally:
        guard.disarm()
        guard.unpatch()
    assert message == "argparse.ArgumentParser is forbidden in this kata"
