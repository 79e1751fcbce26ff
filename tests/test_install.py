#!/usr/bin/env python3
"""test_install.py — the Makefile as a newcomer and a Debian admin meet it (issue 15).

Each target installs only the Debian packages it needs (`make demo` no test tools, no
clang, no valgrind), and `make install` into a DESTDIR lays out what an admin expects: the
programs, man pages, the example config in share/doc and a config in /etc only where none
is (never overwritten), the log directory, the logrotate snippet of supervisord(8), the
bash completion (commands and live process names), units whose ExecStart names files that
exist; `make install-strip` strips the programs; and `make install` refuses to overwrite a
file that a Debian package owns, unless FORCE=1 (checked against a dpkg database of the
test's own through DPKG_ADMINDIR, since the real one may own nothing of ours).

Run by `make check` with SUPERVISORD, SUPERVISORCTL and SUPERVISORD_BUILD ("B=... BINDIR=...",
so that the make it runs finds the build up to date instead of building anew).
"""
import os
import re
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = shlex.split(os.environ.get("SUPERVISORD_BUILD", ""))
SUPERVISORD = os.environ.get("SUPERVISORD", os.path.join(SRC, "supervisord/supervisord"))
SUPERVISORCTL = os.environ.get("SUPERVISORCTL", os.path.join(SRC, "supervisord/supervisorctl"))
# As `make install` lays them out with the default PREFIX, SYSCONFDIR and LOGDIR.
PREFIX = "/usr/local"


