"""mm sync with many peers: several at once, results in a stable order,
a refused connection reported at once, announced endpoints before the
peer record's, a progress line on a TTY only, --quiet and --verbose, and
fan-in past mm serve's session cap that completes (MM_EBUSY says when to
come back, PROTOCOL.md 8.6; the client retries within its --timeout).
"""
import json
import os
import pty
import re
import select
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN, SANITIZED  # noqa: E402

FAN_CLIENTS = 6                 # more than the cap below, twice over
FAN_CAP = 2                     # MM_SERVE_SESSIONS for the fan-in server
FAN_ENTRIES = 300 if SANITIZED else 1500
PROGRESS_ENTRIES = 5000 if SANITIZED else 20000


def closed_port():
    """A port of 127.0.0.1 nobody listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Many(mmtest.SyncTestCase):

    def test_order_and_refused_at_once(self):
        """Three peers: two serve, one's address has nobody listening.  The
        lines come in the order of the targets (identity order, as --json
        says), the refused one at once (a --timeout of an hour would
        otherwise hold the run) with MM_ENOLISTEN and advice about its
        mm serve, not about the timeout."""
        ada, _ = self.new_home("Ada", sub="ada")
        homes = {}
        for name in ("grace", "lin", "kim"):
            homes[name], _ = self.new_home(name.title(), sub=name)
            srv = self.serve(homes[name])
            self.pair(homes[name], ada, name)
            if name == "kim":
                self.stop_server(srv)
                self.ok("peer", "set-addr", "kim", "tcp://127.0.0.1:%d" % closed_port(),
                        home=ada)
        r = self.mm("sync", "--timeout", "3600", "--json", home=ada)
        self.assertEqual(r.rc, 1, r)
        j = self.parse_json(r)
        names = [p["name"] for p in j["peers"]]
        self.assertEqual(sorted(names), ["grace", "kim", "lin"], j)
        by = {p["name"]: p for p in j["peers"]}
        self.assertEqual(by["kim"]["code"], "MM_ENOLISTEN", j)
        self.assertTrue(by["grace"]["ok"] and by["lin"]["ok"], j)
        # the same order every time, text and JSON alike
        r2 = self.mm("sync", "--timeout", "3600", home=ada)
        self.assertEqual(r2.rc, 1, r2)
        lines = [ln.split(":")[0] for ln in r2.out.splitlines() if not ln.startswith(" ")]
        self.assertEqual(lines, [n for n in names if n != "kim"], r2)
        [err] = [ln for ln in r2.err.splitlines() if ln.startswith("mm sync: kim: ")]
        self.assertIn("nothing listens at", err)
        self.assertIn("mm serve is not running", err)
        self.assertNotIn("--timeout", err)
        self.assertEqual(self.parse_json(self.mm("sync", "--timeout", "3600", "--json",
                                                 home=ada))["peers"][0]["name"], names[0])

    def test_announced_first_quiet_verbose(self):
        """The peer record's address is a silent listener (accepts, never
        speaks); the endpoints Grace's device announced come first, so the
        sync completes without ever trying it.  --verbose says each address
        tried; --quiet says nothing on success; no progress line without a
        TTY."""
        ada, _ = self.new_home("Ada", sub="ada")
        grace, _ = self.new_home("Grace", sub="grace")
        srv = self.serve(grace)
        self.pair(grace, ada, "grace")
        self.sync(ada, "grace")             # DEVICES: Grace's signed endpoints statement
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        self.addCleanup(silent.close)
        bad = "tcp://127.0.0.1:%d" % silent.getsockname()[1]
        self.ok("peer", "set-addr", "grace", bad, home=ada)
        self.fill(grace, "ada", 3)
        r = self.ok("sync", "grace", "--verbose", "--timeout", "3600", home=ada)
        self.assertRegex(r.out, r"^grace: sent 0, received 3 entries", r)
        tried = [ln for ln in r.err.splitlines() if ln.startswith("mm sync: grace: tcp://")]
        self.assertEqual(len(tried), 1, r)
        self.assertIn(srv.endpoint, tried[0])
        self.assertTrue(tried[0].endswith(": synced"), r)
        self.assertNotIn(bad, r.err)
        self.assertNotIn("syncing", r.err)  # not a TTY: no progress line
        q = self.ok("sync", "--quiet", home=ada)
        self.assertEqual((q.out, q.err), ("", ""), q)
        self.assertEqual(self.mm("sync", "--quiet", "--verbose", home=ada).rc, 2)
        # the device gone: its announced address is refused at once and the
        # record's is tried next (the last try: the whole --timeout)
        self.stop_server(srv)
        f = self.mm("sync", "grace", "--verbose", "--timeout", "2", home=ada)
        self.assertEqual(f.rc, 1, f)
        self.assertRegex(f.err, r"mm sync: grace: %s \(device mmd[a-z0-9]+\): MM_ENOLISTEN: "
                         % re.escape(srv.endpoint))
        self.assertRegex(f.err, r"mm sync: grace: %s \(device mmd[a-z0-9]+\): MM_ETIMEOUT: "
                         % re.escape(bad))

    def test_silent_address_costs_only_the_connect_deadline(self):
        """One's own laptop at two addresses: a silent listener (accepts,
        never speaks) given first with --endpoint, then the one its mm serve
        announced.  The silent one is left after its handshake deadline
        (3 s), not after the --timeout of an hour, and the sync completes at
        the next."""
        env = self.env(MM_PWHASH="min")
        laptop, _ = self.new_home("Ada", device="laptop", sub="laptop")
        pairing = mmtest.Server([MM_BIN, "--home", laptop, "device", "pair", "--yes",
                                 "--listen", "tcp://127.0.0.1:*"], env)
        self.addCleanup(self.stop_server, pairing)
        code = pairing.wait_line(r"^mmp1[a-z2-7]+$")
        self.assertIsNotNone(code, pairing)
        phone = self.path("phone")
        r = self.mm("--json", "init", "--join", code, "--device", "phone", home=phone, env=env)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(pairing.proc.wait(30), 0, pairing)
        srv = self.serve(laptop)
        self.ok("sync", "--device", "laptop", "--endpoint", srv.endpoint, home=phone)
        silent = socket.socket()
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        self.addCleanup(silent.close)
        bad = "tcp://127.0.0.1:%d" % silent.getsockname()[1]
        self.add_note(laptop, "written on the laptop")
        r = self.ok("sync", "--device", "laptop", "--endpoint", bad, "--timeout", "3600",
                    "--verbose", home=phone)
        self.assertRegex(r.out, r"^laptop: sent 0, received 1 entries", r)
        tried = [ln for ln in r.err.splitlines() if ln.startswith("mm sync: laptop: tcp://")]
        self.assertEqual(len(tried), 2, r)
        self.assertRegex(tried[0], r"^mm sync: laptop: %s \(device mmd[a-z0-9]+\): "
                         r"MM_ETIMEOUT: no answer from " % re.escape(bad))
        self.assertTrue(tried[1].startswith("mm sync: laptop: %s " % srv.endpoint), r)
        self.assertTrue(tried[1].endswith(": synced"), r)

    def test_progress_line_on_a_tty(self):
        """On a TTY, a sync that runs past the delay (MM_PROGRESS_MS=0 here,
        so that the test does not depend on the machine's speed; the sync
        is a large one anyway) draws 'syncing grace: N entries, ...' in
        place on stderr and clears it before the result line."""
        ada, _ = self.new_home("Ada", sub="ada")
        grace, _ = self.new_home("Grace", sub="grace")
        self.serve(grace)
        self.pair(grace, ada, "grace")
        self.fill(grace, "ada", PROGRESS_ENTRIES)
        env = self.env(MM_PROGRESS_MS="0")
        pid, fd = pty.fork()
        if pid == 0:
            os.execve(MM_BIN, [MM_BIN, "--home", ada, "sync", "grace", "--timeout", "600"], env)
        out = b""
        while True:
            rl, _, _ = select.select([fd], [], [], mmtest.NET_TIMEOUT * 4)
            if not rl:
                os.kill(pid, 9)
                self.fail("mm sync hung on the pty: %r" % out[-2000:])
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0, out[-2000:])
        text = out.decode("utf-8", "replace")
        self.assertRegex(text, r"\rsyncing grace: \d+ entries, [0-9.]+ [kMG]?B, "
                         r"[0-9.]+ [kMG]?B/s\x1b\[K")
        # cleared in place, then the result line
        self.assertRegex(text, r"\r\x1b\[Kgrace: sent 0, received %d entries"
                         % PROGRESS_ENTRIES)
        # the same sync with stderr a pipe: no progress line
        self.fill(grace, "ada", 10)
        p = subprocess.run([MM_BIN, "--home", ada, "sync", "grace"], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual((p.returncode, p.stderr), (0, b""), p)

    def test_fan_in_past_the_session_cap(self):
        """FAN_CLIENTS people push FAN_ENTRIES each into one mm serve that
        holds at most FAN_CAP sessions at once (MM_SERVE_SESSIONS): those
        refused are told when to come back, retry with back-off, and all
        complete with no retry by hand."""
        hub, _ = self.new_home("Hub", sub="hub")
        srv = self.serve(hub, env=self.env(MM_SERVE_SESSIONS=str(FAN_CAP)))
        self.assertIsNotNone(srv.wait_line(r"serving at most %d sessions" % FAN_CAP), srv)
        clients = []
        for i in range(FAN_CLIENTS):
            h, _ = self.new_home("P%d" % i, sub="p%d" % i)
            self.pair(hub, h, "hub")
            self.fill(h, "hub", FAN_ENTRIES)
            clients.append(h)
        procs = [subprocess.Popen([MM_BIN, "--home", h, "sync", "hub", "--json", "--verbose",
                                   "--timeout", "600"],
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=self.env())
                 for h in clients]
        results = [p.communicate(timeout=mmtest.RUN_TIMEOUT * 4) for p in procs]
        busy = 0
        for p, (out, err) in zip(procs, results):
            self.assertEqual(p.returncode, 0, (out, err))
            [r] = json.loads(out.decode())["peers"]
            self.assertEqual((r["ok"], r["sent"]), (True, FAN_ENTRIES), r)
            retries = [ln for ln in err.decode().splitlines()
                       if ": MM_EBUSY: " in ln and "trying again in" in ln]
            for ln in retries:
                self.assertIn("retry after", ln)
                self.assertNotIn("another mm", ln)
            busy += len(retries)
        # the cap was met (else this test proves nothing), and nobody gave up
        self.assertGreater(busy, 0, results)
        self.assert_alive(srv)
        j = self.ok_json("peer", "list", home=hub)
        self.assertEqual(len(j["peers"]), FAN_CLIENTS)


if __name__ == "__main__":
    mmtest.main()
