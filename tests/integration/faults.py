# SPDX-License-Identifier: MIT
"""faults: what the test_faults_*.py suites share.

Network faults that fakenet's FakeServer cannot make by itself, added by
subclassing (fakenet.py and fake_*.py stay as they are):

  FaultMixin (FaultyMastodon, FaultyBluesky, FaultyGitHub, FaultyX)
    go_away() / come_back(cert=...)
                  stop listening (connection refused) and start again on the
                  same port, optionally with another certificate ("good",
                  "wrong_host", "untrusted");
    stall_handshake
                  while True, connections are accepted but TLS is never
                  answered (curl's connect timeout, 15 s, covers the handshake);
    inject_wire(mode, ...)
                  change how the next matching answers go on the wire:
                  "drip"      headers, then `rate` body bytes a second (the
                              body is padded with JSON white space so that it
                              lasts well beyond curl's low-speed window);
                  "rst"       headers, half the body, then a TCP reset
                              (SO_LINGER 0, no TLS close_notify);
                  "chunked"   Transfer-Encoding: chunked, no Content-Length;
                  "cut_json"  a complete HTTP answer whose JSON is cut in half;
                  "transform" fn(req, resp) -> Response replaces the answer.
                  A wire fault can also replace status and body.
    cut_connections()
                  close every open connection (so that the next request
                  needs a new connection: a new handshake, a new connect).
  Relay           a TCP listener in front of a fake: "pass" (the start)
                  relays bytes to the fake (TLS goes through untouched);
                  blackhole() cuts the relayed connections, fills the accept
                  backlog and accepts nothing (SYNs are dropped, so a client's
                  connect() really times out); open() relays again. Not a
                  FakeServer: stop() it yourself (Harness.fakes would try to
                  report its requests).

Network adapters (Net) give the four networks one face for the tests: the
account dict, add(marker) for a new mention by a VIP author, the path of the
poll request, polls().

Every author the adapters use is a VIP and base_extra() sets digest_threshold
64 / digest_window 1s / nudge none, so each mention is one popup of its own
and Notify calls can be counted per mention.

FaultRun wraps a Harness for the checks every fault case makes: heedd is
up, the healthy account keeps notifying, the faulty account's pending
mentions are stored and notified exactly once after the fault, and the log
names the fault once (two consecutive warning lines about an account that
are equal once numbers are ignored say the same thing twice).
"""

import copy
import json
import os
import re
import socket
import ssl
import struct
import sys
import threading
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fakenet  # noqa: E402
from fake_bluesky import LIST as BSKY_LIST, FakeBluesky  # noqa: E402
from fake_github import FakeGitHub  # noqa: E402
from fake_x import FakeX  # noqa: E402
from fakenet import FakeMastodon, Response  # noqa: E402

MONO_OFFSET = time.time() - time.monotonic()


def wall(req):
    """Wall-clock (epoch) time at which the fake saw a LoggedRequest."""
    return req.time + MONO_OFFSET


# ---------------------------------------------------------------- server side


@dataclass
class WireFault:
    mode: str
    count: int = 1
    path: str = None
    rate: float = 1.0                 # drip: bytes a second
    min_bytes: int = 4096             # drip/rst: pad the body to at least this
    status: int = None
    body: bytes = None
    headers: dict = None
    fn: object = None                 # transform
    taken: int = 0

    def matches(self, path):
        return self.count > 0 and (self.path is None or re.search(self.path, path) is not None)


class _FaultTLSServer(fakenet._TLSServer):
    block_on_close = False            # stop() must not wait for stalled or dripping threads

    def finish_request(self, request, client_address):
        owner = self.owner
        if owner.stall_handshake:
            owner._note_stall()
            # Take the ClientHello and answer nothing, until the client gives
            # up, the stall is lifted (this connection stays dead) or we stop.
            request.settimeout(0.2)
            deadline = time.monotonic() + 120
            while not owner._stopping and time.monotonic() < deadline:
                try:
                    if request.recv(4096) == b"":
                        break
                except socket.timeout:
                    continue
                except OSError:
                    break
            try:
                request.close()
            except OSError:
                pass
            return
        super().finish_request(request, client_address)


