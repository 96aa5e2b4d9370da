"""mm backup and mm restore (PROTOCOL.md 12) with real mm processes.

Ada (mentee) and Grace (mentor, serving) are paired; Ada has notes, an
ambition and a question to Grace.  Ada backs up, her home is wiped, and a
restore makes a new device of hers that holds everything, verifies, writes,
and is not yet caught up until it has synced with Grace.  The restore
revokes the device the backup was made on (presumed lost) and rekeys every
scope away from it: once Grace has synced with the new device she refuses
what the old one writes (MM_EREVOKED), unless the restore was --keep-old.
"""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402

PASS = "a long and private passphrase"
NEAR = "ship the parser rewrite before the March release"
QUESTION = "What would you weigh first when my team wants a parser rewrite before March?"


class BackupBase(mmtest.SyncTestCase):

    def setUp(self):
        super().setUp()
        self.grace, _ = self.new_home("Grace", sub="grace")
        self.ada, _ = self.new_home("Ada", sub="ada")
        self.srv = self.serve(self.grace)
        self.scope = self.pair(self.grace, self.ada, "grace")
        self.pfile = self.path("passphrase")
        with open(self.pfile, "w") as f:
            f.write(PASS + "\n")

    def env(self, **extra):
        """Tests use the KDF's smallest parameters (12.1)."""
        extra.setdefault("MM_PWHASH", "min")
        return super().env(**extra)

    def backup(self, home, path, *args):
        return self.ok_json("backup", path, "--passphrase-file", self.pfile, *args, home=home)

    def restore(self, path, home, *args, env=None):
        r = self.mm("--json", "restore", path, "--passphrase-file", self.pfile, *args,
                    home=home, env=env)
        self.assertEqual(r.rc, 0, r)
        return self.parse_json(r)

    def error_code(self, r):
        return self.parse_json(r)["error"]["code"]


