#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Notification actions, end to end, against python3-dbusmock's notification
server (the only way to click a *named* action headlessly: ActionInvoked
must come from the server's own connection, see reference/c-plumbing.md 5.3).

Each notification for a mention offers Reply, Snooze and Done, and a click
on the body ("default") opens the post. Done and Reply mark the mention
handled; Snooze hides it for the configured time and it comes back when the
snooze ends (driven by heedd's test clock, no sleeping). A mention handled
elsewhere (the CLI, a reply on the network) has its banner withdrawn. A live
notification is updated in place; one the server closed is never reused.
The body fits the server: markup-escaped only with body-markup, "resident"
only with persistence.
"""

import calendar
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakenet import iso_ms, json_response  # noqa: E402
from harness import Harness, main  # noqa: E402

# Plain text as heed should see it; the post carries it as HTML.
ASK_PLAIN = "Can you review the <draft> & tell me what you think? It is urgent."
ASK_HTML = "<p>Can you review the &lt;draft&gt; &amp; tell me what you think? It is urgent.</p>"
ASK_ESCAPED = "Can you review the &lt;draft&gt; &amp; tell me what you think? It is urgent."

# What makes a mention "need you" is pinned here, so that these tests do not
# move with the text heuristics of the scorer: text features count nothing,
# the keyword makes the difference (20 base + 5 first contact = 25, low;
# + 40 for the keyword = 65, normal; VIPs 70).
KEYWORD = "urgent"
SCORE = {"question": 0, "weak_question": 0, "request": 0, "no_reply": 0, "alarm": 0,
         "deadline": 0, "never_replied": 0, "keyword": 40, "threshold_normal": 45,
         "threshold_critical": 95}


def write_config(h, fake, **heed_keys):
    heed_keys.setdefault("keywords", KEYWORD)
    h.write_config([h.mastodon_account(fake)], poll_interval=1, extra=heed_keys, score=SCORE)


def check_config(h):
    if "[score]" in h.heedd_log(-1) or "[heed]" in h.heedd_log(-1):
        raise AssertionError("heedd refused the test's configuration:\n" + h.heedd_log(-1))


def start(h, **heed_keys):
    """Fake Mastodon + heedd (test hooks on), past its first poll."""
    fake = h.mastodon()
    write_config(h, fake, **heed_keys)
    h.start_heedd(test_hooks=True)
    h.wait_polls(fake, 1, timeout=15)
    check_config(h)
    return fake


def add_ask(fake, who="alice", name="Alice Example", html=ASK_HTML):
    return fake.add_mention(acct=f"{who}@fake.social", display_name=name, text_html=html)


def listed(h, url):
    """heed list --json --all entry of the mention with that url."""
    for m in h.heed_list():
        if m.get("url") == url:
            return m
    raise AssertionError(f"{url} is not in heed list")


def wait_shown(h, text, n=1, timeout=10):
    """Wait for at least n delivered Notify calls mentioning text; return the n-th."""
    calls = h.wait_until(lambda: len(h.shown(text)) >= n and h.shown(text), timeout,
                         lambda: f"{n} Notify call(s) containing {text!r}:\n" + h.describe_notifications())
    return calls[n - 1]


def wait_state(h, url, state, timeout=10):
    return h.wait_until(lambda: listed(h, url).get("state") == state and listed(h, url), timeout,
                        lambda: f"mention {url} to become {state!r} (is {listed(h, url).get('state')!r})")


def wait_closed(h, nid, timeout=10):
    h.wait_until(lambda: nid in h.close_requests(), timeout,
                 lambda: f"heedd to close notification {nid} (CloseNotification calls: "
                 f"{h.close_requests()})")


def quiet_for(h, seconds, fake=None):
    """Let heedd run a few polls (so any wrong reaction has time to happen)."""
    if fake is not None:
        h.wait_polls(fake, max(1, int(seconds)), timeout=seconds + 10)
    else:
        h.pause(seconds)


class Actions(unittest.TestCase):
    def test_notification_offers_reply_snooze_done(self):
        with Harness(notification_server="dbusmock") as h:
            fake = start(h)
            add_ask(fake)
            n = wait_shown(h, "Alice Example")
            self.assertEqual(n.replaces_id, 0, str(n))
            keys = n.action_keys
            for k in ("default", "reply", "snooze", "done"):
                self.assertIn(k, keys, f"action {k!r} missing: {n.actions}")
            labels = dict(n.actions)
            self.assertEqual(labels["reply"], "Reply", n.actions)
            self.assertEqual(labels["snooze"], "Snooze", n.actions)
            self.assertEqual(labels["done"], "Done", n.actions)
            self.assertEqual(n.hints.get("urgency"), 1, f"a direct question is normal urgency: {n}")
            # persistence advertised: ask the server to keep it after an action
            self.assertIs(n.hints.get("resident"), True, f"resident hint with persistence: {n}")
            # body-markup advertised: text from the network escaped, never markup
            self.assertIn(ASK_ESCAPED, n.body, str(n))
            self.assertNotIn("<draft>", n.body, str(n))
            # the server has actions: no terminal instructions in the body
            self.assertNotIn("heed done", n.body, str(n))
            # Buttons nobody will answer once heedd is gone are withdrawn.
            h.stop_heedd()
            h.wait_until(lambda: n.id in h.close_requests(), 5,
                         "heedd to withdraw its actionable notification when it stops")

    def test_snooze_hides_and_comes_back_after_configured_time(self):
        with Harness(notification_server="dbusmock") as h:
            fake = start(h, snooze="45m")
            url = fake.status_url(add_ask(fake))
            n = wait_shown(h, "Alice Example")
            t0 = h.advance_clock(0)
            h.mock_action(n.id, "snooze")
            m = wait_state(h, url, "snoozed")
            wait_closed(h, n.id)
            until = calendar.timegm(time.strptime(m["snoozed_until"], "%Y-%m-%dT%H:%M:%SZ"))
            self.assertAlmostEqual(until - t0, 45 * 60, delta=30,
                                   msg=f"snoozed for the configured 45 min: {m}")

            # 30 min later: still snoozed, nothing shown.
            h.advance_clock(30 * 60)
            quiet_for(h, 2, fake)
            self.assertEqual(len(h.shown("Alice Example")), 1, h.describe_notifications())
            self.assertEqual(listed(h, url)["state"], "snoozed")

            # 46 min after the click: back, as a fresh notification with its actions.
            h.advance_clock(16 * 60)
            again = wait_shown(h, "Alice Example", 2)
            self.assertEqual(again.replaces_id, 0,
                             f"the snoozed banner was closed: a new one, not an update: {again}")
            self.assertIn("snooze", again.action_keys, str(again))
            self.assertEqual(listed(h, url)["state"], "waiting")
            quiet_for(h, 2, fake)
            self.assertEqual(len(h.shown("Alice Example")), 2,
                             "shown once after waking:\n" + h.describe_notifications())

            # And the new notification's buttons work.
            h.mock_action(again.id, "done")
            wait_state(h, url, "done")
            wait_closed(h, again.id)
            h.stop_heedd()

    def test_snooze_defaults_to_one_hour(self):
        with Harness(notification_server="dbusmock") as h:
            fake = start(h)
            url = fake.status_url(add_ask(fake))
            n = wait_shown(h, "Alice Example")
            t0 = h.advance_clock(0)
            h.mock_action(n.id, "snooze")
            m = wait_state(h, url, "snoozed")
            until = calendar.timegm(time.strptime(m["snoozed_until"], "%Y-%m-%dT%H:%M:%SZ"))
            self.assertAlmostEqual(until - t0, 3600, delta=30, msg=f"default snooze is 1 h: {m}")
            h.advance_clock(3600 + 60)
            wait_shown(h, "Alice Example", 2)
            h.stop_heedd()

    def test_read_marker_elsewhere_withdraws_banner(self):
        """Read in another Mastodon client (the server's shared read marker):
        the banner goes, the mention itself stays waiting for a reply."""
        with Harness(notification_server="dbusmock") as h:
            fake = start(h)
            nid = add_ask(fake)
            url = fake.status_url(nid)
            n = wait_shown(h, "Alice Example")
            fake.markers["notifications"] = str(nid)
            wait_closed(h, n.id)
            wait_state(h, url, "waiting")
            h.stop_heedd()

    def test_done_marks_handled_and_closes(self):
        with Harness(notification_server="dbusmock") as h:
            fake = start(h)
            url = fake.status_url(add_ask(fake))
            n = wait_shown(h, "Alice Example")
            h.mock_action(n.id, "done")
            wait_state(h, url, "done")
            wait_closed(h, n.id)
            self.assertEqual(h.opened_urls(), [], "Done opens nothing")
            # Never comes back, not even as a reminder.
            h.advance_clock(3 * 3600)
            quiet_for(h, 2, fake)
            self.assertEqual(len(h.shown("Alice Example")), 1, h.describe_notifications())
            h.stop_heedd()

    def test_reply_opens_post_and_marks_handled(self):
        with Harness(notification_server="dbusmock") as h:
            fake = start(h)
            url = fake.status_url(add_ask(fake))
            n = wait_shown(h, "Alice Example")
            h.mock_action(n.id, "reply")
            h.wait_until(lambda: h.opened_urls(), 10, "the post to be opened")
            self.assertEqual(h.opened_urls(), [url])
            wait_state(h, url, "done")
            wait_closed(h, n.id)
            h.stop_heedd()

    def test_body_click_opens_post(self):
        with Harness(notification_server="dbusmock") as h:
            fake = start(h)
            url = fake.status_url(add_ask(fake))
            n = wait_shown(h, "Alice Example")
            h.mock_action(n.id, "default")
            h.wait_until(lambda: h.opened_urls(), 10, "the post to be opened")
            self.assertEqual(h.opened_urls(), [url])
            quiet_for(h, 1, fake)
            # Opening is not answering: the mention still waits for a reply.
            self.assertEqual(listed(h, url)["state"], "waiting")
            self.assertTrue(h.heedd_running())
            h.stop_heedd()

    def test_digest_click_opens_top_mention(self):
        with Harness(notification_server="dbusmock") as h:
            fake = start(h)
            with fake._lock:      # one poll sees them all: one digest
                for i in range(5):
                    fake.add_mention(acct=f"low{i}@fake.social", display_name=f"Low {i}",
                                     text_html=f"<p>Nice talk yesterday {i}</p>")
                top = add_ask(fake, "carol", "Carol")
            d = wait_shown(h, "6 new mentions")
            self.assertIn("Carol", d.body, str(d))
            h.mock_action(d.id, "default")
            h.wait_until(lambda: h.opened_urls(), 10, "the top mention to be opened")
            self.assertEqual(h.opened_urls(), [fake.status_url(top)])
            wait_closed(h, d.id)
            # The next digest starts afresh.
            fake.add_mention(acct="late@fake.social", display_name="Late Larry",
                             text_html="<p>Nice talk yesterday</p>")
            d2 = wait_shown(h, "Late Larry")
            self.assertEqual(d2.replaces_id, 0, str(d2))
            h.stop_heedd()

    def test_handled_in_cli_withdraws_banner(self):
        with Harness(notification_server="dbusmock") as h:
            fake = start(h)
            url = fake.status_url(add_ask(fake))
            n = wait_shown(h, "Alice Example")
            mid = listed(h, url)["id"]
            rc, out, err = h.heed("done", str(mid))
            self.assertEqual(rc, 0, err)
            wait_closed(h, n.id)
            self.assertEqual(listed(h, url)["state"], "done")

            # heed snooze from the terminal withdraws it too.
            url2 = fake.status_url(add_ask(fake, "bob", "Bob Builder"))
            n2 = wait_shown(h, "Bob Builder")
            rc, out, err = h.heed("snooze", str(listed(h, url2)["id"]))
            self.assertEqual(rc, 0, err)
            wait_closed(h, n2.id)
            h.stop_heedd()

    def test_replied_on_network_withdraws_banner(self):
        with Harness(notification_server="dbusmock") as h:
            fake = h.mastodon()
            my_statuses = []        # what GET /api/v1/accounts/1/statuses answers

            def hook(req):
                if req.path == "/api/v1/accounts/1/statuses":
                    return json_response(list(reversed(my_statuses)))
                return None
            fake.hook = hook
            write_config(h, fake)
            h.start_heedd(test_hooks=True)
            h.wait_polls(fake, 1, timeout=15)
            check_config(h)
            h.wait_until(lambda: fake.requests_to("/api/v1/accounts/1/statuses"), 10,
                         "heedd to read the user's own posts once")

            nid = add_ask(fake, "bob", "Bob Builder")
            url = fake.status_url(nid)
            n = wait_shown(h, "Bob Builder")
            st = fake.notification(nid)["status"]
            # The user answers Bob on Mastodon itself.
            my_statuses.append({
                "id": "113000000000099999", "created_at": iso_ms(time.time()),
                "in_reply_to_id": st["id"], "in_reply_to_account_id": st["account"]["id"],
                "content": "<p>@bob sure, on it</p>", "visibility": "public",
                "account": fake.me_json(), "mentions": [], "url": fake.base_url + "/@me/1",
            })
            seen = len(fake.requests_to("/api/v1/accounts/1/statuses"))
            # heedd reads the user's posts every 10 min: let its clock get there.
            h.advance_clock(11 * 60)
            h.wait_until(lambda: len(fake.requests_to("/api/v1/accounts/1/statuses")) > seen, 15,
                         "heedd to read the user's posts again")
            wait_state(h, url, "replied")
            wait_closed(h, n.id)
            h.stop_heedd()

    def test_live_notification_updated_in_place(self):
        # A reminder for a mention whose banner is still up changes that banner.
        with Harness(notification_server="dbusmock") as h:
            fake = start(h)
            add_ask(fake)
            n = wait_shown(h, "Alice Example")
            h.advance_clock(2 * 3600 + 60)
            nudge = wait_shown(h, "Still waiting")
            self.assertIn("Alice Example", nudge.summary, str(nudge))
            self.assertEqual(nudge.replaces_id, n.id,
                             f"the live banner {n.id} is updated in place: {nudge}")
            self.assertEqual(nudge.id, n.id, str(nudge))
            self.assertIn("done", nudge.action_keys, f"actions kept on update: {nudge}")
            self.assertEqual(len(set(nudge.action_keys)), len(nudge.action_keys),
                             f"no duplicated actions after an update: {nudge.actions}")
            h.stop_heedd()

    def test_closed_notification_not_reused(self):
        # The user dismissed the banner; the reminder is a new notification
        # (libnotify 0.8.1 reports "closed" only once per object).
        with Harness(notification_server="dbusmock") as h:
            fake = start(h)
            url = fake.status_url(add_ask(fake))
            n = wait_shown(h, "Alice Example")
            h.mock_closed(n.id, 2)
            quiet_for(h, 1, fake)
            self.assertEqual(listed(h, url)["state"], "waiting", "dismissing is not answering")
            h.advance_clock(2 * 3600 + 60)
            nudge = wait_shown(h, "Still waiting")
            self.assertEqual(nudge.replaces_id, 0, f"a fresh notification after close: {nudge}")
            self.assertNotEqual(nudge.id, n.id, str(nudge))
            h.mock_closed(nudge.id, 2)
            quiet_for(h, 1, fake)
            # Second reminder (8 h): again fresh, and its buttons work.
            h.advance_clock(6 * 3600)
            nudge2 = wait_shown(h, "Still waiting", 2)
            self.assertEqual(nudge2.replaces_id, 0, f"a fresh notification after close: {nudge2}")
            h.mock_action(nudge2.id, "done")
            wait_state(h, url, "done")
            wait_closed(h, nudge2.id)
            h.stop_heedd()

    def test_without_body_markup_plain_text_and_no_resident(self):
        with Harness(notification_server="dbusmock", capabilities="actions body") as h:
            fake = start(h)
            add_ask(fake)
            n = wait_shown(h, "Alice Example")
            self.assertIn(ASK_PLAIN, n.body, f"plain text, unescaped, without body-markup: {n}")
            self.assertNotIn("&amp;", n.body, str(n))
            self.assertNotIn("&lt;", n.body, str(n))
            self.assertNotIn("resident", n.hints, f"no persistence: no resident hint: {n}")
            self.assertIn("snooze", n.action_keys, str(n))
            self.assertEqual(h.control("status")["notifications"]["capabilities"], "actions body")
            h.stop_heedd()


if __name__ == "__main__":
    main()
