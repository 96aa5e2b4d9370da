"""A copied home (two homes holding one device key) is detected, never silent.

Ada's home is copied to ada2 after they have synced once; both then write
in their relationship with Grace.  Whoever holds both signed entries at one
position records the fork (PROTOCOL.md 8.7): a sync that meets it exits 1
with MM_EFORK; a home whose own key forked says so before every command,
in mm status, and refuses every write with MM_EFORKED.  Nothing stored is
lost and every store still verifies.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402

WARNING = "this device's key was also used on another home (a copied home)"


class TestFork(mmtest.SyncTestCase):

    def setUp(self):
        super().setUp()
        self.grace, _ = self.new_home("Grace", sub="grace")
        self.ada, _ = self.new_home("Ada", sub="ada")
        self.srv = self.serve(self.grace)
        self.scope = self.pair(self.grace, self.ada, "grace")
        self.say(self.ada, "Week 1: read the chapter on delegation.")
        self.sync(self.ada, "grace")
        self.ada2 = self.path("ada2")
        shutil.copytree(self.ada, self.ada2, symlinks=True)

    def say(self, home, text, n=1):
        """n entries in the relationship with Grace (or, for Grace, with Ada)."""
        self.fill(home, "ada" if home == self.grace else "grace", n)

    def ada_entries(self, home):
        ada_dev = self.ident(self.ada)["device"]
        return [e for e in self.scope_entries(home, self.scope) if e["author"] == ada_dev]

    def sync_fails_fork(self, home):
        r = self.mm("--json", "sync", "grace", home=home)
        self.assertEqual(r.rc, 1, r)
        [p] = self.parse_json(r)["peers"]
        self.assertIs(p["ok"], False, r)
        self.assertEqual(p["code"], "MM_EFORK", r)
        self.assertIn("two different entries at seq", p["error"], r)
        # text form: one line for the peer, exit 1
        r = self.mm("sync", "grace", home=home)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("two different entries at seq", r.err, r)
        return p

    def assert_forked(self, home, valid_through):
        # every command says so first, on stderr
        r = self.ok("id", home=home)
        self.assertTrue(r.err.startswith("mm: " + WARNING), r)
        self.assertIn("mm device reset", r.err)
        self.assertIn("entries up to seq %d stay valid" % valid_through, r.err)
        self.assertEqual(r.err.count("\n"), 1, r)
        # mm status shows it, text and JSON
        r = self.ok("status", home=home)
        self.assertIn("forked: " + WARNING, r.out)
        d = self.ok_json("status", home=home)["device"]
        self.assertIs(d["forked"], True, d)
        self.assertEqual(d["code"], "MM_EFORKED", d)
        self.assertEqual(d["valid_through_seq"], valid_through, d)
        # every write is refused, in every scope
        for args in (["ask", "grace", "--as-is", "How do I delegate?"], ["note", "add", "mine"]):
            r = self.mm("--json", *args, home=home)
            self.assertEqual(r.rc, 1, r)
            self.assertEqual(self.parse_json(r)["error"]["code"], "MM_EFORKED", r)

    def assert_not_forked(self, home):
        r = self.ok("id", home=home)
        self.assertNotIn(WARNING, r.err, r)
        self.assertIs(self.ok_json("status", home=home)["device"]["forked"], False)

    def assert_all_verify(self):
        for h in (self.ada, self.ada2, self.grace):
            self.assert_verify_ok(h)

    def test_equal_heads_detected_and_forwarded(self):
        """Both write seq 2; Ada syncs first, then ada2 meets Grace at equal
        heads (both compare), then Ada learns from Grace's proof."""
        self.say(self.ada, "Week 2 (ada): ran my first one-on-ones.")
        self.say(self.ada2, "Week 2 (ada2): skipped them.")
        self.sync(self.ada, "grace")
        before = {h: self.ada_entries(h) for h in (self.ada, self.ada2, self.grace)}
        self.assertEqual(len(before[self.grace]), 2)

        self.sync_fails_fork(self.ada2)
        self.assert_forked(self.ada2, 1)
        self.assert_not_forked(self.grace)
        self.assert_not_forked(self.ada)          # not told yet
        self.assertIsNotNone(self.srv.wait_line(r"ended: .*two different entries.*\(MM_EFORK\)"),
                             self.srv)            # mm serve logs it in one line

        self.sync_fails_fork(self.ada)            # Grace forwards the proof
        self.assert_forked(self.ada, 1)
        self.assert_not_forked(self.grace)
        for h, v in before.items():               # nothing stored is lost
            self.assertEqual(self.ada_entries(h), v, h)
        self.assert_all_verify()

    def test_shorter_copy_learns_from_challenge(self):
        """Ada writes seq 2 and 3 and syncs; ada2 writes its own seq 2: only
        Grace, holding more, can compare, and challenges ada2."""
        self.say(self.ada, "Week 2 (ada): ran my first one-on-ones.")
        self.say(self.ada, "Week 3 (ada): handed off the release.")
        self.sync(self.ada, "grace")
        self.say(self.ada2, "Week 2 (ada2): skipped them.")
        grace_before = self.ada_entries(self.grace)
        self.assertEqual(len(grace_before), 3)

        self.sync_fails_fork(self.ada2)
        self.assert_forked(self.ada2, 1)
        self.assert_not_forked(self.grace)
        self.assertEqual(len(self.ada_entries(self.ada2)), 2)   # nothing lost, nothing taken
        self.assertEqual(self.ada_entries(self.grace), grace_before)

        self.sync_fails_fork(self.ada)
        self.assert_forked(self.ada, 1)
        # Grace still syncs Ada's other feeds' holders and writes on
        self.say(self.grace, "Noted.")
        self.assert_all_verify()

    def test_reset_recovers_the_home_kept(self):
        """After the fork, Ada resets the home she keeps: a new certified key, the
        old one revoked up to seq 1 (the fork is at 2); her syncs complete again,
        Grace takes the new device, and the copy is refused."""
        self.say(self.ada, "Week 2 (ada): ran my first one-on-ones.")
        self.say(self.ada2, "Week 2 (ada2): skipped them.")
        self.sync(self.ada, "grace")
        self.sync_fails_fork(self.ada2)
        self.sync_fails_fork(self.ada)
        old = self.ident(self.ada)["device"]

        r = self.ok_json("device", "reset", home=self.ada)
        self.assertGreaterEqual(r["scopes_rekeyed"], 2, r)     # self and the relationship
        new = self.ident(self.ada)["device"]
        self.assertNotEqual(new, old)
        self.assertTrue(r["device"].startswith("mmd") and r["revoked"].startswith("mmd"), r)
        self.assert_not_forked(self.ada)
        self.ok("note", "add", "after the reset", home=self.ada)
        self.say(self.ada, "Week 3 (ada, new key): handed off the release.")
        self.sync(self.ada, "grace")                           # completes: the fork is settled
        self.sync(self.ada, "grace")
        devices = {d["state"] for d in self.ok_json("device", "list", home=self.ada)["devices"]}
        self.assertEqual(devices, {"current", "revoked"})
        # the copy still holds the old key: refused by Grace from now on
        r = self.mm("--json", "sync", "grace", home=self.ada2)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(self.parse_json(r)["peers"][0]["code"], "MM_EREFUSED", r)
        # a reset needs the identity key
        os.remove(os.path.join(self.ada2, "identity.key"))
        r = self.mm("--json", "device", "reset", home=self.ada2)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(self.parse_json(r)["error"]["code"], "MM_ENOIDENTITY", r)
        for h in (self.ada, self.grace):
            self.assert_verify_ok(h)


if __name__ == "__main__":
    mmtest.main()
