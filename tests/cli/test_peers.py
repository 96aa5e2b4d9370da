"""Invites and peers: mm serve, invite, accept, peer list/show/rename/
set-addr/block/unblock/rm, and who mm serve lets in.

Grace serves on 127.0.0.1 and invites; Ada accepts.  See
/work/notes/sync-cli-spec.md for the contract these tests hold mm to.
"""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import HEX64, ISO_UTC, SERVE_LINE  # noqa: E402

PEER_KEYS = ("name", "their_name", "identity", "role", "device", "endpoints", "added",
             "added_ms", "last_sync", "last_sync_ms", "state", "scope")


class PeersBase(mmtest.SyncTestCase):

    def setUp(self):
        super().setUp()
        self.grace, _ = self.new_home("Grace", sub="grace")
        self.ada, _ = self.new_home("Ada", sub="ada")
        self.gid = self.ident(self.grace)
        self.aid = self.ident(self.ada)
        self.srv = self.serve(self.grace)

    def check_peer_obj(self, p):
        for k in PEER_KEYS:
            self.assertIn(k, p, "peer object lacks %r: %r" % (k, p))
        self.assertRegex(p["identity"], r"^mmi[a-z2-7]{56}$")
        self.assertRegex(p["device"], r"^mmd[a-z2-7]{56}$")
        self.assertIn(p["role"], ("mentor", "mentee"))
        self.assertIn(p["state"], ("active", "blocked"))
        self.assertRegex(p["scope"], HEX64)
        self.assertRegex(p["added"], ISO_UTC)
        self.assertIsInstance(p["added_ms"], int)
        self.assertIsInstance(p["last_sync_ms"], int)
        self.assertIsInstance(p["endpoints"], list)
        if p["last_sync_ms"] == 0:
            self.assertIsNone(p["last_sync"], p)
        else:
            self.assertRegex(p["last_sync"], ISO_UTC)

    def grace_count(self):
        return len(self.log(self.grace))

    def ada_sync_fails(self, *args):
        """Ada's mm sync grace must fail (exit 1, one line)."""
        r = self.mm("sync", "grace", "--timeout", "10", *args, home=self.ada)
        self.assertEqual(r.rc, 1, "sync should have failed\n%r" % r)
        self.assertRegex(r.err, r"^mm sync: grace: ", r)
        return r


