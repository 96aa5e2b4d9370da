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
import resource
import socket
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

    def noop_sync(self, home, *args, runs=SYNC_RUNS):
        """Median wall time of `runs` no-op syncs with grace (each must succeed)."""
        times = []
        for _ in range(runs):
            t0 = time.monotonic()
            p = self.sync(home, "grace", *args)["peers"][0]
            times.append(time.monotonic() - t0)
            self.assertEqual((p["sent"], p["received"]), (0, 0), p)
        return statistics.median(times)


def cpu_seconds(pid):
    """User + system CPU time of a process, all its threads (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class TestFlood(LimitsBase):
    """Plain TCP connections that never speak CURVE, more than mm serve has
    descriptors for, while a real peer syncs (PROTOCOL.md 8.6)."""

    FD_SOFT, FD_HARD = 128, 512     # mm serve's RLIMIT_NOFILE, set before it starts
    FLOOD = 2000

    def start_server(self, **kw):
        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.FD_SOFT, self.FD_HARD))
        return super().start_server(preexec_fn=limit, **kw)

    def flood_budget(self):
        """How many sockets this process may open for the flood (raising its
        own soft limit for the test's duration)."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = self.FLOOD + 256
        if soft < want and (hard == resource.RLIM_INFINITY or hard > soft):
            new = want if hard == resource.RLIM_INFINITY else min(want, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
            self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
            soft = new
        n = min(self.FLOOD, soft - 128)
        if n <= self.FD_HARD:
            self.skipTest("this process cannot open more sockets than mm serve has "
                          "descriptors (%d)" % soft)
        return n

    def test_half_open_flood(self):
        pid = self.srv.proc.pid
        with open("/proc/%d/limits" % pid) as f:
            limits = [l for l in f if l.startswith("Max open files")]
        self.assertEqual(limits[0].split()[3:5], ["512", "512"], "soft limit not raised")
        line = self.srv.wait_line(r"keeping at most \d+ connections without a session")
        self.assertRegex(line, r"at most 192 connections .*descriptor limit 512")  # (512-128)/2
        n = self.flood_budget()
        without = self.noop_sync(self.ada)
        mark = self.srv.mark()
        socks = []
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        try:
            for _ in range(n):      # connect and never say a word
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                socks.append(s)
                s.connect_ex(("127.0.0.1", self.srv.port))
            # a real peer syncs while they are open; the kernel may make its
            # connection wait for room in the listen queue: a longer timeout
            during = self.noop_sync(self.ada, "--timeout", "30")
            self.fill(self.ada, "grace", 3)
            p = self.sync(self.ada, "grace", "--timeout", "30")["peers"][0]
            self.assertEqual((p["ok"], p["sent"]), (True, 3), p)
            # hold them past the 5 s CURVE handshake interval
            while time.monotonic() - t0 < 6.5:
                time.sleep(0.1)
            wall, cpu = time.monotonic() - t0, cpu_seconds(pid) - cpu0
            self.assertLess(cpu, 0.5 * wall, "mm serve used %.2f s of CPU in %.2f s of flood "
                            "(spinning?)\n%r" % (cpu, wall, self.srv))
            # the connections that never authenticated are gone from mm serve,
            # though this side still holds them open
            deadline = time.monotonic() + 15 * SLOW
            while open_fds(pid) > 100 and time.monotonic() < deadline:
                time.sleep(0.1)
            self.assertLessEqual(open_fds(pid), 100, "mm serve still holds the flood's "
                                 "connections")
        finally:
            for s in socks:
                s.close()
        self.assertIsNotNone(self.srv.wait_line(r"closed \d+ connections? that started no "
                                                r"session", start=mark), self.srv)
        self.assert_alive(self.srv)
        self.noop_sync(self.ada, runs=1)
        report("%d half-open TCP connections" % n, during, without)
        sys.stderr.write("mm serve CPU during the flood: %.2f s in %.2f s (%.0f%%)\n"
                         % (cpu, wall, 100 * cpu / wall))


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
            # (and when to come back: with a --timeout shorter than the hold,
            # her retries, PROTOCOL.md 8.6, run out before it ends)
            r = self.fails(1, "sync", "grace", "--timeout", "1", home=self.ada)
            self.assertRegex(r.err, r"^mm sync: grace: you already have 4 sessions open with "
                             r"this device, the most one peer may hold; .*try again", r)
            self.assertNotIn("another mm", r.err, r)
            self.assertIn("; retry after 1000 ms", r.err, r)
            j = self.parse_json(self.mm("--json", "sync", "grace", "--timeout", "1",
                                        home=self.ada))
            self.assertIn("4 sessions", j["peers"][0]["error"], j)
            self.assertEqual(j["peers"][0]["code"], "MM_EBUSY", j)
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
    """A frame reaches a session only over the CURVE key it started with.

    A client may choose its routing id, so Lin can send under the one of
    Ada's session once Ada's connection is gone (while it lives, libzmq
    keeps Lin's connection aside).  mm serve ends a session as soon as its
    connection goes, and drops, unanswered, frames under the routing id of
    a session that ended; should a frame of Lin's come first, the key
    check refuses it.  Either way it never reaches Ada's session."""

    def test_routing_id_of_another_session(self):
        mark = self.srv.mark()
        out = self.rogue(self.ada, "--send", "hold", "--routing-id", "hijack",
                         "--every", 500, "--timeout", 1000)
        self.assertEqual(out, ["holding 1 of 1", "held"])
        self.assertIsNotNone(self.srv.wait_line(r"session with Ada ended: the connection was "
                                                r"closed", start=mark), self.srv)
        out = self.rogue(self.lin, "--send", "garbage", "--routing-id", "hijack",
                         "--timeout", 2000)
        self.assertIn(out, (["MM_EREFUSED this connection's key is not the one its session "
                             "was opened with"], ["timeout"]))
        with self.srv.cond:
            failed = [l for l in self.srv.lines[mark:]
                      if "session with Ada ended" in l and "connection was closed" not in l]
        self.assertEqual(failed, [], "Lin's frame reached Ada's session")
        # Lin, under a routing id of his own, is heard as himself
        out = self.rogue(self.lin, "--send", "garbage", "--routing-id", "lin")
        self.assertRegex(out[0], r"^MM_EMALFORMED ")
        self.assert_alive(self.srv)


if __name__ == "__main__":
    mmtest.main()
