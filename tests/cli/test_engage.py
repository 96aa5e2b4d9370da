"""Micro-mentorship engagements between real mm processes.

Ada is a mentee; Grace and Lin mentor her, each running `mm serve` on
127.0.0.1, and `mm sync` moves the entries.  Ambitions, power questions
(lint, one at a time), answers, thanks, reports, ask-backs, declines with a
referral, withdrawals, the mentor's budget (capacity, held and released
questions, away), every view in human and JSON form, and what stays private.
The rules are PROTOCOL.md 5.2-5.3 (bodies, states, the budget) and each
command's `mm help` text.
"""
import datetime
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import ISO_UTC  # noqa: E402

ID_ANY = re.compile(r"^[0-9a-f]{12}([0-9a-f]{52})?$")    # 12-digit short or 64 hex
QSTATES = ("waiting", "held", "open", "answered", "thanked", "withdrawn", "declined")

NEAR = "ship the parser rewrite before the March release"
LONG = "grow into a staff engineer who mentors others"
# Fail the power-question lint: a yes/no opener.
BAD_Q = "Should I rewrite the whole parser in Rust?"
# Pass it: open, one question mark, context, no "or".
GOOD_Q = "What would you weigh first when my team wants a parser rewrite before March?"
GOOD_Q2 = "How did you prepare for your first design review as a new tech lead?"
LIN_Q = "What helped you most when you moved from my kind of role into management?"
ANSWER = "Start from the failing cases your users report; rewrite only what they touch."
CLARIFY = "To be clear: by failing cases I mean the bug tracker, not the benchmark."
THANKS = "That reframed the whole plan for my team, thank you."
OFFER = "happy to review the slides of your conference talk"
REPORT = "We rewrote the tokenizer only; bug reports fell by half within three weeks."
ASKBACK = "What did your team decide to leave out of the rewrite in the end?"
DECLINE = "Not my field at all, sorry; ask someone who has led this kind of move."
NOTE = "Grace seems tired lately; keep my questions short (private-note-7f3a)"


def short(i):
    return i[:12]


