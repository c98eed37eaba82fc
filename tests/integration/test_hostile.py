#!/usr/bin/python3
"""Hostile content: names, posts and links written by strangers.

A fake Mastodon serves mentions whose names and posts carry markup (<a href>,
<img onerror>, entities, unclosed tags), bidi overrides and zero-width
characters, control characters (C0, DEL, C1, NUL), a 100 KB post, a post
naming 10,000 accounts, and statuses whose links have user information,
other schemes, other hosts, control characters or invisible characters.

What must hold:
  - heedd stores them all and keeps running;
  - no Notify body carries markup from the network: with a server that
    advertises body-markup (dunst) every '<' and '&' is escaped, so the
    text shows literally; with one that does not (dbusmock with "body"
    only) the text is sent as plain text;
  - no summary or body carries control, bidi or zero-width characters;
  - summary and body are bounded (a notification is a glance, not a page);
  - the CLI prints no control characters (no terminal escapes) for them;
  - `heed open ID` refuses every unsafe link with an error and the opener
    (the harness's recorder) is never started for one; a safe link of the
    same server opens.

The Mastodon driver rewrites a status link that is not on the account's
server to the server's own /@acct/ID page, so to make a hostile link reach
url_check it is either on the account's server (same origin, with control or
invisible characters) or the status has no id (the driver then keeps the
link as served).
"""

import html
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, main  # noqa: E402

BODY_MAX = 1024            # bytes of plain text in a notification body
BODY_RAW_MAX = 2048        # bytes as sent (escaping grows it)
SUMMARY_MAX = 1024

FORBIDDEN_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e"
                          "\u2060\u2066-\u2069\ufeff]")
ENTITY_OK_RE = re.compile(r"&(?!(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")

SCORE = {"threshold_normal": 10, "threshold_critical": 95}


def hostile_mentions(fake):
    """(marker, kwargs for add_mention) of every hostile post; each marker is
    a word that survives sanitising and names the case."""
    ten_k = [f"user{i}@spam{i % 50}.example" for i in range(10_000)]
    ten_k_html = "<p>mmmtenk " + " ".join(
        f'<span class="h-card"><a href="https://spam.example/@u{i}" class="u-url mention">@<span>u{i}</span></a></span>'
        for i in range(10_000)) + "</p>"
    return [
        ("mmmmarkup", dict(
            acct="mallory@evil.example",
            display_name='<b>Mal</b> <a href="https://evil.example/">click</a> <img src=x onerror=alert(1)>',
            text_html=('<p>mmmmarkup <a href="https://evil.example/steal">link text</a> '
                       '<img src=x onerror=alert(1)> <script>alert(2)</script> &lt;b&gt;literal&lt;/b&gt; '
                       '&amp;lt;i&amp;gt; 1 &lt; 2 &amp;&amp; 3 &gt; 2 &amp;amp; &quot;q&quot; '
                       "<b><i>unclosed <u>tags <a href='javascript:alert(3)'>js")),
        ),
        ("mmmbidi", dict(
            acct="rlo@evil.example",
            display_name="Admin\u202etxt.exe\u202c \u200bZero\u200dWidth\ufeff\u2066iso\u2069",
            text_html="<p>mmmbidi abc\u202eevil.exe\u202c zero\u200bwidth\u200c\u200d \u2067x\u2069 \ufeffbom \u061c</p>",
        )),
        ("mmmcontrol", dict(
            acct="ctl@evil.example",
            display_name="Ctl\x07\x1b[31mRed\x1b]0;pwned\x07\x00\x7f\x85\x9b",
            text_html="<p>mmmcontrol bell\x07 esc\x1b[2J\x1b]0;title\x07 nul\x00 del\x7f c1\x85\x9b\x90 tab\tcr\rvt\x0bff\x0c</p>",
        )),
        ("mmmbig", dict(
            acct="big@evil.example", display_name="Big Post",
            text_html="<p>mmmbig " + "lorem ipsum dolor sit amet " * 3800 + "</p>",   # ~100 KB
        )),
        ("mmmtenk", dict(
            acct="mass@evil.example", display_name="Mass Mention",
            text_html=ten_k_html, mentions=ten_k,
        )),
        ("mmmescape", dict(
            acct="esc@evil.example", display_name="Esc & <Co>",
            text_html="<p>mmmescape " + "&lt;&amp;&gt;&quot;&#39;" * 400 + "</p>",      # worst case for escaping
        )),
    ]


