#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Bluesky against the real atproto reference network: heedd polls a real
PDS (@atproto/dev-env's TestNetwork: PLC, PDS, Bluesky AppView on a private
PostgreSQL), through a TLS forwarder, while the test writes real records
(mentions, replies, quotes, back-dated posts, likes, follows) as other users.

This complements test_bluesky.py (a fake PDS that can stage any answer):
here every answer, cursor, error and rate-limit header is the reference
implementation's own. One network serves all tests; each test watches its own
fresh account, so no test sees another's notifications.

Needs PostgreSQL (scripts/deps test) and the npm packages pinned in
atproto/package-lock.json (scripts/atproto-deps, which scripts/deps test runs;
this test runs it too, and it returns at once once installed). Nothing is
skipped: a missing piece is a failure.
"""

import collections
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from atproto_net import AtprotoNetwork, web_url  # noqa: E402
from harness import Harness, body_text_variants, main, squash  # noqa: E402

LIKES_ABOVE = 65   # more than one page of 50 notifications
LIKES_DEEP = 480   # with LIKES_ABOVE, more than the AppView reads for one page (10 x 50)

# Every new mention gets a popup of its own (no digest, no reminders), so
# "notified once" is exactly one Notify call naming it. What heedd pops up
# for which mention is test_digest.py's and test_actions.py's business.
ATTENTION = {"digest_threshold": 1000, "nudge": "none"}
SCORE = {"threshold_normal": 0, "threshold_critical": 100}


class RealHarness(Harness):
    """A Harness whose failure report also shows the network's log and what
    heedd asked of the PDS."""

    net = None

    def _report(self, exc_info):
        super()._report(exc_info)
        if self.net is None:
            return
        lines = [self.net.describe_log(40)]
        try:
            reqs = self.net.heed_requests()
            lines.append(f"---- heedd's requests to the PDS ({len(reqs)}); last ones:")
            lines += [f"  {r['method']} {r['path']}?{r['query'][:120]} -> {r['status']} {r.get('error') or ''}" for r in reqs[-25:]]
        except Exception as e:  # noqa: BLE001 - a report must not fail
            lines.append(f"(request log unavailable: {e})")
        print("\n".join(lines), file=sys.stderr, flush=True)


class AtprotoReal(unittest.TestCase):
    net = None

    @classmethod
    def setUpClass(cls):
        t0 = time.monotonic()
        cls.net = AtprotoNetwork()
        cls.addClassCleanup(cls.net.stop)
        cls.net.start()
        for name, display in (("bob", "Bob Example"), ("carol", "Carol"), ("dave", "Dave"),
                              ("erin", "Erin"), ("frank", "Frank")):
            cls.net.account(name, display)
        print(f"atproto network up in {time.monotonic() - t0:.1f} s", file=sys.stderr, flush=True)

    # ------------------------------------------------------------ helpers

    def harness(self, **kw):
        h = RealHarness(**kw)
        h.net = self.net
        return h

    def watch(self, h, name, wait_first_poll=True, **account_extra):
        """heedd watching NAME.test; with wait_first_poll, past its first poll."""
        base = len(self.net.heed_polls())
        h.write_config([self.net.account_config(name, **account_extra)], poll_interval=1,
                       extra=ATTENTION, score=SCORE)
        h.start_heedd(test_hooks=True)
        if wait_first_poll:
            self.wait_polls(h, 1, base=base)

    def wait_polls(self, h, n=2, base=None, timeout=30):
        """Wait until heedd has made n more complete-poll starts (200 OK)."""
        if base is None:
            base = len(self.net.heed_polls())
        h.wait_until(lambda: len(self.net.heed_polls()) >= base + n, timeout,
                     lambda: f"{n} more listNotifications polls by heedd (had {base})", interval=0.3)

    def wait_listed(self, h, uris, timeout=20):
        want = {web_url(u) for u in uris}
        h.wait_until(lambda: want <= h.listed_urls(), timeout,
                     lambda: f"{len(want - h.listed_urls())} of {len(want)} posts in heed list: "
                             f"missing {sorted(want - h.listed_urls())}", interval=0.3)

    def assert_listed_once(self, h, uris):
        listed = collections.Counter(m.get("url") for m in h.heed_list())
        for u in uris:
            self.assertEqual(listed.get(web_url(u)), 1, f"{web_url(u)} listed once; heed list has {dict(listed)}")

    def notified(self, h, text):
        """Delivered Notify calls whose body holds text (escaped or not)."""
        return [n for n in h.shown() if any(v in squash(n.body) for v in body_text_variants(text))]

    def assert_notified_once(self, h, text, uri=None):
        h.wait_until(lambda: self.notified(h, text), 10,
                     lambda: f"a delivered Notify for {text!r}:\n" + h.describe_notifications())
        calls = self.notified(h, text)
        self.assertEqual(len(calls), 1, f"one Notify for {text!r}:\n" + h.describe_notifications())
        self.assertEqual(calls[0].replaces_id, 0, f"a popup of its own: {calls[0]}")
        if uri is not None:
            m = self.by_url(h).get(web_url(uri))
            self.assertTrue(m and m.get("notified") is True, f"heed list says it was notified: {m}")

    def by_url(self, h):
        return {m.get("url"): m for m in h.heed_list()}

    # ------------------------------------------------------------ tests

    def test_mention_reply_quote_once_and_restart(self):
        net = self.net
        net.account("alice", "Alice")
        own = net.post("alice", "thinking about tea, coffee and mate today")
        with self.harness() as h:
            self.watch(h, "alice")
            self.assertEqual(h.shown(), [], "nothing to notify yet:\n" + h.describe_notifications())

            texts = {
                "mention": "@alice.test are you coming to the meetup tomorrow? & bring snacks",
                "reply": "mate, obviously <3",
                "quote": "this is the hot take of the week",
            }
            uris = {
                "mention": net.post("bob", texts["mention"], mention="alice")["uri"],
                "reply": net.post("carol", texts["reply"], reply_to=own["uri"])["uri"],
                "quote": net.post("dave", texts["quote"], quote=own["uri"])["uri"],
            }
            # Noise that must never become a mention.
            net.likes("alice", "erin", 3)
            net.follow("erin", "alice")
            net.follow("frank", "alice")

            self.wait_listed(h, uris.values())
            self.wait_polls(h, 3)
            self.assert_listed_once(h, uris.values())
            listed = self.by_url(h)
            self.assertEqual(len(listed), 3, f"only the three posts are listed: {sorted(listed)}")
            for kind, uri in uris.items():
                m = listed[web_url(uri)]
                self.assertEqual(m.get("kind"), kind, m)
                self.assertEqual(m.get("state"), "waiting", m)
                self.assert_notified_once(h, texts[kind], uri)
            self.assertEqual(len(h.shown()), 3, "one Notify per post, none for likes or follows:\n"
                             + h.describe_notifications())
            n = self.notified(h, texts["mention"])[0]
            self.assertIn("Bob Example", n.summary, str(n))
            self.assertIn("bob.test", n.summary, str(n))

            # A mention made while heedd is stopped shows after the restart,
            # and nothing from before is listed or notified again.
            h.stop_heedd()
            away = "@alice.test written while you were away"
            away_uri = net.post("frank", away, mention="alice")["uri"]
            base = len(net.heed_polls())
            h.start_heedd(test_hooks=True)
            self.wait_listed(h, [away_uri])
            self.wait_polls(h, 3, base=base)
            self.assert_notified_once(h, away, away_uri)
            self.assertEqual(len(h.shown()), 4, "no repeats after the restart:\n" + h.describe_notifications())
            self.assert_listed_once(h, list(uris.values()) + [away_uri])
            self.assertEqual(len(h.heed_list()), 4)
            st = net.stats("alice")
            self.assertEqual(st["create"], 1, "one createSession: the stored session is reused after restart")
            self.assertEqual(st["refresh"], 0)
            h.stop_heedd()

    def test_back_dated_mentions_are_listed_and_notified(self):
        # The AppView sorts a post by its createdAt when that is earlier than
        # when it indexed it: a post can arrive far below what was already
        # listed. heedd must still list it and notify once.
        net = self.net
        net.account("alice-late", "Alice")
        with self.harness() as h:
            self.watch(h, "alice-late")
            first = "@alice-late.test a plain mention first"
            first_uri = net.post("bob", first, mention="alice-late")["uri"]
            self.wait_listed(h, [first_uri])
            self.wait_polls(h, 2)

            late = {
                "@alice-late.test written on a train 15 minutes ago": 15 * 60,
                "@alice-late.test drafted offline two hours ago": 2 * 3600,
            }
            late_uris = {text: net.post(who, text, mention="alice-late", age_s=age)["uri"]
                         for (text, age), who in zip(late.items(), ("carol", "dave"))}
            marker = "@alice-late.test and one written just now"
            marker_uri = net.post("erin", marker, mention="alice-late")["uri"]
            self.wait_listed(h, [marker_uri])
            self.wait_polls(h, 3)

            missing = [f"{text!r} ({age // 60} min old)" for text, age in late.items()
                       if web_url(late_uris[text]) not in h.listed_urls()]
            self.assertEqual(missing, [], "back-dated mentions never reached heed list, although a newer one "
                             "did (the AppView sorts them by their createdAt)")
            self.assert_listed_once(h, [first_uri, marker_uri] + list(late_uris.values()))
            for text, uri in [(first, first_uri), (marker, marker_uri)] + list(late_uris.items()):
                self.assert_notified_once(h, text, uri)
            self.assertEqual(len(h.shown()), 4, h.describe_notifications())
            h.stop_heedd()

    def test_own_reply_marks_mention_replied(self):
        net = self.net
        net.account("alice-re", "Alice")
        with self.harness() as h:
            self.watch(h, "alice-re")
            asked = net.post("bob", "@alice-re.test did you get my message?", mention="alice-re")["uri"]
            waiting = net.post("carol", "@alice-re.test another question", mention="alice-re")["uri"]
            self.wait_listed(h, [asked, waiting])
            self.assertEqual(self.by_url(h)[web_url(asked)].get("state"), "waiting")

            net.post("alice-re", "yes, thanks!", reply_to=asked)
            # heedd reads the user's own posts every 10 minutes: jump there.
            h.advance_clock(11 * 60)

            def states():
                return {u: m.get("state") for u, m in self.by_url(h).items()}
            h.wait_until(lambda: states().get(web_url(asked)) == "replied", 20,
                         lambda: f"Bob's mention marked replied (states {states()})", interval=0.3)
            self.assertEqual(states().get(web_url(waiting)), "waiting")
            self.assertEqual(len(h.heed_list()), 2, "alice's own reply is not a mention")
            self.assertTrue(net.heed_requests("app.bsky.feed.getAuthorFeed", 200),
                            "heedd read alice's posts from the real AppView")
            h.stop_heedd()

    def test_expired_access_token_is_refreshed(self):
        net = self.net
        net.account("alice-exp", "Alice")
        # From now on the PDS issues alice-exp access tokens that expire
        # after 3 s, so it answers 400 ExpiredToken itself.
        net.short_tokens("alice-exp", 3)
        with self.harness(time_limit=120) as h:
            self.watch(h, "alice-exp")
            texts = [f"@alice-exp.test message {i} across token lifetimes" for i in range(5)]
            uris = []
            for text in texts:
                uris.append(net.post("bob", text, mention="alice-exp")["uri"])
                h.pause(2.5)
            h.wait_until(lambda: net.stats("alice-exp")["refresh"] >= 2, 20,
                         "heedd to refresh the session at least twice", interval=0.5)
            self.wait_listed(h, uris)
            self.wait_polls(h, 2)
            refused = net.heed_requests("app.bsky.notification.listNotifications", 400)
            self.assertTrue(refused, "the PDS refused an expired access token")
            self.assertEqual({r.get("error") for r in refused}, {"ExpiredToken"}, refused)
            self.assertTrue(net.heed_requests("com.atproto.server.refreshSession", 200))
            st = net.stats("alice-exp")
            self.assertEqual(st["create"], 1, "refreshSession, not a new login")
            self.assert_listed_once(h, uris)
            for text, uri in zip(texts, uris):
                self.assert_notified_once(h, text, uri)

            # The rotated refresh token was saved: after a restart the session
            # goes on without createSession.
            h.stop_heedd()
            base = len(net.heed_polls())
            h.start_heedd(test_hooks=True)
            self.wait_polls(h, 2, base=base)
            after = "@alice-exp.test and one after the restart"
            after_uri = net.post("carol", after, mention="alice-exp")["uri"]
            self.wait_listed(h, [after_uri])
            self.assert_notified_once(h, after, after_uri)
            self.assertEqual(net.stats("alice-exp")["create"], 1, "no new login after the restart")
            self.assertEqual(len(h.heed_list()), 6)
            h.stop_heedd()

    def test_first_start_lists_history_without_popups(self):
        # Mentions from before heedd first started, some behind more than a
        # page of other notifications, one behind more than the AppView reads
        # for one page even when it refills a page that its reasons filter
        # emptied (up to 10 reads of 50): listed, but never popped up.
        net = self.net
        net.account("alice-first", "Alice")
        own = net.post("alice-first", "my first post here")
        deep_text = "@alice-first.test from long ago, under hundreds of likes"
        deep = net.post("dave", deep_text, mention="alice-first")["uri"]
        net.likes("alice-first", "erin", LIKES_DEEP)
        history = [
            net.post("bob", "@alice-first.test welcome aboard!", mention="alice-first")["uri"],
            net.post("carol", "glad to see you here", reply_to=own["uri"])["uri"],
            net.post("frank", "@alice-first.test buried under many likes", mention="alice-first")["uri"],
        ]
        net.likes("alice-first", "erin", LIKES_ABOVE)
        net.follow("frank", "alice-first")
        with self.harness(time_limit=120) as h:
            self.watch(h, "alice-first", wait_first_poll=False)
            self.wait_listed(h, history, timeout=30)
            self.wait_polls(h, 2)
            self.assertEqual(h.shown(), [], "mentions from before heedd first started are history, not news:\n"
                             + h.describe_notifications())
            self.assert_listed_once(h, history)
            allowed = {web_url(u) for u in history + [deep]}
            self.assertLessEqual(h.listed_urls(), allowed)
            self.assertEqual([m for m in h.heed_list() if m.get("notified")], [],
                             "history is not marked notified")

            fresh = "@alice-first.test now that you are here"
            fresh_uri = net.post("bob", fresh, mention="alice-first")["uri"]
            self.wait_listed(h, [fresh_uri])
            self.assert_notified_once(h, fresh, fresh_uri)

            # And no repeats after a restart.
            h.stop_heedd()
            base = len(net.heed_polls())
            h.start_heedd(test_hooks=True)
            self.wait_polls(h, 3, base=base)
            self.assertEqual(len(h.shown()), 1, h.describe_notifications())
            self.assert_listed_once(h, history + [fresh_uri])
            self.assertLessEqual(h.listed_urls(), allowed | {web_url(fresh_uri)})
            self.assertEqual(net.stats("alice-first")["create"], 1)

            self.assertIn(web_url(deep), h.listed_urls(),
                          f"the mention behind {LIKES_DEEP + LIKES_ABOVE} likes ({deep_text!r}) is not in heed "
                          "list: the first start read only the first page of notifications")
            self.assert_listed_once(h, [deep])
            self.assertFalse(self.by_url(h)[web_url(deep)].get("notified"), "history is not notified")
            h.stop_heedd()


if __name__ == "__main__":
    main()
