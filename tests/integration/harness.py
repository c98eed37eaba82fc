# SPDX-License-Identifier: MIT
"""harness: one private desktop + one heedd per test.

    with Harness() as h:                  # bus, Xvfb, dunst, bus monitor
        fake = h.mastodon()               # a started FakeMastodon, stopped at exit
        h.write_config([h.mastodon_account(fake)])
        h.start_heedd()
        ...
        h.wait_until(lambda: h.shown(), 10, "a notification")

What a Harness sets up, all under one temporary directory:
  - HOME, XDG_CONFIG_HOME, XDG_STATE_HOME, XDG_DATA_HOME, XDG_CACHE_HOME and
    XDG_RUNTIME_DIR (0700); the children's environment is built from
    scratch, so nothing of the caller's desktop leaks in;
  - a private session bus (dbus-daemon, unix:path=$XDG_RUNTIME_DIR/bus)
    whose config has an empty service directory: nothing is ever
    auto-activated, so "no notification server" really means none;
  - a BusMonitor recording every Notify call and its reply (notifications());
  - Xvfb on a free display and dunst with a test dunstrc (never times out,
    long history); Harness(dunst=False) starts without it, start_dunst()
    brings it up later;
  - heedd / heed from $HEED_BUILD_DIR, with logs kept per run.

At exit everything is killed (process groups), fake servers are stopped and
the directory is removed (kept with HEED_IT_KEEP=1). On failure the logs
are printed to stderr. A missing tool is an error, never a skip.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import busmonitor  # noqa: E402
import fakenet     # noqa: E402

PYTHON = "/usr/bin/python3"
REQUIRED_TOOLS = ["dbus-daemon", "dbus-monitor", "dbus-send", "Xvfb", "dunst", "dunstctl",
                  "busctl", "openssl"]


class HarnessTimeout(AssertionError):
    pass


def require_tools(tools=REQUIRED_TOOLS):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        raise RuntimeError("integration tests need these programs, which are missing: "
                           + ", ".join(missing) + " (run scripts/deps test)")


def source_dir():
    return os.environ.get("HEED_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))


def build_dir():
    d = os.environ.get("HEED_BUILD_DIR")
    if d:
        return d
    d = os.path.join(source_dir(), "build")
    if os.path.isdir(d):
        return d
    raise RuntimeError("HEED_BUILD_DIR is not set (ctest sets it; by hand: "
                       "HEED_BUILD_DIR=build /usr/bin/python3 tests/integration/test_x.py)")


def wait_until(predicate, timeout=20, interval=0.1, message=None, check=None):
    """Call predicate until it returns something truthy and return that.

    Exceptions from predicate count as "not yet" (the last one is shown if
    time runs out), except AssertionError, which fails at once. check, if
    given, is called on each round and may raise to stop waiting early
    (e.g. "heedd died"). message may be a string or a callable."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        if check:
            check()
        try:
            v = predicate()
            if v:
                return v
            last_exc = None
        except AssertionError:
            raise
        except Exception as e:  # noqa: BLE001 - reported below
            last_exc = e
        if time.monotonic() >= deadline:
            what = message() if callable(message) else (message or getattr(predicate, "__name__", "condition"))
            msg = f"timed out after {timeout:g} s waiting for: {what}"
            if last_exc is not None:
                msg += f"\n  last error: {type(last_exc).__name__}: {last_exc}"
            raise AssertionError(msg)
        time.sleep(interval)


def _killpg(proc, sig=signal.SIGKILL):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _read_line_from_fd(fd, timeout, what):
    deadline = time.monotonic() + timeout
    data = b""
    while b"\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0:
            raise RuntimeError(f"{what}: no answer within {timeout} s")
        r, _, _ = select.select([fd], [], [], left)
        if r:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
    return data.decode().strip()


BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <!-- empty: nothing is ever auto-activated (dunst's .service file is not seen) -->
  <servicedir>{servicedir}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""

DUNSTRC = """[global]
    monitor = 0
    follow = none
    width = 400
    height = 300
    origin = top-right
    offset = 10x50
    notification_limit = 0
    indicate_hidden = yes
    markup = full
    format = "<b>%s</b>\\n%b"
    font = Monospace 8
    icon_position = off
    sort = yes
    stack_duplicates = false
    show_age_threshold = -1
    idle_threshold = 0
    sticky_history = yes
    history_length = 1000
    dmenu = /bin/false
    browser = /bin/false
    always_run_script = false
    ignore_dbusclose = false
    mouse_left_click = close_current
    mouse_middle_click = do_action, close_current
    mouse_right_click = close_all

[urgency_low]
    timeout = 0

[urgency_normal]
    timeout = 0

[urgency_critical]
    timeout = 0
"""

# What test_actions.py asks of dbusmock by default: a server that draws
# buttons, renders markup and keeps notifications until they are handled.
MOCK_CAPABILITIES = "actions body body-markup persistence"

RECORDER = '''#!/usr/bin/python3
"""Stand-in for a browser: append the argv it was given as one JSON line."""
import json, os, sys
line = json.dumps(sys.argv[1:]) + "\\n"
fd = os.open({out!r}, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
os.write(fd, line.encode())
os.close(fd)
'''


class Harness:
    """See the module docstring. Keyword arguments:
    dunst       start dunst at once (default True)
    time_limit  seconds before the test is aborted with HarnessTimeout
                (default 90; 0 disables)
    notification_server
                "dunst" (the default, unless dunst=False), "dbusmock"
                (python3-dbusmock's notification_daemon template, which can
                emit ActionInvoked/NotificationClosed for any id and action:
                see mock_action() / mock_closed()) or "none"
    capabilities
                the dbusmock server's capabilities, a space-separated string
                (default MOCK_CAPABILITIES)
    """

    def __init__(self, dunst=True, time_limit=90, name=None, notification_server=None,
                 capabilities=None):
        require_tools()
        if notification_server is None:
            notification_server = "dunst" if dunst else "none"
        if notification_server not in ("dunst", "dbusmock", "none"):
            raise ValueError(f"unknown notification_server {notification_server!r}")
        self.notification_server = notification_server
        self.want_dunst = notification_server == "dunst"
        self.mock_capabilities = MOCK_CAPABILITIES if capabilities is None else capabilities
        self.dbusmock = None
        self._dbusmock_runs = 0
        self.time_limit = time_limit
        self.name = name or os.path.basename(sys.argv[0] or "test")
        self.tmp = None
        self.env = None
        self.bus = None
        self.bus_address = None
        self.xvfb = None
        self.display = None
        self.dunst = None
        self.monitor = None
        self.heedd = None
        self.heedd_runs = []        # [(stdout path, stderr path, argv)]
        self.heedd_expected_dead = True
        self.fakes = []
        self.config_path = None
        self._dunst_runs = 0
        self._old_alarm = None

    # ------------------------------------------------------------ lifecycle

    def __enter__(self):
        try:
            self._arm_time_limit()
            self._setup_dirs()
            self._start_bus()
            self.monitor = busmonitor.BusMonitor(
                self.bus_address, self.env, self.path("logs", "dbus-monitor.log")).start()
            self._start_xvfb()
            if self.want_dunst:
                self.start_dunst()
            elif self.notification_server == "dbusmock":
                self.start_dbusmock()
        except BaseException:
            self._report(sys.exc_info())
            self.close()
            raise
        return self

    def __exit__(self, etype, evalue, tb):
        if etype is not None or os.environ.get("HEED_IT_VERBOSE"):
            self._report((etype, evalue, tb))
        self.close()
        return False

    def close(self):
        self._disarm_time_limit()
        for step in (self._close_heedd, self.stop_dunst, self.stop_dbusmock, self._close_monitor,
                     self._close_xvfb, self._close_bus, self._close_fakes):
            try:
                step()
            except Exception:  # noqa: BLE001 - cleanup goes on
                traceback.print_exc()
        if self.tmp and not os.environ.get("HEED_IT_KEEP"):
            shutil.rmtree(self.tmp, ignore_errors=True)
        elif self.tmp:
            print(f"harness: kept {self.tmp}", file=sys.stderr)

    def _arm_time_limit(self):
        # SIGALRM can only be handled in the main thread; elsewhere rely on
        # ctest's own TIMEOUT.
        if not self.time_limit or threading.current_thread() is not threading.main_thread():
            return

        def on_alarm(signum, frame):
            raise HarnessTimeout(f"test exceeded its time limit of {self.time_limit} s")
        self._old_alarm = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self.time_limit)

    def _disarm_time_limit(self):
        if self._old_alarm is not None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._old_alarm)
            self._old_alarm = None

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def _setup_dirs(self):
        self.tmp = tempfile.mkdtemp(prefix="heed-it-")
        home = self.path("home")
        dirs = {
            "HOME": home,
            "XDG_CONFIG_HOME": os.path.join(home, ".config"),
            "XDG_STATE_HOME": os.path.join(home, ".local", "state"),
            "XDG_DATA_HOME": os.path.join(home, ".local", "share"),
            "XDG_CACHE_HOME": os.path.join(home, ".cache"),
            "XDG_RUNTIME_DIR": self.path("run"),
        }
        for d in list(dirs.values()) + [self.path("logs"), self.path("empty-services"),
                                        self.path("secrets")]:
            os.makedirs(d, exist_ok=True)
        for d in (dirs["XDG_RUNTIME_DIR"], self.path("secrets"), home):
            os.chmod(d, 0o700)
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "TZ": "UTC",
            "USER": os.environ.get("USER", "root"),
            "LOGNAME": os.environ.get("LOGNAME", os.environ.get("USER", "root")),
            "NO_AT_BRIDGE": "1",
            "GIO_USE_VFS": "local",
            "GSETTINGS_BACKEND": "memory",
        }
        # Sanitizer and debugging knobs pass through; desktop/session ones never do.
        for k, v in os.environ.items():
            if k.startswith(("ASAN_", "UBSAN_", "LSAN_", "MSAN_", "G_DEBUG", "G_MESSAGES", "VALGRIND")):
                env[k] = v
        env.update(dirs)
        self.env = env
        self.recorder_out = self.path("opened.jsonl")
        self.recorder = self.path("recorder.py")
        with open(self.recorder, "w") as f:
            f.write(RECORDER.format(out=self.recorder_out))
        os.chmod(self.recorder, 0o755)

    # ------------------------------------------------------------ bus

    def _start_bus(self):
        conf = self.path("bus.conf")
        sock = os.path.join(self.env["XDG_RUNTIME_DIR"], "bus")
        with open(conf, "w") as f:
            f.write(BUS_CONFIG.format(socket=sock, servicedir=self.path("empty-services")))
        r, w = os.pipe()
        log = open(self.path("logs", "dbus-daemon.log"), "ab")
        try:
            self.bus = subprocess.Popen(
                ["dbus-daemon", "--config-file=" + conf, "--nofork", f"--print-address={w}"],
                pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=self.env, start_new_session=True)
        finally:
            os.close(w)
            log.close()
        try:
            self.bus_address = _read_line_from_fd(r, 10, "dbus-daemon --print-address")
        finally:
            os.close(r)
        if not self.bus_address:
            raise RuntimeError("dbus-daemon printed no address; see " + self.path("logs", "dbus-daemon.log"))
        self.env["DBUS_SESSION_BUS_ADDRESS"] = self.bus_address

    def _close_bus(self):
        _killpg(self.bus, signal.SIGTERM)
        if self.bus:
            try:
                self.bus.wait(5)
            except subprocess.TimeoutExpired:
                _killpg(self.bus)
                self.bus.wait(5)

    def _close_monitor(self):
        if self.monitor:
            self.monitor.stop()

    def run(self, argv, timeout=15, check=False, input=None, env=None):
        """Run a helper with the harness environment; returns CompletedProcess (text)."""
        p = subprocess.run(argv, env=env or self.env, input=input, capture_output=True,
                           text=True, timeout=timeout,
                           stdin=None if input is not None else subprocess.DEVNULL)
        if check and p.returncode != 0:
            raise AssertionError(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr.strip()}")
        return p

    def name_has_owner(self, name="org.freedesktop.Notifications"):
        p = self.run(["dbus-send", "--session", "--print-reply=literal",
                      "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                      "org.freedesktop.DBus.NameHasOwner", "string:" + name], check=True)
        return "true" in p.stdout

    # ------------------------------------------------------------ X and dunst

    def _start_xvfb(self):
        r, w = os.pipe()
        log = open(self.path("logs", "Xvfb.log"), "ab")
        try:
            self.xvfb = subprocess.Popen(
                ["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x800x24",
                 "-nolisten", "tcp", "-noreset"],
                pass_fds=(w,), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                env=self.env, start_new_session=True)
        finally:
            os.close(w)
            log.close()
        try:
            num = _read_line_from_fd(r, 15, "Xvfb -displayfd")
        finally:
            os.close(r)
        if not num.isdigit():
            raise RuntimeError("Xvfb did not start; see " + self.path("logs", "Xvfb.log"))
        self.display = ":" + num
        self.env["DISPLAY"] = self.display

    def _close_xvfb(self):
        _killpg(self.xvfb, signal.SIGTERM)
        if self.xvfb:
            try:
                self.xvfb.wait(5)
            except subprocess.TimeoutExpired:
                _killpg(self.xvfb)
                self.xvfb.wait(5)

    def start_dunst(self, timeout=10):
        """Start dunst and wait until it owns org.freedesktop.Notifications."""
        if self.dunst and self.dunst.poll() is None:
            raise AssertionError("dunst is already running")
        rc = self.path("dunstrc")
        with open(rc, "w") as f:
            f.write(DUNSTRC)
        self._dunst_runs += 1
        log = open(self.path("logs", f"dunst.{self._dunst_runs}.log"), "ab")
        try:
            self.dunst = subprocess.Popen(["dunst", "-config", rc], env=self.env,
                                          stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                          start_new_session=True)
        finally:
            log.close()

        def up():
            if self.dunst.poll() is not None:
                raise AssertionError(f"dunst exited with {self.dunst.returncode}:\n"
                                     + self._tail(self.path("logs", f"dunst.{self._dunst_runs}.log")))
            return self.name_has_owner() and self.run(["dunstctl", "count", "displayed"]).returncode == 0
        wait_until(up, timeout, 0.05, "dunst to own org.freedesktop.Notifications")

    def stop_dunst(self):
        """Kill dunst (SIGKILL, like a crash) and wait until its bus name is gone."""
        if self.dunst is None:
            return
        _killpg(self.dunst)
        self.dunst.wait(5)
        self.dunst = None
        if self.bus and self.bus.poll() is None:
            wait_until(lambda: not self.name_has_owner(), 5, 0.05,
                       "org.freedesktop.Notifications to lose its owner")

    def dunstctl(self, *args, check=True):
        return self.run(["dunstctl", *args], check=check).stdout

    def dunst_count(self, kind="displayed"):
        return int(self.dunstctl("count", kind).strip())

    def dunst_action(self, position=0):
        """Invoke the default (or sole) action of the notification at that
        position in dunst's displayed list (dunstctl action N)."""
        self.dunstctl("action", str(position))

    def dunst_close_all(self):
        self.dunstctl("close-all")

    def set_paused(self, paused=True):
        self.dunstctl("set-paused", "true" if paused else "false")

    def dunst_history(self):
        """dunst's history (closed notifications) as a list of flat dicts
        (summary, body, appname, category, id, default_action_name, ...)."""
        out = json.loads(self.dunstctl("history"))
        data = out.get("data") or [[]]
        return [{k: v.get("data") for k, v in item.items()} for item in data[0]]

    # ------------------------------------------------------------ dbusmock

    def start_dbusmock(self, capabilities=None, timeout=10):
        """Start python3-dbusmock's notification_daemon template on the
        private bus (instead of dunst) and wait until it owns
        org.freedesktop.Notifications. capabilities: a space-separated
        string (default: the Harness's)."""
        if self.dbusmock and self.dbusmock.poll() is None:
            raise AssertionError("dbusmock is already running")
        if capabilities is not None:
            self.mock_capabilities = capabilities
        self._dbusmock_runs += 1
        log = open(self.path("logs", f"dbusmock.{self._dbusmock_runs}.log"), "ab")
        params = json.dumps({"capabilities": self.mock_capabilities})
        try:
            self.dbusmock = subprocess.Popen(
                [PYTHON, "-m", "dbusmock", "--session", "--template", "notification_daemon",
                 "-p", params],
                env=self.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        finally:
            log.close()

        def up():
            if self.dbusmock.poll() is not None:
                raise AssertionError(f"dbusmock exited with {self.dbusmock.returncode}:\n"
                                     + self._tail(self.path("logs", f"dbusmock.{self._dbusmock_runs}.log")))
            return self.name_has_owner()
        wait_until(up, timeout, 0.05, "dbusmock to own org.freedesktop.Notifications")

    def stop_dbusmock(self):
        """Kill the dbusmock server (SIGKILL) and wait until its bus name is gone."""
        if self.dbusmock is None:
            return
        _killpg(self.dbusmock)
        self.dbusmock.wait(5)
        self.dbusmock = None
        if self.bus and self.bus.poll() is None:
            wait_until(lambda: not self.name_has_owner(), 5, 0.05,
                       "org.freedesktop.Notifications to lose its owner")

    def _mock_emit(self, member, signature, args):
        """Emit a signal from the mock server's own connection (the only
        sender libnotify believes, see reference/c-plumbing.md 5.3)."""
        if self.dbusmock is None or self.dbusmock.poll() is not None:
            raise AssertionError("dbusmock is not running")
        self.run(["gdbus", "call", "--session", "--dest", "org.freedesktop.Notifications",
                  "--object-path", "/org/freedesktop/Notifications",
                  "--method", "org.freedesktop.DBus.Mock.EmitSignal",
                  "org.freedesktop.Notifications", member, signature, args], check=True)

    def mock_action(self, nid, action):
        """The user clicked `action` ("default", "reply", "snooze", "done")
        on notification nid: ActionInvoked(nid, action)."""
        self._mock_emit("ActionInvoked", "us", f"[<uint32 {int(nid)}>, <{action!r}>]")

    def mock_closed(self, nid, reason=2):
        """Notification nid went away: NotificationClosed(nid, reason)
        (1 expired, 2 dismissed by the user, 3 CloseNotification, 4 other)."""
        self._mock_emit("NotificationClosed", "uu", f"[<uint32 {int(nid)}>, <uint32 {int(reason)}>]")

    def close_requests(self):
        """Ids heedd asked the server to close (CloseNotification), in order."""
        return [nid for _sender, nid in list(self.monitor.closes)]

    # ------------------------------------------------------------ notifications

    def notifications(self, delivered_only=False):
        """Notify calls seen on the bus, in order, as dicts: summary, body,
        actions [(key, label)], hints, category, desktop_entry, replaces_id,
        app_name, expire_timeout, id (the server's answer, None if none), error."""
        return [n.as_dict() for n in self.monitor.notifications(delivered_only)]

    def notify_calls(self, delivered_only=True):
        """Same as notifications() but as busmonitor.Notify objects; by default
        only the calls a notification server answered (shown)."""
        return self.monitor.notifications(delivered_only)

    def shown(self, text=None):
        """Delivered Notify calls, optionally only those whose summary or body contains text."""
        calls = self.notify_calls(True)
        if text is not None:
            calls = [n for n in calls if text in n.summary or text in n.body]
        return calls

    def describe_notifications(self):
        calls = self.monitor.notifications(False)
        if not calls:
            return "(no Notify calls)"
        return "\n".join("  " + str(n) for n in calls)

    # ------------------------------------------------------------ fakes and config

    def mastodon(self, **kw):
        fake = fakenet.FakeMastodon(**kw).start()
        self.fakes.append(fake)
        return fake

    def _close_fakes(self):
        for f in self.fakes:
            f.stop()

    def write_token(self, name, token):
        p = self.path("secrets", name + ".token")
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
        os.chmod(p, 0o600)
        return p

    def mastodon_account(self, fake, name="work", **extra):
        """An account dict for write_config() pointing at a fake Mastodon."""
        acc = {"name": name, "network": "mastodon", "server": fake.base_url,
               "token": fake.token, "ca_file": fake.ca_file}
        acc.update(extra)
        return acc

    def write_config(self, accounts=(), poll_interval=1, open_command=None, extra=None, score=None):
        """Write $XDG_CONFIG_HOME/heed/heed.conf and return its path.

        accounts: dicts with "name" and any keys of the [account NAME] group;
        a "token" key is written to a 0600 token_file instead. open_command
        None means the harness's URL recorder (see opened_urls()); False
        leaves it out; a list is joined with spaces. extra: more [heed] keys.
        score: a dict written as the [score] group (weights, thresholds).
        """
        if open_command is None:
            open_command = [PYTHON, self.recorder, "%u"]
        lines = ["[heed]"]
        if poll_interval is not None:
            lines.append(f"poll_interval = {poll_interval}")
        if open_command:
            lines.append("open_command = " + (" ".join(open_command)
                                              if isinstance(open_command, (list, tuple)) else open_command))
        for k, v in (extra or {}).items():
            lines.append(f"{k} = {_ini_value(v)}")
        for acc in accounts:
            acc = dict(acc)
            name = acc.pop("name")
            lines += ["", f"[account {name}]"]
            token = acc.pop("token", None)
            if token is not None:
                acc.setdefault("token_file", self.write_token(name, token))
            for k, v in acc.items():
                lines.append(f"{k} = {_ini_value(v)}")
        if score:
            lines += ["", "[score]"] + [f"{k} = {_ini_value(v)}" for k, v in score.items()]
        d = os.path.join(self.env["XDG_CONFIG_HOME"], "heed")
        os.makedirs(d, exist_ok=True)
        self.config_path = os.path.join(d, "heed.conf")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        return self.config_path

    def opened_urls(self):
        """URLs the open_command recorder was started with, in order."""
        try:
            with open(self.recorder_out) as f:
                argvs = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return []
        return [a[0] if a else "" for a in argvs]

    # ------------------------------------------------------------ heedd / heed

    def control_socket(self):
        return os.path.join(self.env["XDG_RUNTIME_DIR"], "heed", "control.sock")

    def start_heedd(self, extra_args=(), config=True, verbose=True, wait_ready=True, timeout=10,
                    env=None, test_hooks=False):
        """Start heedd. config=True passes --config <written config>; verbose
        adds --verbose. With wait_ready, waits for the control socket.
        env: extra environment variables for heedd; test_hooks=True sets
        HEED_TEST_HOOKS=1 (enables test-only control commands such as
        test-clock, see advance_clock())."""
        if self.heedd and self.heedd.poll() is None:
            raise AssertionError("heedd is already running")
        exe = os.path.join(build_dir(), "heedd")
        if not os.access(exe, os.X_OK):
            raise AssertionError(f"heedd not built: {exe} is missing")
        argv = [exe]
        if config:
            if not self.config_path:
                raise AssertionError("write_config() before start_heedd()")
            argv += ["--config", self.config_path]
        if verbose:
            argv.append("--verbose")
        argv += list(extra_args)
        n = len(self.heedd_runs) + 1
        out_p, err_p = self.path("logs", f"heedd.{n}.stdout"), self.path("logs", f"heedd.{n}.stderr")
        with open(out_p, "wb") as out, open(err_p, "wb") as err:
            child_env = dict(self.env)
            if test_hooks:
                child_env["HEED_TEST_HOOKS"] = "1"
            child_env.update(env or {})
            self.heedd = subprocess.Popen(argv, env=child_env, stdin=subprocess.DEVNULL,
                                          stdout=out, stderr=err, start_new_session=True)
        self.heedd_runs.append((out_p, err_p, argv))
        self.heedd_expected_dead = False
        if wait_ready:
            sock = self.control_socket()
            wait_until(lambda: os.path.exists(sock), timeout, 0.05,
                       f"heedd's control socket {sock}", check=self.check_heedd)
        return self.heedd

    def check_heedd(self):
        """Raise if heedd was started and has died unexpectedly."""
        if self.heedd is not None and not self.heedd_expected_dead and self.heedd.poll() is not None:
            self.heedd_expected_dead = True
            raise AssertionError(f"heedd exited unexpectedly with {self.heedd.returncode}\n"
                                 + self._tail(self.heedd_runs[-1][1]))

    def heedd_running(self):
        return self.heedd is not None and self.heedd.poll() is None

    def stop_heedd(self, timeout=10):
        """SIGTERM heedd; assert it exits with status 0 within timeout."""
        p = self.heedd
        if p is None:
            raise AssertionError("heedd was not started")
        self.heedd_expected_dead = True
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            _killpg(p)
            p.wait(5)
            raise AssertionError(f"heedd did not exit within {timeout} s of SIGTERM")
        finally:
            _killpg(p)  # leftovers in its process group
        if rc != 0:
            raise AssertionError(f"heedd exited with {rc} after SIGTERM (want 0)\n"
                                 + self._tail(self.heedd_runs[-1][1]))
        return rc

    def kill_heedd(self):
        """SIGKILL heedd's whole process group (a crash)."""
        self.heedd_expected_dead = True
        if self.heedd:
            _killpg(self.heedd)
            self.heedd.wait(5)

    def _close_heedd(self):
        if self.heedd and self.heedd.poll() is None:
            self.heedd_expected_dead = True
            _killpg(self.heedd, signal.SIGTERM)
            try:
                self.heedd.wait(3)
            except subprocess.TimeoutExpired:
                _killpg(self.heedd)
                self.heedd.wait(5)

    def heedd_log(self, run=None):
        """heedd's stderr: of one run (index, -1 = latest) or of all runs."""
        runs = self.heedd_runs if run is None else [self.heedd_runs[run]]
        parts = []
        for i, (_, err_p, _) in enumerate(runs):
            with open(err_p, errors="replace") as f:
                text = f.read()
            parts.append(text if run is not None else f"--- heedd run {i + 1} ---\n{text}")
        return "".join(parts)

    def heedd_stdout(self, run=-1):
        with open(self.heedd_runs[run][0], errors="replace") as f:
            return f.read()

    def heed(self, *args, timeout=15):
        """Run the heed CLI; returns (rc, stdout, stderr)."""
        exe = os.path.join(build_dir(), "heed")
        if not os.access(exe, os.X_OK):
            raise AssertionError(f"heed not built: {exe} is missing")
        p = self.run([exe, *args], timeout=timeout)
        return p.returncode, p.stdout, p.stderr

    def heed_list(self):
        """json.loads of `heed list --json --all`."""
        rc, out, err = self.heed("list", "--json", "--all")
        if rc != 0:
            raise RuntimeError(f"heed list --json --all failed ({rc}): {err.strip()}")
        data = json.loads(out)
        if not isinstance(data, list):
            raise RuntimeError(f"heed list --json --all did not print a JSON array: {out[:200]!r}")
        return data

    def listed_urls(self):
        return {m.get("url") for m in self.heed_list()}

    def control(self, cmd, args=None, timeout=10):
        """One request on heedd's control socket (JSON lines); returns the
        "result" of an {"ok": true} answer, raises AssertionError otherwise."""
        import socket as _socket
        req = {"cmd": cmd}
        if args is not None:
            req["args"] = args
        s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        s.settimeout(timeout)
        try:
            s.connect(self.control_socket())
            s.sendall((json.dumps(req) + "\n").encode())
            buf = b""
            while b"\n" not in buf:
                chunk = s.recv(1 << 20)
                if not chunk:
                    break
                buf += chunk
        finally:
            s.close()
        line = buf.split(b"\n", 1)[0]
        if not line:
            raise AssertionError(f"control {cmd}: no answer")
        answer = json.loads(line)
        if not answer.get("ok"):
            raise AssertionError(f"control {cmd} {args}: {answer.get('error')!r}")
        return answer.get("result")

    def advance_clock(self, seconds):
        """Shift heedd's clock forward (needs start_heedd(test_hooks=True));
        heedd re-checks snoozes, nudges and quiet hours at once. Returns
        heedd's new time (epoch seconds)."""
        return self.control("test-clock", {"advance": int(seconds)})["now"]

    def heedd_rss_kb(self):
        """heedd's resident set size in KiB (VmRSS from /proc)."""
        with open(f"/proc/{self.heedd.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise AssertionError("no VmRSS for heedd")

    def heedd_cpu_seconds(self):
        """User + system CPU time heedd has used, in seconds."""
        with open(f"/proc/{self.heedd.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    # ------------------------------------------------------------ waiting

    def wait_until(self, predicate, timeout=20, message=None, interval=0.1):
        """wait_until() that also fails at once if heedd dies."""
        return wait_until(predicate, timeout, interval, message, check=self.check_heedd)

    def wait_polls(self, fake, n=3, timeout=20):
        """Wait until the fake has answered n more notification polls (200 OK)."""
        base = len(fake.polls())
        self.wait_until(lambda: len(fake.polls()) >= base + n, timeout,
                        f"{n} more polls of {fake.name} (had {base})")

    def pause(self, seconds):
        """Let time pass while still noticing a heedd crash."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.check_heedd()
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    # ------------------------------------------------------------ reporting

    @staticmethod
    def _tail(path, n=120):
        try:
            with open(path, errors="replace") as f:
                lines = f.readlines()
        except OSError:
            return f"({path} unreadable)"
        return "".join(lines[-n:]) or "(empty)"

    def _report(self, exc_info):
        out = [f"==== harness report for {self.name} ({self.tmp}) ===="]
        if exc_info and exc_info[0] is not None:
            out.append("failure: " + "".join(traceback.format_exception_only(*exc_info[:2])).strip())
        for i, (out_p, err_p, argv) in enumerate(self.heedd_runs):
            out.append(f"---- heedd run {i + 1}: {' '.join(argv)}")
            out.append("-- stderr:\n" + self._tail(err_p, 200))
            o = self._tail(out_p, 40)
            if o != "(empty)":
                out.append("-- stdout:\n" + o)
        if self.heedd is not None and self.heedd.poll() is not None:
            out.append(f"heedd exit status: {self.heedd.returncode}")
        if self.monitor:
            out.append("---- Notify calls:\n" + self.describe_notifications())
            if self.monitor.signals:
                out.append("---- signals: " + repr(self.monitor.signals[-20:]))
            if self.monitor.errors:
                out.append("---- bus monitor errors: " + repr(self.monitor.errors[:5]))
        for i in range(1, self._dbusmock_runs + 1):
            t = self._tail(self.path("logs", f"dbusmock.{i}.log"), 30)
            if t != "(empty)":
                out.append(f"---- dbusmock run {i}:\n{t}")
        for i in range(1, self._dunst_runs + 1):
            t = self._tail(self.path("logs", f"dunst.{i}.log"), 30)
            if t != "(empty)":
                out.append(f"---- dunst run {i}:\n{t}")
        for f in self.fakes:
            reqs = f.requests
            out.append(f"---- {f.name} at {f.base_url}: {len(reqs)} requests; last ones:")
            for r in reqs[-15:]:
                out.append(f"  {r.method} {r.raw_path} -> {r.status}{' (fault)' if r.fault else ''}")
            if f.tls_errors:
                out.append(f"  TLS handshake failures: {f.tls_errors[-5:]}")
            if f.errors:
                out.append("  server errors:\n" + f.errors[-1])
        if self.config_path and os.path.exists(self.config_path):
            with open(self.config_path) as fh:
                out.append("---- heed.conf:\n" + fh.read())
        print("\n".join(out), file=sys.stderr, flush=True)


def _ini_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return ";".join(str(x) for x in v)
    return str(v)


def body_text_variants(plain):
    """The ways a plain text may appear in a notification body: as is, or
    escaped for body-markup (& < > and possibly quotes)."""
    esc = plain.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {plain, esc, esc.replace('"', "&quot;").replace("'", "&#39;"),
            esc.replace('"', "&quot;").replace("'", "&apos;")}


def squash(s):
    """Collapse runs of white space, for comparing bodies."""
    return " ".join(s.split())


# Exit status of a test program that skipped something and failed nothing:
# ctest (SKIP_RETURN_CODE in tests/CMakeLists.txt) reports it as skipped.
SKIP_EXIT = 77


def main():
    """unittest.main() with verbosity, for `python3 test_x.py`. Exits 1 if
    anything failed, else 77 if anything was skipped (skipTest), so that a
    skip is never counted as a pass, else 0."""
    import unittest
    prog = unittest.main(module="__main__", verbosity=2, exit=False)
    result = prog.result
    if not result.wasSuccessful() or result.testsRun == 0:
        sys.exit(1)
    if result.skipped:
        sys.exit(SKIP_EXIT)
    sys.exit(0)


__all__ = ["Harness", "HarnessTimeout", "wait_until", "body_text_variants", "squash",
           "build_dir", "source_dir", "require_tools", "PYTHON", "SKIP_EXIT"]
