"""``gdcourse hub``: a JupyterHub for a workshop, on one machine.

::

    gdcourse hub --users 30 [--admin NAME] [--password PW] [--port 8000] [--ip 127.0.0.1] [--lang ja]

starts a real JupyterHub (``pip install "gdcourse[hub]"``) whose learners
``learner01`` … ``learner30`` each get the course copied once into a home folder
of their own and land in lesson 1 of JupyterLab, with the news pop-up off.

* **Logins.** Without ``--password`` each learner picks a password on the
  first login (FirstUseAuthenticator); with it, every learner uses that
  workshop password and the admin a separate one (``--admin-password``, or one
  generated and printed).  The admin (``--admin``, default ``instructor``) can
  start, stop and open every server from ``/hub/admin``.
* **Proxy.** JupyterHub needs ``configurable-http-proxy``, a Node.js program
  from the npm registry.  When it is not on PATH, the command installs it once
  with ``npm install`` into ``~/.cache/gdcourse/chp`` (``$XDG_CACHE_HOME``),
  and refuses with a clear message when npm is missing.
* **Pre-start.** Right after the hub is up, every learner's server is started
  through the REST API, ``--prestart-parallel`` at a time (default: the number
  of cores), so 30 people logging in at the same moment find a running server
  instead of a spawn time-out.  ``--no-prestart`` skips it.
* **Idle culler.** ``jupyterhub-idle-culler`` runs as a hub service and stops
  servers idle for ``--cull-idle`` seconds (default 3600).
* **Language.** ``--lang ja`` (``zh``, ``ko``, ``fr``) makes it the hub's default: each
  learner's home gets the translated notebooks, their JupyterLab starts in that language (a
  default in their own user settings, which they may change in Settings ▸ Language), and the
  package's messages and figures follow it (``GDCOURSE_LANG``).
* **Network.** Everything listens on 127.0.0.1 unless ``--ip`` says otherwise
  (``--ip 0.0.0.0`` for a room; add ``--ssl-cert``/``--ssl-key`` beyond a
  trusted network).

What it does **not** do: isolate learners from each other.  Every server runs
as the same operating-system user, so any learner can read and change every
other learner's files (and the hub's state folder) from a terminal or a
notebook.  Use The Littlest JupyterHub or Zero to JupyterHub
(``docs/workshop.md``) for people you do not trust.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from . import _procs
from .course import CourseNotFound, find_course, lab_config_dir
from .i18n import LANG_CHOICES, language_pack_installed

__all__ = ["Workshop", "HubError", "learner_names", "proxy_cache_dir", "find_proxy",
           "install_proxy", "CHP_PACKAGE", "MARKER_NAME", "cli"]

#: What ``npm install`` fetches when no configurable-http-proxy is on PATH.
CHP_PACKAGE = "configurable-http-proxy@^5"
#: Every process of one hub (hub, proxy, servers, kernels, culler) carries this variable.
MARKER_NAME = "GDCOURSE_HUB_RUN"
MAX_USERS = 500


class HubError(RuntimeError):
    """The hub could not be set up or started; the message says why and what to do."""


def learner_names(n, prefix: str = "learner") -> list[str]:
    """``learner01`` … ``learnerNN``, zero-padded to the width of ``n`` (at least two digits)."""
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_USERS:
        raise ValueError(f"--users must be a whole number from 1 to {MAX_USERS}, but got {n!r}.")
    width = max(2, len(str(n)))
    return [f"{prefix}{i:0{width}d}" for i in range(1, n + 1)]


# ============================================================================================
# configurable-http-proxy, from the npm registry
# ============================================================================================

def proxy_cache_dir() -> Path:
    """Where ``gdcourse hub`` installs configurable-http-proxy: ``$XDG_CACHE_HOME/gdcourse/chp``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gdcourse" / "chp"


def find_proxy(cache=None) -> Path | None:
    """configurable-http-proxy on PATH, else the one installed in ``cache``, else None."""
    on_path = shutil.which("configurable-http-proxy")
    if on_path:
        return Path(on_path)
    cached = Path(cache or proxy_cache_dir()) / "node_modules" / ".bin" / "configurable-http-proxy"
    return cached if cached.is_file() else None


