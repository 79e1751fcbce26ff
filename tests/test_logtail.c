/* test_logtail.c — processes' logs and the main log read through supervisord's own
 * clients (issues 18, 19): Python's xmlrpc.client for readProcess*Log and
 * tailProcess*Log (each result compared with what Python supervisor's own readFile and
 * tailFile give on the same file), and the faults. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define PYTHON "/usr/bin/python3"
#define PYTHON_CTL "/usr/bin/supervisorctl"

static unsigned free_port(void) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        ck_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0
                  && getsockname(fd, (struct sockaddr *)&sa, &len) == 0);
        close(fd);
        return ntohs(sa.sin_port);
}

static unsigned port;
static char out[1 << 16];

/* both: stdout and stderr in one file; quiet: stderr to null; nolog: neither logged. */
static void start_daemon(struct daemon *d) {
        daemon_init(d);
        port = free_port();
        daemon_write_config(d,
                            "log-file = %s/main.log\n"
                            "http-listen = \"127.0.0.1:%u\"\n"
                            "http-username = \"admin\"\n"
                            "http-password = \"secret\"\n"
                            "service both {\n command = \"/bin/sh -c 'echo out1; echo err1 >&2; exec sleep 1000'\"\n"
                            " start-secs = 0.2\n}\n"
                            "service quiet {\n command = \"/bin/sh -c 'echo hello; exec sleep 1000'\"\n"
                            " stderr = null\n start-secs = 0.2\n}\n"
                            "service nolog {\n command = \"sleep 1000\"\n stdout = null\n stderr = null\n"
                            " start-secs = 0.2\n}\n",
                            d->dir, port);
        daemon_start(d);
        ck_assert(wait_for_state(d, "both", "RUNNING", SOON_MS));
        ck_assert(wait_for_state(d, "quiet", "RUNNING", SOON_MS));
        char path[256];
        snprintf(path, sizeof path, "%s/logs/both.log", d->dir);
        ck_assert(WAIT_UNTIL(read_text_file(path, out, sizeof out) == 10, SOON_MS));
        snprintf(path, sizeof path, "%s/logs/quiet.log", d->dir);
        ck_assert(WAIT_UNTIL(read_text_file(path, out, sizeof out) == 6, SOON_MS));
}

/* Every read and tail of both's log, ours against supervisor.options' readFile and
 * tailFile on the same file, then the faults. */
