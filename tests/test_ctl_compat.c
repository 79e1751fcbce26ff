/* test_ctl_compat.c — supervisorctl as supervisord 4.2.5's users call it (issue 19): its
 * options and server URLs, the socket found in an INI file with [supervisorctl] and
 * [unix_http_server] even when a later line is broken, the interactive shell, fed on its
 * standard input, and supervisord's commands with its output lines and exit statuses
 * (reread, add, remove, update, reload, start, stop, restart, signal), against the real
 * daemon. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* supervisorctl ARGS... (NULL-terminated), output into out. */
static int ctl_args(char *out, size_t size, ...) {
        char *argv[16];
        int argc = 0;
        argv[argc++] = (char *)supervisorctl_path();
        va_list ap;
        va_start(ap, size);
        for (char *a; argc < 15 && (a = va_arg(ap, char *));)
                argv[argc++] = a;
        va_end(ap);
        argv[argc] = NULL;
        return run_capture(argv, out, size);
}

/* supervisorctl ARGS with INPUT on its standard input (a pipe, not a terminal). */
static int ctl_fed(char *out, size_t size, const char *input, const char *args) {
        char script[2048];
        snprintf(script, sizeof script, "printf '%s' | '%s' %s", input, supervisorctl_path(), args);
        return run_capture((char *[]){ "/bin/sh", "-c", script, NULL }, out, size);
}

/* Whether NAME runs with a pid other than OLD within timeout_ms. */
static bool wait_until_pid_changes(struct daemon *d, const char *name, pid_t old, int timeout_ms) {
        return WAIT_UNTIL(service_pid_of(d, name) > 0 && service_pid_of(d, name) != old, timeout_ms);
}

static void start_app(struct daemon *d) {
        daemon_init(d);
        daemon_write_config(d, "service app {\n command = \"sleep 1000\"\n start-secs = 0\n}\n");
        daemon_start(d);
        ck_assert(wait_for_state(d, "app", "RUNNING", 10000));
}

START_TEST(test_server_url_forms) {
        struct daemon d;
        char out[4096], url[256];
        start_app(&d);
        snprintf(url, sizeof url, "unix://%s", d.sock);
        int r = ctl_args(out, sizeof out, "-s", url, "pid", NULL);
        ck_assert_msg(r == 0 && atoi(out) == (int)d.pid, "-s %s pid: exit %d: %s", url, r, out);
        r = ctl_args(out, sizeof out, "--serverurl", d.sock, "--username", "user", "--password", "secret", "pid", NULL);
        ck_assert_msg(r == 0 && atoi(out) == (int)d.pid, "--serverurl PATH -u -p: exit %d: %s", r, out);
        r = ctl_args(out, sizeof out, "-s", url, "-u", "user", "-p", "secret", "status", "app", NULL);
        ck_assert_msg(r == 0 && strncmp(out, "app ", 4) == 0 && strstr(out, "RUNNING"), "exit %d: %s", r, out);
        /* Refused by name, never taken for a path or ignored (http:// is XML-RPC's, in
         * test_ctl_xmlrpc). */
        r = ctl_args(out, sizeof out, "-s", "https://localhost:9001", "status", NULL);
        ck_assert_msg(r == 2 && strstr(out, "https://localhost:9001: HTTPS is not supported"), "exit %d: %s", r, out);
        r = ctl_args(out, sizeof out, "-s", "relative/sock", "status", NULL);
        ck_assert_msg(r == 2 && strstr(out, "relative/sock: not an absolute socket path"), "exit %d: %s", r, out);
        daemon_cleanup(&d);
}
END_TEST

/* supervisord's own config, as Ansible and deploy scripts pass it with -c: the socket
 * from [unix_http_server], %(here)s as Python expands it; [supervisorctl] serverurl wins. */
START_TEST(test_ini_config_names_the_socket) {
        struct daemon d;
        char out[4096], ini[256];
        start_app(&d);
        snprintf(ini, sizeof ini, "%s/supervisord.conf", d.dir);
        FILE *f = fopen(ini, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "; supervisord's format\n[unix_http_server]\nfile = %%(here)s/%s\n\n[program:app]\ncommand = x\n"
                   "this line is broken\n[supervisorctl]\nserverurl = unix:///nowhere\n",
                strrchr(d.sock, '/') + 1);
        ck_assert_int_eq(fclose(f), 0);
        int r = ctl_args(out, sizeof out, "-c", ini, "pid", NULL);
        char skipped[512];
        snprintf(skipped, sizeof skipped, "supervisorctl: %s:7: ", ini);
        ck_assert_msg(r == 0 && strstr(out, skipped) && strstr(out, "the rest of the file was not read, ignoring"),
                      "exit %d: %s", r, out);
        ck_assert_msg(strstr(out, "\n") && atoi(strchr(out, '\n') + 1) == (int)d.pid, "pid: %s", out);

        f = fopen(ini, "w");
        ck_assert_ptr_nonnull(f);
        fprintf(f, "[unix_http_server]\nfile = /nowhere/sock\n[supervisorctl]\nserverurl = unix://%s\nprompt = deploy\n",
                d.sock);
        ck_assert_int_eq(fclose(f), 0);
        r = ctl_args(out, sizeof out, "--configuration", ini, "pid", NULL);
        ck_assert_msg(r == 0 && atoi(out) == (int)d.pid, "serverurl: exit %d: %s", r, out);
        char args[512];
        snprintf(args, sizeof args, "-c '%s'", ini);
        r = ctl_fed(out, sizeof out, "quit\\n", args);
        ck_assert_msg(r == 0 && strstr(out, "deploy> "), "prompt from [supervisorctl]: exit %d: %s", r, out);
        daemon_cleanup(&d);
}
END_TEST

