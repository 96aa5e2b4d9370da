#!/usr/bin/env python3
"""bench_attack.py -- a legitimate no-op sync during attacks on mm serve (not a test).

In fresh homes, Grace runs `mm serve` on 127.0.0.1 (with RLIMIT_NOFILE set
to --fd-limit before it starts, as a small machine might have); Ada and Lin
are her peers.  For each attack, Lin's no-op `mm sync grace` is timed --runs
times while the attack is in place and --runs times without it, the two
interleaved (without, with, without, with...) so that the load of the
machine weighs on both alike; the median of each and their ratio are
printed, with mm serve's CPU time over the attack and what the attacker
held: the connections it had open, the most descriptors mm serve had open
meanwhile (sampled every 20 ms, above its count before the attack), and the
sessions the attacker held (as mm_rogue reports them).

Attacks (PROTOCOL.md 8.6, "Limits"):
  half-open  --flood plain TCP connections that never say a word, opened at
             once and held (non-blocking connects; the kernel queues those
             mm serve has not accepted yet)
  flood      plain TCP connections opened without pause for the whole
             measurement, each closed by this side once 2,000 are open
  hold       mm_rogue (Ada's keys) holding 70 sessions open with empty
             non-last HAVEs: 4 are held, 66 answered MM_EBUSY
  never-read 6 mm_rogue slow-ack sessions of Ada's (4 admitted) that take
             Grace's entries for Ada (200, from 20 devices) and never
             acknowledge one: each holds its slot until the limits of 8.6
  slow-bytes --slow plain TCP connections, each sending one byte of a ZMTP
             greeting every second (one byte a minute, sped up)
  cert-flood mm_rogue (Ada's identity key) sending CERT floods without end,
             each CERT a fresh device, with a valid entry of it or without:
             64 certificates of Ada are stored at most (counted after)

Usage: bench_attack.py [--runs 15] [--flood 2000] [--slow 200] [--fd-limit 512]
                       [--attacks half-open,flood,hold,never-read,slow-bytes,cert-flood]
                       [--mm PATH] [--rogue PATH]
Every loop is bounded in count and time; nothing leaves 127.0.0.1.
"""
import argparse
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
FLOOD_OPEN_MAX = 2000           # sustained flood: sockets open at once on this side
FLOOD_SECONDS_MAX = 120         # no attack outlives this


