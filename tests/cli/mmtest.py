"""mmtest -- shared helpers for the integration tests that run the real mm.

Each test gets its own temporary directory (removed afterwards) holding the
homes it creates and a fake $HOME, so no test can touch the real
~/.local/share/micromentor.  Every run of mm is checked for crashes (death by
a signal, sanitizer reports); failures are checked for the one-line stderr
contract.  The binary comes from $MM_BIN (set by ctest), the test tools
(mm_fill, mm_rogue) from $MM_TOOLS.  SyncTestCase adds `mm serve` processes
(stopped when the test ends), invites, peers and the tools.
"""
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
MM_BIN = os.environ.get("MM_BIN") or os.path.join(HERE, "..", "..", "build", "mm")
MM_BIN = os.path.abspath(MM_BIN)
# Test tools built from tests/tools/*.c (mm_fill, mm_rogue); set by ctest.
MM_TOOLS = os.path.abspath(os.environ.get("MM_TOOLS")
                           or os.path.join(os.path.dirname(MM_BIN), "tests", "tools"))


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

    def mm(self, *args, home=None, stdin=None, env=None, timeout=RUN_TIMEOUT,
           preexec_fn=None):
        """Run mm with args (and --home HOME first when home is given).

        stdin may be bytes or str; preexec_fn runs in the child before mm
        (e.g. to set a resource limit).  Asserts that mm neither died of a
        signal nor produced a sanitizer report; returns a Result."""
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
                               timeout=timeout, preexec_fn=preexec_fn)
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
        opts = list(args)[:list(args).index("--")] if "--" in args else list(args)
        if p.returncode != 0 and "--json" in opts:
            self.assert_json_failure(r)
        return r

    def assert_json_failure(self, r):
        """A failed run given --json prints one JSON document on stdout:
        {"error": {"code", "message"}} with the message of stderr's line."""
        try:
            doc = json.loads(r.out)
        except ValueError as e:
            self.fail("a failure with --json must print one JSON document "
                      "(%s)\n%r" % (e, r))
        if os.environ.get("MM_JSON_FAIL_LOG") and ("error" not in doc or (
                isinstance(doc.get("error"), dict) and doc["error"].get("code") is None)):
            with open(os.environ["MM_JSON_FAIL_LOG"], "a") as f:
                f.write("%r\n" % (r,))
        if "error" not in doc:
            return      # a command's own report of a partial failure
        e = doc["error"]
        self.assertEqual(set(e) - {"findings", "candidates"}, {"code", "message"}, r)
        if r.rc == 2:
            self.assertEqual(e["code"], "usage", r)
        else:
            self.assertTrue(e["code"] is None or e["code"].startswith("MM_E"), r)
        line = r.err.rstrip("\n").split("\n")[-1]
        self.assertTrue(line.endswith(": " + e["message"]), r)

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


# --- sync: servers, invites, test tools -------------------------------------

# One `mm serve` stdout line: an ISO-8601 UTC time with milliseconds, then text.
SERVE_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S")
# Waits for network events; generous, as under ASan every process is slower.
NET_TIMEOUT = 90 if SANITIZED else 30


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b32encode(data):
    """RFC 4648 base32, lowercase, no padding (crypto/encoding.h)."""
    return base64.b32encode(data).decode().lower().rstrip("=")


def b32decode(text):
    text = text.upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def idcode_decode(code, prefix):
    """The public key of an id code; ValueError if it is not a valid one."""
    if not code.lower().startswith(prefix) or len(code) != 59:
        raise ValueError("not a %s code: %r" % (prefix, code))
    raw = b32decode(code[3:])
    if len(raw) != 35 or idcode(prefix, raw[:32]) != code.lower():
        raise ValueError("bad id code %r" % code)
    return raw[:32]


def mp_uint(v):
    """Canonical msgpack unsigned integer (PROTOCOL.md section 2)."""
    if v < 0x80:
        return bytes([v])
    for tag, n in ((0xcc, 1), (0xcd, 2), (0xce, 4), (0xcf, 8)):
        if v < 1 << (8 * n):
            return bytes([tag]) + v.to_bytes(n, "big")
    raise ValueError("integer too large")


def mp_bin(b):
    for tag, n in ((0xc4, 1), (0xc5, 2), (0xc6, 4)):
        if len(b) < 1 << (8 * n):
            return bytes([tag]) + len(b).to_bytes(n, "big") + b
    raise ValueError("bin too long")


def mp_str(s):
    b = s.encode()
    if len(b) < 32:
        return bytes([0xa0 | len(b)]) + b
    for tag, n in ((0xd9, 1), (0xda, 2), (0xdb, 4)):
        if len(b) < 1 << (8 * n):
            return bytes([tag]) + len(b).to_bytes(n, "big") + b
    raise ValueError("str too long")


