#!/usr/bin/env python3
"""bench.py — supervisord against its peers and the physical limits (issue 7).

For each N (--n, repeatable) it runs N services of sleep(1) under our supervisord, Debian's
supervisor (Python supervisord + supervisorctl), runit (runsvdir + sv) and s6 (s6-svscan +
s6-svc/s6-svstat), each in its own temp dir with its own config or scan dir, and measures:

  start      time from launching the supervisor until all N sleep processes exist
  restart    latency from SIGKILL of a service's process until its replacement exists
  status     wall time of each tool's own client listing all N (median of 5)
  memory     PSS (/proc/PID/smaps_rollup) summed over the supervisor's own processes
  idle CPU   utime+stime of those processes over an idle window, with N services
  heartbeats the same with N services on 1 s heartbeats (ours only)
  crash loop CPU and status latency while 100 more services crash-loop (limit: /bin/true
             run the same way in the same loop)
  log        throughput of one service writing 1 GiB to stdout through the tool's logger
             (best of --log-runs, in turns with the raw copies)

and the physical limits: a bare fork+exec loop of the same N (start), a raw
pipe-to-file copy of the same bytes (log), a bare loop that pings N shells answering
with the heartbeat idiom once a second and reads their answers (heartbeats), and the exec
of /bin/true in our crash loops (status then: what any client costs on a machine that
busy).  Restarts are timed from the kernel's exec events when the probe runs as root (the
exact moment of the exec, not when the probe got a core to notice it).  The C helper
probe.c does the timing.

Processes are recognised by argv: every service runs MARKER 100000 INDEX, where MARKER is a
symlink to sleep(1) in the run's temp dir.  Every process a run starts is recorded and,
whatever happens, stopped by pid at the end; temp dirs are removed.

A figure that cannot be measured is shown as "n/a" with the reason (a feature our
supervisord does not have yet, a peer that is not installed), never as a failure.  The
script fails (exit 1) only if it breaks, or if our supervisord misbehaves: not all N
processes appear, a killed service is not restarted, status does not list every service,
or processes are left behind after it exits.  `--smoke` (make check) runs ours and the
limits only, with N = 10 and short windows.
"""
import argparse
import datetime
import os
import platform
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
PEERS = ("supervisor", "runit", "s6")
DEBIAN_PACKAGE = {"supervisor": "supervisor", "runit": "runit", "s6": "s6"}
SLEEP_SECONDS = "100000"
CRASHERS = 100


STARTED = time.monotonic()


def progress(message):
    print(f"bench: {time.monotonic() - STARTED:6.1f}s {message}", file=sys.stderr, flush=True)


class NotAvailable(Exception):
    """A figure or a whole tool that cannot be measured here; the message says why."""


class Misbehaviour(Exception):
    """Our supervisord did not do what it must: the benchmark fails."""


# ---- /proc ----

def read_file(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None


def proc_stat(pid):
    """(comm, state, ppid, utime+stime ticks, starttime) or None if gone."""
    text = read_file(f"/proc/{pid}/stat")
    if not text:
        return None
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 of stat(5): state, ppid, ..., utime (14), stime (15), starttime (22)
    return comm, fields[0], int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19])


def all_pids():
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def children_map():
    kids = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if st:
            kids.setdefault(st[2], []).append(pid)
    return kids


def descendants(root):
    kids, out, todo = children_map(), [], [root]
    while todo:
        pid = todo.pop()
        for child in kids.get(pid, []):
            out.append(child)
            todo.append(child)
    return out


def cmdline(pid):
    data = read_file(f"/proc/{pid}/cmdline", "rb")
    return data if data else b""


def pids_with_prefix(prefix):
    """Every live process whose argv[0] starts with PREFIX (the run's temp dir)."""
    p = prefix.encode()
    return [pid for pid in all_pids() if cmdline(pid).startswith(p)]


def pid_of_exact(words):
    want = ("\0".join(words) + "\0").encode()
    for pid in all_pids():
        if cmdline(pid) == want:
            return pid
    return None


def pss_kib(pid):
    text = read_file(f"/proc/{pid}/smaps_rollup") or ""
    for line in text.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def private_kib(pid):
    """Private_Clean + Private_Dirty of /proc/PID/smaps_rollup: what the process alone holds."""
    text = read_file(f"/proc/{pid}/smaps_rollup") or ""
    total = 0
    for line in text.splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def cpu_ticks(pids):
    out = {}
    for pid in pids:
        st = proc_stat(pid)
        if st:
            out[(pid, st[4])] = st[3]
    return out


def cpu_percent(before, after, seconds):
    """% of one core used between two cpu_ticks() samples, by the processes in both."""
    ticks = sum(after[k] - before[k] for k in after if k in before)
    return 100.0 * ticks / CLK_TCK / seconds


# ---- the C helper ----

class Probe:
    def __init__(self, path):
        self.path = path

    def run(self, *args, check=True):
        r = subprocess.run([self.path, *map(str, args)], capture_output=True, text=True)
        if r.returncode == 2 or (check and r.returncode != 0):
            raise RuntimeError(f"probe {args[0]} failed ({r.returncode}): {r.stdout}{r.stderr}")
        return r.returncode, r.stdout.split()

    def lastpid(self):
        return int(self.run("lastpid")[1][0])

    def waitcount(self, marker, n, snapshot, timeout_s):
        """CLOCK_MONOTONIC time when n processes run marker, or None on timeout."""
        rc, out = self.run("waitcount", marker, n, snapshot, int(timeout_s * 1000), check=False)
        return float(out[0]) if rc == 0 else None

    def restart(self, pid, words, timeout_s):
        """Microseconds from SIGKILL of pid until a process runs exactly words, or None."""
        rc, out = self.run("restart", pid, " ".join(words), int(timeout_s * 1000), check=False)
        return float(out[0]) if rc == 0 else None

    def time(self, argv):
        """(wall ms, exit status, output lines) of a client command."""
        _, out = self.run("time", *argv)
        return float(out[0]) / 1000.0, int(out[1]), int(out[2])

    def forkloop(self, n, marker):
        """(seconds until all n exist, seconds to SIGTERM and reap them all), or None."""
        rc, out = self.run("forkloop", n, marker, check=False)
        return (float(out[0]), float(out[1])) if rc == 0 else None

    def pingloop(self, n, window_s):
        """% of a core the bare ping loop of n shells used over the window."""
        _, out = self.run("pingloop", n, int(window_s * 1000))
        return float(out[0])

    def copy(self, nbytes, path, splice=False):
        _, out = self.run("copy", nbytes, path, *(["splice"] if splice else []))
        return float(out[0])


