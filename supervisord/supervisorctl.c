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
#include "printable.h"
#include "names.h"
#include "protocol.h"
#include "util.h"

static bool json;
/* tail: service output goes to a terminal, filtered (printable.h); unset with --raw, or
 * when stdout is a pipe or a file, which get the bytes exactly. */
static bool filter_output;
static struct printable output_filter;

static void usage(FILE *out) {
        fprintf(out,
                "usage: supervisorctl [-c FILE] [-s URL] [-u USER] [-p PASSWORD] [-i] [-r FILE] [--json]\n"
                "                     [COMMAND [ARGS]]\n"
                "       supervisorctl -h | --help | -v | --version\n"
                "  -c, --configuration FILE   the config that names the socket (" CONFIG_DEFAULT_PATH ")\n"
                "  -s, --serverurl URL        the socket: /PATH or unix:///PATH\n"
                "  -u, --username, -p, --password  accepted; the socket's permissions decide who may connect\n"
                "  -i, --interactive          the shell after the command; without a command it is the default\n"
                "  -r, --history-file FILE    the shell's history\n"
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
                "  tail [-f] [-n N] [--raw] NAME\n"
                "                              the last N lines of its log (10); -f: then follow it;\n"
                "                              on a terminal control characters show as '?' unless --raw\n"
                "  fg NAME                     follow its output, send it the lines typed (stdin = pipe);\n"
                "                              Ctrl-C leaves it running\n"
                "  shutdown                    stop everything and exit supervisord\n"
                "  version                     print both versions\n"
                "  help [COMMAND], quit, exit\n");
}

static void json_string(const char *s) {
        putchar('"');
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\')
                        printf("\\%c", c);
                else if (c < 0x20)
                        printf("\\u%04x", c);
                else
                        putchar(c);
        }
        putchar('"');
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
        char *name;  /* owned */
        char *rest;  /* owned: state and description */
};

#define STATUS_NAME_WIDTH 24  /* at least: the usual names line up as they always did */

/* What the answer's records add up to. */
struct outcome {
        bool any_not_running;
        unsigned records;
        bool array_open;  /* --json: the "[" of a list is out */
        struct status_row *rows;  /* owned, with n_rows entries */
        size_t n_rows;
        /* update, reread: one JSON array body per kind, and the notice */
        char *added, *changed, *removed, *notice;
        size_t n_added, n_changed, n_removed;
        char **reread;  /* reread for humans: its lines, owned, n_reread of them */
        size_t n_reread;
        unsigned failures;  /* RESULTs that count as failed */
};

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

/* `tail [-f] [-n N] NAME` (ARGV[0] is "tail") as the protocol's "tail NAME N [follow]" in
 * OUT, NULL-terminated, with N written into LINES; the new argument count, or -1 after a
 * message. */
static int tail_arguments(int argc, char *argv[], char *out[5], char *lines, size_t lines_size) {
        static const struct option options[] = {
                { "follow", no_argument, NULL, 'f' },
                { "lines", required_argument, NULL, 'n' },
                { "raw", no_argument, NULL, 'r' },
                { NULL, 0, NULL, 0 },
        };
        bool follow = false, raw = false;
        long count = 10;
        int opt, k = 0;

        optind = 0;  /* GNU getopt: start over on this argument vector */
        while ((opt = getopt_long(argc, argv, "fn:", options, NULL)) != -1) {
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
                        break;
                default:
                        return -1;
                }
        }
        if (optind != argc - 1) {
                fprintf(stderr, "supervisorctl: tail takes exactly one process name\n");
                return -1;
        }
        /* A service's output may hold escape sequences that set the title, write the
         * clipboard or answer back as typed input: a terminal gets none of them. */
        filter_output = !raw && isatty(STDOUT_FILENO);
        if (filter_output)
                printable_init(&output_filter, true, '?');
        snprintf(lines, lines_size, "%ld", count);
        out[k++] = "tail";
        out[k++] = argv[optind];
        out[k++] = lines;
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
                snprintf(description, sizeof description, "stopped at %s%s", at,
                         strcmp(last_exit, "signal KILL") == 0 ? " (killed by SIGKILL)" : "");
        } else if (strncmp(last_exit, "exit ", 5) == 0)
                snprintf(description, sizeof description, "exit status %s", last_exit + 5);
        else if (strncmp(last_exit, "signal ", 7) == 0)
                snprintf(description, sizeof description, "killed by SIG%s", last_exit + 7);
        else
                snprintf(description, sizeof description, "not started");
        o->records++;
        struct status_row *rows = realloc(o->rows, (o->n_rows + 1) * sizeof *rows);
        if (rows) {
                o->rows = rows;
                char *copy = strdup(name), *rest;
                if (copy && asprintf(&rest, "%-9s %s", state, description) >= 0) {
                        rows[o->n_rows++] = (struct status_row){ .name = copy, .rest = rest };
                        return;
                }
                free(copy);
        }
        printf("%-*s %-9s %s\n", STATUS_NAME_WIDTH, name, state, description);  /* no memory: as it comes */
}

