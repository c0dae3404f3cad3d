"""How many learners one machine serves with ``gdcourse hub``: memory, spawn time, slider moves.

    python benchmarks/bench_hub.py --users 5          # table, exit 0
    python benchmarks/bench_hub.py --users 10 --moves 60

It starts a real hub (``gdcourse.hub.Workshop``) on 127.0.0.1 in a throw-away
folder, then measures:

1. **spawn alone**: one server, from the REST request to ready;
2. **spawn N at once**: N servers requested together, time until the last is
   ready (and the median of each);
3. **memory per active user**: every user gets a kernel (through the server's
   REST API, as JupyterLab does) that imports the course and builds lesson 1's
   fit panel; the PSS of each server's process tree (server + kernel) from
   ``/proc/PID/smaps_rollup``, and the drop of MemAvailable for all of them;
4. **slider moves per second, sustained**: every kernel moves the panel's
   θ₀ slider ``--moves`` times at the same moment (each move redraws the
   picture, encodes a PNG and sends it over the comm, through the server, to
   this script's websocket), total moves / wall time for all.

It prints the load (``os.getloadavg``) before and after: on a shared machine
the figures move with it.  Everything it starts is stopped at the end, and it
checks that no process of the hub is left.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gdcourse import hub  # noqa: E402

SETUP = """\
import json, time
import numpy as np, matplotlib
from gdcourse import widgets, data
panel = widgets.fit_panel(data.five_points())
slider = panel.controls["theta0"]
"""

MOVES = """\
_lo, _hi = slider.min, slider.max
_values = np.linspace(_lo + 0.1 * (_hi - _lo), _hi - 0.1 * (_hi - _lo), {moves})
_t = []
for _v in _values:
    _t0 = time.perf_counter()
    slider.value = float(_v)
    _t.append(time.perf_counter() - _t0)
