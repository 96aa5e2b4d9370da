"""Pairing a device: mm device pair on the identity device (the laptop),
mm init --join on the new one (the phone), real processes on 127.0.0.1.

The phone ends with the laptop's identity and a full copy (notes,
ambitions, peers, threads); a note written on the phone reaches the laptop
by mm sync --device.  Expired, altered, foreign, invite and used codes
are refused with one line each; a refused joiner gets MM_EREFUSED and the
same code then works; a joined device cannot pair (MM_ENOIDENTITY).
"""
import os
import pty
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN, blake2b256  # noqa: E402

LISTEN = "tcp://127.0.0.1:*"
CODE_RX = r"^mmp1[a-z2-7]+$"
MEASURE_ENTRIES = 10000


class PtyServer(mmtest.Server):
    """mmtest.Server whose stdin is a terminal we type into."""

    def __init__(self, argv, env):
        self.master, slave = pty.openpty()
        self.argv = argv
        self.lines = []
        self.err = b""
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
        os.close(slave)
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()

    def type(self, text):
        os.write(self.master, text.encode())


def pair_encode(identity, device, secret, expires_ms, endpoints):
    """A pairing code (core/pair.h), as mmtest.invite_encode with "mmp1"."""
    m = mmtest
    payload = (m.mp_array(6) + m.mp_uint(1) + m.mp_bin(identity) + m.mp_bin(device)
               + m.mp_bin(secret) + m.mp_uint(expires_ms) + m.mp_array(len(endpoints))
               + b"".join(m.mp_str(e) for e in endpoints))
    check = blake2b256(b"mmp1" + payload)[:4]
    return "mmp1" + m.b32encode(payload + check)


def pair_decode(code):
    """The fields of a pairing code (the invite layout under another prefix)."""
    raw = mmtest.b32decode(code[4:])
    payload = raw[:-4]
    fake = "mmv1" + mmtest.b32encode(payload + blake2b256(b"mmv1" + payload)[:4])
    return mmtest.invite_decode(fake)


