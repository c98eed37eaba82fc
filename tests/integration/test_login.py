#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""heed login, against fake servers over real TLS.

Mastodon's sign-in runs the whole way: heed registers itself, the
authorisation page is "opened" (by a $BROWSER that records its argv), the
test plays the user approving it (FakeMastodonOAuth.approve) and pipes the
code to heed, which exchanges it with PKCE and proves the token. X's
sign-in goes the same way through the user's own app (--client-id, or the
first line of input): the test plays the user with FakeX.approve, pipes
back the callback address (or the code alone), and heed keeps the refresh
token, with client_id in the group; heedd then renews with it. Bluesky and
GitHub take their secret on standard input. Every case checks what
was written (the token file's mode and content, heed.conf byte for byte
around the new group) and, when the login fails, that nothing was. heed
login never touches heedd's state database: the Bluesky session its check
opens is ended again (deleteSession), also when it refuses a main
password, and heedd signs in itself. The secret must never appear in
heed's output.
"""

import base64
import json
import pty
import os
import re
import select
import stat
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_bluesky import FakeBluesky  # noqa: E402
from fake_github import FakeGitHub  # noqa: E402
from fake_oauth import OOB, FakeMastodonOAuth, s256  # noqa: E402
from fake_x import REDIRECT as X_REDIRECT  # noqa: E402
from fake_x import SCOPES as X_SCOPES  # noqa: E402
from fake_x import FakeX  # noqa: E402
from fake_x import s256 as x_s256  # noqa: E402
from harness import PYTHON, Harness, build_dir, main  # noqa: E402

SCOPES = "read:notifications read:statuses read:accounts read:follows"

# A heed.conf as a person writes it: comments, odd spacing, a second account.
USER_CONF = """# heed, configured by hand.
#   Keep this comment and the spacing below exactly.

[heed]
# fast, for the test
poll_interval   =   1
open_command = /bin/true %u

# my other account
[account old]
network = mastodon
server = {server}
token_file = {token}
ca_file = {ca}
poll_interval = 1
"""

FAKE_SECRET_TOOL = r'''#!/usr/bin/python3
"""A stand-in for secret-tool: store/lookup/clear in a JSON file."""
import json, os, sys
db = os.environ["FAKE_KEYRING"]
try:
    with open(db) as f:
        data = json.load(f)
except FileNotFoundError:
    data = {"items": {}, "calls": []}
args = sys.argv[1:]
data["calls"].append(args)
cmd = args[0]
rest = [a for a in args[1:] if not a.startswith("--label=")]
key = " ".join(rest)
if cmd == "store":
    data["items"][key] = sys.stdin.read()
elif cmd == "lookup":
    if key not in data["items"]:
        sys.exit(1)
    sys.stdout.write(data["items"][key])
elif cmd == "clear":
    data["items"].pop(key, None)
with open(db, "w") as f:
    json.dump(data, f)
'''


class MainPasswordBluesky(FakeBluesky):
    """A PDS where the password typed is the account's main one: the access
    token of the session it opens says scope com.atproto.access, as the
    reference PDS marks a main-password session."""

    def _new_session(self):
        session = super()._new_session()
        claims = json.dumps({"scope": "com.atproto.access", "sub": self.did}).encode()
        payload = base64.urlsafe_b64encode(claims).decode().rstrip("=")
        access = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ." + payload + ".sig"
        with self._lock:
            self._access[access] = "valid"
        session["accessJwt"] = access
        return session


class Login:
    """heed login running with pipes: read its output as it comes, answer it."""

    def __init__(self, h, args, env=None):
        self.h = h
        child_env = dict(h.env)
        child_env.update(env or {})
        self.p = subprocess.Popen([os.path.join(build_dir(), "heed"), "login", *args], env=child_env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.out = b""

    def wait_for(self, pattern, timeout=15):
        """Read stdout until pattern (a regex) matches; return the match's first group."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.out.decode(errors="replace"))
            if m:
                return m.group(1)
            left = deadline - time.monotonic()
            if left <= 0 or self.p.poll() is not None and not select.select([self.p.stdout], [], [], 0)[0]:
                err = self.p.stderr.read().decode() if self.p.poll() is not None else ""
                raise AssertionError(f"heed login never printed {pattern!r}; stdout so far:\n"
                                     f"{self.out.decode(errors='replace')}\nstderr: {err}")
            r, _, _ = select.select([self.p.stdout], [], [], min(left, 0.2))
            if r:
                chunk = os.read(self.p.stdout.fileno(), 65536)
                if chunk:
                    self.out += chunk

    def finish(self, answer=None, timeout=30):
        """Send one line (or close stdin), wait; returns (rc, stdout, stderr)."""
        out, err = self.p.communicate((answer + "\n").encode() if answer is not None else b"", timeout=timeout)
        return self.p.returncode, (self.out + out).decode(), err.decode()


