#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Mastodon streaming: mentions pushed over the SSE stream are notified at
once, heartbeats keep the stream alive, a silent or cut stream is replaced
(with a catch-up poll so nothing is lost), a mention seen by both the stream
and a poll is notified once, and streaming = off / an unhealthy streaming
server leave heedd polling only.

The fake is fake_stream.FakeMastodonStreaming over real TLS. Latency figures
(push -> Notify for the stream, add -> Notify for polling with
poll_interval = 1) are printed at the end; docs/BENCHMARKS.md "Delivery
latency" records them.
"""

import json
import os
import random
import re
import statistics
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fake_stream import FakeMastodonStreaming, sse_event, start_streaming_fake  # noqa: E402
from harness import Harness, main  # noqa: E402

# Every mention gets its own popup: no digest after 5 popups in 2 minutes.
EXTRA = {"digest_threshold": 50, "digest_window": 1}
LATENCY = {}          # "stream" / "poll" -> [seconds]


class StreamHarness(Harness):
    """A Harness whose failure report also lists the stream connections."""

    def _report(self, exc_info):
        super()._report(exc_info)
        for f in self.fakes:
            if isinstance(f, FakeMastodonStreaming):
                print(f"---- {f.name} streams:\n{f.describe_streams()}", file=sys.stderr, flush=True)


def start(h, fake, poll_interval=1, **acct):
    """Config + heedd, past its first poll."""
    h.write_config([h.mastodon_account(fake, **acct)], poll_interval=poll_interval, extra=EXTRA)
    h.start_heedd()
    h.wait_polls(fake, 1, timeout=15)


def account_status(h):
    return h.control("status")["accounts"][0]


def polls_after(fake, t):
    return [r for r in fake.polls() if r.time > t]


def wait_stream_up(h, fake, n=1):
    """Stream n is open, heedd says it is streaming, and its catch-up poll is done."""
    conn = fake.wait_stream(n)
    h.wait_until(lambda: account_status(h).get("streaming") is True, 10, "heedd to report streaming")
    h.wait_until(lambda: polls_after(fake, conn.opened_at), 10, "the catch-up poll after the stream came up")
    return conn


def mention_args(tag, who="streamer"):
    return {"acct": f"{who}-{tag}@fake.social", "display_name": f"{who.title()} {tag}",
            "text_html": f"<p>Could you review item {tag}qz before the release today?</p>"}


def shown_with(h, tag):
    return h.shown(f"{tag}qz")


def stats(xs):
    xs = sorted(xs)
    p90 = xs[min(len(xs) - 1, int(round(0.9 * (len(xs) - 1))))]
    return statistics.median(xs), p90


def fmt_ms(xs):
    return ", ".join(f"{x * 1000:.0f}" for x in xs)


class Streaming(unittest.TestCase):
    # 1 ---------------------------------------------------------------------
    def test_1_stream_mentions_notified_fast_with_bearer_auth(self):
        with StreamHarness() as h:
            fake = start_streaming_fake(h)
            start(h, fake)
            conn = wait_stream_up(h, fake)
            time.sleep(0.3)
            lat = []
            for i in range(10):
                tag = f"s{i:02d}"
                _, notif = fake.make_mention(store=False, **mention_args(tag))
                t0 = fake.push_notification(notif)
                self.assertIsNotNone(t0, "no live stream took the event:\n" + fake.describe_streams())
                n = h.wait_until(lambda: shown_with(h, tag), 5, f"a Notify for streamed mention {tag}")[0]
                lat.append(n.time - t0)
                time.sleep(random.uniform(0.1, 0.3))
            LATENCY["stream"] = lat
            med, p90 = stats(lat)
            print(f"\nstream push->Notify latency (ms): {fmt_ms(lat)}; median {med * 1000:.0f}, "
                  f"p90 {p90 * 1000:.0f}", file=sys.stderr)

            h.pause(0.5)
            for i in range(10):
                self.assertEqual(len(shown_with(h, f"s{i:02d}")), 1,
                                 f"mention s{i:02d} notified once:\n" + h.describe_notifications())
            self.assertEqual(len(h.shown()), 10, h.describe_notifications())
            self.assertLess(med, 0.200, f"median stream latency {med * 1000:.0f} ms >= 200 ms")
            self.assertEqual(fake.stream_count, 1, fake.describe_streams())
            self.assertEqual(account_status(h).get("streamed"), 10)

            # The request itself: the token in the header, never in the URL.
            self.assertEqual(conn.path, "/api/v1/streaming/user/notification")
            self.assertEqual(conn.header("authorization"), f"Bearer {fake.token}")
            self.assertNotIn("access_token", conn.query)
            self.assertNotIn(fake.token, conn.raw_path)
            self.assertIn("text/event-stream", conn.header_values("accept"))
            self.assertEqual(len(fake.requests_to("/api/v2/instance")), 1, "streaming host discovered once")
            self.assertEqual(len(fake.requests_to("/api/v1/streaming/health", status=200)), 1)
            # One Accept, the one that fits an event stream (heedd also sends
            # the REST "Accept: application/json" on this request).
            self.assertEqual(conn.header_values("accept"), ["text/event-stream"],
                             "the stream request's Accept headers")
            h.stop_heedd()

    # 2 ---------------------------------------------------------------------
    def test_2_heartbeats_keep_one_stream_and_slow_polling(self):
        with StreamHarness() as h:
            fake = start_streaming_fake(h)
            start(h, fake, stream_timeout=5)
            conn = wait_stream_up(h, fake)
            t_hb = time.monotonic()
            fake.start_heartbeats(1.0)
            h.pause(12)
            fake.stop_heartbeats()
            self.assertEqual(fake.stream_count, 1, "heartbeats alone keep the stream:\n" + fake.describe_streams())
            self.assertTrue(conn.live, conn.describe())
            self.assertTrue(account_status(h).get("streaming"))
            during = polls_after(fake, t_hb)
            self.assertEqual(during, [], f"polling slows to 600 s while the stream is up; "
                             f"polls during 12 s of streaming: {[r.raw_path for r in during]}")
            self.assertNotIn("stream lost", h.heedd_log())
            # Still delivering.
            _, notif = fake.make_mention(store=False, **mention_args("hb1"))
            fake.push_notification(notif)
            h.wait_until(lambda: shown_with(h, "hb1"), 5, "a Notify after 12 s of heartbeats")
            h.stop_heedd()

    # 3 ---------------------------------------------------------------------
    def test_3_silent_stream_is_replaced(self):
        with StreamHarness() as h:
            fake = start_streaming_fake(h)
            fake.go_silent()                       # stream 1: headers, then not a byte
            start(h, fake, stream_timeout=5)
            c1 = fake.wait_stream(1)
            fake.go_silent(False)                  # stream 2 will say ":)" and then nothing
            h.wait_until(lambda: time.monotonic() - c1.opened_at > 4.5, 6)
            self.assertEqual(fake.stream_count, 1,
                             "no reconnect before stream_timeout:\n" + fake.describe_streams())
            c2 = fake.wait_stream(2, timeout=5 + 3 + 3)
            gap = c2.opened_at - c1.opened_at
            print(f"\nsilent stream replaced after {gap:.1f} s (stream_timeout 5 + backoff 2..3 s)",
                  file=sys.stderr)
            self.assertGreaterEqual(gap, 5 + 2 - 0.3, "reconnect waits stream_timeout plus the backoff")
            self.assertLessEqual(gap, 5 + 3 + 1.5, "reconnect within stream_timeout + backoff")
            self.assertEqual(c1.closed_by, "client", "heedd hung up the silent stream:\n" + c1.describe())
            self.assertEqual(fake.max_concurrent_streams(), 1, "never two streams at once")
            # Stream 2 opened with ":)" and went quiet: it is dropped after stream_timeout too.
            h.wait_until(lambda: c2.closed_at is not None, 5 + 2,
                         lambda: "heedd to hang up the quiet stream 2: " + c2.describe())
            self.assertGreaterEqual(c2.closed_at - c2.opened_at, 5 - 0.3, c2.describe())
            self.assertIn("no data for 5 s", h.heedd_log())
            h.stop_heedd()

    # 4 ---------------------------------------------------------------------
    def test_4_cut_mid_event_no_half_mention_no_loss(self):
        with StreamHarness() as h:
            fake = start_streaming_fake(h)
            old = fake.add_mention(**mention_args("old0"))   # history: the poll cursor starts after it
            start(h, fake)
            wait_stream_up(h, fake)
            h.pause(0.3)
            text = "<p>This one is cut in half on the stream, item cut1qz, and the end of it says GOODBYE</p>"
            nid, notif = fake.make_mention(store=True, acct="cutter@fake.social",
                                           display_name="Cutter", text_html=text)
            wire = sse_event("notification", json.dumps(notif))
            head = len(b"event: notification\ndata: ")
            half = wire[:head + (len(wire) - head) // 2]
            self.assertTrue(fake.push_raw(half))
            h.pause(0.5)
            before = len(h.shown())
            self.assertEqual(shown_with(h, "cut1"), [], "half an event must not be shown:\n"
                             + h.describe_notifications())
            t_cut = time.monotonic()
            fake.cut()
            fake.wait_stream(2, timeout=10)
            n = h.wait_until(lambda: shown_with(h, "cut1"), 10, "the cut mention, from the catch-up poll")[0]
            self.assertIn("GOODBYE", n.body, "the whole post, not the half that was streamed")
            h.pause(1.5)
            self.assertEqual(len(shown_with(h, "cut1")), 1, "exactly one Notify:\n" + h.describe_notifications())
            self.assertEqual(len(h.shown()), before + 1, "nothing else was shown:\n" + h.describe_notifications())
            self.assertEqual(account_status(h).get("streamed"), 0, "the half event was not taken as a mention")
            after = polls_after(fake, t_cut)
            self.assertTrue(after, "a catch-up poll after the cut")
            self.assertEqual(after[0].param("since_id"), old,
                             "the catch-up poll asks since_id: " + repr([r.raw_path for r in after]))
            urls = [m.get("url") for m in h.heed_list()]
            self.assertEqual(sorted(urls), sorted([fake.status_url(old), fake.status_url(nid)]), urls)
            h.stop_heedd()

    # 5 ---------------------------------------------------------------------
    def test_5_same_mention_via_stream_and_poll_notified_once(self):
        with StreamHarness() as h:
            # No configuration.urls.streaming: the stream is on the main host.
            fake = start_streaming_fake(h, streaming_url=None)
            start(h, fake)
            wait_stream_up(h, fake)
            # A: streamed first, then polled (the catch-up poll after a cut).
            _, a = fake.make_mention(store=True, **mention_args("dupA"))
            fake.push_notification(a)
            h.wait_until(lambda: shown_with(h, "dupA"), 5, "mention A from the stream")
            # B: only in the REST store; the catch-up poll sees it first.
            _, b = fake.make_mention(store=True, **mention_args("dupB"))
            t_cut = time.monotonic()
            fake.cut()
            h.wait_until(lambda: shown_with(h, "dupB"), 10, "mention B from the poll after the cut")
            h.wait_until(lambda: polls_after(fake, t_cut), 5)
            # The server replays both on the new stream.
            wait_stream_up(h, fake, 2)
            fake.push_notification(a)
            fake.push_notification(b)
            h.pause(1.5)
            self.assertEqual(len(shown_with(h, "dupA")), 1, "A once:\n" + h.describe_notifications())
            self.assertEqual(len(shown_with(h, "dupB")), 1, "B once:\n" + h.describe_notifications())
            self.assertEqual(len(h.shown()), 2, h.describe_notifications())
            self.assertEqual(len(h.heed_list()), 2)
            self.assertEqual(fake.streams()[0].path, "/api/v1/streaming/user/notification")
            h.stop_heedd()

    # 6 ---------------------------------------------------------------------
    def test_6a_streaming_off_never_streams(self):
        with StreamHarness() as h:
            fake = start_streaming_fake(h)
            start(h, fake, streaming="off")
            h.wait_polls(fake, 2)
            fake.add_mention(**mention_args("off1"))
            h.wait_until(lambda: shown_with(h, "off1"), 5, "a polled mention")
            h.wait_polls(fake, 2)
            self.assertEqual(fake.stream_requests(), [], "streaming = off: no streaming requests")
            self.assertEqual(fake.requests_to("/api/v2/instance"), [], "no streaming discovery either")
            self.assertEqual(fake.stream_count, 0)
            h.stop_heedd()

    def test_6b_auto_with_unhealthy_streaming_polls_only(self):
        with StreamHarness() as h:
            fake = start_streaming_fake(h, health_status=404)
            start(h, fake)                         # streaming = auto (the default)
            h.wait_polls(fake, 4)
            fake.add_mention(**mention_args("auto1"))
            h.wait_until(lambda: shown_with(h, "auto1"), 5, "a polled mention")
            h.wait_polls(fake, 2)
            self.assertEqual(fake.stream_count, 0, fake.describe_streams())
            self.assertEqual(len(fake.requests_to("/api/v1/streaming/health")), 1,
                             "health asked once (again only after an hour)")
            log = h.heedd_log()
            self.assertEqual(log.count("streaming is not available"), 1, log)
            self.assertNotIn(True, [account_status(h).get("streaming")])
            h.stop_heedd()

    def test_6c_streaming_host_of_another_domain_gets_no_token(self):
        """An instance (or whoever answers for it) naming a streaming host
        under another domain must not receive the token: heedd polls and
        says why, once."""
        with StreamHarness() as h:
            fake = start_streaming_fake(h, streaming_url="wss://collector.invalid")
            start(h, fake)
            h.wait_polls(fake, 4)
            fake.add_mention(**mention_args("elsewhere1"))
            h.wait_until(lambda: shown_with(h, "elsewhere1"), 5, "a polled mention")
            self.assertEqual(fake.stream_count, 0, fake.describe_streams())
            self.assertEqual(fake.requests_to("/api/v1/streaming/health"), [], "nothing asked of the named host")
            log = h.heedd_log()
            self.assertEqual(log.count("outside its own domain"), 1, log)
            self.assertIn("polling only", log)
            self.assertNotIn(True, [account_status(h).get("streaming")])
            h.stop_heedd()

    # 7 ---------------------------------------------------------------------
    def test_7_polling_latency_for_comparison(self):
        with StreamHarness() as h:
            fake = start_streaming_fake(h)
            start(h, fake, poll_interval=1, streaming="off")
            h.wait_polls(fake, 1)
            lat = []
            for i in range(10):
                time.sleep(random.uniform(0.05, 1.0))     # a random phase against the poll timer
                tag = f"p{i:02d}"
                t0 = time.monotonic()
                fake.add_mention(**mention_args(tag, "poller"))
                n = h.wait_until(lambda: shown_with(h, tag), 6, f"a Notify for polled mention {tag}")[0]
                lat.append(n.time - t0)
            LATENCY["poll"] = lat
            med, p90 = stats(lat)
            print(f"\npoll add->Notify latency (ms): {fmt_ms(lat)}; median {med * 1000:.0f}, "
                  f"p90 {p90 * 1000:.0f}", file=sys.stderr)
            self.assertEqual(len(h.shown()), 10, h.describe_notifications())
            self.assertLess(p90, 2.5, "polling every second delivers within about a poll interval")
            h.stop_heedd()

    # 8 ---------------------------------------------------------------------
    def test_8_wire_format_splits_multiline_crlf_comments_noise(self):
        with StreamHarness() as h:
            fake = start_streaming_fake(h)
            start(h, fake)
            wait_stream_up(h, fake)
            h.pause(0.3)

            # a) one event split across four writes, mid-field and mid-JSON.
            _, a = fake.make_mention(store=False, **mention_args("wA"))
            wire = sse_event("notification", json.dumps(a))
            cuts = [9, len(wire) // 3, 2 * len(wire) // 3]
            for piece in (wire[:cuts[0]], wire[cuts[0]:cuts[1]], wire[cuts[1]:cuts[2]], wire[cuts[2]:]):
                self.assertTrue(fake.push_raw(piece))
                time.sleep(0.05)
            h.wait_until(lambda: shown_with(h, "wA"), 5, "the event split across writes")

            # b) multi-line data: the JSON on several data: lines.
            _, b = fake.make_mention(store=False, **mention_args("wB"))
            fake.push_event("notification", json.dumps(b, indent=1))
            h.wait_until(lambda: shown_with(h, "wB"), 5, "the multi-line event")

            # c) CRLF line ends, a comment inside the event, a heartbeat before it,
            #    the CR and LF of one line end in different writes.
            _, c = fake.make_mention(store=False, **mention_args("wC"))
            fake.heartbeat()
            fake.push_raw(b"event: notification\r\n:thump\r\ndata: " + json.dumps(c).encode() + b"\r")
            time.sleep(0.05)
            fake.push_raw(b"\n\r\n")
            h.wait_until(lambda: shown_with(h, "wC"), 5, "the CRLF event")

            # d) noise: other events, non-mention notifications, an event with no data.
            _, fav = fake.make_mention(store=False, type="favourite", **mention_args("wFav"))
            fake.push_event("update", json.dumps(fav["status"]))
            fake.push_event("delete", "113000000000000001")
            fake.push_raw(b"event: filters_changed\n\n")
            fake.push_event("notification", json.dumps(fav))
            fake.push_event("notification", "{not json")

            # e) the same stream framed with Connection: close instead of chunks.
            fake.framing = "close"
            fake.cut()
            wait_stream_up(h, fake, 2)
            _, e = fake.make_mention(store=False, **mention_args("wE"))
            fake.push_notification(e)
            h.wait_until(lambda: shown_with(h, "wE"), 5, "an event on a Connection: close stream")

            h.pause(1.0)
            for tag in ("wA", "wB", "wC", "wE"):
                self.assertEqual(len(shown_with(h, tag)), 1, f"{tag} once:\n" + h.describe_notifications())
            self.assertEqual(shown_with(h, "wFav"), [], "a favourite is not a mention")
            self.assertEqual(len(h.shown()), 4, h.describe_notifications())
            self.assertTrue(h.heedd_running())
            h.stop_heedd()

    # 9 ---------------------------------------------------------------------
    def test_9_stream_up_while_a_poll_is_in_flight_still_catches_up(self):
        """The stream comes up (first bytes) while a poll is in flight whose
        answer was taken before the stream existed. A mention made in between
        is on neither: only a catch-up poll after the stream is up finds it."""
        with StreamHarness() as h:
            fake = start_streaming_fake(h, open_comment=False)   # the stream says nothing yet
            start(h, fake)
            fake.wait_stream(1)
            snap = threading.Event()
            armed = [True]

            def slow_poll(req):
                if not (armed[0] and req.path == "/api/v1/notifications"):
                    return None
                armed[0] = False
                resp = fake.answer(req)     # the page as it is now ...
                snap.set()
                time.sleep(1.5)             # ... delivered late
                return resp
            fake.hook = slow_poll
            self.assertTrue(snap.wait(5), "a poll reached the fake")
            fake.add_mention(**mention_args("gap1"))   # after the poll's snapshot
            self.assertTrue(fake.push_raw(b":)\n"))   # the stream comes up, the poll still in flight
            h.wait_until(lambda: account_status(h).get("streaming") is True, 5)
            h.wait_until(lambda: shown_with(h, "gap1"), 8,
                         "the mention made between the in-flight poll's snapshot and the stream's "
                         "first bytes (needs a catch-up poll once the stream is up)")
            h.stop_heedd()


    # 10 --------------------------------------------------------------------
    def test_10_flapping_stream_backs_off(self):
        """A streaming server that says ":)" and hangs up at once (a proxy that
        cuts long responses, a crashing streaming server): the reconnects
        must back off (2, 4, 8 ... s), not repeat every 2-3 s forever, each
        one costing a health check, a stream and two catch-up polls."""
        with StreamHarness() as h:
            fake = start_streaming_fake(h, close_after_open="end")
            start(h, fake)
            c1 = fake.wait_stream(1, live=False)
            t0 = c1.opened_at
            window = 10.5
            h.pause(window - (time.monotonic() - t0))
            opened = [c.opened_at - t0 for c in fake.streams() if c.opened_at - t0 <= window]
            polls = polls_after(fake, t0)
            print(f"\nflapping stream: {len(opened)} stream connections in {window} s at "
                  f"{', '.join(f'{x:.1f}' for x in opened)} s; {len(polls)} polls, "
                  f"{len(fake.requests_to('/api/v1/streaming/health'))} health checks", file=sys.stderr)
            self.assertLessEqual(len(opened), 3,
                                 "with backoff 2-3, 4-6, 8-12 s at most 3 streams start within 10.5 s:\n"
                                 + fake.describe_streams())
            h.stop_heedd()

    # 11 --------------------------------------------------------------------
    def test_11_burst_in_one_write_is_stored_in_batches(self):
        """A viral post: 1,000 notifications arrive in one write (curl hands
        them over in a few reads). Every one is listed once, and heedd stores
        them in batches of about 200 (the stream pauses while a batch is
        committed) instead of one transaction each, which held the loop for
        most of a second."""
        n = 1000
        with StreamHarness() as h:
            fake = start_streaming_fake(h)
            start(h, fake)
            wait_stream_up(h, fake)
            wire = b"".join(sse_event("notification", json.dumps(
                fake.make_mention(store=False, **mention_args(f"b{i:04d}", who="crowd"))[1]))
                for i in range(n))
            self.assertIsNotNone(fake.push_raw(wire, timeout=30), "no live stream took the burst")
            h.wait_until(lambda: account_status(h).get("streamed", 0) >= n, 60,
                         f"{n} streamed mentions stored")
            urls = [m["url"] for m in h.heed_list() if "crowd-b" in (m.get("author") or {}).get("handle", "")]
            self.assertEqual(len(urls), n, "every streamed mention listed")
            self.assertEqual(len(set(urls)), n, "none twice")
            self.assertEqual(account_status(h).get("streamed"), n)
            batches = [int(x) for x in re.findall(r"(\d+) new mentions? \(stream\)", h.heedd_log())]
            print(f"\nburst of {n} in one write: stored in {len(batches)} batches, largest {max(batches)}",
                  file=sys.stderr)
            self.assertEqual(sum(batches), n, "the log's batches add up to the burst")
            # The stream pauses once 200 wait; the read that reached it may bring a few more.
            self.assertLessEqual(max(batches), 260, "a batch is STREAM_BATCH_MAX and one read at most")
            self.assertLessEqual(len(batches), n // 10, "stored in batches, not one by one")
            self.assertEqual(fake.stream_count, 1, "the pauses did not cost the stream:\n" + fake.describe_streams())
            h.stop_heedd()


def tearDownModule():
    if "stream" in LATENCY and "poll" in LATENCY:
        sm, sp = stats(LATENCY["stream"])
        pm, pp = stats(LATENCY["poll"])
        print(f"\nDelivery latency: stream median {sm * 1000:.0f} ms p90 {sp * 1000:.0f} ms; "
              f"poll (poll_interval 1) median {pm * 1000:.0f} ms p90 {pp * 1000:.0f} ms; "
              f"median ratio poll/stream {pm / sm:.1f}x", file=sys.stderr)


if __name__ == "__main__":
    main()