class PairTest(mmtest.SyncTestCase):
    """Ada's laptop (the identity device) mentors nobody but is mentored by
    Grace, has notes, an ambition and a relationship thread."""

    def setUp(self):
        super().setUp()
        self.laptop, _ = self.new_home("Ada", device="laptop", sub="laptop")
        self.grace, _ = self.new_home("Grace", device="desk", sub="grace")
        gsrv = self.serve(self.grace)
        self.pair(self.grace, self.laptop, "grace", "--note", "Welcome, Ada")
        self.stop_server(gsrv)
        self.add_note(self.laptop, "private thought one")
        self.add_note(self.laptop, "private thought two")
        self.ok("ambition", "add", "--near", "pair my phone", home=self.laptop)
        self.phone = self.path("phone")

    def pairer(self, *args, tty=False):
        argv = [MM_BIN, "--home", self.laptop, "device", "pair", "--listen", LISTEN] + list(args)
        srv = PtyServer(argv, self.env()) if tty else mmtest.Server(argv, self.env())
        self.addCleanup(self.stop_server, srv)
        line = srv.wait_line(CODE_RX)
        self.assertIsNotNone(line, "no pairing code\n%r" % srv)
        return srv, line

    def join(self, code, home=None, *args):
        return self.mm("--json", "init", "--join", code, "--device", "phone", *args,
                       home=home or self.phone, timeout=120)

    def error_code(self, r):
        self.assertEqual(r.rc, 1, r)
        self.assert_one_line_error(r)
        return self.parse_json(r)["error"]["code"]

    def view(self, home):
        notes = [n["text"] for n in self.ok_json("note", "list", home=home)["notes"]]
        amb = self.ok_json("ambition", "list", home=home)
        peers = sorted((p["name"], p["identity"]) for p in self.peers(home))
        thread = self.ok("thread", "grace", home=home).out
        return notes, amb, peers, thread

    def test_pair_full_copy_and_sync_back(self):
        srv, code = self.pairer("--yes")
        r = self.join(code)
        self.assertEqual(r.rc, 0, r)
        j = self.parse_json(r)
        self.assertEqual((j["name"], j["device_name"], j["peers"]), ("Ada", "phone", 1))
        self.assertEqual(j["scopes"], 2)
        self.assertRegex(j["fingerprint"], r"^[A-Z2-7]{4}-[A-Z2-7]{4}$")
        self.assertEqual(srv.proc.wait(30), 0, srv)
        self.assertIsNotNone(srv.wait_line(r"^paired device 'phone' \(%s\)$"
                                           % j["fingerprint"]), srv)
        self.assertIsNotNone(srv.wait_line(r"^device 'phone' \(%s\) wants to join$"
                                           % j["fingerprint"]), srv)
        lid, pid = self.ident(self.laptop), self.ident(self.phone)
        self.assertEqual(lid["identity"], pid["identity"])
        self.assertEqual(lid["name"], pid["name"])
        self.assertNotEqual(lid["device"], pid["device"])
        self.assertEqual(self.view(self.laptop), self.view(self.phone))
        self.assert_verify_ok(self.phone)

        # a note written on the phone reaches the laptop
        self.add_note(self.phone, "written on the phone")
        lsrv = self.serve(self.laptop)
        self.ok("sync", "--device", "laptop", "--endpoint", lsrv.endpoint, home=self.phone)
        self.assertIn("written on the phone", [n["text"] for n in self.notes(self.laptop)])
        self.assertEqual(self.view(self.laptop), self.view(self.phone))
        self.stop_server(lsrv)

        # the code worked once: its listener is gone
        r = self.join(code, self.path("tablet"), "--timeout", "2")
        self.assertEqual(self.error_code(r), "MM_ETIMEOUT")
        self.assertIn("used or expires", r.err)
        self.assertFalse(os.path.exists(self.path("tablet")))

        # the phone is not the identity device
        r = self.mm("--json", "device", "pair", "--yes", home=self.phone)
        self.assertEqual(self.error_code(r), "MM_ENOIDENTITY")
        self.assertIn("'laptop'", r.err)

    def test_used_code_refused_while_listening(self):
        # the phone is certified but its sync is held back: a second device
        # with the same code meanwhile is refused by the pairer
        srv, code = self.pairer("--yes")
        r = self.mm("--json", "init", "--join", code, "--device", "phone", home=self.phone,
                    env=self.env(MM_TEST_PAIR_NOSYNC="1"))
        self.assertEqual(r.rc, 0, r)
        self.assertIsNotNone(srv.wait_line(r"^certified device 'phone'"), srv)
        self.assertTrue(srv.alive(), srv)
        r2 = self.join(code, self.path("tablet"))
        self.assertEqual(self.error_code(r2), "MM_EREFUSED")
        self.assertIn("already used", r2.err)
        self.assertFalse(os.path.exists(self.path("tablet")))

    def test_refused_then_same_code_works(self):
        srv, code = self.pairer(tty=True)
        p = subprocess.Popen([MM_BIN, "--json", "--home", self.path("intruder"), "init",
                              "--join", code, "--device", "phone"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.env())
        self.assertIsNotNone(srv.wait_line(r"^device 'phone' \([A-Z2-7-]{9}\) wants to join$"),
                             srv)
        srv.type("n\n")
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 1, (out, err))
        self.assertEqual(mmtest.json.loads(out)["error"]["code"], "MM_EREFUSED")
        self.assertIn("did not confirm", err.decode())
        self.assertFalse(os.path.exists(self.path("intruder")))
        self.assertTrue(srv.alive(), srv)

        # the same code, the real phone: confirmed
        p = subprocess.Popen([MM_BIN, "--home", self.phone, "init", "--join", code,
                              "--device", "phone"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.env())
        mark = srv.mark()
        line = srv.wait_line(r"wants to join$", start=mark)
        self.assertIsNotNone(line, srv)
        srv.type("y\n")
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 0, (out, err))
        fp = re.search(r"\(([A-Z2-7]{4}-[A-Z2-7]{4})\)", line).group(1)
        self.assertIn("this device is 'phone' (%s)" % fp, out.decode())
        self.assertRegex(out.decode(), r"joined Ada's identity as device 'phone' \(%s\): "
                         r"1 peer, 2 scopes, \d+ entries" % fp)
        self.assertEqual(srv.proc.wait(30), 0, srv)
        self.assertEqual(self.view(self.laptop), self.view(self.phone))

    def test_join_into_a_used_place(self):
        srv, code = self.pairer("--yes")
        os.makedirs(self.phone)
        with open(os.path.join(self.phone, "x"), "w") as f:
            f.write("x")
        r = self.join(code)
        self.assertEqual(self.error_code(r), "MM_EEXIST")
        # refused before connecting: the code is still good
        os.remove(os.path.join(self.phone, "x"))
        self.assertEqual(self.join(code).rc, 0)

    def test_qr_on_request(self):
        srv, code = self.pairer("--yes", "--expires", "1s", "--qr")
        srv.proc.wait(30)
        srv.stop()
        qr = [line for line in srv.lines if "\u2588" in line]
        self.assertGreater(len(qr), 10, srv)
        self.assertEqual(len(set(len(line) for line in qr)), 1, srv)   # a square of cells

    def test_no_terminal_without_yes(self):
        r = self.mm("--json", "device", "pair", home=self.laptop)
        self.assertEqual(r.rc, 1, r)
        self.assert_one_line_error(r)
        self.assertIn("--yes", r.err)

    def test_expired_code(self):
        srv, code = self.pairer("--yes", "--expires", "1s")
        self.assertNotEqual(srv.proc.wait(30), 0, srv)     # it expired unused
        srv.stop()
        self.assertFalse(any("\u2588" in line for line in srv.lines), srv)  # no QR off a TTY
        self.assertIn("expired unused", srv.stderr)
        r = self.join(code)
        self.assertEqual(self.error_code(r), "MM_EINVAL")
        self.assertIn("expired", r.err)
        self.assertFalse(os.path.exists(self.phone))

    def test_altered_invite_and_foreign_codes(self):
        srv, code = self.pairer("--yes")
        # one character changed
        i = 40
        bad = code[:i] + ("a" if code[i] != "a" else "b") + code[i + 1:]
        r = self.join(bad)
        self.assertEqual(self.error_code(r), "MM_ECHECKSUM")
        self.assertIn("damaged or altered", r.err)
        # an invite code
        gsrv = self.serve(self.grace)
        inv = self.invite(self.grace)["code"]
        self.stop_server(gsrv)
        r = self.join(inv)
        self.assertEqual(self.error_code(r), "MM_EINVAL")
        self.assertIn("mm accept", r.err)
        r = self.join("hello")
        self.assertEqual(self.error_code(r), "MM_EINVAL")
        self.assertIn("not a pairing code", r.err)
        # a code of another identity device, pointing at this listener:
        # the CURVE handshake with Grace's key cannot complete here
        d = pair_decode(code)
        g = self.ident(self.grace)
        foreign = pair_encode(mmtest.idcode_decode(g["identity"], "mmi"),
                              mmtest.idcode_decode(g["device"], "mmd"), d["secret"],
                              d["expires"], d["endpoints"])
        r = self.join(foreign, None, "--timeout", "2")
        self.assertEqual(self.error_code(r), "MM_ETIMEOUT")
        self.assertIn("another device", r.err)
        self.assertFalse(os.path.exists(self.phone))
        # none of it used the code
        self.assertTrue(srv.alive(), srv)
        r = self.join(code)
        self.assertEqual(r.rc, 0, r)

    def test_measure_full_copy(self):
        self.fill(self.laptop, "grace", MEASURE_ENTRIES)
        srv, code = self.pairer("--yes")
        t0 = time.monotonic()
        r = self.join(code, None, "--timeout", "60")
        took = time.monotonic() - t0
        self.assertEqual(r.rc, 0, r)
        self.assertGreaterEqual(self.parse_json(r)["entries"], MEASURE_ENTRIES)
        sys.stderr.write("\n  pairing to a full copy of %d entries: %.2f s\n"
                         % (MEASURE_ENTRIES, took))
        self.assertEqual(srv.proc.wait(30), 0, srv)


if __name__ == "__main__":
    mmtest.main()
