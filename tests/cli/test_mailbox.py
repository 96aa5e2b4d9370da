"""Mailboxes (PROTOCOL.md 14): a blind store-and-forward node of one person.

Ada (mentee) and Grace (mentor) are never online at the same time: after
they are introduced, only one of them, or neither, runs mm serve, and every
entry travels through a mailbox (Ada's, then Grace's), each a home of its
own on 127.0.0.1 with its own mm serve.  The mailbox holds no key and no
plaintext; a third person's device is refused; the quota is enforced with
MM_EQUOTA and loses nothing; unlinking stops its use.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN, free_port  # noqa: E402

QUESTION = "What would you weigh first when my team wants a parser rewrite before March?"
ANSWER = "Start from the failing cases your users report; rewrite only what they touch."
LIN_Q = "What helped you most when you moved from my kind of role into management?"
QUICK = "--timeout"     # an unreachable device is given up after one second
MB_PREFIX = "mmm1"


class MailboxBase(mmtest.SyncTestCase):
    """Grace mentors Ada; they met while Grace's mm serve ran."""

    def setUp(self):
        super().setUp()
        self.grace, _ = self.new_home("Grace", device="desk", sub="grace")
        self.ada, _ = self.new_home("Ada", device="laptop", sub="ada")
        self.gsrv = self.serve(self.grace)
        self.scope = self.pair(self.grace, self.ada, "grace")

    # --- a mailbox ------------------------------------------------------------

    def mailbox(self, owner, sub, quota=None, name="box"):
        """A mailbox home linked to owner, its mm serve running on the
        address 'mm mailbox init --listen' gave (no --listen to mm serve).
        Returns (home, server)."""
        home = self.path(sub)
        ep = "tcp://127.0.0.1:%d" % free_port()
        args = ["mailbox", "init", "--listen", ep] + (["--quota", quota] if quota else [])
        j = self.ok_json(*args, home=home)
        self.assertEqual(j["listen"], [ep], j)
        srv = mmtest.Server([MM_BIN, "--home", home, "serve"], self.env())
        self.addCleanup(self.stop_server, srv)
        self.assertIsNotNone(srv.wait_line(r" reachable at " + ep), srv)
        code = self.ok_json("mailbox", "code", home=home)["code"]
        self.assertTrue(code.startswith(MB_PREFIX), code)
        j = self.ok_json("mailbox", "link", code, "--name", name, home=owner)
        self.assertEqual(j["name"], name, j)
        self.assertIs(j["sync"]["ok"], True, j)
        self.assertIsNotNone(srv.wait_line(r"linked: this mailbox now serves"), srv)
        return home, srv

    def ask(self, home, peer, text):
        return self.ok_json("ask", peer, text, home=home)["id"]

    def sync_via(self, home, peer, via):
        """mm sync PEER with its devices offline: it must go through a mailbox."""
        j = self.sync(home, peer, QUICK, "1")
        [p] = j["peers"]
        self.assertIs(p["ok"], True, j)
        self.assertEqual(p.get("via"), via, j)
        return p

    def news(self, p, kind):
        return [n for n in p["news"] if n["kind"] == kind]

    def raw_bytes(self, home):
        out = b""
        for root, _dirs, files in os.walk(home):
            for f in files:
                with open(os.path.join(root, f), "rb") as fh:
                    out += fh.read()
        return out


