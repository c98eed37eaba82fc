#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Respecting the desktop and surviving its notification server.

- dunst paused (dunstctl set-paused true, read through dunst's D-Bus
  property): new mentions are not sent at all; when the pause ends, one
  summary, not a flood, at once (dunst's PropertiesChanged), not at the
  next 30 s re-check;
- the same on desktops this machine does not have, faked on the private bus
  (fake_desktop.py): swaync (GetDnd, SubscribeV2), xfce4-notifyd (xfconf's
  /do-not-disturb, PropertyChanged) and KDE (Inhibit, "Inhibited",
  PropertiesChanged) end the hold within a few seconds; mako (a fake
  makoctl, asked only when the server says it is mako) announces nothing
  and is asked again every 3 s while in do-not-disturb; GNOME
  (show-banners) and Cinnamon (display-notifications) through GSettings'
  "changed", each only when the server is theirs;
- a server without the "actions" capability: the body says how to act from
  the terminal (heed open/snooze/done ID);
- the server killed mid-run and restarted: the mentions that arrived in the
  meantime are shown once each, none lost, and heedd kept polling;
- the server hanging (SIGSTOP): polling and the control socket go on; the
  notification is delivered once the server answers again.
"""

import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, main  # noqa: E402

# What makes a mention "need you" is pinned here, so that these tests do not
# move with the text heuristics of the scorer: text features count nothing,
# the keyword makes the difference (20 base + 5 first contact = 25, low;
# + 40 for the keyword = 65, normal).
KEYWORD = "urgent"
SCORE = {"question": 0, "weak_question": 0, "request": 0, "no_reply": 0, "alarm": 0,
         "deadline": 0, "never_replied": 0, "keyword": 40, "threshold_normal": 45,
         "threshold_critical": 95}
ASK_HTML = "<p>Can you look at issue {i} today? It is urgent.</p>"   # normal urgency
DIGEST_RE = re.compile(r"^(\d+) new mentions(?: · (\d+) needs? you)?$")


# How soon held mentions must come once do-not-disturb ends. heedd's loop
# asks again after every poll and every 30 s; while the tests wait, the
# poll in flight hangs (HANG_S), so only the desktop's own announcement
# (or, for mako, heedd asking it every 3 s) can end the hold in time.
SIGNALLED_S = 3
MAKO_POLLED_S = 5
HANG_S = 8


def start(h, env=None, **heed_keys):
    fake = h.mastodon()
    heed_keys.setdefault("keywords", KEYWORD)
    h.write_config([h.mastodon_account(fake)], poll_interval=1, extra=heed_keys, score=SCORE)
    h.start_heedd(test_hooks=True, env=env)
    h.wait_polls(fake, 1, timeout=15)
    if "[score]" in h.heedd_log(-1) or "[heed]" in h.heedd_log(-1):
        raise AssertionError("heedd refused the test's configuration:\n" + h.heedd_log(-1))
    return fake


def add(fake, who, name=None, i=0):
    return fake.add_mention(acct=f"{who}@fake.social", display_name=name or who.title(),
                            text_html=ASK_HTML.format(i=i))


def settle(h, fake, polls=3):
    h.wait_polls(fake, polls, timeout=polls + 10)


def stored(h, n):
    h.wait_until(lambda: h.control("status")["total"] >= n, 10, f"{n} mentions stored")


def held_then_one_summary(test, h, fake, turn_on, turn_off, within):
    """Anna is shown; do-not-disturb begins; Bert, Cleo and Dora are held
    (nothing sent to the server); it ends; one summary of the three comes
    within `within` seconds and nothing else. Returns how long it took."""
    add(fake, "anna")
    h.wait_until(lambda: h.shown("Anna"), 10, "Anna's notification")
    base = len(h.notify_calls(False))
    turn_on()
    add(fake, "bert", i=1)
    stored(h, 2)
    settle(h, fake)
    add(fake, "cleo", i=2)
    add(fake, "dora", i=3)
    stored(h, 4)
    settle(h, fake)
    test.assertEqual(len(h.notify_calls(False)), base,
                     "do-not-disturb: nothing is sent to the server:\n" + h.describe_notifications())
    hang = fake.delay_next(1, seconds=HANG_S, path=r"^/api/v1/notifications$")
    h.wait_until(lambda: hang.count <= 0, 5, "a poll to hang")
    turn_off()
    t0 = time.monotonic()
    summary = h.wait_until(lambda: len(h.shown()) > base and h.shown()[-1], within,
                           lambda: "a summary once do-not-disturb ended, before the next poll:\n"
                           + h.describe_notifications())
    took = time.monotonic() - t0
    print(f"\nsummary {took:.1f} s after do-not-disturb ended", file=sys.stderr)
    h.wait_polls(fake, 3, timeout=HANG_S + 10)
    test.assertEqual(len(h.shown()[base:]), 1, "one summary, not a flood:\n" + h.describe_notifications())
    test.assertEqual(summary.summary, "3 new mentions · 3 need you", str(summary))
    test.assertEqual(sum(who in summary.body for who in ("Bert", "Cleo", "Dora")), 2,
                     f"the summary names two of the people held: {summary.body!r}")
    test.assertEqual(sorted(m["state"] for m in h.heed_list()), ["waiting"] * 4)
    return took


class DoNotDisturb(unittest.TestCase):
    def test_paused_nothing_shown_then_one_summary(self):
        def pause():
            h.set_paused(True)
            self.assertEqual(h.dunstctl("is-paused").strip(), "true")
        with Harness() as h:
            fake = start(h)
            held_then_one_summary(self, h, fake, pause, lambda: h.set_paused(False), SIGNALLED_S)
            self.assertEqual(h.dunst_count("displayed"), 2, "Anna's banner and the summary")
            h.stop_heedd()

    def test_no_actions_capability_body_says_how(self):
        # dbusmock has no do-not-disturb property: detection fails, heed
        # assumes the desktop is not paused and shows it.
        with Harness(notification_server="dbusmock", capabilities="body body-markup") as h:
            fake = start(h)
            url = fake.status_url(add(fake, "anna"))
            n = h.wait_until(lambda: h.shown("Anna"), 10, "Anna's notification")[0]
            mid = [m for m in h.heed_list() if m["url"] == url][0]["id"]
            self.assertIn(f"heed done {mid}", n.body, str(n))
            self.assertIn(f"heed snooze {mid}", n.body, str(n))
            self.assertIn(f"heed open {mid}", n.body, str(n))
            self.assertNotIn("snooze", n.action_keys, f"no buttons the server will not draw: {n}")
            h.stop_heedd()


class ServerLoss(unittest.TestCase):
    def test_server_killed_and_restarted_nothing_lost(self):
        # digest_threshold = 3: Anna, Bert and Cleo are three popups, so each
        # may pop up on its own; attempts that failed while the server was
        # gone showed nothing and must not use up that allowance.
        with Harness() as h:
            fake = start(h, digest_threshold=3)
            add(fake, "anna")
            h.wait_until(lambda: h.shown("Anna"), 10, "Anna's notification")

            h.stop_dunst()                                       # SIGKILL, like a crash
            add(fake, "bert", i=1)
            stored(h, 2)
            settle(h, fake)
            add(fake, "cleo", i=2)
            stored(h, 3)
            # Retried with backoff (not on every poll), and polling goes on.
            def failed():
                return sum(1 for n in h.notify_calls(False) if n.error)
            h.wait_until(lambda: failed() >= 2, 20,
                         lambda: "heedd to retry showing:\n" + h.describe_notifications())
            before, polls = failed(), len(fake.polls())
            settle(h, fake, 3)
            self.assertGreaterEqual(len(fake.polls()) - polls, 3)
            self.assertLessEqual(failed() - before, 2,
                                 "retried with backoff, not on every poll:\n" + h.describe_notifications())
            self.assertTrue(h.heedd_running())
            self.assertFalse(h.control("status")["notifications"]["server"])

            h.start_dunst()
            h.wait_until(lambda: h.shown("Bert") and h.shown("Cleo"), 30,
                         lambda: "Bert and Cleo once the server is back:\n" + h.describe_notifications())
            settle(h, fake)
            for who in ("Bert", "Cleo"):
                self.assertEqual(len(h.shown(who)), 1, f"{who} shown exactly once:\n"
                                 + h.describe_notifications())
            self.assertEqual(len(h.shown("Anna")), 1, "Anna not repeated")
            for who in ("Bert", "Cleo"):
                n = h.shown(who)[0]
                self.assertIn("snooze", n.action_keys,
                              f"{who} pops up on their own, with the buttons: {n}\n"
                              + h.describe_notifications())
                self.assertEqual(n.hints.get("urgency"), 1, str(n))
            self.assertEqual(h.dunst_count("displayed"), 2, "Bert and Cleo on the new server")
            self.assertEqual(len(h.heed_list()), 3)
            h.stop_heedd()

    def test_hung_server_does_not_stall(self):
        with Harness() as h:
            fake = start(h)
            os.kill(h.dunst.pid, signal.SIGSTOP)
            try:
                add(fake, "anna")
                stored(h, 1)
                polls = len(fake.polls())
                t0 = time.monotonic()
                while time.monotonic() - t0 < 5:
                    t = time.monotonic()
                    h.control("status")
                    self.assertLess(time.monotonic() - t, 1.0, "the control socket answers at once")
                    h.pause(0.25)
                self.assertGreaterEqual(len(fake.polls()) - polls, 3,
                                        "polling goes on while the server hangs")
                self.assertEqual(h.shown(), [])
            finally:
                os.kill(h.dunst.pid, signal.SIGCONT)
            h.wait_until(lambda: h.shown("Anna"), 30, "Anna's notification once dunst answers")
            settle(h, fake)
            self.assertEqual(len(h.shown("Anna")), 1, h.describe_notifications())
            h.stop_heedd()

    def test_hung_server_killed_and_restarted_nothing_lost(self):
        # The usual cure for a hung server is to kill it. The Notify call it
        # never answered showed nothing: the mention must still be shown by
        # the server that replaces it.
        with Harness() as h:
            fake = start(h)
            add(fake, "zoe", i=9)
            h.wait_until(lambda: h.shown("Zoe"), 10, "Zoe's notification")
            os.kill(h.dunst.pid, signal.SIGSTOP)
            add(fake, "anna")
            stored(h, 2)
            h.wait_until(lambda: len(h.notify_calls(False)) >= 2, 15, "heedd to send the Notify call")
            self.assertEqual(h.shown("Anna"), [])
            h.stop_dunst()                                       # SIGKILL the stopped server
            h.wait_until(lambda: h.notify_calls(False)[1].error, 10,
                         "the unanswered call to fail (NoReply)")
            settle(h, fake, 2)
            h.start_dunst()
            h.wait_until(lambda: h.shown("Anna"), 15,
                         lambda: "Anna's notification on the restarted server (her first "
                         "Notify call was never answered):\n" + h.describe_notifications())
            settle(h, fake)
            self.assertEqual(len(h.shown("Anna")), 1, h.describe_notifications())
            h.stop_heedd()


if __name__ == "__main__":
    main()
