#!/usr/bin/env python3
"""test_manpages.py — the man pages' EXAMPLES, run against a real daemon, so they stay true
(issue 15).

Each literal block of a page's EXAMPLES section is read from the mdoc source.  Lines that
start with a prompt ("$ " or "# ") are commands, the lines after one are its output.  A
block whose first line is "# /path" is a file and is written there.  The paths the pages
use (/etc/supervisord.conf, /run/supervisord.sock, ...) are moved into a temporary
directory, `supervisord` and `supervisorctl` run the binaries under test on its config, and
the commands of a block run in one sh, in order, page after page.  An output is compared
line by line with blanks collapsed and every number standing for any number (pids,
uptimes); a shown line that starts with blanks continues the one before it (folded JSON).
Commands that never end (-n, tail -f, follow) are not run, nor blocks without a prompt.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPERVISORD = os.environ.get("SUPERVISORD", os.path.join(SRC, "supervisord/supervisord"))
SUPERVISORCTL = os.environ.get("SUPERVISORCTL", os.path.join(SRC, "supervisord/supervisorctl"))

# Commands that would run until interrupted.
NEVER_ENDS = (re.compile(r"^supervisord\b.*\s-n\b"), re.compile(r"\btail -f\b"), re.compile(r"\bfollow\b"))

# The services each page's examples speak of, as the examples need them.
CONFIGS = {
    "supervisorctl.1": """
service web {
        command = "sh -c 'trap \\"echo reloading\\" HUP; while :; do sleep 1; done'"
        start-secs = 0.2
}
service worker {
        command = "sh -c 'exit 1'"
        start-retries = 5
        restart-delay = 0.05
}
service cron {
        command = "sleep 1000"
        autostart = false
        start-secs = 0.2
}
service broken {
        command = /usr/bin/broken
        autostart = false
        restart-delay = 0.05
}
""",
    "supervisord.8": """
