#!/usr/bin/env python3
"""Ansible's community.general.supervisorctl module (Debian's `ansible`) driving our
supervisord through our supervisorctl, unchanged, as its users write it: ad hoc `ansible
localhost -m community.general.supervisorctl` with `supervisorctl_path` set to ours and
`config` naming the daemon's config, an INI one as supervisord's users have and our own
format, or `server_url=unix:///PATH` naming its socket.  Every state the module knows
(started, stopped, restarted, signalled, absent, present), a program, a group (`worker:`)
and `all`, the calls that have nothing to do (changed=false), a name that does not exist,
and a running program taken out of the config (absent fails, as with supervisord, whose
removeProcessGroup refuses a running group).  What it did is checked where the OS shows
it: /proc, the file a signal handler writes.  The INI config once more through Python
supervisord's own supervisorctl (Debian's supervisor package): the same socket serves its
XML-RPC (socket-http), and every state works through it as through ours.

The module shells out to supervisorctl and greps its output ("NAME:
started", "stopped", "signalled", "added process group", "removed process group", status
lines' first two fields), so this test is the proof that our output keeps those words."""
import json
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
# Python supervisord's own client (Debian's supervisor package, in DEPS_check).
PY_SUPERVISORCTL = "/usr/bin/supervisorctl"
# Generous: CI machines are slow; every wait polls and ends as soon as it can.
DEADLINE = 60

SIGNAL_SERVICE = "sh -c 'trap \"echo got >> {dir}/hup\" HUP; while :; do sleep 1; done'"

INI_HEAD = """\
[unix_http_server]
file=%(here)s/supervisor.sock

[supervisord]
nodaemon=true
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s/log

[supervisorctl]
serverurl=unix://%(here)s/supervisor.sock

"""
INI_WEB = """\
[program:web]
command={command}
startsecs=0

"""
INI_WORKER = """\
[program:worker]
command=sleep 1000
process_name=%(program_name)s_%(process_num)02d
numprocs=2
startsecs=0
"""

NATIVE_HEAD = """\
socket = "{dir}/supervisor.sock"
pidfile = "{dir}/supervisord.pid"
log-dir = "{dir}/log"
"""
NATIVE_WEB = """\
service web {{
        command = "{command}"
        start-secs = 0
}}
"""
NATIVE_WORKER = """\
service worker {
        command = "sleep 1000"
        instances = 2
        service-group = pool
        start-secs = 0
}
"""


