#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Transport faults: one heedd, one healthy Mastodon account and one account
per fault, all at once, each behind its own fake over real TLS:

  refused     the server stops listening (connection refused), then comes back
  reset       headers and half the body, then a TCP reset
  cutoff      headers promise the whole body, half comes, then the server
              closes (curl: "transfer closed with N bytes remaining")
  dropped     the server closes the connection without answering
  blackholed  connect timeout: a listener whose accept backlog is full and
              which never accepts, so SYNs are dropped and connect() hangs
              (curl's 15 s connect timeout ends it)
  handshake   TLS handshake timeout: connections are accepted, the
              ClientHello is never answered (also the 15 s connect timeout)
  drip        headers, then one body byte a second (curl's low-speed limit,
              16 B/s over 20 s, ends it)
  DNS failure (its own heedd): server = https://nonexistent.invalid, fixed
              with a reload

For each: heedd stays up, the healthy account keeps notifying while the
fault lasts, the faulty account's mentions that arrived meanwhile are
stored and notified exactly once after the fault ends, health goes back to
"ok" with one "working again" notice, retries back off, and the log names
the fault once rather than every poll.
"""

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from faults import FaultRun, MastodonNet, Relay, attempts, base_extra, gaps  # noqa: E402
from harness import Harness, main  # noqa: E402


class Case:
    """One faulty account: apply() starts the fault, enough() says it has
    been seen often enough, clear() ends it."""

    def __init__(self, net, pattern, apply, clear, enough):
        self.net, self.pattern = net, pattern
        self.apply, self.clear, self.enough = apply, clear, enough
        self.pending = []
        self.first_error_at = None
        self.cleared_at = None
        self.added_second = False

    @property
    def name(self):
        return self.net.name


class TransportFaults(unittest.TestCase):
    def test_transport_faults(self):
        with Harness(time_limit=170) as h:
            run = FaultRun(h, self)
            ok = MastodonNet(h, "ok")
            nets = {n: MastodonNet(h, n) for n in
                    ("refused", "reset", "cutoff", "dropped", "blackholed", "handshake", "drip")}
            relay = Relay(nets["blackholed"].fake.port)
            try:
                self._run(h, run, ok, nets, relay)
            finally:
                relay.stop()

    def _run(self, h, run, ok, nets, relay):
        accounts = [ok.account()]
        for name, net in nets.items():
            extra = {}
            if name == "blackholed":
                extra["server"] = f"https://127.0.0.1:{relay.port}"
            accounts.append(net.account(**extra))
        h.write_config(accounts, poll_interval=1, extra=base_extra())
        h.start_heedd()
        run.wait_ok(["ok"] + list(nets))

        def poll_faults(net):
            return net.fake.fault_requests(net.poll_path)

        def err_seen_for(case, seconds):
            return case.first_error_at is not None and time.monotonic() - case.first_error_at >= seconds

        def stall_start(net):
            net.fake.stall_handshake = True
            net.fake.cut_connections()

        def stall_end(net):
            net.fake.stall_handshake = False

        path = nets["reset"].poll_path
        cases = [
            Case(nets["refused"], r"Couldn't connect|Failed to connect",
                 lambda n: n.fake.go_away(), lambda n: n.fake.come_back(),
                 lambda c: err_seen_for(c, 9)),
            Case(nets["reset"], r"[Rr]eset by peer|Connection reset|Recv failure|SSL_read",
                 lambda n: n.fake.inject_wire("rst", count=10000, path=path), lambda n: n.fake.clear_faults(),
                 lambda c: len(attempts(poll_faults(c.net))) >= 4),
            Case(nets["cutoff"], r"transfer closed|partial|bytes remaining",
                 lambda n: n.fake.inject(count=10000, path=path, truncate=True), lambda n: n.fake.clear_faults(),
                 lambda c: len(attempts(poll_faults(c.net))) >= 4),
            Case(nets["dropped"], r"Empty reply|closed|reset|Connection",
                 lambda n: n.fake.drop_next(10000, path=path), lambda n: n.fake.clear_faults(),
                 lambda c: len(attempts(poll_faults(c.net))) >= 4),
            # Second timeout reported ~16 s after the first (1 s backoff + 15 s).
            Case(nets["blackholed"], r"[Tt]ime(d)? ?out|Timeout was reached",
                 lambda n: relay.blackhole(), lambda n: relay.open(),
                 lambda c: err_seen_for(c, 17.5)),
            # Lifting these faults leaves the attempt in flight stalled (its
            # connection is held, its drip goes on): the second attempt has
            # begun, so it fails too, and the third finds a good server.
            Case(nets["handshake"], r"SSL connection timeout|[Tt]ime(d)? ?out",
                 stall_start, stall_end,
                 lambda c: c.net.fake.stalled_handshakes >= 2),
            Case(nets["drip"], r"too slow|[Tt]ime(d)? ?out",
                 lambda n: n.fake.inject_wire("drip", count=10000, path=path), lambda n: n.fake.clear_faults(),
                 lambda c: len(poll_faults(c.net)) >= 2),
        ]

        t0 = time.monotonic()
        for c in cases:
            c.apply(c.net)
            m = run.marker(c.name)
            c.net.add(m)
            c.pending.append(m)

        # Other accounts keep working while every fault is on (a stalled
        # handshake and a dripping body are in flight right now).
        healthy = [run.healthy_still_works(ok, "ok-during")]

        deadline = t0 + 120
        while time.monotonic() < deadline:
            h.check_heedd()
            st = {a["name"]: a for a in run.status()["accounts"]}
            active = False
            for c in cases:
                if c.cleared_at is None:
                    active = True
                    err = st[c.name].get("error") or ""
                    if c.first_error_at is None and err:
                        c.first_error_at = time.monotonic()
                        self.assertRegex(err, c.pattern, f"{c.name}: the error names the fault")
                        self.assertIn(st[c.name]["health"], ("retrying", "error"), st[c.name])
                    if c.first_error_at is not None and not c.added_second:
                        # Mentions keep arriving while the server is broken.
                        m = run.marker(c.name)
                        c.net.add(m)
                        c.pending.append(m)
                        c.added_second = True
                    if c.enough(c):
                        c.clear(c.net)
                        c.cleared_at = time.monotonic()
                elif not all(run.stored(m) for m in c.pending):
                    active = True
            if not active:
                break
            time.sleep(0.25)
        not_done = [c.name for c in cases if c.cleared_at is None or not all(run.stored(m) for m in c.pending)]
        self.assertEqual(not_done, [], "faults that did not end with every mention stored")

        healthy.append(run.healthy_still_works(ok, "ok-after"))
        for c in cases:
            run.wait_shown(c.pending, 20)
        h.pause(2)
        self.assertTrue(h.heedd_running())
        run.assert_once(healthy + [m for c in cases for m in c.pending])

        for c in cases:
            with self.subTest(fault=c.name):
                self.assertEqual(run.health(c.name), "ok")
                run.assert_logged_once(c.name, c.pattern)
                run.assert_recovered_logged(c.name)
        self.assertEqual(run.problem_lines("ok"), [], "the healthy account logged no problem")

        # Retries back off: the gaps between failed attempts grow, no hammering.
        for name in ("reset", "cutoff", "dropped"):
            reqs = [r for r in nets[name].fake.fault_requests(path)]
            g = gaps(reqs)
            with self.subTest(backoff=name):
                self.assertGreaterEqual(len(g), 3, g)
                self.assertTrue(all(b >= a * 1.4 for a, b in zip(g, g[1:])), f"{name}: gaps grow: {g}")
                self.assertGreaterEqual(g[0], 0.9, g)
        self.assertNotIn(ok.fake.token, h.heedd_log())

    def test_dns_failure(self):
        with Harness(time_limit=90) as h:
            run = FaultRun(h, self)
            ok = MastodonNet(h, "ok")
            dns = MastodonNet(h, "dnsfail")
            good = [ok.account(), dns.account()]
            h.write_config(good, poll_interval=1, extra=base_extra())
            h.start_heedd()
            run.wait_ok(["ok", "dnsfail"])

            h.write_config([ok.account(), dns.account(server="https://nonexistent.invalid")],
                           poll_interval=1, extra=base_extra())
            rc, out, err = h.heed("reload")
            self.assertEqual(rc, 0, err)
            pending = [run.marker("dns")]
            dns.add(pending[0])
            run.wait_error("dnsfail", r"[Rr]esolve|nonexistent\.invalid")
            self.assertEqual(run.health("dnsfail"), "retrying")
            healthy = [run.healthy_still_works(ok, "ok-during")]
            pending.append(run.marker("dns"))
            dns.add(pending[-1])
            h.pause(8)          # attempts at about 0, 1, 3 and 7 s
            self.assertTrue(h.heedd_running())
            run.assert_logged_once("dnsfail", r"[Rr]esolve")

            # The user fixes the address.
            h.write_config(good, poll_interval=1, extra=base_extra())
            rc, out, err = h.heed("reload")
            self.assertEqual(rc, 0, err)
            run.wait_shown(pending, 20)
            run.assert_once(healthy + pending, settle=2)
            self.assertEqual(run.health("dnsfail"), "ok")
            self.assertEqual(len(run.problem_lines("dnsfail")), 1, run.problem_lines("dnsfail"))


if __name__ == "__main__":
    main()
