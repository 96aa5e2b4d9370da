"""mm note add/list/show, mm log and mm verify on a healthy store."""
import datetime
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import HEX64, ISO_UTC  # noqa: E402

TRICKY = ('h\u00e9llo \u2014 \u65e5\u672c\u8a9e \U0001F389 "double" \'single\' '
          'back\\slash \\n not-a-newline\nline two\n\n  indented\ttab\r\n'
          'ctl \x01\x1b[31m\x7f end } ] { [ , : \u2028 \ufeff')


def iso_to_ms(s):
    """ms since the epoch of an ISO-8601 UTC time ending in Z."""
    base, _, frac = s[:-1].partition(".")
    dt = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S")
    dt = dt.replace(tzinfo=datetime.timezone.utc)
    ms = int(dt.timestamp()) * 1000
    if frac:
        ms += int((frac + "000")[:3])
    return ms


class TestNotes(mmtest.MMTestCase):

    def setUp(self):
        super().setUp()
        self.home, self.idj = self.new_home()

    def check_note_obj(self, n):
        for k in ("id", "time", "time_ms", "device", "seq", "text"):
            self.assertIn(k, n, "note object lacks %r: %r" % (k, n))
        self.assertRegex(n["id"], HEX64)
        self.assertRegex(n["time"], ISO_UTC)
        self.assertIsInstance(n["time_ms"], int)
        self.assertIsInstance(n["seq"], int)
        self.assertLessEqual(abs(iso_to_ms(n["time"]) - n["time_ms"]), 1000,
                             "time and time_ms disagree: %r" % n)

    def test_empty_list(self):
        r = self.ok("note", "list", home=self.home)
        self.assertIn("no notes yet", r.out)
        self.assertEqual(self.notes(self.home), [])

    def test_add_human_output(self):
        r = self.ok("note", "add", "hello", home=self.home)
        self.assertRegex(r.out, r"^added note [0-9a-f]{12}\n$")
        short = r.out.split()[-1]
        [n] = self.notes(self.home)
        self.assertTrue(n["id"].startswith(short), "%r is not a prefix of %r"
                        % (short, n["id"]))
        self.assertEqual(n["text"], "hello")

    def test_add_json(self):
        before = int(time.time() * 1000)
        j = self.add_note(self.home, "timed")
        after = int(time.time() * 1000)
        self.assertRegex(j["id"], HEX64)
        self.assertRegex(j["time"], ISO_UTC)
        self.assertIsInstance(j["time_ms"], int)
        # The clock of mm and of this process are the same clock.
        self.assertTrue(before - 2000 <= j["time_ms"] <= after + 2000,
                        "time_ms %r not between %r and %r" % (j["time_ms"], before, after))
        self.assertLessEqual(abs(iso_to_ms(j["time"]) - j["time_ms"]), 1000)
        [n] = self.notes(self.home)
        self.check_note_obj(n)
        self.assertEqual((n["id"], n["time_ms"], n["seq"], n["text"]),
                         (j["id"], j["time_ms"], 1, "timed"))

    def test_round_trip_exact_text(self):
        texts = [TRICKY, "x", "  leading and trailing spaces  ", "tab\tonly",
                 "trailing newline kept in argv\n", "\u00e9" * 1000]
        ids = [self.add_note(self.home, t)["id"] for t in texts]
        notes = self.notes(self.home)
        self.assertEqual([n["text"] for n in notes], texts[::-1])
        self.assertEqual([n["id"] for n in notes], ids[::-1])
        for n in notes:
            self.check_note_obj(n)
        for t, i in zip(texts, ids):
            j = self.ok_json("note", "show", i, home=self.home)
            self.check_note_obj(j)
            self.assertEqual((j["id"], j["text"]), (i, t))

    def test_stdin(self):
        cases = [
            (b"from stdin\n", "from stdin"),
            (b"no newline", "no newline"),
            (b"two newlines\n\n", "two newlines\n"),
            (b"multi\nline\ntext\n", "multi\nline\ntext"),
            (TRICKY.encode() + b"\n", TRICKY),
        ]
        for data, want in cases:
            j = self.add_note_stdin(self.home, data)
            got = self.ok_json("note", "show", j["id"], home=self.home)["text"]
            self.assertEqual(got, want, "stdin %r" % data)
        self.assertEqual([n["text"] for n in self.notes(self.home)],
                         [w for _, w in cases][::-1])
        r = self.ok("note", "add", "-", home=self.home, stdin=b"human\n")
        self.assertRegex(r.out, r"^added note [0-9a-f]{12}\n$")

    def test_newest_first(self):
        texts = ["first note alpha", "second note beta", "third note gamma",
                 "fourth note delta"]
        for t in texts:
            self.add_note(self.home, t)
        notes = self.notes(self.home)
        self.assertEqual([n["text"] for n in notes], texts[::-1])
        self.assertEqual([n["seq"] for n in notes], [4, 3, 2, 1])
        times = [n["time_ms"] for n in notes]
        self.assertEqual(times, sorted(times, reverse=True))
        devs = {n["device"] for n in notes}
        self.assertEqual(len(devs), 1, devs)
        out = self.ok("note", "list", home=self.home).out
        pos = [out.find(t) for t in texts]
        self.assertTrue(all(p >= 0 for p in pos), "human list lacks a note\n" + out)
        self.assertEqual(pos, sorted(pos, reverse=True),
                         "human list is not newest first\n" + out)

    def test_show(self):
        ids = [self.add_note(self.home, "note number %d\nsecond line" % i)["id"]
               for i in range(5)]
        for i, nid in enumerate(ids):
            want = "note number %d\nsecond line" % i
            for prefix in (nid, nid[:4], nid[:5], nid[:12]):
                if prefix == nid[:4] and any(o[:4] == nid[:4] for o in ids if o != nid):
                    continue
                j = self.ok_json("note", "show", prefix, home=self.home)
                self.assertEqual((j["id"], j["text"]), (nid, want), prefix)
            r = self.ok("note", "show", nid[:8], home=self.home)
            self.assertIn(nid, r.out, "human show lacks the full id")
            self.assertIn(want, r.out, "human show lacks the full text")

    def test_show_bad_prefixes(self):
        nid = self.add_note(self.home, "only")["id"]
        for p in ("", "a", "ab", nid[:3]):
            self.fails(2, "note", "show", p, home=self.home)
        self.fails(2, "note", "show", home=self.home)
        # A 4-digit prefix that matches no note.
        other = "%04x" % ((int(nid[:4], 16) + 1) % 0x10000)
        r = self.fails(1, "note", "show", other, home=self.home)
        self.assertIn("no note with id", r.err)
        # A full-length id that differs in the last digit.
        wrong = nid[:-1] + ("0" if nid[-1] != "0" else "1")
        r = self.fails(1, "note", "show", wrong, home=self.home)
        self.assertIn("no note with id", r.err)
        r = self.mm("note", "show", "zzzz", home=self.home)
        self.assertIn(r.rc, (1, 2), r)
        self.assert_one_line_error(r)
        r = self.mm("note", "show", nid + "0", home=self.home)  # 65 digits
        self.assertIn(r.rc, (1, 2), r)
        self.assert_one_line_error(r)

    def test_ambiguous_prefix(self):
        # Ids are random: add notes until two share their first 4 hex digits
        # (expected after ~320; the budget makes a miss ~2% likely, or ~30%
        # under a sanitizer, where each run of mm costs much more).
        budget = 400 if mmtest.SANITIZED else 720
        by4 = {}
        pair = None
        n = 0
        with ThreadPoolExecutor(4) as ex:
            while pair is None and n < budget:
                batch = list(ex.map(lambda i: self.add_note(self.home, "amb %d" % i),
                                    range(n, n + 16)))
                for i, j in enumerate(batch):
                    p = j["id"][:4]
                    if p in by4 and pair is None:
                        pair = (by4[p], (j["id"], "amb %d" % (n + i)))
                    by4.setdefault(p, (j["id"], "amb %d" % (n + i)))
                n += 16
        if pair is None:
            self.skipTest("no shared 4-digit prefix among %d notes" % n)
        (id1, t1), (id2, t2) = pair
        r = self.fails(1, "note", "show", id1[:4], home=self.home)
        # the candidates are named (test_errors.py checks the whole message)
        self.assertTrue(r.err.startswith("mm note show: id prefix '%s' matches "
                                         % id1[:4]), r)
        for nid, t in ((id1, t1), (id2, t2)):
            self.assertIn("%s (%s)" % (nid[:12], t), r.err)
        k = next(k for k in range(4, 64) if id1[k] != id2[k]) + 1
        for nid, t in ((id1, t1), (id2, t2)):
            j = self.ok_json("note", "show", nid[:k], home=self.home)
            self.assertEqual((j["id"], j["text"]), (nid, t))
        self.assertEqual(len(self.notes(self.home)), n)

    def test_refused_texts_store_nothing(self):
        self.add_note(self.home, "baseline")
        self.fails(1, "note", "add", "", home=self.home)
        self.fails(1, "note", "add", "-", home=self.home, stdin=b"")
        self.fails(1, "note", "add", "-", home=self.home, stdin=b"\n")
        for bad in (b"\xff\xfe", b"abc\xc3", b"\xc0\xaf slash", b"\xed\xa0\x80 surrogate",
                    b"ok then \x80 bad\n", b"\xf4\x90\x80\x80 > U+10FFFF"):
            r = self.fails(1, "note", "add", "-", home=self.home, stdin=bad)
            self.assertNotIn("added note", r.out)
        self.fails(2, "note", "add", home=self.home)
        self.assertEqual([n["text"] for n in self.notes(self.home)], ["baseline"])

    def test_nul_byte_not_silently_truncated(self):
        r = self.mm("note", "add", "-", home=self.home, stdin=b"before\x00after\n")
        notes = self.notes(self.home)
        if r.rc == 0:
            self.assertEqual([n["text"] for n in notes], ["before\x00after"],
                             "note with a NUL byte stored altered")
        else:
            self.assertEqual(r.rc, 1, r)
            self.assert_one_line_error(r)
            self.assertEqual(notes, [])

    def test_size_limit(self):
        big = ("0123456789" * 6000).encode()            # 60000 bytes
        j = self.add_note_stdin(self.home, big + b"\n")
        self.assertEqual(self.ok_json("note", "show", j["id"], home=self.home)["text"],
                         big.decode())
        self.fails(1, "note", "add", "-", home=self.home, stdin=big + b"x")
        self.fails(1, "note", "add", "-", home=self.home, stdin=big + b"x\n")
        multi = ("\u00e9" * 30000).encode() + b"\xc3\xa9"   # 60002 bytes
        self.fails(1, "note", "add", "-", home=self.home, stdin=multi)
        # A huge stdin is refused too (without being stored or crashing).
        self.fails(1, "note", "add", "-", home=self.home, stdin=b"y" * (8 << 20))
        notes = self.notes(self.home)
        self.assertEqual(len(notes), 1)
        self.assertEqual(notes[0]["id"], j["id"])
        self.assert_verify_ok(self.home)

    def test_log_and_verify(self):
        texts = ["log one", "log two \u2603", "log three\nwith lines", "log four"]
        ids = [self.add_note(self.home, t)["id"] for t in texts]
        entries = self.log(self.home)
        raw_entries = self.log(self.home, raw=True)
        for e in entries + raw_entries:
            for k in ("author", "scope", "scope_kind", "seq", "type", "time",
                      "time_ms", "id", "size", "prev"):
                self.assertIn(k, e, "log entry lacks %r: %r" % (k, e))
            self.assertRegex(e["id"], HEX64)
            self.assertRegex(e["time"], ISO_UTC)
        for e in entries:
            self.assertNotIn("raw", e, "raw shown without --raw")
        for e in raw_entries:
            self.assertRegex(e.get("raw", ""), r"^([0-9a-f]{2})+$")
        self.assertEqual([{k: v for k, v in e.items() if k != "raw"} for e in raw_entries],
                         entries, "--raw changed the other fields")
        self.assert_feeds_chained(entries)
        notes = [e for e in entries if e["type"] == "note"]
        self.assertEqual(len(notes), 4)
        notes.sort(key=lambda e: e["seq"])
        self.assertEqual([e["id"] for e in notes], ids)
        self.assertEqual({e["scope_kind"] for e in notes}, {"self"})
        self.assertEqual(len({(e["author"], e["scope"]) for e in notes}), 1)
        if all(e["scope_kind"] == "self" for e in entries):
            self.assertEqual([e["seq"] for e in notes], [1, 2, 3, 4])
        by_id = {n["id"]: n for n in self.notes(self.home)}

        device_pk = None
        for e in raw_entries:
            raw = bytes.fromhex(e["raw"])
            self.assertEqual(len(raw), e["size"])
            self.assertEqual(mmtest.blake2b256(raw).hex(), e["id"],
                             "entry id is not BLAKE2b-256 of its bytes")
            f = mmtest.parse_entry(raw)
            self.assertEqual(f["version"][1], 1)
            self.assertEqual(f["seq"][1], e["seq"])
            self.assertEqual(f["time"][1], e["time_ms"])
            prev = f["prev"][1]
            self.assertEqual(prev.hex() if prev else None, e["prev"] or None)
            pk = f["author"][1]
            self.assertIn(e["author"], (pk.hex(), mmtest.idcode("mmd", pk)))
            if e["id"] in by_id:
                device_pk = pk
                self.assertEqual(by_id[e["id"]]["time_ms"], e["time_ms"])
                self.assertEqual(by_id[e["id"]]["seq"], e["seq"])
                self.assertIn(by_id[e["id"]]["device"],
                              (pk.hex(), mmtest.idcode("mmd", pk)))
            # The body is encrypted: no note text in the entry.
            for t in texts:
                self.assertNotIn(t.encode(), raw)
        self.assertEqual(self.idj["device"], mmtest.idcode("mmd", device_pk),
                         "mm id device code is not the key that signs notes")

        j = self.assert_verify_ok(self.home)
        self.assertEqual(j["entries"], len(entries))
        r = self.ok("verify", home=self.home)
        self.assertEqual(r.err, "")

    def test_notes_encrypted_at_rest(self):
        canary = "CANARY-%s-plaintext" % os.urandom(8).hex()
        self.add_note(self.home, canary)
        self.add_note_stdin(self.home, ("%s\n" % canary) * 50)
        for dirpath, _, files in os.walk(self.home):
            for name in files:
                with open(os.path.join(dirpath, name), "rb") as f:
                    self.assertNotIn(canary.encode(), f.read(),
                                     "note text stored in clear in %s" % name)

    def test_two_homes_are_separate(self):
        other, _ = self.new_home(name="Bob")
        self.add_note(self.home, "alice's")
        self.add_note(other, "bob's")
        self.assertEqual([n["text"] for n in self.notes(self.home)], ["alice's"])
        self.assertEqual([n["text"] for n in self.notes(other)], ["bob's"])
        nid = self.notes(other)[0]["id"]
        self.fails(1, "note", "show", nid, home=self.home)


if __name__ == "__main__":
    mmtest.main()
