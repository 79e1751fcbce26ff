/* supervisorctl.c — the control client: turns a command line into one protocol request,
 * prints the answer for humans or as JSON, and exits with the documented status. */
#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctl_xmlrpc.h"
#include "printable.h"
#include "names.h"
#include "protocol.h"
#include "util.h"

static bool json;
/* -w SECONDS: how long start, stop, restart and signal wait for their answer (0: as long as
 * supervisord takes, as supervisorctl's), and the deadline it makes for this command. */
static long wait_seconds;
static long long wait_deadline_ms;

static long long monotonic_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
/* tail: service output goes to a terminal, filtered (printable.h); unset with --raw, or
 * when stdout is a pipe or a file, which get the bytes exactly. */
static bool filter_output;
static struct printable output_filter;

static void usage(FILE *out) {
        fprintf(out,
                "usage: supervisorctl [-c FILE] [-s URL] [-u USER] [-p PASSWORD] [-i] [-r FILE] [-w SECONDS] [--json]\n"
                "                     [COMMAND [ARGS]]\n"
                "       supervisorctl -h | --help | -v | --version\n"
                "  -c, --configuration FILE   the config that names the socket (" CONFIG_DEFAULT_PATH ")\n"
                "  -s, --serverurl URL        the socket: /PATH or unix:///PATH\n"
                "  -u, --username, -p, --password  accepted; the socket's permissions decide who may connect\n"
                "  -i, --interactive          the shell after the command; without a command it is the default\n"
                "  -r, --history-file FILE    the shell's history\n"
                "  -w, --wait SECONDS         start, stop, restart, signal: wait at most this long for the answer\n"
                "commands:\n"
                "  status [NAME...]            show processes (exit 3 if one is not RUNNING)\n"
                "  start NAME...|all           start and wait until running\n"
                "  stop NAME...|all            stop and wait until stopped\n"
                "  restart NAME...|all         stop, then start\n"
                "  signal SIG NAME...|all      send a signal to the main process\n"
                "  pid [NAME]                  supervisord's pid, or the service's\n"
                "  update                      re-read the config and apply the difference\n"
                "  reread                      show that difference, changing nothing\n"
                "  add NAME... / remove NAME... a group of the config into, or out of, the table\n"
                "  reload                      supervisord's: stop everything, re-read the config, start anew\n"
                "  tail [-f] [-N | -n N] [--raw] NAME [stdout|stderr]\n"
                "                              the last N bytes of its log (1600), -n: the last N lines;\n"
                "                              -f: then follow it; on a terminal control characters\n"
                "                              show as '?' unless --raw\n"
                "  maintail [-f] [-N]          the last N bytes of supervisord's log (1600); -f: follow it\n"
                "  fg NAME                     follow its output, send it the lines typed (stdin = pipe);\n"
                "                              Ctrl-C leaves it running\n"
                "  shutdown                    stop everything and exit supervisord\n"
                "  version                     print both versions\n"
                "  help [COMMAND], quit, exit\n");
}

static void json_string_to(FILE *out, const char *s) {
        fputc('"', out);
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        fprintf(out, "\\%c", c);
                else if (c < 0x20)
                        fprintf(out, "\\u%04x", c);
                else
                        fputc(c, out);
        }
        fputc('"', out);
}

static void json_string(const char *s) {
        json_string_to(stdout, s);
}

static void json_string_or_null(const char *s) {
        if (!s || strcmp(s, "-") == 0)
                fputs("null", stdout);
        else
                json_string(s);
}

static int connect_to(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path) {
                errno = ENAMETOOLONG;
                return -1;
        }
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -1;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int e = errno;
                close(fd);
                errno = e;
                return -1;
        }
        return fd;
}

