"""The grader's sandbox: a fork server whose children run one learner answer each, confined.

The grading process starts one *worker* per job slot: a fresh ``python -I``
interpreter that imports numpy and the child-side exercise code
(:mod:`gdcourse.exercises._calls`, which knows no reference and no mistake),
then, once, joins a pids cgroup of its own (as root) and enters a user and a
network namespace of its own (a network namespace with nothing in it, owned by
that user namespace), or, where the kernel refuses, becomes a child subreaper.
It then serves requests read from its stdin, one JSON line each.  For every
request the worker, the *keeper* (trusted code only), clones:

``B`` (the answer)
    born with ``clone(CLONE_NEWUSER | CLONE_NEWPID)`` as PID 1 of a new PID
    namespace, in a new user namespace nested in the worker's (so it holds no
    capability over the worker's network namespace), in its own session; sets
    the resource limits (CPU, address space, file size, processes, no core),
    ``no_new_privs``, the worker's Landlock ruleset (read-only: the Python
    standard library and the installed packages except gdcourse; read-write:
    the worker's answer folder, emptied before every answer; nothing else, no
    TCP, no signals or abstract sockets outside the domain), closes every
    inherited descriptor, then runs
    :func:`gdcourse.exercises._calls.answer_outcomes` on the cases the worker
    decoded once, and writes the outcomes as data (:func:`write_result`).

The worker waits for ``B`` with the wall-clock limit, kills it when it is late,
and replies with its fate.  When ``B`` (the namespace's init) dies, the kernel
kills every process left in the namespace, including those that called
``setsid()``; without namespaces, the subreaper worker kills and reaps every
descendant it adopted.  One clone per answer: no second fork, no namespace
set-up beyond the two that must be fresh (issue 14).

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
import shutil
import signal
import struct
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

__all__ = ["probe", "not_enforced", "FEATURES", "serve", "readable_roots", "read_result",
           "parse_result", "write_result", "RESULT_NAME"]

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


def _ruleset(abi: int, rules: list[tuple[int, int]]) -> int:  # pragma: no cover  (runs in the worker)
    """A Landlock ruleset holding ``rules`` (fd, rights): read-write where the rights say
    so, nothing else reachable; no TCP; scoped signals and abstract sockets.

    The worker builds it once (≈ 830 rules); each answer's child only enforces it with
    ``landlock_restrict_self``, one system call, and adds nothing to it, so every
    answer gets the very same domain.
    """
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
        for fd, rights in rules:
            rule = ctypes.create_string_buffer(struct.pack("=Qi", rights & handled, fd), 12)
            if _libc.syscall(number, fd_arg, kind, rule, zero) < 0:
                err = ctypes.get_errno()
                raise OSError(err, os.strerror(err))
    except BaseException:
        os.close(ruleset)
        raise
    return ruleset


# --- one clone per answer -------------------------------------------------------------

_SIGCHLD = 17
_SYS_CLONE = {"x86_64": 56, "aarch64": 220, "arm64": 220}.get(os.uname().machine)
# the GIL stays held across this call (PyDLL): the child resumes as after os.fork()
_libc_held = ctypes.PyDLL(ctypes.util.find_library("c") or None, use_errno=True)
_libc_held.syscall.restype = ctypes.c_long


def _clone(flags: int) -> int:  # pragma: no cover  (runs in the worker and its children)
    """``os.fork()`` with namespace ``flags``: the child is born in them (with
    ``CLONE_NEWPID``, as PID 1), so no second fork is needed.  CPython's own fork
    bookkeeping (``PyOS_BeforeFork`` and the after-fork hooks) runs as for os.fork."""
    if _SYS_CLONE is None:
        raise OSError(errno.ENOSYS, f"clone() is not wired for {os.uname().machine}")
    api = ctypes.pythonapi
    api.PyOS_BeforeFork()
    zero = ctypes.c_long(0)
    pid = _libc_held.syscall(ctypes.c_long(_SYS_CLONE), ctypes.c_long(flags | _SIGCHLD),
                             zero, zero, zero, zero)
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return 0
    err = ctypes.get_errno()
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, os.strerror(err))
    return pid


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def readable_roots(forbidden) -> list[str]:
    """Folders and files an answer may read: the standard library, the installed packages
    (never gdcourse, whose exercise modules hold the references), shared libraries.

    A root that contains a forbidden path is replaced by its other entries, recursively.
    (Plain string paths and ``os.scandir``: pathlib made this cost seconds on a loaded
    machine, once per grading run.)
    """
    forbidden = [os.path.realpath(p) for p in forbidden]
    roots = []
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.append(path)
    roots += [p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p]
    roots += ["/usr/lib", "/lib", "/lib64", "/usr/lib64", "/usr/local/lib", "/usr/share/zoneinfo",
              "/etc/ld.so.cache", "/etc/localtime", sys.base_prefix + "/lib"]
    out: list[str] = []
    seen: set = set()

    def add(path: str, depth=0):
        try:
            real = os.path.realpath(path)
        except OSError:
            return
        if not os.path.exists(real) or any(_inside(real, f) for f in forbidden):
            return
        name = os.path.basename(real)
        if name.startswith("gdcourse") or name.startswith("__editable__") \
                or name == "_editable_impl_gdcourse.pth":
            return
        packages = name in ("site-packages", "dist-packages")
        if os.path.isdir(real) and depth < 8 and (packages or _packages_below(real)
                                                  or any(_inside(f, real) for f in forbidden)):
            # rules only allow: open the folder entry by entry, leaving gdcourse out
            for child in sorted(os.listdir(real)):
                add(os.path.join(real, child), depth + 1)
            return
        if any(_inside(f, real) for f in forbidden):
            return
        if real not in seen:
            seen.add(real)
            out.append(real)

    for root in roots:
        add(root)
    return out


def _packages_below(folder: str) -> bool:
    """Is there a site-packages or dist-packages folder up to two levels below ``folder``?"""
    names = ("site-packages", "dist-packages")
    if any(os.path.isdir(os.path.join(folder, name)) for name in names):
        return True
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return False
    for entry in entries:
        try:
            if entry.is_dir() and any(os.path.isdir(os.path.join(entry.path, name))
                                      for name in names):
                return True
        except OSError:
            pass
    return False


# --- what the kernel offers -------------------------------------------------------------

def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _enter_namespaces(net: bool = True, pid: bool = True) -> None:  # pragma: no cover  (runs in the worker and its children)
    uid, gid = os.geteuid(), os.getegid()
    flags = _CLONE_NEWUSER | (_CLONE_NEWPID if pid else 0) | (_CLONE_NEWNET if net else 0)
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
    """The warm worker: the keeper of every answer it clones (see the module docstring)."""

    def __init__(self, config: dict):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 65536 if hard == resource.RLIM_INFINITY else hard
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))   # one fd per rule
        self.features = config["features"]
        self.abi = int(self.features.get("landlock_abi", 0))
        self.namespaces = bool(self.features.get("namespaces"))
        self.folder = config["folder"]          # the answers' folder, emptied before each one
        os.makedirs(self.folder, mode=0o700, exist_ok=True)
        rules = []
        for path in config["readable"]:
            fd = _open_path(path)
            if fd is not None:
                rules.append((fd, _READ if os.path.isdir(path) else _READ & _FILE_RIGHTS))
        for path, rights in (("/dev/null", _FS["READ_FILE"] | _FS["WRITE_FILE"]),
                             ("/dev/zero", _FS["READ_FILE"]), ("/dev/urandom", _FS["READ_FILE"]),
                             ("/dev/random", _FS["READ_FILE"])):
            fd = _open_path(path)
            if fd is not None:
                rules.append((fd, rights | _FS["IOCTL_DEV"] if self.abi >= 5 else rights))
        fd = os.open(self.folder, os.O_PATH | os.O_CLOEXEC)
        rules.append((fd, _handled_fs(self.abi) & ~(_FS["MAKE_CHAR"] | _FS["MAKE_BLOCK"])))
        # the ruleset is built once; each answer only enforces it (one system call)
        self.ruleset = _ruleset(self.abi, rules) if self.features.get("filesystem") else None
        for fd, _rights in rules:
            os.close(fd)
        self.cases: dict = {}
        self.cgroup: str | None = None      # this worker's pids cgroup (as root), see enter()
        self.cgroup_max: int | None = None
        self.uid, self.gid = os.geteuid(), os.getegid()

    def enter(self, processes: int) -> None:
        """Once, before serving: the pids cgroup (as root), then this worker's own user and
        network namespaces (each answer gets a user and PID namespace of its own inside
        them), or, where the kernel has no namespaces, the child-subreaper role."""
        self._join_cgroup(processes)
        if self.namespaces:
            _enter_namespaces(net=True, pid=False)
            self.uid, self.gid = os.geteuid(), os.getegid()
        else:
            _prctl(_PR_SET_CHILD_SUBREAPER, 1)

    def _cases_of(self, path: str) -> list:
        """The decoded cases of one exercise, read once per worker (trusted files)."""
        if path not in self.cases:
            import numpy as np

            from gdcourse.exercises._wire import decode
            with open(path + ".json", encoding="utf-8") as fh:
                tree = json.load(fh)
            with np.load(path + ".npz", allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
            self.cases[path] = [tuple(decode(c, arrays)) for c in tree]
        return self.cases[path]

    def _empty_folder(self) -> None:
        """Nothing an earlier answer left in the folder reaches the next one."""
        for entry in os.scandir(self.folder):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    pass

    # -- B: the answer ---------------------------------------------------------------
    def _answer(self, job: dict, cases: list, limits: dict, ready_fd: int) -> None:
        code, me = 70, os.getpid()
        try:
            if self.namespaces:     # PID 1 of a fresh PID namespace, in a fresh user namespace
                _write("/proc/self/setgroups", "deny")
                _write("/proc/self/uid_map", f"{self.uid} {self.uid} 1")
                _write("/proc/self/gid_map", f"{self.gid} {self.gid} 1")
            os.setsid()
            null = os.open("/dev/null", os.O_RDWR)
            err = os.open(os.path.join(self.folder, "stderr.txt"),
                          os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(null, 0)
            os.dup2(err, 1)
            os.dup2(err, 2)
            # the worker (the keeper) shares the PID namespace's parent, not this one: the
            # answer's processes are all counted here, as when a keeper process was in it
            nproc = int(limits["processes"]) - 1
            cpu, mem = int(limits["cpu"]), int(limits["memory_mb"]) << 20
            for limit, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, mem),
                                 (resource.RLIMIT_FSIZE, 64 << 20), (resource.RLIMIT_CORE, 0),
                                 (resource.RLIMIT_NPROC, nproc)):
                resource.setrlimit(limit, (value, value))
            os.chdir(self.folder)
            _prctl(_PR_SET_NO_NEW_PRIVS, 1)
            if self.ruleset is not None:
                _syscall(_SYS_LANDLOCK_RESTRICT_SELF, self.ruleset, 0)
            os.write(ready_fd, b"ok")
            os.closerange(3, 1 << 16)   # the protocol pipes, the ruleset: nothing inherited
            from gdcourse.exercises._calls import answer_outcomes
            me = os.getpid()
            result, arrays = answer_outcomes(job, cases)
            if os.getpid() != me:
                os._exit(0)     # a process the answer forked came back here
            write_result(self.folder, result, arrays)
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

    # -- A: the keeper (this worker) ---------------------------------------------------
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
        """Kill and reap every process this (subreaper) worker still has below it."""
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

    def run(self, request: dict) -> dict:
        status = {"exit": None, "signal": None, "timeout": False, "sandbox_error": None}
        try:
            self._join_cgroup(int(request["limits"]["processes"]))
            self._empty_folder()
            job = request["job"]
            cases = self._cases_of(job["cases"])
            ready_r, ready_w = os.pipe()
            pid = _clone(_CLONE_NEWUSER | _CLONE_NEWPID) if self.namespaces else os.fork()
            if pid == 0:
                os.close(ready_r)
                self._answer(job, cases, request["limits"], ready_w)
            os.close(ready_w)
            deadline = time.monotonic() + float(request["timeout"])
            ready = b""
            poller = select.poll()
            poller.register(ready_r, select.POLLIN)
            while time.monotonic() < deadline:
                if not poller.poll(max(0, int((deadline - time.monotonic()) * 1000) + 1)):
                    break
                chunk = os.read(ready_r, 512)
                if not chunk:
                    break
                ready += chunk
            os.close(ready_r)
            if ready and ready != b"ok":
                status["sandbox_error"] = ready.decode("utf-8", "replace")[5:]
            pidfd = os.pidfd_open(pid)
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            remaining = deadline - time.monotonic()
            done = remaining > 0 and poller.poll(int(remaining * 1000) + 1)
            os.close(pidfd)
            if not done:
                status["timeout"] = True
                os.kill(pid, signal.SIGKILL)     # PID 1 of its namespace: every process goes
            _, code = os.waitpid(pid, 0)
            if os.WIFSIGNALED(code):
                status["signal"] = os.WTERMSIG(code)
            else:
                status["exit"] = os.WEXITSTATUS(code)
            if not self.namespaces:
                self._reap_all()
        except BaseException as exc:
            status["sandbox_error"] = f"{type(exc).__name__}: {exc}"
        return status

    def _join_cgroup(self, processes: int) -> None:
        """Put this worker in a pids cgroup of its own, once: every answer it clones is
        born in it, so no answer pays for a cgroup migration (≈ 15 ms each).

        ``pids.max`` is ``processes``: the worker counts, so an answer and its
        descendants get ``processes - 1`` processes (as when a keeper process sat
        between them).  Answers run one at a time and every process of one is gone
        before the next starts (the PID namespace's init took them all with it, or the
        worker reaped them), so each answer starts alone in the cgroup.
        """
        root = self.features.get("pids_cgroup")
        if not root:
            return
        try:
            if self.cgroup is None:
                cgroup = os.path.join(root, f"gdcourse-{os.getpid()}")
                os.makedirs(cgroup, exist_ok=True)
                _write(os.path.join(cgroup, "pids.max"), str(processes))
                _write(os.path.join(cgroup, "cgroup.procs"), str(os.getpid()))
                self.cgroup, self.cgroup_max = cgroup, processes
            elif self.cgroup_max != processes:
                _write(os.path.join(self.cgroup, "pids.max"), str(processes))
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


# --- the answer's results, as data ---------------------------------------------------------

_RESULT_MAGIC = b"GDR1"
RESULT_NAME = "result.bin"


def write_result(folder: str, result: dict, arrays: dict) -> None:  # pragma: no cover  (runs in the sandboxed child)
    """``result`` (JSON) and ``arrays`` (raw bytes, their dtype and shape in the JSON) in
    one file, ``RESULT_NAME``, written atomically: a crash leaves no half result."""
    import numpy as np
    from numpy.lib import format as npy

    meta, chunks, offset = [], [], 0
    for name, value in arrays.items():
        value = np.ascontiguousarray(value)
        data = b"" if value.dtype.hasobject else value.tobytes()
        meta.append([name, npy.dtype_to_descr(value.dtype), list(value.shape), offset, len(data)])
        chunks.append(data)
        offset += len(data)
    head = json.dumps({"result": result, "arrays": meta}).encode()
    tmp = os.path.join(folder, f"result.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(_RESULT_MAGIC + struct.pack("<Q", len(head)) + head)
        for data in chunks:
            fh.write(data)
    os.replace(tmp, os.path.join(folder, RESULT_NAME))


def read_result(path, max_bytes: int = 220 << 20) -> tuple[dict, dict]:
    """``(result, arrays)`` from :func:`write_result`'s file, which the answer wrote:
    read as data only (no object arrays, sizes checked); ``ValueError`` if malformed."""
    with open(path, "rb") as fh:
        raw = fh.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise ValueError("the results are too large")
    return parse_result(raw)


def parse_result(raw: bytes) -> tuple[dict, dict]:
    """:func:`read_result` on the file's bytes."""
    import numpy as np
    from numpy.lib import format as npy

    if raw[:4] != _RESULT_MAGIC or len(raw) < 12:
        raise ValueError("not a result file")
    (size,) = struct.unpack_from("<Q", raw, 4)
    if size > len(raw) - 12 or size > 20 << 20:
        raise ValueError("bad header length")
    head = json.loads(raw[12:12 + size].decode("utf-8"))
    base, end = 12 + size, len(raw)
    arrays = {}
    for name, descr, shape, offset, nbytes in head["arrays"]:
        dtype = npy.descr_to_dtype(descr if isinstance(descr, str) else
                                   [tuple(field) for field in descr])
        if dtype.hasobject:
            raise ValueError("object arrays are refused")
        shape = tuple(int(n) for n in shape)
        count = int(np.prod(shape, dtype=np.int64)) if shape else 1
        if min(shape, default=0) < 0 or offset < 0 or nbytes != count * dtype.itemsize \
                or base + offset + nbytes > end:
            raise ValueError(f"array {name!r} does not fit the file")
        if nbytes == 0:
            arrays[str(name)] = np.zeros(shape, dtype=dtype)
        else:
            arrays[str(name)] = np.frombuffer(raw, dtype=dtype, count=count,
                                              offset=base + offset).reshape(shape).copy()
    return head["result"], arrays


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
    import zipfile  # noqa: F401  (warm: np.load of the cases needs it)

    import encodings.cp437  # noqa: F401  (warm: zipfile decodes member names with it)
    import random  # noqa: F401

    import numpy  # noqa: F401  (warm: every answer's child starts with it imported)
    import numpy.random  # noqa: F401  (lazy in numpy: ≈ 10 ms in every child that draws)
    from numpy.lib import format  # noqa: F401  (warm: write_result)

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
    worker.enter(int(config.get("processes", 32)))
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
