#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""fake_desktop: stand-ins for the do-not-disturb switches of desktops the
test machine does not have, on the test's private session bus.

    with FakeDesktop(h, server="SwayNotificationCenter", swaync=True) as desk:
        desk.swaync_set_dnd(True)          # SetDnd, as swaync-client -dn does

Run as a program (FakeDesktop starts it so), one process owns:
  --server NAME   org.freedesktop.Notifications: Notify, GetCapabilities,
                  CloseNotification (NotificationClosed), and
                  GetServerInformation answering NAME (heedd tells mako,
                  xfce4-notifyd and Cinnamon apart by it);
  --kde           on that server, KDE Plasma's Inhibit/UnInhibit and the
                  "Inhibited" property, announced with PropertiesChanged;
  --swaync        org.erikreider.swaync.cc at /org/erikreider/swaync/cc:
                  GetDnd, SetDnd, ToggleDnd, GetSubscribeData and the signals
                  SubscribeV2 (count, dnd, cc_open, inhibited) and the older
                  Subscribe (count, dnd, cc_open), sent on every change;
  --xfconf        org.xfce.Xfconf at /org/xfce/Xfconf: GetProperty,
                  SetProperty, ResetProperty, PropertyChanged and
                  PropertyRemoved, as xfconfd has them.

