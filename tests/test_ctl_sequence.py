#!/usr/bin/env python3
"""One scripted sequence of every command of Python's supervisorctl 4.2.5 (Debian's
/usr/bin/supervisorctl) and of ours, run against the same supervisord of ours (an INI
config, whose unix socket serves the native protocol to ours and XML-RPC to Python's),
their output lines and exit statuses compared line by line.

Each step leaves the daemon as the next one expects: before each client's run the step's
`before` brings it to the same state (through our client, output ignored), so both clients
answer the same question.  What changes from run to run (pids, uptimes, stop times) is
written alike before the comparison.  Where we differ on purpose the step names the
difference in EXCEPTIONS, with its reason (supervisorctl(1), COMPATIBILITY lists each), and
both clients' lines are still checked: each must be exactly what the exception says."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SUPERVISORD = os.environ.get("SUPERVISORD", os.path.join(SRC, "supervisord/supervisord"))
SUPERVISORCTL = os.environ.get("SUPERVISORCTL", os.path.join(SRC, "supervisord/supervisorctl"))
PY_SUPERVISORCTL = "/usr/bin/supervisorctl"
DEADLINE = 60  # generous: every wait polls and ends as soon as it can

HEAD = """\
[unix_http_server]
file=%(here)s/supervisor.sock

[supervisord]
nodaemon=true
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s/log

[supervisorctl]
serverurl=unix://%(here)s/supervisor.sock

[program:web]
command=sleep 1000
startsecs=0

[program:sig]
command=sh -c 'trap "" HUP; while :; do sleep 1; done'
startsecs=0

[program:worker]
command=sleep 1000
process_name=%(program_name)s_%(process_num)02d
numprocs=2
startsecs=0

