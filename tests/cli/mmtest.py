"""mmtest -- shared helpers for the integration tests that run the real mm.

Each test gets its own temporary directory (removed afterwards) holding the
homes it creates and a fake $HOME, so no test can touch the real
~/.local/share/micromentor.  Every run of mm is checked for crashes (death by
a signal, sanitizer reports); failures are checked for the one-line stderr
contract.  The binary comes from $MM_BIN (set by ctest).
"""
import base64
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MM_BIN = os.environ.get("MM_BIN") or os.path.join(HERE, "..", "..", "build", "mm")
MM_BIN = os.path.abspath(MM_BIN)



def _sanitized():
    try:
        with open(MM_BIN, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


# A sanitizer build starts each process ~7x slower: loops of many mm runs
# scale their counts down by this (without dropping below what they need).
SANITIZED = _sanitized()

# Generous: the suite also runs under ASan, and a hung mm must fail, not block.
RUN_TIMEOUT = 120

HEX64 = re.compile(r"^[0-9a-f]{64}$")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "SUMMARY: UndefinedBehaviorSanitizer")


class Result:
    """Outcome of one mm run: rc, stdout/stderr as text, and the argv."""

    def __init__(self, argv, rc, out, err):
        self.argv, self.rc, self.out, self.err = argv, rc, out, err

    def __repr__(self):
        return ("mm run %r\n  exit %r\n  stdout %r\n  stderr %r"
                % (self.argv[1:], self.rc, self.out[:2000], self.err[:2000]))


def idcode(prefix, pk):
    """The id code of a 32-byte public key (see crypto/idcode.h)."""
    check = hashlib.blake2b(prefix.encode() + pk, digest_size=32).digest()[:3]
    return prefix + base64.b32encode(pk + check).decode().lower().rstrip("=")


def blake2b256(data):
    return hashlib.blake2b(data, digest_size=32).digest()


def parse_entry(raw):
    """Split an encoded entry (core/entry.h) into its fields.

    Returns a dict of field name -> (offset, value), where value is bytes for
    bin fields, int for uint fields and None for nil.  Only the msgpack forms
    an entry can use are understood; anything else raises ValueError.
    """
    pos = 0

    def byte():
        nonlocal pos
        if pos >= len(raw):
            raise ValueError("entry truncated at %d" % pos)
        b = raw[pos]
        pos += 1
        return b

    def take(n):
        nonlocal pos
        if pos + n > len(raw):
            raise ValueError("entry truncated at %d" % pos)
        v = raw[pos:pos + n]
        pos += n
        return v

    def value():
        b = byte()
        if b <= 0x7f:
            return b
        if b == 0xc0:
            return None
        if b in (0xcc, 0xcd, 0xce, 0xcf):
            return int.from_bytes(take(1 << (b - 0xcc)), "big")
        if b in (0xc4, 0xc5, 0xc6):
            n = int.from_bytes(take(1 << (b - 0xc4)), "big")
            return take(n)
        raise ValueError("unexpected msgpack byte 0x%02x at %d" % (b, pos - 1))

    if byte() != 0x99:
        raise ValueError("entry is not a fixarray(9)")
    names = ("version", "author", "scope", "seq", "prev", "time", "nonce",
             "box", "sig")
    fields = {}
    for name in names:
        start = pos
        fields[name] = (start, value())
    if pos != len(raw):
        raise ValueError("trailing bytes after entry")
    return fields


def tree_snapshot(root):
    """Everything observable about the files under root: type, mode, size,
    mtime and content hash, keyed by relative path (root itself is '.')."""
    st = os.lstat(root)
    snap = {".": ("dir", stat.S_IMODE(st.st_mode), st.st_mtime_ns)}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            if stat.S_ISDIR(st.st_mode):
                snap[rel] = ("dir", stat.S_IMODE(st.st_mode), st.st_mtime_ns)
            elif stat.S_ISLNK(st.st_mode):
                snap[rel] = ("link", os.readlink(p))
            else:
                with open(p, "rb") as f:
                    digest = hashlib.sha256(f.read()).hexdigest()
                snap[rel] = ("file", stat.S_IMODE(st.st_mode), st.st_size,
                             st.st_mtime_ns, digest)
    return snap


