"""The TEXT of a command written in an editor, and the prompt of '-', on a
terminal (issue 11): real mm processes on a pseudo-terminal (python pty),
with a scripted $EDITOR that records what it was shown and saves what the
test tells it to.

- note add / ask / answer with no TEXT on a terminal open the editor; the
  comment lines are dropped; an empty text aborts with nothing written; a
  failing editor writes nothing; the file is removed afterwards.
- ask shows the lint's rules as comments; a question with advice reopens
  the editor with the advice as comments; saved unchanged it is sent as it
  is, rephrased it is checked again.
- the config file's editor wins over $EDITOR, which wins over $VISUAL.
- '-' on a terminal prints one prompt line first; from a pipe, none.
- off a terminal, no TEXT is still a usage error (exit 2).
"""
import errno
import os
import re
import select
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN, RUN_TIMEOUT  # noqa: E402
from test_engage import EngageBase, BAD_Q, GOOD_Q, ANSWER  # noqa: E402

# The scripted editor: copies what it was shown to DIR/seen-N and saves
# DIR/reply-N over the file (absent: leaves it as it is; "EXIT k": exit k).
EDITOR_PY = r'''
import os, sys, shutil
d = os.environ["ED_DIR"]
tag = os.environ.get("ED_TAG", "")
n = len([f for f in os.listdir(d) if f.startswith("seen-")]) + 1
shutil.copy(sys.argv[-1], os.path.join(d, "seen-%d" % n))
with open(os.path.join(d, "who-%d" % n), "w") as f:
    f.write(tag + " " + " ".join(sys.argv[1:-1]))
reply = os.path.join(d, "reply-%d" % n)
if os.path.exists(reply):
    data = open(reply).read()
    if data.startswith("EXIT "):
        sys.exit(int(data.split()[1]))
    with open(sys.argv[-1], "w") as f:
        f.write(data)
'''


class TtyBase(EngageBase):

    def setUp(self):
        super().setUp()
        self.ed_dir = self.path("editor")
        os.mkdir(self.ed_dir)
        self.ed_py = self.path("editor.py")
        with open(self.ed_py, "w") as f:
            f.write(EDITOR_PY)

    def replies(self, *texts):
        for i, t in enumerate(texts, 1):
            with open(os.path.join(self.ed_dir, "reply-%d" % i), "w") as f:
                f.write(t)

    def seen(self, n):
        p = os.path.join(self.ed_dir, "seen-%d" % n)
        self.assertTrue(os.path.exists(p), "the editor was not opened %d times: %r"
                        % (n, os.listdir(self.ed_dir)))
        with open(p) as f:
            return f.read()

    def nseen(self):
        return len([f for f in os.listdir(self.ed_dir) if f.startswith("seen-")])

    def tty_env(self, **extra):
        env = {"EDITOR": "%s %s" % (sys.executable, self.ed_py), "ED_DIR": self.ed_dir,
               "VISUAL": None, "TERM": "dumb"}
        env.update(extra)
        return self.env(**env)

    def pty(self, *args, home, env=None, feed=None, prompt=None):
        """Run mm with stdin, stdout and stderr on a new pseudo-terminal.
        With prompt (a regex), wait for it, then write feed.  Returns a
        Result (out holds everything the terminal showed)."""
        master, slave = os.openpty()
        argv = [MM_BIN, "--home", home] + list(args)
        p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave,
                             env=env or self.tty_env(), start_new_session=True)
        os.close(slave)
        out = b""
        fed = feed is None
        deadline = time.monotonic() + RUN_TIMEOUT
        try:
            while time.monotonic() < deadline:
                if not fed and re.search(prompt, out.decode("utf-8", "replace")):
                    os.write(master, feed)
                    fed = True
                r, _, _ = select.select([master], [], [], 0.2)
                if not r:
                    if p.poll() is not None and fed:
                        break
                    continue
                try:
                    chunk = os.read(master, 4096)
                except OSError as e:
                    if e.errno == errno.EIO:
                        break
                    raise
                if not chunk:
                    break
                out += chunk
            else:
                p.kill()
                self.fail("mm %r did not finish on the terminal: %r" % (args, out))
            rc = p.wait(timeout=RUN_TIMEOUT)
        finally:
            os.close(master)
        text = out.decode("utf-8", "replace").replace("\r\n", "\n")
        r = mmtest.Result(argv, rc, text, text)
        self.assertGreaterEqual(rc, 0, "mm died of a signal\n%r" % r)
        for mark in mmtest.SANITIZER_MARKS:
            self.assertNotIn(mark, text, r)
        self.assertFalse(fed is False, "the prompt %r never came\n%r" % (prompt, r))
        return r

    def no_edit_files(self, home):
        left = [f for f in os.listdir(home) if f.startswith("edit-")]
        self.assertEqual(left, [], "the file edited was left in the home")


