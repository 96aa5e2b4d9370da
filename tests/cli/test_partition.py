"""Partitions: Ada and Grace in network namespaces of their own, joined by
veth pairs on a bridge, converge once the network lets them (ctest label
`fault`; needs root for the namespaces: SKIP otherwise).

Faults, each on a bridged link, with both sides writing while it lasts:
  - random loss: nftables `numgen random` drop rules, in and out, in both
    namespaces;
  - a rate limit: `tc qdisc ... tbf` on both ends of the link;
  - cuts: the link goes down in the middle of a sync of 20,000 entries
    and comes back up later;
  - latency (the kernel has no netem): tests/tools/mm_relay.py delays
    every byte, together with loss.
Each asserts convergence only, never timings: after syncs are retried until
one succeeds (a bounded number of tries), both stores verify and hold
identical feeds of their relationship scope (tests/tools/mm_heads).
MM_PARTITION_ROUNDS (default 1; CI's fault step: 3) repeats the cut with
new random moments; MM_PARTITION_SEED.
"""
import os
import random
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN, SANITIZED  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RELAY = os.path.join(HERE, "..", "tools", "mm_relay.py")
ROUNDS = int(os.environ.get("MM_PARTITION_ROUNDS", "1"))
SEED = int(os.environ.get("MM_PARTITION_SEED", str(int(time.time()))))
NET = "10.77.%d" % (os.getpid() % 200 + 20)
IP = {"a": NET + ".1", "g": NET + ".2"}
PORT = 7460
TRIES = 30              # syncs until one gets through: bounded, never timed


def run(*argv, check=True):
    r = subprocess.run(list(argv), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(argv), r.stderr.strip()))
    return r


def netns_unavailable():
    if os.geteuid() != 0:
        return "not root"
    for tool in ("ip", "nft", "tc"):
        if not shutil.which(tool):
            return "no %s (install iproute2 and nftables)" % tool
    name = "mmprobe%d" % os.getpid()
    r = run("ip", "netns", "add", name, check=False)
    if r.returncode:
        return "cannot make a network namespace: %s" % r.stderr.strip()
    try:
        r = run("ip", "netns", "exec", name, "nft", "add", "table", "inet", "probe",
                check=False)
        if r.returncode:
            return "nftables does not work here: %s" % r.stderr.strip()
    finally:
        run("ip", "netns", "del", name, check=False)
    return None


SKIP_WHY = netns_unavailable()


