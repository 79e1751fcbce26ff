/* rpc.c — see rpc.h and supervisord(8), HTTP INTERFACE. */
#include "rpc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "protocol.h"
#include "util.h"
#include "xmlrpc.h"

#define MAX_STATUS_FIELDS 24

struct rpc_job;

/* A method: its name, signatures (each "return,param,..."), help, and how it runs.
 * run returns true when it wrote its result at once, false when a request to
 * supervisord is out (its callback writes the result and goes on with the job). */
struct method {
        const char *name;
        const char *signatures[3];
        const char *help;
        bool (*run)(struct rpc_job *j, struct xmlrpc_value **params, size_t n);
};

struct rpc_job {
        struct xmlrpc_call *call;
        struct xmlrpc_writer w;
        bool multi;
        struct xmlrpc_value **calls;  /* multicall: the array's items */
        size_t n_calls, index;
        rpc_reply_fn reply;
        void *userdata;
        bool forgotten;
        /* The call under way. */
        const struct method *method;
        char target[256];             /* the name as given, for fault strings */
        char group[256];              /* group of the Group calls */
        int signal_given;
        bool bad_arguments;           /* read*Log: BAD_ARGUMENTS once the name and file are known */
        long long offset, length;     /* tail*Log: as given */
        size_t reply_len;             /* of the line-protocol answer being read */
        bool asked_again;             /* the answer sent the call's next request */
        const char *input;            /* sendProcessStdin: its bytes (in call), ... */
        size_t input_len, input_sent; /* ... and how many of them are sent */
        char input_name[256];         /* ... the process, as the requests name it */
};

static const struct method methods[];
static const size_t n_methods;
static bool shutting_down;  /* rpc_set_shutting_down() */

void rpc_set_shutting_down(bool value) {
        shutting_down = value;
}

static const char *const fault_names[] = {
        [FAULT_UNKNOWN_METHOD] = "UNKNOWN_METHOD",
        [FAULT_INCORRECT_PARAMETERS] = "INCORRECT_PARAMETERS",
        [FAULT_BAD_ARGUMENTS] = "BAD_ARGUMENTS",
        [FAULT_SIGNATURE_UNSUPPORTED] = "SIGNATURE_UNSUPPORTED",
        [FAULT_SHUTDOWN_STATE] = "SHUTDOWN_STATE",
        [FAULT_BAD_NAME] = "BAD_NAME",
        [FAULT_BAD_SIGNAL] = "BAD_SIGNAL",
        [FAULT_NO_FILE] = "NO_FILE",
        [FAULT_NOT_EXECUTABLE] = "NOT_EXECUTABLE",
        [FAULT_FAILED] = "FAILED",
        [FAULT_ABNORMAL_TERMINATION] = "ABNORMAL_TERMINATION",
        [FAULT_SPAWN_ERROR] = "SPAWN_ERROR",
        [FAULT_ALREADY_STARTED] = "ALREADY_STARTED",
        [FAULT_NOT_RUNNING] = "NOT_RUNNING",
        [FAULT_SUCCESS] = "SUCCESS",
        [FAULT_ALREADY_ADDED] = "ALREADY_ADDED",
        [FAULT_STILL_RUNNING] = "STILL_RUNNING",
        [FAULT_CANT_REREAD] = "CANT_REREAD",
};

const char *rpc_fault_name(int code) {
        return code > 0 && (size_t)code < ELEMENTSOF(fault_names) && fault_names[code] ? fault_names[code] : "UNKNOWN";
}

/* ---- results ---- */

/* Before the one value of the call under way. */
static void result_begin(struct rpc_job *j) {
        if (!j->multi)
                xmlrpc_begin_response(&j->w);
}

static void result_end(struct rpc_job *j) {
        if (!j->multi)
                xmlrpc_end_response(&j->w);
}

/* "NAME: extra" as supervisord's RPCError writes it; no extra: the name alone. */
static void fault_text(char *buf, size_t size, int code, const char *extra) {
        if (extra && extra[0])
                snprintf(buf, size, "%s: %s", rpc_fault_name(code), extra);
        else
                snprintf(buf, size, "%s", rpc_fault_name(code));
}

static void __attribute__((format(printf, 3, 4))) result_fault(struct rpc_job *j, int code, const char *format, ...) {
        char extra[1024] = "", text[1100];
        if (format) {
                va_list ap;
                va_start(ap, format);
                vsnprintf(extra, sizeof extra, format, ap);
                va_end(ap);
        }
        fault_text(text, sizeof text, code, extra);
        if (!j->multi) {
                xmlrpc_write_fault(&j->w, code, text);
                return;
        }
        xmlrpc_begin_struct(&j->w);
        xmlrpc_member(&j->w, "faultCode");
        xmlrpc_write_int(&j->w, code);
        xmlrpc_member(&j->w, "faultString");
        xmlrpc_write_cstring(&j->w, text);
        xmlrpc_end_struct(&j->w);
}

static void result_string(struct rpc_job *j, const char *s) {
        result_begin(j);
        xmlrpc_write_cstring(&j->w, s);
        result_end(j);
}

static void result_boolean(struct rpc_job *j, bool value) {
        result_begin(j);
        xmlrpc_write_boolean(&j->w, value);
        result_end(j);
}

/* ---- the job ---- */

static void job_free(struct rpc_job *j) {
        xmlrpc_writer_reset(&j->w);
        xmlrpc_call_free(j->call);
        free(j);
}

static void job_finish(struct rpc_job *j) {
        if (j->forgotten) {
                job_free(j);
                return;
        }
        if (j->multi) {
                xmlrpc_end_array(&j->w);
                xmlrpc_end_response(&j->w);
        }
        char *body = NULL;
        size_t len = 0;
        if (xmlrpc_writer_finish(&j->w, &body, &len) < 0) {
                xmlrpc_write_fault(&j->w, FAULT_FAILED, "FAILED: out of memory");
                if (xmlrpc_writer_finish(&j->w, &body, &len) < 0) {
                        body = NULL;
                        len = 0;
                }
        }
        rpc_reply_fn reply = j->reply;
        void *userdata = j->userdata;
        job_free(j);
        reply(NULL, body, len, userdata);
}

static const struct method *method_find(const char *name) {
        for (size_t i = 0; i < n_methods; i++)
                if (strcmp(methods[i].name, name) == 0)
                        return &methods[i];
        return NULL;
}

/* Run the call METHOD(PARAMS); true when its result is written. */
static bool run_call(struct rpc_job *j, const char *name, struct xmlrpc_value **params, size_t n) {
        const struct method *m = method_find(name);
        if (!m) {
                result_fault(j, FAULT_UNKNOWN_METHOD, NULL);
                return true;
        }
        if (j->multi && strcmp(name, "system.multicall") == 0) {
                /* supervisord refuses a multicall inside a multicall. */
                result_fault(j, FAULT_INCORRECT_PARAMETERS, "Recursive system.multicall forbidden");
                return true;
        }
        if (shutting_down && strncmp(name, "supervisor.", 11) == 0) {
                result_fault(j, FAULT_SHUTDOWN_STATE, NULL);
                return true;
        }
        j->method = m;
        j->target[0] = j->group[0] = '\0';
        return m->run(j, params, n);
}

/* The next calls, until one waits for supervisord or all are done. */
static void job_run(struct rpc_job *j) {
        if (!j->multi) {
                if (j->index == 0) {
                        j->index = 1;
                        if (!run_call(j, j->call->method, j->call->params, j->call->n_params))
                                return;
                }
                job_finish(j);
                return;
        }
        while (j->index < j->n_calls) {
                const struct xmlrpc_value *c = j->calls[j->index++];
                const struct xmlrpc_value *name = NULL, *params = NULL;
                if (c->type == XMLRPC_STRUCT)
                        for (size_t i = 0; i < c->n_items; i++) {
                                if (strcmp(c->keys[i], "methodName") == 0)
                                        name = c->items[i];
                                else if (strcmp(c->keys[i], "params") == 0)
                                        params = c->items[i];
                        }
                if (!name || name->type != XMLRPC_STRING) {
                        result_fault(j, FAULT_INCORRECT_PARAMETERS, "No methodName");
                        continue;
                }
                if (params && params->type != XMLRPC_ARRAY) {
                        result_fault(j, FAULT_INCORRECT_PARAMETERS, "params is not an array");
                        continue;
                }
                if (!run_call(j, name->string, params ? params->items : NULL, params ? params->n_items : 0))
                        return;
        }
        job_finish(j);
}

/* After a call that waited wrote its result. */
static void job_continue(struct rpc_job *j) {
        job_run(j);
}

struct rpc_job *rpc_handle(const char *body, size_t len, rpc_reply_fn reply, void *userdata) {
        struct rpc_job *j = calloc(1, sizeof *j);
        if (!j) {
                reply(NULL, NULL, 0, userdata);
                return NULL;
        }
        j->reply = reply;
        j->userdata = userdata;
        char error[256];
        if (xmlrpc_parse_call(body, len, &j->call, error, sizeof error) < 0) {
                /* supervisord answers an unreadable body with a fault too. */
                j->call = NULL;
                xmlrpc_write_fault(&j->w, FAULT_INCORRECT_PARAMETERS, "INCORRECT_PARAMETERS");
                j->index = 1;
                job_finish(j);
                return NULL;
        }
        if (strcmp(j->call->method, "system.multicall") == 0) {
                if (j->call->n_params != 1 || j->call->params[0]->type != XMLRPC_ARRAY) {
                        xmlrpc_write_fault(&j->w, FAULT_INCORRECT_PARAMETERS, "INCORRECT_PARAMETERS");
                        j->index = 1;
                        job_finish(j);
                        return NULL;
                }
                j->multi = true;
                j->calls = j->call->params[0]->items;
                j->n_calls = j->call->params[0]->n_items;
                xmlrpc_begin_response(&j->w);
                xmlrpc_begin_array(&j->w);
        }
        /* The job may be over, and freed, when job_run returns: the pointer returned is
         * the caller's to use only while its reply has not come. */
        job_run(j);
        return j;
}

void rpc_job_forget(struct rpc_job *j) {
        if (j)
                j->forgotten = true;
}

/* ---- parameters ---- */

static bool want_params(struct rpc_job *j, size_t n, size_t min, size_t max) {
        if (n < min || n > max) {
                result_fault(j, FAULT_INCORRECT_PARAMETERS, NULL);
                return false;
        }
        return true;
}

