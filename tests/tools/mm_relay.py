#!/usr/bin/env python3
"""mm_relay.py -- a TCP relay that delays every byte (a test tool).

    mm_relay.py --listen HOST:PORT --to HOST:PORT --delay SECONDS

The kernel of the test machines has no netem, so where latency matters the
fault tests put this between mm sync and mm serve: each chunk read from one
side is written to the other SECONDS later, in order, in both directions (a
round trip costs 2 x SECONDS).  PORT 0 picks a free port.  Prints
"listening on HOST:PORT" once ready, then runs until killed.
"""
import argparse
import collections
import socket
import sys
import threading
import time


def hostport(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def pump(src, dst, delay):
    """Copy src to dst, each chunk delay seconds after it was read."""
    queue = collections.deque()
    cond = threading.Condition()
    done = []

    def writer():
        while True:
            with cond:
                while not queue and not done:
                    cond.wait()
                if not queue:
                    break
                due, data = queue[0]
            wait = due - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            with cond:
                queue.popleft()
            try:
                dst.sendall(data)
            except OSError:
                break
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    while True:
        try:
            data = src.recv(65536)
        except OSError:
            data = b""
        with cond:
            if not data:
                done.append(1)
                cond.notify()
                break
            queue.append((time.monotonic() + delay, data))
            cond.notify()
    t.join()


def serve(conn, to, delay):
    try:
        up = socket.create_connection(to, timeout=10)
        up.settimeout(None)
    except OSError:
        conn.close()
        return
    a = threading.Thread(target=pump, args=(conn, up, delay), daemon=True)
    b = threading.Thread(target=pump, args=(up, conn, delay), daemon=True)
    a.start()
    b.start()
    a.join()
    b.join()
    conn.close()
    up.close()


def main():
    ap = argparse.ArgumentParser(description="a delaying TCP relay")
    ap.add_argument("--listen", required=True, type=hostport)
    ap.add_argument("--to", required=True, type=hostport)
    ap.add_argument("--delay", required=True, type=float)
    o = ap.parse_args()
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(o.listen)
    ls.listen(64)
    print("listening on %s:%d" % ls.getsockname(), flush=True)
    while True:
        conn, _ = ls.accept()
        threading.Thread(target=serve, args=(conn, o.to, o.delay), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