def install_proxy(cache=None, *, out=print) -> Path:
    """Install configurable-http-proxy into ``cache`` with npm (once) and return its path."""
    cache = Path(cache or proxy_cache_dir())
    npm = shutil.which("npm")
    if npm is None:
        raise HubError(
            "gdcourse hub needs configurable-http-proxy, JupyterHub's web proxy, which comes from "
            "the npm registry, and npm is not on PATH. Install Node.js and npm (Debian/Ubuntu: "
            "sudo apt-get install nodejs npm) and run the command again, or install the proxy "
            "yourself (npm install -g configurable-http-proxy) and pass --proxy PATH.")
    cache.mkdir(parents=True, exist_ok=True)
    out(f"Installing {CHP_PACKAGE} (JupyterHub's proxy) from the npm registry into {cache} "
        f"(once; later runs reuse it) ...")
    cmd = [npm, "install", "--prefix", str(cache), "--no-fund", "--no-audit", "--loglevel=error",
           CHP_PACKAGE]
    result = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    found = cache / "node_modules" / ".bin" / "configurable-http-proxy"
    if result.returncode != 0 or not found.is_file():
        raise HubError(f"npm could not install configurable-http-proxy into {cache} "
                       f"(exit code {result.returncode}):\n{result.stderr.strip()[-2000:]}")
    return found


# ============================================================================================
# the hub
# ============================================================================================

def _free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


def _check_port(port, name="--port"):
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"{name} must be a TCP port from 1 to 65535, but got {port!r}.")