static bool param_string(struct rpc_job *j, const struct xmlrpc_value *v, const char **ret) {
        if (v->type != XMLRPC_STRING || strlen(v->string) != v->length) {
                result_fault(j, FAULT_INCORRECT_PARAMETERS, NULL);
                return false;
        }
        *ret = v->string;
        return true;
}

/* Whether NAME can be written into a request line as one word. */
static bool name_is_word(const char *name) {
        if (!name[0] || strlen(name) > 200)
                return false;
        for (const char *p = name; *p; p++)
                if ((unsigned char)*p <= ' ' || *p == 0x7f)
                        return false;
        return true;
}

/* supervisord's "group:name", "group:*" or "name" as one of our names: a process, or
 * (ret_group) a whole group. */
static bool namespec(const char *spec, char *ret, size_t size, bool *ret_group) {
        const char *colon = strchr(spec, ':');
        *ret_group = false;
        if (!colon) {
                snprintf(ret, size, "%s", spec);
                return name_is_word(ret);
        }
        if (strcmp(colon + 1, "*") == 0 || colon[1] == '\0') {
                snprintf(ret, size, "%.*s", (int)(colon - spec), spec);
                *ret_group = true;
        } else
                snprintf(ret, size, "%s", colon + 1);
        return name_is_word(ret);
}

/* ---- reading the line protocol's answers ---- */

/* Call FN for each line of REPLY (tab-split); the final line's fields too, with
 * *ret_final 0 (OK), its code (ERROR), or -1 (none: cut off). */
typedef void (*line_fn)(struct rpc_job *j, char **fields, unsigned n, void *data);

static int each_line(struct rpc_job *j, char *reply, line_fn fn, void *data, char *message, size_t message_size) {
        int final = -1;
        message[0] = '\0';
        for (char *line = reply; line && *line;) {
                char *end = strchr(line, '\n');
                if (!end)
                        break;
                *end = '\0';
                char *fields[MAX_STATUS_FIELDS];
                unsigned n = protocol_split_fields(line, fields, MAX_STATUS_FIELDS);
                if (n >= 1 && strcmp(fields[0], FINAL_OK) == 0) {
                        final = 0;
                        break;
                }
                if (n >= 1 && strcmp(fields[0], FINAL_ERROR) == 0) {
                        long code = EXIT_FAILED;
                        if (n < 2 || parse_long(fields[1], 0, 255, &code) < 0)
                                code = EXIT_FAILED;
                        snprintf(message, message_size, "%s", n >= 3 ? fields[2] : "");
                        final = code ? (int)code : EXIT_FAILED;
                        break;
                }
                if (fn)
                        fn(j, fields, n, data);
                line = end + 1;
        }
        return final;
}

/* ---- process records ---- */

struct process_info {
        char name[256], group[256], statename[16], spawnerr[256], stdout_log[4096], stderr_log[4096];
        long long start, stop, now, pid;
        long long heartbeat_rtt_usec;  /* -1: none (no heartbeat, or no pong yet) */
        int state, exitstatus;
};

static int state_code(const char *name) {
        static const struct {
                const char *name;
                int code;
        } states[] = {
                { "STOPPED", 0 }, { "STARTING", 10 }, { "RUNNING", 20 }, { "BACKOFF", 30 },
                { "STOPPING", 40 }, { "EXITED", 100 }, { "FATAL", 200 },
        };
        for (size_t i = 0; i < ELEMENTSOF(states); i++)
                if (strcmp(states[i].name, name) == 0)
                        return states[i].code;
        return 1000;
}

static long long field_number(const char *text) {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        return errno || end == text ? 0 : v;
}

static const char *dash_empty(const char *text) {
        return strcmp(text, "-") == 0 ? "" : text;
}

/* A STATUS record (protocol.h) as supervisord's process info. */
static bool parse_status(char **f, unsigned n, struct process_info *p) {
        if (n < 18 || strcmp(f[0], RECORD_STATUS) != 0)
                return false;
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", f[1]);
        snprintf(p->statename, sizeof p->statename, "%s", f[2]);
        p->state = state_code(f[2]);
        if (p->state == 1000)
                snprintf(p->statename, sizeof p->statename, "UNKNOWN");
        p->pid = field_number(f[3]);
        if (strncmp(f[5], "exit ", 5) == 0)
                p->exitstatus = (int)field_number(f[5] + 5);
        else if (strncmp(f[5], "signal ", 7) == 0)
                p->exitstatus = -1;  /* as supervisord's decode_wait_status */
        p->heartbeat_rtt_usec = f[8][0] >= '0' && f[8][0] <= '9' ? field_number(f[8]) : -1;
        snprintf(p->group, sizeof p->group, "%s", f[12]);
        p->start = field_number(f[13]);
        p->stop = field_number(f[14]);
        snprintf(p->spawnerr, sizeof p->spawnerr, "%s", dash_empty(f[15]));
        snprintf(p->stdout_log, sizeof p->stdout_log, "%s", dash_empty(f[16]));
        snprintf(p->stderr_log, sizeof p->stderr_log, "%s", dash_empty(f[17]));
        p->now = (long long)time(NULL);
        return true;
}

/* supervisord's description (rpcinterface.py, _interpretProcessInfo). */
static void describe(const struct process_info *p, char *buf, size_t size) {
        buf[0] = '\0';
        if (p->state == 20) {
                long long up = p->now - p->start;
                if (up < 0)
                        up = 0;
                long long days = up / 86400, rest = up % 86400;
                char days_text[48] = "";
                if (days)
                        snprintf(days_text, sizeof days_text, "%lld day%s, ", days, days == 1 ? "" : "s");
                snprintf(buf, size, "pid %lld, uptime %s%lld:%02lld:%02lld", p->pid, days_text, rest / 3600,
                         rest / 60 % 60, rest % 60);
        } else if (p->state == 200 || p->state == 30) {
                if (p->spawnerr[0])
                        snprintf(buf, size, "%s", p->spawnerr);
                else
                        snprintf(buf, size, "unknown error (try \"tail %s\")", p->name);
        } else if (p->state == 0 || p->state == 100) {
                if (p->start) {
                        time_t stop = (time_t)p->stop;
                        struct tm tm;
                        if (localtime_r(&stop, &tm))
                                strftime(buf, size, "%b %d %I:%M %p", &tm);
                } else
                        snprintf(buf, size, "Not started");
        }
}

static void write_process_info(struct rpc_job *j, const struct process_info *p) {
        struct xmlrpc_writer *w = &j->w;
        char description[512];
        describe(p, description, sizeof description);
        /* The order of supervisord's dict, which its clients print as they get it. */
        xmlrpc_begin_struct(w);
        xmlrpc_member(w, "name");
        xmlrpc_write_cstring(w, p->name);
        xmlrpc_member(w, "group");
        xmlrpc_write_cstring(w, p->group);
        xmlrpc_member(w, "start");
        xmlrpc_write_int(w, p->start);
        xmlrpc_member(w, "stop");
        xmlrpc_write_int(w, p->stop);
        xmlrpc_member(w, "now");
        xmlrpc_write_int(w, p->now);
        xmlrpc_member(w, "state");
        xmlrpc_write_int(w, p->state);
        xmlrpc_member(w, "statename");
        xmlrpc_write_cstring(w, p->statename);
        xmlrpc_member(w, "spawnerr");
        xmlrpc_write_cstring(w, p->spawnerr);
        xmlrpc_member(w, "exitstatus");
        xmlrpc_write_int(w, p->exitstatus);
        xmlrpc_member(w, "logfile");
        xmlrpc_write_cstring(w, p->stdout_log);
        xmlrpc_member(w, "stdout_logfile");
        xmlrpc_write_cstring(w, p->stdout_log);
        xmlrpc_member(w, "stderr_logfile");
        xmlrpc_write_cstring(w, p->stderr_log);
        xmlrpc_member(w, "pid");
        xmlrpc_write_int(w, p->pid);
        xmlrpc_member(w, "description");
        xmlrpc_write_cstring(w, description);
        /* Ours, for the web page: supervisord's clients read the members they know. */
        if (p->heartbeat_rtt_usec >= 0) {
                xmlrpc_member(w, "heartbeat_rtt_usec");
                xmlrpc_write_int(w, p->heartbeat_rtt_usec);
        }
        xmlrpc_end_struct(w);
}

/* ---- requests to supervisord ---- */

typedef void (*answer_fn)(struct rpc_job *j, char *reply);

struct pending {
        struct rpc_job *job;
        answer_fn answer;
};

static void on_native(const char *reply, size_t len, void *userdata) {
        struct pending *p = userdata;
        struct rpc_job *j = p->job;
        answer_fn answer = p->answer;
        free(p);
        j->reply_len = len;
        j->asked_again = false;
        if (!reply)
                result_fault(j, FAULT_FAILED, "supervisord did not answer");
        else
                answer(j, (char *)reply);
        if (!j->asked_again)
                job_continue(j);
}

/* Send LINE; ANSWER writes the result.  Returns false (the result comes later), or true
 * when the request could not even be sent (then the fault is written). */
static bool ask(struct rpc_job *j, answer_fn answer, const char *format, ...) __attribute__((format(printf, 3, 4)));
static bool ask(struct rpc_job *j, answer_fn answer, const char *format, ...) {
        char line[PROTOCOL_MAX_REQUEST];
        va_list ap;
        va_start(ap, format);
        int n = vsnprintf(line, sizeof line, format, ap);
        va_end(ap);
        struct pending *p = malloc(sizeof *p);
        if (n < 0 || (size_t)n >= sizeof line || !p) {
                free(p);
                result_fault(j, FAULT_FAILED, "request too long");
                return true;
        }
        p->job = j;
        p->answer = answer;
        if (native_request(line, on_native, p) < 0) {
                free(p);
                result_fault(j, FAULT_FAILED, "cannot reach supervisord");
                return true;
        }
        return false;
}

/* ---- supervisor.* ---- */

static bool m_api_version(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (want_params(j, n, 0, 0))
                result_string(j, "3.0");
        return true;
}

static bool m_identification(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (want_params(j, n, 0, 0))
                result_string(j, "supervisor");
        return true;
}

