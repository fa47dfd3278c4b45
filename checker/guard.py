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
import functools
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


class MeterAccessError(PermissionError):
    """The attempt reached for a switch of a probe's meter (checker.probes reports it)."""


def _is_meter_switch(target) -> bool:
    """/proc/<self, pid, thread>/clear_refs resets the resident high-water mark PeakMemory reads."""
    try:
        p = os.fsdecode(target)
    except (TypeError, ValueError):
        return False
    return os.path.basename(p) == "clear_refs" or os.path.basename(os.path.realpath(p)) == "clear_refs"


class Guard:
    def __init__(self, secret_paths, attempt_path):
        self.secret = [os.path.realpath(p) for p in secret_paths]
        self.attempt_path = os.path.realpath(attempt_path) if attempt_path else None
        self.violations: list[str] = []
        self.deny_spawn = False
        self._c_targets: dict[str, str] = {}  # builtin-type method name -> forbidden name
        self._patches: list = []
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
            if self._armed and isinstance(target, (str, bytes, os.PathLike)) and _is_meter_switch(target):
                raise MeterAccessError(f"{os.fsdecode(target)} resets the checker's memory meter: "
                                       "not available to an attempt")
        elif self.deny_spawn and (event in _SPAWN_EVENTS):
            raise PermissionError(f"starting processes is not allowed in an attempt ({event})")

    # ---- forbidden APIs ------------------------------------------------------------------
    # Two mechanisms. A function reachable as an attribute (of a module or a class) is replaced,
    # everywhere it is referenced at load time, by a wrapper that refuses calls made by the
    # attempt: free when nothing forbidden is called. A method of a builtin type (list.sort)
    # cannot be replaced, so only for those a profiler watches every C call while armed
    # (that costs: a Python callback per call).
    def forbid(self, names):
        replace = {}
        for name in names:
            for obj in _resolve_all(name):
                obj = getattr(obj, "__func__", obj) if isinstance(obj, (staticmethod, classmethod)) else obj
                if _is_builtin_method(obj):
                    self._c_targets[_c_name(obj)] = name
                else:
                    replace[id(obj)] = (obj, name)
        if replace:
            self._patches = _replace_everywhere(replace, self._wrapper)

    def _wrapper(self, original, name):
        guard = self

        def forbidden(*args, **kwargs):
            if guard._armed and guard._from_attempt(sys._getframe(1)):
                guard.violations.append(name)
                raise ForbiddenCall(f"{name} is forbidden in this kata")
            return original(*args, **kwargs)
        try:
            functools.update_wrapper(forbidden, original)
        except (AttributeError, TypeError):
            pass
        return forbidden

    def unpatch(self):
        """Put every replaced function back (for tests that use a Guard in their own process)."""
        for holder, key, original in reversed(getattr(self, "_patches", [])):
            if isinstance(holder, dict):
                holder[key] = original
            else:
                setattr(holder, key, original)
        self._patches = []

    def arm(self):
        """Refuse forbidden calls from the attempt until disarm()."""
        self._armed = True
        if self._c_targets:
            sys.setprofile(self._profile)

    def disarm(self):
        if self._armed and self._c_targets:
            sys.setprofile(None)
        self._armed = False

    def _profile(self, frame, event, arg):
        if event != "c_call":
            return
        name = self._c_targets.get(_c_name(arg))
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


def _is_builtin_method(obj) -> bool:
    """A method of a builtin type (list.sort): nothing to replace, only a profiler sees it."""
    owner = getattr(obj, "__objclass__", None)
    return isinstance(owner, type) and owner.__module__ == "builtins"


def _replace_everywhere(targets, make_wrapper):
    """Replace each target object in every loaded module's namespace and in the class that
    defines it. Returns (holder, key, original) triples so the change can be undone."""
    wrappers = {key: make_wrapper(obj, name) for key, (obj, name) in targets.items()}
    patches = []
    for module in list(sys.modules.values()):
        try:
            namespace = vars(module)
        except TypeError:
            continue
        for key, value in list(namespace.items()):
            if id(value) in wrappers and value is targets[id(value)][0]:
                patches.append((namespace, key, value))
                namespace[key] = wrappers[id(value)]
    for key, (obj, _) in targets.items():
        owner = _defining_class(obj)
        if owner is not None:
            attr = obj.__name__
            raw = vars(owner)[attr]
            wrapped = wrappers[key]
            if isinstance(raw, staticmethod):
                wrapped = staticmethod(wrapped)
            elif isinstance(raw, classmethod):
                wrapped = classmethod(wrapped)
            try:
                setattr(owner, attr, wrapped)
                patches.append((owner, attr, raw))
            except (AttributeError, TypeError):
                pass
    return patches


def _defining_class(fn):
    """The class whose body defines the function fn (None for a module-level function)."""
    parts = getattr(fn, "__qualname__", "").split(".")
    module = sys.modules.get(getattr(fn, "__module__", None) or "")
    if len(parts) < 2 or module is None or "<locals>" in parts:
        return None
    owner = module
    for part in parts[:-1]:
        owner = getattr(owner, part, None)
    raw = vars(owner).get(parts[-1]) if isinstance(owner, type) else None
    return owner if getattr(raw, "__func__", raw) is fn else None


def _c_name(obj) -> str:
    qual = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", "")
    mod = getattr(obj, "__module__", None)
    return qual if mod in (None, "builtins") else f"{mod}.{qual}"


def _resolve_all(name: str):
    """The callables a forbidden name stands for, as they are referenced (decorated, if so).

    A class stands for the Python methods it defines (calling a class is using them). A module
    stands for the functions and methods written in its own file: checked on the unwrapped code,
    so a shared decorator's code (contextlib's, dynamo's) never marks unrelated functions.
    """
    obj = _resolve(name)
    if obj is None:
        return []
    if isinstance(obj, type) and obj.__module__ != "builtins":
        return [m for m in vars(obj).values() if hasattr(getattr(m, "__func__", m), "__code__")]
    if not isinstance(obj, type(sys)):
        return [obj]
    home = os.path.realpath(getattr(obj, "__file__", "") or "")

    def written_here(m):
        code = getattr(inspect.unwrap(m), "__code__", None) if callable(m) else None
        return code is not None and os.path.realpath(code.co_filename) == home

    found = []
    for value in vars(obj).values():
        members = vars(value).values() if isinstance(value, type) else [value]
        found += [m for m in members if written_here(getattr(m, "__func__", m))]
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
