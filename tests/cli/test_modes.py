"""The home, its store and its key files are checked at open (PROTOCOL.md 6).

A home directory or store directory group or others may enter, a store
file (data.mdb, lock.mdb) or key file they may read, and a key file that is
a symbolic link are each refused by every command with MM_EPERM, one line
naming the path and the fix (chmod 700 DIR, chmod 600 FILE, or: put the
file itself there), and nothing stored is lost: after the fix the same
command works and the log is as it was.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402


class TestModes(mmtest.MMTestCase):
    def setUp(self):
        super().setUp()
        self.home, _ = self.new_home("Ada")
        self.ok("note", "add", "kept whatever happens", home=self.home)
        self.before = self.log()

    def log(self):
        return self.ok_json("log", home=self.home)["entries"]

    def refused(self, path, fix):
        """Every kind of command refuses, naming path and fix, with MM_EPERM."""
        for args in (["status"], ["note", "add", "not stored"], ["log"]):
            r = self.fails(1, *args, home=self.home)
            self.assertIn(path, r.err, r)
            self.assertIn(fix, r.err, r)
            self.assertNotIn("corrupt", r.err, r)
            r = self.mm("--json", *args, home=self.home)
            self.assertEqual(r.rc, 1, r)
            err = json.loads(r.out)["error"]
            self.assertEqual(err["code"], "MM_EPERM", r)
            self.assertIn(path, err["message"], r)

    def still_all_there(self):
        self.assertEqual(self.log(), self.before)
        self.ok("verify", home=self.home)

    def check_mode(self, rel, mode, fix_mode, fix_word):
        path = os.path.join(self.home, rel) if rel else self.home
        os.chmod(path, mode)
        self.refused(path, "%s %s" % (fix_word, path))
        os.chmod(path, fix_mode)
        self.still_all_there()

    def test_home_dir(self):
        for m in (0o750, 0o711, 0o707):
            self.check_mode(None, m, 0o700, "chmod 700")

    def test_store_dir(self):
        for m in (0o750, 0o701):
            self.check_mode("store", m, 0o700, "chmod 700")

    def test_store_files(self):
        for f in ("store/data.mdb", "store/lock.mdb"):
            for m in (0o640, 0o604):
                self.check_mode(f, m, 0o600, "chmod 600")

    def test_key_files(self):
        for f in ("device.key", "identity.key"):
            self.check_mode(f, 0o640, 0o600, "chmod 600")

    def test_symlinked_key_files(self):
        """A key file that is a link is never followed, and is said to be a
        link: not "corrupted" (it is not)."""
        for f in ("device.key", "identity.key"):
            p = os.path.join(self.home, f)
            target = self.path("elsewhere-" + f)
            os.rename(p, target)
            os.symlink(target, p)
            self.refused(p, "symbolic link")
            os.unlink(p)
            os.rename(target, p)
            self.still_all_there()


if __name__ == "__main__":
    mmtest.main()