static bool m_state(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        result_begin(j);
        xmlrpc_begin_struct(&j->w);
        xmlrpc_member(&j->w, "statecode");
        xmlrpc_write_int(&j->w, 1);
        xmlrpc_member(&j->w, "statename");
        xmlrpc_write_cstring(&j->w, "RUNNING");
        xmlrpc_end_struct(&j->w);
        result_end(j);
        return true;
}

static void find_record(struct rpc_job *j, char **f, unsigned n, void *data) {
        (void)j;
        const char **want = data;
        if (n >= 2 && strcmp(f[0], want[0]) == 0 && !want[1])
                want[1] = f[1];
}

static void answer_version(struct rpc_job *j, char *reply) {
        const char *want[2] = { RECORD_VERSION, NULL };
        char message[512];
        int final = each_line(j, reply, find_record, want, message, sizeof message);
        if (final != 0 || !want[1])
                result_fault(j, FAULT_FAILED, "%s", message);
        else
                result_string(j, want[1]);
}

static bool m_supervisor_version(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        return ask(j, answer_version, "version");
}

static void answer_pid(struct rpc_job *j, char *reply) {
        const char *want[2] = { RECORD_PID, NULL };
        char message[512];
        int final = each_line(j, reply, find_record, want, message, sizeof message);
        if (final != 0 || !want[1])
                result_fault(j, FAULT_FAILED, "%s", message);
        else {
                result_begin(j);
                xmlrpc_write_int(&j->w, field_number(want[1]));
                result_end(j);
        }
}

static bool m_pid(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        return ask(j, answer_pid, "pid");
}

struct info_list {
        struct process_info *items;
        size_t n, size;
        bool failed;
};

static void collect_status(struct rpc_job *j, char **f, unsigned n, void *data) {
        (void)j;
        struct info_list *l = data;
        if (l->failed)
                return;
        if (l->n == l->size) {
                size_t size = l->size ? l->size * 2 : 16;
                struct process_info *p = realloc(l->items, size * sizeof *p);
                if (!p) {
                        l->failed = true;
                        return;
                }
                l->items = p;
                l->size = size;
        }
        if (parse_status(f, n, &l->items[l->n]))
                l->n++;
}

static int info_compare(const void *a, const void *b) {
        const struct process_info *x = a, *y = b;
        int r = strcmp(x->group, y->group);
        return r ? r : strcmp(x->name, y->name);
}

static void answer_info(struct rpc_job *j, char *reply) {
        struct info_list l = { 0 };
        char message[512];
        int final = each_line(j, reply, collect_status, &l, message, sizeof message);
        if (final == EXIT_NO_SUCH_SERVICE || (final == 0 && l.n == 0))
                result_fault(j, FAULT_BAD_NAME, "%s", j->target);
        else if (final != 0 || l.failed)
                result_fault(j, FAULT_FAILED, "%s", l.failed ? "out of memory" : message);
        else {
                result_begin(j);
                write_process_info(j, &l.items[0]);
                result_end(j);
        }
        free(l.items);
}

static bool m_process_info(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        const char *spec;
        if (!want_params(j, n, 1, 1) || !param_string(j, params[0], &spec))
                return true;
        snprintf(j->target, sizeof j->target, "%s", spec);
        char name[256];
        bool group;
        if (!namespec(spec, name, sizeof name, &group) || group) {
                result_fault(j, FAULT_BAD_NAME, "%s", spec);
                return true;
        }
        return ask(j, answer_info, "status %s", name);
}

static void answer_all_info(struct rpc_job *j, char *reply) {
        struct info_list l = { 0 };
        char message[512];
        int final = each_line(j, reply, collect_status, &l, message, sizeof message);
        if (final != 0 || l.failed)
                result_fault(j, FAULT_FAILED, "%s", l.failed ? "out of memory" : message);
        else {
                if (l.n > 0)  /* no processes: no array at all */
                        qsort(l.items, l.n, sizeof *l.items, info_compare);
                result_begin(j);
                xmlrpc_begin_array(&j->w);
                for (size_t i = 0; i < l.n; i++)
                        write_process_info(j, &l.items[i]);
                xmlrpc_end_array(&j->w);
                result_end(j);
        }
        free(l.items);
}

static bool m_all_process_info(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        return ask(j, answer_all_info, "status");
}

/* ---- start, stop, signal ---- */

struct action_result {
        char name[256];
        int fault;        /* FAULT_SUCCESS or the fault */
        char reason[256];
};

struct action_list {
        struct action_result *items;
        size_t n, size;
        bool failed;
        bool skip_already;  /* the Group and All calls leave out what needed nothing */
        int action;         /* 's' start, 't' stop, 'k' signal */
};

/* The engine's code (RESULT's fifth field) as supervisord's fault. */
static int fault_of(int action, const char *code) {
        if (strcmp(code, "ok") == 0)
                return FAULT_SUCCESS;
        if (strcmp(code, "already") == 0)
                return action == 's' ? FAULT_ALREADY_STARTED : FAULT_NOT_RUNNING;
        if (strcmp(code, "busy") == 0)
                return action == 's' ? FAULT_ALREADY_STARTED : FAULT_FAILED;
        if (strcmp(code, "no-such-name") == 0 || strcmp(code, "gone") == 0)
                return FAULT_BAD_NAME;
        if (strcmp(code, "not-running") == 0)
                return FAULT_NOT_RUNNING;
        if (strcmp(code, "no-file") == 0)
                return FAULT_NO_FILE;
        if (strcmp(code, "spawn-error") == 0)
                return FAULT_SPAWN_ERROR;
        if (strcmp(code, "abnormal-termination") == 0)
                return FAULT_ABNORMAL_TERMINATION;
        if (strcmp(code, "shutting-down") == 0 || strcmp(code, "restarting") == 0)
                return FAULT_SHUTDOWN_STATE;
        return FAULT_FAILED;
}

static void collect_result(struct rpc_job *j, char **f, unsigned n, void *data) {
        (void)j;
        struct action_list *l = data;
        if (l->failed || n < 4 || strcmp(f[0], RECORD_RESULT) != 0)
                return;
        int fault = fault_of(l->action, n >= 5 ? f[4] : strcmp(f[2], "ok") == 0 ? "ok" : "failed");
        if (l->skip_already && n >= 5 && strcmp(f[4], "already") == 0)
                return;
        if (l->n == l->size) {
                size_t size = l->size ? l->size * 2 : 16;
                struct action_result *p = realloc(l->items, size * sizeof *p);
                if (!p) {
                        l->failed = true;
                        return;
                }
                l->items = p;
                l->size = size;
        }
        struct action_result *r = &l->items[l->n++];
        snprintf(r->name, sizeof r->name, "%s", f[1]);
        r->fault = fault;
        snprintf(r->reason, sizeof r->reason, "%s", f[3]);
}

/* The group of process NAME: the service, NAME without its "@K". */
static void group_of(const char *name, char *buf, size_t size) {
        const char *at = strrchr(name, '@');
        snprintf(buf, size, "%.*s", at ? (int)(at - name) : (int)strlen(name), name);
}

static int action_parse(struct rpc_job *j, char *reply, struct action_list *l, char *message, size_t size) {
        int final = each_line(j, reply, collect_result, l, message, size);
        return final;
}

/* One process: true, or its fault. */
static void answer_one(struct rpc_job *j, char *reply, int action) {
        struct action_list l = { .action = action };
        char message[512];
        int final = action_parse(j, reply, &l, message, sizeof message);
        if (final == EXIT_NO_SUCH_SERVICE)
                result_fault(j, FAULT_BAD_NAME, "%s", j->target);
        else if (final == EXIT_USAGE && action == 'k')
                result_fault(j, FAULT_BAD_SIGNAL, "%s", j->group);
        else if (l.failed)
                result_fault(j, FAULT_FAILED, "out of memory");
        else if (l.n == 0) {
                if (final == 0)
                        result_boolean(j, true);
                else
                        result_fault(j, strstr(message, "shutting down") ? FAULT_SHUTDOWN_STATE : FAULT_FAILED, "%s",
                                     message);
        } else if (l.items[0].fault == FAULT_SUCCESS)
                result_boolean(j, true);
        else if (l.items[0].fault == FAULT_FAILED)
                result_fault(j, FAULT_FAILED, "%s", l.items[0].reason);
        else
                result_fault(j, l.items[0].fault, "%s", j->target);
        free(l.items);
}

static void answer_start(struct rpc_job *j, char *reply) {
        answer_one(j, reply, 's');
}
static void answer_stop(struct rpc_job *j, char *reply) {
        answer_one(j, reply, 't');
}
static void answer_signal(struct rpc_job *j, char *reply) {
        answer_one(j, reply, 'k');
}

/* One struct of an array of results, as supervisord's: name, group, status (the fault
 * code, 80 for success), description. */
static void write_action_status(struct rpc_job *j, const struct action_result *r, const char *group, const char *text) {
        xmlrpc_begin_struct(&j->w);
        xmlrpc_member(&j->w, "name");
        xmlrpc_write_cstring(&j->w, r->name);
        xmlrpc_member(&j->w, "group");
        xmlrpc_write_cstring(&j->w, group);
        xmlrpc_member(&j->w, "status");
        xmlrpc_write_int(&j->w, r->fault);
        xmlrpc_member(&j->w, "description");
        xmlrpc_write_cstring(&j->w, text);
        xmlrpc_end_struct(&j->w);
}

/* Many: [{name, group, status, description}]. */
static void answer_many(struct rpc_job *j, char *reply, int action) {
        struct action_list l = { .action = action, .skip_already = true };
        char message[512];
        int final = action_parse(j, reply, &l, message, sizeof message);
        if (final == EXIT_NO_SUCH_SERVICE)
                result_fault(j, FAULT_BAD_NAME, "%s", j->target);
        else if (final == EXIT_USAGE && action == 'k')
                result_fault(j, FAULT_BAD_SIGNAL, "%s", j->group);
        else if (l.failed)
                result_fault(j, FAULT_FAILED, "out of memory");
        else if (l.n == 0 && final != 0 && final != EXIT_FAILED)
                result_fault(j, FAULT_FAILED, "%s", message);
        else if (l.n == 0 && final == EXIT_FAILED && strstr(message, "shutting down"))
                result_fault(j, FAULT_SHUTDOWN_STATE, NULL);
        else {
                result_begin(j);
                xmlrpc_begin_array(&j->w);
                for (size_t i = 0; i < l.n; i++) {
                        const struct action_result *r = &l.items[i];
                        char group[256], text[600];
                        group_of(r->name, group, sizeof group);
                        if (r->fault == FAULT_SUCCESS)
                                snprintf(text, sizeof text, "OK");
                        else if (r->fault == FAULT_FAILED)
                                fault_text(text, sizeof text, r->fault, r->reason);
                        else {
                                char spec[520];
                                snprintf(spec, sizeof spec, "%s:%s", group, r->name);
                                fault_text(text, sizeof text, r->fault, spec);
                        }
                        write_action_status(j, r, group, text);
                }
                xmlrpc_end_array(&j->w);
                result_end(j);
        }
        free(l.items);
}