START_TEST(test_read_and_tail_methods) {
        struct daemon d;
        char url[64], log[256];
        start_daemon(&d);
        snprintf(url, sizeof url, "http://admin:secret@127.0.0.1:%u/RPC2", port);
        snprintf(log, sizeof log, "%s/logs/both.log", d.dir);
        static const char script[] =
                "import sys, xmlrpc.client\n"
                "from supervisor.options import readFile, tailFile\n"
                "s = xmlrpc.client.ServerProxy(sys.argv[1]).supervisor\n"
                "log = sys.argv[2]\n"
                "bad = 0\n"
                "reads = [(0, 0), (3, 4), (8, 100), (10, 0), (500, 10), (-5, 0), (-1000, 0)]\n"
                "for m in ('readProcessStdoutLog', 'readProcessLog', 'readProcessStderrLog'):\n"
                "    for o, l in reads:\n"
                "        ours, theirs = getattr(s, m)('both', o, l), readFile(log, o, l).decode()\n"
                "        if ours != theirs:\n"
                "            bad += 1; print('MISMATCH', m, o, l, repr(ours), repr(theirs))\n"
                "tails = [(0, 4), (0, 100), (10, 100), (9, 1), (12, 5), (0, 0), (5, 100), (-3, 2), (3, -2),\n"
                "         (20, -30), (0, 10), (2, 3)]\n"
                "for m in ('tailProcessStdoutLog', 'tailProcessLog', 'tailProcessStderrLog'):\n"
                "    for o, l in tails:\n"
                "        ours, theirs = getattr(s, m)('both', o, l), tailFile(log, o, l)\n"
                "        if ours != theirs:\n"
                "            bad += 1; print('MISMATCH', m, o, l, ours, theirs)\n"
                "print('compared', bad)\n"
                "print(s.readProcessStdoutLog('quiet', 0, 0), end='')\n"
                "print(s.tailProcessStderrLog('quiet', 0, 100))\n"
                "print(s.tailProcessStdoutLog('nolog', 0, 100))\n"
                "print(s.tailProcessLog('both', 0, 4))\n"
                "calls = [('readProcessStderrLog', 'quiet', 0, 0), ('readProcessStdoutLog', 'nolog', 0, 0),\n"
                "         ('readProcessStdoutLog', 'nosuch', 0, 0), ('readProcessStderrLog', 'both:*', 0, 0),\n"
                "         ('readProcessStdoutLog', 'both', -1, 5), ('readProcessStdoutLog', 'both', 0, -1),\n"
                "         ('readProcessStdoutLog', 'nosuch', -1, 5), ('readProcessStdoutLog', 'both', 'x', 0),\n"
                "         ('readProcessStdoutLog', 'both', 0), ('tailProcessStdoutLog', 'nosuch', 0, 10),\n"
                "         ('tailProcessStderrLog', 'both:', 0, 10)]\n"
                "for c in calls:\n"
                "    try:\n"
                "        print(c, 'returned', repr(getattr(s, c[0])(*c[1:])))\n"
                "    except xmlrpc.client.Fault as f:\n"
                "        print(c, f.faultCode, f.faultString)\n";
        char *argv[] = { PYTHON, "-c", (char *)script, url, log, NULL };
        int r = run_capture(argv, out, sizeof out);
        ck_assert_msg(r == 0, "xmlrpc.client: %d\n%s", r, out);
        ck_assert_msg(strstr(out, "compared 0\n"), "%s", out);
        static const char *const expected[] = {
                "hello\n['', 0, False]\n['', 0, False]\n['rr1\\n', 10, True]\n",
                "('readProcessStderrLog', 'quiet', 0, 0) 20 NO_FILE: None\n",
                "('readProcessStdoutLog', 'nolog', 0, 0) 20 NO_FILE: None\n",
                "('readProcessStdoutLog', 'nosuch', 0, 0) 10 BAD_NAME: nosuch\n",
                "('readProcessStderrLog', 'both:*', 0, 0) 10 BAD_NAME: both:*\n",
                "('readProcessStdoutLog', 'both', -1, 5) 3 BAD_ARGUMENTS\n",
                "('readProcessStdoutLog', 'both', 0, -1) 3 BAD_ARGUMENTS\n",
                "('readProcessStdoutLog', 'nosuch', -1, 5) 10 BAD_NAME: nosuch\n",
                "('readProcessStdoutLog', 'both', 'x', 0) 2 INCORRECT_PARAMETERS\n",
                "('readProcessStdoutLog', 'both', 0) 2 INCORRECT_PARAMETERS\n",
                "('tailProcessStdoutLog', 'nosuch', 0, 10) 10 BAD_NAME: nosuch\n",
                "('tailProcessStderrLog', 'both:', 0, 10) 10 BAD_NAME: both:\n",
        };
        for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
                ck_assert_msg(strstr(out, expected[i]), "want %s in:\n%s", expected[i], out);
        char *list[] = { PYTHON, "-c",
                         "import sys, xmlrpc.client\n"
                         "s = xmlrpc.client.ServerProxy(sys.argv[1]).system\n"
                         "for m in ('readProcessStdoutLog', 'readProcessLog', 'readProcessStderrLog',\n"
                         "          'tailProcessStdoutLog', 'tailProcessLog', 'tailProcessStderrLog'):\n"
                         "    print(m, 'supervisor.' + m in s.listMethods(), s.methodSignature('supervisor.' + m))\n",
                         url, NULL };
        r = run_capture(list, out, sizeof out);
        ck_assert_msg(r == 0 && strstr(out, "readProcessStderrLog True ['string', 'string', 'int', 'int']\n")
                              && strstr(out, "tailProcessLog True ['array', 'string', 'int', 'int']\n"),
                      "%d %s", r, out);
        daemon_cleanup(&d);
}
END_TEST