def mp_array(n):
    if n < 16:
        return bytes([0x90 | n])
    return (b"\xdc" + n.to_bytes(2, "big")) if n < 1 << 16 else (b"\xdd" + n.to_bytes(4, "big"))


INVITE_PREFIX = "mmv1"


def invite_encode(identity, device, secret, expires_ms, endpoints):
    """An invite code (core/invite.h): "mmv1" + base32(payload || check),
    check = H("mmv1" || payload)[0..4), payload = [1, identity, device,
    secret, expires, [endpoints]]."""
    payload = (mp_array(6) + mp_uint(1) + mp_bin(identity) + mp_bin(device)
               + mp_bin(secret) + mp_uint(expires_ms) + mp_array(len(endpoints))
               + b"".join(mp_str(e) for e in endpoints))
    check = blake2b256(INVITE_PREFIX.encode() + payload)[:4]
    return INVITE_PREFIX + b32encode(payload + check)


def invite_decode(code):
    """The fields of an invite code as a dict; ValueError if it is not one."""
    if not code.startswith(INVITE_PREFIX):
        raise ValueError("no mmv1 prefix")
    raw = b32decode(code[4:])
    payload, check = raw[:-4], raw[-4:]
    if blake2b256(INVITE_PREFIX.encode() + payload)[:4] != check:
        raise ValueError("checksum")
    pos = 0

    def take(n):
        nonlocal pos
        if pos + n > len(payload):
            raise ValueError("truncated")
        pos += n
        return payload[pos - n:pos]

    def uint():
        b = take(1)[0]
        if b < 0x80:
            return b
        if b in (0xcc, 0xcd, 0xce, 0xcf):
            return int.from_bytes(take(1 << (b - 0xcc)), "big")
        raise ValueError("not a uint")

    def bin32():
        if take(2) != b"\xc4\x20":
            raise ValueError("not a bin8(32)")
        return take(32)

    def string():
        b = take(1)[0]
        if 0xa0 <= b <= 0xbf:
            return take(b & 31).decode()
        if b == 0xd9:
            return take(take(1)[0]).decode()
        raise ValueError("not a str")

    if take(1) != b"\x96" or uint() != 1:
        raise ValueError("not an invite payload")
    d = {"identity": bin32(), "device": bin32(), "secret": bin32(), "expires": uint()}
    n = take(1)[0]
    if not 0x91 <= n <= 0x94:
        raise ValueError("endpoint count")
    d["endpoints"] = [string() for _ in range(n & 15)]
    if pos != len(payload):
        raise ValueError("trailing bytes")
    return d


class Server:
    """A running `mm serve`; a thread reads its stdout line by line (mm
    serve flushes each line), another collects stderr."""

    def __init__(self, argv, env, preexec_fn=None):
        self.argv = argv
        self.lines = []
        self.err = b""
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env, preexec_fn=preexec_fn)
        self._threads = [threading.Thread(target=self._read_out, daemon=True),
                         threading.Thread(target=self._read_err, daemon=True)]
        for t in self._threads:
            t.start()

    def _read_out(self):
        for raw in self.proc.stdout:
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def _read_err(self):
        data = self.proc.stderr.read()
        with self.cond:
            self.err = data
            self.cond.notify_all()

    @property
    def stderr(self):
        return self.err.decode("utf-8", "replace")

    def mark(self):
        """Index of the next line, for wait_line(start=...)."""
        with self.cond:
            return len(self.lines)

    def wait_line(self, pattern, timeout=NET_TIMEOUT, start=0):
        """The first line from index start on that matches the regex
        pattern (searched, not anchored), waiting up to timeout seconds;
        None on timeout or if mm serve ended without printing one."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    if rx.search(self.lines[i]):
                        return self.lines[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._threads[0].is_alive()):
                    return None
                self.cond.wait(min(left, 0.2))

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=NET_TIMEOUT):
        """Signal mm serve, wait for it (SIGKILL after timeout); its exit code."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        for t in self._threads:
            t.join(10)
        for f in (self.proc.stdout, self.proc.stderr):
            if not f.closed and not any(t.is_alive() for t in self._threads):
                f.close()
        return self.proc.returncode

    def kill(self):
        return self.stop(signal.SIGKILL)

    def __repr__(self):
        with self.cond:
            return ("mm serve %r (%s)\n  stdout %r\n  stderr %r"
                    % (self.argv[1:], "running" if self.proc.poll() is None
                       else "exit %r" % self.proc.returncode,
                       self.lines[-40:], self.stderr[:2000]))


