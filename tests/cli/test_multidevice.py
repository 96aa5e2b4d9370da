"""Three devices of Ada plus Grace, end to end (issue 9): real mm processes,
separate homes, real ZeroMQ on 127.0.0.1.

Ada's laptop (the identity device) is mentored by Grace; her phone and
tablet join by mm device pair --yes / mm init --join.  Notes written offline
on each device reach the other two; a question from the phone reaches Grace
through the laptop, and Grace's answer goes back laptop -> phone with
Grace's mm serve stopped.  The phone is revoked: its new entries and its
connections are refused by the laptop, the tablet and Grace, its older
entries stay, and an entry the laptop writes afterwards opens under no key
the phone holds (tests/tools/mm_trykeys, on the raw bytes).  The laptop is
backed up, wiped and restored on a new home, which writes and syncs: no
fork, everything verifies everywhere, Grace accepts the new device.  A
copied home is detected; bad pairing codes are refused.

Own devices sync by name and endpoint (mm sync --device NAME --endpoint EP)
until they have met once; from then on by name alone, at the endpoints
their mm serve announced, and a plain mm sync reaches them too.

"""
import os
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN  # noqa: E402

PASS = "correct horse battery staple, but longer"
QUESTION = "What would you weigh first when my team wants a parser rewrite before March?"
ANSWER = "Start from the failing cases your users report; rewrite only what they touch."
CODE_RX = r"^mmp1[a-z2-7]+$"


