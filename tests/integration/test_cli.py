#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""heed, the command line, against a running heedd and a fake Mastodon.

Every command's human output and exit status; the --json shapes, checked
against the tables in docs/JSON.md (so the document cannot drift from the
daemon); the control socket's defences (another user is refused, an
oversize request is answered with an error, idle and greedy clients do not
block anyone); layout on a real terminal (a pty): width and colour.
"""

import datetime
import json
import os
import pty
import re
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
import fcntl
import unicodedata
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, build_dir, main, source_dir, squash  # noqa: E402

NOT_RUNNING = "heed: heedd is not running (start it with: systemctl --user start heed)\n"
COMMANDS = ["status", "list", "show", "explain", "open", "done", "snooze", "wake", "stats",
            "reload", "check-config"]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
HOUR = 3600

ALICE_TEXT = "Are you coming to the meetup tomorrow? Could you bring the projector, please?"
BOB_TEXT = "nice talk"
CAROL_TEXT = ("A long one: " + "words that go on and on " * 12).strip()


def columns(s):
    """Terminal columns taken by s (no escapes in it)."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return w


# ---------------------------------------------------------------- control socket


class RawClient:
    """A control-socket client that does exactly what it is told."""

    def __init__(self, path, timeout=5):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""

    def send(self, data):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # the daemon may hang up before taking it all; its answer says why

    def request(self, cmd, **args):
        self.send(json.dumps({"cmd": cmd, "args": args}).encode() + b"\n")
        return self.answer()

    def answer(self):
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError(f"connection closed; had {self.buf[:200]!r}")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def close(self):
        self.sock.close()


def control(h, cmd, **args):
    c = RawClient(h.control_socket())
    try:
        a = c.request(cmd, **args)
    finally:
        c.close()
    if not a.get("ok"):
        raise AssertionError(f"{cmd} failed: {a}")
    return a.get("result")


# ---------------------------------------------------------------- docs/JSON.md


def json_doc_tables():
    """The key tables of docs/JSON.md: {section heading: [table, ...]}, each
    table {key: (type text, optional)}."""
    path = os.path.join(source_dir(), "docs", "JSON.md")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    sections = {}
    heading, table = None, None
    for line in text.splitlines():
        if line.startswith("## "):
            heading = line[3:].strip()
            sections[heading] = []
            table = None
            continue
        m = re.match(r"^\|\s*`([a-z_]+)`\s*\|\s*([^|]+?)\s*\|", line)
        if m and heading:
            if table is None:
                table = {}
                sections[heading].append(table)
            type_text = m.group(2)
            table[m.group(1)] = (type_text.replace(", optional", ""), "optional" in type_text)
        elif not line.startswith("|"):
            table = None
    return sections


def json_time(s):
    """Seconds since the epoch for a time in heed's JSON."""
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc).timestamp()


ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def type_ok(value, type_text):
    nullable = type_text.endswith(" or null")
    base = type_text[:-len(" or null")] if nullable else type_text
    if value is None:
        return nullable
    if base.startswith("integer"):
        if not isinstance(value, int) or isinstance(value, bool):
            return False
        if "0-100" in base:
            return 0 <= value <= 100
        if "≥ 1" in base:
            return value >= 1
        return True
    if base == "string":
        return isinstance(value, str)
    if base == "time":
        return isinstance(value, str) and bool(ISO.match(value))
    if base == "boolean":
        return isinstance(value, bool)
    if base == "array":
        return isinstance(value, list)
    if base == "object":
        return isinstance(value, dict)
    raise AssertionError(f"docs/JSON.md uses a type the test does not know: {type_text!r}")