class TestNoteEditor(TtyBase):

    def setUp(self):
        super().setUp()
        self.home = self.person("Ada")

    def notes_text(self):
        return [n["text"] for n in self.notes(self.home)]

    def test_note_in_the_editor(self):
        self.replies("\n\nCall Bob about the thesis\nsecond line  \n# a comment of mine\n\n")
        r = self.pty("note", "add", home=self.home)
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"added note [0-9a-f]{12}", r)
        shown = self.seen(1)
        self.assertIn("# Write the note above.", shown)
        self.assertIn("# an empty note aborts", shown)
        self.assertEqual(self.notes_text(), ["Call Bob about the thesis\nsecond line"])
        self.no_edit_files(self.home)

    def test_empty_aborts(self):
        for reply in ("", "# only a comment\n\n   \n"):
            for f in os.listdir(self.ed_dir):
                os.unlink(os.path.join(self.ed_dir, f))
            self.replies(reply)
            r = self.pty("note", "add", home=self.home)
            self.assertEqual(r.rc, 1, r)
            self.assertIn("aborted: the note is empty; nothing is written", r.out, r)
            self.assertEqual(self.notes_text(), [])
            self.no_edit_files(self.home)

    def test_failing_editor_writes_nothing(self):
        self.replies("EXIT 3")
        r = self.pty("note", "add", home=self.home)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("failed (exit status 3); nothing is written", r.out, r)
        self.assertEqual(self.notes_text(), [])
        self.no_edit_files(self.home)
        # an editor that cannot be run says how to choose one
        env = self.tty_env(EDITOR="/nonexistent/editor-xyz")
        r = self.pty("note", "add", home=self.home, env=env)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("cannot run the editor '/nonexistent/editor-xyz'", r.out, r)
        self.assertIn("mm config set editor", r.out, r)

    def test_which_editor(self):
        py = sys.executable
        # $VISUAL when $EDITOR is unset
        env = self.tty_env(EDITOR=None, VISUAL="%s %s" % (py, self.ed_py), ED_TAG="visual")
        self.replies("from visual")
        self.assertEqual(self.pty("note", "add", home=self.home, env=env).rc, 0)
        with open(os.path.join(self.ed_dir, "who-1")) as f:
            self.assertTrue(f.read().startswith("visual"))
        # $EDITOR before $VISUAL
        env = self.tty_env(ED_TAG="editor", VISUAL="/nonexistent/visual")
        with open(os.path.join(self.ed_dir, "reply-2"), "w") as f:
            f.write("from editor")
        self.assertEqual(self.pty("note", "add", home=self.home, env=env).rc, 0)
        # the config file's editor before $EDITOR; its words are kept
        self.ok("config", "set", "editor", "%s %s --flag-of-mine" % (py, self.ed_py),
                home=self.home)
        env = self.tty_env(EDITOR="/nonexistent/editor", ED_TAG="config")
        with open(os.path.join(self.ed_dir, "reply-3"), "w") as f:
            f.write("from config")
        self.assertEqual(self.pty("note", "add", home=self.home, env=env).rc, 0)
        with open(os.path.join(self.ed_dir, "who-3")) as f:
            self.assertEqual(f.read(), "config --flag-of-mine")
        self.assertEqual(sorted(self.notes_text()),
                         ["from config", "from editor", "from visual"])

    def test_off_a_terminal_still_usage(self):
        r = self.fails(2, "note", "add", home=self.home, env=self.tty_env())
        self.assertIn("missing the note's TEXT", r.err)
        self.assertEqual(self.nseen(), 0, "the editor opened off a terminal")

    def test_dash_prompts_on_a_terminal(self):
        r = self.pty("note", "add", "-", home=self.home, prompt=r"Ctrl-D on a line of its own:",
                     feed=b"typed at the terminal\n\x04")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out.count("mm note add: type the note, then Ctrl-D on a line of "
                                     "its own:\n"), 1, r)
        self.assertEqual(self.notes_text(), ["typed at the terminal"])
        # from a pipe: no prompt, stderr stays empty
        r = self.ok("note", "add", "-", home=self.home, stdin="piped\n")
        self.assertEqual(r.err, "", r)


