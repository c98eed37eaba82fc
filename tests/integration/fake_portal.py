# SPDX-License-Identifier: MIT
"""fake_portal: the desktop portal's OpenURI on a harness's private bus.

    portal = FakePortal(h).start()      # owns org.freedesktop.portal.Desktop
    ...
    portal.calls()                      # [(parent_window, uri, options), ...]
    portal.stop()

It is python3-dbusmock with one method, org.freedesktop.portal.OpenURI.OpenURI
(parent_window s, uri s, options a{sv}) -> handle o, on
/org/freedesktop/portal/desktop, which answers with a request handle the way
xdg-desktop-portal does and records each call (dbusmock's GetMethodCalls).
It opens nothing. The harness's bus activates nothing, so the portal is
there exactly while this runs.
"""

import os
import subprocess

import dbus

from harness import PYTHON, wait_until

NAME = "org.freedesktop.portal.Desktop"
PATH = "/org/freedesktop/portal/desktop"
IFACE = "org.freedesktop.portal.OpenURI"
MOCK_IFACE = "org.freedesktop.DBus.Mock"
HANDLE = "/org/freedesktop/portal/desktop/request/1_1/heed"


class FakePortal:
    def __init__(self, h):
        self.h = h
        self.proc = None
        self.log_path = h.path("logs", "fake-portal.log")
        self.bus = None

    def start(self, timeout=10):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen([PYTHON, "-m", "dbusmock", "--session", NAME, PATH, IFACE],
                                         env=self.h.env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)
        finally:
            log.close()

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"the fake portal exited with {self.proc.returncode}:\n" + self._log())
            return self.h.name_has_owner(NAME)
        wait_until(up, timeout, 0.05, f"the fake portal to own {NAME}")
        self.bus = dbus.bus.BusConnection(self.h.bus_address)
        self._mock().AddMethod(IFACE, "OpenURI", "ssa{sv}", "o", f"ret = dbus.ObjectPath({HANDLE!r})")
        return self

    def _mock(self):
        return dbus.Interface(self.bus.get_object(NAME, PATH), MOCK_IFACE)

    def calls(self):
        """Every OpenURI call so far, as (parent_window, uri, options)."""
        out = []
        for _, args in self._mock().GetMethodCalls("OpenURI"):
            parent, uri, options = args
            out.append((str(parent), str(uri), {str(k): v for k, v in options.items()}))
        return out

    def stop(self):
        if self.bus is not None:
            self.bus.close()
            self.bus = None
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(5)
        self.proc = None

    def _log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return "(no log)"
