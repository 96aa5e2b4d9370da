#!/usr/bin/env python3
"""How the cost of the views grows with the log (issue 13): `mm status`,
`mm inbox` and `mm thread PEER` as whole processes, counted in
instructions by valgrind --tool=callgrind (repeatable, unlike time), on a
relationship of --small and of --big entries: a real engagement of about
20 entries (five questions asked, released, answered and thanked) plus
bulk entries of a type the views do not show (mm_fill's "fill"), on both
the mentee's side (who wrote them) and the mentor's (who received them by
sync).  Views read the index of engagement items (core/view.h), so the
counts should stay flat; the ratio big/small is printed per command.

    python3 tests/bench/bench_views_cg.py [--mm build/mm] [--small 10000] [--big 1000000]
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

Q = "What would you weigh first when my team wants a parser rewrite before March, round %d?"
A = "Start from the failing cases your users report; rewrite only what they touch."
T = "Thank you, that helped with my team."
ENGAGE_ROUNDS = 5                   # 4 entries each: question, queue, answer, thanks


def run(mm, home, *args, env=None):
    p = subprocess.run([mm, "--home", home, *args], capture_output=True, text=True,
                       timeout=3600, env=env)
    if p.returncode != 0:
        sys.exit("mm %s failed: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(mm, home, port):
    p = subprocess.Popen([mm, "--home", home, "serve", "--listen", "tcp://127.0.0.1:%d" % port],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in p.stdout:
        if "reachable at" in line:
            return p
    sys.exit("mm serve did not start")


def callgrind(mm, home, *args):
    out = tempfile.mktemp(prefix="cg-")
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                        mm, "--home", home, *args], capture_output=True, text=True,
                       timeout=3600)
    if p.returncode != 0:
        sys.exit("callgrind mm %s failed: %s" % (" ".join(args), p.stderr[-2000:]))
    m = re.search(r"Collected : (\d+)", p.stderr)
    os.unlink(out)
    return int(m.group(1)), p.stdout


def engage(mm, root):
    """Grace mentors Ada, and they hold a real engagement."""
    grace, ada = os.path.join(root, "grace"), os.path.join(root, "ada")
    run(mm, grace, "init", "--name", "Grace")
    run(mm, ada, "init", "--name", "Ada")
    port = free_port()
    srv = serve(mm, grace, port)
    try:
        code = json.loads(run(mm, grace, "invite", "--json"))["code"]
        run(mm, ada, "accept", code, "--name", "grace")
        for i in range(ENGAGE_ROUNDS):
            qid = json.loads(run(mm, ada, "ask", "grace", Q % i, "--as-is", "--json"))["id"]
            run(mm, ada, "sync", "grace")
            run(mm, grace, "inbox")             # settles: releases it
            run(mm, grace, "answer", qid[:12], A)
            run(mm, ada, "sync", "grace")
            run(mm, ada, "thank", qid[:12], T)
            run(mm, ada, "sync", "grace")
    finally:
        srv.terminate()
        srv.wait()
    return ada, grace, port


def bulk(mm, fill, ada, grace, port, n):
    """n bulk entries in the relationship, written by Ada, synced to Grace."""
    srv = serve(mm, grace, port)
    try:
        t0 = time.time()
        p = subprocess.run([fill, "--home", ada, "--peer", "grace", "--count", str(n)],
                           capture_output=True, text=True, timeout=3600)
        if p.returncode != 0:
            sys.exit("mm_fill failed: %s" % p.stderr)
        run(mm, ada, "sync", "grace", "--timeout", "3000")
        print("  %d bulk entries filled and synced in %.0f s" % (n, time.time() - t0),
              flush=True)
    finally:
        srv.terminate()
        srv.wait()
    # a first look sets each side's mark: what is measured is a look with
    # nothing new, the same at every size
    for h in (ada, grace):
        run(mm, h, "status")


def measure(mm, fill, sizes):
    """Both engagements first, then the bulk, then every count: the
    engagements are then about as old in both (the views print relative
    times, "7 minutes ago", and a different text is a different count)."""
    root = tempfile.mkdtemp(prefix="bench-views-")
    try:
        worlds = [engage(mm, os.path.join(root, "w%d" % i)) for i in range(len(sizes))]
        for (ada, grace, port), n in zip(worlds, sizes):
            bulk(mm, fill, ada, grace, port, n)
        out = [{} for _ in sizes]
        for who, side in (("mentee", 0), ("mentor", 1)):
            for cmd in ("status", "inbox", "thread"):
                for i, w in enumerate(worlds):
                    args = (cmd, "ada" if side else "grace") if cmd == "thread" else (cmd,)
                    out[i][(who, cmd)] = callgrind(mm, w[side], *args)
        return out
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--mm", default=os.path.join(here, "..", "..", "build", "mm"))
    ap.add_argument("--small", type=int, default=10000)
    ap.add_argument("--big", type=int, default=1000000)
    a = ap.parse_args()
    mm = os.path.abspath(a.mm)
    fill = os.path.join(os.path.dirname(mm), "tests", "tools", "mm_fill")
    n_engage = 1 + 4 * ENGAGE_ROUNDS        # the invite's entry too
    t0 = time.time()
    print("relationships of %d and %d entries:" % (a.small, a.big), flush=True)
    small, big = measure(mm, fill, (a.small - n_engage, a.big - n_engage))
    for k in small:
        s, b = small[k][0], big[k][0]
        print("mm %-6s (%s)  %d: %12d instructions   %d: %12d   ratio %.4f"
              % (k[1], k[0], a.small, s, a.big, b, b / s))
    print("(%.0f s)" % (time.time() - t0))


if __name__ == "__main__":
    main()