def make(*args, check=True):
    """make -C SRC with the build's B and BINDIR; stdout and stderr together."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    r = subprocess.run(["make", "--no-print-directory", "-C", SRC, *BUILD, *args], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    if check and r.returncode != 0:
        raise AssertionError("make %s: exit %d\n%s" % (" ".join(args), r.returncode, r.stdout))
    return r


def deps_of(target):
    """The package list that `make TARGET` checks for, from its dry run."""
    out = make("-n", target).stdout
    lists = re.findall(r"for p in ([^;]*); do", out)
    if not lists:
        raise AssertionError("make -n %s runs no dependency step:\n%s" % (target, out[:2000]))
    return set(lists[0].split())


def installed(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status} ${Essential}", package], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
    return r.stdout


def owner_of(program):
    # Debian's, not one that an environment puts first in PATH.
    path = shutil.which(program, path="/usr/bin:/bin:/usr/sbin:/sbin")
    if not path:
        raise AssertionError("%s is not installed: the tests need it" % program)
    real = os.path.realpath(path)
    for candidate in (path, real, "/usr" + path if not path.startswith("/usr") else path[4:]):
        r = subprocess.run(["dpkg", "-S", candidate], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].split(",")[0].strip()
    raise AssertionError("no package owns %s" % path)


def sections_of(path):
    """Section names of an ELF64 little-endian file."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:4] == b"\x7fELF" and data[4] == 2, path
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def header(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    strtab = header(shstrndx)
    names = []
    for i in range(shnum):
        name_off = header(i)[0]
        start = strtab[4] + name_off
        names.append(data[start:data.index(b"\0", start)].decode())
    return set(names)


def man_block_after(page, marker):
    """The literal block after the line of EXAMPLES in man/PAGE that contains MARKER, unescaped."""
    with open(os.path.join(SRC, "man", page)) as f:
        lines = f.read().split("\n")
    examples = lines.index(".Sh EXAMPLES")
    at = next(i for i in range(examples, len(lines)) if marker in lines[i])
    start = next(i for i in range(at, len(lines)) if lines[i].startswith(".Bd -literal"))
    end = next(i for i in range(start, len(lines)) if lines[i] == ".Ed")
    return "\n".join(lines[start + 1:end]).replace("\\e", "\\") + "\n"


class Deps(unittest.TestCase):
    def test_each_target_installs_what_it_needs(self):
        demo, check, asan = deps_of("demo"), deps_of("check"), deps_of("check-asan")
        fuzz, valgrind = deps_of("fuzz"), deps_of("check-valgrind")
        self.assertEqual(demo, {"gcc", "libc6-dev", "make", "pkg-config", "libconfuse-dev", "libsystemd-dev"})
        for name, deps in (("check", check), ("check-asan", asan), ("fuzz", fuzz), ("check-valgrind", valgrind)):
            self.assertTrue(demo <= deps, "%s lacks the build dependencies: %s" % (name, demo - deps))
        self.assertEqual(check, asan)
        for tool in ("clang", "libclang-rt-dev", "valgrind"):
            self.assertNotIn(tool, check, "make check installs %s" % tool)
        self.assertNotIn("check", demo)
        self.assertTrue({"clang", "libclang-rt-dev"} <= fuzz and "valgrind" not in fuzz, fuzz)
        self.assertTrue(check <= valgrind and "valgrind" in valgrind and "clang" not in valgrind, valgrind)
        self.assertEqual(deps_of("deps"), check)
        # The browser and its driver only for the browser test.
        browser = deps_of("check-browser")
        self.assertTrue(check <= browser and {"chromium", "chromium-driver", "python3-selenium"} <= browser, browser)
        for package in ("chromium", "chromium-driver", "python3-selenium"):
            self.assertNotIn(package, check, "make check installs %s" % package)

    def test_the_test_programs_come_with_make_check(self):
        check = deps_of("check")
        # Every program the tests run is in the list (or a direct dependency of one of
        # them, as python3-minimal of python3), or in an essential package.
        brought = set(check)
        for package in check:
            depends = subprocess.run(["dpkg-query", "-W", "-f=${Pre-Depends}, ${Depends}", package],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
            brought |= {re.split(r"[ :(]", d.strip())[0] for d in re.split(r"[,|]", depends) if d.strip()}
        for program in ("systemd-notify", "systemd-socket-activate", "python3", "socat", "setpriv", "unshare",
                        "bash", "dpkg", "ansible"):
            package = owner_of(program)
            self.assertTrue(package in brought or installed(package).endswith(" yes"),
                            "%s (package %s) is not installed by make check" % (program, package))
        for package in check | deps_of("fuzz") | deps_of("check-valgrind"):
            self.assertIn("install ok installed", installed(package), "no such package installed: %s" % package)


class Install(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="supervisord-install.")
        os.chmod(self.dir, 0o755)
        self.dest = os.path.join(self.dir, "dest")
        # Up to date: `make install` must not rebuild what the other tests are testing.
        r = make("-q", "all", check=False)
        self.assertEqual(r.returncode, 0, "the build is not up to date (%s):\n%s" % (" ".join(BUILD), r.stdout))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, p):
        return self.dest + p

    def test_layout(self):
        make("install", "DESTDIR=" + self.dest)
        for p in ("/bin/supervisord", "/bin/supervisorctl"):
            self.assertTrue(os.access(self.path(PREFIX + p), os.X_OK), p)
        for p in ("/share/man/man1/supervisorctl.1", "/share/man/man5/supervisord.conf.5",
                  "/share/man/man8/supervisord.8", "/share/doc/supervisord/supervisord.conf",
                  "/lib/systemd/system/supervisord.service", "/lib/systemd/system/supervisord.socket",
                  "/share/bash-completion/completions/supervisorctl"):
            self.assertTrue(os.path.isfile(self.path(PREFIX + p)), p)
        self.assertTrue(os.path.isdir(self.path("/var/log/supervisord")))

        # The unit runs what was installed, on a config that is there and valid.
        unit = open(self.path(PREFIX + "/lib/systemd/system/supervisord.service")).read()
        exec_start = re.search(r"^ExecStart=(.*)$", unit, re.M).group(1).split()
        self.assertEqual(exec_start[0], PREFIX + "/bin/supervisord")
        config = exec_start[exec_start.index("-c") + 1]
        self.assertTrue(os.path.isfile(self.path(config)), "ExecStart names %s, not installed" % config)
        r = subprocess.run([SUPERVISORD, "-t", "-c", self.path(config)], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        # The one to copy from, as the message for a missing config says.
        self.assertIn(PREFIX + "/share/doc/supervisord/supervisord.conf", open(self.path(config)).read())

        # The logrotate snippet is the one supervisord(8) shows.
        snippet = open(self.path("/etc/logrotate.d/supervisord")).read()
        self.assertEqual(snippet, man_block_after("supervisord.8", "/etc/logrotate.d/supervisord"))

    def test_etc_is_never_overwritten(self):
        for p in ("/etc/supervisord.conf", "/etc/logrotate.d/supervisord"):
            os.makedirs(os.path.dirname(self.path(p)), exist_ok=True)
            with open(self.path(p), "w") as f:
                f.write("# the admin's own\n")
        out = make("install", "DESTDIR=" + self.dest).stdout
        for p in ("/etc/supervisord.conf", "/etc/logrotate.d/supervisord"):
            self.assertEqual(open(self.path(p)).read(), "# the admin's own\n", p)
            self.assertIn("keeping " + self.path(p), out)
        # and a second install over a first one keeps the first one's files
        os.unlink(self.path("/etc/supervisord.conf"))
        make("install", "DESTDIR=" + self.dest)
        installed_once = open(self.path("/etc/supervisord.conf")).read()
        with open(self.path("/etc/supervisord.conf"), "a") as f:
            f.write("log-level = debug\n")
        make("install", "DESTDIR=" + self.dest)
        self.assertEqual(open(self.path("/etc/supervisord.conf")).read(), installed_once + "log-level = debug\n")

    def test_install_strip(self):
        make("install-strip", "DESTDIR=" + self.dest)
        for name, built in (("supervisord", SUPERVISORD), ("supervisorctl", SUPERVISORCTL)):
            self.assertIn(".symtab", sections_of(built), "the build of %s has no symbols to strip" % name)
            stripped = sections_of(self.path(PREFIX + "/bin/" + name))
            self.assertNotIn(".symtab", stripped, name)
            self.assertNotIn(".debug_info", stripped, name)
        r = subprocess.run([self.path(PREFIX + "/bin/supervisord"), "--version"], stdout=subprocess.PIPE, text=True)
        self.assertEqual((r.returncode, r.stdout.split()[0]), (0, "supervisord"))

    def fake_dpkg(self, owned):
        """A dpkg database in which package `supervisor` owns OWNED."""
        admin = os.path.join(self.dir, "dpkg")
        os.makedirs(os.path.join(admin, "info"))
        os.makedirs(os.path.join(admin, "updates"))
        with open(os.path.join(admin, "status"), "w") as f:
            f.write("Package: supervisor\nStatus: install ok installed\nPriority: optional\nSection: admin\n"
                    "Maintainer: Nobody <nobody@example.org>\nArchitecture: all\nVersion: 4.2.5-1\n"
                    "Description: a system for controlling process state\n\n")
        with open(os.path.join(admin, "info", "supervisor.list"), "w") as f:
            f.write("".join(p + "\n" for p in owned))
        return admin

    def test_refuses_files_of_debian_packages(self):
        # What dpkg owns is the target path on the system, without DESTDIR.
        admin = self.fake_dpkg([PREFIX + "/bin", PREFIX + "/bin/supervisord", PREFIX + "/bin/supervisorctl"])
        r = make("install", "DESTDIR=" + self.dest, "DPKG_ADMINDIR=" + admin, check=False)
        self.assertNotEqual(r.returncode, 0, r.stdout)
        self.assertIn("supervisor: %s/bin/supervisord" % PREFIX, r.stdout)
        self.assertIn("supervisor: %s/bin/supervisorctl" % PREFIX, r.stdout)
        self.assertIn("FORCE=1", r.stdout)
        self.assertFalse(os.path.exists(self.dest), "files were installed before the refusal")
        # A directory a package shares is no file of it.
        admin2 = os.path.join(self.dir, "dpkg2")
        shutil.copytree(admin, admin2)
        with open(os.path.join(admin2, "info", "supervisor.list"), "w") as f:
            f.write(PREFIX + "/bin\n/usr/bin/supervisord\n")
        make("install", "DESTDIR=" + self.dest, "DPKG_ADMINDIR=" + admin2)
        shutil.rmtree(self.dest)
        make("install", "DESTDIR=" + self.dest, "DPKG_ADMINDIR=" + admin, "FORCE=1")
        self.assertTrue(os.access(self.path(PREFIX + "/bin/supervisord"), os.X_OK))


class Completion(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="supervisord-completion.")
        self.sock = os.path.join(self.dir, "sock")
        self.conf = os.path.join(self.dir, "supervisord.conf")
        with open(self.conf, "w") as f:
            f.write('socket = "%s"\npidfile = "%s/pid"\nlog-dir = "%s/logs"\n'
                    'service alpha { command = "sleep 1000" }\n'
                    'service beta { command = "sleep 1001"\n instances = 2 }\n'
                    'service gamma { command = "sleep 1002"\n autostart = false }\n' % (self.sock, self.dir, self.dir))
        self.daemon = subprocess.Popen([SUPERVISORD, "-n", "-c", self.conf], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.sock)
                break
            except OSError:
                if time.monotonic() > deadline or self.daemon.poll() is not None:
                    raise AssertionError("supervisord did not come up")
                time.sleep(0.05)
        self.dest = os.path.join(self.dir, "dest")
        make("install", "DESTDIR=" + self.dest)
        self.script = self.dest + PREFIX + "/share/bash-completion/completions/supervisorctl"

    def tearDown(self):
        self.daemon.terminate()
        self.daemon.wait(60)
        shutil.rmtree(self.dir, ignore_errors=True)

    def complete(self, *words):
        """COMPREPLY for the command line WORDS, the last one being completed."""
        program = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); ' \
                  '$(complete -p supervisorctl | sed "s/.*-F \\([^ ]*\\).*/\\1/"); printf "%s\\n" "${COMPREPLY[@]}"'
        r = subprocess.run(["bash", "-c", program, "bash", self.script, *words], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return sorted(w for w in r.stdout.split("\n") if w)

    def test_commands_and_options(self):
        self.assertEqual(self.complete(SUPERVISORCTL, "st"), ["start", "status", "stop"])
        self.assertIn("--json", self.complete(SUPERVISORCTL, "--"))
        self.assertEqual(self.complete(SUPERVISORCTL, "-s", self.sock, "signal", "HU"), ["HUP"])

    def test_live_process_names(self):
        self.assertEqual(self.complete(SUPERVISORCTL, "-s", self.sock, "stop", ""),
                         ["all", "alpha", "beta", "beta@0", "beta@1", "gamma"])
        self.assertEqual(self.complete(SUPERVISORCTL, "-c", self.conf, "restart", "b"), ["beta", "beta@0", "beta@1"])
        self.assertEqual(self.complete(SUPERVISORCTL, "-s", self.sock, "signal", "TERM", "g"), ["gamma"])
        self.assertEqual(self.complete(SUPERVISORCTL, "-s", self.sock, "tail", "-f", "al"), ["alpha"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
