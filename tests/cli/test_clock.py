"""Clocks that differ and clocks that jump (the test clock hook).

A build with -DMM_TEST_HOOKS=ON shifts mm's wall clock by the seconds in
the file named by MM_TEST_CLOCK_FILE (read at each use: a running mm serve's
clock can jump) and by MM_TEST_CLOCK_OFFSET; the machine's clock is never
touched.  Each person here has a clock of their own, 48 hours apart, and
clocks jump back in the middle of the engagement and of a sync:
  - engagement state (questions, queue, budget, settling) is the same on
    both sides and does not follow the clocks: first come is arrival order
    (PROTOCOL.md 5.3), and an answer or thanks written "before" its
    question still counts;
  - a sync runs to its end while both ends' clocks jump (session limits
    are measured on a monotonic clock);
  - invite and pairing expiry hold on the issuer's side: a code made with
    a 10 minute expiry cannot be used once the issuer's clock is past it,
    whatever the joiner's clock says.
A build without the hook (the default, and Release) ignores both
variables: test_hook_or_ignored checks that, and the rest is skipped.
"""
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN  # noqa: E402
from test_engage import EngageBase, GOOD_Q, LIN_Q, ANSWER, THANKS, short  # noqa: E402

HOOKS = os.environ.get("MM_TEST_HOOKS_BUILT", "0") == "1"
H48 = 48 * 3600
DAY_MS = 86400 * 1000
SKIP = "mm built without MM_TEST_HOOKS (cmake -DMM_TEST_HOOKS=ON): no test clock"


def entry_time_ms(case, home):
    return max(e["time_ms"] for e in case.log(home))


class ClockBase(EngageBase):
    """Every home made through person() gets a clock file of its own."""

    def setUp(self):
        super().setUp()
        self.clocks = {}

    def clock_of(self, home):
        return self.clocks.setdefault(home, os.path.join(self.tmp, os.path.basename(home)
                                                         + ".clock"))

    def set_clock(self, home, seconds):
        """home's clock (and its running mm serve's) is now `seconds` off."""
        with open(self.clock_of(home) + ".tmp", "w") as f:
            f.write("%d\n" % seconds)
        os.replace(self.clock_of(home) + ".tmp", self.clock_of(home))

    def person(self, name, seconds=0):
        home = self.path(name.lower())
        self.set_clock(home, seconds)
        return super().person(name)

    def clock_env(self, home):
        return self.env(MM_TEST_CLOCK_FILE=self.clock_of(home))

    def mm(self, *args, home=None, env=None, **kw):
        if env is None and home in self.clocks:
            env = self.clock_env(home)
        return super().mm(*args, home=home, env=env, **kw)

    def serve(self, home, port=None, env=None, preexec_fn=None):
        if env is None and home in self.clocks:
            env = self.clock_env(home)
        return super().serve(home, port=port, env=env, preexec_fn=preexec_fn)


class TestHook(ClockBase):

    def test_hook_or_ignored(self):
        """With the hook, the clock file moves entry times; without it
        (default and Release builds) the same variables change nothing."""
        home = self.person("Ada", -H48)
        env = self.env(MM_TEST_CLOCK_FILE=self.clock_of(home), MM_TEST_CLOCK_OFFSET="-%d" % H48)
        self.ok("note", "add", "from the past", home=home, env=env)
        skew = entry_time_ms(self, home) - time.time() * 1000
        with open(MM_BIN, "rb") as f:
            self.assertEqual(b"MM_TEST_CLOCK_FILE" in f.read(), HOOKS,
                             "the hook is compiled in exactly when MM_TEST_HOOKS is on")
        if HOOKS:
            self.assertAlmostEqual(skew / DAY_MS, -4, delta=0.1)
        else:
            self.assertAlmostEqual(skew / DAY_MS, 0, delta=0.1)
            print("\nmm built without MM_TEST_HOOKS: it ignores MM_TEST_CLOCK_*; "
                  "SKIP the skewed-clock tests", file=sys.stderr)