class LoginCase(unittest.TestCase):
    def conf_dir(self, h):
        return os.path.join(h.env["XDG_CONFIG_HOME"], "heed")

    def conf_path(self, h):
        return os.path.join(self.conf_dir(h), "heed.conf")

    def read(self, path):
        with open(path) as f:
            return f.read()

    def write_user_conf(self, h, fake):
        """USER_CONF at the default path, its [account old] on fake; returns the text."""
        token = h.write_token("old", fake.token)
        text = USER_CONF.format(server=fake.base_url, token=token, ca=fake.ca_file)
        os.makedirs(self.conf_dir(h), exist_ok=True)
        with open(self.conf_path(h), "w") as f:
            f.write(text)
        return text

    def assert_token_file(self, path, secret):
        st = os.lstat(path)
        self.assertTrue(stat.S_ISREG(st.st_mode), f"{path} is a regular file")
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, f"{path} has mode 0600")
        self.assertEqual(self.read(path), secret + "\n")

    def assert_quiet_about(self, secret, *texts):
        for t in texts:
            self.assertNotIn(secret, t, "the secret must never be printed")

    def new_group(self, text_before, text_after):
        """What was appended to heed.conf; asserts the rest is byte for byte the same."""
        self.assertTrue(text_after.startswith(text_before),
                        f"heed.conf was changed, not appended to:\n--- before\n{text_before}\n--- after\n{text_after}")
        return text_after[len(text_before):]

    def assert_nothing_written(self, h, conf_before, name):
        self.assertFalse(os.path.exists(os.path.join(self.conf_dir(h), name + ".token")), "no token file")
        if conf_before is None:
            self.assertFalse(os.path.exists(self.conf_path(h)), "no heed.conf")
        else:
            self.assertEqual(self.read(self.conf_path(h)), conf_before, "heed.conf untouched")

    def mastodon_login(self, h, fake, *extra, approve=None, code=None, env=None):
        """Run heed login mastodon to the point of the code; returns (rc, out, err, url)."""
        browser_env = {"BROWSER": f"/nonexistent/browser:{PYTHON} {h.recorder}"}
        browser_env.update(env or {})
        run = Login(h, ["mastodon", fake.base_url, "--ca-file", fake.ca_file, *extra], env=browser_env)
        url = run.wait_for(r"\n  (https://\S+/oauth/authorize\?\S+)\n")
        if code is None:
            code = fake.approve(url, **(approve or {}))
        rc, out, err = run.finish(code)
        return rc, out, err, url


