#!/usr/bin/env python3
"""Integration tests of supervisord's INI form: real configs of Python supervisord's users
run under our supervisord, and the processes they make (names, argv, environment, working
directory, umask, as /proc shows them) compared with what Python supervisord 4.2.5 itself
makes from the same file.  A script test rather than a C one because the reference is a
Python program driven by its own supervisorctl; both daemons run in a temporary directory
one after the other on the same file."""
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
PY_SUPERVISORD = "/usr/bin/supervisord"
PY_SUPERVISORCTL = "/usr/bin/supervisorctl"
# Generous: CI machines are slow; every wait polls and ends as soon as it can.
DEADLINE = 60

LARAVEL = """\
[unix_http_server]
file=%(here)s/supervisor.sock

[supervisord]
nodaemon=true
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s/log
umask=027

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/supervisor.sock

[include]
files = conf.d/*.conf
"""

LARAVEL_WORKER = """\
[program:laravel-worker]
process_name=%(program_name)s_%(process_num)02d
command=sh -c 'echo started $0 $1; sleep 1000; :' "artisan queue:work" --sleep=3 --tries=3 %(process_num)d
directory=%(here)s/..
autostart=true
autorestart=true
stopasgroup=true
killasgroup=true
numprocs=8
environment=APP_ENV="production,eu",WORKER_NUM=%(process_num)s,QUEUE=%(ENV_TEST_QUEUE)s
redirect_stderr=true
stdout_logfile=AUTO
stopwaitsecs=3600
"""


# A childutils listener that writes each event it gets as a line of JSON.
RECORDER = """\
import json, sys
from supervisor import childutils
while True:
    headers, payload = childutils.listener.wait(sys.stdin, sys.stdout)
    fields = childutils.get_headers(payload.split("\\n", 1)[0]) if payload else {}
    with open(sys.argv[1], "a") as f:
        f.write(json.dumps({"event": headers["eventname"], "pool": headers["pool"], "fields": fields}) + "\\n")
    childutils.listener.ok(sys.stdout)
"""

LISTENED = """\
[unix_http_server]
file=%(here)s/s.sock

[supervisord]
nodaemon=true
pidfile=%(here)s/d.pid
childlogdir=%(here)s/log
logfile=%(here)s/main.log

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl=unix://%(here)s/s.sock

[eventlistener:rec]
command=/usr/bin/python3 %(here)s/rec.py %(here)s/events.jsonl
events=PROCESS_STATE,PROCESS_GROUP,SUPERVISOR_STATE_CHANGE_RUNNING
buffer_size=100
startsecs=0

[program:ok]
command=sleep 1000
startsecs=1

[program:crash]
command=sh -c 'exit 3'
startsecs=1
startretries=0

[program:done]
command=sh -c 'sleep 2; exit 0'
startsecs=1
autorestart=false
"""


def slurp(path):
    with open(path, "rb") as f:
        return f.read()


def wait_until(predicate, what):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def process_view(pid):
    """What the OS shows of process PID: argv, working directory, umask and environment."""
    with open("/proc/%d/cmdline" % pid, "rb") as f:
        argv = f.read().split(b"\0")[:-1]
    with open("/proc/%d/environ" % pid, "rb") as f:
        environ = dict(kv.split(b"=", 1) for kv in f.read().split(b"\0") if b"=" in kv)
    with open("/proc/%d/status" % pid) as f:
        umask = re.search(r"^Umask:\s*(\d+)", f.read(), re.M).group(1)
    return {"argv": argv, "cwd": os.readlink("/proc/%d/cwd" % pid), "umask": umask, "environ": environ}