[group:pool]
programs=worker
priority=7
"""
IDLE = """
[program:idle]
command=sleep 1000
autostart=false
priority=5
"""
EXTRA = """
[program:extra]
command=sleep 1000
startsecs=0
"""

def normalize(text):
    """What differs from one run to the next written alike: pids, uptimes, stop times."""
    text = re.sub(r"pid \d+, uptime \d+:\d\d:\d\d", "pid PID, uptime UPTIME", text)
    text = re.sub(r"[A-Z][a-z]{2} \d\d \d\d:\d\d [AP]M", "STOPTIME", text)
    return text


class Sequence(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_ctl_sequence.")
        os.makedirs(os.path.join(self.dir, "log"))
        self.conf = os.path.join(self.dir, "supervisord.conf")
        self.sock = os.path.join(self.dir, "supervisor.sock")
        self.write_config(IDLE)
        self.log = open(os.path.join(self.dir, "supervisord.out"), "w")
        self.daemon = None
        self.start_daemon()

    def tearDown(self):
        if self.daemon and self.daemon.poll() is None:
            subprocess.run([SUPERVISORCTL, "-c", self.conf, "shutdown"], capture_output=True)
            try:
                self.daemon.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write_config(self, *more):
        with open(self.conf, "w") as f:
            f.write(HEAD + "".join(more))

    def start_daemon(self):
        if self.daemon and self.daemon.poll() is None:
            return
        if self.daemon:
            self.daemon.wait()
        self.daemon = subprocess.Popen([SUPERVISORD, "-n", "-c", self.conf], cwd=self.dir, stdout=self.log,
                                       stderr=subprocess.STDOUT)
        self.wait_running("web", "sig", "pool:worker_00", "pool:worker_01")

    def states(self):
        r = subprocess.run([SUPERVISORCTL, "-c", self.conf, "status"], capture_output=True, text=True)
        return dict(line.split()[:2] for line in r.stdout.splitlines() if len(line.split()) >= 2)

    def wait_running(self, *names):
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            states = self.states()
            if all(states.get(n) == "RUNNING" for n in names):
                return
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s to run: %s" % (names, self.states()))

    def ours(self, line):
        subprocess.run([SUPERVISORCTL, "-c", self.conf] + line.split(), capture_output=True, timeout=DEADLINE)

    def run_client(self, client, line):
        """(exit status, output): stdout, then each line of stderr marked as such."""
        r = subprocess.run([client, "-c", self.conf] + line.split(), capture_output=True, text=True,
                           timeout=DEADLINE, cwd=self.dir)
        return r.returncode, normalize(r.stdout + "".join("stderr: " + l + "\n" for l in r.stderr.splitlines()))

    def baseline(self, config_touched):
        """web, sig and the pool running, idle stopped, the config as it began (brought
        back with an update when the step before may have changed it)."""
        if config_touched:
            self.write_config(IDLE)
            self.ours("update")
        for line in ("start web sig pool:*", "stop idle"):
            self.ours(line)
        self.wait_running("web", "sig", "pool:worker_00", "pool:worker_01")

    def test_the_sequence(self):
        sock = self.sock
        def config(*more):
            return lambda: self.write_config(*more)

        # (the command line, what brings the daemon to the state the step is about, after
        # the baseline: web, sig and the pool running, idle stopped)
        steps = [
            ("status", []),
            ("status web", []),
            ("status pool:*", []),
            ("status web nosuch", []),
            ("status nosuch:*", []),
            ("status idle", []),
            ("start idle", []),
            ("start idle", ["start idle"]),
            ("stop idle", ["start idle"]),
            ("stop idle", []),
            ("restart web", []),
            ("stop pool:*", []),
            ("start pool:*", ["stop pool:*"]),
            ("start pool:", ["stop pool:*"]),
            ("restart pool:*", []),
            ("stop pool:worker_00", []),
            ("start all", ["stop all"]),
            ("stop all", []),
            ("restart all", ["start idle"]),
            ("start web", []),
            ("start nosuch", []),
            ("start nosuch:*", []),
            ("stop nosuch", []),
            ("restart nosuch", []),
            ("start web nosuch", []),
            ("stop wbe", []),
            ("start", []),
            ("stop", []),
            ("restart", []),
            ("signal HUP sig", []),
            ("signal CONT pool:*", []),
            ("signal CONT all", []),
            ("signal BOGUS sig", []),
            ("signal HUP idle", []),
            ("signal HUP nosuch", []),
            ("signal HUP", []),
            ("pid", []),
            ("pid web", []),
            ("pid idle", []),
            ("pid nosuch", []),
            ("avail", []),
            ("avail extra", []),
            ("version", []),
            ("help", []),
            ("help status", []),
            ("help nosuch", []),
            ("help help", []),
            ("help quit", []),
            ("bogus", []),
            ("bogus with args", []),
            ("statsu", []),
            ("clear web", []),
            ("clear all", []),
            ("clear", []),
            ("reread", []),
            ("reread", [config(EXTRA)]),
            ("avail", [config(EXTRA)]),
            ("add extra", [config(EXTRA), "stop extra", "remove extra"]),
            ("add extra", [config(EXTRA), "add extra"]),
            ("status", [config(EXTRA), "add extra"]),
            ("remove extra", [config(EXTRA), "add extra", "stop extra"]),
            ("remove extra", [config(EXTRA), "add extra", "stop extra", "remove extra"]),
            ("update", [config(EXTRA), "stop extra", "remove extra"]),
            ("update all", [config(EXTRA), "stop extra", "remove extra"]),
            ("open unix://" + sock, []),
            ("open foo://x", []),
            ("reload", []),
            ("shutdown", []),
        ]
        seen = set()
        failures = []
        touched = False
        for line, before in steps:
            results = {}
            for name, client in (("python", PY_SUPERVISORCTL), ("ours", SUPERVISORCTL)):
                self.start_daemon()
                self.baseline(touched)
                touched = any(callable(b) for b in before) or line.split()[0] in ("add", "remove", "update")
                for b in before:
                    b() if callable(b) else self.ours(b)
                results[name] = self.run_client(client, line)
                if line == "reload":  # both answer at once; wait for it to be back
                    self.wait_running("web", "sig", "pool:worker_00", "pool:worker_01")
                if line == "shutdown":
                    self.daemon.wait(DEADLINE)
            key = line if line not in seen else "%s (again)" % line
            seen.add(line)
            python, ours = results["python"], results["ours"]
            exception = EXCEPTIONS.get(key.split(" (again)")[0])
            if exception:
                reason, check = exception
                problem = check(self, line, python, ours)
                if problem:
                    failures.append("%s (exception: %s): %s\n python: %r\n   ours: %r"
                                    % (key, reason, problem, python, ours))
            elif python != ours:
                failures.append("%s\n python: %r\n   ours: %r" % (key, python, ours))
        self.assertFalse(failures, "\n".join(failures))

    def help_of(self, client, command):
        return self.run_client(client, "help " + command)[1]


def own_help(command):
    """Both the same but for the help text, which is in our own words: each client's
    output has its own `help COMMAND` where the other has its."""
    def check(test, line, python, ours):
        py_help, our_help = test.help_of(PY_SUPERVISORCTL, command), test.help_of(SUPERVISORCTL, command)
        if not py_help or py_help == our_help:
            return "no help to tell apart"
        if python[0] != ours[0] or python[1].replace(py_help, "HELP") != ours[1].replace(our_help, "HELP"):
            return "they differ beyond the help text"
        return None
    return check


def expect(python_want, ours_want):
    def check(test, line, python, ours):
        want = (python_want(test) if callable(python_want) else python_want,
                ours_want(test) if callable(ours_want) else ours_want)
        return None if (python, ours) == want else "want %r" % (want,)
    return check


def unknown_first(test, line, python, ours):
    """The same lines, the unknown name's first in ours."""
    py_lines, our_lines = python[1].splitlines(), ours[1].splitlines()
    if python[0] != ours[0] or sorted(py_lines) != sorted(our_lines):
        return "not the same lines"
    if "no such" not in our_lines[0] or "no such" in py_lines[0]:
        return "the unknown name's line is not where this exception says"
    return None


