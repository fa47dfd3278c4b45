"""The hostile submission kinds of a grader: one table, used by tests/grading/test_hostile.py (on the
toy kata, exact scores) and bench/bench_grade.py (on every real kata).

Each kind says how its file is made from a kata and the flags it must earn (none: the test checks
what the attempt observed instead):

- "module": the file is that text (it misbehaves at import): scores 0;
- "call": the kata's stub with every `raise NotImplementedError` replaced by the hostile body, so
  every call misbehaves (a stub scores 0, so any point it earns is a leak): scores 0;
- "mutant": a wrong solution plus module-level mischief (faking a verdict, patching comparisons
  and the engine, planting test-tool files beside it): scores exactly what the mutant alone does.

The engine's fault tests (tests/engine) use `one_call`: the reference with a single function
misbehaving, so the property after a fault must still run, in a fresh worker, and pass.

Body placeholders: {reference}, {suite} (the kata's hidden files), {kata} (its id), {outs} (the
grader's output folders, which the attempt must not reach).
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    where: str          # "module", "call" or "mutant"
    code: str
    flags: tuple = ()   # flags it must earn (none: the test checks what the attempt observed)


_RAW_FORK = "import ctypes\nlibc = ctypes.CDLL(None)\nwhile True:\n    libc.fork()"
_RAW_READ = ("import ctypes\nlibc = ctypes.CDLL(None)\nfd = libc.open({reference!r}.encode(), 0)\n"
             "if fd < 0:\n    return -1\nbuf = ctypes.create_string_buffer(65536)\nreturn libc.read(fd, buf, 65536)")
_WRITES = ("import os\nfor out in {outs!r}:\n    try:\n"
           "        open(os.path.join(out, 'gradebook.csv'), 'w').write('student\\nhacked,100\\n')\n"
           "        os.makedirs(os.path.join(out, 'feedback'), exist_ok=True)\n"
           "        open(os.path.join(out, 'feedback', 'alice.md'), 'w').write('hacked')\n"
           "    except Exception:\n        pass\nraise NotImplementedError")
_BACKGROUND = ("import ctypes, time\nlibc = ctypes.CDLL(None)\nif libc.fork() == 0:\n    libc.setsid()\n"
               "    if libc.fork() == 0:\n        time.sleep(3600)\n    libc._exit(0)\nraise NotImplementedError")
_TAMPER = ("import math\nimport numpy\nimport checker.codec\nimport checker.guard\n"
           "math.isclose = lambda *a, **k: True\nnumpy.allclose = lambda *a, **k: True\n"
           "numpy.array_equal = lambda *a, **k: True\nchecker.codec.dumps = lambda *a, **k: b'{{}}'\n"
           "checker.guard.Guard = None\n")

KINDS = {
    "syntax_error": Kind("module", "def f(:\n", ("load-syntax",)),
    "import_error": Kind("module", "import no_such_module_anywhere\n", ("load-import",)),
    "loop_at_import": Kind("module", "while True:\n    pass\n", ("load-timeout", "timeout")),
    "exit_at_import": Kind("module", "import sys\nsys.exit(0)\n", ("load-import", "exit")),
    "os_exit_at_import": Kind("module", "import os\nos._exit(0)\n", ("crash",)),
    "segfault_at_import": Kind("module", "import ctypes\nctypes.string_at(0)\n", ("crash",)),
    "memory_bomb_at_import": Kind("module", "x = []\nwhile True:\n    x.append(bytearray(100 << 20))\n",
                                  ("memory-limit",)),
    "loop_in_call": Kind("call", "while True:\n    pass", ("timeout",)),
    "memory_bomb_in_call": Kind("call", "b = []\nwhile True:\n    b.append(bytearray(256 << 20))", ("memory-limit",)),
    "fork_bomb": Kind("call", "import os\nwhile True:\n    os.fork()", ("spawn-attempt",)),
    # The call's timeout kills the whole process group, so whether a fork is still alive for the
    # stray-process sweep to see is a race: only the timeout is guaranteed.
    "raw_fork_bomb": Kind("call", _RAW_FORK, ("timeout",)),
    "exit_in_call": Kind("call", "import sys\nsys.exit(0)", ("exit",)),
    "os_exit_in_call": Kind("call", "import os\nos._exit(0)", ("crash",)),
    "segfault_in_call": Kind("call", "import ctypes\nctypes.string_at(0)", ("crash",)),
    "reads_reference": Kind("call", "return open({reference!r}).read()", ("secret-access",)),
    "reads_suite": Kind("call", "return open({suite!r}).read()", ("secret-access",)),
    "imports_reference": Kind("call", "import importlib\nreturn importlib.import_module('solutions.{kata}.reference')",
                              ("secret-access",)),
    "writes_output": Kind("call", _WRITES, ("secret-access",)),
    "output_flood": Kind("call", "import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", ("output-flood",)),
    "background": Kind("call", _BACKGROUND, ("stray-process",)),
    # Evidence of the OS-level boundary, not the in-process guard: raw system calls via ctypes.
    "raw_read_reference": Kind("call", _RAW_READ),
    "whoami": Kind("call", "import os\nreturn os.getuid()"),
    "fake_verdict": Kind("mutant", "print('PASSED every property')\nprint('Score: 100/100')\nprint('{{\"score\": 100}}')\n",
                         ("fake-verdict-output",)),
    "tamper": Kind("mutant", _TAMPER, ("tamper",)),
    "planted_files": Kind("mutant", "", ("planted-files",)),
}
NAMES = sorted(KINDS)
FLAGS = {name: k.flags for name, k in KINDS.items()}
PLANTED = {"conftest.py": "import os\ndef pytest_sessionfinish(session, exitstatus):\n    session.exitstatus = 0\n"
                          "    os._exit(0)\n",
           "pytest.ini": "[pytest]\naddopts = -p no:python\n"}


def _code(name: str, kata, outs) -> str:
    return KINDS[name].code.format(reference=str(kata.reference), suite=str(kata.suite), kata=kata.id,
                                   outs=[str(o) for o in outs])


def one_call(name: str, kata, fn: str) -> str:
    """A "call" kind in `fn` only, the rest of the kata's reference intact; a "module" kind as is."""
    kind, code = KINDS[name], _code(name, kata, ())
    if kind.where == "module":
        return code
    if kind.where != "call":
        raise ValueError(f"{name} is a {kind.where} kind: use files()")
    src = kata.reference.read_text()
    f = next(n for n in ast.parse(src).body if isinstance(n, ast.FunctionDef) and n.name == fn)
    lines, first = src.splitlines(), f.body[0]
    body = [" " * first.col_offset + line for line in code.splitlines()]
    return "\n".join(lines[:first.lineno - 1] + body + lines[f.end_lineno:]) + "\n"


def files(name: str, kata, mutant_source: str, outs) -> dict:
    """{file name: text} for one student's submission of `kata` of this kind."""
    kind = KINDS[name]
    code = _code(name, kata, outs)
    if kind.where == "module":
        return {kata.filename: code}
    if kind.where == "call":
        def hostile(m):
            return "\n".join(m.group(1) + line for line in code.splitlines())
        return {kata.filename: re.sub(r"^( *)raise NotImplementedError.*$", hostile, kata.stub.read_text(),
                                      flags=re.M)}
    # Appended: a mutant may open with `from __future__ import ...`, which must stay first.
    made = {kata.filename: mutant_source + "\n" + code}
    if name == "planted_files":
        made.update(PLANTED)
    return made