class MastodonLogin(LoginCase):
    def test_sign_in_writes_token_and_group(self):
        with Harness() as h:
            fake = FakeMastodonOAuth().start()
            h.fakes.append(fake)
            before = self.write_user_conf(h, fake)
            rc, out, err, url = self.mastodon_login(h, fake)
            self.assertEqual(rc, 0, f"stdout:\n{out}\nstderr:\n{err}")

            # heed registered itself read-only, with the out-of-band redirect.
            apps = fake.requests_to("/api/v1/apps", method="POST")
            self.assertEqual(len(apps), 1)
            form = urllib.parse.parse_qs(apps[0].body.decode())
            self.assertEqual(form["scopes"], [SCOPES])
            self.assertEqual(form["redirect_uris"], [OOB])
            self.assertEqual(form["client_name"], ["heed"])

            # The authorisation URL: printed, opened through $BROWSER (its
            # second entry; the first does not exist), with PKCE S256.
            self.assertEqual(h.opened_urls(), [url])
            q = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}
            self.assertEqual(q["response_type"], "code")
            self.assertEqual(q["scope"], SCOPES)
            self.assertEqual(q["redirect_uri"], OOB)
            self.assertEqual(q["code_challenge_method"], "S256")
            tok_req = fake.token_requests[-1]
            verifier = tok_req["code_verifier"]
            self.assertRegex(verifier, r"^[A-Za-z0-9_~.-]{43,128}$")
            self.assertEqual(s256(verifier), q["code_challenge"])
            self.assertEqual(tok_req["grant_type"], "authorization_code")

            # The token was proven once, with the new token.
            [token] = fake.issued_tokens()
            me = fake.requests_to("/api/v1/accounts/verify_credentials")
            self.assertEqual([r.header("authorization") for r in me], [f"Bearer {token}"])

            # Written: the token file (0600) and the group, after the user's text.
            token_path = os.path.join(self.conf_dir(h), "127.0.0.1.token")
            self.assert_token_file(token_path, token)
            added = self.new_group(before, self.read(self.conf_path(h)))
            self.assertRegex(added, r"^\n# Added by heed login mastodon on \d{4}-\d\d-\d\d\.\n"
                                    r"\[account 127\.0\.0\.1\]\n")
            self.assertIn(f"\nnetwork = mastodon\nserver = {fake.base_url}\ntoken_file = {token_path}\n"
                          f"ca_file = {fake.ca_file}\n", added)

            # What was written where, and the next step, were said.
            self.assertIn(token_path, out)
            self.assertIn(self.conf_path(h), out)
            self.assertIn("Signed in: @me on 127.0.0.1", out)
            self.assertIn("systemctl --user enable --now heed", out)
            self.assert_quiet_about(token, out, err)
            self.assertEqual(err, "")

            # heed reads it, and heedd works with the new account.
            rc2, out2, err2 = h.heed("check-config")
            self.assertEqual(rc2, 0, err2)
            self.assertIn("2 accounts ready", out2)
            h.config_path = self.conf_path(h)
            h.start_heedd()
            h.wait_until(lambda: any(r.header("authorization") == f"Bearer {token}"
                                     for r in fake.polls()), 15, "heedd polls with the new token")
            # A second login now says how to make the running heedd see it.
            h2 = self.mastodon_login(h, fake, "--name", "again")
            self.assertEqual(h2[0], 0, h2[2])
            self.assertIn("systemctl --user reload heed", h2[1])
            h.stop_heedd()

    def test_wrong_code(self):
        with Harness(dunst=False) as h:
            fake = FakeMastodonOAuth().start()
            h.fakes.append(fake)
            before = self.write_user_conf(h, fake)
            rc, out, err, _ = self.mastodon_login(h, fake, code="not-the-code")
            self.assertEqual(rc, 1, out)
            self.assertIn("refused the code", err)
            self.assertIn("invalid_grant", err)
            self.assertIn("Nothing was written", err)
            self.assertEqual(fake.issued_tokens(), [])
            self.assertEqual(fake.requests_to("/api/v1/accounts/verify_credentials"), [])
            self.assert_nothing_written(h, before, "127.0.0.1")

    def test_expired_code(self):
        with Harness(dunst=False) as h:
            fake = FakeMastodonOAuth().start()
            h.fakes.append(fake)
            rc, out, err, _ = self.mastodon_login(h, fake, approve={"expires_in": -1})
            self.assertEqual(rc, 1, out)
            self.assertIn("refused the code", err)
            self.assertIn("run heed login again", err)
            self.assertEqual(fake.issued_tokens(), [])
            self.assert_nothing_written(h, None, "127.0.0.1")

    def test_denied_scope(self):
        with Harness(dunst=False) as h:
            fake = FakeMastodonOAuth().start()
            h.fakes.append(fake)
            # The user (or the server) granted only part of what heed asked.
            rc, out, err, _ = self.mastodon_login(h, fake, approve={"scopes": ["read:accounts", "read:statuses"]})
            self.assertEqual(rc, 1, out)
            self.assertIn("without read:notifications", err)
            self.assertIn("nothing was written", err)
            # The useless token was given back, and never used.
            self.assertEqual(len(fake.revoked), 1)
            self.assertEqual(fake.issued_tokens(), [])
            self.assertEqual(fake.requests_to("/api/v1/accounts/verify_credentials"), [])
            self.assert_nothing_written(h, None, "127.0.0.1")
            self.assert_quiet_about(fake.revoked[0], out, err)

    def test_partial_scope_warns(self):
        with Harness(dunst=False) as h:
            fake = FakeMastodonOAuth().start()
            h.fakes.append(fake)
            rc, out, err, _ = self.mastodon_login(
                h, fake, "--name", "fedi", "--no-browser",
                approve={"scopes": ["read:notifications", "read:statuses", "read:accounts"]})
            self.assertEqual(rc, 0, err)
            self.assertIn("warning: read:follows was not granted", err)
            self.assertEqual(h.opened_urls(), [], "--no-browser opens nothing")
            self.assertTrue(os.path.exists(os.path.join(self.conf_dir(h), "fedi.token")))

    def test_pre_4_3_server_without_pkce(self):
        with Harness(dunst=False) as h:
            fake = FakeMastodonOAuth(pkce=False).start()
            h.fakes.append(fake)
            rc, out, err, _ = self.mastodon_login(h, fake)
            self.assertEqual(rc, 0, err)

    def test_http_and_bad_addresses_refused_before_any_request(self):
        with Harness(dunst=False) as h:
            fake = FakeMastodonOAuth().start()
            h.fakes.append(fake)
            plain = "http://" + fake.host_port
            for args, says in ((["mastodon", plain], "refusing http://"),
                               (["mastodon", "HTTP://" + fake.host_port], "refusing"),
                               (["mastodon", "ftp://" + fake.host_port], "expected an https:// address"),
                               (["mastodon", "https://user:pw@" + fake.host_port], "user name or password"),
                               (["mastodon", fake.base_url + "/some/path"], "has a path"),
                               (["github", "--server", plain], "refusing http://"),
                               (["bluesky", "alice.test", "--server", plain], "refusing http://"),
                               (["x", "--server", plain], "refusing http://")):
                p = h.run([os.path.join(build_dir(), "heed"), "login", *args], input="secret-ish\n")
                self.assertEqual(p.returncode, 1, f"heed login {args}: {p.stderr}")
                self.assertEqual(len(p.stderr.strip().splitlines()), 1, p.stderr)
                self.assertIn(says, p.stderr)
                self.assertEqual(p.stdout, "")
            self.assertEqual(fake.requests, [], "no request was made")
            self.assert_nothing_written(h, None, "127.0.0.1")

    def test_existing_name_refused_then_replaced_with_force(self):
        with Harness(dunst=False) as h:
            fake = FakeMastodonOAuth().start()
            h.fakes.append(fake)
            before = self.write_user_conf(h, fake)
            old_token = os.path.join(h.tmp, "secrets", "old.token")
            # [account old] exists: refused at once, nothing asked or sent.
            p = h.run([os.path.join(build_dir(), "heed"), "login", "mastodon", fake.base_url, "--name", "old",
                       "--ca-file", fake.ca_file], input="x\n")
            self.assertEqual(p.returncode, 1)
            self.assertIn("already has [account old]", p.stderr)
            self.assertIn("--force", p.stderr)
            self.assertEqual(fake.requests, [])
            self.assertEqual(self.read(self.conf_path(h)), before)

            # --force: the group's sign-in keys are replaced in place; the
            # user's comment above it and its poll_interval stay.
            rc, out, err, _ = self.mastodon_login(h, fake, "--name", "old", "--force")
            self.assertEqual(rc, 0, err)
            token_path = os.path.join(self.conf_dir(h), "old.token")
            want = before.replace(f"token_file = {old_token}\n", f"token_file = {token_path}\n")
            self.assertEqual(self.read(self.conf_path(h)), want)
            [token] = fake.issued_tokens()
            self.assert_token_file(token_path, token)

    def test_broken_config_is_not_rewritten(self):
        with Harness(dunst=False) as h:
            fake = FakeMastodonOAuth().start()
            h.fakes.append(fake)
            os.makedirs(self.conf_dir(h), exist_ok=True)
            broken = "[heed\npoll_interval = 5\n"
            with open(self.conf_path(h), "w") as f:
                f.write(broken)
            p = h.run([os.path.join(build_dir(), "heed"), "login", "mastodon", fake.base_url], input="x\n")
            self.assertEqual(p.returncode, 1)
            self.assertIn("cannot be parsed", p.stderr)
            self.assertEqual(self.read(self.conf_path(h)), broken)
            self.assertEqual(fake.requests, [])

    def test_nothing_on_stdin(self):
        with Harness(dunst=False) as h:
            fake = FakeMastodonOAuth().start()
            h.fakes.append(fake)
            run = Login(h, ["mastodon", fake.base_url, "--ca-file", fake.ca_file, "--no-browser"])
            run.wait_for(r"\n  (https://\S+/oauth/authorize\?\S+)\n")
            rc, out, err = run.finish(None)
            self.assertEqual(rc, 1)
            self.assertIn("nothing on standard input", err)
            self.assertEqual(fake.requests_to("/oauth/token", method="POST"), [])
            self.assert_nothing_written(h, None, "127.0.0.1")


