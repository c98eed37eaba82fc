# SPDX-License-Identifier: MIT
"""fake_x: a fake X API v2 (api.x.com) over real TLS, for heed's x driver.

A FakeServer (fakenet.py) modelling the parts of the API that heed reads,
as documented in xdevplatform/docs (see /work/shared/reference/network-apis.md §4):

  GET /2/users/me                 the token's own user
  GET /2/users/:id/mentions       newest first, max_results 5..100 (default 10),
                                  since_id (exclusive), until_id,
                                  pagination_token from meta.next_token;
                                  only the newest 800 mentions are reachable
  GET /2/users/:id/tweets         the user's own posts, same paging

and the OAuth 2.0 sign-in with PKCE, as docs.x.com describes it
(fundamentals/authentication/oauth-2-0/authorization-code.mdx,
user-access-token.mdx):

  GET  /i/oauth2/authorize        response_type=code, client_id, redirect_uri,
                                  scope, state, code_challenge (S256 only):
                                  the page where a person clicks "Authorize app"
  POST /2/oauth2/token            form-encoded; a public client names itself
                                  with client_id in the body (a confidential one
                                  with HTTP Basic). grant_type=authorization_code
                                  (code, redirect_uri, code_verifier) or
                                  grant_type=refresh_token (refresh_token) ->
                                  {token_type: "bearer", expires_in, access_token,
                                  scope, refresh_token (with offline.access)}.
                                  Refresh tokens are single-use: each refresh
                                  hands out a new one, and a used, unknown or
                                  other client's token is a 400 invalid_request
                                  "Value passed for the token was invalid."; a
                                  revoked one (revoke_refresh_tokens) is a 400
                                  invalid_grant. A code is spent by any attempt.
  POST /2/oauth2/revoke           token, client_id -> {"revoked": true}

Access tokens expire after access_expires_in seconds (7200 as on X; a test
makes it a few seconds) and are then a 401 like a wrong token. Nobody clicks
in a test: approve(url) plays the user who opened the authorisation URL and
allowed it, and returns the callback address X sends the browser to
("<redirect_uri>?state=...&code=..."); issue_refresh_token() makes one as
if heed login had run. The old fixed token (token=...) keeps working as an
access token that never expires.

Like the real API it answers only what was asked for: a post carries id,
text and edit_history_tweet_ids unless tweet.fields names more, includes.users
is there only with expansions=author_id, unknown query parameters and field
names are a 400, and text comes with &, < and > escaped as HTML entities.
Every authenticated answer carries x-rate-limit-limit / -remaining / -reset
(epoch seconds) for a 15-minute window per endpoint; enforce_rate_limit makes
going over a 429.

Post ids are snowflake-like numeric strings that start at first_id
(default 999999999999999950, 18 digits) and grow by one, so they soon gain a
19th digit: a client comparing them as plain strings goes wrong.

    fake = FakeX().start()
    tid = fake.add_mention(username="alice", name="Alice Example", text="@heed_user hi")
    fake.tweet_url(tid)  -> "https://x.com/alice/status/<tid>"

Only the standard library is used.
"""

import base64
import datetime as _dt
import hashlib
import html
import itertools
import os
import re
import secrets
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakenet import FakeServer, Response, json_response  # noqa: E402

_TWEET_FIELDS = {"attachments", "author_id", "card_uri", "community_id", "context_annotations",
                 "conversation_id", "created_at", "display_text_range", "edit_controls",
                 "edit_history_tweet_ids", "entities", "geo", "id", "in_reply_to_user_id", "lang",
                 "media_metadata", "non_public_metrics", "note_tweet", "organic_metrics",
                 "possibly_sensitive", "promoted_metrics", "public_metrics", "referenced_tweets",
                 "reply_settings", "scopes", "source", "text", "withheld"}
_USER_FIELDS = {"affiliation", "connection_status", "created_at", "description", "entities", "id",
                "location", "most_recent_tweet_id", "name", "pinned_tweet_id", "profile_banner_url",
                "profile_image_url", "protected", "public_metrics", "receives_your_dm", "subscription_type",
                "url", "username", "verified", "verified_type", "withheld"}
