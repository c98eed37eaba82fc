#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Paging that misbehaves, on all four networks (catchup_max_pages = 3),
one heedd, a healthy Mastodon account beside the faulty ones:

  a page that repeats the previous page's items
            Mastodon and X follow the cursor to a copy of the first page,
            Bluesky gets its own cursor back, GitHub's page 2 is page 1
  ids that go backwards
            a page oldest-first that also carries everything already seen
            (a server that ignores since_id); a GitHub thread state seen
            before comes back
  a cursor that never ends
            Mastodon: Link rel="next" on every answer; Bluesky: a cursor on
            every answer, pages empty; GitHub: Link rel="next" on every
            answer; X: meta.next_token on every answer, pages empty

For each: heedd stays up, the healthy account keeps notifying, every new
mention is stored and notified exactly once (nothing seen before is
notified again), a poll reads at most catchup_max_pages pages, polls go on
on schedule, the cursor never moves backwards, and the log says what
happened once rather than every poll.
"""

import dataclasses
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from faults import NETS, FaultRun, Response, base_extra, wall  # noqa: E402
from harness import Harness, main  # noqa: E402

PAGES = 3
CURSOR_PARAM = {"mastodon": "max_id", "bluesky": "cursor", "github": "page", "x": "pagination_token"}


def reroute(fake, req, drop=(), **set_params):
    """The fake's own answer to req with some query parameters dropped or set."""
    q = {k: v for k, v in req.query.items() if k not in drop}
    for k, v in set_params.items():
        q[k] = [v]
    return fake._route(dataclasses.replace(req, query=q))


def is_first_page(network, req):
    v = req.param(CURSOR_PARAM[network])
    return v is None or (network == "github" and v == "1")


def json_resp(resp, doc, headers=None):
    h = dict(resp.headers)
    h.update(headers or {})
    return Response(status=200, body=json.dumps(doc).encode(), headers=h, content_type=resp.content_type)


# ---------------------------------------------------------------- hostile servers


def repeat_pages(net):
    """The page after the first is the first page again."""
    fake, network = net.fake, net.network

    def fn(req, resp):
        if resp.status != 200 and is_first_page(network, req):
            return None
        if network == "mastodon":
            return None if is_first_page(network, req) else reroute(fake, req, drop=("max_id",))
        if network == "bluesky":
            return None if is_first_page(network, req) else reroute(fake, req, drop=("cursor",))
        if network == "github":
            base = resp if is_first_page(network, req) else reroute(fake, req, drop=("page",))
            page = int(req.param("page") or 1)
            link = f'<{fake.base_url}/notifications?participating=true&per_page=50&page={page + 1}>; rel="next"'
            return Response(200, base.body, dict(base.headers, Link=link), base.content_type)
        base = resp if is_first_page(network, req) else reroute(fake, req, drop=("pagination_token",))
        doc = json.loads(base.body)
        if doc.get("data"):
            doc.setdefault("meta", {})["next_token"] = "repeat"
        return json_resp(base, doc)
    return fn


def backwards(net):
    """Everything the server has, oldest first, whatever the cursor says."""
    fake, network = net.fake, net.network

    def fn(req, resp):
        if resp.status != 200:
            return None
        if network == "mastodon":
            base = reroute(fake, req, drop=("since_id", "max_id", "min_id"))
            return json_resp(base, list(reversed(json.loads(base.body))))
        if network == "bluesky":
            doc = json.loads(resp.body)
            doc["notifications"] = list(reversed(doc.get("notifications") or []))
            return json_resp(resp, doc)
        if network == "github":
            doc = json.loads(resp.body)
            return json_resp(resp, list(reversed(doc)))
        base = reroute(fake, req, drop=("since_id", "pagination_token"))
        doc = json.loads(base.body)
        if doc.get("data"):
            doc["data"] = list(reversed(doc["data"]))
            doc.get("meta", {}).pop("next_token", None)
        return json_resp(base, doc)
    return fn


