/* names.c — see names.h.
 *
 * Suggestions are ranked by Levenshtein distance, counted on two rows of at most
 * NAME_SPEC_MAX + 1 entries: a name longer than that cannot be a typo of a known one. */
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool name_spec_is_valid(const char *text) {
        size_t len = strlen(text);
        if (len == 0 || len > NAME_SPEC_MAX)
                return false;
        const char *colon = strchr(text, ':');
        if (colon && strchr(colon + 1, ':'))
                return false;
        if (colon == text)
                return false;  /* ":NAME": no group */
        for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
                if (*p <= ' ' || *p == 0x7f || *p == '/')
                        return false;
                /* '*' only as the whole process part: GROUP:* */
                if (*p == '*' && !(colon && (const char *)p == colon + 1 && p[1] == '\0'))
                        return false;
        }
        return true;
}

static const char *service_of(const struct process_name *p) { return p->service ? p->service : p->name; }

size_t names_match(const char *spec, const struct process_name *list, size_t n, bool *matched) {
        size_t count = 0;
        const char *colon = strchr(spec, ':');
        if (colon) {
                size_t group_len = (size_t)(colon - spec);
                const char *process = colon + 1;
                bool whole = process[0] == '\0' || strcmp(process, "*") == 0;
                for (size_t i = 0; i < n; i++)
                        if (strlen(list[i].group) == group_len && memcmp(list[i].group, spec, group_len) == 0
                            && (whole || strcmp(list[i].name, process) == 0)) {
                                matched[i] = true;
                                count++;
                        }
                return count;
        }
        /* Bare: a process, else a group, else a service; the first kind that matches wins. */
        for (int kind = 0; kind < 3 && count == 0; kind++)
                for (size_t i = 0; i < n; i++) {
                        const char *what = kind == 0 ? list[i].name : kind == 1 ? list[i].group : service_of(&list[i]);
                        if (strcmp(what, spec) == 0) {
                                matched[i] = true;
                                count++;
                        }
                }
        return count;
}

/* Is NAME its group's own, as the native names are: the group itself (db) or one of its
 * instances (web@2 of web)? */
static bool name_is_the_groups(const char *group, const char *name) {
        size_t len = strlen(group);
        return strncmp(group, name, len) == 0 && (name[len] == '\0' || name[len] == '@');
}

void name_format(const struct process_name *p, char *buf, size_t size) {
        if (name_is_the_groups(p->group, p->name))
                snprintf(buf, size, "%s", p->name);
        else
                snprintf(buf, size, "%s:%s", p->group, p->name);
}

/* Edit distance between A and B, or SIZE_MAX/2 when B is too long to compare. */
static size_t distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        size_t row[3][NAME_SPEC_MAX + 2];
        if (la > NAME_SPEC_MAX || lb > NAME_SPEC_MAX)
                return (size_t)-1 / 2;
        for (size_t j = 0; j <= lb; j++)
                row[0][j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t *before = row[(i + 1) % 3], *prev = row[(i - 1) % 3], *cur = row[i % 3];
                cur[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);
                        if (prev[j] + 1 < best)
                                best = prev[j] + 1;
                        if (cur[j - 1] + 1 < best)
                                best = cur[j - 1] + 1;
                        /* Two letters swapped ("wbe" for "web") count as one edit. */
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && before[j - 2] + 1 < best)
                                best = before[j - 2] + 1;
                        cur[j] = best;
                }
        }
        return row[la % 3][lb];
}

struct candidate {
        char text[NAME_SPEC_MAX + 2];
        size_t distance;
};

/* Keep the MAX best of CANDIDATES (sorted by distance, then text), TEXT among them if it
 * is better than the worst and not there yet. */
static void consider(struct candidate *best, size_t *n_best, size_t max, const char *text, size_t d) {
        for (size_t i = 0; i < *n_best; i++)
                if (strcmp(best[i].text, text) == 0)
                        return;
        size_t at = *n_best;
        while (at > 0 && (best[at - 1].distance > d || (best[at - 1].distance == d && strcmp(best[at - 1].text, text) > 0)))
                at--;
        if (at >= max)
                return;
        size_t last = *n_best < max ? *n_best : max - 1;
        memmove(&best[at + 1], &best[at], (last - at) * sizeof *best);
        snprintf(best[at].text, sizeof best[at].text, "%s", text);
        best[at].distance = d;
        if (*n_best < max)
                (*n_best)++;
}

size_t names_suggest(const char *spec, const struct process_name *list, size_t n, size_t max, char *buf,
                     size_t size) {
        if (size)
                buf[0] = '\0';
        if (max == 0)
                return 0;
        size_t len = strlen(spec);
        /* A typo: one edit in a short name, two in a longer one, a third of a long one. */
        size_t limit = len <= 3 ? 1 : len <= 8 ? 2 : len / 3;
        struct candidate *best = calloc(max, sizeof *best);
        if (!best)
                return 0;
        size_t n_best = 0;
        for (size_t i = 0; i < n; i++) {
                char text[NAME_SPEC_MAX + 2];
                name_format(&list[i], text, sizeof text);
                size_t d = distance(spec, text);
                /* A process of another group, as typed without its group. */
                size_t bare = distance(spec, list[i].name);
                if (bare < d)
                        d = bare;
                if (d <= limit)
                        consider(best, &n_best, max, text, d);
                if (strcmp(list[i].group, list[i].name) != 0) {
                        snprintf(text, sizeof text, "%s:*", list[i].group);
                        size_t dg = distance(spec, list[i].group), ds = distance(spec, text);
                        if (ds < dg)
                                dg = ds;
                        if (dg <= limit)
                                consider(best, &n_best, max, text, dg);
                }
        }
        size_t used = 0;
        for (size_t i = 0; i < n_best && used < size; i++) {
                int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", best[i].text);
                if (w < 0)
                        break;
                used += (size_t)w;
        }
        free(best);
        return n_best;
}