static int send_all(int fd, const char *buf, size_t len) {
        while (len > 0) {
                ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

/* A status line for humans, held until every one is in: the name column is as wide as
 * the longest name shown. */
struct status_row {
        char *group;  /* owned: the process's group, for the order of supervisord's status */
        char *name;  /* owned */
        char *rest;  /* owned: state and description */
};

/* supervisorctl's layout: the name column as wide as the longest name shown, at least
 * 30, and 3 more; the state's 10. */
#define STATUS_NAME_WIDTH 30

/* What the answer's records add up to. */
struct outcome {
        bool any_not_running;
        unsigned records;
        bool array_open;  /* --json: the "[" of a list is out */
        struct status_row *rows;  /* owned, with n_rows entries */
        bool sort_rows;  /* status of everything: by group, then name, as supervisord's */
        size_t n_rows;
        /* update, reread: one JSON array body per kind, and the notice */
        char *added, *changed, *removed, *notice;
        size_t n_added, n_changed, n_removed;
        char **reread;  /* reread for humans: its lines, owned, n_reread of them */
        size_t n_reread;
        unsigned failures;  /* RESULTs that count as failed */
        char **avail;  /* avail: "NAME\1GROUP\1LINE", owned, n_avail of them, sorted at the end */
        size_t n_avail;
        int python_status;  /* start, stop, restart, signal, clear: supervisorctl's exit status */
        bool unknown_name;  /* the request was refused for a name supervisord does not know */
        bool pid_zero;      /* pid NAME: it has no process */
        char *const *named;  /* the names as given, n_named of them */
        int n_named;
};

/* supervisorctl 4.2.5's exit status (LSB's "program is not running") for a process that
 * failed to start or was not running: 7, as EXIT_UNREACHABLE, from which the words tell it. */
#define EXIT_NOT_RUNNING_PROGRAM 7

/* Append "NAME" to a JSON array body, or for humans the lines of supervisord's update
 * (KIND "added", "changed", "removed") or reread. */
static void print_reload_record(enum verb verb, const char *kind, const char *name, char **json_body, size_t *n,
                                struct outcome *o) {
        if (!json) {
                (*n)++;
                if (verb == VERB_REREAD) {
                        const char *word = strcmp(kind, "added") == 0     ? "available"
                                           : strcmp(kind, "changed") == 0 ? "changed"
                                                                          : "disappeared";
                        char **grown = realloc(o->reread, (o->n_reread + 1) * sizeof *grown), *line;
                        if (grown && asprintf(&line, "%s: %s", name, word) >= 0) {
                                o->reread = grown;
                                o->reread[o->n_reread++] = line;
                        } else if (grown)
                                o->reread = grown;
                        return;
                }
                /* update: supervisord's order, removed groups, then changed, then added,
                 * each kind in the daemon's order: a rank and a sequence number sort them. */
                int rank = strcmp(kind, "removed") == 0 ? 0 : strcmp(kind, "changed") == 0 ? 1 : 2;
                char **grown = realloc(o->reread, (o->n_reread + 1) * sizeof *grown), *line;
                if (!grown)
                        return;
                o->reread = grown;
                if (rank == 2 ? asprintf(&line, "%d%06zu%s: added process group", rank, o->n_reread, name) < 0
                              : asprintf(&line, "%d%06zu%s: stopped\n%s: %s process group", rank, o->n_reread, name, name,
                                         rank == 1 ? "updated" : "removed") < 0)
                        return;
                o->reread[o->n_reread++] = line;
                return;
        }
        size_t old = *json_body ? strlen(*json_body) : 0;
        char *grown = realloc(*json_body, old + strlen(name) * 6 + 4);
        if (!grown)
                return;
        char *p = grown + old;
        if (*n)
                *p++ = ',';
        *p++ = '"';
        for (const char *q = name; *q; q++)  /* service names need no escaping beyond this */
                if (*q != '"' && *q != '\\')
                        *p++ = *q;
        *p++ = '"';
        *p = '\0';
        *json_body = grown;
        (*n)++;
}

/* `tail [-f] [-N] [-n N] NAME [stdout|stderr]` and `maintail [-f] [-N]` (ARGV[0] the
 * command) as protocol requests in OUT, NULL-terminated, their numbers written into
 * NUMBER: supervisorctl's -N, the last N bytes (1600, or 1024 with -f, as supervisord's
 * stream sends), is `readproclog NAME STREAM -N [follow]` or `readlog -N [follow]`; our
 * -n N, the last N lines, is `tail NAME N [follow]`.  The new argument count, or -1
 * after a message. */
static int tail_arguments(int argc, char *argv[], char *out[8], char *number, size_t number_size) {
        static const struct option options[] = {
                { "follow", no_argument, NULL, 'f' },
                { "lines", required_argument, NULL, 'n' },
                { "raw", no_argument, NULL, 'r' },
                { NULL, 0, NULL, 0 },
        };
        bool maintail = strcmp(argv[0], "maintail") == 0;
        bool follow = false, raw = false, by_lines = false;
        long count = 10, bytes = -1;
        int opt, k = 0;

        /* supervisorctl's -100, which getopt would read as -1 -0 -0: taken out first. */
        char *rest[64];
        int n_rest = 0;
        for (int i = 0; i < argc && n_rest < (int)ELEMENTSOF(rest) - 1; i++) {
                const char *a = argv[i];
                if (i > 0 && a[0] == '-' && a[1] >= '0' && a[1] <= '9' && a[strspn(a + 1, "0123456789") + 1] == '\0') {
                        if (parse_long(a + 1, 0, PROTOCOL_MAX_LOG_OFFSET, &bytes) < 0) {
                                fprintf(stderr, "supervisorctl: %s: %s is not a number of bytes from 0 to %ld\n", argv[0],
                                        a, PROTOCOL_MAX_LOG_OFFSET);
                                return -1;
                        }
                        continue;
                }
                rest[n_rest++] = argv[i];
        }
        rest[n_rest] = NULL;
        optind = 0;  /* GNU getopt: start over on this argument vector */
        while ((opt = getopt_long(n_rest, rest, maintail ? "f" : "fn:", options, NULL)) != -1) {
                switch (opt) {
                case 'f':
                        follow = true;
                        break;
                case 'r':
                        raw = true;
                        break;
                case 'n':
                        if (parse_long(optarg, 0, PROTOCOL_MAX_TAIL_LINES, &count) < 0) {
                                fprintf(stderr, "supervisorctl: tail: -n '%s' is not a number of lines from 0 to %d\n",
                                        optarg, PROTOCOL_MAX_TAIL_LINES);
                                return -1;
                        }
                        by_lines = true;
                        break;
                default:
                        return -1;
                }
        }
        int names = n_rest - optind;
        const char *stream = names == 2 ? rest[optind + 1] : NULL;
        if (maintail ? names != 0 : names < 1 || names > 2) {
                fprintf(stderr, maintail ? "supervisorctl: maintail takes no process name\n"
                                         : "supervisorctl: tail takes exactly one process name\n");
                return -1;
        }
        if (stream && strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) {
                fprintf(stderr, "supervisorctl: tail: bad channel '%s': stdout or stderr\n", stream);
                return -1;
        }
        if (by_lines && (bytes >= 0 || stream)) {
                fprintf(stderr, "supervisorctl: tail: -n N (lines of the process's log) takes neither -N nor a channel\n");
                return -1;
        }
        /* A service's output may hold escape sequences that set the title, write the
         * clipboard or answer back as typed input: a terminal gets none of them. */
        filter_output = !raw && isatty(STDOUT_FILENO);
        if (filter_output)
                printable_init(&output_filter, true, '?');
        if (by_lines) {
                snprintf(number, number_size, "%ld", count);
                out[k++] = "tail";
                out[k++] = rest[optind];
                out[k++] = number;
        } else {
                snprintf(number, number_size, "-%ld", bytes >= 0 ? bytes : follow ? 1024 : 1600);
                out[k++] = maintail ? "readlog" : "readproclog";
                if (!maintail) {
                        out[k++] = rest[optind];
                        out[k++] = stream ? (char *)stream : "stdout";
                }
                out[k++] = number;
        }
        if (follow)
                out[k++] = "follow";
        out[k] = NULL;
        return k;
}

/* A DATA record's payload, SIZE raw bytes, copied to stdout: as they are, or through the
 * terminal filter (whose state carries over from one record to the next). */
static int copy_data(FILE *in, const char *size_text) {
        char buf[65536], filtered[sizeof buf + 3];
        long size;
        if (parse_long(size_text, 0, LONG_MAX, &size) < 0)
                return -EINVAL;
        while (size > 0) {
                size_t n = fread(buf, 1, size < (long)sizeof buf ? (size_t)size : sizeof buf, in);
                if (n == 0)
                        return -EIO;
                size -= (long)n;
                const char *out = buf;
                if (filter_output) {
                        out = filtered;
                        n = printable_filter(&output_filter, buf, n, filtered);
                }
                if (fwrite(out, 1, n, stdout) != n)
                        return -EIO;
        }
        fflush(stdout);  /* tail -f: show it as it comes */
        return 0;
}

/* --json: a list's "[" goes out with its first element, or at the end of a list that
 * succeeded empty: a request refused as a whole prints its error and nothing else. */
static void open_array(struct outcome *o) {
        if (json && !o->array_open) {
                putchar('[');
                o->array_open = true;
        }
}

static void print_status(char **f, unsigned n, struct outcome *o) {
        /* STATUS name state pid uptime last_exit restarts message [heartbeat_rtt_usec
         * [stopped_at [memory_bytes cpu_usec]]] */
        if (n < 8)
                return;
        const char *state = f[2], *last_exit = f[5], *message = f[7];
        /* From a supervisord that sends the group (field 12), supervisord's GROUP:NAME
         * where the group is not the process's own (names.h). */
        char name[NAME_SPEC_MAX];
        const struct process_name pn = { .group = n >= 13 ? f[12] : f[1], .name = f[1] };
        name_format(&pn, name, sizeof name);
        long pid = atol(f[3]), uptime = atol(f[4]), restarts = atol(f[6]);
        /* An older supervisord sends no heartbeat field: same as none measured. */
        bool has_rtt = n >= 9 && f[8][0] >= '0' && f[8][0] <= '9';
        double rtt_ms = has_rtt ? (double)strtoull(f[8], NULL, 10) / 1000.0 : 0;
        /* Nor, older still, when it stopped. */
        long long stopped_at = n >= 10 && f[9][0] >= '0' && f[9][0] <= '9' ? atoll(f[9]) : 0;
        /* Only in the cgroup mode, and from a supervisord that sends them. */
        const char *memory = n >= 12 && f[10][0] >= '0' && f[10][0] <= '9' ? f[10] : NULL;
        const char *cpu = n >= 12 && f[11][0] >= '0' && f[11][0] <= '9' ? f[11] : NULL;
        if (strcmp(state, "RUNNING") != 0)
                o->any_not_running = true;
        if (json) {
                open_array(o);
                printf("%s{\"name\":", o->records ? "," : "");
                json_string(name);
                printf(",\"state\":\"%s\",\"pid\":", state);
                if (pid > 0)
                        printf("%ld", pid);
                else
                        fputs("null", stdout);
                printf(",\"uptime\":%ld,\"exit_status\":", uptime);
                if (strncmp(last_exit, "exit ", 5) == 0)
                        printf("%d", atoi(last_exit + 5));
                else
                        fputs("null", stdout);
                fputs(",\"signal\":", stdout);
                json_string_or_null(strncmp(last_exit, "signal ", 7) == 0 ? last_exit + 7 : NULL);
                printf(",\"restarts\":%ld,\"message\":", restarts);
                json_string_or_null(message);
                fputs(",\"heartbeat_rtt_ms\":", stdout);
                if (has_rtt)
                        printf("%.3f", rtt_ms);
                else
                        fputs("null", stdout);
                fputs(",\"stopped_at\":", stdout);
                if (stopped_at > 0)
                        printf("%lld", stopped_at);
                else
                        fputs("null", stdout);
                printf(",\"memory_bytes\":%s,\"cpu_usec\":%s,\"group\":", memory ? memory : "null", cpu ? cpu : "null");
                json_string(pn.group);
                putchar('}');
                o->records++;
                return;
        }
        char description[512];
        if (pid > 0) {
                char up[32];
                format_uptime(up, sizeof up, (uint64_t)uptime);
                char heartbeat[48] = "";
                if (has_rtt)
                        snprintf(heartbeat, sizeof heartbeat, ", heartbeat %.*fms", rtt_ms < 1 ? 2 : 1, rtt_ms);
                /* A live process's message: a notify service's STATUS=, or why it is stopping. */
                bool has_message = strcmp(message, "-") != 0;
                snprintf(description, sizeof description, "pid %ld, uptime %s%s%s%s", pid, up, heartbeat,
                         has_message ? "; " : "", has_message ? message : "");
        } else if (strcmp(message, "-") != 0)
                snprintf(description, sizeof description, "%s", message);
        else if (stopped_at > 0) {
                /* Stopped on request: when, as supervisord says it ("Dec 07 01:02 PM"), not
                 * the stop signal it died of, which would read like a crash.  A SIGKILL
                 * after the stop-timeout is worth saying. */
                time_t when = (time_t)stopped_at;
                struct tm tm;
                char at[64] = "?";
                if (localtime_r(&when, &tm))
                        strftime(at, sizeof at, "%b %d %I:%M %p", &tm);
                snprintf(description, sizeof description, "%s%s", at,
                         strcmp(last_exit, "signal KILL") == 0 ? " (killed by SIGKILL)" : "");
        } else if (strncmp(last_exit, "exit ", 5) == 0)
                snprintf(description, sizeof description, "exit status %s", last_exit + 5);
        else if (strncmp(last_exit, "signal ", 7) == 0)
                snprintf(description, sizeof description, "killed by SIG%s", last_exit + 7);
        else
                snprintf(description, sizeof description, "Not started");
        o->records++;
        struct status_row *rows = realloc(o->rows, (o->n_rows + 1) * sizeof *rows);
        if (rows) {
                o->rows = rows;
                char *copy = strdup(name), *group = strdup(pn.group), *rest;
                if (copy && group && asprintf(&rest, "%-10s%s", state, description) >= 0) {
                        rows[o->n_rows++] = (struct status_row){ .group = group, .name = copy, .rest = rest };
                        return;
                }
                free(copy);
                free(group);
        }
        printf("%-*s%-10s%s\n", STATUS_NAME_WIDTH + 3, name, state, description);  /* no memory: as it comes */
}

static int compare_status_rows(const void *a, const void *b) {
        const struct status_row *x = a, *y = b;
        int r = strcmp(x->group, y->group);
        return r ? r : strcmp(x->name, y->name);
}

static void print_status_rows(struct outcome *o) {
        int width = STATUS_NAME_WIDTH;
        if (o->sort_rows && o->n_rows > 0)
                qsort(o->rows, o->n_rows, sizeof *o->rows, compare_status_rows);
        for (size_t i = 0; i < o->n_rows; i++)
                if (strlen(o->rows[i].name) > (size_t)width)
                        width = (int)strlen(o->rows[i].name);
        for (size_t i = 0; i < o->n_rows; i++) {
                printf("%-*s%s\n", width + 3, o->rows[i].name, o->rows[i].rest);
                free(o->rows[i].group);
                free(o->rows[i].name);
                free(o->rows[i].rest);
        }
        free(o->rows);
        o->rows = NULL;
        o->n_rows = 0;
}

/* A RESULT as supervisord 4.2.5's supervisorctl words it, from the engine's code in the
 * fifth field; a start that failed keeps our reason ("exec ...: No such file or directory")
 * where supervisord says only "spawn error", since that is what its reader needs (a supervisord without it gets "NAME: MESSAGE" or "NAME: ERROR (MESSAGE)"). */
static void print_result_line(FILE *out, enum verb verb, const char *name, bool ok, const char *message,
                              const char *code) {
        static const struct {
                const char *code, *text;
        } faults[] = {
                { "no-such-name", "no such process" },
                { "not-running", "not running" },
        };
        if (verb == VERB_ADD || verb == VERB_REMOVE) {
                if (strcmp(code, "added") == 0)
                        fprintf(out, "%s: added process group\n", name);
                else if (strcmp(code, "removed") == 0)
                        fprintf(out, "%s: removed process group\n", name);
                else if (strcmp(code, "already-added") == 0)
                        fprintf(out, "%s\n", "ERROR: process group already active");
                else if (strcmp(code, "still-running") == 0)
                        fprintf(out, "ERROR: process/group still running: %s\n", name);
                else if (strcmp(code, "no-such-name") == 0)
                        fprintf(out, "ERROR: no such process/group: %s\n", name);
                else if (!ok)
                        fprintf(out, "%s: ERROR (%s)\n", name, message);
                /* else a process the add started: supervisord's add does not say */
                return;
        }
        if (strcmp(code, "ok") == 0) {
                if (verb == VERB_RESTART)
                        fprintf(out, "%s: stopped\n%s: started\n", name, name);
                else
                        fprintf(out, "%s: %s\n", name, message);
                return;
        }
        if (strcmp(code, "already") == 0) {
                fprintf(out, "%s: ERROR (%s)\n", name, verb == VERB_START ? "already started" : "not running");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(faults); i++)
                if (strcmp(code, faults[i].code) == 0) {
                        fprintf(out, "%s: ERROR (%s)\n", name, faults[i].text);
                        return;
                }
        if (ok)
                fprintf(out, "%s: %s\n", name, message);
        else
                fprintf(out, "%s: ERROR (%s)\n", name, message);
}

static void print_result(enum verb verb, char **f, unsigned n, struct outcome *o) {
        /* RESULT name ok|error message [code] */
        if (n < 4)
                return;
        bool ok = strcmp(f[2], "ok") == 0;
        const char *code = n >= 5 ? f[4] : "";
        if (!ok && !(verb == VERB_ADD && strcmp(code, "already-added") == 0))
                o->failures++;  /* supervisord's add takes an active group as done */
        /* A process that needed nothing and was not named itself (all, GROUP:*) goes
         * unmentioned, as supervisord's startAllProcesses and stopProcessGroup leave it out. */
        bool named = false;
        for (int i = 0; i < o->n_named; i++)
                named = named || strcmp(o->named[i], f[1]) == 0;
        if (!json && !named && strcmp(code, "already") == 0 && (verb == VERB_START || verb == VERB_STOP)) {
                o->records++;
                return;
        }
        if (json) {
                open_array(o);
                printf("%s{\"name\":", o->records ? "," : "");
                json_string(f[1]);
                printf(",\"ok\":%s,\"message\":", ok ? "true" : "false");
                json_string_or_null(f[3]);
                putchar('}');
        } else
                print_result_line(stdout, verb, f[1], ok, f[3], code);
        /* supervisorctl's exit status, the last result's that sets one: a process that is
         * not running where it should be (spawn error, abnormal termination, not running) is
         * 7, any other failure 1; what needed nothing (start: already started, stop: not
         * running) is none. */
        bool nothing_to_do = strcmp(code, "already") == 0 && (verb == VERB_START || verb == VERB_STOP);
        if (!ok && !nothing_to_do)
                o->python_status = strcmp(code, "spawn-error") == 0 || strcmp(code, "abnormal-termination") == 0
                                                   || strcmp(code, "not-running") == 0
                                           ? EXIT_NOT_RUNNING_PROGRAM
                                           : EXIT_FAILED;
        o->records++;
}

/* avail: a CONFIG record (protocol.h) as supervisord's supervisorctl prints it, held
 * until every one is in: sorted by process name, as its getAllConfigInfo sorts them. */
static void print_config(char **f, unsigned n, struct outcome *o) {
        if (n < 7)
                return;
        char name[NAME_SPEC_MAX], priority[48], *line, *entry;
        const struct process_name pn = { .group = f[2], .name = f[1] };
        name_format(&pn, name, sizeof name);
        bool in_use = strcmp(f[3], "1") == 0, autostart = strcmp(f[4], "1") == 0;
        snprintf(priority, sizeof priority, "%s:%s", f[5], f[6]);
        if (json) {
                char *quoted = NULL;
                size_t size = 0;
                FILE *mem = open_memstream(&quoted, &size);
                if (!mem)
                        return;
                json_string_to(mem, name);
                if (fclose(mem) != 0) {
                        free(quoted);
                        return;
                }
                int r = asprintf(&line, "{\"name\":%s,\"group\":\"%s\",\"in_use\":%s,\"autostart\":%s,"
                                        "\"group_priority\":%s,\"priority\":%s}",
                                 quoted, f[2], in_use ? "true" : "false", autostart ? "true" : "false", f[5], f[6]);
                free(quoted);
                if (r < 0)
                        return;
        } else if (asprintf(&line, "%-32s %-9s %-9s %s", name, in_use ? "in use" : "avail", autostart ? "auto" : "manual",
                            priority) < 0)
                return;
        char **grown = realloc(o->avail, (o->n_avail + 1) * sizeof *grown);
        if (!grown || asprintf(&entry, "%s\1%s\1%s", f[1], f[2], line) < 0) {
                if (grown)
                        o->avail = grown;
                free(line);
                return;
        }
        free(line);
        o->avail = grown;
        o->avail[o->n_avail++] = entry;
}

static int compare_strings(const void *a, const void *b);

static void print_config_rows(struct outcome *o) {
        if (o->n_avail > 0)
                qsort(o->avail, o->n_avail, sizeof *o->avail, compare_strings);
        for (size_t i = 0; i < o->n_avail; i++) {
                const char *line = strrchr(o->avail[i], '\1') + 1;
                if (json)
                        printf("%s%s", i ? "," : "", line);
                else
                        puts(line);
                free(o->avail[i]);
        }
        free(o->avail);
        o->avail = NULL;
        o->n_avail = 0;
}

/* reread, for humans: "NAME: available|changed|disappeared" sorted by name, as
 * supervisord's; the lines are held until every one is in. */
static int compare_strings(const void *a, const void *b) {
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void print_reread_rows(enum verb verb, struct outcome *o) {
        if (o->n_reread > 0)  /* qsort wants an array, even of none */
                qsort(o->reread, o->n_reread, sizeof *o->reread, compare_strings);
        for (size_t i = 0; i < o->n_reread; i++) {
                puts(o->reread[i] + (verb == VERB_UPDATE ? 7 : 0));  /* update: past rank and number */
                free(o->reread[i]);
        }
        if (o->n_reread == 0 && verb == VERB_REREAD)
                puts("No config updates to processes");
        free(o->reread);
        o->reread = NULL;
        o->n_reread = 0;
}

/* The daemon to talk to: a unix socket path, and whether someone named it (-s, a config)
 * rather than the per-user default. */
struct server {
        char *path;  /* owned */
        bool named;
        /* XML-RPC (ctl_xmlrpc.h): the only way to an http:// URL (http set); on a unix
         * socket, taken when the socket answers as an HTTP server (Python supervisord's). */
        struct ctl_xmlrpc_server rpc;
        bool http;
};

static int run_command(const struct server *srv, int argc, char *argv[]);
static void print_command_help(const char *name);

/* The request again for the names supervisord knows, while it runs: no third time. */
static bool retrying;
/* A restart as its stop and its start, while they run. */
static bool retrying_restart;

/* The processes supervisord at PATH has, as (group, name) pairs into *RET_TEXT (owned),
 * in a new array (owned); -1 if it cannot say. */
static ssize_t fetch_process_names(const struct server *srv, const char *path, bool via_xmlrpc,
                                   struct process_name **ret, char **ret_text) {
        FILE *in = NULL;
        /* the same question over XML-RPC, answered in our protocol's records: the stream
         * reads REQ as it goes, so both live as long as it */
        char status_line[] = "status";
        struct request req;
        if (via_xmlrpc) {
                const char *error = NULL;
                if (protocol_parse_request(status_line, &req, &error) < 0 || !(in = ctl_xmlrpc_open(&srv->rpc, &req)))
                        return -1;
        } else {
                int fd = connect_to(path);
                if (fd < 0 || send_all(fd, "status\n", 7) < 0) {
                        if (fd >= 0)
                                close(fd);
                        return -1;
                }
                if (!(in = fdopen(fd, "r"))) {
                        close(fd);
                        return -1;
                }
        }
        /* First every answer line, kept whole; then the pairs, pointing into them. */
        char *text = NULL, *line = NULL;
        size_t text_size = 0, size = 0, n = 0;
        FILE *all = open_memstream(&text, &text_size);
        ssize_t len;
        bool ended = false;
        while (all && (len = getline(&line, &size, in)) > 0) {
                if (strncmp(line, RECORD_STATUS "\t", sizeof RECORD_STATUS) == 0) {
                        fwrite(line, 1, (size_t)len, all);
                        n++;
                } else if (strncmp(line, FINAL_OK, strlen(FINAL_OK)) == 0) {
                        ended = true;
                        break;
                }
        }
        free(line);
        fclose(in);
        if (!all || fclose(all) != 0 || !ended) {
                free(text);
                return -1;
        }
        struct process_name *list = calloc(n ? n : 1, sizeof *list);
        size_t k = 0;
        for (char *p = text, *end; list && k < n && (end = strchr(p, '\n')); p = end + 1) {
                *end = '\0';
                char *fields[16];
                unsigned nf = protocol_split_fields(p, fields, ELEMENTSOF(fields));
                if (nf < 2)
                        continue;
                list[k++] = (struct process_name){ .group = nf >= 13 ? fields[12] : fields[1], .name = fields[1] };
        }
        if (!list) {
                free(text);
                return -1;
        }
        *ret = list;
        *ret_text = text;
        return (ssize_t)k;
}

/* Without --json, a request refused for a name supervisord does not know is answered as
 * supervisorctl 4.2.5 answers it: each unknown name's error, then the request carried out
 * for the names it knows (supervisorctl goes name by name and so mixes the two in the
 * order given; here the errors come first). */
static int unknown_names(const struct server *srv, const char *path, bool via_xmlrpc, enum verb verb, int argc,
                         char *argv[]) {
        struct process_name *known = NULL;
        char *text = NULL;
        ssize_t n_known = fetch_process_names(srv, path, via_xmlrpc, &known, &text);
        if (n_known < 0) {
                fprintf(stderr, "supervisorctl: lost the connection to supervisord at %s\n", path);
                return EXIT_UNREACHABLE;
        }
        int first = verb == VERB_SIGNAL ? 2 : 1, n_rest = 0, status = EXIT_OK;
        char **rest = calloc((size_t)argc + 1, sizeof *rest);
        bool *matched = calloc((size_t)n_known + 1, sizeof *matched);
        if (!rest || !matched) {
                free(rest);
                free(matched);
                free(known);
                free(text);
                return EXIT_FAILED;
        }
        for (int i = 0; i < first && i < argc; i++)
                rest[n_rest++] = argv[i];
        for (int i = first; i < argc; i++) {
                if (strcmp(argv[i], "all") == 0 || names_match(argv[i], known, (size_t)n_known, matched) > 0) {
                        rest[n_rest++] = argv[i];
                        continue;
                }
                const char *colon = strchr(argv[i], ':');
                bool group = colon && (colon[1] == '\0' || strcmp(colon + 1, "*") == 0);
                if (verb == VERB_PID) {
                        printf("No such process %s\n", argv[i]);
                        status = EXIT_FAILED;
                        continue;
                }
                if (group)
                        printf("%.*s: ERROR (no such group)\n", (int)(colon - argv[i]), argv[i]);
                else
                        printf("%s: ERROR (no such process)\n", argv[i]);
                /* Ours beside supervisorctl's line: the known names close to it. */
                char close[512];
                if (names_suggest(argv[i], known, (size_t)n_known, 5, close, sizeof close) > 0) {
                        fflush(stdout);
                        fprintf(stderr, "supervisorctl: %s: did you mean %s?\n", argv[i], close);
                }
                status = verb == VERB_STATUS ? EXIT_NO_SUCH_SERVICE : group && verb == VERB_START ? EXIT_USAGE : EXIT_FAILED;
        }
        fflush(stdout);
        if (n_rest > first) {
                retrying = true;
                int r = run_command(srv, n_rest, rest);
                retrying = false;
                if (verb == VERB_STATUS ? r == EXIT_NOT_RUNNING : r != EXIT_OK)
                        status = r;
        }
        free(rest);
        free(matched);
        free(known);
        free(text);
        return status;
}

/* One command, ARGV[0] its name, against the server: the request sent, the answer printed;
 * returns the exit status. */
static int run_command(const struct server *srv, int argc, char *argv[]) {
        filter_output = false;
        /* tail's and maintail's options are ours to parse (tail_arguments). */
        char *tail_argv[8], tail_lines[24];
        if (strcmp(argv[0], "tail") == 0 || strcmp(argv[0], "maintail") == 0) {
                int tail_argc = tail_arguments(argc, argv, tail_argv, tail_lines, sizeof tail_lines);
                if (tail_argc < 0) {
                        usage(stderr);
                        return EXIT_USAGE;
                }
                argv = tail_argv;
                argc = tail_argc;
        }

        /* Without --json, supervisorctl 4.2.5's answers to a command given without what it
         * needs, or with what it takes none of: its words, then the command's help. */
        enum verb asked;
        if (!json && verb_from_string(argv[0], &asked) == 0) {
                bool needs_names = asked == VERB_START || asked == VERB_STOP || asked == VERB_RESTART
                                   || asked == VERB_CLEAR;
                bool takes_none = asked == VERB_AVAIL || asked == VERB_REREAD || asked == VERB_VERSION
                                  || asked == VERB_SHUTDOWN || asked == VERB_RELOAD;
                if (needs_names && argc == 1) {
                        printf("Error: %s requires a process name\n", argv[0]);
                        print_command_help(argv[0]);
                        return asked == VERB_START ? EXIT_USAGE : EXIT_FAILED;
                }
                if (asked == VERB_SIGNAL && argc < 3) {
                        puts("Error: signal requires a signal name and a process name");
                        print_command_help(argv[0]);
                        return EXIT_FAILED;
                }
                if (asked == VERB_SIGNAL && signal_from_name(argv[1]) < 0) {
                        for (int i = 2; i < argc; i++)
                                printf("%s: ERROR (bad signal name)\n", argv[i]);
                        return EXIT_FAILED;
                }
                if (takes_none && argc > 1) {
                        printf("Error: %s accepts no arguments\n", argv[0]);
                        print_command_help(argv[0]);
                        return EXIT_FAILED;
                }
        }

        /* supervisorctl's restart is a stop of them all, then a start: its lines in that
         * order, and its exit status the last one set. */
        if (!json && asked == VERB_RESTART && argc > 1 && !retrying_restart) {
                char stop_word[] = "stop", start_word[] = "start", *command = argv[0];
                retrying_restart = true;
                argv[0] = stop_word;
                int stopped = run_command(srv, argc, argv);
                argv[0] = start_word;
                int started = run_command(srv, argc, argv);
                argv[0] = command;
                retrying_restart = false;
                return started != EXIT_OK ? started : stopped;
        }

        /* The request line, checked here first so usage errors never need the daemon. */
        char request[PROTOCOL_MAX_REQUEST + 4];
        size_t len = 0;
        for (int i = 0; i < argc; i++) {
                int n = snprintf(request + len, sizeof request - len, "%s%s", i > 0 ? " " : "", argv[i]);
                if (n < 0 || (size_t)n >= sizeof request - len - 1) {
                        fprintf(stderr, "supervisorctl: command line too long\n");
                        return EXIT_USAGE;
                }
                len += (size_t)n;
        }
        char copy[sizeof request];
        memcpy(copy, request, len + 1);
        struct request *parsed = malloc(sizeof *parsed);
        const char *error;
        if (!parsed) {
                fprintf(stderr, "supervisorctl: out of memory\n");
                return EXIT_FAILED;
        }
        if (protocol_parse_request(copy, parsed, &error) < 0) {
                free(parsed);
                fprintf(stderr, "supervisorctl: %s\n", error);
                usage(stderr);
                return EXIT_USAGE;
        }
        enum verb verb = parsed->verb;
        /* CR-LF and an empty line: our daemon reads the request line and no more, an HTTP
         * server (Python supervisord's socket) takes it for a request it refuses. */
        memcpy(request + len, "\r\n\r\n", 4);
        len += 4;

        char *path = strdup(srv->http ? srv->rpc.url : srv->path);
        bool socket_named = srv->named;
        FILE *in = NULL;
        if (!path) {
                free(parsed);
                fprintf(stderr, "supervisorctl: out of memory\n");
                return EXIT_FAILED;
        }
        /* -w: the answer of what waits for processes comes by the deadline or not at all
         * (over our protocol: XML-RPC calls are one at a time and each answers). */
        bool bounded = false, via_xmlrpc = false;
        if (srv->http)
                goto xmlrpc;
        int fd = connect_to(path);
        /* Not root and no socket named: the per-user default, else the system-wide
         * daemon, which a member of its socket-group may use. */
        if (fd < 0 && errno == ENOENT && !socket_named && strcmp(path, CONFIG_DEFAULT_SOCKET) != 0) {
                int fallback = connect_to(CONFIG_DEFAULT_SOCKET);
                char *system_path = fallback >= 0 ? strdup(CONFIG_DEFAULT_SOCKET) : NULL;
                if (system_path) {
                        fd = fallback;
                        free(path);
                        path = system_path;
                } else {
                        if (fallback >= 0)
                                close(fallback);
                        errno = ENOENT;  /* about the first path, the one named below */
                }
        }
        if (fd < 0) {
                int e = errno;
                /* `version` says what it knows without the daemon. */
                if (verb == VERB_VERSION)
                        json ? printf("{\"supervisorctl\":\"%s\",\"supervisord\":null}\n", SUPERVISORD_VERSION)
                             : printf("supervisorctl %s\n", SUPERVISORD_VERSION);
                fflush(stdout);
                fprintf(stderr, "supervisorctl: cannot connect to supervisord at %s: %s\n", path, strerror(e));
                free(path);
                free(parsed);
                return EXIT_UNREACHABLE;
        }
        /* A refusal (too many clients, no descriptor left) may come before the request is
         * taken: the server has closed then, the send fails, and the answer is there to read. */
        if (send_all(fd, request, len) < 0)
                (void)shutdown(fd, SHUT_WR);
        bounded = wait_deadline_ms > 0 && (verb == VERB_START || verb == VERB_STOP || verb == VERB_RESTART
                                          || verb == VERB_SIGNAL);
        if (bounded) {
                long long left = wait_deadline_ms - monotonic_ms();
                if (left < 1)
                        left = 1;
                struct timeval tv = { .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 };
                (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        }

        if (ctl_xmlrpc_answered_http(fd) && srv->rpc.url) {
                close(fd);
        xmlrpc:
                via_xmlrpc = true;
                in = ctl_xmlrpc_open(&srv->rpc, parsed);
        } else
                in = fdopen(fd, "r");
        if (!in) {
                free(path);
                free(parsed);
                return EXIT_FAILED;
        }
        /* Without --json, supervisorctl 4.2.5's words and exit statuses for these. */
        bool python_words = !json && (verb == VERB_START || verb == VERB_STOP || verb == VERB_RESTART
                                      || verb == VERB_SIGNAL || verb == VERB_CLEAR || verb == VERB_STATUS
                                      || verb == VERB_PID);
        struct outcome o = { .sort_rows = verb == VERB_STATUS, .named = argv + 1, .n_named = argc - 1 };
        for (int i = 1; i < argc; i++)  /* names: in the order named, "all" among them or not */
                if (strcmp(argv[i], "all") != 0)
                        o.sort_rows = false;
        bool list = verb == VERB_STATUS || verb == VERB_START || verb == VERB_STOP || verb == VERB_RESTART
                    || verb == VERB_SIGNAL || verb == VERB_ADD || verb == VERB_REMOVE || verb == VERB_AVAIL;
        int status = -1;
        char *line = NULL, *fields[32];
        size_t size = 0;
        ssize_t n;
        bool timed_out = false;
        while (status < 0 && (errno = 0, n = getline(&line, &size, in)) > 0) {
                if (line[n - 1] != '\n')
                        break;  /* cut short */
                line[n - 1] = '\0';
                unsigned nf = protocol_split_fields(line, fields, ELEMENTSOF(fields));
                if (strcmp(fields[0], RECORD_STATUS) == 0)
                        print_status(fields, nf, &o);
                else if (strcmp(fields[0], RECORD_DATA) == 0 && nf >= 2) {
                        if (copy_data(in, fields[1]) < 0)
                                break;  /* cut short: reported as a lost connection */
                } else if (strcmp(fields[0], RECORD_RESULT) == 0)
                        print_result(verb, fields, nf, &o);
                else if (strcmp(fields[0], RECORD_CONFIG) == 0)
                        print_config(fields, nf, &o);
                else if (strcmp(fields[0], RECORD_PID) == 0 && nf >= 2) {
                        json ? printf("{\"pid\":%s}\n", fields[1]) : printf("%s\n", fields[1]);
                        o.pid_zero = argc > 1 && strcmp(fields[1], "0") == 0;
                }
                else if (strcmp(fields[0], RECORD_VERSION) == 0 && nf >= 2) {
                        if (json)
                                printf("{\"supervisorctl\":\"%s\",\"supervisord\":", SUPERVISORD_VERSION);
                        else
                                printf("supervisorctl %s\nsupervisord %s\n", SUPERVISORD_VERSION, fields[1]);
                        if (json) {
                                json_string(fields[1]);
                                puts("}");
                        }
                } else if (strcmp(fields[0], RECORD_ADDED) == 0 && nf >= 2)
                        print_reload_record(verb, "added", fields[1], &o.added, &o.n_added, &o);
                else if (strcmp(fields[0], RECORD_CHANGED) == 0 && nf >= 2)
                        print_reload_record(verb, "changed", fields[1], &o.changed, &o.n_changed, &o);
                else if (strcmp(fields[0], RECORD_REMOVED) == 0 && nf >= 2)
                        print_reload_record(verb, "removed", fields[1], &o.removed, &o.n_removed, &o);
                else if (strcmp(fields[0], RECORD_NOTICE) == 0 && nf >= 2) {
                        free(o.notice);
                        o.notice = strdup(fields[1]);
                        if (!json)
                                printf("notice: %s\n", fields[1]);
                } else if (strcmp(fields[0], FINAL_OK) == 0) {
                        status = EXIT_OK;
                        if ((verb == VERB_UPDATE || verb == VERB_REREAD) && json) {
                                printf("{\"added\":[%s],\"changed\":[%s],\"removed\":[%s],\"notice\":",
                                       o.added ? o.added : "", o.changed ? o.changed : "", o.removed ? o.removed : "");
                                json_string_or_null(o.notice);
                                puts("}");
                        } else if (verb == VERB_REREAD || verb == VERB_UPDATE)
                                print_reread_rows(verb, &o);
                        if (verb == VERB_AVAIL) {
                                if (json)
                                        open_array(&o);
                                print_config_rows(&o);
                        }
                        if (verb == VERB_RELOAD)
                                json ? puts("{\"ok\":true}") : puts("Restarted supervisord");
                        if (verb == VERB_SHUTDOWN)
                                json ? puts("{\"ok\":true}") : puts("Shut down");
                } else if (strcmp(fields[0], FINAL_ERROR) == 0 && nf >= 3) {
                        status = atoi(fields[1]);
                        if (status <= 0)
                                status = EXIT_FAILED;
                        /* add: supervisord's takes a group already active as done. */
                        if (verb == VERB_ADD && o.records > 0 && o.failures == 0)
                                status = EXIT_OK;
                        if (status == EXIT_NO_SUCH_SERVICE && o.records == 0 && python_words && !retrying)
                                o.unknown_name = true;  /* answered below, name by name */
                        else if (verb == VERB_REREAD && !json)
                                printf("ERROR: %s\n", fields[2]);  /* supervisord's words */
                        /* Per-process failures were printed with their results already. */
                        else if (o.records == 0 || verb == VERB_STATUS) {
                                fflush(stdout);  /* in the order written, on one pipe */
                                fprintf(stderr, "supervisorctl: %s\n", fields[2]);
                        }
                }
        }
        timed_out = status < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        if (filter_output) {
                char end[1];
                fwrite(end, 1, printable_finish(&output_filter, end), stdout);
        }
        free(line);
        free(o.added);
        free(o.changed);
        free(o.removed);
        free(o.notice);
        for (size_t i = 0; i < o.n_reread; i++)
                free(o.reread[i]);
        free(o.reread);
        for (size_t i = 0; i < o.n_avail; i++)
                free(o.avail[i]);
        free(o.avail);
        fclose(in);
        free(parsed);
        print_status_rows(&o);
        if (json && list && (o.array_open || status == EXIT_OK)) {
                open_array(&o);
                puts("]");
        }
        if (status < 0 && bounded && timed_out) {
                fprintf(stderr, "supervisorctl: no answer within %ld seconds (-w); supervisord goes on with it\n",
                        wait_seconds);
                status = EXIT_FAILED;
        } else if (status < 0) {
                fprintf(stderr, "supervisorctl: lost the connection to supervisord at %s\n", path);
                status = EXIT_UNREACHABLE;
        } else if (status == EXIT_OK && verb == VERB_STATUS && o.any_not_running)
                status = EXIT_NOT_RUNNING;
        else if (python_words && o.records > 0 && verb != VERB_STATUS)
                status = o.python_status;
        else if (python_words && verb == VERB_PID && status == EXIT_OK && o.pid_zero)
                status = EXIT_NOT_RUNNING_PROGRAM;  /* supervisorctl's for a process without one */
        if (o.unknown_name)
                status = unknown_names(srv, path, via_xmlrpc, verb, argc, argv);
        free(path);
        return status;
}

/* ---- fg ---- */

static volatile sig_atomic_t fg_interrupted;

static void fg_on_sigint(int sig) {
        (void)sig;
        fg_interrupted = 1;
}

/* REQUEST (a line) to the server, its whole answer (at most 64 KiB: status of one name,
 * stdin) into *ret, malloc'd and NUL-terminated.  0, or -1 when it could not be asked. */
static int fg_ask(const struct server *srv, const char *request, char **ret) {
        int fd = connect_to(srv->path);
        if (fd < 0)
                return -1;
        size_t size = 65536, len = 0;
        char *buf = malloc(size + 1);
        if (!buf || send_all(fd, request, strlen(request)) < 0) {
                free(buf);
                close(fd);
                return -1;
        }
        for (;;) {
                ssize_t n = read(fd, buf + len, size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
                if (len == size)
                        break;
        }
        close(fd);
        buf[len] = '\0';
        *ret = buf;
        return 0;
}

/* The answer's final line: 0 for OK, its code for ERROR (message into MESSAGE), -1 when
 * it has none (cut off). */
static int fg_final(char *answer, char *message, size_t size) {
        message[0] = '\0';
        for (char *line = answer; *line;) {
                char *end = strchr(line, '\n'), *fields[4];
                if (!end)
                        break;
                *end = '\0';
                unsigned n = protocol_split_fields(line, fields, ELEMENTSOF(fields));
                if (strcmp(fields[0], FINAL_OK) == 0)
                        return 0;
                if (strcmp(fields[0], FINAL_ERROR) == 0 && n >= 3) {
                        snprintf(message, size, "%s", fields[2]);
                        return atoi(fields[1]) > 0 ? atoi(fields[1]) : EXIT_FAILED;
                }
                line = end + 1;
        }
        return -1;
}

/* What the follow connection brought: DATA records' bytes to stdout, the rest skipped.
 * *data_left carries a record's bytes still to come from one read to the next.  False
 * when the connection ended. */
static bool fg_copy_output(int fd, char *buf, size_t size, size_t *len, long *data_left) {
        ssize_t n = read(fd, buf + *len, size - *len);
        if (n < 0)
                return errno == EINTR || errno == EAGAIN;
        if (n == 0)
                return false;
        *len += (size_t)n;
        size_t at = 0;
        while (at < *len) {
                if (*data_left > 0) {
                        size_t take = (size_t)*data_left < *len - at ? (size_t)*data_left : *len - at;
                        char filtered[sizeof(char) * 65536 + 3];
                        const char *out = buf + at;
                        size_t out_len = take;
                        if (filter_output && take <= 65536) {
                                out_len = printable_filter(&output_filter, buf + at, take, filtered);
                                out = filtered;
                        }
                        fwrite(out, 1, out_len, stdout);
                        at += take;
                        *data_left -= (long)take;
                        continue;
                }
                char *end = memchr(buf + at, '\n', *len - at);
                if (!end)
                        break;
                *end = '\0';
                char *fields[3];
                unsigned nf = protocol_split_fields(buf + at, fields, ELEMENTSOF(fields));
                if (strcmp(fields[0], RECORD_DATA) == 0 && nf >= 2 && parse_long(fields[1], 0, LONG_MAX, data_left) < 0)
                        *data_left = 0;
                bool final = strcmp(fields[0], FINAL_OK) == 0 || strcmp(fields[0], FINAL_ERROR) == 0;
                at = (size_t)(end - buf) + 1;
                if (final)
                        return false;
        }
        memmove(buf, buf + at, *len - at);
        *len -= at;
        fflush(stdout);
        return true;
}

/* fg NAME, as supervisord's: the process's output followed, the terminal's lines sent to
 * its stdin (stdin = pipe), until Ctrl-C or the end of input, which leave it running. */
static int command_fg(const struct server *srv, int argc, char *argv[]) {
        if (argc != 2) {
                printf("ERROR: %s\n", argc < 2 ? "no process name supplied" : "too many process names supplied");
                if (argc < 2)
                        print_command_help("fg");
                return EXIT_USAGE;
        }
        if (srv->http) {
                fprintf(stderr, "supervisorctl: fg: not available over XML-RPC\n");
                return EXIT_USAGE;
        }
        const char *name = argv[1];
        if (!name_spec_is_valid(name) || strcmp(name, "all") == 0) {
                printf("ERROR: bad process name supplied\n");
                return EXIT_NO_SUCH_SERVICE;
        }
        char request[PROTOCOL_MAX_REQUEST], message[512], *answer = NULL;
        snprintf(request, sizeof request, "status %s\n", name);
        if (fg_ask(srv, request, &answer) < 0) {
                fprintf(stderr, "supervisorctl: cannot connect to supervisord at %s: %s\n", srv->path, strerror(errno));
                return EXIT_UNREACHABLE;
        }
        unsigned processes = 0;
        bool running = false;
        char shown[256] = "";
        int final = -1;
        for (char *line = answer, *end; final < 0 && (end = strchr(line, '\n')); line = end + 1) {
                char *fields[4];
                *end = '\0';
                unsigned nf = protocol_split_fields(line, fields, ELEMENTSOF(fields));
                if (nf >= 3 && strcmp(fields[0], RECORD_STATUS) == 0) {
                        processes++;
                        running = strcmp(fields[2], "RUNNING") == 0;
                        snprintf(shown, sizeof shown, "%s", fields[1]);
                } else if (strcmp(fields[0], FINAL_OK) == 0)
                        final = 0;
                else if (strcmp(fields[0], FINAL_ERROR) == 0 && nf >= 3) {
                        snprintf(message, sizeof message, "%s", fields[2]);
                        final = atoi(fields[1]) > 0 ? atoi(fields[1]) : EXIT_FAILED;
                }
        }
        free(answer);
        if (final == EXIT_NO_SUCH_SERVICE || (final == 0 && processes == 0)) {
                printf("ERROR: bad process name supplied\n");
                return EXIT_NO_SUCH_SERVICE;
        }
        if (final != 0) {
                printf("ERROR: %s\n", final < 0 ? "lost the connection to supervisord" : message);
                return final < 0 ? EXIT_UNREACHABLE : final;
        }
        if (processes > 1) {
                printf("ERROR: %s has %u processes: name one, such as %s\n", name, processes, shown);
                return EXIT_USAGE;
        }
        if (!running) {
                printf("ERROR: process not running\n");
                return EXIT_NOT_RUNNING;
        }

        int follow = connect_to(srv->path);
        snprintf(request, sizeof request, "tail %s 10 follow\n", shown);
        if (follow < 0 || send_all(follow, request, strlen(request)) < 0) {
                if (follow >= 0)
                        close(follow);
                fprintf(stderr, "supervisorctl: cannot connect to supervisord at %s: %s\n", srv->path, strerror(errno));
                return EXIT_UNREACHABLE;
        }
        filter_output = isatty(STDOUT_FILENO);
        if (filter_output)
                printable_init(&output_filter, true, '?');
        /* Ctrl-C ends the waiting below, not this program: no SA_RESTART. */
        struct sigaction on_int = { .sa_handler = fg_on_sigint }, old_int;
        sigemptyset(&on_int.sa_mask);
        fg_interrupted = 0;
        sigaction(SIGINT, &on_int, &old_int);
        printf("==> Press Ctrl-C to exit <==\n");
        fflush(stdout);

        static char output[65536];
        size_t output_len = 0;
        long data_left = 0;
        int status = EXIT_OK;
        bool following = true;
        while (!fg_interrupted) {
                struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = following ? follow : -1, .events = POLLIN } };
                if (poll(fds, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        status = EXIT_FAILED;
                        break;
                }
                if (fds[1].revents && !fg_copy_output(follow, output, sizeof output, &output_len, &data_left))
                        following = false;  /* the log cannot be followed: input still goes */
                if (!fds[0].revents)
                        continue;
                /* A line of the terminal (or what a pipe gives), its bytes encoded as the
                 * protocol's words are: 1024 of them fit in one request. */
                char input[1024];
                ssize_t n = read(STDIN_FILENO, input, sizeof input);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                size_t at = (size_t)snprintf(request, sizeof request, "stdin %s ", shown);
                for (ssize_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char)input[i];
                        if (c <= ' ' || c == 0x7f || c == '%' || c == 0)
                                at += (size_t)snprintf(request + at, sizeof request - at, "%%%02X", c);
                        else
                                request[at++] = (char)c;
                }
                request[at++] = '\n';
                request[at] = '\0';
                if (memchr(input, '\0', (size_t)n)) {
                        printf("ERROR: a NUL byte cannot be sent\n");
                        continue;
                }
                if (fg_ask(srv, request, &answer) < 0) {
                        fprintf(stderr, "supervisorctl: cannot connect to supervisord at %s: %s\n", srv->path,
                                strerror(errno));
                        status = EXIT_UNREACHABLE;
                        break;
                }
                final = fg_final(answer, message, sizeof message);
                free(answer);
                if (final == EXIT_NOT_RUNNING || final == EXIT_NO_SUCH_SERVICE) {
                        printf("Process got killed\n");
                        status = EXIT_NOT_RUNNING;
                        break;
                }
                if (final != 0) {
                        printf("ERROR: %s\n", final < 0 ? "lost the connection to supervisord" : message);
                        status = final < 0 ? EXIT_UNREACHABLE : final;
                        break;
                }
        }
        printf("Exiting foreground\n");
        fflush(stdout);
        sigaction(SIGINT, &old_int, NULL);
        close(follow);
        filter_output = false;
        return status;
}

/* A server URL as supervisorctl takes it (-s, serverurl): "unix://PATH", a PATH, or
 * "http://HOST:PORT" (XML-RPC, with USERNAME and PASSWORD if given). */
static int server_from_url(const char *url, const char *username, const char *password, struct server *ret) {
        const char *path = url;
        char error[512];
        if (strncmp(url, "unix://", 7) == 0)
                path = url + 7;
        else if (strncmp(url, "https://", 8) == 0) {
                fprintf(stderr, "supervisorctl: %s: HTTPS is not supported; name http://HOST:PORT or the unix socket\n",
                        url);
                return -EPROTONOSUPPORT;
        }
        if (strncmp(url, "http://", 7) == 0 || path[0] == '/') {
                int r = ctl_xmlrpc_server_init(&ret->rpc, url, username, password, error, sizeof error);
                if (r < 0) {
                        fprintf(stderr, "supervisorctl: %s\n", error);
                        return r;
                }
                ret->named = true;
                ret->http = path == url && path[0] != '/';
                if (ret->http)
                        return 0;
        }
        if (path[0] != '/') {
                fprintf(stderr, "supervisorctl: %s: not an absolute socket path or unix:// URL\n", url);
                return -EINVAL;
        }
        if (!(ret->path = strdup(path)))
                return -ENOMEM;
        ret->named = true;
        return 0;
}

/* The server: -s, else the config's (INI [supervisorctl] serverurl or [unix_http_server]
 * file, or our `socket`), else the daemon's default for this user.  SETTINGS gets the
 * config's other client settings. */
static int resolve_server(const char *url, const char *username, const char *password, const char *config_path,
                          bool config_given, struct server *ret, struct config_client *settings) {
        char error[1024];
        int r;
        *ret = (struct server){ 0 };
        if (config_given || access(config_path, F_OK) == 0) {
                r = config_peek_client(config_path, settings, error, sizeof error);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && !url) {
                        fprintf(stderr, "supervisorctl: %s\n", error);
                        return -EINVAL;
                }
                if (settings->skipped)
                        fprintf(stderr, "supervisorctl: %s: the rest of the file was not read, ignoring\n",
                                settings->skipped);
                if (!url && r > 0)
                        url = settings->server;
        }
        if (url)
                return server_from_url(url, username ? username : settings->username,
                                       password ? password : settings->password, ret);
        /* The daemon's default for this user; without one (no runtime directory), the
         * system's daemon is the only one there can be. */
        r = config_default_path(CONFIG_DEFAULT_OF_SOCKET, &ret->path, error, sizeof error);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !(ret->path = strdup(CONFIG_DEFAULT_SOCKET)))
                return -ENOMEM;
        return 0;
}

/* What `help` prints: the commands, then each one's lines, shaped as supervisorctl 4.2.5's
 * ("usage<TAB>what it does"), in our words.  In the order of the name, as `help` lists them. */
static const struct command_help {
        const char *name;
        const char *text;
} command_helps[] = {
        { "add", "add <name> [...]\tPut groups the config file defines, and the table lacks, in use\n" },
        { "avail", "avail\t\t\tList every process of the config file, in use or not\n" },
        { "clear", "clear <name>\t\tEmpty a process's log files\nclear <name> <name>\tEmpty those of several\n"
                   "clear all\t\tEmpty those of every process\n" },
        { "exit", "exit\tLeave the shell.\n" },
        { "fg", "fg <name>\tFollow a process's output and send it the lines typed (stdin = pipe)\n"
                "\t\tCtrl-C leaves it running\n" },
        { "maintail", "maintail [-f] [-N]\tThe last N bytes (1600) of supervisord's own log; -f: then follow it\n" },
        { "open", "open <url>\tTalk to another supervisord from now on (unix:///path/to/socket).\n" },
        { "pid", "pid\t\t\tShow supervisord's process ID.\npid <name>\t\tShow that of one process.\n" },
        { "quit", "quit\tLeave the shell.\n" },
        { "reload", "reload \t\tRestart supervisord: stop everything, read the config again, start anew.\n" },
        { "remove", "remove <name> [...]\tTake stopped groups out of the table\n" },
        { "reread", "reread \t\t\tRead the config files again and show what changed, changing nothing\n" },
        { "restart", "restart <name>\t\tStop a process, then start it\nrestart <gname>:*\tThe same for every process of a group\n"
                     "restart <name> <name>\tThe same for several processes or groups\n"
                     "restart all\t\tThe same for every process\n"
                     "Note: the config is not read again; reread and update do that.\n" },
        { "shutdown", "shutdown \tStop every process, then supervisord.\n" },
        { "signal", "signal <signal name> <name>\t\tSend a signal to a process\n"
                    "signal <signal name> <gname>:*\t\tSend it to every process of a group\n"
                    "signal <signal name> <name> <name>\tSend it to several processes or groups\n"
                    "signal <signal name> all\t\tSend it to every process\n" },
        { "start", "start <name>\t\tStart a process\nstart <gname>:*\t\tStart every process of a group\n"
                   "start <name> <name>\tStart several processes or groups\nstart all\t\tStart every process\n" },
        { "status", "status <name>\t\tShow the state of a process\nstatus <gname>:*\tShow that of every process of a group\n"
                    "status <name> <name>\tShow that of several processes\nstatus\t\t\tShow that of every process\n" },
        { "stop", "stop <name>\t\tStop a process\nstop <gname>:*\t\tStop every process of a group\n"
                  "stop <name> <name>\tStop several processes or groups\nstop all\t\tStop every process\n" },
        { "tail", "tail [-f] [-N | -n N] <name> [stdout|stderr]\tThe last N bytes (1600) of the process's stdout\n"
                  "\t\t\tor stderr log; -n N: its last N lines (ours); -f: then follow it\n" },
        { "update", "update\t\t\tRead the config again and apply the difference: add, remove, restart what changed\n" },
        { "version", "version\t\t\tShow the versions of supervisorctl and supervisord\n" },
};

/* The names in columns as Python's cmd module lays out a list of topics (Cmd.columnize):
 * the fewest rows whose columns, two spaces apart, fit in WIDTH, filled column by column. */
static void columnize(const char *const *names, size_t n, size_t width) {
        size_t rows = 1, widths[64];
        for (; rows < n; rows++) {
                size_t cols = (n + rows - 1) / rows, total = 0;
                bool fits = cols <= ELEMENTSOF(widths);
                for (size_t col = 0; fits && col < cols; col++) {
                        widths[col] = 0;
                        for (size_t row = 0; row < rows && row + rows * col < n; row++)
                                if (strlen(names[row + rows * col]) > widths[col])
                                        widths[col] = strlen(names[row + rows * col]);
                        total += widths[col] + (col ? 2 : 0);
                        fits = total <= width;
                }
                if (fits)
                        break;
        }
        if (rows >= n) {  /* one column: as wide as each name */
                for (size_t i = 0; i < n; i++)
                        puts(names[i]);
                return;
        }
        size_t cols = (n + rows - 1) / rows;
        for (size_t row = 0; row < rows; row++) {
                size_t last = 0;
                for (size_t col = 0; col < cols; col++)
                        if (row + rows * col < n)
                                last = col;
                for (size_t col = 0; col <= last; col++)
                        printf("%s%-*s", col ? "  " : "", (int)widths[col], names[row + rows * col]);
                putchar('\n');
        }
}

static void print_command_help(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(command_helps); i++)
                if (strcmp(name, command_helps[i].name) == 0)
                        fputs(command_helps[i].text, stdout);
}

