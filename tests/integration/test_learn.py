#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Learning from what the user does, wired end to end: heed done, snooze
and open (and a reply seen on the network) reach the model in the state
database, once each; `heed forget` empties it; [score] learn = false keeps
it empty. (What the model learns is tested in tests/unit/test_learn.c and
measured by bench-triage.)

Real TLS to a fake Mastodon, a private session bus, dunst under Xvfb, the
real SQLite file.
"""

import os
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import Harness, main  # noqa: E402


def db(h):
    path = os.path.join(h.env["XDG_STATE_HOME"], "heed", "heed.db")
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    return con


def learned(h):
    con = db(h)
    try:
        marks = dict(con.execute("SELECT remote_id, learned FROM mention").fetchall())
        rows = con.execute("SELECT count(*) FROM learn WHERE events > 0 OR weight != 0").fetchone()[0]
        return marks, rows
    finally:
        con.close()


def watch_three(h, score=None):
    fake = h.mastodon()
    h.write_config([h.mastodon_account(fake)], poll_interval=1, score=score)
    h.start_heedd()
    h.wait_polls(fake, 1, timeout=15)
    ids = [fake.add_mention(acct=f"{n}@fake.social", display_name=n.title(),
                            text_html=f"<p>Could you look at my pull request, {n}?</p>")
           for n in ("ana", "ben", "cy")]
    h.wait_until(lambda: len(h.heed_list()) == 3, 15, "three mentions listed")
    by_remote = {}
    for m in h.heed_list():
        by_remote[m["url"]] = m["id"]
    return fake, ids, [by_remote[fake.status_url(i)] for i in ids]


class Learn(unittest.TestCase):
    def test_actions_reach_the_model_once_and_forget_empties_it(self):
        with Harness() as h:
            fake, remote, local = watch_three(h)
            marks, rows = learned(h)
            self.assertEqual(set(marks.values()), {0}, "nothing learned before the user acts")
            self.assertEqual(rows, 0)
            self.assertEqual(h.heed("done", str(local[0]))[0], 0)
            self.assertEqual(h.heed("snooze", str(local[1]), "1h")[0], 0)
            self.assertEqual(h.heed("open", str(local[2]))[0], 0)
            h.wait_until(lambda: all(learned(h)[0][r] for r in remote), 10,
                         lambda: f"each action learned from: {learned(h)}")
            marks, rows = learned(h)
            self.assertGreater(rows, 0, "the model holds something after three actions")
            # Again: the same action on the same mention is learned from once.
            self.assertEqual(h.heed("open", str(local[2]))[0], 0)
            self.assertEqual(learned(h)[0], marks)
            rc, out, err = h.heed("explain", str(local[0]))
            self.assertEqual(rc, 0, err)
            rc, out, err = h.heed("forget")
            self.assertEqual(rc, 0, err)
            self.assertIn("forgot", out)
            self.assertEqual(learned(h)[1], 0, "heed forget empties the model")
            h.stop_heedd()

    def test_learn_false_learns_nothing(self):
        with Harness() as h:
            fake, remote, local = watch_three(h, score={"learn": "false"})
            for i in local:
                self.assertEqual(h.heed("done", str(i))[0], 0)
            h.pause(1.0)
            marks, rows = learned(h)
            self.assertEqual(set(marks.values()), {0}, marks)
            self.assertEqual(rows, 0)
            h.stop_heedd()


if __name__ == "__main__":
    main()
