"""The sandbox a grading worker enters after the fork server forks it, before any attempt code.

Run in the forked child (checker.forkserver): a new session, a private mount namespace when root
(fresh /tmp, /var/tmp and /dev/shm; the checker's secrets covered by empty read-only mounts),
hard rlimits, a scrubbed environment and, when root, an unprivileged uid.

What stays visible is decided once, by `reachable_paths()`: everything the interpreter and the
katas' imports need (sys.prefix, sys.base_prefix, every sys.path entry, the engine and katas
packages) wherever they live, /tmp included. A virtual environment in /tmp would otherwise vanish
under the fresh /tmp, and the first lazy import after the fork (numpy.random) would fail for
every student alike.
"""
from __future__ import annotations

import ctypes
import os
import resource
import sys

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_BIND, MS_REC, MS_PRIVATE, MS_REMOUNT = 4096, 16384, 1 << 18, 32
PRIVATE_TEMP_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
# Where people keep checkouts and copies: an attempt that knows another copy of the katas (an
# instructor's clone in /home, a second checkout in /work) could read its reference there. Each is
# covered by an empty read-only tmpfs with only the paths the worker needs bound back.
PRIVATE_ROOTS = ("/home", "/root", "/work", "/srv", "/opt", "/mnt", "/media", "/usr/local/src")

_libc = ctypes.CDLL(None, use_errno=True)


class SandboxError(OSError):
    """The sandbox could not be set up as required: the grader's failure, never the attempt's."""


def _check(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)  # noqa: E731
    _check(_libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
           f"mount {target}")


def reachable_paths(extra=()) -> list[str]:
    """Directories a worker must reach: the interpreter, its libraries, the engine, the katas.

    Each both as written and resolved: sys.path keeps the unresolved form (a venv under a
    symlinked folder), the import system walks that one."""
    import checker
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(sys.executable)}
    cwd = os.getcwd()
    # The fork server's cwd is an empty private folder: sys.path[0] for `-m`, nothing to import.
    paths |= {p for p in sys.path if p and p != cwd and os.path.isdir(p)}
    paths.add(os.path.dirname(os.path.dirname(os.path.abspath(checker.__file__))))
    try:
        import katas
        paths |= {os.path.dirname(p) for p in katas.__path__}
    except ImportError:
        pass
    paths |= {p for p in extra if p}
    found = {os.path.abspath(p) for p in paths} | {os.path.realpath(p) for p in paths}
    return sorted(found)


def enter(msg, keep):
    """Everything between fork and the worker's first instruction. msg: the spawn request."""
    os.setsid()
    uid, gid, workdir = msg.get("uid"), msg.get("gid"), msg["workdir"]
    if os.geteuid() == 0 and msg.get("mountns", True):
        _private_mounts(msg.get("hide", []), keep + list(msg.get("keep", [])), workdir, uid, gid)
    lim = msg.get("limits", {})
    for name, value in (("RLIMIT_AS", lim.get("memory_mb", 2048) * 1024 * 1024),
                        ("RLIMIT_CPU", lim.get("cpu_s", 600)),
                        ("RLIMIT_NPROC", lim.get("nproc", 64)),
                        ("RLIMIT_FSIZE", lim.get("fsize_mb", 16) * 1024 * 1024),
                        ("RLIMIT_NOFILE", lim.get("nofile", 256)),
                        ("RLIMIT_CORE", 0)):
        which = getattr(resource, name)
        soft, hard = resource.getrlimit(which)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        # Hard limits too, so the attempt cannot raise them back.
        resource.setrlimit(which, (value, value))
    os.chdir(workdir)
    os.environ.clear()
    os.environ.update(msg.get("env", {}))
    if uid is not None and os.geteuid() == 0:
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)
        if os.geteuid() != uid or os.getuid() != uid:
            raise SandboxError("could not drop privileges")