/* help [COMMAND]: its lines, or the list of topics as supervisorctl's shows it. */
static int command_help(int argc, char *argv[]) {
        if (argc > 1 && strcmp(argv[1], "help") == 0) {  /* not a topic of the list, as supervisorctl's */
                fputs("help\t\tList the commands\nhelp <action>\tTell what a command does\n", stdout);
                return EXIT_OK;
        }
        if (argc > 1) {
                for (size_t i = 0; i < ELEMENTSOF(command_helps); i++)
                        if (strcmp(argv[1], command_helps[i].name) == 0) {
                                fputs(command_helps[i].text, stdout);
                                return EXIT_OK;
                        }
                printf("*** No help on %s\n", argv[1]);
                return EXIT_OK;
        }
        const char *names[ELEMENTSOF(command_helps)];
        for (size_t i = 0; i < ELEMENTSOF(command_helps); i++)
                names[i] = command_helps[i].name;
        puts("\ndefault commands (type help <topic>):\n=====================================");
        columnize(names, ELEMENTSOF(names), 79);
        putchar('\n');
        return EXIT_OK;
}

/* Levenshtein's distance between A and B, at most SERVICE_NAME_MAX long each (more is
 * far from any command anyway). */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strnlen(a, SERVICE_NAME_MAX), lb = strnlen(b, SERVICE_NAME_MAX), row[SERVICE_NAME_MAX + 1];
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diagonal = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t above = row[j];
                        size_t best = diagonal + (a[i - 1] != b[j - 1]);
                        if (above + 1 < best)
                                best = above + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diagonal = above;
                }
        }
        return row[lb];
}

