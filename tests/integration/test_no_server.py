#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Without a notification server heedd keeps polling and storing mentions;
once a server appears, the waiting mention is shown exactly once.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, main  # noqa: E402


class NoNotificationServer(unittest.TestCase):
    def test_mention_waits_for_a_server(self):
        with Harness(dunst=False) as h:
            self.assertFalse(h.name_has_owner())
            fake = h.mastodon()
            h.write_config([h.mastodon_account(fake)], poll_interval=1)
            h.start_heedd()
            h.wait_polls(fake, 1, timeout=15)

            nid = fake.add_mention(acct="alice@fake.social", display_name="Alice Example",
                                   text_html="<p>Ping while your desktop is away</p>")
            url = fake.status_url(nid)
            h.wait_until(lambda: url in h.listed_urls(), 10, "the mention in heed list", interval=0.25)

            # Still alive and still polling.
            h.wait_polls(fake, 3, timeout=10)
            self.assertTrue(h.heedd_running())
            self.assertEqual(h.shown(), [])

            h.start_dunst()
            h.wait_until(lambda: h.shown("Alice Example"), 15, "the waiting mention to be shown")
            h.wait_polls(fake, 3)
            shown = h.shown()
            self.assertEqual(len(shown), 1, "shown exactly once:\n" + h.describe_notifications())
            self.assertIn("@alice@fake.social", shown[0].summary)
            self.assertIn("Ping while your desktop is away", shown[0].body)
            h.stop_heedd()


if __name__ == "__main__":
    main()
