#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Quiet hours, reminders ("nudges") and snoozes, driven by heedd's test
clock (HEED_TEST_HOOKS=1, control command test-clock): a day passes in
seconds, nobody sleeps.

- quiet_hours (local time, may cross midnight): nothing pops up; one summary
  when they end; VIPs get through with quiet_hours_allow = vip (the default),
  not with none;
- nudges (default 2 h, then 8 h, then stop): one "Still waiting" per step for
  unanswered mentions, none for done, snoozed, muted or low ones, none during
  quiet hours, and not a flood;
- snooze: the mention comes back once the configured snooze has passed;
- a held backlog bigger than one attention batch does not make heedd spin.

The harness runs heedd with TZ=UTC, so local time is heedd's clock in UTC.
"""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, main  # noqa: E402

# What makes a mention "need you" is pinned here, so that these tests do not
# move with the text heuristics of the scorer: text features count nothing,
# the keyword makes the difference (20 base + 5 first contact = 25, low;
# + 40 for the keyword = 65, normal; VIPs 70). Only "need you" ones nudge.
KEYWORD = "urgent"
SCORE = {"question": 0, "weak_question": 0, "request": 0, "no_reply": 0, "alarm": 0,
         "deadline": 0, "never_replied": 0, "keyword": 40, "threshold_normal": 45,
         "threshold_critical": 95}
ASK_HTML = "<p>Can you look at issue {i} today? It is urgent.</p>"   # normal urgency
LOW_HTML = "<p>Nice talk yesterday, {i}</p>"                         # low urgency
DIGEST_RE = re.compile(r"^(\d+) new mentions(?: · (\d+) needs? you)?$")
MIN = 60
HOUR = 3600


class Clock:
    """heedd's clock as the test moves it."""

    def __init__(self, h):
        self.h = h
        self.now = h.advance_clock(0)

    def advance(self, seconds):
        self.now = self.h.advance_clock(seconds)
        return self.now

    def minute_of_day(self):
        return (self.now // 60) % 1440

    def advance_to(self, hh, mm):
        """Advance to the next hh:mm local (UTC) time."""
        delta = ((hh * 60 + mm) - self.minute_of_day()) % 1440
        return self.advance(delta * 60)


def hhmm(minute):
    minute %= 1440
    return f"{minute // 60:02d}:{minute % 60:02d}"


def configure(h, fake, **heed_keys):
    heed_keys.setdefault("keywords", KEYWORD)
    h.write_config([h.mastodon_account(fake)], poll_interval=1, extra=heed_keys, score=SCORE)


def launch(h, fake):
    h.start_heedd(test_hooks=True)
    h.wait_polls(fake, 1, timeout=15)
    if "[score]" in h.heedd_log(-1) or "[heed]" in h.heedd_log(-1):
        raise AssertionError("heedd refused the test's configuration:\n" + h.heedd_log(-1))
    return Clock(h)


def start(h, **heed_keys):
    fake = h.mastodon()
    configure(h, fake, **heed_keys)
    return fake, launch(h, fake)


def add(fake, clock, who, ask=True, name=None, i=0):
    """A mention written "now" on heedd's clock (so waiting time is real)."""
    return fake.add_mention(acct=f"{who}@fake.social", display_name=name or who.title(),
                            text_html=(ASK_HTML if ask else LOW_HTML).format(i=i),
                            created_at=clock.now)


def settle(h, fake, polls=3):
    h.wait_polls(fake, polls, timeout=polls + 10)


def mention_id(h, fake, nid):
    url = fake.status_url(nid)
    return [m for m in h.heed_list() if m["url"] == url][0]["id"]


def nudges(h, text=None):
    return [n for n in h.shown(text) if n.summary.startswith("Still waiting")]


class QuietHours(unittest.TestCase):
    def test_quiet_hours_hold_vip_through_one_summary_after(self):
        with Harness() as h:
            fake = h.mastodon()
            # Quiet from 1 h to 3 h after "now" (computed before heedd starts,
            # so the config can be written; the test clock moves into it).
            m0 = int(time.time() // 60) % 1440
            configure(h, fake, quiet_hours=f"{hhmm(m0 + 60)}-{hhmm(m0 + 180)}", vip="boss@fake.social")
            clock = launch(h, fake)

            clock.advance(90 * MIN)                              # inside quiet hours
            for i in range(3):
                add(fake, clock, f"p{i}", i=i)
            add(fake, clock, "low", ask=False)
            h.wait_until(lambda: h.control("status")["total"] >= 4, 10, "4 mentions stored")
            settle(h, fake)
            self.assertEqual(h.shown(), [], "nothing pops up in quiet hours:\n" + h.describe_notifications())

            add(fake, clock, "boss", name="The Boss")            # a VIP gets through
            h.wait_until(lambda: h.shown("The Boss"), 10, "the VIP's notification")
            settle(h, fake)
            self.assertEqual(len(h.shown()), 1, h.describe_notifications())

            clock.advance(100 * MIN)                             # quiet hours are over
            summary = h.wait_until(lambda: [n for n in h.shown() if DIGEST_RE.match(n.summary)], 10,
                                   lambda: "one summary:\n" + h.describe_notifications())[0]
            settle(h, fake)
            self.assertEqual(summary.summary, "4 new mentions · 3 need you", str(summary))
            self.assertEqual(len(h.shown()), 2,
                             "one summary, not a flood:\n" + h.describe_notifications())
            h.stop_heedd()

    def test_quiet_hours_across_midnight_allow_none(self):
        with Harness() as h:
            fake, clock = start(h, quiet_hours="23:00-01:00", quiet_hours_allow="none",
                                vip="boss@fake.social")
            clock.advance_to(23, 30)
            add(fake, clock, "anna", i=1)
            add(fake, clock, "boss", name="The Boss")            # VIP, but allow = none
            h.wait_until(lambda: h.control("status")["total"] >= 2, 10, "2 mentions stored")
            settle(h, fake)
            clock.advance(60 * MIN)                              # 00:30: still quiet
            add(fake, clock, "bert", i=2)
            h.wait_until(lambda: h.control("status")["total"] >= 3, 10, "3 mentions stored")
            settle(h, fake)
            self.assertEqual(h.shown(), [], "quiet from 23:00 to 01:00, VIPs too:\n"
                             + h.describe_notifications())

            clock.advance(60 * MIN)                              # 01:30: over
            h.wait_until(lambda: h.shown(), 10, "the summary")
            settle(h, fake)
            shown = h.shown()
            digests = [n for n in shown if DIGEST_RE.match(n.summary)]
            self.assertEqual(len(digests), 1, "one summary:\n" + h.describe_notifications())
            self.assertLessEqual(len(shown), 2, "one summary (and at most the VIP on their own):\n"
                                 + h.describe_notifications())
            self.assertTrue(any("The Boss" in n.summary + n.body for n in shown),
                            "the VIP is told once quiet hours end:\n" + h.describe_notifications())
            h.stop_heedd()

    def test_no_nudge_during_quiet_hours(self):
        with Harness() as h:
            m0 = int(time.time() // 60) % 1440
            fake = h.mastodon()
            # Quiet from 1 h to 5 h from now; the 2 h reminder falls inside.
            configure(h, fake, quiet_hours=f"{hhmm(m0 + 60)}-{hhmm(m0 + 300)}")
            clock = launch(h, fake)
            add(fake, clock, "anna")
            h.wait_until(lambda: h.shown("Anna"), 10, "Anna's notification")
            clock.advance(2 * HOUR + MIN)
            settle(h, fake)
            self.assertEqual(nudges(h), [], "a reminder is a popup: not in quiet hours:\n"
                             + h.describe_notifications())
            self.assertEqual(len(h.shown()), 1, h.describe_notifications())
            h.stop_heedd()


class Nudges(unittest.TestCase):
    def test_nudge_schedule_and_exclusions(self):
        with Harness() as h:
            fake, clock = start(h, muted="mute@fake.social")
            with fake._lock:
                a = add(fake, clock, "anna", i=1)
                b = add(fake, clock, "bert", i=2)
                c = add(fake, clock, "cleo", i=3)
                add(fake, clock, "mute", name="Muted Max", i=4)
                add(fake, clock, "lowe", ask=False, name="Low Lowe")
            h.wait_until(lambda: h.shown("Anna") and h.shown("Bert") and h.shown("Cleo")
                         and h.shown("Low Lowe"), 10,
                         lambda: "notifications for everyone but the muted:\n" + h.describe_notifications())
            settle(h, fake)
            self.assertEqual(h.shown("Muted Max"), [])
            rc, _, err = h.heed("done", str(mention_id(h, fake, b)))
            self.assertEqual(rc, 0, err)
            rc, _, err = h.heed("snooze", str(mention_id(h, fake, c)), "1d")
            self.assertEqual(rc, 0, err)
            base = len(h.shown())

            clock.advance(2 * HOUR + MIN)
            h.wait_until(lambda: nudges(h), 10, lambda: "a reminder:\n" + h.describe_notifications())
            settle(h, fake)
            got = nudges(h)
            self.assertEqual(len(got), 1, "one reminder, for Anna only:\n" + h.describe_notifications())
            self.assertIn("Anna", got[0].summary)
            self.assertIn("2 h", got[0].summary, str(got[0]))
            self.assertEqual(len(h.shown()), base + 1, h.describe_notifications())

            clock.advance(MIN)                                   # no second one for the same step
            settle(h, fake)
            self.assertEqual(len(nudges(h)), 1, h.describe_notifications())

            clock.advance(6 * HOUR)                              # 8 h after the first notification
            h.wait_until(lambda: len(nudges(h)) >= 2, 10, lambda: "a 2nd reminder:\n"
                         + h.describe_notifications())
            settle(h, fake)
            got = nudges(h)
            self.assertEqual(len(got), 2, h.describe_notifications())
            self.assertIn("Anna", got[1].summary)

            clock.advance(12 * HOUR)                             # and then they stop
            settle(h, fake)
            self.assertEqual(len(nudges(h)), 2, "after 2 h and 8 h reminders stop:\n"
                             + h.describe_notifications())
            for who in ("Bert", "Cleo", "Muted Max", "Low Lowe"):
                self.assertEqual(nudges(h, who), [], f"no reminder for {who}")
            self.assertEqual(h.shown("Muted Max"), [])
            self.assertEqual([m['state'] for m in h.heed_list() if m['url'] == fake.status_url(a)],
                             ['waiting'])
            h.stop_heedd()

    def test_snooze_wakes_after_configured_snooze(self):
        with Harness() as h:
            fake, clock = start(h, snooze="20m")
            nid = add(fake, clock, "anna")
            first = h.wait_until(lambda: h.shown("Anna"), 10, "Anna's notification")[0]
            rc, _, err = h.heed("snooze", str(mention_id(h, fake, nid)))
            self.assertEqual(rc, 0, err)
            h.wait_until(lambda: first.id in [i for _, i in h.monitor.closes], 10,
                         "the snoozed banner to be closed")
            clock.advance(15 * MIN)
            settle(h, fake)
            self.assertEqual(len(h.shown("Anna")), 1, "still snoozed after 15 of 20 min")
            clock.advance(6 * MIN)
            again = h.wait_until(lambda: len(h.shown("Anna")) >= 2 and h.shown("Anna")[1], 10,
                                 lambda: "Anna back after 21 min:\n" + h.describe_notifications())
            self.assertEqual(again.replaces_id, 0, str(again))
            settle(h, fake)
            self.assertEqual(len(h.shown("Anna")), 2, h.describe_notifications())
            h.stop_heedd()

    def test_nudges_do_not_flood(self):
        with Harness() as h:
            fake, clock = start(h)
            with fake._lock:
                for i in range(8):
                    add(fake, clock, f"p{i}", name=f"Person {i}", i=i)
            h.wait_until(lambda: h.shown(), 10, "the digest")
            settle(h, fake)
            base = len(h.shown())
            self.assertEqual(base, 1, "8 at once: one digest:\n" + h.describe_notifications())
            clock.advance(2 * HOUR + MIN)
            h.wait_until(lambda: len(h.shown()) > base, 10, "reminders")
            settle(h, fake, 4)
            new = h.shown()[base:]
            self.assertLessEqual(len(new), 5,
                                 f"8 reminders due at once must not make {len(new)} popups "
                                 "(digest_threshold is 5):\n" + h.describe_notifications())
            h.stop_heedd()


class HeldBacklog(unittest.TestCase):
    def test_held_backlog_does_not_spin(self):
        # More mentions held than one attention pass takes (500): heedd must
        # wait for quiet hours to end, not re-run the pass back to back.
        with Harness() as h:
            m0 = int(time.time() // 60) % 1440
            fake = h.mastodon()
            configure(h, fake, quiet_hours=f"{hhmm(m0 - 60)}-{hhmm(m0 + 180)}")
            launch(h, fake)
            with fake._lock:
                fake.add_many(600)
            h.wait_until(lambda: h.control("status")["total"] >= 600, 30, "600 mentions stored",
                         interval=0.3)
            settle(h, fake, 2)
            cpu0, t0 = h.heedd_cpu_seconds(), time.monotonic()
            h.pause(3)
            cpu = h.heedd_cpu_seconds() - cpu0
            wall = time.monotonic() - t0
            print(f"\nheedd used {cpu:.2f} s CPU in {wall:.1f} s while holding 600 mentions",
                  file=sys.stderr)
            self.assertEqual(h.shown(), [], h.describe_notifications())
            self.assertLess(cpu / wall, 0.25,
                            f"heedd is busy ({cpu:.2f} s CPU in {wall:.1f} s) with nothing to do")
            h.stop_heedd()


if __name__ == "__main__":
    main()