def strings(obj):
    """Every string (keys and values) inside a JSON value."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from strings(v)


def dicts(obj):
    """Every JSON object inside a JSON value (depth first)."""
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from dicts(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from dicts(v)


def mentions(obj, text):
    """text occurs inside some string of the JSON value obj."""
    return any(text in s for s in strings(obj))


class EngageBase(mmtest.SyncTestCase):
    """Homes, servers and mentoring pairs, and checks on the engagement views."""

    def person(self, name):
        home, _ = self.new_home(name, sub=name.lower())
        return home

    def mentor(self, name):
        """A mentor's home with its mm serve running."""
        home = self.person(name)
        self.servers[home] = self.serve(home)
        return home

    def connect(self, mentor, mentee, mentor_name, mentee_name):
        """mentee accepts mentor's invite (the inviter mentors by default)."""
        scope = self.pair(mentor, mentee, mentor_name)
        self.assertEqual(self.peer(mentee, mentor_name)["role"], "mentor")
        p = self.peer(mentor, mentee_name)
        self.assertEqual((p["role"], p["scope"]), ("mentee", scope))
        return scope

    def setUp(self):
        super().setUp()
        self.servers = {}

    # --- running engagement commands ----------------------------------------

    def check_id(self, j, key="id"):
        self.assertRegex(str(j.get(key)), ID_ANY, "bad %r in %r" % (key, j))
        return j[key]

    def check_time(self, j):
        self.assertRegex(str(j.get("time")), ISO_UTC, j)
        self.assertRegex(j["time"], r"\.\d{3}Z$", "time needs milliseconds: %r" % j)
        self.assertIsInstance(j.get("time_ms"), int, j)
        self.assertGreater(j["time_ms"], 1.6e12, j)

    def hint(self, r, peer):
        # the peer as mm peer names it: a petname in any case
        self.assertRegex(r.out, r"(?im)^\(delivered on the next 'mm sync %s'\)$"
                         % re.escape(peer), r)

    def ask(self, home, peer, text, *args):
        """mm ask PEER TEXT ARGS --json; returns the question id."""
        j = self.ok_json("ask", peer, text, *args, home=home)
        qid = self.check_id(j)
        self.assertEqual(str(j.get("peer", "")).lower(), peer, j)
        self.check_time(j)
        return qid

    def sync(self, home, peer):
        j = super().sync(home, peer)
        [p] = j["peers"]
        self.assertIs(p["ok"], True, j)
        return p

    def inbox(self, home):
        j = self.ok_json("inbox", home=home)
        self.assertIsInstance(j.get("inbox"), list, j)
        self.assertIsInstance(j.get("held"), int, j)
        for q in j["inbox"]:
            for k in ("id", "from", "time", "time_ms", "text", "ambition", "ambitions"):
                self.assertIn(k, q, "inbox item lacks %r: %r" % (k, q))
            self.check_id(q)
            self.check_time(q)
        return j

    def status(self, home):
        j = self.ok_json("status", home=home)
        for k in ("waiting_on_me", "waiting_on_others", "held", "unthanked", "reports_due",
                  "quiet_ambitions"):
            self.assertIsInstance(j.get(k), list, "status --json %r: %r" % (k, j))
        return j

    def thread(self, home, peer, *args):
        j = self.ok_json("thread", peer, *args, home=home)
        self.assertEqual(str(j.get("peer", "")).lower(), peer, j)
        self.assertIsInstance(j.get("entries"), list, j)
        last = 0
        for e in j["entries"]:
            for k in ("id", "who", "type", "time", "time_ms"):
                self.assertIn(k, e, "thread entry lacks %r: %r" % (k, e))
            self.assertIn(e["who"], ("me", "them"), e)
            self.check_id(e)
            self.check_time(e)
            self.assertGreaterEqual(e["time_ms"], last, "thread not in time order: %r" % j)
            last = e["time_ms"]
        return j

    def of_type(self, thread, type_, who=None):
        return [e for e in thread["entries"]
                if e["type"] == type_ and (who is None or e["who"] == who)]

    def find(self, items, qid, what="list"):
        """The item of a JSON list whose id is qid (short or long)."""
        hits = [x for x in items if isinstance(x, dict)
                and short(str(x.get("id", ""))) == short(qid)]
        self.assertEqual(len(hits), 1, "%s: want exactly one item with id %s: %r"
                         % (what, short(qid), items))
        return hits[0]

    def absent(self, items, qid, what="list"):
        hits = [x for x in items if isinstance(x, dict)
                and short(str(x.get("id", ""))) == short(qid)]
        self.assertEqual(hits, [], "%s: %s should not be listed: %r" % (what, short(qid), items))

    def qstate(self, home, qid, key="waiting_on_others"):
        item = self.find(self.status(home)[key], qid, "status %s" % key)
        self.assertIn(item.get("state"), QSTATES, item)
        return item["state"]

    def assert_capacity(self, home, want):
        j = self.ok_json("capacity", home=home)
        self.assertEqual({k: j.get(k) for k in want}, want, j)
        return j

    def failing(self, code, *args, home, says=()):
        r = self.fails(code, *args, home=home)
        self.assertRegex(r.err, r"^mm %s(?: [a-z-]+)?: " % re.escape(args[0]), r)
        for s in says:
            self.assertIn(s, r.err, r)
        return r


