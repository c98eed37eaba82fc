#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Resource faults: a full or small state filesystem, an unwritable state
directory, a notification server that hangs, and clock jumps.

  - Full filesystem (a 2 MiB tmpfs as XDG_STATE_HOME, filled with a file
    while heedd runs): a clear error in the log naming the database and the
    problem, heedd stays up and answers, no corruption, and the mentions
    that arrived meanwhile are stored once the filler is removed. Started
    on a full filesystem: a clear error, and a clean start once there is
    room again.
  - Small filesystem (a 3 MiB tmpfs, no filler): a catch-up whose data fits
    several times over must be stored; the write-ahead log must not eat the
    filesystem.
  - Unwritable state directory at start (a file where the directory should
    be; a 0500 directory or a read-only database for an unprivileged user,
    run through runuser, since root ignores permissions): heedd exits
    non-zero at once with a message naming the path.
  - A notification server that accepts Notify and never answers (a GDBus
    service written here): polling goes on and stores new mentions, heed
    status answers within a second, the systemd watchdog keeps being fed
    (NOTIFY_SOCKET bound by the test, WATCHDOG_USEC=2 s), and heedd stops
    within the unit's TimeoutStopSec.
  - Clock jumps through the injected clock (HEED_TEST_HOOKS=1,
    {"cmd":"test-clock"}): three days forward (a suspend) brings no burst of
    polls, no repeated popup and no back-to-back reminders; polling keeps
    its pace after jumps either way, and a rate-limit reset seen after the
    clock went back does not park the account for days.

Mounts and extra processes are cleaned up even when a test fails.
"""

import collections
import datetime as _dt
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fakenet import iso_us  # noqa: E402
from harness import PYTHON, Harness, build_dir, main, source_dir  # noqa: E402

SCORE = {"threshold_normal": 10, "threshold_critical": 95}


# ------------------------------------------------------------ helpers


class Tmpfs:
    """A tmpfs of the given size mounted on a fresh directory; unmounted by close()."""

    def __init__(self, parent, size):
        self.path = tempfile.mkdtemp(prefix="heed-statefs-", dir=parent)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", self.path], check=True)
        self.mounted = True
        self.filler = os.path.join(self.path, "filler")

    def fill(self):
        """Write a file until the filesystem is full; returns its size."""
        chunk = b"\0" * 65536
        n = 0
        with open(self.filler, "ab", buffering=0) as f:
            for size in (65536, 4096, 512, 1):
                while True:
                    try:
                        n += f.write(chunk[:size])
                    except OSError:
                        break
        return n

    def free(self):
        if os.path.exists(self.filler):
            os.unlink(self.filler)

    def avail(self):
        st = os.statvfs(self.path)
        return st.f_bavail * st.f_frsize

    def close(self):
        if self.mounted:
            r = subprocess.run(["umount", self.path], capture_output=True)
            if r.returncode != 0:
                subprocess.run(["umount", "-l", self.path], capture_output=True)
            self.mounted = False
        shutil.rmtree(self.path, ignore_errors=True)


def db_file(state_home):
    return os.path.join(state_home, "heed", "heed.db")


def integrity(path):
    con = sqlite3.connect(path, timeout=10)
    try:
        return [r[0] for r in con.execute("PRAGMA integrity_check")]
    finally:
        con.close()


def stored_texts(h):
    return [m["text"] for m in h.heed_list()]


def timed_status(h):
    t = time.monotonic()
    rc, out, err = h.heed("status", "--json", timeout=10)
    return rc, time.monotonic() - t, out, err


HUNG_SERVER = r'''
import sys
from gi.repository import Gio, GLib

XML = """<node><interface name="org.freedesktop.Notifications">
<method name="GetCapabilities"><arg type="as" direction="out"/></method>
<method name="Notify"><arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
<arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
<arg type="a{sv}" direction="in"/><arg type="i" direction="in"/><arg type="u" direction="out"/></method>
<method name="CloseNotification"><arg type="u" direction="in"/></method>
<method name="GetServerInformation"><arg type="s" direction="out"/><arg type="s" direction="out"/>
<arg type="s" direction="out"/><arg type="s" direction="out"/></method>
<signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
<signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
</interface></node>"""

mode = sys.argv[1]          # "notify": only Notify hangs; "all": every call hangs
held = []                   # invocations never answered (kept alive on purpose)


def on_call(conn, sender, path, iface, method, params, inv):
    if method == "Notify" or mode == "all":
        held.append(inv)
        print("held", method, len(held), flush=True)
        return
    if method == "GetCapabilities":
        inv.return_value(GLib.Variant("(as)", (["body", "body-markup", "actions"],)))
    elif method == "GetServerInformation":
        inv.return_value(GLib.Variant("(ssss)", ("hung", "heed-tests", "1", "1.2")))
    elif method == "CloseNotification":
        inv.return_value(None)
    else:
        inv.return_dbus_error("org.freedesktop.DBus.Error.UnknownMethod", method)


bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
node = Gio.DBusNodeInfo.new_for_xml(XML)
bus.register_object("/org/freedesktop/Notifications", node.interfaces[0], on_call, None, None)
Gio.bus_own_name_on_connection(bus, "org.freedesktop.Notifications", Gio.BusNameOwnerFlags.NONE, None, None)
print("ready", flush=True)
GLib.MainLoop().run()
'''


class NotifySocket:
    """The systemd side of sd_notify: a datagram socket that records messages."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.messages = []        # (monotonic time, text)
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            self.messages.append((time.monotonic(), data.decode(errors="replace")))

    def count(self, text, since=0.0):
        return sum(1 for t, m in list(self.messages) if t >= since and text in m.split("\n"))

    def close(self):
        self._stop.set()
        self._t.join(2)
        self.sock.close()


