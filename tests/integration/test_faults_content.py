#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Hostile bodies on all four networks, one heedd, a healthy Mastodon
account beside the faulty ones:

  malformed JSON         a 200 whose body is not JSON
  truncated JSON         a complete HTTP answer whose JSON stops half way
  deeply nested JSON     100,000 levels of "[", as a 200 and as a 500's body
  wrong-typed JSON       an object where an array belongs, items that are
                         numbers, strings or nulls, ids that are numbers,
                         cursors that are not strings
  invalid UTF-8          raw invalid bytes in a display name, and an escaped
                         lone surrogate (\\udcff, what a server written in a
                         language with 16-bit strings emits for a cut emoji)
                         in a post's text
  a body over the cap    9 MiB, with Content-Length and chunked (8 MiB cap)

For each: heedd stays up, the healthy account keeps notifying, the faulty
account recovers when the server does (for invalid UTF-8: it never stops
working), every mention that arrived meanwhile is stored and notified
exactly once, and the log names the problem once. `heed list` prints valid
UTF-8.
"""

import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from faults import FaultRun, NETS, base_extra  # noqa: E402
from harness import Harness, build_dir, main  # noqa: E402

NESTED = b"[" * 100_000
BIG = b'["' + b"a" * (9 * 1024 * 1024) + b'"]'

# Whole bodies of the wrong shape, one after another.
WRONG = {
    "mastodon": [b'{"id": "1", "type": "mention"}', b'"notifications"', b'{"error": 5}'],
    "bluesky": [b'{"notifications": {"a": 1}}', b'[]', b'{"notifications": "none"}'],
    "github": [b'{"message": "not a list"}', b'true', b'{"0": {"id": "1"}}'],
    "x": [b'{"data": {"id": "1"}}', b'[]', b'{"errors": "none", "data": 7}'],
}


def _now_iso():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def broken_items(network):
    """Two items of the wrong shape that a hostile server keeps in every page."""
    if network == "mastodon":
        return [5, {"id": ["x"], "type": "mention", "status": "s"}]
    if network == "bluesky":
        return [5, {"indexedAt": "not a time", "reason": "mention", "uri": []}]
    if network == "github":
        return [5, {"id": "777", "reason": "mention", "updated_at": _now_iso(),
                    "repository": {"full_name": "not a repo!"}, "subject": []}]
    return [5, {"id": "not-a-number", "text": 7}]


def with_broken_items(network):
    def fn(req, resp):
        if resp.status != 200:
            return None
        try:
            doc = json.loads(resp.body or b"null")
        except ValueError:
            return None
        extra = broken_items(network)
        if network in ("mastodon", "github") and isinstance(doc, list):
            doc = doc + extra
        elif network == "bluesky" and isinstance(doc, dict):
            doc["notifications"] = list(doc.get("notifications") or []) + extra
        elif network == "x" and isinstance(doc, dict):
            doc["data"] = list(doc.get("data") or []) + extra
        else:
            return None
        return type(resp)(status=200, body=json.dumps(doc).encode(), headers=dict(resp.headers),
                          content_type=resp.content_type)
    return fn


def bad_utf8(req, resp):
    """Raw invalid UTF-8 where a text says BADRAW, an escaped lone surrogate
    where it says BADSUR (a display name or a post)."""
    body = resp.body.replace(b"BADRAW", b"Bad\xff\xfe\xc3(Raw").replace(b"BADSUR", b"Cut \\udcff Sur")
    if body == resp.body:
        return None
    return type(resp)(status=resp.status, body=body, headers=dict(resp.headers), content_type=resp.content_type)


def feed_while_failing(run, cases, timeout=40):
    """While the faults last, one more mention arrives after each failed
    attempt (mentions keep coming while a server misbehaves). Returns when
    every injected fault has been served."""
    h = run.h
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        h.check_heedd()
        busy = False
        for c in cases:
            served = len(c["net"].fake.fault_requests(c["net"].poll_path))
            if served < c["faults"]:
                busy = True
            if served > c["fed"] and served <= c["faults"]:
                c["fed"] = served
                m = run.marker(c["name"])
                c["net"].add(m)
                c["pending"].append(m)
        if not busy:
            return
        time.sleep(0.1)
    raise AssertionError("faults not all served: " + ", ".join(
        f"{c['name']} {len(c['net'].fake.fault_requests(c['net'].poll_path))}/{c['faults']}" for c in cases))


class ContentFaults(unittest.TestCase):
    def test_hostile_bodies(self):
        with Harness(time_limit=150) as h:
            run = FaultRun(h, self)
            ok = NETS["mastodon"](h, "ok")
            cases = []
            for kind in ("malformed", "truncated", "nested", "wrongtype"):
                for network, cls in NETS.items():
                    name = f"{kind[:5]}{network[0]}"
                    cases.append({"kind": kind, "name": name, "net": cls(h, name)})
            cases.append({"kind": "cap_length", "name": "capcl", "net": NETS["mastodon"](h, "capcl")})
            cases.append({"kind": "cap_chunked", "name": "capch", "net": NETS["github"](h, "capch")})
            h.write_config([ok.account()] + [c["net"].account() for c in cases], poll_interval=1,
                           extra=base_extra())
            h.start_heedd()
            run.wait_ok(["ok"] + [c["name"] for c in cases], timeout=40)

            patterns = {"malformed": r"malformed JSON", "truncated": r"malformed JSON",
                        "nested": r"malformed JSON|HTTP 500",
                        "wrongtype": r"expected a JSON|is not an array|no \"notifications\" array",
                        "cap_length": r"[Mm]aximum file size|larger than|exceeded",
                        "cap_chunked": r"larger than \d+ bytes"}
            for c in cases:
                net, p = c["net"], c["net"].poll_path
                kind = c["kind"]
                if kind == "malformed":
                    c["faults"] = 4
                    net.fake.fail_next(4, status=200, body=b'{"notifications": [ {"id": ', path=p)
                elif kind == "truncated":
                    c["faults"] = 4
                    net.fake.inject_wire("cut_json", count=4, path=p)
                elif kind == "nested":
                    c["faults"] = 3
                    net.fake.fail_next(1, status=200, body=NESTED, path=p)
                    net.fake.fail_next(1, status=500, body=NESTED, path=p)
                    net.fake.fail_next(1, status=200, body=NESTED + b"]" * 100_000, path=p)
                elif kind == "wrongtype":
                    c["faults"] = len(WRONG[net.network])
                    for body in WRONG[net.network]:
                        net.fake.fail_next(1, status=200, body=body, path=p)
                elif kind == "cap_length":
                    c["faults"] = 3
                    net.fake.fail_next(3, status=200, body=BIG, path=p)
                elif kind == "cap_chunked":
                    c["faults"] = 3
                    net.fake.inject_wire("chunked", count=3, path=p, status=200, body=BIG)
                c["pending"] = [run.marker(c["name"])]
                c["fed"] = 0
                net.add(c["pending"][0])

            healthy = [run.healthy_still_works(ok, "ok-during")]
            feed_while_failing(run, cases)

            every = [m for c in cases for m in c["pending"]]
            run.wait_stored(every, timeout=40)
            run.wait_shown(every, timeout=20)
            healthy.append(run.healthy_still_works(ok, "ok-after"))
            run.assert_once(healthy + every, settle=2)
            self.assertTrue(h.heedd_running())
            for c in cases:
                with self.subTest(fault=c["name"]):
                    self.assertEqual(run.health(c["name"]), "ok")
                    # nested and wrongtype serve three different bodies: three messages.
                    run.assert_logged_once(c["name"], patterns[c["kind"]],
                                           allow=3 if c["kind"] in ("nested", "wrongtype") else 2)
                    run.assert_recovered_logged(c["name"])
            self.assertEqual(run.problem_lines("ok"), [])

    def test_broken_items_in_every_page(self):
        """Items of the wrong type that a server keeps sending: skipped, the
        account keeps working, and the log says so once, not every poll."""
        with Harness(time_limit=90) as h:
            run = FaultRun(h, self)
            ok = NETS["mastodon"](h, "ok")
            nets = {f"items{network[0]}": cls(h, f"items{network[0]}") for network, cls in NETS.items()}
            h.write_config([ok.account()] + [n.account() for n in nets.values()], poll_interval=1,
                           extra=base_extra())
            h.start_heedd()
            run.wait_ok(["ok"] + list(nets), timeout=30)
            pending = []
            for name, net in nets.items():
                net.fake.inject_wire("transform", count=100_000, path=net.poll_path, fn=with_broken_items(net.network))
                pending.append(run.marker(name))
                net.add(pending[-1])
            run.wait_stored(pending, timeout=20)
            # Ten more seconds of polls (and one more mention each on the way).
            h.pause(5)
            for name, net in nets.items():
                pending.append(run.marker(name))
                net.add(pending[-1])
            h.pause(5)
            run.wait_shown(pending, timeout=20)
            run.assert_once(pending + [run.healthy_still_works(ok, "ok-during")], settle=1)
            for name, net in nets.items():
                with self.subTest(account=name):
                    self.assertEqual(run.health(name), "ok")
                    served = [r for r in net.fake.fault_requests(net.poll_path) if r.status == 200]
                    # GitHub answers 304 while nothing changes: two full pages only.
                    want = 2 if net.network == "github" else 5
                    self.assertGreaterEqual(len(served), want, f"{name}: polled on with the broken items")
                    lines = run.problem_lines(name)
                    self.assertGreaterEqual(len(lines), 1, f"{name}: the broken items are mentioned")
                    self.assertLessEqual(len(lines), 2, f"{name}: logged on every poll ({len(served)} pages):\n"
                                         + "\n".join(lines[:12]))

    def test_invalid_utf8(self):
        """One post with invalid UTF-8 (raw bytes, or an escaped lone
        surrogate) must not make an account unreadable: the page is read,
        the bad bytes are replaced, later mentions come in."""
        with Harness(time_limit=90) as h:
            run = FaultRun(h, self)
            ok = NETS["mastodon"](h, "ok")
            nets = {}
            for variant in ("raw", "sur"):
                for network, cls in NETS.items():
                    name = f"{variant}{network[0]}"
                    nets[name] = (variant, cls(h, name))
            h.write_config([ok.account()] + [n.account() for _, n in nets.values()], poll_interval=1,
                           extra=base_extra())
            h.start_heedd()
            run.wait_ok(["ok"] + list(nets), timeout=30)
            firsts = {}
            for name, (variant, net) in nets.items():
                net.fake.inject_wire("transform", count=100_000, path=net.poll_path, fn=bad_utf8)
                m = run.marker(name)
                firsts[name] = m
                bad = "BADRAW" if variant == "raw" else "BADSUR"
                if net.network == "mastodon":
                    net.fake.add_mention(acct="pal1@fake.social", display_name=bad, text_html=f"<p>{m} {bad}</p>")
                elif net.network == "bluesky":
                    net.fake.add_mention(handle="pal1.test", display_name=bad, text=f"@{net.fake.handle} {m} {bad}")
                elif net.network == "github":
                    net.fake.add_thread(reason="mention", title=f"{m} {bad}", type="Issue", repo="octo-org/widgets")
                else:
                    net.fake.add_mention(username="pal1", name=bad, text=f"@{net.fake.me['username']} {m} {bad}")
            healthy = [run.healthy_still_works(ok, "ok-during")]
            # A later, ordinary mention on each account.
            later = {}
            for name, (variant, net) in nets.items():
                later[name] = run.marker(name)
                net.add(later[name])

            every = list(firsts.values()) + list(later.values())
            run.wait_stored(every, timeout=20)
            run.wait_shown(every, timeout=20)
            run.assert_once(healthy + every, settle=1)
            for name in nets:
                self.assertEqual(run.health(name), "ok", name)

            exe = os.path.join(build_dir(), "heed")
            for argv in (["list", "--all"], ["list", "--json", "--all"]):
                p = subprocess.run([exe, *argv], env=h.env, capture_output=True, timeout=15)
                self.assertEqual(p.returncode, 0, p.stderr)
                text = p.stdout.decode("utf-8")          # strict: raises on invalid UTF-8
                self.assertNotIn("\udcff", text)
            rows = json.loads(p.stdout.decode("utf-8"))
            for name, m in firsts.items():
                row = next(r for r in rows if m in (r.get("text") or "") + (r.get("context") or ""))
                shown = json.dumps(row, ensure_ascii=False)
                word = "Raw" if name.startswith("raw") else "Sur"
                self.assertIn(word, shown, row)
            for n in h.shown():
                (n.summary + n.body).encode("utf-8")


if __name__ == "__main__":
    main()