class TestJourney(EngageBase):
    """Ada with Grace and Lin, from ambitions to the report back."""

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.lin = self.mentor("Lin")
        self.ada = self.person("Ada")
        self.ag = self.connect(self.grace, self.ada, "grace", "ada")
        self.al = self.connect(self.lin, self.ada, "lin", "ada")
        # Lin knows Grace, so that she can refer Ada to her.
        self.connect(self.grace, self.lin, "grace", "lin")

    def test_journey(self):
        ada, grace, lin = self.ada, self.grace, self.lin

        # --- ambitions, shared with Grace
        near = self.ok_json("ambition", "add", "--near", NEAR, home=ada)
        self.assertEqual((near["kind"], near["text"]), ("near", NEAR), near)
        self.check_time(near)
        long_ = self.ok_json("ambition", "add", "--long", LONG, home=ada)
        self.assertEqual((long_["kind"], long_["text"]), ("long", LONG), long_)
        amb = self.ok_json("ambition", "list", home=ada)["ambitions"]
        self.assertEqual([(a["kind"], a["text"], a["state"]) for a in amb],
                         [("near", NEAR, "active"), ("long", LONG, "active")])
        self.assertEqual([short(a["id"]) for a in amb], [short(near["id"]), short(long_["id"])])
        r = self.ok("ambition", "share", "grace", home=ada)
        self.assertIn("shared 2 ambitions with grace", r.out, r)
        self.hint(r, "grace")

        # Grace is Ada's mentor, not her mentee: Grace cannot "ask" Ada
        self.failing(1, "ask", "ada", GOOD_Q, home=grace, says=("is your mentee", "ask-back"))

        # --- a question that fails the lint: nothing written
        before = len(self.log(ada))
        r = self.failing(1, "ask", "grace", BAD_Q, home=ada, says=("--as-is", "not sent"))
        self.assertIn("yes/no", r.err, r)
        self.assertEqual(len(self.log(ada)), before, "a refused question was written")

        # --- a good one, serving the near ambition
        r = self.ok("ask", "grace", GOOD_Q, "--ambition", short(near["id"])[:6], home=ada)
        m = re.search(r"^asked grace: ([0-9a-f]{12})$", r.out, re.M)
        self.assertTrue(m, r)
        qid = m.group(1)
        self.hint(r, "grace")
        self.assertEqual(len(self.log(ada)), before + 1)
        self.assertEqual(self.qstate(ada, qid), "waiting")

        # --- one at a time
        r = self.failing(1, "ask", "grace", GOOD_Q2, home=ada,
                         says=("already have an open question to grace", qid, "waiting"))
        self.assertEqual(len(self.log(ada)), before + 1)

        # --- Grace's inbox: the question with Ada's ambitions on file
        self.sync(ada, "grace")
        j = self.inbox(grace)
        self.assertEqual(j["held"], 0, j)
        [q] = j["inbox"]
        self.assertEqual(short(q["id"]), qid, q)
        self.assertEqual((q["from"].lower(), q["text"], q["ambition"]), ("ada", GOOD_Q, NEAR), q)
        self.assertEqual(q["ambitions"], {"near": [NEAR], "long": [LONG]}, q)
        self.sync(ada, "grace")
        self.assertEqual(self.qstate(ada, qid), "open")
        brief = self.ok_json("brief", "ada", home=grace)
        self.assertEqual(brief["peer"].lower(), "ada", brief)
        self.assertEqual(brief["ambitions"], {"near": [NEAR], "long": [LONG]}, brief)
        self.assertEqual(self.find(brief["questions"], qid, "brief")["state"], "open")

        # --- Grace answers (and clarifies once; no third time)
        r = self.ok("answer", qid, ANSWER, home=grace)
        self.hint(r, "ada")
        self.ok("answer", qid, CLARIFY, home=grace)
        self.failing(1, "answer", qid, "And one more thing about the tracker.", home=grace)
        self.assertEqual(self.inbox(grace)["inbox"], [], "an answered question left in the inbox")
        self.sync(ada, "grace")
        st = self.status(ada)
        self.assertEqual(self.find(st["unthanked"], qid, "unthanked").get("state", "answered"),
                         "answered")
        self.absent(st["waiting_on_others"], qid, "waiting_on_others")
        t = self.thread(ada, "grace")
        self.assertEqual([e["text"] for e in self.of_type(t, "answer", "them")], [ANSWER, CLARIFY])
        [tq] = self.of_type(t, "question", "me")
        self.assertEqual((short(tq["id"]), tq["text"]), (qid, GOOD_Q), tq)

        # --- Ada can report only after an answer, thanks once, with an offer
        self.failing(1, "withdraw", qid, home=ada, says=("answered",))
        r = self.ok("thank", qid, THANKS, "--offer", OFFER, home=ada)
        self.hint(r, "grace")
        self.failing(1, "thank", qid, "Thanks again!", home=ada, says=("thanked",))
        st = self.status(ada)
        self.absent(st["unthanked"], qid, "unthanked")
        self.find(st["reports_due"], qid, "reports_due")
        self.assertFalse(any(mentions(a, NEAR) for a in st["quiet_ambitions"]),
                         "the near ambition had a question today: %r" % st)
        self.ok("report", qid, REPORT, home=ada)
        self.absent(self.status(ada)["reports_due"], qid, "reports_due")

        # --- one question at a time again: a new one to Grace is fine now
        q2 = self.ask(ada, "grace", GOOD_Q2)
        self.assertEqual(self.qstate(ada, q2), "waiting")

        # --- Grace sees thanks, offer and report; asks back once
        self.sync(ada, "grace")
        t = self.thread(grace, "ada")
        [th] = self.of_type(t, "thanks", "them")
        self.assertEqual((th.get("text"), th.get("offer")), (THANKS, OFFER), th)
        [rp] = self.of_type(t, "report", "them")
        self.assertEqual(rp.get("text"), REPORT, rp)
        self.assertEqual([e["text"] for e in self.of_type(t, "answer", "me")], [ANSWER, CLARIFY])
        human = self.ok("thread", "ada", home=grace).out
        for s in (GOOD_Q, ANSWER, THANKS, OFFER, REPORT):
            self.assertIn(s, human)
        brief = self.ok_json("brief", "ada", home=grace)
        self.assertEqual(self.find(brief["questions"], qid, "brief")["state"], "thanked")
        self.assertTrue(mentions(brief, REPORT), brief)
        r = self.ok("ask-back", qid, ASKBACK, home=grace)
        self.hint(r, "ada")
        self.failing(1, "ask-back", qid, "What else did the team decide about it?", home=grace)
        self.sync(ada, "grace")
        t = self.thread(ada, "grace")
        [ab] = self.of_type(t, "ask-back", "them")
        self.assertEqual(ab.get("text"), ASKBACK, ab)
        st = self.status(ada)
        self.assertTrue(mentions(st["waiting_on_me"], ASKBACK)
                        or any(short(str(x.get("id", ""))) == short(ab["id"])
                               for x in dicts(st["waiting_on_me"])),
                        "the ask-back is not waiting on Ada: %r" % st)
        self.assertIn(ASKBACK, self.ok("thread", "grace", home=ada).out)

        # --- Lin declines and refers Ada to Grace
        q3 = self.ask(ada, "lin", LIN_Q)
        self.sync(ada, "lin")
        j = self.inbox(lin)
        [q] = j["inbox"]
        self.assertEqual((short(q["id"]), q["from"].lower(), q["text"]),
                         (short(q3), "ada", LIN_Q), q)
        self.assertFalse(mentions(q["ambitions"], NEAR), "ambitions not shared with Lin: %r" % q)
        r = self.ok("decline", q3, DECLINE, "--refer", "grace", home=lin)
        self.hint(r, "ada")
        self.failing(1, "answer", q3, "On second thought, here goes.", home=lin)
        self.sync(ada, "lin")
        t = self.thread(ada, "lin")
        [dc] = self.of_type(t, "decline", "them")
        self.assertEqual(dc.get("text"), DECLINE, dc)
        gid = self.ident(grace)["identity"]
        # the referral: Grace's identity, and the name Lin knows her by
        self.assertEqual(dc.get("refer"), gid, "decline shows no referral to Grace: %r" % dc)
        self.assertEqual(str(dc.get("refer_name", "")).lower(), "grace", dc)
        human = self.ok("thread", "lin", home=ada).out
        self.assertIn(DECLINE, human)
        self.assertRegex(human, r"(?i)grace")
        st = self.status(ada)
        self.absent(st["waiting_on_others"], q3, "waiting_on_others")

        # --- Ada withdraws an unanswered question to Lin (sent as it is)
        q4 = self.ask(ada, "lin", BAD_Q, "--as-is")
        self.assertEqual(self.qstate(ada, q4), "waiting")
        r = self.ok("withdraw", short(q4)[:8], home=ada)
        self.hint(r, "lin")
        self.failing(1, "withdraw", q4, home=ada, says=("withdrawn",))
        self.failing(1, "thank", q4, "Thanks!", home=ada, says=("withdrawn",))
        self.absent(self.status(ada)["waiting_on_others"], q4, "waiting_on_others")
        self.sync(ada, "lin")
        self.assertEqual(self.inbox(lin)["inbox"], [])
        self.assertIn("inbox empty", self.ok("inbox", home=lin).out)
        t = self.thread(lin, "ada")
        [wd] = self.of_type(t, "withdraw", "them")
        self.assertEqual(short(wd.get("ref", "")), short(q4), wd)
        [dc] = self.of_type(t, "decline", "me")
        self.assertEqual(dc.get("text"), DECLINE)

        # --- the final states, from both sides
        self.sync(ada, "grace")
        self.sync(ada, "lin")
        brief = self.ok_json("brief", "ada", home=grace)
        self.assertEqual(self.find(brief["questions"], qid, "brief")["state"], "thanked")
        self.assertIn(self.find(brief["questions"], q2, "brief")["state"], ("waiting", "open"))
        brief = self.ok_json("brief", "ada", home=lin)
        self.assertEqual(self.find(brief["questions"], q3, "brief")["state"], "declined")
        self.assertEqual(self.find(brief["questions"], q4, "brief")["state"], "withdrawn")
        for h in (ada, grace, lin):
            self.assert_verify_ok(h)