static void answer_start_many(struct rpc_job *j, char *reply) {
        answer_many(j, reply, 's');
}
static void answer_stop_many(struct rpc_job *j, char *reply) {
        answer_many(j, reply, 't');
}
static void answer_signal_many(struct rpc_job *j, char *reply) {
        answer_many(j, reply, 'k');
}

/* `wait`: a boolean, or an int (supervisord-monitor sends 1). */
static bool param_wait(struct rpc_job *j, struct xmlrpc_value **params, size_t n, size_t at) {
        if (n <= at)
                return true;
        if (params[at]->type != XMLRPC_BOOLEAN && params[at]->type != XMLRPC_INT) {
                result_fault(j, FAULT_INCORRECT_PARAMETERS, NULL);
                return false;
        }
        return true;
}

static bool process_call(struct rpc_job *j, struct xmlrpc_value **params, size_t n, const char *verb, answer_fn one,
                         answer_fn many) {
        const char *spec;
        if (!want_params(j, n, 1, 2) || !param_string(j, params[0], &spec) || !param_wait(j, params, n, 1))
                return true;
        snprintf(j->target, sizeof j->target, "%s", spec);
        char name[256];
        bool group;
        if (!namespec(spec, name, sizeof name, &group)) {
                result_fault(j, FAULT_BAD_NAME, "%s", spec);
                return true;
        }
        return ask(j, group ? many : one, "%s %s", verb, name);
}

static bool group_call(struct rpc_job *j, struct xmlrpc_value **params, size_t n, const char *verb, answer_fn many) {
        const char *group;
        if (!want_params(j, n, 1, 2) || !param_string(j, params[0], &group) || !param_wait(j, params, n, 1))
                return true;
        snprintf(j->target, sizeof j->target, "%s", group);
        if (!name_is_word(group) || strchr(group, ':') || strchr(group, '@') || strcmp(group, "all") == 0) {
                result_fault(j, FAULT_BAD_NAME, "%s", group);
                return true;
        }
        return ask(j, many, "%s %s", verb, group);
}

static bool all_call(struct rpc_job *j, struct xmlrpc_value **params, size_t n, const char *verb, answer_fn many) {
        if (!want_params(j, n, 0, 1) || !param_wait(j, params, n, 0))
                return true;
        return ask(j, many, "%s all", verb);
}

static bool m_start(struct rpc_job *j, struct xmlrpc_value **p, size_t n) {
        return process_call(j, p, n, "start", answer_start, answer_start_many);
}
static bool m_stop(struct rpc_job *j, struct xmlrpc_value **p, size_t n) {
        return process_call(j, p, n, "stop", answer_stop, answer_stop_many);
}
static bool m_start_group(struct rpc_job *j, struct xmlrpc_value **p, size_t n) {
        return group_call(j, p, n, "start", answer_start_many);
}
static bool m_stop_group(struct rpc_job *j, struct xmlrpc_value **p, size_t n) {
        return group_call(j, p, n, "stop", answer_stop_many);
}
static bool m_start_all(struct rpc_job *j, struct xmlrpc_value **p, size_t n) {
        return all_call(j, p, n, "start", answer_start_many);
}
static bool m_stop_all(struct rpc_job *j, struct xmlrpc_value **p, size_t n) {
        return all_call(j, p, n, "stop", answer_stop_many);
}

/* The signal parameter: a name ("HUP", "SIGHUP") or a number, as a word for the request. */
static bool param_signal(struct rpc_job *j, const struct xmlrpc_value *v, char *buf, size_t size) {
        if (v->type == XMLRPC_INT)
                snprintf(buf, size, "%lld", v->integer);
        else if (v->type == XMLRPC_STRING && strlen(v->string) == v->length)
                snprintf(buf, size, "%s", v->string);
        else {
                result_fault(j, FAULT_INCORRECT_PARAMETERS, NULL);
                return false;
        }
        snprintf(j->group, sizeof j->group, "%s", buf);
        if (!name_is_word(buf) || signal_from_name(buf) < 0) {
                result_fault(j, FAULT_BAD_SIGNAL, "%s", buf);
                return false;
        }
        return true;
}

static bool m_signal(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        const char *spec;
        char sig[64], name[256];
        bool group;
        if (!want_params(j, n, 2, 2) || !param_string(j, params[0], &spec) || !param_signal(j, params[1], sig, sizeof sig))
                return true;
        snprintf(j->target, sizeof j->target, "%s", spec);
        if (!namespec(spec, name, sizeof name, &group)) {
                result_fault(j, FAULT_BAD_NAME, "%s", spec);
                return true;
        }
        return ask(j, group ? answer_signal_many : answer_signal, "signal %s %s", sig, name);
}

static bool m_signal_group(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        const char *group;
        char sig[64];
        if (!want_params(j, n, 2, 2) || !param_string(j, params[0], &group) || !param_signal(j, params[1], sig, sizeof sig))
                return true;
        snprintf(j->target, sizeof j->target, "%s", group);
        if (!name_is_word(group) || strchr(group, ':') || strcmp(group, "all") == 0) {
                result_fault(j, FAULT_BAD_NAME, "%s", group);
                return true;
        }
        return ask(j, answer_signal_many, "signal %s %s", sig, group);
}

static bool m_signal_all(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        char sig[64];
        if (!want_params(j, n, 1, 1) || !param_signal(j, params[0], sig, sizeof sig))
                return true;
        return ask(j, answer_signal_many, "signal %s all", sig);
}

/* ---- the configuration: reloadConfig, addProcessGroup, removeProcessGroup ---- */

struct name_lists {
        const char **names[3];  /* added, changed, removed: point into the reply */
        size_t n[3];
        bool failed;
};

static void collect_change(struct rpc_job *j, char **f, unsigned n, void *data) {
        (void)j;
        struct name_lists *l = data;
        static const char *const records[3] = { RECORD_ADDED, RECORD_CHANGED, RECORD_REMOVED };
        if (n < 2 || l->failed)
                return;
        for (int k = 0; k < 3; k++)
                if (strcmp(f[0], records[k]) == 0) {
                        const char **p = realloc(l->names[k], (l->n[k] + 1) * sizeof *p);
                        if (!p) {
                                l->failed = true;
                                return;
                        }
                        p[l->n[k]++] = f[1];
                        l->names[k] = p;
                }
}

/* [[added, changed, removed]], each an array of group names. */
static void answer_reread(struct rpc_job *j, char *reply) {
        struct name_lists l = { 0 };
        char message[512];
        int final = each_line(j, reply, collect_change, &l, message, sizeof message);
        if (l.failed)
                result_fault(j, FAULT_FAILED, "out of memory");
        else if (final != 0 && strstr(message, "shutting down"))
                result_fault(j, FAULT_SHUTDOWN_STATE, NULL);
        else if (final != 0)
                result_fault(j, FAULT_CANT_REREAD, "%s", message);
        else {
                result_begin(j);
                xmlrpc_begin_array(&j->w);
                xmlrpc_begin_array(&j->w);
                for (int k = 0; k < 3; k++) {
                        xmlrpc_begin_array(&j->w);
                        for (size_t i = 0; i < l.n[k]; i++)
                                xmlrpc_write_cstring(&j->w, l.names[k][i]);
                        xmlrpc_end_array(&j->w);
                }
                xmlrpc_end_array(&j->w);
                xmlrpc_end_array(&j->w);
                result_end(j);
        }
        for (int k = 0; k < 3; k++)
                free(l.names[k]);
}

static bool m_reload_config(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        return ask(j, answer_reread, "reread");
}

/* ---- getAllConfigInfo ---- */

#define CONFIG_FIELDS 21  /* of a CONFIG record, its name included (protocol.h) */

struct config_list {
        char *(*items)[CONFIG_FIELDS];  /* fields, pointing into the reply */
        size_t n;
        bool failed;
};

static void collect_config(struct rpc_job *j, char **f, unsigned n, void *data) {
        (void)j;
        struct config_list *l = data;
        if (l->failed || n < CONFIG_FIELDS || strcmp(f[0], RECORD_CONFIG) != 0)
                return;
        char *(*grown)[CONFIG_FIELDS] = realloc(l->items, (l->n + 1) * sizeof *grown);
        if (!grown) {
                l->failed = true;
                return;
        }
        memcpy(grown[l->n++], f, sizeof *grown);
        l->items = grown;
}

/* supervisord sorts by process name alone; the group settles ties. */
static int config_compare(const void *a, const void *b) {
        char *const *x = a, *const *y = b;
        int r = strcmp(x[1], y[1]);
        return r ? r : strcmp(x[2], y[2]);
}

/* "-" as supervisord's None, which its interface sends as "none". */
static void write_or_none(struct xmlrpc_writer *w, const char *text) {
        xmlrpc_write_cstring(w, strcmp(text, "-") == 0 ? "none" : text);
}

