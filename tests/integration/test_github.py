#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""GitHub notifications end to end: a review request becomes one desktop
notification, an unchanged thread is never announced again (polls turn into
free 304s), a new comment in the thread is one new notification, a restart
repeats nothing, heedd obeys X-Poll-Interval, and the stored link is the
thread's derived web page.

Real TLS to a fake GitHub (fake_github.py), a private session bus, dunst
under Xvfb.

Not tested here: clicking the notification. The engine opens only links on
the account's web_host, the fake's links are https://127.0.0.1:PORT/..., and
config.c refuses a web_host with a port (url_check() would accept one), so
the link is checked in `heed list --json` instead.
"""

import json
import os
import ssl
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_github import FakeGitHub, github_account, start_github  # noqa: E402
from harness import Harness, body_text_variants, main, squash  # noqa: E402

TITLE = "Tidy the Link header parser"


def start_watching(h, **fake_kw):
    """Fake GitHub with no threads, heedd started and past its first poll."""
    fake = start_github(h, **fake_kw)
    h.write_config([github_account(fake)], poll_interval=1)
    h.start_heedd()
    # Threads added from now on are news, not part of the first-run backlog.
    h.wait_polls(fake, 1, timeout=15)
    return fake


def listed_github(h):
    return [m for m in h.heed_list() if m.get("network") == "github"]


class GitHubNotify(unittest.TestCase):
    def test_filters_mute_repos_kinds_and_keyword_points(self):
        """heed.conf's filters: a muted repository (and a whole muted
        organisation) and a muted kind are listed at 0 and never shown;
        keyword_points raise and lower a score; heed explain names the
        filter or keyword that did it."""
        with Harness() as h:
            fake = start_github(h, poll_interval=1)
            h.write_config([github_account(fake)], poll_interval=1, extra={
                "mute_repos": "octo-org/noisy;bots-inc/*", "mute_kinds": "assign",
                "keyword_points": "security:+30;dependabot:-40"})
            h.start_heedd()
            h.wait_polls(fake, 1, timeout=15)
            fake.add_thread(title="Please review: the noisy change", repo="octo-org/noisy")
            fake.add_thread(title="Please review: an automated bump", repo="bots-inc/updater")
            fake.add_thread(reason="assign", title="Assigned: triage old issues", type="Issue")
            fake.add_thread(title="Please review: security fix for the token parser")
            fake.add_thread(title="Please review: dependabot bumps left-pad")
            h.wait_until(lambda: len(listed_github(h)) == 5, 15, "five threads listed")
            h.wait_polls(fake, 3)
            by_title = {m["text"].splitlines()[0] if m.get("text") else m.get("context"): m for m in listed_github(h)}
            scores = {m["id"]: m["score"] for m in listed_github(h)}

            def find(word):
                ms = [m for m in listed_github(h) if word in (m.get("text", "") + (m.get("context") or ""))]
                self.assertEqual(len(ms), 1, f"{word}: {by_title.keys()}")
                return ms[0]

            for word, why in (("noisy", "repository octo-org/noisy"), ("automated bump", "repository bots-inc/updater"),
                              ("triage old issues", "every assign")):
                m = find(word)
                self.assertEqual(m["score"], 0, m)
                rc, out, err = h.heed("explain", str(m["id"]))
                self.assertIn(why, out, out)
            sec, dep = find("security fix"), find("dependabot")
            self.assertGreater(sec["score"], dep["score"] + 50, scores)
            rc, out, err = h.heed("explain", str(sec["id"]))
            self.assertIn('keyword "security"', out)
            self.assertIn("+30", out)
            shown = " ".join(n.summary + n.body for n in h.shown())
            for word in ("noisy", "automated bump", "triage old issues"):
                self.assertNotIn(word, shown, h.describe_notifications())
            self.assertIn("security fix", shown, h.describe_notifications())
            h.stop_heedd()

    def test_review_request_comment_and_restart(self):
        with Harness() as h:
            fake = start_watching(h, poll_interval=1)
            self.assertEqual(h.shown(), [], "nothing to notify yet:\n" + h.describe_notifications())

            # A thread whose reason heed does not watch by default, then the review request.
            fake.add_thread(reason="comment", title="Chatter in a thread you commented on", type="Issue")
            tid = fake.add_thread(reason="review_requested", title=TITLE, type="PullRequest")

            # (a) exactly one notification, for the review request.
            h.wait_until(lambda: h.shown(), 10, "a Notify for the review request")
            n = h.shown()[0]
            self.assertIn("octo-org/widgets", n.summary, str(n))
            body = squash(n.body)
            self.assertTrue(any(v in body for v in body_text_variants(TITLE)), f"title in body: {n.body!r}")
            self.assertNotIn("Chatter", n.summary + n.body)

            # (b) the unchanged thread over several polls: 304s, no repeat.
            base_304 = len(fake.polls(304))
            h.wait_polls(fake, 3)
            self.assertGreaterEqual(len(fake.polls(304)), base_304 + 2, "unchanged polls should be 304s")
            self.assertEqual(len(h.shown()), 1, "no repeat:\n" + h.describe_notifications())

            # (f) the stored link is the derived web page of the pull request.
            listed = listed_github(h)
            self.assertEqual(len(listed), 1, json.dumps(listed, indent=1))
            m = listed[0]
            self.assertEqual(m["url"], fake.web_url(tid))
            self.assertEqual(m["url"], f"{fake.base_url}/octo-org/widgets/pull/{fake.thread(tid)['number']}")
            self.assertEqual(m["kind"], "review")
            self.assertEqual(m["author"]["handle"], "octo-org/widgets")
            self.assertIn(TITLE, m.get("context", ""))

            # (c) a new comment in the thread is one new notification.
            cid = fake.comment_on(tid)
            h.wait_until(lambda: len(h.shown()) >= 2, 10, "a Notify for the new comment")
            h.wait_polls(fake, 3)
            self.assertEqual(len(h.shown()), 2, "one Notify per thread state:\n" + h.describe_notifications())
            urls = sorted(m["url"] for m in listed_github(h))
            self.assertEqual(len(urls), 2)
            self.assertIn(fake.web_url(tid), urls)
            self.assertTrue(fake.web_url(tid).endswith(f"#issuecomment-{cid}"))

            # (d) a restart announces nothing again, and asks conditionally at once.
            h.stop_heedd()
            before = len(fake.polls(None))
            h.start_heedd()
            h.wait_polls(fake, 3)
            first_after = fake.polls(None)[before]
            self.assertEqual(first_after.header("if-modified-since"), fake.last_modified)
            self.assertEqual(first_after.status, 304)
            self.assertEqual(len(h.shown()), 2, "no Notify after restart:\n" + h.describe_notifications())
            self.assertEqual(len(listed_github(h)), 2, "each thread state is stored once")
            self.assertNotIn(fake.token, h.heedd_log(), "the token must never be logged")
            h.stop_heedd()

    def test_not_modified_is_free_and_poll_interval_obeyed(self):
        with Harness(dunst=False) as h:
            # heed.conf asks for 1 s; the server asks for 3 s and wins.
            fake = start_watching(h, poll_interval=3)
            h.pause(10)
            polls = fake.polls(None)
            self.assertTrue(all(p.status in (200, 304) for p in polls), [p.status for p in polls])
            times = [p.time for p in polls]
            gaps = [b - a for a, b in zip(times, times[1:])]
            self.assertGreaterEqual(len(gaps), 2, f"polls seen: {len(polls)}")
            self.assertTrue(all(g >= 3 - 0.15 for g in gaps), f"gaps between polls: {gaps}")
            self.assertLessEqual(len(polls), 6, f"{len(polls)} polls in ~11 s with X-Poll-Interval 3")

            # Only the first poll was a 200; the 304s cost nothing.
            self.assertEqual(polls[0].status, 200)
            self.assertTrue(all(p.status == 304 for p in polls[1:]), [p.status for p in polls])
            self.assertEqual(fake.rate_used, 1)
            self.assertEqual(fake.rate_remaining, fake.rate_limit - 1)

            # A change costs exactly one more request, then it is 304s again.
            fake.add_thread(reason="mention", title="@me what do you think?", type="Issue")
            h.wait_until(lambda: len(fake.polls(200)) >= 2, 10, "a 200 after the change")
            h.wait_polls(fake, 2, timeout=15)
            self.assertEqual(len(fake.polls(200)), 2)
            self.assertEqual(fake.rate_used, 2)
            self.assertEqual(len(listed_github(h)), 1)
            h.stop_heedd()

    def test_rate_limit_403_waits_for_reset(self):
        with Harness(dunst=False) as h:
            fake = start_watching(h, poll_interval=1)
            reset = int(time.time()) + 6
            fake.fail_next(1, status=403, body=FakeGitHub.RATE_LIMITED_BODY, path=r"^/notifications$",
                           headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)})
            h.wait_until(lambda: [p for p in fake.polls(None) if p.status == 403], 10, "the 403")
            limited = [p for p in fake.polls(None) if p.status == 403][0]
            h.wait_until(lambda: fake.polls(None)[-1] is not limited, 15, "a poll after the reset")
            after = fake.polls(None)[fake.polls(None).index(limited) + 1]
            wall = after.time + (time.time() - time.monotonic())
            self.assertGreaterEqual(wall, reset - 0.2, "no request before x-ratelimit-reset")
            self.assertIn(after.status, (200, 304))
            self.assertNotIn(fake.token, h.heedd_log())
            h.stop_heedd()

    def test_catch_up_pages_after_downtime(self):
        with Harness(dunst=False) as h:
            fake = start_watching(h, poll_interval=1)
            h.stop_heedd()
            ids = [fake.add_thread(reason="mention", title=f"Catch-up {i:02d}", type="Issue")
                   for i in range(60)]
            fake.add_thread(reason="comment", title="not watched", type="Issue")
            h.start_heedd()
            h.wait_until(lambda: len(listed_github(h)) >= 60, 20, "60 threads stored")
            h.wait_polls(fake, 2)
            urls = {m["url"] for m in listed_github(h)}
            self.assertEqual(urls, {fake.web_url(t) for t in ids})
            pages = [p.param("page") for p in fake.polls(200)]
            self.assertIn("2", pages, "the second page was followed through the Link header")
            h.stop_heedd()


class FakeGitHubSelfTest(unittest.TestCase):
    """The fake's own promises, checked with urllib (no heedd)."""

    def get(self, fake, query="participating=true&per_page=50", headers=None, token=None):
        ctx = ssl.create_default_context(cafile=fake.ca_file)
        req = urllib.request.Request(f"{fake.base_url}/notifications?{query}")
        req.add_header("Authorization", f"Bearer {token or fake.token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
                return r.status, dict(r.headers), json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    def test_conditional_paging_and_rate_limit(self):
        with FakeGitHub(poll_interval=2) as fake:
            for i in range(3):
                fake.add_thread(reason="mention", title=f"t{i}", type="Issue")
            fake.add_thread(reason="subscribed", title="not participating", type="Issue")
            st, hd, body = self.get(fake, "participating=true&per_page=2")
            self.assertEqual(st, 200)
            self.assertEqual([t["subject"]["title"] for t in body], ["t2", "t1"])
            self.assertIn('rel="next"', hd["Link"])
            self.assertEqual(hd["X-Poll-Interval"], "2")
            self.assertEqual(hd["x-ratelimit-remaining"], str(fake.rate_limit - 1))
            st, _, body = self.get(fake, "participating=false&per_page=50")
            self.assertEqual(len(body), 4)

            lm = hd["Last-Modified"]
            st, hd2, _ = self.get(fake, headers={"If-Modified-Since": lm})
            self.assertEqual(st, 304)
            self.assertEqual(hd2["x-ratelimit-remaining"], str(fake.rate_limit - 2), "a 304 is free")
            time.sleep(0.01)
            fake.comment_on(fake.add_thread())
            st, hd3, _ = self.get(fake, headers={"If-Modified-Since": lm})
            self.assertEqual(st, 200)
            self.assertNotEqual(hd3["Last-Modified"], lm)

            st, _, _ = self.get(fake, token="wrong")
            self.assertEqual(st, 401)

        with FakeGitHub(rate_limit=2, enforce_rate_limit=True) as fake:
            self.assertEqual(self.get(fake)[0], 200)
            st, hd, _ = self.get(fake)
            self.assertEqual((st, hd["x-ratelimit-remaining"]), (200, "0"))
            st, hd, _ = self.get(fake)
            self.assertEqual((st, hd["x-ratelimit-remaining"]), (403, "0"))


if __name__ == "__main__":
    main()