static void print_status_rows(struct outcome *o) {
        int width = STATUS_NAME_WIDTH;
        for (size_t i = 0; i < o->n_rows; i++)
                if (strlen(o->rows[i].name) > (size_t)width)
                        width = (int)strlen(o->rows[i].name);
        for (size_t i = 0; i < o->n_rows; i++) {
                printf("%-*s %s\n", width, o->rows[i].name, o->rows[i].rest);
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
static void print_result_line(enum verb verb, const char *name, bool ok, const char *message, const char *code) {
        static const struct {
                const char *code, *text;
        } faults[] = {
                { "no-such-name", "no such process" },
                { "not-running", "not running" },
        };
        if (verb == VERB_ADD || verb == VERB_REMOVE) {
                if (strcmp(code, "added") == 0)
                        printf("%s: added process group\n", name);
                else if (strcmp(code, "removed") == 0)
                        printf("%s: removed process group\n", name);
                else if (strcmp(code, "already-added") == 0)
                        puts("ERROR: process group already active");
                else if (strcmp(code, "still-running") == 0)
                        printf("ERROR: process/group still running: %s\n", name);
                else if (strcmp(code, "no-such-name") == 0)
                        printf("ERROR: no such process/group: %s\n", name);
                else if (!ok)
                        printf("%s: ERROR (%s)\n", name, message);
                /* else a process the add started: supervisord's add does not say */
                return;
        }
        if (strcmp(code, "ok") == 0) {
                if (verb == VERB_RESTART)
                        printf("%s: stopped\n%s: started\n", name, name);
                else
                        printf("%s: %s\n", name, message);
                return;
        }
        if (strcmp(code, "already") == 0) {
                printf("%s: ERROR (%s)\n", name, verb == VERB_START ? "already started" : "not running");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(faults); i++)
                if (strcmp(code, faults[i].code) == 0) {
                        printf("%s: ERROR (%s)\n", name, faults[i].text);
                        return;
                }
        if (ok)
                printf("%s: %s\n", name, message);
        else
                printf("%s: ERROR (%s)\n", name, message);
}

static void print_result(enum verb verb, char **f, unsigned n, struct outcome *o) {
        /* RESULT name ok|error message [code] */
        if (n < 4)
                return;
        bool ok = strcmp(f[2], "ok") == 0;
        const char *code = n >= 5 ? f[4] : "";
        if (!ok && !(verb == VERB_ADD && strcmp(code, "already-added") == 0))
                o->failures++;  /* supervisord's add takes an active group as done */
        if (json) {
                open_array(o);
                printf("%s{\"name\":", o->records ? "," : "");
                json_string(f[1]);
                printf(",\"ok\":%s,\"message\":", ok ? "true" : "false");
                json_string_or_null(f[3]);
                putchar('}');
        } else
                print_result_line(verb, f[1], ok, f[3], code);
        o->records++;
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
};

/* One command, ARGV[0] its name, against the server: the request sent, the answer printed;
 * returns the exit status. */
static int run_command(const struct server *srv, int argc, char *argv[]) {
        filter_output = false;
        /* tail's options are ours to parse; the protocol takes "tail NAME LINES [follow]". */
        char *tail_argv[5], tail_lines[16];
        if (strcmp(argv[0], "tail") == 0) {
                int tail_argc = tail_arguments(argc, argv, tail_argv, tail_lines, sizeof tail_lines);
                if (tail_argc < 0) {
                        usage(stderr);
                        return EXIT_USAGE;
                }
                argv = tail_argv;
                argc = tail_argc;
        }

        /* The request line, checked here first so usage errors never need the daemon. */
        char request[PROTOCOL_MAX_REQUEST + 1];
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
        free(parsed);
        request[len++] = '\n';

        char *path = strdup(srv->path);
        bool socket_named = srv->named;
        if (!path) {
                fprintf(stderr, "supervisorctl: out of memory\n");
                return EXIT_FAILED;
        }
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
                return EXIT_UNREACHABLE;
        }
        /* A refusal (too many clients, no descriptor left) may come before the request is
         * taken: the server has closed then, the send fails, and the answer is there to read. */
        if (send_all(fd, request, len) < 0)
                (void)shutdown(fd, SHUT_WR);

        FILE *in = fdopen(fd, "r");
        if (!in) {
                free(path);
                return EXIT_FAILED;
        }
        struct outcome o = { 0 };
        bool list = verb == VERB_STATUS || verb == VERB_START || verb == VERB_STOP || verb == VERB_RESTART
                    || verb == VERB_SIGNAL || verb == VERB_ADD || verb == VERB_REMOVE;
        int status = -1;
        char *line = NULL, *fields[32];
        size_t size = 0;
        ssize_t n;
        while (status < 0 && (n = getline(&line, &size, in)) > 0) {
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
                else if (strcmp(fields[0], RECORD_PID) == 0 && nf >= 2)
                        json ? printf("{\"pid\":%s}\n", fields[1]) : printf("%s\n", fields[1]);
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
                        if (verb == VERB_RELOAD)
                                json ? puts("{\"ok\":true}") : puts("Restarted supervisord");
                        if (verb == VERB_SHUTDOWN)
                                json ? puts("{\"ok\":true}") : puts("shut down");
                } else if (strcmp(fields[0], FINAL_ERROR) == 0 && nf >= 3) {
                        status = atoi(fields[1]);
                        if (status <= 0)
                                status = EXIT_FAILED;
                        /* add: supervisord's takes a group already active as done. */
                        if (verb == VERB_ADD && o.records > 0 && o.failures == 0)
                                status = EXIT_OK;
                        if (verb == VERB_REREAD && !json)
                                printf("ERROR: %s\n", fields[2]);  /* supervisord's words */
                        /* Per-process failures were printed with their results already. */
                        else if (o.records == 0 || verb == VERB_STATUS)
                                fprintf(stderr, "supervisorctl: %s\n", fields[2]);
                }
        }
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
        fclose(in);
        print_status_rows(&o);
        if (json && list && (o.array_open || status == EXIT_OK)) {
                open_array(&o);
                puts("]");
        }
        if (status < 0) {
                fprintf(stderr, "supervisorctl: lost the connection to supervisord at %s\n", path);
                status = EXIT_UNREACHABLE;
        } else if (status == EXIT_OK && verb == VERB_STATUS && o.any_not_running)
                status = EXIT_NOT_RUNNING;
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
                        printf("fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit\n");
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

/* A server URL as supervisorctl takes it (-s, serverurl): "unix://PATH" or a PATH.  HTTP
 * URLs are refused by name: this client speaks only the daemon's own protocol. */
static int server_from_url(const char *url, struct server *ret) {
        const char *path = url;
        if (strncmp(url, "unix://", 7) == 0)
                path = url + 7;
        else if (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0) {
                fprintf(stderr, "supervisorctl: %s: HTTP servers are not supported; name the unix socket "
                                "(-s unix:///PATH or -s /PATH)\n", url);
                return -EPROTONOSUPPORT;
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
static int resolve_server(const char *url, const char *config_path, bool config_given, struct server *ret,
                          struct config_client *settings) {
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
                return server_from_url(url, ret);
        /* The daemon's default for this user; without one (no runtime directory), the
         * system's daemon is the only one there can be. */
        r = config_default_path(CONFIG_DEFAULT_OF_SOCKET, &ret->path, error, sizeof error);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && !(ret->path = strdup(CONFIG_DEFAULT_SOCKET)))
                return -ENOMEM;
        return 0;
}

/* What `help` prints: the commands, then each one's lines as supervisorctl 4.2.5 words
 * them (with ours added where we take more). */
static const struct command_help {
        const char *name;
        const char *text;
} command_helps[] = {
        { "add", "add <name> [...]\tActivates any updates in config for process/group\n" },
        { "exit", "exit\tExit the supervisor shell.\n" },
        { "fg", "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit\n" },
        { "help", "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>\n" },
        { "pid", "pid\t\t\tGet the PID of supervisord.\npid <name>\t\tGet the PID of a single child process by name.\n" },
        { "quit", "quit\tExit the supervisor shell.\n" },
        { "reload", "reload \t\tRestart the remote supervisord.\n" },
        { "remove", "remove <name> [...]\tRemoves process/group from active config\n" },
        { "reread", "reread \t\t\tReload the daemon's configuration files without add/remove\n" },
        { "restart", "restart <name>\t\tRestart a process\nrestart <name> <name>\tRestart multiple processes or groups\n"
                     "restart all\t\tRestart all processes\n"
                     "Note: restart does not reread config files. For that, see reread and update.\n" },
        { "shutdown", "shutdown \tShut the remote supervisord down.\n" },
        { "signal", "signal <signal name> <name>\t\tSignal a process\n"
                    "signal <signal name> <name> <name>\tSignal multiple processes or groups\n"
                    "signal <signal name> all\t\tSignal all processes\n" },
        { "start", "start <name>\t\tStart a process\nstart <name> <name>\tStart multiple processes or groups\n"
                   "start all\t\tStart all processes\n" },
        { "status", "status <name>\t\tGet status for a single process\n"
                    "status <name> <name>\tGet status for multiple named processes\n"
                    "status\t\t\tGet all process status info\n" },
        { "stop", "stop <name>\t\tStop a process\nstop <name> <name>\tStop multiple processes or groups\n"
                  "stop all\t\tStop all processes\n" },
        { "tail", "tail [-f] [-n N] <name>\tthe last N lines (10) of the process's log; -f: then follow it\n" },
        { "update", "update\t\t\tReload config and add/remove as necessary, and will restart affected programs\n"
                    "update all\t\tReload config and add/remove as necessary, and will restart affected programs\n" },
        { "version", "version\t\t\tShow the version of the remote supervisord process\n" },
};

/* help [COMMAND]: its lines, or the list as Python's cmd module lays it out. */
static int command_help(int argc, char *argv[]) {
        if (argc > 1) {
                for (size_t i = 0; i < ELEMENTSOF(command_helps); i++)
                        if (strcmp(argv[1], command_helps[i].name) == 0) {
                                fputs(command_helps[i].text, stdout);
                                return EXIT_OK;
                        }
                printf("*** No help on %s\n", argv[1]);
                return EXIT_OK;
        }
        puts("\ndefault commands (type help <topic>):\n=====================================");
        for (size_t i = 0; i < ELEMENTSOF(command_helps); i++)
                printf("%s%s", command_helps[i].name, (i + 1) % 8 == 0 || i + 1 == ELEMENTSOF(command_helps) ? "\n" : "  ");
        putchar('\n');
        return EXIT_OK;
}

/* One command of the command line or of a shell line: help here, the rest to the server.
 * `--json` may come anywhere after the command too. */
static int dispatch(const struct server *srv, int argc, char *argv[]) {
        int n = 0;
        bool saved_json = json;
        for (int i = 0; i < argc; i++) {
                if (i > 0 && strcmp(argv[i], "--json") == 0)
                        json = true;
                else
                        argv[n++] = argv[i];
        }
        argv[n] = NULL;
        int status = strcmp(argv[0], "help") == 0                                ? command_help(n, argv)
                     : strcmp(argv[0], "quit") == 0 || strcmp(argv[0], "exit") == 0 ? EXIT_OK
                     : strcmp(argv[0], "fg") == 0                                    ? command_fg(srv, n, argv)
                                                                                     : run_command(srv, n, argv);
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
static int shell(const struct server *srv, const struct config_client *settings) {
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
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'v' },
                { NULL, 0, NULL, 0 },
        };
        const char *config_path = CONFIG_DEFAULT_PATH, *url = NULL, *history_file = NULL;
        bool config_given = false, interactive = false;
        int opt;

        /* "+": stop at the command, so that e.g. `signal -9` is never taken for an option. */
        while ((opt = getopt_long(argc, argv, "+c:s:u:p:ir:jhv", options, NULL)) != -1) {
                switch (opt) {
                case 'c': config_path = optarg; config_given = true; break;
                case 's': url = optarg; break;
                /* Credentials are HTTP's; on the unix socket the kernel says who connects
                 * (socket-mode, socket-group), so they are taken and need not be checked. */
                case 'u': case 'p': break;
                case 'i': interactive = true; break;
                case 'r': history_file = optarg; break;
                case 'j': json = true; break;
                case 'h': usage(stdout); return EXIT_OK;
                case 'v': printf("supervisorctl %s\n", SUPERVISORD_VERSION); return EXIT_OK;
                default: usage(stderr); return EXIT_USAGE;
                }
        }
        struct server srv;
        struct config_client settings = { 0 };
        int r = resolve_server(url, config_path, config_given, &srv, &settings);
        if (r < 0) {
                config_client_done(&settings);
                return r == -ENOMEM ? EXIT_FAILED : EXIT_USAGE;
        }
        if (history_file) {
                free(settings.history_file);
                settings.history_file = strdup(history_file);
        }
        int status = EXIT_OK;
        if (optind < argc)
                status = dispatch(&srv, argc - optind, argv + optind);
        if (optind >= argc || interactive)
                status = shell(&srv, &settings);
        free(srv.path);
        config_client_done(&settings);
        return status;
}