static void write_config_info(struct rpc_job *j, char *const *f) {
        struct xmlrpc_writer *w = &j->w;
        /* The members of supervisord's record, in its order. */
        xmlrpc_begin_struct(w);
        xmlrpc_member(w, "autostart");
        xmlrpc_write_boolean(w, strcmp(f[4], "1") == 0);
        xmlrpc_member(w, "directory");
        write_or_none(w, f[8]);
        xmlrpc_member(w, "uid");
        if (strcmp(f[9], "-") == 0)
                xmlrpc_write_cstring(w, "none");
        else
                xmlrpc_write_int(w, field_number(f[9]));
        xmlrpc_member(w, "command");
        xmlrpc_write_cstring(w, dash_empty(f[7]));
        xmlrpc_member(w, "exitcodes");
        xmlrpc_begin_array(w);
        for (const char *p = f[10]; *p >= '0' && *p <= '9';) {
                char *end;
                xmlrpc_write_int(w, strtol(p, &end, 10));
                p = *end == ',' ? end + 1 : end;
        }
        xmlrpc_end_array(w);
        xmlrpc_member(w, "group");
        xmlrpc_write_cstring(w, f[2]);
        xmlrpc_member(w, "group_prio");
        xmlrpc_write_int(w, field_number(f[5]));
        xmlrpc_member(w, "inuse");
        xmlrpc_write_boolean(w, strcmp(f[3], "1") == 0);
        xmlrpc_member(w, "killasgroup");
        xmlrpc_write_boolean(w, true);  /* a stop signals the process's whole group */
        xmlrpc_member(w, "name");
        xmlrpc_write_cstring(w, f[1]);
        xmlrpc_member(w, "process_prio");
        xmlrpc_write_int(w, field_number(f[6]));
        xmlrpc_member(w, "redirect_stderr");
        xmlrpc_write_boolean(w, strcmp(f[15], "1") == 0);
        xmlrpc_member(w, "startretries");
        xmlrpc_write_int(w, field_number(f[12]));
        xmlrpc_member(w, "startsecs");
        xmlrpc_write_int(w, field_number(f[11]));
        for (int fd = 1; fd <= 2; fd++) {
                const char *channel = fd == 1 ? "stdout" : "stderr";
                char member[40];
                snprintf(member, sizeof member, "%s_capture_maxbytes", channel);
                xmlrpc_member(w, member);
                xmlrpc_write_int(w, field_number(f[20]));
                snprintf(member, sizeof member, "%s_events_enabled", channel);
                xmlrpc_member(w, member);
                xmlrpc_write_boolean(w, false);
                snprintf(member, sizeof member, "%s_logfile", channel);
                xmlrpc_member(w, member);
                write_or_none(w, f[fd == 1 ? 16 : 17]);
                snprintf(member, sizeof member, "%s_logfile_backups", channel);
                xmlrpc_member(w, member);
                xmlrpc_write_int(w, field_number(f[19]));
                snprintf(member, sizeof member, "%s_logfile_maxbytes", channel);
                xmlrpc_member(w, member);
                xmlrpc_write_int(w, field_number(f[18]));
                snprintf(member, sizeof member, "%s_syslog", channel);
                xmlrpc_member(w, member);
                xmlrpc_write_boolean(w, false);
                if (fd == 1) {  /* supervisord's order puts these between the two channels */
                        xmlrpc_member(w, "stopsignal");
                        xmlrpc_write_int(w, field_number(f[13]));
                        xmlrpc_member(w, "stopwaitsecs");
                        xmlrpc_write_int(w, field_number(f[14]));
                }
        }
        xmlrpc_member(w, "serverurl");
        xmlrpc_write_cstring(w, "none");  /* supervisord's for the default, AUTO */
        xmlrpc_end_struct(w);
}

static void answer_all_config_info(struct rpc_job *j, char *reply) {
        struct config_list l = { 0 };
        char message[512];
        int final = each_line(j, reply, collect_config, &l, message, sizeof message);
        if (l.failed)
                result_fault(j, FAULT_FAILED, "out of memory");
        else if (final != 0 && strstr(message, "shutting down"))
                result_fault(j, FAULT_SHUTDOWN_STATE, NULL);
        else if (final != 0)
                result_fault(j, FAULT_FAILED, "%s", message);
        else {
                if (l.n > 0)
                        qsort(l.items, l.n, sizeof *l.items, config_compare);
                result_begin(j);
                xmlrpc_begin_array(&j->w);
                for (size_t i = 0; i < l.n; i++)
                        write_config_info(j, l.items[i]);
                xmlrpc_end_array(&j->w);
                result_end(j);
        }
        free(l.items);
}

static bool m_all_config_info(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        return ask(j, answer_all_config_info, "avail");
}

/* The RESULT of the group named (add and remove answer one per group first). */
struct group_result {
        const char *name;
        char code[32], reason[256];
        bool found;
};

static void find_group_result(struct rpc_job *j, char **f, unsigned n, void *data) {
        (void)j;
        struct group_result *g = data;
        if (g->found || n < 5 || strcmp(f[0], RECORD_RESULT) != 0 || strcmp(f[1], g->name) != 0)
                return;
        g->found = true;
        snprintf(g->code, sizeof g->code, "%s", f[4]);
        snprintf(g->reason, sizeof g->reason, "%s", f[3]);
}

static void answer_group_change(struct rpc_job *j, char *reply) {
        struct group_result g = { .name = j->target };
        char message[512];
        int final = each_line(j, reply, find_group_result, &g, message, sizeof message);
        const char *code = g.found ? g.code : "";
        if (strcmp(code, "added") == 0 || strcmp(code, "removed") == 0)
                result_boolean(j, true);
        else if (strcmp(code, "already-added") == 0)
                result_fault(j, FAULT_ALREADY_ADDED, "%s", j->target);
        else if (strcmp(code, "still-running") == 0)
                result_fault(j, FAULT_STILL_RUNNING, "%s", j->target);
        else if (strcmp(code, "no-such-name") == 0 || (!g.found && final == EXIT_NO_SUCH_SERVICE))
                result_fault(j, FAULT_BAD_NAME, "%s", j->target);
        else if (strcmp(code, "shutting-down") == 0 || (!g.found && strstr(message, "shutting down")))
                result_fault(j, FAULT_SHUTDOWN_STATE, NULL);
        else if (!g.found && final != 0 && final != -1)
                /* The config could not be read: add reads it as it is now. */
                result_fault(j, FAULT_CANT_REREAD, "%s", message);
        else
                result_fault(j, FAULT_FAILED, "%s", g.found ? g.reason : message);
}

static bool group_change(struct rpc_job *j, struct xmlrpc_value **params, size_t n, const char *verb) {
        const char *group;
        if (!want_params(j, n, 1, 1) || !param_string(j, params[0], &group))
                return true;
        snprintf(j->target, sizeof j->target, "%s", group);
        if (!name_is_word(group) || strchr(group, ':') || strchr(group, '@') || strcmp(group, "all") == 0) {
                result_fault(j, FAULT_BAD_NAME, "%s", group);
                return true;
        }
        return ask(j, answer_group_change, "%s %s", verb, group);
}

static bool m_add_group(struct rpc_job *j, struct xmlrpc_value **p, size_t n) {
        return group_change(j, p, n, "add");
}
static bool m_remove_group(struct rpc_job *j, struct xmlrpc_value **p, size_t n) {
        return group_change(j, p, n, "remove");
}

/* ---- the main log: readLog, clearLog ---- */

/* An answer of readlog or clearlog that is an ERROR: NO_FILE when there is no file. */
static void mainlog_fault(struct rpc_job *j, const char *message) {
        if (strncmp(message, "no main log file", 16) == 0)
                result_fault(j, FAULT_NO_FILE, "%s", message);
        else if (strstr(message, "shutting down"))
                result_fault(j, FAULT_SHUTDOWN_STATE, NULL);
        else
                result_fault(j, FAULT_FAILED, "%s", message);
}

/* LOGSIZE, then at most one DATA record with its raw bytes, then the final line. */
static void answer_readlog(struct rpc_job *j, char *reply) {
        char *end = reply + j->reply_len, *p = reply;
        const char *data = "";
        size_t size = 0;
        while (p < end) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                        break;
                *nl = '\0';
                char *fields[4];
                unsigned n = protocol_split_fields(p, fields, 4);
                p = nl + 1;
                if (n >= 2 && strcmp(fields[0], RECORD_DATA) == 0) {
                        long long want = field_number(fields[1]);
                        if (want < 0 || want > end - p)
                                break;
                        data = p;
                        size = (size_t)want;
                        p += want;
                } else if (n >= 1 && strcmp(fields[0], FINAL_OK) == 0) {
                        result_begin(j);
                        xmlrpc_write_string(&j->w, data, size);
                        result_end(j);
                        return;
                } else if (n >= 1 && strcmp(fields[0], FINAL_ERROR) == 0) {
                        mainlog_fault(j, n >= 3 ? fields[2] : "");
                        return;
                }
        }
        result_fault(j, FAULT_FAILED, "supervisord's answer was cut off");
}

static bool param_int(struct rpc_job *j, const struct xmlrpc_value *v, long long *ret) {
        if (v->type != XMLRPC_INT) {
                result_fault(j, FAULT_INCORRECT_PARAMETERS, NULL);
                return false;
        }
        *ret = v->integer;
        return true;
}

static bool m_read_log(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        long long offset, length;
        if (!want_params(j, n, 2, 2) || !param_int(j, params[0], &offset) || !param_int(j, params[1], &length))
                return true;
        /* supervisord's readFile: a negative length, or a length with a negative offset
         * (the last -offset bytes), are bad arguments. */
        if (length < 0 || (offset < 0 && length > 0) || offset < -(1LL << 40) || offset > 1LL << 40
            || length > 1LL << 40) {
                result_fault(j, FAULT_BAD_ARGUMENTS, NULL);
                return true;
        }
        return ask(j, answer_readlog, "readlog %lld %lld", offset, length);
}

static void answer_clearlog(struct rpc_job *j, char *reply) {
        char message[512];
        int final = each_line(j, reply, NULL, NULL, message, sizeof message);
        if (final == 0)
                result_boolean(j, true);
        else
                mainlog_fault(j, message);
}

static bool m_clear_log(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        return ask(j, answer_clearlog, "clearlog");
}

/* ---- processes' logs: read*Log, tail*Log ---- */

/* A readlog or readproclog answer: LOGSIZE, at most one DATA record, the final line.
 * 0 with the bytes in *RET_DATA (pointing into REPLY) and the file's size; the ERROR's
 * code with its message; -1 when the answer was cut off. */
