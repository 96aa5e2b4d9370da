"""Crash safety and concurrent use of one home by several mm processes."""
import os
import random
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN  # noqa: E402

SEED = int(os.environ.get("MM_CRASH_SEED", "20240611"))
APPENDS = int(os.environ.get("MM_CRASH_APPENDS", "240"))
WARMUP = 8          # first appends run unkilled, to time one append


class CrashTests(mmtest.MMTestCase):

    def check_store(self, home, sent, completed, msg):
        """The store opens and verifies, holds every completed note once,
        nothing that was not sent, and its feeds are contiguous chains."""
        r = self.mm("verify", home=home)
        self.assertEqual(r.rc, 0, "%s: verify failed after crashes\n%r" % (msg, r))
        notes = self.notes(home)
        texts = [n["text"] for n in notes]
        dups = sorted({t for t in texts if texts.count(t) > 1})
        self.assertEqual(dups, [], "%s: notes stored twice" % msg)
        garbled = sorted(set(texts) - set(sent))
        self.assertEqual(garbled, [], "%s: notes that were never sent" % msg)
        missing = sorted(set(completed) - set(texts))
        self.assertEqual(missing, [], "%s: notes acknowledged (exit 0) but lost" % msg)
        entries = self.log(home)
        self.assert_feeds_chained(entries)
        note_entries = [e for e in entries if e["type"] == "note"]
        self.assertEqual(sorted(e["id"] for e in note_entries),
                         sorted(n["id"] for n in notes), msg)
        j = self.assert_verify_ok(home)
        self.assertEqual(j["entries"], len(entries), msg)
        return texts

    def test_sigkill_during_appends(self):
        rng = random.Random(SEED)
        msg = "seed %d (rerun with MM_CRASH_SEED=%d)" % (SEED, SEED)
        home, _ = self.new_home()
        sent, completed, killed, durations = [], [], 0, []
        window = None
        for i in range(APPENDS):
            text = "note %d" % i
            sent.append(text)
            p = subprocess.Popen([MM_BIN, "--home", home, "note", "add", text],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 env=self.env())
            t0 = time.monotonic()
            if i == WARMUP:
                # Kill delays span one append (a few ms; ~7x that under a
                # sanitizer), so kills land at every stage of it.
                window = 1.2 * sorted(durations)[len(durations) // 2]
                msg += ", kill window %.1f ms" % (window * 1000)
            kill = window is not None and rng.random() < 0.6
            if kill:
                time.sleep(rng.uniform(0, window))
                p.send_signal(signal.SIGKILL)
            try:
                _, err = p.communicate(timeout=mmtest.RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                p.kill()
                p.communicate()
                self.fail("%s: append %d hung (after %d kills)" % (msg, i, killed))
            rc = p.returncode
            if window is None:
                durations.append(time.monotonic() - t0)
            if rc == -signal.SIGKILL:
                killed += 1
                continue
            self.assertEqual(rc, 0, "%s: append %d %s exited %r: %r"
                             % (msg, i, "(kill sent)" if kill else "(not killed)",
                                rc, err.decode(errors="replace")))
            completed.append(text)
            # Every so often, check that readers see a consistent store.
            if i % 60 == 59:
                self.check_store(home, sent, completed, msg + " at append %d" % i)
        print("\n%s: %d appends, %d killed, %d completed"
              % (msg, APPENDS, killed, len(completed)), file=sys.stderr)
        self.assertGreater(killed, 0, "%s: no process was actually killed" % msg)
        texts = self.check_store(home, sent, completed, msg)
        # The store still takes writes after all this.
        self.add_note(home, "after the storm")
        self.assertEqual(self.notes(home)[0]["text"], "after the storm")
        self.assertEqual(len(self.notes(home)), len(texts) + 1)
        self.assert_verify_ok(home)

    def test_concurrent_writers_and_readers(self):
        home, _ = self.new_home()
        writers, per_writer = 4, 12
        errors = []
        stop = threading.Event()

        def writer(w):
            try:
                for k in range(per_writer):
                    self.add_note(home, "w%d n%d" % (w, k))
            except BaseException as e:  # report in the main thread
                errors.append("writer %d: %s" % (w, e))

        def reader():
            last = 0
            try:
                while not stop.is_set():
                    n = len(self.notes(home))
                    if n < last:
                        errors.append("note count went back from %d to %d" % (last, n))
                    last = n
            except BaseException as e:
                errors.append("reader: %s" % e)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(writers)]
        rt = threading.Thread(target=reader)
        rt.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        rt.join()
        self.assertEqual(errors, [])
        sent = ["w%d n%d" % (w, k) for w in range(writers) for k in range(per_writer)]
        texts = self.check_store(home, sent, sent, "concurrent writers")
        self.assertEqual(sorted(texts), sorted(sent))
        # Each writer's notes appear newest first, in its own order.
        for w in range(writers):
            mine = [t for t in texts if t.startswith("w%d " % w)]
            self.assertEqual(mine, ["w%d n%d" % (w, k) for k in range(per_writer)][::-1])


if __name__ == "__main__":
    mmtest.main()
