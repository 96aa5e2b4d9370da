#!/usr/bin/env python3
"""test_discover -- mm serve --discover on a LAN made of network namespaces.

Each test builds its own LAN: a bridge, and one network namespace per
device with a veth pair on it (10.199.N.0/24, N from the process id), and
runs real mm processes inside them with `ip netns exec`.  Homes live in the
test's temporary directory; commands that touch only a home run outside.

- Ada's laptop and phone (paired) and Grace's laptop find each other's
  devices on the LAN, and then `mm sync` reaches each with no address given
  (before discovery the same syncs fail: no address known); a stranger (a
  home of its own) hears beacons but recognises none, and nobody
  recognises its beacons.
- Beacons captured by a raw UDP listener from two restarts of one device
  are all 1,200 bytes and share nothing (no beacon repeats, none holds the
  device key or an endpoint in clear); replayed, the older ones are
  refused within a run (MM_ESEQDUP) and after a restart never roll the
  newer statement back: sync still reaches the device where it listens now.

Needs root (network namespaces): otherwise it prints SKIP and passes.
"""
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

import mmtest
from mmtest import MM_BIN

NET = 20 + os.getpid() % 200       # 10.199.NET.0/24: tests running at once differ
TAG = "%05d" % (os.getpid() % 100000)
BEACON = 1200
PORT = 7462

CAPTURE = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", %d))
print("ready", flush=True)
while True:
    data, (ip, port) = s.recvfrom(4096)
    print(ip, data.hex(), flush=True)
""" % PORT

SEND = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
for h in sys.argv[2:]:
    s.sendto(bytes.fromhex(h), (sys.argv[1], %d))
""" % PORT


def root_ok():
    if os.geteuid() != 0:
        return "needs root for network namespaces"
    r = subprocess.run(["ip", "netns", "add", "mmdprobe" + TAG], capture_output=True)
    if r.returncode != 0:
        return "cannot make a network namespace: %s" % r.stderr.decode().strip()
    subprocess.run(["ip", "netns", "del", "mmdprobe" + TAG], capture_output=True)
    return None