# ---- the tools ----

class Service:
    """One benchmark service: kind is sleep, crash, heartbeat or writer."""

    def __init__(self, name, argv, kind):
        self.name, self.argv, self.kind = name, argv, kind


class Instance:
    """One supervisor running in its own temp dir; knows every process it started."""

    def __init__(self, tool, workdir):
        self.tool, self.dir = tool, workdir
        self.proc = None
        self.known = {}  # (pid, starttime) of every process seen in its tree

    def remember_tree(self):
        if not self.proc:
            return
        for pid in [self.proc.pid] + descendants(self.proc.pid):
            st = proc_stat(pid)
            if st:
                self.known[pid] = st[4]

    def launch(self, argv, log):
        self.log_path = log
        with open(log, "ab") as out:
            # Its own session: a Ctrl-C at the terminal goes to the benchmark, which then
            # stops every supervisor the orderly way.
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         cwd=self.dir, start_new_session=True)
        RUNNING.append(self)

    def alive(self):
        return self.proc and self.proc.poll() is None

    def supervisor_pids(self):
        return self.tool.supervisor_pids(self)

    def kill_leftovers(self):
        """SIGKILL by pid whatever this instance started that is still alive; returns how many."""
        self.remember_tree()
        left = 0
        for pid in pids_with_prefix(self.dir):
            st = proc_stat(pid)
            if st:
                self.known[pid] = st[4]
        for pid, start in self.known.items():
            st = proc_stat(pid)
            if st and st[4] == start and st[1] != "Z":
                left += 1
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        return left

    def stop(self, timeout=120):
        """Stop the tool's way; then kill by pid what is left.  Returns the leftover count."""
        if self in RUNNING:
            RUNNING.remove(self)
        if not self.proc:
            return 0
        self.remember_tree()
        if self.proc.poll() is None:
            try:
                self.tool.shutdown(self)
            except Exception as e:  # noqa: BLE001 - shutting down must go on
                progress(f"{self.tool.name}: orderly stop failed: {e}")
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                progress(f"{self.tool.name}: still running {timeout}s after the stop, killing")
        # Grandchildren may still be on their way out (their supervisor just exited).
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and pids_with_prefix(self.dir):
            time.sleep(0.05)
        left = self.kill_leftovers()
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        reap_orphans()
        return left


RUNNING = []  # instances to stop if the benchmark is interrupted


def become_subreaper():
    """Orphans of the supervisors (a service whose runsv was killed, a helper a client left
    behind) become our children rather than init's, so that we can stop and reap them."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def reap_orphans():
    """Reap exited children that are not a running instance's (orphans adopted by us)."""
    ours = {inst.proc.pid for inst in RUNNING if inst.proc}
    for pid in children_map().get(os.getpid(), []):
        st = proc_stat(pid)
        if st and st[1] == "Z" and pid not in ours:
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


def shell_script(argv):
    return "#!/bin/sh\nexec " + shlex.join(argv) + "\n"


