#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Crash safety: heedd is killed with SIGKILL at random moments during a
heavy catch-up, over and over, and still ends up with a sound database that
holds every mention the server served exactly once, and no mention is ever
notified twice.

The fake Mastodon holds a few thousand mentions heedd has not seen; each run
of heedd starts the catch-up from the newest page (the cursor moves only when
a poll completes), stores pages, shows digests and popups, and is killed
0-300 ms after it was started: before it is ready, in the middle of a page's
transaction, between recording a notification and showing it, in the middle
of a D-Bus call. A couple of fresh mentions arrive before each run, so small
batches that pop up one by one are in flight too. After the loop one heedd
runs to completion.

Checks:
  - no run dies on its own (a corrupt database would make heedd exit);
  - PRAGMA integrity_check is "ok" now and then during the loop and at the end;
  - every served mention is stored, each exactly once (remote ids and URLs);
  - every mention is eventually recorded as notified;
  - no mention is notified twice: the bus monitor sees every Notify call of
    every run; a mention (named by the unique token in its text) may appear
    in the calls of one heedd process only, and at most once in a call that
    is not an update of an earlier one (replaces_id 0).
"""

import collections
import os
import random
import re
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, main  # noqa: E402

CATCHUP = int(os.environ.get("HEED_CRASH_MENTIONS", "3000"))
ITERATIONS = int(os.environ.get("HEED_CRASH_ITERATIONS", "100"))
FRESH_PER_RUN = 2
MAX_DELAY_S = 0.300
TOKEN_RE = re.compile(r"\b(item|fresh) (\d{5}) zq\b")

# Every mention clears the "normal" threshold, so a small batch pops up one
# by one (a burst still becomes a digest): both paths are crashed into.
SCORE = {"threshold_normal": 10, "threshold_critical": 95}


def db_path(h):
    return os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")


def integrity(path):
    con = sqlite3.connect(path, timeout=10)
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check")]
    finally:
        con.close()


def query(path, sql, args=()):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


class CrashLoop(unittest.TestCase):
    def test_kill_9_during_catch_up(self):
        rng = random.Random(int(os.environ.get("HEED_CRASH_SEED", str(int(time.time())))))
        with Harness(notification_server="dbusmock", time_limit=240) as h:
            t0 = time.monotonic()
            # The fake's default rate limit (300 per 5 min) would rightly
            # make heedd wait for the window's end.
            fake = h.mastodon(rate_limit=1_000_000)
            first = fake.add_mention(acct="early@fake.social", display_name="Early Bird",
                                     text_html="<p>Here before the downtime, item 99999 zq</p>")
            h.write_config([h.mastodon_account(fake, catchup_max_pages=1000)], poll_interval=1,
                           score=SCORE)

            # A first, complete run sets the starting point (the newest page
            # is history, never notified).
            h.start_heedd()
            h.wait_until(lambda: fake.status_url(first) in h.listed_urls(), 15,
                         "the first mention to be stored", interval=0.2)
            h.wait_polls(fake, 1)
            h.stop_heedd()

            fake.add_many(CATCHUP, text="<p>Catch-up item {i:05d} zq, can you look at this?</p>")
            fresh_n = 0
            kills = 0
            delays = []
            db = db_path(h)
            for it in range(ITERATIONS):
                for _ in range(FRESH_PER_RUN):
                    fake.add_mention(acct=f"fresh{fresh_n}@fake.social", display_name=f"Fresh {fresh_n}",
                                     text_html=f"<p>Quick one, fresh {fresh_n:05d} zq: are you there?</p>")
                    fresh_n += 1
                h.start_heedd(wait_ready=False, verbose=False)
                delay = rng.uniform(0, MAX_DELAY_S)
                delays.append(delay)
                time.sleep(delay)
                if h.heedd.poll() is not None:
                    h.heedd_expected_dead = True
                    self.fail(f"iteration {it}: heedd exited by itself with {h.heedd.returncode} "
                              f"{delay * 1000:.0f} ms after start:\n{h.heedd_log(-1)[-3000:]}")
                h.kill_heedd()
                kills += 1
                if it % 10 == 9 and os.path.exists(db):
                    self.assertEqual(integrity(db), ["ok"], f"integrity_check after kill {kills}")
            loop_s = time.monotonic() - t0
            stored_in_loop = query(db, "SELECT count(*) FROM mention")[0][0]
            print(f"\n{kills} kills in {loop_s:.1f} s (delays {min(delays) * 1000:.0f}-"
                  f"{max(delays) * 1000:.0f} ms); {stored_in_loop} of {len(fake.all_ids())} "
                  f"mentions stored by then", file=sys.stderr)
            self.assertGreaterEqual(kills, 100)
            self.assertEqual(integrity(db), ["ok"], "integrity_check right after the loop")

            # One run to completion.
            want_ids = set(fake.all_ids())
            h.start_heedd()

            def all_stored():
                got = {r[0] for r in query(db, "SELECT remote_id FROM mention")}
                return want_ids <= got
            h.wait_until(all_stored, 60, lambda: "every served mention to be stored", interval=0.5)

            def all_notified():
                return query(db, "SELECT count(*) FROM mention WHERE initial = 0 AND notified_at = 0"
                                 " AND state = 'waiting'")[0][0] == 0
            h.wait_until(all_notified, 30, "every mention to be recorded as notified", interval=0.5)
            h.wait_polls(fake, 2)
            listed = h.heed_list()
            h.stop_heedd()

            self.assertEqual(integrity(db), ["ok"], "integrity_check at the end")
            rows = query(db, "SELECT remote_id, url FROM mention")
            ids = collections.Counter(r[0] for r in rows)
            self.assertEqual([i for i, c in ids.items() if c > 1], [], "a mention stored twice")
            self.assertEqual(set(ids), want_ids, "stored mentions == served mentions")
            urls = collections.Counter(r[1] for r in rows)
            self.assertEqual([u for u, c in urls.items() if c > 1], [], "a URL stored twice")
            self.assertEqual(len(listed), len(want_ids), "heed list shows each mention once")
            self.assertEqual({m["url"] for m in listed}, {fake.status_url(i) for i in want_ids})

            self.check_no_double_notification(h)
            print(f"total {time.monotonic() - t0:.1f} s, {len(h.notifications())} Notify calls",
                  file=sys.stderr)

    def check_no_double_notification(self, h):
        calls = h.notifications()
        senders = collections.defaultdict(set)      # token -> heedd connections that named it
        fresh_calls = collections.Counter()         # token -> Notify calls that are not updates
        for n in calls:
            tokens = {f"{k} {v}" for k, v in TOKEN_RE.findall(n["summary"] + "\n" + n["body"])}
            for t in tokens:
                senders[t].add(n["sender"])
                if not n["replaces_id"]:
                    fresh_calls[t] += 1
        self.assertTrue(senders, "no Notify call named any mention: the check would prove nothing\n"
                        + h.describe_notifications()[:3000])
        again = sorted(t for t, s in senders.items() if len(s) > 1)
        self.assertEqual(again, [], "mentions notified by more than one heedd run:\n"
                         + "\n".join(f"  {t}: {sorted(senders[t])}" for t in again[:20]))
        twice = sorted(t for t, c in fresh_calls.items() if c > 1)
        self.assertEqual(twice, [], "mentions in more than one new notification")
        popups = sum(1 for n in calls if len(TOKEN_RE.findall(n["summary"] + n["body"])) == 1)
        print(f"{len(senders)} mentions named in notifications, {popups} single-mention calls, "
              f"{len({n['sender'] for n in calls})} heedd connections sent Notify", file=sys.stderr)


if __name__ == "__main__":
    main()
