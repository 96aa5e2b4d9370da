"""The store's map starts small and grows on demand (core/store.h): mm runs
under a memory ulimit, and at the map's maximum (lowered through
MM_STORE_MAP_MAX) a note is refused with one clear line while everything
stored before stays intact and verifiable."""
import os
import resource
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402

# `ulimit -v 1000000`: about 1 GB of address space, in which the old
# 64 GiB map could not be made ("out of memory" at mm init).
AS_LIMIT = 1000000 * 1024


def limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))


class StoreMapTests(mmtest.MMTestCase):

    @unittest.skipIf(mmtest.SANITIZED, "ASan reserves terabytes of shadow address space")
    def test_runs_under_a_memory_ulimit(self):
        home = self.path("home")
        lim = {"preexec_fn": limit_address_space}
        self.ok("init", "--name", "Ada", home=home, **lim)
        self.ok("note", "add", "hi", home=home, **lim)
        self.ok("note", "add", "-", home=home, stdin="x" * 50000, **lim)
        r = self.ok("--json", "note", "list", home=home, **lim)
        self.assertEqual(sorted(n["text"] for n in self.parse_json(r)["notes"]),
                         ["hi", "x" * 50000])
        self.ok("verify", home=home, **lim)

    def test_full_map_refuses_cleanly_and_keeps_the_store(self):
        home, _ = self.new_home()
        small = self.env(MM_STORE_MAP_MAX=str(256 * 1024))
        added = []
        for i in range(100):
            text = "%d %s" % (i, "y" * 20000)
            r = self.mm("note", "add", "-", home=home, stdin=text, env=small)
            if r.rc != 0:
                self.assertEqual(r.rc, 1, r)
                self.assert_one_line_error(r)
                self.assertIn("full", r.err)
                break
            added.append(text)
        else:
            self.fail("a 256 KiB map never filled up")
        self.assertGreater(len(added), 2)
        # every note that was acknowledged is there, and the store verifies
        self.assert_verify_ok(home)
        self.assertEqual(sorted(n["text"] for n in self.notes(home)), sorted(added))
        # refused again at the cap; without the cap the map grows and it fits
        r = self.mm("note", "add", "-", home=home, stdin="z" * 20000, env=small)
        self.assertEqual(r.rc, 1, r)
        self.assertEqual(len(self.notes(home)), len(added))
        self.add_note_stdin(home, "z" * 20000)
        self.assertEqual(len(self.notes(home)), len(added) + 1)
        self.assert_verify_ok(home)


if __name__ == "__main__":
    unittest.main()
