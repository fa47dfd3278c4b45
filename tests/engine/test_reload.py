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
