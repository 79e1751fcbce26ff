#!/usr/bin/python3
"""test_web.py — supervisord's web page (issue 21) in a real browser: Debian's chromium,
driven by chromedriver through Debian's python3-selenium, against the real daemon.

It opens the page and sees every state; clicks start, stop, restart, signal, restart all
and stop all (per process and per group) and checks in /proc what they did; checks that a
failed action says what failed, that an action link in supervisord's form asks first, that
a page of another site cannot act through the browser, that the tail view follows output
live and that a service printing <script> shows that text; and takes screenshots at
desktop and phone widths (into $WEB_SHOTS, default /tmp/web-shots).

Run by `make check-browser` (and by `make check` when chromium is installed) with
SUPERVISORD, SUPERVISORCTL and HELPER_HEARTBEAT (tests/helper_heartbeat.c, built).
"""
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import xmlrpc.client

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUPERVISORD = os.environ.get("SUPERVISORD", os.path.join(SRC, "supervisord/supervisord"))
SUPERVISORCTL = os.environ.get("SUPERVISORCTL", os.path.join(SRC, "supervisord/supervisorctl"))
HELPER_HEARTBEAT = os.environ.get("HELPER_HEARTBEAT", os.path.join(SRC, "build/tests/helper_heartbeat"))
SHOTS = os.environ.get("WEB_SHOTS", "/tmp/web-shots")
# Bounds, not speeds: what the config makes take at most, on a machine 5x slower.
SOON = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid):
    """PID exists and is not a zombie (what the OS shows)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def wait_until(what, predicate, timeout=SOON):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("not within %d s: %s" % (timeout, what))
        time.sleep(0.05)


# Every state: RUNNING (web, echo, hb, pool@0, pool@1), STOPPED (idle), EXITED (oneshot),
# FATAL (missing), BACKOFF (flaky: 5 s between tries), STARTING (slow: start-secs an hour),
# STOPPING (stubborn, once asked to stop: it ignores SIGTERM for an hour).
CONFIG = """
socket = "{dir}/ctl.sock"
pidfile = "{dir}/supervisord.pid"
log-dir = "{dir}/logs"
http-listen = "127.0.0.1:{port}"
service web {{ command = "sleep 100000" start-secs = 0.2 }}
service echo {{
  command = "sh -c 'n=0; while :; do n=$((n+1)); echo \\"<script>document.title=\\\\\\"pwned\\\\\\"</script><b>line $n</b>\\"; echo \\"warning $n\\" >&2; sleep 0.3; done'"
  start-secs = 0.2
}}
service hb {{ command = "{heartbeat}" heartbeat-interval = 0.5 start-secs = 0.2 }}
service pool {{ command = "sleep 100000" instances = 2 start-secs = 0.2 }}
service idle {{ command = "sleep 100000" autostart = false start-secs = 0.2 }}
service oneshot {{ command = "true" start-secs = 0 restart = never }}
service missing {{ command = "{dir}/no-such-program" }}
service flaky {{ command = "sh -c 'exit 1'" start-secs = 1 start-retries = 1000 restart-delay = 5 restart-delay-max = 5 }}
service slow {{ command = "sleep 100000" start-secs = 3600 }}
service stubborn {{ command = "sh -c 'trap \\"\\" TERM; exec sleep 100000'" start-secs = 0.2 stop-timeout = 3600 autostart = false }}
"""


# For restart all and stop all: only services whose start and stop take a moment.
SIMPLE_CONFIG = """
socket = "{dir}/ctl.sock"
pidfile = "{dir}/supervisord.pid"
log-dir = "{dir}/logs"
http-listen = "127.0.0.1:{port}"
service web {{ command = "sleep 100000" start-secs = 0.2 }}
service hb {{ command = "{heartbeat}" heartbeat-interval = 0.5 start-secs = 0.2 }}
service pool {{ command = "sleep 100000" instances = 2 start-secs = 0.2 }}
service idle {{ command = "sleep 100000" autostart = false start-secs = 0.2 }}
"""


class Daemon:
    """supervisord -n on CONFIG in a directory of its own, its HTTP interface on a free port."""

    def __init__(self, config):
        self.dir = tempfile.mkdtemp(prefix="supervisord-web.")
        self.port = free_port()
        self.url = "http://127.0.0.1:%d/" % self.port
        self.conf = os.path.join(self.dir, "supervisord.conf")
        with open(self.conf, "w") as f:
            f.write(config.format(dir=self.dir, port=self.port, heartbeat=HELPER_HEARTBEAT))
        self.log = open(os.path.join(self.dir, "supervisord.log"), "w")
        self.process = subprocess.Popen([SUPERVISORD, "-n", "-c", self.conf], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        wait_until("supervisord answers", lambda: self.ctl("status", check=False)[0] in (0, 3))

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(SOON)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def ctl(self, *args, check=True):
        r = subprocess.run([SUPERVISORCTL, "-c", self.conf, *args], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=SOON)
        if check and r.returncode not in (0, 3):
            raise AssertionError("supervisorctl %s: %d %s" % (" ".join(args), r.returncode, r.stdout))
        return r.returncode, r.stdout

    def pid(self, name):
        out = self.ctl("pid", name, check=False)[1].strip()
        return int(out) if out.isdigit() else 0


class WebPage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon(CONFIG)
        cls.url = cls.daemon.url
        cls.dir = tempfile.mkdtemp(prefix="supervisord-web-chromium.")
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1280,900", "--user-data-dir=" + cls.dir):
            options.add_argument(arg)
        cls.browser = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        cls.browser.set_page_load_timeout(SOON)

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.daemon.close()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def ctl(self, *args, check=True):
        return self.daemon.ctl(*args, check=check)

    def pid(self, name):
        return self.daemon.pid(name)

    def setUp(self):
        self.browser.set_window_size(1280, 900)

    # ---- the page ----

    def open(self, path=""):
        self.browser.get(self.url + path)
        self.wait_for_poll()

    def wait_for_poll(self):
        """The page has read the state once more since now."""
        old = self.browser.find_element(By.ID, "link").text
        wait_until("a poll", lambda: self.browser.find_element(By.ID, "link").text.startswith("updated")
                   and self.browser.find_element(By.ID, "link").text != old)

    def row(self, name):
        return self.browser.find_element(By.CSS_SELECTOR, 'tr.process[data-name="%s"]' % name)

    def row_state(self, name):
        try:
            return self.row(name).get_attribute("data-state")
        except Exception:
            return None

    def wait_state(self, name, state, timeout=SOON):
        wait_until("%s shown %s (is %s)" % (name, state, self.row_state(name)),
                   lambda: self.row_state(name) == state, timeout)

    def click(self, name, action, group=False):
        selector = ('tbody[data-group="%s"] tr.group' % name) if group else ('tr.process[data-name="%s"]' % name)

        def try_click():
            try:
                b = self.browser.find_element(By.CSS_SELECTOR, selector + ' button[data-action="%s"]' % action)
                if not b.is_enabled():
                    return False
                b.click()
                return True
            except StaleElementReferenceException:
                return False
        wait_until("%s %s enabled" % (action, name), try_click)

    def messages(self):
        return [li.text for li in self.browser.find_elements(By.CSS_SELECTOR, "#messages li")]

    def wait_message(self, pattern):
        return wait_until("a message like %r (have %r)" % (pattern, self.messages()),
                          lambda: [m for m in self.messages() if re.search(pattern, m)])

    def shoot(self, name, width, height):
        os.makedirs(SHOTS, exist_ok=True)
        self.browser.set_window_size(width, height)
        self.wait_for_poll()
        # The whole page, not only the window.
        full = self.browser.execute_script("return document.documentElement.scrollHeight")
        self.browser.set_window_size(width, max(height, full + 140))
        self.wait_for_poll()
        self.browser.save_screenshot(os.path.join(SHOTS, name))

    # ---- the tests ----

    def test_every_state_shown(self):
        self.open()
        self.wait_state("idle", "STOPPED")
        self.wait_state("oneshot", "EXITED")
        self.wait_state("missing", "FATAL")
        self.wait_state("flaky", "BACKOFF")
        self.wait_state("slow", "STARTING")
        self.wait_state("stubborn", "STOPPED")
        for name in ("web", "echo", "hb", "pool:pool@1", "pool:pool@0"):
            self.wait_state(name, "RUNNING")
        pid = self.pid("web")
        self.assertTrue(alive(pid))
        desc = self.row("web").find_element(By.CSS_SELECTOR, "td.desc").text
        self.assertRegex(desc, r"^pid %d, uptime \d+:\d\d:\d\d$" % pid)
        self.assertIn("no-such-program", self.row("missing").find_element(By.CSS_SELECTOR, "td.desc").text)
        # Stopped: when, or never started.
        self.assertRegex(self.row("idle").find_element(By.CSS_SELECTOR, "td.desc").text,
                         r"^(Not started|\w{3} \d\d \d\d:\d\d [AP]M)$")
        # Colour by state: the class that the style sheet colours.
        self.assertIn("RUNNING", self.row("web").find_element(By.CSS_SELECTOR, ".state").get_attribute("class"))
        running = self.row("web").find_element(By.CSS_SELECTOR, ".state").value_of_css_property("background-color")
        fatal = self.row("missing").find_element(By.CSS_SELECTOR, ".state").value_of_css_property("background-color")
        self.assertNotEqual(running, fatal)
        wait_until("heartbeat RTT shown",
                   lambda: re.match(r"^RTT \d+\.\d ms$", self.row("hb").find_element(By.CSS_SELECTOR, "td.rtt").text))
        self.assertEqual(self.row("web").find_element(By.CSS_SELECTOR, "td.rtt").text, "")
        # The group of two instances has its own row, with its actions.
        group = self.browser.find_element(By.CSS_SELECTOR, 'tbody[data-group="pool"] tr.group')
        self.assertTrue(group.is_displayed())
        self.assertIn("2 of 2 running", group.text)
        self.assertFalse(self.browser.find_element(By.CSS_SELECTOR, 'tbody[data-group="web"] tr.group').is_displayed())
        # supervisord's identification, version and state.
        self.assertEqual(self.browser.find_element(By.ID, "ident").text, "supervisor")
        self.assertRegex(self.browser.find_element(By.ID, "version").text, r"^supervisord \d+\.\d+\.\d+$")
        self.assertEqual(self.browser.find_element(By.ID, "state").text, "RUNNING")
        # The filter box: by name, then by state.
        box = self.browser.find_element(By.ID, "filter")
        box.send_keys("pool")
        shown = lambda: sorted(r.get_attribute("data-name") for r in
                               self.browser.find_elements(By.CSS_SELECTOR, "tr.process") if r.is_displayed())
        self.assertEqual(shown(), ["pool:pool@0", "pool:pool@1"])
        box.clear()
        box.send_keys("fatal")
        self.assertEqual(shown(), ["missing"])
        box.clear()
        box.send_keys("nothing-like-this")
        self.assertEqual(shown(), [])
        self.assertTrue(self.browser.find_element(By.ID, "empty").is_displayed())
        box.clear()
        box.send_keys(" ")
        self.assertEqual(len(shown()), 11)
        # Screenshots: desktop and phone widths.
        self.shoot("desktop.png", 1280, 900)
        self.shoot("phone.png", 390, 844)
        # At phone width nothing is wider than the screen, and what is hidden stays so.
        width = self.browser.execute_script("return document.documentElement.scrollWidth")
        self.assertLessEqual(width, self.browser.execute_script("return window.innerWidth"))
        self.assertFalse(self.browser.find_element(By.CSS_SELECTOR, 'tbody[data-group="web"] tr.group').is_displayed())
        box.send_keys("pool")
        self.assertEqual(shown(), ["pool:pool@0", "pool:pool@1"])
        box.clear()
        box.send_keys(" ")
        self.browser.set_window_size(1280, 900)

    def test_clicks_start_stop_restart(self):
        self.open()
        self.wait_state("idle", "STOPPED")
        self.assertEqual(self.pid("idle"), 0)
        self.click("idle", "start")
        self.wait_state("idle", "RUNNING")
        pid = self.pid("idle")
        self.assertTrue(pid and alive(pid))
        self.wait_message(r"^idle: started")
        self.click("idle", "restart")
        wait_until("idle restarted", lambda: self.pid("idle") not in (0, pid))
        wait_until("the old idle gone", lambda: not alive(pid))
        new = self.pid("idle")
        self.assertTrue(alive(new))
        self.wait_state("idle", "RUNNING")
        self.click("idle", "stop")
        self.wait_state("idle", "STOPPED")
        wait_until("idle gone", lambda: not alive(new))
        self.assertEqual(self.pid("idle"), 0)

    def test_group_actions_and_signal(self):
        self.open()
        self.wait_state("pool:pool@1", "RUNNING")
        self.wait_state("pool:pool@0", "RUNNING")
        pids = [self.pid("pool:pool@1"), self.pid("pool:pool@0")]
        self.assertTrue(all(alive(p) for p in pids))
        self.click("pool", "stop", group=True)
        self.wait_state("pool:pool@1", "STOPPED")
        self.wait_state("pool:pool@0", "STOPPED")
        wait_until("the pool gone", lambda: not any(alive(p) for p in pids))
        self.click("pool", "start", group=True)
        self.wait_state("pool:pool@1", "RUNNING")
        self.wait_state("pool:pool@0", "RUNNING")
        started = [self.pid("pool:pool@0"), self.pid("pool:pool@1")]
        self.assertTrue(all(alive(p) for p in started))
        self.click("pool", "restart", group=True)
        wait_until("the pool restarted", lambda: all(self.pid(n) not in (0, p) for n, p in
                                                     zip(("pool:pool@0", "pool:pool@1"), started)))
        self.assertFalse(any(alive(p) for p in started))
        # A service that ignores SIGTERM: STOPPING until the page sends SIGKILL.
        self.click("stubborn", "start")
        self.wait_state("stubborn", "RUNNING")
        pid = self.pid("stubborn")
        self.click("stubborn", "stop")
        self.wait_state("stubborn", "STOPPING")
        self.assertTrue(alive(pid))
        row = self.row("stubborn")
        Select(row.find_element(By.CSS_SELECTOR, "select.signal")).select_by_value("KILL")
        # During the stop, the row's other buttons wait for it; its signal does not.
        self.assertFalse(row.find_element(By.CSS_SELECTOR, 'button[data-action="start"]').is_enabled())
        self.click("stubborn", "signal")
        wait_until("stubborn killed", lambda: not alive(pid))
        self.wait_state("stubborn", "STOPPED")
        self.wait_message(r"^stop stubborn|^stubborn: stopped")

    def test_failed_action_says_what_failed(self):
        self.open()
        self.wait_state("missing", "FATAL")
        self.click("missing", "start")
        self.wait_message(r"^start missing: SPAWN_ERROR: missing")
        self.assertIn("error", self.browser.find_element(By.CSS_SELECTOR, "#messages li").get_attribute("class"))
        self.click("oneshot", "clearlog")
        self.wait_message(r"^oneshot: log cleared")

    def test_restart_all_and_stop_all(self):
        self.daemon = Daemon(SIMPLE_CONFIG)
        self.url = self.daemon.url
        try:
            self.open()
            names = ("web", "hb", "pool:pool@0", "pool:pool@1")
            for n in names:
                self.wait_state(n, "RUNNING")
            self.wait_state("idle", "STOPPED")
            before = {n: self.pid(n) for n in names}
            self.browser.find_element(By.ID, "restart-all").click()
            names += ("idle",)
            wait_until("everything restarted", lambda: all(self.pid(n) not in (0, before.get(n)) for n in names))
            self.assertFalse(any(alive(p) for p in before.values()))
            self.wait_message(r"^restart all: done")
            for n in names:
                self.wait_state(n, "RUNNING")
            after = {n: self.pid(n) for n in names}
            self.assertTrue(all(alive(p) for p in after.values()))
            self.browser.find_element(By.ID, "stop-all").click()
            wait_until("everything stopped", lambda: not any(alive(p) for p in after.values()))
            self.wait_message(r"^stop all: done")
            for n in names:
                self.wait_state(n, "STOPPED")
        finally:
            self.daemon.close()
            del self.daemon, self.url

    def test_action_link_asks_first(self):
        self.wait_for_state_of_web()
        pid = self.pid("web")
        self.browser.get(self.url + "index.html?processname=web&action=stop")
        self.wait_for_poll()
        self.wait_for_poll()
        box = self.browser.find_element(By.ID, "confirm")
        self.assertTrue(box.is_displayed())
        self.assertIn("stop web", box.text.lower())
        self.assertTrue(alive(pid), "the link acted by itself")
        self.assertEqual(self.row_state("web"), "RUNNING")
        self.browser.find_element(By.ID, "confirm-yes").click()
        wait_until("web stopped", lambda: not alive(pid))
        self.wait_state("web", "STOPPED")
        self.assertNotIn("action=", self.browser.current_url)
        # And "Cancel" does nothing.
        self.browser.get(self.url + "index.html?processname=web&action=start")
        self.wait_for_poll()
        self.browser.find_element(By.ID, "confirm-no").click()
        self.assertFalse(self.browser.find_element(By.ID, "confirm").is_displayed())
        self.wait_for_poll()
        self.assertEqual(self.pid("web"), 0)
        self.click("web", "start")
        self.wait_state("web", "RUNNING")

    def wait_for_state_of_web(self):
        self.open()
        self.wait_state("web", "RUNNING")

    def test_another_site_cannot_act(self):
        """A page of another site makes the browser POST a methodCall to /RPC2 (a form
        with enctype text/plain, the one way a form can send XML, and fetch in no-cors
        mode): refused, and the service runs on."""
        pid = wait_until("web running", lambda: self.pid("web"))
        target = self.url + "RPC2"
        name = '<?xml version="1.0"?><methodCall><methodName>supervisor.stopProcess</methodName><params><param><value><string>web'
        value = '</string></value></param></params></methodCall>'
        page = ("<!DOCTYPE html><html><body><form id=f method=POST enctype=text/plain action='%s'>"
                "<input type=hidden name='%s' value='%s'></form><p id=ready>ready</p>"
                "<script>fetch('%s', {method: 'POST', mode: 'no-cors', body: document.querySelector('input').name"
                " + '=' + document.querySelector('input').value}).finally(function () {"
                " document.getElementById('ready').id = 'fetched'; });</script></body></html>"
                % (target, name, value, target)).encode()

        class Evil(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, *args):
                pass
        # Threads: chromium may open a second connection and leave it idle.
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Evil)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            # "localhost": another site; 127.0.0.1 on another port would be another origin.
            for host in ("localhost", "127.0.0.1"):
                self.browser.get("http://%s:%d/" % (host, server.server_port))
                WebDriverWait(self.browser, SOON).until(lambda b: b.find_elements(By.ID, "fetched"))
                self.browser.execute_script("document.getElementById('f').submit()")
                WebDriverWait(self.browser, SOON).until(lambda b: "cannot call XML-RPC" in b.page_source)
                self.assertTrue(alive(pid), "a page of %s stopped the service" % host)
                self.assertEqual(self.pid("web"), pid)
        finally:
            server.shutdown()
            server.server_close()

    def test_tail_follows_and_escapes(self):
        self.open()
        self.wait_state("echo", "RUNNING")
        self.browser.find_element(By.CSS_SELECTOR, 'tr.process[data-name="echo"] a.do-tail').click()
        wait_until("the tail view", lambda: "tail.html?processname=echo" in self.browser.current_url)
        self.assertEqual(self.browser.find_element(By.ID, "tail-name").text, "echo")
        out = lambda: self.browser.find_element(By.ID, "stdout").text
        lines = wait_until("stdout shown", lambda: re.findall(r"line (\d+)", out()))
        last = int(lines[-1])
        # Followed live: later lines come without a reload.
        wait_until("later output", lambda: int((re.findall(r"line (\d+)", out()) or ["0"])[-1]) >= last + 3)
        wait_until("stderr shown", lambda: "warning" in self.browser.find_element(By.ID, "stderr").text)
        # Shown as text: the markup is there to read, nothing of it ran or was parsed.
        self.assertIn('<script>document.title="pwned"</script><b>line', out())
        self.assertNotIn("pwned", self.browser.title)
        self.assertEqual(self.browser.execute_script("return document.scripts.length"), 1)
        self.assertEqual(self.browser.execute_script("return document.querySelectorAll('#stdout b').length"), 0)
        # Cleared (by Python's xmlrpc.client, through the same /RPC2): said, then followed on.
        xmlrpc.client.ServerProxy(self.url + "RPC2").supervisor.clearProcessLogs("echo")
        wait_until("the clear shown", lambda: "==> log cleared or rotated <==" in out())
        mark = out().rindex("==> log cleared or rotated <==")
        wait_until("output after the clear", lambda: re.search(r"line \d+", out()[mark:]))
        self.shoot("tail-phone.png", 390, 844)
        self.browser.set_window_size(1280, 900)


if __name__ == "__main__":
    missing = [p for p in ("/usr/bin/chromium", "/usr/bin/chromedriver") if not os.path.exists(p)]
    if missing:
        print("test_web.py: %s not installed (make check-browser installs it)" % " ".join(missing), file=sys.stderr)
        sys.exit(1)
    unittest.main(verbosity=2)
