"""mm status as a mentee reads it (issue 11): "new since you last looked"
(the mark in HOME/looked: what moves it, what does not), mentors away,
declines with the referral's id code and the next step, "you are next",
the answer about to be thanked for, and mm ask's notes when the mentor is
away or their budget was full.  Real mm processes on 127.0.0.1.
"""
import datetime
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from test_engage import (EngageBase, GOOD_Q, GOOD_Q2, LIN_Q, ANSWER, DECLINE,  # noqa: E402
                         short)

NEW = "new since you last looked"


class TestNewSinceLooked(EngageBase):

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.lin = self.mentor("Lin")
        self.ada = self.person("Ada")
        self.connect(self.grace, self.ada, "grace", "ada")
        self.connect(self.lin, self.ada, "lin", "ada")
        self.connect(self.grace, self.lin, "grace", "lin")

    def text(self, home=None):
        # no $COLUMNS: lines are not wrapped (TestWrapping in test_ux.py wraps them)
        return self.ok("status", home=home or self.ada, env=self.env(COLUMNS=None)).out

    def test_new_moves_only_when_shown(self):
        ada, grace = self.ada, self.grace
        # the first look of a home: nothing is new, and the mark is set
        self.assertNotIn(NEW, self.text())
        self.assertTrue(os.path.exists(os.path.join(ada, "looked")))
        self.assertEqual(os.stat(os.path.join(ada, "looked")).st_mode & 0o777, 0o600)

        qid = self.ask(ada, "grace", GOOD_Q)
        self.sync(ada, "grace")
        self.inbox(grace)
        self.ok("answer", qid[:8], ANSWER, home=grace)
        self.sync(ada, "grace")

        # --json shows it and leaves the mark
        for _ in range(2):
            j = self.status(ada)
            kinds = [(n["kind"], short(n["question"] or "")) for n in j["new"]]
            self.assertIn(("answered", short(qid)), kinds, j)
            self.assertEqual(j["new_more"], 0, j)

        out = self.text()
        self.assertRegex(out, r"(?m)^%s\n(  .*\n)*  grace answered %s$" % (NEW, short(qid)),
                         out)
        # the answer about to be thanked for, under its question
        self.assertRegex(out, r"(?m)^answers to thank\n  %s  grace  answered  .*\n"
                              r"    answer: Start from the failing cases" % short(qid), out)
        self.assertIn("thank with 'mm thank %s TEXT'" % short(qid), out)

        # shown once: the next look has nothing new
        self.assertNotIn(NEW, self.text())
        self.assertEqual(self.status(ada)["new"], [])

        # what arrives later is new again; my own entries never are
        self.ok("thank", qid[:8], "Thank you, that helped a lot with my team.", home=ada)
        self.assertNotIn(NEW, self.text())
        self.ok("capacity", "5/week", home=grace)
        self.ok("away", "--until", self.until(5), home=grace)
        out = self.ok("status", home=grace).out
        self.assertIn("  you are away until %s: nothing new reaches your inbox; back with "
                      "'mm away --off'" % self.until(5), out)
        self.assertEqual(self.status(grace)["me_away_until"][:10], self.until(5))
        self.assertIsNone(self.status(ada)["me_away_until"])
        self.sync(ada, "grace")
        out = self.text()
        self.assertIn("  grace is away until %s" % self.until(5), out)
        self.assertIn(NEW, out)

        # a damaged mark is a home that never looked: nothing new, mark set anew
        with open(os.path.join(ada, "looked"), "r+b") as f:
            f.seek(20)
            f.write(b"\xff\xff\xff")
        self.ok("away", "--off", home=grace)
        self.sync(ada, "grace")
        self.assertNotIn(NEW, self.text())
        self.ok("away", "--until", self.until(3), home=grace)
        self.sync(ada, "grace")
        self.assertIn(NEW, self.text())

    def until(self, days):
        return (datetime.date.today() + datetime.timedelta(days=days)).isoformat()

    def test_away_and_decline_with_referral(self):
        ada, lin = self.ada, self.lin
        self.text()                                 # the first look
        until = self.until(10)
        self.ok("away", "--until", until, home=lin)
        self.sync(ada, "lin")
        out = self.text()
        self.assertRegex(out, r"(?m)^away\n  lin is away until %s; questions to them wait "
                              r"until then$" % until, out)
        self.assertIn("  lin is away until %s" % until, out.split("away\n")[0], out)
        j = self.status(ada)
        self.assertEqual([(a["peer"].lower(), a["until"][:10]) for a in j["away"]],
                         [("lin", until)], j)
        # mm ask warns, and asks all the same
        r = self.ok("ask", "lin", LIN_Q, home=ada)
        self.assertIn("note: lin is away until %s; your question waits until then" % until,
                      r.err, r)
        q = re.search(r"asked lin: ([0-9a-f]{12})", r.out).group(1)
        self.ok("away", "--off", home=lin)
        self.sync(ada, "lin")
        self.assertNotIn("away\n", self.text())

        # Lin declines and suggests Grace, who mentors Ada too
        self.inbox(lin)
        self.ok("decline", q, DECLINE, "--refer", "grace", home=lin)
        self.sync(ada, "lin")
        grace_code = self.ident(self.grace)["identity"]
        out = self.text()
        self.assertIn("  lin declined %s and suggests grace (%s)" % (q, grace_code), out.lower())
        self.assertRegex(out, r"(?m)^declined \(last 30 days\)\n  %s  lin  declined  .*\n"
                              r"    lin: Not my field at all, sorry;.*\n"
                              r"    lin suggests grace \(%s\), your mentor: ask with "
                              r"'mm ask grace TEXT'$" % (q, re.escape(grace_code)), out)
        t = self.ok("thread", "lin", home=ada).out.lower()
        self.assertIn("  refers you to grace (%s), your mentor 'grace': ask with 'mm ask grace "
                      "text'" % grace_code, t)
        j = self.status(ada)
        d = self.find(j["declined"], q, "declined")
        self.assertEqual(d["decline"]["refer"], grace_code, d)
        self.assertEqual(d["state"], "declined", d)

    def test_decline_to_a_stranger_and_none(self):
        ada, grace = self.ada, self.grace
        kim, _ = self.new_home("Kim", sub="kim")
        self.serve(kim)
        self.connect(kim, grace, "kim", "grace")
        q = self.ask(ada, "grace", GOOD_Q)
        self.sync(ada, "grace")
        self.inbox(grace)
        self.ok("decline", q[:8], DECLINE, "--refer", "kim", home=grace)
        self.sync(ada, "grace")
        kim_code = self.ident(kim)["identity"]
        out = self.text()
        self.assertIn("    grace suggests kim (%s), not your peer yet: ask them for an invite, "
                      "then 'mm accept code'" % kim_code, out.lower())
        t = self.ok("thread", "grace", home=ada).out.lower()
        self.assertIn("  refers you to kim (%s), not your peer yet: ask them for an invite"
                      % kim_code, t)
        q2 = self.ask(ada, "grace", GOOD_Q2)
        self.sync(ada, "grace")
        self.inbox(grace)
        self.ok("decline", q2[:8], "Not now, sorry.", home=grace)
        self.sync(ada, "grace")
        out = self.text()
        self.assertIn("    ask someone else, or ask grace again with 'mm ask grace TEXT'", out)