class TestInviteAccept(PeersBase):

    def test_invite_accept_roles(self):
        j = self.invite(self.grace, "--note", "welcome aboard")
        self.assertEqual(j["endpoints"], [self.srv.endpoint], j)
        self.assertEqual(j["role"], "mentor", j)
        self.assertRegex(j["expires"], ISO_UTC)
        # default 24 h
        self.assertAlmostEqual(j["expires_ms"] / 1000.0, time.time() + 86400, delta=300)
        code = j["code"]
        d = mmtest.invite_decode(code)
        self.assertEqual(d["identity"], mmtest.idcode_decode(self.gid["identity"], "mmi"))
        self.assertEqual(d["device"], mmtest.idcode_decode(self.gid["device"], "mmd"))
        self.assertEqual(d["endpoints"], [self.srv.endpoint])
        self.assertEqual(d["expires"], j["expires_ms"])
        # our Python encoder writes exactly what mm writes (used to forge codes)
        self.assertEqual(mmtest.invite_encode(d["identity"], d["device"], d["secret"],
                                              d["expires"], d["endpoints"]), code)

        mark = self.srv.mark()
        r = self.accept(self.ada, code, "grace")
        self.assertIn("accepted: 'grace' (Grace) is now your mentor", r.out, r)
        self.assertRegex(r.out, r"grace: sent \d+, received \d+ entries", r)
        self.assertIsNotNone(self.srv.wait_line(r"invite accepted", start=mark), self.srv)

        [gp] = self.peers(self.ada)
        self.check_peer_obj(gp)
        self.assertEqual((gp["name"], gp["their_name"], gp["role"], gp["state"]),
                         ("grace", "Grace", "mentor", "active"))
        self.assertEqual((gp["identity"], gp["device"]), (self.gid["identity"], self.gid["device"]))
        self.assertEqual(gp["endpoints"], [self.srv.endpoint])
        self.assertGreater(gp["last_sync_ms"], 0, "accept syncs once: %r" % gp)

        [ap] = self.peers(self.grace)
        self.check_peer_obj(ap)
        self.assertEqual((ap["their_name"], ap["role"], ap["state"]), ("Ada", "mentee", "active"))
        self.assertEqual(ap["name"].lower(), "ada", ap)
        self.assertEqual((ap["identity"], ap["device"]), (self.aid["identity"], self.aid["device"]))
        self.assertEqual(ap["scope"], gp["scope"], "both sides must share one scope")

        # the relationship scope is in both logs, identical
        ga = sorted(e["id"] for e in self.scope_entries(self.grace, ap["scope"]))
        aa = sorted(e["id"] for e in self.scope_entries(self.ada, gp["scope"]))
        self.assertTrue(ga, "the inviter's first entry is in the relationship scope")
        self.assertEqual(ga, aa)
        self.assert_verify_ok(self.grace)
        self.assert_verify_ok(self.ada)

        # human list
        r = self.ok("peer", "list", home=self.ada)
        lines = r.out.splitlines()
        self.assertTrue(lines and re.match(r"^NAME\s+ROLE\s+IDENTITY\s+LAST-SYNC\s+STATE\s+ENDPOINT",
                                           lines[0]), r)
        self.assertTrue(any(l.startswith("grace") and "mentor" in l and
                            self.gid["identity"][:15] in l and "active" in l
                            and self.srv.endpoint in l for l in lines[1:]), r)

    def test_invite_role_mentee(self):
        j = self.invite(self.grace, "--role", "mentee", "--expires", "2h")
        self.assertEqual(j["role"], "mentee")
        self.assertAlmostEqual(j["expires_ms"] / 1000.0, time.time() + 7200, delta=300)
        a = self.ok_json("accept", j["code"], "--name", "grace", home=self.ada)
        self.check_peer_obj(a["peer"])
        self.assertEqual((a["peer"]["name"], a["peer"]["role"]), ("grace", "mentee"), a)
        self.assertEqual((a["sync"]["name"], a["sync"]["ok"], a["sync"]["received"]),
                         ("grace", True, 1), a)
        self.assertEqual(a["peer"], self.peer(self.ada, "grace"))
        self.assertEqual(self.peer(self.ada, "grace")["role"], "mentee")
        self.assertEqual(self.peer(self.grace, "ada")["role"], "mentor")

    def test_invite_human_prints_code_alone(self):
        r = self.ok("invite", home=self.grace)
        self.assertRegex(r.out, r"^mmv1[a-z2-7]+\n$", r)

    def test_second_accept_refused(self):
        code = self.invite(self.grace)["code"]
        self.accept(self.ada, code, "grace")
        lin, _ = self.new_home("Lin", sub="lin")
        mark = self.srv.mark()
        r = self.fails(1, "accept", code, "--name", "grace", home=lin)
        self.assertIn("already used", r.err, r)
        self.assertIsNotNone(self.srv.wait_line(r"refused", start=mark), self.srv)
        self.assertEqual(self.peers(lin), [])
        self.assertEqual(len(self.peers(self.grace)), 1)
        # Ada, already Grace's peer, cannot accept it again either
        self.fails(1, "accept", code, "--name", "grace2", home=self.ada)
        self.assertEqual(len(self.peers(self.ada)), 1)
        self.assert_alive(self.srv)

    def test_expired_code_refused(self):
        code = self.invite(self.grace, "--expires", "1s")["code"]
        time.sleep(2)
        r = self.fails(1, "accept", code, "--name", "grace", home=self.ada)
        self.assertIn("expired", r.err, r)
        self.assertEqual(self.peers(self.ada), [])
        self.assertEqual(self.peers(self.grace), [])

    def test_expired_code_refused_by_server(self):
        # The same secret with a later expiry in the code: the invitee's own
        # check passes, so it is the inviter's record that must refuse it.
        real = mmtest.invite_decode(self.invite(self.grace, "--expires", "1s")["code"])
        time.sleep(2)
        late = mmtest.invite_encode(real["identity"], real["device"], real["secret"],
                                    int(time.time() * 1000) + 3600 * 1000, real["endpoints"])
        mark = self.srv.mark()
        r = self.fails(1, "accept", late, "--name", "grace", home=self.ada)
        self.assertIn("expired", r.err, r)
        self.assertIsNotNone(self.srv.wait_line(r"refused", start=mark), self.srv)
        self.assertEqual(self.peers(self.ada), [])
        self.assertEqual(self.peers(self.grace), [])

    def test_altered_code_is_damaged(self):
        code = self.invite(self.grace)["code"]
        i = len(code) // 2
        alt = code[:i] + ("a" if code[i] != "a" else "b") + code[i + 1:]
        r = self.fails(1, "accept", alt, "--name", "grace", home=self.ada)
        self.assertIn("damaged", r.err, r)
        # the original still works afterwards
        self.accept(self.ada, code, "grace")

    def test_not_an_invite_code(self):
        for bad in ("hello", "mmv1", "mmv1!!!!", self.gid["identity"]):
            r = self.fails(1, "accept", bad, "--name", "grace", home=self.ada)
            self.assertIn("not an invite code", r.err, r)

    def test_forged_code_refused(self):
        real = mmtest.invite_decode(self.invite(self.grace)["code"])
        forged = mmtest.invite_encode(real["identity"], real["device"], os.urandom(32),
                                      int(time.time() * 1000) + 3600 * 1000,
                                      [self.srv.endpoint])
        mark = self.srv.mark()
        r = self.fails(1, "accept", forged, "--name", "grace", home=self.ada)
        self.assertIn("does not know this invite", r.err, r)
        self.assertIsNotNone(self.srv.wait_line(r"refused", start=mark),
                             "mm serve should log the refusal\n%r" % self.srv)
        self.assertEqual(self.peers(self.grace), [])
        self.assertEqual(self.peers(self.ada), [])
        self.assert_alive(self.srv)

    def test_invite_needs_serve_or_endpoint(self):
        lin, _ = self.new_home("Lin", sub="lin")
        r = self.fails(1, "invite", home=lin)
        self.assertIn("no mm serve is running for this home", r.err, r)
        self.assertIn("--endpoint", r.err, r)
        j = self.invite(lin, "--endpoint", "tcp://192.0.2.7:7460")
        self.assertEqual(j["endpoints"], ["tcp://192.0.2.7:7460"])
        self.assertEqual(mmtest.invite_decode(j["code"])["endpoints"], ["tcp://192.0.2.7:7460"])


