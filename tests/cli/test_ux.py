"""The small things of issue 11 between real mm processes: the config file
and mm config, --json errors of the new paths, Unicode case folding of
petnames and device names, wrapping to the terminal's width ($COLUMNS),
one JSON shape for ambitions, a readable Markdown export of every entry
type, and a scope's keys never exported.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from test_engage import (EngageBase, GOOD_Q, GOOD_Q2, LIN_Q, ANSWER, DECLINE,  # noqa: E402
                         THANKS, OFFER, REPORT, ASKBACK, NEAR, LONG, short)


class TestConfig(mmtest.SyncTestCase):

    def setUp(self):
        super().setUp()
        self.home, _ = self.new_home("Ada")
        self.cfg = os.path.join(self.home, "config")

    def test_set_get_list_unset(self):
        h = self.home
        self.assertEqual(self.ok_json("config", "list", home=h),
                         {"listen": None, "sync-timeout": None, "color": None, "editor": None})
        r = self.fails(1, "config", "get", "sync-timeout", home=h)
        self.assertIn("sync-timeout is not set; set it with 'mm config set sync-timeout VALUE'",
                      r.err)
        r = self.mm("--json", "config", "get", "color", home=h)
        self.assertEqual(json.loads(r.out)["error"]["code"], "MM_ENOTFOUND", r)
        self.assertEqual(self.ok("config", "set", "sync-timeout", "30", home=h).out,
                         "set sync-timeout = 30\n")
        self.ok("config", "set", "editor", "nano -w", home=h)
        self.ok("config", "set", "color", "never", home=h)
        self.assertEqual(self.ok("config", "get", "editor", home=h).out, "nano -w\n")
        self.assertEqual(self.ok_json("config", "get", "sync-timeout", home=h),
                         {"key": "sync-timeout", "value": "30"})
        self.assertEqual(self.ok("config", "list", home=h).out,
                         "sync-timeout = 30\ncolor = never\neditor = nano -w\n")
        self.assertEqual(os.stat(self.cfg).st_mode & 0o777, 0o600)
        # a hand edit is kept: comments and other lines stay, set replaces one line
        with open(self.cfg, "a") as f:
            f.write("\n# my own comment\n   color   =   always  \n")
        self.assertEqual(self.ok("config", "get", "color", home=h).out, "always\n")
        self.ok("config", "set", "sync-timeout", "45", home=h)
        with open(self.cfg) as f:
            text = f.read()
        self.assertIn("# my own comment\n", text)
        self.assertEqual(text.count("sync-timeout"), 1, text)
        self.assertIn("sync-timeout = 45\n", text)
        self.ok("config", "unset", "color", home=h)
        with open(self.cfg) as f:
            self.assertNotIn("color", f.read())
        self.assertEqual(self.ok_json("config", "unset", "editor", home=h),
                         {"key": "editor", "value": None})

    def test_bad_values_and_lines(self):
        h = self.home
        for key, val, says in (("sync-timeout", "0", "1 to 3600"),
                               ("sync-timeout", "ten", "1 to 3600"),
                               ("color", "pink", "auto, always or never"),
                               ("listen", "udp://x", "tcp://0.0.0.0:7461")):
            r = self.fails(2, "config", "set", key, val, home=h)
            self.assertIn("cannot set %s to '%s': " % (key, val), r.err)
            self.assertIn(says, r.err)
        r = self.fails(2, "config", "set", "colour", "never", home=h)
        self.assertIn("unknown key 'colour'; the keys are listen, sync-timeout, color, editor",
                      r.err)
        self.assertFalse(os.path.exists(self.cfg))
        # a broken file fails every command but mm config, naming file and line
        with open(self.cfg, "w") as f:
            f.write("# ok\nsync-timeout = 20\ncolour = never\n")
        r = self.fails(1, "status", home=h)
        self.assertIn("%s line 3: unknown key 'colour'; fix it (see 'mm help config')"
                      % self.cfg, r.err)
        r = self.mm("--json", "note", "list", home=h)
        self.assertEqual(json.loads(r.out)["error"]["code"], "MM_EINVAL", r)
        self.assertEqual(self.ok("config", "get", "sync-timeout", home=h).out, "20\n")
        with open(self.cfg, "w") as f:
            f.write("sync-timeout = 99999\n")
        r = self.fails(1, "note", "list", home=h)
        self.assertIn("line 1: sync-timeout is a number of seconds from 1 to 3600; fix it with "
                      "'mm config set sync-timeout VALUE'", r.err)
        self.ok("config", "set", "sync-timeout", "5", home=h)
        self.ok("note", "list", home=h)
        with open(self.cfg, "w") as f:
            f.write("just words\n")
        r = self.fails(1, "id", home=h)
        self.assertIn("line 1 is not 'key = value'", r.err)

    def test_flags_override_the_file(self):
        h = self.home
        port = mmtest.free_port()
        self.ok("config", "set", "listen", "tcp://127.0.0.1:%d" % port, home=h)
        srv = mmtest.Server([mmtest.MM_BIN, "--home", h, "serve"], self.env())
        self.addCleanup(self.stop_server, srv)
        self.assertIsNotNone(srv.wait_line(r"reachable at tcp://127\.0\.0\.1:%d" % port), srv)
        self.stop_server(srv)
        # --listen wins over the file
        srv = self.serve(h)
        self.assertNotEqual(srv.port, port)
        self.stop_server(srv)
        # the sync timeout reaches mm sync's --timeout check; the flag wins
        self.ok("config", "set", "sync-timeout", "7", home=h)
        r = self.fails(2, "sync", "--timeout", "0", home=h)
        self.assertIn("--timeout '0'", r.err)

    def test_color(self):
        h = self.home
        self.ok("note", "add", "colourful", home=h)
        self.assertNotIn("\033[", self.ok("note", "add", "plain", home=h).out)
        self.ok("config", "set", "color", "always", home=h)
        self.assertIn("\033[33m", self.ok("note", "add", "yellow id", home=h).out)
        self.assertNotIn("\033[", self.ok("--json", "note", "list", home=h).out)
        self.ok("config", "set", "color", "never", home=h)
        self.assertNotIn("\033[", self.ok("note", "add", "plain again", home=h).out)

    def test_documented(self):
        out = self.ok("help", "config").out
        for k in ("listen", "sync-timeout", "color", "editor", "key = value", "flag on the "
                  "command line"):
            self.assertIn(k, out)
        man = self.ok("help", "--man").out
        self.assertIn("config set", man)
        bash = self.ok("completion", "bash").out
        self.assertIn("config", bash)


class TestFolding(EngageBase):

    def test_unicode_petnames(self):
        grace = self.mentor("Grace")
        ada = self.person("Ada")
        code = self.invite(grace)["code"]
        self.accept(ada, code, "Émile")
        for typed in ("ÉMILE", "émile", "éMiLe"):
            j = self.ok_json("peer", "show", typed, home=ada)
            self.assertEqual(j["name"], "Émile", j)
        lin = self.mentor("Lin")
        code = self.invite(lin)["code"]
        self.accept(ada, code, "Σοφία")
        self.assertEqual(self.ok_json("peer", "show", "ΣΟΦΊΑ", home=ada)["name"], "Σοφία")
        # two peers never share a folded name
        r = self.fails(1, "peer", "rename", "σοφία", "émile", home=ada)
        self.assertRegex(r.err, r"(?i)already", r)
        r = self.fails(1, "peer", "rename", "σοφία", "ÉMILE", home=ada)
        # simple folding: ß is not ss; an accent typed apart is another name
        self.ok("peer", "rename", "σοφία", "Straße", home=ada)
        self.fails(1, "peer", "show", "STRASSE", home=ada)
        self.ok("peer", "show", "STRAẞE", home=ada)
        self.fails(1, "peer", "show", "e\u0301mile", home=ada)
        # listed in folded order
        names = [p["name"] for p in self.peers(ada)]
        self.assertEqual(names, sorted(names, key=str.casefold), names)
        self.assertIn("Unicode simple case", self.ok("help", "peer").out)

    def test_device_names(self):
        ada, _ = self.new_home("Ada", device="Écran")
        devs = self.ok_json("device", "list", home=ada)["devices"]
        self.assertEqual(len(devs), 1, devs)
        r = self.ok("device", "rename", "ÉCRAN", "Пётр", home=ada)
        self.ok("device", "rename", "пЁТР", "laptop", home=ada)
        self.assertEqual(self.ok_json("device", "list", home=ada)["devices"][0]["name"],
                         "laptop")


LONG_Q = ("What would you weigh first when my team wants a parser rewrite before "
          "March, given that our users mostly report failures in the tokenizer and "
          "the error messages, and the budget allows only one engineer for it?")


class TestWrapping(EngageBase):

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.ada = self.person("Ada")
        self.connect(self.grace, self.ada, "grace", "ada")
        self.qid = self.ask(self.ada, "grace", LONG_Q)
        self.sync(self.ada, "grace")

    def lines(self, r):
        return r.out.rstrip("\n").split("\n")

    def words_whole(self, lines):
        words = set(LONG_Q.replace("…", "").split())
        for line in lines:
            for w in line.replace("…", " ").split():
                if w.isalpha() or w.rstrip(",?").isalpha():
                    self.assertTrue(any(x.startswith(w) for x in words), (w, lines))

    def test_status_cut_at_a_word(self):
        for cols in (60, 80, 100, 132):
            r = self.ok("status", home=self.ada, env=self.env(COLUMNS=str(cols)))
            [line] = [x for x in self.lines(r) if short(self.qid) in x]
            self.assertLessEqual(len(line), cols, r)
            self.assertTrue(line.endswith("…"), line)
            cut = line.split("  ")[-1][:-1]
            self.assertTrue(LONG_Q.startswith(cut), (cut, LONG_Q))
            self.assertEqual(LONG_Q[len(cut)], " ", "cut mid-word: %r" % line)
        # unknown width (not a terminal, no COLUMNS): 60 characters of text
        r = self.ok("status", home=self.ada, env=self.env(COLUMNS=None))
        [line] = [x for x in self.lines(r) if short(self.qid) in x]
        text = line.split("  ")[-1]
        self.assertLessEqual(len(text), 61, line)
        self.assertEqual(LONG_Q[len(text) - 1], " ", line)

    def test_next_steps_wrap(self):
        lin = self.mentor("Lin")
        self.connect(lin, self.ada, "lin", "ada")
        self.connect(self.grace, lin, "grace", "lin")
        q = self.ask(self.ada, "lin", GOOD_Q)
        self.sync(self.ada, "lin")
        self.inbox(lin)
        self.ok("status", home=self.ada)            # the first look sets the mark
        self.ok("decline", q[:8], DECLINE, "--refer", "grace", home=lin)
        self.sync(self.ada, "lin")
        r = self.ok("status", home=self.ada, env=self.env(COLUMNS="70"))
        for x in self.lines(r):
            self.assertLessEqual(len(x), 70, r)
        code = self.ident(self.grace)["identity"]
        self.assertRegex(r.out, r"(?m)^  lin declined %s and suggests \w+\n      \(%s\)$"
                         % (short(q), code), r)
        self.assertRegex(r.out, r"(?m)^    lin suggests grace\n      \(%s\),\n"
                                r"      your mentor: ask with 'mm ask grace TEXT'$" % code, r)

    def test_inbox_wraps_at_words(self):
        self.inbox(self.grace)
        for cols in (40, 72):
            r = self.ok("inbox", home=self.grace, env=self.env(COLUMNS=str(cols)))
            body = [x for x in self.lines(r) if x.startswith("  ") and not
                    x.startswith("  on file") and not x.startswith("      ")]
            self.assertGreater(len(body), 1, r)
            for x in self.lines(r):
                self.assertLessEqual(len(x), cols, r)
            joined = " ".join(x.strip() for x in body)
            self.assertEqual(joined, LONG_Q, r)
        r = self.ok("inbox", home=self.grace, env=self.env(COLUMNS=None))
        self.assertIn("  " + LONG_Q + "\n", r.out)


class TestExport(EngageBase):

    def test_every_entry_type(self):
        grace, lin, ada = self.mentor("Grace"), self.mentor("Lin"), self.person("Ada")
        self.connect(grace, ada, "grace", "ada")
        self.connect(lin, ada, "lin", "ada")
        self.connect(grace, lin, "grace", "lin")
        near = self.ok_json("ambition", "add", "--near", NEAR, home=ada)["id"]
        self.ok_json("ambition", "add", "--long", LONG, home=ada)
        drop = self.ok_json("ambition", "add", "--near", "learn to juggle", home=ada)["id"]
        self.ok("ambition", "share", "grace", home=ada)
        self.ok("ambition", "done", near[:8], home=ada)
        self.ok("ambition", "drop", drop[:8], home=ada)
        self.ok("note", "add", "--about", "grace", "a note about grace", home=ada)
        self.ok("capacity", "3/week", home=grace)
        self.ok("away", "--until", "2030-01-01", home=grace)
        self.ok("away", "--off", home=grace)
        q = self.ask(ada, "grace", GOOD_Q)
        self.sync(ada, "grace")
        self.inbox(grace)
        self.ok("answer", q[:8], ANSWER, home=grace)
        self.ok("ask-back", q[:8], ASKBACK, home=grace)
        self.sync(ada, "grace")
        self.ok("thank", q[:8], THANKS, "--offer", OFFER, home=ada)
        self.ok("report", q[:8], REPORT, home=ada)
        q2 = self.ask(ada, "lin", LIN_Q)
        self.sync(ada, "lin")
        self.inbox(lin)
        self.ok("decline", q2[:8], DECLINE, "--refer", "grace", home=lin)
        self.sync(ada, "lin")
        q3 = self.ask(ada, "grace", GOOD_Q2)
        self.ok("withdraw", q3[:8], home=ada)

        md = self.ok("export", home=ada).out
        self.assertNotIn("(a value this mm cannot show)", md)
        self.assertIn("- reached: %s (%s)" % (short(near), NEAR), md)
        self.assertIn("- given up: %s (learn to juggle)" % short(drop), md)
        self.assertRegex(md, r"Ambitions shared:\n\n- near-term:\n  - %s\n  - learn to juggle\n"
                             r"- long-term:\n  - %s\n" % (NEAR, LONG), md)
        self.assertIn("Away until 2030-01-01", md)
        self.assertIn("\nBack\n", md)
        self.assertIn("Released to the inbox", md)
        self.assertIn("- offers: " + OFFER, md)
        self.assertRegex(md, r"- thanks for the answer to: %s \(What would you weigh" % short(q))
        self.assertRegex(md, r"- withdraws: %s \(How did you prepare" % short(q3))
        grace_code = self.ident(grace)["identity"]
        self.assertRegex(md, r"- suggests: \w+ \(%s\)" % grace_code)
        self.assertIn("- the inviter is the mentor", md)
        self.assertIn("- near-term ambition", md)
        self.assertIn("A relationship scope, for your other devices (its keys are not "
                      "exported)", md)
        self.assertIn("A peer, for your other devices", md)
        gmd = self.ok("export", home=grace).out
        self.assertIn("Budget: 3 open engagements at a time (per week)", gmd)

        # JSON: ambitions as share --json has them, no scope key anywhere
        j = self.ok_json("export", home=ada)
        shared = self.ok_json("ambition", "share", "grace", home=ada)["ambitions"]
        j = self.ok_json("export", home=ada)
        snaps = [e["body"] for s in j["scopes"] for e in s["entries"]
                 if e["type"] == "ambitions"]
        self.assertEqual(snaps[0], {"near": [NEAR, "learn to juggle"], "long": [LONG]})
        self.assertEqual(snaps[-1], shared)
        keys = set()
        for s in j["scopes"]:
            for e in s["entries"]:
                if e["type"] == "scope":
                    self.assertEqual(e["body"]["keys"], "(not exported)", e)
                    keys.add(e["body"]["id"])
        self.assertTrue(keys)
        t = self.ok_json("thread", "grace", home=ada)
        [amb] = [e for e in t["entries"] if e["type"] == "ambitions"][:1]
        self.assertEqual(amb["near"], [NEAR, "learn to juggle"], amb)


if __name__ == "__main__":
    mmtest.main()