/* The commands within two edits of WORD, as "supervisorctl: did you mean stop, start?" on
 * standard error; nothing when none is. */
static void suggest_command(const char *word) {
        char close[256] = "";
        size_t len = 0;
        for (size_t i = 0; i < ELEMENTSOF(command_helps); i++)
                if (edit_distance(word, command_helps[i].name) <= 2 && len < sizeof close)
                        len += (size_t)snprintf(close + len, sizeof close - len, "%s%s", len ? ", " : "",
                                                command_helps[i].name);
        if (close[0] && len < sizeof close) {
                fflush(stdout);
                fprintf(stderr, "supervisorctl: did you mean %s?\n", close);
        }
}

/* The credentials given (-u, -p, else the config's), for the servers `open` names. */
static const char *given_username, *given_password;

/* open URL: the server of the commands that follow (in the shell), then its status, as
 * supervisorctl's; a URL it cannot take changes nothing. */
static int command_open(struct server *srv, int argc, char *argv[]) {
        const char *url = argc > 1 ? argv[1] : "";
        if (strncmp(url, "unix://", 7) != 0 && strncmp(url, "http://", 7) != 0) {
                puts("ERROR: url must be http:// or unix://");
                return EXIT_FAILED;
        }
        struct server next = { 0 };
        if (server_from_url(url, given_username, given_password, &next) < 0) {
                ctl_xmlrpc_server_done(&next.rpc);
                free(next.path);
                return EXIT_FAILED;
        }
        free(srv->path);
        ctl_xmlrpc_server_done(&srv->rpc);
        *srv = next;
        char status_word[] = "status", *status_argv[] = { status_word, NULL };
        (void)run_command(srv, 1, status_argv);
        return EXIT_OK;
}