def wait_until(predicate, what):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def alive(pid):
    """PID is a live process (not a zombie) as /proc shows it."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Scenario:
    """The sequence, run once per config format.  Subclasses say how the config is
    written (with or without `web`) and what the group and its processes are called."""
    group = None
    members = ()
    # The cases that depend only on the status lines and so need no second format: each
    # format runs some, so that the two, run side by side, take about as long.
    #   "idle": nothing to do for web;  "group": the group's and all's extras, no such name;
    #   "url": server_url rather than config for the group and for remove
    cases = ()
    # The supervisorctl the module runs: ours, or Python supervisord's own.
    client = SUPERVISORCTL

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_ansible.")
        os.chmod(self.dir, 0o755)
        os.makedirs(os.path.join(self.dir, "log"))
        self.hup = os.path.join(self.dir, "hup")
        self.conf = os.path.join(self.dir, "supervisord.conf")
        self.write_config(web=True)
        home = os.path.join(self.dir, "ansible-home")
        # Ansible kept in the temporary directory, quiet and local: no home directory,
        # no fact gathering, no interpreter discovery, no retry files.
        self.env = dict(os.environ, ANSIBLE_HOME=home, ANSIBLE_LOCAL_TEMP=os.path.join(home, "tmp"),
                        ANSIBLE_REMOTE_TEMP=os.path.join(home, "remote-tmp"),
                        ANSIBLE_PYTHON_INTERPRETER="/usr/bin/python3", ANSIBLE_GATHERING="explicit",
                        ANSIBLE_CONFIG=os.path.join(self.dir, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                        ANSIBLE_RETRY_FILES_ENABLED="0", ANSIBLE_DEPRECATION_WARNINGS="0",
                        ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
                        ANSIBLE_SYSTEM_WARNINGS="0", ANSIBLE_LOG_PATH=os.path.join(home, "ansible.log"),
                        ANSIBLE_COLLECTIONS_PATH="/usr/lib/python3/dist-packages", HOME=home)
        self.log = open(os.path.join(self.dir, "supervisord.out"), "w")
        self.daemon = subprocess.Popen([SUPERVISORD, "-n", "-c", self.conf], cwd=self.dir, stdout=self.log,
                                       stderr=subprocess.STDOUT)
        wait_until(lambda: set(self.pids()) >= {"web", *self.members} and all(self.pids().values()),
                   "web and the group to run")

    def tearDown(self):
        if self.daemon.poll() is None:
            subprocess.run([SUPERVISORCTL, "-c", self.conf, "shutdown"], capture_output=True)
            try:
                self.daemon.wait(DEADLINE)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def pids(self):
        """{name: pid or None} as our supervisorctl's JSON status shows them."""
        r = subprocess.run([SUPERVISORCTL, "-c", self.conf, "--json", "status"], capture_output=True, text=True)
        if not r.stdout.startswith("["):
            return {}
        return {p["name"]: p["pid"] if p["state"] == "RUNNING" else None for p in json.loads(r.stdout)}

    def ansible(self, args, url=False):
        """One ad hoc run of the module: (ansible's exit status, its word, its JSON).  The
        module passes `-c CONFIG`, or with URL `-s unix:///PATH` and no config."""
        server = ("server_url=unix://%s/supervisor.sock" % self.dir) if url else ("config=" + self.conf)
        r = subprocess.run(["ansible", "localhost", "-o", "-c", "local", "-i", "localhost,",
                            "-m", "community.general.supervisorctl",
                            "-a", "%s %s supervisorctl_path=%s" % (args, server, self.client)],
                           cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=DEADLINE * 2)
        m = re.search(r"^localhost \| (CHANGED|SUCCESS|FAILED!) => (\{.*\})$", r.stdout, re.M)
        self.assertTrue(m, "ansible %s: exit %d\n%s%s" % (args, r.returncode, r.stdout, r.stderr))
        return r.returncode, m.group(1), json.loads(m.group(2))

    def changed(self, args, affected=None, url=False):
        rc, word, result = self.ansible(args, url)
        self.assertEqual((rc, word, result["changed"]), (0, "CHANGED", True), (args, result))
        if affected is not None:
            self.assertEqual(sorted(result["affected"]), sorted(affected), args)

    def unchanged(self, args, case="idle"):
        if case not in self.cases:
            return
        rc, word, result = self.ansible(args)
        self.assertEqual((rc, word, result["changed"]), (0, "SUCCESS", False), (args, result))

    def test_every_state(self):
        group = self.group
        members = list(self.members)
        before = self.pids()
        web = before["web"]

        # stopped, then nothing to do
        self.changed("name=web state=stopped", ["web"])
        self.assertFalse(alive(web))
        self.assertIsNone(self.pids()["web"])
        self.unchanged("name=web state=stopped")

        # started, then nothing to do
        self.changed("name=web state=started", ["web"])
        web = self.pids()["web"]
        self.assertTrue(web and alive(web))
        self.unchanged("name=web state=started")

        # restarted: another process
        self.changed("name=web state=restarted", ["web"])
        restarted = self.pids()["web"]
        self.assertTrue(restarted and alive(restarted))
        self.assertNotEqual(restarted, web)
        self.assertFalse(alive(web))
        web = restarted

        # signalled: the process's handler saw it
        self.changed("name=web state=signalled signal=HUP", ["web"])
        def recorded():
            try:
                with open(self.hup) as f:
                    return "got" in f.read()
            except FileNotFoundError:
                return False
        wait_until(recorded, "web to record SIGHUP")
        self.assertEqual(self.pids()["web"], web)

        # a group: both its processes, and only those
        # (by its socket's URL rather than the config in the other format: the module's
        # server_url; remove and add are the daemon's own reading of its config)
        self.changed("name=%s: state=stopped" % group, members, url="url" in self.cases)
        pids = self.pids()
        self.assertTrue(all(pids[m] is None for m in members), pids)
        self.assertTrue(all(not alive(before[m]) for m in members))
        self.assertEqual(pids["web"], web)
        self.unchanged("name=%s: state=stopped" % group, "group")
        self.changed("name=%s: state=started" % group, members, url="url" in self.cases)
        pids = self.pids()
        self.assertTrue(all(pids[m] and alive(pids[m]) for m in members), pids)

        # all: every process restarted
        if "group" not in self.cases:
            return self.absent_and_present(web, members, pids)
        self.changed("name=all state=restarted", ["web"] + members)
        after = self.pids()
        for name in ["web"] + members:
            self.assertTrue(after[name] and alive(after[name]), (name, after))
            self.assertNotEqual(after[name], pids.get(name, web), name)
        web = after["web"]

        # no such process: the module's failure, ansible's exit status 2
        rc, word, result = self.ansible("name=nosuch state=started")
        self.assertEqual((rc, word), (2, "FAILED!"))
        self.assertEqual(result["msg"], "ERROR (no such process)")
        self.absent_and_present(web, members, after)

    def absent_and_present(self, web, members, pids):
        """absent and present on web, the group's processes PIDS untouched."""
        # absent: out of the config but running, it stays (supervisord's
        # removeProcessGroup refuses a running group, its supervisorctl says this line)
        self.write_config(web=False)
        rc, word, result = self.ansible("name=web state=absent")
        self.assertEqual((rc, word), (2, "FAILED!"), result)
        self.assertEqual(result["msg"], "ERROR: process/group still running: web\n")
        self.assertTrue(alive(web))
        self.assertEqual(self.pids()["web"], web)
        # stopped first, it goes
        self.changed("name=web state=stopped", ["web"])
        self.changed("name=web state=absent", url="url" in self.cases)
        self.assertNotIn("web", self.pids())
        self.assertFalse(alive(web))
        self.unchanged("name=web state=absent")

        # present: back in the config, added and started
        self.write_config(web=True)
        self.changed("name=web state=present")
        web = wait_until(lambda: self.pids().get("web"), "web to run again")
        self.assertTrue(alive(web))
        with open("/proc/%d/cmdline" % web, "rb") as f:
            self.assertEqual(f.read().split(b"\0")[:2], [b"sh", b"-c"])
        self.unchanged("name=web state=present")
        # the group never moved
        self.assertEqual({m: self.pids()[m] for m in members}, {m: pids[m] for m in members})


