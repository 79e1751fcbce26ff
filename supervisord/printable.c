/* printable.c — see printable.h.  A UTF-8 validator after Unicode's table 3-7 of
 * well-formed byte sequences: the second byte's range depends on the first, which is what
 * rules out overlong forms, surrogates and code points beyond U+10FFFF. */
#include "printable.h"

void printable_init(struct printable *p, bool keep_lines, char replacement) {
        *p = (struct printable){ .keep_lines = keep_lines, .replacement = replacement };
}

/* The length of the sequence LEAD begins, or 0 when it cannot begin one. */
static unsigned char sequence_length(unsigned char lead) {
        if (lead >= 0xc2 && lead <= 0xdf)
                return 2;
        if (lead >= 0xe0 && lead <= 0xef)
                return 3;
        if (lead >= 0xf0 && lead <= 0xf4)
                return 4;
        return 0;
}

/* Whether BYTE may come at position N_HELD of the sequence that LEAD begins. */
static bool continues(unsigned char lead, unsigned n_held, unsigned char byte) {
        unsigned char low = 0x80, high = 0xbf;
        if (n_held == 1) {
                if (lead == 0xe0)
                        low = 0xa0;  /* shorter forms exist */
                else if (lead == 0xed)
                        high = 0x9f; /* surrogates */
                else if (lead == 0xf0)
                        low = 0x90;  /* shorter forms exist */
                else if (lead == 0xf4)
                        high = 0x8f; /* beyond U+10FFFF */
        }
        return byte >= low && byte <= high;
}

size_t printable_filter(struct printable *p, const char *src, size_t len, char *dst) {
        size_t out = 0;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)src[i];
                if (p->n_held > 0) {
                        if (continues(p->held[0], p->n_held, c)) {
                                p->held[p->n_held++] = c;
                                if (p->n_held < p->need)
                                        continue;
                                /* Complete.  U+0080..U+009F, the C1 controls, are 0xc2 0x80..0x9f. */
                                if (p->held[0] == 0xc2 && p->held[1] <= 0x9f)
                                        dst[out++] = p->replacement;
                                else
                                        for (unsigned k = 0; k < p->n_held; k++)
                                                dst[out++] = (char)p->held[k];
                                p->n_held = 0;
                                continue;
                        }
                        /* Cut short: the sequence so far is one malformed unit, and this byte
                         * begins afresh. */
                        dst[out++] = p->replacement;
                        p->n_held = 0;
                }
                if (c >= 0x20 && c < 0x7f)
                        dst[out++] = (char)c;
                else if ((c == '\n' || c == '\t') && p->keep_lines)
                        dst[out++] = (char)c;
                else if ((p->need = sequence_length(c)) != 0) {
                        p->held[0] = c;
                        p->n_held = 1;
                } else
                        dst[out++] = p->replacement;
        }
        return out;
}

size_t printable_finish(struct printable *p, char *dst) {
        if (p->n_held == 0)
                return 0;
        p->n_held = 0;
        dst[0] = p->replacement;
        return 1;
}
