"""Background sync: mm serve --sync-every.

Ada serves; Grace accepted her invite and runs `mm serve --sync-every 1s`.
What Ada writes reaches Grace, and what Grace writes reaches Ada, without
anyone running mm sync.  With Ada's serve down, Grace's log says once that
Ada is unreachable, then that she still is, with waits that grow (1, 2, 4,
8 s, each +-20 %); once Ada is back, the next try delivers and the log says
she is reachable again.  Everything is asserted through the log lines and
the stores, never through how long something took.
"""
import os
import socket
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN, NET_TIMEOUT  # noqa: E402

DELAY = re.compile(r"next try in ([0-9.]+) (s|min|h)$")
UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}


class BackgroundBase(mmtest.SyncTestCase):

    def setUp(self):
        super().setUp()
        self.ada, _ = self.new_home("Ada", sub="ada")
        self.grace, _ = self.new_home("Grace", sub="grace")
        self.asrv = self.serve(self.ada)
        self.scope = self.pair(self.ada, self.grace, "ada")

    def serve_every(self, home, every="1s"):
        """mm serve --listen 127.0.0.1:PORT --sync-every EVERY, once reachable."""
        p = mmtest.free_port()
        ep = "tcp://127.0.0.1:%d" % p
        srv = mmtest.Server([MM_BIN, "--home", home, "serve", "--listen", ep,
                             "--sync-every", every], self.env())
        srv.home, srv.port, srv.endpoint = home, p, ep
        self.addCleanup(self.stop_server, srv)
        self.assertIsNotNone(srv.wait_line(r" reachable at "), srv)
        return srv

    def ids(self, home):
        return sorted(e["id"] for e in self.scope_entries(home, self.scope))

    def children(self, home):
        """Processes whose command line syncs home: background syncs left."""
        found = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if home.encode() in argv and b"sync" in argv:
                found.append(pid)
        return found