class CLITestCase(unittest.TestCase):
    DOC = None

    @classmethod
    def setUpClass(cls):
        cls.DOC = json_doc_tables()

    def assert_shape(self, obj, section, index=0, where=None):
        """obj has every key of the table (types as documented) and nothing
        the table does not document."""
        where = where or section
        table = self.DOC[section][index]
        self.assertIsInstance(obj, dict, where)
        for key, (type_text, optional) in table.items():
            if key not in obj:
                self.assertTrue(optional, f"{where}: documented key {key!r} is missing: {obj}")
                continue
            self.assertTrue(type_ok(obj[key], type_text),
                            f"{where}: {key!r} should be {type_text}, is {obj[key]!r}")
        extra = set(obj) - set(table)
        self.assertEqual(extra, set(), f"{where}: keys not documented in docs/JSON.md ({section})")

    def assert_mention(self, m, where="mention"):
        self.assert_shape(m, "Mention", where=where)
        self.assertIn(m["network"], ("mastodon", "bluesky", "github", "x", "demo"))
        self.assertIn(m["kind"], ("mention", "reply", "quote", "direct", "review", "assign", "team"))
        self.assertIn(m["state"], ("waiting", "snoozed", "done", "replied"))
        self.assertIn(m["urgency"], ("low", "normal", "critical"))
        self.assertEqual(set(m["author"]), {"id", "handle", "name"}, where)
        for v in m["author"].values():
            self.assertTrue(v is None or isinstance(v, str), where)
        for r in m["reasons"]:
            self.assertEqual(set(r), {"reason", "points"}, where)
            self.assertIsInstance(r["reason"], str)
            self.assertIsInstance(r["points"], int)
        self.assertEqual("snoozed_until" in m, m["state"] == "snoozed", where)

    # ------------------------------------------------------------ helpers

    def heed_ok(self, h, *args):
        rc, out, err = h.heed(*args)
        self.assertEqual(rc, 0, f"heed {' '.join(args)} failed ({rc}): {err}")
        self.assertEqual(err, "", f"heed {' '.join(args)} wrote to stderr")
        return out

    def heed_json(self, h, *args):
        return json.loads(self.heed_ok(h, *args, "--json"))

    def assert_usage_error(self, h, *args, says=None):
        rc, out, err = h.heed(*args)
        self.assertEqual(rc, 2, f"heed {' '.join(args)}: want exit 2, got {rc}: {err}")
        self.assertEqual(out, "")
        self.assertEqual(err.count("\n"), 1, f"one line: {err!r}")
        if says:
            self.assertIn(says, err)

    def watching(self, h, test_hooks=True):
        """Fake Mastodon, heedd started and past its first poll, then three
        mentions; returns (fake, {name: mention from heed list})."""
        fake = h.mastodon()
        if test_hooks:
            h.env["HEED_TEST_HOOKS"] = "1"
        h.write_config([h.mastodon_account(fake)], poll_interval=1)
        h.start_heedd()
        h.wait_polls(fake, 1, timeout=15)
        nids = {
            "alice": fake.add_mention(acct="alice@fake.social", display_name="Alice Example",
                                      text_html=f"<p>{ALICE_TEXT}</p>"),
            "bob": fake.add_mention(acct="bob@fake.social", display_name="Bob 日本語",
                                    text_html=f"<p>{BOB_TEXT}</p>"),
            "carol": fake.add_mention(acct="carol@fake.social", display_name="Carol",
                                      text_html=f"<p>{CAROL_TEXT}</p>"),
        }
        urls = {name: fake.status_url(n) for name, n in nids.items()}
        h.wait_until(lambda: set(urls.values()) <= h.listed_urls(), 15, "three mentions in heed list")
        by_url = {m["url"]: m for m in h.heed_list()}
        return fake, {name: by_url[u] for name, u in urls.items()}

    def pty_heed(self, h, args, cols=60, env_extra=None):
        """Run heed with stdout on a pseudo-terminal cols wide; returns
        (rc, output with \\r\\n turned into \\n)."""
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, cols, 0, 0))
        env = dict(h.env, TERM="xterm-256color")
        env.update(env_extra or {})
        p = subprocess.Popen([os.path.join(build_dir(), "heed"), *args], stdin=subprocess.DEVNULL,
                             stdout=slave, stderr=subprocess.PIPE, env=env)
        os.close(slave)
        out = b""
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the other side is closed
                    break
                if not chunk:
                    break
                out += chunk
            elif p.poll() is not None:
                break
        os.close(master)
        rc = p.wait(10)
        p.stderr.close()
        return rc, out.decode().replace("\r\n", "\n")


