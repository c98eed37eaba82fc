# SPDX-License-Identifier: MIT
"""fake_github: a fake GitHub notifications API over real TLS (see fakenet).

FakeGitHub models GET /notifications as docs.github.com describes it for a
classic personal access token:

  - threads sorted by updated_at, newest first; only unread ones unless
    all=true; only participating ones when participating=true (a thread is
    "participating" when its reason is one of PARTICIPATING_REASONS, unless
    add_thread says otherwise);
  - per_page (default 50, at most 50) and page, with an RFC 8288 Link header
    (rel="next", "last", "first", "prev") that repeats the query;
  - Last-Modified on every answer, and 304 Not Modified (empty body) when
    If-Modified-Since is not older than the last change. Every change moves
    Last-Modified forward by at least a second, so that a change made in the
    same second as an answer is never hidden behind a 304;
  - X-Poll-Interval (poll_interval seconds; None leaves it out);
  - x-ratelimit-limit/-remaining/-used/-reset/-resource on every answer;
    a 304 does not use up the rate limit, anything else does. With
    enforce_rate_limit, an exhausted budget answers 403 like GitHub does;
  - 401 {"message": "Bad credentials"} for any other token.

Tests change the model with add_thread(), comment_on(), mark_read() and
remove(), and read the expected web link with web_url(). Only the standard
library is used.
"""

import datetime as _dt
import email.utils
import itertools
import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakenet import FakeServer, Response, json_response  # noqa: E402

PARTICIPATING_REASONS = {"mention", "team_mention", "review_requested", "assign", "author",
                         "comment", "state_change", "approval_requested"}


