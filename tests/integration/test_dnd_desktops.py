#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Do-not-disturb desktop by desktop (swaync, xfce4-notifyd, KDE, mako,
GNOME, Cinnamon): held while it is on, one summary as soon as the desktop
says it is over. Split from test_dnd.py (which has the shared steps and
dunst) so that the two run side by side.

Fakes of each desktop on a private session bus (fake_desktop.py), dunst
under Xvfb, the real heedd.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_desktop import FakeDesktop, FakeMakoctl, FakeSettings  # noqa: E402
from harness import Harness, main  # noqa: E402
from test_dnd import MAKO_POLLED_S, SIGNALLED_S, add, held_then_one_summary, settle, start  # noqa: E402


class Desktops(unittest.TestCase):
    def test_swaync_dnd(self):
        # A makoctl that says do-not-disturb is on PATH: heedd must not ask
        # it, the server is not mako.
        with Harness(notification_server="none") as h, \
                FakeDesktop(h, server="SwayNotificationCenter", swaync=True) as desk:
            mako = FakeMakoctl(h, modes=("default", "do-not-disturb"))
            fake = start(h, env=mako.path_env(h))
            held_then_one_summary(self, h, fake, lambda: desk.swaync_set_dnd(True),
                                  lambda: desk.swaync_set_dnd(False), SIGNALLED_S)
            self.assertTrue(desk.calls("GetDnd"), "asked through GetDnd")
            self.assertEqual(mako.runs(), 0, "makoctl is asked only when mako is the server")
            h.stop_heedd()

    def test_xfce4_notifyd_dnd(self):
        with Harness(notification_server="none") as h, \
                FakeDesktop(h, server="Xfce Notify Daemon", xfconf=True) as desk:
            fake = start(h)
            # Other settings of the channel change nothing.
            desk.xfconf_set("xfce4-notifyd", "/theme", "<'Default'>")
            held_then_one_summary(
                self, h, fake, lambda: desk.xfconf_set("xfce4-notifyd", "/do-not-disturb", "<true>"),
                lambda: desk.xfconf_set("xfce4-notifyd", "/do-not-disturb", "<false>"), SIGNALLED_S)
            self.assertIn(["xfce4-notifyd", "/do-not-disturb"],
                          [c["args"] for c in desk.calls("GetProperty")])
            # heed doctor says what heedd sees, on any desktop heedd follows.
            desk.xfconf_set("xfce4-notifyd", "/do-not-disturb", "<true>")
            h.wait_until(lambda: h.control("status")["notifications"].get("dnd") is True, 10,
                         "heedd to see do-not-disturb")
            rc, out, _ = h.heed("doctor", timeout=60)
            self.assertIn("do-not-disturb is on (as heedd sees it)", out)
            h.stop_heedd()

    def test_kde_inhibited(self):
        with Harness(notification_server="none") as h, FakeDesktop(h, server="Plasma", kde=True) as desk:
            fake = start(h)
            cookie = []
            held_then_one_summary(self, h, fake, lambda: cookie.append(desk.kde_inhibit()),
                                  lambda: desk.kde_uninhibit(cookie[0]), SIGNALLED_S)
            h.stop_heedd()

    def test_mako_mode(self):
        with Harness(notification_server="none") as h, FakeDesktop(h, server="mako") as desk:
            mako = FakeMakoctl(h)
            fake = start(h, env=mako.path_env(h))
            held_then_one_summary(self, h, fake, lambda: mako.set_modes("default", "do-not-disturb"),
                                  lambda: mako.set_modes("default"), MAKO_POLLED_S)
            self.assertGreater(mako.runs(), 0)
            # Asked again only while in do-not-disturb: now only for a show.
            runs = mako.runs()
            settle(h, fake)
            self.assertEqual(mako.runs(), runs, "makoctl is not polled once do-not-disturb is over")
            self.assertTrue(desk.calls("GetServerInformation"))
            h.stop_heedd()

    def test_mako_makoctl_hangs(self):
        # A makoctl that never answers is killed with what it started, and
        # heedd shows the mention as if mako were not in do-not-disturb.
        with Harness(notification_server="none") as h, FakeDesktop(h, server="mako"):
            mako = FakeMakoctl(h, modes=("do-not-disturb",))
            mako.hang()
            fake = start(h, env=mako.path_env(h))
            t0 = time.monotonic()
            add(fake, "anna")
            h.wait_until(lambda: h.shown("Anna"), 10, "Anna's notification despite makoctl")
            self.assertLess(time.monotonic() - t0, 8)
            self.assertTrue(h.control("status"))
            kids = mako.children()
            self.assertTrue(kids, "makoctl was run")

            def state(pid):
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        return f.read().rsplit(")", 1)[1].split()[0]
                except FileNotFoundError:
                    return "gone"
            h.wait_until(lambda: all(state(p) in ("gone", "Z") for p in kids), 5,
                         lambda: "makoctl's children killed: " + str({p: state(p) for p in kids}))
            h.stop_heedd()
            kids = mako.children()
            self.assertTrue(all(state(p) in ("gone", "Z") for p in kids),
                            "no makoctl child outlives heedd: " + str({p: state(p) for p in kids}))

    def test_gnome_show_banners(self):
        with Harness(notification_server="none") as h, FakeDesktop(h, server="gnome-shell"):
            gs = FakeSettings(h)
            gs.set("org.cinnamon.desktop.notifications", "display-notifications", "false")  # not GNOME's
            fake = start(h, env=gs.env)
            held_then_one_summary(
                self, h, fake, lambda: gs.set("org.gnome.desktop.notifications", "show-banners", "false"),
                lambda: gs.set("org.gnome.desktop.notifications", "show-banners", "true"), SIGNALLED_S)
            h.stop_heedd()

    def test_cinnamon_display_notifications(self):
        with Harness(notification_server="none") as h, FakeDesktop(h, server="cinnamon"):
            gs = FakeSettings(h)
            gs.set("org.gnome.desktop.notifications", "show-banners", "false")  # not Cinnamon's
            fake = start(h, env=gs.env)
            held_then_one_summary(
                self, h, fake,
                lambda: gs.set("org.cinnamon.desktop.notifications", "display-notifications", "false"),
                lambda: gs.set("org.cinnamon.desktop.notifications", "display-notifications", "true"),
                SIGNALLED_S)
            h.stop_heedd()



if __name__ == "__main__":
    main()
