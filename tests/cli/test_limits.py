"""Bounded work per connection and per peer (PROTOCOL.md 8.6, "Limits").

A real `mm serve` on 127.0.0.1 against tests/tools/mm_rogue, which holds
Ada's keys and misbehaves within what CURVE lets it do: hold many sessions
open, keep one open with frames that say nothing, read slowly, or send under
another session's routing id.  The timers are shortened with the test knobs
of net/net.h (MM_SESSION_IDLE_MS, MM_SESSION_MAX_MS) in mm serve's
environment.  Every loop here is bounded in count and time.

For the closing note, tests that attack the server also time a legitimate
no-op `mm sync` during the attack and without it, in the same run, and print
the ratio on stderr (measured, never asserted).
"""
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_TOOLS, SANITIZED  # noqa: E402

SLOW = 3 if SANITIZED else 1        # a sanitizer build is slower everywhere
SYNC_RUNS = 3                       # timed no-op syncs per measurement (median)


def report(what, during, without):
    """One line for the closing note: a ratio of medians, not a verdict."""
    sys.stderr.write("\nRATIO %s: no-op mm sync %.1f ms during the attack, %.1f ms without "
                     "it: %.2fx\n" % (what, during * 1e3, without * 1e3, during / without))
    sys.stderr.flush()


class LimitsBase(mmtest.SyncTestCase):
    """Grace serves (with SERVE_ENV added to its environment); Ada and Lin
    are her peers, and call her 'grace'."""

    SERVE_ENV = {}

    def setUp(self):
        super().setUp()
        self.grace, _ = self.new_home("Grace", sub="grace")
        self.ada, _ = self.new_home("Ada", sub="ada")
        self.lin, _ = self.new_home("Lin", sub="lin")
        self.srv = self.start_server()
        self.pair(self.grace, self.ada, "grace")
        self.pair(self.grace, self.lin, "grace")

    def start_server(self, **kw):
        return self.serve(self.grace, env=self.env(**self.SERVE_ENV), **kw)

    def rogue_argv(self, home, *args):
        return [os.path.join(MM_TOOLS, "mm_rogue"), "--home", home, "--peer", "grace"] + \
            [str(a) for a in args]

    def rogue(self, home, *args, timeout=mmtest.RUN_TIMEOUT):
        r = self.tool("mm_rogue", "--home", home, "--peer", "grace", *args, timeout=timeout)
        self.assertEqual(r.rc, 0, "mm_rogue could not talk to mm serve\n%r" % r)
        return r.out.splitlines()

    def noop_sync(self, home, runs=SYNC_RUNS):
        """Median wall time of `runs` no-op syncs with grace (each must succeed)."""
        times = []
        for _ in range(runs):
            t0 = time.monotonic()
            self.sync(home, "grace")
            times.append(time.monotonic() - t0)
        return statistics.median(times)