The interfaces follow the real ones (swaync's swayncDaemon.vala, xfconf's
org.xfce.Xfconf, plasma-workspace's notification server) for the parts heedd
uses; the rest is left out. Every call is logged to stdout as one JSON line
(calls()).

FakeMakoctl writes a `makoctl` that prints the modes kept in a file, for a
PATH given to heedd. FakeSettings gives heedd and the test one GSettings
store (the keyfile backend, which heedd sees change through a file monitor)
with the two schemas heedd reads: GNOME's and Cinnamon's notification
settings, reduced to the key heedd uses.
"""

import json
import os
import subprocess
import sys

PYTHON = "/usr/bin/python3"

NOTIFY_XML = """
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
    <method name="CloseNotification"><arg type="u" direction="in"/></method>
    <method name="GetCapabilities"><arg type="as" direction="out"/></method>
    <method name="GetServerInformation">
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
    <signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
    %s
  </interface>
</node>
"""

KDE_XML = """
    <method name="Inhibit">
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="a{sv}" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
    <method name="UnInhibit"><arg type="u" direction="in"/></method>
    <property name="Inhibited" type="b" access="read"/>
"""

SWAYNC_XML = """
<node>
  <interface name="org.erikreider.swaync.cc">
    <method name="GetDnd"><arg type="b" direction="out"/></method>
    <method name="SetDnd"><arg type="b" direction="in"/></method>
    <method name="ToggleDnd"><arg type="b" direction="out"/></method>
    <method name="GetSubscribeData"><arg type="(bbub)" direction="out"/></method>
    <signal name="SubscribeV2"><arg type="u"/><arg type="b"/><arg type="b"/><arg type="b"/></signal>
    <signal name="Subscribe"><arg type="u"/><arg type="b"/><arg type="b"/></signal>
  </interface>
</node>
"""

XFCONF_XML = """
<node>
  <interface name="org.xfce.Xfconf">
    <method name="GetProperty">
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="out"/>
    </method>
    <method name="SetProperty">
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="v" direction="in"/>
    </method>
    <method name="ResetProperty">
      <arg type="s" direction="in"/><arg type="s" direction="in"/><arg type="b" direction="in"/>
    </method>
    <signal name="PropertyChanged"><arg type="s"/><arg type="s"/><arg type="v"/></signal>
    <signal name="PropertyRemoved"><arg type="s"/><arg type="s"/></signal>
  </interface>
</node>
"""

CAPABILITIES = ["actions", "body", "body-markup", "persistence"]


def serve(argv):
    import argparse
    from gi.repository import Gio, GLib

    ap = argparse.ArgumentParser()
    ap.add_argument("--server")
    ap.add_argument("--kde", action="store_true")
    ap.add_argument("--swaync", action="store_true")
    ap.add_argument("--xfconf", action="store_true")
    args = ap.parse_args(argv)

    bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
    loop = GLib.MainLoop()
    state = {"next_id": 1, "inhibitions": set(), "cookie": 0, "dnd": False, "count": 0, "xfconf": {}}
    owned = []

    def log(**kw):
        sys.stdout.write(json.dumps(kw) + "\n")
        sys.stdout.flush()

    def emit(path, iface, name, sig, values):
        bus.emit_signal(None, path, iface, name, GLib.Variant(sig, values))

    def register(xml, path, on_call, get_property=None):
        node = Gio.DBusNodeInfo.new_for_xml(xml)
        bus.register_object(path, node.interfaces[0], on_call, get_property, None)

    def own(name):
        r = bus.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                          "RequestName", GLib.Variant("(su)", (name, 4)), GLib.VariantType("(u)"),
                          Gio.DBusCallFlags.NONE, 5000, None).unpack()[0]
        if r != 1:
            raise SystemExit(f"fake_desktop: could not own {name} ({r})")
        owned.append(name)

    # --- the notification server
    def notify_call(conn, sender, path, iface, method, params, inv):
        p = params.unpack()
        log(call=method, args=[str(a) for a in p][:5])
        if method == "Notify":
            nid = p[1] or state["next_id"]
            if not p[1]:
                state["next_id"] += 1
            inv.return_value(GLib.Variant("(u)", (nid,)))
        elif method == "CloseNotification":
            inv.return_value(None)
            emit(path, iface, "NotificationClosed", "(uu)", (p[0], 3))
        elif method == "GetCapabilities":
            inv.return_value(GLib.Variant("(as)", (CAPABILITIES,)))
        elif method == "GetServerInformation":
            inv.return_value(GLib.Variant("(ssss)", (args.server, "fake", "1.0", "1.2")))
        elif method == "Inhibit":
            state["cookie"] += 1
            before = bool(state["inhibitions"])
            state["inhibitions"].add(state["cookie"])
            inv.return_value(GLib.Variant("(u)", (state["cookie"],)))
            if not before:
                kde_changed()
        elif method == "UnInhibit":
            before = bool(state["inhibitions"])
            state["inhibitions"].discard(p[0])
            inv.return_value(None)
            if before and not state["inhibitions"]:
                kde_changed()

    def kde_changed():
        emit("/org/freedesktop/Notifications", "org.freedesktop.DBus.Properties", "PropertiesChanged",
             "(sa{sv}as)", ("org.freedesktop.Notifications",
                            {"Inhibited": GLib.Variant("b", bool(state["inhibitions"]))}, []))

    def notify_property(conn, sender, path, iface, prop):
        log(get=prop)
        if prop == "Inhibited":
            return GLib.Variant("b", bool(state["inhibitions"]))
        return None

    if args.server:
        register(NOTIFY_XML % (KDE_XML if args.kde else ""), "/org/freedesktop/Notifications",
                 notify_call, notify_property if args.kde else None)
        own("org.freedesktop.Notifications")

    # --- swaync
    def swaync_emit():
        path, iface = "/org/erikreider/swaync/cc", "org.erikreider.swaync.cc"
        emit(path, iface, "SubscribeV2", "(ubbb)", (state["count"], state["dnd"], False, False))
        emit(path, iface, "Subscribe", "(ubb)", (state["count"], state["dnd"], False))

    def swaync_call(conn, sender, path, iface, method, params, inv):
        p = params.unpack()
        log(call=method, args=[str(a) for a in p])
        if method == "GetDnd":
            inv.return_value(GLib.Variant("(b)", (state["dnd"],)))
        elif method in ("SetDnd", "ToggleDnd"):
            new = bool(p[0]) if method == "SetDnd" else not state["dnd"]
            changed = new != state["dnd"]
            state["dnd"] = new
            inv.return_value(GLib.Variant("(b)", (new,)) if method == "ToggleDnd" else None)
            if changed:
                swaync_emit()
        elif method == "GetSubscribeData":
            inv.return_value(GLib.Variant("((bbub))", ((state["dnd"], False, state["count"], False),)))

    if args.swaync:
        register(SWAYNC_XML, "/org/erikreider/swaync/cc", swaync_call)
        own("org.erikreider.swaync.cc")

    # --- xfconf
    def xfconf_call(conn, sender, path, iface, method, params, inv):
        channel, prop = params.get_child_value(0).get_string(), params.get_child_value(1).get_string()
        log(call=method, args=[channel, prop])
        key = (channel, prop)
        if method == "GetProperty":
            if key in state["xfconf"]:
                inv.return_value(GLib.Variant.new_tuple(GLib.Variant("v", state["xfconf"][key])))
            else:
                inv.return_dbus_error("org.xfce.Xfconf.Error.PropertyNotFound",
                                      f"Property \"{prop}\" does not exist on channel \"{channel}\"")
        elif method == "SetProperty":
            value = params.get_child_value(2).get_variant()
            state["xfconf"][key] = value
            inv.return_value(None)
            emit(path, iface, "PropertyChanged", "(ssv)", (channel, prop, value))
        elif method == "ResetProperty":
            existed = state["xfconf"].pop(key, None) is not None
            inv.return_value(None)
            if existed:
                emit(path, iface, "PropertyRemoved", "(ss)", (channel, prop))

    if args.xfconf:
        register(XFCONF_XML, "/org/xfce/Xfconf", xfconf_call)
        own("org.xfce.Xfconf")

    log(ready=owned)
    loop.run()


class FakeDesktop:
    """The program above, started on a Harness's bus; stopped on exit."""

    def __init__(self, h, server=None, kde=False, swaync=False, xfconf=False):
        self.h = h
        self.argv = [PYTHON, os.path.abspath(__file__)]
        self.names = []
        if server:
            self.argv += ["--server", server]
            self.names.append("org.freedesktop.Notifications")
        if kde:
            self.argv.append("--kde")
        if swaync:
            self.argv.append("--swaync")
            self.names.append("org.erikreider.swaync.cc")
        if xfconf:
            self.argv.append("--xfconf")
            self.names.append("org.xfce.Xfconf")
        self.log = h.path("logs", "fake_desktop.log")
        self.proc = None

    def __enter__(self):
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(self.argv, env=self.h.env, stdin=subprocess.DEVNULL, stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"fake_desktop exited with {self.proc.returncode}:\n" + self.output())
            return all(self.h.name_has_owner(n) for n in self.names)
        self.h.wait_until(up, 10, "fake_desktop to own " + ", ".join(self.names))
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            print("---- fake_desktop:\n" + self.output(), file=sys.stderr)
        self.stop()
        return False

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)

    def output(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def calls(self, method=None):
        """The calls served so far, as dicts (call, args), optionally of one method."""
        out = []
        for line in self.output().splitlines():
            try:
                d = json.loads(line)
            except ValueError:
                continue
            if "call" in d and (method is None or d["call"] == method):
                out.append(d)
        return out

    def _call(self, dest, path, method, *args):
        p = self.h.run(["gdbus", "call", "--session", "--dest", dest, "--object-path", path,
                        "--method", method, *args], check=True)
        return p.stdout.strip()

    def swaync_set_dnd(self, on):
        self._call("org.erikreider.swaync.cc", "/org/erikreider/swaync/cc",
                   "org.erikreider.swaync.cc.SetDnd", "true" if on else "false")

    def xfconf_set(self, channel, prop, gvariant_text):
        self._call("org.xfce.Xfconf", "/org/xfce/Xfconf", "org.xfce.Xfconf.SetProperty",
                   channel, prop, gvariant_text)

    def xfconf_reset(self, channel, prop):
        self._call("org.xfce.Xfconf", "/org/xfce/Xfconf", "org.xfce.Xfconf.ResetProperty",
                   channel, prop, "false")

    def kde_inhibit(self):
        """Inhibit() as a presentation app would; returns the cookie."""
        out = self._call("org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                         "org.freedesktop.Notifications.Inhibit", "presenter", "presenting", "{}")
        return int(out.strip("(),").split()[-1])

    def kde_uninhibit(self, cookie):
        self._call("org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                   "org.freedesktop.Notifications.UnInhibit", str(cookie))


MAKOCTL = """#!/bin/sh
# fake makoctl: "makoctl mode" prints the modes kept in {modes}; each run is logged.
echo "$*" >> {log}
[ "$1" = mode ] && [ $# -eq 1 ] || exit 2
if [ -e {hang} ]; then
    # A makoctl that never answers, and leaves a child behind.
    sleep 60 &
    echo $! >> {children}
    wait
fi
cat {modes}
"""


class FakeMakoctl:
    """A `makoctl` in a directory of its own (bindir, for heedd's PATH)."""

    def __init__(self, h, modes=("default",)):
        self.bindir = h.path("fake-bin")
        os.makedirs(self.bindir, exist_ok=True)
        self.modes_file = h.path("mako-modes")
        self.log = h.path("logs", "makoctl.log")
        self.hang_file = h.path("makoctl-hangs")
        self.children_file = h.path("makoctl-children")
        self.set_modes(*modes)
        exe = os.path.join(self.bindir, "makoctl")
        with open(exe, "w") as f:
            f.write(MAKOCTL.format(modes=self.modes_file, log=self.log, hang=self.hang_file,
                                   children=self.children_file))
        os.chmod(exe, 0o755)

    def hang(self, on=True):
        """From now on makoctl starts a child and waits for it (60 s)."""
        if on:
            open(self.hang_file, "w").close()
        elif os.path.exists(self.hang_file):
            os.unlink(self.hang_file)

    def children(self):
        """Pids of the children hung makoctls started."""
        try:
            with open(self.children_file) as f:
                return [int(x) for x in f.read().split()]
        except FileNotFoundError:
            return []

    def set_modes(self, *modes):
        tmp = self.modes_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("".join(m + "\n" for m in modes))
        os.replace(tmp, self.modes_file)

    def runs(self):
        try:
            with open(self.log) as f:
                return len(f.readlines())
        except FileNotFoundError:
            return 0

    def path_env(self, h):
        return {"PATH": self.bindir + ":" + h.env["PATH"]}


SCHEMAS = """<schemalist>
  <schema id="org.gnome.desktop.notifications" path="/org/gnome/desktop/notifications/">
    <key name="show-banners" type="b"><default>true</default></key>
  </schema>
  <schema id="org.cinnamon.desktop.notifications" path="/org/cinnamon/desktop/notifications/">
    <key name="display-notifications" type="b"><default>true</default></key>
  </schema>
</schemalist>
"""


class FakeSettings:
    """GSettings for heedd (env, for start_heedd) and the test (set())."""

    def __init__(self, h):
        self.h = h
        d = h.path("schemas")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "heed-test.gschema.xml"), "w") as f:
            f.write(SCHEMAS)
        h.run(["glib-compile-schemas", d], check=True)
        self.env = {"GSETTINGS_BACKEND": "keyfile", "GSETTINGS_SCHEMA_DIR": d}

    def set(self, schema, key, value):
        self.h.run(["gsettings", "set", schema, key, value], env=dict(self.h.env, **self.env), check=True)


if __name__ == "__main__":
    serve(sys.argv[1:])