service web {
        command = "sleep 1000"
        start-secs = 0       # RUNNING once started: the status just after start-up shows it so
}
service worker {
        command = "sleep 1001"
        autostart = false
        start-secs = 0.2
}
""",
}


def examples(page):
    """[(line number, [block lines])] of the EXAMPLES section of man/PAGE, unescaped."""
    with open(os.path.join(SRC, "man", page)) as f:
        lines = f.read().split("\n")
    start = lines.index(".Sh EXAMPLES")
    blocks, current = [], None
    for number, line in enumerate(lines[start + 1:], start + 2):
        if line.startswith(".Sh "):
            break
        if line.startswith(".Bd -literal"):
            current = (number, [])
        elif line == ".Ed" and current:
            blocks.append(current)
            current = None
        elif current:
            current[1].append(line.replace("\\e", "\\").replace("\\&", ""))
    return blocks


def split_commands(block):
    """[(command, [expected output lines])] of a block, or [] if it has no prompt."""
    commands = []
    for line in block:
        if line.startswith("$ ") or line.startswith("# "):
            commands.append((line[2:], []))
        elif commands:
            out = commands[-1][1]
            if line[:1].isspace() and out:
                out[-1] += line.strip()
            else:
                out.append(line)
    return commands


def pattern(line):
    text = re.escape(" ".join(line.split()))
    return re.compile(re.sub(r"\d+", r"\\d+", text) + r"\Z")


class Examples(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="supervisord-man.")
        self.bin = os.path.join(self.dir, "bin")
        os.mkdir(self.bin)
        self.conf = os.path.join(self.dir, "supervisord.conf")
        self.sock = os.path.join(self.dir, "supervisord.sock")
        self.pidfile = os.path.join(self.dir, "supervisord.pid")
        for name, binary in (("supervisord", SUPERVISORD), ("supervisorctl", SUPERVISORCTL)):
            with open(os.path.join(self.bin, name), "w") as f:
                f.write('#!/bin/sh\nexec "%s" -c "%s" "$@"\n' % (binary, self.conf))
            os.chmod(os.path.join(self.bin, name), 0o755)
        self.paths = [("/etc/supervisord.conf", self.conf), ("/run/supervisord.sock", self.sock),
                      ("/run/supervisord.pid", self.pidfile), ("/tmp/test/supervisord.sock", self.sock),
                      ("/var/log/supervisord", os.path.join(self.dir, "logs"))]

    def tearDown(self):
        try:
            with open(self.pidfile) as f:
                pid = int(f.read())
            os.kill(pid, 15)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and os.path.exists("/proc/%d" % pid):
                time.sleep(0.05)
        except (OSError, ValueError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def here(self, text):
        for theirs, ours in self.paths:
            text = text.replace(theirs, ours)
        return text

    def there(self, text):
        for theirs, ours in self.paths:
            text = text.replace(ours, theirs)
        return text

    def write_config(self, body):
        with open(self.conf, "w") as f:
            f.write('socket = "%s"\npidfile = "%s"\nlog-dir = "%s/logs"\n%s' % (self.sock, self.pidfile, self.dir, body))

    def ctl(self, *args):
        return subprocess.run([SUPERVISORCTL, "-s", self.sock, *args], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True).stdout

    def start_daemon(self):
        r = subprocess.run([SUPERVISORD, "-c", self.conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout)

    def wait_for(self, name, state):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if state in self.ctl("status", name).split():
                return
            time.sleep(0.05)
        self.fail("%s never got %s: %s" % (name, state, self.ctl("status")))

    def run_page(self, page):
        ran = 0
        for number, block in examples(page):
            if re.match(r"# /\S+$", block[0]):
                with open(self.here(block[0][2:]), "w") as f:
                    f.write(self.here("\n".join(block[1:]) + "\n"))
                continue
            commands = [(c, out) for c, out in split_commands(block)
                        if not any(p.search(c) for p in NEVER_ENDS)]
            if not commands:
                continue
            script = ""
            for k, (command, _) in enumerate(commands):
                script += 'rc=$?; echo "@@@ %d"; (exit $rc); %s\n' % (k, self.here(command))
            env = dict(os.environ, PATH=self.bin + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
            r = subprocess.run(["sh", "-c", script], cwd=self.dir, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=300)
            outputs = re.split(r"^@@@ \d+\n", r.stdout, flags=re.M)[1:]
            self.assertEqual(len(outputs), len(commands), r.stdout)
            for (command, expected), got in zip(commands, outputs):
                ran += 1
                if not expected:
                    continue
                lines = [" ".join(line.split()) for line in self.there(got).rstrip("\n").split("\n")]
                ok = len(lines) == len(expected) and all(pattern(e).match(g) for e, g in zip(expected, lines))
                self.assertTrue(ok, "man/%s:%d: `%s` printed\n%s\nbut the page shows\n%s" % (
                    page, number, command, "\n".join(lines), "\n".join(expected)))
        return ran

    def test_supervisorctl_1(self):
        self.write_config(CONFIGS["supervisorctl.1"])
        self.start_daemon()
        self.wait_for("web", "RUNNING")
        self.wait_for("worker", "FATAL")
        self.assertGreater(self.run_page("supervisorctl.1"), 5)

    def test_supervisord_8(self):
        self.write_config(CONFIGS["supervisord.8"])
        self.assertGreater(self.run_page("supervisord.8"), 3)
        # The last example shut the daemon down.
        deadline = time.monotonic() + 60
        while os.path.exists(self.sock) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertFalse(os.path.exists(self.sock), "the daemon is still there after kill -TERM")

    def test_supervisord_conf_5(self):
        # `supervisord -t` looks for the programs and directories the example names: they
        # are made here, reachable by the example's users.
        os.chmod(self.dir, 0o755)
        for theirs in ("/usr/local/bin", "/var/www"):
            ours = self.dir + theirs
            os.makedirs(ours)
            self.paths.append((theirs, ours))
        for program in ("webapp", "worker", "backup", "api-server", "db", "indexer"):
            path = os.path.join(self.dir + "/usr/local/bin", program)
            with open(path, "w") as f:
                f.write("#!/bin/sh\nexec sleep 1000\n")
            os.chmod(path, 0o755)
        self.assertGreater(self.run_page("supervisord.conf.5"), 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