/* One command of the command line or of a shell line: help here, the rest to the server.
 * `--json` may come anywhere after the command too. */
static int dispatch(struct server *srv, int argc, char *argv[]) {
        int n = 0;
        bool saved_json = json;
        for (int i = 0; i < argc; i++) {
                if (i > 0 && strcmp(argv[i], "--json") == 0)
                        json = true;
                else
                        argv[n++] = argv[i];
        }
        argv[n] = NULL;
        enum verb verb;
        int status;
        wait_deadline_ms = wait_seconds > 0 ? monotonic_ms() + wait_seconds * 1000 : 0;
        if (strcmp(argv[0], "help") == 0)
                status = command_help(n, argv);
        else if (strcmp(argv[0], "quit") == 0 || strcmp(argv[0], "exit") == 0)
                status = EXIT_OK;
        else if (strcmp(argv[0], "open") == 0)
                status = command_open(srv, n, argv);
        else if (strcmp(argv[0], "fg") == 0)
                status = command_fg(srv, n, argv);
        else if (strcmp(argv[0], "maintail") != 0 && verb_from_string(argv[0], &verb) < 0) {
                /* supervisorctl's words for a command it does not have, the line as given;
                 * ours on standard error, the commands close to it.  (maintail is the
                 * readlog request, made in run_command.) */
                fputs("*** Unknown syntax:", stdout);
                for (int i = 0; i < n; i++)
                        printf(" %s", argv[i]);
                putchar('\n');
                suggest_command(argv[0]);
                status = EXIT_FAILED;
        } else
                status = run_command(srv, n, argv);
        json = saved_json;
        fflush(stdout);
        return status;
}

