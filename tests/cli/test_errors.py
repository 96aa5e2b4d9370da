"""Errors that help: 'did you mean' for mistyped commands and options, the
candidates of an ambiguous id prefix (notes and questions here; ambitions,
whose bodies mm_fill cannot make, in unit/test_ambition.c), and failures under --json as one
{"error": {"code", "message"}} document on stdout (README, `mm help`).

Every message is asserted whole, with its exit status; mmtest checks that
any failure given --json prints exactly one JSON document.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from test_engage import EngageBase, GOOD_Q, GOOD_Q2, BAD_Q  # noqa: E402


class TestJsonErrors(EngageBase):
    """A failed command given --json: the error object, and stderr as before."""

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.ada = self.person("Ada")
        self.connect(self.grace, self.ada, "grace", "ada")

    def error(self, code, *args, home=None):
        """Run mm --json ARGS, expect exit code; returns (error object, stderr line)."""
        r = self.fails(code, "--json", *args, home=home or self.ada)
        doc = json.loads(r.out)
        self.assertEqual(list(doc), ["error"], r)
        return doc["error"], r.err

    def test_unknown_peer(self):
        e, err = self.error(1, "thread", "nobody")
        self.assertEqual(err, "mm thread: no peer 'nobody'; see 'mm peer list'\n")
        self.assertEqual(e, {"code": "MM_ENOTFOUND",
                             "message": "no peer 'nobody'; see 'mm peer list'"})

    def test_pending_question(self):
        qid = self.ask(self.ada, "grace", GOOD_Q)
        e, err = self.error(1, "ask", "grace", GOOD_Q2)
        msg = ("you already have an open question to grace (%s, waiting); thank, "
               "withdraw, or wait for the answer before asking again" % qid[:12])
        self.assertEqual(err, "mm ask: %s\n" % msg)
        self.assertEqual(e, {"code": "MM_EPENDING", "message": msg})

    def test_wrong_state(self):
        qid = self.ask(self.ada, "grace", GOOD_Q)
        self.ok("withdraw", qid, home=self.ada)
        e, err = self.error(1, "withdraw", qid[:8])
        self.assertEqual(e["code"], "MM_ESTATE")
        self.assertEqual(err, "mm withdraw: %s\n" % e["message"])
        # the same words as without --json, on stderr only
        r = self.fails(1, "withdraw", qid[:8], home=self.ada)
        self.assertEqual((r.out, r.err), ("", err))

    def test_usage_error(self):
        e, err = self.error(2, "thank")
        self.assertEqual(e["code"], "usage")
        self.assertEqual(err, "mm thank: %s\n" % e["message"])
        self.assertTrue(e["message"].endswith("; see 'mm help thank'"), e)
        # before --json is even read: an unknown command
        r = self.fails(2, "frobnicate", "--json", home=self.ada)
        self.assertEqual(json.loads(r.out), {"error": {
            "code": "usage", "message": "unknown command 'frobnicate'; see 'mm help'"}})

    def test_no_code(self):
        # a failure with no MM_E code behind it: the ask refused by the lint
        e, err = self.error(1, "ask", "grace", BAD_Q)
        self.assertIsNone(e["code"])
        self.assertEqual(err, "mm ask: %s\n" % e["message"])
        self.assertEqual([f["rule"] for f in e["findings"]], ["yes-no"])
        self.assertEqual(set(e["findings"][0]), {"rule", "advice"})
        self.assertIn(e["findings"][0]["advice"], e["message"])

    def test_missing_home(self):
        r = self.fails(1, "--json", "id", home=self.path("nowhere"))
        self.assertEqual(json.loads(r.out)["error"]["code"], "MM_ENOTFOUND")


class TestDidYouMean(mmtest.MMTestCase):
    """A mistyped command, subcommand or option names the nearest ones."""

    def test_command(self):
        home, _ = self.new_home()
        for typed, said in (("tank", "'thank'"), ("inite", "one of 'init', 'invite'"),
                            ("sevre", "'serve'"), ("ak", "'ask'")):
            r = self.fails(2, typed, "x", home=home)
            self.assertEqual(r.err, "mm: unknown command '%s'; did you mean %s?\n"
                             % (typed, said))
            self.assertEqual(r.out, "")
        r = self.fails(2, "help", "tank", home=home)
        self.assertEqual(r.err, "mm help: unknown command 'tank'; did you mean 'thank'?\n")
        # nothing near: the old words, pointing to the listing
        r = self.fails(2, "frobnicate", home=home)
        self.assertEqual(r.err, "mm: unknown command 'frobnicate'; see 'mm help'\n")

    def test_subcommand(self):
        home, _ = self.new_home()
        r = self.fails(2, "peer", "lst", home=home)
        self.assertEqual(r.err, "mm peer: unknown subcommand 'lst'; did you mean 'list'?\n")
        r = self.fails(2, "ambition", "dorp", "1a2b", home=home)
        self.assertEqual(r.err, "mm ambition: unknown subcommand 'dorp'; did you mean "
                         "'drop'?\n")
        r = self.fails(2, "note", "frobnicate", home=home)
        self.assertEqual(r.err, "mm note: unknown subcommand 'frobnicate'; see 'mm help "
                         "note'\n")

    def test_option(self):
        home, _ = self.new_home()
        r = self.fails(2, "thank", "1a2b", "thanks", "--ofer", "x", home=home)
        self.assertEqual(r.err, "mm thank: unknown option '--ofer'; did you mean "
                         "'--offer'?\n")
        r = self.fails(2, "note", "list", "--jsn", home=home)
        self.assertEqual(r.err, "mm note list: unknown option '--jsn'; did you mean "
                         "'--json'?\n")
        r = self.fails(2, "--hme", home, "id")
        self.assertEqual(r.err, "mm: unknown option '--hme'; did you mean '--home'?\n")
        r = self.fails(2, "ambition", "add", "--nera=x", home=home)
        self.assertEqual(r.err, "mm ambition add: unknown option '--nera'; did you mean "
                         "'--near'?\n")
        # and under --json, a usage error object
        r = self.fails(2, "--json", "note", "lst", home=home)
        self.assertEqual(json.loads(r.out), {"error": {
            "code": "usage", "message": "unknown subcommand 'lst'; did you mean 'list'?"}})


def shared_prefix(ids):
    """Four hex digits that exactly two of ids start with (sorted pair)."""
    by = {}
    for i in ids:
        by.setdefault(i[:4], []).append(i)
    pairs = sorted(v for v in by.values() if len(v) == 2)
    if not pairs:
        raise AssertionError("no two of %d ids share 4 digits" % len(ids))
    return sorted(pairs[0])


# Entries piled by mm_fill: among 2000 ids, two share 4 hex digits but for
# odds of about e^-30.
PILE = 2000


class TestAmbiguousIds(EngageBase):
    """An ambiguous id prefix names its candidates, as git does."""

    def test_note_prefix(self):
        ada = self.person("Ada")
        r = self.tool("mm_fill", "--home", ada, "--peer", "@self", "--type", "note",
                      "--count", PILE, "--size", 16)
        self.assertEqual(r.rc, 0, r)
        listed = self.ok_json("note", "list", home=ada)["notes"]
        notes = {n["id"]: n for n in listed}
        self.assertEqual(len(notes), PILE)
        a, b = shared_prefix(notes)
        r = self.fails(1, "note", "show", a[:4].upper(), home=ada)
        # in the order of mm note list: newest first
        pair = [n["id"] for n in listed if n["id"] in (a, b)]
        said = ", ".join("%s (%s)" % (i[:12], notes[i]["text"].lstrip()) for i in pair)
        self.assertEqual(r.err, "mm note show: id prefix '%s' matches 2 notes: %s; give "
                         "more digits\n" % (a[:4].upper(), said))
        # more digits find it
        self.assertEqual(self.ok_json("note", "show", a[:12], home=ada)["id"], a)
        r = self.fails(1, "--json", "note", "show", a[:4], home=ada)
        e = json.loads(r.out)["error"]
        self.assertEqual(e["code"], "MM_EAMBIG")
        self.assertEqual(sorted(c["id"] for c in e["candidates"]), [a, b])
        # a prefix of no note
        free = next(p for p in ("%04x" % i for i in range(65536))
                    if not any(i.startswith(p) for i in notes))
        r = self.fails(1, "--json", "note", "show", free, home=ada)
        self.assertEqual(r.err, "mm note show: no note with id '%s'; see 'mm note list'\n"
                         % free)
        self.assertEqual(json.loads(r.out)["error"]["code"], "MM_ENOTFOUND")

    def test_question_prefix(self):
        grace = self.mentor("Grace")
        ada = self.person("Ada")
        self.connect(grace, ada, "grace", "ada")
        r = self.tool("mm_fill", "--home", ada, "--peer", "grace", "--type", "question",
                      "--count", PILE, "--size", 16)
        self.assertEqual(r.rc, 0, r)
        ids = [e["id"] for e in self.ok_json("log", home=ada)["entries"]
               if e["type"] == "question"]
        self.assertEqual(len(ids), PILE)
        a, b = shared_prefix(ids)
        for verb in (["withdraw"], ["thank"], ["report"]):
            r = self.fails(1, *verb, a[:4], *(["Thanks."] if verb != ["withdraw"] else []),
                           home=ada)
            self.assertEqual(r.err, "mm %s: id prefix '%s' matches 2 questions: %s (to "
                             "grace, waiting), %s (to grace, waiting); give more digits\n"
                             % (verb[0], a[:4], a[:12], b[:12]))
        r = self.fails(1, "--json", "withdraw", a[:4], home=ada)
        e = json.loads(r.out)["error"]
        self.assertEqual(e["code"], "MM_EAMBIG")
        self.assertEqual(e["candidates"], [
            {"id": a, "peer": "grace", "direction": "to", "state": "waiting"},
            {"id": b, "peer": "grace", "direction": "to", "state": "waiting"}])
        # the mentor's side, after a sync: from ada, held one at a time
        self.sync(ada, "grace")
        self.inbox(grace)
        r = self.fails(1, "answer", a[:4], "Start small.", home=grace)
        self.assertRegex(r.err, r"^mm answer: id prefix '%s' matches 2 questions: %s "
                         r"\(from Ada, (held|open)\), %s \(from Ada, (held|open)\); give "
                         r"more digits\n$" % (a[:4], a[:12], b[:12]))


if __name__ == "__main__":
    mmtest.main()
