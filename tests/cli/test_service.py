"""mm service install | uninstall: the systemd user unit of mm serve.

HOME and XDG_CONFIG_HOME point into the test's directory, so nothing of the
real user is touched and systemd need not run: the unit's path, name and
ExecStart are asserted, quoting of a path with a blank and a '%' included;
where systemd-analyze exists, it must parse the unit's ExecStart.
Uninstall removes the unit and the link 'systemctl enable' makes, and
refuses a unit of that name that mm did not write.
"""
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN  # noqa: E402

EXE = os.path.realpath(MM_BIN)


def exec_start(unit):
    with open(unit) as f:
        lines = [ln[len("ExecStart="):].rstrip("\n") for ln in f if ln.startswith("ExecStart=")]
    assert len(lines) == 1, lines
    return lines[0]


class TestService(mmtest.MMTestCase):

    def test_default_home(self):
        # the default home ($HOME/.local/share/micromentor): mm-serve.service
        self.ok("init", "--name", "Ada")
        r = self.ok("service", "install")
        unit = os.path.join(self.fake_home, ".config", "systemd", "user", "mm-serve.service")
        home = os.path.join(os.path.realpath(self.fake_home), ".local", "share", "micromentor")
        self.assertEqual(r.out.splitlines()[0], "wrote %s" % unit, r)
        self.assertIn("  systemctl --user enable --now mm-serve.service\n", r.out)
        self.assertEqual(exec_start(unit), "%s --home %s serve --sync-every 5m" % (EXE, home))
        with open(unit) as f:
            text = f.read()
        self.assertTrue(text.startswith("# Written by 'mm service install'"), text)
        for line in ("[Service]\n", "Restart=on-failure\n", "[Install]\n",
                     "WantedBy=default.target\n"):
            self.assertIn(line, text)
        self.assertEqual(os.stat(unit).st_mode & 0o777, 0o644)
        # again, other options: replaced
        self.ok("service", "install", "--sync-every", "1h")
        self.assertEqual(exec_start(unit), "%s --home %s serve --sync-every 1h" % (EXE, home))
        self.ok("service", "uninstall")
        self.assertFalse(os.path.exists(unit))

    def test_named_home_in_xdg_config(self):
        xdg = self.path("xdg")
        env = self.env(XDG_CONFIG_HOME=xdg)
        work = self.path("My Work%1")
        os.mkdir(work)
        self.ok("init", "--name", "Ada", home=os.path.join(work, "Ada"))
        # --discover only once mm serve has it (LAN discovery)
        discover = "--discover" in self.ok("serve", "--help").out
        extra = ["--discover"] if discover else []
        if not discover:
            r = self.fails(2, "service", "install", "--discover", home=os.path.join(work, "Ada"),
                           env=env)
            self.assertIn("this mm serve has no --discover", r.err)
        j = self.ok_json("service", "install", "--sync-every", "30s", *extra,
                         home=os.path.join(work, "Ada"), env=env)
        self.assertRegex(j["name"], r"^mm-serve-ada-[0-9a-f]{8}\.service$", j)
        unit = os.path.join(xdg, "systemd", "user", j["name"])
        self.assertEqual(j["unit"], unit)
        home = os.path.realpath(os.path.join(work, "Ada"))
        # a blank: the word quoted; a '%': doubled (a systemd specifier)
        want = '%s --home "%s" serve --sync-every 30s%s' % (EXE, home.replace("%", "%%"),
                                                            " --discover" if discover else "")
        self.assertEqual(exec_start(unit), want)
        self.assertEqual(j["exec_start"], want)
        self.assertEqual(j["commands"], ["systemctl --user daemon-reload",
                                         "systemctl --user enable --now %s" % j["name"]])
        self.assertFalse(os.path.exists(os.path.join(self.fake_home, ".config")))
        self.analyze(unit)
        # another home, same directory name: another unit
        other = self.path("other", "Ada")
        os.mkdir(self.path("other"))
        self.ok("init", "--name", "Ada", home=other)
        j2 = self.ok_json("service", "install", home=other, env=env)
        self.assertNotEqual(j2["name"], j["name"])
        # enabled (the link systemctl enable makes), then uninstalled: both gone
        wants = os.path.join(xdg, "systemd", "user", "default.target.wants")
        os.mkdir(wants)
        os.symlink(unit, os.path.join(wants, j["name"]))
        u = self.ok_json("service", "uninstall", home=os.path.join(work, "Ada"), env=env)
        self.assertEqual((u["unit"], u["was_enabled"]), (unit, True), u)
        self.assertFalse(os.path.lexists(os.path.join(wants, j["name"])))
        self.assertFalse(os.path.exists(unit))
        self.assertTrue(os.path.exists(j2["unit"]))
        # nothing left to uninstall
        r = self.fails(1, "--json", "service", "uninstall", home=os.path.join(work, "Ada"),
                       env=env)
        self.assertEqual(self.parse_json(r)["error"]["code"], "MM_ENOTFOUND", r)

    def test_refusals(self):
        home = self.path("ada")
        # no home: nothing written
        r = self.fails(1, "service", "install", home=home)
        self.assertFalse(os.path.exists(os.path.join(self.fake_home, ".config")))
        self.ok("init", "--name", "Ada", home=home)
        for bad in ("0s", "8d", "soon"):
            r = self.fails(2, "service", "install", "--sync-every", bad, home=home)
            self.assertIn("--sync-every '%s' is not a duration" % bad, r.err)
        self.fails(2, "service", "install", "extra", home=home)
        # a unit of that name mm did not write is left alone
        j = self.ok_json("service", "install", home=home)
        with open(j["unit"], "w") as f:
            f.write("[Service]\nExecStart=/bin/true\n")
        r = self.fails(1, "--json", "service", "uninstall", home=home)
        self.assertEqual(self.parse_json(r)["error"]["code"], "MM_EEXIST", r)
        self.assertIn("was not written by 'mm service install'", r.err)
        self.assertTrue(os.path.exists(j["unit"]))
        r = self.ok("help", "service")
        self.assertIn("mm service install [--home DIR] [--sync-every DUR]", r.out)

    def analyze(self, unit):
        """systemd-analyze, where present, parses the unit's ExecStart."""
        tool = shutil.which("systemd-analyze")
        if not tool:
            return
        p = subprocess.run([tool, "verify", unit], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        out = p.stdout.decode("utf-8", "replace")
        bad = [ln for ln in out.splitlines()
               if re.search(r"ExecStart|specifier|quot|escape|Invalid", ln)]
        self.assertEqual(bad, [], out)


if __name__ == "__main__":
    mmtest.main()