/* Python's supervisorctl -s URL with ARGS (NULL-terminated). */
static int pyctl(const char *url, char *buf, size_t size, ...) {
        char *argv[16];
        int argc = 0;
        argv[argc++] = PYTHON_CTL;
        argv[argc++] = "-s";
        argv[argc++] = (char *)url;
        va_list ap;
        va_start(ap, size);
        for (char *a; argc < 15 && (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        argv[argc] = NULL;
        return run_capture(argv, buf, size);
}

/* A command that runs until stopped (tail -f): started with its output on a pipe. */
struct follower {
        pid_t pid;
        int fd;
        char text[1 << 16];
        size_t len;
};

static void follower_start(struct follower *f, char *const argv[]) {
        int fds[2];
        ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
        f->pid = fork();
        ck_assert_int_ge(f->pid, 0);
        if (f->pid == 0) {
                dup2(fds[1], STDOUT_FILENO);
                dup2(fds[1], STDERR_FILENO);
                execv(argv[0], argv);
                _exit(127);
        }
        close(fds[1]);
        f->fd = fds[0];
        f->len = 0;
        f->text[0] = '\0';
}

/* Whether NEEDLE is in what it printed so far (read without waiting). */
static bool follower_saw(struct follower *f, const char *needle) {
        struct pollfd p = { .fd = f->fd, .events = POLLIN };
        while (f->len + 1 < sizeof f->text && poll(&p, 1, 0) > 0) {
                ssize_t n = read(f->fd, f->text + f->len, sizeof f->text - 1 - f->len);
                if (n <= 0)
                        break;
                f->len += (size_t)n;
                f->text[f->len] = '\0';
        }
        return strstr(f->text, needle) != NULL;
}

/* Ctrl-C, as its user stops it; its exit status. */
static int follower_stop(struct follower *f) {
        kill(f->pid, SIGINT);
        int status;
        while (waitpid(f->pid, &status, 0) < 0 && errno == EINTR)
                ;
        follower_saw(f, "");
        close(f->fd);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The number of the last whole "tick N" line in TEXT, 0 if none. */
static int last_tick(const char *text) {
        int last = 0;
        for (const char *p = text; (p = strstr(p, "tick ")); p += 5)
                if (strchr(p, '\n'))
                        last = atoi(p + 5);
        return last;
}

/* tail -f NAME: the last bytes, then new lines as they come, across rotations (ROTATED,
 * if not NULL, is a file that appears when the log rotates). */
static void check_tail_f(const char *url, const char *rotated) {
        struct follower f;
        char *argv[] = { PYTHON_CTL, "-s", (char *)url, "tail", "-f", "tick", NULL };
        follower_start(&f, argv);
        ASSERT_WITHIN_MSG(follower_saw(&f, "==> Press Ctrl-C to exit <==\n") && last_tick(f.text) > 0, SOON_MS,
                          "%.2000s", f.text);
        int first = last_tick(f.text);
        struct stat st;
        if (rotated)
                ASSERT_WITHIN_MSG(follower_saw(&f, "") && stat(rotated, &st) == 0 && last_tick(f.text) >= first + 3,
                                  SOON_MS, "%s missing; %.2000s", rotated, f.text);
        else
                ASSERT_WITHIN_MSG(follower_saw(&f, "") && last_tick(f.text) >= first + 3, SOON_MS, "%.2000s", f.text);
        int last = last_tick(f.text);
        char line[32];
        for (int i = first; i <= last; i++) {
                snprintf(line, sizeof line, "\ntick %d x", i);
                ck_assert_msg(strstr(f.text, line), "%s missing from %.4000s", line, f.text);
        }
        ck_assert_int_eq(follower_stop(&f), 0);
        ck_assert_msg(!strstr(f.text, "Cannot read") && !strstr(f.text, "Error"), "%.2000s", f.text);
}

/* maintail -f: supervisord's own lines as it writes them. */
static void check_maintail_f(struct daemon *d, const char *url) {
        struct follower f;
        char *argv[] = { PYTHON_CTL, "-s", (char *)url, "maintail", "-f", NULL };
        follower_start(&f, argv);
        ASSERT_WITHIN_MSG(follower_saw(&f, "==> Press Ctrl-C to exit <==\n")
                                  && (strstr(f.text, " INFO ") || strstr(f.text, " DEBG ")),
                          SOON_MS, "%.2000s", f.text);
        char buf[1024];
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "start idle"), 0);
        ASSERT_WITHIN_MSG(follower_saw(&f, "spawned: 'idle' with pid"), SOON_MS, "%.4000s", f.text);
        ASSERT_WITHIN_MSG(follower_saw(&f, "success: idle entered RUNNING state"), SOON_MS, "%.4000s", f.text);
        ck_assert_int_eq(follower_stop(&f), 0);
}

/* Python's supervisorctl tail and maintail on the daemon at URL. */
static void check_python_tail(struct daemon *d, const char *url, const char *rotated) {
        char buf[8192];
        /* (supervisorctl prints the bytes, then a newline of its own) */
        int r = pyctl(url, buf, sizeof buf, "tail", "words", NULL);
        ck_assert_msg(r == 0 && strcmp(buf, "out-line\nerr-line\n\n") == 0, "tail: %d [%s] %zu", r, buf, strlen(buf));
        r = pyctl(url, buf, sizeof buf, "tail", "-5", "words", NULL);
        ck_assert_msg(r == 0 && strcmp(buf, "line\n\n") == 0, "tail -5: %d %s", r, buf);
        r = pyctl(url, buf, sizeof buf, "tail", "-100", "words", "stdout", NULL);
        ck_assert_msg(r == 0 && strcmp(buf, "out-line\nerr-line\n\n") == 0, "tail -100: %d %s", r, buf);
        /* stderr goes with stdout: the file both share */
        r = pyctl(url, buf, sizeof buf, "tail", "words", "stderr", NULL);
        ck_assert_msg(r == 0 && strcmp(buf, "out-line\nerr-line\n\n") == 0, "tail stderr: %d %s", r, buf);
        r = pyctl(url, buf, sizeof buf, "tail", "nosuch", NULL);
        ck_assert_msg(r == 1 && strcmp(buf, "nosuch: ERROR (no such process name)\n") == 0, "tail nosuch: %d %s", r,
                      buf);
        r = pyctl(url, buf, sizeof buf, "tail", "-1600", "nolog", NULL);
        ck_assert_msg(r == 1 && strcmp(buf, "nolog: ERROR (no log file)\n") == 0, "tail nolog: %d %s", r, buf);
        /* 1600 bytes of it, the end */
        r = pyctl(url, buf, sizeof buf, "tail", "tick", NULL);
        ck_assert_msg(r == 0 && strlen(buf) <= 1601 && last_tick(buf) > 0, "tail tick: %d %s", r, buf);
        r = pyctl(url, buf, sizeof buf, "maintail", NULL);
        /* (the native config logs at debug: the output of tick fills its end) */
        ck_assert_msg(r == 0 && strlen(buf) <= 1601 && (strstr(buf, " INFO ") || strstr(buf, " DEBG ")),
                      "maintail: %d %s", r, buf);
        r = pyctl(url, buf, sizeof buf, "maintail", "-200", NULL);
        ck_assert_msg(r == 0 && strlen(buf) == 201, "maintail -200: %d %s", r, buf);
        check_tail_f(url, rotated);
        check_maintail_f(d, url);
}

#define TICK_COMMAND                                                                                      \
        "/bin/sh -c 'p=xxxxxxxxxx; p=$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p$p; i=0; "                           \
        "while :; do i=$((i+1)); echo tick $i $p; sleep 0.1; done'"
#define WORDS_COMMAND "/bin/sh -c 'echo out-line; echo err-line >&2; exec sleep 1000'"

static void wait_for_words(struct daemon *d, const char *log) {
        char buf[256];
        ck_assert(wait_for_state(d, "tick", "RUNNING", SOON_MS));
        ck_assert(WAIT_UNTIL(read_text_file(log, buf, sizeof buf) == 18, SOON_MS));
}

/* Ours: supervisorctl's -N bytes, a stream named, maintail, and both followed. */
static void check_our_tail(struct daemon *d) {
        char buf[8192];
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "tail -5 words"), 0);
        ck_assert_str_eq(buf, "line\n");
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "tail words stderr"), 0);
        ck_assert_str_eq(buf, "out-line\nerr-line\n");
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "tail -100 words stdout"), 0);
        ck_assert_str_eq(buf, "out-line\nerr-line\n");
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "tail nolog stderr"), 1);
        ck_assert_msg(strstr(buf, "no log file: nolog sends stderr to null"), "%s", buf);
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "tail words both"), 2);
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "tail -n 1 words"), 0);
        ck_assert_str_eq(buf, "err-line\n");
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "tail tick"), 0);
        /* (at most: the file rotates at 4096 bytes) */
        ck_assert_msg(strlen(buf) <= 1600 && last_tick(buf) > 0, "%zu: %s", strlen(buf), buf);
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "maintail -200"), 0);
        ck_assert_uint_eq(strlen(buf), 200);
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "maintail words"), 2);

        struct follower f;
        char *tail[] = { (char *)supervisorctl_path(), "-s", d->sock, "tail", "-f", "tick", NULL };
        follower_start(&f, tail);
        ASSERT_WITHIN_MSG(follower_saw(&f, "") && last_tick(f.text) > 0, SOON_MS, "%.2000s", f.text);
        int first = last_tick(f.text);
        ASSERT_WITHIN_MSG(follower_saw(&f, "") && last_tick(f.text) >= first + 3, SOON_MS, "%.2000s", f.text);
        ck_assert_uint_le(strstr(f.text, "\ntick ") - f.text, 1024);  /* the last 1024 bytes first */
        follower_stop(&f);
        char *maintail[] = { (char *)supervisorctl_path(), "-s", d->sock, "maintail", "-f", NULL };
        follower_start(&f, maintail);
        ck_assert_int_eq(ctl(d, buf, sizeof buf, "stop idle"), 0);
        ASSERT_WITHIN_MSG(follower_saw(&f, "stopped: idle"), SOON_MS, "%.4000s", f.text);
        follower_stop(&f);
}

