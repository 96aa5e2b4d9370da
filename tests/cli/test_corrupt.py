"""Damaged key files and damaged entries on disk: mm must refuse cleanly."""
import os
import re
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402

# Commands that need an opened home.
HOME_COMMANDS = (["note", "list"], ["note", "add", "must not be stored"], ["id"],
                 ["log"], ["verify"])
VERIFY_LINE = re.compile(r"^mm verify: .*\(MM_E[A-Z]+\)$")

# The identity key only certifies devices and may be kept offline, so only
# `mm verify` loads it (every command refuses one whose mode is too open).
IDENTITY_CHECKED_BY = (["verify"],)


class KeyFileTests(mmtest.MMTestCase):

    def setUp(self):
        super().setUp()
        self.home, self.idj = self.new_home()
        self.add_note(self.home, "before damage")
        self.notes_before = self.notes(self.home)

    def restore(self, name, data):
        p = os.path.join(self.home, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p)
        elif os.path.lexists(p):
            os.unlink(p)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(p, 0o600)

    def mutations(self, name, data):
        """(label, function that damages HOME/name) pairs."""
        p = os.path.join(self.home, name)
        other = "device.key" if name == "identity.key" else "identity.key"
        with open(os.path.join(self.home, other), "rb") as f:
            other_data = f.read()

        def write(b):
            def f():
                with open(p, "r+b") as fh:
                    fh.truncate(0)
                    fh.write(b)
            return f

        def flip(off):
            b = bytearray(data)
            b[off] ^= 0xFF
            return write(bytes(b))

        def as_dir():
            os.unlink(p)
            os.mkdir(p, 0o700)

        def as_symlink():
            target = self.path("outside-" + name)
            with open(target, "wb") as fh:
                fh.write(data)
            os.chmod(target, 0o600)
            os.unlink(p)
            os.symlink(target, p)

        def mode(m):
            return lambda: os.chmod(p, m)

        out = [("flip byte %d" % off, flip(off)) for off in (0, 5, 20, 40, 79)]
        out += [("truncated to 40 bytes", write(data[:40])),
                ("truncated to 79 bytes", write(data[:79])),
                ("emptied", write(b"")),
                ("one byte appended", write(data + b"\0")),
                ("other key file's content", write(other_data)),
                ("replaced by a directory", as_dir),
                ("removed", lambda: os.unlink(p)),
                ("replaced by a symlink to a copy", as_symlink)]
        perm = [("mode %o" % m, mode(m)) for m in (0o644, 0o640, 0o604)]
        return out, perm

    def check_key_file(self, name):
        p = os.path.join(self.home, name)
        with open(p, "rb") as f:
            data = f.read()
        damage, perm = self.mutations(name, data)
        commands = HOME_COMMANDS if name == "device.key" else IDENTITY_CHECKED_BY
        if name == "identity.key":
            # A home without identity.key is legitimate (key kept offline).
            damage = [d for d in damage if d[0] != "removed"]
        perm_labels = {label for label, _ in perm}
        problems = {}
        for i, (label, damage_fn) in enumerate(damage + perm):
            damage_fn()
            # Every damage against note add (must store nothing) and one
            # other command, in turn, so that each command meets each kind.
            add = HOME_COMMANDS[1]
            others = [c for c in commands if c != add]
            runs = ([add] if add in commands else []) + others[i % len(others):][:1]
            for args in runs:
                r = self.mm(*args, home=self.home)
                what = []
                if r.rc != 1:
                    what.append("exit %d, expected 1" % r.rc)
                lines = r.err.splitlines()
                one_line = (len(lines) == 1 and r.err.endswith("\n")
                            and r.err.startswith("mm"))
                # verify may list several faults, one per line.
                verify_lines = (args == ["verify"] and lines
                                and all(VERIFY_LINE.match(x) for x in lines))
                if not (one_line or verify_lines):
                    what.append("stderr is not one line starting 'mm'")
                if name not in r.err:
                    what.append("does not name %s" % name)
                if label in perm_labels and "permission" not in r.err.lower():
                    what.append("does not say permissions are too open")
                if what:
                    key = "%s %s: %s; stderr %r" % (name, label, ", ".join(what),
                                                    r.err[:160])
                    problems.setdefault(key, []).append(" ".join(args))
            self.restore(name, data)
        # The home is intact and nothing was stored meanwhile.
        notes = self.notes(self.home)
        lines = ["%s  [mm %s]" % (k, ", mm ".join(v)) for k, v in problems.items()]
        if notes != self.notes_before:
            lines.append("%d notes were stored while %s was damaged"
                         % (len(notes) - len(self.notes_before), name))
        if lines:
            self.fail("damaged %s not refused as it should be:\n" % name + "\n".join(lines))
        self.assertEqual(self.ok_json("id", home=self.home), self.idj)
        self.assert_verify_ok(self.home)

    def test_device_key(self):
        self.check_key_file("device.key")

    def test_identity_key(self):
        self.check_key_file("identity.key")

    def test_foreign_device_key(self):
        # A valid device key of another home: notes must not be written with it.
        other, _ = self.new_home(name="Other")
        with open(os.path.join(other, "device.key"), "rb") as f:
            foreign = f.read()
        p = os.path.join(self.home, "device.key")
        with open(p, "rb") as f:
            mine = f.read()
        with open(p, "r+b") as f:
            f.write(foreign)
        r = self.fails(1, "note", "add", "signed by a stranger", home=self.home)
        self.restore("device.key", mine)
        self.assertEqual(self.notes(self.home), self.notes_before, r)
        self.assert_verify_ok(self.home)

    def test_home_not_a_directory(self):
        f = self.path("plainfile")
        with open(f, "w") as fh:
            fh.write("x")
        for args in HOME_COMMANDS:
            self.fails(1, *args, home=f)
        self.fails(1, "init", "--name", "x", home=f)

    def test_garbage_store(self):
        mdb = os.path.join(self.home, "store", "data.mdb")
        size = os.path.getsize(mdb)
        with open(mdb, "r+b") as f:
            f.write(os.urandom(max(size, 65536)))
        for args in HOME_COMMANDS:
            self.fails(1, *args, home=self.home)


