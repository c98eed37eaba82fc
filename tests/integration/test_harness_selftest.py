#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Self-test of the integration harness, without heedd.

Checks that the fake Mastodon speaks TLS only to clients trusting the test
CA, authenticates, pages like real Mastodon, injects faults; and that the
private desktop (bus, Xvfb, dunst, bus monitor, dunstctl) behaves as the
heedd tests rely on.
"""

import http.client
import json
import os
import re
import ssl
import stat
import subprocess
import sys
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import fakenet  # noqa: E402
import tlsca  # noqa: E402
from harness import PYTHON, Harness, build_dir, main, wait_until  # noqa: E402


def ca_context(cafile=None):
    return ssl.create_default_context(cafile=cafile or tlsca.get_pki().ca_file)


def get(url, token=None, ctx=None, timeout=10):
    """GET url; returns (status, headers, parsed JSON body or raw bytes)."""
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=ctx or ca_context(), timeout=timeout) as r:
            status, headers, raw = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    try:
        return status, headers, json.loads(raw)
    except ValueError:
        return status, headers, raw


def parse_link(header):
    """{"next": url, "prev": url} from an RFC 8288 Link header."""
    out = {}
    for part in (header or "").split(","):
        m = re.match(r'\s*<([^>]*)>\s*;\s*rel="([^"]+)"', part)
        if m:
            out[m.group(2)] = m.group(1)
    return out


class FakeMastodonTLS(unittest.TestCase):
    def setUp(self):
        self.fake = fakenet.FakeMastodon().start()
        self.addCleanup(self.fake.stop)
        self.url = self.fake.base_url + "/api/v1/accounts/verify_credentials"

    def test_verified_with_test_ca(self):
        st, h, body = get(self.url, self.fake.token)
        self.assertEqual(st, 200)
        self.assertEqual((body["id"], body["username"], body["acct"]), ("1", "me", "me"))
        self.assertTrue(h["Content-Type"].startswith("application/json"))
        # The DNS:localhost SAN works too.
        st, _, _ = get(self.url.replace("127.0.0.1", "localhost"), self.fake.token)
        self.assertEqual(st, 200)

    def test_default_context_refuses(self):
        with self.assertRaises(urllib.error.URLError) as cm:
            get(self.url, self.fake.token, ctx=ssl.create_default_context())
        self.assertIsInstance(cm.exception.reason, ssl.SSLCertVerificationError)
        wait_until(lambda: self.fake.tls_errors, 5, message="the server to note the failed handshake")

    def test_other_ca_refuses(self):
        with self.assertRaises(urllib.error.URLError) as cm:
            get(self.url, self.fake.token, ctx=ca_context(tlsca.get_pki().other_ca_file))
        self.assertIsInstance(cm.exception.reason, ssl.SSLCertVerificationError)

    def test_bad_certificates(self):
        for kind, why in (("wrong_host", "mismatch"), ("untrusted", "issuer")):
            with self.subTest(kind=kind), fakenet.FakeMastodon(cert=kind) as bad:
                with self.assertRaises(urllib.error.URLError) as cm:
                    get(bad.base_url + "/api/v1/accounts/verify_credentials", bad.token)
                self.assertIsInstance(cm.exception.reason, ssl.SSLCertVerificationError)
                self.assertIn(why, str(cm.exception.reason).lower())
                self.assertEqual(bad.requests, [])

    def test_token_required(self):
        for token in (None, "wrong"):
            st, _, body = get(self.url, token)
            self.assertEqual(st, 401)
            self.assertEqual(body, {"error": "The access token is invalid"})
        st, _, _ = get(self.fake.base_url + "/api/v1/notifications", "wrong")
        self.assertEqual(st, 401)
        r = self.fake.requests[-1]
        self.assertEqual((r.method, r.path, r.status), ("GET", "/api/v1/notifications", 401))
        self.assertEqual(r.header("Authorization"), "Bearer wrong")

    def test_rate_limit_headers(self):
        _, h1, _ = get(self.url, self.fake.token)
        _, h2, _ = get(self.url, self.fake.token)
        self.assertEqual(h1["X-RateLimit-Limit"], "300")
        self.assertEqual(int(h2["X-RateLimit-Remaining"]), int(h1["X-RateLimit-Remaining"]) - 1)
        self.assertRegex(h1["X-RateLimit-Reset"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")

    def test_unknown_path(self):
        st, _, body = get(self.fake.base_url + "/api/v1/nope", self.fake.token)
        self.assertEqual((st, body), (404, {"error": "Record not found"}))


class FakeMastodonPaging(unittest.TestCase):
    N = 200

    @classmethod
    def setUpClass(cls):
        cls.fake = fakenet.FakeMastodon().start()
        cls.mentions = []           # ids, oldest first
        cls.favs = []
        for i in range(cls.N):
            cls.mentions.append(cls.fake.add_mention(
                acct=f"p{i}@fake.social", display_name=f"P {i}", text_html=f"<p>m{i}</p>"))
            if i % 20 == 5:
                cls.favs.append(cls.fake.add_mention(acct="fan@fake.social", type="favourite"))
        cls.all = sorted(cls.mentions + cls.favs, key=int)

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def page(self, query="", path="/api/v1/notifications"):
        st, h, body = get(self.fake.base_url + path + ("?" + query if query else ""), self.fake.token)
        self.assertEqual(st, 200, body)
        return body, parse_link(h.get("Link")), h

    @staticmethod
    def ids(page):
        return [n["id"] for n in page]

    def test_ids_numeric_and_growing(self):
        self.assertTrue(all(i.isdigit() for i in self.all))
        self.assertLess(len(self.all[0]), len(self.all[-1]), "ids should gain a digit")

    def test_default_and_max_limit(self):
        body, link, _ = self.page()
        self.assertEqual(self.ids(body), list(reversed(self.all))[:40])
        body, _, _ = self.page("limit=500")
        self.assertEqual(len(body), 80)
        body, _, _ = self.page("limit=5")
        self.assertEqual(self.ids(body), list(reversed(self.all))[:5])

    def test_walk_next_links(self):
        for enc in ("types%5B%5D=mention", "types[]=mention", "exclude_types%5B%5D=favourite"):
            with self.subTest(enc=enc):
                seen, url, pages = [], f"{self.fake.base_url}/api/v1/notifications?limit=80&{enc}", 0
                while True:
                    st, h, body = get(url, self.fake.token)
                    self.assertEqual(st, 200)
                    link = parse_link(h.get("Link"))
                    if not body:
                        self.assertEqual(link, {}, "an empty page has no Link header")
                        break
                    pages += 1
                    self.assertEqual(link["next"], f"{self.fake.base_url}/api/v1/notifications?"
                                     + ("exclude_types%5B%5D=favourite&" if "exclude" in enc else "")
                                     + f"limit=80&max_id={body[-1]['id']}"
                                     + ("" if "exclude" in enc else "&types%5B%5D=mention"))
                    self.assertIn(f"min_id={body[0]['id']}", link["prev"])
                    seen += self.ids(body)
                    url = link["next"]
                self.assertEqual(seen, list(reversed(self.mentions)))
                self.assertEqual(pages, 3)

    def test_since_id_gives_newest_page(self):
        since = self.mentions[49]
        body, _, _ = self.page(f"since_id={since}&types[]=mention")
        self.assertEqual(self.ids(body), list(reversed(self.mentions))[:40])
        body, _, _ = self.page(f"since_id={self.all[-1]}")
        self.assertEqual(body, [])

    def test_min_id_gives_next_page_up(self):
        start = self.mentions[49]
        body, link, _ = self.page(f"min_id={start}&types[]=mention")
        self.assertEqual(self.ids(body), list(reversed(self.mentions[50:90])))
        # Following rel="prev" walks forward to the newest, then an empty page.
        collected = list(reversed(self.ids(body)))
        url = link["prev"]
        while True:
            st, h, page = get(url, self.fake.token)
            if not page:
                self.assertNotIn("Link", h)
                break
            collected += list(reversed(self.ids(page)))
            url = parse_link(h["Link"])["prev"]
        self.assertEqual(collected, self.mentions[50:])

    def test_min_and_max_combined(self):
        body, _, _ = self.page(f"min_id={self.mentions[10]}&max_id={self.mentions[15]}&types[]=mention")
        self.assertEqual(self.ids(body), list(reversed(self.mentions[11:15])))
        body, _, _ = self.page(f"max_id={self.all[0]}")
        self.assertEqual(body, [])

    def test_bad_id_is_an_error(self):
        st, _, _ = get(self.fake.base_url + "/api/v1/notifications?max_id=abc", self.fake.token)
        self.assertEqual(st, 400)

    def test_notification_shape(self):
        body, _, _ = self.page("limit=1&types[]=mention")
        n = body[0]
        self.assertEqual(set(n) >= {"id", "type", "created_at", "account", "status"}, True)
        self.assertRegex(n["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        acc = n["account"]
        for k in ("id", "username", "acct", "display_name", "url", "bot"):
            self.assertIn(k, acc)
        self.assertEqual((acc["acct"], acc["username"], acc["display_name"]), ("p199@fake.social", "p199", "P 199"))
        st = n["status"]
        for k in ("id", "uri", "url", "created_at", "content", "visibility", "in_reply_to_id",
                  "in_reply_to_account_id", "mentions", "account"):
            self.assertIn(k, st)
        self.assertEqual(st["url"], f"https://{self.fake.host_port}/@p199/{st['id']}")
        self.assertEqual(self.fake.status_url(n["id"]), st["url"])
        self.assertEqual(st["content"], "<p>m199</p>")
        self.assertEqual(st["mentions"][0]["acct"], "me")
        self.assertEqual(st["account"], acc)


class FakeMastodonState(unittest.TestCase):
    def setUp(self):
        self.fake = fakenet.FakeMastodon().start()
        self.addCleanup(self.fake.stop)

    def test_add_mention_options(self):
        a = self.fake.add_mention(status_null=True)
        b = self.fake.add_mention(acct="bot@x.example", display_name="B", bot=True, visibility="direct",
                                  in_reply_to_account_id="1", in_reply_to_id="5")
        st, _, body = get(self.fake.base_url + "/api/v1/notifications", self.fake.token)
        self.assertEqual([n["id"] for n in body], [b, a])
        self.assertIsNone(body[1]["status"])
        self.assertTrue(body[0]["account"]["bot"])
        self.assertEqual(body[0]["status"]["visibility"], "direct")
        self.assertEqual(body[0]["status"]["in_reply_to_account_id"], "1")
        ids = self.fake.add_many(3)
        self.assertEqual(len(ids), 3)
        self.assertEqual(self.fake.all_ids()[:3], list(reversed(ids)))
        self.assertEqual(fakenet.html_to_text(self.fake.notification(ids[1])["status"]["content"]),
                         "Catch-up item 001 zq")

    def test_faults(self):
        url = self.fake.base_url + "/api/v1/notifications"
        self.fake.fail_next(2, 503)
        self.assertEqual([get(url, self.fake.token)[0] for _ in range(3)], [503, 503, 200])
        self.fake.fail_next(1, 429, body={"error": "Too many requests"},
                            headers={"X-RateLimit-Remaining": "0"})
        st, h, body = get(url, self.fake.token)
        self.assertEqual((st, body, h["X-RateLimit-Remaining"]), (429, {"error": "Too many requests"}, "0"))
        self.fake.fail_next(1, 200, body=b"not json", path=r"^/api/v1/notifications$")
        self.assertEqual(get(url, self.fake.token)[2], b"not json")

        self.fake.delay_next(1, 0.6)
        t = time.monotonic()
        self.assertEqual(get(url, self.fake.token)[0], 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.55)

        self.fake.drop_next(1)
        with self.assertRaises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
            get(url, self.fake.token)
        self.fake.inject(status=200, body={"x": "y" * 100}, truncate=True)
        with self.assertRaises(http.client.IncompleteRead):
            get(url, self.fake.token)
        self.assertEqual(get(url, self.fake.token)[0], 200)
        self.assertEqual([r.fault for r in self.fake.requests].count(True), 7)

    def test_stop_refuses_connections(self):
        url = self.fake.base_url + "/api/v1/notifications"
        self.assertEqual(get(url, self.fake.token)[0], 200)
        self.fake.stop()
        with self.assertRaises(urllib.error.URLError):
            get(url, self.fake.token, timeout=2)


class Desktop(unittest.TestCase):
    def test_notify_send_is_seen(self):
        with Harness() as h:
            self.assertEqual(stat.S_IMODE(os.stat(h.env["XDG_RUNTIME_DIR"]).st_mode), 0o700)
            body = 'two\nlines "quoted" & <b>bold</b> \u202eevil'
            h.run(["notify-send", "-a", "heed", "-c", "im.received", "-h", "string:desktop-entry:heed",
                   "Alice Example (@alice@fake.social)", body], check=True)
            n = h.wait_until(lambda: h.notifications(delivered_only=True), 5)[0]
            self.assertEqual(n["summary"], "Alice Example (@alice@fake.social)")
            self.assertEqual(n["body"], body)
            self.assertEqual((n["category"], n["desktop_entry"], n["app_name"]), ("im.received", "heed", "heed"))
            self.assertIsInstance(n["id"], int)
            h.wait_until(lambda: h.dunst_count("displayed") == 1, 5)
            h.dunst_close_all()
            hist = h.wait_until(lambda: h.dunst_history(), 5)
            self.assertEqual(hist[0]["summary"], n["summary"])
            self.assertEqual(hist[0]["category"], "im.received")
            self.assertEqual(h.dunst_count("history"), 1)

    def test_default_action_via_dunstctl(self):
        with Harness() as h:
            p = subprocess.Popen(["notify-send", "-A", "default=Open", "Click me", "body"],
                                 env=h.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                n = h.wait_until(lambda: h.shown("Click me"), 5)[0]
                self.assertEqual(n.actions, [("default", "Open")])
                h.wait_until(lambda: h.dunst_count("displayed") == 1, 5)
                h.dunst_action(0)
                out, err = p.communicate(timeout=10)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            self.assertEqual(out.strip(), "default")
            h.wait_until(lambda: ("ActionInvoked", (n.id, "default")) in h.monitor.signals, 5)

    def test_no_activation_and_restart(self):
        with Harness(dunst=False) as h:
            self.assertFalse(h.name_has_owner())
            t = time.monotonic()
            p = h.run(["notify-send", "nobody", "home"])
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("ServiceUnknown", p.stderr)
            self.assertLess(time.monotonic() - t, 5)
            self.assertFalse(h.name_has_owner(), "dunst must not be auto-activated")
            self.assertEqual(h.notifications(delivered_only=True), [])
            h.start_dunst()
            h.run(["notify-send", "now", "there"], check=True)
            h.wait_until(lambda: h.shown("now"), 5)
            h.stop_dunst()
            self.assertFalse(h.name_has_owner())
            h.start_dunst()
            h.run(["notify-send", "again", "x"], check=True)
            h.wait_until(lambda: h.shown("again"), 5)
            self.assertEqual(h.dunst_count("displayed"), 1, "a restarted dunst starts empty")

    def test_paused(self):
        with Harness() as h:
            h.set_paused(True)
            h.run(["notify-send", "held", "back"], check=True)
            h.wait_until(lambda: h.dunst_count("waiting") == 1, 5)
            self.assertEqual(h.dunst_count("displayed"), 0)
            h.set_paused(False)
            h.wait_until(lambda: h.dunst_count("displayed") == 1, 5)


class ConfigAndRecorder(unittest.TestCase):
    def test_write_config(self):
        with Harness(dunst=False) as h:
            fake = h.mastodon()
            path = h.write_config([h.mastodon_account(fake, catchup_max_pages=10)], poll_interval=1)
            self.assertEqual(path, os.path.join(h.env["XDG_CONFIG_HOME"], "heed", "heed.conf"))
            with open(path) as f:
                text = f.read()
            token_file = os.path.join(h.tmp, "secrets", "work.token")
            self.assertEqual(text, (
                "[heed]\npoll_interval = 1\n"
                f"open_command = {PYTHON} {h.recorder} %u\n\n"
                "[account work]\nnetwork = mastodon\n"
                f"server = {fake.base_url}\nca_file = {fake.ca_file}\n"
                "catchup_max_pages = 10\n"
                f"token_file = {token_file}\n"))
            self.assertEqual(stat.S_IMODE(os.stat(token_file).st_mode), 0o600)
            with open(token_file) as f:
                self.assertEqual(f.read().strip(), fake.token)

            url = fake.base_url + "/@alice/1?x=1&y=2"
            subprocess.run([PYTHON, h.recorder, url], check=True, env={})
            subprocess.run([PYTHON, h.recorder, "second"], check=True, env={})
            self.assertEqual(h.opened_urls(), [url, "second"])

    def test_wait_until_message(self):
        with self.assertRaises(AssertionError) as cm:
            wait_until(lambda: 1 / 0, 0.3, 0.05, "the impossible")
        self.assertIn("the impossible", str(cm.exception))
        self.assertIn("ZeroDivisionError", str(cm.exception))


class SkipReporting(unittest.TestCase):
    """A skipped test must reach ctest as skipped (exit 77, SKIP_RETURN_CODE
    in tests/CMakeLists.txt), never as a pass: harness.main() for the
    integration tests, heed_test_status() for the cmocka ones."""

    def run_module(self, body):
        here = os.path.dirname(os.path.abspath(__file__))
        src = ("import os, sys, unittest\n"
               f"sys.path.insert(0, {here!r})\n"
               "from harness import main\n"
               "class T(unittest.TestCase):\n" + body +
               "if __name__ == '__main__':\n    main()\n")
        p = subprocess.run([PYTHON, "-c", src], capture_output=True, text=True, timeout=60)
        return p.returncode

    def test_harness_main_exit_status(self):
        ok = "    def test_a(self):\n        pass\n"
        skipped = "    def test_b(self):\n        self.skipTest('no tool')\n"
        failed = "    def test_c(self):\n        self.fail('broken')\n"
        self.assertEqual(self.run_module(ok), 0)
        self.assertEqual(self.run_module(ok + skipped), 77, "a skip is reported as a skip")
        self.assertEqual(self.run_module(ok + skipped + failed), 1, "a failure outweighs a skip")
        self.assertEqual(self.run_module(failed), 1)

    def test_cmocka_skip_exit_status(self):
        # test_secret skips its one root-only case when not root: run it as
        # an unprivileged user (as root, like CI) or as we are.
        exe = os.path.abspath(os.path.join(build_dir(), "tests", "test_secret"))
        argv = [exe]
        if os.geteuid() == 0:
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", exe]
        env = dict(os.environ, TMPDIR="/tmp")
        p = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd="/tmp")
        self.assertEqual(p.returncode, 77, f"test_secret as non-root: {p.stdout[-2000:]}{p.stderr[-2000:]}")
        self.assertIn("SKIPPED", p.stdout + p.stderr)
        if os.geteuid() == 0:
            p = subprocess.run([exe], capture_output=True, text=True, timeout=120)
            self.assertEqual(p.returncode, 0, f"test_secret as root runs everything: {p.stdout[-2000:]}")


if __name__ == "__main__":
    main()