START_TEST(test_python_tail_native) {
        struct daemon d;
        char url[300], path[300], rotated[300];
        daemon_init(&d);
        daemon_write_config(&d,
                            "log-file = %s/main.log\nsocket-http = yes\n"
                            "service tick {\n command = \"%s\"\n log-max-size = 4096\n log-keep = 2\n}\n"
                            "service words {\n command = \"%s\"\n}\n"
                            "service nolog {\n command = \"sleep 1000\"\n stdout = null\n stderr = null\n}\n"
                            "service idle {\n command = \"sleep 1000\"\n autostart = false\n start-secs = 0.2\n}\n",
                            d.dir, TICK_COMMAND, WORDS_COMMAND);
        daemon_start(&d);
        snprintf(path, sizeof path, "%s/logs/words.log", d.dir);
        wait_for_words(&d, path);
        snprintf(url, sizeof url, "unix://%s", d.sock);
        snprintf(rotated, sizeof rotated, "%s/logs/tick.log.2", d.dir);
        check_python_tail(&d, url, rotated);
        check_our_tail(&d);
        daemon_cleanup(&d);
}
END_TEST

/* Python's supervisord on the same programs: what Python's supervisorctl prints for
 * each tail, compared line by line with what it printed against ours (OURS). */
static void compare_with_python_supervisord(const char *dir, char ours[][512], const char *const argv[][4], int n) {
        char conf[300], sock[300], url[320], buf[512];
        snprintf(conf, sizeof conf, "%s/python.conf", dir);
        snprintf(sock, sizeof sock, "%s/python.sock", dir);
        FILE *f = fopen(conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[unix_http_server]\nfile = %s\n\n[supervisord]\nnodaemon = true\npidfile = %s/python.pid\n"
                   "logfile = %s/python.log\nchildlogdir = %s/pylogs\nuser = root\n\n"
                   "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
                   "[program:words]\ncommand = %s\nstartsecs = 0\nredirect_stderr = true\n\n"
                   "[program:nolog]\ncommand = sleep 1000\nstdout_logfile = NONE\nstderr_logfile = NONE\n",
                sock, dir, dir, dir, WORDS_COMMAND + 0);
        ck_assert_int_eq(fclose(f), 0);
        snprintf(buf, sizeof buf, "%s/pylogs", dir);
        ck_assert_int_eq(mkdir(buf, 0755), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                execl("/usr/bin/python3", "python3", "/usr/bin/supervisord", "-c", conf, (char *)NULL);
                _exit(127);
        }
        snprintf(url, sizeof url, "unix://%s", sock);
        bool up = WAIT_UNTIL(pyctl(url, buf, sizeof buf, "tail", "words", NULL) == 0 && strlen(buf) == 19, SOON_MS);
        for (int i = 0; up && i < n; i++) {
                pyctl(url, buf, sizeof buf, argv[i][0], argv[i][1], argv[i][2], argv[i][3], NULL);
                ck_assert_msg(strcmp(buf, ours[i]) == 0, "%s %s %s: Python's supervisord: %s; ours: %s", argv[i][0],
                              argv[i][1], argv[i][2] ? argv[i][2] : "", buf, ours[i]);
        }
        kill(pid, SIGTERM);
        int status;
        waitpid(pid, &status, 0);
        ck_assert_msg(up, "Python's supervisord did not come up on %s", sock);
}