def endless(net):
    """A cursor on every answer, forever."""
    fake, network = net.fake, net.network
    served = set()
    n = [0]

    def fn(req, resp):
        if resp.status != 200 and is_first_page(network, req):
            return None
        n[0] += 1
        if network == "mastodon":
            base = resp if is_first_page(network, req) else reroute(fake, req, drop=("max_id",))
            link = (f'<{fake.base_url}/api/v1/notifications?limit=80&max_id={10**12 - n[0]}'
                    f'&types%5B%5D=mention>; rel="next"')
            return Response(200, base.body, dict(base.headers, Link=link), base.content_type)
        if network == "bluesky":
            if is_first_page(network, req):
                doc = json.loads(resp.body)
                fresh = [x for x in doc.get("notifications") or [] if x["uri"] not in served]
                served.update(x["uri"] for x in fresh)
                return json_resp(resp, {"notifications": fresh, "cursor": f"opaque-{n[0]}"})
            return json_resp(resp, {"notifications": [], "cursor": f"opaque-{n[0]}"})
        if network == "github":
            base = resp if is_first_page(network, req) else reroute(fake, req, drop=("page",))
            page = int(req.param("page") or 1)
            link = f'<{fake.base_url}/notifications?participating=true&per_page=50&page={page + 1}>; rel="next"'
            return Response(200, base.body, dict(base.headers, Link=link), base.content_type)
        if is_first_page(network, req):
            doc = json.loads(resp.body)
        else:
            doc = {"meta": {"result_count": 0}}
        doc.setdefault("meta", {})["next_token"] = f"more{n[0]}"
        return json_resp(resp, doc)
    return fn


# ---------------------------------------------------------------- checks


def chains(net):
    """Poll requests grouped by poll: each starts with a first-page request."""
    out = []
    for r in net.polls():
        if is_first_page(net.network, r) or not out:
            out.append([r])
        else:
            out[-1].append(r)
    return out


