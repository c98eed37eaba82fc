# SPDX-License-Identifier: MIT
"""fakenet: fake social-network API servers over real TLS on loopback.

Each fake is a small in-memory model of one network's documented HTTP API,
served by the standard library's ThreadingHTTPServer on 127.0.0.1 (a random
free port) with a certificate from tlsca's throwaway CA. Tests drive the
state (add_mention, ...), inspect what the client asked (requests), and
inject faults (inject / fail_next / delay_next).

FakeServer holds the plumbing every network shares: TLS, routing, the
request log, fault injection and shutdown. A network is a subclass that
registers routes in setup_routes() and implements check_auth(); see
FakeMastodon. Bluesky, GitHub and X fakes are meant to be added the same way.

Only the standard library is used.
"""

import datetime as _dt
import email.utils
import html
import itertools
import json
import re
import socket
import ssl
import struct
import threading
import time
import zlib
import traceback
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import tlsca


# ---------------------------------------------------------------- plumbing


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"
    truncate: bool = False   # send only half the body, then close


def tiny_png(rgb=(200, 80, 40), size=4):
    """A valid size x size PNG of one colour: a face for a fake account."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + bytes(rgb) * size for _ in range(size))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def json_response(obj, status=200, headers=None):
    return Response(status=status, body=json.dumps(obj).encode(), headers=dict(headers or {}))


@dataclass
class LoggedRequest:
    """One request as the server saw it; status is what it answered (None if
    the connection was dropped on purpose)."""
    method: str
    path: str               # without the query string
    raw_path: str           # as sent, with the query string
    query: dict             # name -> [values], e.g. {"types[]": ["mention"]}
    headers: dict           # lower-case name -> value
    body: bytes
    time: float             # time.monotonic() when the request arrived
    status: int = None
    fault: bool = False     # answered by an injected fault

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def param(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default


@dataclass
class Fault:
    """What to do instead of the normal answer, for the next `count` requests
    that match `path` (a regular expression searched in the path; None
    matches all) and `method`.

    delay: seconds to wait before answering (normally or with status).
    status/body/headers: answer this instead of the route's answer. body may
      be bytes, str, or a JSON-able object; when None a JSON error body
      {"error": "..."} is made.
    drop: close the connection without answering.
    truncate: send headers promising the whole body, then only half of it.
    """
    count: int = 1
    path: str = None
    method: str = None
    status: int = None
    body: object = None
    headers: dict = None
    delay: float = 0.0
    drop: bool = False
    truncate: bool = False

    def matches(self, method, path):
        if self.count <= 0:
            return False
        if self.method and self.method.upper() != method:
            return False
        return self.path is None or re.search(self.path, path) is not None


_REASONS = {400: "Bad request", 401: "The access token is invalid", 403: "Forbidden",
            404: "Record not found", 410: "Gone", 422: "Unprocessable entity",
            429: "Too many requests", 500: "Internal server error",
            502: "Bad gateway", 503: "Service unavailable", 504: "Gateway timeout"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakenet/1"
    sys_version = ""
    timeout = 30  # idle keep-alive connections are closed after this

    def log_message(self, format, *args):  # noqa: A002 - quiet by default
        pass

    def _any(self):
        self.server.owner._dispatch(self)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _any


class _TLSServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, addr, owner, ctx):
        self.owner = owner
        self.ssl_context = ctx
        super().__init__(addr, _Handler)

    def finish_request(self, request, client_address):
        # The handshake happens here, in the per-connection thread, so that a
        # client that never speaks TLS cannot stall the accept loop.
        request.settimeout(15)
        try:
            conn = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.owner._note_tls_error(client_address, e)
            return
        self.owner._track(conn, True)
        try:
            _Handler(conn, client_address, self)
        except (ConnectionError, ssl.SSLError, socket.timeout, OSError):
            pass
        finally:
            self.owner._track(conn, False)
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        self.owner._note_error(traceback.format_exc())


class FakeServer:
    """Base class: TLS, routing, request log and fault injection.

    cert: "good" (the test CA, for 127.0.0.1/localhost), "wrong_host" (test
    CA, other host name) or "untrusted" (an unrelated CA).
    """

    name = "fake"

    def __init__(self, cert="good", host="127.0.0.1", port=0):
        self.pki = tlsca.get_pki()
        self.ca_file = self.pki.ca_file
        self.cert_kind = cert
        self._host = host
        self._want_port = port
        self._lock = threading.RLock()
        self._log = []
        self._faults = []
        self._routes = []
        self._conns = set()
        self.tls_errors = []     # (client address, str(error)) of failed handshakes
        self.errors = []         # tracebacks of unexpected server-side exceptions
        self.hook = None         # optional fn(LoggedRequest) -> Response|None, run before routing
        self._server = None
        self._thread = None
        self.setup_routes()

    # -- lifecycle

    def start(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        cert, key = self.pki.server_pair(self.cert_kind)
        ctx.load_cert_chain(cert, key)
        self._server = _TLSServer((self._host, self._want_port), self, ctx)
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"{self.name}-server", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        """Stop listening and cut every open connection (a server that went away)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._thread.join(5)
        self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self._server.server_address[1]

    @property
    def host_port(self):
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self):
        return f"https://{self.host_port}"

    # -- routing (for subclasses)

    def setup_routes(self):
        """Subclasses call self.route(...) here."""

    def route(self, method, pattern, fn):
        """fn(req, match) -> Response. pattern is a regex matched against the full path."""
        self._routes.append((method.upper(), re.compile(pattern + r"\Z"), fn))

    def check_auth(self, req):
        """Return None if req may proceed, else the Response to send."""
        return None

    def not_found(self, req):
        return json_response({"error": "Record not found"}, 404)

    def error_response(self, status, body=None, headers=None):
        """The body sent for an injected status when the test gave none."""
        if body is None:
            body = {"error": _REASONS.get(status, "Error")}
        if isinstance(body, (bytes, str)):
            b = body.encode() if isinstance(body, str) else body
            return Response(status, b, dict(headers or {}))
        return json_response(body, status, headers)

    def extra_headers(self, req, resp):
        """Headers added to every answer (rate limits, ...)."""
        return {}

    # -- faults

    def inject(self, **kw):
        """Add a Fault (see its fields); returns it."""
        f = Fault(**kw)
        with self._lock:
            self._faults.append(f)
        return f

    def fail_next(self, n=1, status=500, body=None, headers=None, path=None):
        return self.inject(count=n, status=status, body=body, headers=headers, path=path)

    def delay_next(self, n=1, seconds=1.0, path=None):
        return self.inject(count=n, delay=seconds, path=path)

    def drop_next(self, n=1, path=None):
        return self.inject(count=n, drop=True, path=path)

    def clear_faults(self):
        with self._lock:
            self._faults.clear()

    # -- request log

    @property
    def requests(self):
        with self._lock:
            return list(self._log)

    def requests_to(self, path, method="GET", status=None):
        """Completed requests whose path equals `path` (and status if given)."""
        return [r for r in self.requests
                if r.path == path and (method is None or r.method == method)
                and (status is None or r.status == status)]

    def clear_log(self):
        with self._lock:
            self._log.clear()

    # -- internals

    def _track(self, conn, add):
        with self._lock:
            (self._conns.add if add else self._conns.discard)(conn)

    def _note_tls_error(self, addr, e):
        with self._lock:
            self.tls_errors.append((addr, str(e)))

    def _note_error(self, tb):
        with self._lock:
            self.errors.append(tb)

    def _take_fault(self, method, path):
        with self._lock:
            for f in self._faults:
                if f.matches(method, path):
                    f.count -= 1
                    return f
        return None

    @staticmethod
    def _read_body(h):
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(h.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while h.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(h.rfile.read(size))
                h.rfile.readline()
            return b"".join(chunks)
        n = int(h.headers.get("Content-Length") or 0)
        return h.rfile.read(n) if n > 0 else b""

    def _dispatch(self, h):
        url = urllib.parse.urlsplit(h.path)
        req = LoggedRequest(
            method=h.command, path=url.path, raw_path=h.path,
            query=urllib.parse.parse_qs(url.query, keep_blank_values=True),
            headers={k.lower(): v for k, v in h.headers.items()},
            body=self._read_body(h), time=time.monotonic())
        try:
            resp = self._answer(req)
            if resp is None:               # drop
                h.close_connection = True
                return
            self._send(h, req, resp)
        finally:
            with self._lock:
                self._log.append(req)

    def _answer(self, req):
        fault = self._take_fault(req.method, req.path)
        if fault is not None:
            req.fault = True
            if fault.delay:
                time.sleep(fault.delay)
            if fault.drop:
                return None
            if fault.status is not None:
                resp = self.error_response(fault.status, fault.body, fault.headers)
                resp.truncate = fault.truncate
                return resp
        try:
            resp = self.hook(req) if self.hook else None
            if resp is None:
                resp = self.check_auth(req)
            if resp is None:
                resp = self._route(req)
        except Exception:
            self._note_error(traceback.format_exc())
            resp = json_response({"error": "fake server bug, see FakeServer.errors"}, 500)
        if fault is not None and fault.truncate:
            resp.truncate = True
        return resp

    def _route(self, req):
        allowed = False
        for method, rx, fn in self._routes:
            m = rx.match(req.path)
            if m:
                if method == req.method or (method == "GET" and req.method == "HEAD"):
                    return fn(req, m)
                allowed = True
        if allowed:
            return json_response({"error": "Method not allowed"}, 405)
        return self.not_found(req)

    def _send(self, h, req, resp):
        req.status = resp.status
        body = resp.body
        headers = {"Content-Type": resp.content_type}
        headers.update(self.extra_headers(req, resp))
        headers.update(resp.headers)
        h.send_response(resp.status)
        for k, v in headers.items():
            if v is not None:
                h.send_header(k, str(v))
        h.send_header("Content-Length", str(len(body)))
        truncate = resp.truncate
        if truncate:
            h.send_header("Connection", "close")
            h.close_connection = True
        h.end_headers()
        if req.method != "HEAD":
            h.wfile.write(body[: len(body) // 2] if truncate else body)
        h.wfile.flush()


def iso_ms(t):
    """ISO 8601 UTC with milliseconds, as Mastodon writes created_at."""
    if isinstance(t, str):
        return t
    if isinstance(t, (int, float)):
        t = _dt.datetime.fromtimestamp(t, _dt.timezone.utc)
    t = t.astimezone(_dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def iso_us(t):
    """ISO 8601 UTC with microseconds, as Mastodon writes X-RateLimit-Reset."""
    return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def html_to_text(s):
    """Rough plain text of simple Mastodon HTML, for test expectations only."""
    s = re.sub(r"<br\s*/?>", "\n", s)
    s = re.sub(r"</p>\s*<p>", "\n\n", s)
    return html.unescape(re.sub(r"<[^>]+>", "", s)).strip()


# ---------------------------------------------------------------- Mastodon


class FakeMastodon(FakeServer):
    """GET /api/v1/notifications and friends, per docs.joinmastodon.org.

    Notification ids are numeric strings that grow by one per notification,
    starting at first_id (default 98, so that ids soon gain a digit and a
    client that compares them as plain strings goes wrong). Statuses get
    snowflake-like 18-digit ids.
    """

    name = "mastodon"
    DEFAULT_LIMIT = 40
    MAX_LIMIT = 80

    def __init__(self, token="heed-test-token-mastodon", first_id=98, rate_limit=300,
                 enforce_rate_limit=False, **kw):
        self.token = token
        self._ids = itertools.count(first_id)
        self._status_ids = itertools.count(113_000_000_000_000_001)
        self._notifs = {}            # int id -> notification JSON (dict)
        self._accounts = {"me": "1"}
        self._account_ids = itertools.count(1001)
        self.following = set()       # accts the user follows (relationships)
        self.followers = set()       # accts following the user
        self.markers = {}
        self.rate_limit = rate_limit
        self.enforce_rate_limit = enforce_rate_limit
        # username -> (bytes, content type) served at /avatars/USERNAME.png;
        # absent: a tiny PNG. Tests may put a huge or non-image body here.
        self.avatars = {}
        self._rl_window_start = time.time()
        self._rl_count = 0
        super().__init__(**kw)

    # -- state helpers for tests

    def _account_id(self, acct):
        with self._lock:
            if acct not in self._accounts:
                self._accounts[acct] = str(next(self._account_ids))
            return self._accounts[acct]

    def account_json(self, acct, display_name=None, bot=False):
        username = acct.split("@")[0]
        return {
            "id": self._account_id(acct), "username": username, "acct": acct,
            "display_name": display_name if display_name is not None else username,
            "locked": False, "bot": bool(bot), "discoverable": True, "group": False,
            "created_at": "2022-11-05T00:00:00.000Z", "note": "",
            "url": f"{self.base_url}/@{acct}", "uri": f"{self.base_url}/users/{username}",
            "avatar": f"{self.base_url}/avatars/{username}.png",
            "avatar_static": f"{self.base_url}/avatars/{username}.png",
            "header": f"{self.base_url}/headers/original/missing.png",
            "header_static": f"{self.base_url}/headers/original/missing.png",
            "followers_count": 3, "following_count": 5, "statuses_count": 42,
            "last_status_at": "2026-01-01", "emojis": [], "fields": [],
        }

    def me_json(self):
        a = self.account_json("me", "Me Myself")
        a["source"] = {"privacy": "public", "sensitive": False, "language": "en", "note": "",
                       "fields": [], "follow_requests_count": 0}
        return a

    def _mention_ref(self, acct):
        username = acct.split("@")[0]
        return {"id": self._account_id(acct), "username": username, "acct": acct,
                "url": f"{self.base_url}/@{acct}"}

    def add_mention(self, acct="alice@fake.social", display_name="Alice Example",
                    text_html="<p>Hello there</p>", visibility="public",
                    in_reply_to_account_id=None, bot=False, status_null=False,
                    type="mention", in_reply_to_id=None, created_at=None,
                    mentions=None, status_extra=None):
        """Add a notification (newest) and return its id (a numeric string).

        mentions: extra accts named in the post (the user "me" is always
        named). status_extra: fields merged into the status JSON.
        """
        now = created_at if created_at is not None else _dt.datetime.now(_dt.timezone.utc)
        with self._lock:
            nid = next(self._ids)
            sid = str(next(self._status_ids))
        account = self.account_json(acct, display_name, bot)
        status = None
        if not status_null:
            username = account["username"]
            status = {
                "id": sid,
                "uri": f"{self.base_url}/users/{username}/statuses/{sid}",
                "url": f"{self.base_url}/@{username}/{sid}",
                "created_at": iso_ms(now), "edited_at": None,
                "content": text_html, "spoiler_text": "", "sensitive": False,
                "visibility": visibility, "language": "en",
                "in_reply_to_id": in_reply_to_id,
                "in_reply_to_account_id": in_reply_to_account_id,
                "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
                "mentions": [self._mention_ref("me")] + [self._mention_ref(a) for a in (mentions or [])],
                "tags": [], "emojis": [], "media_attachments": [], "card": None, "poll": None,
                "reblog": None, "application": None, "favourited": False, "reblogged": False,
                "muted": False, "bookmarked": False, "account": account,
            }
            status.update(status_extra or {})
        notif = {"id": str(nid), "type": type, "created_at": iso_ms(now),
                 "group_key": f"ungrouped-{nid}", "account": account, "status": status}
        with self._lock:
            self._notifs[nid] = notif
        return str(nid)

    def add_many(self, n, text="<p>Catch-up item {i:03d} zq</p>", **kw):
        """Add n mentions from n different people; text may use {i}. Returns the ids."""
        ids = []
        for i in range(n):
            args = {"acct": f"friend{i}@fake.social", "display_name": f"Friend {i}"}
            args.update(kw)
            ids.append(self.add_mention(text_html=text.format(i=i), **args))
        return ids

    def remove(self, nid):
        with self._lock:
            self._notifs.pop(int(nid), None)

    def notification(self, nid):
        with self._lock:
            return self._notifs[int(nid)]

    def status_url(self, nid):
        return self.notification(nid)["status"]["url"]

    def all_ids(self):
        """All notification ids, newest first."""
        with self._lock:
            return [str(i) for i in sorted(self._notifs, reverse=True)]

    def polls(self, status=200):
        """Completed GET /api/v1/notifications requests (with that status; None = any)."""
        return self.requests_to("/api/v1/notifications", status=status)

    # -- HTTP

    def setup_routes(self):
        self.route("GET", r"/api/v1/notifications", self._get_notifications)
        self.route("GET", r"/api/v1/notifications/unread_count", self._unread_count)
        self.route("GET", r"/api/v1/notifications/(\d+)", self._get_notification)
        self.route("POST", r"/api/v1/notifications/(\d+)/dismiss", self._dismiss)
        self.route("GET", r"/api/v1/accounts/verify_credentials", self._verify_credentials)
        self.route("GET", r"/api/v1/accounts/relationships", self._relationships)
        self.route("GET", r"/api/v1/markers", self._get_markers)
        self.route("POST", r"/api/v1/markers", self._post_markers)
        self.route("GET", r"/api/v1/instance", self._instance)
        self.route("GET", r"/api/v2/instance", self._instance)
        self.route("GET", r"/avatars/([A-Za-z0-9_.-]+)\.png", self._avatar)

    def _avatar(self, req, m):
        body, ctype = self.avatars.get(m.group(1), (tiny_png(), "image/png"))
        return Response(200, body, {"Content-Type": ctype})

    def avatar_requests(self):
        return [r for r in self.requests if r.path.startswith("/avatars/")]

    def check_auth(self, req):
        if req.path.startswith("/api/v1/instance") or req.path.startswith("/api/v2/instance"):
            return None
        if req.path.startswith("/avatars/"):
            return None  # public files: heed must not send the token there either
        if req.header("authorization") != f"Bearer {self.token}":
            return json_response({"error": "The access token is invalid"}, 401)
        if self.enforce_rate_limit and self._rate_used() > self.rate_limit:
            return json_response({"error": "Too many requests"}, 429)
        return None

    def _rate_used(self):
        with self._lock:
            return self._rl_count

    def extra_headers(self, req, resp):
        if not req.path.startswith("/api/"):
            return {}
        with self._lock:
            now = time.time()
            if now - self._rl_window_start >= 300:
                self._rl_window_start, self._rl_count = now, 0
            self._rl_count += 1
            remaining = max(0, self.rate_limit - self._rl_count)
            reset = _dt.datetime.fromtimestamp(self._rl_window_start + 300, _dt.timezone.utc)
        return {"X-RateLimit-Limit": self.rate_limit, "X-RateLimit-Remaining": remaining,
                "X-RateLimit-Reset": iso_us(reset),
                "Date": email.utils.formatdate(usegmt=True)}

    @staticmethod
    def _id_param(req, name):
        v = req.param(name)
        if v is None or v == "":
            return None
        if not v.isdigit():
            raise ValueError(f"{name} is not a numeric id: {v!r}")
        return int(v)

    def _limit(self, req):
        v = req.param("limit")
        if v is None:
            return self.DEFAULT_LIMIT
        m = re.match(r"\s*[-+]?(\d+)", v)           # like Ruby's to_i.abs
        return min(int(m.group(1)) if m else 0, self.MAX_LIMIT)

    def _filtered(self, req):
        types = req.query.get("types[]") or []
        exclude = req.query.get("exclude_types[]") or []
        with self._lock:
            items = sorted(self._notifs.items())
        return [(i, n) for i, n in items
                if (not types or n["type"] in types) and n["type"] not in exclude]

    def page(self, req):
        """The notifications for a request, newest first (also used by the self-test)."""
        limit = self._limit(req)
        max_id = self._id_param(req, "max_id")
        since_id = self._id_param(req, "since_id")
        min_id = self._id_param(req, "min_id")
        items = self._filtered(req)                   # ascending
        if min_id is not None:
            sel = [n for i, n in items if i > min_id and (max_id is None or i < max_id)]
            return list(reversed(sel[:limit]))
        sel = [n for i, n in items
               if (max_id is None or i < max_id) and (since_id is None or i > since_id)]
        return list(reversed(sel))[:limit]

    def _link(self, req, page):
        if not page:
            return None
        echo = []
        if req.param("limit") is not None:
            echo.append(("limit", req.param("limit")))
        for key in ("types[]", "exclude_types[]"):
            for v in req.query.get(key) or []:
                echo.append((key, v))
        base = f"{self.base_url}/api/v1/notifications?"

        def url(extra):
            pairs = sorted(echo + [extra], key=lambda kv: kv[0])   # Rails' to_query sorts keys
            return base + urllib.parse.urlencode(pairs)
        return (f'<{url(("max_id", page[-1]["id"]))}>; rel="next", '
                f'<{url(("min_id", page[0]["id"]))}>; rel="prev"')

    def _get_notifications(self, req, m):
        try:
            page = self.page(req)
        except ValueError as e:
            return json_response({"error": str(e)}, 400)
        link = self._link(req, page)
        return json_response(page, headers={"Link": link} if link else {})

    def _unread_count(self, req, m):
        last = int(self.markers.get("notifications", "0"))
        return json_response({"count": sum(1 for i, _ in self._filtered(req) if i > last)})

    def _get_notification(self, req, m):
        with self._lock:
            n = self._notifs.get(int(m.group(1)))
        return json_response(n) if n else self.not_found(req)

    def _dismiss(self, req, m):
        self.remove(m.group(1))
        return json_response({})

    def _verify_credentials(self, req, m):
        return json_response(self.me_json())

    def _relationships(self, req, m):
        out = []
        with self._lock:
            by_id = {v: k for k, v in self._accounts.items()}
        for aid in (req.query.get("id[]") or []) + (req.query.get("id") or []):
            acct = by_id.get(aid, "")
            out.append({"id": aid, "following": acct in self.following,
                        "followed_by": acct in self.followers, "showing_reblogs": True,
                        "notifying": False, "languages": None, "blocking": False,
                        "blocked_by": False, "muting": False, "muting_notifications": False,
                        "requested": False, "requested_by": False, "domain_blocking": False,
                        "endorsed": False, "note": ""})
        return json_response(out)

    def _markers_json(self, timelines):
        now = iso_ms(_dt.datetime.now(_dt.timezone.utc))
        return {tl: {"last_read_id": self.markers[tl], "version": 1, "updated_at": now}
                for tl in timelines if tl in self.markers}

    def _get_markers(self, req, m):
        return json_response(self._markers_json(req.query.get("timeline[]") or []))

    def _post_markers(self, req, m):
        form = urllib.parse.parse_qs(req.body.decode(errors="replace"))
        if req.header("content-type", "").startswith("application/json"):
            try:
                data = json.loads(req.body or b"{}")
                form = {f"{k}[last_read_id]": [v.get("last_read_id")] for k, v in data.items()}
            except (ValueError, AttributeError):
                return json_response({"error": "Invalid JSON"}, 422)
        for key, vals in form.items():
            mm = re.fullmatch(r"(\w+)\[last_read_id\]", key)
            if mm and vals and vals[0]:
                self.markers[mm.group(1)] = str(vals[0])
        return json_response(self._markers_json(list(self.markers)))

    def _instance(self, req, m):
        return json_response({
            "uri": self.host_port, "domain": self.host_port, "title": "fake.social",
            "version": "4.3.0", "api_versions": {"mastodon": 2},
            "configuration": {"urls": {"streaming": f"wss://{self.host_port}"}},
        })
