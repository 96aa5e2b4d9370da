"""cmake --install: bin/mm, mm(1) and the completion scripts, all written
by mm from its command table; the manual renders cleanly; bash completes
commands, subcommands, options, peers and question ids from a real home;
every command in the listing has a --help that works."""
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN  # noqa: E402

BUILD = os.path.dirname(MM_BIN)
FILES = {
    "man": "share/man/man1/mm.1",
    "bash": "share/bash-completion/completions/mm",
    "zsh": "share/zsh/site-functions/_mm",
    "fish": "share/fish/vendor_completions.d/mm.fish",
}
ASK = "What would you weigh first when my team wants a rewrite?"


class InstallCase(mmtest.SyncTestCase):
    """A prefix installed into once per test, and bash run on its script."""

    def install(self):
        prefix = self.path("prefix")
        p = subprocess.run(["cmake", "--install", BUILD, "--prefix", prefix],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=mmtest.RUN_TIMEOUT)
        self.assertEqual(p.returncode, 0, "cmake --install failed: %r" % (p,))
        return prefix

    def run_mm(self, mm, *args):
        p = subprocess.run([mm] + list(args), stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=self.env(),
                           timeout=mmtest.RUN_TIMEOUT)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def complete(self, script, words):
        """What bash offers with COMP_WORDS = words (the last is the word
        being completed), sourcing script in a bash without rc files."""
        if not shutil.which("bash"):
            self.skipTest("bash is not installed")
        prog = ('source "$1" || exit 3; shift; COMP_WORDS=("$@"); '
                'COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _mm; '
                'printf "%s\\n" "${COMPREPLY[@]}"')
        p = subprocess.run(["bash", "--norc", "--noprofile", "-c", prog, "bash",
                            script] + list(words),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env(), timeout=mmtest.RUN_TIMEOUT)
        self.assertEqual(p.returncode, 0, "bash: %r" % (p,))
        self.assertEqual(p.stderr, b"", "bash said something: %r" % (p,))
        return [w for w in p.stdout.decode().split("\n") if w]

    def fish_words(self, script, line):
        """What fish offers for the command line `line` (words only)."""
        p = subprocess.run(["fish", "--no-config", "-c",
                            'source $argv[1]; and complete -C $argv[2]', script, line],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env(), timeout=mmtest.RUN_TIMEOUT)
        self.assertEqual((p.returncode, p.stderr.decode()), (0, ""), "fish: %r" % (p,))
        return [w.split("\t")[0] for w in p.stdout.decode().split("\n") if w]

    def zsh_words(self, script, words):
        """What the zsh script hands compadd for words (the last being
        completed): outside a real completion widget, compadd and _files
        are stand-ins that print their words.  zsh itself then keeps the
        ones matching what is typed."""
        prog = ('compdef() { }; source $1 || exit 3; shift; '
                'compadd() { [[ $1 == -- ]] && shift; print -rl -- "$@"; }; '
                '_files() { print -r -- "(files $*)"; }; '
                'words=("$@"); CURRENT=$#words; _mm')
        p = subprocess.run(["zsh", "-f", "-c", prog, "zsh", script] + list(words),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           env=self.env(), timeout=mmtest.RUN_TIMEOUT)
        self.assertEqual((p.returncode, p.stderr.decode()), (0, ""), "zsh: %r" % (p,))
        return [w for w in p.stdout.decode().split("\n") if w]

    def listing(self):
        """The command names of mm help: "init", "note add", ... (a name
        and its summary are apart by two spaces or more)."""
        out = self.ok("help").out
        names, inside = [], False
        for line in out.split("\n"):
            if line == "commands:":
                inside = True
            elif inside and not line.strip():
                break
            elif inside:
                names.append(re.split(r"\s{2,}", line.strip())[0])
        self.assertIn("completion", names)
        self.assertIn("note add", names)
        return names