class IniConfig(Scenario, unittest.TestCase):
    """supervisord's own format, as Ansible's users have it."""
    group = "worker"
    members = ("worker:worker_00", "worker:worker_01")
    cases = ("idle",)

    def write_config(self, web):
        text = INI_HEAD + (INI_WEB.format(command=SIGNAL_SERVICE.format(dir="%(here)s")) if web else "") + INI_WORKER
        with open(self.conf, "w") as f:
            f.write(text)


class PythonClient(IniConfig):
    """The same INI config through Python supervisord's own supervisorctl, as a host
    that switches daemons but keeps its supervisor package: its XML-RPC over the
    [unix_http_server] socket, which serves both protocols."""
    client = PY_SUPERVISORCTL
    cases = ("idle", "group")


class NativeConfig(Scenario, unittest.TestCase):
    """Our format: `-c` reads its socket the same way."""
    group = "pool"
    members = ("pool:worker@0", "pool:worker@1")
    cases = ("group", "url")

    def write_config(self, web):
        command = SIGNAL_SERVICE.format(dir=self.dir).replace("\\", "\\\\").replace('"', '\\"')
        text = NATIVE_HEAD.format(dir=self.dir) + (NATIVE_WEB.format(command=command) if web else "") + NATIVE_WORKER
        with open(self.conf, "w") as f:
            f.write(text)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        unittest.main(verbosity=2)
    # The two formats side by side, each with its own daemon and directory: every ansible
    # run is a second or two of Python starting up, and one after the other they would
    # take twice as long.
    others = [subprocess.Popen([sys.executable, __file__, name]) for name in ("NativeConfig", "PythonClient")]
    ours = unittest.main(argv=[sys.argv[0], "IniConfig"], verbosity=2, exit=False).result.wasSuccessful()
    sys.exit(0 if all(other.wait() == 0 for other in others) and ours else 1)