/* The line editor: libedit's readline interface when the library is there, loaded only for
 * the shell so that a one-shot command pays nothing for it; else plain lines. */
static struct {
        char *(*readline)(const char *prompt);
        int (*add_history)(const char *line);
        int (*read_history)(const char *file);
        int (*write_history)(const char *file);
} editor;

static void editor_open(bool terminal) {
        if (!terminal)
                return;
        void *lib = dlopen("libedit.so.2", RTLD_NOW | RTLD_LOCAL);
        if (!lib)
                return;
        editor.readline = (char *(*)(const char *))dlsym(lib, "readline");
        editor.add_history = (int (*)(const char *))dlsym(lib, "add_history");
        editor.read_history = (int (*)(const char *))dlsym(lib, "read_history");
        editor.write_history = (int (*)(const char *))dlsym(lib, "write_history");
        if (!editor.readline || !editor.add_history)
                editor.readline = NULL;
}

/* A line of input without its newline, malloc'd; NULL at the end of input. */
static char *editor_read(const char *prompt) {
        if (editor.readline)
                return editor.readline(prompt);
        fputs(prompt, stdout);
        fflush(stdout);
        char *line = NULL;
        size_t size = 0;
        ssize_t n = getline(&line, &size, stdin);
        if (n < 0) {
                free(line);
                return NULL;
        }
        if (n > 0 && line[n - 1] == '\n')
                line[n - 1] = '\0';
        return line;
}