class MultiDevice(mmtest.SyncTestCase):

    def env(self, **extra):
        extra.setdefault("MM_PWHASH", "min")     # the KDF's smallest parameters (12.1)
        return super().env(**extra)

    # --- helpers -----------------------------------------------------------

    def code(self, r):
        """The MM_E... name of a failed --json run."""
        self.assertEqual(r.rc, 1, r)
        self.assert_one_line_error(r)
        return self.parse_json(r)["error"]["code"]

    def join(self, name, *args):
        """Pair a new device NAME of Ada's from the laptop; its home."""
        srv = mmtest.Server([MM_BIN, "--home", self.laptop, "device", "pair", "--yes",
                             "--listen", "tcp://127.0.0.1:*"], self.env())
        self.addCleanup(self.stop_server, srv)
        code = srv.wait_line(CODE_RX)
        self.assertIsNotNone(code, srv)
        home = self.path(name)
        r = self.mm("--json", "init", "--join", code, "--device", name, *args, home=home)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(srv.proc.wait(30), 0, srv)
        return home, code

    def own_sync(self, home, device, srv, ok=True, short=False):
        """mm sync --device DEVICE --endpoint EP; short: --device alone, at the
        endpoints its mm serve announced (learnt at an earlier sync)."""
        ep = [] if short else ["--endpoint", srv.endpoint]
        r = self.mm("--json", "sync", "--timeout", "5", "--device", device, *ep, home=home)
        j = self.parse_json(r)
        self.assertIn("peers", j, r)
        [p] = j["peers"]
        if ok is not None:
            self.assertIs(p["ok"], ok, r)
            self.assertEqual(r.rc, 0 if ok else 1, r)
        return p

    def peer_sync(self, home, peer="grace", ok=True):
        r = self.mm("--json", "sync", "--timeout", "5", peer, home=home)
        j = self.parse_json(r)
        self.assertIn("peers", j, r)
        [p] = j["peers"]
        self.assertIs(p["ok"], ok, r)
        self.assertEqual(r.rc, 0 if ok else 1, r)
        return p

    def note_texts(self, home):
        return sorted(n["text"] for n in self.notes(home))

    def ids(self, home, author=None):
        return {e["id"] for e in self.log(home) if author is None or e["author"] == author}

    def thread_types(self, home, peer):
        return [e["type"] for e in self.ok_json("thread", peer, home=home)["entries"]]

    def not_forked(self, home):
        d = self.ok_json("status", home=home)["device"]
        self.assertIs(d["forked"], False, (home, d))

    # --- the scenario ------------------------------------------------------

    def test_three_devices_and_grace(self):
        self.laptop, _ = self.new_home("Ada", device="laptop", sub="laptop")
        self.grace, _ = self.new_home("Grace", device="desk", sub="grace")
        gsrv = self.serve(self.grace)
        self.gport = gsrv.port                   # Grace's invite named this port
        self.scope = self.pair(self.grace, self.laptop, "grace", "--note", "Welcome, Ada")
        self.stop_server(gsrv)
        self.phone, phone_code = self.join("phone")
        self.tablet, _ = self.join("tablet")
        ident = {h: self.ident(h) for h in (self.laptop, self.phone, self.tablet)}
        self.assertEqual(len({i["identity"] for i in ident.values()}), 1, ident)
        self.assertEqual(len({i["device"] for i in ident.values()}), 3, ident)
        phone_dev = ident[self.phone]["device"]
        laptop_dev = ident[self.laptop]["device"]
        devs = {d["name"]: d for d in self.ok_json("device", "list", home=self.laptop)["devices"]}
        self.assertEqual(set(devs), {"laptop", "phone", "tablet"}, devs)

        # bad pairing codes: a used one, altered ones, an invite code
        r = self.mm("--json", "init", "--join", phone_code, "--device", "x", "--timeout", "2",
                    home=self.path("x1"))
        self.assertEqual(self.code(r), "MM_ETIMEOUT")
        self.assertIn("used or expires", r.err)
        i = 40
        bad = phone_code[:i] + ("a" if phone_code[i] != "a" else "b") + phone_code[i + 1:]
        r = self.mm("--json", "init", "--join", bad, "--device", "x", home=self.path("x2"))
        self.assertEqual(self.code(r), "MM_ECHECKSUM")
        self.assertIn("damaged or altered", r.err)
        r = self.mm("--json", "init", "--join", "mmp1" + "a" * 60, "--device", "x",
                    home=self.path("x3"))
        self.assertEqual(self.code(r), "MM_ECHECKSUM")
        for cut in (phone_code[:6], phone_code[:30] + "1" + phone_code[31:]):
            r = self.mm("--json", "init", "--join", cut, "--device", "x", home=self.path("x4"))
            self.assertEqual(self.code(r), "MM_EINVAL")
            self.assertIn("damaged or cut short", r.err)
        r = self.mm("--json", "init", "--join", mmtest.invite_encode(
            os.urandom(32), os.urandom(32), os.urandom(32), 2 ** 50, ["tcp://127.0.0.1:1"]), "--device",
                    "x", home=self.path("x4"))
        self.assertEqual(self.code(r), "MM_EINVAL")
        self.assertIn("mm accept", r.err)
        for x in ("x1", "x2", "x3", "x4"):
            self.assertFalse(os.path.exists(self.path(x)))
        # only the identity device pairs
        r = self.mm("--json", "device", "pair", "--yes", home=self.phone)
        self.assertEqual(self.code(r), "MM_ENOIDENTITY")

        # 1. notes written offline on each device reach the other two
        for h, name in ((self.laptop, "laptop"), (self.phone, "phone"), (self.tablet, "tablet")):
            self.add_note(h, "offline on the %s" % name)
        lsrv = self.serve(self.laptop)
        self.own_sync(self.phone, "laptop", lsrv)
        self.own_sync(self.tablet, "laptop", lsrv)
        self.own_sync(self.phone, "laptop", lsrv, short=True)   # the laptop's endpoints: known now
        # a plain mm sync reaches the other own devices that announced endpoints
        r = self.parse_json(self.mm("--json", "sync", "--timeout", "1", home=self.phone))
        self.assertIn("laptop", {p["name"] for p in r["peers"] if p["ok"]}, r)
        want = sorted(["offline on the laptop", "offline on the phone", "offline on the tablet"])
        for h in (self.laptop, self.phone, self.tablet):
            self.assertEqual(self.note_texts(h), want, h)

        # 2. a question from the phone reaches Grace through the laptop
        q = self.ok_json("ask", "grace", QUESTION, home=self.phone)["id"]
        self.own_sync(self.phone, "laptop", lsrv)
        gsrv = self.serve(self.grace, port=self.gport)
        self.peer_sync(self.laptop)
        inbox = self.ok_json("inbox", home=self.grace)["inbox"]
        self.assertEqual([x["id"] for x in inbox], [q], inbox)
        # ... and Grace's answer goes laptop -> phone with Grace stopped
        self.ok("answer", q[:8], ANSWER, home=self.grace)
        self.peer_sync(self.laptop)
        self.stop_server(gsrv)
        self.own_sync(self.phone, "laptop", lsrv)
        self.assertIn("answer", self.thread_types(self.phone, "grace"))
        self.assertIn(ANSWER, self.ok("thread", "grace", home=self.phone).out)
        self.own_sync(self.tablet, "laptop", lsrv)
        self.assertIn(ANSWER, self.ok("thread", "grace", home=self.tablet).out)
        phone_old = self.ids(self.phone, phone_dev)
        self.assertGreaterEqual(len(phone_old), 2)     # a note, a question (at least)

        # 3. revoke the phone
        self.ok("device", "revoke", "phone", home=self.laptop)
        devs = {d["name"]: d for d in self.ok_json("device", "list", home=self.laptop)["devices"]}
        self.assertEqual(devs["phone"]["state"], "revoked", devs)
        # the phone has not heard: it writes on, offline (a note, and an
        # entry in the relationship with Grace)
        self.add_note(self.phone, "written on the phone after its revocation")
        self.fill(self.phone, "grace", 1)
        phone_new = self.ids(self.phone, phone_dev) - phone_old
        self.assertEqual(len(phone_new), 2, phone_new)
        # Grace hears of it from the laptop; the tablet has not yet
        gsrv = self.serve(self.grace, port=self.gport)
        self.peer_sync(self.laptop)
        # the tablet, unaware, takes the phone's new entries (it cannot know) ...
        tsrv = self.serve(self.tablet)
        self.own_sync(self.phone, "tablet", tsrv)
        self.assertEqual(self.ids(self.tablet, phone_dev) & phone_new, phone_new)
        # ... and offers them on: Grace and the laptop, who know, refuse them
        grace_has = self.ids(self.grace, phone_dev)
        r = self.mm("--json", "sync", "--timeout", "5", "grace", home=self.tablet)
        self.parse_json(r)
        if os.environ.get("MM_TEST_SAY"):
            sys.stderr.write("\ntablet -> grace with the revoked phone's entry: %r\n" % r)
        self.assertEqual(self.ids(self.grace, phone_dev), grace_has, r)
        # the session itself goes on: an entry refused as revoked is dropped
        self.assertEqual(r.rc, 0, r)
        p = self.own_sync(self.tablet, "laptop", lsrv)
        self.assertFalse(self.ids(self.laptop, phone_dev) & phone_new, p)
        # both now know: nobody offers the refused entries again
        for sync in (lambda: self.own_sync(self.tablet, "laptop", lsrv),
                     lambda: self.peer_sync(self.tablet)):
            p = sync()
            self.assertEqual(p["sent"], 0, "entries of a revoked device past its last are "
                             "offered again to a holder that knows the revocation: %r" % p)
        # now all three know: the phone's connections are refused by each
        devs = {d["name"]: d for d in self.ok_json("device", "list", home=self.tablet)["devices"]}
        self.assertEqual(devs["phone"]["state"], "revoked", devs)
        self.fill(self.phone, "grace", 1)
        phone_new = self.ids(self.phone, phone_dev) - phone_old
        for name, srv in (("laptop", lsrv), ("tablet", tsrv)):
            mark = srv.mark()
            p = self.own_sync(self.phone, name, srv, ok=False)
            self.assertEqual(p["code"], "MM_EREFUSED", p)
            self.assertIsNotNone(srv.wait_line(r"revoked device", start=mark), srv)
        p = self.peer_sync(self.phone, ok=False)
        self.assertEqual(p["code"], "MM_EREFUSED", p)
        # its new entries are nowhere else (the tablet keeps what it took
        # unaware); its older entries remain everywhere
        self.assertFalse(self.ids(self.laptop, phone_dev) & phone_new)
        self.assertFalse(self.ids(self.grace, phone_dev) & phone_new)
        for h in (self.laptop, self.tablet):
            self.assertEqual(self.ids(h, phone_dev) & phone_old, phone_old, h)
        self.assertIn(q, self.ids(self.grace, phone_dev))
        self.assertNotIn("written on the phone after its revocation",
                         self.note_texts(self.laptop))
        self.assertIn("offline on the phone", self.note_texts(self.laptop))
        self.assertIn(QUESTION, self.ok("thread", "ada", home=self.grace).out)
        # entries the laptop writes now open under no key the phone holds
        before = self.ids(self.laptop, laptop_dev)
        self.add_note(self.laptop, "after the revocation, not for the phone")
        self.fill(self.laptop, "grace", 1)
        fresh = [e for e in self.log(self.laptop, raw=True)
                 if e["author"] == laptop_dev and e["id"] not in before]
        self.assertEqual(len(fresh), 2, fresh)
        r = self.tool("mm_trykeys", self.phone)
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"^keys [1-9]\d*\n$")
        for e in fresh:
            self.assertEqual(self.tool("mm_trykeys", self.laptop, e["raw"]).out, "opened\n")
        r = self.tool("mm_trykeys", self.phone, *[e["raw"] for e in fresh])
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out, "sealed\nsealed\n",
                         "entries the laptop wrote after revoking the phone open under the "
                         "phone's keys: %r" % r.out)
        # the tablet still reads them
        self.own_sync(self.tablet, "laptop", lsrv)
        self.assertIn("after the revocation, not for the phone", self.note_texts(self.tablet))
        self.peer_sync(self.laptop)

        # 4. backup, wipe, restore on a new home, write and sync
        pfile = self.path("passphrase")
        with open(pfile, "w") as f:
            f.write(PASS + "\n")
        self.stop_server(lsrv)
        bk = self.path("ada.mmbk")
        self.ok_json("backup", bk, "--passphrase-file", pfile, home=self.laptop)
        before_all = self.ids(self.laptop)
        shutil.rmtree(self.laptop)
        new = self.path("laptop2")
        j = self.ok_json("restore", bk, "--passphrase-file", pfile, "--device", "laptop2",
                         home=new)
        self.assertEqual(j["old_device"], laptop_dev)
        new_dev = j["device"]
        # everything the backup held, and the restore's own rekeys away from the
        # old laptop (written by the new device)
        got = self.ids(new)
        self.assertLessEqual(before_all, got)
        self.assertEqual(got - before_all, self.ids(new, new_dev))
        self.assertGreaterEqual(len(got - before_all), j["rekeyed"], j)   # and scope entries
        self.add_note(new, "written on the restored laptop")
        self.fill(new, "grace", 1)
        p = self.peer_sync(new)
        self.assertGreaterEqual(p["sent"], 1, p)
        self.assertIn(new_dev, {e["author"] for e in self.scope_entries(self.grace, self.scope)})
        # Grace knows each of Ada's devices and which are revoked
        shown = self.ok("peer", "show", "ada", home=self.grace).out
        states = dict(re.findall(r"(mmd[a-z2-7]{12})  (current|revoked)", shown))
        self.assertEqual(states, {laptop_dev[:15]: "revoked", phone_dev[:15]: "revoked",
                                  new_dev[:15]: "current",
                                  ident[self.tablet]["device"][:15]: "current"}, shown)
        self.own_sync(new, "tablet", tsrv)
        self.assertIn("written on the restored laptop", self.note_texts(self.tablet))
        self.assertIn(new_dev, {d["id"] for d in
                                self.ok_json("device", "list", home=self.tablet)["devices"]})
        st = self.ok_json("status", home=new)
        self.assertIs(st["restored"]["caught_up"], True, st)
        # the restore revoked the wiped laptop (no --keep-old), and the
        # tablet heard of it
        for h in (new, self.tablet):
            states = {d["id"]: d["state"] for d in
                      self.ok_json("device", "list", home=h)["devices"]}
            self.assertEqual(states[laptop_dev], "revoked", h)
            self.assertEqual(states[new_dev], "current", h)
        for h in (new, self.tablet, self.grace, self.phone):
            self.not_forked(h)

        # the restored laptop is the identity device: it pairs a new phone,
        # which learns both revocations with the pairing
        self.laptop = new
        phone2, _ = self.join("phone2")
        states = {d["name"]: d["state"] for d in
                  self.ok_json("device", "list", home=phone2)["devices"]}
        self.assertEqual(states, {"laptop": "revoked", "phone": "revoked", "laptop2": "current",
                                  "tablet": "current", "phone2": "current"})
        self.assertIn("written on the restored laptop", self.note_texts(phone2))
        self.assertIn(ANSWER, self.ok("thread", "grace", home=phone2).out)

        # 5. a copied home is detected
        copy = self.path("tablet-copy")
        self.stop_server(tsrv)
        shutil.copytree(self.tablet, copy, symlinks=True)
        self.fill(self.tablet, "grace", 1)
        self.fill(copy, "grace", 1)
        self.peer_sync(self.tablet)
        p = self.peer_sync(copy, ok=False)
        self.assertEqual(p["code"], "MM_EFORK", p)
        d = self.ok_json("status", home=copy)["device"]
        self.assertIs(d["forked"], True, d)
        # Grace forwards the proof: the tablet learns it too
        p = self.peer_sync(self.tablet, ok=False)
        self.assertEqual(p["code"], "MM_EFORK", p)
        self.assertIs(self.ok_json("status", home=self.tablet)["device"]["forked"], True)
        self.not_forked(self.grace)
        self.not_forked(new)
        r = self.mm("--json", "note", "add", "one more", home=copy)
        self.assertEqual(r.rc, 1, r)          # stderr: the fork warning, then the error
        self.assertEqual(self.parse_json(r)["error"]["code"], "MM_EFORKED", r)
        self.assertTrue(r.err.startswith("mm: this device's key was also used on another "
                                         "home (a copied home)"), r)

        # every store verifies
        self.stop_server(gsrv)
        for h in (new, self.phone, self.tablet, copy, phone2, self.grace):
            self.assert_verify_ok(h)


if __name__ == "__main__":
    mmtest.main()