class TestCapacity(EngageBase):
    """Grace's budget of 2 open engagements, first come first served."""

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.mentees = []
        for name in ("Ada", "Bob", "Cy"):
            home = self.person(name)
            self.connect(self.grace, home, "grace", name.lower())
            self.mentees.append(home)

    def test_budget_holds_and_releases(self):
        grace = self.grace
        ada, bob, cy = self.mentees

        r = self.ok("capacity", home=grace)
        self.assertIn("no budget set: every question goes straight to your inbox", r.out, r)
        self.ok("capacity", "2/week", home=grace)
        self.assert_capacity(grace, {"n": 2, "per": "week", "open": 0, "held": 0})
        for bad in ("0/week", "101/week", "2/fortnight", "two/week"):
            r = self.mm("capacity", bad, home=grace)
            self.assertIn(r.rc, (1, 2), r)
            self.assert_one_line_error(r)
        self.assertEqual(self.ok_json("capacity", home=grace)["n"], 2)

        texts = {ada: GOOD_Q, bob: GOOD_Q2, cy: LIN_Q}
        qids = {}
        for home in self.mentees:
            qids[home] = self.ask(home, "grace", texts[home])
            self.sync(home, "grace")

        j = self.inbox(grace)
        self.assertEqual([(short(q["id"]), q["from"].lower()) for q in j["inbox"]],
                         [(short(qids[ada]), "ada"), (short(qids[bob]), "bob")], j)
        self.assertEqual(j["held"], 1, j)
        self.assertIn("1 held beyond your budget", self.ok("inbox", home=grace).out)
        self.assert_capacity(grace, {"n": 2, "per": "week", "open": 2, "held": 1})
        self.assertIn("budget 2/week: 2 open, 1 held", self.ok("capacity", home=grace).out)
        self.failing(1, "answer", qids[cy], "A premature answer.", home=grace, says=("held",))

        # the third asker learns she is held, and where she stands
        self.sync(cy, "grace")
        st = self.status(cy)
        held = self.find(st["held"], qids[cy], "held")
        self.assertEqual(held.get("state", "held"), "held", held)
        self.assertEqual(held.get("ahead"), 0, "position in the queue: %r" % held)
        self.absent(st["waiting_on_others"], qids[cy], "waiting_on_others")
        human = self.ok("status", home=cy).out
        self.assertRegex(human, r"(?i)held: Grace's budget is full; you are next", human)
        self.sync(bob, "grace")
        self.assertEqual(self.qstate(bob, qids[bob]), "open")

        # an answer alone frees nothing; the thanks closes the engagement
        self.ok("answer", qids[ada], ANSWER, home=grace)
        j = self.inbox(grace)
        self.assertEqual([short(q["id"]) for q in j["inbox"]], [short(qids[bob])], j)
        self.assertEqual(j["held"], 1, j)
        self.sync(ada, "grace")
        self.ok("thank", qids[ada], THANKS, home=ada)
        self.sync(ada, "grace")
        j = self.inbox(grace)
        self.assertEqual([short(q["id"]) for q in j["inbox"]],
                         [short(qids[bob]), short(qids[cy])], j)
        self.assertEqual(j["held"], 0, j)
        self.assert_capacity(grace, {"n": 2, "per": "week", "open": 2, "held": 0})
        self.sync(cy, "grace")
        st = self.status(cy)
        self.assertEqual(self.find(st["waiting_on_others"], qids[cy])["state"], "open")
        self.absent(st["held"], qids[cy], "held")
        t = self.thread(cy, "grace")
        self.assertTrue(self.of_type(t, "queue", "them"), "no queue status line: %r" % t)

        # away: nothing new is released, even with room in the budget
        self.ok("capacity", "3/week", home=grace)
        until = (datetime.date.today() + datetime.timedelta(days=10)).isoformat()
        r = self.ok("away", "--until", until, home=grace)
        self.assertIn("(delivered on the next 'mm sync')", r.out, r)   # every mentee
        q2 = self.ask(ada, "grace", GOOD_Q2)
        self.sync(ada, "grace")
        j = self.inbox(grace)
        self.assertEqual(len(j["inbox"]), 2, j)
        self.assertEqual(j["held"], 1, j)
        self.sync(ada, "grace")
        self.find(self.status(ada)["held"], q2, "held while away")
        t = self.thread(ada, "grace")
        self.assertTrue(self.of_type(t, "away", "them"), "Ada does not see Grace away: %r" % t)
        self.ok("away", "--off", home=grace)
        j = self.inbox(grace)
        self.assertEqual(len(j["inbox"]), 3, j)
        self.assertEqual(j["held"], 0, j)
        self.sync(ada, "grace")
        self.assertEqual(self.qstate(ada, q2), "open")