static int read_answer(struct rpc_job *j, char *reply, const char **ret_data, size_t *ret_size,
                       long long *ret_file_size, char *message, size_t message_size) {
        char *end = reply + j->reply_len, *p = reply;
        *ret_data = "";
        *ret_size = 0;
        *ret_file_size = 0;
        message[0] = '\0';
        while (p < end) {
                char *nl = memchr(p, '\n', (size_t)(end - p));
                if (!nl)
                        break;
                *nl = '\0';
                char *fields[4];
                unsigned n = protocol_split_fields(p, fields, 4);
                p = nl + 1;
                if (n >= 2 && strcmp(fields[0], RECORD_LOGSIZE) == 0)
                        *ret_file_size = field_number(fields[1]);
                else if (n >= 2 && strcmp(fields[0], RECORD_DATA) == 0) {
                        long long want = field_number(fields[1]);
                        if (want < 0 || want > end - p)
                                break;
                        *ret_data = p;
                        *ret_size = (size_t)want;
                        p += want;
                } else if (n >= 1 && strcmp(fields[0], FINAL_OK) == 0)
                        return 0;
                else if (n >= 1 && strcmp(fields[0], FINAL_ERROR) == 0) {
                        long code = EXIT_FAILED;
                        if (n < 2 || parse_long(fields[1], 1, 255, &code) < 0)
                                code = EXIT_FAILED;
                        snprintf(message, message_size, "%s", n >= 3 ? fields[2] : "");
                        return (int)code;
                }
        }
        return -1;
}

/* readproclog's errors as supervisord's faults; true when there was one. */
static bool proclog_fault(struct rpc_job *j, int final, const char *message) {
        if (final == 0)
                return false;
        if (final < 0)
                result_fault(j, FAULT_FAILED, "supervisord's answer was cut off");
        else if (final == EXIT_NO_SUCH_SERVICE || final == EXIT_USAGE)
                result_fault(j, FAULT_BAD_NAME, "%s", j->target);
        else if (strncmp(message, "no log file", 11) == 0)
                /* supervisord names the file, which is None for a stream sent nowhere */
                result_fault(j, FAULT_NO_FILE, "None");
        else if (strstr(message, "shutting down"))
                result_fault(j, FAULT_SHUTDOWN_STATE, NULL);
        else
                result_fault(j, FAULT_FAILED, "%s", message);
        return true;
}

static void answer_read_process_log(struct rpc_job *j, char *reply) {
        const char *data;
        size_t size;
        long long file_size;
        char message[512];
        int final = read_answer(j, reply, &data, &size, &file_size, message, sizeof message);
        if (proclog_fault(j, final, message))
                return;
        /* supervisord checks the name and the file first, then the arguments. */
        if (j->bad_arguments) {
                result_fault(j, FAULT_BAD_ARGUMENTS, NULL);
                return;
        }
        result_begin(j);
        xmlrpc_write_string(&j->w, data, size);
        result_end(j);
}

/* NAME, the one process of readProcess*Log and tailProcess*Log, into BUF; else a
 * BAD_NAME fault and false. */
static bool param_process(struct rpc_job *j, struct xmlrpc_value **params, char *buf, size_t size) {
        const char *spec;
        bool group;
        if (!param_string(j, params[0], &spec))
                return false;
        snprintf(j->target, sizeof j->target, "%s", spec);
        if (!namespec(spec, buf, size, &group) || group || strcmp(buf, "all") == 0) {
                result_fault(j, FAULT_BAD_NAME, "%s", spec);
                return false;
        }
        return true;
}

/* readProcessStdoutLog(name, offset, length) and readProcessStderrLog: supervisord's
 * readFile, by byte offset. */
static bool read_process_log(struct rpc_job *j, struct xmlrpc_value **params, size_t n, const char *stream) {
        char name[256];
        long long offset, length;
        if (!want_params(j, n, 3, 3) || !param_process(j, params, name, sizeof name) || !param_int(j, params[1], &offset)
            || !param_int(j, params[2], &length))
                return true;
        /* A length with a negative offset (the last -offset bytes), or a negative length. */
        j->bad_arguments = (offset < 0 && length != 0) || (offset >= 0 && length < 0);
        if (j->bad_arguments)
                return ask(j, answer_read_process_log, "readproclog %s %s 0 1", name, stream);
        /* Past what a file can hold reads as past its end, or as all of it. */
        if (offset > 1LL << 40)
                offset = 1LL << 40;
        if (offset < -(1LL << 40))
                offset = -(1LL << 40);
        if (length > 1LL << 40)
                length = 1LL << 40;
        return ask(j, answer_read_process_log, "readproclog %s %s %lld %lld", name, stream, offset, length);
}

static bool m_read_stdout_log(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        return read_process_log(j, params, n, "stdout");
}

static bool m_read_stderr_log(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        return read_process_log(j, params, n, "stderr");
}

/* supervisord's tailFile, worked out: the last LENGTH bytes of the file (all of it when
 * shorter), none when LENGTH is not positive or OFFSET is at or past the end; overflow
 * when the file holds more than OFFSET + LENGTH; the offset returned is its size. */
static void answer_tail_process_log(struct rpc_job *j, char *reply) {
        const char *data;
        size_t size;
        long long file_size;
        char message[512];
        int final = read_answer(j, reply, &data, &size, &file_size, message, sizeof message);
        if (final == 0 || (final > 0 && strncmp(message, "no log file", 11) == 0)) {
                long long end;
                bool overflow = final == 0 && (__builtin_add_overflow(j->offset, j->length, &end)
                                                       ? j->length < 0
                                                       : file_size > end);
                if (final != 0 || j->length <= 0 || j->offset >= file_size)
                        size = 0;
                result_begin(j);
                xmlrpc_begin_array(&j->w);
                xmlrpc_write_string(&j->w, data, size);
                xmlrpc_write_int(&j->w, final == 0 ? file_size : 0);
                xmlrpc_write_boolean(&j->w, overflow);
                xmlrpc_end_array(&j->w);
                result_end(j);
                return;
        }
        if (final == EXIT_NO_SUCH_SERVICE || final == EXIT_USAGE || final < 0) {
                proclog_fault(j, final, message);
                return;
        }
        /* A file that cannot be read: supervisord answers as for an empty one. */
        result_begin(j);
        xmlrpc_begin_array(&j->w);
        xmlrpc_write_string(&j->w, "", 0);
        xmlrpc_write_int(&j->w, j->offset);
        xmlrpc_write_boolean(&j->w, false);
        xmlrpc_end_array(&j->w);
        result_end(j);
}

/* tailProcessStdoutLog(name, offset, length) and tailProcessStderrLog. */
static bool tail_process_log(struct rpc_job *j, struct xmlrpc_value **params, size_t n, const char *stream) {
        char name[256];
        if (!want_params(j, n, 3, 3) || !param_process(j, params, name, sizeof name)
            || !param_int(j, params[1], &j->offset) || !param_int(j, params[2], &j->length))
                return true;
        /* One read gives both the bytes and the size they are measured against. */
        long long back = j->length > 0 ? j->length : 1;
        if (back > (long long)(4u << 20))
                back = 4u << 20;
        return ask(j, answer_tail_process_log, "readproclog %s %s %lld", name, stream, -back);
}

static bool m_tail_stdout_log(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        return tail_process_log(j, params, n, "stdout");
}

static bool m_tail_stderr_log(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        return tail_process_log(j, params, n, "stderr");
}

/* ---- processes' logs: clearProcessLogs, clearAllProcessLogs ---- */

/* clear's RESULT records: name ok|error message.  A process that logs to no file has
 * nothing to clear, which supervisord counts a success. */
static void collect_cleared(struct rpc_job *j, char **f, unsigned n, void *data) {
        (void)j;
        struct action_list *l = data;
        if (l->failed || n < 4 || strcmp(f[0], RECORD_RESULT) != 0)
                return;
        if (l->n == l->size) {
                size_t size = l->size ? l->size * 2 : 16;
                struct action_result *p = realloc(l->items, size * sizeof *p);
                if (!p) {
                        l->failed = true;
                        return;
                }
                l->items = p;
                l->size = size;
        }
        struct action_result *r = &l->items[l->n++];
        snprintf(r->name, sizeof r->name, "%s", f[1]);
        r->fault = strcmp(f[2], "ok") == 0 || strcmp(f[3], "no log file") == 0 ? FAULT_SUCCESS : FAULT_FAILED;
        snprintf(r->reason, sizeof r->reason, "%s", f[3]);
}

static void answer_clear_one(struct rpc_job *j, char *reply) {
        struct action_list l = { 0 };
        char message[512];
        int final = each_line(j, reply, collect_cleared, &l, message, sizeof message);
        if (final == EXIT_NO_SUCH_SERVICE)
                result_fault(j, FAULT_BAD_NAME, "%s", j->target);
        else if (l.failed)
                result_fault(j, FAULT_FAILED, "out of memory");
        else if (l.n == 1 && l.items[0].fault == FAULT_SUCCESS)
                result_boolean(j, true);
        else if (l.n > 1)  /* a group of several: supervisord names one process */
                result_fault(j, FAULT_BAD_NAME, "%s", j->target);
        else
                result_fault(j, FAULT_FAILED, "%s", j->target);
        free(l.items);
}

static bool m_clear_process_logs(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        const char *spec;
        if (!want_params(j, n, 1, 1) || !param_string(j, params[0], &spec))
                return true;
        snprintf(j->target, sizeof j->target, "%s", spec);
        char name[256];
        bool group;
        if (!namespec(spec, name, sizeof name, &group) || group || strcmp(name, "all") == 0) {
                result_fault(j, FAULT_BAD_NAME, "%s", spec);
                return true;
        }
        return ask(j, answer_clear_one, "clear %s", name);
}

static void answer_clear_all(struct rpc_job *j, char *reply) {
        struct action_list l = { 0 };
        char message[512];
        int final = each_line(j, reply, collect_cleared, &l, message, sizeof message);
        if (l.failed)
                result_fault(j, FAULT_FAILED, "out of memory");
        else if (final != 0 && final != EXIT_FAILED && final != EXIT_NO_SUCH_SERVICE)
                result_fault(j, FAULT_FAILED, "%s", message);
        else {
                result_begin(j);
                xmlrpc_begin_array(&j->w);
                for (size_t i = 0; i < l.n; i++) {
                        const struct action_result *r = &l.items[i];
                        char group[256], spec[520], text[600];
                        group_of(r->name, group, sizeof group);
                        if (strcmp(group, r->name) == 0)
                                snprintf(spec, sizeof spec, "%s", r->name);
                        else
                                snprintf(spec, sizeof spec, "%s:%s", group, r->name);
                        if (r->fault == FAULT_SUCCESS)
                                snprintf(text, sizeof text, "OK");
                        else
                                fault_text(text, sizeof text, r->fault, spec);
                        write_action_status(j, r, group, text);
                }
                xmlrpc_end_array(&j->w);
                result_end(j);
        }
        free(l.items);
}

