#!/usr/bin/python3
# SPDX-License-Identifier: MIT
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
  - no summary or body carries control, bidi, zero-width or other
    invisible characters (by Unicode property: see forbidden()), while
    emoji sequences (ZWJ sequences, tag flags) arrive whole;
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
import unicodedata
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, main  # noqa: E402

BODY_MAX = 1024            # bytes of plain text in a notification body
BODY_RAW_MAX = 2048        # bytes as sent (escaping grows it)
SUMMARY_MAX = 1024



def _pictograph(ch):
    return unicodedata.category(ch) == "So"


def _emoji_tail(ch):
    return ch in "\ufe0e\ufe0f" or "\U0001f3fb" <= ch <= "\U0001f3ff"


def forbidden(s):
    """The first character of s that text from the network must not carry
    once heed shows it, or None. Stated by Unicode property, not with the
    implementation's list: a control character (Cc) other than tab and
    newline; a format character (Cf: bidi controls, zero-width characters,
    soft hyphen, invisible operators, tags, ...) except a zero-width joiner
    between two pictographs (So, as emoji are; a variation selector or skin
    tone may follow the first) and the tags of a flag after U+1F3F4; or a
    Hangul filler (a letter by category that shows nothing)."""
    for i, ch in enumerate(s):
        cat = unicodedata.category(ch)
        if cat == "Cc":
            if ch in "\t\n":
                continue
            return ch
        name = unicodedata.name(ch, "")
        if "HANGUL" in name and "FILLER" in name:
            return ch
        if cat != "Cf":
            continue
        if ch == "\u200d":
            j = i - 1
            while j >= 0 and _emoji_tail(s[j]):
                j -= 1
            if j >= 0 and _pictograph(s[j]) and i + 1 < len(s) and _pictograph(s[i + 1]):
                continue
            return ch
        if "\U000e0020" <= ch <= "\U000e007f":
            j = i - 1
            while j >= 0 and "\U000e0020" <= s[j] <= "\U000e007e":
                j -= 1
            if j >= 0 and s[j] == "\U0001f3f4":
                continue
        return ch
    return None


def bad_hex(s):
    ch = forbidden(s)
    return ch and hex(ord(ch))


# Emoji sequences that must reach the notification whole: ZWJ sequences,
# a flag made of tags, a keycap, a skin tone.
EMOJI = {
    "family": "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
    "rainbow": "\U0001f3f3\ufe0f\u200d\U0001f308",
    "technologist": "\U0001f469\U0001f3fd\u200d\U0001f4bb",
    "heartfire": "\u2764\ufe0f\u200d\U0001f525",
    "england": "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f",
    "keycap": "1\ufe0f\u20e3",
}
EMOJI_TEXT = " ".join(EMOJI.values())
# Invisible characters of issue #15, each inside a word.
INVISIBLE_SHOWN = "invisibleops soft mongol annot tag hangulfiller zwj bom"
INVISIBLE_TEXT = ("in\u2061vis\u2062ible\u2063op\u2064s so\u00adft mon\u180egol ann\ufff9o\ufffat\ufffb "
                  "t\U000e0069\U000e0067ag\U000e007f ha\u115fng\u1160ul\u3164fil\uffa0ler "
                  "zw\u200dj b\u200bo\u202em")
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
        ("mmmemoji", dict(
            acct="emoji@evil.example",
            display_name="Fam " + EMOJI["family"] + " N\u00adame\u3164\U000e0041",
            text_html=f"<p>mmmemoji {EMOJI_TEXT} {INVISIBLE_TEXT}</p>",
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
    tc.assertIsNone(forbidden(plain),
                    f"{what} carries a control, format or invisible character {bad_hex(plain)}: {n}")
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
        # The mass mention scores 0: noise is listed, never shown (not even
        # its sanitised name reaches the screen).
        noise = [mk for mk in markers if mk == "mmmtenk"]
        markers = [mk for mk in markers if mk not in noise]

        def all_shown():
            calls = h.notify_calls(False)
            return all(any(mk in (c.summary + c.body) for c in calls) for mk in markers)
        h.wait_until(all_shown, 20, lambda: "a Notify for each hostile mention:\n" + h.describe_notifications())
        calls = h.notify_calls(False)
        for mk in noise:
            self.assertFalse([c for c in calls if mk in c.summary + c.body], f"{mk} scored 0 and was shown")
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
        # Emoji sequences arrive whole; the invisible characters are gone
        # and the words they were hidden in read as words.
        for c in by_marker.get("mmmemoji", []):
            txt = html.unescape(c.body) if markup else c.body
            for what, seq in EMOJI.items():
                self.assertIn(seq, txt, f"{what} emoji not whole in the body: {ascii(txt)}")
            self.assertIn(INVISIBLE_SHOWN, txt, ascii(txt))
            self.assertIn(EMOJI["family"] + " Name", c.summary, ascii(c.summary))
        return by_marker

    def check_cli_clean(self, h, mentions):
        rc, out, err = h.heed("list", "--all")
        self.assertEqual(rc, 0, err)
        self.assertIsNone(forbidden(out), "control or invisible characters in heed list: " + str(bad_hex(out)))
        for mk, m in mentions.items():
            for cmd in ("show", "explain"):
                rc, out, err = h.heed(cmd, str(m["id"]))
                self.assertEqual(rc, 0, f"heed {cmd} {m['id']} ({mk}): {err}")
                self.assertIsNone(forbidden(out), f"heed {cmd} {m['id']} ({mk}) prints {bad_hex(out)}")
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
                self.assertIsNone(forbidden(m["text"]), f"{mk}: stored text has {bad_hex(m['text'])}")
                self.assertIsNone(forbidden(m["author"]["name"] or ""), f"{mk}: stored name")
            self.assertIn("@u0 @u1", mentions["mmmtenk"]["text"])
            self.assertIn(f"mmmemoji {EMOJI_TEXT} {INVISIBLE_SHOWN}", mentions["mmmemoji"]["text"])
            self.assertEqual(mentions["mmmemoji"]["author"]["name"], "Fam " + EMOJI["family"] + " Name")
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
                self.assertIsNone(forbidden(ln), f"the server's text reached the log raw ({bad_hex(ln)}): "
                                       f"{ln[:120]!r}")
                self.assertLessEqual(len(ln.encode()), 2100, "log lines are bounded (log.c cuts at 2 KB)")
            rc, out, err = h.heed("status")
            self.assertIsNone(forbidden(out), bad_hex(out))
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
                self.assertIsNone(forbidden(err), f"{marker}: error text {err!r}")
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
