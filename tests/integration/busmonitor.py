# SPDX-License-Identifier: MIT
"""busmonitor: record desktop-notification traffic on a session bus.

Runs `dbus-monitor --binary` (BecomeMonitor; works for the bus owner's uid)
and decodes the raw D-Bus messages itself. The text output of dbus-monitor
cannot be parsed reliably: it prints strings without escaping quotes or
newlines, and notification bodies are hostile text by design.

What is kept, in arrival order:
  notifies   every org.freedesktop.Notifications.Notify call, as a Notify,
             completed with the id from its reply or the name of its error
  closes     CloseNotification calls: (sender, id)
  signals    ActionInvoked / NotificationClosed / ActivationToken signals:
             (member, args tuple)
"""

import os
import struct
import subprocess
import threading
import time
from dataclasses import dataclass

MATCH_RULES = [
    "type='method_call',interface='org.freedesktop.Notifications'",
    "type='signal',interface='org.freedesktop.Notifications'",
    "type='method_return'",
    "type='error'",
    # Our own NameLost tells us that BecomeMonitor has taken effect.
    "type='signal',sender='org.freedesktop.DBus',member='NameLost'",
]

# ------------------------------------------------------------ wire format

_ALIGN = {"y": 1, "b": 4, "n": 2, "q": 2, "i": 4, "u": 4, "x": 8, "t": 8, "d": 8, "h": 4,
          "s": 4, "o": 4, "g": 1, "a": 4, "(": 8, "{": 8, "v": 1}
_FIXED = {"y": "B", "b": "I", "n": "h", "q": "H", "i": "i", "u": "I", "x": "q", "t": "Q",
          "d": "d", "h": "I"}

METHOD_CALL, METHOD_RETURN, ERROR, SIGNAL = 1, 2, 3, 4
_FIELD_NAMES = {1: "path", 2: "interface", 3: "member", 4: "error_name", 5: "reply_serial",
                6: "destination", 7: "sender", 8: "signature", 9: "unix_fds"}


def _type_end(sig, i):
    """Index just past the single complete type starting at sig[i]."""
    c = sig[i]
    if c == "a":
        return _type_end(sig, i + 1)
    if c in "({":
        close = ")" if c == "(" else "}"
        j = i + 1
        while sig[j] != close:
            j = _type_end(sig, j)
        return j + 1
    return i + 1


def split_signature(sig):
    out, i = [], 0
    while i < len(sig):
        j = _type_end(sig, i)
        out.append(sig[i:j])
        i = j
    return out


class _Reader:
    def __init__(self, data, little):
        self.d = data
        self.p = 0
        self.e = "<" if little else ">"

    def align(self, n):
        self.p = (self.p + n - 1) // n * n

    def fixed(self, code):
        fmt = self.e + _FIXED[code]
        size = struct.calcsize(fmt)
        self.align(size)
        (v,) = struct.unpack_from(fmt, self.d, self.p)
        self.p += size
        return bool(v) if code == "b" else v

    def value(self, t):
        c = t[0]
        if c in _FIXED:
            return self.fixed(c)
        if c in "so":
            n = self.fixed("u")
            s = self.d[self.p:self.p + n].decode("utf-8", errors="surrogateescape")
            self.p += n + 1
            return s
        if c == "g":
            n = self.d[self.p]
            s = self.d[self.p + 1:self.p + 1 + n].decode()
            self.p += n + 2
            return s
        if c == "v":
            sig = self.value("g")
            return self.value(sig)
        if c == "a":
            n = self.fixed("u")
            elem = t[1:]
            self.align(_ALIGN[elem[0]])
            end = self.p + n
            if elem == "y":
                b = bytes(self.d[self.p:end])
                self.p = end
                return b
            items = []
            while self.p < end:
                items.append(self.value(elem))
            if elem[0] == "{":
                return dict(items)
            return items
        if c in "({":
            self.align(8)
            return tuple(self.value(x) for x in split_signature(t[1:-1]))
        raise ValueError(f"unsupported D-Bus type {t!r}")


def message_length(buf):
    """Total length of the message at the start of buf, or None if the fixed
    part is not there yet."""
    if len(buf) < 16:
        return None
    e = "<" if buf[0:1] == b"l" else ">"
    body_len, = struct.unpack_from(e + "I", buf, 4)
    fields_len, = struct.unpack_from(e + "I", buf, 12)
    header_end = (16 + fields_len + 7) // 8 * 8
    return header_end + body_len


@dataclass
class Message:
    type: int
    serial: int
    fields: dict
    args: tuple

    def __getattr__(self, name):
        if name in _FIELD_NAMES.values():
            return self.fields.get(name)
        raise AttributeError(name)