class TestViews(EngageBase):
    """Every view in human and JSON form, on one small engagement."""

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.ada = self.person("Ada")
        self.connect(self.grace, self.ada, "grace", "ada")

    def test_views(self):
        ada, grace = self.ada, self.grace

        # lint
        r = self.mm("lint", BAD_Q, home=ada)
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.out, r"(?m)^yes-no: .*yes/no", r)
        j = self.parse_json(self.mm("--json", "lint", BAD_Q, home=ada))
        self.assertIs(j["ok"], False, j)
        self.assertIn("yes-no", [f["rule"] for f in j["findings"]], j)
        self.assertTrue(all(f["advice"] for f in j["findings"]), j)
        r = self.ok("lint", GOOD_Q, home=ada)
        self.assertEqual(r.out.strip(), "a good power question", r)
        self.assertEqual(self.ok_json("lint", GOOD_Q, home=ada), {"ok": True, "findings": []})
        j = self.parse_json(self.mm("--json", "lint", "Is it fine or not??", home=ada))
        self.assertLessEqual({"yes-no", "either-or", "several", "short"},
                             {f["rule"] for f in j["findings"]}, j)

        # ambition list, done, drop
        r = self.ok("ambition", "list", home=ada)
        self.assertIn("no ambitions yet; add one with 'mm ambition add --near TEXT'", r.out)
        self.assertEqual(self.ok_json("ambition", "list", home=ada), {"ambitions": []})
        r = self.ok("ambition", "add", "--near", NEAR, home=ada)
        m = re.search(r"^added near-term ambition ([0-9a-f]{12})$", r.out, re.M)
        self.assertTrue(m, r)
        near = m.group(1)
        lid = self.ok_json("ambition", "add", "--long", LONG, home=ada)["id"]
        old = self.ok_json("ambition", "add", "--near", "learn enough Rust to judge", home=ada)
        self.ok("ambition", "drop", short(old["id"]), home=ada)
        self.failing(1, "ambition", "done", short(old["id"]), home=ada)
        self.failing(1, "ambition", "drop", "abcdef012345", home=ada)
        lines = [ln for ln in self.ok("ambition", "list", home=ada).out.splitlines() if ln.strip()]
        self.assertEqual(len(lines), 2, lines)
        self.assertRegex(lines[0], r"^%s\s+near\s+.*\S\s+%s$" % (near, re.escape(NEAR)))
        self.assertRegex(lines[1], r"^%s\s+long\s+.*\S\s+%s$" % (short(lid), re.escape(LONG)))
        self.assertEqual(lines[0].index(NEAR), lines[1].index(LONG), "columns not aligned")
        allj = self.ok_json("ambition", "list", "--all", home=ada)["ambitions"]
        self.assertEqual([(a["text"], a["state"]) for a in allj],
                         [(NEAR, "active"), (LONG, "active"),
                          ("learn enough Rust to judge", "dropped")])
        for a in allj:
            self.check_time(a)
        human = self.ok("ambition", "list", "--all", home=ada).out
        self.assertRegex(human, r"(?m)^.*learn enough Rust to judge.*$", human)
        [line] = [ln for ln in human.splitlines() if "learn enough Rust" in ln]
        self.assertIn("dropped", line, human)

        # a small engagement to look at
        self.ok("ambition", "share", "grace", home=ada)
        qid = self.ask(ada, "grace", GOOD_Q, "--ambition", near)
        self.sync(ada, "grace")

        # inbox (human): a block per question
        r = self.ok("inbox", home=grace)
        self.assertRegex(r.out, r"(?im)^%s\s+ada\s+\S" % short(qid), r)
        self.assertIn(GOOD_Q, r.out)
        self.assertRegex(r.out, r"(?m)^\s+serves: %s$" % re.escape(NEAR), r)
        self.assertRegex(r.out, r"(?m)^\s+on file: near: %s; long: %s$"
                         % (re.escape(NEAR), re.escape(LONG)), r)
        self.assertNotIn("held beyond", r.out)

        # brief (human and JSON)
        r = self.ok("brief", "ada", home=grace)
        for s in (NEAR, LONG, GOOD_Q, "open"):
            self.assertIn(s, r.out)
        self.ok("answer", qid, ANSWER, home=grace)
        j = self.ok_json("brief", "ada", home=grace)
        bq = self.find(j["questions"], qid, "brief")
        self.assertEqual((bq["state"], bq.get("text")), ("answered", GOOD_Q), bq)
        self.assertTrue(mentions(bq, ANSWER), bq)
        self.assertIn(ANSWER, self.ok("brief", "ada", home=grace).out)
        self.sync(ada, "grace")

        # status (human and JSON), both sides
        st = self.status(ada)
        self.find(st["unthanked"], qid, "unthanked")
        r = self.ok("status", home=ada)
        self.assertIn(short(qid), r.out)
        self.assertRegex(r.out, r"(?i)unthanked|thank", r)
        self.ok("thank", qid, THANKS, "--offer", OFFER, home=ada)
        st = self.status(ada)
        self.find(st["reports_due"], qid, "reports_due")
        self.assertRegex(self.ok("status", home=ada).out, r"(?i)report", "reports due shown")
        self.ok("report", qid, REPORT, home=ada)
        self.sync(ada, "grace")
        self.ok("ask-back", qid, ASKBACK, home=grace)
        self.sync(ada, "grace")
        self.assertIn(ASKBACK, self.ok("status", home=ada).out)
        gst = self.status(grace)
        self.assertEqual((gst["held"], gst["unthanked"], gst["reports_due"]), ([], [], []), gst)
        self.absent(gst["waiting_on_others"], qid, "Grace's waiting_on_others")

        # thread (human and JSON): every kind, in time order
        t = self.thread(ada, "grace")
        types = [e["type"] for e in t["entries"]]
        for ty in ("invite", "ambitions", "question", "answer", "thanks", "report", "ask-back"):
            self.assertIn(ty, types, t)
        self.assertLess(types.index("question"), types.index("answer"))
        self.assertLess(types.index("answer"), types.index("thanks"))
        self.assertLess(types.index("thanks"), types.index("report"))
        r = self.ok("thread", "grace", home=ada)
        pos = [r.out.find(s) for s in (GOOD_Q, ANSWER, THANKS, REPORT, ASKBACK)]
        self.assertNotIn(-1, pos, r)
        self.assertEqual(pos, sorted(pos), "human thread not in time order\n%r" % r)
        self.assertIn(OFFER, r.out)
        for kind in ("question", "answer", "thanks", "report"):
            self.assertRegex(r.out, r"(?m)^\S.*\s%s\s*$" % re.escape(kind), r)

        # capacity (human; JSON in TestCapacity)
        self.ok("capacity", "3/month", home=grace)
        self.assertIn("budget 3/month: 0 open, 0 held", self.ok("capacity", home=grace).out)

        # export md and json: the whole relationship, decrypted
        j = self.ok_json("export", "--format", "json", "grace", home=ada)
        types = [d.get("type") for d in dicts(j) if "type" in d]
        for ty in ("invite", "ambitions", "question", "answer", "thanks", "report", "ask-back"):
            self.assertIn(ty, types, j)
        for s in (GOOD_Q, ANSWER, THANKS, OFFER, REPORT, ASKBACK, NEAR):
            self.assertTrue(mentions(j, s), "export json lacks %r" % s)
        r = self.ok("export", "--format", "md", "grace", home=ada)
        for s in (GOOD_Q, ANSWER, THANKS, OFFER, REPORT, ASKBACK):
            self.assertIn(s, r.out)
        self.assertRegex(r.out, r"(?m)^#", "markdown has headings")
        # md is the default (the export's own time aside)
        drop_when = re.compile(r"(?m)^.*\bExported\b.*$|\d{4}-\d\d-\d\dT[\d:.]+Z")
        self.assertEqual(drop_when.sub("", self.ok("export", "grace", home=ada).out),
                         drop_when.sub("", r.out), "md is the default")
        # without a peer: everything, including the self scope
        j = self.ok_json("export", "--format", "json", home=ada)
        for s in (GOOD_Q, LONG, "learn enough Rust to judge"):
            self.assertTrue(mentions(j, s), "full export lacks %r" % s)
        # Grace exports the same relationship
        j = self.ok_json("export", "--format", "json", "ada", home=grace)
        for s in (GOOD_Q, ANSWER, THANKS, REPORT, ASKBACK):
            self.assertTrue(mentions(j, s), "Grace's export lacks %r" % s)