def open_fds(pid):
    try:
        return len(os.listdir("/proc/%d/fd" % pid))
    except OSError:
        return 0


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Bench:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="mm-bench-attack-")
        self.env = dict(os.environ)
        for k in ("MM_HOME", "XDG_DATA_HOME"):
            self.env.pop(k, None)
        self.env["HOME"] = self.dir
        self.grace, self.ada, self.lin = (os.path.join(self.dir, n) for n in ("grace", "ada",
                                                                              "lin"))
        self.serve = None
        self.lines = []
        self.held = ""              # what the attacker says it held, per attack

    def mm(self, *args, home):
        p = subprocess.run([self.args.mm, "--home", home] + list(args), capture_output=True,
                           text=True, env=self.env, timeout=120)
        if p.returncode != 0:
            raise RuntimeError("mm %s: %s" % (" ".join(args), p.stderr.strip()))
        return p.stdout

    def setup(self):
        for home, name in ((self.grace, "Grace"), (self.ada, "Ada"), (self.lin, "Lin")):
            self.mm("init", "--name", name, home=home)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        lim = self.args.fd_limit

        def limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (lim, lim))
        self.serve = subprocess.Popen(
            [self.args.mm, "--home", self.grace, "serve", "--listen",
             "tcp://127.0.0.1:%d" % self.port], stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=self.env,
            preexec_fn=limit)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.monotonic() + 30
        while not any("reachable at" in l for l in self.lines):
            if time.monotonic() > deadline or self.serve.poll() is not None:
                raise RuntimeError("mm serve did not start: %r" % self.lines)
            time.sleep(0.05)
        for home in (self.ada, self.lin):
            code = json.loads(self.mm("--json", "invite", home=self.grace))["code"]
            self.mm("accept", code, "--name", "grace", home=home)
        # entries for Ada that a never-reading session is offered
        peers = json.loads(self.mm("--json", "peer", "list", home=self.grace))["peers"]
        ada = next(p["name"] for p in peers if p["their_name"] == "Ada")
        subprocess.run([self.args.fill, "--home", self.grace, "--peer", ada, "--count", "200",
                        "--devices", "20"], check=True, capture_output=True, env=self.env,
                       timeout=300)

    def _read(self):
        for line in self.serve.stdout:
            self.lines.append(line.rstrip("\n"))

    def sync_once(self):
        t0 = time.monotonic()
        self.mm("sync", "grace", "--timeout", "30", home=self.lin)
        return time.monotonic() - t0

    def measure(self, name, start, stop):
        """Interleave runs without and with the attack; print the medians."""
        without, during, cpu, wall, fds = [], [], 0.0, 0.0, 0
        self.held, self.opened = "", 0
        for _ in range(self.args.runs):
            without.append(self.sync_once())
            base = open_fds(self.serve.pid)
            c0, t0 = cpu_seconds(self.serve.pid), time.monotonic()
            done = threading.Event()
            peak = [0]

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], open_fds(self.serve.pid) - base)
                    done.wait(0.02)
            sampler = threading.Thread(target=sample)
            sampler.start()
            state = start()
            try:
                during.append(self.sync_once())
            finally:
                stop(state)
                done.set()
                sampler.join()
            fds = max(fds, peak[0])
            cpu += cpu_seconds(self.serve.pid) - c0
            wall += time.monotonic() - t0
        w, d = statistics.median(without), statistics.median(during)
        print("%-10s no-op sync: %7.1f ms during, %7.1f ms without: %5.2fx   "
              "(mm serve CPU %.0f%% of the attack's %.1f s)"
              % (name, d * 1e3, w * 1e3, d / w, 100 * cpu / wall if wall else 0, wall))
        print("%-10s held: %s; attacker's connections open at once: %d; mm serve's "
              "descriptors above its count before: at most %d"
              % ("", self.held or "no session", self.opened, fds))
        sys.stdout.flush()

    # --- attacks: start() returns a state, stop(state) ends the attack ---

    def half_open_start(self):
        socks = []
        for _ in range(self.args.flood):
            s = socket.socket()
            s.setblocking(False)
            socks.append(s)
            s.connect_ex(("127.0.0.1", self.port))
        self.opened = max(self.opened, len(socks))
        time.sleep(0.2)             # let mm serve start accepting them
        return socks

    def half_open_stop(self, socks):
        for s in socks:
            s.close()
        time.sleep(0.5)             # mm serve sees them go before the next "without"

    def flood_start(self):
        stop = threading.Event()

        def run():
            socks, t0 = [], time.monotonic()
            while not stop.is_set() and time.monotonic() - t0 < FLOOD_SECONDS_MAX:
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", self.port))
                socks.append(s)
                self.opened = max(self.opened, len(socks))
                if len(socks) > FLOOD_OPEN_MAX:
                    socks.pop(0).close()
            for s in socks:
                s.close()
        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.2)
        return stop, t

    def flood_stop(self, state):
        stop, t = state
        stop.set()
        t.join()
        time.sleep(0.5)

    def hold_start(self):
        p = subprocess.Popen([self.args.rogue, "--home", self.ada, "--peer", "grace", "--send",
                              "hold", "--sessions", "70", "--every", "3000", "--timeout",
                              "15000"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True, env=self.env)
        first = p.stdout.readline().strip()
        if not first.startswith("holding"):
            raise RuntimeError("mm_rogue: %r" % first)
        self.held = "sessions " + first.split(" ", 1)[1] + " (mm_rogue)"
        self.opened = max(self.opened, 70)
        return p

    def hold_stop(self, p):
        p.kill()
        p.wait()
        time.sleep(0.5)             # mm serve ends the sessions whose connections went

    def never_read_start(self):
        ps = [subprocess.Popen([self.args.rogue, "--home", self.ada, "--peer", "grace", "--send",
                                "slow-ack", "--every", "100000", "--timeout", "20000"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True, env=self.env)
              for _ in range(6)]
        time.sleep(1.0)             # their sessions open and fill their credit
        self.opened = max(self.opened, 6)
        return ps

    def never_read_stop(self, ps):
        for p in ps:
            p.kill()
        outs = [p.communicate()[0].strip() for p in ps]
        busy = sum(1 for o in outs if o.startswith("MM_EBUSY"))
        self.held = "sessions %d of 6 (the others MM_EBUSY)" % (6 - busy)
        time.sleep(0.5)

    def slow_bytes_start(self):
        stop = threading.Event()
        socks = []
        for _ in range(self.args.slow):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", self.port))
            socks.append(s)
        self.opened = max(self.opened, len(socks))

        def run():
            greeting = b"\xff" + b"\0" * 8 + b"\x7f" + b"\x03\x00" + b"CURVE" + b"\0" * 47
            i = 0
            while not stop.is_set() and i < len(greeting):
                for s in socks:
                    try:
                        s.send(greeting[i:i + 1])
                    except OSError:
                        pass
                i += 1
                stop.wait(1.0)
        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.2)
        return stop, t, socks

    def slow_bytes_stop(self, state):
        stop, t, socks = state
        stop.set()
        t.join()
        for s in socks:
            s.close()
        time.sleep(0.5)

    def certs_of_ada(self):
        r = subprocess.run([self.args.inspect, self.grace], capture_output=True, text=True,
                           env=self.env, timeout=60)
        ada = json.loads(self.mm("--json", "id", home=self.ada))["identity"]
        for line in r.stdout.splitlines():
            w = line.split()
            if w[0] == "certs" and w[1] == ada:
                return int(w[2])
        return 0

    def cert_flood_start(self):
        stop = threading.Event()
        counts = {"sessions": 0, "answers": set()}

        def run():
            t0 = time.monotonic()
            kinds = ("cert-runs", "cert-flood")
            while not stop.is_set() and time.monotonic() - t0 < FLOOD_SECONDS_MAX:
                kind = kinds[counts["sessions"] % 2]
                p = subprocess.run([self.args.rogue, "--home", self.ada, "--peer", "grace",
                                    "--send", kind, "--count", "1000", "--timeout", "10000"],
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                   env=self.env, timeout=60)
                counts["sessions"] += 1
                if p.stdout.strip():
                    counts["answers"].add(p.stdout.strip().splitlines()[-1].split()[0])
        t = threading.Thread(target=run)
        t.start()
        time.sleep(0.3)
        return stop, t, counts

    def cert_flood_stop(self, state):
        stop, t, counts = state
        stop.set()
        t.join()
        self.opened = max(self.opened, 1)
        self.held = ("%d certificates of Ada stored (cap 64) after %s flood sessions, "
                     "answered %s" % (self.certs_of_ada(), counts["sessions"],
                                      ",".join(sorted(counts["answers"]))))
        time.sleep(0.2)

    def run(self):
        self.setup()
        print("mm serve: %s" % next(l for l in self.lines if "keeping at most" in l)
              .split("Z ", 1)[1])
        attacks = {"half-open": (self.half_open_start, self.half_open_stop),
                   "flood": (self.flood_start, self.flood_stop),
                   "hold": (self.hold_start, self.hold_stop),
                   "never-read": (self.never_read_start, self.never_read_stop),
                   "slow-bytes": (self.slow_bytes_start, self.slow_bytes_stop),
                   "cert-flood": (self.cert_flood_start, self.cert_flood_stop)}
        for name in self.args.attacks.split(","):
            self.measure(name, *attacks[name])

    def close(self):
        if self.serve and self.serve.poll() is None:
            self.serve.terminate()
            try:
                self.serve.wait(30)
            except subprocess.TimeoutExpired:
                self.serve.kill()
                self.serve.wait()
        if not self.args.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--flood", type=int, default=2000)
    ap.add_argument("--fd-limit", type=int, default=512)
    ap.add_argument("--slow", type=int, default=200)
    ap.add_argument("--attacks", default="half-open,flood,hold,never-read,slow-bytes,cert-flood")
    ap.add_argument("--mm", default=os.environ.get("MM_BIN") or os.path.join(ROOT, "build", "mm"))
    ap.add_argument("--rogue", default=os.path.join(ROOT, "build", "tests", "tools", "mm_rogue"))
    ap.add_argument("--fill", default=os.path.join(ROOT, "build", "tests", "tools", "mm_fill"))
    ap.add_argument("--inspect", default=os.path.join(ROOT, "build", "tests", "tools",
                                                      "mm_inspect"))
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.flood + FLOOD_OPEN_MAX + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    b = Bench(args)
    try:
        b.run()
    finally:
        b.close()


if __name__ == "__main__":
    main()
