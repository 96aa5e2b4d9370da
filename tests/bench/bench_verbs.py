#!/usr/bin/env python3
"""How the cost of one engagement verb grows with the number of
relationships: `mm answer` on a mentor and `mm thank` on a mentee, each
counted in instructions by valgrind --tool=callgrind (repeatable, unlike
time), at 2 and at N relationships.  A verb loads only the relationship
concerned, so the count should stay about flat.

    python3 tests/bench/bench_verbs.py [--mm build/mm] [--n 200]
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

Q = "What would you weigh first when my team wants a parser rewrite before March?"


def run(mm, home, *args, check=True):
    p = subprocess.run([mm, "--home", home, *args], capture_output=True, text=True,
                       timeout=120)
    if check and p.returncode != 0:
        sys.exit("mm %s failed: %s" % (" ".join(args), p.stderr.strip()))
    return p.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PORTS = {}


def serve(mm, home):
    """mm serve for home, on the same port each time (peers keep its address)."""
    port = PORTS.setdefault(home, free_port())
    p = subprocess.Popen([mm, "--home", home, "serve", "--listen", "tcp://127.0.0.1:%d" % port],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in p.stdout:
        if "listening on" in line:
            return p
    sys.exit("mm serve did not start")


def callgrind(mm, home, *args):
    out = tempfile.mktemp(prefix="cg-")
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                        mm, "--home", home, *args], capture_output=True, text=True,
                       timeout=600)
    if p.returncode != 0:
        sys.exit("callgrind mm %s failed: %s" % (" ".join(args), p.stderr[-2000:]))
    m = re.search(r"Collected : (\d+)", p.stderr)
    os.unlink(out)
    return int(m.group(1))


def world(mm, root, n, hub_role):
    """A hub with n relationships; peer 0 is the one the verb concerns.
    hub_role 'mentor': the hub mentors them all; 'mentee': they all mentor it."""
    hub = os.path.join(root, "hub")
    run(mm, hub, "init", "--name", "Hub")
    srv = serve(mm, hub)
    peers = []
    try:
        for i in range(n):
            h = os.path.join(root, "p%d" % i)
            run(mm, h, "init", "--name", "P%d" % i)
            code = json.loads(run(mm, hub, "invite", "--role", hub_role, "--json"))["code"]
            run(mm, h, "accept", code, "--name", "hub")
            peers.append(h)
    finally:
        srv.terminate()
        srv.wait()
    return hub, peers


def measure(mm, n):
    root = tempfile.mkdtemp(prefix="bench-verbs-")
    try:
        # answer: the hub is the mentor of n mentees; mentee 0 asks
        hub, peers = world(mm, os.path.join(root, "a"), n, "mentor")
        srv = serve(mm, hub)
        qid = json.loads(run(mm, peers[0], "ask", "hub", Q, "--json"))["id"]
        run(mm, peers[0], "sync", "hub")
        srv.terminate()
        srv.wait()
        answer = callgrind(mm, hub, "answer", qid[:12], "Start from the failing cases.")
        # thank: the hub is the mentee of n mentors; mentor 0 answers
        hub, peers = world(mm, os.path.join(root, "t"), n, "mentee")
        qid = json.loads(run(mm, hub, "ask", "p0", Q, "--as-is", "--json"))["id"]
        srv = serve(mm, hub)
        run(mm, peers[0], "sync", "hub")
        run(mm, peers[0], "answer", qid[:12], "Start from the failing cases.")
        run(mm, peers[0], "sync", "hub")
        srv.terminate()
        srv.wait()
        thank = callgrind(mm, hub, "thank", qid[:12], "That helped, thank you.")
        return answer, thank
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mm", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                 "build", "mm"))
    ap.add_argument("--n", type=int, default=200)
    a = ap.parse_args()
    mm = os.path.abspath(a.mm)
    t0 = time.time()
    small = measure(mm, 2)
    big = measure(mm, a.n)
    for i, verb in enumerate(("answer", "thank")):
        print("mm %-6s  2 relationships: %12d instructions   %d: %12d   ratio %.3f"
              % (verb, small[i], a.n, big[i], big[i] / small[i]))
    print("(%.0f s)" % (time.time() - t0))


if __name__ == "__main__":
    main()
