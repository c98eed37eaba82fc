#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""heedd against a fake X API v2 (fake_x.py) over real TLS: a new mention
becomes exactly one notification naming "@username" and the name, a restart
neither repeats it nor asks /2/users/me again, a downtime of 250 mentions is
caught up across pages, one of more than 800 (all X keeps reachable) is
caught up as far as it goes with one "gap" notice, and the user's own
replies read back mark mentions answered.

With client_id (what heed login x writes) the token file holds a refresh
token: heedd renews the 2-hour access token before it expires and after a
401, saves the rotated refresh token at once (a heedd killed right after a
refresh must not use a spent one: the fake refuses reuse), and an account
whose refresh token X refuses needs the user, with a message that says to
sign in again. No token ever reaches the log.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_x import FakeX  # noqa: E402
from harness import Harness, body_text_variants, main, squash  # noqa: E402

TEXT = "@heed_user are you coming to the meetup tomorrow? & bring <snacks>"
ME_PATH = "/2/users/me"


def start_fake(h, **kw):
    """A started FakeX that the harness stops and reports on at exit."""
    fake = FakeX(**kw).start()
    h.fakes.append(fake)
    return fake


def x_account(fake, name="bird", **extra):
    """An [account] for write_config() pointing at the fake (network = x)."""
    acc = {"name": name, "network": "x", "server": fake.base_url, "token": fake.token,
           "ca_file": fake.ca_file}
    acc.update(extra)
    return acc


def gap_lines(log):
    return [line for line in log.splitlines() if "gap" in line]