def unit_timeout_stop_s():
    with open(os.path.join(source_dir(), "systemd", "heed.service.in")) as f:
        m = re.search(r"^TimeoutStopSec=(\d+)s?$", f.read(), re.M)
    return int(m.group(1)) if m else 90


# ------------------------------------------------------------ tests


class FullFilesystem(unittest.TestCase):
    def mount(self, h, size):
        # Outside the harness's directory, which is removed before cleanups run.
        fs = Tmpfs(None, size)
        self.addCleanup(fs.close)
        h.env["XDG_STATE_HOME"] = fs.path
        return fs

    def test_filesystem_fills_while_running(self):
        with Harness(notification_server="dbusmock", time_limit=150) as h:
            fs = self.mount(h, "2m")
            fake = h.mastodon(rate_limit=1_000_000)
            h.write_config([h.mastodon_account(fake, catchup_max_pages=100)], poll_interval=1)
            try:
                h.start_heedd()
                h.wait_polls(fake, 1, timeout=15)
                fake.add_many(3, text="<p>before full {i} fsbefore</p>")
                h.wait_until(lambda: sum("fsbefore" in t for t in stored_texts(h)) == 3, 15, "3 mentions stored")

                filled = fs.fill()
                self.assertLess(fs.avail(), 8192, "the filesystem is full")
                # ~300 KB of new mentions: more than the WAL can take without growing.
                fake.add_many(40, text="<p>while full {i} fsduring " + "padding text " * 600 + "</p>")
                db = db_file(fs.path)
                h.wait_until(lambda: re.search(r"(disk is full|No space left)", h.heedd_log(-1)), 20,
                             lambda: "a disk-full error in the log:\n" + h.heedd_log(-1)[-2000:])
                lines = [ln for ln in h.heedd_log(-1).splitlines() if re.search(r"disk is full|No space", ln)]
                self.assertTrue(any(db in ln for ln in lines), f"the error names the database {db}: {lines}")
                # Still up, still answering.
                h.pause(2)
                for _ in range(3):
                    rc, dt, out, err = timed_status(h)
                    self.assertEqual(rc, 0, err)
                    self.assertLess(dt, 1.0, "heed status answers within 1 s on a full disk")
                st = json.loads(out)
                self.assertTrue(any(a.get("error") and "full" in a["error"] for a in st["accounts"]),
                                f"heed status shows the problem: {st['accounts']}")
                self.assertTrue(h.heedd_running())

                fs.free()
                h.wait_until(lambda: sum("fsduring" in t for t in stored_texts(h)) == 40, 60,
                             lambda: "the 40 mentions stored after space returned:\n" + h.heedd_log(-1)[-1500:],
                             interval=0.5)
                h.wait_until(lambda: all(a["health"] == "ok" for a in h.control("status")["accounts"]), 10,
                             "the account healthy again")
                h.stop_heedd()
                print(f"\nfiller {filled} bytes; error lines: {lines[:2]}", file=sys.stderr)
                self.assertEqual(integrity(db), ["ok"])
                con = sqlite3.connect(db)
                dup = con.execute("SELECT remote_id FROM mention GROUP BY remote_id HAVING count(*) > 1").fetchall()
                n = con.execute("SELECT count(*) FROM mention").fetchone()[0]
                con.close()
                self.assertEqual(dup, [])
                self.assertEqual(n, 43)
            finally:
                h._close_heedd()

    def test_start_on_full_filesystem(self):
        with Harness(dunst=False, time_limit=120) as h:
            fs = self.mount(h, "2m")
            fake = h.mastodon(rate_limit=1_000_000)
            h.write_config([h.mastodon_account(fake)], poll_interval=1)
            try:
                # (a) No database yet, nothing can be created.
                fs.fill()
                h.start_heedd(wait_ready=False)
                try:
                    rc = h.heedd.wait(10)
                except subprocess.TimeoutExpired:
                    rc = None
                h.heedd_expected_dead = True
                log = h.heedd_log(-1)
                if rc is None:
                    # Staying up is fine too, if it says why it cannot work.
                    self.assertRegex(log, r"disk is full|No space left", "a clear error while it runs")
                    h._close_heedd()
                else:
                    self.assertNotEqual(rc, 0, "heedd cannot work without its database")
                    self.assertRegex(log, r"disk is full|No space left|cannot", log)
                    self.assertIn(os.path.join(fs.path, "heed"), log, "the message names the path")

                # (b) A database exists; the disk is full at start.
                fs.free()
                h.start_heedd()
                h.wait_polls(fake, 1, timeout=15)
                h.stop_heedd()
                fs.fill()
                fake.add_many(20, text="<p>start full {i} fsstart " + "padding " * 500 + "</p>")
                h.start_heedd(wait_ready=False)
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and h.heedd.poll() is None \
                        and not re.search(r"disk is full|No space left", h.heedd_log(-1)):
                    time.sleep(0.2)
                log = h.heedd_log(-1)
                self.assertRegex(log, r"disk is full|No space left",
                                 "a clear disk-full error (exit or log):\n" + log[-2000:])
                if h.heedd.poll() is not None:
                    self.assertNotEqual(h.heedd.returncode, 0)
                    h.heedd_expected_dead = True
                else:
                    rc, dt, out, err = timed_status(h)
                    self.assertEqual(rc, 0, err)
                    self.assertLess(dt, 1.0)
                fs.free()
                if h.heedd.poll() is not None:
                    h.start_heedd()          # what Restart=on-failure does
                h.wait_until(lambda: sum("fsstart" in t for t in stored_texts(h)) == 20, 60,
                             "the mentions stored once there is room", interval=0.5)
                h.stop_heedd()
                self.assertEqual(integrity(db_file(fs.path)), ["ok"])
            finally:
                h._close_heedd()

    def test_small_filesystem_catch_up(self):
        """3 MiB of room, about 0.6 MB of mentions: they fit several times
        over, so none may be lost to a write-ahead log that is never
        checkpointed (SQLite checkpoints only at 1000 pages, 4 MB)."""
        with Harness(notification_server="dbusmock", time_limit=150) as h:
            fs = self.mount(h, "3m")
            fake = h.mastodon(rate_limit=1_000_000)
            fake.add_mention(text_html="<p>first</p>")
            h.write_config([h.mastodon_account(fake, catchup_max_pages=100)], poll_interval=1)
            try:
                h.start_heedd()
                h.wait_polls(fake, 1, timeout=15)
                h.stop_heedd()
                n = 1000
                fake.add_many(n, text="<p>small fs {i} fssmall " + "lorem ipsum " * 40 + "</p>")
                h.start_heedd()
                db = db_file(fs.path)

                def stored():
                    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
                    try:
                        return con.execute("SELECT count(*) FROM mention").fetchone()[0]
                    finally:
                        con.close()
                try:
                    h.wait_until(lambda: stored() >= n + 1, 45, "the whole catch-up stored", interval=0.5)
                except AssertionError as e:
                    sizes = {p: os.path.getsize(os.path.join(fs.path, "heed", p))
                             for p in os.listdir(os.path.join(fs.path, "heed"))}
                    self.fail(f"{e}\nstored {stored()} of {n + 1}; files: {sizes}; "
                              f"free {fs.avail()} bytes\n" + h.heedd_log(-1)[-1500:])
                h.stop_heedd()
                self.assertEqual(integrity(db), ["ok"])
            finally:
                h._close_heedd()


    def test_small_filesystem_long_run(self):
        """1 MiB of room and a small database: heedd must keep working. Every
        poll commits its cursor (one page of write-ahead log), and SQLite
        checkpoints the log only at 1000 pages (4 MB), so a log that is never
        checkpointed fills a small filesystem with pages it no longer needs,
        after which nothing can be stored until heedd is restarted. Eight
        accounts polling every second make an hour of that take seconds."""
        with Harness(notification_server="dbusmock", time_limit=150) as h:
            fs = self.mount(h, "1m")
            fake = h.mastodon(rate_limit=1_000_000)
            accounts = [h.mastodon_account(fake, name=f"a{i}") for i in range(8)]
            h.write_config(accounts, poll_interval=1)
            db = db_file(fs.path)
            wal = db + "-wal"
            try:
                h.start_heedd()
                h.wait_polls(fake, 8, timeout=15)
                for k in range(8):
                    fake.add_mention(acct=f"p{k}@fake.social", text_html=f"<p>fslong {k} still here?</p>")
                    h.pause(5)
                fake.add_mention(acct="last@fake.social", text_html="<p>fslong final</p>")

                def final_stored():
                    return sum("fslong final" in t for t in stored_texts(h)) == 8
                try:
                    h.wait_until(final_stored, 15, "the last mention stored for all 8 accounts", interval=0.5)
                except AssertionError as e:
                    full = [ln for ln in h.heedd_log(-1).splitlines() if "full" in ln]
                    self.fail(f"{e}\nwrite-ahead log {os.path.getsize(wal) if os.path.exists(wal) else None} "
                              f"bytes, database {os.path.getsize(db)} bytes, {fs.avail()} bytes free; "
                              f"{len(full)} disk-full lines, first: {full[:1]}")
                self.assertNotIn("disk is full", h.heedd_log(-1))
                h.stop_heedd()
                self.assertEqual(integrity(db), ["ok"])
            finally:
                h._close_heedd()