class TestServe(PeersBase):

    def test_serve_lines_and_clean_stop(self):
        self.assertTrue(self.srv.wait_line(r" listening on tcp://127\.0\.0\.1:%d$"
                                           % self.srv.port), self.srv)
        self.assertTrue(self.srv.wait_line(r" reachable at %s$" % re.escape(self.srv.endpoint)),
                        self.srv)
        # a second mm serve for the same home refuses to start
        r = self.mm("serve", "--listen", "tcp://127.0.0.1:%d" % mmtest.free_port(),
                    home=self.grace, timeout=mmtest.NET_TIMEOUT)
        self.assertEqual(r.rc, 1, r)
        self.assert_one_line_error(r)
        self.assert_alive(self.srv)
        # another home cannot bind the same port
        r = self.mm("serve", "--listen", self.srv.endpoint, home=self.ada,
                    timeout=mmtest.NET_TIMEOUT)
        self.assertEqual(r.rc, 1, r)
        self.assert_one_line_error(r)
        self.assertEqual(self.stop_server(self.srv, expect_clean=True), 0)
        for line in self.srv.lines:
            self.assertRegex(line, SERVE_LINE, self.srv)
        # gone: invite no longer finds it
        r = self.fails(1, "invite", home=self.grace)
        self.assertIn("no mm serve is running", r.err)

    def test_sigint_stops_cleanly(self):
        self.assertEqual(self.srv.stop(signal.SIGINT), 0, self.srv)


