#!/usr/bin/env python3
"""bench_fanin.py -- many peers sync new entries into one `mm serve` at once
(not a test).

In fresh homes, Grace runs `mm serve` on 127.0.0.1 and invites --peers
peers; each accepts, then writes --entries entries into its relationship
with Grace (tests/tools/mm_fill).  Then every peer's `mm sync grace` is
started at the same moment.  Reported: how many completed (exit 0, all
entries sent) without anyone retrying by hand, the error lines of those
that did not, the total wall time from the first start to the last exit,
the entries Grace stored per second over it, and mm serve's peak RSS
(VmHWM).

Usage: bench_fanin.py [--peers 100] [--entries 1000] [--mm PATH] [--fill PATH]
                      [--dir DIR] [--timeout 300] [--json FILE]
"""
import argparse
import collections
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))


class BenchError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--peers", type=int, default=100)
    ap.add_argument("--entries", type=int, default=1000)
    ap.add_argument("--mm", default=os.environ.get("MM_BIN") or os.path.join(ROOT, "build", "mm"))
    ap.add_argument("--fill", default=os.path.join(
        os.environ.get("MM_TOOLS") or os.path.join(ROOT, "build", "tests", "tools"), "mm_fill"))
    ap.add_argument("--dir", default=None)
    ap.add_argument("--timeout", type=int, default=300, help="mm sync --timeout, seconds")
    ap.add_argument("--json", default=None, metavar="FILE")
    a = ap.parse_args()
    mm, fill = os.path.abspath(a.mm), os.path.abspath(a.fill)
    env = dict(os.environ)
    env.pop("MM_HOME", None)

    def run(*argv):
        p = subprocess.run(argv, capture_output=True, text=True, env=env,
                           stdin=subprocess.DEVNULL, timeout=600)
        if p.returncode != 0:
            raise BenchError("%s exited %d: %s" % (" ".join(argv), p.returncode,
                                                   p.stderr.strip()))
        return p.stdout

    tmp = tempfile.mkdtemp(prefix="mm-bench-fanin-", dir=a.dir)
    g = os.path.join(tmp, "grace")
    srv = None
    try:
        run(mm, "--home", g, "init", "--name", "Grace")
        ep = "tcp://127.0.0.1:%d" % free_port()
        srv = subprocess.Popen([mm, "--home", g, "serve", "--listen", ep],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env)
        for line in srv.stdout:
            if "listening on" in line:
                break
        else:
            raise BenchError("mm serve did not start")
        # serve's output is not read from here on: send it nowhere
        subprocess.Popen(["cat"], stdin=srv.stdout, stdout=subprocess.DEVNULL)
        print("fan-in: %d peers x %d entries, setting up ..." % (a.peers, a.entries), flush=True)
        homes = []
        for i in range(a.peers):
            h = os.path.join(tmp, "p%03d" % i)
            run(mm, "--home", h, "init", "--name", "P%d" % i)
            code = json.loads(run(mm, "--home", g, "invite", "--endpoint", ep, "--json"))["code"]
            run(mm, "--home", h, "accept", code, "--name", "grace")
            run(fill, "--home", h, "--peer", "grace", "--count", str(a.entries))
            homes.append(h)
        load0 = os.getloadavg()[0]
        t0 = time.monotonic()
        procs = [subprocess.Popen([mm, "--home", h, "--json", "sync", "grace", "--timeout",
                                   str(a.timeout)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env,
                                  stdin=subprocess.DEVNULL) for h in homes]
        ok, sent, errors = 0, 0, collections.Counter()
        for p in procs:
            out, err = p.communicate()
            try:
                peer = json.loads(out)["peers"][0]
            except (ValueError, KeyError, IndexError):
                peer = {}
            if p.returncode == 0 and peer.get("ok") and peer.get("sent") == a.entries:
                ok += 1
                sent += a.entries
            else:
                line = (err.strip().splitlines() or [peer.get("error", "exit %d" % p.returncode)])
                errors[str(line[-1])[:160]] += 1
        wall = time.monotonic() - t0
        hwm = 0
        with open("/proc/%d/status" % srv.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
        r = {"peers": a.peers, "entries": a.entries, "completed": ok, "wall_s": wall,
             "stored_per_s": sent / wall, "serve_hwm_kb": hwm, "errors": dict(errors),
             "load": [load0, os.getloadavg()[0]]}
    except BenchError as e:
        print("bench_fanin: %s" % e, file=sys.stderr)
        return 1
    finally:
        if srv:
            srv.terminate()
            srv.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("fan-in: %d of %d completed in %.2f s; %.0f entries/s stored; serve peak RSS %.1f MB"
          % (r["completed"], r["peers"], r["wall_s"], r["stored_per_s"], r["serve_hwm_kb"] / 1024))
    for e, k in sorted(r["errors"].items(), key=lambda x: -x[1]):
        print("  %3d x %s" % (k, e))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(r, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
