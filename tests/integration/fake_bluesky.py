# SPDX-License-Identifier: MIT
"""fake_bluesky: a fake Bluesky PDS (XRPC over real TLS on loopback).

FakeBluesky is a FakeServer (fakenet.py) holding one account, the user's,
with an app password. It speaks the parts of the AT Protocol heed uses, as
the lexicons and the reference PDS/AppView describe them:

  POST /xrpc/com.atproto.server.createSession   {"identifier","password"} -> session
  POST /xrpc/com.atproto.server.refreshSession  Bearer <refreshJwt>, no body -> new
       session; the refresh token used is revoked (rotation)
  POST /xrpc/com.atproto.server.deleteSession   Bearer <refreshJwt>, no body -> the
       session ends: its refresh token is revoked (deleted_sessions lists them)
  GET  /xrpc/com.atproto.server.getSession      Bearer <accessJwt> -> {handle, did, active}
  GET  /xrpc/app.bsky.notification.listNotifications?limit&cursor&reasons=..
       the reasons filter runs AFTER a page of `limit` raw notifications is
       read, as on the real AppView, so a page can be short or empty while a
       cursor still comes back
  GET  /xrpc/app.bsky.feed.getAuthorFeed?actor&filter&limit&cursor

Errors are XRPC bodies {"error": Name, "message": ...}. An expired access
token gets 400 ExpiredToken (access_expired_status=401 for the variant some
proxies send). Every XRPC answer carries RateLimit-Limit/-Remaining/-Reset
(epoch seconds)/-Policy.

Cursors: cursor_style="time" sends what the Bluesky AppView sends, the
indexedAt of the last raw item read; "opaque" sends an opaque keyset token,
so a client cannot read anything into it.

Tests drive it with add_mention/add_reply/add_quote/add_like/add_own_reply,
expire_access()/expire_refresh(), and read create_calls/refresh_calls,
polls() and pages(). Only the standard library is used.
"""

import base64
import datetime as _dt
import itertools
import json
import re
import secrets
import time

from fakenet import FakeServer, json_response

XRPC = "/xrpc/"
LIST = XRPC + "app.bsky.notification.listNotifications"
FEED = XRPC + "app.bsky.feed.getAuthorFeed"
CREATE = XRPC + "com.atproto.server.createSession"
REFRESH = XRPC + "com.atproto.server.refreshSession"
DELETE = XRPC + "com.atproto.server.deleteSession"
GET_SESSION = XRPC + "com.atproto.server.getSession"

_TID_CHARS = "234567abcdefghijklmnopqrstuvwxyz"


