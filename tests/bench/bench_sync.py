#!/usr/bin/env python3
"""bench_sync.py -- sync throughput between two real mm processes (not a test).

For each N (default 100,000 and 1,000,000), in fresh homes Grace and Ada:
Grace runs `mm serve` on 127.0.0.1, invites Ada, Ada accepts; Ada writes a
few entries of her own and Grace fills N (tests/tools/mm_fill); then Ada's
`mm sync grace` is timed while her store holds none of those N entries.
Then 99 more device feeds are added (63 Grace devices, 36 Ada devices: a
person holds at most 64 certificates), Ada syncs once more, and the no-op
re-sync (nothing changed, 64 Grace feeds + 37 Ada feeds) is timed as the
median of --runs runs.

Baselines from the same machine, same run, so the figures read as ratios:
  - Grace's `mm verify` of her own store (the full local verifier, entries/s);
  - reading data.mdb from the page cache (cat > /dev/null) and copying it
    over a loopback TCP socket (MB/s).
Peak RSS: mm serve's VmHWM (from /proc before it is stopped), and mm sync's
ru_maxrss (wait4 on that one child).  Both include mapped store pages.

With --incr, Grace then writes 10 more entries and Ada's `mm sync grace`
that fetches them is counted in instructions by valgrind --tool=callgrind
(repeatable, unlike time): the incremental sync should cost the same at
any store size.  Whether a no-op sync wrote to either store is seen from
data.mdb's modification time (LMDB writes a meta page on each commit).

Usage: bench_sync.py [--counts 100000,1000000] [--size 256] [--runs 5] [--mm PATH]
                     [--fill PATH] [--dir DIR] [--keep] [--perf DIR]
                     [--no-noop] [--incr] [--json FILE] [--session PATH]
  --size B    bytes of text per entry (mm_fill --size); 60000 is the largest
  --no-noop   only the bulk sync (no extra feeds, no no-op re-syncs)
  --json FILE also write the figures of each N to FILE (tests/bench/run)
  --session P tests/bench/bench_session: the no-op session once more, both
              homes in one process with no transport (the connection open)
  --perf DIR  also record the timed sync of each N with `perf record -g`
              (the reader as its child, the server attached by pid) into
              DIR/{sync,serve}-N.data; figures of that run include perf's cost.
"""
import argparse
import re
import json
import os
import queue
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
GOAL_RSS_KB = 64 * 1024     # each side
ADA_OWN = 10                # entries Ada writes, so she has a feed to send
# extra device feeds for the no-op re-sync: a person holds at most 64
# certificates (PROTOCOL.md 3.1), so the 99 extra feeds are split: 63 more
# Grace devices (64 Grace feeds) and 36 more Ada devices (37 Ada feeds)
EXTRA_GRACE = 63
EXTRA_ADA = 36
EXTRA_FEEDS = EXTRA_GRACE + EXTRA_ADA
EXTRA_PER_FEED = 100


class BenchError(Exception):
    pass


def default_path(env, *rel):
    return os.environ.get(env) or os.path.join(ROOT, *rel)


class Run:
    """One finished process: rc, out, err, wall seconds, rusage."""

    def __init__(self, argv, rc, out, err, wall, ru):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err
        self.wall, self.ru = wall, ru

    def check(self):
        if self.rc != 0:
            raise BenchError("%s exited %s: %s%s" % (" ".join(self.argv), self.rc,
                                                     self.err.strip(), self.out.strip()[:500]))
        return self