/* The interactive shell, as supervisorctl's: `status` first, then a command per line until
 * quit, exit or the end of input; the status of the last command is the exit status. */
static int shell(struct server *srv, const struct config_client *settings) {
        char prompt[256];
        snprintf(prompt, sizeof prompt, "%s> ", settings->prompt ? settings->prompt : "supervisor");
        editor_open(isatty(STDIN_FILENO) && isatty(STDOUT_FILENO));
        if (editor.read_history && settings->history_file)
                editor.read_history(settings->history_file);
        char status_word[] = "status", *first[] = { status_word, NULL };
        int status = dispatch(srv, 1, first);
        for (;;) {
                char *line = editor_read(prompt);
                if (!line) {
                        putchar('\n');
                        break;
                }
                char *words[PROTOCOL_MAX_ARGS + 1];
                int n = 0;
                if (editor.readline && line[strspn(line, " \t")])
                        editor.add_history(line);
                for (char *save = NULL, *w = strtok_r(line, " \t", &save); w && n < PROTOCOL_MAX_ARGS;
                     w = strtok_r(NULL, " \t", &save))
                        words[n++] = w;
                words[n] = NULL;
                bool leave = n > 0 && (strcmp(words[0], "quit") == 0 || strcmp(words[0], "exit") == 0);
                if (n > 0 && !leave)
                        status = dispatch(srv, n, words);
                free(line);
                if (leave)
                        break;
        }
        if (editor.write_history && settings->history_file)
                editor.write_history(settings->history_file);
        return status;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "configuration", required_argument, NULL, 'c' },
                { "serverurl", required_argument, NULL, 's' },
                { "username", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'p' },
                { "interactive", no_argument, NULL, 'i' },
                { "history-file", required_argument, NULL, 'r' },
                { "json", no_argument, NULL, 'j' },
                { "wait", required_argument, NULL, 'w' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'v' },
                { NULL, 0, NULL, 0 },
        };
        const char *config_path = CONFIG_DEFAULT_PATH, *url = NULL, *history_file = NULL, *username = NULL,
                   *password = NULL;
        bool config_given = false, interactive = false;
        int opt;

        /* "+": stop at the command, so that e.g. `signal -9` is never taken for an option. */
        while ((opt = getopt_long(argc, argv, "+c:s:u:p:ir:jw:hv", options, NULL)) != -1) {
                switch (opt) {
                case 'c': config_path = optarg; config_given = true; break;
                case 's': url = optarg; break;
                /* Credentials are HTTP's (XML-RPC); on the native protocol the kernel says
                 * who connects (socket-mode, socket-group). */
                case 'u': username = optarg; break;
                case 'p': password = optarg; break;
                case 'i': interactive = true; break;
                case 'r': history_file = optarg; break;
                case 'j': json = true; break;
                case 'w':
                        if (parse_long(optarg, 1, 86400 * 365, &wait_seconds) < 0) {
                                fprintf(stderr, "supervisorctl: -w '%s' is not a number of seconds\n", optarg);
                                return EXIT_USAGE;
                        }
                        break;
                case 'h': usage(stdout); return EXIT_OK;
                case 'v': printf("supervisorctl %s\n", SUPERVISORD_VERSION); return EXIT_OK;
                default: usage(stderr); return EXIT_USAGE;
                }
        }
        struct server srv;
        struct config_client settings = { 0 };
        int r = resolve_server(url, username, password, config_path, config_given, &srv, &settings);
        given_username = username ? username : settings.username;
        given_password = password ? password : settings.password;
        if (r < 0) {
                ctl_xmlrpc_server_done(&srv.rpc);
                config_client_done(&settings);
                return r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
        }
        if (history_file) {
                free(settings.history_file);
                settings.history_file = strdup(history_file);
        }
        int status = EXIT_OK;
        if (optind < argc) {
                /* As supervisorctl's: the arguments joined into one line, read as the shell
                 * reads a line, so that `'signal HUP' web` (as Ansible passes it) is
                 * `signal HUP web`. */
                size_t len = 1;
                for (int i = optind; i < argc; i++)
                        len += strlen(argv[i]) + 1;
                char *line = malloc(len), **words = calloc((size_t)(argc - optind) * 2 + len / 2 + 2, sizeof *words);
                if (!line || !words) {
                        free(line);
                        free(words);
                        fprintf(stderr, "supervisorctl: out of memory\n");
                        free(srv.path);
                        config_client_done(&settings);
                        return EXIT_FAILED;
                }
                line[0] = '\0';
                for (int i = optind; i < argc; i++) {
                        strcat(line, argv[i]);
                        strcat(line, " ");
                }
                int n = 0;
                for (char *save = NULL, *w = strtok_r(line, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
                        words[n++] = w;
                words[n] = NULL;
                if (n > 0)
                        status = dispatch(&srv, n, words);
                else {
                        usage(stderr);
                        status = EXIT_USAGE;
                }
                free(words);
                free(line);
        }
        if (optind >= argc || interactive)
                status = shell(&srv, &settings);
        free(srv.path);
        ctl_xmlrpc_server_done(&srv.rpc);
        config_client_done(&settings);
        return status;
}