class TestPrivacy(EngageBase):
    """Private notes about a peer, and what each store holds."""

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.lin = self.mentor("Lin")
        self.ada = self.person("Ada")
        self.ag = self.connect(self.grace, self.ada, "grace", "ada")
        self.al = self.connect(self.lin, self.ada, "lin", "ada")

    def store_bytes(self, home):
        with open(os.path.join(home, "store", "data.mdb"), "rb") as f:
            return f.read()

    def test_private_notes_and_stores(self):
        ada, grace, lin = self.ada, self.grace, self.lin
        self.ok("ambition", "add", "--near", NEAR, home=ada)
        self.ok("ambition", "share", "grace", home=ada)
        qid = self.ask(ada, "grace", GOOD_Q)
        n = self.ok_json("note", "add", NOTE, "--about", "grace", home=ada)
        self.check_id(n)
        self.ok("note", "add", "plain private note (private-note-9c1d)", home=ada)
        self.failing(1, "note", "add", "about nobody", "--about", "nobody", home=ada)
        self.sync(ada, "grace")
        self.inbox(grace)
        self.ok("answer", qid, ANSWER, home=grace)
        self.sync(ada, "grace")
        self.ok("thank", qid, THANKS, home=ada)
        lq = self.ask(ada, "lin", LIN_Q)
        self.sync(ada, "grace")
        self.sync(ada, "lin")
        self.inbox(lin)
        self.ok("answer", lq, "Find the people who already do the job you want.", home=lin)
        self.sync(ada, "lin")

        # the note in Ada's own views: only with --private
        t = self.thread(ada, "grace")
        self.assertFalse(mentions(t, NOTE), t)
        self.assertNotIn(NOTE, self.ok("thread", "grace", home=ada).out)
        t = self.thread(ada, "grace", "--private")
        [note] = [e for e in t["entries"] if mentions(e, NOTE)]
        self.assertEqual((note["type"], note["who"]), ("note", "me"), note)
        self.assertIn(NOTE, self.ok("thread", "grace", "--private", home=ada).out)
        self.assertFalse(mentions(self.thread(ada, "lin", "--private"), NOTE),
                         "a note about Grace shown in Lin's thread")
        for fmt in ("md", "json"):
            r = self.ok("export", "--format", fmt, "grace", home=ada)
            self.assertNotIn("private-note", r.out, "export %s grace shows a private note" % fmt)
            self.assertIn(GOOD_Q, r.out)
            r = self.ok("export", "--format", fmt, "grace", "--private", home=ada)
            self.assertIn(NOTE, r.out, "export %s grace --private lacks the note" % fmt)
        r = self.mm("brief", "grace", home=ada)        # brief is a mentor's view; if any,
        self.assertNotIn("private-note", r.out)        # it has no private notes

        # Grace's side: nothing of it, ever
        for args in (("thread", "ada"), ("thread", "ada", "--private"), ("brief", "ada"),
                     ("export", "ada"), ("export", "--format", "json", "ada"),
                     ("export", "--format", "json")):
            for js in ((), ("--json",)):
                r = self.ok(*(js + args), home=grace)
                self.assertNotIn("private-note", r.out, "grace %r shows Ada's note" % (args,))
                self.assertNotIn(LIN_Q, r.out, "grace %r shows Lin's thread" % (args,))

        # raw bytes: Lin's store holds nothing of Ada-Grace nor of Ada's
        # self scope; Grace's nothing of Ada-Lin nor of Ada's self scope
        raw = self.log(ada, raw=True)
        by_scope = {}
        for e in raw:
            key = "self" if e["scope_kind"] == "self" else e["scope"]
            by_scope.setdefault(key, []).append(bytes.fromhex(e["raw"]))
        self.assertEqual(set(by_scope), {"self", self.ag, self.al}, set(by_scope))
        self.assertGreaterEqual(len(by_scope["self"]), 3)      # ambition + 2 notes
        lin_db, grace_db = self.store_bytes(lin), self.store_bytes(grace)
        for label, db, private, shared in (("Lin", lin_db, ("self", self.ag), self.al),
                                           ("Grace", grace_db, ("self", self.al), self.ag)):
            for key in private:
                for b in by_scope[key]:
                    self.assertNotIn(b, db, "%s's store holds an entry of %s" % (label, key))
                    self.assertNotIn(b[-64:], db, "%s's store holds a signature of %s"
                                     % (label, key))
            # the check can see what it looks for: the shared scope is there
            for b in by_scope[shared]:
                self.assertIn(b, db, "%s's store lacks its own relationship" % label)
            for text in (NOTE, "private-note", GOOD_Q, LIN_Q):
                self.assertNotIn(text.encode(), db, "%s's store holds plaintext" % label)
        self.assertEqual([e for e in self.log(grace) if e["scope"] == self.al], [])
        self.assertEqual([e for e in self.log(lin) if e["scope"] == self.ag], [])
        for h in (ada, grace, lin):
            self.assert_verify_ok(h)


if __name__ == "__main__":
    mmtest.main()
