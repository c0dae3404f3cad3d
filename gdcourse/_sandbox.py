"""The grader's sandbox: a fork server whose children run one learner answer each, confined.

The grading process starts one *worker* per job slot: a fresh ``python -I``
interpreter that imports numpy and the child-side exercise code
(:mod:`gdcourse.exercises._calls`, which knows no reference and no mistake),
then serves requests read from its stdin, one JSON line each.  For every
request it forks:

``A`` (the keeper, trusted code only)
    joins a new process group, unshares a user, PID and network namespace
    (or, where the kernel refuses, becomes a child subreaper), forks ``B``,
    waits for it with the wall-clock limit, kills what is left, and reports
    ``B``'s fate to the worker on a pipe ``B`` no longer holds;
``B`` (the answer)
    PID 1 of the new namespace, in its own session; sets the resource limits
    (CPU, address space, file size, processes, no core), ``no_new_privs``, a
    Landlock domain (read-only: the Python standard library and the installed
    packages except gdcourse; read-write: its job folder; nothing else, no TCP,
    no signals or abstract sockets outside the domain), closes every inherited
    descriptor, then runs :func:`gdcourse.exercises._calls.run_job`.

When ``B`` (the namespace's init) dies, the kernel kills every process left in
the namespace, including those that called ``setsid()``; without a PID
namespace, the subreaper ``A`` kills and reaps every descendant it adopted.

:func:`probe` says once what this kernel enforces; :func:`not_enforced` lists
what it does not, for the grader's ``sandbox`` column.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import gc
import json
import os
import resource
import select
import signal
import struct
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

__all__ = ["probe", "not_enforced", "FEATURES", "serve", "readable_roots"]

#: what a child may be confined by, in the order the README lists them
FEATURES = ("filesystem", "signals", "namespaces", "network", "limits", "processes")

_FEATURE_TEXT = {
    "filesystem": "file-system confinement (Landlock)",
    "signals": "signal confinement (Landlock scoping or a PID namespace)",
    "namespaces": "PID namespace (every descendant killed at the end)",
    "network": "no network (network namespace)",
    "limits": "CPU, memory and file-size limits",
    "processes": "process-count limit",
}

# --- Linux constants ----------------------------------------------------------------

_SYS_LANDLOCK_CREATE_RULESET, _SYS_LANDLOCK_ADD_RULE, _SYS_LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_CREATE_RULESET_VERSION = 1
_LANDLOCK_RULE_PATH_BENEATH = 1
_FS = {name: 1 << i for i, name in enumerate((
    "EXECUTE", "WRITE_FILE", "READ_FILE", "READ_DIR", "REMOVE_DIR", "REMOVE_FILE", "MAKE_CHAR",
    "MAKE_DIR", "MAKE_REG", "MAKE_SOCK", "MAKE_FIFO", "MAKE_BLOCK", "MAKE_SYM", "REFER",
    "TRUNCATE", "IOCTL_DEV"))}
_FS_BY_ABI = {1: 13, 2: 14, 3: 15, 4: 15, 5: 16, 6: 16, 7: 16}   # number of fs rights known
_NET_BIND_TCP, _NET_CONNECT_TCP = 1, 2
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2
_READ = _FS["EXECUTE"] | _FS["READ_FILE"] | _FS["READ_DIR"]
_FILE_RIGHTS = _FS["EXECUTE"] | _FS["WRITE_FILE"] | _FS["READ_FILE"] | _FS["TRUNCATE"] \
    | _FS["IOCTL_DEV"]
_CLONE_NEWNS, _CLONE_NEWUSER, _CLONE_NEWPID, _CLONE_NEWNET = \
    0x00020000, 0x10000000, 0x20000000, 0x40000000
_PR_SET_NO_NEW_PRIVS, _PR_SET_CHILD_SUBREAPER, _PR_SET_PDEATHSIG = 38, 36, 1

_libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _syscall(*args) -> int:
    result = _libc.syscall(*(ctypes.c_long(a) if isinstance(a, int) else a for a in args))
    if result < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return result


def _prctl(option: int, value: int) -> None:
    if _libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def landlock_abi() -> int:
    """The Landlock ABI version of this kernel (0: not available)."""
    try:
        return _syscall(_SYS_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_CREATE_RULESET_VERSION)
    except OSError:
        return 0


# --- Landlock -------------------------------------------------------------------------

def _handled_fs(abi: int) -> int:
    return (1 << _FS_BY_ABI.get(abi, 16)) - 1


def _pack_rules(abi: int, rules: list[tuple[int, int]]) -> list:
    """``rules`` (fd, rights) as the kernel's ``landlock_path_beneath_attr`` buffers.

    The worker packs its fixed rules (the readable roots, ≈ 800) once, so that
    each answer's child only makes one system call per rule (issue 14: the
    per-rule Python work was about half of the sandbox's cost per answer).
    """
    handled = _handled_fs(abi)
    return [ctypes.create_string_buffer(struct.pack("=Qi", rights & handled, fd), 12)
            for fd, rights in rules]


def _landlock(abi: int, rules: list[tuple[int, int]], packed=()) -> None:  # pragma: no cover  (runs in the worker and its children)
    """Confine this process: only ``rules`` (fd, rights) and the pre-packed ``packed``
    (from :func:`_pack_rules`) are reachable; no TCP; scoped signals."""
    handled = _handled_fs(abi)
    net = (_NET_BIND_TCP | _NET_CONNECT_TCP) if abi >= 4 else 0
    scoped = (_SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL) if abi >= 6 else 0
    if abi >= 6:
        attr = struct.pack("QQQ", handled, net, scoped)
    elif abi >= 4:
        attr = struct.pack("QQ", handled, net)
    else:
        attr = struct.pack("Q", handled)
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = _syscall(_SYS_LANDLOCK_CREATE_RULESET, buf, len(attr), 0)
    try:
        number, fd_arg = ctypes.c_long(_SYS_LANDLOCK_ADD_RULE), ctypes.c_long(ruleset)
        kind, zero = ctypes.c_long(_LANDLOCK_RULE_PATH_BENEATH), ctypes.c_long(0)
        for rule in list(packed) + _pack_rules(abi, rules):
            if _libc.syscall(number, fd_arg, kind, rule, zero) < 0:
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err))
        _prctl(_PR_SET_NO_NEW_PRIVS, 1)
        _syscall(_SYS_LANDLOCK_RESTRICT_SELF, ruleset, 0)
    finally:
        os.close(ruleset)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


def readable_roots(forbidden) -> list[str]:
    """Folders and files an answer may read: the standard library, the installed packages
    (never gdcourse, whose exercise modules hold the references), shared libraries.

    A root that contains a forbidden path is replaced by its other entries, recursively.
    """
    forbidden = [Path(p).resolve() for p in forbidden]
    roots = []
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.append(Path(path))
    roots += [Path(p) for p in sys.path if p and Path(p).is_dir() and "site-packages" in p]
    for lib in ("/usr/lib", "/lib", "/lib64", "/usr/lib64", "/usr/local/lib", "/usr/share/zoneinfo",
                "/etc/ld.so.cache", "/etc/localtime", sys.base_prefix + "/lib"):
        roots.append(Path(lib))
    out: list[str] = []

    def add(path: Path, depth=0):
        try:
            real = path.resolve()
        except OSError:
            return
        if not real.exists() or any(_inside(real, f) for f in forbidden):
            return
        if real.name.startswith("gdcourse") or real.name.startswith("__editable__") \
                or real.name == "_editable_impl_gdcourse.pth":
            return
        packages = real.name in ("site-packages", "dist-packages")
        if real.is_dir() and depth < 8 and (packages or _packages_below(real)
                                            or any(_inside(f, real) for f in forbidden)):
            # rules only allow: open the folder entry by entry, leaving gdcourse out
            for child in sorted(real.iterdir()):
                add(child, depth + 1)
            return
        if any(_inside(f, real) for f in forbidden):
            return
        if str(real) not in out:
            out.append(str(real))

    for root in roots:
        add(root)
    return out


def _packages_below(folder: Path) -> bool:
    """Is there a site-packages or dist-packages folder up to two levels below ``folder``?"""
    for name in ("site-packages", "dist-packages"):
        for pattern in (name, f"*/{name}"):
            if any(p.is_dir() for p in folder.glob(pattern)):
                return True
    return False


# --- what the kernel offers -------------------------------------------------------------

def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _enter_namespaces(net: bool = True) -> None:  # pragma: no cover  (runs in the worker and its children)
    uid, gid = os.geteuid(), os.getegid()
    flags = _CLONE_NEWUSER | _CLONE_NEWPID | (_CLONE_NEWNET if net else 0)
    if _libc.unshare(flags) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    _write("/proc/self/setgroups", "deny")
    _write("/proc/self/uid_map", f"{uid} {uid} 1")
    _write("/proc/self/gid_map", f"{gid} {gid} 1")


def _pids_cgroup_root() -> str | None:
    """A writable cgroup-v1 ``pids`` hierarchy (only as root, where RLIMIT_NPROC does not bind)."""
    root = "/sys/fs/cgroup/pids"
    if os.geteuid() == 0 and os.path.isfile(os.path.join(root, "cgroup.procs")) \
            and os.access(root, os.W_OK):
        return root
    return None


_PROBED: dict | None = None


def probe() -> dict:
    """What this kernel enforces for an unprivileged grader: ``{feature: bool}`` plus details."""
    global _PROBED
    if _PROBED is not None:
        return dict(_PROBED)
    abi = landlock_abi()
    # try the namespaces in a throw-away interpreter (never fork a grader that runs threads)
    root = str(Path(__file__).resolve().parent.parent)
    try:
        namespaces = subprocess.run(
            [sys.executable, "-I", "-c", "import sys; sys.path.insert(0, sys.argv[1]); "
             "from gdcourse._sandbox import _enter_namespaces; _enter_namespaces()", root],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        namespaces = False
    cgroup = _pids_cgroup_root() if os.geteuid() == 0 else None
    _PROBED = {
        "filesystem": abi >= 1,
        "signals": abi >= 6 or namespaces,
        "namespaces": namespaces,
        "network": namespaces or abi >= 4,
        "limits": True,
        "processes": os.geteuid() != 0 or cgroup is not None,
        "landlock_abi": abi,
        "pids_cgroup": cgroup,
        "network_tcp_only": not namespaces and abi >= 4,
    }
    return dict(_PROBED)


def not_enforced(features: dict | None = None) -> list[str]:
    """Human-readable names of what the sandbox does not enforce here (empty: everything)."""
    features = probe() if features is None else features
    missing = [_FEATURE_TEXT[f] for f in FEATURES if not features.get(f)]
    if features.get("network_tcp_only"):
        missing.append("no network: only TCP is blocked (no network namespace)")
    return missing


# --- the worker (fork server) ------------------------------------------------------------

def _open_path(path: str) -> int | None:
    try:
        return os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return None


class _Worker:  # pragma: no cover  (runs in the worker and its children)
    def __init__(self, config: dict):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 65536 if hard == resource.RLIM_INFINITY else hard
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))   # one fd per rule
        self.features = config["features"]
        self.abi = int(self.features.get("landlock_abi", 0))
        self.readable = []
        for path in config["readable"]:
            fd = _open_path(path)
            if fd is not None:
                rights = _READ if os.path.isdir(path) else _READ & _FILE_RIGHTS
                self.readable.append((fd, rights))
        self.devices = []
        for path, rights in (("/dev/null", _FS["READ_FILE"] | _FS["WRITE_FILE"]),
                             ("/dev/zero", _FS["READ_FILE"]), ("/dev/urandom", _FS["READ_FILE"]),
                             ("/dev/random", _FS["READ_FILE"])):
            fd = _open_path(path)
            if fd is not None:
                self.devices.append((fd, rights | _FS["IOCTL_DEV"] if self.abi >= 5 else rights))
        self.packed = _pack_rules(self.abi, self.readable + self.devices)
        self.cgroup: str | None = None      # this worker's pids cgroup (as root), see run()
        self.cgroup_max: int | None = None

    # -- B: the answer ---------------------------------------------------------------
    def _answer(self, job: str, limits: dict, ready_fd: int) -> None:
        code, me = 70, os.getpid()
        try:
            os.setsid()
            null = os.open("/dev/null", os.O_RDWR)
            err = os.open(os.path.join(job, "stderr.txt"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                          0o600)
            os.dup2(null, 0)
            os.dup2(err, 1)
            os.dup2(err, 2)
            cpu, mem = int(limits["cpu"]), int(limits["memory_mb"]) << 20
            for limit, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, mem),
                                 (resource.RLIMIT_FSIZE, 64 << 20), (resource.RLIMIT_CORE, 0),
                                 (resource.RLIMIT_NPROC, int(limits["processes"]))):
                resource.setrlimit(limit, (value, value))
            os.chdir(job)
            if self.features.get("filesystem"):
                job_fd = os.open(job, os.O_PATH | os.O_CLOEXEC)
                _landlock(self.abi, [(job_fd, _handled_fs(self.abi) & ~(_FS["MAKE_CHAR"]
                                                                        | _FS["MAKE_BLOCK"]))],
                          packed=self.packed)
            else:
                _prctl(_PR_SET_NO_NEW_PRIVS, 1)
            os.write(ready_fd, b"ok")
            os.closerange(3, 1 << 16)   # the protocol pipes, the rule fds: nothing inherited
            from gdcourse.exercises._calls import run_job
            me = os.getpid()
            run_job(job, owner=me)
            if os.getpid() != me:
                os._exit(0)
            sys.stdout.flush()
            sys.stderr.flush()
            code = 0
        except BaseException as exc:  # the sandbox or the job's files failed
            if os.getpid() != me:
                os._exit(0)
            try:
                os.write(2, f"gdcourse sandbox: {type(exc).__name__}: {exc}\n".encode())
                os.write(ready_fd, f"fail {type(exc).__name__}: {exc}".encode()[:400])
            except OSError:
                pass
        os._exit(code)

    # -- A: the keeper ------------------------------------------------------------------
    @staticmethod
    def _children() -> list[int]:
        me, found = os.getpid(), []
        try:
            for task in os.listdir("/proc/self/task"):
                with open(f"/proc/self/task/{task}/children") as fh:
                    found += [int(p) for p in fh.read().split()]
            return found
        except OSError:
            pass
        for entry in os.listdir("/proc"):          # no children file: scan for our children
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as fh:
                        fields = fh.read().rsplit(")", 1)[1].split()
                    if int(fields[1]) == me:
                        found.append(int(entry))
                except (OSError, IndexError, ValueError):
                    pass
        return found

    def _reap_all(self) -> None:
        """Kill and reap every process this (subreaper) keeper still has below it."""
        for _ in range(2000):
            for pid in self._children():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                while os.waitpid(-1, os.WNOHANG)[0]:
                    pass
            except ChildProcessError:
                return                              # no child left
            time.sleep(0.005)

    def _keeper(self, request: dict, report_fd: int) -> None:
        status = {"exit": None, "signal": None, "timeout": False, "sandbox_error": None}
        try:
            os.setsid()
            namespaces = bool(self.features.get("namespaces"))
            if namespaces:
                _enter_namespaces()
            else:
                _prctl(_PR_SET_CHILD_SUBREAPER, 1)
            ready_r, ready_w = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(ready_r)
                os.close(report_fd)
                self._answer(request["job"], request["limits"], ready_w)
            os.close(ready_w)
            deadline = time.monotonic() + float(request["timeout"])
            ready = b""
            while time.monotonic() < deadline:
                r, _, _ = select.select([ready_r], [], [], max(0.0, deadline - time.monotonic()))
                if not r:
                    break
                chunk = os.read(ready_r, 512)
                if not chunk:
                    break
                ready += chunk
            os.close(ready_r)
            if ready and ready != b"ok":
                status["sandbox_error"] = ready.decode("utf-8", "replace")[5:]
            pidfd = os.pidfd_open(pid)
            r, _, _ = select.select([pidfd], [], [], max(0.0, deadline - time.monotonic()))
            os.close(pidfd)
            if not r:
                status["timeout"] = True
                os.kill(pid, signal.SIGKILL)
            _, code = os.waitpid(pid, 0)
            if os.WIFSIGNALED(code):
                status["signal"] = os.WTERMSIG(code)
            else:
                status["exit"] = os.WEXITSTATUS(code)
            if not namespaces:
                self._reap_all()
        except BaseException as exc:
            status["sandbox_error"] = f"{type(exc).__name__}: {exc}"
        try:
            os.write(report_fd, json.dumps(status).encode())
        finally:
            os._exit(0)

    def _join_cgroup(self, processes: int) -> None:
        """Put this worker in a pids cgroup of its own, once: every keeper and answer it
        forks is born in it, so no answer pays for a cgroup migration (≈ 15 ms each).

        ``pids.max`` is ``processes + 1``: the worker and the keeper count, so an answer
        and its descendants get ``processes - 1`` processes, as when the keeper alone
        joined a fresh cgroup per answer.  Answers run one at a time and every process of
        one is gone before the next starts (the PID namespace's init took them all with
        it, or the keeper reaped them), so each answer starts alone in the cgroup.
        """
        root = self.features.get("pids_cgroup")
        if not root:
            return
        try:
            if self.cgroup is None:
                cgroup = os.path.join(root, f"gdcourse-{os.getpid()}")
                os.makedirs(cgroup, exist_ok=True)
                _write(os.path.join(cgroup, "pids.max"), str(processes + 1))
                _write(os.path.join(cgroup, "cgroup.procs"), str(os.getpid()))
                self.cgroup, self.cgroup_max = cgroup, processes
            elif self.cgroup_max != processes:
                _write(os.path.join(self.cgroup, "pids.max"), str(processes + 1))
                self.cgroup_max = processes
        except OSError:
            pass

    def leave_cgroup(self) -> None:
        """Move back to the root of the pids hierarchy and remove this worker's cgroup."""
        if self.cgroup is None:
            return
        try:
            _write(os.path.join(self.features["pids_cgroup"], "cgroup.procs"), str(os.getpid()))
        except OSError:
            return
        remove_cgroup(self.cgroup)
        self.cgroup = None

    def run(self, request: dict) -> dict:
        self._join_cgroup(int(request["limits"]["processes"]))
        report_r, report_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(report_r)
            self._keeper(request, report_w)
        os.close(report_w)
        data = b""
        while True:
            chunk = os.read(report_r, 4096)
            if not chunk:
                break
            data += chunk
        os.close(report_r)
        os.waitpid(pid, 0)
        try:
            return json.loads(data.decode())
        except ValueError:
            return {"sandbox_error": "the keeper process died", "exit": None, "signal": None,
                    "timeout": False}


