"""fake_x: a fake X API v2 (api.x.com) over real TLS, for heed's x driver.

A FakeServer (fakenet.py) modelling the parts of the API that heed reads,
as documented in xdevplatform/docs (see /work/shared/reference/network-apis.md §4):

  GET /2/users/me                 the token's own user
  GET /2/users/:id/mentions       newest first, max_results 5..100 (default 10),
                                  since_id (exclusive), until_id,
                                  pagination_token from meta.next_token;
                                  only the newest 800 mentions are reachable
  GET /2/users/:id/tweets         the user's own posts, same paging

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
import html
import itertools
import os
import re
import sys
import time

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
                 me_name="Heed User", first_id=999_999_999_999_999_950, enforce_rate_limit=False, **kw):
        self.token = token
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

    # -- HTTP

    def setup_routes(self):
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

    def check_auth(self, req):
        if req.header("authorization") != f"Bearer {self.token}":
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


__all__ = ["FakeX", "problem", "iso_x", "Response"]