class Workshop:
    """One JupyterHub for a workshop, run as a child process of this one.

    ``state_dir`` holds everything the hub writes: its database, cookie secret,
    settings, log and the learners' homes (``homes/NAME``).  ``users`` are the
    learner names; ``admin`` the instructor.  ``password`` selects the shared
    workshop password (``admin_password`` for the admin, generated when None);
    without it logins use the first-use authenticator.
    """

    def __init__(self, state_dir, *, users, admin: str = "instructor", password: str | None = None,
                 admin_password: str | None = None, ip: str = "127.0.0.1", port: int = 8000,
                 proxy=None, course=None, cull_idle: int = 3600, cull_every: int | None = None,
                 start_timeout: int = 300, ssl_cert=None, ssl_key=None, singleuser_args=(),
                 lang: str | None = None):
        from . import _hubconfig  # needs jupyterhub: fail here, with the extra named, not later

        if lang is not None and lang not in LANG_CHOICES:
            raise ValueError(f"--lang must be one of {', '.join(LANG_CHOICES)}, but got {lang!r}.")
        self.lang = lang

        self._cfg = _hubconfig
        self.state_dir = Path(state_dir).expanduser().resolve()
        self.users = list(users)
        if not self.users:
            raise ValueError("users must name at least one learner, but got an empty list.")
        if not isinstance(admin, str) or not admin or admin in self.users:
            raise ValueError(f"--admin must be a name that is not a learner's, but got {admin!r}.")
        _check_port(port)
        if isinstance(cull_idle, bool) or not isinstance(cull_idle, int) or cull_idle < 10:
            raise ValueError(f"--cull-idle must be a whole number of seconds, at least 10, "
                             f"but got {cull_idle!r}.")
        if bool(ssl_cert) != bool(ssl_key):
            raise ValueError("--ssl-cert and --ssl-key go together: give both or neither.")
        self.admin = admin
        self.password = password
        self.admin_password = admin_password or (secrets.token_urlsafe(9) if password else None)
        self.ip = ip
        self.port = port
        self.proxy = Path(proxy) if proxy else None
        self.course = find_course(course, allow_packaged=True) if course else find_course(
            allow_packaged=True)
        self.cull_idle = cull_idle
        # the culler looks every quarter of the timeout, at most every 5 minutes
        self.cull_every = cull_every or max(5, min(300, cull_idle // 4))
        self.start_timeout = start_timeout
        self.ssl = (str(ssl_cert), str(ssl_key)) if ssl_cert else None
        self.singleuser_args = list(singleuser_args)
        self.token = secrets.token_hex(32)
        self.run_id = uuid.uuid4().hex
        self.proc = None
        self._log = None
        self._stopping = False
        self.log_path = self.state_dir / "jupyterhub.log"

    # --- set-up ----------------------------------------------------------------------------

    @property
    def auth(self) -> str:
        return "password" if self.password else "firstuse"

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl else "http"
        host = "127.0.0.1" if self.ip in ("", "0.0.0.0", "::", "127.0.0.1") else self.ip
        return f"{scheme}://{host}:{self.port}"

    def settings(self) -> dict:
        """What the hub process reads (see gdcourse._hubconfig.apply)."""
        settings = {
            "state_dir": str(self.state_dir), "course": str(self.course),
            "ip": self.ip, "port": self.port, "hub_port": _free_port(),
            "proxy_api_port": _free_port(), "proxy": str(self.proxy),
            "users": self.users, "admins": [self.admin], "auth": self.auth,
            "api_token": self.token, "cull_idle": self.cull_idle, "cull_every": self.cull_every,
            "start_timeout": self.start_timeout, "singleuser_args": self.singleuser_args,
            "marker_name": MARKER_NAME, "marker": self.run_id, "lang": self.lang,
        }
        if self.password:
            settings["password_hash"] = self._cfg.hash_password(self.password)
            settings["admin_password_hash"] = self._cfg.hash_password(self.admin_password)
        if self.ssl:
            settings["ssl_cert"], settings["ssl_key"] = self.ssl
        return settings

    def write_config(self) -> Path:
        """Write the settings (mode 0600), the config file and the lab page config; return the
        config file's path."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        settings_path = self.state_dir / "hub-settings.json"
        fd = os.open(settings_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.settings(), fh, indent=1)
        lab_config_dir(self.state_dir / "jupyter-config")   # the servers' JUPYTER_CONFIG_PATH
        config = self.state_dir / "jupyterhub_config.py"
        config.write_text(
            "# written by `gdcourse hub`; the settings are in hub-settings.json next to this file\n"
            "from pathlib import Path\n"
            "from gdcourse import _hubconfig\n"
            "_hubconfig.apply(c, _hubconfig.load_settings(Path(__file__).with_name('hub-settings.json')))\n",
            encoding="utf-8")
        return config

    def _environment(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "MPLBACKEND"))}
        env[MARKER_NAME] = self.run_id
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def start(self, timeout: float = 60.0) -> "Workshop":
        """Start JupyterHub and wait until its REST API answers."""
        if self.proxy is None or not self.proxy.is_file():
            raise HubError(f"configurable-http-proxy not found at {self.proxy}; "
                           f"see gdcourse.hub.install_proxy.")
        config = self.write_config()
        hub = Path(sys.executable).with_name("jupyterhub")
        cmd = ([str(hub)] if hub.is_file() else [sys.executable, "-m", "jupyterhub"]) + [
            "-f", str(config)]
        self._log = open(self.log_path, "a", encoding="utf-8")
        self.proc = subprocess.Popen(cmd, cwd=self.state_dir, env=self._environment(),
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.stop()
                raise HubError(f"JupyterHub exited with code {code} before it answered; "
                               f"the end of its log ({self.log_path}):\n{self.log_tail()}")
            try:
                self.api("GET", "")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise HubError(f"JupyterHub did not answer on {self.url} within {timeout:.0f} s; "
                               f"its log:\n{self.log_tail()}")
            time.sleep(0.25)  # polling a socket: there is no event to wait for

    # --- the REST API ----------------------------------------------------------------------

    def api(self, method: str, path: str, body=None, timeout: float = 30.0):
        """Call ``/hub/api/<path>`` with gdcourse's service token; the JSON answer or None."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/hub/api/{path.lstrip('/')}", data=data,
                                     method=method, headers={"Authorization": f"token {self.token}",
                                                             "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def create_users(self, names) -> list[str]:
        """Add users to the hub (``POST /users``); names it already has are skipped."""
        have = {u["name"] for u in self.api("GET", "users") or []}
        new = [n for n in names if n not in have]
        if new:
            self.api("POST", "users", {"usernames": new})
        return new

    def server_ready(self, name: str) -> bool:
        server = (self.api("GET", f"users/{name}") or {}).get("servers", {}).get("")
        return bool(server and server.get("ready"))

    def start_server(self, name: str, timeout: float | None = None) -> float:
        """Start ``name``'s server and wait until it is ready; the seconds it took."""
        t0 = time.perf_counter()
        try:
            self.api("POST", f"users/{name}/server")
        except urllib.error.HTTPError as exc:
            if exc.code != 400:  # 400: it is already running or starting
                raise
        deadline = time.monotonic() + (timeout or self.start_timeout + 30)
        while not self.server_ready(name):
            if self._stopping:
                raise HubError(f"stopped while waiting for the server of {name}")
            if time.monotonic() > deadline:
                raise HubError(f"the server of {name} was not ready within "
                               f"{timeout or self.start_timeout + 30:.0f} s; see {self.log_path}")
            time.sleep(0.25)  # the hub offers no event for "ready" to a service
        return time.perf_counter() - t0

    def prestart(self, names=None, *, parallel: int | None = None, out=None) -> dict[str, float]:
        """Start the servers of ``names`` (default: every learner), ``parallel`` at a time;
        returns name → seconds from request to ready."""
        names = list(self.users if names is None else names)
        parallel = parallel or os.cpu_count() or 2
        times = {}
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=parallel)
        try:
            futures = {pool.submit(self.start_server, n): n for n in names}
            for future in concurrent.futures.as_completed(futures):
                times[futures[future]] = future.result()
                if out is not None:
                    out(f"  server of {futures[future]} ready ({len(times)}/{len(names)}, "
                        f"{times[futures[future]]:.1f} s)")
        except BaseException:
            # Ctrl-C or a failed start: do not wait for the other servers
            self._stopping = True
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return times

    def stop_server(self, name: str):
        try:
            self.api("DELETE", f"users/{name}/server", timeout=120)
        except urllib.error.HTTPError as exc:
            if exc.code not in (400, 404):
                raise

    def log_tail(self, lines: int = 40) -> str:
        return _procs.log_tail(self.log_path, lines)

    # --- tear-down -------------------------------------------------------------------------

    def processes(self) -> list[int]:
        """Live processes of this hub (hub, proxy, culler, servers, kernels), found by the marker
        variable in their environment (Linux)."""
        return _procs.marked_pids(MARKER_NAME, self.run_id)

    def stop(self, timeout: float = 60.0):
        """Stop the hub (it stops every server and the proxy), then end anything left over."""
        self._stopping = True
        proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                _signal_group(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        if proc is not None:
            _procs.end_marked(MARKER_NAME, self.run_id)   # servers, kernels, proxy left behind
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _signal_group(pid, sig):
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        pass


# ============================================================================================
# the command
# ============================================================================================

def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gdcourse hub",
        description="Start a JupyterHub for a workshop on this machine: every learner gets the "
                    "course in a home folder of their own, opened at lesson 1.",
        epilog="Every learner's server runs as the same operating-system user: learners can read "
               "each other's files. For people you do not trust use The Littlest JupyterHub or "
               "Zero to JupyterHub (docs/workshop.md).")
    p.add_argument("--users", type=int, required=True, metavar="N",
                   help="number of learner accounts: learner01 … learnerNN")
    p.add_argument("--admin", default="instructor", metavar="NAME",
                   help="the instructor's account, an admin of the hub (default: instructor)")
    p.add_argument("--password", default=os.environ.get("GDCOURSE_HUB_PASSWORD"), metavar="PW",
                   help="one workshop password for every learner (or $GDCOURSE_HUB_PASSWORD); "
                        "without it each learner picks a password on the first login")
    p.add_argument("--admin-password", default=os.environ.get("GDCOURSE_HUB_ADMIN_PASSWORD"),
                   metavar="PW", help="the admin's password with --password (default: generated "
                                      "and printed)")
    p.add_argument("--ip", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for "
                        "a room)")
    p.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    p.add_argument("--dir", default="~/gdcourse-hub",
                   help="state folder: database, log and the learners' homes (default ~/gdcourse-hub)")
    p.add_argument("--course", default=None, help="course folder to copy to learners (default: "
                                                  "found automatically)")
    p.add_argument("--proxy", default=None, metavar="PATH",
                   help="a configurable-http-proxy to use (default: on PATH, else installed "
                        "with npm into ~/.cache/gdcourse/chp)")
    p.add_argument("--no-prestart", action="store_true",
                   help="do not start the learners' servers before they log in")
    p.add_argument("--prestart-parallel", type=int, default=None, metavar="K",
                   help="servers pre-started at a time (default: the number of cores)")
    p.add_argument("--cull-idle", type=int, default=3600, metavar="SECONDS",
                   help="stop servers idle for this long (default 3600)")
    p.add_argument("--lang", default=None, choices=LANG_CHOICES,
                   help="the learners' language: translated notebooks and JupyterLab's menus in "
                        "it by default (default: English)")
    p.add_argument("--ssl-cert", default=None, help="TLS certificate (with --ssl-key)")
    p.add_argument("--ssl-key", default=None, help="TLS private key (with --ssl-cert)")
    return p


def cli(argv=None) -> int:
    args = _parser().parse_args(argv)
    say = lambda text: print(text, flush=True)  # noqa: E731
    try:
        names = learner_names(args.users)
        if args.prestart_parallel is not None and args.prestart_parallel < 1:
            raise ValueError(f"--prestart-parallel must be a whole number of 1 or more, but got "
                             f"{args.prestart_parallel}.")
        import jupyterhub  # noqa: F401
    except ValueError as exc:
        print(f"gdcourse hub: {exc}", file=sys.stderr)
        return 2
    except ImportError:
        print('gdcourse hub: JupyterHub is not installed. Install the hub extra: '
              'pip install "gdcourse[hub]"', file=sys.stderr)
        return 2
    try:
        proxy = Path(args.proxy) if args.proxy else (find_proxy() or install_proxy(out=say))
        if not proxy.is_file():
            raise HubError(f"--proxy must be the path of configurable-http-proxy, but {proxy} "
                           f"does not exist.")
        hub = Workshop(args.dir, users=names, admin=args.admin, password=args.password,
                       admin_password=args.admin_password, ip=args.ip, port=args.port,
                       proxy=proxy, course=args.course, cull_idle=args.cull_idle,
                       ssl_cert=args.ssl_cert, ssl_key=args.ssl_key, lang=args.lang)
    except (HubError, ValueError, CourseNotFound) as exc:
        print(f"gdcourse hub: {exc}", file=sys.stderr)
        return 2
    say(f"Starting JupyterHub for {len(names)} learners; state and log in {hub.state_dir}")
    if args.lang is not None and not language_pack_installed(args.lang):
        say(f"JupyterLab's own menus stay in English: its {args.lang} language pack is not "
            f"installed (pip install \"gdcourse[{args.lang}]\").")
    if hasattr(signal, "SIGTERM"):
        # `kill` of this command must stop the hub and the servers too, as Ctrl-C does
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        hub.start()
        say(f"The hub is up at {hub.url}/ (listening on {args.ip}:{args.port}).")
        if args.ip in ("", "0.0.0.0", "::"):
            say(f"Learners open http://{socket.gethostname()}:{args.port}/ "
                f"(or this machine's address on the room's network).")
        if hub.password:
            say(f"Learners log in as {names[0]} … {names[-1]} with the workshop password; "
                f"{hub.admin} logs in with: {hub.admin_password}")
        else:
            say(f"Learners log in as {names[0]} … {names[-1]} and choose their password on the "
                f"first login. Log in as {hub.admin} now to claim the admin account.")
        if not args.no_prestart:
            say(f"Pre-starting {len(names)} servers, {args.prestart_parallel or os.cpu_count()} "
                f"at a time, so that logins do not wait ...")
            times = hub.prestart(parallel=args.prestart_parallel, out=say)
            say(f"All {len(times)} servers are running (slowest {max(times.values()):.1f} s).")
        say(f"Ready. Idle servers stop after {hub.cull_idle} s. Stop the hub with Ctrl-C.")
        hub.proc.wait()
        say(f"JupyterHub exited with code {hub.proc.returncode}; its log: {hub.log_path}")
        return 0 if hub.proc.returncode == 0 else 1
    except KeyboardInterrupt:
        say("Stopping the hub and every learner's server ...")
        return 0
    except (HubError, urllib.error.URLError) as exc:
        print(f"gdcourse hub: {exc}", file=sys.stderr)
        return 1
    finally:
        hub.stop()
        if hasattr(signal, "SIGTERM"):
            signal.signal(signal.SIGTERM, previous)
