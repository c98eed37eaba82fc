#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""All four networks in one heedd at once: Mastodon, Bluesky, GitHub and X,
each behind its own fake server over real TLS, one private session bus and
dunst under Xvfb.

Checks the guarantees every network shares: each new mention is notified
once; a restart repeats none; mentions that arrive while heedd is down are
caught up; a click opens the right web page; a Bluesky access token that
expires is refreshed without a new login; GitHub's 304s cost no rate limit
and its X-Poll-Interval is obeyed. One account's trouble does not stop the
others.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_bluesky import FakeBluesky, web_url as bluesky_web_url  # noqa: E402
from fake_github import FakeGitHub, github_account  # noqa: E402
from fake_x import FakeX  # noqa: E402
from harness import Harness, main  # noqa: E402


def started(h, fake):
    fake.start()
    h.fakes.append(fake)
    return fake


class Fleet:
    """The four fakes and the accounts that point at them."""

    def __init__(self, h):
        self.h = h
        self.masto = h.mastodon()
        self.sky = started(h, FakeBluesky())
        self.gh = started(h, FakeGitHub(poll_interval=2))
        self.x = started(h, FakeX())

    def accounts(self):
        return [
            self.h.mastodon_account(self.masto, name="masto"),
            {"name": "sky", "network": "bluesky", "server": self.sky.base_url,
             "identifier": self.sky.identifier, "token": self.sky.password, "ca_file": self.sky.ca_file},
            github_account(self.gh, name="gh"),
            {"name": "bird", "network": "x", "server": self.x.base_url, "token": self.x.token,
             "ca_file": self.x.ca_file},
        ]

    def fakes(self):
        return (self.masto, self.sky, self.gh, self.x)

    def wait_all_polled(self, n=1, timeout=30):
        for fake in self.fakes():
            self.h.wait_polls(fake, n, timeout=timeout)

    def add_one_each(self, tag):
        """One new mention per network; returns {network: text marker}."""
        self.masto.add_mention(acct=f"ana{tag}@fake.social", display_name=f"Ana {tag}",
                               text_html=f"<p>Mastodon question {tag}: can you look?</p>")
        self.sky.add_mention(handle=f"bo{tag}.test", display_name=f"Bo {tag}",
                             text=f"@{self.sky.handle} Bluesky question {tag}: can you look?")
        self.gh.add_thread(reason="review_requested", title=f"GitHub review {tag}")
        self.x.add_mention(username=f"cy{tag}", name=f"Cy {tag}",
                           text=f"@{self.x.me['username']} X question {tag}: can you look?")
        return {"mastodon": f"Mastodon question {tag}", "bluesky": f"Bluesky question {tag}",
                "github": f"GitHub review {tag}", "x": f"X question {tag}"}


def stored_by_network(h):
    out = {}
    for m in h.heed_list():
        out.setdefault(m["network"], []).append(m)
    return out


