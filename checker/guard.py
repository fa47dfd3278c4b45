"""Worker-side guards: what the attempt may not import, open, spawn or call.

Trust boundary. Everything in this module runs inside the worker, in the same interpreter as the
attempt. It keeps an honest or careless attempt away from the reference and the hidden suite, and
detects forbidden APIs. A deliberately hostile attempt can subvert anything in its own process
(ctypes can make raw system calls), so nothing here decides a verdict: the checker compares the
values it receives with the reference it holds, and OS-level limits (rlimits, a separate user when
grading as root, killing the process group) contain the rest.
"""
from __future__ import annotations

import builtins
import importlib
import inspect
import os
import sys
import traceback

# Audit events that start a new program or process: an attempt never needs them.
_SPAWN_EVENTS = {
    "os.system", "subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn", "os.fork",
    "os.forkpty", "pty.spawn", "os.startfile",
}
_PATH_EVENTS = {"open", "os.listdir", "os.scandir", "os.chdir", "shutil.copyfile", "os.rename",
                "os.remove", "os.symlink", "os.link", "glob.glob"}


class ForbiddenCall(BaseException):
    """Raised inside the attempt when it calls a forbidden API.

    A BaseException so that an attempt's `except Exception` cannot swallow it; the violation is
    also recorded in `Guard.violations`, so even a bare `except:` does not hide it.
    """


class SecretPathError(PermissionError):
    pass


class Guard:
    def __init__(self, secret_paths, attempt_path):
        self.secret = [os.path.realpath(p) for p in secret_paths]
        self.attempt_path = os.path.realpath(attempt_path) if attempt_path else None
        self.violations: list[str] = []
        self.deny_spawn = False
        self._c_targets: dict[str, str] = {}     # qualified C-function name -> forbidden name
        self._code_targets: dict[object, str] = {}  # code object -> forbidden name
        self._armed = False

    # ---- files and imports -------------------------------------------------------------
    def install(self):
        sys.meta_path.insert(0, _SecretImportBlocker(self))
        sys.addaudithook(self._audit)

    def _is_secret(self, path) -> bool:
        try:
            p = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        if p == self.attempt_path:
            return False
        return any(p == s or p.startswith(s + os.sep) for s in self.secret)

    def _audit(self, event, args):
        if event in _PATH_EVENTS and args:
            target = args[0]
            if isinstance(target, int):
                return
            if isinstance(target, (str, bytes, os.PathLike)) and self._is_secret(target):
                raise SecretPathError(f"the checker's hidden files are not readable here: {target}")
        elif self.deny_spawn and (event in _SPAWN_EVENTS):
            raise PermissionError(f"starting processes is not allowed in an attempt ({event})")

    # ---- forbidden APIs ------------------------------------------------------------------
    def forbid(self, names):
        for name in names:
            for obj in _resolve_all(name):
                code = getattr(obj, "__code__", None)
                if code is not None:
                    self._code_targets[code] = name
                else:
                    self._c_targets[_c_name(obj)] = name

    def arm(self):
        """Watch calls until disarm(); a no-op when nothing is forbidden."""
        if not (self._c_targets or self._code_targets):
            return
        self._armed = True
        sys.setprofile(self._profile)

    def disarm(self):
        if self._armed:
            sys.setprofile(None)
            self._armed = False

    def _profile(self, frame, event, arg):
        if event == "c_call":
            name = self._c_targets.get(_c_name(arg))
        elif event == "call":
            name = self._code_targets.get(frame.f_code)
            frame = frame.f_back
        else:
            return
        if name is not None and self._from_attempt(frame):
            self.violations.append(name)
            sys.setprofile(None)
            raise ForbiddenCall(f"{name} is forbidden in this kata")

    def _from_attempt(self, frame) -> bool:
        """True if the attempt made this call, directly or through library code it called.

        A module the attempt imports may use the API while initialising itself (subprocess
        calls sorted at import): that is the library's business, so the walk stops at an import.
        """
        while frame is not None:
            name = frame.f_code.co_filename
            if name == self.attempt_path:
                return True
            if name.startswith("<frozen importlib"):
                return False
            frame = frame.f_back
        return False

    # ---- tracebacks ------------------------------------------------------------------------
    def trim_traceback(self, exc: BaseException) -> str:
        """The traceback cut to the attempt's own frames, then the exception line."""
        frames = traceback.extract_tb(exc.__traceback__)
        own = [f for f in frames if os.path.realpath(f.filename) == self.attempt_path]
        lines = ["Traceback (attempt frames only):\n"]
        lines += traceback.format_list(own)
        lines += traceback.format_exception_only(type(exc), exc)
        return "".join(lines).rstrip()


class _SecretImportBlocker:
    """Refuses imports of the reference solutions and the hidden suites."""

    def __init__(self, guard):
        self.guard = guard

    def find_spec(self, fullname, path=None, target=None):
        parts = fullname.split(".")
        if parts[0] == "solutions" or (parts[0] == "katas" and parts[-1] == "suite"):
            raise ImportError(f"{fullname} is part of the checker and cannot be imported by an attempt")
        return None


def _c_name(obj) -> str:
    qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", "")
    mod = getattr(obj, "__module__", None)
    return qual if mod in (None, "builtins") else f"{mod}.{qual}"


def _resolve_all(name: str):
    """The callables a forbidden name stands for.

    A module stands for the Python functions and methods written in its own file (unwrapped, so
    a shared decorator's code object, e.g. contextlib's, never marks unrelated functions).
    """
    obj = _resolve(name)
    if obj is None:
        return []
    if isinstance(obj, type) and obj.__module__ != "builtins":
        # Calling a class is not a call event of its own: forbid the Python methods it defines
        # (constructor, forward, ...), which is what using the class runs.
        methods = [getattr(m, "__func__", m) for m in vars(obj).values()]
        return [inspect.unwrap(m) for m in methods if hasattr(m, "__code__")]
    if not isinstance(obj, type(sys)):
        return [inspect.unwrap(obj)] if hasattr(obj, "__wrapped__") else [obj]
    home = os.path.realpath(getattr(obj, "__file__", "") or "")
    found = []
    for value in vars(obj).values():
        members = vars(value).values() if isinstance(value, type) else [value]
        for m in members:
            m = getattr(m, "__func__", m)  # classmethod / staticmethod
            m = inspect.unwrap(m) if callable(m) else m
            code = getattr(m, "__code__", None)
            if code is not None and os.path.realpath(code.co_filename) == home:
                found.append(m)
    return found


def _resolve(name: str):
    if hasattr(builtins, name):
        return getattr(builtins, name)
    parts = name.split(".")
    if parts[0] in vars(builtins) and isinstance(vars(builtins)[parts[0]], type):
        obj = vars(builtins)[parts[0]]
        for p in parts[1:]:
            obj = getattr(obj, p, None)
        return obj
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for p in parts[i:]:
            obj = getattr(obj, p, None)
            if obj is None:
                return None
        return obj
    return None
