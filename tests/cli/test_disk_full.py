"""A full disk: mm refuses the note with one clear line, and everything
stored before stays intact and verifiable.

Needs a small tmpfs (mount as root); skipped where mounting is not allowed.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402


class DiskFullTests(mmtest.MMTestCase):

    def setUp(self):
        super().setUp()
        self.mnt = self.path("small")
        os.mkdir(self.mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", self.mnt],
                           capture_output=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a small tmpfs here: %s" % r.stderr.decode().strip())
        self.addCleanup(subprocess.run, ["umount", "-l", self.mnt])

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


if __name__ == "__main__":
    unittest.main()
