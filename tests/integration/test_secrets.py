#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Secrets: tokens never leak.

Every account of every network gets a distinctive token. heedd runs with
--debug (and G_MESSAGES_DEBUG=all) through polls, 401s, a Bluesky session
refresh, a reload (SIGHUP), a token_command that crashes after printing half
a token, token files that are group- or world-readable, and finally a crash
(SIGABRT). Then:

  - no token is in heedd's stderr or stdout, in any output of heed
    (status/list/show/explain/stats --json and human, check-config), in
    the command line or environment of any process seen while it ran
    (sampled every 20 ms, so token_command children are caught too), or in
    the database;
  - a token file of mode 0644 or 0640 is refused with a message that says
    "chmod 600", its account is disabled (needs attention) and the other
    accounts keep working;
  - token_command runs with an argv (no shell), and what it writes to
    stderr (noise that includes the token) never reaches heedd's log.

A second case has servers that echo the token in their 401 error messages
(as debugging proxies and some gateways do): heedd must not repeat it in
its log or in heed status.
"""

import glob
import os
import secrets
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_bluesky import FakeBluesky  # noqa: E402
from fake_github import FakeGitHub  # noqa: E402
from fake_x import FakeX  # noqa: E402
from harness import PYTHON, Harness, main  # noqa: E402

TOKEN_COMMAND = r'''
import os, signal, sys, time
name = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, name + ".secret")) as f:
    tok = f.read().strip()
# Noise on stderr, the token included: none of it may reach heedd's log.
sys.stderr.write(f"TOKCMD-NOISE-{name}: looked up {tok} in the keyring\n")
sys.stderr.flush()
if name == "broken":
    # A crash halfway: half a token on stdout, a "traceback" on stderr.
    sys.stdout.write(tok[: len(tok) // 2])
    sys.stdout.flush()
    sys.stderr.write(f"Traceback (most recent call last):\n  secret = {tok!r}\nSegmentation fault\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGSEGV)
time.sleep(0.3)     # long enough to be seen in the process list
print(tok)
'''


def tok(prefix):
    return f"{prefix}-{secrets.token_hex(20)}"


class ProcWatcher:
    """Samples every process's command line and environment."""

    def __init__(self, needles):
        self.needles = needles
        self.hits = []
        self.seen = 0
        self.token_commands = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._t.start()
        return self

    def stop(self):
        self._stop.set()
        self._t.join(5)

    def _run(self):
        me = str(os.getpid())
        while not self._stop.is_set():
            for d in glob.glob("/proc/[0-9]*"):
                pid = d.rsplit("/", 1)[1]
                if pid == me:
                    continue
                for what in ("cmdline", "environ"):
                    try:
                        with open(f"{d}/{what}", "rb") as f:
                            data = f.read().decode(errors="replace")
                    except OSError:
                        continue
                    if what == "cmdline":
                        self.seen += 1
                        if "tokcmd.py" in data:
                            self.token_commands += 1
                    for n in self.needles:
                        if n in data:
                            self.hits.append((pid, what, data.replace("\0", " ")[:300]))
            self._stop.wait(0.02)