class TestNextAndFull(EngageBase):

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.ada = self.person("Ada")
        self.bob = self.person("Bob")
        self.connect(self.grace, self.ada, "grace", "ada")
        self.connect(self.grace, self.bob, "grace", "bob")

    def test_you_are_next_and_full_budget_note(self):
        ada, bob, grace = self.ada, self.bob, self.grace
        self.ok("capacity", "1/week", home=grace)
        self.ask(bob, "grace", GOOD_Q2)
        self.sync(bob, "grace")
        self.inbox(grace)
        q = self.ask(ada, "grace", GOOD_Q)
        self.sync(ada, "grace")
        self.inbox(grace)
        self.sync(ada, "grace")
        out = self.ok("status", home=ada).out
        self.assertRegex(out, r"(?m)^    held: grace's budget is full; you are next$", out)
        self.assertNotIn("0 ahead", out)
        # withdrawn and asked again: mm ask says the budget was full
        self.ok("withdraw", q[:8], home=ada)
        r = self.ok("ask", "grace", LIN_Q, home=ada)
        self.assertIn("note: grace's budget was full at their last word (0 ahead); your "
                      "question may wait in their queue", r.err, r)
        # Bob's question was released: his last word from Grace is no hold
        self.ok("withdraw", self.status(bob)["waiting_on_others"][0]["id"][:8], home=bob)
        r = self.ok("ask", "grace", GOOD_Q, home=bob)
        self.assertNotIn("note:", r.err, r)


if __name__ == "__main__":
    mmtest.main()