class TestBackground(BackgroundBase):

    def test_sync_every_delivers_both_ways(self):
        gsrv = self.serve_every(self.grace)
        self.assertIsNotNone(gsrv.wait_line(
            r" background sync every 1\.0 s with 1 peer and 0 of your devices$"), gsrv)
        # Ada writes; Grace's serve fetches it, and says so in one line
        mark = gsrv.mark()
        self.fill(self.ada, "grace", 3)
        line = gsrv.wait_line(r" background sync with ", start=mark)
        self.assertRegex(line or "", r" background sync with ada: sent 0, received 3 entries$",
                         gsrv)
        self.assertEqual(self.ids(self.grace), self.ids(self.ada))
        self.assertEqual(len(self.ids(self.grace)), 1 + 3)
        # Grace writes; her next background sync pushes it to Ada
        mark = gsrv.mark()
        self.fill(self.grace, "ada", 2)
        line = gsrv.wait_line(r" background sync with ", start=mark)
        self.assertRegex(line or "", r" background sync with ada: sent 2, received 0 entries$",
                         gsrv)
        self.assertEqual(self.ids(self.ada), self.ids(self.grace))
        # syncs that move nothing go on (Ada's serve sees them) and are not
        # logged by Grace's
        amark = self.asrv.mark()
        for _ in range(3):
            self.assertIsNotNone(self.asrv.wait_line(
                r" synced with Grace: sent 0, received 0 entries$", start=amark), self.asrv)
            amark = self.asrv.mark()
        moved = [ln for ln in gsrv.lines[mark:] if " background sync with " in ln]
        self.assertEqual(len(moved), 1, gsrv)
        self.assertFalse([ln for ln in gsrv.lines if "unreachable" in ln], gsrv)
        self.assert_verify_ok(self.ada)
        self.assert_verify_ok(self.grace)
        # a clean stop leaves no sync running
        self.assertEqual(self.stop_server(gsrv, expect_clean=True), 0)
        self.assertEqual(self.children(self.grace), [])
        # the children's failure lines stay out of serve's stderr (only a
        # crash's or a sanitizer's report would be passed on)
        self.assertEqual(gsrv.stderr, "", gsrv)

    def test_unreachable_backs_off_then_delivers(self):
        port = self.asrv.port
        self.stop_server(self.asrv, expect_clean=True)
        self.fill(self.ada, "grace", 4)     # written while Grace cannot reach her
        gsrv = self.serve_every(self.grace)
        first = gsrv.wait_line(r" background sync: ada unreachable: ")
        self.assertRegex(first or "",
                         r" background sync: ada unreachable: nothing listens at "
                         r"tcp://127\.0\.0\.1:%d \(connection refused\) \(MM_ENOLISTEN\); "
                         r"next try in [0-9.]+ s$"
                         % port, gsrv)
        waits = [self.delay(first)]
        for tries in (2, 3, 4):
            line = gsrv.wait_line(r" background sync: ada still unreachable after %d tries; "
                                  r"next try in " % tries, timeout=NET_TIMEOUT + 30)
            self.assertIsNotNone(line, gsrv)
            waits.append(self.delay(line))
        # interval, 2x, 4x, 8x, each within 20 %: strictly growing
        for i, w in enumerate(waits):
            want = 1.0 * 2 ** i
            self.assertTrue(0.8 * want - 0.05 <= w <= 1.2 * want + 0.05, (waits, gsrv))
        self.assertEqual(waits, sorted(set(waits)), gsrv)
        self.assertEqual(len([ln for ln in gsrv.lines if " ada unreachable: " in ln]), 1, gsrv)
        # nothing arrived meanwhile
        self.assertEqual(len(self.ids(self.grace)), 1)
        # Ada is back at her address: the next try delivers
        mark = gsrv.mark()
        self.serve(self.ada, port=port)
        back = gsrv.wait_line(r" background sync: ada reachable again$", start=mark,
                              timeout=NET_TIMEOUT + 30)
        self.assertIsNotNone(back, gsrv)
        line = gsrv.wait_line(r" background sync with ada: ", start=mark)
        self.assertRegex(line or "", r" background sync with ada: sent 0, received 4 entries$",
                         gsrv)
        self.assertEqual(self.ids(self.grace), self.ids(self.ada))
        self.assertEqual(len(self.ids(self.grace)), 1 + 4)
        self.assert_verify_ok(self.grace)
        self.assertEqual(self.stop_server(gsrv, expect_clean=True), 0)
        self.assertEqual(self.children(self.grace), [])
        # the children's failure lines stay out of serve's stderr (only a
        # crash's or a sanitizer's report would be passed on)
        self.assertEqual(gsrv.stderr, "", gsrv)

    def test_serves_while_a_background_sync_waits(self):
        # Grace's background sync waits on Ada, who is down (10 s of
        # silence per address); meanwhile Grace's serve answers Ada's own
        # mm sync, and the waiting child is the same one before and after.
        # Silence, not a refusal: a listener that never speaks (a refused
        # connection fails at once, MM_ENOLISTEN)
        self.stop_server(self.asrv, expect_clean=True)
        silent = socket.socket()
        silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        silent.bind(("127.0.0.1", self.asrv.port))
        silent.listen(16)
        self.addCleanup(silent.close)
        gsrv = self.serve_every(self.grace, "10s")
        waiting = None
        for _ in range(int(mmtest.NET_TIMEOUT * 10)):
            waiting = self.children(self.grace)
            if waiting:
                break
            time.sleep(0.1)
        self.assertTrue(waiting, gsrv)
        self.ok("peer", "set-addr", "grace", gsrv.endpoint, home=self.ada)
        self.fill(self.ada, "grace", 2)
        [p] = self.sync(self.ada, "grace")["peers"]
        self.assertEqual((p["ok"], p["sent"]), (True, 2), p)
        self.assertEqual(self.children(self.grace), waiting, gsrv)
        self.assertFalse([ln for ln in gsrv.lines if "unreachable" in ln], gsrv)
        self.assertEqual(self.ids(self.grace), self.ids(self.ada))
        self.assertEqual(self.stop_server(gsrv, expect_clean=True), 0)
        self.assertEqual(self.children(self.grace), [])

    def test_no_wake_up_when_nothing_is_due(self):
        # once its first syncs are done, a serve whose next sync is an hour
        # away and that serves no one sleeps: its main thread is not woken
        # (a tick of the loop would be a voluntary context switch each time)
        gsrv = self.serve_every(self.grace, "1h")
        mark = self.asrv.mark()
        self.assertIsNotNone(self.asrv.wait_line(r" synced with Grace: ", start=mark), self.asrv)
        self.assertIsNotNone(gsrv.wait_line(r" background sync every 1\.0 h "), gsrv)
        status = "/proc/%d/status" % gsrv.proc.pid

        def switches():
            with open(status) as f:
                return int(next(ln for ln in f if ln.startswith("voluntary_ctxt_switches:"))
                           .split()[1])
        time.sleep(1)               # the child's end, read and reaped
        before = switches()
        time.sleep(4)
        after = switches()
        self.assertLessEqual(after - before, 1, gsrv)
        self.assert_alive(gsrv)
        self.assertEqual(self.stop_server(gsrv, expect_clean=True), 0)

    def delay(self, line):
        m = DELAY.search(line)
        self.assertIsNotNone(m, line)
        return float(m.group(1)) * UNITS[m.group(2)]

    def test_sync_every_usage(self):
        for bad in ("0s", "500ms", "8d", "5", "m", "-1s"):
            r = self.fails(2, "serve", "--sync-every", bad, home=self.grace)
            self.assertIn("--sync-every '%s' is not a duration" % bad, r.err)
        r = self.ok("serve", "--help")
        self.assertIn("--sync-every DUR", r.out)