class TestPeerCommands(PeersBase):

    def setUp(self):
        super().setUp()
        self.scope = self.pair(self.grace, self.ada, "grace")

    def test_no_peers_yet(self):
        lin, _ = self.new_home("Lin", sub="lin")
        r = self.ok("peer", "list", home=lin)
        self.assertIn("no peers yet", r.out, r)
        self.assertEqual(self.peers(lin), [])
        r = self.ok("sync", home=lin)
        self.assertIn("nothing to sync", r.out, r)

    def test_show(self):
        p = self.peer(self.ada, "grace")
        for what in ("grace", "GRACE", p["identity"][:10], p["identity"]):
            j = self.ok_json("peer", "show", what, home=self.ada)
            self.check_peer_obj(j)
            self.assertEqual(j, p)
        r = self.ok("peer", "show", "grace", home=self.ada)
        for v in (p["identity"], p["device"], p["scope"], self.srv.endpoint, "mentor"):
            self.assertIn(v, r.out, r)

    def test_unknown_peer(self):
        for args in (("show", "nobody"), ("rename", "nobody", "x"), ("block", "nobody"),
                     ("unblock", "nobody"), ("rm", "nobody"),
                     ("set-addr", "nobody", "tcp://127.0.0.1:1")):
            r = self.fails(1, "peer", *args, home=self.ada)
            self.assertIn("no peer 'nobody'; see 'mm peer list'", r.err, r)
        r = self.mm("sync", "nobody", home=self.ada)
        self.assertEqual(r.rc, 1, r)

    def test_rename(self):
        r = self.ok("peer", "rename", "Grace", "mentor-g", home=self.ada)
        self.assertEqual(r.out.count("\n"), 1, r)
        self.assertEqual([p["name"] for p in self.peers(self.ada)], ["mentor-g"])
        self.fails(1, "peer", "show", "grace", home=self.ada)
        self.assertEqual(self.peer(self.ada, "MENTOR-G")["their_name"], "Grace")
        # sync still works under the new name
        j = self.sync(self.ada, "mentor-g")
        self.assertEqual([(p["name"], p["ok"]) for p in j["peers"]], [("mentor-g", True)])
        # invalid names are refused
        for bad in ("", "mmi-looks-like-a-code", "x" * 65):
            r = self.mm("peer", "rename", "mentor-g", bad, home=self.ada)
            self.assertIn(r.rc, (1, 2), r)
        self.assertEqual([p["name"] for p in self.peers(self.ada)], ["mentor-g"])

    def test_rename_to_taken_name(self):
        lin, _ = self.new_home("Lin", sub="lin")
        lsrv = self.serve(lin)
        self.pair(lin, self.ada, "lin")
        self.assert_alive(lsrv)
        self.fails(1, "peer", "rename", "lin", "grace", home=self.ada)
        self.assertEqual(sorted(p["name"] for p in self.peers(self.ada)), ["grace", "lin"])

    def test_set_addr(self):
        eps = ["tcp://192.0.2.1:7460", self.srv.endpoint]
        r = self.ok("peer", "set-addr", "grace", *eps, home=self.ada)
        self.assertEqual(r.out.count("\n"), 1, r)
        self.assertEqual(self.peer(self.ada, "grace")["endpoints"], eps)
        # 1..4 endpoints, each valid; a refused change leaves the list alone
        for bad in ([], ["bogus"], ["tcp://127.0.0.1"], ["tcp://127.0.0.1:%d" % i
                                                        for i in range(1, 6)]):
            r = self.mm("peer", "set-addr", "grace", *bad, home=self.ada)
            self.assertIn(r.rc, (1, 2), r)
            self.assert_one_line_error(r)
        self.assertEqual(self.peer(self.ada, "grace")["endpoints"], eps)
        # an unreachable first endpoint is skipped for the next one
        j = self.sync(self.ada, "grace", "--timeout", "3")
        self.assertTrue(j["peers"][0]["ok"], j)
        self.ok("peer", "set-addr", "grace", self.srv.endpoint, home=self.ada)
        self.assertEqual(self.peer(self.ada, "grace")["endpoints"], [self.srv.endpoint])

    def test_block_unblock(self):
        r = self.ok("peer", "block", "grace", home=self.ada)
        self.assertEqual(r.out.count("\n"), 1, r)
        self.assertEqual(self.peer(self.ada, "grace")["state"], "blocked")
        r = self.fails(1, "sync", "grace", home=self.ada)
        self.assertIn("blocked", r.err, r)
        r = self.ok("peer", "unblock", "grace", home=self.ada)
        self.assertEqual(self.peer(self.ada, "grace")["state"], "active")
        self.sync(self.ada, "grace")

    def test_blocked_peer_refused_before_data(self):
        self.fill(self.ada, "grace", 3)
        self.ok("peer", "block", "ada", home=self.grace)
        self.assertEqual(self.peer(self.grace, "ada")["state"], "blocked")
        before = self.grace_count()
        mark = self.srv.mark()
        r = self.ada_sync_fails()
        self.assertIn("refused", r.err, r)
        self.assertIsNotNone(self.srv.wait_line(r"refused", start=mark), self.srv)
        self.assertEqual(self.grace_count(), before, "a blocked peer's entries got in")
        self.assert_alive(self.srv)
        # unblocked, the same sync goes through
        self.ok("peer", "unblock", "ada", home=self.grace)
        j = self.sync(self.ada, "grace")
        self.assertEqual(j["peers"][0]["sent"], 3, j)
        # Ada's 3, and the unblock's `peer` entry in Grace's self scope (for her own devices)
        self.assertEqual(self.grace_count(), before + 3 + 1)

    def test_rm_keeps_log_and_refuses(self):
        self.fill(self.ada, "grace", 4)
        self.sync(self.ada, "grace")
        shared = sorted(e["id"] for e in self.scope_entries(self.grace, self.scope))
        self.assertEqual(len(shared), 5, "the invite entry and Ada's 4")
        before = self.log(self.grace)
        r = self.ok("peer", "rm", "ada", home=self.grace)
        self.assertEqual(r.out.count("\n"), 1, r)
        self.assertRegex(r.out, r"(?i)\bkeep|\bkept|remain|stay", "rm should say the "
                         "entries stay\n%r" % r)
        self.assertEqual(self.peers(self.grace), [])
        self.fails(1, "peer", "show", "ada", home=self.grace)
        # the rm itself is told to Grace's own devices: one `peer-rm` entry in her self scope
        after_rm = self.log(self.grace)
        self.assertEqual(len(after_rm), len(before) + 1)
        self.assertTrue(all(e in after_rm for e in before))
        before = after_rm
        # Ada, no longer a peer, is refused; Grace's log keeps everything
        self.fill(self.ada, "grace", 2)
        mark = self.srv.mark()
        r = self.ada_sync_fails()
        self.assertIn("refused", r.err, r)
        self.assertIsNotNone(self.srv.wait_line(r"refused", start=mark), self.srv)
        self.assertEqual(self.log(self.grace), before)
        self.assertEqual(sorted(e["id"] for e in self.scope_entries(self.grace, self.scope)),
                         shared)
        self.assert_verify_ok(self.grace)
        self.assert_alive(self.srv)