START_TEST(test_python_tail_ini) {
        struct daemon d;
        char url[300], path[300];
        daemon_init(&d);
        FILE *f = fopen(d.conf, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[unix_http_server]\nfile = %%(here)s/sock\n\n[supervisord]\npidfile = %%(here)s/pid\n"
                   "logfile = %%(here)s/main.log\nchildlogdir = %%(here)s/logs\n\n"
                   "[program:tick]\ncommand = %s\nstartsecs = 0\n\n"
                   "[program:words]\ncommand = %s\nstartsecs = 0\nredirect_stderr = true\n\n"
                   "[program:nolog]\ncommand = sleep 1000\nstdout_logfile = NONE\nstderr_logfile = NONE\n\n"
                   "[program:idle]\ncommand = sleep 1000\nautostart = false\nstartsecs = 0\n",
                TICK_COMMAND + 0, WORDS_COMMAND + 0);
        ck_assert_int_eq(fclose(f), 0);
        snprintf(path, sizeof path, "%s/logs", d.dir);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        daemon_start(&d);
        snprintf(path, sizeof path, "%s/logs/words.log", d.dir);
        wait_for_words(&d, path);
        snprintf(url, sizeof url, "unix://%s", d.sock);
        check_python_tail(&d, url, NULL);
        static const char *const argv[][4] = {
                { "tail", "words", NULL, NULL },        { "tail", "-5", "words", NULL },
                { "tail", "-100", "words", "stdout" },  { "tail", "nosuch", NULL, NULL },
                { "tail", "nolog", NULL, NULL },         { "tail", "-f", "words", "bogus" },
        };
        static char ours[6][512];
        for (int i = 0; i < 6; i++)
                pyctl(url, ours[i], sizeof ours[i], argv[i][0], argv[i][1], argv[i][2], argv[i][3], NULL);
        compare_with_python_supervisord(d.dir, ours, argv, 6);
        daemon_cleanup(&d);
}
END_TEST