class UnwritableState(unittest.TestCase):
    def test_state_dir_is_a_file(self):
        with Harness(dunst=False, time_limit=60) as h:
            fake = h.mastodon()
            h.write_config([h.mastodon_account(fake)])
            state = os.path.join(h.env["XDG_STATE_HOME"], "heed")
            with open(state, "w") as f:
                f.write("not a directory\n")
            h.start_heedd(wait_ready=False)
            rc = h.heedd.wait(10)
            h.heedd_expected_dead = True
            log = h.heedd_log(-1)
            self.assertNotEqual(rc, 0, log)
            self.assertIn(state, log, "the message names the path")
            self.assertRegex(log, r"(?i)not a directory|exists|cannot", log)
            self.assertEqual(fake.polls(None), [], "nothing is polled without a store")

    def run_as_nobody(self, setup):
        """Run heedd as nobody in a tree of its own; setup(root, state_dir)
        prepares it. Returns (exit status or None if it kept running, stderr)."""
        root = tempfile.mkdtemp(prefix="heed-nobody-")
        try:
            home = os.path.join(root, "home")
            dirs = {"HOME": home, "XDG_CONFIG_HOME": os.path.join(home, ".config"),
                    "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
                    "XDG_RUNTIME_DIR": os.path.join(root, "run")}
            for d in dirs.values():
                os.makedirs(d, exist_ok=True)
            conf = os.path.join(dirs["XDG_CONFIG_HOME"], "heed.conf")
            with open(conf, "w") as f:
                f.write("[heed]\npoll_interval = 1\n")
            state = os.path.join(dirs["XDG_STATE_HOME"], "heed")
            os.makedirs(state)
            for dirpath, dirnames, filenames in os.walk(root):
                for n in dirnames + filenames:
                    os.chown(os.path.join(dirpath, n), 65534, 65534)
            os.chown(root, 65534, 65534)
            os.chmod(dirs["XDG_RUNTIME_DIR"], 0o700)
            setup(root, state)
            env = ["env", "-i", "PATH=/usr/bin:/bin", "LANG=C.UTF-8"] + [f"{k}={v}" for k, v in dirs.items()]
            argv = ["runuser", "-u", "nobody", "--"] + env + [os.path.join(build_dir(), "heedd"), "--config",
                                                              conf, "--verbose"]
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, start_new_session=True)
            try:
                out, err = p.communicate(timeout=8)
                return p.returncode, err, state
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                out, err = p.communicate(timeout=5)
                return None, err, state
        finally:
            subprocess.run(["chmod", "-R", "u+rwX", root])
            shutil.rmtree(root, ignore_errors=True)

    def test_state_dir_not_writable(self):
        def setup(root, state):
            os.chmod(state, 0o500)
        rc, err, state = self.run_as_nobody(setup)
        self.assertIsNotNone(rc, "heedd kept running with a read-only state directory:\n" + err)
        self.assertNotEqual(rc, 0, err)
        self.assertIn(state, err, "the message names the state directory")
        self.assertRegex(err, r"(?i)not writable|permission denied", err)

    def test_database_not_writable(self):
        """The directory is writable but heed.db is read-only (restored from
        a backup, say): heedd must say so at start, not run and lose every
        mention it fetches."""
        def setup(root, state):
            db = os.path.join(state, "heed.db")
            # heedd makes the database (as root), then it is handed over read-only.
            env = dict(os.environ, XDG_STATE_HOME=os.path.dirname(state),
                       XDG_RUNTIME_DIR=os.path.join(root, "run"), XDG_CONFIG_HOME=os.path.join(root, "cfg"))
            os.makedirs(env["XDG_CONFIG_HOME"], exist_ok=True)
            conf = os.path.join(env["XDG_CONFIG_HOME"], "heed.conf")
            with open(conf, "w") as f:
                f.write("[heed]\n")
            p = subprocess.Popen([os.path.join(build_dir(), "heedd"), "--config", conf], env=env,
                                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 start_new_session=True)
            deadline = time.monotonic() + 10
            while not os.path.exists(os.path.join(env["XDG_RUNTIME_DIR"], "heed", "control.sock")):
                if time.monotonic() > deadline or p.poll() is not None:
                    break
                time.sleep(0.05)
            p.terminate()
            p.wait(10)
            shutil.rmtree(os.path.join(env["XDG_RUNTIME_DIR"], "heed"), ignore_errors=True)
            for dirpath, dirnames, filenames in os.walk(root):
                for n in dirnames + filenames:
                    os.chown(os.path.join(dirpath, n), 65534, 65534)
            os.chmod(db, 0o400)
        rc, err, state = self.run_as_nobody(setup)
        self.assertIsNotNone(rc, "heedd kept running with a read-only database:\n" + err)
        self.assertNotEqual(rc, 0, err)
        self.assertIn(os.path.join(state, "heed.db"), err, "the message names the database")
        self.assertRegex(err, r"(?i)read-?only|not writable|permission", err)