class CLI(CLITestCase):
    def test_without_daemon(self):
        with Harness(dunst=False) as h:
            # Help and version need no daemon.
            out = self.heed_ok(h, "--version")
            self.assertRegex(out, r"^heed \d+\.\d+\.\d+\n$")
            for args in (["--help"], ["help"], ["-h"]):
                out = self.heed_ok(h, *args)
                self.assertTrue(out.startswith("usage: heed"), out)
                for cmd in COMMANDS:
                    self.assertIn(f"\n  {cmd}", out, f"--help lists {cmd}")
            for cmd in COMMANDS:
                for args in ([cmd, "--help"], ["help", cmd], [cmd, "-h"]):
                    out = self.heed_ok(h, *args)
                    self.assertTrue(out.startswith(f"usage: heed {cmd}"), f"heed {' '.join(args)}: {out}")

            # Usage errors: exit 2, one line on stderr, nothing on stdout.
            rc, out, err = h.heed()
            self.assertEqual((rc, out), (2, ""))
            self.assertTrue(err.startswith("usage: heed"))
            self.assert_usage_error(h, "frobnicate", says='unknown command "frobnicate"')
            self.assert_usage_error(h, "--frob", says='unknown option "--frob"')
            self.assert_usage_error(h, "list", "--frob", says='heed list: unknown option "--frob"')
            self.assert_usage_error(h, "list", "--limit", "many", says="--limit")
            self.assert_usage_error(h, "show", says="needs a mention id")
            self.assert_usage_error(h, "show", "abc", says='"abc" is not a mention id')
            self.assert_usage_error(h, "snooze", "3", "soon", says='"soon" is not a duration')
            self.assert_usage_error(h, "done", "3", "--json", says="--json is not supported")
            self.assert_usage_error(h, "stats", "--days", "0", says="--days")
            self.assert_usage_error(h, "status", "now", says='unexpected argument "now"')

            # heedd not running: the exact message and exit 3, for every command
            # that needs it, also with --json (nothing on stdout).
            for args in (["status"], ["list"], ["list", "--json"], ["show", "1"], ["explain", "1"],
                         ["open", "1"], ["done", "1"], ["snooze", "1", "1h"], ["wake", "1"],
                         ["stats"], ["reload"]):
                rc, out, err = h.heed(*args)
                self.assertEqual((rc, out, err), (3, "", NOT_RUNNING), f"heed {' '.join(args)}")

            # Same when a dead daemon left its socket behind.
            fake = h.mastodon()
            h.write_config([h.mastodon_account(fake)])
            h.start_heedd()
            self.heed_ok(h, "status")
            h.kill_heedd()
            self.assertTrue(os.path.exists(h.control_socket()), "SIGKILL leaves the socket file")
            self.assertEqual(h.heed("list"), (3, "", NOT_RUNNING))

            # No XDG_RUNTIME_DIR: nowhere to look; still "not running" (3).
            env = dict(h.env)
            del env["XDG_RUNTIME_DIR"]
            p = h.run([os.path.join(build_dir(), "heed"), "list"], env=env)
            self.assertEqual(p.returncode, 3, p.stderr)
            self.assertIn("XDG_RUNTIME_DIR", p.stderr)

    def test_commands_human_output(self):
        with Harness(dunst=False) as h:
            fake, ms = self.watching(h)
            alice, bob, carol = ms["alice"], ms["bob"], ms["carol"]
            # Three hours pass on heedd's clock.
            daemon_now = control(h, "test-clock", advance=3 * HOUR + 120)["now"]
            offset = daemon_now - time.time()

            # list: aligned columns, "waiting 3 h", most urgent first, cut at
            # 100 columns when stdout is not a terminal, no colour.
            listed = h.heed_list()
            out = self.heed_ok(h, "list")
            lines = out.splitlines()
            self.assertRegex(lines[0], r"^\s*ID\s+SCORE\s+STATE\s+NETWORK\s+FROM\s+TEXT$")
            self.assertEqual(len(lines), 4, out)
            self.assertEqual([int(line.split()[0]) for line in lines[1:]], [m["id"] for m in listed])
            scores = [m["score"] for m in listed]
            self.assertEqual(scores, sorted(scores, reverse=True), "most urgent first")
            text_col = lines[0].index("TEXT")
            state_col = lines[0].index("STATE")
            for line in lines[1:]:
                self.assertIn("waiting 3 h", line)
                self.assertEqual(line.index("waiting 3 h"), state_col, f"aligned:\n{out}")
                self.assertLessEqual(columns(line), 100, line)
                self.assertNotIn("\x1b", line)
            carol_line = next(line for line in lines[1:] if line.split()[0] == str(carol["id"]))
            self.assertTrue(carol_line.endswith("…"), f"long text cut with an ellipsis: {carol_line!r}")
            self.assertGreater(columns(carol_line), 95, "the text takes the rest of the line")
            bob_line = next(line for line in lines if line.split()[0] == str(bob["id"]))
            self.assertIn("Bob 日本語", bob_line)
            self.assertEqual(columns(bob_line[:bob_line.index(BOB_TEXT)]), text_col,
                             "wide characters count as two columns")

            # --limit
            out = self.heed_ok(h, "list", "--limit", "1")
            self.assertEqual(len(out.splitlines()), 2)
            self.assertEqual(out.splitlines()[1].split()[0], str(listed[0]["id"]))

            # status
            out = self.heed_ok(h, "status")
            self.assertIn(f"heedd {self.heed_ok(h, '--version').split()[1]} is running (pid {h.heedd.pid})",
                          out)
            self.assertRegex(out, r"3 people waiting \(3 mentions\); the oldest for ")
            self.assertIn("Notifications: no notification server is answering.", out)
            acc = [line for line in out.splitlines() if line.startswith("work ")]
            self.assertEqual(len(acc), 1, out)
            self.assertRegex(acc[0], r"^work\s+mastodon\s+ok\s+\d\d:\d\d:\d\d \(.* ago\)$")
            self.assertRegex(out, r"ACCOUNT\s+NETWORK\s+HEALTH\s+LAST GOOD POLL")

            # show: every field, the whole text.
            cj = self.heed_json(h, "show", str(carol["id"]))
            out = self.heed_ok(h, "show", str(carol["id"]))
            self.assertTrue(out.startswith(f"#{carol['id']} Carol (@carol@fake.social)\n"), out)
            self.assertRegex(out, r"\nstate\s+waiting 3 h\n")
            self.assertRegex(out, rf"\nlink\s+{re.escape(carol['url'])}\n")
            self.assertRegex(out, rf"\nscore\s+{cj['score']}, {cj['urgency']}")
            self.assertIn(squash(CAROL_TEXT), squash(out), "show prints the whole text")
            for line in out.splitlines():
                self.assertLessEqual(columns(line), 100, line)

            # explain: every reason, with points that add up.
            ex = self.heed_json(h, "explain", str(alice["id"]))
            out = self.heed_ok(h, "explain", str(alice["id"]))
            self.assertTrue(out.startswith(f"#{alice['id']} scores {ex['score']} ({ex['urgency']})\n"), out)
            for r in ex["reasons"]:
                self.assertRegex(out, rf"\n\s+{re.escape(format(r['points'], '+d'))}  {re.escape(r['reason'])}\n")
            self.assertIn("waiting 3 h", out, "the waiting time is a reason")

            # stats before anything is answered.
            out = self.heed_ok(h, "stats")
            self.assertTrue(out.startswith("Last 7 days: 3 mentions, 0 answered (0%)"), out)
            self.assertIn("Waited longest:", out)
            self.assertIn("Alice Example", out)

            # snooze with a duration, then wake.
            out = self.heed_ok(h, "snooze", str(alice["id"]), "2h")
            # Today's time, or a date when the snooze ends on another day (heedd's
            # clock may have been moved forward by this test).
            self.assertRegex(out, rf"^#{alice['id']} is snoozed for 2 h, till "
                                  rf"(\d\d:\d\d:\d\d|\d{{4}}-\d\d-\d\d \d\d:\d\d)\.\n$")
            m = self.heed_json(h, "show", str(alice["id"]))
            self.assertEqual(m["state"], "snoozed")
            self.assertIn("snoozed till", self.heed_ok(h, "list"))
            self.assertEqual(self.heed_ok(h, "wake", str(alice["id"])), f"#{alice['id']} is waiting again.\n")
            self.assertEqual(self.heed_json(h, "show", str(alice["id"]))["state"], "waiting")
            # Without a duration: heed.conf's snooze (default 1 h).
            self.assertRegex(self.heed_ok(h, "snooze", str(bob["id"])), rf"^#{bob['id']} is snoozed for ")
            until = json_time(self.heed_json(h, "show", str(bob["id"]))["snoozed_until"])
            self.assertAlmostEqual(until - (time.time() + offset), HOUR, delta=60)

            # done: gone from list, back with --all.
            self.assertEqual(self.heed_ok(h, "done", str(carol["id"])), f"#{carol['id']} is done.\n")
            ids = [m["id"] for m in self.heed_json(h, "list")]
            self.assertNotIn(carol["id"], ids)
            everything = self.heed_json(h, "list", "--all")
            self.assertEqual({m["id"]: m["state"] for m in everything},
                             {alice["id"]: "waiting", bob["id"]: "snoozed", carol["id"]: "done"})
            self.assertEqual(everything[-1]["id"], carol["id"], "handled ones come last")
            out = self.heed_ok(h, "list", "--all")
            done_line = next(line for line in out.splitlines() if line.split()[0] == str(carol["id"]))
            self.assertIn(" done ", done_line)
            self.assertTrue(self.heed_ok(h, "stats").startswith("Last 7 days: 3 mentions, 1 answered (33%)"))

            # open: heedd runs open_command with the post's URL.
            self.assertEqual(self.heed_ok(h, "open", str(bob["id"])), f"Opened {bob['url']}\n")
            h.wait_until(lambda: h.opened_urls(), 10, "open_command to run")
            self.assertEqual(h.opened_urls(), [bob["url"]])

            # An id that does not exist: exit 1, one line naming it.
            rc, out, err = h.heed("show", "999999")
            self.assertEqual((rc, out), (1, ""))
            self.assertRegex(err, r"^heed: .*999999.*\n$")

            # reload: a second account appears; a broken file is refused and
            # heedd keeps the configuration it has.
            h.write_config([h.mastodon_account(fake), h.mastodon_account(fake, name="second")])
            self.assertEqual(self.heed_ok(h, "reload"), "heedd re-read its configuration: 2 accounts.\n")
            self.assertEqual([a["name"] for a in self.heed_json(h, "status")["accounts"]], ["work", "second"])
            with open(h.config_path, "a") as f:
                f.write("\n[heed]\npoll_interval = often\n")
            rc, out, err = h.heed("reload")
            self.assertEqual((rc, out), (1, ""))
            self.assertIn(h.config_path, err)
            self.assertEqual(len(self.heed_json(h, "status")["accounts"]), 2)
            self.assertTrue(h.heedd_running())
            h.stop_heedd()

    def test_json_shapes(self):
        with Harness(dunst=False) as h:
            fake, ms = self.watching(h)
            control(h, "test-clock", advance=2 * HOUR)
            alice = ms["alice"]
            self.heed_ok(h, "snooze", str(ms["bob"]["id"]), "30m")
            self.heed_ok(h, "done", str(ms["carol"]["id"]))

            status = self.heed_json(h, "status")
            self.assert_shape(status, "heed status --json", 0, "status")
            self.assertEqual(status["pid"], h.heedd.pid)
            self.assertEqual((status["waiting"], status["people"], status["total"]), (1, 1, 3))
            self.assertEqual(set(status["notifications"]), {"server", "capabilities", "pending", "dnd"})
            self.assertIsInstance(status["notifications"]["server"], bool)
            self.assertIs(status["notifications"]["dnd"], False)
            self.assertEqual(set(status["http"]), {"transfers", "connections"})
            self.assertEqual(len(status["accounts"]), 1)
            acc = status["accounts"][0]
            self.assert_shape(acc, "heed status --json", 1, "status.accounts[]")
            self.assertEqual((acc["name"], acc["network"], acc["health"]), ("work", "mastodon", "ok"))
            self.assertIsNotNone(acc["last_ok"])
            # --json works before the command too.
            self.assertEqual(set(json.loads(self.heed_ok(h, "--json", "status"))), set(status))

            listed = self.heed_json(h, "list")
            self.assertEqual([m["id"] for m in listed], [alice["id"], ms["bob"]["id"]])
            for m in listed:
                self.assert_mention(m, "list[]")
            everything = self.heed_json(h, "list", "--all")
            self.assertEqual(len(everything), 3)
            for m in everything:
                self.assert_mention(m, "list --all[]")
            by_id = {m["id"]: m for m in everything}
            a = by_id[alice["id"]]
            self.assertEqual((a["network"], a["account"], a["state"]), ("mastodon", "work", "waiting"))
            self.assertEqual(a["author"]["handle"], "@alice@fake.social")
            self.assertEqual(a["author"]["name"], "Alice Example")
            self.assertEqual(a["text"], ALICE_TEXT)
            self.assertGreaterEqual(a["waiting_seconds"], 2 * HOUR)
            self.assertEqual(by_id[ms["bob"]["id"]]["state"], "snoozed")
            self.assertEqual(by_id[ms["carol"]["id"]]["state"], "done")

            shown = self.heed_json(h, "show", str(alice["id"]))
            self.assert_mention(shown, "show")
            self.assertEqual(shown["id"], alice["id"])

            ex = self.heed_json(h, "explain", str(alice["id"]))
            self.assert_shape(ex, "heed explain ID --json", 0, "explain")
            self.assertEqual(ex["score"], shown["score"])
            self.assertEqual(ex["reasons"], shown["reasons"])

            stats = self.heed_json(h, "stats")
            self.assert_shape(stats, "heed stats --json", 0, "stats")
            self.assertEqual((stats["days"], stats["mentions"], stats["answered"]), (7, 3, 1))
            self.assertEqual(stats["replied_on_network"], 0)
            self.assertIsInstance(stats["median_wait_seconds"], int)
            self.assertEqual([m["id"] for m in stats["longest_waiting"]], [alice["id"]])
            for m in stats["longest_waiting"]:
                self.assert_mention(m, "stats.longest_waiting[]")
            self.assertEqual(self.heed_json(h, "stats", "--days", "1")["days"], 1)
            h.stop_heedd()

    def test_list_json_is_never_truncated(self):
        with Harness(dunst=False) as h:
            fake = h.mastodon()
            h.write_config([h.mastodon_account(fake)], poll_interval=1)
            h.start_heedd()
            h.wait_polls(fake, 1, timeout=15)
            long_text = "Long text, every word kept. " * 60
            ids = fake.add_many(45, text="<p>{i:03d} " + long_text + "</p>")
            want = {fake.status_url(i) for i in ids}
            h.wait_until(lambda: want <= h.listed_urls(), 30, "45 mentions listed", interval=0.25)
            full = self.heed_json(h, "list")
            self.assertEqual(len(full), 45)
            for m in full:
                self.assertEqual(m["text"], re.sub(r"\s+", " ", f"{m['text'][:3]} {long_text}").strip())
            limited = self.heed_json(h, "list", "--limit", "5")
            self.assertEqual([(m["id"], m["text"]) for m in limited], [(m["id"], m["text"]) for m in full[:5]])
            # Human output: one line per mention, each cut to the width.
            out = self.heed_ok(h, "list")
            self.assertEqual(len(out.splitlines()), 46)
            h.stop_heedd()

    def test_check_config(self):
        with Harness(dunst=False) as h:
            fake = h.mastodon()
            good = h.write_config([h.mastodon_account(fake)])
            out = self.heed_ok(h, "check-config")
            self.assertEqual(out, f"{good}: 1 account ready.\n")
            self.assertEqual(self.heed_ok(h, "check-config", good), out)

            def check(content, *fragments):
                path = h.path("broken.conf")
                with open(path, "w") as f:
                    f.write(content)
                rc, out, err = h.heed("check-config", path)
                self.assertEqual(rc, 1, f"{content!r}: {out} {err}")
                for frag in (path,) + fragments:
                    self.assertIn(frag, err, f"{content!r}")
                for line in err.splitlines():
                    self.assertTrue(line.startswith(path + ": "), f"each problem names the file: {line!r}")
                return err

            check("[heed]\npoll_interval = soon\n", "[heed] poll_interval:", '"soon"')
            check("[heed]\nquiet_hours = 22:00-22:00\n", "[heed] quiet_hours:")
            check(f"[account work]\nnetwork = mastodon\nserver = http://insecure.example\n"
                  f"token_file = {h.write_token('work', 't')}\n", "[account work] server:", "https")
            check("[account odd]\nnetwork = myspace\n", "[account odd] network:")
            check("[score]\nquestion = lots\n", "[score] question:")
            check("[heed]\nthis is not a key file\n", "line 2")
            token = h.write_token("loose", "t")
            os.chmod(token, 0o644)
            check(f"[account loose]\nnetwork = mastodon\nserver = https://x.example\ntoken_file = {token}\n",
                  "[account loose] token_file:", "chmod 600")
            rc, out, err = h.heed("check-config", h.path("missing.conf"))
            self.assertEqual(rc, 1)
            self.assertIn(h.path("missing.conf"), err)

    def test_terminal_width_and_colour(self):
        with Harness(dunst=False) as h:
            self.watching(h, test_hooks=False)
            rc, out = self.pty_heed(h, ["list"], cols=60)
            self.assertEqual(rc, 0, out)
            self.assertIn("\x1b[", out, "colour on a terminal")
            plain = ANSI.sub("", out)
            lines = plain.splitlines()
            self.assertEqual(len(lines), 4, plain)
            for line in lines:
                self.assertLessEqual(columns(line), 60, line)
            self.assertTrue(any(line.endswith("…") for line in lines), plain)

            rc, out = self.pty_heed(h, ["list"], cols=60, env_extra={"NO_COLOR": "1"})
            self.assertEqual(rc, 0)
            self.assertNotIn("\x1b", out, "NO_COLOR means no colour")
            self.assertEqual(out, plain)

            rc, out = self.pty_heed(h, ["status"], cols=120)
            self.assertEqual(rc, 0)
            self.assertIn("\x1b[", out)

            # Not a terminal: never colour; COLUMNS is honoured, else 100.
            env = dict(h.env, COLUMNS="50", TERM="xterm")
            p = h.run([os.path.join(build_dir(), "heed"), "list"], env=env)
            self.assertEqual(p.returncode, 0)
            self.assertNotIn("\x1b", p.stdout)
            for line in p.stdout.splitlines():
                self.assertLessEqual(columns(line), 50, line)
            h.stop_heedd()