class TestBackgroundOwnDevices(mmtest.SyncTestCase):
    """Ada's laptop syncs in the background with each of her other devices
    that announced where it listens: the phone and the tablet, both."""

    def join(self, laptop, name):
        srv = mmtest.Server([MM_BIN, "--home", laptop, "device", "pair", "--yes",
                             "--listen", "tcp://127.0.0.1:*"], self.env())
        self.addCleanup(self.stop_server, srv)
        code = srv.wait_line(r"^mmp1[a-z2-7]+$")
        self.assertIsNotNone(code, srv)
        home = self.path(name)
        self.ok("--json", "init", "--join", code, "--device", name, home=home)
        self.assertEqual(srv.proc.wait(30), 0, srv)
        return home

    def test_each_own_device(self):
        laptop, _ = self.new_home("Ada", device="laptop", sub="laptop")
        homes = {name: self.join(laptop, name) for name in ("phone", "tablet")}
        for name, home in homes.items():
            srv = self.serve(home)
            # once by address; from then on the laptop knows where it listens
            self.ok("sync", "--device", name, "--endpoint", srv.endpoint, home=laptop)
        lsrv = serve_every(self, laptop)
        self.assertIsNotNone(lsrv.wait_line(
            r" background sync every 1\.0 s with 0 peers and 2 of your devices$"), lsrv)
        # a note on each device reaches the laptop
        mark = lsrv.mark()
        for name, home in homes.items():
            self.add_note(home, "written on the %s" % name)
        for name in homes:
            self.assertIsNotNone(lsrv.wait_line(
                r" background sync with your device %s: sent \d+, received [1-9]\d* entries$"
                % name, start=mark), lsrv)
        texts = ["written on the laptop", "written on the phone", "written on the tablet"]
        self.assertEqual(sorted(n["text"] for n in self.notes(laptop)), texts[1:])
        # and the laptop's goes to both, with the other device's on the way
        # (a sync may carry the other device's note first: wait for the next)
        mark = lsrv.mark()
        self.add_note(laptop, "written on the laptop")
        for name, home in homes.items():
            start = mark
            for _ in range(3):
                rx = (r" background sync with your device %s: sent [1-9]\d*, received 0 "
                      r"entries$" % name)
                self.assertIsNotNone(lsrv.wait_line(rx, start=start), lsrv)
                start = next(i for i in range(start, len(lsrv.lines))
                             if re.search(rx, lsrv.lines[i])) + 1
                if sorted(n["text"] for n in self.notes(home)) == texts:
                    break
            self.assertEqual(sorted(n["text"] for n in self.notes(home)), texts)
        self.assertEqual(self.stop_server(lsrv, expect_clean=True), 0)
        self.assertEqual(lsrv.stderr, "", lsrv)


def serve_every(case, home, every="1s"):
    return BackgroundBase.serve_every(case, home, every)


if __name__ == "__main__":
    mmtest.main()
