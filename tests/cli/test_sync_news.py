"""mm sync says what arrived, the way `git pull` lists what changed.

Grace mentors Ada, Bob and Cy and runs `mm serve` on 127.0.0.1.  After the
usual line, each `mm sync` prints one indented line per engagement event
the session brought (an answer, an ask-back, a release, a hold, an away),
and --json gives the same as a "news" array per peer.  `mm ask` notes, on
stderr, that the mentor is away, and asks all the same.
"""
import datetime
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import ISO_UTC  # noqa: E402
from test_engage import (EngageBase, GOOD_Q, GOOD_Q2, LIN_Q, ANSWER, ASKBACK, THANKS,  # noqa: E402
                         DECLINE, short)  # noqa: E402

SUMMARY = re.compile(r"^grace: sent \d+, received \d+ entries \([0-9.]+ [kMG]?B\) in \d+ ms$")


class TestSyncNews(EngageBase):

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.ada = self.person("Ada")
        self.bob = self.person("Bob")
        self.cy = self.person("Cy")
        for home, name in ((self.ada, "ada"), (self.bob, "bob"), (self.cy, "cy")):
            self.connect(self.grace, home, "grace", name)

    def news(self, home):
        """mm sync grace: the summary line, then the news lines."""
        r = self.ok("sync", "grace", home=home)
        lines = r.out.splitlines()
        self.assertTrue(lines and SUMMARY.match(lines[0]), r)
        return lines[1:]

    def test_sync_says_what_arrived(self):
        grace, ada, bob, cy = self.grace, self.ada, self.bob, self.cy

        # nothing arrived: nothing extra
        self.assertEqual(self.news(ada), [])

        # a question goes up; Grace's mm serve releases it in the same session
        qa = short(self.ask(ada, "grace", GOOD_Q))
        self.assertEqual(self.news(ada), ["  your question %s is open in grace's inbox" % qa])
        self.assertEqual(self.news(ada), [])

        # an answer with its clarification, then an ask-back
        self.ok("answer", qa, ANSWER, home=grace)
        self.ok("answer", qa, "To be clear: the bug tracker.", home=grace)
        self.assertEqual(self.news(ada), ["  grace answered %s" % qa,
                                          "  grace clarified the answer to %s" % qa])
        self.ok("ask-back", qa, ASKBACK, home=grace)
        self.assertEqual(self.news(ada), ["  grace asked you back on %s" % qa])

        # the same as JSON: a "news" array in the peer's result
        self.ok("thank", qa, THANKS, home=ada)
        qa2 = short(self.ask(ada, "grace", GOOD_Q2))
        p = self.sync(ada, "grace")
        [n] = p["news"]
        self.assertEqual((n["kind"], n["peer"], short(n["question"])), ("released", "grace", qa2),
                         n)
        self.assertRegex(n["question"], r"^[0-9a-f]{64}$", n)
        self.check_time(n)
        self.assertEqual(self.sync(ada, "grace")["news"], [])

        # a budget of one: Ada's answered question holds it; Bob's waits, next
        self.ok("capacity", "1/week", home=grace)
        qb = short(self.ask(bob, "grace", GOOD_Q2))
        self.assertEqual(self.news(bob), ["  your question %s is held: you are next" % qb])
        self.assertEqual(self.sync(bob, "grace")["news"], [])

        # away: Cy learns it on sync, and mm ask says so, and asks
        until = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
        self.ok("away", "--until", until, home=grace)
        self.assertEqual(self.news(cy), ["  grace is away until %s" % until])
        r = self.ok("ask", "grace", LIN_Q, home=cy)
        self.assertEqual(r.err.splitlines(),
                         ["mm ask: note: grace is away until %s; your question waits "
                          "until then" % until], r)
        self.assertRegex(r.out, r"(?m)^asked grace: [0-9a-f]{12}$", r)
        qc = re.search(r"(?m)^asked grace: ([0-9a-f]{12})$", r.out).group(1)
        [line] = self.news(cy)
        self.assertRegex(line, r"^  your question %s is held while they are away: "
                         r"(you are next|\d+ ahead of you)$" % qc)
        p = self.sync(bob, "grace")
        self.assertTrue(all(n["kind"] in ("away", "held") for n in p["news"]), p)
        [away] = [n for n in p["news"] if n["kind"] == "away"]
        self.assertEqual((away["peer"], away["question"]), ("grace", None), away)
        self.assertTrue(away["until"].startswith(until), away)

        # back: no note any more
        self.ok("away", "--off", home=grace)
        self.assertIn("  grace is back", self.news(cy))
        self.ok("withdraw", qc, home=cy)
        r = self.ok("ask", "grace", LIN_Q, home=cy)
        self.assertEqual(r.err, "", r)

    def test_decline_names_whom_they_suggest(self):
        grace, ada = self.grace, self.ada
        lin = self.mentor("Lin")
        self.connect(lin, ada, "lin", "ada")
        self.connect(grace, lin, "grace", "lin")    # so that Lin can refer Ada to Grace
        q = short(self.ask(ada, "lin", LIN_Q))
        r = self.ok("sync", "lin", home=ada)
        self.assertEqual(r.out.splitlines()[1:], ["  your question %s is open in lin's inbox" % q])
        self.ok("decline", q, DECLINE, "--refer", "grace", home=lin)
        gid = self.ident(grace)["identity"]
        r = self.ok("sync", "lin", home=ada)
        self.assertEqual(r.out.splitlines()[1:],
                         ["  lin declined %s and suggests Grace (%s)" % (q, gid)], r)
        j = self.ok_json("sync", "lin", home=ada)
        self.assertEqual(j["peers"][0]["news"], [], j)


if __name__ == "__main__":
    mmtest.main()
