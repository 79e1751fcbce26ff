/* printable.h — text from services made safe to show on a terminal: the one filter that
 * supervisorctl applies to `tail` output on a terminal and supervisord to the free text
 * of status records (STATUS= messages, error messages).
 *
 * Passed as they are: printable ASCII, newline and tab (when lines are kept), and
 * well-formed UTF-8 above U+009F.  Replaced, one replacement byte per offending byte or
 * malformed sequence: every other C0 control (ESC, so no CSI, OSC, DCS or other escape
 * sequence can begin; CR, BS, NUL, BEL), DEL, the C1 controls U+0080..U+009F whether
 * raw (0x80-0x9f) or encoded in UTF-8 (0xc2 0x80-0x9f: some terminals act on those too),
 * and every byte that is not part of well-formed UTF-8 (overlong forms, surrogates,
 * beyond U+10FFFF, stray continuation bytes).  A sequence cut between two chunks is held
 * back and completed by the next. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct printable {
        unsigned char held[4];   /* the start of a UTF-8 sequence cut by the chunk's end */
        unsigned char n_held;
        unsigned char need;      /* the sequence's full length */
        bool keep_lines;         /* newline and tab pass */
        char replacement;        /* what an offending byte becomes */
};

void printable_init(struct printable *p, bool keep_lines, char replacement);
/* Filter SRC[0, LEN) into DST, which must have room for LEN + 3 bytes (a sequence held
 * from the previous chunk is written with the byte that completes it).  Returns the
 * number of bytes written. */
size_t printable_filter(struct printable *p, const char *src, size_t len, char *dst);
/* The end of the text: a sequence still held is malformed, and replaced (at most one
 * byte into DST).  Returns the number of bytes written. */
size_t printable_finish(struct printable *p, char *dst);
