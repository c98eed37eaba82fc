# SPDX-License-Identifier: MIT
"""fake_stream: a FakeMastodon that also serves the streaming API (SSE).

    fake = FakeMastodonStreaming().start()   # or start_streaming_fake(harness)
    conn = fake.wait_stream(1)               # heedd has opened the stream
    nid, notif = fake.make_mention(store=False, text_html="<p>hi</p>")
    t = fake.push_notification(notif)        # monotonic time of the write
    fake.heartbeat(); fake.push_raw(b"event: noti"); fake.cut()

Routes added to FakeMastodon (see network-apis.md 1.9):
  GET /api/v1/streaming/health             200 "OK" (health_status switches it)
  GET /api/v1/streaming/user/notification  an endless SSE stream
  GET /api/v1/streaming/user               the same stream
  GET /api/v2/instance                     configuration.urls.streaming is
        "wss://127.0.0.1:PORT" (this server), another URL, or absent
        (streaming_url = "self" | "wss://..." | None)

fakenet.FakeServer answers every request with one fixed Response. For the
stream route this class answers a StreamResponse instead, and _send() keeps
the handler thread (one per connection) inside the stream: it writes the
headers, the opening comment ":)", then whatever the test pushes through the
connection's queue, as HTTP/1.1 chunks (framing="chunked", what Mastodon
sends) or as raw bytes on a Connection: close response (framing="close").
A stream ends when the test cuts it (cut(): the socket is shut down, no
last chunk, like a dropped connection), ends it cleanly (end_streams()),
the client goes away (heedd gave up on it), or the server stops.

Pushes go to every live stream (normally there is one); with none live they
are lost, like events a real server sends while the client is away.

The request of a stream appears in `requests` only once the stream is over;
use streams() / stream_count for streams, open or closed.

Only the standard library is used.
"""

import json
import queue
import select
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field

from fakenet import FakeMastodon, Response, json_response

STREAM_PATHS = ("/api/v1/streaming/user/notification", "/api/v1/streaming/user")
HEALTH_PATH = "/api/v1/streaming/health"


@dataclass
class StreamResponse(Response):
    """Marker: _send() serves an endless event stream for this answer."""


@dataclass
class StreamConn:
    """One stream connection as the fake saw it."""
    index: int
    path: str
    raw_path: str
    query: dict
    headers: dict                 # lower-case name -> last value
    header_list: list             # [(name, value)] as sent, repeats kept
    opened_at: float
    closed_at: float = None
    closed_by: str = None         # "cut", "end", "client", "error", "server-stop"
    live: bool = False
    writes: list = field(default_factory=list)   # [(monotonic time, bytes)]
    q: "queue.Queue" = field(default_factory=queue.Queue, repr=False)

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def header_values(self, name):
        return [v for k, v in self.header_list if k.lower() == name.lower()]

    @property
    def sent(self):
        return b"".join(b for _, b in self.writes)

    def describe(self):
        end = f"closed by {self.closed_by} after {self.closed_at - self.opened_at:.1f} s" \
            if self.closed_at else "open"
        return (f"stream #{self.index} {self.raw_path}: {end}, {len(self.writes)} writes, "
                f"{len(self.sent)} bytes")


def sse_event(name, data):
    """The wire form of one event; each line of data gets its own "data:"."""
    if isinstance(data, bytes):
        data = data.decode()
    lines = [f"event: {name}"] if name else []
    lines += [f"data: {line}" for line in data.split("\n")]
    return ("\n".join(lines) + "\n\n").encode()


