/* metrics.c — see metrics.h. */
#include "metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"
#include "util.h"

/* The output, grown as written; failed once memory ran out. */
struct text {
        char *buf;
        size_t len, size;
        bool failed;
};

static void __attribute__((format(printf, 2, 3))) text_printf(struct text *t, const char *format, ...) {
        for (;;) {
                if (t->failed)
                        return;
                va_list ap;
                va_start(ap, format);
                int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->size - t->len : 0, format, ap);
                va_end(ap);
                if (n < 0) {
                        t->failed = true;
                        return;
                }
                if (t->buf && (size_t)n < t->size - t->len) {
                        t->len += (size_t)n;
                        return;
                }
                size_t size = t->size ? t->size * 2 : 4096;
                while (size < t->len + (size_t)n + 1)
                        size *= 2;
                char *p = realloc(t->buf, size);
                if (!p) {
                        t->failed = true;
                        return;
                }
                t->buf = p;
                t->size = size;
        }
}

/* A label value as the format escapes it: backslash, double quote and newline. */
static void text_label(struct text *t, const char *value) {
        for (const char *p = value; *p; p++) {
                if (*p == '\\' || *p == '"')
                        text_printf(t, "\\%c", *p);
                else if (*p == '\n')
                        text_printf(t, "\\n");
                else
                        text_printf(t, "%c", *p);
        }
}

/* STATUS name state pid uptime last_exit restarts message heartbeat_rtt_usec stopped_at
 * memory_bytes cpu_usec group ... (protocol.h) */
enum { F_NAME = 1, F_STATE, F_PID, F_UPTIME, F_LAST_EXIT, F_RESTARTS, F_MESSAGE, F_RTT, F_STOPPED_AT, F_MEMORY, F_CPU,
       F_GROUP, F_START, N_FIELDS = 18 };

static const struct {
        const char *name;
        int code;  /* supervisord's */
} states[] = {
        { "STOPPED", 0 }, { "STARTING", 10 }, { "RUNNING", 20 }, { "BACKOFF", 30 },
        { "STOPPING", 40 }, { "EXITED", 100 }, { "FATAL", 200 },
};

static int state_code(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(states); i++)
                if (strcmp(states[i].name, name) == 0)
                        return (int)i;
        return -1;
}

/* The metrics of one family, each process's sample where it has one. */
struct family {
        const char *name, *type, *help;
        int field;       /* the STATUS field it comes from */
        double scale;    /* its unit to the metric's */
};

static const struct family families[] = {
        { "supervisord_process_state", "gauge",
          "The process's state as supervisord's code: 0 STOPPED, 10 STARTING, 20 RUNNING, 30 BACKOFF, 40 STOPPING, "
          "100 EXITED, 200 FATAL.", F_STATE, 1 },
        { "supervisord_process_up", "gauge", "1 when the process is RUNNING, else 0.", F_STATE, 1 },
        { "supervisord_process_pid", "gauge", "The process's pid, 0 when none.", F_PID, 1 },
        { "supervisord_process_uptime_seconds", "gauge", "How long the process has run, 0 when it does not.", F_UPTIME, 1 },
        { "supervisord_process_start_time_seconds", "gauge", "When the process last started, seconds since the epoch; 0: never.",
          F_START, 1 },
        { "supervisord_process_restarts_total", "counter", "How many times supervisord has restarted the process.",
          F_RESTARTS, 1 },
        { "supervisord_process_exit_status", "gauge", "The exit status of the process's last exit, -1 when a signal ended it.",
          F_LAST_EXIT, 1 },
        { "supervisord_process_exit_signal", "gauge", "The signal that ended the process's last run, 0 when it exited.",
          F_LAST_EXIT, 1 },
        { "supervisord_process_heartbeat_rtt_seconds", "gauge", "The round trip of the process's last heartbeat.", F_RTT, 1e-6 },
        { "supervisord_process_memory_bytes", "gauge", "The memory of the process's cgroup.", F_MEMORY, 1 },
        { "supervisord_process_cpu_seconds_total", "counter", "The CPU time of the process's cgroup.", F_CPU, 1e-6 },
};

/* The sample of family F for a process's fields, into *ret: false when it has none. */
static bool sample(const struct family *fam, char **f, double *ret) {
        const char *v = f[fam->field];
        char *end;
        if (fam->field == F_STATE) {
                int i = state_code(v);
                *ret = strcmp(fam->name, "supervisord_process_up") == 0 ? (i == 2) : i < 0 ? 1000 : states[i].code;
                return true;
        }
        if (fam->field == F_LAST_EXIT) {
                bool signal = strncmp(v, "signal ", 7) == 0, exit = strncmp(v, "exit ", 5) == 0;
                if (!signal && !exit)
                        return false;
                bool want_signal = strcmp(fam->name, "supervisord_process_exit_signal") == 0;
                long n = strtol(v + (signal ? 7 : 5), &end, 10);
                *ret = want_signal ? (signal ? n : 0) : (signal ? -1 : n);
                return true;
        }
        if (strcmp(v, "-") == 0 || !v[0])
                return false;
        double n = strtod(v, &end);
        if (*end)
                return false;
        *ret = n * fam->scale;
        return true;
}

int metrics_format(char *reply, char **ret, size_t *ret_len) {
        /* The records, split in place: at most one per line of the reply. */
        size_t n_lines = 1;
        for (const char *p = reply; *p; p++)
                n_lines += *p == '\n';
        char *(*records)[N_FIELDS] = calloc(n_lines, sizeof *records);
        if (!records)
                return -ENOMEM;
        size_t n = 0;
        bool ok = false;
        for (char *line = reply, *end; !ok && (end = strchr(line, '\n')); line = end + 1) {
                *end = '\0';
                char *fields[N_FIELDS];
                unsigned nf = protocol_split_fields(line, fields, N_FIELDS);
                if (nf == 1 && strcmp(fields[0], FINAL_OK) == 0)
                        ok = true;
                else if (nf == N_FIELDS && strcmp(fields[0], RECORD_STATUS) == 0)
                        memcpy(records[n++], fields, sizeof fields);
        }
        if (!ok) {
                free(records);
                return -EINVAL;
        }
        struct text t = { 0 };
        for (size_t k = 0; k < ELEMENTSOF(families); k++) {
                const struct family *fam = &families[k];
                text_printf(&t, "# HELP %s %s\n# TYPE %s %s\n", fam->name, fam->help, fam->name, fam->type);
                for (size_t i = 0; i < n; i++) {
                        double v;
                        if (!sample(fam, records[i], &v))
                                continue;
                        text_printf(&t, "%s{group=\"", fam->name);
                        text_label(&t, records[i][F_GROUP]);
                        text_printf(&t, "\",name=\"");
                        text_label(&t, records[i][F_NAME]);
                        text_printf(&t, "\"} %.15g\n", v);
                }
        }
        text_printf(&t, "# HELP supervisord_processes How many processes are in each state.\n"
                        "# TYPE supervisord_processes gauge\n");
        for (size_t s = 0; s < ELEMENTSOF(states); s++) {
                size_t count = 0;
                for (size_t i = 0; i < n; i++)
                        count += state_code(records[i][F_STATE]) == (int)s;
                text_printf(&t, "supervisord_processes{state=\"%s\"} %zu\n", states[s].name, count);
        }
        text_printf(&t, "# HELP supervisord_up 1: supervisord answered this scrape.\n# TYPE supervisord_up gauge\n"
                        "supervisord_up 1\n");
        free(records);
        if (t.failed) {
                free(t.buf);
                return -ENOMEM;
        }
        *ret = t.buf;
        *ret_len = t.len;
        return 0;
}
