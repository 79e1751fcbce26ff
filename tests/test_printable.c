/* test_printable.c — unit tests for printable.c, the filter between service output and a
 * terminal: what passes, what is replaced, sequences cut between chunks, and
 * protocol_sanitize(), which is the same filter for one-line fields. */
#include <check.h>
#include <string.h>

#include "harness.h"
#include "printable.h"
#include "protocol.h"

/* SRC filtered in one go, lines kept, '?' for what is replaced, into a static buffer. */
static const char *filtered(const char *src, size_t len) {
        static char out[1024];
        struct printable p;
        printable_init(&p, true, '?');
        size_t n = printable_filter(&p, src, len, out);
        n += printable_finish(&p, out + n);
        out[n] = '\0';
        return out;
}

START_TEST(test_plain_text_and_utf8_pass) {
        ck_assert_str_eq(filtered("hello\tworld\n", 12), "hello\tworld\n");
        ck_assert_str_eq(filtered("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n", 15), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n");
        ck_assert_str_eq(filtered("\xc2\xa0\xef\xbf\xbd", 5), "\xc2\xa0\xef\xbf\xbd");  /* U+00A0, U+FFFD */
}
END_TEST

START_TEST(test_escape_sequences_defused) {
        /* OSC title, OSC 52 clipboard, CSI 6n (answer back), DCS: ESC and BEL go */
        const char osc[] = "\x1b]0;owned\x07\x1b]52;c;ZXZpbA==\x07\x1b[6n\x1bP1$r\x1b\\";
        ck_assert_str_eq(filtered(osc, sizeof osc - 1), "?]0;owned??]52;c;ZXZpbA==??[6n?P1$r?\\");
        ck_assert_str_eq(filtered("a\rb\bc\x7f" "d", 7), "a?b?c?d");
        ck_assert_str_eq(filtered("x\0y", 3), "x?y");
}
END_TEST

START_TEST(test_c1_and_malformed_replaced) {
        ck_assert_str_eq(filtered("\x9b" "31m", 4), "?31m");          /* raw C1 CSI */
        ck_assert_str_eq(filtered("\xc2\x9b" "31m", 5), "?31m");      /* U+009B in UTF-8 */
        ck_assert_str_eq(filtered("\xc2\x80\xc2\x9f", 4), "??");      /* the C1 range's ends */
        ck_assert_str_eq(filtered("\xc0\xaf", 2), "??");              /* overlong '/' */
        ck_assert_str_eq(filtered("\xe0\x80\xaf", 3), "???");         /* overlong, 3 bytes */
        ck_assert_str_eq(filtered("\xed\xa0\x80", 3), "???");         /* a surrogate */
        ck_assert_str_eq(filtered("\xf4\x90\x80\x80", 4), "????");    /* beyond U+10FFFF */
        ck_assert_str_eq(filtered("\xf5\xff\xfe", 3), "???");
        ck_assert_str_eq(filtered("\xe2\x82" "A", 3), "?A");           /* cut short, then ASCII */
        ck_assert_str_eq(filtered("\xe2\x82", 2), "?");                /* cut by the end */
        ck_assert_str_eq(filtered("\xe2\xe2\x82\xac", 4), "?\xe2\x82\xac");
}
END_TEST

START_TEST(test_sequence_across_chunks) {
        const char text[] = "\xe2\x82\xac\xc2\x9b\xf0\x9f\x98\x80z";
        for (size_t cut = 0; cut <= sizeof text - 1; cut++) {
                struct printable p;
                char out[64];
                printable_init(&p, true, '?');
                size_t n = printable_filter(&p, text, cut, out);
                n += printable_filter(&p, text + cut, sizeof text - 1 - cut, out + n);
                n += printable_finish(&p, out + n);
                out[n] = '\0';
                ck_assert_msg(strcmp(out, "\xe2\x82\xac?\xf0\x9f\x98\x80z") == 0, "cut at %zu: %s", cut, out);
        }
}
END_TEST

START_TEST(test_protocol_sanitize_is_the_same_filter) {
        char out[32];
        protocol_sanitize(out, sizeof out, "a\tb\nc\x1b]0;t\x07\xc2\x9b\x9b" "d\xc3\xa9");
        ck_assert_str_eq(out, "a b c ]0;t   d\xc3\xa9");
        /* never a character cut by the end of the buffer */
        protocol_sanitize(out, 5, "abc\xc3\xa9");
        ck_assert_str_eq(out, "abc");
        protocol_sanitize(out, 6, "abc\xc3\xa9");
        ck_assert_str_eq(out, "abc\xc3\xa9");
}
END_TEST

static Suite *printable_suite(void) {
        Suite *s = suite_create("printable");
        TCase *tc = tcase_create("filter");
        tcase_add_test(tc, test_plain_text_and_utf8_pass);
        tcase_add_test(tc, test_escape_sequences_defused);
        tcase_add_test(tc, test_c1_and_malformed_replaced);
        tcase_add_test(tc, test_sequence_across_chunks);
        tcase_add_test(tc, test_protocol_sanitize_is_the_same_filter);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(printable_suite()) ? 1 : 0; }