def close_names(test, line, python, ours):
    """Ours is supervisorctl's line, and the close names on standard error."""
    name = line.split()[-1]
    want = (python[0], python[1] + "stderr: supervisorctl: %s: did you mean web?\n" % name)
    return None if ours == want else "want %r" % (want,)


def version(test):
    r = subprocess.run([SUPERVISORCTL, "--version"], capture_output=True, text=True)
    return r.stdout.split()[-1]


# Deliberate differences, each in supervisorctl(1), COMPATIBILITY: the step, why, and how
# both clients' output is still checked.
EXCEPTIONS = {
    "help status": ("the help texts are in our own words", own_help("status")),
    "help help": ("the help texts are in our own words", own_help("help")),
    "help quit": ("the help texts are in our own words", own_help("quit")),
    "start": ("the help texts are in our own words", own_help("start")),
    "stop": ("the help texts are in our own words", own_help("stop")),
    "restart": ("the help texts are in our own words", own_help("restart")),
    "clear": ("the help texts are in our own words", own_help("clear")),
    "signal HUP": ("the help texts are in our own words", own_help("signal")),
    "avail extra": ("the help texts are in our own words", own_help("avail")),
    "start web nosuch": ("an unknown name's line comes first", unknown_first),
    "stop wbe": ("ours adds the close names, on standard error", close_names),
    "statsu": ("ours adds the close commands, on standard error",
               lambda test, line, python, ours: None
               if ours == (python[0], python[1] + "stderr: supervisorctl: did you mean status?\n")
               else "want the close commands after supervisorctl's line"),
    "version": ("ours names both programs' versions",
                expect(lambda t: (0, version(t) + "\n"),
                       lambda t: (0, "supervisorctl %s\nsupervisord %s\n" % (version(t), version(t))))),
}

if __name__ == "__main__":
    unittest.main(verbosity=2)