COMPLETE_SH = r"""
source "$1"
shift
complete_for() {
    COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=()
    _heed
    printf '%s|\n' "${COMPREPLY[*]}"
}
complete_for heed ''
complete_for heed li
complete_for heed --js
complete_for heed list --
complete_for heed list --limit ''
complete_for heed show ''
complete_for heed show 1 --
complete_for heed snooze 1 ''
complete_for heed snooze 1 2h ''
complete_for heed help ch
complete_for heed stats --days ''
complete_for heed check-config "$CONF_PREFIX"
"""


def read_source(*parts):
    with open(os.path.join(source_dir(), *parts), encoding="utf-8") as f:
        return f.read()


class Packaging(CLITestCase):
    """What ships beside the binary: man pages and bash completion."""

    def test_man_pages_cover_commands_and_keys(self):
        src = source_dir()

        def read(*parts):
            with open(os.path.join(src, *parts), encoding="utf-8") as f:
                return f.read()

        conf_man = read("docs", "man", "heed.conf.5")
        config_c = read("lib", "config.c")
        keys = []
        for table in ("config_heed_keys", "config_account_keys"):
            m = re.search(table + r"\[\] = \{(.*?)\};", config_c, re.S)
            self.assertIsNotNone(m, f"{table} in lib/config.c")
            keys += re.findall(r'"([a-z_]+)"', m.group(1))
        score_c = read("lib", "score.c")
        weights = re.findall(r"SCORE_FIELD\((\w+)\)", score_c.split("score_fields[]", 1)[1])
        self.assertGreater(len(keys), 15)
        self.assertGreater(len(weights), 20)
        for key in keys + weights:
            self.assertRegex(conf_man, rf"\n\.B[IR]? {re.escape(key)}\b",
                             f"heed.conf(5) documents {key!r}")
        heed_man = read("docs", "man", "heed.1")
        for cmd in COMMANDS + ["help"]:
            roff = re.escape(cmd.replace("-", "\\-"))
            self.assertRegex(heed_man, rf"\n\.B[IR]? {roff}\b", f"heed(1) documents {cmd!r}")
        for code in ("0", "1", "2", "3"):
            self.assertIn(f"\n.TP\n.B {code}\n", heed_man, f"heed(1) documents exit status {code}")
        heedd_man = read("docs", "man", "heedd.8")
        for word in ("Type=notify", "import\\-environment", "graphical\\-session.target", "WATCHDOG=1"):
            self.assertIn(word, heedd_man)

    def test_bash_completion(self):
        with Harness(dunst=False) as h:
            fake, ms = self.watching(h, test_hooks=False)
            ids = sorted((str(m["id"]) for m in ms.values()), key=int)
            env = dict(h.env, PATH=build_dir() + ":" + h.env["PATH"],
                       CONF_PREFIX=os.path.join(os.path.dirname(h.config_path), "heed.c"))
            comp = os.path.join(source_dir(), "data", "bash-completion", "heed")
            p = h.run(["bash", "--norc", "--noprofile", "-c", COMPLETE_SH, "bash", comp], env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stderr, "")
            got = [line.rstrip("|").split() for line in p.stdout.splitlines()]
            self.assertEqual(sorted(got[5], key=int), ids, "mention ids come from heed list")
            got[5] = ["(ids)"]
            self.assertEqual(got, [
                "status list show explain open done snooze wake stats reload check-config login doctor forget "
                "help".split(),
                ["list"],
                ["--json"],
                ["--all", "--limit", "--json", "--help"],
                [],
                ["(ids)"],
                ["--json", "--help"],
                "15m 30m 1h 2h 4h 8h 1d 2d 7d".split(),
                [],
                ["check-config"],
                [],
                [h.config_path],
            ])
            h.stop_heedd()


    def test_completion_and_man_page_follow_the_table(self):
        """heed --help and every heed VERB --help are made from the verb
        table (and login's from the drivers): the bash completion and heed(1)
        must offer and document the same verbs, options and networks."""
        with Harness(dunst=False) as h:
            overview = self.heed_ok(h, "--help")
            listing = overview.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
            verbs = re.findall(r"^  ([a-z][a-z-]*)", listing, re.M)
            self.assertGreaterEqual(len(verbs), 14, overview)
            comp = os.path.join(source_dir(), "data", "bash-completion", "heed")
            script = 'source "$1"; shift\n' + COMPLETE_SH.split("\n", 3)[3].split("complete_for heed ''")[0]
            lines = ["complete_for heed ''", "complete_for heed login ''"]
            lines += [f"complete_for heed {verb} --" for verb in verbs]
            p = h.run(["bash", "--norc", "--noprofile", "-c", script + "\n".join(lines), "bash", comp], env=h.env)
            self.assertEqual((p.returncode, p.stderr), (0, ""))
            got = [line.rstrip("|").split() for line in p.stdout.splitlines()]
            self.assertEqual(got[0], verbs, "the completion offers the verbs of heed --help, in order")
            networks = re.findall(r"heed login ([a-z]+)", self.heed_ok(h, "login", "--help"))
            self.assertEqual(got[1], networks, "the completion offers the networks of heed login --help")
            for verb, offered in zip(verbs, got[2:]):
                usage = self.heed_ok(h, verb, "--help")
                options = list(dict.fromkeys(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", usage)))
                want = options + ["--help"] if verb != "help" else options
                self.assertEqual(offered, want, f"completion of heed {verb} --")
            heed_man = read_source("docs", "man", "heed.1")
            for verb in verbs:
                roff = re.escape(verb.replace("-", "\\-"))
                self.assertRegex(heed_man, rf"\n\.B[IR]? \"?{roff}\b", f"heed(1) documents {verb!r}")
            for network in networks:
                self.assertRegex(heed_man, rf"\n\.B[IR]? \"?login {network}\b", f"heed(1) documents login {network}")


class ControlSocket(CLITestCase):
    def test_other_user_refused(self):
        if os.geteuid() != 0:
            self.fail("this test runs a client as user nobody and must run as root")
        with Harness(dunst=False) as h:
            self.watching(h, test_hooks=False)
            # A copy of heed that nobody can run, wherever the build lives.
            bindir = tempfile.mkdtemp(prefix="heed-cli-bin-")
            try:
                os.chmod(bindir, 0o755)
                exe = os.path.join(bindir, "heed")
                shutil.copy2(os.path.join(build_dir(), "heed"), exe)
                os.chmod(exe, 0o755)

                def as_nobody(*args):
                    env = dict(h.env, HOME="/nonexistent")
                    return subprocess.run([exe, *args], env=env, capture_output=True, text=True, timeout=15,
                                          user=65534, group=65534, extra_groups=[], cwd="/")

                # As installed: the 0700 runtime directory keeps others out.
                p = as_nobody("list")
                self.assertNotEqual(p.returncode, 0, p.stdout)
                self.assertEqual(p.stdout, "")
                self.assertRegex(p.stderr, r"(?i)^heed: .*permission denied.*\n$")

                # With the directory and socket opened up, the daemon's own
                # SO_PEERCRED check refuses the other uid.
                run = h.env["XDG_RUNTIME_DIR"]
                paths = [h.tmp, run, os.path.join(run, "heed")]
                modes = {p_: os.stat(p_).st_mode & 0o7777 for p_ in paths + [h.control_socket()]}
                try:
                    for p_ in paths:
                        os.chmod(p_, 0o711)
                    os.chmod(h.control_socket(), 0o666)
                    p = as_nobody("list", "--json")
                    self.assertEqual(p.returncode, 1, p.stderr)
                    self.assertEqual(p.stdout, "")
                    self.assertEqual(p.stderr, "heed: permission denied\n")
                finally:
                    for p_, mode in modes.items():
                        os.chmod(p_, mode)
            finally:
                shutil.rmtree(bindir, ignore_errors=True)
            self.assertEqual(len(h.heed_list()), 3, "heedd still answers its user")
            h.stop_heedd()

    def test_status_for_bars_and_scripts(self):
        """heed status --json says {"running": false} with exit 3 when heedd
        is down; --format waybar/polybar/i3blocks print one line; --follow
        prints a new line when heedd says something changed (a mention
        handled) and says "down" when heedd stops."""
        with Harness(dunst=False) as h:
            rc, out, err = h.heed("status", "--json")
            self.assertEqual(rc, 3, err)
            self.assertEqual(json.loads(out)["running"], False)
            rc, out, err = h.heed("status", "--format", "waybar")
            self.assertEqual(rc, 3)
            self.assertEqual(json.loads(out)["class"], "down")
            fake, ms = self.watching(h, test_hooks=False)
            rc, out, err = h.heed("status", "--json")
            self.assertEqual(rc, 0, err)
            self.assertEqual(json.loads(out)["running"], True)
            rc, out, err = h.heed("status", "--format", "waybar")
            self.assertEqual(rc, 0, err)
            bar = json.loads(out)
            self.assertRegex(bar["text"], r"^3 · ", bar)
            self.assertIn(bar["class"], ("waiting", "critical"), bar)
            self.assertIn("3 people waiting", bar["tooltip"])
            rc, out, err = h.heed("status", "--format", "polybar")
            self.assertEqual(out.count("\n"), 1)
            self.assertTrue(out.startswith("3 · "), out)

            p = subprocess.Popen([os.path.join(build_dir(), "heed"), "status", "--format", "waybar", "--follow"],
                                 env=h.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                first = json.loads(p.stdout.readline())
                self.assertRegex(first["text"], r"^3 · ")
                t0 = time.monotonic()
                self.assertEqual(h.heed("done", str(ms["alice"]["id"]))[0], 0)
                second = json.loads(p.stdout.readline())
                self.assertLess(time.monotonic() - t0, 3.0, "the change came late: polling?")
                self.assertRegex(second["text"], r"^2 · ", second)
                h.stop_heedd()
                third = json.loads(p.stdout.readline())
                self.assertEqual(third["class"], "down", third)
            finally:
                p.kill()
                p.wait(5)
                p.stdout.close()
                p.stderr.close()

    def test_daemon_bounds_numbers_itself(self):
        """The CLI checks durations and day counts, but the socket is open
        to any program of the user's: heedd refuses numbers out of range
        itself, and stays well."""
        with Harness(dunst=False) as h:
            self.watching(h, test_hooks=False)
            mid = h.heed_list()[0]["id"]
            bad = [("snooze", {"id": mid, "seconds": 2 ** 62}), ("snooze", {"id": mid, "seconds": -5}),
                   ("snooze", {"id": mid, "seconds": "soon"}), ("stats", {"days": 2 ** 62}),
                   ("stats", {"days": -1}), ("list", {"limit": -3}), ("list", {"limit": 1.5})]
            for cmd, args in bad:
                with self.assertRaises(AssertionError, msg=f"{cmd} {args} must be refused") as cm:
                    h.control(cmd, args)
                self.assertRegex(str(cm.exception), r"must be a whole number from", f"{cmd} {args}")
            self.assertEqual(h.control("stats", {"days": 3})["days"], 3)
            self.assertIn("snoozed_until", h.control("snooze", {"id": mid, "seconds": 60}))
            self.assertTrue(h.heedd_running())
            self.assertEqual(h.control("status")["total"], 3, "nothing was lost or changed by the refusals")
            h.stop_heedd()

    def test_oversize_idle_and_greedy_clients(self):
        with Harness(dunst=False) as h:
            self.watching(h, test_hooks=False)
            sock = h.control_socket()
            st = os.stat(os.path.dirname(sock))
            self.assertEqual(st.st_mode & 0o777, 0o700, "socket directory is 0700")
            self.assertEqual(os.stat(sock).st_mode & 0o777, 0o600, "socket is 0600")

            # A 100 KB request line: an error answer, then the connection closes.
            c = RawClient(sock)
            c.send(b'{"cmd": "list", "args": {"pad": "' + b"x" * 100_000 + b'"}}\n')
            a = c.answer()
            self.assertFalse(a["ok"])
            self.assertIn("too large", a["error"])
            c.close()
            self.assertEqual(len(h.heed_list()), 3, "the next client is served")

            # Malformed lines get an error answer; the connection stays usable.
            c = RawClient(sock)
            c.send(b"this is not json\n")
            self.assertFalse(c.answer()["ok"])
            c.send(b'{"cmd": 42}\n')
            self.assertFalse(c.answer()["ok"])
            self.assertFalse(c.request("no-such-command")["ok"])
            self.assertTrue(c.request("status")["ok"])
            c.close()

            # Clients that connect and say nothing, or send half a line, do not
            # hold anyone up.
            idle = [RawClient(sock) for _ in range(5)]
            self.addCleanup(lambda: [c.close() for c in idle])
            idle[0].send(b'{"cmd": "li')
            # One that pipelines requests and never reads its answers.
            greedy = RawClient(sock)
            self.addCleanup(greedy.close)
            greedy.sock.setblocking(False)
            sent = 0
            try:
                while sent < 20000:
                    greedy.sock.send(b'{"cmd": "list", "args": {"all": true}}\n')
                    sent += 1
            except BlockingIOError:
                pass
            started = time.monotonic()
            listed = h.heed_list()
            self.assertEqual(len(listed), 3)
            self.assertLess(time.monotonic() - started, 3, "heed list answered promptly")

            # Several clients at once get the same answer.
            exe = os.path.join(build_dir(), "heed")
            procs = [subprocess.Popen([exe, "list", "--json"], env=h.env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(8)]
            outs = [p.communicate(timeout=15) for p in procs]
            self.assertEqual([p.returncode for p in procs], [0] * 8, [o[1] for o in outs])
            self.assertEqual({tuple(m["id"] for m in json.loads(o[0])) for o in outs},
                             {tuple(m["id"] for m in listed)})
            for c in idle + [greedy]:
                c.close()
            self.assertTrue(h.heedd_running())
            self.assertEqual(len(h.heed_list()), 3)
            h.stop_heedd()


if __name__ == "__main__":
    main()