class PagingFaults(unittest.TestCase):
    def _start(self, h, run, kinds):
        ok = NETS["mastodon"](h, "ok")
        nets = {}
        for kind in kinds:
            for network, cls in NETS.items():
                name = f"{kind}{network[0]}"
                nets[name] = (kind, cls(h, name))
        h.write_config([ok.account()] + [n.account(catchup_max_pages=PAGES) for _, n in nets.values()],
                       poll_interval=1, extra=base_extra())
        h.start_heedd()
        run.wait_ok(["ok"] + list(nets), timeout=30)
        return ok, nets

    def _add(self, run, name, net, n):
        ms = []
        for _ in range(n):
            ms.append(run.marker(name))
            net.add(ms[-1])
        return ms

    def test_repeated_pages_and_ids_backwards(self):
        with Harness(time_limit=120) as h:
            run = FaultRun(h, self)
            ok, nets = self._start(h, run, ("rep", "back"))
            # Seen before the faults: notified once now, never again.
            old = {}
            for name, (kind, net) in nets.items():
                if kind == "back":
                    old[name] = self._add(run, name, net, 2)
            run.wait_shown([m for ms in old.values() for m in ms], 20)
            old_threads = {}
            for name, (kind, net) in nets.items():
                if kind == "back" and net.network == "github":
                    # The first thread gets a comment: its first state was seen, so was the new one.
                    tid = next(iter(net.fake._threads))
                    old_threads[name] = (tid, net.fake.thread(tid)["updated_at"])
                    h.pause(1.1)
                    net.fake.comment_on(tid)
            h.wait_until(lambda: all(len([m for m in h.heed_list() if m["account"] == n]) >= 3
                                     for n in old_threads), 15, "the comment stored")
            since_before = {}
            for name, (kind, net) in nets.items():
                if kind == "back" and net.network in ("mastodon", "x"):
                    since_before[name] = [r.param("since_id") for r in net.polls() if r.param("since_id")][-1]

            pending = {}
            for name, (kind, net) in nets.items():
                net.fake.inject_wire("transform", count=100_000, path=net.poll_path,
                                     fn=repeat_pages(net) if kind == "rep" else backwards(net))
                # Mastodon follows a page only when it is full (30).
                n = 30 if (kind == "rep" and net.network == "mastodon") else 2
                pending[name] = self._add(run, name, net, n)
            for name, (tid, t) in old_threads.items():
                # The server goes back to the thread's earlier state (seen before).
                fake = nets[name][1].fake
                with fake._mlock:
                    fake._threads[tid]["updated_at"] = t
                fake._touch()
            healthy = [run.healthy_still_works(ok, "ok-during")]
            every = [m for ms in pending.values() for m in ms]
            run.wait_stored(every, 30)
            run.wait_shown(every, 30)
            h.pause(5)             # more polls with the faults on
            healthy.append(run.healthy_still_works(ok, "ok-after"))
            commented = [old[name][0] for name in old_threads]   # two states of one thread: two mentions
            run.assert_once(healthy + every + [m for ms in old.values() for m in ms if m not in commented],
                            settle=1)
            for m in commented:
                self.assertEqual(len(run.stored(m)), 2, f"{m}: its two states, and no third")
                self.assertEqual(len(h.shown(m)), 2, f"{m}: notified once per state")
            self.assertTrue(h.heedd_running())

            for name, (kind, net) in nets.items():
                with self.subTest(account=name):
                    self.assertEqual(run.health(name), "ok")
                    longest = max(len(c) for c in chains(net))
                    self.assertLessEqual(longest, PAGES, f"{name}: a poll read more than catchup_max_pages pages")
                    self.assertGreaterEqual(len(net.fake.fault_requests(net.poll_path)), 5, name)
                    if kind == "rep":
                        # The copy was followed (Bluesky stops at its own cursor coming back).
                        self.assertEqual(longest, 2 if net.network == "bluesky" else PAGES, name)
                    self.assertGreaterEqual(len(chains(net)), 5, f"{name}: polling went on")
                    notices = run.notice_lines(name, "pages")
                    self.assertLessEqual(len(notices), 1, "\n".join(notices))
                    run_lines = run.problem_lines(name)
                    self.assertLessEqual(len(run_lines), 1, "\n".join(run_lines))
            for name, before in since_before.items():
                with self.subTest(cursor=name):
                    net = nets[name][1]
                    after = [r.param("since_id") for r in net.polls() if r.param("since_id")]
                    ids = [int(x) for x in after]
                    self.assertEqual(ids, sorted(ids), f"{name}: since_id went backwards")
                    self.assertGreaterEqual(ids[-1], int(before))
            for name in old_threads:
                rows = [m for m in h.heed_list() if m["account"] == name]
                self.assertEqual(len(rows), 2 + 1 + 2, f"{name}: the older thread state is not a new mention: "
                                 + json.dumps([r["text"] for r in rows]))

    def test_cursor_that_never_ends(self):
        with Harness(time_limit=120) as h:
            run = FaultRun(h, self)
            ok, nets = self._start(h, run, ("endless",))
            pending = {}
            for name, (kind, net) in nets.items():
                net.fake.inject_wire("transform", count=100_000, path=net.poll_path, fn=endless(net))
                n = 30 if net.network == "mastodon" else 2
                pending[name] = self._add(run, name, net, n)
            healthy = [run.healthy_still_works(ok, "ok-during")]
            every = [m for ms in pending.values() for m in ms]
            run.wait_stored(every, 30)
            run.wait_shown(every, 30)
            t_idle = time.time()
            h.pause(8)             # polls with nothing new, the cursor still going
            healthy.append(run.healthy_still_works(ok, "ok-after"))
            run.assert_once(healthy + every, settle=1)
            self.assertTrue(h.heedd_running())
            for name, (kind, net) in nets.items():
                with self.subTest(account=name):
                    self.assertEqual(run.health(name), "ok")
                    cs = chains(net)
                    self.assertEqual(max(len(c) for c in cs), PAGES,
                                     f"{name}: a poll read more than catchup_max_pages pages (or the cursor "
                                     "was not followed)")
                    recent = [c for c in cs if wall(c[0]) >= t_idle + 2]
                    self.assertGreaterEqual(len(recent), 3, f"{name}: polls go on on schedule")
                    notices = run.notice_lines(name, "pages")
                    self.assertLessEqual(len(notices), 1, f"{name}: the same notice on every poll:\n"
                                         + "\n".join(notices[:6]))
                    self.assertEqual(run.problem_lines(name), [])


if __name__ == "__main__":
    main()