def _private_mounts(hide, keep, workdir, uid, gid):
    _check(_libc.unshare(CLONE_NEWNS), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Fresh, private temp dirs: nothing another student left is visible; only the scratch dir
    # and the paths the interpreter needs are bound back at their places.
    for d in PRIVATE_TEMP_DIRS:
        if os.path.isdir(d):
            # keep holds each path as written and resolved: the written form under d is where
            # the import system looks; the resolved one is where a symlink into d leads.
            inside = [p for p in keep + [workdir] if _under(p, d, resolve=False)]
            _overmount(d, _outermost(inside), "mode=1777,size=64m")
    for d in PRIVATE_ROOTS:
        if os.path.isdir(d) and not os.path.islink(d):
            inside = [p for p in keep + [workdir] if _under(p, d, resolve=False)]
            _overmount(d, _outermost(inside), "mode=0755,size=64k", read_only=True)
    # Make the interpreter reachable when it lives under a directory the worker's uid cannot
    # enter (e.g. Python under /root): a tmpfs over that directory shows only the needed entries.
    if uid is not None:
        for _ in range(8):
            blocked = _blocked_dirs(keep + [workdir], uid, gid)
            if not blocked:
                break
            for parent, children in sorted(blocked.items()):
                _overmount(parent, sorted(children), "mode=0711,size=64k")
    for p in hide:
        if not os.path.lexists(p):
            continue  # not visible in this namespace (e.g. under the fresh /tmp)
        try:
            if os.path.isdir(p):
                _mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=000,size=4k")
            else:
                _mount("/dev/null", p, None, MS_BIND)
        except OSError as exc:  # visible and not hidden: refuse to run the attempt at all
            raise SandboxError(f"could not hide {p}: {exc}") from None


def _outermost(paths):
    """The paths not inside another one of them (binding a parent brings its children)."""
    out = []
    for p in sorted(set(paths), key=len):
        if not any(_under(p, q, resolve=False) for q in out):
            out.append(p)
    return sorted(out)


def _overmount(d, keep, options, read_only=False):
    """Mount an empty tmpfs over d, then bind the original `keep` paths back at their places
    (read_only: the tmpfs itself is made read-only once they are in place)."""
    fds = []
    for k in keep:
        try:
            fds.append((k, os.open(k, os.O_PATH)))
        except OSError:
            pass  # gone since the list was made: nothing to keep
    try:
        _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, options)
        for k, fd in fds:
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.makedirs(k, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(k), exist_ok=True)
                open(k, "a").close()
            _mount(f"/proc/self/fd/{fd}", k, None, MS_BIND | MS_REC)
        if read_only:
            _mount(None, d, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    finally:
        for _, fd in fds:
            os.close(fd)


def _under(p, d, resolve=True):
    if resolve:
        p, d = os.path.realpath(p), os.path.realpath(d)
    return p == d or p.startswith(d.rstrip("/") + "/")


def _can_enter(st, uid, gid):
    if st.st_uid == uid:
        return bool(st.st_mode & 0o100)
    if st.st_gid == gid:
        return bool(st.st_mode & 0o010)
    return bool(st.st_mode & 0o001)


def _blocked_dirs(paths, uid, gid):
    """{dir the uid cannot enter: {its children on the way to a needed path}}."""
    blocked: dict[str, set[str]] = {}
    for p in paths:
        p = os.path.realpath(p)
        parts = p.strip("/").split("/")
        cur = "/"
        for part in parts:
            nxt = os.path.join(cur, part)
            try:
                st = os.stat(cur)
            except OSError:
                break
            if not _can_enter(st, uid, gid):
                blocked.setdefault(cur, set()).add(nxt)
                break
            cur = nxt
    return blocked


def mountns_works() -> bool:
    if os.geteuid() != 0:
        return False
    pid = os.fork()
    if pid == 0:
        try:
            _check(_libc.unshare(CLONE_NEWNS), "unshare")
            _mount(None, "/", None, MS_REC | MS_PRIVATE)
            os._exit(0)
        except BaseException:  # noqa: BLE001
            os._exit(1)
    _, st = os.waitpid(pid, 0)
    return os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0
