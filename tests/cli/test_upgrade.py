"""A home of an older store format opens with today's mm: it is migrated
once, in one transaction, after a copy of the old store is put aside, and
mm says so in one line (PROTOCOL.md 11)."""
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                       "format1-home")
NOTE = "A note from format 1, kept across the upgrade"


class Upgrade(mmtest.MMTestCase):
    def setUp(self):
        super().setUp()
        self.home = self.path("old")
        shutil.copytree(FIXTURE, self.home)
        for root, dirs, files in os.walk(self.home):
            os.chmod(root, 0o700)
            for f in files:
                os.chmod(os.path.join(root, f), 0o600)

    def test_format1_home_migrates_once_and_keeps_everything(self):
        old = open(os.path.join(self.home, "store", "data.mdb"), "rb").read()
        r = self.ok("note", "list", home=self.home)
        self.assertIn(NOTE, r.out, r)
        lines = r.err.strip().split("\n")
        self.assertEqual(len(lines), 1, r)
        self.assertRegex(lines[0], r"^mm: upgraded the store of .* from format 1 to 4; the old "
                         r"one is kept as .*/store/format-1\.mdb$", r)
        copy = os.path.join(self.home, "store", "format-1.mdb")
        self.assertEqual(os.stat(copy).st_mode & 0o777, 0o600)
        self.assertEqual(open(copy, "rb").read()[:4096], old[:4096], "the copy is the old store")
        # once only, and nothing lost
        r = self.ok("note", "list", home=self.home)
        self.assertEqual(r.err, "", r)
        self.assertIn(NOTE, r.out, r)
        self.assertIn("ship the parser rewrite", self.ok("ambition", "list", home=self.home).out)
        self.assert_verify_ok(self.home)
        self.ok("note", "add", "written after the upgrade", home=self.home)
        self.assertEqual(len(self.notes(self.home)), 2)


FIXTURE2 = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                        "format2-home")
NOTE2 = "A note from format 2, kept across the upgrade"
QUESTION2 = "What helped you most when you first led a team of five?"


class UpgradeFormat2(mmtest.MMTestCase):
    """Format 2 (mm before devices: certificates of version 1) opens, migrates to 4
    once, and the home's own certificate is re-issued in version 2."""

    def setUp(self):
        super().setUp()
        self.home = self.path("old2")
        shutil.copytree(FIXTURE2, self.home)
        for root, dirs, files in os.walk(self.home):
            os.chmod(root, 0o700)
            for f in files:
                os.chmod(os.path.join(root, f), 0o600)

    def test_format2_home_migrates_and_keeps_everything(self):
        r = self.ok("note", "list", home=self.home)
        self.assertIn(NOTE2, r.out, r)
        self.assertRegex(r.err.strip(), r"^mm: upgraded the store of .* from format 2 to 4; the "
                         r"old one is kept as .*/store/format-2\.mdb$", r)
        r = self.ok("note", "list", home=self.home)
        self.assertEqual(r.err, "", r)
        self.assertIn("lead a team of five", self.ok("ambition", "list", home=self.home).out)
        self.assertIn(QUESTION2, self.ok("status", home=self.home).out)
        self.assert_verify_ok(self.home)
        self.ok("note", "add", "written after the upgrade", home=self.home)
        self.assertEqual(len(self.notes(self.home)), 2)


if __name__ == "__main__":
    unittest.main()