class TestAskEditor(TtyBase):

    def setUp(self):
        super().setUp()
        self.grace = self.mentor("Grace")
        self.ada = self.person("Ada")
        self.connect(self.grace, self.ada, "grace", "ada")

    def questions(self):
        return [q["text"] for q in self.status(self.ada)["waiting_on_others"]]

    def test_lint_advice_then_rephrased(self):
        self.replies(BAD_Q + "\n", GOOD_Q + "\n")
        r = self.pty("ask", "grace", home=self.ada)
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"asked grace: [0-9a-f]{12}", r)
        first = self.seen(1)
        self.assertIn("# Write your power question to grace above.", first)
        for rule in ("yes-no", "either-or", "no-question", "no-context"):
            self.assertRegex(first, r"(?m)^#   %s " % rule, first)
        second = self.seen(2)
        self.assertTrue(second.startswith(BAD_Q + "\n"), second)
        self.assertIn("# Not sent yet: the check has advice.", second)
        self.assertRegex(second, r"(?m)^#   yes-no: ", second)
        self.assertIn("save it unchanged to send it as it is", second)
        self.assertEqual(self.questions(), [GOOD_Q])
        self.no_edit_files(self.ada)

    def test_unchanged_is_sent_as_it_is(self):
        self.replies(BAD_Q + "\n")          # the second time: saved as shown
        r = self.pty("ask", "grace", home=self.ada)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.nseen(), 2)
        self.assertEqual(self.questions(), [BAD_Q])

    def test_rephrased_still_bad_is_refused(self):
        other = "Can I ask my team to rewrite it?"
        self.replies(BAD_Q, other)
        r = self.pty("ask", "grace", home=self.ada)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("not sent:", r.out, r)
        self.assertEqual(self.questions(), [])

    def test_emptied_aborts(self):
        self.replies(BAD_Q, "# nothing\n")
        r = self.pty("ask", "grace", home=self.ada)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("aborted: the question is empty; nothing is written", r.out, r)
        self.assertEqual(self.questions(), [])
        self.no_edit_files(self.ada)

    def test_accept_dash_prompts(self):
        kim = self.person("Kim")
        code = self.invite(self.grace)["code"]
        r = self.pty("accept", "-", "--name", "grace", home=kim, prompt=r"Ctrl-D on a line",
                     feed=(code + "\n\x04").encode())
        self.assertEqual(r.rc, 0, r)
        self.assertIn("mm accept: type the invite code, then Ctrl-D on a line of its own:\n",
                      r.out)
        self.assertEqual(self.peer(kim, "grace")["role"], "mentor")

    def test_answer_in_the_editor(self):
        qid = self.ask(self.ada, "grace", GOOD_Q)
        self.sync(self.ada, "grace")
        self.inbox(self.grace)
        self.replies(ANSWER + "\n")
        r = self.pty("answer", qid[:8], home=self.grace)
        self.assertEqual(r.rc, 0, r)
        shown = self.seen(1)
        self.assertIn("# Write the answer above.", shown)
        # what the answer replies to, as comments
        self.assertIn("# The question:\n#   %s\n" % GOOD_Q, shown)
        self.assertRegex(r.out, r"(?i)answered ada: %s" % qid[:12], r)
        t = self.thread(self.grace, "ada")
        self.assertEqual([e["text"] for e in self.of_type(t, "answer")], [ANSWER])
        # off a terminal the TEXT is still needed
        self.fails(2, "answer", qid[:8], home=self.grace, env=self.tty_env())
        # the mentee thanks in the editor, seeing the answer
        self.sync(self.ada, "grace")
        with open(os.path.join(self.ed_dir, "reply-2"), "w") as f:
            f.write("Thank you, that changed the plan.\n")
        r = self.pty("thank", qid[:8], "--offer", "a review of your slides", home=self.ada)
        self.assertEqual(r.rc, 0, r)
        shown = self.seen(2)
        self.assertIn("# The question you asked:\n#   %s\n" % GOOD_Q, shown)
        self.assertIn("# The answer:\n#   %s\n" % ANSWER, shown)
        t = self.thread(self.ada, "grace")
        [th] = self.of_type(t, "thanks")
        self.assertEqual((th["text"], th["offer"]),
                         ("Thank you, that changed the plan.", "a review of your slides"), th)


if __name__ == "__main__":
    mmtest.main()