def ip(*args):
    r = subprocess.run(["ip"] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("ip %s: %s" % (" ".join(args), r.stderr.strip()))


class Lan:
    """A bridge and one namespace per device on it; ns(name) names it."""

    made = 0

    def __init__(self):
        Lan.made += 1
        self.tag = "%s%d" % (TAG, Lan.made % 10)
        self.bridge = "mmdbr" + self.tag
        self.names = []
        self.hosts = []
        ip("link", "add", self.bridge, "type", "bridge")
        ip("link", "set", self.bridge, "up")

    def ns(self, name):
        return "mmd%s-%s" % (self.tag, name)

    def add(self, name):
        """A device on the LAN; returns its address."""
        n = len(self.names) + 2
        ns, host = self.ns(name), "mmd%sh%d" % (self.tag, n)
        ip("netns", "add", ns)
        self.names.append(name)
        ip("link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns)
        self.hosts.append(host)
        ip("link", "set", host, "master", self.bridge, "up")
        addr = "10.199.%d.%d" % (NET, n)
        ip("-n", ns, "addr", "add", addr + "/24", "brd", "+", "dev", "eth0")
        ip("-n", ns, "link", "set", "eth0", "up")
        ip("-n", ns, "link", "set", "lo", "up")
        return addr

    @property
    def broadcast(self):
        return "10.199.%d.255" % NET

    def destroy(self):
        for host in self.hosts:     # its other end goes with it
            subprocess.run(["ip", "link", "del", host], capture_output=True)
        for name in self.names:
            subprocess.run(["ip", "netns", "del", self.ns(name)], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)


class Capture:
    """A raw UDP listener on the discovery port in namespace ns: every
    datagram as (source address, bytes)."""

    def __init__(self, ns):
        self.got = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-c", CAPTURE],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            src, hexdata = line.split()
            with self.cond:
                self.got.append((src, bytes.fromhex(hexdata)))
                self.cond.notify_all()

    def mark(self):
        with self.cond:
            return len(self.got)

    def wait_from(self, src, count, start, timeout=mmtest.NET_TIMEOUT):
        """At least count datagrams from src since index start; the list."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                mine = [d for s, d in self.got[start:] if s == src]
                if len(mine) >= count or time.monotonic() > deadline:
                    return mine
                self.cond.wait(0.2)

    def stop(self):
        self.proc.kill()
        self.proc.wait(10)
        self.proc.stdout.close()


class Discover(mmtest.SyncTestCase):

    def setUp(self):
        super().setUp()
        self.lan = Lan()
        self.addCleanup(self.lan.destroy)

    def env(self, **extra):
        extra.setdefault("MM_DISCOVER_MS", "500")   # rounds every 0.5 s, not 30 s
        return super().env(**extra)

    # --- running mm inside a namespace ---------------------------------------

    def inns(self, name, *args, home):
        """Run mm --home HOME ARGS inside name's namespace; a Result."""
        argv = ["ip", "netns", "exec", self.lan.ns(name), MM_BIN, "--home", home] + list(args)
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True,
                           env=self.env(), timeout=mmtest.RUN_TIMEOUT)
        r = mmtest.Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                          p.stderr.decode("utf-8", "replace"))
        r.out_bytes = p.stdout
        self.assertGreaterEqual(p.returncode, 0, "mm killed by a signal\n%r" % r)
        for mark in mmtest.SANITIZER_MARKS:
            self.assertNotIn(mark, r.err, "sanitizer report\n%r" % r)
        return r

    def inns_json(self, name, *args, home, ok=True):
        r = self.inns(name, "--json", *args, home=home)
        if ok:
            self.assertEqual(r.rc, 0, r)
        return self.parse_json(r)

    def serve_in(self, name, home, port, *extra, wait=True):
        """mm serve --listen tcp://0.0.0.0:PORT EXTRA... in name's namespace."""
        argv = ["ip", "netns", "exec", self.lan.ns(name), MM_BIN, "--home", home, "serve",
                "--listen", "tcp://0.0.0.0:%d" % port] + list(extra)
        srv = mmtest.Server(argv, self.env())
        self.addCleanup(self.stop_server, srv)
        if wait:
            self.assertIsNotNone(srv.wait_line(r" reachable at tcp://10\.199\."), srv)
            if "--discover" in extra:
                self.assertIsNotNone(srv.wait_line(r"discovery: announcing"), srv)
        return srv

    def expect(self, srv, pattern, start=0):
        line = srv.wait_line(pattern, start=start)
        self.assertIsNotNone(line, "no line matching %r\n%r" % (pattern, srv))
        return line

    def no_line(self, srv, pattern):
        rx = __import__("re").compile(pattern)
        with srv.cond:
            bad = [l for l in srv.lines if rx.search(l)]
        self.assertEqual(bad, [], "unexpected lines matching %r\n%r" % (pattern, srv))

    def befriend(self, ada_name, ada, grace_name, grace, port=7460):
        """Ada (serving in ada_name's namespace for the moment) invites
        Grace, who accepts from hers.  Ada's serve is stopped after."""
        srv = self.serve_in(ada_name, ada, port)
        code = self.invite(ada)["code"]
        r = self.inns(grace_name, "accept", code, "--name", "ada", home=grace)
        self.assertEqual(r.rc, 0, r)
        self.stop_server(srv, expect_clean=True)

    def sync_code(self, name, home, *args):
        """mm --json sync ARGS in name's namespace: {target name: code or 'ok'}."""
        j = self.inns_json(name, "sync", "--timeout", "5", *args, home=home, ok=False)
        self.assertIn("peers", j, j)
        return {p["name"].lower(): "ok" if p["ok"] else p["code"] for p in j["peers"]}

    # --- the tests -------------------------------------------------------------

    def test_own_devices_and_peers_find_each_other_strangers_nobody(self):
        for n in ("laptop", "phone", "grace", "stranger"):
            self.lan.add(n)
        laptop, _ = self.new_home("Ada", "laptop", sub="laptop")
        grace, _ = self.new_home("Grace", "glaptop", sub="grace")
        stranger, _ = self.new_home("Mallory", "mlaptop", sub="stranger")
        self.befriend("laptop", laptop, "grace", grace)
        # the phone joins Ada's laptop over the LAN
        pair = mmtest.Server(["ip", "netns", "exec", self.lan.ns("laptop"), MM_BIN, "--home",
                              laptop, "device", "pair", "--yes", "--listen",
                              "tcp://0.0.0.0:7461"], self.env())
        self.addCleanup(self.stop_server, pair)
        code = self.expect(pair, r"^mmp1[a-z2-7]+$")
        phone = self.path("phone")
        r = self.inns("phone", "init", "--join", code, "--device", "phone", home=phone)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(pair.proc.wait(30), 0, pair)
        self.assertEqual(self.peer(phone, "grace")["endpoints"], [])
        # no address typed anywhere, none known yet: these cannot sync
        self.assertEqual(self.sync_code("laptop", laptop, "grace"), {"grace": "MM_ENOTFOUND"})
        self.assertEqual(self.sync_code("laptop", laptop, "--device", "phone"),
                         {"phone": "MM_ENOTFOUND"})
        self.assertEqual(self.sync_code("phone", phone, "grace"), {"grace": "MM_ENOTFOUND"})

        # everyone serves with --discover; the laptop on a port nobody knows
        s_laptop = self.serve_in("laptop", laptop, 7470, "--discover")
        s_phone = self.serve_in("phone", phone, 7460, "--discover")
        s_grace = self.serve_in("grace", grace, 7460, "--discover")
        s_stranger = self.serve_in("stranger", stranger, 7460, "--discover")
        lap_ip, ph_ip, gr_ip = ("10\\.199\\.%d\\.%d" % (NET, i) for i in (2, 3, 4))
        self.expect(s_laptop, r"discovered your device phone at tcp://%s:7460" % ph_ip)
        self.expect(s_laptop, r"discovered Grace's device glaptop at tcp://%s:7460" % gr_ip)
        self.expect(s_phone, r"discovered your device laptop at tcp://%s:7470" % lap_ip)
        self.expect(s_phone, r"discovered Grace's device glaptop at tcp://%s:7460" % gr_ip)
        self.expect(s_grace, r"discovered ada's device laptop at tcp://%s:7470" % lap_ip)
        # Grace holds no certificate of the phone yet (she has not synced
        # with Ada since it joined): its beacon opens, and is not believed
        self.expect(s_grace, r"ignored a beacon of device mmd\S+: .*\(MM_ENOCERT\)")
        # the stranger hears beacons and recognises none; nobody knows it
        self.expect(s_stranger, r"discovery: heard \d+ beacons? not for this device")
        for srv in (s_laptop, s_phone, s_grace):
            self.expect(srv, r"discovery: heard \d+ beacons? not for this device")
        time.sleep(1.5)             # a few more rounds: the stranger's too
        self.no_line(s_stranger, r"discovered|heard .* on the LAN|ignored a beacon")
        for srv in (s_laptop, s_phone, s_grace):
            self.no_line(srv, r"Mallory|mlaptop")

        # now plain syncs reach everyone at the addresses discovered
        self.add_note(laptop, "written on the laptop")
        self.assertEqual(self.sync_code("laptop", laptop), {"grace": "ok", "phone": "ok"})
        self.assertIn("written on the laptop", [n["text"] for n in self.notes(phone)])
        self.assertEqual(self.sync_code("phone", phone), {"grace": "ok", "laptop": "ok"})
        self.assertEqual(self.sync_code("grace", grace), {"ada": "ok"})
        # still no address in any peer record: the statements did it
        self.assertEqual(self.peer(laptop, "grace")["endpoints"], [])
        self.assertEqual(self.sync_code("stranger", stranger), {})
        for srv in (s_laptop, s_phone, s_grace, s_stranger):
            self.assert_alive(srv)

    def test_restarts_unlinkable_replays_change_nothing(self):
        for n in ("ada", "grace", "cap"):
            self.lan.add(n)
        gr_ip = "10.199.%d.3" % NET
        ada, _ = self.new_home("Ada", "laptop", sub="ada")
        grace, _ = self.new_home("Grace", "glaptop", sub="grace")
        self.befriend("ada", ada, "grace", grace)
        gdev = mmtest.idcode_decode(self.ident(grace)["device"], "mmd")
        cap = Capture(self.lan.ns("cap"))
        self.addCleanup(cap.stop)
        s_ada = self.serve_in("ada", ada, 7460, "--discover")

        def grace_run(port, discover=True):
            m = cap.mark()
            srv = self.serve_in("grace", grace, port, *(["--discover"] if discover else []))
            return srv, m

        # run 1 and run 1b: the same statement (same port), two restarts
        g1, m = grace_run(7501)
        self.expect(s_ada, r"discovered Grace's device glaptop at tcp://%s:7501"
                    % gr_ip.replace(".", "\\."))
        r1 = cap.wait_from(gr_ip, 6, m)     # three rounds of two beacons
        self.stop_server(g1, expect_clean=True)
        g1b, m = grace_run(7501)
        r1b = cap.wait_from(gr_ip, 6, m)
        self.stop_server(g1b, expect_clean=True)
        # run 2: it listens elsewhere now; Ada learns it
        g2, m = grace_run(7502)
        self.expect(s_ada, r"discovered Grace's device glaptop at tcp://%s:7502"
                    % gr_ip.replace(".", "\\."))
        r2 = cap.wait_from(gr_ip, 6, m)
        self.stop_server(g2, expect_clean=True)
        for got in (r1, r1b, r2):
            self.assertGreaterEqual(len(got), 6)
        every = r1 + r1b + r2
        self.assertEqual({len(b) for b in every}, {BEACON})
        self.assertEqual(len(set(every)), len(every), "a beacon repeated")
        for b in every:
            self.assertNotIn(gdev, b)
            self.assertNotIn(b"tcp://", b)
        # no 8 bytes in common between the two restarts with one statement
        grams = {b[i:i + 8] for b in r1 for i in range(len(b) - 7)}
        shared = sum(1 for b in r1b for i in range(len(b) - 7) if b[i:i + 8] in grams)
        self.assertEqual(shared, 0)

        # run 1's beacons replayed to Ada's running serve: refused as replays
        at = s_ada.mark()
        send = ["ip", "netns", "exec", self.lan.ns("cap"), sys.executable, "-c", SEND,
                self.lan.broadcast] + [b.hex() for b in r1]
        subprocess.run(send, check=True)
        self.expect(s_ada, r"ignored a beacon of Grace's device glaptop: .*\(MM_ESEQDUP\)", at)
        # and to a restarted one, which remembers nothing: heard, not stored
        self.stop_server(s_ada, expect_clean=True)
        s_ada = self.serve_in("ada", ada, 7460, "--discover")
        subprocess.run(send, check=True)
        self.expect(s_ada, r"heard Grace's device glaptop on the LAN \(it announces no newer")
        self.no_line(s_ada, r"discovered")
        # the statement Ada holds is still run 2's: sync reaches Grace there
        self.serve_in("grace", grace, 7502)
        self.assertEqual(self.peer(ada, "grace")["endpoints"], [])
        self.assertEqual(self.sync_code("ada", ada, "grace"), {"grace": "ok"})

    def test_discovery_makes_background_sync_due_now(self):
        # Grace syncs in the background once an hour; Ada is down, so her
        # next try is an hour away.  Ada comes back on a port nobody knows:
        # Grace's discovery hears her, and the sync happens at once
        for n in ("ada", "grace"):
            self.lan.add(n)
        ada, _ = self.new_home("Ada", "laptop", sub="ada")
        grace, _ = self.new_home("Grace", "glaptop", sub="grace")
        self.befriend("ada", ada, "grace", grace)
        scope = self.peer(grace, "ada")["scope"]
        s_grace = self.serve_in("grace", grace, 7460, "--discover", "--sync-every", "1h")
        self.expect(s_grace, r" background sync: ada unreachable: .*; next try in "
                             r"((4[89]|5\d)\.\d min|1\.[0-2] h)$")
        self.fill(ada, "grace", 3)
        at = s_grace.mark()
        self.serve_in("ada", ada, 7481, "--discover")
        self.expect(s_grace, r"discovered ada's device laptop at tcp://10\.199\.%d\.2:7481"
                    % NET, at)
        self.expect(s_grace, r" background sync: ada reachable again$", at)
        self.expect(s_grace, r" background sync with ada: sent 0, received 3 entries$", at)
        self.assertEqual(sorted(e["id"] for e in self.scope_entries(grace, scope)),
                         sorted(e["id"] for e in self.scope_entries(ada, scope)))
        self.assertEqual(self.stop_server(s_grace, expect_clean=True), 0)
        self.assertEqual(s_grace.stderr, "", s_grace)


if __name__ == "__main__":
    why = root_ok()
    if why:
        print("SKIP: test_discover %s" % why)
        sys.exit(0)
    mmtest.main()
