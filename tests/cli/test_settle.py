"""The mentor's budget under real processes: one sync tells the asker where
the question stands, and no interleaving of mm serve, mm inbox and mm answer
releases more than the budget or a question twice (PROTOCOL.md 5.3, 8.2).
"""
import os
import subprocess
import sys
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
import test_engage  # noqa: E402
from test_engage import GOOD_Q, GOOD_Q2, LIN_Q, ANSWER, THANKS, short  # noqa: E402

ROUNDS = 50
BUDGET = 2


class OneSync(test_engage.EngageBase):
    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.ok("capacity", "1/week", home=self.grace)
        self.ada, self.bob = self.person("Ada"), self.person("Bob")
        self.connect(self.grace, self.ada, "grace", "ada")
        self.connect(self.grace, self.bob, "grace", "bob")

    def test_one_sync_says_released_or_held(self):
        qa = self.ask(self.ada, "grace", GOOD_Q)
        self.sync(self.ada, "grace")
        self.assertEqual(self.qstate(self.ada, qa), "open")
        qb = self.ask(self.bob, "grace", GOOD_Q2)
        self.sync(self.bob, "grace")
        held = self.find(self.status(self.bob)["held"], qb, "held after one sync")
        self.assertEqual(held.get("ahead"), 0, held)

    def test_second_question_is_refused(self):
        # the mentor's device holds one anyway (test_engage.c: a piled question)
        qa = self.ask(self.ada, "grace", GOOD_Q)
        r = self.failing(1, "ask", "grace", GOOD_Q2, home=self.ada, says=("already",))
        self.assertIn(short(qa), r.err, r)
        self.assert_one_line_error(r)


class PiledQuestions(test_engage.EngageBase):
    """A modified client writes two questions straight into the log (mm_fill
    --type question): Grace's device holds the second, one at a time, and
    both people see why after one sync."""

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.ada = self.person("Ada")
        self.connect(self.grace, self.ada, "grace", "ada")

    def test_second_pending_question_is_held_one_at_a_time(self):
        r = self.tool("mm_fill", "--home", self.ada, "--peer", "grace", "--count", "2",
                      "--type", "question", "--size", "80")
        self.assertEqual(r.rc, 0, r)
        self.sync(self.ada, "grace")
        st = self.status(self.ada)
        [held] = st["held"]
        self.assertEqual((held["state"], held.get("reason")), ("held", "one-at-a-time"), held)
        self.assertEqual([q["state"] for q in st["waiting_on_others"]], ["open"], st)
        human = self.ok("status", home=self.ada).out
        self.assertRegex(human, r"(?i)held: one question at a time; it reaches grace once your "
                         r"open one is closed")
        j = self.inbox(self.grace)
        self.assertEqual(len(j["inbox"]), 1, j)
        self.assertEqual(j["held"], 0, "a one-at-a-time hold is not beyond the budget: %r" % j)
        t = self.ok("thread", "ada", home=self.grace).out
        self.assertRegex(t, r"(?i)held: one question at a time; ada has another open with you")


class Concurrent(test_engage.EngageBase):
    """mm serve receives questions from three mentees while mm inbox and
    mm answer run in a loop on the mentor's home."""

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.ok("capacity", "%d/week" % BUDGET, home=self.grace)
        self.mentees = {}
        for name in ("Ada", "Bob", "Cy"):
            home = self.person(name)
            self.connect(self.grace, home, "grace", name.lower())
            self.mentees[name.lower()] = home

    def mentor_loop(self, stop, seen, errors):
        """mm inbox, then answer the first open question; over and over."""
        while not stop.is_set():
            r = self.mm("inbox", "--json", home=self.grace)
            if r.rc != 0:
                errors.append(r)
                continue
            inbox = self.parse_json(r)["inbox"]
            c = self.mm("capacity", "--json", home=self.grace)
            if c.rc != 0:
                errors.append(c)
                continue
            # released and not yet closed: what the budget bounds
            seen.append(max(len(inbox), self.parse_json(c)["open"]))
            for q in inbox[:1]:
                if not q.get("answers"):
                    a = self.mm("answer", q["id"], ANSWER, home=self.grace)
                    if a.rc != 0:
                        errors.append(a)

    def test_budget_holds_under_concurrency(self):
        stop, seen, errors = threading.Event(), [], []
        loop = threading.Thread(target=self.mentor_loop, args=(stop, seen, errors))
        loop.start()
        asked = {name: [] for name in self.mentees}
        texts = (GOOD_Q, GOOD_Q2, LIN_Q)
        try:
            for rnd in range(ROUNDS):
                procs = []
                for i, (name, home) in enumerate(sorted(self.mentees.items())):
                    st = self.status(home)
                    mine = st["unthanked"]
                    for q in mine:
                        self.ok("thank", q["id"], THANKS, home=home)
                    pending = [q for q in st["waiting_on_others"] + st["held"]
                               if q.get("state") in ("waiting", "held", "open")]
                    if not pending and not mine:
                        r = self.mm("ask", "grace", texts[(rnd + i) % 3], "--as-is",
                                    "--json", home=home)
                        if r.rc == 0:
                            asked[name].append(self.parse_json(r)["id"])
                    procs.append(subprocess.Popen(
                        [mmtest.MM_BIN, "--home", home, "sync", "grace"],
                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                        env=self.env()))
                for p in procs:
                    _, err = p.communicate(timeout=120)
                    if p.returncode != 0:
                        errors.append(err.decode("utf-8", "replace"))
        finally:
            stop.set()
            loop.join()
        self.assertEqual(errors, [])
        self.assertTrue(seen, "the mentor loop never ran")
        self.assertLessEqual(max(seen), BUDGET, "inbox over budget: %r" % seen)
        self.assertGreater(sum(len(v) for v in asked.values()), 3 * 3, asked)
        # no question released twice, in any relationship
        for name in self.mentees:
            t = self.thread(self.grace, name)
            released = [e.get("ref") for e in self.of_type(t, "queue", "me")
                        if e.get("state") == "released"]
            self.assertEqual(len(released), len(set(released)),
                             "%s: a question released twice: %r" % (name, released))


if __name__ == "__main__":
    unittest.main()
