"""The worker process: the only place an attempt's code is imported and run.

Started by checker.proxy as `python -I -m checker.worker READ_FD WRITE_FD`. It receives one `load`
message, then `call` / `harness` requests, and answers each with plain data (checker.codec).
It never sees the reference solution or the hidden suite; guard.py keeps them out of reach.
"""
from __future__ import annotations

import importlib.util
import os
import resource
import sys
import time
import traceback

from checker import codec, probes as _probes, protocol
from checker import guard as _guard_module
from checker.guard import ForbiddenCall, Guard, MeterAccessError, SecretPathError
from checker.probes import PROBES

_perf = time.perf_counter  # taken before the attempt loads, so the attempt cannot swap it
# Taken before the attempt loads: a patched codec or protocol cannot forge the framing of replies.
_dumps, _loads, _send, _read_exact = codec.dumps, codec.loads, protocol.send, protocol.read_exact

# Functions an attempt has no business replacing (comparisons a grader might use, the engine's own
# plumbing). Replacing one cannot change a verdict (the checker compares in its own process), but
# it is a clear sign of an attempt gaming a grader, so it is reported as the flag "tamper".
_WATCHED = {
    "math": ["isclose", "fsum"], "builtins": ["abs", "sum", "len", "isinstance", "print", "open"],
    "numpy": ["allclose", "isclose", "array_equal"], "numpy.testing": ["assert_allclose"],
    "torch": ["allclose", "isclose", "equal"], "torch.testing": ["assert_close"],
    "checker.codec": ["dumps", "loads"], "checker.protocol": ["send", "read_exact"],
    "checker.guard": ["Guard"], "checker.worker": ["WorkerServer"],
}


def _snapshot():
    seen = {}
    for mod, names in _WATCHED.items():
        m = sys.modules.get(mod)
        if m is not None:
            for n in names:
                if hasattr(m, n):
                    seen[(mod, n)] = getattr(m, n)
    return seen