class TestAdasMailbox(MailboxBase):

    def test_engagement_through_adas_mailbox(self):
        mb, _ = self.mailbox(self.ada, "mb-ada")
        # Grace hears of the mailbox at her next sync with Ada's devices
        self.sync(self.ada, "grace")
        self.assertRegex(self.ok("peer", "show", "ada", home=self.grace).out,
                         r"\n(?:devices)? +box  mmd\w+  current  seen never  mailbox\n")
        # the mailbox is no device: device list does not show it, mailbox list does
        self.assertEqual([d["name"] for d in self.ok_json("device", "list",
                                                           home=self.ada)["devices"]],
                         ["laptop"])
        [box] = self.ok_json("mailbox", "list", home=self.ada)["mailboxes"]
        self.assertEqual((box["name"], box["state"]), ("box", "current"), box)

        # from now on Ada and Grace are never online together
        self.stop_server(self.gsrv)
        qid = self.ask(self.ada, "grace", QUESTION)
        self.sync_via(self.ada, "grace", "own-mailbox")       # Grace is away: stored there
        # Ada goes away (she never served); Grace comes back, with no address of Ada's
        p = self.sync_via(self.grace, "ada", "their-mailbox")
        self.assertEqual([n["question"][:12] for n in self.news(p, "asked")], [qid[:12]], p)
        self.ok("answer", qid[:12], ANSWER, home=self.grace)
        self.sync_via(self.grace, "ada", "their-mailbox")     # the answer waits there
        p = self.sync_via(self.ada, "grace", "own-mailbox")
        self.assertEqual([n["question"][:12] for n in self.news(p, "answered")], [qid[:12]], p)
        self.assertIn(ANSWER, self.ok("thread", "grace", home=self.ada).out)

        # blind: the mailbox holds the entries but not one byte of a body
        raw = self.raw_bytes(mb)
        # the texts, and the body types as a body spells them ({"t": "question"...})
        for text in (QUESTION.encode(), ANSWER.encode(), b"\xa1t\xa8question",
                     b"\xa1t\xa6answer", b"\xa1t\xa6invite"):
            self.assertFalse(text in raw, "plaintext %r in the mailbox's files" % text)
        ada_q = [e for e in self.scope_entries(self.ada, self.scope, raw=True)]
        self.assertTrue(ada_q)
        for e in ada_q:             # what it holds is the entries, as signed
            self.assertTrue(bytes.fromhex(e["raw"]) in raw, "entry %s not in the mailbox" % e["id"])
        # a mailbox runs only what a mailbox runs
        self.fails(1, "status", home=mb)
        self.assertIn("MM_EROLE", self.mm("status", "--json", home=mb).out)
        for h in (self.ada, self.grace):
            self.assert_verify_ok(h)
        self.assert_verify_ok(mb)


class TestGracesMailbox(MailboxBase):

    def test_engagement_through_graces_mailbox(self):
        mb, _ = self.mailbox(self.grace, "mb-grace")
        self.sync(self.ada, "grace")          # Ada learns Grace's mailbox from Grace's devices
        self.stop_server(self.gsrv)
        qid = self.ask(self.ada, "grace", QUESTION)
        self.sync_via(self.ada, "grace", "their-mailbox")
        # Grace, offline until now, runs a plain mm sync: her mailbox is one of its targets
        j = self.sync(self.grace, QUICK, "1")
        [p] = [p for p in j["peers"] if p["name"] == "box"]
        self.assertIs(p["ok"], True, j)
        self.assertEqual([n["question"][:12] for n in self.news(p, "asked")], [qid[:12]], p)
        self.ok("answer", qid[:12], ANSWER, home=self.grace)
        self.sync(self.grace, QUICK, "1")
        p = self.sync_via(self.ada, "grace", "their-mailbox")
        self.assertEqual([n["question"][:12] for n in self.news(p, "answered")], [qid[:12]], p)
        raw = self.raw_bytes(mb)
        for text in (QUESTION, ANSWER):
            self.assertFalse(text.encode() in raw, "plaintext %r in the mailbox's files" % text)