class MMTestCase(unittest.TestCase):
    """Base class: a private temporary directory and helpers to run mm."""

    maxDiff = None

    def setUp(self):
        if not os.access(MM_BIN, os.X_OK):
            self.fail("mm binary not found or not executable: %s "
                      "(set MM_BIN)" % MM_BIN)
        self.tmp = tempfile.mkdtemp(prefix="mmtest-")
        self.addCleanup(self._rmtmp)
        self.fake_home = os.path.join(self.tmp, "userhome")
        os.mkdir(self.fake_home)

    def _rmtmp(self):
        # Tests may leave read-only files or directories behind.
        def onerror(func, path, exc):
            try:
                os.chmod(os.path.dirname(path), 0o700)
                os.chmod(path, 0o700)
            except OSError:
                pass
            try:
                func(path)
            except OSError:
                pass
        shutil.rmtree(self.tmp, onerror=onerror)

    # --- environment and processes -----------------------------------

    def env(self, **extra):
        """A clean environment: no MM_HOME / XDG_DATA_HOME, HOME = fake."""
        env = dict(os.environ)
        for k in ("MM_HOME", "XDG_DATA_HOME"):
            env.pop(k, None)
        env["HOME"] = self.fake_home
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def path(self, *parts):
        return os.path.join(self.tmp, *parts)

    def mm(self, *args, home=None, stdin=None, env=None, timeout=RUN_TIMEOUT):
        """Run mm with args (and --home HOME first when home is given).

        stdin may be bytes or str.  Asserts that mm neither died of a signal
        nor produced a sanitizer report; returns a Result."""
        argv = [MM_BIN]
        if home is not None:
            argv += ["--home", home]
        argv += list(args)
        if isinstance(stdin, str):
            stdin = stdin.encode()
        try:
            p = subprocess.run(argv, input=stdin if stdin is not None else b"",
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=env if env is not None else self.env(),
                               timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail("mm %r did not finish within %d s" % (args, timeout))
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        r = Result(argv, p.returncode, out, err)
        r.out_bytes = p.stdout
        self.assertGreaterEqual(p.returncode, 0,
                                "mm was killed by signal %d\n%r"
                                % (-p.returncode, r))
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, err, "sanitizer report\n%r" % r)
        return r

    # --- assertions -----------------------------------------------------

    def ok(self, *args, **kw):
        """Run mm and assert it exited 0."""
        r = self.mm(*args, **kw)
        self.assertEqual(r.rc, 0, "expected success\n%r" % r)
        return r

    def ok_json(self, *args, **kw):
        """Run mm --json ... and return the one JSON document it printed."""
        r = self.ok("--json", *args, **kw)
        return self.parse_json(r)

    def parse_json(self, r):
        try:
            r.out_bytes.decode("utf-8")
        except UnicodeDecodeError:
            self.fail("--json output is not UTF-8\n%r" % r)
        try:
            return json.loads(r.out)
        except ValueError as e:
            self.fail("stdout is not one JSON document (%s)\n%r" % (e, r))

    def assert_one_line_error(self, r):
        """stderr is exactly one non-empty line starting with 'mm'."""
        self.assertTrue(r.err.endswith("\n"),
                        "stderr must be one newline-terminated line\n%r" % r)
        self.assertEqual(r.err.count("\n"), 1,
                         "stderr must be ONE line\n%r" % r)
        self.assertTrue(r.err.startswith("mm"),
                        "stderr must start with 'mm'\n%r" % r)
        self.assertGreater(len(r.err.strip()), 3, "empty message\n%r" % r)

    def fails(self, code, *args, **kw):
        """Run mm, assert exit code `code` and a one-line stderr."""
        r = self.mm(*args, **kw)
        self.assertEqual(r.rc, code, "expected exit %d\n%r" % (code, r))
        self.assert_one_line_error(r)
        return r

    # --- homes ------------------------------------------------------------

    def new_home(self, name="Alice", device="laptop", sub=None):
        """Create a home with mm init; returns (path, init json)."""
        home = self.path(sub or "home-%s" % os.urandom(4).hex())
        args = ["init", "--name", name]
        if device is not None:
            args += ["--device", device]
        j = self.ok_json(*args, home=home)
        return home, j

    def add_note(self, home, text):
        """Add a note from argv; returns the --json result."""
        return self.ok_json("note", "add", text, home=home)

    def add_note_stdin(self, home, data):
        return self.ok_json("note", "add", "-", home=home, stdin=data)

    def notes(self, home):
        j = self.ok_json("note", "list", home=home)
        self.assertIsInstance(j.get("notes"), list, "note list --json: %r" % j)
        return j["notes"]

    def log(self, home, raw=False):
        args = ["log"] + (["--raw"] if raw else [])
        j = self.ok_json(*args, home=home)
        self.assertIsInstance(j.get("entries"), list, "log --json: %r" % j)
        return j["entries"]

    def assert_verify_ok(self, home):
        r = self.mm("verify", home=home)
        self.assertEqual(r.rc, 0, "mm verify failed on a good store\n%r" % r)
        j = self.ok_json("verify", home=home)
        self.assertIs(j.get("ok"), True, "verify --json: %r" % j)
        self.assertEqual(j.get("faults"), [], "verify --json: %r" % j)
        return j

    def assert_feeds_chained(self, entries):
        """Every feed (author, scope) has seqs 1..n, and each entry's prev is
        the id of the entry before it (nothing at seq 1)."""
        feeds = {}
        for e in entries:
            feeds.setdefault((e["author"], e["scope"]), []).append(e)
        for key, feed in feeds.items():
            feed.sort(key=lambda e: e["seq"])
            seqs = [e["seq"] for e in feed]
            self.assertEqual(seqs, list(range(1, len(feed) + 1)),
                             "feed %r: seqs not contiguous from 1" % (key,))
            self.assertFalse(feed[0].get("prev"),
                             "seq 1 must have no prev: %r" % feed[0])
            for a, b in zip(feed, feed[1:]):
                self.assertEqual(b.get("prev"), a["id"],
                                 "seq %d prev does not link to seq %d"
                                 % (b["seq"], a["seq"]))
        return feeds


def main():
    unittest.main(verbosity=2)