class TestPeerShare(LimitsBase):
    """One peer cannot take the server's 64 session slots."""

    def test_one_peer_holds_at_most_four(self):
        hold_ms = 12000 * SLOW
        without = self.noop_sync(self.lin)
        mark = self.srv.mark()
        # 70 sessions of Ada's, kept open with empty non-last HAVEs (fewer
        # than 7 of them each, so the HAVE limit does not end them)
        p = subprocess.Popen(self.rogue_argv(self.ada, "--send", "hold", "--sessions", 70,
                                             "--every", hold_ms // 5, "--timeout", hold_ms),
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.env())
        try:
            first = p.stdout.readline().decode()
            self.assertEqual(first, "holding 4 of 70\n", p.stderr.read1(4096) if not first else "")
            # Ada's own mm sync is her fifth session: refused, and told why
            r = self.fails(1, "sync", "grace", home=self.ada)
            self.assertRegex(r.err, r"^mm sync: grace: you already have 4 sessions open with "
                             r"this device, the most one peer may hold; .*try again", r)
            self.assertNotIn("another mm", r.err, r)
            j = self.parse_json(self.mm("--json", "sync", "grace", home=self.ada))
            self.assertIn("4 sessions", j["peers"][0]["error"], j)
            # meanwhile Lin syncs as before
            during = self.noop_sync(self.lin)
            self.fill(self.lin, "grace", 2)
            p_lin = self.sync(self.lin, "grace")["peers"][0]
            self.assertEqual((p_lin["ok"], p_lin["sent"]), (True, 2), p_lin)
            out, err = p.communicate(timeout=hold_ms / 1000 + mmtest.NET_TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err)
        verdicts = out.decode().splitlines()
        self.assertEqual(len(verdicts), 70, verdicts)
        self.assertEqual(verdicts.count("held"), 4, verdicts)
        busy = [v for v in verdicts if v != "held"]
        self.assertTrue(all(v.startswith("MM_EBUSY you already have 4 sessions") for v in busy),
                        busy)
        self.assertIsNotNone(self.srv.wait_line(r"session with Ada ended: you already have 4 "
                                                r"sessions.*\(MM_EBUSY\)", start=mark), self.srv)
        self.assert_alive(self.srv)
        report("one peer holding 70 sessions", during, without)


class TestProgress(LimitsBase):
    """Only frames that move a session on keep it open (PROTOCOL.md 8.6)."""

    SERVE_ENV = {"MM_SESSION_IDLE_MS": "2000"}

    def test_empty_haves_do_not_keep_a_session(self):
        mark = self.srv.mark()
        # an empty non-last HAVE every second: the 8th would come after 7 s,
        # long after 2 s without progress
        t0 = time.monotonic()
        out = self.rogue(self.ada, "--send", "hold", "--every", 1000, "--timeout", 10000 * SLOW)
        self.assertEqual(out, ["holding 1 of 1", "MM_ETIMEOUT no progress for 2 s"])
        self.assertGreaterEqual(time.monotonic() - t0, 2.0)
        self.assertIsNotNone(self.srv.wait_line(r"session with Ada ended: no progress for 2 s "
                                                r"\(MM_ETIMEOUT\)", start=mark), self.srv)
        self.assert_alive(self.srv)

    def test_haves_that_list_feeds_are_progress_up_to_seven(self):
        mark = self.srv.mark()
        # a HAVE listing a feed every 0.5 s outlives the 2 s idle time, up to
        # the 8th HAVE frame (after 3.5 s), which is one too many
        t0 = time.monotonic()
        out = self.rogue(self.ada, "--send", "hold", "--every", 500, "--feeds", 1,
                         "--timeout", 15000 * SLOW)
        self.assertEqual(out, ["holding 1 of 1", "MM_ETOOBIG more than 7 HAVE frames"])
        self.assertGreaterEqual(time.monotonic() - t0, 3.5)
        self.assertIsNotNone(self.srv.wait_line(r"session with Ada ended: more than 7 HAVE "
                                                r"frames \(MM_ETOOBIG\)", start=mark), self.srv)
        self.assert_alive(self.srv)


class TestDeadline(LimitsBase):
    """A session ends after MM_SESSION_MAX_MS, progress or not, and the next
    sync goes on from what was stored."""

    SERVE_ENV = {"MM_SESSION_IDLE_MS": "1500", "MM_SESSION_MAX_MS": "3000"}

    def test_slow_reader_is_cut_at_the_deadline(self):
        # 21 feeds of Grace's in the pair scope: 21 ENTRIES frames for Ada
        self.fill(self.grace, "ada", 40, devices=20)
        mark = self.srv.mark()
        t0 = time.monotonic()
        # ACK every 0.4 s: progress well within 1.5 s, 8 s for all of it
        out = self.rogue(self.ada, "--send", "slow-ack", "--every", 400,
                         "--timeout", 20000 * SLOW)
        self.assertEqual(out, ["MM_ETIMEOUT the session lasted 3 s, the most one may; sync "
                               "again to go on from what was stored"])
        self.assertGreaterEqual(time.monotonic() - t0, 3.0)
        self.assertIsNotNone(self.srv.wait_line(r"session with Ada ended: the session lasted "
                                                r"3 s.*\(MM_ETIMEOUT\)", start=mark), self.srv)
        # a real sync gets everything, well within the deadline
        p = self.sync(self.ada, "grace")["peers"][0]
        self.assertEqual((p["ok"], p["received"]), (True, 40), p)
        self.assert_alive(self.srv)


class TestFrameKey(LimitsBase):
    """A frame reaches a session only over the CURVE key it started with."""

    def test_routing_id_of_another_session(self):
        mark = self.srv.mark()
        # Ada's session under a routing id of her choosing; her connection
        # then goes, and Lin sends under that same routing id
        out = self.rogue(self.ada, "--send", "hold", "--routing-id", "hijack",
                         "--every", 500, "--timeout", 1000)
        self.assertEqual(out, ["holding 1 of 1", "held"])
        out = self.rogue(self.lin, "--send", "garbage", "--routing-id", "hijack")
        self.assertEqual(out, ["MM_EREFUSED this connection's key is not the one its session "
                               "was opened with"])
        self.assertIsNotNone(self.srv.wait_line(r"refused frames naming the session of another "
                                                r"device", start=mark), self.srv)
        with self.srv.cond:
            failed = [l for l in self.srv.lines[mark:] if "session with Ada ended" in l]
        self.assertEqual(failed, [], "Lin's frame reached Ada's session")
        # Lin, under a routing id of his own, is heard as himself
        out = self.rogue(self.lin, "--send", "garbage", "--routing-id", "lin")
        self.assertRegex(out[0], r"^MM_EMALFORMED ")
        self.assert_alive(self.srv)


if __name__ == "__main__":
    mmtest.main()