/* A raw HTTP GET of PATH on the unix socket SOCK, with AUTH as the Authorization header
 * unless NULL; the connection, its status line read into LINE. */
static int http_get(const char *sock, const char *path, const char *auth, char *line, size_t size) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ck_assert_int_ge(fd, 0);
        int small = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock);
        ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
        char request[512];
        int n = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: localhost\r\n%s%s%s\r\n", path,
                         auth ? "Authorization: Basic " : "", auth ? auth : "", auth ? "\r\n" : "");
        ck_assert_int_eq(write(fd, request, (size_t)n), n);
        size_t len = 0;
        long long deadline = now_ms() + SOON_MS;
        while (len + 1 < size && !memchr(line, '\n', len) && now_ms() < deadline) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                if (poll(&p, 1, 100) <= 0)
                        continue;
                ssize_t k = read(fd, line + len, 1);  /* the status line only: the rest stays unread */
                if (k <= 0)
                        break;
                len += (size_t)k;
        }
        line[len] = '\0';
        return fd;
}

static pid_t front_end_of(const struct daemon *d) {
        pid_t pids[16];
        int n = find_processes("supervisord-http", pids, 16);
        for (int i = 0; i < n; i++)
                if (process_parent(pids[i]) == d->pid)
                        return pids[i];
        return 0;
}

static long rss_kib(pid_t pid) {
        char path[64], text[4096];
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        if (read_text_file(path, text, sizeof text) <= 0)
                return -1;
        const char *p = strstr(text, "VmRSS:");
        return p ? atol(p + 6) : -1;
}

/* The streams' Basic auth, 404s, clients that hang up while their log is quiet (their
 * connections go at once), and one that never reads while its process writes 32 MB:
 * the front-end's memory stays bounded and others are served meanwhile. */