_EXPANSIONS = {"article.cover_media", "article.media_entities", "attachments.media_keys",
               "attachments.media_source_tweet", "attachments.poll_ids", "author_id",
               "edit_history_tweet_ids", "entities.mentions.username", "geo.place_id",
               "in_reply_to_user_id", "entities.note.mentions.username", "referenced_tweets.id",
               "referenced_tweets.id.attachments.media_keys", "referenced_tweets.id.author_id"}
_LIST_PARAMS = {"tweet.fields": _TWEET_FIELDS, "user.fields": _USER_FIELDS, "expansions": _EXPANSIONS,
                "media.fields": None, "poll.fields": None, "place.fields": None}
_TIMELINE_PARAMS = {"since_id", "until_id", "max_results", "pagination_token", "start_time", "end_time",
                    "expansions", "tweet.fields", "user.fields", "media.fields", "poll.fields", "place.fields"}
_ID_RE = re.compile(r"[1-9][0-9]{0,18}\Z")

# heed's callback address and the scopes heed login x asks for.
REDIRECT = "http://127.0.0.1/heed-login"
SCOPES = "tweet.read users.read offline.access"
KNOWN_SCOPES = {"tweet.read", "tweet.write", "tweet.moderate.write", "users.read", "users.email", "follows.read",
                "follows.write", "offline.access", "space.read", "mute.read", "mute.write", "like.read",
                "like.write", "list.read", "list.write", "block.read", "block.write", "bookmark.read",
                "bookmark.write", "media.write"}
TOKEN_INVALID = "Value passed for the token was invalid."


def s256(verifier):
    """The PKCE S256 challenge for a verifier (RFC 7636 §4.2)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")


class BadRequest(Exception):
    """A 400 "Invalid Request" with X's error list."""

    def __init__(self, param, value, message):
        super().__init__(message)
        self.param, self.value, self.message = param, value, message


def problem(status, title, detail, type_="about:blank"):
    """X's problem-details error body."""
    return {"title": title, "detail": detail, "type": type_, "status": status}


