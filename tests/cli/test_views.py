"""The views index (issue 13, PROTOCOL.md 6): mm thread shows the latest 50
entries unless --all; bulk entries of a type the views do not show change
nothing in status, inbox or thread; mm verify checks the index and
--reindex rebuilds it; a format-3 home is indexed on its first open and
shows what it showed before.  Real mm processes on 127.0.0.1.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from test_engage import EngageBase, GOOD_Q, ANSWER  # noqa: E402

THANKS = "Thank you, starting from the failing cases worked for my team."


class ViewsBase(EngageBase):

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.ada = self.person("Ada")
        self.connect(self.grace, self.ada, "grace", "ada")

    def engage(self):
        """Ada asks, Grace answers, Ada thanks: a real engagement."""
        ada, grace = self.ada, self.grace
        qid = self.ask(ada, "grace", GOOD_Q)
        self.sync(ada, "grace")
        self.inbox(grace)
        self.ok("answer", qid[:8], ANSWER, home=grace)
        self.sync(ada, "grace")
        self.ok("thank", qid[:8], THANKS, home=ada)
        self.sync(ada, "grace")
        return qid

    def fill(self, home, peer, count, type_=None):
        args = ["--home", home, "--peer", peer, "--count", str(count)]
        if type_:
            args += ["--type", type_]
        r = self.tool("mm_fill", *args)
        self.assertEqual(r.rc, 0, "mm_fill failed\n%r" % r)

    def views(self):
        """What status, inbox and thread show on both sides (text and JSON;
        no wrapping, times as they are)."""
        env = self.env(COLUMNS=None)
        out = {}
        for who, home, peer in (("ada", self.ada, "grace"), ("grace", self.grace, "ada")):
            for args in (("status",), ("status", "--json"), ("inbox",), ("inbox", "--json"),
                         ("thread", peer), ("thread", peer, "--json"),
                         ("thread", peer, "--all", "--json")):
                out[(who,) + args] = self.ok(*args, home=home, env=env).out
        return out


class TestThreadLatest(ViewsBase):

    def test_thread_shows_latest_50_unless_all(self):
        ada = self.ada
        self.engage()
        small = self.ok_json("thread", "grace", home=ada)
        self.assertEqual(small["earlier"], 0, small)
        n0 = len(small["entries"])
        self.assertLess(n0, 50)
        self.assertNotIn("earlier entr", self.ok("thread", "grace", home=ada).out)
        # a modified client piles up questions: engagement entries all
        self.fill(ada, "grace", 60, "question")
        total = n0 + 60
        full = self.ok_json("thread", "grace", "--all", home=ada)
        self.assertEqual(len(full["entries"]), total)
        self.assertEqual(full["earlier"], 0)
        j = self.ok_json("thread", "grace", home=ada)
        self.assertEqual(len(j["entries"]), 50, j)
        self.assertEqual(j["earlier"], total - 50)
        self.assertEqual([e["id"] for e in j["entries"]],
                         [e["id"] for e in full["entries"][-50:]])
        text = self.ok("thread", "grace", home=ada).out
        self.assertTrue(text.startswith("(%d earlier entries not shown: mm thread grace --all)\n\n"
                                        % (total - 50)), text)
        blocks = text.split("\n\n")[1:]
        self.assertEqual(len(blocks), 50, text)
        alltext = self.ok("thread", "grace", "--all", home=ada).out
        self.assertNotIn("earlier entr", alltext)
        self.assertEqual(len(alltext.split("\n\n")), total, alltext)
        self.assertTrue(alltext.endswith(text.split("\n\n", 1)[1]), "the same latest 50")
        self.assertIn("--all", self.ok("help", "thread").out)


class TestBulkAndVerify(ViewsBase):

    def test_bulk_entries_change_no_view_and_verify_checks_the_index(self):
        ada, grace = self.ada, self.grace
        self.engage()
        before = self.views()
        # bulk entries of a type the views do not show, on both sides
        self.fill(ada, "grace", 3000)
        self.fill(ada, "@self", 2000, "note")
        self.sync(ada, "grace")
        after = self.views()
        for k in before:
            if k[1] == "status" and "--json" not in k:
                continue            # relative times ("2 minutes ago") may move
            self.assertEqual(before[k], after[k], k)
        for home in (ada, grace):
            r = self.ok("verify", home=home)
            self.assertRegex(r.out, r"^verified \d+ entries: ", r)
            r = self.ok("verify", "--reindex", home=home)
            self.assertRegex(r.out, r"^rebuilt the views index: \d+ entries\nverified ", r)
            j = self.ok_json("verify", "--reindex", home=home)
            self.assertIs(j["ok"], True, j)
        for k, v in self.views().items():
            if k[1] == "status" and "--json" not in k:
                continue
            self.assertEqual(v, after[k], k)


class TestFormat3Migrates(EngageBase):

    def test_format3_home_is_indexed_on_open_and_shows_the_same(self):
        os.environ["MM_STORE_FORMAT"] = "3"
        try:
            grace = self.mentor("Grace")
            ada = self.person("Ada")
            self.connect(grace, ada, "grace", "ada")
            qid = self.ask(ada, "grace", GOOD_Q)
            self.sync(ada, "grace")
            self.inbox(grace)
            self.ok("answer", qid[:8], ANSWER, home=grace)
            self.sync(ada, "grace")
            srv = self.servers.pop(grace)
            self.stop_server(srv)
            old = {}
            for who, home, peer in (("ada", ada, "grace"), ("grace", grace, "ada")):
                self.ok("status", home=home)        # the mark: nothing new after it
                for args in (("status", "--json"), ("inbox", "--json"),
                             ("thread", peer, "--json")):
                    old[(who,) + args] = self.ok(*args, home=home).out
        finally:
            del os.environ["MM_STORE_FORMAT"]
        for who, home, peer in (("ada", ada, "grace"), ("grace", grace, "ada")):
            r = self.ok("status", "--json", home=home)
            self.assertRegex(r.err.strip(), r"^mm: upgraded the store of .* from format 3 to 4; "
                             r"the old one is kept as .*/store/format-3\.mdb$", r)
            self.assertEqual(r.out, old[(who, "status", "--json")])
            for args in (("inbox", "--json"), ("thread", peer, "--json")):
                r = self.ok(*args, home=home)
                self.assertEqual(r.err, "", r)
                self.assertEqual(r.out, old[(who,) + args], args)
            self.assert_verify_ok(home)
        # and it goes on: what is written and received now is indexed
        self.servers[grace] = self.serve(grace, port=srv.port)   # where Ada knows it
        self.ok("thank", qid[:8], THANKS, home=ada)
        self.sync(ada, "grace")
        j = self.ok_json("thread", "ada", home=grace)
        self.assertEqual(j["entries"][-1]["type"], "thanks", j)
        self.assert_verify_ok(grace)


if __name__ == "__main__":
    mmtest.main()
