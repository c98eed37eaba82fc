#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The Debian package (debian/): dpkg-buildpackage -us -uc -b builds it from
a copy of the tree (it writes into the parent directory), lintian finds no
error in it, it holds what an install needs (the binaries, the systemd user
unit, the man pages, bash completion, the icons, the demo's sample) and no
path of the tree it was built in, and its heedd is a release build: it tells
its version, refuses the test hooks, and finds the demo's sample beside
itself when unpacked anywhere.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import build_dir, main, source_dir  # noqa: E402

TOOLS = ["dpkg-buildpackage", "dpkg-deb", "dh", "lintian", "strings"]
ICON_SIZES = [16, 24, 32, 48, 64, 128, 256]
EXPECTED = [
    "usr/bin/heedd",
    "usr/bin/heed",
    "usr/lib/systemd/user/heed.service",
    "usr/share/man/man1/heed.1.gz",
    "usr/share/man/man5/heed.conf.5.gz",
    "usr/share/man/man8/heedd.8.gz",
    "usr/share/bash-completion/completions/heed",
    "usr/share/applications/heed.desktop",
    "usr/share/heed/demo/mentions.json",
    "usr/share/doc/heed/copyright",
    "usr/share/icons/hicolor/scalable/apps/heed.svg",
] + [f"usr/share/icons/hicolor/{n}x{n}/apps/heed.png" for n in ICON_SIZES]


def run(argv, timeout=300, **kw):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=timeout, **kw)


def read(path):
    with open(path) as f:
        return f.read()


def project_version():
    with open(os.path.join(source_dir(), "CMakeLists.txt")) as f:
        return re.search(r"project\(heed VERSION ([0-9.]+)", f.read()).group(1)