def iso_s(t):
    """ISO 8601 UTC to the second, as GitHub writes timestamps."""
    return _dt.datetime.fromtimestamp(int(t), _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeGitHub(FakeServer):
    name = "github"
    RATE_LIMITED_BODY = {"message": "API rate limit exceeded for user ID 583231.",
                         "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}
    MAX_PER_PAGE = 50
    DEFAULT_PER_PAGE = 50

    def __init__(self, token="ghp_heedTestToken0123456789abcdefABCDEF", poll_interval=2,
                 rate_limit=5000, enforce_rate_limit=False, **kw):
        self.token = token
        self.poll_interval = poll_interval
        self.rate_limit = rate_limit
        self.enforce_rate_limit = enforce_rate_limit
        self.rate_used = 0
        self.rate_reset = int(time.time()) + 3600
        self._thread_ids = itertools.count(9_000_000_001)
        self._numbers = itertools.count(41)
        self._comment_ids = itertools.count(1_700_000_001)
        self._threads = {}           # str id -> dict (the model, rendered per request)
        self._changed_at = int(time.time())
        self._mlock = threading.RLock()
        super().__init__(**kw)

    # -- model

    def _touch(self):
        """Record a change: Last-Modified moves strictly forward."""
        with self._mlock:
            self._changed_at = max(int(time.time()), self._changed_at + 1)

    @property
    def last_modified(self):
        with self._mlock:
            return email.utils.formatdate(self._changed_at, usegmt=True)

    def add_thread(self, reason="review_requested", title="Please review: tidy the parser",
                   type="PullRequest", repo="octo-org/widgets", number=None, unread=True,
                   participating=None, comment=False, updated_at=None):
        """Add a thread (newest) and return its id (a string).

        type: PullRequest, Issue, Discussion (no subject URL), Release or Commit.
        comment: give it a latest comment (an issue comment) at once.
        """
        with self._mlock:
            tid = str(next(self._thread_ids))
            now = int(updated_at if updated_at is not None else time.time())
            self._threads[tid] = {
                "id": tid, "reason": reason, "title": title, "type": type, "repo": repo,
                "number": number if number is not None else next(self._numbers),
                "unread": unread, "last_read_at": None, "updated_at": now,
                "participating": (reason in PARTICIPATING_REASONS) if participating is None else participating,
                "comment_id": next(self._comment_ids) if comment else None,
            }
        self._touch()
        return tid

    def comment_on(self, tid):
        """Someone comments in the thread: new latest comment, updated_at moves
        forward (by at least a second), the thread is unread again. Returns the
        comment id."""
        with self._mlock:
            t = self._threads[tid]
            t["comment_id"] = next(self._comment_ids)
            t["updated_at"] = max(int(time.time()), t["updated_at"] + 1)
            t["unread"] = True
            cid = t["comment_id"]
        self._touch()
        return cid

    def mark_read(self, tid):
        with self._mlock:
            t = self._threads[tid]
            t["unread"] = False
            t["last_read_at"] = int(time.time())
        self._touch()

    def remove(self, tid):
        with self._mlock:
            self._threads.pop(tid, None)
        self._touch()

    def thread(self, tid):
        with self._mlock:
            return dict(self._threads[tid])

    def web_url(self, tid):
        """The web page heed should link to, derived like the driver does."""
        t = self.thread(tid)
        base = f"{self.base_url}/{t['repo']}"
        if t["type"] == "PullRequest":
            url = f"{base}/pull/{t['number']}"
        elif t["type"] == "Issue":
            url = f"{base}/issues/{t['number']}"
        else:
            return base
        if t["comment_id"]:
            url += f"#issuecomment-{t['comment_id']}"
        return url

    def polls(self, status=(200, 304)):
        """Completed GET /notifications requests answered with status (an int,
        a tuple of them, or None for any)."""
        reqs = self.requests_to("/notifications", status=None)
        if status is None:
            return reqs
        want = (status,) if isinstance(status, int) else tuple(status)
        return [r for r in reqs if r.status in want]

    @property
    def rate_remaining(self):
        with self._mlock:
            return max(0, self.rate_limit - self.rate_used)

    # -- rendering

    def _subject(self, t):
        api = f"{self.base_url}/repos/{t['repo']}"
        kind = t["type"]
        if kind == "PullRequest":
            url = f"{api}/pulls/{t['number']}"
        elif kind == "Issue":
            url = f"{api}/issues/{t['number']}"
        elif kind == "Release":
            url = f"{api}/releases/{t['number']}"
        elif kind == "Commit":
            url = f"{api}/commits/{t['number']:040x}"
        else:
            url = None
        latest = url
        if t["comment_id"] and url:
            latest = f"{api}/issues/comments/{t['comment_id']}"
        return {"title": t["title"], "url": url, "latest_comment_url": latest, "type": kind}

    def thread_json(self, t):
        owner, name = t["repo"].split("/", 1)
        return {
            "id": t["id"], "unread": t["unread"], "reason": t["reason"],
            "updated_at": iso_s(t["updated_at"]),
            "last_read_at": iso_s(t["last_read_at"]) if t["last_read_at"] else None,
            "subject": self._subject(t),
            "repository": {
                "id": 1296269, "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5", "name": name,
                "full_name": t["repo"], "private": False, "fork": False, "description": None,
                "owner": {"login": owner, "id": 583231, "type": "Organization",
                          "html_url": f"{self.base_url}/{owner}"},
                "html_url": f"{self.base_url}/{t['repo']}",
                "url": f"{self.base_url}/repos/{t['repo']}",
            },
            "url": f"{self.base_url}/notifications/threads/{t['id']}",
            "subscription_url": f"{self.base_url}/notifications/threads/{t['id']}/subscription",
        }

    # -- HTTP

    def setup_routes(self):
        self.route("GET", r"/notifications", self._get_notifications)
        self.route("GET", r"/notifications/threads/(\d+)", self._get_thread)
        self.route("PATCH", r"/notifications/threads/(\d+)", self._patch_thread)
        self.route("GET", r"/rate_limit", self._get_rate_limit)

    def check_auth(self, req):
        if req.header("authorization") != f"Bearer {self.token}":
            return json_response({"message": "Bad credentials",
                                  "documentation_url": "https://docs.github.com/rest"}, 401)
        if self.enforce_rate_limit and self.rate_remaining <= 0:
            return json_response(self.RATE_LIMITED_BODY, 403)
        return None

    def not_found(self, req):
        return json_response({"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, 404)

    def error_response(self, status, body=None, headers=None):
        if body is None:
            body = {"message": "Server Error" if status >= 500 else "Error",
                    "documentation_url": "https://docs.github.com/rest"}
        return super().error_response(status, body, headers)

    def extra_headers(self, req, resp):
        with self._mlock:
            now = int(time.time())
            if now >= self.rate_reset:
                self.rate_reset, self.rate_used = now + 3600, 0
            # GitHub: a 304 "leaves your current rate limit untouched".
            if resp.status != 304 and self.rate_used < self.rate_limit:
                self.rate_used += 1
            h = {"x-ratelimit-limit": self.rate_limit,
                 "x-ratelimit-remaining": max(0, self.rate_limit - self.rate_used),
                 "x-ratelimit-used": self.rate_used, "x-ratelimit-reset": self.rate_reset,
                 "x-ratelimit-resource": "core",
                 "Date": email.utils.formatdate(usegmt=True)}
        return h

    def _poll_headers(self):
        """Last-Modified (of the model as rendered) and X-Poll-Interval; call
        with _mlock held so that the date and the content agree."""
        h = {"Last-Modified": email.utils.formatdate(self._changed_at, usegmt=True)}
        if self.poll_interval is not None:
            h["X-Poll-Interval"] = str(self.poll_interval)
        return h

    def _not_modified(self, req):
        ims = req.header("if-modified-since")
        if not ims:
            return False
        try:
            t = email.utils.parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if t is None:
            return False
        if t.tzinfo is None:
            t = t.replace(tzinfo=_dt.timezone.utc)
        with self._mlock:
            return t.timestamp() >= self._changed_at

    def _int_param(self, req, name, default):
        v = req.param(name)
        if v is None or v == "":
            return default
        if not v.isdigit():
            raise ValueError(f"{name} must be an integer")
        return int(v)

    def page(self, req):
        """(threads on the page, page, last page) for a request, newest first."""
        per_page = min(max(self._int_param(req, "per_page", self.DEFAULT_PER_PAGE), 1), self.MAX_PER_PAGE)
        page = max(self._int_param(req, "page", 1), 1)
        participating = req.param("participating", "false") == "true"
        show_all = req.param("all", "false") == "true"
        with self._mlock:
            items = [dict(t) for t in self._threads.values()
                     if (show_all or t["unread"]) and (not participating or t["participating"])]
        items.sort(key=lambda t: (t["updated_at"], int(t["id"])), reverse=True)
        last = max(1, -(-len(items) // per_page))
        return items[(page - 1) * per_page: page * per_page], page, last

    def _link(self, req, page, last):
        keep = [(k, v) for k, vs in req.query.items() if k != "page" for v in vs]

        def url(n):
            return f"{self.base_url}/notifications?" + urllib.parse.urlencode(keep + [("page", n)])
        rels = []
        if page < last:
            rels += [f'<{url(page + 1)}>; rel="next"', f'<{url(last)}>; rel="last"']
        if page > 1:
            rels += [f'<{url(1)}>; rel="first"', f'<{url(page - 1)}>; rel="prev"']
        return ", ".join(rels) or None

    def _get_notifications(self, req, m):
        with self._mlock:
            headers = self._poll_headers()
            if self._not_modified(req):
                return Response(status=304, body=b"", headers=headers)
            try:
                items, page, last = self.page(req)
            except ValueError as e:
                return json_response({"message": str(e)}, 422)
            body = [self.thread_json(t) for t in items]
        link = self._link(req, page, last)
        if link:
            headers["Link"] = link
        return json_response(body, headers=headers)

    def _get_thread(self, req, m):
        with self._mlock:
            t = self._threads.get(m.group(1))
        return json_response(self.thread_json(t)) if t else self.not_found(req)

    def _patch_thread(self, req, m):
        if m.group(1) not in self._threads:
            return self.not_found(req)
        self.mark_read(m.group(1))
        return Response(status=205, body=b"")

    def _get_rate_limit(self, req, m):
        core = {"limit": self.rate_limit, "remaining": self.rate_remaining, "used": self.rate_used,
                "reset": self.rate_reset}
        return json_response({"resources": {"core": core}, "rate": core})


def start_github(h, **kw):
    """A started FakeGitHub owned by harness h (stopped and reported at exit)."""
    fake = FakeGitHub(**kw).start()
    h.fakes.append(fake)
    return fake


def github_account(fake, name="gh", **extra):
    """An account dict for Harness.write_config() pointing at a FakeGitHub."""
    acc = {"name": name, "network": "github", "server": fake.base_url,
           "token": fake.token, "ca_file": fake.ca_file}
    acc.update(extra)
    return acc
