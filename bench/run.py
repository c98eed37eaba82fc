#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""bench/run.py: what heedd costs, each figure against a baseline measured
in the same run.

    bench/run.py [--build DIR] [--smoke] [--only SECTION,...] [--json FILE]
                 [--markdown] [--perf-record FILE] [--cost-n N] [--cost-runs N]

Sections (all by default, in this order):

  footprint   RSS and PSS of heedd watching four accounts (Mastodon, GitHub,
              X, Bluesky; each fake on its own host:port) after start-up,
              after an hour of simulated polling (poll_interval = 1 for
              60 s: ~60 polls per account, an hour at the default 60 s)
              and after two; against bench-baseline, a program that links
              the same libraries, initialises them and sleeps.
              Both baselines run beside heedd and are sampled at the same
              moments (PSS depends on who else maps the same pages).
  wakeups     wakeups (voluntary context switches, per thread) and system
              calls per minute: quiet (no poll due within the window) and
              polling (poll_interval = 10); against the polls made, the
              systemd watchdog pings (WatchdogSec=60s as in heed.service)
              and bench-baseline over the same window.
  connections TLS handshakes over an hour of simulated polling: four hosts
              (from the footprint run), six hosts, then four accounts on
              one host over HTTP/1.1, then on one host over HTTP/2
              (nghttpx in front, when installed).
  twenty      twenty accounts (five per network, each network's five on
              one fake host) in one heedd polling every 5 s: TLS
              connections against the four hosts, how closely polls to
              one host bunch together (the first polls are spread), idle
              USS against one account's.
  latency     polling delivery latency: from a fake server having a
              mention to the Notify call on D-Bus, per network.
  burst       100,000 mentions at once on a Mastodon account that streams:
              half wait in the REST API and come with the catch-up poll
              when the stream drops, half are pushed on the stream as soon
              as it is back; three other accounts poll every second.
              Popups, peak RSS over idle, all stored, how long the loop
              was busy at most (a control probe in its own process), the
              longest gap between two polls of the other accounts, then
              the cost of an idle poll with them all waiting.
  idle-backlog
              CPU per idle poll (four accounts polling every second,
              nothing new) with an empty store and with stores of 100,000
              mentions of which 600 or 10,000 wait (plus a tenth as many
              snoozed), written straight into heedd's SQLite file; against
              the empty store in the same run (the goal: flat), and
              bench-baseline --every 1 (one bare HTTPS GET a second on a
              kept connection) as the floor of any poll.
  cost        CPU time for heedd to ingest, score and store a catch-up of
              10,000 mentions served in pages, against bench-parse-cost
              (jansson alone) on the same bytes; the attend pass after it
              on its own, and the slowest control answer meanwhile.
  list        heed list --json with 100,000 stored mentions: heedd's CPU
              time for the call and the CLI's wall time, against the
              sqlite3 shell running the same query; that list and show
              give the same object for each mention (a failure stops the
              run); heedd's RSS around list --all over 10,000.

--smoke runs every section at tiny sizes (under a minute), for CI: it prints
every figure and asserts nothing about time. Full run: about 25 minutes.
Figures are medians where a measurement is repeated; this machine is shared
and noisy, so read ratios rather than absolute times. The closing table has
one row per figure: value, baseline, ratio, goal, met?.

Needs what the integration tests need (scripts/deps test) and heedd, heed,
bench/bench-baseline and bench/bench-parse-cost built in --build (default
$HEED_BUILD_DIR, else build/). Counts syscalls per thread with `perf stat`
(names from `perf trace -s`) when perf works, else with `strace -c`. See
docs/BENCHMARKS.md.
"""

import argparse
import json
import os
import random
import re
import resource
import shutil
import socket
import sqlite3
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(SOURCE, "tests", "integration"))
os.environ.setdefault("HEED_SOURCE_DIR", SOURCE)

CLK_TCK = os.sysconf("SC_CLK_TCK")
SECTIONS = ["footprint", "wakeups", "connections", "twenty", "latency", "burst", "idle-backlog", "cost", "list"]
WATCHDOG_USEC = 60_000_000          # heed.service: WatchdogSec=60s


# ---------------------------------------------------------------- sizes

class Sizes:
    """Every knob that --smoke turns down."""

    def __init__(self, smoke):
        self.smoke = smoke
        self.hour = 3 if smoke else 60           # seconds of poll_interval=1 = "an hour"
        self.wake_window = 3 if smoke else 60
        self.wake_interval = 2 if smoke else 10
        self.onehost_window = 3 if smoke else 60
        self.six_window = 3 if smoke else 20
        self.latency_probes = 1 if smoke else 5  # per network
        self.burst_n = 400 if smoke else 100_000
        self.cost_n = 300 if smoke else 10_000
        self.cost_runs = 1 if smoke else 3
        self.parse_repeat = 3
        self.list_rows = 2_000 if smoke else 100_000
        self.list_waiting = 50 if smoke else 500
        self.list_repeat = 2 if smoke else 7
        self.list_all_rows = 500 if smoke else 10_000
        self.twenty_window = 6 if smoke else 60
        # idle-backlog: (waiting, stored) stores, and the window measured on each
        self.backlogs = [(0, 0), (100, 2_000)] if smoke else [(0, 0), (600, 100_000), (10_000, 100_000)]
        self.backlog_window = 3 if smoke else 20
        self.backlog_runs = 1 if smoke else 3


# ---------------------------------------------------------------- results

class Results:
    def __init__(self):
        self.rows = []

    def add(self, section, figure, value, unit="", baseline=None, goal=None, met=None, note="",
            ratio=None, fmt="{:.1f}"):
        """One row. value/baseline: numbers or None (not measured: note says why)."""
        if ratio is None and isinstance(value, (int, float)) and isinstance(baseline, (int, float)) and baseline:
            ratio = value / baseline
        row = {"section": section, "figure": figure, "value": value, "unit": unit, "baseline": baseline,
               "ratio": ratio, "goal": goal, "met": met, "note": note, "fmt": fmt}
        self.rows.append(row)
        print(f"  {figure}: {self._cell(row, 'value')}{' ' + unit if unit and value is not None else ''}"
              f"{'  (baseline ' + self._cell(row, 'baseline') + ')' if baseline is not None else ''}"
              f"{'  ' + note if note else ''}", flush=True)
        return row

    @staticmethod
    def _cell(row, key):
        v = row[key]
        if v is None:
            return "n/a" if key == "value" else "—"
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return "yes" if v else "no"
        return row["fmt"].format(v)

    def table(self, markdown=False):
        head = ["section", "figure", "value", "baseline", "ratio", "goal", "met?"]
        lines = []
        for r in self.rows:
            unit = f" {r['unit']}" if r["unit"] and r["value"] is not None else ""
            ratio = "—" if r["ratio"] is None else f"{r['ratio']:.2f}×"
            met = "—" if r["met"] is None else ("yes" if r["met"] else "NO")
            base = self._cell(r, "baseline")
            if r["baseline"] is not None and not isinstance(r["baseline"], str) and r["unit"]:
                base += f" {r['unit']}"
            lines.append([r["section"], r["figure"], self._cell(r, "value") + unit, base, ratio,
                          r["goal"] or "—", met])
        if markdown:
            out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            out += ["| " + " | ".join(c.replace("|", "\\|") for c in l) + " |" for l in lines]
            return "\n".join(out)
        widths = [max(len(h), *(len(l[i]) for l in lines)) if lines else len(h) for i, h in enumerate(head)]
        fmt = "  ".join("{:<%d}" % w for w in widths)
        out = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
        out += [fmt.format(*l) for l in lines]
        return "\n".join(out)


# ---------------------------------------------------------------- /proc

def proc_mem(pid):
    """KiB: Rss, Pss, Pss_Anon, Private_Dirty (smaps_rollup), VmHWM, VmRSS."""
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, rest = line.partition(":")
            parts = rest.split()
            if len(parts) == 2 and parts[1] == "kB":
                out[k.strip()] = int(parts[0])
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, rest = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                out[k] = int(rest.split()[0])
            elif k == "Threads":
                out[k] = int(rest.split()[0])
    return out


def proc_cpu(pid):
    """User + system CPU seconds of the whole process (threads that exited included)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def proc_cpu_ns(pid):
    """Seconds on CPU of the live threads (schedstat: nanosecond resolution)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += thread_cpu_ns(pid, tid)
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total / 1e9


def thread_cpu_ns(pid, tid=None):
    """Nanoseconds on CPU of one thread (default: the main thread), from schedstat."""
    with open(f"/proc/{pid}/task/{tid or pid}/schedstat") as f:
        return int(f.read().split()[0])


def proc_threads(pid):
    """{tid: (name, voluntary, nonvoluntary context switches)}."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                d = dict(line.split(":", 1) for line in f if ":" in line)
            out[int(tid)] = (d["Name"].strip(), int(d["voluntary_ctxt_switches"]),
                             int(d["nonvoluntary_ctxt_switches"]))
        except (FileNotFoundError, ProcessLookupError, KeyError):
            pass
    return out


def thread_deltas(before, after):
    """Per thread name: voluntary switches (wakeups) between two proc_threads()."""
    out = {}
    for tid, (name, vol, _) in after.items():
        b = before.get(tid)
        d = vol - (b[1] if b else 0)
        key = name if b else name + " (new)"
        out[key] = out.get(key, 0) + d
    gone = [name for tid, (name, _, _) in before.items() if tid not in after]
    for name in gone:
        out.setdefault(name + " (exited)", 0)
    return out


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def kib_to_mib(k):
    return k / 1024.0


# ---------------------------------------------------------------- syscall counting

