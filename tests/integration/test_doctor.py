#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""heed doctor on a healthy and on a broken set-up.

Healthy: four accounts on fake servers over TLS (the Bluesky one added by
heed login and signed in by heedd, so its session is in the state
database), good token files, dunst answering, a state database heedd made.
Every check is ok or, where the sandbox has no systemd user manager, a
warning: exit status 0.

Doctor only reads: the state database it opens keeps its inode, size,
modification time and mode, and gets no -wal or -shm; it reads the one
heedd uses, the demo's scratch database included.

Broken: a token file others can read, a token the server refuses, a
command that gives no token, no notification server, a damaged state
database, a config with a problem: each is a FAIL line with its fix, and
the exit status is 1.
"""

import json
import os
import re
import stat
import time
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_bluesky import FakeBluesky  # noqa: E402
from fake_github import FakeGitHub, github_account  # noqa: E402
from fake_x import FakeX  # noqa: E402
from harness import Harness, build_dir, main, source_dir  # noqa: E402

LINE = re.compile(r"^(ok  |warn|FAIL)  (\S.*)$")


class DoctorCase(unittest.TestCase):
    def doctor(self, h):
        rc, out, err = h.heed("doctor", timeout=60)
        body, _, summary = out.rstrip("\n").rpartition("\n\n")
        lines = body.splitlines()
        for line in lines:
            m = LINE.match(line)
            self.assertIsNotNone(m, f"not a doctor line: {line!r}\n{out}")
            if m.group(1) != "ok  ":
                self.assertIn(" — ", line, f"a warning or failure says how to fix it: {line!r}")
        return rc, lines, summary, out, err

    def find(self, lines, level, text):
        hits = [line for line in lines if line.startswith(level) and text in line]
        self.assertTrue(hits, f"no {level.strip()!r} line with {text!r} in:\n" + "\n".join(lines))
        return hits[0]

    def listed(self, h):
        """The mentions heed list --json shows (none while heedd is starting)."""
        rc, out, _ = h.heed("list", "--json")
        return json.loads(out) if rc == 0 else []

    def start(self, h, fake):
        fake.start()
        h.fakes.append(fake)
        return fake


class Doctor(DoctorCase):
    def test_healthy(self):
        with Harness() as h:
            masto = h.mastodon()
            gh = self.start(h, FakeGitHub())
            x = self.start(h, FakeX())
            sky = self.start(h, FakeBluesky())
            h.write_config([h.mastodon_account(masto), github_account(gh),
                            {"name": "bird", "network": "x", "server": x.base_url, "token": x.token,
                             "ca_file": x.ca_file}])
            p = h.run([os.path.join(build_dir(), "heed"), "login", "bluesky", "alice.test", "--name", "sky",
                       "--server", sky.base_url, "--ca-file", sky.ca_file], input=sky.password + "\n")
            self.assertEqual(p.returncode, 0, p.stderr)
            h.start_heedd()
            h.wait_until(lambda: masto.polls() and sky.polls(), 20, "first polls")

            creates = sky.create_calls
            self.assertEqual(creates, 2, "heed login's check and heedd's own sign-in")
            rc, lines, summary, out, err = self.doctor(h)
            self.assertEqual(rc, 0, out + err)
            self.assertEqual(err, "")
            self.find(lines, "ok", f"{h.config_path} parses: 4 accounts")
            for name in ("work", "gh", "bird", "sky"):
                self.find(lines, "ok", f"account {name}: token file ")
                self.find(lines, "ok", f"account {name}: signed in to ")
            self.find(lines, "ok", "(mode 0600)")
            self.assertRegex(self.find(lines, "ok", "account work: signed in"),
                             r"as @me; \d+ of 300 requests left$")
            self.assertRegex(self.find(lines, "ok", "account gh: signed in"), r"\d+ of 5000 requests left$")
            self.assertRegex(self.find(lines, "ok", "account bird: signed in"),
                             r"as @heed_user; \d+ of 75 requests left$")
            self.assertRegex(self.find(lines, "ok", "account sky: signed in"),
                             r"as @alice\.test; \d+ of 3000 requests left$")
            self.assertEqual(sky.create_calls, creates, "doctor never calls createSession")
            self.find(lines, "ok", "the session bus answers")
            self.assertRegex(self.find(lines, "ok", "notification server: dunst"), r"capabilities: .*\bactions\b")
            self.assertIn("middle click opens the post", self.find(lines, "ok", "clicks:"))
            self.find(lines, "ok", "do-not-disturb is off (as heedd sees it)")
            self.find(lines, "ok", "is running (pid")
            self.find(lines, "ok", "passes its integrity check")
            # The sandbox may have no systemd user manager: that is a warning.
            for line in lines:
                if "systemd" in line or "heed.service" in line:
                    self.assertFalse(line.startswith("FAIL"), line)
            self.assertTrue(summary.startswith(("All good", "Nothing is broken")), summary)
            self.assertNotIn(masto.token, out)
            self.assertNotIn(gh.token, out)

            # Do-not-disturb is worth a warning, not a failure. With heedd
            # running, doctor says what heedd sees (it follows every desktop
            # it knows); without it, doctor asks the server itself.
            h.set_paused(True)
            h.wait_until(lambda: h.control("status")["notifications"].get("dnd") is True, 10,
                         "heedd to see dunst paused")
            rc, lines, _, out, _ = self.doctor(h)
            self.assertEqual(rc, 0, out)
            self.find(lines, "warn", "do-not-disturb is on (as heedd sees it)")
            h.stop_heedd()
            rc, lines, _, out, _ = self.doctor(h)
            self.find(lines, "warn", "do-not-disturb is on (dunst is paused)")
            self.assertIn("dunstctl set-paused false", out)
            h.set_paused(False)
            rc, lines, _, out, _ = self.doctor(h)
            self.find(lines, "ok", "do-not-disturb is off (dunst is not paused)")

            # A one-off doctor run does not touch the Bluesky session.
            self.assertEqual(sky.refresh_calls, 0)

    def test_broken(self):
        with Harness(dunst=False) as h:
            masto = h.mastodon()
            gh = self.start(h, FakeGitHub())
            sky = self.start(h, FakeBluesky())
            h.write_config([h.mastodon_account(masto),
                            github_account(gh, token="ghp_notTheRightOne"),
                            {"name": "kr", "network": "x", "server": "https://127.0.0.1:9",
                             "token_command": "/bin/false"},
                            {"name": "sky", "network": "bluesky", "identifier": "alice.test",
                             "server": sky.base_url, "token": sky.password, "ca_file": sky.ca_file},
                            {"name": "typo", "network": "mastodon", "server": masto.base_url,
                             "token": masto.token, "ca_file": masto.ca_file, "poll_intervall": 5}])
            work_token = os.path.join(h.tmp, "secrets", "work.token")
            os.chmod(work_token, 0o644)
            db = os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")
            os.makedirs(os.path.dirname(db), exist_ok=True)
            with open(db, "wb") as f:
                f.write(b"this is not an SQLite database, whatever it once was" * 100)

            rc, lines, summary, out, err = self.doctor(h)
            self.assertEqual(rc, 1, out + err)
            self.find(lines, "FAIL", "has 1 problem, e.g.")
            self.assertIn("poll_intervall: unknown key", out)
            line = self.find(lines, "FAIL", "account work: ")
            self.assertIn(work_token, line)
            self.assertIn(f"chmod 600 {work_token}", line)
            line = self.find(lines, "FAIL", "account gh: ")
            self.assertIn("refused the token (HTTP 401: Bad credentials)", line)
            self.assertIn("heed login github", line)
            self.assertIn("--name gh --force", line)
            line = self.find(lines, "FAIL", "account kr: token_command")
            self.assertIn("run /bin/false yourself", line)
            self.find(lines, "warn", "account sky: not signed in yet")
            self.assertEqual(sky.create_calls, 0, "doctor never calls createSession")
            self.find(lines, "FAIL", "no notification server answers")
            self.find(lines, "warn", "heedd is not running")
            line = self.find(lines, "FAIL", "the state database cannot be opened")
            self.assertIn(f"mv {db} {db}.broken", line)
            self.assertTrue(summary.startswith("6 things to fix"), out)
            self.assertNotIn("ghp_notTheRightOne", out)
            self.assertEqual(len(masto.requests_to("/api/v1/accounts/verify_credentials")), 1,
                             "only the readable token (typo) was tried")

    def test_reads_without_writing(self):
        """The state database heedd left is read, never written: same
        inode, size, modification time and mode, no -wal or -shm."""
        with Harness(dunst=False) as h:
            masto = h.mastodon()
            masto.add_mention(text_html="<p>@me a question for you</p>")
            h.write_config([h.mastodon_account(masto)])
            h.start_heedd()
            h.wait_until(lambda: self.listed(h), 15, "the mention stored")
            h.stop_heedd()
            db = os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")
            os.chmod(db, 0o640)  # a mode doctor must not "fix" either
            for suffix in ("-wal", "-shm"):
                self.assertFalse(os.path.exists(db + suffix), f"heedd removed {suffix} when it stopped")
            before = os.stat(db)
            time.sleep(1.1)  # a write would show in the modification time

            rc, lines, summary, out, err = self.doctor(h)
            self.assertRegex(self.find(lines, "ok", f"state database {db} passes"), r"\(1 mention, 1 waiting\)")
            after = os.stat(db)
            for field in ("st_ino", "st_size", "st_mtime_ns", "st_mode"):
                self.assertEqual(getattr(before, field), getattr(after, field), f"{field} of {db}")
            self.assertEqual(stat.S_IMODE(after.st_mode), 0o640)
            for suffix in ("-wal", "-shm", "-journal"):
                self.assertFalse(os.path.exists(db + suffix), f"doctor made {db}{suffix}")

    def test_reads_the_demo_database(self):
        """During heedd --demo, doctor reads the demo's scratch database,
        which heed list shows, not the (absent) default one."""
        with Harness() as h:
            h.start_heedd(["--demo", "--demo-file", os.path.join(source_dir(), "data", "demo", "mentions.json")],
                          config=False)
            h.wait_until(lambda: self.listed(h), 20, "demo mentions listed")
            rc, lines, summary, out, err = self.doctor(h)
            line = self.find(lines, "ok", "passes its integrity check")
            self.assertRegex(line, r"state database /\S+/demo\.db passes its integrity check \([1-9]\d* mentions?")
            self.assertNotIn("no state database yet", out)
            default_db = os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")
            self.assertFalse(os.path.exists(default_db), "neither heedd --demo nor doctor made the default one")
            h.stop_heedd()

    def test_systemd_states(self):
        """What doctor makes of systemctl's answers, with a systemctl that
        answers as a user manager would (the sandbox may have none)."""
        fake_systemctl = (
            "#!/usr/bin/python3\n"
            "import json, os, sys\n"
            "args = [a for a in sys.argv[1:] if a != '--user']\n"
            "answers = json.loads(os.environ['FAKE_SYSTEMCTL'])\n"
            "rc, out, err = answers.get(args[0], [1, '', 'Unknown command'])\n"
            "sys.stdout.write(out); sys.stderr.write(err); sys.exit(rc)\n")
        with Harness() as h:
            bindir = h.path("fakebin")
            os.makedirs(bindir)
            with open(os.path.join(bindir, "systemctl"), "w") as f:
                f.write(fake_systemctl)
            os.chmod(os.path.join(bindir, "systemctl"), 0o755)
            h.env["PATH"] = bindir + ":" + h.env["PATH"]
            cases = [
                ({"show-environment": [0, "HOME=/h\nDISPLAY=:5\nLANG=C\n", ""],
                  "is-enabled": [0, "enabled\n", ""], "is-active": [0, "active\n", ""]},
                 [("ok", "heed.service is enabled and running"),
                  ("ok", "passes the desktop to heed.service (DISPLAY=:5)")], 0),
                ({"show-environment": [0, "HOME=/h\n", ""],
                  "is-enabled": [0, "enabled\n", ""], "is-active": [3, "failed\n", ""]},
                 [("FAIL", "heed.service is enabled but has failed — journalctl --user -u heed"),
                  ("warn", "neither DISPLAY nor WAYLAND_DISPLAY"),
                  ("warn", "— in your session's startup: systemctl --user import-environment DISPLAY "
                           "WAYLAND_DISPLAY XAUTHORITY")], 1),
                ({"show-environment": [0, "WAYLAND_DISPLAY=wayland-1\n", ""],
                  "is-enabled": [1, "disabled\n", ""]},
                 [("warn", "heed.service is installed but disabled — systemctl --user enable --now heed"),
                  ("ok", "(WAYLAND_DISPLAY=wayland-1)")], 0),
                ({"show-environment": [1, "", "Failed to connect to bus: No medium found\n"],
                  "is-enabled": [1, "", "Failed to get unit file state for heed.service: No such file or "
                                        "directory\n"]},
                 [("warn", "heed.service is not installed"),
                  ("warn", "no systemd user manager is reachable")], 0),
            ]
            for answers, want, want_rc in cases:
                h.env["FAKE_SYSTEMCTL"] = json.dumps(answers)
                rc, lines, summary, out, err = self.doctor(h)
                self.assertEqual(rc, want_rc, out)
                for level, text in want:
                    self.find(lines, level, text)

    def test_nothing_yet(self):
        """A newcomer's first run: warnings that point at heed login, no FAIL
        for what simply does not exist yet."""
        with Harness() as h:
            rc, lines, summary, out, err = self.doctor(h)
            self.assertEqual(rc, 0, out)
            self.assertIn("heed login mastodon INSTANCE", self.find(lines, "warn", "no configuration yet"))
            self.find(lines, "warn", "no state database yet")
            self.find(lines, "ok", "notification server: dunst")
            self.assertTrue(summary.startswith("Nothing is broken"), summary)
            db = os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")
            self.assertFalse(os.path.exists(db), "doctor creates no database")


if __name__ == "__main__":
    main()
