#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""A new Mastodon mention becomes exactly one desktop notification, is not
shown again after a restart, and its default action opens the post.

Real TLS to a fake Mastodon, a private session bus, dunst under Xvfb.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, body_text_variants, main, squash  # noqa: E402

TEXT_HTML = "<p>Are you coming to the meetup <b>tomorrow</b>? &amp; bring snacks</p>"
TEXT_PLAIN = "Are you coming to the meetup tomorrow? & bring snacks"


def start_watching(h):
    """Fake Mastodon with no mentions, heedd started and past its first poll."""
    fake = h.mastodon()
    h.write_config([h.mastodon_account(fake)], poll_interval=1)
    h.start_heedd()
    # Only add the mention once heedd has finished its first poll, so it is
    # news rather than part of the first-run backlog.
    h.wait_polls(fake, 1, timeout=15)
    return fake


def add_alice(fake):
    return fake.add_mention(acct="alice@fake.social", display_name="Alice Example",
                            text_html=TEXT_HTML)


class MastodonNotify(unittest.TestCase):
    def assert_alice_notification(self, h, n):
        self.assertIn("Alice Example", n.summary, str(n))
        self.assertIn("@alice@fake.social", n.summary, str(n))
        body = squash(n.body)
        self.assertTrue(any(v in body for v in body_text_variants(TEXT_PLAIN)),
                        f"body should contain {TEXT_PLAIN!r} (escaped or not): {n.body!r}")
        self.assertNotIn("<b>tomorrow", body, "HTML from the post must not reach the body as markup")
        self.assertNotIn("&lt;b&gt;", body, "HTML tags from the post must be removed, not escaped")
        self.assertEqual(n.hints.get("category"), "im.received", str(n))
        self.assertEqual(n.hints.get("desktop-entry"), "heed", str(n))
        self.assertEqual(n.app_icon, "heed", "every banner carries heed's icon: " + str(n))

    def test_new_mention_notified_once_and_not_after_restart(self):
        with Harness() as h:
            fake = start_watching(h)
            self.assertEqual(h.shown(), [], "nothing to notify yet:\n" + h.describe_notifications())
            nid = add_alice(fake)

            # (a) exactly one notification, within 10 s.
            h.wait_until(lambda: h.shown(), 10, "a Notify for Alice's mention")
            h.wait_polls(fake, 3)
            shown = h.shown()
            self.assertEqual(len(shown), 1, "exactly one Notify:\n" + h.describe_notifications())
            self.assert_alice_notification(h, shown[0])
            listed = h.heed_list()
            self.assertEqual([m.get("url") for m in listed], [fake.status_url(nid)])

            # (b) a restart does not show it again.
            h.stop_heedd()
            h.start_heedd()
            h.wait_polls(fake, 4)
            self.assertEqual(len(h.shown()), 1,
                             "no new Notify after restart:\n" + h.describe_notifications())
            self.assertEqual(len(h.heed_list()), 1, "the mention is stored once")
            h.stop_heedd()

    def test_noise_is_listed_but_never_shown(self):
        """Spam scored 0, a bot and a muted person: stored and listed, but no
        banner, not even a digest of one; a real question still pops up."""
        with Harness() as h:
            fake = h.mastodon()
            h.write_config([h.mastodon_account(fake)], poll_interval=1, extra={"muted": "pest@fake.social"})
            h.start_heedd()
            h.wait_polls(fake, 1, timeout=15)
            crowd = [f"c{i}@fake.social" for i in range(25)]
            fake.add_mention(acct="growth@spam.example", display_name="Growth Hacks 24/7",
                             text_html="<p>10x your followers with our AI tool! Limited offer, click now!</p>",
                             mentions=crowd)
            fake.add_mention(acct="ci@bots.example", display_name="CI Bot", bot=True,
                             text_html="<p>Build 412 passed. Can you merge the release branch today?</p>")
            fake.add_mention(acct="pest@fake.social", display_name="Pest",
                             text_html="<p>Why did you not answer me yet?</p>")
            add_alice(fake)
            h.wait_until(lambda: len(h.heed_list()) == 4, 10, "all four listed")
            h.wait_until(lambda: h.shown(), 10, "Alice's notification")
            h.wait_polls(fake, 3)
            h.pause(1.5)
            shown = h.shown()
            self.assertEqual(len(shown), 1, "only Alice:\n" + h.describe_notifications())
            self.assert_alice_notification(h, shown[0])
            scores = {m["author"]["name"]: m["score"] for m in h.heed_list()}
            self.assertEqual(scores["Growth Hacks 24/7"], 0, scores)
            h.stop_heedd()

    def test_sound_when_asked_never_in_quiet_hours(self):
        """sound = on: a new mention's banner asks for message-new-instant;
        off by default; never during quiet hours (a VIP passes them, but
        silently); reminders and digests are silent."""
        with Harness() as h:
            fake = h.mastodon()
            h.write_config([h.mastodon_account(fake)], poll_interval=1, extra={"sound": "on"})
            h.start_heedd()
            h.wait_polls(fake, 1, timeout=15)
            add_alice(fake)
            n = h.wait_until(lambda: h.shown(), 10, "Alice's notification")[0]
            self.assertEqual(n.hints.get("sound-name"), "message-new-instant", str(n))
            h.stop_heedd()
            # Quiet hours all day, Alice a VIP: shown, without a sound.
            h.write_config([h.mastodon_account(fake)], poll_interval=1,
                           extra={"sound": "on", "quiet_hours": "00:00-23:59", "vip": "alice@fake.social"})
            h.start_heedd()
            h.wait_polls(fake, 1, timeout=15)
            before = len(h.shown())
            fake.add_mention(acct="alice@fake.social", display_name="Alice Example",
                             text_html="<p>Are you awake? The server is down and I need your help now!</p>")
            n = h.wait_until(lambda: len(h.shown()) > before and h.shown()[-1], 10, "the VIP's notification")
            self.assertNotIn("sound-name", n.hints, str(n))
            h.stop_heedd()
            # Off by default.
            h.write_config([h.mastodon_account(fake)], poll_interval=1)
            h.start_heedd()
            h.wait_polls(fake, 1, timeout=15)
            before = len(h.shown())
            fake.add_mention(acct="bob@fake.social", display_name="Bob",
                             text_html="<p>Could you send me the slides?</p>")
            n = h.wait_until(lambda: len(h.shown()) > before and h.shown()[-1], 10, "Bob's notification")
            self.assertNotIn("sound-name", n.hints, str(n))
            h.stop_heedd()

    def test_sender_face_cached_and_shown(self):
        """The sender's picture: fetched without the token when the first
        mention is stored, cached 0600 under $XDG_CACHE_HOME/heed/avatars,
        and named in the image-path hint of later banners. A body that is
        no image, or too big, is not kept, and the banner goes without."""
        with Harness() as h:
            fake = h.mastodon()
            fake.avatars["mallory"] = (b"<html>not a picture</html>", "image/png")
            fake.avatars["huge"] = (b"\x89PNG\r\n\x1a\n" + b"0" * (600 * 1024), "image/png")
            # Every mention its own banner: no digest to fold them into.
            h.write_config([h.mastodon_account(fake)], poll_interval=1, extra={"digest_threshold": 1000},
                           score={"threshold_normal": 0})
            h.start_heedd()
            h.wait_polls(fake, 1, timeout=15)
            add_alice(fake)
            for who in ("mallory", "huge"):
                fake.add_mention(acct=f"{who}@fake.social", display_name=who.title(),
                                 text_html="<p>Could you send me the slides?</p>")
            h.wait_until(lambda: len(h.shown()) >= 3, 10, "three banners")
            cache = os.path.join(h.env["XDG_CACHE_HOME"], "heed", "avatars")
            h.wait_until(lambda: len(fake.avatar_requests()) >= 3, 10, "the pictures to be fetched")
            h.wait_until(lambda: os.path.isdir(cache) and len(os.listdir(cache)) == 1, 10,
                         lambda: f"one picture cached (have {os.listdir(cache) if os.path.isdir(cache) else None})")
            self.assertEqual(os.stat(cache).st_mode & 0o777, 0o700)
            face = os.path.join(cache, os.listdir(cache)[0])
            self.assertEqual(os.stat(face).st_mode & 0o777, 0o600)
            with open(face, "rb") as f:
                self.assertTrue(f.read().startswith(b"\x89PNG"))
            for r in fake.avatar_requests():
                self.assertIsNone(r.header("authorization"), "the token went to a picture's host")
            before = len(h.shown())
            fake.add_mention(acct="alice@fake.social", display_name="Alice Example",
                             text_html="<p>One more question: are you free on Friday?</p>")
            fake.add_mention(acct="mallory@fake.social", display_name="Mallory",
                             text_html="<p>And could you also send the recording?</p>")
            h.wait_until(lambda: len(h.shown()) >= before + 2, 10, "two more banners")
            by_name = {("Alice" if "Alice" in n.summary else "Mallory"): n for n in h.shown()[before:]}
            self.assertEqual(by_name["Alice"].hints.get("image-path"), face, str(by_name["Alice"]))
            self.assertNotIn("image-path", by_name["Mallory"].hints, str(by_name["Mallory"]))
            h.stop_heedd()

    def test_avatars_false_fetches_nothing(self):
        with Harness() as h:
            fake = h.mastodon()
            h.write_config([h.mastodon_account(fake)], poll_interval=1, extra={"avatars": "false"})
            h.start_heedd()
            h.wait_polls(fake, 1, timeout=15)
            add_alice(fake)
            h.wait_until(lambda: h.shown(), 10, "Alice's banner")
            add_alice(fake)
            h.wait_until(lambda: len(h.shown()) >= 2, 10, "Alice's second banner")
            self.assertEqual(fake.avatar_requests(), [])
            self.assertFalse([n for n in h.shown() if "image-path" in n.hints], h.describe_notifications())
            h.stop_heedd()

    def test_default_action_opens_status_url(self):
        with Harness() as h:
            fake = start_watching(h)
            nid = add_alice(fake)
            url = fake.status_url(nid)
            n = h.wait_until(lambda: h.shown(), 10, "a Notify for Alice's mention")[0]
            self.assert_alice_notification(h, n)
            h.wait_until(lambda: h.dunst_count("displayed") >= 1, 5, "dunst to display it")

            # (d) dunstctl action 0 clicks the "default" action (or a sole action).
            h.dunst_action(0)
            h.wait_until(lambda: h.opened_urls(), 10,
                         lambda: "open_command to be run; actions sent were "
                         f"{n.actions} (dunst clicks only 'default' or a sole action)")
            h.wait_polls(fake, 2)
            self.assertEqual(h.opened_urls(), [url])
            self.assertTrue(h.heedd_running())
            h.stop_heedd()


if __name__ == "__main__":
    main()