class TestRefusals(MailboxBase):

    def test_third_person_refused(self):
        """Lin is Ada's peer, but the mailbox serves only the scopes Ada's
        devices told it of: until Ada syncs with it again, and once Ada
        blocks Lin, Lin's device is refused."""
        mb, msrv = self.mailbox(self.ada, "mb-ada")
        lin, _ = self.new_home("Lin", device="tablet", sub="lin")
        asrv = self.serve(self.ada)
        self.pair(self.ada, lin, "ada")         # Lin learns the mailbox at the first sync
        self.stop_server(asrv)
        r = self.fails(1, "sync", "ada", QUICK, "1", home=lin)
        self.assertIn("you are not a peer of this device", r.err, r)
        j = self.mm("sync", "ada", QUICK, "1", "--json", home=lin)
        self.assertEqual(j.rc, 1, j)
        [p] = self.parse_json(j)["peers"]
        self.assertEqual(p["code"], "MM_EREFUSED", p)
        self.assertIsNotNone(msrv.wait_line(r"refused a connection with an unknown key: you are "
                                            r"not a peer"), msrv)
        # Ada tells her mailbox (SCOPES): now Lin is served
        self.sync(self.ada, "--device", "box")
        self.sync_via(lin, "ada", "their-mailbox")
        # Ada blocks Lin and tells the mailbox: refused again
        self.ok("peer", "block", "lin", home=self.ada)
        self.sync(self.ada, "--device", "box")
        j = self.mm("sync", "ada", QUICK, "1", "--json", home=lin)
        [p] = self.parse_json(j)["peers"]
        self.assertEqual(p["code"], "MM_EREFUSED", p)

    def test_link_code_once(self):
        mb = self.path("mb")
        ep = "tcp://127.0.0.1:%d" % free_port()
        self.ok("mailbox", "init", "--listen", ep, home=mb)
        # a mailbox only serves: no background sync, no discovery
        for opt in (["--sync-every", "5m"], ["--discover"]):
            r = self.fails(1, "serve", *opt, home=mb)
            self.assertIn("a mailbox never syncs on its own", r.err)
            j = self.parse_json(self.mm("serve", "--json", *opt, home=mb))
            self.assertEqual(j["error"]["code"], "MM_EROLE")
        self.serve(mb, port=int(ep.rsplit(":", 1)[1]))
        code = self.ok_json("mailbox", "code", home=mb)["code"]
        # only the identity device links; a damaged code is refused before anything is sent
        bad = code[:-3] + ("aaa" if code[-3:] != "aaa" else "bbb")
        r = self.fails(1, "mailbox", "link", bad, home=self.ada)
        self.assertIn("damaged", r.err)
        self.ok("mailbox", "link", code, home=self.ada)
        # linked: a second person cannot have it, and the code is spent
        r = self.fails(1, "mailbox", "link", code, "--timeout", "2", home=self.grace)
        self.assertIn("MM_EREFUSED",
                      self.mm("mailbox", "link", code, "--timeout", "2", "--json",
                              home=self.grace).out)
        r = self.fails(1, "mailbox", "code", home=mb)
        self.assertIn("linked already", r.err)


class TestQuota(MailboxBase):

    def test_quota_full_then_raised(self):
        mb, _ = self.mailbox(self.ada, "mb-ada", quota="8000")
        self.stop_server(self.gsrv)
        self.fill(self.ada, "grace", 40)        # far more than 8000 bytes of Ada's
        before = self.ok_json("mailbox", "list", home=mb)["owner_bytes"]
        j = self.mm("sync", "grace", QUICK, "1", "--json", home=self.ada)
        self.assertEqual(j.rc, 1, j)
        [p] = self.parse_json(j)["peers"]
        self.assertEqual(p["code"], "MM_EQUOTA", p)
        self.assertRegex(p["error"], r"^through your mailbox: .*the mailbox is full for this "
                                     r"person$", p)
        r = self.fails(1, "sync", "grace", QUICK, "1", home=self.ada)
        self.assertIn("mailbox is full", r.err, r)
        # nothing lost on either side: the run was refused whole
        self.assertEqual(self.ok_json("mailbox", "list", home=mb)["owner_bytes"], before)
        self.assert_verify_ok(self.ada)
        self.assert_verify_ok(mb)
        self.ok("mailbox", "quota", "1MiB", home=mb)            # its mm serve runs on
        p = self.sync_via(self.ada, "grace", "own-mailbox")
        self.assertEqual(p["sent"], 40, p)
        self.assertGreater(self.ok_json("mailbox", "list", home=mb)["owner_bytes"], 8000)