def remove_cgroup(path: str) -> None:
    """Remove an empty cgroup folder, waiting a little while the kernel still holds it."""
    for _ in range(50):
        try:
            os.rmdir(path)
            return
        except OSError as exc:
            if exc.errno != errno.EBUSY:
                return
            time.sleep(0.01)


def serve() -> None:  # pragma: no cover  (runs in the worker and its children)
    """The worker's main loop: a config line, then one request line → one reply line."""
    import zipfile  # noqa: F401  (warm: np.load/np.savez of every job need it)

    import encodings.cp437  # noqa: F401  (warm: zipfile decodes member names with it)
    import random  # noqa: F401

    import numpy  # noqa: F401  (warm: every answer's child starts with it imported)
    import numpy.random  # noqa: F401  (lazy in numpy: ≈ 10 ms in every child that draws)

    import gdcourse.exercises._calls  # noqa: F401

    inp, out = sys.stdin.buffer, sys.stdout.buffer
    parent = os.getppid()
    _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)     # a killed grader takes its workers along
    if os.getppid() != parent:
        raise SystemExit("gdcourse sandbox: the grader is gone")
    config = json.loads(inp.readline())
    scratch: dict = {}
    for preamble in config.get("preambles", []):
        exec(compile(preamble, "<preamble>", "exec"), scratch)
    leaked = sorted(m for m in sys.modules if m.startswith("gdcourse.exercises.lesson"))
    if leaked:
        raise SystemExit(f"gdcourse sandbox: a preamble imported {leaked}; refusing to serve")
    worker = _Worker(config)
    gc.freeze()   # the children's collections leave the warm objects (and their pages) alone
    out.write(b'{"ready": true}\n')
    out.flush()
    for line in inp:
        if not line.strip():
            continue
        request = json.loads(line)
        reply = worker.run(request)
        out.write(json.dumps(reply).encode() + b"\n")
        out.flush()
    worker.leave_cgroup()