@unittest.skipUnless(HOOKS, SKIP)
class TestSkewedEngagement(ClockBase):
    """Grace's clock is 48 h ahead, Ada's right, Lin's 48 h behind: Lin's
    question, asked after Ada's, carries a time four days before it."""

    def test_state_does_not_follow_clocks(self):
        grace = self.person("Grace", +H48)
        self.servers[grace] = self.serve(grace)
        ada, lin = self.person("Ada", 0), self.person("Lin", -H48)
        for home in (ada, lin):
            self.connect(grace, home, "grace", os.path.basename(home))
        self.ok("capacity", "1/week", home=grace)

        qa = self.ask(ada, "grace", GOOD_Q)
        self.sync(ada, "grace")
        ql = self.ask(lin, "grace", LIN_Q)
        self.sync(lin, "grace")
        times = {e["id"]: e["time_ms"] for e in self.log(grace) if e["type"] == "question"}
        self.assertLess(times[ql], times[qa] - DAY_MS, "the clocks were not skewed: %r"
                        % [(e["type"], e["time"], e["id"][:12]) for e in self.log(grace)])

        # first come is arrival: Ada's is open, Lin's held, on both sides
        j = self.inbox(grace)
        self.assertEqual([short(q["id"]) for q in j["inbox"]], [short(qa)], j)
        self.assertEqual(j["held"], 1, j)
        self.assert_capacity(grace, {"n": 1, "open": 1, "held": 1})
        self.sync(ada, "grace")
        self.sync(lin, "grace")
        self.assertEqual(self.qstate(ada, qa), "open")
        held = self.find(self.status(lin)["held"], ql, "held")
        self.assertEqual(held.get("ahead"), 0, held)
        self.absent(self.status(lin)["waiting_on_others"], ql)

        # Grace's clock jumps back 6 days under her running mm serve: her
        # answer is dated before the question it answers, and still counts
        self.set_clock(grace, -4 * 24 * 3600)
        self.ok("answer", qa, ANSWER, home=grace)
        [answered] = [e["time_ms"] for e in self.log(grace) if e["type"] == "answer"]
        self.assertLess(answered, times[qa])
        self.sync(ada, "grace")
        st = self.status(ada)
        self.assertEqual(self.find(st["unthanked"], qa, "unthanked").get("state", "answered"),
                         "answered")
        self.absent(st["waiting_on_others"], qa)
        # Ada's clock jumps back 3 days; her thanks closes the engagement,
        # and Grace's serve, settling when it arrives, releases Lin's
        self.set_clock(ada, -3 * 24 * 3600)
        self.ok("thank", qa, THANKS, home=ada)
        self.sync(ada, "grace")
        j = self.inbox(grace)
        self.assertEqual([short(q["id"]) for q in j["inbox"]], [short(ql)], j)
        self.assertEqual(j["held"], 0, j)
        self.assert_capacity(grace, {"n": 1, "open": 1, "held": 0})
        self.sync(lin, "grace")
        self.assertEqual(self.qstate(lin, ql), "open")
        self.absent(self.status(lin)["held"], ql)
        st = self.status(ada)
        for k in ("waiting_on_others", "held", "unthanked"):
            self.absent(st[k], qa, k)
        self.find(st["reports_due"], qa, "reports_due")
        for home in (grace, ada, lin):
            self.assert_verify_ok(home)


