"""mm init, mm id, home resolution, --version, help and usage errors."""
import os
import signal
import stat
import subprocess
import sys
import time
import random

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mmtest  # noqa: E402
from mmtest import MM_BIN, tree_snapshot  # noqa: E402


class TestInit(mmtest.MMTestCase):

    def check_id_json(self, j, name="Alice", device_name="laptop", home=None):
        for k in ("home", "name", "identity", "device", "device_name"):
            self.assertIn(k, j, "missing %r in %r" % (k, j))
        self.assertEqual(j["name"], name)
        if device_name is not None:
            self.assertEqual(j["device_name"], device_name)
        self.assertRegex(j["identity"], r"^mmi[a-z2-7]{56}$")
        self.assertRegex(j["device"], r"^mmd[a-z2-7]{56}$")
        self.assertEqual(len(j["identity"]), 59)
        self.assertEqual(len(j["device"]), 59)
        self.assertNotEqual(j["identity"][3:], j["device"][3:],
                            "identity and device keys must differ")
        if home is not None:
            self.assertEqual(os.path.realpath(j["home"]), os.path.realpath(home))

    def test_layout_and_modes(self):
        home, j = self.new_home()
        self.check_id_json(j, home=home)
        st = os.lstat(home)
        self.assertTrue(stat.S_ISDIR(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o700, "home must be 0700")
        for name, kind in (("identity.key", b"I"), ("device.key", b"D")):
            p = os.path.join(home, name)
            st = os.lstat(p)
            self.assertTrue(stat.S_ISREG(st.st_mode), "%s not a file" % name)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o600,
                             "%s must be 0600" % name)
            with open(p, "rb") as f:
                data = f.read()
            self.assertEqual(len(data), 80, "%s size" % name)
            self.assertEqual(data[:4], b"mmsk", "%s magic" % name)
            self.assertEqual(data[5:6], kind, "%s kind byte" % name)
            self.assertEqual(data[72:], mmtest.blake2b256(data[:72])[:8],
                             "%s checksum" % name)
        store = os.path.join(home, "store")
        self.assertTrue(os.path.isdir(store), "store/ missing")
        mdb = os.path.join(store, "data.mdb")
        self.assertTrue(os.path.isfile(mdb), "store/data.mdb missing")
        self.assertEqual(os.lstat(mdb).st_mode & 0o077, 0,
                         "data.mdb readable by group/others")
        # The public key in the key files is the one the id code shows.
        with open(os.path.join(home, "identity.key"), "rb") as f:
            ipk = f.read()[40:72]
        with open(os.path.join(home, "device.key"), "rb") as f:
            dpk = f.read()[40:72]
        self.assertEqual(j["identity"], mmtest.idcode("mmi", ipk))
        self.assertEqual(j["device"], mmtest.idcode("mmd", dpk))
        # Atomic init builds beside the home and renames: nothing left over.
        self.assertEqual(sorted(os.listdir(os.path.dirname(home))),
                         sorted(["userhome", os.path.basename(home)]))

    def test_human_output_and_id(self):
        home = self.path("h")
        r = self.ok("init", "--name", "Bob Example", "--device", "desk", home=home)
        self.assertTrue(r.out.strip(), "init printed nothing")
        j = self.ok_json("id", home=home)
        self.check_id_json(j, name="Bob Example", device_name="desk", home=home)
        r = self.ok("id", home=home)
        self.assertIn(j["identity"], r.out)
        self.assertIn(j["device"], r.out)
        self.assertIn("Bob Example", r.out)
        # Two homes never share keys.
        _, j2 = self.new_home(name="Bob Example", device="desk")
        self.assertNotEqual(j["identity"], j2["identity"])
        self.assertNotEqual(j["device"], j2["device"])

    def test_init_json_matches_id(self):
        home, j = self.new_home(name="Zoë \"Z\" Ünïcode", device="phone 📱")
        self.check_id_json(j, name="Zoë \"Z\" Ünïcode", device_name="phone 📱")
        j2 = self.ok_json("id", home=home)
        self.assertEqual(j, j2)

    def test_default_device_name(self):
        home, j = self.new_home(device=None)
        self.check_id_json(j, device_name=None, home=home)
        self.assertIsInstance(j["device_name"], str)
        self.assertTrue(j["device_name"], "default device name is empty")

    def test_init_twice_refused_and_nothing_changed(self):
        home, j = self.new_home()
        self.add_note(home, "keep me")
        before = tree_snapshot(home)
        time.sleep(0.01)  # make an mtime change visible if one happens
        self.fails(1, "init", "--name", "Mallory", home=home)
        self.fails(1, "init", "--name", "Alice", "--device", "laptop", home=home)
        self.fails(1, "--json", "init", "--name", "X", home=home)
        self.assertEqual(tree_snapshot(home), before, "init changed an existing home")
        self.assertEqual(self.ok_json("id", home=home), j)
        self.assertEqual([n["text"] for n in self.notes(home)], ["keep me"])

    def test_init_into_non_empty_foreign_dir_refused(self):
        d = self.path("stuff")
        os.mkdir(d)
        with open(os.path.join(d, "thesis.txt"), "w") as f:
            f.write("precious")
        before = tree_snapshot(d)
        self.fails(1, "init", "--name", "Alice", home=d)
        self.assertEqual(tree_snapshot(d), before)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["stuff", "userhome"],
                         "refused init left files beside the home")

    def test_init_into_empty_dir(self):
        d = self.path("empty")
        os.mkdir(d, 0o755)
        j = self.ok_json("init", "--name", "Alice", home=d)
        self.check_id_json(j, device_name=None, home=d)
        self.assertEqual(stat.S_IMODE(os.lstat(d).st_mode), 0o700,
                         "home must be 0700 even if the empty dir was not")
        self.assertTrue(os.path.isfile(os.path.join(d, "device.key")))
        self.assertEqual(self.ok_json("id", home=d), j)

    def test_missing_name_is_usage_error(self):
        home = self.path("h")
        r = self.fails(2, "init", home=home)
        self.assertFalse(os.path.exists(home), "home created despite usage error")
        r = self.fails(2, "init", "--device", "x", home=home)
        self.assertFalse(os.path.exists(home))
        r = self.fails(2, "init", "--name", home=home)  # option without value
        self.assertFalse(os.path.exists(home))
        self.assertTrue(r.err.startswith("mm"))

    def test_bad_names_refused(self):
        home = self.path("h")
        for name in ("", "x" * 65):
            r = self.mm("init", "--name", name, home=home)
            self.assertIn(r.rc, (1, 2), "name %r accepted\n%r" % (name, r))
            self.assert_one_line_error(r)
            self.assertFalse(os.path.exists(home) and os.listdir(home),
                             "home created with name %r" % name)
        j = self.ok_json("init", "--name", "x" * 64, home=home)
        self.assertEqual(j["name"], "x" * 64)

    def test_missing_home_fails_cleanly(self):
        nowhere = self.path("nowhere")
        for args in (["id"], ["note", "list"], ["note", "add", "x"], ["log"],
                     ["verify"]):
            self.fails(1, *args, home=nowhere)
        self.assertFalse(os.path.exists(nowhere), "a read command created the home")

    # --- home resolution ---------------------------------------------------

    def test_mm_home_env(self):
        h = self.path("envhome")
        env = self.env(MM_HOME=h, XDG_DATA_HOME=self.path("xdg"))
        j = self.ok_json("init", "--name", "Env", env=env)
        self.assertEqual(os.path.realpath(j["home"]), os.path.realpath(h))
        self.assertTrue(os.path.isfile(os.path.join(h, "identity.key")))
        self.assertFalse(os.path.exists(self.path("xdg", "micromentor")),
                         "MM_HOME must win over XDG_DATA_HOME")
        self.assertEqual(self.ok_json("id", env=env), j)

    def test_xdg_data_home(self):
        xdg = self.path("xdg")
        os.mkdir(xdg)
        env = self.env(XDG_DATA_HOME=xdg)
        j = self.ok_json("init", "--name", "Xdg", env=env)
        h = os.path.join(xdg, "micromentor")
        self.assertEqual(os.path.realpath(j["home"]), os.path.realpath(h))
        self.assertTrue(os.path.isfile(os.path.join(h, "device.key")))
        self.assertEqual(self.ok_json("id", env=env)["identity"], j["identity"])

    def test_default_home_under_home(self):
        env = self.env()
        j = self.ok_json("init", "--name", "Default", env=env)
        h = os.path.join(self.fake_home, ".local", "share", "micromentor")
        self.assertEqual(os.path.realpath(j["home"]), os.path.realpath(h))
        self.assertTrue(os.path.isfile(os.path.join(h, "device.key")))
        self.assertEqual(self.ok_json("id", env=env)["identity"], j["identity"])

    def test_home_flag_wins(self):
        a, b = self.path("a"), self.path("b")
        env = self.env(MM_HOME=a, XDG_DATA_HOME=self.path("xdg"))
        ja = self.ok_json("init", "--name", "A", env=env)
        jb = self.ok_json("init", "--name", "B", home=b, env=env)
        self.assertEqual(os.path.realpath(jb["home"]), os.path.realpath(b))
        self.assertNotEqual(ja["identity"], jb["identity"])
        self.assertEqual(self.ok_json("id", home=b, env=env)["name"], "B")
        self.assertEqual(self.ok_json("id", env=env)["name"], "A")
        # Options work after the command too.
        r = self.ok("id", "--home", b, "--json", env=env)
        self.assertEqual(self.parse_json(r)["name"], "B")
        r = self.ok("id", "--json", "--home", a, env=env)
        self.assertEqual(self.parse_json(r)["name"], "A")

    # --- version, help, usage errors -------------------------------------

    def test_version(self):
        r = self.ok("--version")
        self.assertEqual(r.out, "mm 0.1.0\n")
        self.assertEqual(r.err, "")

    def test_help(self):
        env = self.env(MM_HOME=self.path("nohome"))
        for args in (["help"], ["--help"], ["-h"]):
            r = self.ok(*args, env=env)
            for word in ("init", "note", "log", "verify", "id"):
                self.assertIn(word, r.out, "%r does not list %r\n%r" % (args, word, r))
        for cmd in ("init", "note", "log", "verify", "id"):
            for args in (["help", cmd], [cmd, "--help"], [cmd, "-h"]):
                r = self.ok(*args, env=env)
                self.assertIn(cmd, r.out, "%r\n%r" % (args, r))
        r = self.ok("note", "add", "--help", env=env)
        self.assertIn("add", r.out)
        self.assertFalse(os.path.exists(self.path("nohome")), "help created a home")

    def test_unknown_command_and_option(self):
        home, _ = self.new_home()
        for args in (["frobnicate"], ["--frobnicate", "id"], ["id", "--frobnicate"],
                     ["note", "frobnicate"], ["note", "list", "--bogus"],
                     ["init", "--name", "x", "--bogus"]):
            r = self.fails(2, *args, home=home)
            self.assertIn("mm help", r.err, "%r: error must point to 'mm help'" % args)
        r = self.fails(2, "frobnicate", env=self.env(MM_HOME=self.path("none")))
        self.assertIn("mm help", r.err)

    # --- crash during init -------------------------------------------------

    def test_killed_init_leaves_no_half_home(self):
        seed = 4242
        rng = random.Random(seed)
        # A sanitizer build takes ~7x longer to start: stretch the delays.
        stretch = 6 if mmtest.SANITIZED else 1
        for i in range(12 if mmtest.SANITIZED else 25):
            home = self.path("k%d" % i)
            p = subprocess.Popen([MM_BIN, "--home", home, "init", "--name", "K"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                 env=self.env())
            time.sleep(rng.uniform(0, 0.02) * stretch)
            p.send_signal(signal.SIGKILL)
            rc = p.wait(timeout=mmtest.RUN_TIMEOUT)
            msg = "seed %d iteration %d (init exit %r)" % (seed, i, rc)
            self.assertIn(rc, (0, -signal.SIGKILL), msg)
            if os.path.isdir(home) and os.listdir(home):
                # Whatever is there must be a complete, working home.
                r = self.mm("id", home=home)
                self.assertEqual(r.rc, 0, "%s: half home left\n%r" % (msg, r))
                self.assert_verify_ok(home)
                self.fails(1, "init", "--name", "K", home=home)
            else:
                self.assertNotEqual(rc, 0, "%s: init exited 0 but no home" % msg)
                self.ok("init", "--name", "K", home=home)
                self.ok("id", home=home)
            self.ok("note", "add", "works", home=home)


if __name__ == "__main__":
    mmtest.main()