class AllNetworks(unittest.TestCase):
    def test_four_networks_in_one_daemon(self):
        with Harness(self) as h:
            fleet = Fleet(h)
            # VIPs pop up on their own rather than in a digest, so each
            # "one" mention can be seen as its own notification.
            h.write_config(fleet.accounts(), poll_interval=1,
                           extra={"vip": "anaone@fake.social; boone.test; cyone; octo-org/widgets"})
            h.start_heedd()
            fleet.wait_all_polled(1)

            # Each new mention is notified once.
            markers = fleet.add_one_each("one")
            for network, text in markers.items():
                h.wait_until(lambda t=text: h.shown(t), 20, f"a notification for the {network} mention")
            h.pause(4)
            for network, text in markers.items():
                self.assertEqual(len(h.shown(text)), 1, f"{network}: notified exactly once")

            # A restart repeats none, and the Bluesky session is reused.
            creates = fleet.sky.create_calls
            shown_before = len(h.shown())
            h.stop_heedd()
            h.start_heedd()
            fleet.wait_all_polled(2)
            self.assertEqual(len(h.shown()), shown_before, "nothing notified again after a restart")
            self.assertEqual(fleet.sky.create_calls, creates, "no new Bluesky login after a restart")

            # Downtime: everything that arrived meanwhile is stored.
            h.stop_heedd()
            fleet.sky.expire_access()
            for i in range(3):
                fleet.add_one_each(f"down{i}")
            refreshes = fleet.sky.refresh_calls
            h.start_heedd()

            def caught_up():
                by = stored_by_network(h)
                return all(sum(1 for m in by.get(n, []) if f"down{i}" in (m["text"] + str(m.get("context", "")))) == 1
                           for n in ("mastodon", "bluesky", "x") for i in range(3))
            h.wait_until(caught_up, 40, "every mention from the downtime stored once")
            by = stored_by_network(h)
            gh_texts = " ".join(m["text"] + " " + str(m.get("context", "")) for m in by.get("github", []))
            for i in range(3):
                self.assertIn(f"GitHub review down{i}", gh_texts)
            self.assertGreater(fleet.sky.refresh_calls, refreshes, "the expired Bluesky token was refreshed")
            self.assertEqual(fleet.sky.create_calls, creates, "...without a new login")

            # A click opens the right web page for each network.
            for network in ("mastodon", "bluesky", "github", "x"):
                m = next(m for m in by[network] if "one" in (m["text"] + str(m.get("context", ""))))
                rc, out, err = h.heed("open", str(m["id"]))
                self.assertEqual(rc, 0, f"heed open for {network}: {err}")
                h.wait_until(lambda u=m["url"]: u in h.opened_urls(), 10, f"{network} link opened")
            urls = h.opened_urls()
            self.assertTrue(any(u.startswith("https://bsky.app/profile/did:") for u in urls), urls)
            self.assertTrue(any(u.startswith("https://x.com/cyone/status/") for u in urls), urls)
            self.assertTrue(any(u.startswith(fleet.masto.base_url + "/@") for u in urls), urls)
            self.assertTrue(any(u.startswith(fleet.gh.base_url + "/octo-org/") for u in urls), urls)

            # GitHub: 304s are free, and X-Poll-Interval (2 s) beats poll_interval (1 s).
            before = fleet.gh.rate_remaining
            n_before = len(fleet.gh.polls())
            h.pause(7)
            polls = fleet.gh.polls()[n_before:]
            self.assertGreaterEqual(len(polls), 2, "GitHub still polled")
            self.assertTrue(all(p.status == 304 for p in polls), [p.status for p in polls])
            self.assertEqual(fleet.gh.rate_remaining, before, "304s did not count against the rate limit")
            gaps = [b.time - a.time for a, b in zip(polls, polls[1:])]
            self.assertTrue(all(g >= 1.9 for g in gaps), f"polls spaced by X-Poll-Interval: {gaps}")

    def test_one_broken_account_does_not_stop_the_others(self):
        with Harness(self) as h:
            fleet = Fleet(h)
            accounts = fleet.accounts()
            accounts[3]["token"] = "not-the-right-token"   # X refuses us
            h.write_config(accounts, poll_interval=1)
            h.start_heedd()
            for fake in (fleet.masto, fleet.sky, fleet.gh):
                h.wait_polls(fake, 1, timeout=30)
            markers = fleet.add_one_each("two")
            for network in ("mastodon", "bluesky", "github"):
                h.wait_until(lambda t=markers[network]: h.shown(t), 20, f"{network} still notified")
            rc, out, err = h.heed("status", "--json")
            self.assertEqual(rc, 0, err)
            import json
            health = {a["name"]: a["health"] for a in json.loads(out)["accounts"]}
            self.assertEqual(health["bird"], "needs-attention", health)
            self.assertEqual(health["masto"], "ok", health)
            self.assertNotIn("not-the-right-token", h.heedd_log(), "a token in the log")


if __name__ == "__main__":
    main()