START_TEST(test_stream_auth_and_slow_clients) {
        struct daemon d;
        char sock[256], line[256], buf[4096], path[300];
        daemon_init(&d);
        snprintf(sock, sizeof sock, "%s/http.sock", d.dir);
        daemon_write_config(&d,
                            "http-socket = \"%s\"\nhttp-username = \"admin\"\nhttp-password = \"secret\"\n"
                            "service quiet {\n command = \"/bin/sh -c 'echo once; exec sleep 1000'\"\n}\n"
                            "service flood {\n command = \"/bin/sh -c 'head -c 33554432 /dev/zero | tr o x; exec sleep 1000'\"\n"
                            " autostart = false\n log-max-size = 8M\n log-keep = 1\n}\n",
                            sock);
        daemon_start(&d);
        snprintf(path, sizeof path, "%s/logs/quiet.log", d.dir);
        ck_assert(WAIT_UNTIL(read_text_file(path, buf, sizeof buf) == 5, SOON_MS));
        static const char auth[] = "YWRtaW46c2VjcmV0";  /* admin:secret */
        int fd = http_get(sock, "/logtail/quiet", NULL, line, sizeof line);
        ck_assert_msg(strncmp(line, "HTTP/1.1 401", 12) == 0, "%s", line);
        close(fd);
        fd = http_get(sock, "/mainlogtail", "YWRtaW46d3Jvbmc=", line, sizeof line);  /* admin:wrong */
        ck_assert_msg(strncmp(line, "HTTP/1.1 401", 12) == 0, "%s", line);
        close(fd);
        fd = http_get(sock, "/logtail/nosuch", auth, line, sizeof line);
        ck_assert_msg(strncmp(line, "HTTP/1.1 404", 12) == 0, "%s", line);
        close(fd);
        fd = http_get(sock, "/logtail/quiet/stdlog", auth, line, sizeof line);
        ck_assert_msg(strncmp(line, "HTTP/1.1 404", 12) == 0, "%s", line);
        close(fd);
        /* no log-file: no main log to follow */
        fd = http_get(sock, "/mainlogtail", auth, line, sizeof line);
        ck_assert_msg(strncmp(line, "HTTP/1.1 404", 12) == 0, "%s", line);
        close(fd);

        pid_t front = front_end_of(&d);
        ck_assert_int_gt(front, 0);
        char fds[4096];
        int before = count_fds(front, fds, sizeof fds);
        int quiet[8];
        for (int i = 0; i < 8; i++) {
                quiet[i] = http_get(sock, "/logtail/quiet", auth, line, sizeof line);
                ck_assert_msg(strncmp(line, "HTTP/1.1 200", 12) == 0, "%s", line);
        }
        ck_assert_int_ge(count_fds(front, fds, sizeof fds), before + 8);
        for (int i = 0; i < 8; i++)
                close(quiet[i]);
        bool gone = WAIT_UNTIL(count_fds(front, fds, sizeof fds) <= before, SOON_MS);
        if (!gone) {
                char cmd[128];
                snprintf(cmd, sizeof cmd, "ls -l /proc/%d/fd >&2; ss -xp >&2", (int)front);
                if (system(cmd) < 0) {}
        }
        ck_assert_msg(gone, "fds %s, %d before", fds, before);

        /* one that never reads, while flood writes 32 MB */
        int stalled = http_get(sock, "/logtail/flood", auth, line, sizeof line);
        ck_assert_msg(strncmp(line, "HTTP/1.1 200", 12) == 0, "%s", line);
        long rss_before = rss_kib(front);
        ck_assert_int_eq(ctl(&d, buf, sizeof buf, "start flood"), 0);
        snprintf(path, sizeof path, "%s/logs/flood.log.1", d.dir);
        struct stat st;
        ck_assert(WAIT_UNTIL(stat(path, &st) == 0, SOON_MS * 3));
        /* another client is served meanwhile */
        fd = http_get(sock, "/logtail/quiet", auth, line, sizeof line);
        ck_assert_msg(strncmp(line, "HTTP/1.1 200", 12) == 0, "%s", line);
        close(fd);
        snprintf(path, sizeof path, "%s/logs/flood.log", d.dir);
        ck_assert(WAIT_UNTIL(stat(path, &st) == 0 && st.st_size == 8 << 20, SOON_MS * 3));
        long rss_after = rss_kib(front);
        ck_assert_msg(rss_after >= 0 && rss_after - rss_before < 8 * 1024, "front-end RSS %ld KiB -> %ld KiB", rss_before,
                      rss_after);
        close(stalled);
        ck_assert_int_eq(ctl(&d, buf, sizeof buf, "status quiet"), 0);
        daemon_cleanup(&d);
}
END_TEST

static Suite *logtail_suite(void) {
        Suite *s = suite_create("logtail");
        TCase *tc = tcase_create("logtail");
        tcase_set_timeout(tc, 120);
        tcase_add_test(tc, test_read_and_tail_methods);
        tcase_add_test(tc, test_python_tail_native);
        tcase_add_test(tc, test_python_tail_ini);
        tcase_add_test(tc, test_stream_auth_and_slow_clients);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(logtail_suite()) ? EXIT_FAILURE : EXIT_SUCCESS; }
