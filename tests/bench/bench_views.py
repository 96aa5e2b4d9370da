#!/usr/bin/env python3
"""bench_views.py -- `mm status`, `mm inbox`, `mm thread PEER` on a large
relationship, as whole processes (not a test).

For each N (default 10,000 and 1,000,000), in fresh homes: Grace (the
mentor) runs `mm serve` on 127.0.0.1 and invites Ada (the mentee); they
hold a real engagement (--rounds rounds of ask, answer, thank, each synced:
about 20 entries with the invite's), then Grace's own feed in the
relationship gets N - that entries of a type the views do not show
(tests/tools/mm_fill's "fill").  Grace's three views are then timed as
whole processes, the median of --runs runs each; with --instr also counted
in instructions by valgrind --tool=callgrind (repeatable, unlike time; at
1,000,000 entries that takes minutes per view).

Usage: bench_views.py [--counts 10000,1000000] [--runs 5] [--rounds 6]
                      [--instr] [--mm PATH] [--fill PATH] [--dir DIR]
                      [--json FILE]
"""
import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
Q = "What would you weigh first when my team wants a parser rewrite before March (round %d)?"
VIEWS = (("status",), ("inbox",), ("thread", "ada"))


class BenchError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Views:
    def __init__(self, a):
        self.a = a
        self.env = dict(os.environ)
        for k in ("MM_HOME", "XDG_DATA_HOME"):
            self.env.pop(k, None)

    def run(self, argv, timeout=3600):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=self.env,
                           stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise BenchError("%s exited %d: %s" % (" ".join(argv), p.returncode,
                                                   p.stderr.strip()[-500:]))
        return p.stdout

    def mm(self, home, *args):
        return self.run([self.a.mm, "--home", home] + list(args))

    def timed(self, home, args):
        argv = [self.a.mm, "--home", home] + list(args)
        t = []
        for _ in range(self.a.runs):
            t0 = time.monotonic()
            p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=self.env, stdin=subprocess.DEVNULL)
            t.append(time.monotonic() - t0)
            if p.returncode != 0:
                raise BenchError("mm %s exited %d: %s" % (" ".join(args), p.returncode,
                                                          p.stderr.decode().strip()))
        return statistics.median(t)

    def instructions(self, home, args, tmp):
        out = os.path.join(tmp, "callgrind.out")
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                            self.a.mm, "--home", home] + list(args), capture_output=True,
                           text=True, env=self.env, stdin=subprocess.DEVNULL)
        m = re.search(r"Collected : (\d+)", p.stderr)
        if p.returncode != 0 or not m:
            raise BenchError("callgrind mm %s: %s" % (" ".join(args), p.stderr[-500:]))
        os.unlink(out)
        return int(m.group(1))

    def world(self, tmp, n):
        """Grace's home with an engagement with Ada and n entries in all."""
        g, a = os.path.join(tmp, "grace"), os.path.join(tmp, "ada")
        self.mm(g, "init", "--name", "Grace")
        self.mm(a, "init", "--name", "Ada")
        ep = "tcp://127.0.0.1:%d" % free_port()
        srv = subprocess.Popen([self.a.mm, "--home", g, "serve", "--listen", ep],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=self.env)
        try:
            for line in srv.stdout:
                if "listening on" in line:
                    break
            else:
                raise BenchError("mm serve did not start")
            code = json.loads(self.mm(g, "invite", "--role", "mentor", "--endpoint", ep,
                                      "--json"))["code"]
            self.mm(a, "accept", code, "--name", "grace")
            for i in range(self.a.rounds):
                qid = json.loads(self.mm(a, "ask", "grace", Q % i, "--as-is", "--json"))["id"]
                self.mm(a, "sync", "grace")
                self.mm(g, "answer", qid[:12], "Start from the failing cases, round %d." % i)
                self.mm(a, "sync", "grace")
                self.mm(a, "thank", qid[:12], "That helped, thank you (round %d)." % i)
                self.mm(a, "sync", "grace")
        finally:
            srv.terminate()
            srv.wait()
        ada = json.loads(self.mm(a, "--json", "id"))["identity"]
        held = json.loads(self.mm(g, "--json", "verify"))["entries"]
        if n > held:
            self.run([self.a.fill, "--home", g, "--peer", ada, "--count", str(n - held)])
        return g, held

    def measure(self, n):
        tmp = tempfile.mkdtemp(prefix="mm-bench-views-", dir=self.a.dir)
        try:
            g, engaged = self.world(tmp, n)
            r = {"n": n, "engagement_entries": engaged, "load": os.getloadavg()[0]}
            for v in VIEWS:
                r[v[0] + "_s"] = self.timed(g, v)
                if self.a.instr:
                    r[v[0] + "_instr"] = self.instructions(g, v, tmp)
            return r
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--counts", default="10000,1000000")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=6, help="ask/answer/thank rounds")
    ap.add_argument("--instr", action="store_true", help="also count instructions (slow)")
    ap.add_argument("--mm", default=os.environ.get("MM_BIN") or os.path.join(ROOT, "build", "mm"))
    ap.add_argument("--fill", default=os.path.join(
        os.environ.get("MM_TOOLS") or os.path.join(ROOT, "build", "tests", "tools"), "mm_fill"))
    ap.add_argument("--dir", default=None)
    ap.add_argument("--json", default=None, metavar="FILE")
    a = ap.parse_args()
    a.mm, a.fill = os.path.abspath(a.mm), os.path.abspath(a.fill)
    counts = [int(x.replace("_", "")) for x in a.counts.split(",") if x]
    b = Views(a)
    rows = []
    try:
        for n in counts:
            print("N=%d ..." % n, flush=True)
            rows.append(b.measure(n))
    except BenchError as e:
        print("bench_views: %s" % e, file=sys.stderr)
        return 1
    for r in rows:
        print("N=%-9d " % r["n"] + "  ".join(
            "%s %.1f ms%s" % (v[0], 1e3 * r[v[0] + "_s"],
                              " (%.1f Minstr)" % (r[v[0] + "_instr"] / 1e6)
                              if v[0] + "_instr" in r else "") for v in VIEWS))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