class TestUnlink(MailboxBase):

    def phone(self):
        """A second device of Ada's, paired from the laptop (it learns the
        mailbox in the pairing's first sync)."""
        srv = mmtest.Server([MM_BIN, "--home", self.ada, "device", "pair", "--yes",
                             "--listen", "tcp://127.0.0.1:*"], self.env(MM_PWHASH="min"))
        self.addCleanup(self.stop_server, srv)
        code = srv.wait_line(r"^mmp1[a-z2-7]+$")
        self.assertIsNotNone(code, srv)
        home = self.path("phone")
        r = self.mm("--json", "init", "--join", code, "--device", "phone", home=home)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(srv.proc.wait(30), 0, srv)
        return home

    def test_unlink_stops_its_use(self):
        mb, msrv = self.mailbox(self.ada, "mb-ada")
        phone = self.phone()
        self.sync(phone, "--device", "box")     # the phone pushes to the mailbox too
        self.sync(self.ada, "grace")            # Grace knows the mailbox
        self.stop_server(self.gsrv)
        self.ask(self.ada, "grace", QUESTION)
        self.sync_via(self.ada, "grace", "own-mailbox")
        r = self.ok("mailbox", "unlink", "box", home=self.ada)
        self.assertIn("it was told", r.out, r)
        [box] = self.ok_json("mailbox", "list", home=self.ada)["mailboxes"]
        self.assertEqual(box["state"], "unlinked")
        self.assertIs(self.ok_json("mailbox", "list", home=mb)["unlinked"], True, msrv)
        r = self.fails(1, "mailbox", "unlink", "box", home=self.ada)
        self.assertIn("unlinked already", r.err)
        # the phone has not heard: the mailbox, which has, refuses its owner's push
        j = self.mm("sync", "--device", "box", QUICK, "1", "--json", home=phone)
        [p] = self.parse_json(j)["peers"]
        self.assertEqual((p["code"], p["error"]), ("MM_EREVOKED",
                                                   "this mailbox was unlinked by its owner"), p)
        # Ada no longer pushes to it: Grace's absence is an ordinary failure again
        j = self.mm("sync", "grace", QUICK, "1", "--json", home=self.ada)
        [p] = self.parse_json(j)["peers"]
        self.assertEqual(p["code"], "MM_ENOLISTEN", p)    # her serve is down: refused
        self.assertNotIn("mailbox", p["error"], p)
        # Grace, who has not heard yet, tries it: the mailbox refuses everyone now
        j = self.mm("sync", "ada", QUICK, "1", "--json", home=self.grace)
        [p] = self.parse_json(j)["peers"]
        self.assertEqual(p["code"], "MM_EREVOKED", p)
        self.assertIn("unlinked", p["error"], p)
        # once Grace syncs with Ada, she knows it, and stops trying it
        asrv = self.serve(self.ada)
        self.ok("peer", "set-addr", "ada", asrv.endpoint, home=self.grace)
        self.sync(self.grace, "ada")
        self.stop_server(asrv)
        self.assertRegex(self.ok("peer", "show", "ada", home=self.grace).out,
                         r"\n(?:devices)? +box  mmd\w+  revoked  seen [^\n]*  mailbox\n")
        j = self.mm("sync", "ada", QUICK, "1", "--json", home=self.grace)
        [p] = self.parse_json(j)["peers"]
        self.assertEqual(p["code"], "MM_ENOLISTEN", p)


if __name__ == "__main__":
    mmtest.main()
