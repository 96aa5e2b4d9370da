#!/usr/bin/env python3
"""Devices of one person (PROTOCOL.md 3.2-3.4, 7, 8.2): real mm processes.

Grace serves and mentors Ada; Ada has a second device, her phone, made by
tests/tools/mm_mkdevice (a copy of her peers and scopes with a device key
and certificate of its own, as pairing would leave it).  A peer's new
device is admitted on first contact, whether its certificate was relayed
(DEVICES) or not; mm sync tries the next device of a person when the first
is silent; a revoked device is refused by a peer once the peer heard of the
revocation, and what it wrote before stays."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402


class DevicesBase(mmtest.SyncTestCase):

    def setUp(self):
        super().setUp()
        self.grace, _ = self.new_home("Grace", sub="grace")
        self.ada, _ = self.new_home("Ada", sub="ada")
        self.gsrv = self.serve(self.grace)
        self.scope = self.pair(self.grace, self.ada, "grace")
        self.phone = self.path("phone")
        r = self.tool("mm_mkdevice", self.ada, self.phone, "phone")
        self.assertEqual(r.rc, 0, r)
        self.phone_id = r.out.strip()
        self.assertTrue(self.phone_id.startswith("mmd"), r)

    def authors(self, home):
        """How many entries of the relationship scope each device wrote."""
        n = {}
        for e in self.scope_entries(home, self.scope):
            n[e["author"]] = n.get(e["author"], 0) + 1
        return n

    def devices(self, home):
        j = self.ok_json("device", "list", home=home)
        return {d["name"]: d for d in j["devices"]}

    def sync_result(self, home, *args, ok=True):
        r = self.mm("--json", "sync", "--timeout", "3", *args, home=home)
        j = self.parse_json(r)
        [p] = j["peers"]
        self.assertIs(p["ok"], ok, "%r\n%r" % (j, r))
        self.assertEqual(r.rc, 0 if ok else 1, r)
        return p


class TestDeviceList(DevicesBase):

    def test_list_and_identity_rules(self):
        d = self.devices(self.ada)
        self.assertEqual(set(d), {"laptop", "phone"})
        self.assertTrue(d["laptop"]["identity_device"] and d["laptop"]["this"])
        self.assertFalse(d["phone"]["identity_device"] or d["phone"]["this"])
        self.assertEqual(d["phone"]["id"], self.phone_id)
        self.assertEqual({x["state"] for x in d.values()}, {"current"})
        # only the identity device revokes; it names itself in the refusal
        r = self.fails(1, "device", "revoke", "laptop", home=self.phone)
        self.assertIn("identity device 'laptop'", r.err)
        j = self.parse_json(self.mm("--json", "device", "revoke", "laptop", home=self.phone))
        self.assertEqual(j["error"]["code"], "MM_ENOIDENTITY", j)
        # and never itself
        r = self.fails(1, "device", "revoke", "laptop", home=self.ada)
        self.assertIn("mm device reset", r.err)
        self.ok("device", "rename", "laptop", "desk", home=self.ada)
        self.assertIn("desk", self.devices(self.ada))
        # another device too, without it: the identity restates what it says of it
        self.ok("device", "rename", "phone", "pocket", home=self.ada)
        d = self.devices(self.ada)
        self.assertEqual(set(d), {"desk", "pocket"})
        self.assertEqual(d["pocket"]["id"], self.phone_id)
        # only on the identity device
        j = self.parse_json(self.mm("--json", "device", "rename", "laptop", "x", home=self.phone))
        self.assertEqual(j["error"]["code"], "MM_ENOIDENTITY", j)


class TestNewDevice(DevicesBase):

    def test_unrelayed_new_device_admitted_on_first_contact(self):
        # Grace has never heard of the phone: its key is unknown to her mm
        # serve, and its HELLO certificate proves it for her peer Ada
        self.fill(self.phone, "grace", 2)
        p = self.sync_result(self.phone, "grace")
        self.assertEqual(p["sent"], 2, p)
        self.assertEqual(self.ident(self.phone)["device"], self.phone_id)
        self.assertIsNotNone(self.gsrv.wait_line(r"(?i)synced with ada"), self.gsrv)
        self.assertEqual(self.authors(self.grace)[self.phone_id], 2)
        self.assert_verify_ok(self.grace)

    def test_relayed_new_device_admitted(self):
        # Ada's laptop tells Grace of the phone (DEVICES), then the phone calls
        self.sync_result(self.ada, "grace")
        self.fill(self.phone, "grace", 1)
        p = self.sync_result(self.phone, "grace")
        self.assertEqual(p["sent"], 1, p)

    def test_stranger_with_unknown_key_refused(self):
        # Carl was Grace's peer; his new device calls after she removed him:
        # its key is unknown to her mm serve, and its certificate is no
        # peer's any more
        carl, _ = self.new_home("Carl", sub="carl")
        self.accept(carl, self.invite(self.grace)["code"], "grace")
        carl2 = self.path("carl2")
        r = self.tool("mm_mkdevice", carl, carl2, "c2")
        self.assertEqual(r.rc, 0, r)
        self.ok("peer", "rm", "carl", home=self.grace)
        mark = self.gsrv.mark()
        p = self.sync_result(carl2, "grace", ok=False)
        self.assertEqual(p["code"], "MM_EREFUSED", p)
        self.assertIsNotNone(self.gsrv.wait_line(r"refused", start=mark), self.gsrv)
        self.assert_alive(self.gsrv)


class TestFallback(DevicesBase):

    def test_second_device_when_first_silent(self):
        asrv = self.serve(self.ada)
        psrv = self.serve(self.phone)
        # Grace learns where both of Ada's devices listen: each tells her
        self.sync_result(self.ada, "grace")
        self.sync_result(self.phone, "grace")
        self.stop_server(asrv, expect_clean=True)
        self.fill(self.phone, "grace", 3)
        p = self.sync_result(self.grace, "ada")
        self.assertEqual(p["received"], 3, p)
        self.assertIsNotNone(psrv.wait_line(r"synced with grace"), psrv)
        # Grace's record of Ada holds no address; what her devices announced
        # is enough for a plain mm sync too
        j = self.sync(self.grace, "--timeout", "3")
        self.assertEqual([x["name"].lower() for x in j["peers"]], ["ada"], j)


class TestRevoke(DevicesBase):

    def test_revoked_device_refused_by_peer(self):
        self.fill(self.phone, "grace", 2)
        self.sync_result(self.phone, "grace")
        self.sync_result(self.ada, "grace")            # the laptop holds the phone's 2
        self.ok("device", "revoke", "phone", home=self.ada)
        d = self.devices(self.ada)
        self.assertEqual(d["phone"]["state"], "revoked")
        # Grace has not heard yet: the phone still gets in, and its third
        # entry (past the revocation's last, 2) reaches her
        self.fill(self.phone, "grace", 1)
        self.sync_result(self.phone, "grace")
        self.assertEqual(self.authors(self.grace)[self.phone_id], 3)
        # the laptop tells Grace; she keeps the phone's 2, and the third,
        # which she may hold but never hands on, stops nothing
        self.sync_result(self.ada, "grace")
        self.assertEqual(self.authors(self.ada)[self.phone_id], 2)
        self.sync_result(self.ada, "grace")
        # from now on Grace's mm serve refuses the phone
        p = self.sync_result(self.phone, "grace", ok=False)
        self.assertEqual(p["code"], "MM_EREFUSED", p)
        self.assert_verify_ok(self.ada)



class TestRevokeAtIdentityDevice(mmtest.SyncTestCase):

    def test_identity_device_refuses_revoked(self):
        ada, _ = self.new_home("Ada", sub="ada")
        phone = self.path("phone")
        r = self.tool("mm_mkdevice", ada, phone, "phone", "laptop")
        self.assertEqual(r.rc, 0, r)
        asrv = self.serve(ada)
        # the laptop admits its person's phone (the garbage is answered) ...
        r = self.tool("mm_rogue", "--home", phone, "--peer", "laptop", "--endpoint",
                      asrv.endpoint, "--send", "garbage", "--timeout", 3000)
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(r.out.startswith("MM_E"), r)
        # ... and once revoked, refuses its key in the handshake
        self.ok("device", "revoke", "phone", home=ada)
        mark = asrv.mark()
        r = self.tool("mm_rogue", "--home", phone, "--peer", "laptop", "--endpoint",
                      asrv.endpoint, "--send", "garbage", "--timeout", 3000)
        self.assertEqual((r.rc, r.out), (1, "refused\n"), r)
        self.assertIsNotNone(asrv.wait_line(r"revoked device", start=mark), asrv)
        self.assert_alive(asrv)


if __name__ == "__main__":
    mmtest.main()
