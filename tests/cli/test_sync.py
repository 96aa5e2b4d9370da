"""Encrypted sync over ZeroMQ: mm sync against mm serve.

Both directions, who receives what (the audience of a scope is fixed),
rogue peers (tests/tools/mm_rogue), and a server killed in the middle of a
large transfer (tests/tools/mm_fill makes the entries).
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN, SANITIZED, blake2b256  # noqa: E402

ROGUE_TIMEOUT_MS = 30000 if SANITIZED else 10000
KILL_ENTRIES = 20000 if SANITIZED else 100000
MM_ERRNAME = re.compile(r"^MM_E[A-Z]+$")


def self_scope(identity_code):
    """Self-scope id (hex) of an identity code: H("mm self scope v1" || pk)."""
    pk = mmtest.idcode_decode(identity_code, "mmi")
    return blake2b256(b"mm self scope v1" + pk).hex()


class SyncBase(mmtest.SyncTestCase):
    """Grace serves and mentors Ada (Ada calls her 'grace', Grace calls
    Ada 'ada'); self.scope is their relationship scope."""

    def setUp(self):
        super().setUp()
        self.grace, _ = self.new_home("Grace", sub="grace")
        self.ada, _ = self.new_home("Ada", sub="ada")
        self.gid, self.aid = self.ident(self.grace), self.ident(self.ada)
        self.srv = self.serve(self.grace)
        self.scope = self.pair(self.grace, self.ada, "grace")
        self.assertEqual(self.peer(self.grace, "ada")["scope"], self.scope)

    def ids(self, home, scope=None):
        return sorted(e["id"] for e in self.log(home) if scope is None or e["scope"] == scope)

    def scopes(self, home):
        return {e["scope"] for e in self.log(home)}

    def one_result(self, j, name):
        [p] = j["peers"]
        for k in ("name", "ok", "sent", "received", "bytes_sent", "bytes_received", "ms",
                  "error"):
            self.assertIn(k, p, "sync --json peer lacks %r: %r" % (k, p))
        self.assertEqual(p["name"].lower(), name.lower(), j)   # petnames: any case
        self.assertIs(p["ok"], True, j)
        self.assertIsNone(p["error"], j)
        return p


class TestSync(SyncBase):

    def test_both_ways(self):
        anotes = [self.add_note(self.ada, "ada private %d" % i)["id"] for i in range(2)]
        gnotes = [self.add_note(self.grace, "grace private %d" % i)["id"] for i in range(2)]
        self.fill(self.grace, "ada", 7)
        self.fill(self.ada, "grace", 5)

        p = self.one_result(self.sync(self.ada, "grace"), "grace")
        self.assertEqual((p["sent"], p["received"]), (5, 7), p)
        self.assertGreater(p["bytes_sent"], 5 * 256)
        self.assertGreater(p["bytes_received"], 7 * 256)
        self.assertIsInstance(p["ms"], int)
        # nothing new: nothing moves; human form is one line per peer
        r = self.ok("sync", "grace", home=self.ada)
        self.assertRegex(r.out, r"^grace: sent 0, received 0 entries \([^)]*\) in \d+ ms\n$", r)

        shared = self.ids(self.grace, self.scope)
        self.assertEqual(len(shared), 1 + 7 + 5, "invite entry + 7 + 5")
        self.assertEqual(self.ids(self.ada, self.scope), shared)
        # private notes never leave: each side holds only its self scope and
        # the relationship scope
        self.assertEqual(self.scopes(self.grace), {self_scope(self.gid["identity"]), self.scope})
        self.assertEqual(self.scopes(self.ada), {self_scope(self.aid["identity"]), self.scope})
        self.assertFalse(set(anotes) & set(self.ids(self.grace)))
        self.assertFalse(set(gnotes) & set(self.ids(self.ada)))
        self.assert_feeds_chained(self.log(self.ada))
        self.assert_verify_ok(self.grace)
        self.assert_verify_ok(self.ada)
        self.assertGreater(self.peer(self.ada, "grace")["last_sync_ms"], 0)
        self.assertGreater(self.peer(self.grace, "ada")["last_sync_ms"], 0)

        # the other way round: Ada serves, Grace calls her
        asrv = self.serve(self.ada)
        self.ok("peer", "set-addr", "ada", asrv.endpoint, home=self.grace)
        self.fill(self.grace, "ada", 3)
        self.fill(self.ada, "grace", 2)
        p = self.one_result(self.sync(self.grace), "ada")
        self.assertEqual((p["sent"], p["received"]), (3, 2), p)
        self.assertEqual(self.ids(self.grace, self.scope), self.ids(self.ada, self.scope))
        self.assertEqual(len(self.ids(self.ada, self.scope)), 18)
        self.assertFalse(set(anotes) & set(self.ids(self.grace)))
        self.assert_verify_ok(self.grace)
        self.assert_verify_ok(self.ada)
        self.assert_alive(self.srv)
        self.assert_alive(asrv)

    def test_many_feeds_and_certs(self):
        # feeds of devices Ada has never seen: their certificates come first
        self.fill(self.grace, "ada", 40, devices=3)
        p = self.one_result(self.sync(self.ada, "grace"), "grace")
        self.assertEqual(p["received"], 40, p)
        self.assertEqual(self.ids(self.ada, self.scope), self.ids(self.grace, self.scope))
        authors = {e["author"] for e in self.scope_entries(self.ada, self.scope)}
        self.assertEqual(len(authors), 4, authors)
        self.assert_verify_ok(self.ada)

    def test_one_failed_peer_others_tried(self):
        lin, _ = self.new_home("Lin", sub="lin")
        lsrv = self.serve(lin)
        self.pair(lin, self.ada, "lin")
        self.stop_server(lsrv, expect_clean=True)
        self.fill(self.ada, "grace", 2)
        self.fill(self.ada, "lin", 2)
        r = self.mm("sync", "--timeout", "2", home=self.ada)
        self.assertEqual(r.rc, 1, r)
        self.assert_one_line_error(r)
        self.assertRegex(r.err, r"^mm sync: lin: ", r)
        self.assertRegex(r.out, r"(?m)^grace: sent 2, received 0 entries", r)
        self.assertEqual(self.ids(self.grace, self.scope), self.ids(self.ada, self.scope))

    def test_unreachable_peer(self):
        self.ok("peer", "set-addr", "grace", "tcp://127.0.0.1:%d" % mmtest.free_port(),
                home=self.ada)
        # mm sync also tries the endpoints Grace's device announced (PROTOCOL.md
        # 3.4): with her mm serve gone, none answers
        self.stop_server(self.srv, expect_clean=True)
        r = self.fails(1, "sync", "--timeout", "2", home=self.ada)
        self.assertRegex(r.err, r"^mm sync: grace: ")
        j = self.parse_json(self.mm("--json", "sync", "--timeout", "2", home=self.ada))
        [p] = j["peers"]
        self.assertIs(p["ok"], False, j)
        self.assertIsInstance(p["error"], str, j)


class TestAudience(SyncBase):
    """Ada is the mentee of Grace and of Lin.  Lin must never hold a byte of
    Ada's notes nor of Ada's thread with Grace, and Grace none of Ada's thread
    with Lin."""

    def test_audience(self):
        lin, _ = self.new_home("Lin", sub="lin")
        lsrv = self.serve(lin)
        lscope = self.pair(lin, self.ada, "lin")
        self.assertNotEqual(lscope, self.scope)
        for i in range(3):
            self.add_note(self.ada, "ada private note %d" % i)
        self.fill(self.ada, "grace", 4)
        self.fill(self.ada, "lin", 3)
        self.fill(self.grace, "ada", 2)
        self.fill(lin, "ada", 2)
        j = self.sync(self.ada)
        self.assertEqual(sorted((p["name"], p["ok"]) for p in j["peers"]),
                         [("grace", True), ("lin", True)], j)
        # and both call Ada back, asking for everything she has
        asrv = self.serve(self.ada)
        for home in (self.grace, lin):
            self.ok("peer", "set-addr", "ada", asrv.endpoint, home=home)
            self.one_result(self.sync(home, "ada"), "ada")

        aself = self_scope(self.aid["identity"])
        # (neither has notes of their own: their logs hold one shared scope
        # each, beside their own self scope, where each pairing wrote a
        # `scope` and a `peer` entry for their other devices)
        lself = self_scope(self.ident(lin)["identity"])
        gself = self_scope(self.gid["identity"])
        self.assertEqual(self.scopes(lin), {lscope, lself})
        self.assertEqual(self.scopes(self.grace), {self.scope, gself})
        self.assertEqual(self.ids(lin, lscope), self.ids(self.ada, lscope))
        self.assertEqual(len(self.ids(lin, lscope)), 1 + 3 + 2)
        self.assertEqual(self.ids(self.grace, self.scope), self.ids(self.ada, self.scope))

        # the raw bytes: what Ada holds, searched for in the others' stores
        by_scope = {}
        for e in self.log(self.ada, raw=True):
            by_scope.setdefault(e["scope"], []).append(bytes.fromhex(e["raw"]))
        self.assertEqual(len(by_scope[aself]), 3 + 2 * 2)     # notes, two pairings
        self.assertEqual(set(by_scope), {aself, self.scope, lscope})
        for home, secret_scopes, shared in ((lin, (aself, self.scope), lscope),
                                            (self.grace, (aself, lscope), self.scope)):
            with open(os.path.join(home, "store", "data.mdb"), "rb") as f:
                data = f.read()
            for sc in secret_scopes:
                for raw in by_scope[sc]:
                    self.assertNotIn(raw, data, "%s holds an entry of scope %s"
                                     % (os.path.basename(home), sc))
                    # not even its signature (the last 64 bytes)
                    self.assertNotIn(raw[-64:], data)
            for raw in by_scope[shared]:
                self.assertIn(raw, data, "%s lacks an entry of its own thread with Ada"
                              % os.path.basename(home))
        for home in (self.grace, lin, self.ada):
            self.assert_verify_ok(home)
        for s in (self.srv, lsrv, asrv):
            self.assert_alive(s)


class TestRogue(SyncBase):
    """mm_rogue, holding Ada's keys, misbehaves; Grace's mm serve must shrug
    it off, store nothing of it, and go on serving Lin."""

    def setUp(self):
        super().setUp()
        self.lin, _ = self.new_home("Lin", sub="lin")
        self.pair(self.grace, self.lin, "grace")
        # Ada has a history with Grace, so the forged entry is not the first
        self.fill(self.ada, "grace", 2)
        self.sync(self.ada, "grace")

    def rogue(self, kind):
        r = self.tool("mm_rogue", "--home", self.ada, "--peer", "grace", "--send", kind,
                      "--timeout", ROGUE_TIMEOUT_MS)
        self.assertEqual(r.rc, 0, "mm_rogue could not talk to mm serve\n%r" % r)
        self.assertEqual(r.out.count("\n"), 1, r)
        return r.out.strip()

    def still_serving(self, before):
        """mm serve runs, stored nothing, and still syncs Lin."""
        self.assert_alive(self.srv)
        self.assertEqual(self.log(self.grace), before, "mm serve stored something")
        self.assert_verify_ok(self.grace)
        self.fill(self.lin, "grace", 1)
        p = self.one_result(self.sync(self.lin, "grace"), "grace")
        self.assertEqual(p["sent"], 1, p)
        self.assert_alive(self.srv)

    def check_error_answer(self, kind):
        before = self.log(self.grace)
        mark = self.srv.mark()
        out = self.rogue(kind)
        self.assertRegex(out.split()[0], MM_ERRNAME, "expected an ERROR frame: %r" % out)
        self.assertIsNotNone(self.srv.wait_line(r"MM_E[A-Z]+", start=mark), self.srv)
        self.still_serving(before)
        return out

    def test_garbage(self):
        self.check_error_answer("garbage")

    def test_bigcount(self):
        self.check_error_answer("bigcount")

    def test_stray_frame_after_error(self):
        """A frame in flight when the session failed is dropped unanswered
        (PROTOCOL.md 8.2, step 7): no second session, no second failure."""
        before = self.log(self.grace)
        mark = self.srv.mark()
        r = self.tool("mm_rogue", "--home", self.ada, "--peer", "grace", "--send", "stray",
                      "--timeout", ROGUE_TIMEOUT_MS)
        self.assertEqual(r.rc, 0, r)
        first, second = r.out.strip().split("\n")
        self.assertEqual(first.split()[0], "MM_EMALFORMED", r)
        self.assertEqual(second, "timeout", "a stray frame was answered: %r" % r)
        self.assertIsNotNone(self.srv.wait_line(r"MM_EMALFORMED", start=mark), self.srv)
        with self.srv.cond:
            ended = [l for l in self.srv.lines[mark:] if "ended" in l]
        self.assertEqual(len(ended), 1, "one failure, logged once: %r" % ended)
        self.still_serving(before)

    def test_oversize(self):
        before = self.log(self.grace)
        out = self.rogue("oversize")
        # PROTOCOL.md 7: ZMQ_MAXMSGSIZE closes the connection, no ERROR frame
        self.assertEqual(out, "closed", "an oversize frame must close the connection: %r" % out)
        self.still_serving(before)

    def test_bad_signature(self):
        ada_feed = [e for e in self.scope_entries(self.grace, self.scope)
                    if e["author"] == self.aid["device"]]
        self.assertEqual(len(ada_feed), 2)
        out = self.check_error_answer("hello-then-badentry")
        self.assertEqual(out.split()[0], "MM_EBADSIG", out)
        self.assertEqual(len([e for e in self.scope_entries(self.grace, self.scope)
                              if e["author"] == self.aid["device"]]), 2)
        # Ada herself still syncs normally afterwards
        self.fill(self.ada, "grace", 1)
        p = self.one_result(self.sync(self.ada, "grace"), "grace")
        self.assertEqual(p["sent"], 1, p)

    def test_bad_signature_first_of_run(self):
        """A run of two: the first entry's signature broken, the second valid
        and chained over it (so the last signature covers the run).  Every
        entry's own signature is checked: refused whole with MM_EBADSIG."""
        mark = self.srv.mark()
        out = self.check_error_answer("hello-then-badrun")
        self.assertEqual(out.split()[0], "MM_EBADSIG", out)
        self.assertIsNotNone(self.srv.wait_line(r"MM_EBADSIG", start=mark), self.srv)
        self.assertEqual(len([e for e in self.scope_entries(self.grace, self.scope)
                              if e["author"] == self.aid["device"]]), 2)
        # Ada herself still syncs normally afterwards, from the real head
        self.fill(self.ada, "grace", 2)
        p = self.one_result(self.sync(self.ada, "grace"), "grace")
        self.assertEqual(p["sent"], 2, p)
        self.assertEqual(self.ids(self.grace, self.scope), self.ids(self.ada, self.scope))
        self.assert_verify_ok(self.grace)

    def test_curve_random_key_refused(self):
        # A key mm serve holds no certificate for may be a peer's new
        # device (PROTOCOL.md 7): the handshake completes, but nothing but a
        # HELLO proving the key for a peer is taken (tests/cli/test_devices.py
        # sees the refusal); a silent connection is closed by the limits.
        r = self.tool("mm_rogue", "--curve-random", self.srv.endpoint, self.gid["device"],
                      "--timeout", ROGUE_TIMEOUT_MS)
        self.assertEqual(r.rc, 0, r)
        self.assertIn(r.out, ("admitted\n", "closed\n"), r)
        self.assert_alive(self.srv)

    def test_blocked_rogue_refused(self):
        self.ok("peer", "block", "ada", home=self.grace)
        before = self.log(self.grace)
        r = self.tool("mm_rogue", "--home", self.ada, "--peer", "grace", "--send",
                      "hello-then-badentry", "--timeout", ROGUE_TIMEOUT_MS)
        self.assertEqual((r.rc, r.out), (1, "refused\n"), r)
        self.still_serving(before)