class HungNotificationServer(unittest.TestCase):
    def start_hung_server(self, h, mode="notify"):
        script = h.path("hung_server.py")
        with open(script, "w") as f:
            f.write(HUNG_SERVER)
        log = open(h.path("logs", "hung-server.log"), "ab")
        p = subprocess.Popen([PYTHON, script, mode], env=h.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                             start_new_session=True)
        log.close()

        def stop():
            if p.poll() is None:
                os.killpg(p.pid, 9)
                p.wait(5)
        self.addCleanup(stop)
        h.wait_until(lambda: h.name_has_owner(), 10, "the hung server to own org.freedesktop.Notifications",
                     interval=0.05)
        return p

    def test_hung_server_does_not_stall_heedd(self):
        with Harness(notification_server="none", time_limit=170) as h:
            self.start_hung_server(h, "notify")
            fake = h.mastodon(rate_limit=1_000_000)
            h.write_config([h.mastodon_account(fake)], poll_interval=1, score=SCORE)
            sd = NotifySocket(h.path("notify.sock"))
            self.addCleanup(sd.close)
            h.start_heedd(env={"NOTIFY_SOCKET": sd.path, "WATCHDOG_USEC": "2000000"})
            h.wait_polls(fake, 1, timeout=15)
            h.wait_until(lambda: sd.count("READY=1"), 5, "READY=1")

            fake.add_mention(acct="a@fake.social", display_name="A", text_html="<p>first hungtest one?</p>")
            h.wait_until(lambda: h.notify_calls(False), 15, "a Notify call to the hung server")
            self.assertIsNone(h.notify_calls(False)[0].id, "the server never answered")

            # While the call hangs (libnotify waits ~25 s), everything else goes on.
            t0 = time.monotonic()
            polls0 = len(fake.polls())
            for i in range(3):
                fake.add_mention(acct=f"b{i}@fake.social", display_name=f"B{i}",
                                 text_html=f"<p>during the hang hungtest {i}?</p>")
            h.wait_until(lambda: sum("hungtest" in t for t in stored_texts(h)) == 4, 10,
                         "new mentions stored while the server hangs", interval=0.3)
            slow = []
            for _ in range(5):
                rc, dt, out, err = timed_status(h)
                self.assertEqual(rc, 0, err)
                if dt >= 1.0:
                    slow.append(dt)
                time.sleep(0.3)
            self.assertEqual(slow, [], "heed status took a second or more while the server hung")
            h.pause(max(0.0, 10 - (time.monotonic() - t0)))
            window = time.monotonic() - t0
            pings = sd.count("WATCHDOG=1", since=t0)
            polls = len(fake.polls()) - polls0
            self.assertGreaterEqual(pings, 5, f"WATCHDOG=1 {pings} times in {window:.1f} s")
            self.assertGreaterEqual(polls, 5, f"{polls} polls in {window:.1f} s while the server hung")
            self.assertTrue(all(n.id is None for n in h.notify_calls(False)), "nothing was answered")
            print(f"\nduring the hang: {pings} watchdog pings, {polls} polls in {window:.1f} s; "
                  f"{len(h.notify_calls(False))} Notify calls pending", file=sys.stderr)

            # Stopping must not wait for the hung calls beyond what systemd allows.
            limit = unit_timeout_stop_s()
            t1 = time.monotonic()
            h.heedd_expected_dead = True
            h.heedd.terminate()
            try:
                rc = h.heedd.wait(limit + int(os.environ.get("HEED_STOP_EXTRA", "5")))
            except subprocess.TimeoutExpired:
                rc = None
            took = time.monotonic() - t1
            self.assertIsNotNone(rc, f"heedd did not stop within {limit + 5} s of SIGTERM")
            self.assertLess(took, limit, f"heedd took {took:.1f} s to stop; systemd kills it after "
                                         f"TimeoutStopSec={limit}s")
            self.assertEqual(rc, 0)