static bool m_clear_all_process_logs(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        return ask(j, answer_clear_all, "clear all");
}

/* ---- shutdown, restart, sendRemoteCommEvent ---- */

static void answer_true(struct rpc_job *j, char *reply) {
        (void)reply;
        result_boolean(j, true);
}

static bool m_shutdown(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        /* As supervisord's: true once asked, not once everything has stopped (by then
         * the front-end itself is being stopped, and the answer would be lost). */
        struct pending *p = malloc(sizeof *p);
        if (!p) {
                result_fault(j, FAULT_FAILED, "out of memory");
                return true;
        }
        p->job = j;
        p->answer = answer_true;
        if (native_send("shutdown", on_native, p) < 0) {
                free(p);
                result_fault(j, FAULT_FAILED, "cannot reach supervisord");
                return true;
        }
        return false;
}

static void answer_reload(struct rpc_job *j, char *reply) {
        char message[512];
        int final = each_line(j, reply, NULL, NULL, message, sizeof message);
        if (final == 0)
                result_boolean(j, true);
        else if (strstr(message, "shutting down"))
                result_fault(j, FAULT_SHUTDOWN_STATE, NULL);
        else
                result_fault(j, FAULT_FAILED, "%s", message);
}

static bool m_restart(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        return ask(j, answer_reload, "reload");
}

/* TEXT percent-encoded as remote-event's words are (protocol.h): a blank, a control
 * byte or '%' as %XX, the rest as it is.  False when it does not fit in SIZE. */
static bool percent_encode(const char *text, size_t len, char *buf, size_t size) {
        size_t out = 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)text[i];
                if (out + 4 > size)
                        return false;
                if (c <= ' ' || c == 0x7f || c == '%')
                        out += (size_t)snprintf(buf + out, size - out, "%%%02X", c);
                else
                        buf[out++] = (char)c;
        }
        buf[out] = '\0';
        return true;
}

static void answer_remote_event(struct rpc_job *j, char *reply) {
        char message[512];
        int final = each_line(j, reply, NULL, NULL, message, sizeof message);
        if (final == 0)
                result_boolean(j, true);
        else
                result_fault(j, FAULT_FAILED, "%s", message);
}

static bool m_send_remote_event(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        const char *type, *data;
        if (!want_params(j, n, 2, 2) || !param_string(j, params[0], &type) || !param_string(j, params[1], &data))
                return true;
        static char type_text[PROTOCOL_MAX_REQUEST], data_text[PROTOCOL_MAX_REQUEST];  /* one call at a time */
        if (!percent_encode(type, strlen(type), type_text, sizeof type_text)
            || !percent_encode(data, strlen(data), data_text, sizeof data_text)) {
                result_fault(j, FAULT_FAILED, "request too long");
                return true;
        }
        if (!type_text[0]) {
                /* Our events name their type: the line protocol has no empty word. */
                result_fault(j, FAULT_INCORRECT_PARAMETERS, NULL);
                return true;
        }
        return ask(j, answer_remote_event, "remote-event %s%s%s", type_text, data_text[0] ? " " : "", data_text);
}

/* sendProcessStdin: bytes as many `stdin` requests as their encoding needs, in order. */
#define STDIN_CHUNK 3000  /* encoded bytes per request, well within PROTOCOL_MAX_REQUEST */

static bool stdin_send_next(struct rpc_job *j);

static void answer_stdin(struct rpc_job *j, char *reply) {
        struct action_list l = { .action = 'i' };
        char message[512];
        int final = action_parse(j, reply, &l, message, sizeof message);
        if (final == EXIT_NO_SUCH_SERVICE || final == EXIT_USAGE)
                result_fault(j, FAULT_BAD_NAME, "%s", j->target);
        else if (l.failed)
                result_fault(j, FAULT_FAILED, "out of memory");
        else if (l.n == 0 && final != 0)
                result_fault(j, strstr(message, "shutting down") ? FAULT_SHUTDOWN_STATE : FAULT_FAILED, "%s", message);
        else if (l.n > 0 && l.items[0].fault == FAULT_FAILED)
                result_fault(j, FAULT_FAILED, "%s", l.items[0].reason);
        else if (l.n > 0 && l.items[0].fault != FAULT_SUCCESS)
                result_fault(j, l.items[0].fault, "%s", j->target);
        else if (j->input_sent < j->input_len)
                j->asked_again = !stdin_send_next(j);
        else
                result_boolean(j, true);
        free(l.items);
}

/* The next request: false when it is out (its answer goes on), true when the result is
 * written (it could not be sent). */
static bool stdin_send_next(struct rpc_job *j) {
        static char text[STDIN_CHUNK + 4];  /* one call at a time */
        size_t out = 0, i = j->input_sent;
        for (; i < j->input_len; i++) {
                unsigned char c = (unsigned char)j->input[i];
                size_t need = c <= ' ' || c == 0x7f || c == '%' ? 3 : 1;
                if (out + need > STDIN_CHUNK)
                        break;
                if (need == 3)
                        out += (size_t)snprintf(text + out, sizeof text - out, "%%%02X", c);
                else
                        text[out++] = (char)c;
        }
        text[out] = '\0';
        j->input_sent = i;
        return ask(j, answer_stdin, "stdin %s%s%s", j->input_name, out ? " " : "", text);
}

static bool m_send_stdin(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        const char *spec, *chars;
        /* XML carries no NUL byte: the bytes are a string of strlen's length. */
        if (!want_params(j, n, 2, 2) || !param_string(j, params[0], &spec) || !param_string(j, params[1], &chars))
                return true;
        snprintf(j->target, sizeof j->target, "%s", spec);
        bool group;
        if (!namespec(spec, j->input_name, sizeof j->input_name, &group) || group) {
                result_fault(j, FAULT_BAD_NAME, "%s", spec);
                return true;
        }
        j->input = chars;
        j->input_len = params[1]->length;
        j->input_sent = 0;
        return stdin_send_next(j);
}

/* ---- system.* ---- */