class IniConfigs(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="test_ini_configs.")
        os.chmod(self.dir, 0o755)
        self.daemon = None
        os.environ["TEST_QUEUE"] = "high"

    def tearDown(self):
        if self.daemon and self.daemon.poll() is None:
            self.daemon.kill()
            self.daemon.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_daemon(self, program, ctl, conf, names, also=None, args=()):
        """Start PROGRAM on CONF in the foreground, wait until every one of NAMES is
        RUNNING (as CTL's status shows it) and ALSO holds, return {name: process view},
        shut it down."""
        log = open(os.path.join(self.dir, os.path.basename(program) + ".out"), "w")
        self.daemon = subprocess.Popen([program, "-c", conf] + list(args), cwd=self.dir, stdout=log,
                                       stderr=subprocess.STDOUT)

        def running():
            out = subprocess.run([ctl, "-c", conf, "status"], cwd=self.dir, capture_output=True, text=True).stdout
            states = {}
            for line in out.splitlines():
                fields = line.split()
                if len(fields) >= 4 and fields[1] == "RUNNING":
                    states[fields[0].split(":")[-1]] = int(fields[3].rstrip(","))
            return states if set(states) >= set(names) else None

        try:
            pids = wait_until(running, "%s to run %s" % (program, ", ".join(names)))
            views = {name: process_view(pids[name]) for name in names}
            if also:
                wait_until(also, "the AUTO log of a process in childlogdir")
        finally:
            subprocess.run([ctl, "-c", conf, "shutdown"], cwd=self.dir, capture_output=True)
            wait_until(lambda: self.daemon.poll() is not None, program + " to exit")
            log.close()
        return pids, views

    def test_laravel_workers_as_supervisord_runs_them(self):
        conf = self.write("etc/supervisord.conf", LARAVEL)
        self.write("etc/conf.d/laravel-worker.conf", LARAVEL_WORKER)
        os.makedirs(os.path.join(self.dir, "etc/log"))
        names = ["laravel-worker_%02d" % i for i in range(8)]
        check = subprocess.run([SUPERVISORD, "-t", "-c", conf], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertIn("configuration OK (8 services)", check.stdout)
        log = os.path.join(self.dir, "etc/log/laravel-worker_05.log")
        _, ours = self.run_daemon(SUPERVISORD, SUPERVISORCTL, conf, names,
                                  lambda: os.path.exists(log) and b"started artisan queue:work" in open(log, "rb").read())
        _, theirs = self.run_daemon(PY_SUPERVISORD, PY_SUPERVISORCTL, conf, names)
        for name in names:
            a, b = ours[name], theirs[name]
            self.assertEqual(a["argv"], b["argv"], name)
            self.assertEqual(a["cwd"], b["cwd"], name)
            self.assertEqual(a["umask"], b["umask"], name)
            for key in (b"APP_ENV", b"WORKER_NUM", b"QUEUE", b"SUPERVISOR_ENABLED", b"SUPERVISOR_PROCESS_NAME",
                        b"SUPERVISOR_GROUP_NAME", b"SUPERVISOR_SERVER_URL"):
                self.assertEqual(a["environ"].get(key), b["environ"].get(key), (name, key))
            self.assertTrue(b["environ"][b"SUPERVISOR_SERVER_URL"].startswith(b"unix://"), name)
        # what the values were meant to be, so that an agreement on nothing cannot pass
        self.assertEqual(ours["laravel-worker_07"]["argv"],
                         [b"sh", b"-c", b"echo started $0 $1; sleep 1000; :", b"artisan queue:work", b"--sleep=3", b"--tries=3", b"7"])
        self.assertEqual(ours["laravel-worker_03"]["environ"][b"APP_ENV"], b"production,eu")
        self.assertEqual(ours["laravel-worker_03"]["environ"][b"QUEUE"], b"high")
        self.assertEqual(ours["laravel-worker_03"]["environ"][b"SUPERVISOR_PROCESS_NAME"], b"laravel-worker_03")
        self.assertEqual(ours["laravel-worker_03"]["environ"][b"SUPERVISOR_GROUP_NAME"], b"laravel-worker")
        # umask= is supervisord's as it daemonizes: with nodaemon the programs inherit ours
        inherited = os.umask(0)
        os.umask(inherited)
        self.assertEqual(ours["laravel-worker_03"]["umask"], "%04o" % inherited)
        # %(here)s in an included file is that file's directory (etc/conf.d/..)
        self.assertEqual(ours["laravel-worker_03"]["cwd"], os.path.realpath(os.path.join(self.dir, "etc")))

    def test_debian_packaged_config(self):
        """Debian's own /etc/supervisor/supervisord.conf, comments and all, with only its
        directories moved into the test's, and a conf.d of programs: both daemons make the
        same processes, and each writes its main log and the programs' logs there."""
        with open("/etc/supervisor/supervisord.conf") as f:
            text = f.read()
        for theirs, ours in (("/var/run/", self.dir + "/run/"), ("/var/log/supervisor", self.dir + "/log"),
                             ("/etc/supervisor/conf.d", self.dir + "/conf.d")):
            self.assertIn(theirs, text)
            text = text.replace(theirs, ours)
        conf = self.write("supervisord.conf", text)
        self.write("conf.d/web.conf", "[program:web]\ncommand=sh -c 'echo web up; exec sleep 1000'\n"
                   "environment=PORT=\"8080\"\n")
        self.write("conf.d/worker.conf", "[program:worker]\ncommand=sleep 1000\nnumprocs=2\n"
                   "process_name=%(program_name)s-%(process_num)d\ndirectory=/tmp\n")
        os.makedirs(os.path.join(self.dir, "run"))
        os.makedirs(os.path.join(self.dir, "log"))
        names = ["web", "worker-0", "worker-1"]
        log = os.path.join(self.dir, "log")

        def web_logged():
            return any(f.startswith("web") and b"web up" in slurp(os.path.join(log, f)) for f in os.listdir(log))

        views = {}
        for program, ctl in ((SUPERVISORD, SUPERVISORCTL), (PY_SUPERVISORD, PY_SUPERVISORCTL)):
            for f in os.listdir(log):
                os.unlink(os.path.join(log, f))
            _, views[program] = self.run_daemon(program, ctl, conf, names, web_logged, ["-n"])
            main_log = slurp(os.path.join(log, "supervisord.log"))
            self.assertIn(b"spawned: 'web' with pid", main_log, program)
            self.assertIn(b"success: worker-1 entered RUNNING state", main_log, program)
        for name in names:
            a, b = views[SUPERVISORD][name], views[PY_SUPERVISORD][name]
            self.assertEqual(a["argv"], b["argv"], name)
            self.assertEqual(a["cwd"], b["cwd"], name)
            for key in (b"PORT", b"SUPERVISOR_ENABLED", b"SUPERVISOR_PROCESS_NAME", b"SUPERVISOR_GROUP_NAME",
                        b"SUPERVISOR_SERVER_URL"):
                self.assertEqual(a["environ"].get(key), b["environ"].get(key), (name, key))
        self.assertEqual(views[SUPERVISORD]["worker-1"]["cwd"], "/tmp")
        self.assertEqual(views[SUPERVISORD]["web"]["environ"][b"PORT"], b"8080")

    def test_stream_logs_as_supervisord_writes_them(self):
        """Each stream where supervisord 4.2.5 puts it: stdout_logfile and stderr_logfile
        at paths of their own, stderr rotated by its own stderr_logfile_maxbytes and
        _backups; stderr into stdout's file with redirect_stderr; NONE keeps nothing;
        AUTO (supervisord's default) a file in childlogdir for stderr too.  The same files
        with the same bytes under both daemons."""
        conf_text = """\
[unix_http_server]
file=%(here)s/s.sock
[supervisord]
nodaemon=true
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s/auto
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://%(here)s/s.sock
[program:split]
command=sh -c 'echo out-1; echo err-1 >&2; i=0; while [ $i -lt 200 ]; do echo eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee >&2; i=$((i+1)); done; echo out-2; touch %(here)s/split.done; exec sleep 1000'
stdout_logfile=%(here)s/files/split.out
stderr_logfile=%(here)s/files/split.err
stderr_logfile_maxbytes=4KB
stderr_logfile_backups=2
startsecs=0
[program:merged]
command=sh -c 'echo m-out; echo m-err >&2; touch %(here)s/merged.done; exec sleep 1000'
redirect_stderr=true
stdout_logfile=%(here)s/files/merged.out
stderr_logfile=%(here)s/files/ignored.err
startsecs=0
[program:dropped]
command=sh -c 'echo d-out; echo d-err >&2; touch %(here)s/dropped.done; exec sleep 1000'
stdout_logfile=NONE
stderr_logfile=%(here)s/files/dropped.err
startsecs=0
"""
        conf = self.write("supervisord.conf", conf_text)
        names = ["split", "merged", "dropped"]
        files = os.path.join(self.dir, "files")
        auto = os.path.join(self.dir, "auto")

        def written(rotated):
            done = all(os.path.exists(os.path.join(self.dir, n + ".done")) for n in names)
            if not done or not os.path.exists(os.path.join(files, rotated)):
                return False
            with open(os.path.join(files, "split.out")) as f:
                return f.read().endswith("out-2\n")

        def contents():
            got = {}
            for name in sorted(os.listdir(files)):
                with open(os.path.join(files, name)) as f:
                    got[name] = f.read()
            return got

        results = []
        # supervisord rotates once a write has crossed maxbytes, so where its files end
        # depends on how much each read of the pipe got; ours end at exactly maxbytes
        for program, ctl, rotated in ((SUPERVISORD, SUPERVISORCTL, "split.err.2"),
                                      (PY_SUPERVISORD, PY_SUPERVISORCTL, "split.err.1")):
            os.makedirs(files)
            os.makedirs(auto)
            for n in names:
                if os.path.exists(os.path.join(self.dir, n + ".done")):
                    os.unlink(os.path.join(self.dir, n + ".done"))
            self.run_daemon(program, ctl, conf, names, lambda: written(rotated))
            results.append(contents())
            shutil.rmtree(files)
            shutil.rmtree(auto)
        ours, theirs = results
        self.assertEqual(sorted(n for n in ours if not n.startswith("split.err")),
                         sorted(n for n in theirs if not n.startswith("split.err")))
        for name in theirs:
            if not name.startswith("split.err"):
                self.assertEqual(ours[name], theirs[name], name)
        # what they were meant to be, so that an agreement on nothing cannot pass
        self.assertEqual(ours["split.out"], "out-1\nout-2\n")
        self.assertEqual(ours["merged.out"], "m-out\nm-err\n")
        self.assertEqual(ours["dropped.err"], "d-err\n")
        self.assertNotIn("ignored.err", ours)
        self.assertEqual(sorted(n for n in ours if n.startswith("split.err")), ["split.err", "split.err.1", "split.err.2"])
        self.assertEqual(len(ours["split.err.2"]), 4096)
        self.assertEqual(len(ours["split.err.1"]), 4096)
        # the newest 3 files' worth of stderr, in order; the oldest rotated away
        full = "err-1\n" + ("e" * 63 + "\n") * 200
        joined = ours["split.err.2"] + ours["split.err.1"] + ours["split.err"]
        self.assertTrue(full.endswith(joined) and len(joined) > 8192, joined)

    def test_auto_stderr_log_of_its_own(self):
        """supervisord's defaults (redirect_stderr=false, stderr_logfile=AUTO): stderr in a
        file of its own in childlogdir, NAME.stderr.log here (supervisord's name has a
        random part), stdout's file without it."""
        conf = self.write("supervisord.conf", "[supervisord]\nnodaemon=true\nchildlogdir=%(here)s/auto\n"
                          "pidfile=%(here)s/supervisord.pid\n"
                          "[unix_http_server]\nfile=%(here)s/s.sock\n"
                          "[rpcinterface:supervisor]\n"
                          "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
                          "[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n"
                          "[program:both]\ncommand=sh -c 'echo a-out; echo a-err >&2; exec sleep 1000'\n"
                          "startsecs=0\n")
        os.makedirs(os.path.join(self.dir, "auto"))
        out, err = (os.path.join(self.dir, "auto", n) for n in ("both.log", "both.stderr.log"))
        def read(path):
            with open(path) as f:
                return f.read()
        self.run_daemon(SUPERVISORD, SUPERVISORCTL, conf, ["both"],
                        lambda: os.path.exists(out) and os.path.exists(err) and read(err) == "a-err\n")
        self.assertEqual(read(out), "a-out\n")

    def test_docker_style(self):
        """nodaemon=true with the program's output on supervisord's own stdout, rotation
        off: what a container's `docker logs` shows."""
        for target in ("/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
            self.docker_style(target)

    def docker_style(self, target):
        main_log = "logfile=/dev/stdout\nlogfile_maxbytes=0\n"
        conf = self.write("supervisord.conf", "[supervisord]\nnodaemon=true\nuser=root\n" + main_log +
                          "[unix_http_server]\nfile=%(here)s/s.sock\n"
                          "[program:app]\ncommand=sh -c 'echo hello from app; sleep 1000; :'\n"
                          "stdout_logfile=" + target + "\nstdout_logfile_maxbytes=0\nredirect_stderr=true\n")
        check = subprocess.run([SUPERVISORD, "-t", "-c", conf], capture_output=True, text=True)
        if check.returncode != 0 and "logfile: supervisord's logfile is not supported here yet" in check.stderr:
            self.skipTest("supervisord's own logfile= is not there yet")
        self.assertEqual(check.returncode, 0, check.stderr)
        out = os.path.join(self.dir, "supervisord.out")
        self.run_daemon(SUPERVISORD, SUPERVISORCTL, conf, ["app"],
                        lambda: b"hello from app" in open(out, "rb").read())

    def test_listener_sees_what_supervisord_sends(self):
        """One [eventlistener:x] written with childutils, the same file under both daemons and
        the same supervisorctl steps: each process's PROCESS_STATE events (type, from_state,
        expected, tries), the groups added and supervisord's RUNNING, as Python's sends them."""
        self.write("rec.py", RECORDER)
        conf = self.write("supervisord.conf", LISTENED)
        os.makedirs(os.path.join(self.dir, "log"))
        events = os.path.join(self.dir, "events.jsonl")
        seen = {}
        for program, ctl in ((SUPERVISORD, SUPERVISORCTL), (PY_SUPERVISORD, PY_SUPERVISORCTL)):
            if os.path.exists(events):
                os.unlink(events)

            def records():
                if not os.path.exists(events):
                    return []
                with open(events) as f:
                    return [json.loads(line) for line in f if line.endswith("\n")]

            def states(name):
                return [r["event"] for r in records() if r["fields"].get("processname") == name]

            def steps():
                wait_until(lambda: states("crash")[-1:] == ["PROCESS_STATE_FATAL"], "crash to go FATAL")
                wait_until(lambda: states("done")[-1:] == ["PROCESS_STATE_EXITED"], "done to exit")
                wait_until(lambda: states("ok")[-1:] == ["PROCESS_STATE_RUNNING"], "ok to run")
                for step in ("stop ok", "start ok"):
                    r = subprocess.run([ctl, "-c", conf] + step.split(), cwd=self.dir, capture_output=True, text=True)
                    self.assertEqual(r.returncode, 0, (program, step, r.stdout, r.stderr))
                wait_until(lambda: states("ok").count("PROCESS_STATE_RUNNING") == 2, "ok to run again")
                # what came before the shutdown (see supervisord(8), EVENT LISTENERS)
                before.extend(records())
                return True

            before = []
            self.run_daemon(program, ctl, conf, ["rec"], steps)
            got = before
            per_process = {}
            for r in got:
                f = r["fields"]
                if r["event"].startswith("PROCESS_STATE_"):
                    per_process.setdefault(f["processname"], []).append(
                        (r["event"], f["groupname"], f.get("from_state"), f.get("expected"), f.get("tries")))
            seen[program] = {
                "processes": per_process,
                "groups": sorted(r["fields"]["groupname"] for r in got if r["event"] == "PROCESS_GROUP_ADDED"),
                "running": [r["event"] for r in got if r["event"].startswith("SUPERVISOR_STATE_CHANGE")],
                "pools": sorted(set(r["pool"] for r in got)),
            }
        ours, theirs = seen[SUPERVISORD], seen[PY_SUPERVISORD]
        for name in ("ok", "crash", "done", "rec"):
            self.assertEqual(ours["processes"].get(name), theirs["processes"].get(name), name)
        self.assertEqual(ours["groups"], theirs["groups"])
        self.assertEqual(ours["running"], theirs["running"])
        self.assertEqual(ours["pools"], theirs["pools"])
        # what it was meant to be, so that an agreement on nothing cannot pass
        self.assertEqual([e[0] for e in ours["processes"]["done"]],
                         ["PROCESS_STATE_STARTING", "PROCESS_STATE_RUNNING", "PROCESS_STATE_EXITED"])
        self.assertEqual(ours["processes"]["done"][-1][3], "1")
        self.assertEqual(ours["processes"]["crash"][-1][0], "PROCESS_STATE_FATAL")
        self.assertEqual(ours["pools"], ["rec"])
        self.assertEqual(ours["groups"], ["crash", "done", "ok", "rec"])
        self.assertEqual(ours["running"], ["SUPERVISOR_STATE_CHANGE_RUNNING"])

    def test_print_config(self):
        """--print-config writes the Laravel config in the native form: it loads, has the same
        processes, and runs them as the INI file does (argv and environment in /proc)."""
        conf = self.write("etc/supervisord.conf", LARAVEL)
        self.write("etc/conf.d/laravel-worker.conf", LARAVEL_WORKER)
        os.makedirs(os.path.join(self.dir, "etc/log"))
        printed = subprocess.run([SUPERVISORD, "--print-config", "-c", conf], cwd=self.dir, capture_output=True,
                                 text=True)
        self.assertEqual(printed.returncode, 0, printed.stderr)
        self.assertIn('stop-timeout = "3600"  # ' + os.path.join(self.dir, "etc/conf.d/laravel-worker.conf") +
                      ":13 stopwaitsecs\n", printed.stdout)
        native = self.write("etc/native.conf", printed.stdout)
        check = subprocess.run([SUPERVISORD, "-t", "-c", native], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertIn("configuration OK (8 services)", check.stdout)
        names = ["laravel-worker_%02d" % i for i in range(8)]
        _, from_ini = self.run_daemon(SUPERVISORD, SUPERVISORCTL, conf, names)
        _, from_native = self.run_daemon(SUPERVISORD, SUPERVISORCTL, native, names, args=["-n"])
        for name in names:
            self.assertEqual(from_ini[name]["argv"], from_native[name]["argv"], name)
            self.assertEqual(from_ini[name]["cwd"], from_native[name]["cwd"], name)
            for key in (b"APP_ENV", b"WORKER_NUM", b"QUEUE", b"SUPERVISOR_PROCESS_NAME", b"SUPERVISOR_GROUP_NAME"):
                self.assertEqual(from_ini[name]["environ"].get(key), from_native[name]["environ"].get(key), (name, key))
        # a native file has nothing to convert
        again = subprocess.run([SUPERVISORD, "--print-config", "-c", native], capture_output=True, text=True)
        self.assertEqual(again.returncode, 2)
        self.assertIn("is not in supervisord's INI form", again.stderr)

    def test_command_line_options(self):
        """supervisord's -l -j -q -e -s -y -z take the place of the file's [supervisord]
        keys, as under Python supervisord, and still do after an update (a reload)."""
        conf = self.write("supervisord.conf", "[supervisord]\nnodaemon=true\nlogfile=%(here)s/file.log\n"
                          "pidfile=%(here)s/file.pid\nchildlogdir=%(here)s/filelogs\nloglevel=warn\n"
                          "[unix_http_server]\nfile=%(here)s/s.sock\n"
                          "[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n"
                          "[rpcinterface:supervisor]\n"
                          "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n"
                          "[program:a]\ncommand=sh -c 'echo hello from a; sleep 1000'\nstartsecs=0\n")
        os.makedirs(os.path.join(self.dir, "filelogs"))
        os.makedirs(os.path.join(self.dir, "cli"))
        cli = os.path.join(self.dir, "cli")
        args = ["-l", cli + "/main.log", "-j", cli + "/d.pid", "-q", cli, "-e", "debug", "-s",
                "--logfile_maxbytes=1MB", "-z", "2"]
        for program, ctl in ((SUPERVISORD, SUPERVISORCTL), (PY_SUPERVISORD, PY_SUPERVISORCTL)):
            for f in os.listdir(cli):
                os.unlink(os.path.join(cli, f))
            out = os.path.join(self.dir, os.path.basename(program) + ".out")

            def checked():
                r = subprocess.run([ctl, "-c", conf, "update"], cwd=self.dir, capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, (program, r.stdout, r.stderr))
                with open(cli + "/d.pid") as f:
                    self.assertEqual(int(f.read().split()[0]), self.daemon.pid, program)
                logs = [f for f in os.listdir(cli) if f.startswith("a")]
                return any(b"hello from a" in slurp(os.path.join(cli, f)) for f in logs) and \
                    b"spawned: 'a'" in slurp(cli + "/main.log")

            self.run_daemon(program, ctl, conf, ["a"], checked, args)
            main_log = slurp(cli + "/main.log")
            self.assertIn(b"DEBG", main_log, program)  # -e debug over loglevel=warn
            for unused in ("file.log", "file.pid"):
                self.assertFalse(os.path.exists(os.path.join(self.dir, unused)), (program, unused))
            self.assertEqual(os.listdir(os.path.join(self.dir, "filelogs")), [], program)
            # -s: nothing of the main log on stdout, even in the foreground
            self.assertNotIn(b"spawned: 'a'", slurp(out), program)
        usage = subprocess.run([SUPERVISORD, "-?"], capture_output=True, text=True)
        self.assertEqual(usage.returncode, 0)
        self.assertIn("-l, --logfile FILE", usage.stdout)
        # an option's bad value is said as supervisord says it, naming the option
        check = subprocess.run([SUPERVISORD, "-t", "-c", conf, "-e", "verbose"], capture_output=True, text=True)
        self.assertEqual(check.returncode, 2)
        self.assertIn("supervisord -e: bad logging level name 'verbose'", check.stderr)
        native = self.write("native.conf", 'service a {\n command = "sleep 1"\n}\n')
        check = subprocess.run([SUPERVISORD, "-t", "-c", native, "-j", "x.pid"], capture_output=True, text=True)
        self.assertEqual(check.returncode, 2)
        self.assertIn("supervisord -j: an option for supervisord's INI form ([supervisord] pidfile); " + native +
                      " is in the native form: set pidfile there", check.stderr)

    def test_errors_and_warnings_at_their_line(self):
        conf = self.write("a.conf", "[supervisord]\nunmask=022\n[program:w]\ncommand=true\nnumprocs=2\n")
        check = subprocess.run([SUPERVISORD, "-t", "-c", conf], capture_output=True, text=True)
        self.assertEqual(check.returncode, 2)
        self.assertIn(conf + ":3: [program:w]: %(process_num) must be present within process_name when numprocs > 1",
                      check.stderr)
        conf = self.write("b.conf", "[supervisord]\nunmask=022\n[program:w]\ncommand=true\n[fcgi-program:f]\n")
        check = subprocess.run([SUPERVISORD, "-t", "-c", conf], capture_output=True, text=True)
        self.assertEqual(check.returncode, 2)
        self.assertIn(conf + ":5: [fcgi-program:f]: this section is not supported here yet", check.stderr)
        conf = self.write("c.conf", "[supervisord]\nunmask=022\n[program:w]\ncommand=true\n")
        check = subprocess.run([SUPERVISORD, "-t", "-c", conf], capture_output=True, text=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        self.assertIn(conf + ":2: warning: unmask is not a key of [supervisord]", check.stderr)
        conf = self.write("d.conf", "[program:w]\ncommand=true\n")
        check = subprocess.run([SUPERVISORD, "-t", "-c", conf], capture_output=True, text=True)
        self.assertEqual(check.returncode, 2)
        self.assertIn(".ini file does not include supervisord section", check.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