def parse_message(buf):
    little = buf[0:1] == b"l"
    r = _Reader(buf, little)
    r.p = 1
    mtype = r.fixed("y")
    r.fixed("y")   # flags
    r.fixed("y")   # version
    body_len = r.fixed("u")
    serial = r.fixed("u")
    raw_fields = r.value("a(yv)")
    fields = {_FIELD_NAMES.get(code, code): v for code, v in raw_fields}
    r.align(8)
    body = _Reader(buf[r.p:r.p + body_len], little)
    sig = fields.get("signature", "")
    args = tuple(body.value(t) for t in split_signature(sig))
    return Message(mtype, serial, fields, args)


# ------------------------------------------------------------ records


@dataclass
class Notify:
    """One Notify call. id is the server's answer (None while unanswered or
    on error); error is the D-Bus error name if the call failed."""
    sender: str
    serial: int
    time: float
    app_name: str
    replaces_id: int
    app_icon: str
    summary: str
    body: str
    actions: list            # [(key, label), ...]
    hints: dict
    expire_timeout: int
    id: int = None
    error: str = None

    @property
    def delivered(self):
        return self.id is not None

    @property
    def action_keys(self):
        return [k for k, _ in self.actions]

    def as_dict(self):
        return {"app_name": self.app_name, "replaces_id": self.replaces_id,
                "app_icon": self.app_icon, "summary": self.summary, "body": self.body,
                "actions": list(self.actions), "hints": dict(self.hints),
                "category": self.hints.get("category"),
                "desktop_entry": self.hints.get("desktop-entry"),
                "expire_timeout": self.expire_timeout, "id": self.id, "error": self.error,
                "sender": self.sender, "time": self.time}

    def __str__(self):
        st = f"id={self.id}" if self.id is not None else (self.error or "unanswered")
        hints = {k: v for k, v in self.hints.items() if k != "image-data"}
        return (f"Notify[{st} replaces={self.replaces_id} app={self.app_name!r} "
                f"summary={self.summary!r} body={self.body!r} actions={self.actions} "
                f"hints={hints} timeout={self.expire_timeout}]")


class BusMonitor:
    def __init__(self, address, env, stderr_path):
        self.address = address
        self.env = env
        self.stderr_path = stderr_path
        self.proc = None
        self._thread = None
        self._lock = threading.Lock()
        self._pending = {}           # (sender, serial) -> Notify
        self.notifies = []
        self.closes = []
        self.signals = []
        self.errors = []
        self._monitoring = threading.Event()

    def start(self, timeout=10):
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen(
            ["dbus-monitor", "--address", self.address, "--binary", *MATCH_RULES],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr,
            env=self.env, start_new_session=True)
        self._thread = threading.Thread(target=self._reader, name="busmonitor", daemon=True)
        self._thread.start()
        if not self._monitoring.wait(timeout):
            raise RuntimeError("dbus-monitor did not become a monitor within %d s (see %s)"
                               % (timeout, self.stderr_path))
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)
            except ProcessLookupError:
                pass
            self.proc.wait(5)
        if self._thread:
            self._thread.join(5)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if getattr(self, "_stderr", None):
            self._stderr.close()
            self._stderr = None

    def _reader(self):
        fd = self.proc.stdout.fileno()
        buf = bytearray()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            buf += chunk
            while True:
                n = message_length(buf)
                if n is None or len(buf) < n:
                    break
                raw, buf = bytes(buf[:n]), buf[n:]
                try:
                    self._handle(parse_message(raw), time.monotonic())
                except Exception as e:  # keep reading; report in errors
                    with self._lock:
                        self.errors.append(f"{type(e).__name__}: {e}")

    def _handle(self, m, now):
        with self._lock:
            if m.type == METHOD_CALL and m.interface == "org.freedesktop.Notifications":
                if m.member == "Notify" and len(m.args) == 8:
                    a = m.args
                    acts = list(a[5])
                    n = Notify(sender=m.sender, serial=m.serial, time=now, app_name=a[0],
                               replaces_id=a[1], app_icon=a[2], summary=a[3], body=a[4],
                               actions=list(zip(acts[0::2], acts[1::2])), hints=dict(a[6]),
                               expire_timeout=a[7])
                    self.notifies.append(n)
                    self._pending[(m.sender, m.serial)] = n
                elif m.member == "CloseNotification" and m.args:
                    self.closes.append((m.sender, m.args[0]))
            elif m.type in (METHOD_RETURN, ERROR):
                n = self._pending.pop((m.destination, m.reply_serial), None)
                if n is not None:
                    if m.type == METHOD_RETURN and m.args:
                        n.id = m.args[0]
                    else:
                        n.error = m.error_name or "error"
            elif m.type == SIGNAL:
                if m.interface == "org.freedesktop.Notifications":
                    self.signals.append((m.member, m.args))
                elif m.member == "NameLost" and m.sender == "org.freedesktop.DBus":
                    self._monitoring.set()

    def notifications(self, delivered_only=False):
        with self._lock:
            return [n for n in self.notifies if n.delivered or not delivered_only]