class TestPurge(PeersBase):
    """mm peer rm --purge: the relationship's scope, feeds and the peer's
    certificates no entry needs go, in one transaction, here and on the
    person's other devices; other relationships are untouched."""

    def setUp(self):
        super().setUp()
        self.scope = self.pair(self.grace, self.ada, "grace")
        self.lin, _ = self.new_home("Lin", sub="lin")
        self.lid = self.ident(self.lin)
        self.lscope = self.pair(self.grace, self.lin, "grace")
        # Grace's second device, paired (it shares her self scope)
        pair = mmtest.Server([mmtest.MM_BIN, "--home", self.grace, "device", "pair", "--yes",
                              "--listen", "tcp://127.0.0.1:*"], self.env())
        self.addCleanup(self.stop_server, pair)
        code = pair.wait_line(r"^mmp1[a-z2-7]+$")
        self.assertIsNotNone(code, pair)
        self.tablet = self.path("tablet")
        # once it returns, the tablet holds a full copy (its first sync
        # completed); the listener's own exit is test_pair.py's business
        self.ok("init", "--join", code, "--device", "tablet", home=self.tablet)
        self.fill(self.ada, "grace", 4)
        self.sync(self.ada, "grace")
        self.fill(self.lin, "grace", 2)
        self.sync(self.lin, "grace")
        self.own_sync()
        self.assertEqual(len(self.scope_entries(self.tablet, self.scope)), 5)

    def own_sync(self):
        r = self.mm("--json", "sync", "--timeout", "10", "--device", "laptop", "--endpoint",
                    self.srv.endpoint, home=self.tablet)
        self.assertEqual(r.rc, 0, r)
        [p] = self.parse_json(r)["peers"]
        self.assertIs(p["ok"], True, r)
        return p

    def inspect(self, home):
        r = self.tool("mm_inspect", home)
        self.assertEqual(r.rc, 0, r)
        certs, scopes = {}, {}
        for line in r.out.splitlines():
            w = line.split()
            if w[0] == "certs":
                certs[w[1]] = int(w[2])
            elif w[0] == "scope":
                scopes[w[1]] = int(w[3])
        return certs, scopes

    def assert_purged(self, home, lin_entries=3):
        certs, scopes = self.inspect(home)
        self.assertNotIn(self.aid["identity"], certs, "Ada's certificates stayed")
        self.assertNotIn(self.scope, scopes, "the relationship's scope or feeds stayed")
        self.assertEqual(certs.get(self.lid["identity"]), 1)
        self.assertEqual(scopes.get(self.lscope), lin_entries)  # the invite entry, Lin's
        self.assertEqual(self.scope_entries(home, self.scope), [])
        self.assertNotIn("ada", [p["name"].lower() for p in self.peers(home)])
        self.assert_verify_ok(home)

    def test_purge_needs_confirmation(self):
        before = self.inspect(self.grace)
        r = self.mm("--json", "peer", "rm", "--purge", "ada", home=self.grace)  # no terminal
        self.assertEqual(r.rc, 1, r)
        self.assert_one_line_error(r)
        self.assertEqual(self.parse_json(r)["error"]["code"], "MM_EINVAL", r)
        self.assertIn("--yes", r.err, r)
        self.assertEqual(self.inspect(self.grace), before)
        self.assertEqual(len(self.peers(self.grace)), 2)
        self.fails(2, "peer", "rm", "--yes", "ada", home=self.grace)     # --yes alone

    def test_purge_here_then_on_own_device(self):
        _, scopes = self.inspect(self.grace)
        own = len(self.log(self.grace)) - scopes[self.scope] - scopes[self.lscope]
        j = self.ok_json("peer", "rm", "--purge", "--yes", "ada", home=self.grace)
        self.assertEqual(j["peer"]["identity"], self.aid["identity"], j)
        self.assertEqual(j["purged"], {"entries": 5, "devices": 1}, j)
        self.assert_purged(self.grace)
        # one `peer-rm` entry more in Grace's self scope tells the tablet
        self.assertEqual(len(self.log(self.grace)), own + 1 + 3)
        # the tablet still holds it all, offers it, and learns of the purge in
        # the same session, which completes: nothing comes back to Grace
        self.assertEqual(len(self.scope_entries(self.tablet, self.scope)), 5)
        self.own_sync()
        self.assert_purged(self.tablet)
        self.assert_purged(self.grace)
        p = self.own_sync()
        self.assertEqual((p["sent"], p["received"]), (0, 0), p)
        # Ada is refused now; Lin syncs as before
        self.fill(self.ada, "grace", 1)
        r = self.ada_sync_fails()
        self.assertIn("not a peer", r.err, r)     # her certificates went: a stranger's key
        self.fill(self.lin, "grace", 1)
        j = self.sync(self.lin, "grace")
        self.assertEqual(j["peers"][0]["sent"], 1, j)
        self.assert_purged(self.grace, lin_entries=4)
        # a new invite makes Ada a peer again, in a new relationship
        self.ok("peer", "rm", "grace", home=self.ada)
        scope2 = self.pair(self.grace, self.ada, "grace2")
        self.assertNotEqual(scope2, self.scope)
        certs, _ = self.inspect(self.grace)
        self.assertEqual(certs.get(self.aid["identity"]), 1)

    def test_plain_rm_keeps_what_purge_deletes(self):
        before_certs, before_scopes = self.inspect(self.grace)
        r = self.ok("peer", "rm", "ada", home=self.grace)
        self.assertIn("--purge", r.out, r)
        certs, scopes = self.inspect(self.grace)
        self.assertEqual(certs, before_certs)
        self.assertEqual(scopes[self.scope], before_scopes[self.scope])
        # purge after rm: the peer record is gone, so there is no PEER to name
        self.fails(1, "peer", "rm", "--purge", "--yes", "ada", home=self.grace)


if __name__ == "__main__":
    mmtest.main()
