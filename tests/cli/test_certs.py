"""Certificates only when needed, and capped (PROTOCOL.md 3.1, 8.2, 8.6).

A real `mm serve` (Grace) against tests/tools/mm_rogue holding Ada's keys,
identity key included: Ada can certify as many "devices" as she likes.  The
victim stores a certificate only with a run of entries its device wrote
(CERT), or when it arrives in DEVICES about a person the victim talks to;
at most 64 per person.  What the victim stores is counted with
tests/tools/mm_inspect; no timing is asserted.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402

CAP = 64                            # MM_CERT_PER_IDENTITY
HELD = 64                           # MM_SESSION_CERTS_HELD
ROGUE_TIMEOUT_MS = 20000


class CertBase(mmtest.SyncTestCase):
    def setUp(self):
        super().setUp()
        self.grace, self.gid = self.new_home("Grace", sub="grace")
        self.ada, self.aid = self.new_home("Ada", sub="ada")
        self.lin, _ = self.new_home("Lin", sub="lin")
        self.srv = self.serve(self.grace)
        self.pair(self.grace, self.ada, "grace")
        self.pair(self.grace, self.lin, "grace")
        self.sync(self.ada, "grace")

    def inspect(self, home):
        r = self.tool("mm_inspect", home)
        self.assertEqual(r.rc, 0, r)
        out = {"certs": {}, "scopes": {}}
        for line in r.out.splitlines():
            w = line.split()
            if w[0] == "certs":
                out["certs"][w[1]] = int(w[2])
            elif w[0] == "scope":
                out["scopes"][w[1]] = (int(w[2]), int(w[3]))
            else:
                out[w[0]] = int(w[1])
        return out

    def certs_of(self, home, ident):
        return self.inspect(home)["certs"].get(ident["identity"], 0)

    def rogue(self, kind, count):
        r = self.tool("mm_rogue", "--home", self.ada, "--peer", "grace", "--send", kind,
                      "--count", count, "--timeout", ROGUE_TIMEOUT_MS, timeout=120)
        self.assertEqual(r.rc, 0, "mm_rogue could not talk to mm serve\n%r" % r)
        return r.out.splitlines()

    def one_result(self, j, name):
        [p] = [p for p in j["peers"] if p["name"].lower() == name.lower()]
        self.assertTrue(p["ok"], p)
        return p

    def lin_still_syncs(self):
        self.assert_alive(self.srv)
        self.fill(self.lin, "grace", 1)
        p = self.one_result(self.sync(self.lin, "grace"), "grace")
        self.assertEqual(p["sent"], 1, p)
        p = self.one_result(self.sync(self.lin, "grace"), "grace")
        self.assertEqual((p["sent"], p["received"]), (0, 0), p)


class TestCertFlood(CertBase):
    def test_certs_without_runs_are_not_stored(self):
        """CERT frames that no run follows are held for the session and
        dropped with it; past 64 held the session ends MM_ETOOMANY."""
        before = self.inspect(self.grace)
        self.assertEqual(before["certs"][self.aid["identity"]], 1)
        out = self.rogue("cert-flood", HELD)
        self.assertEqual(out, ["done"], out)
        out = self.rogue("cert-flood", 1000)
        self.assertEqual(out[-1].split()[0], "MM_ETOOMANY", out)
        self.assertEqual(self.inspect(self.grace), before, "a CERT with no run was stored")
        self.assert_verify_ok(self.grace)
        self.lin_still_syncs()

    def test_cert_runs_stop_at_the_cap(self):
        """Each CERT followed by a valid entry of its device: stored with the
        run, up to 64 certificates of Ada (her real device is one), then
        MM_ETOOMANY ends the session; a second flood stores nothing."""
        out = self.rogue("cert-runs", 200)
        self.assertEqual(out[0], "stored %d" % (CAP - 1), out)
        self.assertEqual(out[1].split()[0], "MM_ETOOMANY", out)
        self.assertEqual(self.certs_of(self.grace, self.aid), CAP)
        out = self.rogue("cert-runs", 10)
        self.assertEqual(out[0], "stored 0", out)
        self.assertEqual(out[1].split()[0], "MM_ETOOMANY", out)
        self.assertEqual(self.certs_of(self.grace, self.aid), CAP)
        self.assert_verify_ok(self.grace)
        self.lin_still_syncs()
        # Ada's real device still syncs, and takes what Grace stored of
        # "her" devices (her own identity's, under the same cap)
        self.fill(self.ada, "grace", 1)
        p = self.one_result(self.sync(self.ada, "grace"), "grace")
        self.assertEqual(p["sent"], 1, p)
        self.assertEqual(self.certs_of(self.ada, self.aid), CAP)
        self.assert_verify_ok(self.ada)

    def test_hello_past_the_cap(self):
        """A real new device of Ada's (made before the flood, never seen by
        Grace) is refused at its HELLO once the flood filled the cap:
        MM_ETOOMANY, the cap holds on every path."""
        phone = self.path("phone")
        r = self.tool("mm_mkdevice", self.ada, phone, "phone")
        self.assertEqual(r.rc, 0, r)
        out = self.rogue("cert-runs", 100)
        self.assertEqual(out[0], "stored %d" % (CAP - 1), out)
        r = self.mm("--json", "sync", "grace", "--timeout", "10", home=phone)
        self.assertEqual(r.rc, 1, r)
        [p] = self.parse_json(r)["peers"]
        self.assertEqual(p["code"], "MM_ETOOMANY", r)
        self.assertEqual(self.certs_of(self.grace, self.aid), CAP)
        self.assert_verify_ok(self.grace)
        self.lin_still_syncs()

    def test_devices_flood(self):
        """DEVICES about the remote's own person past the cap: MM_ETOOMANY,
        and nothing of that DEVICES is stored (one transaction)."""
        out = self.rogue("devices-flood", 512)
        self.assertEqual(out[-1].split()[0], "MM_ETOOMANY", out)
        self.assertEqual(self.certs_of(self.grace, self.aid), 1)
        # within the cap, statements about the remote's own devices are kept
        out = self.rogue("devices-flood", 10)
        self.assertEqual(out, ["done"], out)
        self.assertEqual(self.certs_of(self.grace, self.aid), 11)
        self.assert_verify_ok(self.grace)
        self.lin_still_syncs()

    def test_blocked_certs_stay_and_admit_nobody(self):
        """A blocked peer's certificates stop admitting it (its real device
        and every flood device alike) but stay: its stored entries need
        them (mm verify)."""
        out = self.rogue("cert-runs", 5)
        self.assertEqual(out, ["stored 5", "done"], out)
        before = self.inspect(self.grace)
        self.assertEqual(before["certs"][self.aid["identity"]], 6)
        self.ok("peer", "block", "ada", home=self.grace)
        r = self.tool("mm_rogue", "--home", self.ada, "--peer", "grace", "--send",
                      "cert-runs", "--count", 1, "--timeout", ROGUE_TIMEOUT_MS)
        self.assertEqual((r.rc, r.out), (1, "refused\n"), r)
        after = self.inspect(self.grace)
        self.assertEqual(after["certs"], before["certs"])
        self.assert_verify_ok(self.grace)
        self.lin_still_syncs()


if __name__ == "__main__":
    mmtest.main()