class SyncTestCase(MMTestCase):
    """MMTestCase with mm serve processes, invites, peers and test tools.
    Every server started is stopped when the test ends."""

    def serve(self, home, port=None, env=None, preexec_fn=None):
        """Start `mm serve --listen tcp://127.0.0.1:PORT` (a free port if
        none) and wait until it says it is reachable.  env replaces
        self.env(); preexec_fn runs in the child first (e.g. to set a
        resource limit).  Returns the Server, with .home, .port and
        .endpoint."""
        for attempt in range(3):
            p = port or free_port()
            ep = "tcp://127.0.0.1:%d" % p
            srv = Server([MM_BIN, "--home", home, "serve", "--listen", ep],
                         env if env is not None else self.env(), preexec_fn)
            srv.home, srv.port, srv.endpoint = home, p, ep
            self.addCleanup(self.stop_server, srv)
            if srv.wait_line(r" reachable at ") is not None:
                return srv
            srv.stop()
            if port or "cannot listen" not in srv.stderr:
                break               # only a port taken meanwhile is worth a retry
        self.fail("mm serve did not become reachable\n%r" % srv)

    def stop_server(self, srv, expect_clean=False):
        """Stop srv (SIGTERM, then SIGKILL) and check it for sanitizer
        reports; with expect_clean, also that it exited 0."""
        rc = srv.stop()
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, srv.stderr, "sanitizer report in mm serve\n%r" % srv)
        if expect_clean:
            self.assertEqual(rc, 0, "mm serve did not stop cleanly on SIGTERM\n%r" % srv)
        return rc

    def assert_alive(self, srv):
        self.assertTrue(srv.alive(), "mm serve died\n%r" % srv)

    # --- test tools ----------------------------------------------------------

    def tool(self, name, *args, timeout=RUN_TIMEOUT):
        """Run tests/tools/NAME with args; checks for crashes, returns a Result."""
        path = os.path.join(MM_TOOLS, name)
        if not os.access(path, os.X_OK):
            self.fail("test tool not found: %s (set MM_TOOLS)" % path)
        argv = [path] + [str(a) for a in args]
        try:
            p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, env=self.env(), timeout=timeout)
        except subprocess.TimeoutExpired:
            self.fail("%s %r did not finish within %d s" % (name, args, timeout))
        r = Result(argv, p.returncode, p.stdout.decode("utf-8", "replace"),
                   p.stderr.decode("utf-8", "replace"))
        r.out_bytes = p.stdout
        self.assertGreaterEqual(p.returncode, 0, "%s killed by signal\n%r" % (name, r))
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, r.err, "sanitizer report\n%r" % r)
        return r

    def fill(self, home, peer, count, devices=None):
        """mm_fill: append count entries to the scope shared with peer."""
        args = ["--home", home, "--peer", peer, "--count", count]
        if devices:
            args += ["--devices", devices]
        r = self.tool("mm_fill", *args, timeout=max(RUN_TIMEOUT, 600))
        self.assertEqual(r.rc, 0, "mm_fill failed\n%r" % r)
        return r

    # --- people and peers --------------------------------------------------

    def ident(self, home):
        """mm id --json: name, identity (mmi code), device (mmd code)."""
        return self.ok_json("id", home=home)

    def invite(self, home, *args):
        """mm invite --json ARGS; returns the JSON object."""
        j = self.ok_json("invite", *args, home=home)
        self.assertTrue(str(j.get("code", "")).startswith(INVITE_PREFIX),
                        "invite --json: %r" % j)
        return j

    def accept(self, home, code, name, *args):
        """mm accept CODE --name NAME; asserts success, returns the Result."""
        return self.ok("accept", code, "--name", name, *args, home=home)

    def pair(self, inviter, invitee, petname, *invite_args):
        """inviter (whose mm serve runs) invites, invitee accepts, naming the
        inviter petname.  Returns the scope id they now share."""
        code = self.invite(inviter, *invite_args)["code"]
        self.accept(invitee, code, petname)
        return self.peer(invitee, petname)["scope"]

    def peers(self, home):
        j = self.ok_json("peer", "list", home=home)
        self.assertIsInstance(j.get("peers"), list, "peer list --json: %r" % j)
        return j["peers"]

    def peer(self, home, name):
        """The peer object of `name` from mm peer list --json (fails if absent)."""
        for p in self.peers(home):
            if p["name"].lower() == name.lower():
                return p
        self.fail("no peer %r in %r" % (name, self.peers(home)))

    def scope_entries(self, home, scope, raw=False):
        """Entries of home's log in scope (64 hex)."""
        return [e for e in self.log(home, raw=raw) if e["scope"] == scope]

    def sync(self, home, *args):
        """mm sync --json ARGS, asserting exit 0; returns the JSON object."""
        j = self.ok_json("sync", *args, home=home)
        self.assertIsInstance(j.get("peers"), list, "sync --json: %r" % j)
        return j


def main():
    unittest.main(verbosity=2)