class XNetwork(unittest.TestCase):
    def assert_requests_clean(self, h, fake):
        """Every request carried the token, and no log line did."""
        for r in fake.requests:
            self.assertEqual(r.header("authorization"), f"Bearer {fake.token}", r.raw_path)
        self.assertNotIn(fake.token, h.heedd_log())

    def test_new_mention_notified_once_and_not_after_restart(self):
        with Harness() as h:
            fake = start_fake(h)
            h.write_config([x_account(fake)], poll_interval=1)
            h.start_heedd()
            h.wait_polls(fake, 1, timeout=15)
            self.assertEqual(len(fake.me_requests()), 1, "the user id is resolved once")
            self.assertEqual(h.shown(), [], "nothing to notify yet:\n" + h.describe_notifications())

            tid = fake.add_mention(username="alice", name="Alice Example", text=TEXT)
            h.wait_until(lambda: h.shown(), 10, "a Notify for Alice's mention")
            h.wait_polls(fake, 3)
            shown = h.shown()
            self.assertEqual(len(shown), 1, "exactly one Notify:\n" + h.describe_notifications())
            n = shown[0]
            self.assertIn("Alice Example", n.summary, str(n))
            self.assertIn("@alice", n.summary, str(n))
            body = squash(n.body)
            plain = TEXT.replace("@heed_user ", "")
            self.assertTrue(any(v in body for v in body_text_variants(plain)),
                            f"body should hold the text with X's &amp; &lt; &gt; decoded: {n.body!r}")
            self.assertNotIn("&amp;amp;", n.body)

            listed = h.heed_list()
            self.assertEqual(len(listed), 1, listed)
            m = listed[0]
            self.assertEqual(m["url"], f"https://x.com/alice/status/{tid}")
            self.assertEqual(m["url"], fake.tweet_url(tid))
            self.assertEqual(m["network"], "x")
            self.assertEqual(m["account"], "bird")
            self.assertEqual(m["author"]["handle"], "@alice")
            self.assertEqual(m["author"]["name"], "Alice Example")

            # Later polls ask only for what is newer.
            self.assertEqual(fake.polls()[-1].param("since_id"), tid)

            # A restart shows nothing again and does not look the user up again.
            h.stop_heedd()
            h.start_heedd()
            h.wait_polls(fake, 4)
            self.assertEqual(len(h.shown()), 1, "no new Notify after restart:\n" + h.describe_notifications())
            self.assertEqual(len(h.heed_list()), 1, "the mention is stored once")
            self.assertEqual(len(fake.me_requests()), 1, "/2/users/me is not called again after a restart")
            self.assertEqual(fake.polls()[-1].param("since_id"), tid)
            self.assert_requests_clean(h, fake)
            h.stop_heedd()

    def test_catch_up_250_across_pages(self):
        with Harness() as h:
            fake = start_fake(h)
            first = fake.add_mention(username="early", name="Early Bird", text="@heed_user before the downtime")
            h.write_config([x_account(fake)], poll_interval=1)
            h.start_heedd()
            h.wait_until(lambda: fake.tweet_url(first) in h.listed_urls(), 15,
                         "the existing mention in heed list", interval=0.25)
            h.stop_heedd()
            seen = len(fake.polls())

            # Ids cross from 18 to 19 digits in this batch.
            ids = fake.add_many(250)
            self.assertEqual(len(ids[0]), 18)
            self.assertEqual(len(ids[-1]), 19)
            want = {fake.tweet_url(i) for i in [first] + ids}
            h.start_heedd()
            h.wait_until(lambda: want <= h.listed_urls(), 30,
                         lambda: f"all {len(want)} mentions in heed list", interval=0.5)
            self.assertTrue(h.heedd_running())
            listed = h.heed_list()
            self.assertEqual(len(listed), 251, "each mention is listed once")

            catchup = fake.polls()[seen:]
            paged = [r for r in catchup if r.param("pagination_token")]
            self.assertGreaterEqual(len(paged), 2, "250 mentions take three pages of 100: "
                                    + ", ".join(r.raw_path for r in catchup[:4]))
            for r in catchup[:3]:
                self.assertEqual(r.param("since_id"), first, "paging keeps since_id: " + r.raw_path)
                self.assertEqual(r.param("max_results"), "100")
            # Once the poll completed, the cursor is the newest of the batch.
            h.wait_until(lambda: fake.polls()[-1].param("since_id") == ids[-1], 10,
                         "a poll with since_id = the newest mention")
            self.assertEqual(gap_lines(h.heedd_log()), [], "nothing was out of reach")
            self.assertEqual(len(fake.me_requests()), 1)
            self.assert_requests_clean(h, fake)
            h.stop_heedd()

    def test_more_than_800_missed_gives_one_gap_notice(self):
        with Harness() as h:
            fake = start_fake(h)
            first = fake.add_mention(username="early", name="Early Bird", text="@heed_user before the downtime")
            h.write_config([x_account(fake)], poll_interval=1)
            h.start_heedd()
            h.wait_until(lambda: fake.tweet_url(first) in h.listed_urls(), 15,
                         "the existing mention in heed list", interval=0.25)
            h.stop_heedd()

            ids = fake.add_many(850)
            reachable = {fake.tweet_url(i) for i in ids[-800:]}
            lost = {fake.tweet_url(i) for i in ids[:50]}
            h.start_heedd()
            h.wait_until(lambda: reachable <= h.listed_urls(), 60,
                         lambda: "the 800 reachable mentions in heed list", interval=1)
            h.wait_until(lambda: fake.polls()[-1].param("since_id") == ids[-1], 15,
                         "the poll to complete")
            h.wait_polls(fake, 2)
            urls = h.listed_urls()
            self.assertEqual(len(h.heed_list()), 801)
            self.assertEqual(urls & lost, set(), "the oldest 50 were out of reach")
            gaps = gap_lines(h.heedd_log(-1))
            self.assertEqual(len(gaps), 1, "one notice about a possible gap:\n" + "\n".join(gaps))
            self.assertIn("bird", gaps[0])
            h.stop_heedd()

    def test_own_reply_marks_mention_replied(self):
        with Harness() as h:
            fake = start_fake(h)
            answered = fake.add_mention(username="carol", name="Carol", text="@heed_user question?")
            open_ = fake.add_mention(username="dave", name="Dave", text="@heed_user another one")
            fake.add_own_post("@carol here is my answer", reply_to=answered)
            fake.add_own_post("a thread of my own")
            h.write_config([x_account(fake)], poll_interval=1)
            h.start_heedd()

            def states():
                return {m["url"]: m["state"] for m in h.heed_list()}
            h.wait_until(lambda: states().get(fake.tweet_url(answered)) == "replied", 15,
                         lambda: f"the answered mention to be 'replied' ({states()})", interval=0.25)
            self.assertEqual(states().get(fake.tweet_url(open_)), "waiting")
            hist = fake.requests_to(f"/2/users/{fake.me['id']}/tweets")
            self.assertGreaterEqual(len(hist), 1)
            self.assertEqual(hist[0].param("max_results"), "100")
            self.assertEqual(len(fake.me_requests()), 1)
            h.stop_heedd()


def oauth_account(fake, refresh, name="bird", **extra):
    """An [account] with client_id: the token file holds a refresh token."""
    return x_account(fake, name=name, token=refresh, client_id=fake.client_id, **extra)


def account_status(h, name="bird"):
    return {a["name"]: a for a in h.control("status")["accounts"]}[name]


