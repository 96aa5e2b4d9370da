"""A full disk: mm refuses the note with one clear line, and everything
stored before stays intact and verifiable.  A full disk or store map during
a sync: the session ends with MM_EFULL, nothing is half-stored (the store
verifies; the feed head stays put or moves by whole runs, PROTOCOL.md 8.3),
and once there is room the next sync completes.

Needs a small tmpfs (mount as root); skipped where mounting is not allowed.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402

RUN_MAX, RUN_BYTES = 4096, 2 << 20      # net/wire.h: how a sender cuts runs
SYNC_ENTRIES, SYNC_SIZE = 6000, 1500    # about 10 MB of entries


def mount_tmpfs(case, mnt, size):
    """Mount a tmpfs of size at mnt, or skip the test (not root)."""
    os.mkdir(mnt)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s" % size, "tmpfs", mnt],
                       capture_output=True)
    if r.returncode != 0:
        case.skipTest("cannot mount a small tmpfs here: %s" % r.stderr.decode().strip())
    case.addCleanup(subprocess.run, ["umount", "-l", mnt])


class DiskFullTests(mmtest.MMTestCase):

    def setUp(self):
        super().setUp()
        self.mnt = self.path("small")
        mount_tmpfs(self, self.mnt, "512k")

    def test_full_disk_refuses_cleanly_and_keeps_the_store(self):
        home = os.path.join(self.mnt, "home")
        self.ok("init", "--name", "Ada", home=home)
        added = []
        text = "x" * 3000
        for i in range(400):
            r = self.mm("note", "add", "-", home=home, stdin=("%d %s" % (i, text)).encode())
            if r.rc != 0:
                self.assertEqual(r.rc, 1, r)
                self.assert_one_line_error(r)
                self.assertIn("full", r.err)
                break
            added.append(i)
        else:
            self.fail("512 KiB never filled up")
        self.assertGreater(len(added), 10)
        # every note that was acknowledged is there, and the store verifies
        self.assert_verify_ok(home)
        texts = {n["text"] for n in self.notes(home)}
        self.assertEqual(texts, {"%d %s" % (i, text) for i in added})
        # a refused write again does not change anything
        r = self.mm("note", "add", text * 10, home=home)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(len(self.notes(home)), len(added))


class SyncFullTests(mmtest.SyncTestCase):
    """Grace holds SYNC_ENTRIES entries for Ada; the receiving store runs out
    of room in the middle of the transfer."""

    def setUp(self):
        super().setUp()
        self.grace, _ = self.new_home("Grace", sub="grace")

    def pair_and_fill(self, ada):
        self.ada = ada
        self.ok("init", "--name", "Ada", home=ada)
        srv = self.serve(self.grace)
        self.scope = self.pair(self.grace, ada, "grace")
        self.tool_ok("mm_fill", "--home", self.grace, "--peer", "ada",
                     "--count", SYNC_ENTRIES, "--size", SYNC_SIZE)
        feeds = self.feed_heads(self.grace)
        [self.gfeed] = [f for f, (seq, _) in feeds.items() if seq == SYNC_ENTRIES + 1]
        return srv

    def tool_ok(self, *args):
        r = self.tool(*args, timeout=600)
        self.assertEqual(r.rc, 0, r)
        return r

    def feed_heads(self, home):
        """{author hex: (seq, head id)} of the feeds in the shared scope."""
        out = {}
        for line in self.tool_ok("mm_heads", "--home", home).out.splitlines():
            author, scope, seq, hid = line.split()
            if scope == self.scope:
                out[author] = (int(seq), hid)
        return out

    def run_ends(self, start):
        """The seqs at which the runs of Grace's feed end when a sync
        starts above seq start (net/session.c cuts them: at most RUN_MAX
        entries and RUN_BYTES of them)."""
        sizes = {e["seq"]: e["size"] for e in self.log(self.grace)
                 if e["scope"] == self.scope and e["seq"] > start
                 and mmtest.idcode_decode(e["author"], "mmd").hex() == self.gfeed}
        ends, n, size = set(), 0, 0
        for seq in sorted(sizes):
            if n == RUN_MAX or (n and size + sizes[seq] > RUN_BYTES):
                ends.add(seq - 1)
                n = size = 0
            n, size = n + 1, size + sizes[seq]
        return ends | {max(sizes)}

    def assert_whole_runs(self, before, after, home):
        """Nothing half-stored: home verifies and its head of Grace's feed
        is where it was or at the end of a run, the same entry Grace has."""
        self.assert_verify_ok(home)
        seq, hid = self.feed_heads(home).get(self.gfeed, (0, ""))
        self.assertTrue(seq == before or seq in self.run_ends(before),
                        "head at %d: not the end of a run after %d" % (seq, before))
        ids = {e["seq"]: e["id"] for e in self.log(self.grace)
               if e["scope"] == self.scope
               and mmtest.idcode_decode(e["author"], "mmd").hex() == self.gfeed}
        self.assertEqual(hid, ids.get(seq, hid), "head %d differs from Grace's" % seq)
        return seq

    def failed_sync(self, home, peer, env=None):
        r = self.mm("--json", "sync", peer, "--timeout", "30", home=home, env=env)
        self.assertEqual(r.rc, 1, "the sync should have run out of room\n%r" % r)
        [p] = self.parse_json(r)["peers"]
        self.assertIs(p["ok"], False, p)
        self.assertEqual(p["code"], "MM_EFULL", p)
        self.assertIn("full", p["error"], p)
        self.assertRegex(r.err, r"(?i)^mm sync: %s: .*full" % peer, r)
        self.assert_one_line_error(r)
        return r

    def test_full_tmpfs_while_pulling(self):
        mnt = self.path("small")
        mount_tmpfs(self, mnt, "8m")
        self.pair_and_fill(os.path.join(mnt, "ada"))
        before = self.feed_heads(self.ada)[self.gfeed][0]
        self.failed_sync(self.ada, "grace")
        got = self.assert_whole_runs(before, before, self.ada)
        self.assertLess(got, SYNC_ENTRIES + 1)
        print("\nfull at seq %d of %d" % (got, SYNC_ENTRIES + 1), file=sys.stderr)
        # still full: refused again, nothing changes
        self.failed_sync(self.ada, "grace")
        self.assertEqual(self.assert_whole_runs(got, got, self.ada), got)
        # room given: the next sync completes
        subprocess.run(["mount", "-o", "remount,size=64m", mnt], check=True)
        j = self.sync(self.ada, "grace", "--timeout", "30")
        self.assertIs(j["peers"][0]["ok"], True, j)
        self.assertEqual(self.feed_heads(self.ada), self.feed_heads(self.grace))
        self.assert_verify_ok(self.ada)

    def test_full_map_of_the_serving_side(self):
        """Grace pushes to Ada's mm serve, whose store map may not grow past
        8 MiB: Grace's sync names MM_EFULL, Ada's serve goes on serving, and
        with the cap lifted the push completes."""
        srv = self.pair_and_fill(self.path("ada"))
        self.stop_server(srv, expect_clean=True)
        before = self.feed_heads(self.ada)[self.gfeed][0]
        asrv = self.serve(self.ada, env=self.env(MM_STORE_MAP_MAX=str(8 << 20)))
        self.ok("peer", "set-addr", "ada", asrv.endpoint, home=self.grace)
        self.failed_sync(self.grace, "ada")
        self.assert_alive(asrv)
        got = self.assert_whole_runs(before, before, self.ada)
        self.assertLess(got, SYNC_ENTRIES + 1)
        print("\nfull at seq %d of %d" % (got, SYNC_ENTRIES + 1), file=sys.stderr)
        self.failed_sync(self.grace, "ada")
        self.assert_alive(asrv)
        self.stop_server(asrv, expect_clean=True)
        asrv = self.serve(self.ada, port=asrv.port)
        j = self.sync(self.grace, "ada", "--timeout", "30")
        self.assertIs(j["peers"][0]["ok"], True, j)
        self.assertEqual(self.feed_heads(self.ada), self.feed_heads(self.grace))
        self.assert_verify_ok(self.ada)


if __name__ == "__main__":
    unittest.main()
