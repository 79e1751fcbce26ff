/* test_names.c — unit tests for names.c: what NAME, GROUP:NAME, GROUP:*, GROUP: address,
 * how a process is shown, and the close names offered for an unknown one. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "names.h"
#include "util.h"

/* db alone; web with three instances; x of a and b (service-group); worker_00..02 in
 * worker, as supervisord's numprocs family; c@0, c@1 in group y. */
static const struct process_name known[] = {
        { "db", "db", NULL },
        { "web", "web@0", "web" },         { "web", "web@1", "web" },           { "web", "web@2", "web" },
        { "x", "a", NULL },                { "x", "b", NULL },
        { "worker", "worker_00", NULL },   { "worker", "worker_01", NULL },     { "worker", "worker_02", NULL },
        { "y", "c@0", "c" },               { "y", "c@1", "c" },
};
#define N_KNOWN ELEMENTSOF(known)

/* The processes SPEC addresses, as "i j k" of their indexes. */
static const char *matches(const char *spec) {
        static char buf[128];
        bool matched[N_KNOWN] = { false };
        size_t n = names_match(spec, known, N_KNOWN, matched), used = 0, counted = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < N_KNOWN; i++)
                if (matched[i]) {
                        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%zu", used ? " " : "", i);
                        counted++;
                }
        ck_assert_uint_eq(n, counted);
        return buf;
}

START_TEST(test_match_forms) {
        ck_assert_str_eq(matches("db"), "0");          /* a lone program by its bare name */
        ck_assert_str_eq(matches("db:db"), "0");
        ck_assert_str_eq(matches("db:*"), "0");
        ck_assert_str_eq(matches("web"), "1 2 3");     /* native: a service names its instances */
        ck_assert_str_eq(matches("web@1"), "2");
        ck_assert_str_eq(matches("web:web@1"), "2");
        ck_assert_str_eq(matches("web:*"), "1 2 3");
        ck_assert_str_eq(matches("web:"), "1 2 3");
        ck_assert_str_eq(matches("x:a"), "4");
        ck_assert_str_eq(matches("a"), "4");           /* names are unique: the group may be left out */
        ck_assert_str_eq(matches("x"), "4 5");         /* a bare group */
        ck_assert_str_eq(matches("x:"), "4 5");
        ck_assert_str_eq(matches("worker:*"), "6 7 8");
        ck_assert_str_eq(matches("worker:worker_01"), "7");
        ck_assert_str_eq(matches("worker_02"), "8");
        ck_assert_str_eq(matches("c"), "9 10");        /* a service in another group: its instances */
        ck_assert_str_eq(matches("y:c@0"), "9");
}
END_TEST

START_TEST(test_match_nothing) {
        ck_assert_str_eq(matches("nope"), "");
        ck_assert_str_eq(matches("x:c@0"), "");        /* in y, not x */
        ck_assert_str_eq(matches("web:a"), "");
        ck_assert_str_eq(matches("z:*"), "");
        ck_assert_str_eq(matches("wor"), "");          /* no prefix matching */
}
END_TEST

START_TEST(test_spec_shapes) {
        ck_assert(name_spec_is_valid("web"));
        ck_assert(name_spec_is_valid("web@2"));
        ck_assert(name_spec_is_valid("x:a"));
        ck_assert(name_spec_is_valid("x:*"));
        ck_assert(name_spec_is_valid("x:"));
        ck_assert(!name_spec_is_valid(""));
        ck_assert(!name_spec_is_valid(":a"));
        ck_assert(!name_spec_is_valid("x:a:b"));
        ck_assert(!name_spec_is_valid("*"));
        ck_assert(!name_spec_is_valid("x:a*"));
        ck_assert(!name_spec_is_valid("a/b"));
        ck_assert(!name_spec_is_valid("a b"));
}
END_TEST

START_TEST(test_format) {
        char buf[NAME_SPEC_MAX];
        name_format(&known[0], buf, sizeof buf);
        ck_assert_str_eq(buf, "db");
        name_format(&known[2], buf, sizeof buf);
        ck_assert_str_eq(buf, "web@1");               /* the native name: the group is its own */
        name_format(&known[4], buf, sizeof buf);
        ck_assert_str_eq(buf, "x:a");
        name_format(&known[7], buf, sizeof buf);
        ck_assert_str_eq(buf, "worker:worker_01");
        name_format(&known[9], buf, sizeof buf);
        ck_assert_str_eq(buf, "y:c@0");
}
END_TEST

static const char *suggest(const char *spec) {
        static char buf[256];
        names_suggest(spec, known, N_KNOWN, 3, buf, sizeof buf);
        return buf;
}

START_TEST(test_suggest) {
        ck_assert_str_eq(suggest("wbe"), "web:*");              /* two letters swapped */
        ck_assert_str_eq(suggest("dv"), "db");
        ck_assert_str_eq(suggest("worker_3"), "worker:*, worker:worker_00, worker:worker_01");
        ck_assert_str_eq(suggest("woker:*"), "worker:*");
        ck_assert_str_eq(suggest("x:q"), "x:*, x:a, x:b");
        ck_assert_str_eq(suggest("web@7"), "web@0, web@1, web@2");
        ck_assert_str_eq(suggest("completely-different"), "");
        char buf[8];
        ck_assert_uint_eq(names_suggest("x:q", known, N_KNOWN, 0, buf, sizeof buf), 0);
        ck_assert_uint_eq(names_suggest("x:q", known, N_KNOWN, 2, buf, sizeof buf), 2);  /* cut to fit */
        ck_assert_uint_lt(strlen(buf), sizeof buf);
}
END_TEST

static Suite *names_suite(void) {
        Suite *s = suite_create("names");
        TCase *tc = tcase_create("names");
        tcase_add_test(tc, test_match_forms);
        tcase_add_test(tc, test_match_nothing);
        tcase_add_test(tc, test_spec_shapes);
        tcase_add_test(tc, test_format);
        tcase_add_test(tc, test_suggest);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return run_suite(names_suite()) ? 1 : 0;
}