class SyscallCounter:
    """Counts a process's system calls over a window. With perf: exact
    per-thread totals from `perf stat` (counting, the process is never
    stopped) and the busiest calls by name from `perf trace -s` (which can
    miss a few sparse events, so only its names are used). Without perf:
    `strace -f -c`, which stops the process at every call."""

    def __init__(self, pid, tmpdir):
        self.pid = pid
        self.procs = []
        self.tool = None
        stem = os.path.join(tmpdir, f"syscalls.{pid}.{time.monotonic_ns()}")
        self.stat_path, self.trace_path, self.strace_path = stem + ".stat", stem + ".trace", stem + ".strace"

    @staticmethod
    def available():
        if shutil.which("perf"):
            try:
                p = subprocess.run(["perf", "stat", "-e", "raw_syscalls:sys_enter", "--", "true"],
                                   capture_output=True, timeout=20)
                if p.returncode == 0 and b"raw_syscalls:sys_enter" in p.stderr:
                    return "perf"
            except (OSError, subprocess.TimeoutExpired):
                pass
        if shutil.which("strace"):
            return "strace"
        return None

    def start(self, tool):
        self.tool = tool
        pid = str(self.pid)
        if tool == "perf":
            argvs = [["perf", "stat", "--per-thread", "-x", ",", "-e", "raw_syscalls:sys_enter", "-o",
                      self.stat_path, "-p", pid],
                     ["perf", "trace", "-s", "-o", self.trace_path, "-p", pid]]
        elif tool == "strace":
            argvs = [["strace", "-f", "-c", "-o", self.strace_path, "-p", pid]]
        else:
            return self
        for argv in argvs:
            self.procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                               stdin=subprocess.DEVNULL))
        time.sleep(0.5 if tool == "perf" else 0.2)   # attached before the window opens
        return self

    def stop(self):
        """Returns {"total": n, "threads": {name: n}, "calls": {syscall: n}} or None."""
        if not self.procs:
            return None
        for p in self.procs:
            p.send_signal(2)
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

        def read(path):
            try:
                with open(path, errors="replace") as f:
                    return f.read()
            except FileNotFoundError:
                return ""
        if self.tool == "perf":
            threads = {}
            for line in read(self.stat_path).splitlines():
                parts = line.split(",")
                if len(parts) > 3 and parts[3] == "raw_syscalls:sys_enter":
                    name = parts[0].rsplit("-", 1)[0]
                    n = int(parts[1]) if parts[1].isdigit() else 0
                    threads[name] = threads.get(name, 0) + n
            calls = self._parse_perf_trace(read(self.trace_path))
            return {"total": sum(threads.values()), "threads": threads, "calls": calls}
        return self._parse_strace(read(self.strace_path))

    @staticmethod
    def _parse_perf_trace(text):
        calls, cur = {}, None
        for line in text.splitlines():
            m = re.match(r"^\s*(.+?) \((\d+)\), (\d+) events", line)
            if m:
                cur = m.group(1)
                continue
            m = re.match(r"^\s+([a-z_0-9]+)\s+(\d+)\s+(\d+)\s+[\d.]+", line)
            if m and cur is not None:
                calls[m.group(1)] = calls.get(m.group(1), 0) + int(m.group(2))
        return calls

    @staticmethod
    def _parse_strace(text):
        calls, total = {}, 0
        for line in text.splitlines():
            parts = line.split()
            if len(parts) >= 5 and re.match(r"^[\d.]+$", parts[0]) and parts[-1] != "total":
                try:
                    n = int(parts[3])
                except ValueError:
                    continue
                calls[parts[-1]] = n
                total += n
        return {"total": total, "threads": {}, "calls": calls}


# ---------------------------------------------------------------- fakes

def _fakes():
    import fakenet
    from fake_github import FakeGitHub
    from fake_x import FakeX
    try:
        from fake_bluesky import FakeBluesky
    except ImportError:
        FakeBluesky = None
    return fakenet, FakeGitHub, FakeX, FakeBluesky


def count_handshakes(fake):
    """Count the TLS handshakes a fake server completes (fake.handshakes)."""
    fake.handshakes = 0
    lock = threading.Lock()
    orig = fake._track

    def track(conn, add):
        if add:
            with lock:
                fake.handshakes += 1
        orig(conn, add)
    fake._track = track
    return fake


class Network:
    """One fake network and its heed account, with what the benchmark needs
    to poke at it the same way for all four."""

    def __init__(self, kind, fake, account, server=None):
        self.kind = kind
        self.fake = fake
        self.account = account
        self.server = server or fake      # what serves it (the one-host front for hosted fakes)

    def add_probe(self, token):
        f = self.fake
        if self.kind == "mastodon":
            f.add_mention(acct="probe@fake.social", display_name="Probe Person",
                          text_html=f"<p>@me are you around? {token}</p>", visibility="direct")
        elif self.kind == "github":
            f.add_thread(reason="review_requested", title=f"Please review {token}")
        elif self.kind == "x":
            f.add_mention(username="probe", name="Probe Person", text=f"@heed_user are you around? {token}")
        elif self.kind == "bluesky":
            f.add_mention(handle="probe.test", display_name="Probe Person",
                          text=f"@{f.handle} are you around? {token}", follows_me=True)

    def poll_times(self):
        f = self.fake
        if self.kind == "mastodon":
            reqs = f.requests_to("/api/v1/notifications", status=None)
        elif self.kind == "github":
            reqs = f.requests_to("/notifications", status=None)
        elif self.kind == "x":
            reqs = f.requests_to(f.mentions_path(), status=None)
        else:
            reqs = [r for r in f.requests_to("/xrpc/app.bsky.notification.listNotifications", status=None)
                    if r.param("cursor") is None]
        return [r.time for r in reqs]


def make_networks(h, host=None, names=("mastodon", "github", "x", "bluesky")):
    """Start the four fakes (or build them behind a one-host front) and return Networks."""
    fakenet, FakeGitHub, FakeX, FakeBluesky = _fakes()
    nets = []
    for kind in names:
        if kind == "bluesky" and FakeBluesky is None:
            print("  (fake_bluesky.py is missing: running without a Bluesky account)", flush=True)
            continue
        cls = {"mastodon": fakenet.FakeMastodon, "github": FakeGitHub, "x": FakeX, "bluesky": FakeBluesky}[kind]
        kw = {"mastodon": {"rate_limit": 10 ** 6}, "github": {"poll_interval": None, "rate_limit": 10 ** 6},
              "x": {}, "bluesky": {"rate_limit": 10 ** 6}}[kind]
        if host is not None:
            fake = host.hosted(cls, **kw)
        else:
            fake = count_handshakes(cls(**kw).start())
            h.fakes.append(fake)
        if kind == "x":
            fake.rate_limits = {k: 10 ** 6 for k in fake.rate_limits}
        name = {"mastodon": "masto", "github": "gh", "x": "bird", "bluesky": "sky"}[kind]
        taken = [n.account["name"] for n in nets]
        if name in taken:
            name += str(taken.count(name) + 1 + sum(1 for t in taken if t.startswith(name) and t != name))
        acc = {"name": name, "network": kind}
        if kind == "bluesky":
            acc.update(identifier=fake.identifier, token=fake.password)
        else:
            acc["token"] = fake.token
        acc["server"] = fake.base_url
        acc["ca_file"] = fake.ca_file
        nets.append(Network(kind, fake, acc, host))
    return nets


class OneHost:
    """Four fakes behind one host:port: a FakeServer that hands each request
    to the fake whose API it belongs to (their paths do not overlap), and
    optionally nghttpx in front of it speaking HTTP/2."""

    PREFIXES = {"mastodon": ("/api/",), "github": ("/notifications", "/rate_limit"), "x": ("/2/",),
                "bluesky": ("/xrpc/",)}

    def __init__(self, h, http2=False):
        import fakenet
        owner = self

        class Front(fakenet.FakeServer):
            name = "onehost"

            def _answer(self, req):
                sub = owner.pick(req.path)
                return sub._answer(req) if sub else self.not_found(req)

            def extra_headers(self, req, resp):
                sub = owner.pick(req.path)
                return sub.extra_headers(req, resp) if sub else {}

        self.h = h
        self.subs = []
        self.mux = count_handshakes(Front().start())
        h.fakes.append(self.mux)
        self.public_port = self.mux.port
        self.nghttpx = None
        if http2:
            self._start_nghttpx()

    def _start_nghttpx(self):
        port = _free_port()
        cert, key = self.mux.pki.server_pair("good")
        log = open(self.h.path("logs", "nghttpx.log"), "ab")
        argv = ["nghttpx", "--conf=/dev/null", f"--frontend=127.0.0.1,{port}",
                f"--backend=127.0.0.1,{self.mux.port};;tls", "--insecure", "--workers=1",
                "--accesslog-file=/dev/null", f"--errorlog-file={self.h.path('logs', 'nghttpx.log')}",
                "--no-ocsp", "--no-via", key, cert]
        self.nghttpx = subprocess.Popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if self.nghttpx.poll() is not None:
                    raise RuntimeError("nghttpx exited: see " + self.h.path("logs", "nghttpx.log"))
                time.sleep(0.05)
        self.public_port = port

    def stop(self):
        if self.nghttpx and self.nghttpx.poll() is None:
            self.nghttpx.terminate()
            try:
                self.nghttpx.wait(5)
            except subprocess.TimeoutExpired:
                self.nghttpx.kill()
                self.nghttpx.wait()

    def hosted(self, cls, **kw):
        """An unstarted fake of class cls whose URLs name the one host."""
        owner = self
        sub = type("OneHost" + cls.__name__, (cls,), {"port": property(lambda s: owner.public_port)})(**kw)
        self.subs.append(sub)
        return sub

    def pick(self, path):
        for sub in self.subs:
            kind = {"FakeMastodon": "mastodon", "FakeGitHub": "github", "FakeX": "x",
                    "FakeBluesky": "bluesky"}[type(sub).__mro__[1].__name__]
            if path.startswith(self.PREFIXES[kind]):
                return sub
        return None