class TestBackup(BackupBase):

    def test_restore_makes_a_new_device_with_everything(self):
        self.add_note(self.ada, "a private note")
        amb = self.ok_json("ambition", "add", "--near", NEAR, home=self.ada)
        q = self.ok_json("ask", "grace", QUESTION, "--ambition", amb["id"][:8], home=self.ada)
        self.sync(self.ada, "grace")
        old = self.ident(self.ada)
        before = sorted(e["id"] for e in self.log(self.ada))

        path = self.path("ada.mmbk")
        j = self.backup(self.ada, path)
        self.assertEqual(j["file"], path)
        self.assertEqual(j["peers"], 1)
        self.assertEqual(j["entries"], len(before))
        self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(data[:4], b"mmbk")
        self.assertEqual(data[4:6], b"\x01\x01")
        self.assertNotIn(b"a private note", data)
        self.assertNotIn(b"Ada", data)
        # never over an existing file without --force
        r = self.fails(1, "--json", "backup", path, "--passphrase-file", self.pfile,
                       home=self.ada)
        self.assertEqual(self.error_code(r), "MM_EEXIST")
        self.backup(self.ada, path, "--force")

        # the lost laptop: a thief holds a copy of the old home
        thief = self.path("ada-thief")
        shutil.copytree(self.ada, thief)
        shutil.rmtree(self.ada)
        new = self.path("ada-new")
        j = self.restore(path, new, "--device", "phone")
        self.assertEqual(j["identity"], old["identity"])
        self.assertEqual(j["old_device"], old["device"])
        self.assertNotEqual(j["device"], old["device"])
        self.assertIs(j["keep_old"], False)
        self.assertIs(j["revoked"], True)
        self.assertEqual(j["rekeyed"], 2)            # the self scope and Grace's
        self.assertEqual((j["revokes"], j["forks"]), (0, 0))
        self.assertEqual(j["catchup"], 1)
        # the backed-up device is revoked (no --keep-old): 12.4
        states = {d["id"]: d["state"] for d in
                  self.ok_json("device", "list", home=new)["devices"]}
        self.assertEqual(states, {old["device"]: "revoked", j["device"]: "current"})
        me = self.ident(new)
        self.assertEqual(me["device"], j["device"])
        self.assertEqual(me["identity"], old["identity"])
        after = self.log(new)
        self.assertEqual(sorted(e["id"] for e in after if e["author"] != me["device"]), before)
        # the restore's own entries: a rekey per scope, the self scope's first,
        # and the relationship's new keys for own devices (5.4)
        mine = [e for e in after if e["author"] == me["device"]]
        self.assertEqual(sorted(e["type"] for e in mine), ["rekey", "rekey", "scope"])
        devs = {d["id"]: d for d in self.ok_json("device", "list", home=new)["devices"]}
        self.assertEqual(devs[me["device"]]["state"], "current")
        self.assertIs(devs[me["device"]]["identity_device"], True)
        self.assertIs(devs[me["device"]]["this"], True)
        self.assertEqual(devs[old["device"]]["state"], "revoked")
        self.assert_verify_ok(new)
        self.assertEqual([n["text"] for n in self.notes(new)], ["a private note"])
        ambitions = self.ok_json("ambition", "list", home=new)
        self.assertIn(NEAR, str(ambitions))
        thread = self.ok_json("thread", "grace", home=new)
        self.assertIn(q["id"], [e["id"] for e in thread["entries"]])

        # not caught up until a session with Grace completes
        st = self.ok_json("status", home=new)
        self.assertEqual(st["restored"], {"caught_up": False, "to_go": 1, "names": "grace"})
        r = self.ok("status", home=new)
        self.assertIn("restored, not yet caught up (1 to go: grace)", r.out)
        # writing never waits
        self.add_note(new, "written on the new device")
        self.assert_verify_ok(new)

        # Grace's mm serve admits a known peer's new device (its HELLO
        # carries the version-2 certificate); the session completes, and
        # the home has caught up
        j = self.sync(new, "grace")
        self.assertTrue(j["peers"][0]["ok"], j)
        st = self.ok_json("status", home=new)
        self.assertEqual(st["restored"]["caught_up"], True, st)
        self.assertNotIn("not yet caught up", self.ok("status", home=new).out)
        # Grace got the new device and the revocation in DEVICES
        shown = self.ok("peer", "show", "ada", home=self.grace).out
        lines = [ln for ln in shown.splitlines() if "mmd" in ln]
        self.assertTrue(any(me["device"][:15] in ln and "current" in ln for ln in lines), shown)
        self.assertTrue(any(old["device"][:15] in ln and "revoked" in ln for ln in lines), shown)
        # ... and reads what the new device writes in their scope (the new key
        # reached her in the rekey)
        self.ok_json("withdraw", q["id"][:8], home=new)
        self.sync(new, "grace")
        mine = [e for e in self.scope_entries(self.grace, self.scope)
                if e["author"] == me["device"]]
        self.assertEqual(sorted(e["type"] for e in mine), ["rekey", "withdraw"], mine)
        self.assert_verify_ok(self.grace)

        # the thief writes with the old device key: Grace's mm serve refuses
        # the revoked key in the handshake (section 7), so nothing it wrote
        # after the revocation reaches her (an entry past the revocation's
        # lasts that came another way is MM_EREVOKED at her verifier:
        # tests/unit/test_backup.c)
        self.ok_json("ambition", "share", "grace", home=thief)
        mark = self.srv.mark()
        r = self.fails(1, "--json", "sync", "grace", home=thief)
        self.assertEqual(self.parse_json(r)["peers"][0]["code"], "MM_EREFUSED", r)
        self.assertIsNotNone(self.srv.wait_line(r"revoked device", start=mark), self.srv)
        theirs = [e for e in self.scope_entries(self.grace, self.scope)
                  if e["author"] == old["device"]]
        self.assertEqual(len(theirs), 1, theirs)        # the question, from before
        self.assert_verify_ok(self.grace)

    def test_keep_old_revokes_nothing(self):
        """--keep-old: a second machine; the first keeps working."""
        self.ok("ask", "grace", QUESTION, home=self.ada)
        old = self.ident(self.ada)
        path = self.path("ada.mmbk")
        self.backup(self.ada, path)
        new = self.path("ada-second")
        j = self.restore(path, new, "--device", "desktop", "--keep-old")
        self.assertIs(j["keep_old"], True)
        self.assertIs(j["revoked"], False)
        self.assertEqual(j["rekeyed"], 0)
        me = self.ident(new)
        self.assertEqual([e for e in self.log(new) if e["author"] == me["device"]], [])
        devs = {d["id"]: d for d in self.ok_json("device", "list", home=new)["devices"]}
        self.assertEqual(devs[old["device"]]["state"], "current")
        self.assertEqual(devs[me["device"]]["state"], "current")
        self.assertTrue(self.sync(new, "grace")["peers"][0]["ok"])
        self.assertIs(self.ok_json("status", home=new)["restored"]["caught_up"], True)
        # the old device keeps working: Grace takes what it writes next
        self.ok_json("ambition", "share", "grace", home=self.ada)
        self.assertTrue(self.sync(self.ada, "grace")["peers"][0]["ok"])
        types = sorted(e["type"] for e in self.scope_entries(self.grace, self.scope)
                       if e["author"] == old["device"])
        self.assertEqual(len(types), 2, types)
        shown = self.ok("peer", "show", "ada", home=self.grace).out
        self.assertNotIn("revoked", shown)
        for dev in (old["device"], me["device"]):
            self.assertTrue(any(dev[:15] in ln and "current" in ln
                                for ln in shown.splitlines()), shown)

    def test_restore_twice_gives_two_devices(self):
        path = self.path("ada.mmbk")
        self.backup(self.ada, path)
        a = self.restore(path, self.path("one"), "--keep-old")
        b = self.restore(path, self.path("two"), "--keep-old")
        self.assertIs(a["keep_old"], True)
        self.assertEqual(a["identity"], b["identity"])
        self.assertEqual(a["old_device"], b["old_device"])
        self.assertNotEqual(a["device"], b["device"])
        self.assertNotIn(a["old_device"], (a["device"], b["device"]))
        # --keep-old: the backed-up device stays current
        states = {d["id"]: d["state"] for d in
                  self.ok_json("device", "list", home=self.path("one"))["devices"]}
        self.assertEqual(states, {a["old_device"]: "current", a["device"]: "current"})
        for home in ("one", "two"):
            self.add_note(self.path(home), "from %s" % home)
            self.assert_verify_ok(self.path(home))
        # a home is never restored over
        r = self.fails(1, "--json", "restore", path, "--passphrase-file", self.pfile,
                       home=self.path("one"))
        self.assertEqual(self.error_code(r), "MM_EEXIST")

    def test_passphrase_sources_and_errors(self):
        path = self.path("ada.mmbk")
        # from the environment
        j = self.ok_json("backup", path, home=self.ada, env=self.env(MM_PASSPHRASE=PASS))
        self.assertEqual(j["file"], path)
        self.restore(path, self.path("from-env"), env=self.env(MM_PASSPHRASE="ignored"))
        r = self.mm("--json", "restore", path, home=self.path("env2"),
                    env=self.env(MM_PASSPHRASE=PASS))
        self.assertEqual(r.rc, 0, r)
        # none at all, and no terminal: one line, nothing written
        r = self.fails(1, "--json", "backup", self.path("x.mmbk"), home=self.ada)
        self.assertEqual(self.error_code(r), "MM_EINVAL")
        self.assertIn("--passphrase-file", r.err)
        self.assertFalse(os.path.exists(self.path("x.mmbk")))
        r = self.fails(1, "restore", path, home=self.path("none"))
        self.assertIn("MM_PASSPHRASE", r.err)
        # wrong passphrase: a clear error, no home
        r = self.fails(1, "--json", "restore", path, home=self.path("wrong"),
                       env=self.env(MM_PASSPHRASE="not it"))
        self.assertEqual(self.error_code(r), "MM_EPASSPHRASE")
        self.assertIn("wrong passphrase or damaged backup", r.err)
        self.assertFalse(os.path.exists(self.path("wrong")))
        # cut short, and not a backup at all
        with open(path, "rb") as f:
            data = f.read()
        cut = self.path("cut.mmbk")
        with open(cut, "wb") as f:
            f.write(data[:-20])
        r = self.fails(1, "--json", "restore", cut, "--passphrase-file", self.pfile,
                       home=self.path("cut"))
        self.assertEqual(self.error_code(r), "MM_ETRUNC")
        self.assertFalse(os.path.exists(self.path("cut")))
        r = self.fails(1, "--json", "restore", self.pfile, "--passphrase-file", self.pfile,
                       home=self.path("notbk"))
        self.assertEqual(self.error_code(r), "MM_EINVAL")
        self.assertIn("not an mm backup", r.err)

    def test_backup_only_on_the_identity_device(self):
        os.remove(os.path.join(self.ada, "identity.key"))
        r = self.fails(1, "--json", "backup", self.path("a.mmbk"), "--passphrase-file",
                       self.pfile, home=self.ada)
        self.assertEqual(self.error_code(r), "MM_ENOIDENTITY")
        self.assertIn("identity device", r.err)
        self.assertFalse(os.path.exists(self.path("a.mmbk")))

    def test_restored_mentor_waits_to_settle(self):
        """A restored mentor's home settles no budget until caught up."""
        self.ok("ask", "grace", QUESTION, home=self.ada)
        self.sync(self.ada, "grace")
        path = self.path("grace.mmbk")
        self.stop_server(self.srv)
        j = self.backup(self.grace, path)
        self.assertEqual(j["questions"], 1)      # her first-come order travels too
        new = self.path("grace-new")
        j = self.restore(path, new)
        self.assertEqual(j["catchup"], 1)
        self.assertEqual(j["questions"], 1)
        r = self.ok("status", home=new)
        self.assertIn("restored, not yet caught up (1 to go: Ada)", r.out)
        # inbox and status settle first, except here: nothing is written
        n = len(self.log(new))
        self.ok_json("inbox", home=new)
        self.assertEqual(len(self.log(new)), n)


if __name__ == "__main__":
    mmtest.main()