class XSession(unittest.TestCase):
    def assert_no_tokens_logged(self, h, fake):
        log = h.heedd_log()
        with fake._lock:
            tokens = list(fake.access_tokens) + list(fake.refresh_tokens)
        for t in tokens:
            self.assertNotIn(t, log, "a token reached heedd's log")

    def test_refreshes_before_expiry_and_saves_the_rotated_token_at_once(self):
        with Harness() as h:
            # Access tokens last 8 s here (7200 on X): renewed at 6 s.
            fake = start_fake(h, access_expires_in=8)
            refresh0 = fake.issue_refresh_token()
            h.write_config([oauth_account(fake, refresh0)], poll_interval=1)
            h.start_heedd()
            h.wait_until(lambda: len(fake.refreshes()) >= 3, 30, "three refreshes")
            tid = fake.add_mention(username="alice", name="Alice Example", text="@heed_user still there?")
            h.wait_until(lambda: fake.tweet_url(tid) in h.listed_urls(), 15, "the mention, hours later on X")

            # Never a request with an expired token: each one was renewed in time.
            api = [r for r in fake.requests if r.path.startswith("/2/users/")]
            self.assertGreater(len(api), 6)
            self.assertEqual([r.raw_path for r in api if r.status == 401], [])
            # Each refresh used the token the one before handed out, once.
            used = [f["refresh_token"] for f in fake.refreshes()]
            self.assertEqual(used[0], refresh0)
            self.assertEqual(len(set(used)), len(used), "a refresh token was used twice")
            self.assertEqual({r.status for r in fake.token_answers()}, {200})
            for f in fake.refreshes():
                self.assertEqual(f["client_id"], fake.client_id)
            self.assertEqual(account_status(h)["health"], "ok")

            # Killed at once after a refresh: the rotated token was saved with
            # that step (before the request that uses the new access token is
            # sent), so the next start does not spend a used one.
            n = len(fake.token_answers())
            h.wait_until(lambda: len(fake.token_answers()) > n, 15, "another refresh")
            with fake._lock:
                newest = list(fake.access_tokens)[-1]
            h.wait_until(lambda: any(r.header("authorization") == f"Bearer {newest}" for r in fake.requests), 15,
                         "a request with the new access token")
            h.kill_heedd()
            live = fake.live_refresh_token()
            n = len(fake.refreshes())
            h.start_heedd()
            h.wait_until(lambda: len(fake.token_answers()) > n, 20, "a refresh after the restart")
            h.wait_polls(fake, 2)
            self.assertEqual(fake.refreshes()[n]["refresh_token"], live,
                             "the restarted heedd renewed with the token saved last")
            self.assertEqual({r.status for r in fake.token_answers()}, {200})
            self.assertEqual(account_status(h)["health"], "ok")
            self.assertEqual(len(fake.me_requests()), 1, "who the user is was asked once")
            self.assert_no_tokens_logged(h, fake)
            h.stop_heedd()

    def test_401_renews_and_refused_refresh_needs_the_user(self):
        with Harness(dunst=False) as h:
            fake = start_fake(h)
            refresh0 = fake.issue_refresh_token()
            h.write_config([oauth_account(fake, refresh0)], poll_interval=1)
            h.start_heedd()
            h.wait_polls(fake, 2)
            self.assertEqual(len(fake.refreshes()), 1, "one refresh at start, then the 2-hour token is used")

            # X ends the access token early: the 401 renews it, the poll goes on.
            fake.expire_access_tokens()
            h.wait_until(lambda: len(fake.refreshes()) == 2, 15, "a refresh after the 401")
            h.wait_polls(fake, 2)
            refused = [r for r in fake.requests if r.status == 401]
            self.assertGreaterEqual(len(refused), 1)
            after = [r for r in fake.requests if r.time > refused[-1].time and r.path.startswith("/2/users/")]
            self.assertTrue(after and all(r.status == 200 for r in after), [r.status for r in after])
            self.assertEqual(account_status(h)["health"], "ok")

            # The user removed heed's access on x.com: invalid_grant, needs attention.
            fake.revoke_refresh_tokens()
            fake.expire_access_tokens()
            h.wait_until(lambda: account_status(h)["health"] == "needs-attention", 15,
                         lambda: f"the account to need attention ({account_status(h)})")
            err = account_status(h).get("error") or ""
            self.assertIn("invalid_grant", err)
            self.assertIn("run heed login x again", err)
            self.assertIn("run heed login x again", h.heedd_log())
            # No loop on it: the lane backs off.
            n = len(fake.refreshes())
            h.pause(3)
            self.assertLessEqual(len(fake.refreshes()), n + 2)
            self.assert_no_tokens_logged(h, fake)
            h.stop_heedd()

    def test_new_login_replaces_the_session(self):
        """heed login x again writes a new refresh token: heedd drops the
        session made from the old one at its next start."""
        with Harness(dunst=False) as h:
            fake = start_fake(h)
            h.write_config([oauth_account(fake, fake.issue_refresh_token())], poll_interval=1)
            h.start_heedd()
            h.wait_polls(fake, 2)
            h.stop_heedd()
            fresh = fake.issue_refresh_token()
            h.write_token("bird", fresh)
            h.start_heedd()
            h.wait_until(lambda: len(fake.refreshes()) == 2, 15, "a refresh with the new token")
            self.assertEqual(fake.refreshes()[1]["refresh_token"], fresh)
            h.wait_polls(fake, 2)
            self.assertEqual(account_status(h)["health"], "ok")
            h.stop_heedd()

    def test_without_client_id_the_secret_is_an_access_token(self):
        with Harness(dunst=False) as h:
            fake = start_fake(h)
            h.write_config([x_account(fake)], poll_interval=1)
            h.start_heedd()
            h.wait_polls(fake, 2)
            self.assertEqual(fake.token_requests, [])
            h.stop_heedd()


if __name__ == "__main__":
    main()