class _RecordingGuard(Guard):
    """The engine's Guard, also remembering what the attempt tried (reported as flags)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.events: set[str] = set()

    def install(self):
        sys.meta_path.insert(0, _RecordingBlocker(self))
        sys.addaudithook(self._audit)

    def _audit(self, event, args):
        try:
            super()._audit(event, args)
        except SecretPathError:
            # The import system probing a hidden __pycache__ (for a harness's bytecode) is not
            # the attempt reaching for secrets; it is still refused, just not flagged.
            target = args[0] if args else ""
            if not (isinstance(target, str) and target.endswith(".pyc") and "__pycache__" in target):
                self.events.add("secret-access")
            raise
        except MeterAccessError as exc:
            _probes.tampered(str(exc))
            raise
        except PermissionError:
            self.events.add("spawn-attempt")
            raise


class _RecordingBlocker(_guard_module._SecretImportBlocker):
    def find_spec(self, fullname, path=None, target=None):
        try:
            return super().find_spec(fullname, path, target)
        except ImportError:
            self.guard.events.add("secret-access")
            raise


class WorkerServer:
    """The worker's side of the boundary: serves checker.proxy.WorkerProxy's requests."""

    def __init__(self, rfd: int, wfd: int):
        self.rfd, self.wfd = rfd, wfd
        self.guard: Guard | None = None
        self.attempt = None
        self.harness = None
        self._watched: dict = {}

    def serve(self):
        while True:
            header = _read_exact(self.rfd, protocol.HEADER.size)
            if not header:
                return
            (size,) = protocol.HEADER.unpack(header)
            msg = _loads(_read_exact(self.rfd, size))
            reply = getattr(self, "op_" + msg["op"])(msg)
            tampering, faults = _probes.take_tampering(), _probes.take_engine_faults()
            if tampering and self.guard is not None:
                reply = {"ok": False, "kind": "probe-tamper", "message": "\n".join(tampering)}
                self.guard.events.add("probe-tamper")
            if faults:  # a meter that could not measure: the engine's failure, never a grade
                reply = {"ok": False, "kind": "engine", "message": "\n".join(faults)}
            if self.guard is not None:
                self._check_tampering()
                if self.guard.events:
                    reply["events"] = sorted(self.guard.events)
            try:
                body = _dumps(reply)
            except codec.CodecError as exc:
                body = _dumps({"ok": False, "kind": "unsendable", "events": reply.get("events", []),
                               "message": f"the attempt returned a value that cannot be checked: {exc}"})
            _send(self.wfd, body)

    def _check_tampering(self):
        """Flag and undo replacements of watched functions (the reply is encoded after this)."""
        for (mod, name), original in self._watched.items():
            m = sys.modules.get(mod)
            if m is not None and getattr(m, name, original) is not original:
                self.guard.events.add("tamper")
                try:
                    setattr(m, name, original)
                except (AttributeError, TypeError):
                    pass

    # ---- load ------------------------------------------------------------------------------
    def op_load(self, msg):
        # Unbuffered output: a worker is killed, not exited, so buffered prints would be lost
        # to the crash messages and the output checks.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.reconfigure(line_buffering=True, write_through=True)
            except (AttributeError, ValueError):
                pass
        _limit(resource.RLIMIT_AS, msg["memory_mb"] * 1024 * 1024)
        _limit(resource.RLIMIT_FSIZE, 64 * 1024 * 1024)
        _limit(resource.RLIMIT_CORE, 0)
        self.guard = _RecordingGuard(msg["secret"], msg["attempt"])
        self.guard.install()
        try:  # before the attempt is imported: any failure here is the engine's
            for name in msg["preload"]:
                importlib.import_module(name)
            if msg["harness"]:
                self.harness = (_preloaded(msg["harness"], msg["preload"])
                                or _import_path("kata_harness", msg["harness"]))
        except BaseException:  # noqa: BLE001 - reported, the check is left ungraded
            return {"ok": False, "kind": "engine", "message": traceback.format_exc()}
        self.guard.forbid(msg["forbidden"])
        _probes.install()  # before the attempt: it arms the probes' tamper detections
        self._watched = _snapshot()  # after forbid(): its wrappers are the engine's, not tampering
        os.chdir(msg["workdir"])
        self.guard.deny_spawn = True
        try:
            self.guard.arm()
            try:
                self.attempt = _import_path(msg["module"], msg["attempt"])
            finally:
                self.guard.disarm()
        except SyntaxError as exc:
            return {"ok": False, "kind": "syntax", "message": _syntax_message(exc)}
        except (Exception, SystemExit, KeyboardInterrupt, ForbiddenCall) as exc:
            self._note(exc)
            return {"ok": False, "kind": "import", "message": self._describe(exc, "while importing")}
        if self.guard.violations:
            return {"ok": False, "kind": "forbidden", "api": self.guard.violations.pop()}
        return {"ok": True}

    # ---- calls -----------------------------------------------------------------------------
    def op_call(self, msg):
        fn = getattr(self.attempt, msg["fn"], None)
        if not callable(fn):
            return {"ok": False, "kind": "missing",
                    "message": f"the attempt defines no function {msg['fn']!r}"}
        args, kwargs = list(msg["args"]), dict(msg["kwargs"])
        probes = [PROBES[name]() for name in msg.get("probes", ())]
        reply = self._run(lambda: _under(probes, fn, args, kwargs))
        if reply["ok"]:
            reply["probes"] = {name: p.result() for name, p in zip(msg.get("probes", ()), probes)}
            if msg.get("return_args"):
                reply["args"] = args
                reply["kwargs"] = kwargs
        return reply

    def op_harness(self, msg):
        fn = getattr(self.harness, msg["fn"], None)
        if fn is None:
            raise RuntimeError(f"kata harness has no function {msg['fn']!r}")
        return self._run(lambda: fn(self.attempt, *msg["args"], **msg["kwargs"]))

    def _run(self, thunk):
        start = _perf()
        self.guard.arm()
        try:
            value = thunk()
        except (Exception, SystemExit, KeyboardInterrupt, ForbiddenCall) as exc:
            value, error = None, exc
            self._note(exc)
        else:
            error = None
        finally:
            self.guard.disarm()
        elapsed = _perf() - start
        if self.guard.violations:
            api = self.guard.violations[-1]
            self.guard.violations.clear()
            return {"ok": False, "kind": "forbidden", "api": api}
        if error is not None and self._environment_failed(error):
            return {"ok": False, "kind": "engine", "message": "".join(traceback.format_exception(error))}
        if error is not None:
            return {"ok": False, "kind": "exception", "type": type(error).__name__,
                    "types": [t.__name__ for t in type(error).__mro__],
                    "message": self._describe(error, "")}
        return {"ok": True, "value": value, "elapsed": elapsed}

    def _environment_failed(self, exc) -> bool:
        """An import failing where the attempt has no frame (the harness's or a library's lazy
        import): the environment lacks what the kata needs, not the attempt's fault."""
        if not isinstance(exc, ImportError):
            return False
        attempt = self.guard.attempt_path
        return all(os.path.realpath(f.filename) != attempt for f in traceback.extract_tb(exc.__traceback__))

    def _note(self, exc):
        if isinstance(exc, SystemExit):
            self.guard.events.add("exit")
        elif isinstance(exc, MemoryError):
            self.guard.events.add("memory-limit")

    def _describe(self, exc, when):
        if isinstance(exc, SystemExit):
            return f"the attempt called sys.exit({exc.code!r}) {when}".rstrip()
        return self.guard.trim_traceback(exc)


def _under(probes, fn, args, kwargs):
    for p in probes:
        p.__enter__()
    try:
        return fn(*args, **kwargs)
    finally:
        for p in reversed(probes):
            p.__exit__(None, None, None)


def _limit(which, value):
    soft, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, hard))


def _import_path(name, path):
    """Import a file from its source, never from cached bytecode: an attempt saved twice within
    the same second with the same size would otherwise run from its stale .pyc."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    with open(path, "rb") as f:
        code = compile(f.read(), path, "exec", dont_inherit=True)
    exec(code, module.__dict__)
    return module


def _preloaded(path, names):
    """The harness module if a preload already imported it (by its package name): a kata lists
    its harness in `preload` when the harness does costly, attempt-independent setup at import
    (lca builds its 10^5-node trees), so a warm zygote does it once and every fork inherits it."""
    want = os.path.realpath(path)
    for name in names:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if file and os.path.realpath(file) == want:
            return module
    return None


def _syntax_message(exc: SyntaxError) -> str:
    where = f"line {exc.lineno}" if exc.lineno else "somewhere"
    text = (exc.text or "").rstrip()
    caret = ""
    if text and exc.offset:
        caret = "\n    " + " " * (exc.offset - 1 - (len(exc.text) - len(exc.text.lstrip()))) + "^"
    return f"{type(exc).__name__} at {where}: {exc.msg}" + (f"\n    {text.strip()}{caret}" if text else "")


def main(argv):
    rfd, wfd = int(argv[1]), int(argv[2])
    WorkerServer(rfd, wfd).serve()


if __name__ == "__main__":
    main(sys.argv)