class Secrets(unittest.TestCase):
    def needles(self, tokens):
        """Each token, and a 16-character piece of its random part (a
        truncated token is a leaked token too)."""
        out = set()
        for t in tokens:
            out.add(t)
            rnd = t.split("-", 1)[-1]
            out.add(rnd[:16])
            out.add(rnd[-16:])
        return out

    def assert_clean(self, where, text, needles):
        found = [n for n in needles if n in text]
        self.assertEqual(found, [], f"a token appears in {where}")

    def test_tokens_never_leak(self):
        t = {"masto": tok("MASTOtok"), "sky": tok("SKYpass"), "gh": "ghp_" + secrets.token_hex(18),
             "bird": tok("XBIRDtok"), "broken": tok("BROKENtok"), "loose644": tok("LOOSEtok644"),
             "loose640": tok("LOOSEtok640")}
        with Harness(dunst=False, notification_server="dbusmock", time_limit=150) as h:
            masto = h.mastodon(token=t["masto"], rate_limit=1_000_000)
            sky = FakeBluesky(password=t["sky"]).start()
            gh = FakeGitHub(token=t["gh"], poll_interval=1).start()
            bird = FakeX(token=t["bird"]).start()
            h.fakes += [sky, gh, bird]

            sdir = h.path("secrets")
            cmd = os.path.join(sdir, "tokcmd.py")
            with open(cmd, "w") as f:
                f.write(TOKEN_COMMAND)
            for name in ("masto", "broken"):
                p = os.path.join(sdir, name + ".secret")
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.write(fd, (t[name] + "\n").encode())
                os.close(fd)
            loose = {}
            for name, mode in (("loose644", 0o644), ("loose640", 0o640)):
                p = os.path.join(sdir, name + ".token")
                with open(p, "w") as f:
                    f.write(t[name] + "\n")
                os.chmod(p, mode)
                loose[name] = p

            accounts = [
                {"name": "masto", "network": "mastodon", "server": masto.base_url, "ca_file": masto.ca_file,
                 "token_command": f"{PYTHON} {cmd} masto"},
                {"name": "sky", "network": "bluesky", "server": sky.base_url, "identifier": sky.identifier,
                 "token": t["sky"], "ca_file": sky.ca_file},
                {"name": "gh", "network": "github", "server": gh.base_url, "token": t["gh"],
                 "ca_file": gh.ca_file},
                {"name": "bird", "network": "x", "server": bird.base_url, "token": t["bird"],
                 "ca_file": bird.ca_file},
                {"name": "broken", "network": "mastodon", "server": masto.base_url, "ca_file": masto.ca_file,
                 "token_command": f"{PYTHON} {cmd} broken"},
                {"name": "loose644", "network": "mastodon", "server": masto.base_url, "ca_file": masto.ca_file,
                 "token_file": loose["loose644"]},
                {"name": "loose640", "network": "mastodon", "server": masto.base_url, "ca_file": masto.ca_file,
                 "token_file": loose["loose640"]},
            ]
            h.write_config(accounts, poll_interval=1)
            needles = self.needles(t.values())

            watcher = ProcWatcher(needles).start()
            try:
                h.start_heedd(verbose=False, extra_args=["--debug"], env={"G_MESSAGES_DEBUG": "all"})
                for fake in (masto, sky, gh, bird):
                    h.wait_polls(fake, 1, timeout=20)

                # Mentions everywhere, so show/explain have something to say.
                masto.add_mention(acct="ana@fake.social", display_name="Ana", text_html="<p>secret test?</p>")
                sky.add_mention(handle="bo.test", display_name="Bo", text=f"@{sky.handle} secret test?")
                gh.add_thread(reason="review_requested", title="secret test review")
                bird.add_mention(username="cy", name="Cy", text=f"@{bird.me['username']} secret test?")
                h.wait_until(lambda: len(h.heed_list()) >= 4, 20, "a mention of each network stored",
                             interval=0.3)

                # 401s on three networks (auth failure: the secret is dropped
                # and read again later), an expired Bluesky session (refresh).
                masto.fail_next(1, status=401, path="/api/v1/notifications")
                gh.fail_next(1, status=401, path=r"^/notifications$")
                bird.fail_next(1, status=401, path="/mentions")
                refresh_before = sky.refresh_calls
                sky.expire_access()
                h.wait_until(lambda: sky.refresh_calls > refresh_before, 20, "a Bluesky session refresh")
                h.wait_until(lambda: sum(1 for r in masto.requests if r.status == 401) >= 1
                             and sum(1 for r in gh.requests if r.status == 401) >= 1
                             and sum(1 for r in bird.requests if r.status == 401) >= 1, 20,
                             "the 401s to be served")
                h.pause(1.5)

                # Reload: every account starts again, token_command runs again.
                cmds_before = watcher.token_commands
                h.heedd.send_signal(signal.SIGHUP)
                h.wait_until(lambda: "configuration reloaded" in h.heedd_log(-1), 10, "the reload")
                for fake in (masto, sky, gh, bird):
                    h.wait_polls(fake, 2, timeout=20)

                status = h.control("status")
                acc = {a["name"]: a for a in status["accounts"]}
                for name in ("loose644", "loose640"):
                    self.assertEqual(acc[name]["health"], "needs-attention", f"{name}: {acc[name]}")
                    self.assertIn("chmod 600", acc[name].get("error") or "", f"{name}: {acc[name]}")
                    self.assertIn(loose[name], acc[name].get("error") or "")
                self.assertNotEqual(acc["broken"]["health"], "ok", acc["broken"])
                for name in ("masto", "sky", "gh", "bird"):
                    self.assertEqual(acc[name]["health"], "ok", f"{name} keeps working: {acc[name]}")
                log = h.heedd_log()
                for name in ("loose644", "loose640"):
                    self.assertIn(f"chmod 600 {loose[name]}", log, f"the log tells how to fix {name}")
                self.assertIn("token command", log, "the failing token command is reported")
                self.assertIn("broken", log)
                self.assertNotIn("TOKCMD-NOISE", log, "token_command's stderr reached heedd's log")
                self.assertNotIn("Traceback", log, "token_command's stderr reached heedd's log")
                self.assertGreater(watcher.token_commands, cmds_before,
                                   "the token command was seen in the process list (the sampling works)")

                # Every output of heed.
                outputs = {}
                ids = [m["id"] for m in h.heed_list()]
                for args in (["status"], ["status", "--json"], ["list", "--all"], ["list", "--json", "--all"],
                             ["stats"], ["stats", "--json"], ["check-config", h.config_path]):
                    rc, out, err = h.heed(*args)
                    outputs[" ".join(args)] = out + err
                for i in ids:
                    for args in (["show", str(i)], ["show", "--json", str(i)], ["explain", str(i)],
                                 ["explain", "--json", str(i)]):
                        rc, out, err = h.heed(*args)
                        self.assertEqual(rc, 0, f"heed {' '.join(args)}: {err}")
                        outputs[" ".join(args)] = out + err
                self.assertIn("chmod 600", outputs["check-config " + h.config_path])
                for k, v in outputs.items():
                    self.assert_clean(f"`heed {k}`", v, needles)

                # A crash: whatever heedd prints on its way down.
                heedd_pid = h.heedd.pid
                with open(f"/proc/{heedd_pid}/environ", "rb") as f:
                    self.assert_clean("heedd's environment", f.read().decode(errors="replace"), needles)
                h.heedd_expected_dead = True
                os.kill(heedd_pid, signal.SIGABRT)
                h.heedd.wait(10)
            finally:
                watcher.stop()

            for i, (out_p, err_p, argv) in enumerate(h.heedd_runs):
                self.assert_clean(f"heedd's argv (run {i + 1})", " ".join(argv), needles)
                with open(err_p, errors="replace") as f:
                    self.assert_clean(f"heedd's stderr (run {i + 1})", f.read(), needles)
                with open(out_p, errors="replace") as f:
                    self.assert_clean(f"heedd's stdout (run {i + 1})", f.read(), needles)
            self.assertEqual(watcher.hits, [], "a token on a command line or in an environment")
            self.assertGreater(watcher.seen, 100, "the process list was sampled")
            # The database holds no password or token from the configuration;
            # it does hold Bluesky's session (the short-lived access JWT and the
            # long-lived refresh JWT, which these random needles do not cover),
            # which is why the file must be 0600.
            db = os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")
            self.assertEqual(os.stat(db).st_mode & 0o777, 0o600)
            blob = b""
            for p in glob.glob(db + "*"):
                with open(p, "rb") as f:
                    blob += f.read()
            self.assert_clean("the database", blob.decode(errors="replace"), needles)
            log = h.heedd_log()
            self.assertIn("debug:", log, "--debug was in effect")

    def test_servers_echoing_the_token(self):
        """A 401 whose error message repeats the token (a debugging proxy, a
        gateway that echoes the request): heedd must not repeat it."""
        t = {"masto": tok("MASTOecho"), "gh": "ghp_" + secrets.token_hex(18), "bird": tok("XBIRDecho")}
        with Harness(dunst=False, time_limit=90) as h:
            masto = h.mastodon(token=t["masto"], rate_limit=1_000_000)
            gh = FakeGitHub(token=t["gh"], poll_interval=1).start()
            bird = FakeX(token=t["bird"]).start()
            h.fakes += [gh, bird]
            h.write_config([
                h.mastodon_account(masto, name="masto"),
                {"name": "gh", "network": "github", "server": gh.base_url, "token": t["gh"], "ca_file": gh.ca_file},
                {"name": "bird", "network": "x", "server": bird.base_url, "token": t["bird"],
                 "ca_file": bird.ca_file},
            ], poll_interval=1)
            h.start_heedd(verbose=False, extra_args=["--debug"])
            for fake in (masto, gh, bird):
                h.wait_polls(fake, 1, timeout=20)
            masto.fail_next(1, status=401, path="/api/v1/notifications",
                            body={"error": f"The access token {t['masto']} is invalid"})
            gh.fail_next(1, status=401, path=r"^/notifications$",
                         body={"message": f"Bad credentials for token {t['gh']}"})
            bird.fail_next(1, status=401, path="/mentions",
                           body={"title": "Unauthorized", "type": "about:blank", "status": 401,
                                 "detail": f"Unauthorized: bearer {t['bird']}"})
            h.wait_until(lambda: all(any(r.status == 401 for r in f.requests) for f in (masto, gh, bird)), 20,
                         "the 401s to be served")
            h.wait_until(lambda: all(a["health"] == "needs-attention" for a in h.control("status")["accounts"]),
                         10, "all three accounts to need attention")
            leaks = []
            for where, text in (("heedd's log", h.heedd_log()),
                                ("heed status --json", h.heed("status", "--json")[1]),
                                ("heed status", h.heed("status")[1])):
                for name, token in t.items():
                    if any(n in text for n in self.needles([token])):
                        leaks.append(f"{name}'s token in {where}")
            h.stop_heedd()
            self.assertFalse(leaks, "a token echoed by the server was repeated:\n  " + "\n  ".join(leaks))

    def test_slow_token_command_never_stalls_heedd(self):
        """A token_command waiting for a locked keyring (here: sleeping)
        runs off the loop: the control socket answers at once, other
        accounts poll, the slow ones say they wait for their token. A
        token is kept until a server refuses it: the command runs once."""
        with Harness(dunst=False, time_limit=120) as h:
            masto = h.mastodon(rate_limit=1_000_000)
            count = h.path("token-runs")
            sleeper = f"{PYTHON} -c 'import time; time.sleep(30)'"
            counter = (f"{PYTHON} -c 'import sys; open(sys.argv[1], \"a\").write(\"x\"); print(sys.argv[2])' "
                       f"{count} {masto.token}")
            h.write_config([h.mastodon_account(masto, name="good")] + [
                {"name": f"slow{i}", "network": "mastodon", "server": masto.base_url, "ca_file": masto.ca_file,
                 "token_command": sleeper} for i in range(4)] + [
                {"name": "counted", "network": "mastodon", "server": masto.base_url, "ca_file": masto.ca_file,
                 "token_command": counter}], poll_interval=1)
            h.start_heedd()
            slowest = 0.0
            waiting_seen = False
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                st = h.control("status", timeout=3)
                slowest = max(slowest, time.monotonic() - t0)
                acc = {a["name"]: a for a in st["accounts"]}
                waiting_seen |= all(acc[f"slow{i}"]["health"] == "waiting-for-token" for i in range(4))
                time.sleep(0.3)
            self.assertLess(slowest, 1.0, f"a status request took {slowest:.2f} s while token commands ran")
            self.assertTrue(waiting_seen, "the slow accounts were never shown as waiting for their token")
            acc = {a["name"]: a for a in h.control("status")["accounts"]}
            self.assertEqual(acc["good"]["health"], "ok", acc["good"])
            self.assertGreaterEqual(acc["good"]["polls"], 3, acc["good"])
            self.assertEqual(acc["counted"]["health"], "ok", acc["counted"])
            self.assertGreaterEqual(acc["counted"]["polls"], 3, acc["counted"])
            with open(count) as f:
                self.assertEqual(f.read(), "x", "the token command ran more than once")
            h.stop_heedd()

    def test_token_with_a_second_line_is_refused(self):
        r"""A token file holding "abc\nX-Injected: 1" (or a token_command
        printing "abc\rX-Injected: 1") would put a header line of its own
        into the request: check-config refuses it naming the file and the
        account, heedd sets the account aside and sends no such header."""
        with Harness(dunst=False, time_limit=90) as h:
            masto = h.mastodon(rate_limit=1_000_000)
            sdir = h.path("secrets")
            inj = os.path.join(sdir, "inj.token")
            fd = os.open(inj, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.write(fd, (masto.token + "\nX-Injected: 1\n").encode())
            os.close(fd)
            spaced = os.path.join(sdir, "spaced.token")
            fd = os.open(spaced, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.write(fd, (masto.token + " X-Injected: 1\n").encode())
            os.close(fd)
            h.write_config([
                h.mastodon_account(masto, name="good"),
                h.mastodon_account(masto, name="inj", token_file=inj, token=None),
                h.mastodon_account(masto, name="spaced", token_file=spaced, token=None),
                {"name": "cmd", "network": "mastodon", "server": masto.base_url, "ca_file": masto.ca_file,
                 # printf turns \r and \n in its (single-quoted) format into CR and LF.
                 "token_command": f"/usr/bin/printf '{masto.token}\\rX-Injected:1\\n'"},
            ], poll_interval=1)

            rc, out, err = h.heed("check-config", h.config_path)
            self.assertNotEqual(rc, 0, f"check-config accepted a token file with two lines:\n{out}{err}")
            self.assertIn(f"[account inj] token_file: token file {inj} has a line break inside the token",
                          err)
            self.assertIn(f"[account spaced] token_file: token file {spaced} has a space or control character "
                          "inside the token", err)
            self.assertNotIn("[account good]", err)
            self.assertNotIn(masto.token, out + err)

            h.start_heedd()
            h.wait_polls(masto, 2, timeout=20)
            acc = {a["name"]: a for a in h.control("status")["accounts"]}
            self.assertEqual(acc["good"]["health"], "ok", acc["good"])
            for name, needle in (("inj", inj), ("spaced", spaced), ("cmd", "/usr/bin/printf")):
                self.assertEqual(acc[name]["health"], "needs-attention", f"{name}: {acc[name]}")
                self.assertIn(needle, acc[name].get("error") or "", f"{name}: {acc[name]}")
                self.assertIn("inside the token", acc[name].get("error") or "", f"{name}: {acc[name]}")
            injected = [r for r in masto.requests if "x-injected" in r.headers]
            self.assertEqual(injected, [], "a request carried the injected header")
            h.stop_heedd()


if __name__ == "__main__":
    main()
