"""A submission cannot read another copy of the katas on the machine (an instructor's clone in
/home, a second checkout in /work): the grading sandbox covers those folders (root only: the
sandbox's mount namespace)."""
import csv
import os
import shutil
import tempfile

import pytest

from checker import grading as grade
from tests.conftest import FIXTURES

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="grading as root (mount namespaces)")
ROOT = FIXTURES / "root"

THIEF = '''
SRC = {path!r}
try:
    with open(SRC) as f:
        exec(f.read())          # the reference's total and add, read from the other copy
except OSError:
    def total(xs):
        return -1

    def add(a, b):
        return -1
'''


@pytest.mark.parametrize("base", ["/home", "/work", "/opt"])
def test_a_copy_of_the_reference_elsewhere_is_not_readable(tmp_path, base):
    os.makedirs(base, exist_ok=True)
    copy = tempfile.mkdtemp(prefix="kata-copy-", dir=base)
    try:
        os.chmod(copy, 0o755)
        ref = os.path.join(copy, "reference.py")
        shutil.copy(ROOT / "solutions/toy/reference.py", ref)
        os.chmod(ref, 0o644)  # world-readable, as a clone usually is
        subs = tmp_path / "subs"
        (subs / "mallory").mkdir(parents=True)
        (subs / "mallory" / "toy.py").write_text(THIEF.format(path=ref))
        (subs / "honest").mkdir()
        shutil.copy(ROOT / "solutions/toy/reference.py", subs / "honest" / "toy.py")
        out = tmp_path / "out"
        grade.run(grade.Options(submissions=subs, out=out, katas=["toy"], root=str(ROOT), seed=1,
                                progress=False))
        rows = {r["student"]: r for r in csv.DictReader((out / "gradebook.csv").open())}
        assert rows["honest"]["toy"] == "100"
        assert rows["mallory"]["toy"] == "0", rows["mallory"]
    finally:
        shutil.rmtree(copy, ignore_errors=True)