class FakeMastodonStreaming(FakeMastodon):
    """FakeMastodon plus the streaming API. Keyword arguments (all also
    attributes that tests may change while it runs):

    streaming_url  "self" (wss:// of this server, the default), a URL put
                   into configuration.urls.streaming as is, or None to leave
                   the key out (clients fall back to the main host)
    health_status  status of /api/v1/streaming/health (200 answers "OK")
    stream_status  status of the stream endpoint (200 streams; others get
                   Mastodon's JSON error)
    framing        "chunked" (Transfer-Encoding: chunked, like Mastodon) or
                   "close" (Connection: close, no Content-Length)
    open_comment   send ":)" when a stream opens (Mastodon does)
    close_after_open
                   None, or "end" / "cut": end each stream (cleanly / like a
                   dropped connection) right after its opening comment, a
                   flapping streaming server
    """

    name = "mastodon-streaming"

    def __init__(self, streaming_url="self", health_status=200, stream_status=200,
                 framing="chunked", open_comment=True, close_after_open=None, **kw):
        self.streaming_url = streaming_url
        self.health_status = health_status
        self.stream_status = stream_status
        self.framing = framing
        self.open_comment = open_comment
        self.close_after_open = close_after_open
        self.silent = False
        self._streams = []
        self._stopping = False
        self._hb_thread = None
        self._hb_stop = threading.Event()
        super().__init__(**kw)

    # ------------------------------------------------------------ routes

    def setup_routes(self):
        super().setup_routes()
        self.route("GET", HEALTH_PATH, self._health)
        for p in STREAM_PATHS:
            self.route("GET", p, self._stream)

    def check_auth(self, req):
        if req.path == HEALTH_PATH:
            return None          # Mastodon's health endpoint needs no token
        if req.path in STREAM_PATHS and req.header("authorization") is None \
                and req.param("access_token") == self.token:
            return None          # legacy query-string token: accepted, and logged for the tests
        return super().check_auth(req)

    def _instance(self, req, m):
        resp = super()._instance(req, m)
        body = json.loads(resp.body)
        if self.streaming_url is None:
            body["configuration"]["urls"].pop("streaming", None)
        elif self.streaming_url != "self":
            body["configuration"]["urls"]["streaming"] = self.streaming_url
        return json_response(body)

    def _health(self, req, m):
        if self.health_status == 200:
            return Response(200, b"OK", content_type="text/plain; charset=utf-8")
        return self.error_response(self.health_status)

    def _stream(self, req, m):
        if self.stream_status != 200:
            return self.error_response(self.stream_status)
        return StreamResponse(200, b"", content_type="text/event-stream")

    # ------------------------------------------------------------ lifecycle

    def stop(self):
        self._stopping = True
        self.stop_heartbeats()
        super().stop()

    # ------------------------------------------------------------ state for tests

    def make_mention(self, store=True, **kw):
        """A Mastodon mention notification (as add_mention builds it).
        store=False: it is not in the REST API's store (only the stream will
        know it). Returns (id, notification dict)."""
        nid = self.add_mention(**kw)
        notif = json.loads(json.dumps(self.notification(nid)))
        if not store:
            self.remove(nid)
        return nid, notif

    def answer(self, req):
        """The route's answer to req, as it would be now (for hooks that
        want to take a snapshot and deliver it later)."""
        return self._route(req)

    def store_notification(self, notif):
        """Put a notification made with make_mention(store=False) into the REST store."""
        with self._lock:
            self._notifs[int(notif["id"])] = notif

    def streams(self):
        with self._lock:
            return list(self._streams)

    @property
    def stream_count(self):
        return len(self.streams())

    def live_streams(self):
        return [c for c in self.streams() if c.live]

    def max_concurrent_streams(self):
        """The largest number of streams that were open at the same time."""
        marks = []
        for c in self.streams():
            marks.append((c.opened_at, 1))
            marks.append((c.closed_at if c.closed_at is not None else float("inf"), -1))
        n = best = 0
        for _, d in sorted(marks, key=lambda x: (x[0], x[1])):
            n += d
            best = max(best, n)
        return best

    def wait_stream(self, n=1, timeout=15, live=True):
        """Wait until the n-th stream (1-based) has opened (and is live, by
        default); return its StreamConn."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.streams()
            if len(s) >= n and (s[n - 1].live or not live):
                return s[n - 1]
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s waiting for stream #{n} "
                             f"(have {self.stream_count}: "
                             + "; ".join(c.describe() for c in self.streams()) + ")")

    def stream_requests(self):
        """Every request to a streaming path (health, streams) seen so far,
        open streams included, as (path, raw_path) pairs."""
        done = [(r.path, r.raw_path) for r in self.requests if r.path.startswith("/api/v1/streaming")]
        open_ = [(c.path, c.raw_path) for c in self.streams() if c.closed_at is None]
        return done + open_

    def describe_streams(self):
        return "\n".join("  " + c.describe() for c in self.streams()) or "  (no streams)"

    # ------------------------------------------------------------ pushing

    def _put(self, kind, payload=None, timeout=5.0):
        conns = self.live_streams()
        items = []
        for c in conns:
            item = [kind, payload, threading.Event(), None]
            c.q.put(item)
            items.append(item)
        for item in items:
            item[2].wait(timeout)
        times = [item[3] for item in items if item[3] is not None]
        return max(times) if times else None

    def push_raw(self, data, timeout=5.0):
        """Write bytes to every live stream (as one chunk); returns the
        monotonic time just before the write, None when no stream took it."""
        if isinstance(data, str):
            data = data.encode()
        return self._put("data", data, timeout)

    def push_event(self, name, data, timeout=5.0):
        """event: NAME / data: DATA (several data: lines if DATA has newlines)."""
        return self.push_raw(sse_event(name, data), timeout)

    def push_notification(self, notif):
        """A notification event; notif is a dict (or an id in the store)."""
        if not isinstance(notif, dict):
            notif = self.notification(notif)
        return self.push_event("notification", json.dumps(notif))

    def heartbeat(self):
        return self.push_raw(b":thump\n")

    def start_heartbeats(self, interval=1.0):
        """:thump every interval seconds from a thread, until stop_heartbeats()
        or go_silent()."""
        self.stop_heartbeats()
        self._hb_stop.clear()

        def run():
            while not self._hb_stop.wait(interval):
                self.heartbeat()
        self._hb_thread = threading.Thread(target=run, name="fake-heartbeats", daemon=True)
        self._hb_thread.start()

    def stop_heartbeats(self):
        self._hb_stop.set()
        if self._hb_thread:
            self._hb_thread.join(5)
            self._hb_thread = None

    def go_silent(self, silent=True):
        """Silent: no heartbeats, no ":)" on new streams, pushes dropped."""
        if silent:
            self.stop_heartbeats()
        self.silent = silent

    def cut(self, timeout=5.0):
        """Drop every live stream at once: the socket is shut down without
        the last chunk (a lost connection, not a clean end)."""
        self._put("cut", None, timeout)

    def end_streams(self, timeout=5.0):
        """End every live stream cleanly (last chunk / close)."""
        self._put("end", None, timeout)

    # ------------------------------------------------------------ serving

    def _send(self, h, req, resp):
        if not isinstance(resp, StreamResponse):
            return super()._send(h, req, resp)
        req.status = resp.status
        with self._lock:
            conn = StreamConn(index=len(self._streams) + 1, path=req.path, raw_path=req.raw_path,
                              query=req.query, headers=dict(req.headers),
                              header_list=list(h.headers.items()), opened_at=time.monotonic())
            self._streams.append(conn)
        h.close_connection = True
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "private, no-store")
        for k, v in self.extra_headers(req, resp).items():
            h.send_header(k, str(v))
        if self.framing == "chunked":
            h.send_header("Transfer-Encoding", "chunked")
        else:
            h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.flush()
        conn.live = True
        try:
            if self.open_comment and not self.silent:
                self._write(h, conn, b":)\n")
            if self.close_after_open:
                conn.q.put([self.close_after_open, None, threading.Event(), None])
            self._serve(h, conn)
        except (OSError, ssl.SSLError, ValueError):
            conn.closed_by = conn.closed_by or "error"
        finally:
            conn.live = False
            conn.closed_at = time.monotonic()
            # Release anybody still waiting for this stream.
            while True:
                try:
                    item = conn.q.get_nowait()
                except queue.Empty:
                    break
                item[2].set()

    def _write(self, h, conn, data):
        if self.framing == "chunked":
            frame = b"%x\r\n" % len(data) + data + b"\r\n"
        else:
            frame = data
        t = time.monotonic()          # before the write: latencies are upper bounds
        h.wfile.write(frame)
        h.wfile.flush()
        conn.writes.append((t, data))
        return t

    def _serve(self, h, conn):
        while True:
            if self._stopping:
                conn.closed_by = "server-stop"
                return
            try:
                item = conn.q.get(timeout=0.05)
            except queue.Empty:
                if self._client_gone(h):
                    conn.closed_by = "client"
                    return
                continue
            kind, payload, done = item[0], item[1], item[2]
            try:
                if kind == "data":
                    if not self.silent:
                        item[3] = self._write(h, conn, payload)
                elif kind == "cut":
                    conn.closed_by = "cut"
                    conn.live = False
                    try:
                        h.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                elif kind == "end":
                    conn.closed_by = "end"
                    conn.live = False
                    if self.framing == "chunked":
                        h.wfile.write(b"0\r\n\r\n")
                        h.wfile.flush()
                    return
            finally:
                done.set()

    @staticmethod
    def _client_gone(h):
        """True once the client has closed its end (or the socket broke)."""
        sock = h.connection
        try:
            r, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        if not r and not sock.pending():
            return False
        old = sock.gettimeout()
        try:
            sock.settimeout(0.05)
            return sock.recv(1) == b""
        except (socket.timeout, ssl.SSLWantReadError):
            return False
        except (OSError, ssl.SSLError, ValueError):
            return True
        finally:
            try:
                sock.settimeout(old)
            except OSError:
                pass


def start_streaming_fake(h, **kw):
    """A started FakeMastodonStreaming that Harness h stops and reports."""
    fake = FakeMastodonStreaming(**kw).start()
    h.fakes.append(fake)
    return fake


__all__ = ["FakeMastodonStreaming", "StreamConn", "StreamResponse", "sse_event",
           "start_streaming_fake", "STREAM_PATHS", "HEALTH_PATH"]