class TestInstall(InstallCase):

    def test_prefix_has_a_working_mm_and_its_files(self):
        prefix = self.install()
        mm = os.path.join(prefix, "bin", "mm")
        rc, out, err = self.run_mm(mm, "--version")
        self.assertEqual((rc, err), (0, ""), out)
        self.assertRegex(out, r"^mm \d+\.\d+\.\d+\n$")
        # each file is what the installed mm itself writes: no second copy
        for what, rel in FILES.items():
            path = os.path.join(prefix, rel)
            self.assertTrue(os.path.isfile(path), "not installed: %s" % rel)
            with open(path) as f:
                text = f.read()
            args = ["help", "--man"] if what == "man" else ["completion", what]
            rc, want, err = self.run_mm(mm, *args)
            self.assertEqual(rc, 0, err)
            self.assertEqual(text, want, "%s differs from mm %s" % (rel, " ".join(args)))

    def test_systemd_user_unit_runs_the_installed_mm(self):
        """The unit in the tree (cli/mm-serve.service.in) is installed for the
        default home, its ExecStart the installed mm; mm service install
        writes the same text for one home."""
        prefix = self.install()
        unit = os.path.join(prefix, "share/systemd/user/mm-serve.service")
        with open(unit) as f:
            text = f.read()
        mm = os.path.join(prefix, "bin", "mm")
        self.assertIn('\nExecStart="%s" serve --sync-every 5m\n' % mm, text)
        self.assertIn("\nDescription=micromentor: mm serve for the default home\n", text)
        self.assertNotIn("@", text)
        cfg = self.path("xdg")
        env = dict(os.environ, XDG_CONFIG_HOME=cfg, MM_HOME=self.path("h"))
        subprocess.run([mm, "init", "--name", "Ada"], env=env, check=True, capture_output=True)
        subprocess.run([mm, "service", "install"], env=env, check=True, capture_output=True)
        [name] = os.listdir(os.path.join(cfg, "systemd", "user"))
        with open(os.path.join(cfg, "systemd", "user", name)) as f:
            mine = f.read()
        # the same template: every line but the mark, Description and ExecStart
        def body(t):
            return [ln for ln in t.splitlines()
                    if not ln.startswith(("# Written by", "Description=", "ExecStart="))]
        self.assertEqual(body(mine), body(text))

    def test_manual_renders_without_warnings(self):
        prefix = self.install()
        page = os.path.join(prefix, FILES["man"])
        if not shutil.which("groff"):
            self.skipTest("groff is not installed (.ci/run installs groff-base)")
        p = subprocess.run(["groff", "-ww", "-man", "-Tutf8", page],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=mmtest.RUN_TIMEOUT)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.decode(), "", "groff warned")
        text = re.sub(".\b", "", p.stdout.decode())     # no overstrike (bold)
        for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "FILES",
                        "ENVIRONMENT", "EXIT STATUS"):
            self.assertRegex(text, "(?m)^%s$" % section)
        with open(page) as f:
            roff = f.read()
        for name in self.listing():
            group = name.split()[0]
            self.assertIn('.SS "mm %s"' % group.replace("-", "\\-"), roff)
        self.assertNotIn("__complete", roff, "a hidden command is in the manual")
        for var in ("MM_HOME", "XDG_DATA_HOME", "NO_COLOR"):
            self.assertIn(".B %s\n" % var, roff)
        if shutil.which("man"):
            p = subprocess.run(["man", "-l", page], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, timeout=mmtest.RUN_TIMEOUT,
                               env=self.env(MANPAGER="cat", PAGER="cat", MANWIDTH="80"))
            self.assertEqual((p.returncode, p.stderr.decode()), (0, ""))
            self.assertIn("mm completion", p.stdout.decode())

    def test_every_listed_command_has_help(self):
        names = self.listing()
        self.assertGreater(len(names), 20)
        for name in names:
            r = self.ok(*name.split(), "--help")
            self.assertTrue(r.out.startswith("NAME\n    mm %s - " % name.split()[0]), r)
            self.assertEqual(r.err, "", r)
        self.assertNotIn("__complete", names)
        self.ok("__complete", "--help")

    def test_other_shells_parse(self):
        prefix = self.install()
        for shell, argv in (("zsh", ["zsh", "-n"]), ("fish", ["fish", "-n"]),
                            ("bash", ["bash", "-n"])):
            if not shutil.which(argv[0]):
                continue
            p = subprocess.run(argv + [os.path.join(prefix, FILES[shell])],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               timeout=mmtest.RUN_TIMEOUT)
            self.assertEqual((p.returncode, p.stderr.decode()), (0, ""), shell)
        self.fails(2, "completion")
        self.fails(2, "completion", "tcsh")