def _iso(t):
    """ISO 8601 UTC with milliseconds, as the AppView writes indexedAt."""
    ms = round(t * 1000)
    d = _dt.datetime.fromtimestamp(ms // 1000, _dt.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def _tid(n):
    """A record key shaped like an atproto TID (13 base32-sortable chars)."""
    v = (int(time.time() * 1_000_000) << 10) | (n & 1023)
    out = []
    for _ in range(13):
        out.append(_TID_CHARS[v & 31])
        v >>= 5
    return "".join(reversed(out))


def did_for(handle):
    return "did:plc:" + re.sub(r"[^a-z0-9]", "", handle.lower())


def web_url(uri):
    """https://bsky.app/profile/<did>/post/<rkey> for at://<did>/app.bsky.feed.post/<rkey>."""
    m = re.fullmatch(r"at://([^/]+)/app\.bsky\.feed\.post/([^/]+)", uri)
    if not m:
        raise ValueError(f"not a post at-uri: {uri}")
    return f"https://bsky.app/profile/{m.group(1)}/post/{m.group(2)}"


def xrpc_error(status, name, message):
    return json_response({"error": name, "message": message}, status)


class FakeBluesky(FakeServer):
    name = "bluesky"
    DEFAULT_LIMIT = 50
    MAX_LIMIT = 100

    def __init__(self, identifier="alice.test", password="abcd-efgh-ijkl-mnop", display_name="Alice",
                 cursor_style="time", access_expired_status=400, rate_limit=3000, **kw):
        if cursor_style not in ("time", "opaque"):
            raise ValueError("cursor_style is 'time' or 'opaque'")
        self.identifier = identifier
        self.password = password
        self.handle = identifier
        self.did = did_for(identifier)
        self.display_name = display_name
        self.cursor_style = cursor_style
        self.access_expired_status = access_expired_status
        self.rate_limit = rate_limit
        self._seq = itertools.count(1)
        self._last_ms = 0
        self._notifs = []          # oldest first; dicts with private "_seq"/"_t" keys
        self._own = []             # the user's own posts, oldest first, same keys
        self._access = {}          # token -> "valid" | "expired"
        self._refresh = {}         # token -> "valid" | "expired" | "revoked"
        self.create_calls = 0
        self.refresh_calls = 0
        self.deleted_sessions = []  # refresh tokens handed to deleteSession
        self.empty_pages_with_cursor = 0
        self._rl_window_start = time.time()
        self._rl_count = 0
        super().__init__(**kw)

    # ------------------------------------------------------------ clock and ids

    def _now(self):
        """Strictly increasing whole milliseconds (as seconds), so that no two
        items share an indexedAt and a time cursor is an exact keyset."""
        with self._lock:
            ms = max(int(time.time() * 1000), self._last_ms + 1)
            self._last_ms = ms
            return ms / 1000

    def _next_seq(self):
        with self._lock:
            return next(self._seq)

    # ------------------------------------------------------------ sessions

    def _new_session(self):
        access = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ." + secrets.token_urlsafe(24) + ".acc"
        refresh = "eyJ0eXAiOiJyZWZyZXNoK2p3dCIsImFsZyI6IkVTMjU2SyJ9." + secrets.token_urlsafe(24) + ".ref"
        with self._lock:
            self._access[access] = "valid"
            self._refresh[refresh] = "valid"
        return {"did": self.did, "handle": self.handle, "accessJwt": access, "refreshJwt": refresh,
                "active": True}

    def expire_access(self):
        """Every access token issued so far now gets ExpiredToken."""
        with self._lock:
            for k in self._access:
                self._access[k] = "expired"

    def expire_refresh(self):
        """Every refresh token issued so far is expired too (the session is dead)."""
        with self._lock:
            for k in self._refresh:
                if self._refresh[k] == "valid":
                    self._refresh[k] = "expired"

    def access_tokens_used(self):
        """Bearer tokens sent to listNotifications, in order (for "was the session reused")."""
        return [r.header("authorization", "")[7:] for r in self.requests_to(LIST)]

    # ------------------------------------------------------------ content

    def profile(self, handle, display_name=None, follows_me=False, i_follow=False, bot=False):
        did = did_for(handle)
        viewer = {"muted": False, "blockedBy": False}
        if i_follow:
            viewer["following"] = f"at://{self.did}/app.bsky.graph.follow/{_tid(1)}"
        if follows_me:
            viewer["followedBy"] = f"at://{did}/app.bsky.graph.follow/{_tid(2)}"
        p = {"did": did, "handle": handle, "viewer": viewer, "labels": [],
             "createdAt": "2023-06-01T00:00:00.000Z", "indexedAt": "2023-06-01T00:00:00.000Z"}
        if display_name is not None:
            p["displayName"] = display_name
        if bot:
            p["labels"] = [{"src": did, "uri": f"at://{did}/app.bsky.actor.profile/self", "cid": "bafyself",
                            "val": "bot", "cts": "2023-06-01T00:00:00.000Z"}]
        return p

    def _post_record(self, text, t, reply_to=None, quote=None):
        rec = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _iso(t - 0.5), "langs": ["en"]}
        me = "@" + self.handle
        i = text.find(me)
        if i >= 0:
            start = len(text[:i].encode())
            rec["facets"] = [{"index": {"byteStart": start, "byteEnd": start + len(me.encode())},
                              "features": [{"$type": "app.bsky.richtext.facet#mention", "did": self.did}]}]
        if reply_to:
            rec["reply"] = {"root": {"uri": reply_to, "cid": "bafyroot"},
                            "parent": {"uri": reply_to, "cid": "bafyparent"}}
        if quote:
            rec["embed"] = {"$type": "app.bsky.embed.record", "record": {"uri": quote, "cid": "bafyquoted"}}
        return rec

    def _add(self, reason, handle, display_name, record, collection, subject=None, backdate=0, **profile_kw):
        """backdate: the record claims to be this many seconds older than now
        (written offline, bridged, a wrong clock). The AppView then sorts and
        dates the notification by that claim, so it lands below items
        already listed."""
        seq = self._next_seq()
        t = self._now() - backdate
        author = self.profile(handle, display_name, **profile_kw)
        uri = f"at://{author['did']}/{collection}/{_tid(seq)}"
        n = {"uri": uri, "cid": f"bafyrei{seq:08d}", "author": author, "reason": reason,
             "record": record(t), "isRead": False, "indexedAt": _iso(t), "labels": [],
             "_seq": seq, "_t": t}
        if subject:
            n["reasonSubject"] = subject
        with self._lock:
            self._notifs.append(n)
            self._notifs.sort(key=lambda i: (i["_t"], i["_seq"]))
        return uri

    def my_post_uri(self, rkey="3kmypost2222a"):
        return f"at://{self.did}/app.bsky.feed.post/{rkey}"

    def add_mention(self, handle="bob.test", display_name="Bob Example", text=None, reason="mention", **kw):
        """A post naming the user; returns its at-uri. kw: follows_me, i_follow,
        bot, backdate (seconds)."""
        if text is None:
            text = f"@{self.handle} hello there"
        subject = None
        reply_to = quote = None
        if reason == "reply":
            subject = reply_to = self.my_post_uri()
        elif reason == "quote":
            subject = quote = self.my_post_uri()
        return self._add(reason, handle, display_name,
                         lambda t: self._post_record(text, t, reply_to=reply_to, quote=quote),
                         "app.bsky.feed.post", subject, **kw)

    def add_reply(self, **kw):
        return self.add_mention(reason="reply", **kw)

    def add_quote(self, **kw):
        return self.add_mention(reason="quote", **kw)

    def add_like(self, handle="carol.test", display_name="Carol", backdate=0):
        subject = self.my_post_uri()
        return self._add("like", handle, display_name,
                         lambda t: {"$type": "app.bsky.feed.like", "createdAt": _iso(t),
                                    "subject": {"uri": subject, "cid": "bafysubject"}},
                         "app.bsky.feed.like", subject, backdate=backdate)

    def add_likes(self, n, **kw):
        return [self.add_like(**kw) for _ in range(n)]

    def add_own_reply(self, parent_uri, text="thanks!"):
        """The user's own reply to parent_uri, for getAuthorFeed; returns its at-uri."""
        seq = self._next_seq()
        t = self._now()
        uri = f"at://{self.did}/app.bsky.feed.post/{_tid(seq)}"
        post = {"uri": uri, "cid": f"bafyown{seq:08d}",
                "author": {"did": self.did, "handle": self.handle, "displayName": self.display_name},
                "record": self._post_record(text, t, reply_to=parent_uri),
                "replyCount": 0, "repostCount": 0, "likeCount": 0, "quoteCount": 0,
                "indexedAt": _iso(t), "labels": [], "_seq": seq, "_t": t}
        with self._lock:
            self._own.append(post)
        return uri

    def all_mention_uris(self, reasons=("mention", "reply", "quote")):
        with self._lock:
            return [n["uri"] for n in self._notifs if n["reason"] in reasons]

    # ------------------------------------------------------------ request log helpers

    def polls(self, status=200):
        """Completed listNotifications requests that start a poll (no cursor)."""
        return [r for r in self.requests_to(LIST, status=status) if r.param("cursor") is None]

    def pages(self, status=200):
        return self.requests_to(LIST, status=status)

    # ------------------------------------------------------------ HTTP

    def setup_routes(self):
        self.route("POST", re.escape(CREATE), self._create_session)
        self.route("POST", re.escape(REFRESH), self._refresh_session)
        self.route("POST", re.escape(DELETE), self._delete_session)
        self.route("GET", re.escape(GET_SESSION), self._get_session)
        self.route("GET", re.escape(LIST), self._list_notifications)
        self.route("GET", re.escape(FEED), self._author_feed)

    def not_found(self, req):
        return xrpc_error(404, "MethodNotImplemented", "Method Not Implemented")

    def check_auth(self, req):
        if req.path in (CREATE, REFRESH, DELETE) or not req.path.startswith(XRPC):
            return None
        auth = req.header("authorization", "")
        if not auth.startswith("Bearer "):
            return xrpc_error(401, "AuthenticationRequired", "Authentication Required")
        token = auth[7:]
        with self._lock:
            state = self._access.get(token)
            is_refresh = token in self._refresh
        if state == "valid":
            return None
        if state == "expired":
            return xrpc_error(self.access_expired_status, "ExpiredToken", "Token has expired")
        if is_refresh:
            return xrpc_error(400, "InvalidToken", "Bad token scope")
        return xrpc_error(400, "InvalidToken", "Token could not be verified")

    def extra_headers(self, req, resp):
        if not req.path.startswith(XRPC):
            return {}
        with self._lock:
            now = time.time()
            if now - self._rl_window_start >= 300:
                self._rl_window_start, self._rl_count = now, 0
            self._rl_count += 1
            remaining = max(0, self.rate_limit - self._rl_count)
            reset = int(self._rl_window_start + 300)
        return {"RateLimit-Limit": self.rate_limit, "RateLimit-Remaining": remaining,
                "RateLimit-Reset": reset, "RateLimit-Policy": f"{self.rate_limit};w=300"}

    def _create_session(self, req, m):
        with self._lock:
            self.create_calls += 1
        try:
            body = json.loads(req.body or b"")
        except ValueError:
            return xrpc_error(400, "InvalidRequest", "Request body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("identifier"), str) \
                or not isinstance(body.get("password"), str):
            return xrpc_error(400, "InvalidRequest", "identifier and password are required")
        ident = body["identifier"].lower()
        if ident not in (self.identifier.lower(), self.did) or body["password"] != self.password:
            return xrpc_error(401, "AuthenticationRequired", "Invalid identifier or password")
        return json_response(self._new_session())

    def _refresh_session(self, req, m):
        with self._lock:
            self.refresh_calls += 1
        auth = req.header("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        if req.body:
            return xrpc_error(400, "InvalidRequest", "refreshSession takes no body")
        with self._lock:
            state = self._refresh.get(token)
            if state == "valid":
                self._refresh[token] = "revoked"
        if state is None:
            return xrpc_error(400, "InvalidToken", "Token could not be verified")
        if state == "revoked":
            return xrpc_error(400, "ExpiredToken", "Token has been revoked")
        if state == "expired":
            return xrpc_error(400, "ExpiredToken", "Token has expired")
        return json_response(self._new_session())

    def _delete_session(self, req, m):
        auth = req.header("authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else None
        with self._lock:
            state = self._refresh.get(token)
            if state is None:
                return xrpc_error(400, "InvalidToken", "Token could not be verified")
            self._refresh[token] = "revoked"
            self.deleted_sessions.append(token)
        return json_response({})

    def _get_session(self, req, m):
        return json_response({"handle": self.handle, "did": self.did, "active": True})

    def _limit(self, req):
        v = req.param("limit")
        if v is None:
            return self.DEFAULT_LIMIT
        if not v.isdigit() or not 1 <= int(v) <= self.MAX_LIMIT:
            raise ValueError(f"limit must be an integer from 1 to {self.MAX_LIMIT}")
        return int(v)

    def _cursor_for(self, item):
        if self.cursor_style == "time":
            return item["indexedAt"]
        return base64.urlsafe_b64encode(f"k:{round(item['_t'] * 1000)}:{item['_seq']}:{item['cid']}".encode()).decode()

    def _before_cursor(self, items, cursor):
        """Items (newest first) strictly after the cursor position."""
        if cursor is None:
            return items
        if self.cursor_style == "time":
            try:
                t = _dt.datetime.fromisoformat(cursor.replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise ValueError("malformed cursor")
            return [i for i in items if round(i["_t"] * 1000) < round(t * 1000)]
        try:
            parts = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
            key = (int(parts[1]), int(parts[2]))
        except (ValueError, IndexError):
            raise ValueError("malformed cursor")
        return [i for i in items if (round(i["_t"] * 1000), i["_seq"]) < key]

    @staticmethod
    def _public(item):
        return {k: v for k, v in item.items() if not k.startswith("_")}

    def _list_notifications(self, req, m):
        if req.param("seenAt") is not None:
            return xrpc_error(400, "InvalidRequest", "The seenAt parameter is unsupported")
        try:
            limit = self._limit(req)
            with self._lock:
                items = list(reversed(self._notifs))
            raw = self._before_cursor(items, req.param("cursor"))[:limit]
        except ValueError as e:
            return xrpc_error(400, "InvalidRequest", str(e))
        reasons = req.query.get("reasons")
        page = [self._public(n) for n in raw if not reasons or n["reason"] in reasons]
        body = {"notifications": page, "priority": False}
        if raw:
            body["cursor"] = self._cursor_for(raw[-1])
            if not page:
                with self._lock:
                    self.empty_pages_with_cursor += 1
        return json_response(body)

    def _author_feed(self, req, m):
        actor = req.param("actor")
        if actor not in (self.did, self.handle):
            return xrpc_error(400, "InvalidRequest", "Profile not found")
        try:
            limit = self._limit(req)
            with self._lock:
                items = list(reversed(self._own))
            raw = self._before_cursor(items, req.param("cursor"))[:limit]
        except ValueError as e:
            return xrpc_error(400, "InvalidRequest", str(e))
        body = {"feed": [{"post": self._public(p)} for p in raw]}
        if raw:
            body["cursor"] = self._cursor_for(raw[-1])
        return json_response(body)