class SecretLogins(LoginCase):
    def login(self, h, args, secret, env=None):
        p = h.run([os.path.join(build_dir(), "heed"), "login", *args], input=secret + "\n",
                  env=dict(h.env, **(env or {})), timeout=30)
        self.assert_quiet_about(secret, p.stdout, p.stderr)
        return p

    def test_bluesky(self):
        with Harness(dunst=False) as h:
            fake = FakeBluesky().start()
            h.fakes.append(fake)
            args = ["bluesky", "@alice.test", "--server", fake.base_url, "--ca-file", fake.ca_file]

            # Not an app password: refused before anything is sent.
            p = self.login(h, args, "hunter2")
            self.assertEqual(p.returncode, 1)
            self.assertIn("not an app password", p.stderr)
            self.assertEqual(fake.create_calls, 0)
            # An app password Bluesky does not know: refused, nothing written.
            p = self.login(h, args, "zzzz-zzzz-zzzz-zzzz")
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertIn("AuthenticationRequired", p.stderr)
            self.assertEqual(fake.create_calls, 1)
            self.assert_nothing_written(h, None, "alice.test")
            db = os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")
            self.assertFalse(os.path.exists(db), "no state database for a failed login")

            # The right one.
            p = self.login(h, args, fake.password)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(fake.create_calls, 2)
            self.assertIn("app password", p.stdout)
            self.assertIn("App passwords", p.stdout, "says where to make one")
            self.assertIn("Signed in: @alice.test (did:plc:alicetest)", p.stdout)
            token_path = os.path.join(self.conf_dir(h), "alice.test.token")
            self.assert_token_file(token_path, fake.password)
            conf = self.read(self.conf_path(h))
            self.assertIn(f"[account alice.test]\nnetwork = bluesky\nserver = {fake.base_url}\n"
                          f"identifier = alice.test\ntoken_file = {token_path}\nca_file = {fake.ca_file}\n", conf)

            # The session the check opened was ended at once, with its own
            # refresh token, and nothing went to heedd's state database.
            with fake._lock:
                issued = list(fake._refresh)
            self.assertEqual(len(issued), 1, "one session was opened")
            self.assertEqual(fake.deleted_sessions, issued, "and ended with its refresh token")
            [deleted] = fake.requests_to("/xrpc/com.atproto.server.deleteSession", method="POST")
            self.assertEqual(deleted.status, 200)
            self.assertFalse(os.path.exists(db), "heed login never touches the state database")
            self.assertFalse(os.path.exists(os.path.dirname(db)), "nor makes its directory")
            self.assertNotIn(db, p.stdout, "the plan says nothing about the state database")

            # heedd signs in itself with the app password.
            fake.add_mention(text="@alice.test are you there?")
            h.config_path = self.conf_path(h)
            h.start_heedd()
            h.wait_until(lambda: fake.polls(), 15, "a Bluesky poll")
            self.assertEqual(fake.create_calls, 3, "heedd made its own session")
            h.stop_heedd()

    def test_bluesky_main_password_refused_after_ending_its_session(self):
        with Harness(dunst=False) as h:
            fake = MainPasswordBluesky().start()
            h.fakes.append(fake)
            args = ["bluesky", "alice.test", "--server", fake.base_url, "--ca-file", fake.ca_file]
            p = self.login(h, args, fake.password)
            self.assertEqual(p.returncode, 1, p.stdout)
            self.assertIn("main password, not an app password", p.stderr)
            self.assertIn("make an app password", p.stderr)
            self.assertEqual(fake.create_calls, 1)
            # The session the main password opened is not left open.
            with fake._lock:
                issued = list(fake._refresh)
            self.assertEqual(len(issued), 1)
            self.assertEqual(fake.deleted_sessions, issued)
            [deleted] = fake.requests_to("/xrpc/com.atproto.server.deleteSession", method="POST")
            self.assertEqual(deleted.status, 200)
            self.assert_nothing_written(h, None, "alice.test")
            db = os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")
            self.assertFalse(os.path.exists(db))

    def test_github(self):
        with Harness(dunst=False) as h:
            fake = FakeGitHub().start()
            h.fakes.append(fake)
            args = ["github", "--server", fake.base_url, "--ca-file", fake.ca_file]
            p = self.login(h, args, "ghp_wrongwrongwrongwrong")
            self.assertEqual(p.returncode, 1)
            self.assertIn("refused the token (HTTP 401: Bad credentials)", p.stderr)
            self.assert_nothing_written(h, None, "github")

            p = self.login(h, args, fake.token)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("classic personal access token", p.stdout)
            self.assertIn("scopes=notifications", p.stdout)
            reqs = fake.requests_to("/notifications")
            self.assertEqual(reqs[-1].raw_path, "/notifications?per_page=1")
            self.assertEqual(reqs[-1].header("authorization"), f"Bearer {fake.token}")
            token_path = os.path.join(self.conf_dir(h), "github.token")
            self.assert_token_file(token_path, fake.token)
            conf = self.read(self.conf_path(h))
            self.assertIn(f"[account github]\nnetwork = github\nserver = {fake.base_url}\n"
                          f"token_file = {token_path}\nca_file = {fake.ca_file}\n", conf)
            rc, out, err = h.heed("check-config")
            self.assertEqual(rc, 0, err)
            db = os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")
            self.assertFalse(os.path.exists(db), "heed login never touches the state database")

    def test_keyring(self):
        with Harness(dunst=False) as h:
            fake = FakeGitHub().start()
            h.fakes.append(fake)
            bindir = h.path("fakebin")
            os.makedirs(bindir)
            tool = os.path.join(bindir, "secret-tool")
            with open(tool, "w") as f:
                f.write(FAKE_SECRET_TOOL)
            os.chmod(tool, 0o755)
            keyring = h.path("keyring.json")
            h.env["PATH"] = bindir + ":" + h.env["PATH"]
            h.env["FAKE_KEYRING"] = keyring

            p = self.login(h, ["github", "--server", fake.base_url, "--ca-file", fake.ca_file, "--keyring"],
                           fake.token)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("desktop keyring", p.stdout)
            with open(keyring) as f:
                data = json.load(f)
            self.assertEqual(data["items"], {"service heed account github": fake.token})
            self.assertEqual(data["calls"][0], ["store", "--label=heed: github (github)", "service", "heed",
                                                "account", "github"])
            self.assertEqual(data["calls"][1], ["lookup", "service", "heed", "account", "github"])
            self.assertFalse(os.path.exists(os.path.join(self.conf_dir(h), "github.token")), "no token file")
            conf = self.read(self.conf_path(h))
            self.assertIn("token_command = secret-tool lookup service heed account github\n", conf)
            self.assertNotIn("token_file", conf)
            rc, out, err = h.heed("check-config")
            self.assertEqual(rc, 0, err)
            # doctor reads it back through the keyring and signs in with it.
            rc, out, err = h.heed("doctor", timeout=30)
            self.assertIn("ok    account github: token_command (secret-tool) gives a secret", out)
            self.assertIn(f"ok    account github: signed in to {fake.base_url}", out)
            self.assert_quiet_about(fake.token, out, err)

            # --keyring without secret-tool: said at once, nothing sent.
            os.unlink(tool)
            before = len(fake.requests)
            p = self.login(h, ["github", "--server", fake.base_url, "--name", "gh2", "--keyring"], fake.token)
            self.assertEqual(p.returncode, 1)
            self.assertIn("needs secret-tool", p.stderr)
            self.assertEqual(len(fake.requests), before)

    def test_terminal_no_echo_and_keyring_offer(self):
        """On a terminal the token is read without echo, and with secret-tool
        around heed offers the keyring (the answer is echoed again)."""
        with Harness(dunst=False) as h:
            fake = FakeGitHub().start()
            h.fakes.append(fake)
            bindir = h.path("fakebin")
            os.makedirs(bindir)
            with open(os.path.join(bindir, "secret-tool"), "w") as f:
                f.write(FAKE_SECRET_TOOL)
            os.chmod(os.path.join(bindir, "secret-tool"), 0o755)
            env = dict(h.env, PATH=bindir + ":" + h.env["PATH"], FAKE_KEYRING=h.path("keyring.json"),
                       TERM="dumb")
            exe = os.path.join(build_dir(), "heed")
            argv = [exe, "login", "github", "--server", fake.base_url, "--ca-file", fake.ca_file]
            pid, fd = pty.fork()
            if pid == 0:  # the child: the pty is its controlling terminal
                try:
                    os.execve(exe, argv, env)
                finally:
                    os._exit(127)
            out = b""

            def until(text, timeout=15):
                nonlocal out
                deadline = time.monotonic() + timeout
                while text.encode() not in out:
                    if time.monotonic() > deadline:
                        raise AssertionError(f"no {text!r} in:\n{out.decode(errors='replace')}")
                    r, _, _ = select.select([fd], [], [], 0.2)
                    if r:
                        try:
                            out += os.read(fd, 65536)
                        except OSError:
                            break
            try:
                until("Token: ")
                self.assertIn(b"or to the desktop keyring if you choose", out)
                os.write(fd, (fake.token + "\n").encode())
                until("[y/N] ")
                self.assertNotIn(fake.token.encode(), out, "the token was echoed")
                os.write(fd, b"y\n")
                until("Signed in")
                until("enable --now heed")
            finally:
                _, status = os.waitpid(pid, 0)
                os.close(fd)
            text = out.decode(errors="replace").replace("\r\n", "\n")
            self.assertEqual(os.waitstatus_to_exitcode(status), 0, text)
            self.assertIn("[y/N] y\n", text, "the answer to the question is echoed")
            self.assertNotIn(fake.token, text)
            conf = self.read(self.conf_path(h))
            self.assertIn("token_command = secret-tool lookup service heed account github\n", conf)

    def test_usage(self):
        with Harness(dunst=False) as h:
            for args, says in ((["login"], "needs a network"),
                               (["login", "myspace"], '"myspace" is not a network'),
                               (["login", "mastodon"], "needs your instance"),
                               (["login", "bluesky"], "needs your handle"),
                               (["login", "github", "extra"], 'unexpected argument "extra"'),
                               (["login", "mastodon", "a.example", "--server", "https://b.example"],
                                "--server is not for mastodon"),
                               (["login", "x", "--name"], "--name needs a value")):
                rc, out, err = h.heed(*args)
                self.assertEqual((rc, out), (2, ""), f"heed {args}: {err}")
                self.assertIn(says, err)
            rc, out, err = h.heed("login", "--help")
            self.assertEqual(rc, 0)
            self.assertTrue(out.startswith("usage: heed login mastodon INSTANCE"))
            p = h.run([os.path.join(build_dir(), "heed"), "login", "x", "--name", "../evil"], input="t\n")
            self.assertEqual(p.returncode, 1)
            self.assertIn("cannot be an account name", p.stderr)