def iso_x(t):
    """created_at as X writes it: UTC, milliseconds, Z."""
    t = t.astimezone(_dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class FakeX(FakeServer):
    """See the module docstring."""

    name = "x"
    MENTIONS_REACHABLE = 800
    TWEETS_REACHABLE = 3200
    WINDOW = 900                # rate-limit window, seconds
    RATE_LIMITS = {"me": 75, "mentions": 300, "tweets": 900}   # per user, per window

    def __init__(self, token="heed-test-token-x", me_id="1600000000000000001", me_username="heed_user",
                 me_name="Heed User", first_id=999_999_999_999_999_950, enforce_rate_limit=False,
                 client_id="aGVlZC10ZXN0LWNsaWVudA", redirect_uris=(REDIRECT,), access_expires_in=7200, **kw):
        self.token = token
        self.client_id = client_id
        self.redirect_uris = list(redirect_uris)
        self.access_expires_in = access_expires_in
        self.codes = {}                           # code -> grant (see approve)
        self.access_tokens = {}                   # token -> {"expires", "scopes", "revoked"}
        self.refresh_tokens = {}                  # token -> {"scopes", "used", "revoked"}
        self.token_requests = []                  # parsed POST /2/oauth2/token forms, in order
        self.revoked = []                         # tokens given back through /2/oauth2/revoke
        self.me = {"id": me_id, "username": me_username, "name": me_name}
        self._ids = itertools.count(first_id)
        self._user_ids = itertools.count(2001)
        self._users = {me_id: dict(self.me)}      # id -> user
        self._by_username = {me_username: me_id}
        self._mentions = {}                       # int id -> post (as stored: plain text)
        self._own = {}                            # int id -> post of the user
        self._tokens = set()                      # pagination tokens handed out
        self.rate_limits = dict(self.RATE_LIMITS)
        self.enforce_rate_limit = enforce_rate_limit
        self._rl = {}                             # endpoint -> [window start, used]
        super().__init__(**kw)

    # -- state helpers for tests

    def user(self, username, name=None):
        """The user with that username (made on first use); returns its id."""
        with self._lock:
            uid = self._by_username.get(username)
            if uid is None:
                uid = str(next(self._user_ids))
                self._by_username[username] = uid
                self._users[uid] = {"id": uid, "username": username,
                                    "name": name if name is not None else username}
            elif name is not None:
                self._users[uid]["name"] = name
            return uid

    def _next_id(self):
        with self._lock:
            return next(self._ids)

    def add_mention(self, username="alice", name="Alice Example", text=None, reply_to=None,
                    reply_to_user=None, quote=None, mentions=(), created_at=None, retweet_of=None):
        """Add a post that mentions the user (the newest) and return its id.

        text: plain text (escaped on the wire as X does); by default
        "@<me> hello". reply_to: id of a post this replies to (one of the
        user's own posts makes it a reply to the user); reply_to_user: the
        user id replied to when reply_to is not one of the fake's posts.
        quote: id of a quoted post. mentions: other usernames named.
        """
        uid = self.user(username, name)
        me = self.me["username"]
        if text is None:
            text = f"@{me} hello"
        tid = self._next_id()
        now = created_at or _dt.datetime.now(_dt.timezone.utc)
        post = {"id": str(tid), "text": text, "author_id": uid, "created_at": iso_x(now),
                "conversation_id": str(tid)}
        refs = []
        if reply_to is not None:
            parent = self._find(reply_to)
            post["in_reply_to_user_id"] = parent["author_id"] if parent else (reply_to_user or self.me["id"])
            post["conversation_id"] = parent.get("conversation_id", str(reply_to)) if parent else str(reply_to)
            refs.append({"type": "replied_to", "id": str(reply_to)})
        if quote is not None:
            refs.append({"type": "quoted", "id": str(quote)})
        if retweet_of is not None:
            refs.append({"type": "retweeted", "id": str(retweet_of)})
        if refs:
            post["referenced_tweets"] = refs
        named = [(me, self.me["id"])] + [(u, self.user(u)) for u in mentions]
        ents = []
        for uname, nid in named:
            at = text.find("@" + uname)
            start = at if at >= 0 else 0
            ents.append({"start": start, "end": start + len(uname) + 1, "username": uname, "id": nid})
        post["entities"] = {"mentions": ents}
        with self._lock:
            self._mentions[tid] = post
        return str(tid)

    def add_many(self, n, text="@heed_user catch-up item {i:03d} zq", **kw):
        """Add n mentions from n different people; text may use {i}. Returns the ids."""
        ids = []
        for i in range(n):
            args = {"username": f"friend{i}", "name": f"Friend {i}"}
            args.update(kw)
            ids.append(self.add_mention(text=text.format(i=i), **args))
        return ids

    def add_own_post(self, text="a post of mine", reply_to=None, created_at=None):
        """A post by the user (newest); reply_to: a mention id it answers. Returns its id."""
        tid = self._next_id()
        now = created_at or _dt.datetime.now(_dt.timezone.utc)
        post = {"id": str(tid), "text": text, "author_id": self.me["id"], "created_at": iso_x(now),
                "conversation_id": str(tid)}
        if reply_to is not None:
            parent = self._find(reply_to)
            post["in_reply_to_user_id"] = parent["author_id"] if parent else self.me["id"]
            post["conversation_id"] = parent["conversation_id"] if parent else str(reply_to)
            post["referenced_tweets"] = [{"type": "replied_to", "id": str(reply_to)}]
        with self._lock:
            self._own[tid] = post
        return str(tid)

    def _find(self, tid):
        with self._lock:
            return self._mentions.get(int(tid)) or self._own.get(int(tid))

    def remove(self, tid):
        with self._lock:
            self._mentions.pop(int(tid), None)

    def mention(self, tid):
        with self._lock:
            return dict(self._mentions[int(tid)])

    def tweet_url(self, tid):
        """The web URL of a post, as heed should link it."""
        post = self._find(tid)
        return f"https://x.com/{self._users[post['author_id']]['username']}/status/{tid}"

    def all_ids(self):
        """All mention ids, newest first."""
        with self._lock:
            return [str(i) for i in sorted(self._mentions, reverse=True)]

    def mentions_path(self):
        return f"/2/users/{self.me['id']}/mentions"

    def polls(self, status=200):
        """Completed GET .../mentions requests for the user (with that status; None = any)."""
        return self.requests_to(self.mentions_path(), status=status)

    def me_requests(self):
        return self.requests_to("/2/users/me", status=None)

    # -- OAuth 2.0: playing the user, and for assertions

    def approve(self, url, scopes=None, expires_in=30, deny=False):
        """The user opened the authorisation URL and allowed heed (or denied
        it): return the callback address the browser is sent to. scopes:
        what is granted (default: what was asked). Raises AssertionError
        for a URL X would refuse."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "https" or parts.path != "/i/oauth2/authorize" \
                or parts.netloc not in ("x.com", "twitter.com", self.host_port):
            raise AssertionError(f"not X's authorisation page: {url}")
        q = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
        if any(len(v) > 1 for v in q.values()):
            raise AssertionError(f"repeated parameters in {url}")
        q = {k: v[0] for k, v in q.items()}
        problem = self._check_authorize(q)
        if problem:
            raise AssertionError(f"the authorisation page would refuse {url}: {problem}")
        back = {"state": q["state"]}
        if deny:
            back["error"] = "access_denied"
        else:
            code = secrets.token_urlsafe(48)
            with self._lock:
                self.codes[code] = {"client_id": q["client_id"], "redirect_uri": q["redirect_uri"],
                                    "challenge": q["code_challenge"],
                                    "scopes": list(q["scope"].split() if scopes is None else scopes),
                                    "expires": time.time() + expires_in, "used": False}
            back["code"] = code
        return q["redirect_uri"] + "?" + urllib.parse.urlencode(back)

    def issue_refresh_token(self, scopes=SCOPES):
        """A refresh token as heed login x would have left in the token file."""
        return self._issue(scopes.split())["refresh_token"]

    def expire_access_tokens(self):
        """Every access token handed out so far expires now."""
        with self._lock:
            for t in self.access_tokens.values():
                t["expires"] = 0

    def revoke_refresh_tokens(self):
        """The user removed the app's access on x.com: every refresh token is refused."""
        with self._lock:
            for t in self.refresh_tokens.values():
                t["revoked"] = True

    def refreshes(self):
        """POST /2/oauth2/token requests with grant_type=refresh_token, in order (forms)."""
        with self._lock:
            return [f for f in self.token_requests if f.get("grant_type") == "refresh_token"]

    def token_answers(self, status=None):
        """Logged POST /2/oauth2/token requests (with that status; None = any)."""
        return self.requests_to("/2/oauth2/token", method="POST", status=status)

    def live_refresh_token(self):
        """The one refresh token not used yet, or None."""
        with self._lock:
            live = [t for t, g in self.refresh_tokens.items() if not g["used"] and not g["revoked"]]
        return live[-1] if live else None

    def _issue(self, scopes):
        access = secrets.token_urlsafe(48)
        answer = {"token_type": "bearer", "expires_in": self.access_expires_in, "access_token": access,
                  "scope": " ".join(scopes)}
        with self._lock:
            self.access_tokens[access] = {"expires": time.time() + self.access_expires_in, "scopes": scopes,
                                          "revoked": False}
            if "offline.access" in scopes:
                refresh = secrets.token_urlsafe(48)
                self.refresh_tokens[refresh] = {"scopes": scopes, "used": False, "revoked": False}
                answer["refresh_token"] = refresh
        return answer

    def _check_authorize(self, q):
        if q.get("response_type") != "code":
            return "response_type is not code"
        if q.get("client_id") != self.client_id:
            return "unknown client_id"
        if q.get("redirect_uri") not in self.redirect_uris:
            return "redirect_uri is not the app's callback URI"
        asked = q.get("scope", "").split()
        if not asked or any(s not in KNOWN_SCOPES for s in asked):
            return "scope is missing or names an unknown scope"
        if not q.get("state"):
            return "no state"
        if not q.get("code_challenge") or q.get("code_challenge_method") != "S256":
            return "no S256 code_challenge"
        return None

    @staticmethod
    def _oauth_error(error, description, status=400):
        return json_response({"error": error, "error_description": description}, status)

    def _form(self, req):
        if not (req.header("content-type") or "").startswith("application/x-www-form-urlencoded"):
            return None
        form = urllib.parse.parse_qs(req.body.decode(errors="replace"), keep_blank_values=True)
        return {k: v[0] for k, v in form.items()}

    def _client(self, req, form):
        """The client the request names: Basic auth (confidential) or client_id (public)."""
        auth = req.header("authorization") or ""
        if auth.startswith("Basic "):
            try:
                return base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            except ValueError:
                return None
        return form.get("client_id")

    def _authorize_page(self, req, m):
        q = {k: v[0] for k, v in req.query.items()}
        problem = self._check_authorize(q)
        if problem:
            return Response(400, f"<p>Something went wrong: {html.escape(problem)}</p>".encode(),
                            content_type="text/html; charset=utf-8")
        return Response(200, b"<!DOCTYPE html><title>Authorize app</title><p>heed wants to access your X "
                             b"account.</p><button>Authorize app</button>", content_type="text/html; charset=utf-8")

    def _token_endpoint(self, req, m):
        form = self._form(req)
        if form is None:
            return self._oauth_error("invalid_request", "Missing required parameter [grant_type].")
        with self._lock:
            self.token_requests.append(dict(form))
        if self._client(req, form) != self.client_id:
            return self._oauth_error("unauthorized_client", "Missing valid authorization header", 401)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            with self._lock:
                g = self.codes.get(form.get("code"))
                bad = (g is None or g["used"] or g["expires"] < time.time()
                       or g["redirect_uri"] != form.get("redirect_uri")
                       or s256(form.get("code_verifier") or "") != g["challenge"])
                if g is not None:
                    g["used"] = True
            if bad:
                return self._oauth_error("invalid_request", TOKEN_INVALID)
            return json_response(self._issue(g["scopes"]))
        if grant == "refresh_token":
            with self._lock:
                g = self.refresh_tokens.get(form.get("refresh_token"))
                if g is not None and g["revoked"]:
                    return self._oauth_error("invalid_grant", "The refresh token was revoked.")
                if g is None or g["used"]:
                    return self._oauth_error("invalid_request", TOKEN_INVALID)
                g["used"] = True
            return json_response(self._issue(g["scopes"]))
        return self._oauth_error("invalid_request", "Value passed for the grant_type was invalid.")

    def _revoke_endpoint(self, req, m):
        form = self._form(req) or {}
        if self._client(req, form) != self.client_id:
            return self._oauth_error("unauthorized_client", "Missing valid authorization header", 401)
        token = form.get("token")
        with self._lock:
            for table in (self.refresh_tokens, self.access_tokens):
                if token in table:
                    table[token]["revoked"] = True
                    self.revoked.append(token)
        return json_response({"revoked": True})

    # -- HTTP

    def setup_routes(self):
        self.route("GET", r"/i/oauth2/authorize", self._authorize_page)
        self.route("POST", r"/2/oauth2/token", self._token_endpoint)
        self.route("POST", r"/2/oauth2/revoke", self._revoke_endpoint)
        self.route("GET", r"/2/users/me", self._get_me)
        self.route("GET", r"/2/users/(\d+)/mentions", self._get_mentions)
        self.route("GET", r"/2/users/(\d+)/tweets", self._get_tweets)

    def not_found(self, req):
        return json_response({"errors": [{"message": "The requested resource was not found"}],
                              "title": "Not Found Error", "detail": "The requested resource was not found",
                              "type": "about:blank", "status": 404}, 404)

    def error_response(self, status, body=None, headers=None):
        if body is None:
            titles = {400: "Invalid Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found Error",
                      429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                      503: "Service Unavailable"}
            t = titles.get(status, "Error")
            body = problem(status, t, t)
        return super().error_response(status, body, headers)

    def _endpoint(self, path):
        if path == "/2/users/me":
            return "me"
        if path.endswith("/mentions"):
            return "mentions"
        if path.endswith("/tweets"):
            return "tweets"
        return None

    def _bearer_ok(self, req):
        auth = req.header("authorization") or ""
        if auth == f"Bearer {self.token}":
            return True
        if not auth.startswith("Bearer "):
            return False
        with self._lock:
            t = self.access_tokens.get(auth[7:])
            return t is not None and not t["revoked"] and t["expires"] > time.time()

    def check_auth(self, req):
        if req.path.startswith("/2/oauth2/") or req.path.startswith("/i/oauth2/"):
            return None
        if not self._bearer_ok(req):
            return json_response(problem(401, "Unauthorized", "Unauthorized"), 401)
        ep = self._endpoint(req.path)
        if ep is None:
            return None
        with self._lock:
            now = time.time()
            start, used = self._rl.get(ep, (now, 0))
            if now - start >= self.WINDOW:
                start, used = now, 0
            used += 1
            self._rl[ep] = [start, used]
            limit = self.rate_limits[ep]
        req.rate = (limit, max(0, limit - used), int(start + self.WINDOW))
        if self.enforce_rate_limit and used > limit:
            return json_response(problem(429, "Too Many Requests", "Too Many Requests"), 429)
        return None

    def extra_headers(self, req, resp):
        rate = getattr(req, "rate", None)
        if rate is None:
            return {}
        return {"x-rate-limit-limit": rate[0], "x-rate-limit-remaining": rate[1],
                "x-rate-limit-reset": rate[2], "x-access-level": "read"}

    # -- parameters

    @staticmethod
    def _bad(param, value, message):
        raise BadRequest(param, value, message)

    def _check_params(self, req, allowed):
        for name, values in req.query.items():
            if name not in allowed:
                self._bad(name, values[0], f"The query parameter [{name}] is not one of "
                                           f"[{','.join(sorted(allowed))}]")
            if len(values) > 1:
                self._bad(name, values[0], f"Duplicate parameters are not allowed: the `{name}` query parameter")
            known = _LIST_PARAMS.get(name)
            if known is not None:
                for v in values[0].split(","):
                    if v not in known:
                        self._bad(name, v, f"The `{name}` query parameter value [{v}] is not one of "
                                           f"[{','.join(sorted(known))}]")

    def _list(self, req, name):
        v = req.param(name)
        return set(v.split(",")) if v else set()

    def _id(self, req, name):
        v = req.param(name)
        if v is None:
            return None
        if not _ID_RE.match(v):
            self._bad(name, v, f"The `{name}` query parameter value [{v}] does not match ^[0-9]{{1,19}}$")
        return int(v)

    def _max_results(self, req, lo, hi, default):
        v = req.param("max_results")
        if v is None:
            return default
        if not v.isdigit() or not lo <= int(v) <= hi:
            self._bad("max_results", v, f"The `max_results` query parameter value [{v}] is not between {lo} and {hi}")
        return int(v)

    def _token(self, last_id):
        t = base64.b32hexencode(f"p{last_id}".encode()).decode().lower().rstrip("=")
        with self._lock:
            self._tokens.add(t)
        return t

    def _untoken(self, req):
        v = req.param("pagination_token")
        if v is None:
            return None
        with self._lock:
            known = v in self._tokens
        if not known:
            self._bad("pagination_token", v, f"The `pagination_token` query parameter value [{v}] is not valid")
        raw = base64.b32hexdecode(v.upper() + "=" * (-len(v) % 8)).decode()
        return int(raw[1:])

    # -- rendering

    def _render_tweet(self, post, fields, expansions):
        out = {"id": post["id"], "text": html.escape(post["text"], quote=False),
               "edit_history_tweet_ids": [post["id"]]}
        for f in ("created_at", "author_id", "conversation_id", "in_reply_to_user_id", "referenced_tweets",
                  "entities"):
            if f in post and (f in fields or (f == "author_id" and "author_id" in expansions)):
                out[f] = post[f]
        return out

    def _render_user(self, uid, fields):
        u = self._users.get(uid, {"id": uid, "username": f"user{uid}", "name": f"User {uid}"})
        out = {"id": u["id"], "name": u["name"], "username": u["username"]}
        if "protected" in fields:
            out["protected"] = False
        if "verified" in fields:
            out["verified"] = False
        return out

    def _timeline(self, req, posts, reachable, lo, default):
        """One page of a newest-first timeline over posts (int id -> post)."""
        self._check_params(req, _TIMELINE_PARAMS | ({"exclude"} if posts is self._own else set()))
        limit = self._max_results(req, lo, 100, default)
        since = self._id(req, "since_id")
        until = self._id(req, "until_id")
        if since is not None and until is not None and since >= until:
            self._bad("since_id", str(since), "since_id must be lower than until_id")
        after = self._untoken(req)
        exclude = self._list(req, "exclude")
        with self._lock:
            ids = sorted(posts, reverse=True)[:reachable]
            items = [posts[i] for i in ids]
        sel = [p for p in items
               if (since is None or int(p["id"]) > since) and (until is None or int(p["id"]) < until)
               and (after is None or int(p["id"]) < after)
               and not ("retweets" in exclude and any(r["type"] == "retweeted"
                                                      for r in p.get("referenced_tweets", [])))
               and not ("replies" in exclude and "in_reply_to_user_id" in p)]
        page, rest = sel[:limit], sel[limit:]
        fields, expansions = self._list(req, "tweet.fields"), self._list(req, "expansions")
        body = {}
        if page:
            body["data"] = [self._render_tweet(p, fields, expansions) for p in page]
            if "author_id" in expansions:
                seen, users = set(), []
                for p in page:
                    if p["author_id"] not in seen:
                        seen.add(p["author_id"])
                        users.append(self._render_user(p["author_id"], self._list(req, "user.fields")))
                body["includes"] = {"users": users}
        meta = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0]["id"]
            meta["oldest_id"] = page[-1]["id"]
        if page and rest:
            meta["next_token"] = self._token(page[-1]["id"])
        body["meta"] = meta
        return body

    def _answer_or_400(self, fn):
        try:
            return json_response(fn())
        except BadRequest as e:
            return json_response({"errors": [{"parameters": {e.param: [e.value]}, "message": e.message}],
                                  "title": "Invalid Request",
                                  "detail": "One or more parameters to your request was invalid.",
                                  "type": "https://api.twitter.com/2/problems/invalid-request"}, 400)

    def _user_or_error(self, m):
        uid = m.group(1)
        if uid != self.me["id"]:
            # A user-context token reads only its own timelines here.
            return json_response({"errors": [{"value": uid, "detail": f"Could not find user with id: [{uid}].",
                                              "title": "Not Found Error", "resource_type": "user",
                                              "parameter": "id", "resource_id": uid,
                                              "type": "https://api.twitter.com/2/problems/resource-not-found"}]})
        return None

    def _get_me(self, req, m):
        def answer():
            self._check_params(req, {"expansions", "tweet.fields", "user.fields"})
            return {"data": self._render_user(self.me["id"], self._list(req, "user.fields"))}
        return self._answer_or_400(answer)

    def _get_mentions(self, req, m):
        err = self._user_or_error(m)
        if err:
            return err
        return self._answer_or_400(lambda: self._timeline(req, self._mentions, self.MENTIONS_REACHABLE, 5, 10))

    def _get_tweets(self, req, m):
        err = self._user_or_error(m)
        if err:
            return err
        return self._answer_or_400(lambda: self._timeline(req, self._own, self.TWEETS_REACHABLE, 5, 10))


__all__ = ["FakeX", "problem", "iso_x", "Response", "REDIRECT", "SCOPES", "s256"]