@unittest.skipUnless(HOOKS, SKIP)
class TestJumpDuringSync(ClockBase):

    def test_sync_survives_clock_jumps(self):
        """Both ends' clocks jump by two days in the middle of a sync of
        30,000 entries: the session is neither cut nor stretched."""
        grace = self.person("Grace")
        srv = self.serve(grace)
        ada = self.person("Ada")
        scope = self.pair(grace, ada, "grace")
        self.fill(grace, "ada", 30000)
        p = subprocess.Popen([MM_BIN, "--home", ada, "--json", "sync", "grace", "--timeout", "20"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, env=self.clock_env(ada))
        size0 = os.path.getsize(os.path.join(ada, "store", "data.mdb"))
        deadline = time.monotonic() + mmtest.NET_TIMEOUT
        while (p.poll() is None and time.monotonic() < deadline
               and os.path.getsize(os.path.join(ada, "store", "data.mdb")) < size0 + (1 << 20)):
            time.sleep(0.005)
        self.set_clock(grace, -H48)     # the server's clock jumps back
        self.set_clock(ada, +H48)       # the client's forward
        out, err = p.communicate(timeout=120)
        self.assertEqual(p.returncode, 0, "the sync did not survive the jumps: %r %r"
                         % (out, err))
        [peer] = json.loads(out)["peers"]
        self.assertIs(peer["ok"], True, peer)
        self.assertEqual(len(self.scope_entries(ada, scope)), 30001)
        self.assert_alive(srv)
        # and the next sessions after the jump run normally
        self.assertEqual(self.sync(ada, "grace")["ok"], True)


@unittest.skipUnless(HOOKS, SKIP)
class TestExpiryOnTheIssuersSide(ClockBase):

    def test_invite(self):
        grace = self.person("Grace")
        srv = self.serve(grace)
        ada = self.person("Ada", -H48)     # the joiner's clock says "fresh"
        code = self.invite(grace, "--expires", "10m")["code"]
        self.set_clock(grace, 11 * 60)      # the issuer's is past the expiry
        r = self.mm("--json", "accept", code, "--name", "grace", home=ada)
        self.assertEqual(r.rc, 1, r)
        self.assert_one_line_error(r)
        self.assertEqual(self.parse_json(r)["error"]["code"], "MM_EREFUSED", r)
        self.assertIn("expired", r.err)
        self.assertEqual(self.peers(ada), [])
        self.assertEqual(self.peers(grace), [])
        # the same joiner's clock, the issuer's 5 minutes into the 10: it works
        code = self.invite(grace, "--expires", "10m")["code"]
        self.set_clock(grace, 11 * 60 + 5 * 60)
        self.accept(ada, code, "grace")
        self.assertEqual([p["name"].lower() for p in self.peers(grace)], ["ada"])
        self.assert_alive(srv)

    def pairer(self, home):
        argv = [MM_BIN, "--home", home, "--json", "device", "pair", "--yes", "--expires", "10m",
                "--listen", "tcp://127.0.0.1:*"]
        srv = mmtest.Server(argv, self.clock_env(home))
        self.addCleanup(self.stop_server, srv)
        line = srv.wait_line(r'"code"')
        self.assertIsNotNone(line, "no pairing code\n%r" % srv)
        return srv, json.loads(line)["code"]

    def join(self, code, phone, seconds, *args):
        env = self.env(MM_TEST_CLOCK_OFFSET=str(seconds))
        return self.mm("--json", "init", "--join", code, "--device", "phone", *args,
                       home=phone, env=env, timeout=120)

    def devices(self, home):
        return self.ok_json("device", "list", home=home)["devices"]

    def test_pairing(self):
        laptop = self.person("Ada")
        phone = self.path("phone")
        srv, code = self.pairer(laptop)
        self.set_clock(laptop, 11 * 60)
        # by its own clock the code has expired: the identity device stops
        # listening (deterministic, unlike racing a JOIN against its tick)
        self.assertNotEqual(srv.proc.wait(mmtest.NET_TIMEOUT), 0, srv)
        srv.stop()
        self.assertIn("expired unused", srv.stderr)
        r = self.join(code, phone, -H48, "--timeout", "3")
        self.assertEqual(r.rc, 1, r)
        self.assert_one_line_error(r)
        self.assertEqual(len(self.devices(laptop)), 1)
        self.assertFalse(os.path.exists(os.path.join(phone, "identity.key")))
        # the same joiner's clock, the issuer's 5 minutes into the 10: it pairs
        srv, code = self.pairer(laptop)
        self.set_clock(laptop, 11 * 60 + 5 * 60)
        r = self.join(code, self.path("phone2"), -H48)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(self.devices(laptop)), 2)


if __name__ == "__main__":
    mmtest.main()