class XLogin(LoginCase):
    def x_login(self, h, fake, *extra, client_id=True, answer="address", approve=None, env=None):
        """heed login x up to the authorisation page, then what the user
        pastes: the callback address, its code alone, or a given string.
        Returns (rc, out, err, authorize_url, callback)."""
        browser_env = {"BROWSER": f"{PYTHON} {h.recorder}"}
        browser_env.update(env or {})
        args = ["x", "--server", fake.base_url, "--ca-file", fake.ca_file, "--name", "bird", *extra]
        if client_id:
            args += ["--client-id", fake.client_id]
        run = Login(h, args, env=browser_env)
        if not client_id:
            run.wait_for(r"(Keys and tokens)")
            run.p.stdin.write((fake.client_id + "\n").encode())
            run.p.stdin.flush()
        url = run.wait_for(r"\n  (https://\S+/i/oauth2/authorize\?\S+)\n")
        callback = fake.approve(url, **(approve or {}))
        if answer == "address":
            line = callback
        elif answer == "code":
            line = urllib.parse.parse_qs(urllib.parse.urlsplit(callback).query)["code"][0]
        else:
            line = answer
        rc, out, err = run.finish(line)
        return rc, out, err, url, callback

    def test_sign_in_keeps_the_refresh_token_and_heedd_renews_with_it(self):
        with Harness() as h:
            fake = FakeX().start()
            h.fakes.append(fake)
            rc, out, err, url, callback = self.x_login(h, fake)
            self.assertEqual(rc, 0, f"stdout:\n{out}\nstderr:\n{err}")

            # The page: X's own (x.com), opened through $BROWSER, PKCE S256, a state.
            self.assertTrue(url.startswith("https://x.com/i/oauth2/authorize?"), url)
            self.assertEqual(h.opened_urls(), [url])
            q = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}
            self.assertEqual(q["response_type"], "code")
            self.assertEqual(q["client_id"], fake.client_id)
            self.assertEqual(q["redirect_uri"], X_REDIRECT)
            self.assertEqual(q["scope"], X_SCOPES)
            self.assertEqual(q["code_challenge_method"], "S256")
            self.assertRegex(q["state"], r"^[A-Za-z0-9_-]{43}$")
            # What to do was said: the app's settings, the callback address, the cost.
            self.assertIn("Native App", out)
            self.assertIn(f"callback URI / redirect URL: {X_REDIRECT}", out)
            self.assertIn("paid", out)

            # The code was exchanged as a public client, with the verifier.
            [tok] = fake.token_requests
            self.assertEqual(tok["grant_type"], "authorization_code")
            self.assertEqual(tok["client_id"], fake.client_id)
            self.assertEqual(tok["redirect_uri"], X_REDIRECT)
            self.assertEqual(x_s256(tok["code_verifier"]), q["code_challenge"])
            [tok_req] = fake.token_answers()
            self.assertIsNone(tok_req.header("authorization"))
            # The access token was proven once; the refresh token is what is kept.
            [access] = list(fake.access_tokens)
            self.assertEqual([r.header("authorization") for r in fake.me_requests()], [f"Bearer {access}"])
            refresh = fake.live_refresh_token()
            token_path = os.path.join(self.conf_dir(h), "bird.token")
            self.assert_token_file(token_path, refresh)
            conf = self.read(self.conf_path(h))
            self.assertIn(f"[account bird]\nnetwork = x\nserver = {fake.base_url}\nclient_id = {fake.client_id}\n"
                          f"token_file = {token_path}\nca_file = {fake.ca_file}\n", conf)
            self.assertIn("Signed in: @heed_user", out)
            self.assertIn(f"the refresh token to {token_path}", out)
            self.assert_quiet_about(refresh, out, err)
            self.assert_quiet_about(access, out, err)
            self.assertEqual(fake.revoked, [])
            db = os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")
            self.assertFalse(os.path.exists(db), "heed login never touches the state database")
            rc2, out2, err2 = h.heed("check-config")
            self.assertEqual(rc2, 0, err2)

            # heedd renews with it, and polls with the access token it gets.
            h.config_path = self.conf_path(h)
            h.start_heedd()
            h.wait_until(lambda: fake.polls(), 15, "an X poll")
            [first] = fake.refreshes()
            self.assertEqual(first["refresh_token"], refresh)
            self.assertNotIn(f"Bearer {access}", [r.header("authorization") for r in fake.polls()])
            for t in (refresh, access):
                self.assertNotIn(t, h.heedd_log())
            # doctor reads heedd's session, and renews nothing itself.
            rc3, out3, err3 = h.heed("doctor", timeout=30)
            self.assertIn("account bird: signed in", out3)
            self.assertEqual(len(fake.refreshes()), 1)
            h.stop_heedd()

    def test_client_id_asked_and_code_alone(self):
        with Harness(dunst=False) as h:
            fake = FakeX().start()
            h.fakes.append(fake)
            rc, out, err, url, _ = self.x_login(h, fake, "--no-browser", client_id=False, answer="code")
            self.assertEqual(rc, 0, err)
            self.assertEqual(h.opened_urls(), [], "--no-browser opens nothing")
            self.assertIn(f"client_id = {fake.client_id}\n", self.read(self.conf_path(h)))
            self.assert_token_file(os.path.join(self.conf_dir(h), "bird.token"), fake.live_refresh_token())

    def test_refusals_write_nothing(self):
        with Harness(dunst=False) as h:
            fake = FakeX().start()
            h.fakes.append(fake)
            # The address of another sign-in (its state is not this one's).
            rc, out, err, _, callback = self.x_login(h, fake, answer=f"{X_REDIRECT}?state=forged&code=abc")
            self.assertEqual(rc, 1, out)
            self.assertIn("not from this sign-in", err)
            self.assertEqual(fake.token_requests, [])
            self.assert_nothing_written(h, None, "bird")
            # The user pressed Cancel.
            rc, out, err, _, _ = self.x_login(h, fake, approve={"deny": True})
            self.assertEqual(rc, 1, out)
            self.assertIn("did not authorise heed (access_denied)", err)
            self.assertEqual(fake.token_requests, [])
            # A code X does not know.
            rc, out, err, _, _ = self.x_login(h, fake, answer="bm90LXRoZS1jb2Rl")
            self.assertEqual(rc, 1, out)
            self.assertIn("refused the code", err)
            self.assertIn("invalid_request", err)
            self.assertEqual(fake.access_tokens, {})
            # offline.access not granted: no refresh token, nothing kept.
            rc, out, err, _, _ = self.x_login(h, fake, approve={"scopes": ["tweet.read", "users.read"]})
            self.assertEqual(rc, 1, out)
            self.assertIn("gave no refresh token", err)
            self.assertIn("offline.access", err)
            self.assertEqual(fake.me_requests(), [], "an access token that heedd could not renew is not kept")
            # tweet.read not granted: the refresh token is given back.
            rc, out, err, _, _ = self.x_login(h, fake, approve={"scopes": ["users.read", "offline.access"]})
            self.assertEqual(rc, 1, out)
            self.assertIn("without tweet.read", err)
            self.assertEqual(len(fake.revoked), 1)
            self.assertEqual(fake.live_refresh_token(), None)
            self.assert_nothing_written(h, None, "bird")
            # The access token does not work (an app without access to the
            # API): said as such, and the refresh token is given back.
            fake.fail_next(1, status=403, path=r"^/2/users/me$")
            rc, out, err, _, _ = self.x_login(h, fake)
            self.assertEqual(rc, 1, out)
            self.assertIn("refused the access token (HTTP 403", err)
            self.assertIn("user-context", err)
            self.assertEqual(len(fake.revoked), 2)
            self.assertEqual(fake.live_refresh_token(), None)
            self.assert_nothing_written(h, None, "bird")
            # A client id that cannot be one: said before anything is sent.
            before = len(fake.requests)
            p = h.run([os.path.join(build_dir(), "heed"), "login", "x", "--server", fake.base_url,
                       "--client-id", "two words"], input="x\n")
            self.assertEqual(p.returncode, 1)
            self.assertIn("is not a client id", p.stderr)
            self.assertEqual(len(fake.requests), before)
            self.assert_nothing_written(h, None, "x")


if __name__ == "__main__":
    main()