class Package(unittest.TestCase):
    tmp = None

    @classmethod
    def setUpClass(cls):
        missing = [t for t in TOOLS if shutil.which(t) is None]
        if missing:
            raise unittest.SkipTest("the package test needs " + ", ".join(missing)
                                    + " (scripts/deps test installs them)")
        cls.tmp = tempfile.mkdtemp(prefix="heed-package-")
        cls.tree = os.path.join(cls.tmp, "heed")
        shutil.copytree(source_dir(), cls.tree, ignore=cls.not_source, symlinks=True)
        env = dict(os.environ, DEB_BUILD_OPTIONS="parallel=2")
        started = time.monotonic()
        r = run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=cls.tree, env=env, timeout=600)
        cls.build_seconds = time.monotonic() - started
        with open(os.path.join(cls.tmp, "build.log"), "w") as f:
            f.write(r.stdout)
        if r.returncode != 0:
            raise AssertionError(f"dpkg-buildpackage failed ({r.returncode}):\n" + r.stdout[-6000:])
        print(f"package built in {cls.build_seconds:.0f} s", file=sys.stderr)
        version = project_version()
        arch = run(["dpkg-architecture", "-qDEB_HOST_ARCH"]).stdout.strip()
        cls.deb = os.path.join(cls.tmp, f"heed_{version}_{arch}.deb")
        cls.changes = os.path.join(cls.tmp, f"heed_{version}_{arch}.changes")
        if not os.path.exists(cls.deb):
            raise AssertionError(f"no {cls.deb}; the build made: {sorted(os.listdir(cls.tmp))}")
        cls.root = os.path.join(cls.tmp, "root")
        subprocess.run(["dpkg-deb", "-x", cls.deb, cls.root], check=True)

    @staticmethod
    def not_source(d, names):
        """What copytree leaves out: build trees (build*/, a package build's
        obj-*/ and debian/heed/...), git's data and Python's caches."""
        top = os.path.samefile(d, source_dir())
        deb = os.path.basename(d) == "debian" and os.path.samefile(os.path.dirname(d), source_dir())
        return [n for n in names
                if n in (".git", "__pycache__", "corpus-run")
                or (top and (n.startswith("build") or n.startswith("obj-")))
                or (deb and n in ("heed", "heed-dbgsym", ".debhelper", "tmp", "files", "debhelper-build-stamp"))
                or (deb and n.endswith((".substvars", ".debhelper.log")))]

    @classmethod
    def tearDownClass(cls):
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_lintian_finds_no_error(self):
        r = run(["lintian", "--pedantic", "--info", self.changes])
        tags = [line for line in r.stdout.splitlines() if re.match(r"^[EWIPX]: ", line)]
        print("lintian:\n" + ("\n".join(tags) or "(no tags)"), file=sys.stderr)
        errors = [t for t in tags if t.startswith("E: ")]
        self.assertEqual(errors, [], "lintian reports errors:\n" + r.stdout)
        self.assertNotIn("No packages selected", r.stdout)

    def test_contents(self):
        r = run(["dpkg-deb", "-c", self.deb])
        self.assertEqual(r.returncode, 0, r.stdout)
        listed = {line.split()[5].removeprefix("./").rstrip("/") for line in r.stdout.splitlines()}
        for path in EXPECTED:
            self.assertIn(path, listed)
        self.assertFalse([p for p in listed if p.startswith("usr/local")], listed)
        unit = read(os.path.join(self.root, "usr/lib/systemd/user/heed.service"))
        self.assertIn("ExecStart=/usr/bin/heedd\n", unit)
        desktop = read(os.path.join(self.root, "usr/share/applications/heed.desktop"))
        self.assertIn("Icon=heed\n", desktop)

    def test_no_build_paths_and_no_test_hooks_in_the_binaries(self):
        trees = {source_dir(), build_dir(), self.tree, os.path.realpath(source_dir())}
        for exe in ("usr/bin/heedd", "usr/bin/heed"):
            text = run(["strings", "-a", os.path.join(self.root, exe)]).stdout
            for tree in trees:
                self.assertNotIn(tree, text, f"{exe} names the tree it was built in")
            self.assertNotIn("/usr/local", text, exe)
        heedd = run(["strings", "-a", os.path.join(self.root, "usr/bin/heedd")]).stdout.splitlines()
        self.assertNotIn("test-clock", heedd)
        self.assertNotIn("test-stall", heedd)

    def test_heedd_version_and_no_test_hooks(self):
        heedd = os.path.join(self.root, "usr/bin/heedd")
        want = f"heedd {project_version()}"
        for flag in ("--version", "-V"):
            r = run([heedd, flag], timeout=10)
            self.assertEqual((r.returncode, r.stdout.strip()), (0, want))
        r = run([os.path.join(self.root, "usr/bin/heed"), "--version"], timeout=10)
        self.assertEqual((r.returncode, r.stdout.strip()), (0, f"heed {project_version()}"))
        with open(os.path.join(self.tree, "debian/changelog")) as f:
            self.assertTrue(f.readline().startswith(f"heed ({project_version()})"),
                            "debian/changelog's first entry is not CMakeLists.txt's version")
        for argv, env in (([heedd, "--test-hooks"], None),
                          ([heedd, "--demo"], dict(os.environ, HEED_TEST_HOOKS="1"))):
            r = run(argv, timeout=10, env=env)
            self.assertEqual(r.returncode, 2, r.stdout)
            self.assertIn("no test hooks", r.stdout)

    def test_unpacked_heedd_finds_its_demo_sample(self):
        # Unpacked under a temporary directory, not /usr: the sample is found
        # relative to the executable. No bus: the demo prints what it shows.
        home = os.path.join(self.tmp, "home")
        runtime = os.path.join(self.tmp, "run")
        os.makedirs(home, exist_ok=True)
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        env = {"PATH": "/usr/bin:/bin", "HOME": home, "XDG_RUNTIME_DIR": runtime, "LANG": "C.UTF-8",
               "DBUS_SESSION_BUS_ADDRESS": "unix:path=" + os.path.join(runtime, "no-bus")}
        out_p, err_p = os.path.join(self.tmp, "demo.out"), os.path.join(self.tmp, "demo.err")
        with open(out_p, "w") as out, open(err_p, "w") as err:
            p = subprocess.Popen([os.path.join(self.root, "usr/bin/heedd"), "--demo", "--verbose"],
                                 env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
            try:
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline and p.poll() is None and not read(out_p).strip():
                    time.sleep(0.1)
            finally:
                p.terminate()
                p.wait(10)
        log = read(err_p)
        self.assertIn(f"file://{self.root}/usr/share/heed/demo/mentions.json", log)
        self.assertTrue(read(out_p).strip(), "the demo printed no notification:\n" + log)


if __name__ == "__main__":
    main()