print(json.dumps({{"per_move_ms": sorted(_t)[len(_t) // 2] * 1e3, "moves": len(_t)}}))
"""


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid:
                kids.append(int(entry.name))
    return kids


def _tree(pid: int) -> list[int]:
    out = [pid]
    for kid in _children(pid):
        out.extend(_tree(kid))
    return out


def _mem_available_kb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1])
    return 0


def _server_pids(w: hub.Workshop) -> dict[str, int]:
    """user name → pid of their jupyterhub-singleuser process."""
    out = {}
    for pid in w.processes():
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"singleuser" not in cmd:
            continue
        for item in env:
            if item.startswith(b"JUPYTERHUB_USER="):
                out[item.split(b"=", 1)[1].decode()] = pid
    return out


def _user_post(w, name, path, body):
    req = urllib.request.Request(f"{w.url}/user/{name}/{path}", data=json.dumps(body).encode(),
                                 method="POST", headers={"Authorization": f"token {w.token}",
                                                         "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


class Kernel:
    """One kernel of one user's server, driven over its websocket (JSON protocol)."""

    def __init__(self, w, name):
        self.w, self.name = w, name
        self.id = _user_post(w, name, "api/kernels", {"name": "python3"})["id"]
        self.session = uuid.uuid4().hex
        self.ws = None

    async def connect(self):
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        url = (f"{self.w.url.replace('http', 'ws', 1)}/user/{self.name}/api/kernels/{self.id}"
               f"/channels?session_id={self.session}")
        self.ws = await websocket_connect(HTTPRequest(
            url, headers={"Authorization": f"token {self.w.token}"}), max_message_size=1 << 26)

    async def run(self, code: str, timeout: float = 300.0) -> str:
        msg_id = uuid.uuid4().hex
        await self.ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": self.name, "session": self.session,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True}}))
        out, done, idle = [], False, False
        deadline = time.monotonic() + timeout
        while not (done and idle):
            raw = await asyncio.wait_for(self.ws.read_message(), deadline - time.monotonic())
            if raw is None:
                raise RuntimeError(f"the websocket of {self.name}'s kernel closed")
            if isinstance(raw, bytes):      # binary frames: comm messages with PNG buffers
                continue
            msg = json.loads(raw)
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "stream":
                out.append(msg["content"]["text"])
            elif kind == "error":
                raise RuntimeError(f"{self.name}: {msg['content']['ename']}: {msg['content']['evalue']}")
            elif kind == "execute_reply":
                done = True
            elif kind == "status" and msg["content"]["execution_state"] == "idle":
                idle = True
        return "".join(out)

    def close(self):
        if self.ws is not None:
            self.ws.close()


async def _drive(kernels, moves):
    await asyncio.gather(*(k.connect() for k in kernels))
    t0 = time.perf_counter()
    await asyncio.gather(*(k.run(SETUP) for k in kernels))
    setup_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    outs = await asyncio.gather(*(k.run(MOVES.format(moves=moves)) for k in kernels))
    wall = time.perf_counter() - t0
    results = [json.loads(o.strip().splitlines()[-1]) for o in outs]
    for k in kernels:
        k.close()
    return setup_s, wall, results


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=5, help="N: users spawned at once (default 5)")
    p.add_argument("--moves", type=int, default=60, help="slider moves per kernel (default 60)")
    p.add_argument("--proxy", default=None, help="configurable-http-proxy (default: found or installed)")
    args = p.parse_args(argv)
    proxy = args.proxy or hub.find_proxy() or hub.install_proxy()
    names = hub.learner_names(args.users)
    load0 = os.getloadavg()
    print(f"cores: {os.cpu_count()}   load before: {load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-hub-") as tmp:
        mem0 = _mem_available_kb()
        w = hub.Workshop(Path(tmp) / "state", users=names, password="bench", proxy=proxy,
                         port=hub._free_port(), cull_idle=3600)
        t0 = time.perf_counter()
        w.start()
        hub_up = time.perf_counter() - t0
        try:
            hub_pss = sum(_pss_kb(pid) for pid in w.processes()) / 1024
            alone = w.start_server(names[0])
            w.stop_server(names[0])
            t0 = time.perf_counter()
            times = w.prestart(names, parallel=len(names))
            all_at_once = time.perf_counter() - t0
            idle_pss = {n: sum(_pss_kb(q) for q in _tree(pid)) / 1024
                        for n, pid in _server_pids(w).items()}
            kernels = [Kernel(w, n) for n in names]
            setup_s, wall, results = asyncio.run(_drive(kernels, args.moves))
            active_pss = {n: sum(_pss_kb(q) for q in _tree(pid)) / 1024
                          for n, pid in _server_pids(w).items()}
            mem_drop = (mem0 - _mem_available_kb()) / 1024
            t0 = time.perf_counter()
        finally:
            w.stop()
        stop_s = time.perf_counter() - t0
        left = w.processes()
    load1 = os.getloadavg()
    total_moves = sum(r["moves"] for r in results)
    per_move = statistics.median(r["per_move_ms"] for r in results)
    rows = [
        ("hub + proxy + culler up", f"{hub_up:.1f} s, PSS {hub_pss:.0f} MB"),
        ("spawn one server alone", f"{alone:.1f} s"),
        (f"spawn {len(names)} servers at once", f"{all_at_once:.1f} s for all "
                                                f"(median {statistics.median(times.values()):.1f} s each)"),
        ("server idle, PSS per user", f"median {statistics.median(idle_pss.values()):.0f} MB"),
        ("server + kernel with a fit panel, PSS per user",
         f"median {statistics.median(active_pss.values()):.0f} MB "
         f"(min {min(active_pss.values()):.0f}, max {max(active_pss.values()):.0f})"),
        (f"MemAvailable drop, hub + {len(names)} active users", f"{mem_drop:.0f} MB "
         f"({(mem_drop - hub_pss) / len(names):.0f} MB per user after the hub's share)"),
        (f"imports + panel in {len(names)} kernels at once", f"{setup_s:.1f} s"),
        (f"slider moves, {len(names)} kernels at once", f"{total_moves} in {wall:.2f} s: "
                                                        f"{total_moves / wall:.0f} moves/s in total"),
        ("one move, kernel side (median of medians)", f"{per_move:.1f} ms"),
        ("stop everything", f"{stop_s:.1f} s"),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    print(f"load after: {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f}")
    if left:
        print(f"ERROR: {len(left)} processes of the hub are still alive: {left}")
        return 1
    print("no process of the hub is left")
    return 0


if __name__ == "__main__":
    sys.exit(main())
