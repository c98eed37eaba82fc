#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Bluesky end to end: heedd logs in with an app password once, keeps the
session across restarts, renews it with refreshSession when the access token
expires, catches up across the short and empty pages that the server's
after-paging reasons filter makes, and opens the post on bsky.app.

Real TLS to a fake PDS (fake_bluesky.py), a private session bus, dunst
under Xvfb.
"""

import collections
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_bluesky import FakeBluesky, web_url  # noqa: E402
from harness import Harness, body_text_variants, main, squash  # noqa: E402

TEXT = "@alice.test are you coming to the meetup tomorrow? & bring snacks"


def bluesky(h, **kw):
    """A started FakeBluesky, stopped with the harness."""
    fake = FakeBluesky(**kw).start()
    h.fakes.append(fake)
    return fake


def bluesky_account(fake, name="sky", **extra):
    acc = {"name": name, "network": "bluesky", "server": fake.base_url,
           "identifier": fake.identifier, "token": fake.password, "ca_file": fake.ca_file}
    acc.update(extra)
    return acc


def start_watching(h, fake=None, **account_extra):
    """heedd watching a fake Bluesky, past its first (history) poll."""
    fake = fake or bluesky(h)
    h.write_config([bluesky_account(fake, **account_extra)], poll_interval=1)
    h.start_heedd()
    # Mentions added after the first poll are news, not first-run backlog.
    h.wait_polls(fake, 1, timeout=15)
    return fake


def add_bob(fake, text=TEXT):
    return fake.add_mention(handle="bob.test", display_name="Bob Example", text=text, follows_me=True)


class Bluesky(unittest.TestCase):
    def assert_bob_notification(self, n, text=TEXT):
        self.assertIn("Bob Example", n.summary, str(n))
        self.assertIn("bob.test", n.summary, str(n))
        self.assertNotIn("@bob.test", n.summary, "Bluesky handles carry no '@': " + str(n))
        body = squash(n.body)
        self.assertTrue(any(v in body for v in body_text_variants(text)),
                        f"body should contain {text!r} (escaped or not): {n.body!r}")

    def test_new_mention_notified_once_session_reused_after_restart(self):
        with Harness() as h:
            fake = start_watching(h)
            self.assertEqual(fake.create_calls, 1, "one login")
            self.assertEqual(h.shown(), [], "nothing to notify yet:\n" + h.describe_notifications())
            uri = add_bob(fake)

            h.wait_until(lambda: h.shown(), 10, "a Notify for Bob's mention")
            h.wait_polls(fake, 3)
            shown = h.shown()
            self.assertEqual(len(shown), 1, "exactly one Notify:\n" + h.describe_notifications())
            self.assert_bob_notification(shown[0])
            self.assertEqual([m.get("url") for m in h.heed_list()], [web_url(uri)])

            # A restart reuses the stored session: no createSession, no repeat.
            token_before = fake.access_tokens_used()[-1]
            h.stop_heedd()
            h.start_heedd()
            h.wait_polls(fake, 4)
            self.assertEqual(fake.create_calls, 1, "createSession must not be called on every start")
            self.assertEqual(fake.refresh_calls, 0)
            self.assertEqual(fake.access_tokens_used()[-1], token_before, "the stored session is reused")
            self.assertEqual(len(h.shown()), 1, "no new Notify after restart:\n" + h.describe_notifications())
            self.assertEqual(len(h.heed_list()), 1, "the mention is stored once")
            for line in h.heedd_log().splitlines():
                self.assertNotIn(fake.password, line, "the app password reached the log")
                self.assertNotIn(token_before, line, "the access token reached the log")
            h.stop_heedd()

    def test_expired_access_token_is_refreshed(self):
        with Harness() as h:
            fake = start_watching(h, bluesky(h, access_expired_status=400))
            add_bob(fake, "@alice.test could you read the first draft?")
            h.wait_until(lambda: h.shown("first"), 10, "the first mention")

            fake.expire_access()
            h.wait_until(lambda: fake.refresh_calls >= 1, 10, "a refreshSession call")
            add_bob(fake, "@alice.test could you read the second draft?")
            h.wait_until(lambda: h.shown("second"), 10, "a mention after the refresh")
            self.assertEqual(fake.create_calls, 1, "a refresh, not a new login")
            self.assertEqual(fake.refresh_calls, 1)
            self.assertTrue(fake.requests_to("/xrpc/app.bsky.notification.listNotifications", status=400),
                            "the fake did refuse the expired token")

            # The rotated refresh token was saved: after a restart the new
            # session works without createSession or another refresh.
            h.stop_heedd()
            h.start_heedd()
            h.wait_polls(fake, 2)
            add_bob(fake, "@alice.test could you read the third draft?")
            h.wait_until(lambda: h.shown("third"), 10, "a mention after the restart")
            self.assertEqual(fake.create_calls, 1)
            self.assertEqual(fake.refresh_calls, 1)
            self.assertEqual(len(h.shown()), 3, h.describe_notifications())
            h.stop_heedd()

    def test_expired_token_as_401_and_dead_refresh_token_log_in_once(self):
        with Harness() as h:
            fake = start_watching(h, bluesky(h, access_expired_status=401))
            fake.expire_access()
            fake.expire_refresh()
            add_bob(fake, "@alice.test after a long sleep")
            h.wait_until(lambda: h.shown("after a long sleep"), 15, "a mention after logging in again")
            self.assertEqual(fake.refresh_calls, 1, "one refresh attempt")
            self.assertEqual(fake.create_calls, 2, "exactly one new login")
            h.wait_polls(fake, 3)
            self.assertEqual(fake.create_calls, 2, "no login loop")
            self.assertEqual(len(h.shown()), 1, h.describe_notifications())
            h.stop_heedd()

    def catch_up(self, cursor_style):
        with Harness() as h:
            fake = bluesky(h, cursor_style=cursor_style)
            early = fake.add_mention(handle="early.test", display_name="Early Bird",
                                     text="@alice.test already here before the downtime")
            h.write_config([bluesky_account(fake, catchup_max_pages=60)], poll_interval=1)
            h.start_heedd()
            h.wait_until(lambda: web_url(early) in h.listed_urls(), 15, "the first-run mention in heed list",
                         interval=0.25)
            h.wait_polls(fake, 1)
            h.stop_heedd()

            # Downtime: a dozen mentions, each buried under more likes than
            # a page holds, so the filtered pages between them come back empty.
            missed = []
            for i in range(12):
                kind = ("mention", "reply", "quote")[i % 3]
                missed.append(fake.add_mention(handle=f"friend{i}.test", display_name=f"Friend {i}",
                                               text=f"@alice.test catch-up item {i:03d} zq", reason=kind))
                fake.add_likes(110)
            want = {web_url(u) for u in [early] + missed}
            empty_before = fake.empty_pages_with_cursor

            h.start_heedd()
            h.wait_until(lambda: want <= h.listed_urls(), 40,
                         lambda: f"all {len(want)} mentions in heed list (have {len(h.listed_urls())})",
                         interval=0.5)
            self.assertGreater(fake.empty_pages_with_cursor, empty_before,
                               "the catch-up went through empty pages with a cursor")
            listed = h.heed_list()
            self.assertEqual(len(listed), len(want), "each mention is listed once")
            kinds = collections.Counter(m.get("kind") for m in listed)
            self.assertEqual(kinds.get("reply"), 4, kinds)
            self.assertEqual(kinds.get("quote"), 4, kinds)
            h.wait_polls(fake, 2)
            shown = h.shown()
            self.assertLessEqual(len(shown), len(missed), "no more popups than missed mentions")
            seen = collections.Counter((n.summary, n.body) for n in shown)
            self.assertEqual([k for k, c in seen.items() if c > 1], [], "identical Notify calls were sent")
            self.assertFalse([n for n in shown if "already here" in n.body], "the first-run mention is history")
            self.assertEqual(fake.create_calls, 1)

            # Once caught up, an idle poll does not walk the whole history again.
            before = len(fake.pages())
            polls_before = len(fake.polls())
            h.wait_polls(fake, 3)
            pages = len(fake.pages()) - before
            polls = len(fake.polls()) - polls_before
            self.assertLessEqual(pages, 4 * max(polls, 1), f"{pages} pages for {polls} idle polls")
            h.stop_heedd()

    def test_catch_up_across_empty_pages_time_cursor(self):
        self.catch_up("time")

    def test_catch_up_across_empty_pages_opaque_cursor(self):
        self.catch_up("opaque")

    def test_backdated_mentions_listed_and_notified_once(self):
        """The AppView dates a notification by the post's createdAt, which the
        author's client sets: a post made offline or bridged is listed below
        what heed already read. It must still be listed and shown, once."""
        with Harness() as h:
            fake = start_watching(h)
            add_bob(fake, "@alice.test on time")
            h.wait_until(lambda: h.shown("on time"), 10, "the ordinary mention")
            late = [fake.add_mention(handle="train.test", display_name="On The Train",
                                     text="@alice.test wrote this on the train, no signal", backdate=15 * 60),
                    fake.add_mention(handle="bridge.test", display_name="Bridged Friend", reason="reply",
                                     text="@alice.test sent through a bridge two hours late", backdate=2 * 3600)]
            want = {web_url(u) for u in late}
            h.wait_until(lambda: want <= h.listed_urls(), 15,
                         lambda: f"the back-dated mentions in heed list (have {h.listed_urls()})", interval=0.25)
            h.wait_until(lambda: h.shown("train") and h.shown("bridge"), 10,
                         lambda: "a Notify for each back-dated mention:\n" + h.describe_notifications())
            h.wait_polls(fake, 3)
            self.assertEqual(len(h.shown("train")), 1, h.describe_notifications())
            self.assertEqual(len(h.shown("bridge")), 1, h.describe_notifications())
            self.assertEqual(len(h.heed_list()), 3, "each mention stored once")
            h.stop_heedd()
            h.start_heedd()
            h.wait_polls(fake, 2)
            self.assertEqual(len(h.heed_list()), 3, "no repeats after a restart")
            self.assertEqual(len(h.shown("train")), 1, h.describe_notifications())
            h.stop_heedd()

    def test_first_start_lists_the_last_week_without_popups(self):
        """Installing heed shows who is still waiting: the first start reads
        back a week (behind any number of likes, up to catchup_max_pages)
        and lists it, but pops nothing up."""
        with Harness() as h:
            fake = bluesky(h)
            month = fake.add_mention(handle="old.test", display_name="Long Ago",
                                     text="@alice.test from ten days ago", backdate=10 * 86400)
            week = fake.add_mention(handle="week.test", display_name="Three Days", reason="reply",
                                    text="@alice.test from three days ago", backdate=3 * 86400)
            hour = fake.add_mention(handle="hour.test", display_name="An Hour",
                                    text="@alice.test from an hour ago", backdate=3600)
            fake.add_likes(60)
            h.write_config([bluesky_account(fake)], poll_interval=1)
            h.start_heedd()
            want = {web_url(week), web_url(hour)}
            h.wait_until(lambda: want <= h.listed_urls(), 15,
                         lambda: f"last week's mentions in heed list (have {h.listed_urls()})", interval=0.25)
            h.wait_polls(fake, 3)
            self.assertNotIn(web_url(month), h.listed_urls(), "older than the first start's window")
            self.assertEqual(h.shown(), [], "the first start lists, it does not pop up:\n"
                             + h.describe_notifications())
            add_bob(fake, "@alice.test and now something new")
            h.wait_until(lambda: h.shown("something new"), 10, "news after the first start")
            self.assertEqual(len(h.shown()), 1, h.describe_notifications())
            h.stop_heedd()

    def test_default_action_opens_bsky_app_url(self):
        with Harness() as h:
            fake = start_watching(h)
            uri = add_bob(fake)
            n = h.wait_until(lambda: h.shown(), 10, "a Notify for Bob's mention")[0]
            self.assert_bob_notification(n)
            h.wait_until(lambda: h.dunst_count("displayed") >= 1, 5, "dunst to display it")
            h.dunst_action(0)
            h.wait_until(lambda: h.opened_urls(), 10,
                         lambda: f"open_command to be run; actions sent were {n.actions}")
            url = web_url(uri)
            self.assertTrue(url.startswith("https://bsky.app/profile/did:plc:bobtest/post/"), url)
            self.assertEqual(h.opened_urls(), [url])
            self.assertTrue(h.heedd_running())
            h.stop_heedd()

    def test_own_reply_marks_mention_replied(self):
        with Harness() as h:
            fake = bluesky(h)
            answered = add_bob(fake, "@alice.test did you get my message?")
            waiting = fake.add_mention(handle="dave.test", display_name="Dave",
                                       text="@alice.test another question")
            fake.add_own_reply(answered, "yes, thanks!")
            h.write_config([bluesky_account(fake)], poll_interval=1)
            h.start_heedd()

            def states():
                return {m.get("url"): m.get("state") for m in h.heed_list()}
            h.wait_until(lambda: states().get(web_url(answered)) == "replied", 15,
                         lambda: f"Bob's mention marked replied (states {states()})")
            self.assertEqual(states().get(web_url(waiting)), "waiting")
            feed = fake.requests_to("/xrpc/app.bsky.feed.getAuthorFeed")
            self.assertTrue(feed, "the history chain read the user's posts")
            self.assertEqual(feed[0].param("actor"), fake.did)
            self.assertEqual(feed[0].param("filter"), "posts_with_replies")
            h.stop_heedd()


if __name__ == "__main__":
    main()
