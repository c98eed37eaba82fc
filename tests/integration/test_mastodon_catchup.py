#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""After downtime heedd catches up on 200 missed mentions: all are stored,
it does not crash, and it does not flood the desktop (no notification is
sent twice, no mention popped up individually twice).
"""

import collections
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, main  # noqa: E402

MISSED = 200
TOKEN = "item {i:03d} zq"               # unique per missed mention, in its text
TOKEN_RE = re.compile(r"item (\d{3}) zq")


class MastodonCatchup(unittest.TestCase):
    def test_catch_up_after_downtime(self):
        with Harness() as h:
            fake = h.mastodon()
            first = fake.add_mention(acct="early@fake.social", display_name="Early Bird",
                                     text_html="<p>Already here before the downtime</p>")
            # Enough catch-up pages for 200 mentions at any page size >= 20.
            h.write_config([h.mastodon_account(fake, catchup_max_pages=20)], poll_interval=1)

            # First run: takes the newest page. Popups for it are not asserted.
            h.start_heedd()
            first_url = fake.status_url(first)
            h.wait_until(lambda: first_url in h.listed_urls(), 15, "the existing mention in heed list",
                         interval=0.25)
            h.stop_heedd()

            ids = fake.add_many(MISSED, text="<p>Catch-up " + TOKEN + "</p>")
            want = {fake.status_url(i) for i in [first] + ids}
            self.assertEqual(len(want), MISSED + 1)

            h.start_heedd()
            h.wait_until(lambda: want <= h.listed_urls(), 30,
                         lambda: f"all {len(want)} mentions in heed list", interval=0.5)
            self.assertTrue(h.heedd_running(), "heedd is still running after catching up")
            listed = h.heed_list()
            self.assertEqual(len(listed), MISSED + 1, "each mention is listed once")
            for m in listed:
                for key in ("id", "network", "account", "author", "text", "url", "created_at", "state"):
                    self.assertIn(key, m, f"heed list entry lacks {key!r}: {m}")
            h.wait_polls(fake, 2)

            shown = h.shown()
            print(f"\ncatch-up of {MISSED} mentions produced {len(shown)} Notify calls "
                  f"({len(h.notify_calls(False))} including failed ones)", file=sys.stderr)
            self.assertLessEqual(len(shown), MISSED + 1, "at most one notification per mention")

            seen = collections.Counter((n.summary, n.body) for n in shown)
            dups = [k for k, c in seen.items() if c > 1]
            self.assertEqual(dups, [], "identical Notify calls were sent")

            individual = collections.Counter()
            for n in shown:
                tokens = set(TOKEN_RE.findall(n.summary + "\n" + n.body))
                if len(tokens) == 1:           # names exactly one mention: an individual popup
                    individual[tokens.pop()] += 1
            twice = sorted(t for t, c in individual.items() if c > 1)
            self.assertEqual(twice, [], "mentions notified individually more than once")

            h.stop_heedd()


if __name__ == "__main__":
    main()