class TestKill(SyncBase):
    """SIGKILL mm serve in the middle of a large transfer, restart it, sync
    again: the transfer resumes and completes, both stores verify."""

    def data_size(self, home):
        return os.path.getsize(os.path.join(home, "store", "data.mdb"))

    def verify_once(self, home):
        """mm verify --json passes (one run: a big store takes seconds)."""
        j = self.ok_json("verify", home=home)
        self.assertEqual((j.get("ok"), j.get("faults")), (True, []), j)
        return j

    def test_kill_mid_transfer(self):
        n = KILL_ENTRIES
        self.fill(self.grace, "ada", n)
        grace_ids = self.ids(self.grace, self.scope)
        total = len(grace_ids)
        self.assertEqual(total, n + 1)

        size0 = self.data_size(self.ada)
        p = subprocess.Popen([MM_BIN, "--home", self.ada, "sync", "grace", "--timeout", "5"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.env())
        try:
            # Kill as soon as Ada's store has grown by 2 MB: a few percent of
            # the transfer (which takes about a second without sanitizers).
            deadline = time.monotonic() + mmtest.NET_TIMEOUT
            while (p.poll() is None and time.monotonic() < deadline
                   and self.data_size(self.ada) < size0 + (2 << 20)):
                time.sleep(0.005)
            self.srv.kill()
            out, err = p.communicate(timeout=mmtest.NET_TIMEOUT)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertGreaterEqual(p.returncode, 0, "mm sync crashed: %r" % err)
        self.assertEqual(p.returncode, 1, "the first sync should have been cut off "
                         "(did it finish before the kill?)\n%r\n%r" % (out, err))
        self.assertRegex(err.decode(), r"^mm sync: grace: ")
        got = len(self.ids(self.ada, self.scope))
        self.assertTrue(1 <= got < total, "partial transfer expected, got %d of %d"
                        % (got, total))
        # what arrived is whole and verified; so is the killed server's store
        self.verify_once(self.ada)
        self.verify_once(self.grace)

        self.srv = self.serve(self.grace, port=self.srv.port)
        p2 = self.one_result(self.sync(self.ada, "grace", "--timeout", "30"), "grace")
        self.assertEqual((p2["sent"], p2["received"]), (0, total - got), p2)
        self.assertEqual(self.ids(self.ada, self.scope), grace_ids)
        # and Ada's own: the `scope` and `peer` entries the pairing wrote into
        # her self scope, for her other devices (PROTOCOL.md 5.4)
        self.assertEqual(self.verify_once(self.ada)["entries"], total + 2)
        self.assert_alive(self.srv)
        self.assertEqual(self.stop_server(self.srv, expect_clean=True), 0)

if __name__ == "__main__":
    mmtest.main()