static int name_compare(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool m_list_methods(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        if (!want_params(j, n, 0, 0))
                return true;
        const char *names[64];
        size_t count = 0;
        for (size_t i = 0; i < n_methods && count < ELEMENTSOF(names); i++)
                names[count++] = methods[i].name;
        qsort(names, count, sizeof names[0], name_compare);
        result_begin(j);
        xmlrpc_begin_array(&j->w);
        for (size_t i = 0; i < count; i++)
                xmlrpc_write_cstring(&j->w, names[i]);
        xmlrpc_end_array(&j->w);
        result_end(j);
        return true;
}

static bool m_method_help(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        const char *name;
        if (!want_params(j, n, 1, 1) || !param_string(j, params[0], &name))
                return true;
        const struct method *m = method_find(name);
        if (!m)
                result_fault(j, FAULT_SIGNATURE_UNSUPPORTED, NULL);
        else
                result_string(j, m->help);
        return true;
}

static bool m_method_signature(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        const char *name;
        if (!want_params(j, n, 1, 1) || !param_string(j, params[0], &name))
                return true;
        const struct method *m = method_find(name);
        if (!m) {
                result_fault(j, FAULT_SIGNATURE_UNSUPPORTED, NULL);
                return true;
        }
        /* supervisord returns the one signature of its docstring: a flat array of types. */
        result_begin(j);
        xmlrpc_begin_array(&j->w);
        const char *s = m->signatures[0];
        while (s && *s) {
                const char *comma = strchr(s, ',');
                size_t len = comma ? (size_t)(comma - s) : strlen(s);
                xmlrpc_write_string(&j->w, s, len);
                s = comma ? comma + 1 : NULL;
        }
        xmlrpc_end_array(&j->w);
        result_end(j);
        return true;
}

static bool m_multicall(struct rpc_job *j, struct xmlrpc_value **params, size_t n) {
        (void)params;
        (void)n;
        /* Only reached inside a multicall: rpc_handle runs the outer one. */
        result_fault(j, FAULT_INCORRECT_PARAMETERS, "Recursive system.multicall forbidden");
        return true;
}

static const struct method methods[] = {
        { "supervisor.getAPIVersion", { "string" }, "The version of the XML-RPC interface served (supervisord's 3.0).\n\n@return string version", m_api_version },
        { "supervisor.getVersion", { "string" }, "The version of the XML-RPC interface served; an older name of getAPIVersion.\n\n@return string version", m_api_version },
        { "supervisor.getSupervisorVersion", { "string" }, "The version of supervisor's interface this daemon serves.\n\n@return string version", m_supervisor_version },
        { "supervisor.getIdentification", { "string" }, "The identifier of this daemon: \"supervisor\", supervisord's default.\n\n@return string identifier", m_identification },
        { "supervisor.getState", { "struct" }, "The daemon's state: its code and its name (1, RUNNING while it serves; once it shuts down, this call, as every supervisor.* one, is the SHUTDOWN_STATE fault, as under supervisord).\n\n@return struct {int statecode, string statename}", m_state },
        { "supervisor.getPID", { "int" }, "The process ID of the daemon.\n\n@return int pid", m_pid },
        { "supervisor.getProcessInfo", { "struct,string" }, "The state of one process.\n\n@param string name  a process, or group:process\n@return struct info  name, group, state, pid, times, exit status, log files", m_process_info },
        { "supervisor.getAllProcessInfo", { "array" }, "The state of every process, ordered by group and name.\n\n@return array infos  one struct per process, as getProcessInfo", m_all_process_info },
        { "supervisor.startProcess", { "boolean,string,boolean" }, "Start a process, or every process of group:*.\n\n@param string name  a process, group:process or group:*\n@param boolean wait  answer once it is RUNNING (or has failed), not at once\n@return boolean  true; a fault if it could not be started", m_start },
        { "supervisor.stopProcess", { "boolean,string,boolean" }, "Stop a process, or every process of group:*.\n\n@param string name  a process, group:process or group:*\n@param boolean wait  answer once it has stopped, not at once\n@return boolean  true; a fault if it could not be stopped", m_stop },
        { "supervisor.startProcessGroup", { "array,string,boolean" }, "Start every process of a group.\n\n@param string name  the group\n@param boolean wait  answer once each is RUNNING or has failed\n@return array  a struct {name, group, status, description} per process", m_start_group },
        { "supervisor.stopProcessGroup", { "array,string,boolean" }, "Stop every process of a group.\n\n@param string name  the group\n@param boolean wait  answer once each has stopped\n@return array  a struct {name, group, status, description} per process", m_stop_group },
        { "supervisor.startAllProcesses", { "array,boolean" }, "Start every process that is not running.\n\n@param boolean wait  answer once each is RUNNING or has failed\n@return array  a struct {name, group, status, description} per process", m_start_all },
        { "supervisor.stopAllProcesses", { "array,boolean" }, "Stop every running process.\n\n@param boolean wait  answer once each has stopped\n@return array  a struct {name, group, status, description} per process", m_stop_all },
        { "supervisor.signalProcess", { "boolean,string,string" }, "Send a signal to a process.\n\n@param string name  a process, group:process or group:*\n@param string signal  a name (HUP, SIGHUP) or a number (1)\n@return boolean  true; a fault if it is not running or the signal is unknown", m_signal },
        { "supervisor.signalProcessGroup", { "array,string,string" }, "Send a signal to every running process of a group.\n\n@param string name  the group\n@param string signal  a name (HUP, SIGHUP) or a number (1)\n@return array  a struct {name, group, status, description} per process", m_signal_group },
        { "supervisor.signalAllProcesses", { "array,string" }, "Send a signal to every running process.\n\n@param string signal  a name (HUP, SIGHUP) or a number (1)\n@return array  a struct {name, group, status, description} per process", m_signal_all },
        { "supervisor.reloadConfig", { "array" }, "Read the configuration again and tell how it differs from what runs, changing nothing.\n\n@return array  [[added, changed, removed]], three arrays of group names", m_reload_config },
        { "supervisor.getAllConfigInfo", { "array" }, "What the configuration file defines, a record per process, and whether its group is in use.\n\n@return array infos  one struct per process: name, group, inuse, autostart, group_prio, process_prio, command, ...", m_all_config_info },
        { "supervisor.addProcessGroup", { "boolean,string" }, "Add a group the configuration defines and the daemon does not run yet; its autostart processes start.\n\n@param string name  the group\n@return boolean  true; a fault if it is unknown or already added", m_add_group },
        { "supervisor.removeProcessGroup", { "boolean,string" }, "Take a group whose processes are all stopped out of the daemon.\n\n@param string name  the group\n@return boolean  true; a fault if it is unknown or still running", m_remove_group },
        { "supervisor.readLog", { "string,int,int" }, "Bytes of the daemon's own log file.\n\n@param int offset  where to begin; negative: the last -offset bytes\n@param int length  how many bytes; 0: to the end\n@return string  the bytes", m_read_log },
        { "supervisor.readMainLog", { "string,int,int" }, "Bytes of the daemon's own log file; an older name of readLog.\n\n@param int offset  where to begin; negative: the last -offset bytes\n@param int length  how many bytes; 0: to the end\n@return string  the bytes", m_read_log },
        { "supervisor.clearLog", { "boolean" }, "Empty the daemon's own log file.\n\n@return boolean  true; a fault if there is no file", m_clear_log },
        { "supervisor.readProcessStdoutLog", { "string,string,int,int" }, "Bytes of a process's stdout log file.\n\n@param string name  a process, or group:process\n@param int offset  where to begin; negative: the last -offset bytes\n@param int length  how many bytes; 0: to the end\n@return string  the bytes", m_read_stdout_log },
        { "supervisor.readProcessLog", { "string,string,int,int" }, "Bytes of a process's stdout log file; an older name of readProcessStdoutLog.\n\n@param string name  a process, or group:process\n@param int offset  where to begin; negative: the last -offset bytes\n@param int length  how many bytes; 0: to the end\n@return string  the bytes", m_read_stdout_log },
        { "supervisor.readProcessStderrLog", { "string,string,int,int" }, "Bytes of a process's stderr log file.\n\n@param string name  a process, or group:process\n@param int offset  where to begin; negative: the last -offset bytes\n@param int length  how many bytes; 0: to the end\n@return string  the bytes", m_read_stderr_log },
        { "supervisor.tailProcessStdoutLog", { "array,string,int,int" }, "The end of a process's stdout log file, to follow it by polling.\n\n@param string name  a process, or group:process\n@param int offset  the offset returned last time\n@param int length  at most this many bytes, the last ones\n@return array  [string bytes, int offset (the file's size), boolean overflow (it held more than offset + length)]", m_tail_stdout_log },
        { "supervisor.tailProcessLog", { "array,string,int,int" }, "The end of a process's stdout log file; an older name of tailProcessStdoutLog.\n\n@param string name  a process, or group:process\n@param int offset  the offset returned last time\n@param int length  at most this many bytes, the last ones\n@return array  [string bytes, int offset (the file's size), boolean overflow (it held more than offset + length)]", m_tail_stdout_log },
        { "supervisor.tailProcessStderrLog", { "array,string,int,int" }, "The end of a process's stderr log file, to follow it by polling.\n\n@param string name  a process, or group:process\n@param int offset  the offset returned last time\n@param int length  at most this many bytes, the last ones\n@return array  [string bytes, int offset (the file's size), boolean overflow (it held more than offset + length)]", m_tail_stderr_log },
        { "supervisor.clearProcessLogs", { "boolean,string" }, "Empty the log files of one process.\n\n@param string name  a process, or group:process\n@return boolean  true; a fault if it is unknown or a file could not be emptied", m_clear_process_logs },
        { "supervisor.clearProcessLog", { "boolean,string" }, "Empty the log files of one process; an older name of clearProcessLogs.\n\n@param string name  a process, or group:process\n@return boolean  true; a fault if it is unknown or a file could not be emptied", m_clear_process_logs },
        { "supervisor.clearAllProcessLogs", { "array" }, "Empty the log files of every process.\n\n@return array  a struct {name, group, status, description} per process", m_clear_all_process_logs },
        { "supervisor.shutdown", { "boolean" }, "Stop every process, then the daemon.\n\n@return boolean  true, once the daemon has been asked", m_shutdown },
        { "supervisor.restart", { "boolean" }, "Stop every process, read the configuration again and start anew, the daemon keeping its process ID.\n\n@return boolean  true", m_restart },
        { "supervisor.sendProcessStdin", { "boolean,string,string" }, "Write bytes to the stdin of a process, which it has as a pipe (stdin = pipe; every program of an INI configuration).\n\n@param string name  a process, or group:process\n@param string chars  the bytes\n@return boolean  true; a fault if it is not running (NOT_RUNNING) or has no stdin to write to (NO_FILE)", m_send_stdin },
        { "supervisor.sendRemoteCommEvent", { "boolean,string,string" }, "Send a REMOTE_COMMUNICATION event to the event listeners that subscribe to it.\n\n@param string type  the event's type header\n@param string data  its body\n@return boolean  true", m_send_remote_event },
        { "system.listMethods", { "array" }, "The names of every method served.\n\n@return array names", m_list_methods },
        { "system.methodHelp", { "string,string" }, "What a method does, its parameters and its result.\n\n@param string name  the method\n@return string help", m_method_help },
        { "system.methodSignature", { "array,string" }, "The types of a method's result and parameters, result first.\n\n@param string name  the method\n@return array types", m_method_signature },
        { "system.multicall", { "array,array" }, "Run calls in order in one request. Each call is a struct {methodName, params};\neach result is a one-element array holding the value, or a fault struct\n{faultCode, faultString}.\n\n@param array calls\n@return array results", m_multicall },
};
static const size_t n_methods = ELEMENTSOF(methods);

/* ---- authentication ---- */

/* SHA-1 (FIPS 180-4), for supervisord's "{SHA}" passwords. */
static uint32_t rol(uint32_t x, int n) {
        return (x << n) | (x >> (32 - n));
}

static void sha1(const unsigned char *data, size_t len, unsigned char out[20]) {
        uint32_t h[5] = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 };
        size_t total = ((len + 8) / 64 + 1) * 64;
        for (size_t off = 0; off < total; off += 64) {
                unsigned char block[64];
                for (size_t i = 0; i < 64; i++) {
                        size_t k = off + i;
                        unsigned long long bits = (unsigned long long)len * 8;
                        if (k < len)
                                block[i] = data[k];
                        else if (k == len)
                                block[i] = 0x80;
                        else if (k >= total - 8)
                                block[i] = (unsigned char)(bits >> (8 * (total - 1 - k)));
                        else
                                block[i] = 0;
                }
                uint32_t w[80];
                for (int i = 0; i < 16; i++)
                        w[i] = (uint32_t)block[4 * i] << 24 | (uint32_t)block[4 * i + 1] << 16
                               | (uint32_t)block[4 * i + 2] << 8 | block[4 * i + 3];
                for (int i = 16; i < 80; i++)
                        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
                uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
                for (int i = 0; i < 80; i++) {
                        uint32_t f, k;
                        if (i < 20)
                                f = (b & c) | (~b & d), k = 0x5A827999;
                        else if (i < 40)
                                f = b ^ c ^ d, k = 0x6ED9EBA1;
                        else if (i < 60)
                                f = (b & c) | (b & d) | (c & d), k = 0x8F1BBCDC;
                        else
                                f = b ^ c ^ d, k = 0xCA62C1D6;
                        uint32_t t = rol(a, 5) + f + e + k + w[i];
                        e = d, d = c, c = rol(b, 30), b = a, a = t;
                }
                h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e;
        }
        for (int i = 0; i < 5; i++)
                for (int k = 0; k < 4; k++)
                        out[4 * i + k] = (unsigned char)(h[i] >> (24 - 8 * k));
}

/* Equal, in a time that depends on the lengths only. */
static bool equal_constant_time(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        unsigned char diff = la != lb;
        for (size_t i = 0; i < lb; i++)
                diff |= (unsigned char)((i < la ? a[i] : 0) ^ b[i]);
        return diff == 0;
}

bool rpc_credentials_match(const char *user, const char *password, const char *want_user, const char *want_password) {
        bool user_ok = equal_constant_time(user, want_user);
        bool password_ok;
        if (strncmp(want_password, "{SHA}", 5) == 0) {
                unsigned char digest[20];
                char hex[41];
                sha1((const unsigned char *)password, strlen(password), digest);
                for (int i = 0; i < 20; i++)
                        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
                password_ok = equal_constant_time(hex, want_password + 5);
        } else
                password_ok = equal_constant_time(password, want_password);
        return user_ok & password_ok;
}
