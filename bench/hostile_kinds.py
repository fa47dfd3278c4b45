"""The hostile kinds of the grading issue, written for any real kata (tests/test_hostile.py has the
same kinds on a toy kata, with exact scores). Each kind says how its file is made and the flag it
must earn:

- "module": the file is that text (it misbehaves at import);
- "call": the kata's stub with every `raise NotImplementedError` replaced by the hostile body, so
  every call misbehaves (a stub scores 0, so any point it earns is a leak);
- "mutant": a wrong solution plus module-level mischief (faking a verdict, patching comparisons,
  planting test-tool files beside it): it must score what the mutant alone can reach, < 100.
"""
from __future__ import annotations

import re

MODULE = {
    "syntax_error": ("def f(:\n", "load-syntax"),
    "import_error": ("import no_such_module_anywhere\n", "load-import"),
    "loop_at_import": ("while True:\n    pass\n", "load-timeout"),
    "exit_at_import": ("import sys\nsys.exit(0)\n", "exit"),
    "os_exit_at_import": ("import os\nos._exit(0)\n", "crash"),
    "segfault_at_import": ("import ctypes\nctypes.string_at(0)\n", "crash"),
    "memory_bomb_at_import": ("x = []\nwhile True:\n    x.append(bytearray(100 << 20))\n", "memory-limit"),
}

CALL = {
    "loop_in_call": ("while True:\n    pass", "timeout"),
    "memory_bomb_in_call": ("b = []\nwhile True:\n    b.append(bytearray(256 << 20))", "memory-limit"),
    "fork_bomb": ("import os\nwhile True:\n    os.fork()", "spawn-attempt"),
    "exit_in_call": ("import sys\nsys.exit(0)", "exit"),
    "os_exit_in_call": ("import os\nos._exit(0)", "crash"),
    "segfault_in_call": ("import ctypes\nctypes.string_at(0)", "crash"),
    "reads_reference": ("return open({reference!r}).read()", "secret-access"),
    "reads_suite": ("return open({suite!r}).read()", "secret-access"),
    "imports_reference": ("import importlib\nreturn importlib.import_module('solutions.{kata}.reference')",
                          "secret-access"),
    # Tries the output folder of every run of the bench (only the current one is the grader's).
    "writes_output": ("import os\nfor out in {outs!r}:\n    try:\n"
                      "        open(os.path.join(out, 'gradebook.csv'), 'w').write('student\\nhacked,100\\n')\n"
                      "    except Exception:\n        pass\nraise NotImplementedError", "secret-access"),
    "output_flood": ("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", "output-flood"),
    "background": ("import ctypes, time\nlibc = ctypes.CDLL(None)\nif libc.fork() == 0:\n    libc.setsid()\n"
                   "    if libc.fork() == 0:\n        time.sleep(3600)\n    libc._exit(0)\n"
                   "raise NotImplementedError", "stray-process"),
}

MUTANT = {
    "fake_verdict": ("print('PASSED every property')\nprint('Score: 100/100')\n", "fake-verdict-output"),
    "tamper": ("import math\nimport numpy\nmath.isclose = lambda *a, **k: True\n"
               "numpy.allclose = lambda *a, **k: True\nnumpy.array_equal = lambda *a, **k: True\n", "tamper"),
    "planted_files": ("", "planted-files"),
}

FLAG = {name: flag for table in (MODULE, CALL, MUTANT) for name, (_, flag) in table.items()}
KINDS = sorted(FLAG)
PLANTED = {"conftest.py": "import os\ndef pytest_sessionfinish(session, exitstatus):\n    os._exit(0)\n",
           "pytest.ini": "[pytest]\naddopts = -p no:python\n"}


def files(kind: str, kata, mutant_source: str, outs) -> dict:
    """{file name: text} for one student's submission of `kata` of this kind."""
    if kind in MODULE:
        return {kata.filename: MODULE[kind][0]}
    if kind in CALL:
        body = CALL[kind][0].format(reference=str(kata.reference), suite=str(kata.suite), kata=kata.id,
                                    outs=[str(o) for o in outs])

        def hostile(m):
            return "\n".join(m.group(1) + line for line in body.splitlines())
        return {kata.filename: re.sub(r"^( *)raise NotImplementedError.*$", hostile, kata.stub.read_text(),
                                      flags=re.M)}
    # Appended: a mutant may open with `from __future__ import ...`, which must stay first.
    made = {kata.filename: mutant_source + "\n" + MUTANT[kind][0]}
    if kind == "planted_files":
        made.update(PLANTED)
    return made
