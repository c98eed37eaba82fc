#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""heedd --demo: works without a config or network, shows notifications,
and without a notification server prints them and says so once.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, main, source_dir  # noqa: E402

NO_SERVER = "no notification server"
# An uninstalled heedd is given the sample, as scripts/demo does; an installed
# one finds its own (tests/integration/test_package.py).
DEMO = ["--demo", "--demo-file", os.path.join(source_dir(), "data", "demo", "mentions.json")]


class Demo(unittest.TestCase):
    def test_demo_shows_notifications(self):
        with Harness() as h:
            self.assertFalse(os.path.exists(os.path.join(h.env["XDG_CONFIG_HOME"], "heed", "heed.conf")))
            h.start_heedd(DEMO, config=False, wait_ready=False)
            h.wait_until(lambda: h.shown(), 15, "a Notify from heedd --demo")
            self.assertTrue(h.heedd_running())
            # heed's icon, and the sender's face from the demo's own pictures.
            mira = h.wait_until(lambda: h.shown("Mira"), 10, "Mira's banner")[0]
            self.assertEqual(mira.app_icon, "heed")
            face = mira.hints.get("image-path", "")
            self.assertTrue(face.startswith(os.path.join(h.env["XDG_CACHE_HOME"], "heed", "avatars")), str(mira))
            with open(face, "rb") as f:
                self.assertTrue(f.read(8).startswith(b"\x89PNG"))
            h.stop_heedd(timeout=10)

    def test_demo_without_notification_server(self):
        with Harness(dunst=False) as h:
            started = time.monotonic()
            h.start_heedd(DEMO, config=False, verbose=False, wait_ready=False)
            h.wait_until(lambda: h.heedd_stdout().strip(), 15,
                         "heedd --demo to print notifications on stdout")
            h.pause(max(0.0, 5.5 - (time.monotonic() - started)))
            err = h.heedd_log(-1)
            self.assertEqual(err.lower().count(NO_SERVER), 1,
                             f"stderr should say {NO_SERVER!r} exactly once:\n{err}")
            self.assertEqual(h.shown(), [])
            h.stop_heedd(timeout=10)


if __name__ == "__main__":
    main()