class FaultMixin:
    """Mixed into a FakeServer subclass; see the module docstring."""

    def __init__(self, *a, **kw):
        self.stall_handshake = False
        self.stalled_handshakes = 0
        self._stopping = False
        self._wire = []
        self._saved_port = None
        super().__init__(*a, **kw)

    # -- lifecycle

    def start(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        cert, key = self.pki.server_pair(self.cert_kind)
        ctx.load_cert_chain(cert, key)
        self._stopping = False
        self._server = _FaultTLSServer((self._host, self._want_port), self, ctx)
        self._saved_port = self._server.server_address[1]
        self._want_port = self._saved_port      # a restart comes back on the same port
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-server", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._stopping = True
        self._server.shutdown()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        self._thread.join(5)
        self._server = None

    @property
    def port(self):
        return self._saved_port

    def go_away(self):
        """Stop listening: connections are refused until come_back()."""
        self.stop()

    def cut_connections(self):
        """Close every open connection (so that the client's next request
        needs a new connection and a new handshake)."""
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def come_back(self, cert=None):
        if cert is not None:
            self.cert_kind = cert
        return self.start()

    def _note_stall(self):
        with self._lock:
            self.stalled_handshakes += 1

    # -- wire faults

    def inject_wire(self, mode, count=1, path=None, **kw):
        f = WireFault(mode=mode, count=count, path=path, **kw)
        with self._lock:
            self._wire.append(f)
        return f

    def clear_faults(self):
        super().clear_faults()
        with self._lock:
            self._wire.clear()

    def _take_wire(self, path):
        with self._lock:
            for f in self._wire:
                if f.matches(path):
                    f.count -= 1
                    f.taken += 1
                    return f
        return None

    def fault_requests(self, path=None):
        """Requests answered by an injected fault (of either kind)."""
        return [r for r in self.requests if r.fault and (path is None or re.search(path, r.path))]

    def _answer(self, req):
        resp = super()._answer(req)
        if resp is None or req.fault:
            return resp
        wf = self._take_wire(req.path)
        if wf is None:
            return resp
        req.fault = True
        if wf.mode == "transform":
            out = wf.fn(req, resp)
            return out if out is not None else resp
        resp = copy.copy(resp)
        resp.headers = dict(resp.headers)
        if wf.status is not None:
            resp.status = wf.status
        if wf.body is not None:
            resp.body = wf.body
        if wf.headers:
            resp.headers.update(wf.headers)
        resp.wire = wf
        return resp

    def _send(self, h, req, resp):
        wf = getattr(resp, "wire", None)
        if wf is None:
            return super()._send(h, req, resp)
        req.status = resp.status
        headers = {"Content-Type": resp.content_type}
        headers.update(self.extra_headers(req, resp))
        headers.update(resp.headers)
        body = resp.body
        if wf.mode in ("drip", "rst") and len(body) < wf.min_bytes:
            body = body + b" " * (wf.min_bytes - len(body))
        if wf.mode == "cut_json":
            body = body[: len(body) // 2]
        h.send_response(resp.status)
        for k, v in headers.items():
            if v is not None:
                h.send_header(k, str(v))
        if wf.mode == "chunked":
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.flush()
        if wf.mode == "drip":
            self._drip(h, body, wf.rate)
        elif wf.mode == "rst":
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            self._reset(h)
        elif wf.mode == "chunked":
            try:
                for i in range(0, len(body), 65536):
                    part = body[i:i + 65536]
                    h.wfile.write(b"%x\r\n" % len(part) + part + b"\r\n")
                h.wfile.write(b"0\r\n\r\n")
                h.wfile.flush()
            except OSError:
                h.close_connection = True
        else:
            h.wfile.write(body)
            h.wfile.flush()

    def _drip(self, h, body, rate):
        h.close_connection = True
        gap = 1.0 / rate
        deadline = time.monotonic() + 150
        for i in range(len(body)):
            if self._stopping or time.monotonic() > deadline:
                break
            try:
                h.wfile.write(body[i:i + 1])
                h.wfile.flush()
            except OSError:
                break          # the client gave up
            time.sleep(gap)

    @staticmethod
    def _reset(h):
        h.close_connection = True
        sock = h.connection
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            os.close(sock.detach())    # linger 0: RST instead of FIN, no close_notify
        except OSError:
            pass


class FaultyMastodon(FaultMixin, FakeMastodon):
    pass


class FaultyBluesky(FaultMixin, FakeBluesky):
    pass


class FaultyGitHub(FaultMixin, FakeGitHub):
    pass


class FaultyX(FaultMixin, FakeX):
    pass


class Relay:
    """A TCP listener on 127.0.0.1 in front of `backend_port`.

    mode "blackhole": the accept backlog is filled with connections of our
    own and nothing is accepted, so the kernel drops further SYNs and a
    client's connect() hangs until its own timeout. mode "pass" (the
    start): every connection is accepted and relayed to the backend byte
    for byte. Switching to blackhole cuts the relayed connections, so that
    a client cannot keep using one.
    """

    def __init__(self, backend_port):
        self.backend_port = backend_port
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.mode = "pass"
        self._fillers = []
        self._live = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.relayed = 0
        threading.Thread(target=self._accept_loop, daemon=True, name="relay-accept").start()

    def blackhole(self):
        self.mode = "blackhole"
        time.sleep(0.3)                      # the accept loop has stopped accepting
        with self._lock:
            live = list(self._live)
        for s in live:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for _ in range(4):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self._fillers.append(s)
        time.sleep(0.2)
        return self

    def open(self):
        """Relay again (the backlog fillers are accepted and closed)."""
        for s in self._fillers:
            s.close()
        self._fillers = []
        self.mode = "pass"

    def _accept_loop(self):
        while not self._stop.is_set():
            if self.mode != "pass":
                time.sleep(0.05)
                continue
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            try:
                b = socket.create_connection(("127.0.0.1", self.backend_port), timeout=5)
            except OSError:
                c.close()
                continue
            self.relayed += 1
            with self._lock:
                self._live.update((c, b))
            for src, dst in ((c, b), (b, c)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src, dst):
        src.settimeout(0.5)
        while not self._stop.is_set():
            try:
                data = src.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            try:
                dst.sendall(data)
            except OSError:
                break
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self._lock:
            self._live.discard(src)
        src.close()

    def stop(self):          # so that a Harness can own it like a fake
        self._stop.set()
        for s in self._fillers:
            s.close()
        try:
            self.sock.close()
        except OSError:
            pass
        with self._lock:
            live = list(self._live)
        for s in live:
            try:
                s.close()
            except OSError:
                pass


# ---------------------------------------------------------------- networks

VIP_COUNT = 60


def vip_list():
    """Every author the Net adapters use is a VIP: each mention is its own
    popup (no digest), so Notify calls can be counted per mention."""
    names = [f"pal{i}" for i in range(VIP_COUNT)] + [f"pal{i}.test" for i in range(VIP_COUNT)]
    return names + ["octo-org/widgets"]


def base_extra():
    """[heed] keys for fault runs: popups never folded into a digest, no nudges."""
    return {"digest_threshold": 64, "digest_window": "1s", "nudge": "none", "vip": vip_list()}


class Net:
    """One fake plus the account that watches it."""

    network = None
    counter = 0

    def __init__(self, h, name, fake):
        self.h = h
        self.name = name
        self.fake = fake
        fake.start()
        h.fakes.append(fake)

    @classmethod
    def _author(cls):
        Net.counter = (Net.counter + 1) % VIP_COUNT
        return Net.counter

    def account(self, **extra):
        acc = {"name": self.name, "network": self.network, "server": self.fake.base_url,
               "ca_file": self.fake.ca_file, "token": self.fake.token}
        acc.update(extra)
        return acc

    def polls(self, status=None):
        return [r for r in self.fake.requests if re.search(self.poll_path, r.path)
                and (status is None or r.status == status)]

    def add(self, marker):
        raise NotImplementedError


class MastodonNet(Net):
    network = "mastodon"
    poll_path = r"^/api/v1/notifications$"

    def __init__(self, h, name, fake=None, **kw):
        super().__init__(h, name, fake or FaultyMastodon(**kw))

    def account(self, **extra):
        extra.setdefault("streaming", "off")
        return super().account(**extra)

    def add(self, marker):
        i = self._author()
        return self.fake.add_mention(acct=f"pal{i}@fake.social", display_name=f"Pal {i}",
                                     text_html=f"<p>{marker}</p>")


class BlueskyNet(Net):
    network = "bluesky"
    poll_path = "^" + re.escape(BSKY_LIST) + "$"

    def __init__(self, h, name, fake=None, **kw):
        super().__init__(h, name, fake or FaultyBluesky(**kw))

    def account(self, **extra):
        acc = {"name": self.name, "network": "bluesky", "server": self.fake.base_url,
               "identifier": self.fake.identifier, "token": self.fake.password, "ca_file": self.fake.ca_file}
        acc.update(extra)
        return acc

    def add(self, marker):
        i = self._author()
        return self.fake.add_mention(handle=f"pal{i}.test", display_name=f"Pal {i}",
                                     text=f"@{self.fake.handle} {marker}")


class GitHubNet(Net):
    network = "github"
    poll_path = r"^/notifications$"

    def __init__(self, h, name, fake=None, **kw):
        kw.setdefault("poll_interval", None)
        super().__init__(h, name, fake or FaultyGitHub(**kw))

    def add(self, marker):
        return self.fake.add_thread(reason="mention", title=marker, type="Issue", repo="octo-org/widgets")


class XNet(Net):
    network = "x"

    def __init__(self, h, name, fake=None, **kw):
        super().__init__(h, name, fake or FaultyX(**kw))
        self.poll_path = "^" + re.escape(self.fake.mentions_path()) + "$"

    def add(self, marker):
        i = self._author()
        return self.fake.add_mention(username=f"pal{i}", name=f"Pal {i}",
                                     text=f"@{self.fake.me['username']} {marker}")


NETS = {"mastodon": MastodonNet, "bluesky": BlueskyNet, "github": GitHubNet, "x": XNet}


# ---------------------------------------------------------------- checks


def _norm(line):
    return re.sub(r"\d+", "N", line)


class FaultRun:
    """Checks on one Harness running one heedd with several accounts."""

    def __init__(self, h, tc):
        self.h = h
        self.tc = tc
        self.marks = 0

    def marker(self, tag):
        self.marks += 1
        return f"zq-{tag}-{self.marks:03d}-qz"

    # -- status

    def status(self):
        return self.h.control("status")

    def account_status(self, name):
        for a in self.status()["accounts"]:
            if a["name"] == name:
                return a
        raise AssertionError(f"no account {name} in status")

    def health(self, name):
        return self.account_status(name)["health"]

    def wait_ok(self, names, timeout=30):
        """Each account has completed at least one poll since heedd started."""
        def ok():
            st = {a["name"]: a for a in self.status()["accounts"]}
            return all(st[n]["polls"] >= 1 for n in names)
        self.h.wait_until(ok, timeout, lambda: f"a first good poll of {names}: "
                          + json.dumps([(a['name'], a['health'], a.get('error')) for a in self.status()['accounts']]))

    def wait_health(self, name, want, timeout=30):
        want = (want,) if isinstance(want, str) else tuple(want)
        self.h.wait_until(lambda: self.health(name) in want, timeout,
                          lambda: f"{name} health in {want} (is {self.account_status(name)})")

    def wait_error(self, name, pattern, timeout=30):
        def seen():
            err = self.account_status(name).get("error") or ""
            return re.search(pattern, err)
        self.h.wait_until(seen, timeout, lambda: f"{name} error matching {pattern!r} "
                          f"(is {self.account_status(name)})")

    # -- mentions

    def stored(self, marker):
        return [m for m in self.h.heed_list()
                if marker in (m.get("text") or "") or marker in (m.get("context") or "")]

    def wait_stored(self, markers, timeout=30):
        self.h.wait_until(lambda: all(self.stored(m) for m in markers), timeout,
                          lambda: f"stored: {[m for m in markers if not self.stored(m)]} missing")

    def wait_shown(self, markers, timeout=30):
        self.h.wait_until(lambda: all(self.h.shown(m) for m in markers), timeout,
                          lambda: f"notified: {[m for m in markers if not self.h.shown(m)]} missing\n"
                          + self.h.describe_notifications())

    def assert_once(self, markers, settle=0):
        """Each marker is one stored mention, notified (recorded and shown) exactly once."""
        if settle:
            self.h.pause(settle)
        listed = self.h.heed_list()
        for m in markers:
            rows = [x for x in listed if m in (x.get("text") or "") or m in (x.get("context") or "")]
            self.tc.assertEqual(len(rows), 1, f"{m}: stored once, got {len(rows)}")
            self.tc.assertTrue(rows[0]["notified"], f"{m}: recorded as notified")
            self.tc.assertEqual(len(self.h.shown(m)), 1,
                                f"{m}: shown exactly once\n" + self.h.describe_notifications())

    # -- log

    def problem_lines(self, name):
        """heedd warning/error lines about account `name`."""
        return [ln for ln in self.h.heedd_log().splitlines()
                if re.search(rf"(warning|error): {re.escape(name)}: ", ln)]

    def notice_lines(self, name, pattern):
        return [ln for ln in self.h.heedd_log().splitlines()
                if re.search(rf"heedd: {re.escape(name)}: .*{pattern}", ln)]

    def assert_logged_once(self, name, pattern, allow=2):
        """The fault was reported, at most `allow` lines in all (one more
        for a different message), and never the same thing twice in a row:
        consecutive lines that are equal once numbers are ignored ("after
        15000 ms" / "after 15002 ms", "column 27" / "column 1") say the
        same thing again."""
        lines = self.problem_lines(name)
        self.tc.assertTrue(any(re.search(pattern, ln) for ln in lines),
                           f"{name}: no warning matching {pattern!r} in:\n" + "\n".join(lines))
        norm = [_norm(ln) for ln in lines]
        repeats = [a for a, b in zip(norm, norm[1:]) if a == b]
        self.tc.assertEqual(repeats, [], f"{name}: the same problem logged more than once:\n" + "\n".join(lines))
        self.tc.assertLessEqual(len(lines), allow, f"{name}: logged on every poll?\n" + "\n".join(lines))

    def assert_recovered_logged(self, name):
        self.tc.assertEqual(len(self.notice_lines(name, "working again")), 1,
                            f"{name}: one 'working again' notice\n" + "\n".join(self.problem_lines(name)))

    def healthy_still_works(self, net, tag="healthy"):
        m = self.marker(tag)
        net.add(m)
        self.wait_shown([m], 20)
        return m


def attempts(reqs, within=0.3):
    """Requests grouped into attempts: curl itself retries once at once on a
    reused connection that died without an answer; that is one attempt."""
    out = []
    for r in reqs:
        if out and r.time - out[-1].time < within:
            continue
        out.append(r)
    return out


def gaps(reqs):
    """Seconds between consecutive attempts."""
    a = attempts(reqs)
    return [round(wall(y) - wall(x), 2) for x, y in zip(a, a[1:])]


__all__ = ["FaultMixin", "FaultyMastodon", "FaultyBluesky", "FaultyGitHub", "FaultyX", "Relay",
           "MastodonNet", "BlueskyNet", "GitHubNet", "XNet", "NETS", "FaultRun", "base_extra",
           "vip_list", "wall", "gaps", "attempts", "WireFault", "Response"]