/* No command: the shell, `status` first as supervisorctl's does, a command per line, help,
 * quit; the end of input leaves too, with the last command's status. */
START_TEST(test_shell_without_a_command) {
        struct daemon d;
        char out[8192], args[512];
        start_app(&d);
        snprintf(args, sizeof args, "-s '%s'", d.sock);
        int r = ctl_fed(out, sizeof out, "stop app\\nhelp stop\\nstatus app\\nquit\\nstart app\\n", args);
        ck_assert_msg(r == 3, "exit %d (expected 3, the last status's): %s", r, out);
        ck_assert_msg(strncmp(out, "app ", 4) == 0 && strstr(out, "RUNNING"), "status first: %s", out);
        ck_assert_msg(strstr(out, "supervisor> app: stopped\n"), "stop: %s", out);
        ck_assert_msg(strstr(out, "supervisor> stop <name>\t\tStop a process\n"), "help stop: %s", out);
        ck_assert_msg(strstr(out, "STOPPED"), "status app: %s", out);
        ck_assert_str_eq(service_state_of(&d, "app", out, sizeof out), "STOPPED");  /* nothing after quit ran */

        /* -i: the command, then the shell (its status first); EOF leaves. */
        snprintf(args, sizeof args, "-s '%s' -i start app", d.sock);
        r = ctl_fed(out, sizeof out, "", args);
        ck_assert_msg(r == 0 && strncmp(out, "app: started\n", 13) == 0 && strstr(out, "supervisor> \n"),
                      "exit %d: %s", r, out);
        ck_assert_str_eq(service_state_of(&d, "app", out, sizeof out), "RUNNING");
        daemon_cleanup(&d);
}
END_TEST

/* Output and exit status of each step, compared whole. */
#define EXPECT(expected_status, expected_out, ...)                                                               \
        do {                                                                                                    \
                int r_ = ctl(&d, out, sizeof out, __VA_ARGS__);                                                 \
                ck_assert_msg(r_ == (expected_status) && strcmp(out, expected_out) == 0,                        \
                              "%s: exit %d, output '%s' (expected %d, '%s')", #__VA_ARGS__, r_, out,           \
                              expected_status, expected_out);                                                   \
        } while (0)

/* The commands Ansible's community.general.supervisorctl runs for present, started,
 * restarted, signalled, stopped and absent, with the lines it looks for, and the rest of
 * supervisord's vocabulary for the config: reread, update, reload. */
START_TEST(test_supervisord_commands_and_their_lines) {
        struct daemon d;
        char out[8192];
        start_app(&d);
        EXPECT(0, "No config updates to processes\n", "reread");
        daemon_write_config(&d, "service app {\n command = \"sleep 1001\"\n start-secs = 0\n}\n"
                                "service web {\n command = \"sleep 1000\"\n start-secs = 0\n autostart = false\n}\n");
        EXPECT(0, "app: changed\nweb: available\n", "reread");
        ck_assert_str_eq(service_state_of(&d, "web", out, sizeof out), "");  /* reread changed nothing */
        EXPECT(0, "web: added process group\n", "add web");
        EXPECT(0, "ERROR: process group already active\n", "add web");
        EXPECT(1, "ERROR: no such process/group: nosuch\n", "add nosuch");
        EXPECT(0, "web: started\n", "start web");
        EXPECT(0, "web: ERROR (already started)\n", "start web");
        pid_t before = service_pid_of(&d, "web");
        EXPECT(0, "web: stopped\nweb: started\n", "restart web");
        ck_assert(service_pid_of(&d, "web") != before);
        EXPECT(0, "web: signalled\n", "signal HUP web");
        EXPECT(1, "ERROR: process/group still running: web\n", "remove web");
        EXPECT(0, "web: stopped\n", "stop web");
        EXPECT(0, "web: ERROR (not running)\n", "stop web");
        EXPECT(0, "web: removed process group\n", "remove web");
        ck_assert_str_eq(service_state_of(&d, "web", out, sizeof out), "");
        pid_t app = service_pid_of(&d, "app");
        EXPECT(0, "app: stopped\napp: updated process group\nweb: added process group\n", "update");
        ASSERT_STATE_WITHIN(&d, "app", "RUNNING", 5000);
        ck_assert(service_pid_of(&d, "app") != app);
        /* supervisord's reload: everything stops and starts again, the config re-read. */
        app = service_pid_of(&d, "app");
        EXPECT(0, "Restarted supervisord\n", "reload");
        ck_assert(wait_until_pid_changes(&d, "app", app, 10000));
        EXPECT(0, "", "update");
        daemon_cleanup(&d);
}
END_TEST

static Suite *ctl_compat_suite(void) {
        Suite *s = suite_create("ctl_compat");
        TCase *tc = tcase_create("command_line");
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_server_url_forms);
        tcase_add_test(tc, test_ini_config_names_the_socket);
        tcase_add_test(tc, test_shell_without_a_command);
        tcase_add_test(tc, test_supervisord_commands_and_their_lines);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(ctl_compat_suite()) ? 1 : 0; }