class ClockJumps(unittest.TestCase):
    def start(self, h):
        fake = h.mastodon(rate_limit=1_000_000)
        h.write_config([h.mastodon_account(fake)], poll_interval=1, score=SCORE)
        h.start_heedd(test_hooks=True)
        h.wait_polls(fake, 2, timeout=15)
        return fake

    def poll_rate(self, h, fake, seconds):
        n0 = len(fake.polls())
        h.pause(seconds)
        return (len(fake.polls()) - n0) / seconds

    def test_suspend_for_three_days(self):
        with Harness(notification_server="dbusmock", time_limit=120) as h:
            fake = self.start(h)
            for i in range(2):
                fake.add_mention(acct=f"w{i}@fake.social", display_name=f"Waiter {i}",
                                 text_html=f"<p>clockjump {i}: are you there?</p>")
            h.wait_until(lambda: len(h.shown("clockjump")) == 2, 15, "two popups")
            before = self.poll_rate(h, fake, 4)

            t_jump = time.monotonic()
            n_polls = len(fake.polls())
            h.advance_clock(3 * 86400)
            h.pause(1.0)
            burst = len(fake.polls()) - n_polls
            after = self.poll_rate(h, fake, 4)
            h.pause(2)
            calls = [n for n in h.notify_calls(False) if "clockjump" in n.summary + n.body]
            firsts = collections.Counter(re.search(r"clockjump (\d)", n.body).group(1) for n in calls
                                         if not n.summary.startswith("Still waiting"))
            reminders = collections.Counter(re.search(r"clockjump (\d)", n.body).group(1) for n in calls
                                            if n.summary.startswith("Still waiting") and n.time >= t_jump)
            print(f"\npolls/s before {before:.2f}, after {after:.2f}, in the first second {burst}; "
                  f"reminders {dict(reminders)}", file=sys.stderr)
            self.assertLessEqual(burst, 3, "a burst of polls after the jump")
            self.assertGreater(after, before / 2, "polling slowed down after the jump")
            self.assertLess(after, before * 2 + 0.5, "polling sped up after the jump")
            self.assertEqual([k for k, c in firsts.items() if c > 1], [], "a popup was shown again")
            self.assertEqual(set(reminders), {"0", "1"}, "each waiting mention is reminded after 3 days:\n"
                             + h.describe_notifications())
            self.assertEqual([k for k, c in reminders.items() if c > 1], [],
                             "several reminders at once for one mention after the jump:\n"
                             + h.describe_notifications())
            h.stop_heedd()

    def test_clock_back_and_forth_keeps_polling(self):
        with Harness(dunst=False, time_limit=120) as h:
            fake = self.start(h)
            before = self.poll_rate(h, fake, 3)
            for jump in (-3 * 86400, 3 * 86400, -3600, 7 * 86400, -7 * 86400):
                h.advance_clock(jump)
                rate = self.poll_rate(h, fake, 2)
                self.assertGreater(rate, before / 3, f"polling stalled after a jump of {jump} s")
            h.stop_heedd()

    def rate_limit_after_clock_went_back(self, network):
        """The clock went back three days (a wrong RTC corrected by NTP).
        A 429 whose rate-limit reset is two seconds away must delay the
        next poll by seconds, not by days."""
        with Harness(dunst=False, time_limit=90) as h:
            soon = time.time() + 2
            if network == "mastodon":
                fake = h.mastodon(rate_limit=1_000_000)
                acc = h.mastodon_account(fake)
                fault = dict(path="/api/v1/notifications", headers={
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": iso_us(_dt.datetime.fromtimestamp(soon, _dt.timezone.utc))})
            elif network == "x":
                from fake_x import FakeX
                fake = FakeX().start()
                h.fakes.append(fake)
                acc = {"name": "bird", "network": "x", "server": fake.base_url, "token": fake.token,
                       "ca_file": fake.ca_file}
                fault = dict(path="/mentions", headers={"x-rate-limit-remaining": "0",
                                                        "x-rate-limit-reset": str(int(soon))})
            else:
                from fake_bluesky import FakeBluesky, LIST
                fake = FakeBluesky().start()
                h.fakes.append(fake)
                acc = {"name": "sky", "network": "bluesky", "server": fake.base_url,
                       "identifier": fake.identifier, "token": fake.password, "ca_file": fake.ca_file}
                fault = dict(path=re.escape(LIST) + "$", headers={"RateLimit-Remaining": "0",
                                                                  "RateLimit-Reset": str(int(soon))})
            h.write_config([acc], poll_interval=1)
            h.start_heedd(test_hooks=True)
            h.wait_polls(fake, 2, timeout=15)
            h.advance_clock(-3 * 86400)
            h.wait_polls(fake, 1)
            fake.fail_next(1, status=429, **fault)
            h.wait_until(lambda: any(r.status == 429 for r in fake.requests), 10, "the 429")
            n = len(fake.polls())
            try:
                h.wait_until(lambda: len(fake.polls()) > n, 15, "a poll after the rate-limit reset")
            except AssertionError:
                st = h.control("status")
                a = st["accounts"][0]
                self.fail(f"{network}: no poll 15 s after a rate-limit reset 2 s away; heed status: next_poll "
                          f"{a.get('next_poll')} with heedd's clock at "
                          f"{_dt.datetime.fromtimestamp(st['now'], _dt.timezone.utc).isoformat()}")
            h.stop_heedd()

    def test_rate_limit_after_clock_went_back_mastodon(self):
        self.rate_limit_after_clock_went_back("mastodon")

    def test_rate_limit_after_clock_went_back_x(self):
        self.rate_limit_after_clock_went_back("x")

    def test_rate_limit_after_clock_went_back_bluesky(self):
        self.rate_limit_after_clock_went_back("bluesky")


if __name__ == "__main__":
    main()