class EntryDamageTests(mmtest.MMTestCase):
    """Flip bytes of one stored entry inside store/data.mdb."""

    TEXTS = ["first intact note", "the victim note", "third intact note"]

    def setUp(self):
        super().setUp()
        self.home, _ = self.new_home()
        self.ids = [self.add_note(self.home, t)["id"] for t in self.TEXTS]
        self.assert_verify_ok(self.home)
        self.entries = self.log(self.home, raw=True)

    def raw_of(self, nid):
        [e] = [e for e in self.entries if e["id"] == nid]
        return bytes.fromhex(e["raw"])

    def damage(self, home, raw, offset):
        """Flip the byte at raw[offset] in every copy of raw in data.mdb
        (LMDB may keep stale copies in free pages).  Returns the count."""
        mdb = os.path.join(home, "store", "data.mdb")
        with open(mdb, "rb") as f:
            data = bytearray(f.read())
        found, start = 0, 0
        while True:
            i = data.find(raw, start)
            if i < 0:
                break
            data[i + offset] ^= 0xFF
            found += 1
            start = i + 1
        self.assertGreater(found, 0, "entry bytes not found in data.mdb")
        with open(mdb, "r+b") as f:
            f.write(data)
        return found

    def field_offset(self, raw, field, where="middle"):
        """Offset in raw of a byte in field's value (past its msgpack header)."""
        f = mmtest.parse_entry(raw)
        start, value = f[field]
        names = list(f)
        nxt = names.index(field) + 1
        end = f[names[nxt]][0] if nxt < len(names) else len(raw)
        if isinstance(value, bytes):
            vstart = end - len(value)
        elif isinstance(value, int) and value > 0x7f:
            vstart = start + 1
        else:
            vstart = start            # fixint or nil: the header is the value
        if where == "first":
            return vstart
        return vstart + (end - vstart) // 2

    def check_fails_verify(self, home, want_code=None):
        r = self.mm("verify", home=home)
        self.assertEqual(r.rc, 1, "verify must fail on a damaged store\n%r" % r)
        lines = r.err.splitlines()
        self.assertTrue(lines, r)
        for line in lines:
            self.assertRegex(line, VERIFY_LINE, "bad verify fault line\n%r" % r)
        r = self.mm("--json", "verify", home=home)
        self.assertEqual(r.rc, 1, r)
        j = self.parse_json(r)
        self.assertIs(j.get("ok"), False, j)
        self.assertTrue(j.get("faults"), j)
        for fault in j["faults"]:
            self.assertRegex(fault.get("code", ""), r"^MM_E[A-Z]+$", j)
            self.assertIsInstance(fault.get("message"), str, j)
            self.assertTrue(fault["message"], j)
        codes = {f["code"] for f in j["faults"]}
        if want_code:
            self.assertIn(want_code, codes, j)
        return codes

    def check_reads_fail_cleanly(self, home, victim_text, full=True):
        """Reading a damaged store: works for the intact notes, or fails
        with exit 1 and one line.  Never a crash, never a garbled note.
        full=False runs the quicker subset."""
        r = self.mm("--json", "note", "list", home=home)
        self.assertIn(r.rc, (0, 1), r)
        if r.rc == 0:
            texts = [n["text"] for n in self.parse_json(r)["notes"]]
            for t in self.TEXTS:
                if t != victim_text:
                    self.assertIn(t, texts, r)
            self.assertTrue(set(texts) <= set(self.TEXTS), "garbled note listed\n%r" % r)
            self.assertLessEqual(len(texts), 3, r)
        else:
            self.assert_one_line_error(r)
        if not full:
            return
        r = self.mm("note", "list", home=home)
        self.assertIn(r.rc, (0, 1), r)
        if r.rc:
            self.assert_one_line_error(r)
        for nid, t in zip(self.ids, self.TEXTS):
            r = self.mm("--json", "note", "show", nid, home=home)
            self.assertIn(r.rc, (0, 1), r)
            if r.rc == 0:
                self.assertEqual(self.parse_json(r)["text"], t, r)
            else:
                self.assert_one_line_error(r)
        for args in (["log"], ["--json", "log", "--raw"]):
            r = self.mm(*args, home=home)
            self.assertIn(r.rc, (0, 1), r)
            if r.rc:
                self.assert_one_line_error(r)
        r = self.mm("note", "add", "after the damage", home=home)
        self.assertIn(r.rc, (0, 1), r)
        if r.rc:
            self.assert_one_line_error(r)

    def test_flip_box(self):
        raw = self.raw_of(self.ids[1])
        self.damage(self.home, raw, self.field_offset(raw, "box"))
        self.check_fails_verify(self.home, "MM_EBADSIG")
        self.check_reads_fail_cleanly(self.home, self.TEXTS[1])

    def test_flip_signature(self):
        raw = self.raw_of(self.ids[1])
        self.damage(self.home, raw, self.field_offset(raw, "sig"))
        self.check_fails_verify(self.home, "MM_EBADSIG")
        self.check_reads_fail_cleanly(self.home, self.TEXTS[1])

    def test_flip_last_entry_signature(self):
        raw = self.raw_of(self.ids[2])
        self.damage(self.home, raw, self.field_offset(raw, "sig", "first"))
        self.check_fails_verify(self.home, "MM_EBADSIG")
        self.check_reads_fail_cleanly(self.home, self.TEXTS[2])

    def test_flip_every_field(self):
        # One fresh copy of the home per field; every flip must be caught.
        raw = self.raw_of(self.ids[1])
        fields = list(mmtest.parse_entry(raw))
        for field in fields:
            home = self.path("copy-%s" % field)
            shutil.copytree(self.home, home, symlinks=True)
            with self.subTest(field=field):
                self.damage(home, raw, self.field_offset(raw, field))
                self.check_fails_verify(home)
                self.check_reads_fail_cleanly(home, self.TEXTS[1], full=False)
            shutil.rmtree(home)
        # Damaging the array header too.
        home = self.path("copy-header")
        shutil.copytree(self.home, home, symlinks=True)
        self.damage(home, raw, 0)
        self.check_fails_verify(home)
        self.check_reads_fail_cleanly(home, self.TEXTS[1])


if __name__ == "__main__":
    mmtest.main()
