#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HTTP-level faults on all four networks, one heedd, a healthy Mastodon
account beside the faulty ones:

  500 / 502 / 503      retried with backoff, then the account recovers
  429 + reset header   each network's own: Mastodon X-RateLimit-Reset (ISO
                       8601), Bluesky RateLimit-Reset (epoch), GitHub
                       x-ratelimit-reset with x-ratelimit-remaining 0 (on
                       403 and on 429), X x-rate-limit-reset (epoch): no
                       request at all before the reset
  redirects            to http:// and to another host (301/302/307/308):
                       not followed, the token goes nowhere else
  certificates         from an unknown CA, and for another host name:
                       refused, no HTTP request is ever made
  401 / 403            health "needs-attention", no retry within 10 s (the
                       next is in 15 min), recovery once the token is fixed
                       and heedd reloaded

For each: heedd stays up, the healthy account keeps notifying, mentions that
arrived during the fault are stored and notified exactly once after it, and
the log names the fault once.
"""

import datetime as _dt
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_bluesky import REFRESH  # noqa: E402
from faults import (BlueskyNet, FaultRun, FaultyMastodon, GitHubNet, MastodonNet, XNet,  # noqa: E402
                    attempts, base_extra, wall)
from harness import Harness, main  # noqa: E402


def iso_reset(t):
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Case:
    def __init__(self, net, pattern, apply, allow=2, health=("retrying",)):
        self.net, self.pattern, self.apply = net, pattern, apply
        self.allow, self.health = allow, health
        self.pending = []
        self.info = {}

    @property
    def name(self):
        return self.net.name


class HttpFaults(unittest.TestCase):
    def test_server_errors_rate_limits_redirects_certificates(self):
        with Harness(time_limit=150) as h:
            run = FaultRun(h, self)
            ok = MastodonNet(h, "ok")
            elsewhere = FaultyMastodon().start()        # configured for no account
            h.fakes.append(elsewhere)
            nets = {
                "m500": MastodonNet(h, "m500"), "b502": BlueskyNet(h, "b502"),
                "g503": GitHubNet(h, "g503"), "x5xx": XNet(h, "x5xx"),
                "m429": MastodonNet(h, "m429"), "b429": BlueskyNet(h, "b429"),
                "g403rl": GitHubNet(h, "g403rl"), "g429rl": GitHubNet(h, "g429rl"), "x429": XNet(h, "x429"),
                "mredir": MastodonNet(h, "mredir"), "gredir": GitHubNet(h, "gredir"),
                "bredir": BlueskyNet(h, "bredir"), "xredir": XNet(h, "xredir"),
                "certca": MastodonNet(h, "certca"), "certhost": GitHubNet(h, "certhost"),
            }
            h.write_config([ok.account()] + [n.account() for n in nets.values()], poll_interval=1,
                           extra=base_extra())
            h.start_heedd()
            run.wait_ok(["ok"] + list(nets), timeout=40)

            reset = int(time.time()) + 6

            def fail(net, n, status, headers=None, body=None):
                return net.fake.fail_next(n, status=status, headers=headers, body=body, path=net.poll_path)

            def x5xx(net):
                for st in (500, 502, 503):
                    fail(net, 1, st)

            http_to = f"http://127.0.0.1:{elsewhere.port}"
            https_other = f"https://localhost:{elsewhere.port}"
            cases = [
                Case(nets["m500"], r"HTTP 500", lambda n: fail(n, 3, 500)),
                Case(nets["b502"], r"HTTP 502", lambda n: fail(n, 3, 502)),
                Case(nets["g503"], r"HTTP 503", lambda n: fail(n, 3, 503)),
                Case(nets["x5xx"], r"HTTP 50[023]", x5xx, allow=3),
                Case(nets["m429"], r"HTTP 429", lambda n: fail(n, 1, 429, {"X-RateLimit-Remaining": "0",
                                                                           "X-RateLimit-Reset": iso_reset(reset)})),
                Case(nets["b429"], r"HTTP 429", lambda n: fail(n, 1, 429, {"RateLimit-Remaining": "0",
                                                                           "RateLimit-Reset": str(reset)},
                                                               {"error": "RateLimitExceeded",
                                                                "message": "Rate Limit Exceeded"})),
                Case(nets["g403rl"], r"HTTP 403.*rate limit",
                     lambda n: fail(n, 1, 403, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                                    n.fake.RATE_LIMITED_BODY)),
                Case(nets["g429rl"], r"HTTP 429",
                     lambda n: fail(n, 1, 429, {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)},
                                    n.fake.RATE_LIMITED_BODY)),
                Case(nets["x429"], r"HTTP 429", lambda n: fail(n, 1, 429, {"x-rate-limit-remaining": "0",
                                                                           "x-rate-limit-reset": str(reset)})),
                Case(nets["mredir"], r"HTTP 302",
                     lambda n: fail(n, 3, 302, {"Location": http_to + "/api/v1/notifications"})),
                Case(nets["gredir"], r"HTTP 301",
                     lambda n: fail(n, 3, 301, {"Location": https_other + "/notifications"})),
                Case(nets["bredir"], r"HTTP 308",
                     lambda n: fail(n, 3, 308, {"Location": http_to + n.poll_path.strip("^$").replace("\\", "")})),
                Case(nets["xredir"], r"HTTP 307",
                     lambda n: fail(n, 3, 307, {"Location": https_other + n.fake.mentions_path()})),
                Case(nets["certca"], r"certificate|issuer",
                     lambda n: (n.fake.go_away(), n.fake.come_back(cert="untrusted")), health=("error",)),
                Case(nets["certhost"], r"certificate|subject name|host name",
                     lambda n: (n.fake.go_away(), n.fake.come_back(cert="wrong_host")), health=("error",)),
            ]
            t_fault = time.time()
            for c in cases:
                c.mark_requests = len(c.net.fake.requests)
                c.apply(c.net)
                c.pending.append(run.marker(c.name))
                c.net.add(c.pending[-1])

            for c in cases:
                run.wait_error(c.name, c.pattern, timeout=15)
                self.assertIn(run.health(c.name), c.health, c.name)
            healthy = [run.healthy_still_works(ok, "ok-during")]

            # More mentions arrive while the faults last.
            for c in cases:
                c.pending.append(run.marker(c.name))
                c.net.add(c.pending[-1])

            # Certificates: refused at about 0, 1, 3 and 7 s (an unknown CA is
            # also seen by the server as a failed handshake; a wrong host name
            # is refused by the client after the server's side is done), then
            # the server gets a good certificate.
            h.pause(8)
            self.assertGreaterEqual(len(nets["certca"].fake.tls_errors), 3, nets["certca"].fake.tls_errors)
            for name in ("certca", "certhost"):
                self.assertIn(run.health(name), ("error",), name)
                fake = nets[name].fake
                bad = [r for r in fake.requests[next(c for c in cases if c.name == name).mark_requests:]
                       if wall(r) > t_fault]
                self.assertEqual(bad, [], f"{name}: no HTTP request over a refused certificate")
                fake.go_away()
                fake.come_back(cert="good")

            every = healthy + [m for c in cases for m in c.pending]
            run.wait_stored([m for c in cases for m in c.pending], timeout=40)
            run.wait_shown([m for c in cases for m in c.pending], timeout=20)
            healthy.append(run.healthy_still_works(ok, "ok-after"))
            every = healthy + [m for c in cases for m in c.pending]
            run.assert_once(every, settle=2)
            self.assertTrue(h.heedd_running())

            for c in cases:
                with self.subTest(fault=c.name):
                    self.assertEqual(run.health(c.name), "ok")
                    run.assert_logged_once(c.name, c.pattern, allow=c.allow)
                    run.assert_recovered_logged(c.name)
            self.assertEqual(run.problem_lines("ok"), [])

            # Rate limits: not one request before the reset.
            for c in cases:
                if "429" not in c.name and "403rl" not in c.name:
                    continue
                with self.subTest(rate_limit=c.name):
                    reqs = c.net.fake.requests
                    limited = [i for i, r in enumerate(reqs) if r.status in (403, 429)]
                    self.assertEqual(len(limited), 1, c.name)
                    after = reqs[limited[0] + 1:]
                    self.assertTrue(after, f"{c.name}: polled again after the reset")
                    self.assertGreaterEqual(wall(after[0]), reset - 0.05,
                                            f"{c.name}: a request {reset - wall(after[0]):.2f} s before the reset")

            # 5xx and redirects: backed off (attempts at ~0, 1, 3 s, then success at ~7 s).
            for c in cases:
                if c.name in ("m500", "b502", "g503", "x5xx", "mredir", "gredir", "bredir", "xredir"):
                    with self.subTest(backoff=c.name):
                        fails = attempts([r for r in c.net.polls() if r.fault])
                        self.assertEqual(len(fails), 3, c.name)
                        g = [wall(b) - wall(a) for a, b in zip(fails, fails[1:])]
                        self.assertGreaterEqual(g[0], 0.9, g)
                        self.assertGreaterEqual(g[1], 1.8, g)

            # Redirects were never followed: the other server saw nothing.
            self.assertEqual(elsewhere.requests, [], "a redirect was followed")
            self.assertEqual(elsewhere.tls_errors, [], "a redirect was followed (plain http to a TLS port)")
            log = h.heedd_log()
            for net in [ok] + list(nets.values()):
                self.assertNotIn(getattr(net.fake, "token", None) or net.fake.password, log)

    def test_auth_refused(self):
        with Harness(time_limit=120) as h:
            run = FaultRun(h, self)
            ok = MastodonNet(h, "ok")
            nets = {}
            for status in (401, 403):
                for cls, prefix in ((MastodonNet, "m"), (BlueskyNet, "b"), (GitHubNet, "g"), (XNet, "x")):
                    name = f"{prefix}{status}"
                    nets[name] = cls(h, name)
            h.write_config([ok.account()] + [n.account() for n in nets.values()], poll_interval=1,
                           extra=base_extra())
            h.start_heedd()
            run.wait_ok(["ok"] + list(nets), timeout=40)

            pending = {}
            for name, net in nets.items():
                status = int(name[1:])
                body = None
                if net.network == "github" and status == 403:
                    body = {"message": "Resource not accessible by personal access token"}
                if net.network == "bluesky":
                    body = {"error": "AuthenticationRequired" if status == 401 else "Forbidden",
                            "message": "refused"}
                net.fake.fail_next(10000, status=status, body=body, path=net.poll_path)
                pending[name] = [run.marker(name)]
                net.add(pending[name][0])
            for name in nets:
                run.wait_health(name, "needs-attention", timeout=15)
            rc, out, err = h.heed("status", "--json")
            self.assertEqual(rc, 0, err)
            health = {a["name"]: a["health"] for a in json.loads(out)["accounts"]}
            self.assertEqual({n: health[n] for n in nets}, {n: "needs-attention" for n in nets})
            self.assertEqual(health["ok"], "ok")
            healthy = [run.healthy_still_works(ok, "ok-during")]

            # No hammering: not one request in the next 10 s.
            counts = {name: len(net.fake.requests) for name, net in nets.items()}
            h.pause(10)
            for name, net in nets.items():
                with self.subTest(no_retry=name):
                    self.assertEqual(len(net.fake.requests), counts[name],
                                     f"{name}: requests after needs-attention: "
                                     f"{[r.path for r in net.fake.requests[counts[name]:]]}")
                    self.assertEqual(run.health(name), "needs-attention")
                    st = run.account_status(name)
                    self.assertRegex(st["error"], rf"HTTP {name[1:]}|refused|{name[1:]}", st)
                    run.assert_logged_once(name, rf"{name[1:]}", allow=1)
            # Bluesky tried to renew the session once on 401, not on 403.
            self.assertEqual(len(nets["b401"].fake.requests_to(REFRESH, method="POST")), 1)
            self.assertEqual(len(nets["b403"].fake.requests_to(REFRESH, method="POST")), 0)
            healthy.append(run.healthy_still_works(ok, "ok-during2"))

            # The user fixes the token and reloads: everything that waited comes in once.
            for name, net in nets.items():
                net.fake.clear_faults()
                pending[name].append(run.marker(name))
                net.add(pending[name][-1])
            rc, out, err = h.heed("reload")
            self.assertEqual(rc, 0, err)
            every = [m for ms in pending.values() for m in ms]
            run.wait_shown(every, 30)
            run.assert_once(healthy + every, settle=2)
            for name in nets:
                self.assertEqual(run.health(name), "ok", name)
            self.assertTrue(h.heedd_running())


if __name__ == "__main__":
    main()