class Bench:
    def __init__(self, args):
        self.args = args
        self.mm = os.path.abspath(args.mm)
        self.fill = os.path.abspath(args.fill)
        self.env = dict(os.environ)
        for k in ("MM_HOME", "XDG_DATA_HOME"):
            self.env.pop(k, None)
        self.serve = None
        self.serve_lines = queue.Queue()

    # --- processes -----------------------------------------------------

    def run(self, argv, timeout=7200):
        """Run argv to the end; wait4 gives this child's own rusage.  The
        wait blocks (a timer kills a child past timeout): polling every
        2 ms added up to 2 ms to each wall time, and put the medians of the
        millisecond figures (the no-op sync) on a 2.2 ms grid."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            t0 = time.monotonic()
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                 env=self.env)
            killed = []
            timer = threading.Timer(timeout, lambda: (killed.append(1), p.kill()))
            timer.daemon = True
            timer.start()
            try:
                _, status, ru = os.wait4(p.pid, 0)
            finally:
                timer.cancel()
            wall = time.monotonic() - t0
            if killed:
                p.returncode = -9
                raise BenchError("%s: timed out" % " ".join(argv))
            p.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            return Run(argv, p.returncode, out.read().decode(errors="replace"),
                       err.read().decode(errors="replace"), wall, ru)

    def mm_run(self, home, *args, **kw):
        return self.run([self.mm, "--home", home] + list(args), **kw)

    def start_serve(self, home, endpoint):
        argv = [self.mm, "--home", home, "serve", "--listen", endpoint]
        self.serve_err = tempfile.TemporaryFile()
        self.serve = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                      stderr=self.serve_err, env=self.env, text=True)
        self.serve_lines = queue.Queue()

        def pump(f, q):
            for line in f:
                q.put(line.rstrip("\n"))
            q.put(None)
        threading.Thread(target=pump, args=(self.serve.stdout, self.serve_lines),
                         daemon=True).start()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                line = self.serve_lines.get(timeout=0.2)
            except queue.Empty:
                continue
            if line is None:
                break
            if " listening on " in line:
                return
        self.serve_err.seek(0)
        raise BenchError("mm serve did not start: %s"
                         % self.serve_err.read().decode(errors="replace").strip())

    def serve_status(self):
        """VmHWM, VmRSS, RssAnon (kB) and CPU seconds of the running mm serve."""
        st = {}
        with open("/proc/%d/status" % self.serve.pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon", "RssFile"):
                    st[k] = int(v.split()[0])
        with open("/proc/%d/stat" % self.serve.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        st["cpu"] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return st

    def stop_serve(self):
        if not self.serve:
            return None
        p, self.serve = self.serve, None
        p.send_signal(signal.SIGTERM)
        try:
            rc = p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rc = "killed after SIGTERM was ignored for 20 s"
        self.serve_err.close()
        return rc

    def callgrind_sync(self, home, expect):
        """Instructions of one `mm sync grace` that receives `expect` entries."""
        out = os.path.join(os.path.dirname(home), "callgrind.out")
        c = self.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out,
                      self.mm, "--home", home, "--json", "sync", "grace"]).check()
        got = json.loads(c.out[c.out.index("{"):])["peers"][0]["received"]
        if got != expect:
            raise BenchError("incremental sync received %d entries, not %d" % (got, expect))
        m = re.search(r"Collected : (\d+)", c.err)
        if not m:
            raise BenchError("no instruction count from callgrind: %s" % c.err[-500:])
        os.unlink(out)
        return int(m.group(1))

    def floor_start(self):
        """bench_limits --floor-server: (process, [endpoint, server key])."""
        p = subprocess.Popen([self.args.floor, "--floor-server"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
        words = p.stdout.readline().split()
        if len(words) != 2:
            p.kill()
            raise BenchError("bench_limits --floor-server printed %r" % words)
        return p, words

    # --- one scenario ----------------------------------------------------

    def scenario(self, n, tmp):
        a = self.args
        g_home, a_home = os.path.join(tmp, "grace"), os.path.join(tmp, "ada")
        load0 = os.getloadavg()
        self.mm_run(g_home, "init", "--name", "Grace").check()
        self.mm_run(a_home, "init", "--name", "Ada").check()
        endpoint = "tcp://127.0.0.1:%d" % free_port()
        self.start_serve(g_home, endpoint)
        r = {"n": n}
        try:
            code = self.mm_run(g_home, "invite", "--endpoint", endpoint).check().out.strip()
            self.mm_run(a_home, "accept", code, "--name", "grace").check()
            ada_id = json.loads(self.mm_run(a_home, "--json", "id").check().out)["identity"]
            self.run([self.fill, "--home", a_home, "--peer", "grace",
                      "--count", str(ADA_OWN)]).check()
            f = self.run([self.fill, "--home", g_home, "--peer", ada_id,
                          "--count", str(n), "--size", str(a.size)]).check()
            r["fill_s"] = f.wall

            # the timed sync: Ada holds none of the N entries
            before = self.serve_status()
            argv = [self.mm, "--home", a_home, "--json", "sync", "grace",
                    "--timeout", str(a.timeout)]
            perf_serve = None
            if a.perf:
                perf_serve = subprocess.Popen(
                    ["perf", "record", "-g", "-q", "-o",
                     os.path.join(a.perf, "serve-%d.data" % n), "-p", str(self.serve.pid)],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.5)
                argv = ["perf", "record", "-g", "-q", "-o",
                        os.path.join(a.perf, "sync-%d.data" % n), "--"] + argv
            sampler = Sampler(self.serve.pid)
            # wait4's ru_maxrss of a child forked from this (large) Python
            # process can count the parent's pages from before exec, so the
            # reader's peak is taken by /usr/bin/time where it exists
            timed = os.path.exists("/usr/bin/time") and not a.perf
            if timed:
                argv = ["/usr/bin/time", "-f", "MAXRSS_KB %M"] + argv
            s = self.run(argv).check()
            if timed:
                m = re.search(r"MAXRSS_KB (\d+)", s.err)
                s.ru_maxrss_kb = int(m.group(1)) if m else s.ru.ru_maxrss
            else:
                s.ru_maxrss_kb = s.ru.ru_maxrss
            sampler.stop()
            if perf_serve:
                perf_serve.send_signal(signal.SIGINT)
                perf_serve.wait()
            after = self.serve_status()
            js = json.loads(s.out if not a.perf else s.out[s.out.index("{"):])
            peer = js["peers"][0]
            if not peer["ok"] or peer["received"] != n:
                raise BenchError("sync received %r of %d entries: %r" % (peer["received"], n, js))
            r.update(sync_s=s.wall, sync_ms_self=peer["ms"], bytes=peer["bytes_received"],
                     sent=peer["sent"], sync_rss=s.ru_maxrss_kb,
                     sync_cpu=s.ru.ru_utime + s.ru.ru_stime,
                     serve_cpu=after["cpu"] - before["cpu"], serve_peak=sampler.peak,
                     serve_hwm=after["VmHWM"])
            if a.no_noop:
                return r

            # 99 more feeds (63 Grace, 36 Ada devices), one catch-up sync,
            # then no-op re-syncs
            self.run([self.fill, "--home", g_home, "--peer", ada_id, "--devices",
                      str(EXTRA_GRACE), "--count",
                      str(EXTRA_GRACE * EXTRA_PER_FEED)]).check()
            self.run([self.fill, "--home", a_home, "--peer", "grace", "--devices",
                      str(EXTRA_ADA), "--count",
                      str(EXTRA_ADA * EXTRA_PER_FEED)]).check()
            c = self.mm_run(a_home, "--json", "sync", "grace").check()
            pj = json.loads(c.out)["peers"][0]
            r["catchup"] = pj["received"] + pj["sent"]
            if (pj["received"], pj["sent"]) != (EXTRA_GRACE * EXTRA_PER_FEED,
                                                EXTRA_ADA * EXTRA_PER_FEED):
                raise BenchError("catch-up sync received %d and sent %d entries, not %d and %d"
                                 % (pj["received"], pj["sent"], EXTRA_GRACE * EXTRA_PER_FEED,
                                    EXTRA_ADA * EXTRA_PER_FEED))
            r["catchup_s"] = c.wall
            noop, floor = [], []
            mtimes = store_mtimes(g_home, a_home)
            fl = self.floor_start() if a.floor else None
            try:
                for _ in range(a.runs):
                    c = self.mm_run(a_home, "--json", "sync", "grace").check()
                    pj = json.loads(c.out)["peers"][0]
                    if pj["received"] or pj["sent"]:
                        raise BenchError("no-op sync moved entries: %r" % pj)
                    noop.append(c.wall)
                    if fl:          # the same harness, turn about with mm
                        floor.append(self.run([a.floor, "--floor-client"] + fl[1]).check().wall)
            finally:
                if fl:
                    fl[0].stdin.close()
                    fl[0].wait(timeout=20)
            r["noop_s"] = statistics.median(noop)
            if floor:
                r["noop_floor_s"] = statistics.median(floor)
            r["noop_wrote"] = store_mtimes(g_home, a_home) != mtimes
            if a.incr:
                self.run([self.fill, "--home", g_home, "--peer", ada_id,
                          "--count", "10"]).check()
                r["incr_instr"] = self.callgrind_sync(a_home, 10)
            st = self.serve_status()
            r["serve_hwm"], r["serve_rss"], r["serve_anon"] = (st["VmHWM"], st["VmRSS"],
                                                                st.get("RssAnon", 0))
        finally:
            rc = self.stop_serve()
        if rc != 0:
            raise BenchError("mm serve exited %s on SIGTERM" % rc)

        # baselines
        v = self.mm_run(g_home, "--json", "verify").check()
        r["verify_n"] = json.loads(v.out)["entries"]
        r["verify_s"] = v.wall
        mdb = os.path.join(g_home, "store", "data.mdb")
        r["mdb_bytes"] = os.path.getsize(mdb)
        r["ada_mdb_bytes"] = os.path.getsize(os.path.join(a_home, "store", "data.mdb"))
        self.run(["cat", mdb])                         # warm the page cache
        t0 = time.monotonic()
        subprocess.run("cat '%s' > /dev/null" % mdb, shell=True, check=True)
        r["cat_s"] = time.monotonic() - t0
        r["sock_s"] = socket_copy(mdb)
        if a.session:
            gid = json.loads(self.mm_run(g_home, "--json", "id").check().out)["identity"]
            x = self.run([a.session, "--client", a_home, "--server", g_home,
                          "--peer-identity", gid, "--runs", str(max(a.runs, 51))]).check()
            r["session"] = json.loads(x.out)
            if r["session"]["entries_moved"]:
                raise BenchError("an in-process no-op session moved entries: %s" % x.out)
        r["load"] = (load0, os.getloadavg())
        return r


class Sampler:
    """Peak VmRSS / RssAnon / RssFile (kB) of a process, sampled every 20 ms
    in a thread: shows whether a peak is heap or mapped store pages."""

    def __init__(self, pid):
        self.pid, self.peak, self.done = pid, {}, threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.done.wait(0.02):
            try:
                with open("/proc/%d/status" % self.pid) as f:
                    for line in f:
                        k, _, v = line.partition(":")
                        if k in ("VmRSS", "RssAnon", "RssFile"):
                            self.peak[k] = max(self.peak.get(k, 0), int(v.split()[0]))
            except OSError:
                return

    def stop(self):
        self.done.set()
        self.t.join()


def store_mtimes(*homes):
    return [os.stat(os.path.join(h, "store", "data.mdb")).st_mtime_ns for h in homes]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def socket_copy(path):
    """Seconds to send the file over a loopback TCP connection, received in
    64 KiB reads by another thread (sendfile on the sending side)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    got = [0]

    def recv():
        c, _ = srv.accept()
        buf = bytearray(65536)
        with c:
            while True:
                k = c.recv_into(buf)
                if not k:
                    break
                got[0] += k
    t = threading.Thread(target=recv)
    t.start()
    t0 = time.monotonic()
    with socket.create_connection(srv.getsockname()) as c, open(path, "rb") as f:
        c.sendfile(f)
        c.shutdown(socket.SHUT_WR)
        t.join()
    dt = time.monotonic() - t0
    srv.close()
    if got[0] != os.path.getsize(path):
        raise BenchError("socket copy lost bytes")
    return dt