@unittest.skipIf(SKIP_WHY, "SKIP: network namespaces: %s" % SKIP_WHY)
class PartitionTests(mmtest.SyncTestCase):

    # --- the network ----------------------------------------------------------

    def setUp(self):
        super().setUp()
        tag = "%d%s" % (os.getpid() % 100000, os.urandom(1).hex())
        self.ns = {s: "mmf%s%s" % (tag, s) for s in "ag"}
        self.veth = {s: "mv%s%s" % (tag, s) for s in "ag"}      # inside each namespace
        self.port = {s: "mp%s%s" % (tag, s) for s in "ag"}      # their bridge ends
        self.br = "mb%s" % tag
        self.addCleanup(self.teardown_net)
        run("ip", "link", "add", self.br, "type", "bridge")
        run("ip", "link", "set", self.br, "up")
        for s in "ag":
            run("ip", "netns", "add", self.ns[s])
            run("ip", "link", "add", self.veth[s], "type", "veth", "peer", "name", self.port[s])
            run("ip", "link", "set", self.veth[s], "netns", self.ns[s])
            run("ip", "link", "set", self.port[s], "master", self.br, "up")
            run("ip", "-n", self.ns[s], "addr", "add", IP[s] + "/24", "dev", self.veth[s])
            run("ip", "-n", self.ns[s], "link", "set", self.veth[s], "up")
            run("ip", "-n", self.ns[s], "link", "set", "lo", "up")
        self.grace, _ = self.new_home("Grace", sub="grace")
        self.ada, _ = self.new_home("Ada", sub="ada")
        self.where = {self.ada: "a", self.grace: "g"}
        self.srv = self.serve_in("g")
        self.invite_code = self.invite(self.grace)["code"]
        self.ok("accept", self.invite_code, "--name", "grace", home=self.ada)
        self.scope = self.peer(self.ada, "grace")["scope"]
        self.ok("peer", "set-addr", "ada", "tcp://%s:%d" % (IP["a"], PORT), home=self.grace)

    def teardown_net(self):
        for s in "ag":
            run("ip", "netns", "del", self.ns[s], check=False)
        run("ip", "link", "del", self.br, check=False)

    def in_ns(self, s, *argv):
        return ["ip", "netns", "exec", self.ns[s]] + list(argv)

    def mm(self, *args, home=None, **kw):
        """mm, in the namespace of the home's person for the commands that
        use the network (with mmtest's checks); others as usual."""
        side = getattr(self, "where", {}).get(home)
        cmd = next((a for a in args if not a.startswith("-")), None)
        if side is None or cmd not in ("sync", "accept"):
            return super().mm(*args, home=home, **kw)
        saved = mmtest.MM_BIN
        wrapper = os.path.join(self.tmp, "mm-in-" + side)
        if not os.path.exists(wrapper):
            with open(wrapper, "w") as f:
                f.write("#!/bin/sh\nexec ip netns exec %s %s \"$@\"\n" % (self.ns[side], saved))
            os.chmod(wrapper, 0o755)
        mmtest.MM_BIN = wrapper         # mmtest.mm runs [MM_BIN, ...]
        try:
            return super().mm(*args, home=home, **kw)
        finally:
            mmtest.MM_BIN = saved

    def serve_in(self, s, home=None):
        home = home or (self.grace if s == "g" else self.ada)
        ep = "tcp://%s:%d" % (IP[s], PORT)
        srv = mmtest.Server(self.in_ns(s, MM_BIN, "--home", home, "serve", "--listen", ep),
                            self.env())
        self.addCleanup(self.stop_server, srv)
        self.assertIsNotNone(srv.wait_line(r" reachable at "), "mm serve in %s\n%r" % (s, srv))
        return srv

    def nft_loss(self, percent):
        """Drop percent% of the packets in and out of both namespaces."""
        for s in "ag":
            ruleset = ("table inet mmloss {\n"
                       " chain in { type filter hook input priority 0; "
                       "numgen random mod 100 < %d counter drop; }\n"
                       " chain out { type filter hook output priority 0; "
                       "numgen random mod 100 < %d counter drop; }\n}\n" % (percent, percent))
            subprocess.run(self.in_ns(s, "nft", "-f", "-"), input=ruleset, text=True,
                           check=True, capture_output=True)

    def nft_dropped(self):
        """Packets the loss rules dropped, in both namespaces."""
        n = 0
        for s in "ag":
            out = run(*self.in_ns(s, "nft", "list", "table", "inet", "mmloss")).stdout
            n += sum(int(m) for m in re.findall(r"counter packets (\d+)", out))
        return n

    def nft_clear(self):
        for s in "ag":
            run(*self.in_ns(s, "nft", "delete", "table", "inet", "mmloss"), check=False)

    def link(self, up):
        run("ip", "-n", self.ns["g"], "link", "set", self.veth["g"], "up" if up else "down")

    # --- convergence -------------------------------------------------------------

    def heads(self, home):
        r = self.tool("mm_heads", "--home", home)
        self.assertEqual(r.rc, 0, r)
        return sorted(line for line in r.out.splitlines() if line.split()[1] == self.scope)

    def sync_until_ok(self, home, peer, timeout="10"):
        """mm sync, again after each failure (named, one line), up to TRIES."""
        fails = []
        for _ in range(TRIES):
            r = self.mm("--json", "sync", peer, "--timeout", timeout, home=home)
            [p] = self.parse_json(r)["peers"]
            if r.rc == 0 and p["ok"]:
                return fails
            self.assertEqual(r.rc, 1, r)
            self.assertRegex(p["code"] or "", r"^MM_E[A-Z]+$", r)
            fails.append(p["code"])
        self.fail("no sync got through in %d tries: %r" % (TRIES, fails))

    def assert_converged(self, want):
        self.assertEqual(self.heads(self.ada), self.heads(self.grace))
        seqs = sorted(int(line.split()[2]) for line in self.heads(self.ada))
        self.assertEqual(seqs, sorted(want), self.heads(self.ada))
        for home in (self.ada, self.grace):
            self.assert_verify_ok(home)

    def both_write(self, n):
        self.fill(self.grace, "ada", n)
        self.fill(self.ada, "grace", n)

    # --- the faults ----------------------------------------------------------------

    def test_random_loss(self):
        self.both_write(3000)
        self.nft_loss(10)
        fails = self.sync_until_ok(self.ada, "grace")
        self.fill(self.grace, "ada", 500)       # and the other way, Grace to Ada's serve
        asrv = self.serve_in("a")
        self.sync_until_ok(self.grace, "ada")
        dropped = self.nft_dropped()
        self.assertGreater(dropped, 0, "the loss rules dropped nothing")
        self.nft_clear()
        self.assert_alive(asrv)
        self.assert_converged([3501, 3000])
        print("\nloss 10%%: %d packets dropped; failed syncs before one got through: %r"
              % (dropped, fails), file=sys.stderr)

    def test_rate_limit(self):
        self.both_write(2000)
        for s in "ag":
            run(*self.in_ns(s, "tc", "qdisc", "add", "dev", self.veth[s], "root", "tbf",
                            "rate", "2mbit", "burst", "32kbit", "latency", "400ms"))
        self.sync_until_ok(self.ada, "grace", timeout="30")
        stats = run(*self.in_ns("g", "tc", "-s", "qdisc", "show", "dev", self.veth["g"])).stdout
        self.assertRegex(stats, r"overlimits [1-9]", "the rate limit never held: %s" % stats)
        self.assert_converged([2001, 2000])

    def test_cut_and_return(self):
        rng = random.Random(SEED)
        total_g, total_a = 20000, 0
        self.fill(self.grace, "ada", total_g)
        for n in range(ROUNDS):
            msg = "round %d (MM_PARTITION_SEED=%d)" % (n, SEED)
            p = subprocess.Popen(self.in_ns("a", MM_BIN, "--home", self.ada, "sync", "grace",
                                            "--timeout", "3"),
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=self.env())
            time.sleep(rng.uniform(0.05, 1.0))
            self.link(False)
            _, err = p.communicate(timeout=120)
            self.assertIn(p.returncode, (0, 1), "%s: %r" % (msg, err))
            # while cut: both write, and a sync cannot get through
            self.fill(self.grace, "ada", 300)
            self.fill(self.ada, "grace", 300)
            total_g, total_a = total_g + 300, total_a + 300
            r = self.mm("--json", "sync", "grace", "--timeout", "2", home=self.ada)
            self.assertEqual(r.rc, 1, "%s: a sync got through a cut link\n%r" % (msg, r))
            self.assertEqual(self.parse_json(r)["peers"][0]["code"], "MM_ETIMEOUT", r)
            self.link(True)
            self.sync_until_ok(self.ada, "grace", timeout="10")
            self.assert_alive(self.srv)
            self.assert_converged([total_g + 1, total_a])

    def test_latency_and_loss_through_a_relay(self):
        """Ada reaches Grace only through a relay adding 150 ms each way,
        on a link that loses 5% of packets."""
        self.both_write(2000)
        relay = mmtest.Server(self.in_ns("a", sys.executable, RELAY, "--listen", "127.0.0.1:0",
                                         "--to", "%s:%d" % (IP["g"], PORT), "--delay", "0.15"),
                              self.env())
        self.addCleanup(relay.stop)
        line = relay.wait_line(r"^listening on ")
        self.assertIsNotNone(line, relay)
        self.ok("peer", "set-addr", "grace", "tcp://" + line.split()[-1], home=self.ada)
        self.nft_loss(5)
        self.sync_until_ok(self.ada, "grace", timeout="20")
        self.assertGreater(self.nft_dropped(), 0, "the loss rules dropped nothing")
        self.nft_clear()
        self.assert_converged([2001, 2000])


if __name__ == "__main__":
    mmtest.main()