def check_text(tc, n, what, value, plain, limit):
    tc.assertIsNone(FORBIDDEN_RE.search(plain),
                    f"{what} carries a control/bidi/zero-width character "
                    f"{FORBIDDEN_RE.search(plain) and hex(ord(FORBIDDEN_RE.search(plain).group()))}: {n}")
    tc.assertLessEqual(len(plain.encode()), limit, f"{what} is {len(plain.encode())} bytes: {str(n)[:400]}")


class Hostile(unittest.TestCase):
    def start(self, h, extra=None):
        fake = h.mastodon(rate_limit=1_000_000)
        conf = {"digest_threshold": 20}
        conf.update(extra or {})
        h.write_config([h.mastodon_account(fake)], poll_interval=1, score=SCORE, extra=conf)
        h.start_heedd()
        h.wait_polls(fake, 1, timeout=15)
        return fake

    def add_all(self, h, fake, cases):
        for _marker, kw in cases:
            fake.add_mention(**kw)
        markers = [m for m, _ in cases]

        def stored():
            texts = [m["text"] for m in h.heed_list()]
            return all(any(mk in t for t in texts) for mk in markers)
        h.wait_until(stored, 30, lambda: f"all of {markers} in heed list", interval=0.5)
        return {mk: next(m for m in h.heed_list() if mk in m["text"]) for mk in markers}

    def check_notifications(self, h, markers, markup):
        def all_shown():
            calls = h.notify_calls(False)
            return all(any(mk in (c.summary + c.body) for c in calls) for mk in markers)
        h.wait_until(all_shown, 20, lambda: "a Notify for each hostile mention:\n" + h.describe_notifications())
        calls = h.notify_calls(False)
        self.assertTrue(calls)
        for n in calls:
            body = n.body
            if markup:
                self.assertNotIn("<", body, f"raw '<' in a body sent to a body-markup server: {str(n)[:600]}")
                self.assertNotIn(">", body, f"raw '>' in a body sent to a body-markup server: {str(n)[:600]}")
                self.assertIsNone(ENTITY_OK_RE.search(body), f"a bare '&' in a body-markup body: {str(n)[:600]}")
                plain = html.unescape(body)
            else:
                plain = body
            check_text(self, n, "body", body, plain, BODY_MAX)
            self.assertLessEqual(len(body.encode()), BODY_RAW_MAX, f"body as sent: {str(n)[:300]}")
            check_text(self, n, "summary", n.summary, n.summary, SUMMARY_MAX)
            # The post's own tags are gone (only text it spelled out stays).
            for tag in ("<a ", "<img", "<script", "<u>"):
                self.assertNotIn(tag, plain, f"{tag} in a body: {str(n)[:400]}")
        by_marker = {mk: [c for c in calls if mk in c.summary + c.body] for mk in markers}
        # Script/link targets from the HTML never reach the text.
        for c in by_marker.get("mmmmarkup", []):
            txt = html.unescape(c.body) if markup else c.body
            self.assertNotIn("evil.example/steal", txt, str(c))
            self.assertNotIn("alert(2)", txt, "script content must be dropped: " + str(c))
            self.assertIn("link text", txt, str(c))
            # A tag the post spelled out as text is shown literally, and so
            # is an entity it spelled out.
            self.assertIn("<b>literal</b>", txt, str(c))
            self.assertIn("&lt;i&gt;", txt, str(c))
        return by_marker

    def check_cli_clean(self, h, mentions):
        rc, out, err = h.heed("list", "--all")
        self.assertEqual(rc, 0, err)
        self.assertIsNone(FORBIDDEN_RE.search(out.replace("\n", "")), "control characters in heed list: "
                          + repr(FORBIDDEN_RE.search(out.replace("\n", ""))))
        for mk, m in mentions.items():
            for cmd in ("show", "explain"):
                rc, out, err = h.heed(cmd, str(m["id"]))
                self.assertEqual(rc, 0, f"heed {cmd} {m['id']} ({mk}): {err}")
                bad = FORBIDDEN_RE.search(out.replace("\n", ""))
                self.assertIsNone(bad, f"heed {cmd} {m['id']} ({mk}) prints {bad and hex(ord(bad.group()))}")
                self.assertLess(len(out), 200_000, f"heed {cmd} output size")
            rc, out, err = h.heed("show", "--json", str(m["id"]))
            self.assertEqual(rc, 0, err)
            json.loads(out)

    def test_hostile_names_and_posts_with_body_markup(self):
        with Harness(time_limit=120) as h:
            fake = self.start(h)
            cases = hostile_mentions(fake)
            t0 = time.monotonic()
            mentions = self.add_all(h, fake, cases)
            print(f"\nhostile mentions stored in {time.monotonic() - t0:.1f} s", file=sys.stderr)
            caps = h.control("status")["notifications"]["capabilities"] or ""
            self.assertIn("body-markup", caps.split(), "dunst advertises body-markup")
            self.check_notifications(h, [m for m, _ in cases], markup=True)
            # The stored text is sanitised too (heed list --json is what scripts read).
            for mk, m in mentions.items():
                self.assertIsNone(FORBIDDEN_RE.search(m["text"].replace("\n", "")), f"{mk}: stored text")
                self.assertIsNone(FORBIDDEN_RE.search(m["author"]["name"] or ""), f"{mk}: stored name")
            self.assertIn("@u0 @u1", mentions["mmmtenk"]["text"])
            self.check_cli_clean(h, mentions)
            h.wait_polls(fake, 2)
            self.assertTrue(h.heedd_running())
            h.stop_heedd()

    def test_hostile_posts_without_body_markup(self):
        with Harness(notification_server="dbusmock", capabilities="body", time_limit=120) as h:
            fake = self.start(h)
            cases = [c for c in hostile_mentions(fake) if c[0] != "mmmtenk"]
            self.add_all(h, fake, cases)
            by = self.check_notifications(h, [m for m, _ in cases], markup=False)
            # Sent as plain text: a literal "<b>" from the post stays as written.
            self.assertTrue(any("<b>literal</b>" in c.body for c in by["mmmmarkup"]),
                            "plain-text server gets the text unescaped:\n" + h.describe_notifications())
            self.assertTrue(h.heedd_running())
            h.stop_heedd()

    def test_burst_of_hostile_posts_as_digest(self):
        """More than digest_threshold at once: the digest (its own body
        builder) must be just as clean."""
        with Harness(time_limit=120) as h:
            fake = self.start(h, extra={"digest_threshold": 2})
            cases = [c for c in hostile_mentions(fake) if c[0] != "mmmtenk"]
            self.add_all(h, fake, cases)
            h.wait_until(lambda: any("new mentions" in c.summary for c in h.notify_calls(False)), 15,
                         lambda: "a digest:\n" + h.describe_notifications())
            for n in h.notify_calls(False):
                self.assertNotIn("<", n.body, str(n)[:500])
                plain = html.unescape(n.body)
                check_text(self, n, "body", n.body, plain, BODY_MAX)
                check_text(self, n, "summary", n.summary, n.summary, SUMMARY_MAX)
            h.stop_heedd()

    def test_huge_display_name_is_bounded(self):
        """A 100 KB display name (a remote server need not enforce Mastodon's
        30 characters) must not make a 100 KB summary or digest line."""
        with Harness(time_limit=120) as h:
            fake = self.start(h)
            name = "Huge " + "N" * 100_000
            fake.add_mention(acct="huge@evil.example", display_name=name,
                             text_html="<p>mmmhugename are you there?</p>")
            h.wait_until(lambda: h.shown("mmmhugename"), 20,
                         lambda: "the huge-name mention shown:\n" + h.describe_notifications()[:2000])
            # And as a digest line: a burst of mentions by the same name.
            fake.add_many(25, text="<p>burst {i} mmmhugeburst</p>", display_name=name)
            h.wait_until(lambda: any("new mentions" in c.summary for c in h.notify_calls(False)), 20,
                         lambda: "a digest")
            problems = []
            for n in h.notify_calls(False):
                kind = "digest" if "new mentions" in n.summary else "popup"
                s_len, b_len = len(n.summary.encode()), len(html.unescape(n.body).encode())
                if s_len > SUMMARY_MAX:
                    problems.append(f"{kind} summary of {s_len} bytes ({n.summary[:40]}...)")
                if b_len > BODY_MAX:
                    problems.append(f"{kind} body of {b_len} bytes ({n.body[:40]}...)")
            self.assertTrue(h.heedd_running())
            h.stop_heedd()
            self.assertEqual(problems, [], "notifications not bounded")

    def test_server_error_text_in_the_log(self):
        """An error message from the server is text from the network too:
        no terminal escapes, bidi controls or forged lines in heedd's log."""
        with Harness(dunst=False, time_limit=60) as h:
            fake = self.start(h)
            evil = "boom\x1b[2J\x1b]0;pwned\x07\u202e\nheedd: error: forged line " + "x" * 5000
            fake.fail_next(1, status=500, path="/api/v1/notifications", body={"error": evil})
            h.wait_until(lambda: "boom" in h.heedd_log(-1), 15, "the error in the log")
            h.wait_polls(fake, 1)
            lines = [ln for ln in h.heedd_log(-1).splitlines() if "boom" in ln]
            self.assertFalse(any(ln.startswith("heedd: error: forged") for ln in h.heedd_log(-1).splitlines()))
            for ln in lines:
                bad = FORBIDDEN_RE.search(ln)
                self.assertIsNone(bad, f"the server's text reached the log raw ({bad and hex(ord(bad.group()))}): "
                                       f"{ln[:120]!r}")
                self.assertLessEqual(len(ln.encode()), 2100, "log lines are bounded (log.c cuts at 2 KB)")
            rc, out, err = h.heed("status")
            self.assertIsNone(FORBIDDEN_RE.search(out.replace("\n", "")))
            h.stop_heedd()

    # ------------------------------------------------------------ links

    def test_hostile_links_are_not_opened(self):
        with Harness(dunst=False, time_limit=120) as h:
            fake = self.start(h)
            base = fake.base_url
            hp = fake.host_port
            # (marker, url, keep: the status has no id, so the driver keeps the URL as served)
            cases = [
                ("lnkctl", base + "/@alice/1\x07", False),
                ("lnknewline", base + "/@alice/1\nhttps://evil.example/", False),
                ("lnkesc", base + "/@alice/1\x1b[2J", False),
                ("lnkrlo", base + "/@alice/\u202e1", False),
                ("lnkzw", base + "/@al\u200bice/1", False),
                ("lnkspace", base + "/@alice/1 --new-window", False),
                ("lnkback", base + "/@alice\\..\\1", False),
                ("lnklong", base + "/@alice/" + "a" * 3000, False),
                ("lnkuser", f"https://evil@{hp}/@alice/1", True),
                ("lnkuserpw", f"https://user:pass@{hp}/@alice/1", True),
                ("lnkuserhost", f"https://{hp}@evil.example/@alice/1", True),
                ("lnkjs", "javascript:alert(document.cookie)", True),
                ("lnkhttp", f"http://{hp}/@alice/1", True),
                ("lnkhost", "https://evil.example/@alice/1", True),
                ("lnkipsub", f"https://127.0.0.1.evil.example:{fake.port}/@alice/1", True),
                ("lnkfile", "file:///etc/passwd", True),
                ("lnkdata", "data:text/html,<script>alert(1)</script>", True),
                ("lnkschemerel", "//evil.example/@alice/1", True),
                ("lnkport", f"https://127.0.0.1:{fake.port + 1 if fake.port < 65535 else 1}/@alice/1", True),
                ("lnkidn", "https://xn--80ak6aa92e.com/@alice/1", True),
            ]
            for marker, url, keep in cases:
                extra = {"url": url}
                if keep:
                    extra["id"] = None
                fake.add_mention(acct=f"{marker}@evil.example", display_name=marker,
                                 text_html=f"<p>{marker} click me</p>", status_extra=extra)
            markers = [c[0] + " click" for c in cases] + ["lnkgood"]
            good = fake.add_mention(acct="good@fake.social", display_name="Good",
                                    text_html="<p>lnkgood a fine link</p>")

            def stored():
                texts = [m["text"] for m in h.heed_list()]
                return all(any(mk in t for t in texts) for mk in markers)
            h.wait_until(stored, 30, lambda: "all link mentions in heed list", interval=0.5)
            listed = {mk.split()[0]: next(m for m in h.heed_list() if mk in m["text"]) for mk in markers}

            refused = []
            for marker, url, keep in cases:
                m = listed[marker]
                # The hostile link really is what heed would open.
                self.assertEqual(m["url"], url, f"{marker}: stored URL (the case would test nothing)")
                before = len(h.opened_urls())
                rc, out, err = h.heed("open", str(m["id"]))
                time.sleep(0.05)
                self.assertNotEqual(rc, 0, f"heed open {marker} ({url!r}) succeeded: {out} {err}")
                self.assertIn("unsafe URL", err, f"heed open {marker}: {err!r}")
                self.assertIsNone(FORBIDDEN_RE.search(err.replace("\n", "")), f"{marker}: error text {err!r}")
                self.assertEqual(len(h.opened_urls()), before, f"{marker}: the opener was started")
                refused.append(marker)
            # The control: a link on the account's server opens.
            rc, out, err = h.heed("open", str(listed["lnkgood"]["id"]))
            self.assertEqual(rc, 0, err)
            h.wait_until(lambda: h.opened_urls(), 10, "the recorder to run for the good link")
            time.sleep(0.5)
            self.assertEqual(h.opened_urls(), [fake.status_url(good)],
                             "only the good link was ever opened")
            log = h.heedd_log()
            self.assertNotIn("\x1b", log, "an escape character from a link reached the log")
            self.assertTrue(h.heedd_running())
            print(f"\nrefused {len(refused)} hostile links", file=sys.stderr)
            h.stop_heedd()


if __name__ == "__main__":
    main()