def mb(b):
    return b / 1e6


def report(rows):
    if "noop_s" not in rows[0]:
        for r in rows:
            print("N=%d x %d B: %.2f s, %.0f entries/s, %.1f MB/s; peak RSS reader %.1f MB, "
                  "serve %.1f MB" % (r["n"], r["size"], r["sync_s"], r["n"] / r["sync_s"],
                                     mb(r["bytes"]) / r["sync_s"], r["sync_rss"] / 1024,
                                     r["serve_hwm"] / 1024))
        return
    print()
    print("%-44s" % "N entries" + "".join("%16s" % "{:,}".format(r["n"]) for r in rows))

    def line(label, fmt):
        print("%-44s" % label + "".join("%16s" % fmt(r) for r in rows))
    line("fill (mm_fill, 1,000/txn)  s", lambda r: "%.2f" % r["fill_s"])
    line("mm sync, reader empty  s (wall)", lambda r: "%.2f" % r["sync_s"])
    line("  as reported by mm sync  ms", lambda r: "%d" % r["sync_ms_self"])
    line("  entries/s (wall)", lambda r: "{:,.0f}".format(r["n"] / r["sync_s"]))
    line("  MB/s of entry bytes (wall)", lambda r: "%.1f" % (mb(r["bytes"]) / r["sync_s"]))
    line("  entry bytes received  MB", lambda r: "%.1f" % mb(r["bytes"]))
    line("  entries sent by the reader (Ada's)", lambda r: "%d" % r["sent"])
    line("  reader CPU per entry  us", lambda r: "%.2f" % (1e6 * r["sync_cpu"] / r["n"]))
    line("  CPU s: reader / server", lambda r: "%.1f / %.1f" % (r["sync_cpu"], r["serve_cpu"]))
    line("  peak RSS reader  MB   goal < 64", lambda r: "%.1f" % (r["sync_rss"] / 1024))
    line("  peak RSS serve (VmHWM) MB goal < 64", lambda r: "%.1f" % (r["serve_hwm"] / 1024))
    line("  serve during sync: peak anon / file MB",
         lambda r: "%.1f / %.1f" % (r["serve_peak"].get("RssAnon", 0) / 1024,
                                    r["serve_peak"].get("RssFile", 0) / 1024))
    line("  serve RssAnon at end  MB", lambda r: "%.1f" % (r["serve_anon"] / 1024))
    line("catch-up sync (+9,900, 99 new feeds)  s", lambda r: "%.3f" % r["catchup_s"])
    line("no-op re-sync, 100+1 feeds, median  ms", lambda r: "%.1f" % (1e3 * r["noop_s"]))
    if "noop_floor_s" in rows[0]:
        line("  a ZeroMQ CURVE client process, median  ms",
             lambda r: "%.1f" % (1e3 * r["noop_floor_s"]))
    line("baseline: mm verify (Grace)  entries/s", lambda r: "{:,.0f}".format(r["verify_n"] / r["verify_s"]))
    line("baseline: cat data.mdb (cached)  MB/s", lambda r: "%.0f" % (mb(r["mdb_bytes"]) / r["cat_s"]))
    line("baseline: loopback TCP copy  MB/s", lambda r: "%.0f" % (mb(r["mdb_bytes"]) / r["sock_s"]))
    line("  data.mdb Grace / Ada  MB", lambda r: "%.0f / %.0f" % (mb(r["mdb_bytes"]), mb(r["ada_mdb_bytes"])))
    line("ratio: sync / verify (entries/s)", lambda r: "%.2f" % ((r["n"] / r["sync_s"]) / (r["verify_n"] / r["verify_s"])))
    line("ratio: sync MB/s / TCP copy (data.mdb)", lambda r: "%.3f" % ((mb(r["bytes"]) / r["sync_s"]) / (mb(r["mdb_bytes"]) / r["sock_s"])))
    if "session" in rows[0]:
        line("no-op session, connection open, median  ms",
             lambda r: "%.3f" % (r["session"]["median_us"] / 1e3))
    if "incr_instr" in rows[0]:
        line("incremental sync of 10 (callgrind)  Minstr", lambda r: "%.2f" % (r["incr_instr"] / 1e6))
    line("no-op syncs wrote to a store", lambda r: "yes" if r["noop_wrote"] else "no")
    line("load average before / after", lambda r: "%.2f / %.2f" % (r["load"][0][0], r["load"][1][0]))
    print()
    # the rate's target is a ratio to the verify rate: tests/bench/run measures both
    for r in rows:
        ok_rss = r["sync_rss"] < GOAL_RSS_KB and r["serve_hwm"] < GOAL_RSS_KB
        print("N=%d: RSS %s" % (r["n"], "meets goal" if ok_rss else "ABOVE goal"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--counts", default="100000,1000000")
    ap.add_argument("--runs", type=int, default=5, help="no-op re-syncs (median)")
    ap.add_argument("--mm", default=default_path("MM_BIN", "build", "mm"))
    ap.add_argument("--fill", default=os.path.join(
        os.environ.get("MM_TOOLS") or os.path.join(ROOT, "build", "tests", "tools"), "mm_fill"))
    ap.add_argument("--dir", default=None, help="where to make the homes (default: $TMPDIR)")
    ap.add_argument("--keep", action="store_true", help="keep the homes")
    ap.add_argument("--timeout", type=int, default=3600, help="mm sync --timeout")
    ap.add_argument("--perf", default=None, metavar="DIR")
    ap.add_argument("--size", type=int, default=256, help="bytes of text per entry")
    ap.add_argument("--no-noop", action="store_true", help="only the bulk sync")
    ap.add_argument("--incr", action="store_true", help="callgrind an incremental sync of 10")
    ap.add_argument("--json", default=None, metavar="FILE", help="write the figures to FILE")
    ap.add_argument("--floor", default=None, metavar="PATH",
                    help="bench_limits: time a bare ZeroMQ CURVE client process (load, "
                    "handshake, one echo, exit) next to each no-op mm sync")
    ap.add_argument("--session", default=None, metavar="PATH",
                    help="bench_session: time the no-op session with the connection open")
    a = ap.parse_args()
    try:
        counts = [int(x.replace("_", "")) for x in a.counts.split(",") if x]
    except ValueError:
        ap.error("--counts: a comma-separated list of numbers")
    if not counts or min(counts) < 1 or a.runs < 1:
        ap.error("--counts and --runs must be positive")
    for p in (a.mm, a.fill):
        if not os.access(p, os.X_OK):
            ap.error("not found or not executable: %s" % p)
    if a.perf:
        os.makedirs(a.perf, exist_ok=True)
    print("bench_sync: %d cores, load %.2f %.2f %.2f, mm %s"
          % ((os.cpu_count() or 0,) + os.getloadavg() + (a.mm,)))
    b = Bench(a)
    rows = []
    for n in counts:
        tmp = tempfile.mkdtemp(prefix="mm-bench-sync-", dir=a.dir)
        try:
            print("N=%d in %s ..." % (n, tmp), flush=True)
            rows.append(b.scenario(n, tmp))
            rows[-1]["size"] = a.size
        except BenchError as e:
            print("bench_sync: N=%d: %s" % (n, e), file=sys.stderr)
            return 1
        finally:
            b.stop_serve()
            if not a.keep:
                shutil.rmtree(tmp, ignore_errors=True)
    report(rows)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"cores": os.cpu_count(), "rows": rows}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