def write_executable(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


class Ours:
    name = "ours"

    def __init__(self, args):
        self.supervisord = os.path.abspath(args.supervisord)
        self.supervisorctl = os.path.abspath(args.supervisorctl)
        self.features = {}

    def version(self):
        r = subprocess.run([self.supervisord, "-v"], capture_output=True, text=True)
        return r.stdout.strip() or "?"

    def available(self):
        for path in (self.supervisord, self.supervisorctl):
            if not os.access(path, os.X_OK):
                raise Misbehaviour(f"{path} is not built")

    def accepts(self, key, text):
        """Whether `supervisord -t` takes a config using this option (the feature is in)."""
        if key not in self.features:
            with tempfile.TemporaryDirectory(prefix="supbench-t.") as d:
                conf = os.path.join(d, "c.conf")
                with open(conf, "w") as f:
                    f.write(f'socket = "{d}/sock"\npidfile = "{d}/pid"\n{text}\n')
                r = subprocess.run([self.supervisord, "-t", "-c", conf], capture_output=True)
                self.features[key] = r.returncode == 0
        return self.features[key]

    def has_log_capture(self):
        return self.accepts("log", 'log-dir = "/tmp"\nservice x {\n command = "true"\n stdout = log\n}')

    def has_heartbeats(self):
        return self.accepts("heartbeat", 'service x {\n command = "true"\n heartbeat-interval = 1\n}')

    @staticmethod
    def quote(argv):
        """Our command syntax (shell-like words) inside a libconfuse string."""
        words = shlex.join(argv)
        return '"' + words.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def start(self, inst, services, log_bytes=0):
        d = inst.dir
        lines = [f'socket = "{d}/sock"', f'pidfile = "{d}/pid"']
        if self.has_log_capture():
            os.makedirs(f"{d}/logs", exist_ok=True)
            lines.append(f'log-dir = "{d}/logs"')
        for s in services:
            lines.append(f"service {s.name} {{")
            lines.append(f"        command = {self.quote(s.argv)}")
            if s.kind == "crash":
                # As runit and s6 do: a restart per second, never giving up.
                lines += ["        restart-delay = 1", "        restart-delay-max = 1", "        start-retries = 0"]
            elif s.kind == "storm":
                lines += ["        restart-delay = 0.001", "        restart-delay-max = 0.001",
                          "        start-retries = 0"]
            elif s.kind == "heartbeat":
                lines.append("        heartbeat-interval = 1")
            elif s.kind == "writer":
                lines.append("        stdout = log")
                size = log_bytes * 2
                if self.accepts("log-max-size", f'service x {{\n command = "true"\n log-max-size = {size}\n}}'):
                    lines.append(f"        log-max-size = {size}")
            lines.append("}")
        inst.conf = f"{d}/supervisord.conf"
        with open(inst.conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        inst.launch([self.supervisord, "-n", "-c", inst.conf], f"{d}/supervisord.log")

    def supervisor_pids(self, inst):
        return [inst.proc.pid]

    def status_argv(self, inst):
        return [self.supervisorctl, "-s", f"{inst.dir}/sock", "status"]

    def log_files(self, inst):
        return [f"{inst.dir}/logs"]

    def shutdown(self, inst):
        inst.proc.send_signal(signal.SIGTERM)


class Supervisor:
    name = "supervisor"
    supervisord = "/usr/bin/supervisord"
    supervisorctl = "/usr/bin/supervisorctl"

    def version(self):
        return "supervisor " + dpkg_version("supervisor")

    def start(self, inst, services, log_bytes=0):
        d = inst.dir
        os.makedirs(f"{d}/logs", exist_ok=True)
        conf = [
            "[supervisord]", "nodaemon=true", f"logfile={d}/supervisord-own.log", f"pidfile={d}/supervisord.pid",
            f"childlogdir={d}/logs", "minfds=4096", "minprocs=4096",
            "[unix_http_server]", f"file={d}/sock",
            "[supervisorctl]", f"serverurl=unix://{d}/sock",
            "[rpcinterface:supervisor]", "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        ]
        for s in services:
            conf += [f"[program:{s.name}]", "command=" + shlex.join(s.argv).replace("%", "%%"),
                     "autorestart=true", "startsecs=1", "stopsignal=TERM", "stopwaitsecs=10"]
            if s.kind in ("crash", "storm"):
                conf.append("startretries=1000000")  # its backoff grows by 1 s per failed start
            if s.kind == "writer":
                conf += [f"stdout_logfile={d}/logs/{s.name}.log", "stdout_logfile_maxbytes=0",
                         "stdout_logfile_backups=0"]
        inst.conf = f"{d}/supervisord.conf"
        with open(inst.conf, "w") as f:
            f.write("\n".join(conf) + "\n")
        inst.launch([self.supervisord, "-n", "-c", inst.conf], f"{d}/supervisord.log")

    def supervisor_pids(self, inst):
        return [inst.proc.pid]

    def status_argv(self, inst):
        return [self.supervisorctl, "-c", inst.conf, "status"]

    def log_files(self, inst):
        return [f"{inst.dir}/logs"]

    def shutdown(self, inst):
        inst.proc.send_signal(signal.SIGTERM)


class ScanDirTool:
    """runit and s6: one directory per service with a run script (and log/run)."""
    max_services = None

    def start(self, inst, services, log_bytes=0):
        inst.scan = f"{inst.dir}/service"
        os.makedirs(inst.scan)
        inst.service_dirs = []
        for s in services:
            sd = f"{inst.scan}/{s.name}"
            os.makedirs(sd)
            write_executable(f"{sd}/run", shell_script(s.argv))
            if s.kind == "writer":
                os.makedirs(f"{sd}/log")
                os.makedirs(f"{inst.dir}/logs", exist_ok=True)
                write_executable(f"{sd}/log/run", self.logger_script(inst, log_bytes))
            inst.service_dirs.append(sd)
        inst.launch(self.scanner_argv(inst), f"{inst.dir}/scanner.log")

    def supervisor_pids(self, inst):
        kids = children_map().get(inst.proc.pid, [])
        return [inst.proc.pid] + [p for p in kids if (proc_stat(p) or ("",))[0] == self.per_service]

    def log_files(self, inst):
        return [f"{inst.dir}/logs"]


class Runit(ScanDirTool):
    name = "runit"
    per_service = "runsv"
    max_services = 1000  # runsvdir starts no more runsv ("too many services")

    def version(self):
        return "runit " + dpkg_version("runit")

    def scanner_argv(self, inst):
        return [find_program("runsvdir"), "-P", inst.scan]

    def logger_script(self, inst, log_bytes):
        # svlogd rotates at s bytes (at most n files): big enough to keep every byte.
        with open(f"{inst.dir}/logs/config", "w") as f:
            f.write("s100000000\nn100\n")
        return shell_script([find_program("svlogd"), f"{inst.dir}/logs"])

    def status_argv(self, inst):
        return [find_program("sv"), "status", *inst.service_dirs]

    def shutdown(self, inst):
        # runsvdir first (TERM: it exits at once and would otherwise restart each runsv),
        # then `sv exit`: every service down and its runsv gone.
        inst.proc.send_signal(signal.SIGTERM)
        inst.proc.wait(10)
        subprocess.run([find_program("sv"), "-w", "10", "exit", *inst.service_dirs], capture_output=True)


class S6(ScanDirTool):
    name = "s6"
    per_service = "s6-supervise"

    def version(self):
        return "s6 " + dpkg_version("s6")

    def scanner_argv(self, inst):
        # -c: room for every service and its logger (the default is 500).
        return [find_program("s6-svscan"), "-c", str(2 * len(inst.service_dirs) + 10), inst.scan]

    def logger_script(self, inst, log_bytes):
        # s6-log rotates at s bytes, keeping n archives: big enough to keep every byte.
        return shell_script([find_program("s6-log"), "-b", "n100", "s100000000", f"{inst.dir}/logs"])

    def status_argv(self, inst):
        # s6-svstat takes one service: one call each, as a script would do it.
        return ["/bin/sh", "-c", f'for d in "{inst.scan}"/*; do {find_program("s6-svstat")} "$d"; done']

    def shutdown(self, inst):
        # -t: every service brought down, every s6-supervise gone, then s6-svscan exits.
        subprocess.run([find_program("s6-svscanctl"), "-t", inst.scan], capture_output=True)


def find_program(name):
    path = shutil.which(name, path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin:/usr/bin:/bin")
    if not path:
        raise NotAvailable(f"{name} not found")
    return path


def dpkg_version(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else ""


def dpkg_installed(package):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True)
    return r.returncode == 0 and "install ok installed" in r.stdout


PACKAGE_DAEMONS = ("runsvdir", "runsv", "s6-svscan", "s6-supervise")


def package_daemon_pids():
    """Pids of what the peers' packages could start: Debian's Python supervisord, and
    runit's or s6's scanners and supervisors.  Never ours, nor another engineer's test
    daemon: ours is a C program called supervisord too, so the Python one is told by its
    interpreter."""
    out = {}
    for pid in all_pids():
        st = proc_stat(pid)
        if not st:
            continue
        cmd = cmdline(pid)
        if b"supbench." in cmd:
            continue
        if st[0] in PACKAGE_DAEMONS or (b"python" in cmd.split(b"\0")[0] and b"/usr/bin/supervisord" in cmd):
            out[pid] = st[4]
    return out


def install_peers(peers, allow_install):
    """apt-get install the missing peers (as root) without letting them start anything."""
    missing = [p for p in peers if not dpkg_installed(DEBIAN_PACKAGE[p])]
    if not missing:
        return {}
    why = {}
    if not allow_install or os.geteuid() != 0:
        reason = "not installed" + ("" if allow_install else " (--no-install)") + \
            ("; run as root or: apt-get install " + " ".join(DEBIAN_PACKAGE[p] for p in missing)
             if os.geteuid() != 0 else "")
        return {p: reason for p in missing}
    packages = [DEBIAN_PACKAGE[p] for p in missing]
    progress("installing " + " ".join(packages))
    before = package_daemon_pids()
    # A policy-rc.d that says no keeps the packages' own services (supervisor's init script,
    # runit's runsvdir) from being started on install; ours is removed again afterwards.
    policy = "/usr/sbin/policy-rc.d"
    own_policy = not os.path.exists(policy)
    if own_policy:
        write_executable(policy, "#!/bin/sh\n# tests/bench/bench.py: no service starts during its install\nexit 101\n")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    try:
        cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
            r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            progress("apt-get install failed:\n" + r.stdout + r.stderr)
    finally:
        if own_policy:
            os.unlink(policy)
    # Whatever the packages started anyway (a systemd unit, an init script): disable, stop by pid.
    if os.path.isdir("/run/systemd/system"):
        for unit in ("supervisor.service", "runit.service"):
            subprocess.run(["systemctl", "disable", "--now", unit], capture_output=True)
    for pid, start in package_daemon_pids().items():
        if pid not in before and pid != os.getpid():
            st = proc_stat(pid)
            if st and st[4] == start:
                progress(f"stopping pid {pid} ({st[0]}) started by the package install")
                os.kill(pid, signal.SIGTERM)
    for p in missing:
        if not dpkg_installed(DEBIAN_PACKAGE[p]):
            why[p] = "apt-get install failed"
    return why


# ---- figures ----

FIGURES = [
    # key, label, unit, lower is better
    ("start", "start N services until all exist", "s", True),
    ("restart_median", "restart after SIGKILL, median", "ms", True),
    ("restart_max", "restart after SIGKILL, max", "ms", True),
    ("status", "`status` of all N, median", "ms", True),
    ("status_one", "`status` of one, median", "ms", True),
    ("status_xmlrpc", "`status` of all N by our supervisorctl over XML-RPC, median", "ms", True),
    ("pss", "memory of the supervision tree (PSS)", "MiB", True),
    ("private", "private memory (Private_Clean + Private_Dirty) per service", "KiB", True),
    ("private_restarted", "... after `restart all`", "KiB", True),
    ("private_updated", "... after the reloads below", "KiB", True),
    ("fds", "descriptors held by the supervision tree", "", True),
    ("restart_all", "`restart all`", "s", True),
    ("update", "`update` with one service changed, median", "ms", True),
    ("shutdown", "shutdown until every process is gone", "s", True),
    ("processes", "processes in the supervision tree", "", True),
    ("idle_cpu", "CPU idle with N services", "% core", True),
    ("heartbeat_cpu", "CPU with N services on 1 s heartbeats", "% core", True),
    ("crash_cpu", "CPU while 100 services crash-loop (1 s delay)", "% core", True),
    ("crash_status", "`status` during the crash loop, median", "ms", True),
    ("crash_status_max", "`status` during the crash loop, max", "ms", True),
    ("storm_cpu", "CPU while 100 services crash-loop (1 ms delay)", "% core", True),
    ("storm_status", "`status` during that storm, median", "ms", True),
    ("storm_status_max", "`status` during that storm, max", "ms", True),
    ("log", "log capture of one service's stdout", "MB/s", False),
]


class Bench:
    def __init__(self, args):
        self.args = args
        self.probe = Probe(os.path.abspath(args.probe))
        self.root = tempfile.mkdtemp(prefix="supbench.")
        os.chmod(self.root, 0o755)
        self.sleep = shutil.which("sleep") or "/bin/sleep"
        self.ours = Ours(args)
        self.results = {}  # n -> key -> tool -> value or NotAvailable
        self.notes = []
        self.counter = 0

    # -- helpers --

    def workdir(self, name):
        self.counter += 1
        d = os.path.join(self.root, f"{name}-{self.counter}")
        os.makedirs(d)
        # The marker: a symlink to sleep(1) in the run's own dir, so argv[0] is unique.
        os.symlink(self.sleep, os.path.join(d, "sleep"))
        return d

    def put(self, n, key, tool, value):
        self.results.setdefault(n, {}).setdefault(key, {})[tool] = value

    def sleep_services(self, marker, n, prefix="s", kind="sleep"):
        return [Service(f"{prefix}{i:04d}", [marker, SLEEP_SECONDS, str(i)], kind) for i in range(n)]

    def launch(self, tool, services, wait_for, log_bytes=0):
        """Start TOOL with SERVICES; wait until WAIT_FOR marker processes exist.
        Returns (instance, seconds to get there)."""
        limit = getattr(tool, "max_services", None)
        if limit and len(services) > limit:
            raise NotAvailable(f"{len(services)} services: it supervises at most {limit}")
        inst = Instance(tool, self.workdir(tool.name))
        marker = os.path.join(inst.dir, "sleep")
        services = [Service(s.name, [a.replace("MARKER", marker) for a in s.argv], s.kind) for s in services]
        inst.marker = marker
        snapshot = self.probe.lastpid()
        t0 = time.monotonic()
        tool.start(inst, services, log_bytes)
        if wait_for == 0:
            return inst, 0.0
        reached = self.probe.waitcount(marker, wait_for, snapshot, self.args.start_timeout)
        if reached is None:
            got = len(pids_with_prefix(marker))
            self.fail(inst, f"only {got} of {wait_for} processes after {self.args.start_timeout}s")
        inst.remember_tree()
        return inst, reached - t0

    def fail(self, inst, message):
        """Stop INST and raise: Misbehaviour (with its log) for ours, NotAvailable for a peer."""
        tail = "".join(open(inst.log_path, errors="replace").readlines()[-15:]) \
            if os.path.exists(inst.log_path) else ""
        try:
            self.finish(inst)
        except Misbehaviour as e:
            message += f"; {e}"
        if inst.tool is self.ours:
            raise Misbehaviour(f"{message}\n--- last lines of its log:\n{tail}")
        raise NotAvailable(message)

    def finish(self, inst):
        if getattr(inst, "finished", False):
            return
        inst.finished = True
        left = inst.stop()
        if left and inst.tool is self.ours:
            raise Misbehaviour(f"{left} processes were left behind after supervisord exited")
        elif left:
            self.notes.append(f"{inst.tool.name}: {left} processes had to be killed by pid after its stop")
        shutil.rmtree(inst.dir, ignore_errors=True)

    def status_times(self, tool, inst, count, spacing=0.0, expect=None):
        times = []
        for _ in range(count):
            if spacing:
                time.sleep(spacing)
            ms, rc, lines = self.probe.time(tool.status_argv(inst))
            if tool is self.ours and expect is not None and lines != expect:
                raise Misbehaviour(f"status listed {lines} lines for {expect} services (exit {rc})")
            times.append(ms)
        return times

    # -- phases --

    def phase_services(self, tool, n):
        """Start, memory, idle CPU, status and restart with N sleeping services."""
        progress(f"{tool.name}: N = {n}: start")
        inst, seconds = self.launch(tool, self.sleep_services("MARKER", n), n)
        self.put(n, "start", tool.name, seconds)
        try:
            # Everything RUNNING (start-secs and its peers' equivalents are 1 s) and quiet.
            time.sleep(self.args.settle)
            pids = inst.supervisor_pids()
            self.put(n, "pss", tool.name, sum(pss_kib(p) for p in pids) / 1024.0)
            self.put(n, "private", tool.name, sum(private_kib(p) for p in pids) / n)
            self.put(n, "fds", tool.name, sum(fd_count(p) for p in pids))
            self.put(n, "processes", tool.name, len(pids))

            window = self.args.idle_seconds
            progress(f"{tool.name}: N = {n}: idle CPU over {window:g}s")
            before = cpu_ticks(pids)
            time.sleep(window)
            self.put(n, "idle_cpu", tool.name, cpu_percent(before, cpu_ticks(pids), window))

            progress(f"{tool.name}: N = {n}: status")
            self.put(n, "status", tool.name,
                     statistics.median(self.status_times(tool, inst, self.args.status_samples, expect=n)))
            if isinstance(tool, Supervisor):
                # Our client against supervisord's own daemon, as its client is above.
                progress(f"{tool.name}: N = {n}: status by our supervisorctl over XML-RPC")
                times = []
                for _ in range(self.args.status_samples):
                    ms, rc, lines = self.probe.time([self.ours.supervisorctl, "-c", inst.conf, "status"])
                    if lines != n:
                        raise Misbehaviour(f"our supervisorctl over XML-RPC listed {lines} lines for {n} "
                                           f"services (exit {rc})")
                    times.append(ms)
                self.put(n, "status_xmlrpc", tool.name, statistics.median(times))

            samples = min(self.args.restart_samples, n)
            progress(f"{tool.name}: N = {n}: {samples} restarts after SIGKILL")
            latencies = []
            for i in range(samples):
                words = [inst.marker, SLEEP_SECONDS, str(i)]
                pid = pid_of_exact(words)
                if pid is None:
                    self.fail(inst, f"service {i} has no process")
                us = self.probe.restart(pid, words, self.args.restart_timeout)
                if us is None:
                    if tool is self.ours:
                        self.fail(inst, f"service {i} was not restarted within {self.args.restart_timeout}s")
                    self.notes.append(f"{tool.name}: N = {n}: service {i} not restarted within "
                                      f"{self.args.restart_timeout}s")
                    continue
                latencies.append(us / 1000.0)
            if latencies:
                self.put(n, "restart_median", tool.name, statistics.median(latencies))
                self.put(n, "restart_max", tool.name, max(latencies))
            if tool is self.ours:
                self.ours_operations(inst, n)
            self.timed_shutdown(inst, n)
        finally:
            self.finish(inst)

    def ours_operations(self, inst, n):
        """Ours only: status of one, restart all (and the memory after it), reloads that each
        change one service (and the memory after them)."""
        tool = self.ours
        ctl = [tool.supervisorctl, "-s", f"{inst.dir}/sock"]
        progress(f"ours: N = {n}: status of one")
        self.put(n, "status_one", "ours",
                 statistics.median(self.probe.time(ctl + ["status", "s0000"])[0]
                                   for _ in range(self.args.status_samples)))
        progress(f"ours: N = {n}: restart all")
        ms, rc, _ = self.probe.time(ctl + ["restart", "all"])
        if rc != 0:
            self.fail(inst, f"restart all exited {rc}")
        self.put(n, "restart_all", "ours", ms / 1000.0)
        time.sleep(self.args.settle)
        self.put(n, "private_restarted", "ours", private_kib(inst.proc.pid) / n)
        updates = self.args.updates
        progress(f"ours: N = {n}: {updates} reloads, each changing one service")
        with open(inst.conf) as f:
            text = f.read()
        first = f"{inst.marker} {SLEEP_SECONDS} 0"
        if first not in text:
            self.fail(inst, "cannot find service s0000's command in the config")
        times = []
        for i in range(updates):
            with open(inst.conf, "w") as f:
                f.write(text.replace(first, f"{inst.marker} {int(SLEEP_SECONDS) + 1 + i % 2} 0", 1))
            ms, rc, _ = self.probe.time(ctl + ["update"])
            if rc != 0:
                self.fail(inst, f"update exited {rc}")
            times.append(ms)
        self.put(n, "update", "ours", statistics.median(times))
        time.sleep(self.args.settle)
        self.put(n, "private_updated", "ours", private_kib(inst.proc.pid) / n)

    def timed_shutdown(self, inst, n):
        """From the tool's own stop until it has exited and no process of the run is left."""
        progress(f"{inst.tool.name}: N = {n}: shutdown")
        inst.remember_tree()
        t0 = time.monotonic()
        inst.tool.shutdown(inst)
        try:
            inst.proc.wait(self.args.start_timeout)
        except subprocess.TimeoutExpired:
            self.put(n, "shutdown", inst.tool.name, NotAvailable(f"not exited after {self.args.start_timeout}s"))
            return
        done = time.monotonic()
        while pids_with_prefix(inst.marker) and time.monotonic() < t0 + self.args.start_timeout:
            time.sleep(0.01)
            done = time.monotonic()
        self.put(n, "shutdown", inst.tool.name, done - t0)

    def phase_heartbeats(self, tool, n):
        if not tool.has_heartbeats():
            self.put(n, "heartbeat_cpu", tool.name, NotAvailable("feature missing (heartbeat-interval)"))
            return
        progress(f"{tool.name}: N = {n}: heartbeats")
        script = 'while read -r _ seq <&3; do echo "PONG $seq" >&4; done & exec MARKER ' + SLEEP_SECONDS
        services = [Service(f"h{i:04d}", ["/bin/sh", "-c", f"{script} {i}"], "heartbeat") for i in range(n)]
        inst, _ = self.launch(tool, services, n)
        marker = inst.marker
        try:
            time.sleep(self.args.settle + 1)  # the first pings and pongs
            first = set(pids_with_prefix(marker))
            pids = inst.supervisor_pids()
            window = self.args.idle_seconds
            before = cpu_ticks(pids)
            time.sleep(window)
            self.put(n, "heartbeat_cpu", tool.name, cpu_percent(before, cpu_ticks(pids), window))
            restarted = len(first - set(pids_with_prefix(marker)))
            if restarted:
                self.notes.append(f"{tool.name}: N = {n}: {restarted} heartbeat services were restarted "
                                  f"during the window (declared hung?)")
        finally:
            self.finish(inst)

    def phase_crash_loop(self, tool, n, kind, crashers):
        cpu_key, status_key = ("crash_cpu", "crash_status") if kind == "crash" else ("storm_cpu", "storm_status")
        progress(f"{tool.name}: N = {n}: {crashers} services crash-looping ({kind})")
        healthy = n
        limit = getattr(tool, "max_services", None)
        if limit and n + crashers > limit:
            healthy = limit - crashers
            self.notes.append(f"{tool.name}: N = {n}: crash loop with {healthy} + {crashers} services: "
                              f"it supervises at most {limit}")
        services = self.sleep_services("MARKER", healthy) + \
            [Service(f"c{i:04d}", ["/bin/false"], kind) for i in range(crashers)]
        inst, _ = self.launch(tool, services, healthy)
        try:
            time.sleep(self.args.settle)
            window = self.args.crash_seconds
            samples = self.args.status_samples
            pids = inst.supervisor_pids()
            before = cpu_ticks(pids)
            t0 = time.monotonic()
            times = self.status_times(tool, inst, samples, spacing=window / samples / 2, expect=healthy + crashers)
            if tool is self.ours:
                # The limit of a client's answer on a machine this busy: the exec of a
                # program that does nothing, timed the same way in the same storm.
                bare = []
                for _ in range(samples):
                    time.sleep(window / samples / 2)
                    bare.append(self.probe.time(["/bin/true"])[0])
                self.put(n, status_key, "limit", statistics.median(bare))
                self.put(n, status_key + "_max", "limit", max(bare))
            time.sleep(max(0.0, window - (time.monotonic() - t0)))
            elapsed = time.monotonic() - t0
            after = cpu_ticks(inst.supervisor_pids())
            self.put(n, cpu_key, tool.name, cpu_percent(before, after, elapsed))
            self.put(n, status_key, tool.name, statistics.median(times))
            self.put(n, status_key + "_max", tool.name, max(times))
            if not inst.alive():
                self.fail(inst, "exited during the crash loop")
        finally:
            self.finish(inst)

    def log_run(self, tool):
        """MB/s of one run of TOOL logging --log-bytes from one service."""
        nbytes = self.args.log_bytes
        inst = Instance(tool, self.workdir(tool.name))
        stamp = os.path.join(inst.dir, "stamp")
        tool.start(inst, [Service("writer", [self.probe.path, "write", str(nbytes), stamp], "writer")], nbytes)
        try:
            deadline = time.monotonic() + self.args.log_timeout
            while not read_file(stamp) and time.monotonic() < deadline:
                time.sleep(0.005)
            done = None
            while time.monotonic() < deadline:
                total = 0
                for d in tool.log_files(inst):
                    for entry in os.scandir(d):
                        if entry.is_file() and entry.name not in ("config", "lock", "state"):
                            total += entry.stat().st_size
                if total >= nbytes:
                    done = time.monotonic()
                    break
                time.sleep(0.005)
            started = float(read_file(stamp) or 0)
            if done is None or not started:
                self.fail(inst, f"not all {nbytes} bytes logged within {self.args.log_timeout}s")
            return nbytes / (done - started) / 1e6
        finally:
            self.finish(inst)

    def phase_log(self, tools, n_keys):
        """Log capture and its limit, in --log-runs rounds: each round copies the bytes raw
        (read/write, then splice) and runs every tool, so that all of them see the same
        load; each figure is the best of its runs.  (One run of ours against the best of
        three of each raw copy, measured minutes apart, was biased low: on this 2-core
        machine shared with other work one raw copy alone ranged from 250 to 1,100 MB/s.)"""
        nbytes = self.args.log_bytes
        path = os.path.join(self.root, "copy")
        best, tool_runs, unavailable = {}, {t.name: [] for t in tools}, {}
        if not self.ours.has_log_capture():
            unavailable[self.ours.name] = NotAvailable("feature missing (stdout = log, log-dir)")
        for r in range(self.args.log_runs):
            progress(f"log capture of {nbytes} bytes, round {r + 1} of {self.args.log_runs}: raw copies, "
                     + ", ".join(t.name for t in tools if t.name not in unavailable))
            for splice in (False, True):
                seconds = self.probe.copy(nbytes, path, splice=splice)
                os.unlink(path)
                best[splice] = min(best.get(splice, seconds), seconds)
            for tool in tools:
                if tool.name in unavailable:
                    continue
                try:
                    tool_runs[tool.name].append(self.log_run(tool))
                except NotAvailable as e:
                    unavailable[tool.name] = e
        for n in n_keys:
            # The limit is the faster way; the other is shown below the table.
            self.put(n, "log", "limit", nbytes / min(best.values()) / 1e6)
            self.put(n, "log", "limit (read/write)", nbytes / best[False] / 1e6)
            self.put(n, "log", "limit (splice)", nbytes / best[True] / 1e6)
            for tool in tools:
                if tool.name in unavailable:
                    if tool is self.ours:
                        self.put(n, "log", tool.name, unavailable[tool.name])
                    continue
                self.put(n, "log", tool.name, max(tool_runs[tool.name]))
        for name, e in unavailable.items():
            if name != self.ours.name:
                self.notes.append(f"{name}: log: {e}")

    def limits(self, n):
        # The best of three: a limit is what the machine can do, not what it did once.
        progress(f"limit: fork+exec loop of {n}, best of 3")
        d = self.workdir("limit")
        runs = [t for t in (self.probe.forkloop(n, os.path.join(d, "sleep")) for _ in range(3)) if t is not None]
        self.put(n, "start", "limit", min(r[0] for r in runs) if runs else NotAvailable("fork loop timed out"))
        # The same processes, SIGTERM to each and every one reaped: a shutdown's limit.
        self.put(n, "shutdown", "limit", min(r[1] for r in runs) if runs else NotAvailable("fork loop timed out"))
        shutil.rmtree(d, ignore_errors=True)
        # What any supervisor pays for the heartbeat protocol alone: N writes that each wake
        # a sleeping shell, and N reads, a second.  Best of 3 windows of a third each (one
        # for --smoke).
        runs = 1 if self.args.smoke else 3
        window = self.args.idle_seconds / runs
        progress(f"limit: ping loop of {n} shells, best of {runs} windows of {window:g} s")
        self.put(n, "heartbeat_cpu", "limit", min(self.probe.pingloop(n, window) for _ in range(runs)))

    # -- the whole run --

    def run(self):
        tools = [self.ours]
        self.ours.available()
        peer_classes = {"supervisor": Supervisor, "runit": Runit, "s6": S6}
        self.skipped = install_peers(self.args.peers, not self.args.no_install)
        for p in self.args.peers:
            if p not in self.skipped:
                tools.append(peer_classes[p]())
        self.tools = tools
        self.versions = {t.name: t.version() for t in tools}
        self.load_before = os.getloadavg()
        for n in self.args.n:
            self.limits(n)
            for tool in tools:
                limit = self.args.peer_max_n.get(tool.name)
                if limit is not None and n > limit:
                    self.notes.append(f"{tool.name}: N = {n}: not run (--peer-max-n {tool.name}={limit})")
                    continue
                c = min(CRASHERS, n) if self.args.smoke else CRASHERS
                for phase in (lambda: self.phase_services(tool, n),
                              lambda: self.phase_heartbeats(tool, n) if tool is self.ours else None,
                              lambda: self.phase_crash_loop(tool, n, "crash", c),
                              lambda: self.phase_crash_loop(tool, n, "storm", c) if tool is self.ours else None):
                    try:
                        phase()
                    except NotAvailable as e:
                        self.notes.append(f"{tool.name}: N = {n}: {e}")
        self.phase_log(tools, self.args.n)  # one figure for every N: it does not depend on N
        self.load_after = os.getloadavg()

    def cleanup(self):
        for inst in list(RUNNING):
            inst.stop(timeout=30)
        reap_orphans()
        shutil.rmtree(self.root, ignore_errors=True)


# ---- the report ----

def fmt(value, unit):
    if isinstance(value, NotAvailable):
        return "n/a"
    if value is None:
        return ""
    if unit == "":
        return f"{value:.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def ratio(a, b):
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or b == 0:
        return ""
    return f"{a / b:.2f}×" if a / b < 100 else f"{a / b:,.0f}×"


def machine():
    cpu = "?"
    for line in (read_file("/proc/cpuinfo") or "").splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return f"{os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}"


def report(bench):
    args = bench.args
    peers = [t.name for t in bench.tools if t.name != "ours"]
    cols = ["limit", "ours"] + peers
    out = []
    out.append(f"date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    out.append(f"machine: {machine()}")
    out.append(f"load average: {bench.load_before[0]:.2f} at the start, {bench.load_after[0]:.2f} at the end "
               "(figures are noisy when it is well above 0)")
    out.append("versions: " + "; ".join(f"{k}: {v}" for k, v in bench.versions.items()))
    out.append(f"windows: idle and heartbeat CPU over {args.idle_seconds:g} s, crash loop over "
               f"{args.crash_seconds:g} s; {args.restart_samples} restarts, {args.status_samples} status calls; "
               f"log capture of {args.log_bytes:,} bytes")
    for p, why in bench.skipped.items():
        out.append(f"skipped {p}: {why}")
    for n in args.n:
        res = bench.results.get(n, {})
        out.append("")
        out.append(f"### N = {n}")
        out.append("")
        header = ["figure", "unit"] + cols + ["ours/limit"] + [f"ours/{p}" for p in peers]
        out.append("| " + " | ".join(header) + " |")
        out.append("|" + "---|" * len(header))
        for key, label, unit, _lower in FIGURES:
            row = res.get(key, {})
            if not row:
                continue
            ours = row.get("ours")
            cells = [label.replace("100 services", f"{min(CRASHERS, n) if args.smoke else CRASHERS} services"), unit]
            cells += [fmt(row.get(c), unit) for c in cols]
            cells.append(ratio(ours, row.get("limit")))
            cells += [ratio(ours, row.get(p)) for p in peers]
            out.append("| " + " | ".join(cells) + " |")
        if "limit (splice)" in res.get("log", {}):
            out.append("")
            out.append(f"log limit: the faster of a read/write copy "
                       f"({fmt(res['log']['limit (read/write)'], 'MB/s')} MB/s) and a splice(2) copy "
                       f"({fmt(res['log']['limit (splice)'], 'MB/s')} MB/s); the copies and every tool: "
                       f"best of {args.log_runs} run{'s' if args.log_runs != 1 else ''} each, taken in turns")
        if "limit" in res.get("crash_status", {}):
            out.append("")
            out.append("status limit in the crash loops: /bin/true run the same way in the same loop, as long as a "
                       "client of nothing takes on a machine that busy")
        for key, _label, _unit, _lower in FIGURES:
            for tool, value in res.get(key, {}).items():
                if isinstance(value, NotAvailable):
                    out.append(f"- {tool}, {key}: n/a: {value}")
    if bench.notes:
        out.append("")
        out.append("notes:")
        out += [f"- {note}" for note in bench.notes]
    out.append("")
    out.append("Ratios are ours divided by the other column: below 1 is better for times, CPU and memory; "
               "above 1 is better for log MB/s.")
    return "\n".join(out) + "\n"


def parse_size(text):
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower().rstrip("ib")
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    top = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, action="append", help="number of services (repeatable; default 100 and 1000)")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated: supervisor,runit,s6 ('' for none)")
    ap.add_argument("--no-install", action="store_true", help="never apt-get install a missing peer")
    ap.add_argument("--peer-max-n", action="append", default=[], metavar="PEER=N",
                    help="run PEER only for N services or fewer (repeatable), for a peer too slow for the largest N")
    ap.add_argument("--smoke", action="store_true",
                    help="quick check for make check: N = 10, no peers, short windows")
    ap.add_argument("--probe", default=os.path.join(top, "build", "bench", "probe"))
    ap.add_argument("--supervisord", default=os.path.join(top, "supervisord", "supervisord"))
    ap.add_argument("--supervisorctl", default=os.path.join(top, "supervisord", "supervisorctl"))
    ap.add_argument("--idle-seconds", type=float, default=30)
    ap.add_argument("--crash-seconds", type=float, default=10)
    ap.add_argument("--restart-samples", type=int, default=20)
    ap.add_argument("--status-samples", type=int, default=5)
    ap.add_argument("--updates", type=int, default=100, help="reloads, each changing one service (ours)")
    ap.add_argument("--log-bytes", type=parse_size, default=1 << 30)
    ap.add_argument("--log-runs", type=int, default=3, help="rounds of log capture runs (raw copies and every tool)")
    ap.add_argument("--settle", type=float, default=1.5, help="seconds after a start before measuring")
    ap.add_argument("--start-timeout", type=float, default=600)
    ap.add_argument("--restart-timeout", type=float, default=10)
    ap.add_argument("--log-timeout", type=float, default=300)
    ap.add_argument("--out", help="write the report here too")
    args = ap.parse_args()
    if args.smoke:
        args.n = args.n or [10]
        args.peers = ""
        args.idle_seconds, args.crash_seconds = 1.0, 1.0
        args.restart_samples, args.status_samples, args.updates = 5, 3, 3
        args.log_bytes = min(args.log_bytes, 4 << 20)
        args.log_runs = 1
        args.settle, args.start_timeout, args.restart_timeout, args.log_timeout = 1.2, 20, 5, 20
    args.n = args.n or [100, 1000]
    args.log_bytes -= args.log_bytes % 100  # whole lines: line-based loggers hold a partial one
    if args.log_runs < 1:
        ap.error("--log-runs must be at least 1")
    for path, what in ((args.probe, "the probe"), (args.supervisord, "supervisord"),
                       (args.supervisorctl, "supervisorctl")):
        if not os.access(path, os.X_OK):
            ap.error(f"{what} is not built ({path}): `make bench` builds everything it needs and runs this")
    args.peers = [p for p in args.peers.split(",") if p]
    limits = {}
    for item in args.peer_max_n:
        name, _, value = item.partition("=")
        if name not in PEERS or not value.isdigit():
            ap.error(f"--peer-max-n wants PEER=N, not {item}")
        limits[name] = int(value)
    args.peer_max_n = limits
    for p in args.peers:
        if p not in PEERS:
            ap.error(f"unknown peer {p}")

    become_subreaper()
    bench = Bench(args)
    # Interrupted: stop every supervisor by pid before going.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    status = 0
    try:
        bench.run()
        text = report(bench)
        print(text)
        if args.out:
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            with open(args.out, "w") as f:
                f.write(text)
    except Misbehaviour as e:
        print(f"bench: FAILED: our supervisord misbehaved: {e}", file=sys.stderr)
        status = 1
    except KeyboardInterrupt:
        status = 130
    finally:
        bench.cleanup()
    return status


if __name__ == "__main__":
    sys.exit(main())