class TestBashCompletion(InstallCase):

    def setUp(self):
        super().setUp()
        self.prefix = self.install()
        self.script = os.path.join(self.prefix, FILES["bash"])
        self.mm_path = os.path.join(self.prefix, "bin", "mm")

    def words(self, *words):
        return self.complete(self.script, [self.mm_path] + list(words))

    def test_commands_subcommands_options(self):
        self.assertEqual(self.words("th"), ["thank", "thread"])
        subs = [n.split()[1] for n in self.listing() if n.startswith("peer ")]
        self.assertEqual(subs, ["list", "show", "rename", "set-addr", "block",
                                "unblock", "rm"])
        self.assertEqual(self.words("peer", ""), subs)
        self.assertEqual(self.words("--json", "peer", "s"), ["show", "set-addr"])
        self.assertEqual(self.words("completion", ""), ["bash", "zsh", "fish"])
        self.assertEqual(self.words("invite", "--role", ""), ["mentor", "mentee"])
        self.assertEqual(self.words("export", "--format", ""), ["md", "json"])
        self.assertEqual(self.words("export", "--format", "=", "j"), ["json"])
        self.assertEqual(sorted(self.words("ask", "--")),
                         ["--ambition", "--as-is", "--help", "--home", "--json"])
        self.assertIn("--version", self.words("--"))
        self.assertNotIn("__complete", self.words(""))
        self.assertEqual(self.words("help", "ask"), ["ask", "ask-back"])
        # an option's value is not taken for the command
        self.assertEqual(self.words("--home", self.tmp, "no"), ["note"])

    def test_peers_and_question_ids_from_a_real_home(self):
        grace, _ = self.new_home("Grace", sub="grace")
        ada, _ = self.new_home("Ada", sub="ada")
        self.serve(grace)
        self.pair(grace, ada, "grace")
        # no question yet: nothing to offer, and no error on the line
        self.assertEqual(self.words("--home", ada, "withdraw", ""), [])
        qid = self.ok_json("ask", "grace", ASK, home=ada)["id"]
        short = qid[:12]
        self.sync(ada, "grace")
        self.ok("inbox", home=grace)         # the mentor sees it: released
        self.assertEqual(self.words("--home", ada, "thread", ""), ["grace"])
        self.assertEqual(self.words("--home", ada, "thread", "g"), ["grace"])
        self.assertEqual(self.words("--home", ada, "note", "add", "--about", ""),
                         ["grace"])
        self.assertEqual(self.words("--home", grace, "answer", ""), [short])
        self.assertEqual(self.words("--home", grace, "answer", short[:3]), [short])
        self.assertEqual(self.words("answer", "--home=" + grace, ""), [short])
        # as bash splits it at COMP_WORDBREAKS' '='
        self.assertEqual(self.words("answer", "--home", "=", grace, ""), [short])
        self.assertEqual(self.words("--home", "=", grace, "thread", ""), ["Ada"])
        self.assertEqual(self.words("--home", grace, "decline", ""), [short])
        # only what this person may do now: the asker withdraws, never answers
        self.assertEqual(self.words("--home", ada, "withdraw", ""), [short])
        self.assertEqual(self.words("--home", ada, "answer", ""), [])
        self.assertEqual(self.words("--home", grace, "withdraw", ""), [])
        # only the first argument is a QID
        self.assertEqual(self.words("--home", grace, "answer", short, ""), [])
        self.ok("answer", short, "Weigh what the users lose first.", home=grace)
        self.assertEqual(self.words("--home", grace, "decline", ""), [])
        # a home that is not there completes nothing, quietly
        self.assertEqual(self.words("--home", self.path("none"), "answer", ""), [])
        if shutil.which("zsh"):
            zsh = os.path.join(self.prefix, FILES["zsh"])
            self.assertEqual(self.zsh_words(zsh, [self.mm_path, "--home", grace,
                                                  "answer", ""]), [short])
            self.assertEqual(self.zsh_words(zsh, [self.mm_path, "--home", ada,
                                                  "thread", ""]), ["grace"])
        if shutil.which("fish"):
            fish = os.path.join(self.prefix, FILES["fish"])
            line = "%s --home %s " % (self.mm_path, ada)
            self.assertEqual(self.fish_words(fish, line + "thread "), ["grace"])
            self.assertEqual(self.fish_words(fish, line + "withdraw "), [short])
            self.assertEqual(self.fish_words(fish, line + "answer "), [])

    def test_zsh_offers_the_same_words(self):
        if not shutil.which("zsh"):
            self.skipTest("zsh is not installed (.ci/run installs it)")
        zsh = os.path.join(self.prefix, FILES["zsh"])
        mm = [self.mm_path]
        groups = self.zsh_words(zsh, mm + ["th"])
        self.assertEqual([g for g in groups if g.startswith("th")], ["thank", "thread"])
        self.assertNotIn("__complete", groups)
        self.assertEqual(self.zsh_words(zsh, mm + ["peer", ""]), self.words("peer", ""))
        self.assertEqual(self.zsh_words(zsh, mm + ["invite", "--role", ""]),
                         ["mentor", "mentee"])
        self.assertEqual(self.zsh_words(zsh, mm + ["completion", ""]),
                         ["bash", "zsh", "fish"])
        self.assertIn("--about", self.zsh_words(zsh, mm + ["note", "add", "--"]))
        self.assertEqual(self.zsh_words(zsh, mm + ["--home", ""]), ["(files -/)"])

    def test_fish_completes_the_same_words(self):
        if not shutil.which("fish"):
            self.skipTest("fish is not installed (.ci/run installs it)")
        fish = os.path.join(self.prefix, FILES["fish"])
        mm = self.mm_path + " "
        self.assertEqual(self.fish_words(fish, mm + "th"), ["thank", "thread"])
        self.assertEqual(sorted(self.fish_words(fish, mm + "peer ")),
                         sorted(self.words("peer", "")))
        self.assertEqual(sorted(self.fish_words(fish, mm + "invite --role ")),
                         ["mentee", "mentor"])
        self.assertIn("--about", self.fish_words(fish, mm + "note add --"))
        self.assertEqual(self.fish_words(fish, mm + "completion "), ["bash", "fish", "zsh"])


if __name__ == "__main__":
    mmtest.main()