PROBE_SCRIPT = r"""
import json, socket, sys, time
path, every = sys.argv[1], float(sys.argv[2])
req = (json.dumps({"cmd": "show", "args": {"id": 1}}) + "\n").encode()
out = []
try:
    while True:
        t0 = time.monotonic()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(30)
                s.connect(path)
                s.sendall(req)
                buf = b""
                while not buf.endswith(b"\n"):
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    buf += chunk
            out.append((t0, time.monotonic() - t0))
        except OSError:
            pass
        time.sleep(every)
except KeyboardInterrupt:
    pass
json.dump(out, sys.stdout)
"""


class ControlProbe:
    """Asks heedd for one mention (`heed show 1`: a cheap command, so the
    probe measures the loop, not the command) every `every` seconds on a new
    connection, as the CLI does, from a process of its own (this one's
    threads serve the fakes and would delay it); keeps each round trip, in
    CLOCK_MONOTONIC seconds like time.monotonic() here."""

    def __init__(self, sock_path, every=0.02):
        self.path, self.every = sock_path, every
        self.samples = []          # (monotonic time sent, seconds to the answer)
        self._proc = None

    def start(self):
        self._proc = subprocess.Popen([sys.executable, "-c", PROBE_SCRIPT, self.path, str(self.every)],
                                      stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
        return self

    def stop(self):
        self._proc.send_signal(2)
        out, _ = self._proc.communicate(timeout=60)
        self.samples = [tuple(x) for x in json.loads(out or b"[]")]
        return self

    def worst(self, t_from, t_to):
        """The slowest answer to a request sent between t_from and t_to (seconds), and how many."""
        xs = [d for t, d in self.samples if t_from <= t <= t_to]
        return (max(xs) if xs else None), len(xs)


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# ---------------------------------------------------------------- the bench

class Bench:
    def __init__(self, args):
        self.args = args
        self.sizes = Sizes(args.smoke)
        if args.cost_n:
            self.sizes.cost_n = args.cost_n
        if args.cost_runs:
            self.sizes.cost_runs = args.cost_runs
        self.results = Results()
        self.build = args.build
        self.baseline_exe = os.path.join(self.build, "bench", "bench-baseline")
        self.parse_exe = os.path.join(self.build, "bench", "bench-parse-cost")
        self.h = None
        self.syscall_tool = None
        self.notify_sock = None
        self.watchdog_pings = []
        self._stop_notify = False

    # -- plumbing

    def check_built(self):
        for exe in ("heedd", "heed", "bench/bench-baseline", "bench/bench-parse-cost"):
            p = os.path.join(self.build, exe)
            if not os.access(p, os.X_OK):
                raise SystemExit(f"bench/run.py: {p} is not built (cmake --build {self.build})")

    def section(self, name, title):
        print(f"\n== {name}: {title}", flush=True)

    def state_path(self, name):
        return self.h.path(f"{name}.db")

    def start_heedd(self, accounts, state, poll_interval=1, extra=None, watchdog=False, env=None):
        self.h.write_config([dict(n.account) for n in accounts] if accounts and isinstance(accounts[0], Network)
                            else list(accounts or []), poll_interval=poll_interval, extra=extra)
        child_env = dict(env or {})
        if watchdog:
            child_env.update({"WATCHDOG_USEC": str(WATCHDOG_USEC), "NOTIFY_SOCKET": self.notify_socket()})
        self.h.start_heedd(extra_args=["--state", state], env=child_env)
        return self.h.heedd.pid

    def stop_heedd(self):
        if self.h.heedd_running():
            self.h.stop_heedd(timeout=20)

    def wait_polls(self, n, timeout=30):
        """Until every account has completed n polls; returns the status."""
        def ok():
            st = self.h.control("status")
            accs = st["accounts"]
            return st if accs and all(a.get("polls", 0) >= n for a in accs) else None
        return self.h.wait_until(ok, timeout, f"every account polled {n} times", interval=0.1)

    def quiescent(self, pid, settle=0.5, timeout=60):
        """Wait until the process uses no CPU for `settle` seconds; returns its CPU seconds."""
        deadline = time.monotonic() + timeout
        last = proc_cpu(pid)
        while time.monotonic() < deadline:
            time.sleep(settle)
            now = proc_cpu(pid)
            if now == last:
                return now
            last = now
        return last

    def notify_socket(self):
        """A datagram socket standing in for systemd's NOTIFY_SOCKET; counts WATCHDOG=1."""
        if self.notify_sock:
            return self.notify_sock_path
        self.notify_sock_path = self.h.path("run", "notify.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(self.notify_sock_path)
        s.settimeout(0.2)
        self.notify_sock = s

        def reader():
            while not self._stop_notify:
                try:
                    data = s.recv(4096)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if b"WATCHDOG=1" in data:
                    self.watchdog_pings.append(time.monotonic())
        threading.Thread(target=reader, daemon=True, name="notify-socket").start()
        return self.notify_sock_path

    def start_baseline(self, fetch=None, cafile=None, every=None):
        argv = [self.baseline_exe, "--state", self.h.path(f"baseline.{time.monotonic_ns()}.db")]
        if fetch:
            argv += ["--fetch", fetch]
            if cafile:
                argv += ["--cafile", cafile]
            if every:
                argv += ["--every", str(every)]
        err = open(self.h.path("logs", "baseline.stderr"), "ab")
        p = subprocess.Popen(argv, env=self.h.env, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                             start_new_session=True)
        err.close()
        line = p.stdout.readline()
        if line.strip() != b"ready":
            p.kill()
            raise RuntimeError("bench-baseline did not get ready; see " + self.h.path("logs", "baseline.stderr"))
        return p

    @staticmethod
    def stop_baseline(p):
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()

    # -- 1. footprint (+ connections over four hosts)

    def run_footprint(self):
        s = self.sizes
        self.section("footprint", "RSS and PSS, four accounts, against the libraries' floor")
        nets = make_networks(self.h)
        masto = nets[0].fake
        # Both baselines stay up beside heedd and every mark samples all three
        # at once: PSS divides shared library pages among every process that
        # maps them, so only processes measured at the same moment compare.
        base = self.start_baseline()
        base_tls = self.start_baseline(fetch=masto.base_url + "/api/v2/instance", cafile=masto.ca_file)
        hs_before = {n.kind: n.fake.handshakes for n in nets}     # bench-baseline --fetch made one
        try:
            pid = self.start_heedd(nets, self.state_path("footprint"), poll_interval=1)
            t0 = time.monotonic()
            self.wait_polls(1)
            time.sleep(1.0)

            def sample():
                return {"heedd": proc_mem(pid), "base": proc_mem(base.pid), "tls": proc_mem(base_tls.pid)}
            m0 = sample()
            st0 = self.h.control("status")
            cpu0 = proc_cpu_ns(pid)
            marks = []
            for k in (1, 2):
                left = t0 + k * s.hour - time.monotonic()
                if left > 0:
                    self.h.pause(left)
                marks.append((sample(), self.h.control("status"),
                              {n.kind: n.fake.handshakes - hs_before[n.kind] for n in nets}, proc_cpu_ns(pid)))
            self.stop_heedd()
        finally:
            self.stop_baseline(base)
            self.stop_baseline(base_tls)
        (m1, st1, hs1, _), (m2, st2, hs2, cpu2) = marks
        all_polls = sum(a["polls"] for a in st2["accounts"]) - sum(a["polls"] for a in st0["accounts"])
        self.idle_poll_cpu = (cpu2 - cpu0) / all_polls if all_polls else None
        polls1 = min(a["polls"] for a in st1["accounts"])
        polls2 = min(a["polls"] for a in st2["accounts"])

        R = self.results
        sec = "footprint"

        def rows(when, m, first=False):
            h, b = m["heedd"], m["base"]
            R.add(sec, f"RSS {when}", kib_to_mib(h["Rss"]), "MiB", kib_to_mib(b["Rss"]), "≤ 1.3× baseline",
                  h["Rss"] <= 1.3 * b["Rss"],
                  note="baseline: bench-baseline (same libraries, initialised), sampled at the same moment"
                  if first else "")
            R.add(sec, f"PSS {when}", kib_to_mib(h["Pss"]), "MiB", kib_to_mib(b["Pss"]), "≤ 1.3× baseline",
                  h["Pss"] <= 1.3 * b["Pss"],
                  note=f"anonymous {h.get('Pss_Anon', 0)} KiB vs {b.get('Pss_Anon', 0)}, file "
                       f"{h.get('Pss_File', 0)} KiB vs {b.get('Pss_File', 0)}")
        rows("after start-up", m0, first=True)
        rows(f"after 1 h simulated ({polls1} polls/account)", m1)
        rows(f"after 2 h simulated ({polls2} polls/account)", m2)
        h, t = m2["heedd"], m2["tls"]
        R.add(sec, "RSS vs a baseline that made one HTTPS request", kib_to_mib(h["Rss"]), "MiB",
              kib_to_mib(t["Rss"]), note="context: bench-baseline --fetch (one TLS connection, CA file loaded)")
        R.add(sec, "PSS vs a baseline that made one HTTPS request", kib_to_mib(h["Pss"]), "MiB", kib_to_mib(t["Pss"]))
        growth = m2["heedd"]["Rss"] - m1["heedd"]["Rss"]
        anon_growth = m2["heedd"].get("Pss_Anon", 0) - m1["heedd"].get("Pss_Anon", 0)
        R.add(sec, "RSS growth from 1 h to 2 h", growth, "KiB", goal="none (≤ 128 KiB)", met=growth <= 128,
              fmt="{:.0f}", note=f"anonymous memory {anon_growth:+d} KiB; start-up→1 h "
                                 f"{m1['heedd']['Rss'] - m0['heedd']['Rss']:+d} KiB")
        if self.idle_poll_cpu is not None:
            R.add(sec, "CPU per idle poll (empty store)", self.idle_poll_cpu * 1000, "ms", fmt="{:.2f}",
                  note=f"{all_polls} polls of 4 accounts; {(cpu2 - cpu0) / (2 * s.hour) * 100:.1f}% of a core "
                       f"at poll_interval = 1 s; bench-baseline uses none")
        self.footprint = {"idle_rss": m1["heedd"]["Rss"], "st1": st1, "hs1": hs1, "polls1": polls1, "st2": st2,
                          "hs2": hs2, "polls2": polls2, "st0": st0}

        # Connections over four hosts come from the same run.
        c = self.footprint
        st0, st2 = c["st0"], c["st2"]
        self._connections_rows("four hosts", st0, st2, len(nets), "one per host", lambda n: n <= len(nets) + 1,
                               "server-side handshakes " + self._hs(c["hs2"]))

    @staticmethod
    def _hs(per):
        return f"{sum(per.values())} (" + ", ".join(f"{k} {v}" for k, v in per.items()) + ")"

    # -- 2. wakeups

    def _wake_window(self, pid, seconds, baseline_pid):
        tool = self.syscall_tool
        st_before = self.h.control("status")
        pings_before = len(self.watchdog_pings)
        counter = SyscallCounter(pid, self.h.path("logs")).start(tool) if tool else None
        before = proc_threads(pid)
        b_before = proc_threads(baseline_pid)
        t0 = time.monotonic()
        self.h.pause(seconds)
        after = proc_threads(pid)
        b_after = proc_threads(baseline_pid)
        elapsed = time.monotonic() - t0
        sys_counts = counter.stop() if counter else None
        pings = len(self.watchdog_pings) - pings_before
        st_after = self.h.control("status")
        polls = sum(a["polls"] for a in st_after["accounts"]) - sum(a["polls"] for a in st_before["accounts"])
        per_min = 60.0 / elapsed
        d = thread_deltas(before, after)
        bd = thread_deltas(b_before, b_after)
        return {"elapsed": elapsed, "threads": d, "wakeups": sum(d.values()) * per_min,
                "baseline_threads": bd, "baseline_wakeups": sum(bd.values()) * per_min,
                "polls": polls * per_min, "pings": pings * per_min, "syscalls": sys_counts,
                "per_min": per_min, "transfers": st_after["http"]["transfers"] - st_before["http"]["transfers"]}

    def run_wakeups(self):
        s = self.sizes
        self.section("wakeups", "wakeups and syscalls per minute while idle")
        self.syscall_tool = SyscallCounter.available()
        print(f"  syscall counter: {self.syscall_tool or 'none (neither perf trace nor strace works)'}", flush=True)
        nets = make_networks(self.h)
        R = self.results
        sec = "wakeups"
        baseline = self.start_baseline()
        try:
            for label, interval in (("quiet", 3600), ("polling", s.wake_interval)):
                self.watchdog_pings.clear()
                pid = self.start_heedd(nets, self.state_path(f"wake-{label}"), poll_interval=interval,
                                       watchdog=True)
                self.wait_polls(1)
                time.sleep((1.0 if s.smoke else 2.0) if label == "quiet" else 0.5)
                w = self._wake_window(pid, s.wake_window, baseline.pid)
                self.stop_heedd()
                threads = ", ".join(f"{k} {v * w['per_min']:.0f}" for k, v in sorted(w["threads"].items()))
                sc = w["syscalls"]
                if label == "quiet":
                    allowed = w["pings"] + 1.0
                    R.add(sec, "quiet: wakeups/min (no poll due)", w["wakeups"], "/min",
                          baseline=w["pings"], goal="only the watchdog (≤ pings + 1)",
                          met=w["wakeups"] <= allowed, note=f"baseline = watchdog pings/min; per thread: {threads}")
                    R.add(sec, "quiet: bench-baseline wakeups/min, same window", w["baseline_wakeups"], "/min",
                          note="the libraries' own timers")
                    if sc:
                        top = ", ".join(f"{k} {v * w['per_min']:.0f}" for k, v in
                                        sorted(sc["calls"].items(), key=lambda kv: -kv[1])[:6])
                        R.add(sec, "quiet: syscalls/min", sc["total"] * w["per_min"], "/min", baseline=w["pings"],
                              note=f"{self.syscall_tool}; baseline = watchdog pings/min; per thread: "
                                   f"{self._per_thread(sc, w)}; busiest: {top or '—'}")
                    else:
                        R.add(sec, "quiet: syscalls/min", None, note="no syscall counter works here")
                else:
                    polls = w["polls"]
                    R.add(sec, f"polling every {interval} s: wakeups/min", w["wakeups"], "/min", baseline=polls,
                          goal="scales with polls", note=f"baseline = polls/min (4 accounts); ratio = wakeups per "
                                                          f"poll; per thread: {threads}")
                    if sc:
                        top = ", ".join(f"{k} {v * w['per_min']:.0f}" for k, v in
                                        sorted(sc["calls"].items(), key=lambda kv: -kv[1])[:6])
                        R.add(sec, f"polling every {interval} s: syscalls/min", sc["total"] * w["per_min"], "/min",
                              baseline=polls, note=f"ratio = syscalls per poll; per thread: "
                                                   f"{self._per_thread(sc, w)}; busiest: {top or '—'}")
                    else:
                        R.add(sec, f"polling every {interval} s: syscalls/min", None,
                              note="no syscall counter works here")
        finally:
            self.stop_baseline(baseline)

    @staticmethod
    def _per_thread(sc, w):
        return ", ".join(f"{k} {v * w['per_min']:.0f}" for k, v in sorted(sc["threads"].items())) or "—"

    # -- 7. connections on one host

    def _connections_run(self, nets, state, window):
        """heedd polling every second for `window` seconds; returns (status after start-up, status at the end)."""
        self.start_heedd(nets, state, poll_interval=1)
        t0 = time.monotonic()
        st0 = self.wait_polls(2)
        left = t0 + window - time.monotonic()
        if left > 0:
            self.h.pause(left)
        st1 = self.h.control("status")
        self.stop_heedd()
        return st0, st1

    def _connections_rows(self, label, st0, st1, hosts, goal, met, server_note):
        R = self.results
        polls = min(a["polls"] for a in st1["accounts"])
        c0, c1 = st0["http"]["connections"], st1["http"]["connections"]
        bad = {a["name"]: a["health"] for a in st1["accounts"] if a["health"] != "ok"}
        note = f"{st1['http']['transfers']} transfers; {server_note}; baseline = hosts"
        if bad:
            note += f"; accounts not ok: {bad}"
        R.add("connections", f"{label}: TLS handshakes over {polls} polls/account", c1, "",
              baseline=hosts, goal=goal, met=met(c1) and not bad, fmt="{:.0f}", note=note)
        R.add("connections", f"{label}: new TLS handshakes after start-up", c1 - c0, "", goal="0 (reused)",
              met=c1 == c0, fmt="{:.0f}", note=f"{c0} once every account had polled")

    def run_connections(self):
        s = self.sizes
        self.section("connections", "TLS handshakes over an hour of simulated polling")
        R = self.results
        # Six accounts on six hosts: more hosts than libcurl's default connection pool holds.
        nets = make_networks(self.h, names=("mastodon", "mastodon", "github", "github", "x", "bluesky"))
        st0, st1 = self._connections_run(nets, self.state_path("six"), s.six_window)
        hs = {}
        for n in nets:
            hs[n.account["name"]] = n.fake.handshakes
        self._connections_rows("six hosts", st0, st1, len(nets), "one per host", lambda c: c <= len(nets) + 2,
                               "server-side " + self._hs(hs))
        for http2 in (False, True):
            label = "one host, HTTP/2 (nghttpx front)" if http2 else "one host, HTTP/1.1"
            if http2 and not shutil.which("nghttpx"):
                for fig in ("TLS handshakes over 60 polls/account", "new TLS handshakes after start-up"):
                    R.add("connections", f"{label}: {fig}", None, goal="1",
                          note="skipped: nghttpx is not installed (apt-get install nghttp2-proxy)")
                continue
            host = OneHost(self.h, http2=http2)
            try:
                nets = make_networks(self.h, host=host)
                st0, st1 = self._connections_run(nets, self.state_path(f"onehost-{int(http2)}"),
                                                 s.onehost_window if http2 else s.six_window)
            finally:
                host.stop()
            server = (f"backend handshakes (nghttpx→fake) {host.mux.handshakes}" if http2
                      else f"server-side handshakes {host.mux.handshakes}")
            if http2:
                self._connections_rows(label, st0, st1, 1, "1 (one connection, multiplexed)", lambda c: c == 1,
                                       server)
            else:
                self._connections_rows(label, st0, st1, 1, "≤ 4 (HTTP/1.1: one per request in flight)",
                                       lambda c: c <= 4, server)

    # -- twenty accounts

    @staticmethod
    def _uss_kib(pid):
        """USS (private clean + dirty), the median of five samples 200 ms apart."""
        xs = []
        for _ in range(5):
            m = proc_mem(pid)
            xs.append(m.get("Private_Clean", 0) + m.get("Private_Dirty", 0))
            time.sleep(0.2)
        return median(xs)

    def _bunching(self, nets, t_from, t_to):
        """Per host: the most poll requests within 100 ms of each other, in the window."""
        worst = {}
        for n in nets:
            times = sorted(t for t in n.poll_times() if t_from <= t <= t_to)
            j, w = 0, 0
            for i, t in enumerate(times):
                while times[j] < t - 0.1:
                    j += 1
                w = max(w, i - j + 1)
            worst[n.kind] = w
        return worst

    def run_twenty(self):
        s = self.sizes
        self.section("twenty", "twenty accounts, five per network, in one heedd")
        nets = make_networks(self.h)
        interval = 5
        one = [dict(nets[0].account, name="masto1")]
        pid = self.start_heedd(one, self.state_path("one"), poll_interval=interval)
        self.wait_polls(2, timeout=60)
        time.sleep(1.0)
        uss_one = self._uss_kib(pid)
        self.stop_heedd()
        accounts = [dict(n.account, name=f"{n.account['name']}{k}") for k in range(1, 6) for n in nets]
        pid = self.start_heedd(accounts, self.state_path("twenty"), poll_interval=interval)
        st0 = self.wait_polls(1, timeout=60)
        t0, c0 = time.monotonic(), proc_cpu_ns(pid)
        self.h.pause(s.twenty_window)
        st1, t1, c1 = self.h.control("status"), time.monotonic(), proc_cpu_ns(pid)
        uss = self._uss_kib(pid)
        self.stop_heedd()
        R = self.results
        hosts = len(nets)
        polls = sum(a["polls"] for a in st1["accounts"]) - sum(a["polls"] for a in st0["accounts"])
        bad = {a["name"]: a["health"] for a in st1["accounts"] if a["health"] != "ok"}
        conns = st1["http"]["connections"]
        R.add("twenty", f"{len(accounts)} accounts on {hosts} hosts: TLS connections made", conns, "", baseline=hosts,
              goal="one per host (+1: Mastodon's stream check)", met=conns <= hosts + 1 and not bad, fmt="{:.0f}",
              note=f"{conns - st0['http']['connections']} after every account's first poll; "
                   f"server-side handshakes {self._hs({n.kind: n.fake.handshakes for n in nets})}"
                   + (f"; accounts not ok: {bad}" if bad else ""))
        per = self._bunching(nets, t0, t1)
        worst = max(per.values())
        R.add("twenty", "most polls to one host within 100 ms", worst, "",
              goal="≤ 2 (spread; Mastodon's stream may add a catch-up poll)", met=worst <= 2, fmt="{:.0f}",
              note=f"{polls} polls in {s.twenty_window} s at poll_interval = {interval} s; per host "
                   + ", ".join(f"{k} {v}" for k, v in per.items()))
        R.add("twenty", f"idle USS, {len(accounts)} accounts", uss / 1024, "MiB", baseline=uss_one / 1024,
              goal="≤ 1.3× one account's", met=uss <= 1.3 * uss_one,
              note="USS = private clean + dirty (smaps_rollup); baseline = the same heedd watching one account")
        R.add("twenty", "CPU per poll, 20 accounts", (c1 - c0) / polls * 1000 if polls else None, "ms",
              fmt="{:.3f}", note="all threads, over the window")

    # -- 6. delivery latency (polling)

    def run_latency(self):
        s = self.sizes
        self.section("latency", "polling delivery latency: fake has it → Notify on D-Bus")
        nets = make_networks(self.h)
        # The probes' authors are VIPs: each one pops up on its own, never in a digest.
        self.start_heedd(nets, self.state_path("latency"), poll_interval=1,
                         extra={"digest_threshold": 64, "digest_window": 1,
                                "vip": ["probe", "probe.test", "octo-org/widgets"]})
        self.wait_polls(2)
        time.sleep(0.5)
        rng = random.Random(7)
        per = {n.kind: [] for n in nets}
        for k in range(s.latency_probes):
            for n in nets:
                time.sleep(rng.uniform(0.0, 1.0))
                seen = len(self.h.notify_calls(False))
                token = f"probe{k}{n.kind}"
                t_add = time.monotonic()
                n.add_probe(token)

                def arrived():
                    for call in self.h.notify_calls(False)[seen:]:
                        if call.time >= t_add and token in call.summary + call.body:
                            return call
                    return None
                call = self.h.wait_until(arrived, 15, f"a Notify for {token}", interval=0.01)
                reqs = [t for t in n.poll_times() if t >= t_add]
                t_req = reqs[0] if reqs else None
                per[n.kind].append((call.time - t_add, (t_req - t_add) if t_req else None,
                                    (call.time - t_req) if t_req else None, token in call.summary + call.body))
                time.sleep(0.3)
        self.stop_heedd()
        R = self.results
        all_lat = []
        for kind, rows in per.items():
            lat = median(r[0] for r in rows)
            wait = median(r[1] for r in rows)
            own = median(r[2] for r in rows)
            all_lat += [r[0] for r in rows]
            named = sum(1 for r in rows if r[3])
            R.add("latency", f"{kind}: mention → Notify (poll_interval = 1 s)", lat * 1000, "ms",
                  baseline=wait * 1000 if wait is not None else None,
                  note=f"baseline = wait for the next poll; heed's own part (request → Notify) "
                       f"{own * 1000:.0f} ms; {len(rows)} probes", fmt="{:.0f}")
        R.add("latency", "all networks: median mention → Notify", median(all_lat) * 1000, "ms",
              baseline=500.0, goal="≈ half the poll interval + heed's part", fmt="{:.0f}",
              note="baseline = the mean wait of polling every 1 s")

    # -- 4. burst

    @staticmethod
    def _burst_fake():
        """A streaming Mastodon fake whose pages come from a sorted list kept
        between requests: with tens of thousands stored, the stock fake's
        sort per page would make the fake, not heedd, what the burst measures."""
        from fake_stream import FakeMastodonStreaming

        class BurstMastodon(FakeMastodonStreaming):
            _sorted_key, _sorted = None, None

            def _filtered(self, req):
                types = tuple(req.query.get("types[]") or [])
                exclude = tuple(req.query.get("exclude_types[]") or [])
                with self._lock:
                    key = (len(self._notifs), max(self._notifs, default=0), types, exclude)
                    if key != self._sorted_key:
                        self._sorted = [(i, n) for i, n in sorted(self._notifs.items())
                                        if (not types or n["type"] in types) and n["type"] not in exclude]
                        self._sorted_key = key
                    return self._sorted
        return count_handshakes(BurstMastodon(rate_limit=10 ** 6).start())

    def _burst_setup(self):
        """Three polled accounts and a Mastodon account with its stream up."""
        nets = make_networks(self.h, names=("github", "x", "bluesky"))
        fake = self._burst_fake()
        self.h.fakes.append(fake)
        masto = Network("mastodon", fake, {"name": "masto", "network": "mastodon", "token": fake.token,
                                           "server": fake.base_url, "ca_file": fake.ca_file,
                                           "catchup_max_pages": 1000})
        pid = self.start_heedd([masto] + nets, self.state_path("burst"), poll_interval=1)
        self.wait_polls(2, timeout=60)
        fake.wait_stream(1, timeout=30)
        self.h.wait_until(lambda: any(a.get("streaming") for a in self.h.control("status")["accounts"]), 15,
                          "heedd to report its stream up")
        return pid, masto, nets

    @staticmethod
    def _burst_push(fake, notifs, t_mark):
        """Wait for the stream heedd opens again, then push every notification on it."""
        fake.wait_stream(2, timeout=60)
        for n in notifs:
            if fake.push_notification(n) is None:
                fake.wait_stream(fake.stream_count + 1, timeout=60)   # it dropped: the next one
                fake.push_notification(n)
        t_mark[0] = time.monotonic()

    def _burst_watch(self, pid, want, deadline):
        """Until `want` are stored: peak VmRSS (100 ms samples), and when they were."""
        peak, done_at = 0, None
        while time.monotonic() < deadline:
            peak = max(peak, proc_mem(pid)["VmRSS"])
            if self.h.control("status", timeout=30)["total"] >= want:
                done_at = time.monotonic()
                break
            time.sleep(0.1)
        return max(peak, proc_mem(pid)["VmHWM"]), done_at

    @staticmethod
    def _worst_poll_gap(nets, t_from, t_to):
        """Per polled account: the longest time between two of its polls within the window."""
        out = {}
        for n in nets:
            times = sorted(t for t in n.poll_times() if t_from <= t <= t_to)
            out[n.kind] = max((b - a for a, b in zip(times, times[1:])), default=None)
        return out

    def run_burst(self):
        s = self.sizes
        n_stream = s.burst_n // 2
        n_poll = s.burst_n - n_stream
        self.section("burst", f"{s.burst_n} mentions at once: {n_poll} for a catch-up poll, {n_stream} on the stream")
        pid, masto, nets = self._burst_setup()
        fake = masto.fake
        base_total = self.h.control("status")["total"]
        for j in range(n_poll):                 # waiting in the REST API: the catch-up poll's
            fake.add_mention(acct=f"burst{j}@fake.social", display_name=f"Burst {j}",
                             text_html=f"<p>@me burst item {j} — are you coming?</p>")
        notifs = [fake.make_mention(store=False, acct=f"stream{j}@fake.social", display_name=f"Stream {j}",
                                    text_html=f"<p>@me streamed item {j} — are you coming?</p>")[1]
                  for j in range(n_stream)]
        time.sleep(1.0)
        idle = median(proc_mem(pid)["VmRSS"] for _ in range(5))
        with open(f"/proc/{pid}/clear_refs", "w") as f:          # VmHWM := VmRSS
            f.write("5")
        calls_before = len(self.h.notify_calls(False))
        probe = ControlProbe(self.h.control_socket(), every=0.05).start()
        time.sleep(0.5)
        t_start, last_push = time.monotonic(), [None]
        fake.cut()                               # the stream drops: heedd polls (catch-up) and reconnects
        pusher = threading.Thread(target=self._burst_push, args=(fake, notifs, last_push), daemon=True)
        pusher.start()
        peak, stored_at = self._burst_watch(pid, base_total + s.burst_n, t_start + 300 + s.burst_n / 200)
        pusher.join(60)
        t_end = time.monotonic()
        probe.stop()
        blocked = probe.worst(t_start, t_end)
        gaps = self._worst_poll_gap(nets, t_start, t_end)
        self.quiescent(pid, 0.5, timeout=120)
        st_a, c_a = self.h.control("status"), proc_cpu_ns(pid)
        self.h.pause(2 if s.smoke else 10)
        st_b, c_b = self.h.control("status"), proc_cpu_ns(pid)
        n_polls = sum(a["polls"] for a in st_b["accounts"]) - sum(a["polls"] for a in st_a["accounts"])
        busy_poll_cpu = (c_b - c_a) / n_polls if n_polls else None
        t0 = time.monotonic()
        rc, out, err = self.h.heed("list", "--json", timeout=300)
        list_wall = time.monotonic() - t0
        listed = len(json.loads(out)) if rc == 0 else 0
        time.sleep(1.5)
        calls = self.h.notify_calls(False)[calls_before:]
        self.stop_heedd()
        self._burst_rows(locals())

    def _burst_rows(self, v):
        s, R = self.sizes, self.results
        calls, gaps, peak, idle = v["calls"], v["gaps"], v["peak"], v["idle"]
        ids = {c.id for c in calls if c.id}
        new_popups = len({c.id for c in calls if c.id and c.replaces_id == 0})
        R.add("burst", f"{s.burst_n} mentions in {v['t_end'] - v['t_start']:.0f} s: popups shown", new_popups, "",
              goal="a handful (≤ 5)", met=new_popups <= 5, fmt="{:.0f}",
              note=f"{len(calls)} Notify calls ({len(ids)} distinct ids; the rest update one in place)")
        R.add("burst", "peak RSS over idle", kib_to_mib(peak - idle), "MiB", goal="≤ 16 MiB",
              met=(peak - idle) <= 16 * 1024, note=f"idle {kib_to_mib(idle):.1f} MiB, peak {kib_to_mib(peak):.1f} MiB")
        if v["stored_at"] is not None:
            last = v["last_push"][0] or v["t_start"]
            R.add("burst", "last mention added → all stored", max(0.0, v["stored_at"] - last) * 1000, "ms",
                  baseline=1000.0, fmt="{:.0f}", met=True, goal="all stored",
                  note=f"baseline = one poll interval (1 s); {v['stored_at'] - v['t_start']:.1f} s from the "
                       f"stream's drop to the last stored")
        else:
            R.add("burst", "last mention added → all stored", None, goal="all stored", met=False,
                  note="not all were stored in time")
        blocked, answers = v["blocked"]
        R.add("burst", "slowest control answer during the burst (the loop busy)",
              blocked * 1000 if blocked is not None else None, "ms", baseline=1000.0,
              goal="< 1 poll interval", met=blocked is not None and blocked < 1.0, fmt="{:.0f}",
              note=f"heed show 1 every 50 ms from another process, {answers} answers; no timer (a poll) "
                   f"waits longer than this")
        worst = max((g for g in gaps.values() if g is not None), default=None)
        R.add("burst", "longest gap between two polls of another account", worst * 1000 if worst else None, "ms",
              baseline=1000.0, goal="≤ 2 intervals (delayed ≤ 1)", met=worst is not None and worst <= 2.0,
              fmt="{:.0f}", note="per account, from the fakes' request times (this process's threads, "
                                 "busy serving the burst, may add to them): "
                                 + ", ".join(f"{k} {g * 1000:.0f} ms" for k, g in gaps.items() if g))
        base_poll = getattr(self, "idle_poll_cpu", None)
        R.add("burst", f"CPU per idle poll with {s.burst_n} waiting",
              v["busy_poll_cpu"] * 1000 if v["busy_poll_cpu"] is not None else None,
              "ms", baseline=base_poll * 1000 if base_poll is not None else None, fmt="{:.2f}",
              note=f"{v['n_polls']} polls; baseline = per idle poll with an empty store (footprint)")
        R.add("burst", "heed list --json then shows", v["listed"], "", baseline=s.burst_n, fmt="{:.0f}",
              goal="all", met=v["listed"] >= s.burst_n,
              note=f"the list call took {v['list_wall'] * 1000:.0f} ms (wall)")

    # -- idle polls against a backlog

    def _start_watcher(self):
        """`heed status --format waybar --follow`, as a status bar runs it; a
        thread counts the lines it prints. Returns (process, [count])."""
        p = subprocess.Popen([os.path.join(self.build, "heed"), "status", "--format", "waybar", "--follow"],
                             env=self.h.env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
        lines = [0]

        def drain():
            for _ in p.stdout:
                lines[0] += 1
        threading.Thread(target=drain, daemon=True).start()
        self.h.wait_until(lambda: lines[0] >= 1, 10, "the status bar's first line")
        return p, lines

    def _idle_poll_cpu(self, nets, state, window, watch=False):
        """heedd polling four accounts every second over a store; CPU per poll
        (all threads) over `window` seconds once the first polls are done.
        watch: with a status bar following (heed status --follow) meanwhile."""
        pid = self.start_heedd(nets, state, poll_interval=1)
        self.wait_polls(2, timeout=60)
        watcher = self._start_watcher() if watch else None
        self.quiescent(pid, 0.3, timeout=30)
        st_a, c_a = self.h.control("status"), proc_cpu_ns(pid)
        self.h.pause(window)
        st_b, c_b = self.h.control("status"), proc_cpu_ns(pid)
        if watcher:
            watcher[0].terminate()
            watcher[0].wait(10)
            watcher[0].stdout.close()
        self.stop_heedd()
        polls = sum(a["polls"] for a in st_b["accounts"]) - sum(a["polls"] for a in st_a["accounts"])
        return ((c_b - c_a) / polls if polls else None), polls, st_b

    def _bare_get_cpu(self, fake, window):
        """CPU per request of bench-baseline repeating one small HTTPS GET every
        second on its kept connection: the floor of any poll on this machine."""
        path = "/api/v2/instance"
        base = self.start_baseline(fetch=fake.base_url + path, cafile=fake.ca_file, every=1)
        try:
            time.sleep(1.5)
            n0, c0 = len(fake.requests_to(path)), proc_cpu_ns(base.pid)
            self.h.pause(window)
            n1, c1 = len(fake.requests_to(path)), proc_cpu_ns(base.pid)
        finally:
            self.stop_baseline(base)
        return (c1 - c0) / (n1 - n0) if n1 > n0 else None

    def run_idle_backlog(self):
        s = self.sizes
        self.section("idle-backlog", "CPU per idle poll, empty store against a backlog")
        nets = make_networks(self.h)
        R = self.results
        per = {}
        floor = median(self._bare_get_cpu(nets[0].fake, s.backlog_window) for _ in range(s.backlog_runs))
        R.add("idle-backlog", "CPU per bare HTTPS GET on a kept connection (bench-baseline --every 1)",
              floor * 1000 if floor is not None else None, "ms", fmt="{:.3f}",
              note="the floor of one poll here: curl + TLS + the kernel, nothing done with the answer")
        for waiting, stored in s.backlogs:
            runs = []
            for run in range(s.backlog_runs):
                state = self.state_path(f"backlog-{stored}-{waiting}-{run}")
                if stored:
                    self.start_heedd([], state, poll_interval=3600)
                    self.stop_heedd()
                    self._fill_store(state, stored, waiting, waiting // 10, shown_at=int(time.time()) - 60)
                cpu, polls, st = self._idle_poll_cpu(nets, state, s.backlog_window)
                if st["waiting"] != waiting or st["total"] != stored:
                    raise AssertionError(f"idle-backlog: {st['waiting']} waiting of {st['total']}, "
                                         f"want {waiting} of {stored}")
                runs.append((cpu, polls))
            per[(waiting, stored)] = (median(r[0] for r in runs), sum(r[1] for r in runs))
        empty = per.get((0, 0), (None, 0))[0]
        for (waiting, stored), (cpu, polls) in per.items():
            label = "empty store" if not stored else f"{waiting:,} waiting of {stored:,} stored"
            flat = empty is not None and cpu is not None and (not stored or cpu <= 1.25 * empty)
            R.add("idle-backlog", f"CPU per idle poll, {label}", cpu * 1000 if cpu is not None else None, "ms",
                  baseline=empty * 1000 if stored and empty is not None else None, fmt="{:.3f}",
                  goal="≤ 0.5 ms" + ("; ≤ 1.25× empty" if stored else ""),
                  met=cpu is not None and cpu <= 0.0005 and flat,
                  note=f"{polls} polls of 4 accounts at poll_interval = 1 s; median of {s.backlog_runs} runs"
                       + ("; baseline = the empty store, same run" if stored else ""))
        # The largest backlog again, with a status bar following: what the
        # glance it is sent costs must not grow with the backlog either.
        waiting, stored = s.backlogs[-1]
        runs = []
        for run in range(s.backlog_runs):
            state = self.state_path(f"backlog-{stored}-{waiting}-{run}")
            runs.append(self._idle_poll_cpu(nets, state, s.backlog_window, watch=True)[:2])
        cpu = median(r[0] for r in runs)
        plain = per[(waiting, stored)][0]
        R.add("idle-backlog", f"CPU per idle poll, {waiting:,} waiting of {stored:,}, a status bar following",
              cpu * 1000 if cpu is not None else None, "ms", baseline=plain * 1000 if plain is not None else None,
              fmt="{:.3f}", goal="≤ 1.25× without", met=cpu is not None and plain is not None and cpu <= 1.25 * plain,
              note=f"heed status --format waybar --follow connected; {sum(r[1] for r in runs)} polls; "
                   f"baseline = the same store without it, same run")

    # -- 3. cost per mention

    MENTION_HTML = ('<p><span class="h-card" translate="no"><a href="https://fake.social/@me" class="u-url mention">'
                    '@<span>me</span></a></span> Are you coming to the meetup tomorrow? I wanted to ask about '
                    'item {i} &amp; the plan for the next release, see <a href="https://example.org/notes/{i}" '
                    'rel="nofollow noopener" target="_blank"><span class="invisible">https://</span>'
                    '<span class="">example.org/notes/{i}</span></a></p>')

    def run_cost(self):
        s = self.sizes
        self.section("cost", f"CPU time for a catch-up of {s.cost_n} mentions vs jansson alone")
        import fakenet
        heed_cpu, heed_all, parse_cpu, files = [], [], [], []
        attend, probe_ingest, probe_attend = [], [], []
        for run in range(s.cost_runs):
            fake = fakenet.FakeMastodon(rate_limit=10 ** 6).start()
            self.h.fakes.append(fake)
            fake.add_mention(acct="early@fake.social", display_name="Early Bird", text_html="<p>before</p>")
            acc = {"name": "masto", "network": "mastodon", "server": fake.base_url, "token": fake.token,
                   "ca_file": fake.ca_file, "catchup_max_pages": 1000}
            pid = self.start_heedd([acc], self.state_path(f"cost{run}"), poll_interval=3600)
            self.wait_polls(1)
            self.quiescent(pid, 0.5)
            for i in range(s.cost_n):
                fake.add_mention(acct=f"friend{i % 2000}@fake.social", display_name=f"Friend {i % 2000}",
                                 text_html=self.MENTION_HTML.format(i=i))
            idle0 = proc_cpu(pid)
            time.sleep(1.0)
            idle_rate = proc_cpu(pid) - idle0          # CPU per second of idle
            n_req = len(fake.requests)
            log_path = self.h.heedd_runs[-1][1]
            log_pos = os.path.getsize(log_path)
            want = f"masto: {s.cost_n} new mentions"
            rec = None
            if self.args.perf_record and run == 0:
                rec = subprocess.Popen(["perf", "record", "-F", "499", "--call-graph", "dwarf,16384", "-p", str(pid), "-o",
                                        self.args.perf_record], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
                time.sleep(1.0)
            probe = ControlProbe(self.h.control_socket()).start()
            cpu0 = proc_cpu(pid)
            t0 = time.monotonic()
            self.h.control("reload")

            def done():
                with open(log_path, errors="replace") as f:
                    f.seek(log_pos)
                    return want in f.read()
            self.h.wait_until(done, 300, f"the log line {want!r}", interval=0.02)
            cpu1, cpu1_ns = proc_cpu(pid), proc_cpu_ns(pid)
            t1 = time.monotonic()
            cpu2 = self.quiescent(pid, 0.5)
            t2 = time.monotonic() - 0.5
            cpu2_ns = proc_cpu_ns(pid)
            probe.stop()
            attend.append(cpu2_ns - cpu1_ns)
            probe_ingest.append(probe.worst(t0, t1))
            probe_attend.append(probe.worst(t1, t2))
            if rec:
                rec.send_signal(2)
                rec.wait(60)
                print(f"  perf profile of the first catch-up: {self.args.perf_record}", flush=True)
            total = self.h.control("status")["total"]
            if total != s.cost_n + 1:
                raise AssertionError(f"cost: {total} mentions stored, want {s.cost_n + 1}")
            self.stop_heedd()
            heed_cpu.append(cpu1 - cpu0 - idle_rate * (t1 - t0))
            heed_all.append(cpu2 - cpu0)
            fake_reqs = fake.requests[n_req:]
            if run > 0:
                fake.stop()
                parse_cpu.append(self._parse_cost(files))
                continue
            # The exact bytes: ask the fake again for every page heedd fetched
            # (once: every run serves the same pages).
            reqs = [r for r in fake_reqs if r.path == "/api/v1/notifications" and r.status == 200]
            ctx = ssl.create_default_context(cafile=fake.ca_file)
            d = tempfile.mkdtemp(dir=self.h.path(), prefix="pages")
            files = []
            for k, r in enumerate(reqs):
                rq = urllib.request.Request(fake.base_url + r.raw_path,
                                            headers={"Authorization": r.header("authorization"),
                                                     "Accept": "application/json"})
                with urllib.request.urlopen(rq, context=ctx, timeout=30) as resp:
                    body = resp.read()
                p = os.path.join(d, f"page{k:04d}.json")
                with open(p, "wb") as f:
                    f.write(body)
                files.append(p)
            fake.stop()
            nbytes = sum(os.path.getsize(f) for f in files)
            # jansson alone on the same bytes, right after heedd: the pair sees the same machine.
            parse_cpu.append(self._parse_cost(files))
        R = self.results
        hc, pc, ha = median(heed_cpu), median(parse_cpu), median(heed_all)
        ratio = median(h / p for h, p in zip(heed_cpu, parse_cpu))
        ratio_all = median(h / p for h, p in zip(heed_all, parse_cpu))
        R.add("cost", f"heedd CPU to ingest, score and store {s.cost_n} mentions", hc * 1000, "ms",
              baseline=pc * 1000, ratio=ratio, goal="≤ 3× parse", met=ratio <= 3, fmt="{:.0f}",
              note=f"{len(files)} pages, {nbytes / 1e6:.1f} MB; baseline = bench-parse-cost (jansson) on the "
                   f"same bytes right after each run; ratio = median of {s.cost_runs} paired runs; per mention "
                   f"{hc / s.cost_n * 1e6:.0f} µs vs {pc / s.cost_n * 1e6:.0f} µs")
        R.add("cost", "… until idle again (attention and notifications included)", ha * 1000, "ms",
              baseline=pc * 1000, ratio=ratio_all, fmt="{:.0f}")
        am = median(attend)
        R.add("cost", f"attend pass after the catch-up (stored → idle, {s.cost_n} to show)", am * 1000, "ms",
              goal="< 200 ms", met=am < 0.2, fmt="{:.0f}",
              note=f"heedd's CPU (all threads) from the log's 'new mentions' line until idle; median of "
                   f"{s.cost_runs}; runs {', '.join(f'{a * 1000:.0f}' for a in attend)} ms")
        for label, got in (("during the attend pass", probe_attend), ("during the catch-up", probe_ingest)):
            worst = max((w for w, n in got if w is not None), default=None)
            n = sum(n for _, n in got)
            R.add("cost", f"slowest control answer {label}", worst * 1000 if worst is not None else None, "ms",
                  goal="≤ 50 ms" if "attend" in label else None,
                  met=(worst is not None and worst <= 0.05) if "attend" in label else None, fmt="{:.0f}",
                  note=f"heed show 1 asked every 20 ms on a new connection; {n} answers over {s.cost_runs} runs")
        self.cost = {"heed": heed_cpu, "parse": parse_cpu, "all": heed_all, "attend": attend}

    def _parse_cost(self, files):
        out = subprocess.run([self.parse_exe, "--repeat", str(self.sizes.parse_repeat)] + files,
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)["median"]

    # -- 5. list latency

    def _fill_store(self, path, rows, waiting, snoozed, shown_at=None):
        """rows mentions straight into heedd's SQLite file: the first `waiting`
        waiting, the next `snoozed` snoozed, the rest done or replied. Open
        ones were shown 6 s after they came, or at shown_at when given (then
        no reminder falls due for two hours)."""
        db = sqlite3.connect(path)
        now = int(time.time())
        rng = random.Random(11)
        nets = [("masto", "mastodon"), ("gh", "github"), ("bird", "x"), ("sky", "bluesky")]
        kinds = ["mention", "reply", "quote", "direct", "review"]
        states_w = ["waiting"] * waiting + ["snoozed"] * snoozed
        batch = []
        for i in range(rows):
            acc, net = nets[i % 4]
            a = rng.randrange(5000)
            state = states_w[i] if i < len(states_w) else rng.choice(["done", "replied"])
            created = now - (rows - i) * 300
            batch.append((
                acc, net, f"r{i}", f"p{i}", kinds[i % len(kinds)], f"u{a}", f"@person{a}@fake.social",
                f"Person {a}", f"@me hey, about item {i}: are you coming to the meetup tomorrow? "
                               f"I wanted to ask about the plan for the next release and the notes at "
                               f"https://example.org/notes/{i} before Friday.",
                f"https://fake.social/@person{a}/{100000000 + i}", None, None, created, created + 5,
                state, now + 3600 if state == "snoozed" else 0, created + 600 if state in ("done", "replied") else 0,
                shown_at if shown_at and state in ("waiting", "snoozed") else created + 6, rng.randrange(10, 95),
                json.dumps([{"reason": "mentions you", "points": 20}, {"reason": "asks a question", "points": 15}])))
            if len(batch) >= 5000:
                self._insert(db, batch)
                batch = []
        if batch:
            self._insert(db, batch)
        db.commit()
        db.close()

    @staticmethod
    def _insert(db, batch):
        db.executemany(
            "INSERT INTO mention(account, network, remote_id, post_id, kind, author_id, author_handle, author_name,"
            " text, url, thread_id, context, created_at, fetched_at, state, snooze_until, handled_at, notified_at,"
            " score, reasons) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)

    LIST_SQL = ("SELECT id, account, network, remote_id, kind, author_id, author_handle, author_name, text, url, "
                "thread_id, context, created_at, fetched_at, mention_count, author_bot, follows_me, i_follow, state, "
                "snooze_until, handled_at, notified_at, nudges, score, reasons, post_id FROM mention {where} "
                "ORDER BY {order} score DESC, created_at ASC, id ASC;")

    def _sqlite_cpu(self, path, sql, repeat):
        """CPU seconds of the sqlite3 shell running sql (output to /dev/null): the libraries' floor."""
        if not shutil.which("sqlite3"):
            return None
        times = []
        for _ in range(repeat):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(["sqlite3", path, sql], stdout=subprocess.DEVNULL, check=True)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            times.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        empty = []
        for _ in range(repeat):
            r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
            subprocess.run(["sqlite3", path, "SELECT 1;"], stdout=subprocess.DEVNULL, check=True)
            r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
            empty.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        return max(0.0, median(times) - median(empty))

    def run_list(self):
        s = self.sizes
        self.section("list", f"heed list --json with {s.list_rows} stored mentions")
        state = self.state_path("list")
        self.start_heedd([], state, poll_interval=3600)
        self.stop_heedd()
        t0 = time.monotonic()
        self._fill_store(state, s.list_rows, s.list_waiting, s.list_waiting // 5)
        fill = time.monotonic() - t0
        pid = self.start_heedd([], state, poll_interval=3600)
        self.h.control("status")
        R = self.results
        cases = [("heed list --json", ["list", "--json"], "WHERE state IN ('waiting', 'snoozed')", ""),
                 ("heed list --json --limit 20", ["list", "--json", "--limit", "20"],
                  "WHERE state IN ('waiting', 'snoozed')", ""),
                 ("heed list --json --all", ["list", "--json", "--all"], "",
                  "state IN ('waiting', 'snoozed') DESC,")]
        waiting = s.list_waiting + s.list_waiting // 5
        for label, argv, where, order in cases:
            daemon, wall, count = [], [], None
            for _ in range(s.list_repeat if "--all" not in argv else min(3, s.list_repeat)):
                c0 = thread_cpu_ns(pid)
                t0 = time.monotonic()
                rc, out, err = self.h.heed(*argv, timeout=120)
                wall.append(time.monotonic() - t0)
                daemon.append((thread_cpu_ns(pid) - c0) / 1e9)
                if rc != 0:
                    raise AssertionError(f"heed {' '.join(argv)} failed: {err}")
                count = len(json.loads(out))
            floor = self._sqlite_cpu(state, self.LIST_SQL.format(where=where, order=order), min(3, s.list_repeat))
            goal = "≤ 10 ms daemon time" if label == "heed list --json" else None
            dm = median(daemon)
            R.add("list", f"{label}: daemon time ({count} of {s.list_rows} listed)", dm * 1000, "ms",
                  baseline=floor * 1000 if floor is not None else None, goal=goal,
                  met=(dm <= 0.010) if goal else None, fmt="{:.1f}",
                  note=f"wall {median(wall) * 1000:.0f} ms; baseline = sqlite3 shell, same query; "
                       f"median of {len(daemon)}")
        self._list_agrees_with_show()
        self.stop_heedd()
        print(f"  ({s.list_rows} rows written in {fill:.1f} s; {waiting} waiting or snoozed)", flush=True)
        self._list_all_memory()

    @staticmethod
    def _same_mention(a, b):
        """Two answers about one mention, asked a moment apart: equal but for the waiting time."""
        def norm(m):
            m = dict(m)
            m.pop("waiting_seconds", None)
            m["reasons"] = [r for r in m.get("reasons", []) if not r.get("reason", "").startswith("waiting ")]
            return m
        return norm(a) == norm(b) and list(a) == list(b) and list(a["author"]) == list(b["author"])

    def _list_agrees_with_show(self):
        """heed list writes each mention itself (not through show's code): the same members, in the same order."""
        rc, out, err = self.h.heed("list", "--json", "--all", "--limit", "2000", timeout=120)
        listed = json.loads(out) if rc == 0 else []
        picked = listed[:10] + listed[len(listed) // 2:len(listed) // 2 + 5] + listed[-10:]
        bad = []
        for m in picked:
            rc, out, err = self.h.heed("show", "--json", str(m["id"]))
            if rc != 0 or not self._same_mention(json.loads(out), m):
                bad.append(m["id"])
        self.results.add("list", "heed list and heed show agree on each mention", len(picked) - len(bad), "",
                         baseline=len(picked), goal="all", met=not bad and bool(picked), fmt="{:.0f}",
                         note="mentions compared (members, their order, values; the waiting time aside)"
                              + (f"; differ: {bad}" if bad else ""))
        if bad or not picked:
            raise AssertionError(f"list: heed list and heed show disagree on mentions {bad}")

    def _list_all_memory(self):
        """heed list --all over a store of list_all_rows: heedd's RSS before, at its peak and after."""
        s = self.sizes
        state = self.state_path("list-all")
        self.start_heedd([], state, poll_interval=3600)
        self.stop_heedd()
        self._fill_store(state, s.list_all_rows, s.list_waiting, s.list_waiting // 5)
        pid = self.start_heedd([], state, poll_interval=3600)
        self.h.control("status")
        rc, out, err = self.h.heed("list", "--json", timeout=120)     # warm: the first call's caches
        time.sleep(0.3)
        before = proc_mem(pid)["VmRSS"]
        with open(f"/proc/{pid}/clear_refs", "w") as f:          # VmHWM := VmRSS
            f.write("5")
        daemon = []
        for _ in range(3):
            c0 = thread_cpu_ns(pid)
            rc, out, err = self.h.heed("list", "--json", "--all", timeout=120)
            daemon.append((thread_cpu_ns(pid) - c0) / 1e9)
            if rc != 0 or len(json.loads(out)) != s.list_all_rows:
                raise AssertionError(f"heed list --all: {err or 'wrong count'}")
        time.sleep(0.3)
        m = proc_mem(pid)
        self.stop_heedd()
        R = self.results
        R.add("list", f"heed list --json --all ({s.list_all_rows:,} stored): heedd RSS after − before",
              (m["VmRSS"] - before) / 1024, "MiB", goal="≈ 0 (≤ 2 MiB)", met=m["VmRSS"] - before <= 2048,
              note=f"3 calls; RSS {before / 1024:.1f} → {m['VmRSS'] / 1024:.1f} MiB; daemon time "
                   f"{median(daemon) * 1000:.0f} ms each (median)")
        R.add("list", f"heed list --json --all ({s.list_all_rows:,} stored): peak RSS over before",
              (m["VmHWM"] - before) / 1024, "MiB", note="VmHWM, reset before the calls")

    # -- driver

    def run(self):
        from harness import Harness
        self.check_built()
        os.environ["HEED_BUILD_DIR"] = self.build
        only = self.args.only
        t_all = time.monotonic()
        with Harness(time_limit=0, name="bench") as h:
            self.h = h
            print(f"bench: heed from {self.build}; {'smoke' if self.args.smoke else 'full'} run; "
                  f"{os.cpu_count()} CPUs", flush=True)
            for name in SECTIONS:
                if only and name not in only:
                    continue
                t0 = time.monotonic()
                getattr(self, "run_" + name.replace("-", "_"))()
                print(f"  ({name}: {time.monotonic() - t0:.0f} s)", flush=True)
            self._stop_notify = True
            if self.notify_sock:
                self.notify_sock.close()
        print(f"\n== results ({time.monotonic() - t_all:.0f} s)\n")
        print(self.results.table(markdown=self.args.markdown))
        if self.args.json:
            with open(self.args.json, "w") as f:
                json.dump([{k: v for k, v in r.items() if k != "fmt"} for r in self.results.rows], f, indent=1)
        return 0


def main():
    ap = argparse.ArgumentParser(description="heed's benchmarks (see docs/BENCHMARKS.md)")
    ap.add_argument("--build", default=os.environ.get("HEED_BUILD_DIR") or os.path.join(SOURCE, "build"),
                    help="the build directory (default $HEED_BUILD_DIR, else build/)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, for CI: prints every figure, asserts nothing")
    ap.add_argument("--only", type=lambda v: [x.strip() for x in v.split(",") if x.strip()],
                    help="run only these sections: " + ",".join(SECTIONS))
    ap.add_argument("--json", help="also write the figures to this file as JSON")
    ap.add_argument("--markdown", action="store_true", help="print the closing table in Markdown")
    ap.add_argument("--perf-record", metavar="FILE",
                    help="cost: record a perf profile (perf record -g) of heedd's first catch-up into FILE")
    ap.add_argument("--cost-n", type=int, help="cost: mentions in the catch-up (default 10000; smoke 300)")
    ap.add_argument("--cost-runs", type=int, help="cost: repetitions (default 3; smoke 1)")
    args = ap.parse_args()
    if args.only:
        unknown = [x for x in args.only if x not in SECTIONS]
        if unknown:
            ap.error(f"unknown section(s) {', '.join(unknown)}; expected some of {', '.join(SECTIONS)}")
    args.build = os.path.abspath(args.build)
    return Bench(args).run()


if __name__ == "__main__":
    sys.exit(main())
