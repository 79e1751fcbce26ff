/* fuzz_listener.c — what an event listener writes on its stdout, as supervisord reads it:
 * listener_parse_ready() and listener_parse_result_line() on the bytes in every state a
 * listener can be in, and the PROCESS_COMMUNICATION filter (event_capture_feed) on the
 * same bytes as a process's output, cut into chunks at the first byte's value.
 *
 * Besides memory errors it checks what the callers rely on: a token taken is within the
 * bytes given, a result length within its bound, and captured text within capture-max-bytes. */
#include <string.h>

#include "eventtype.h"
#include "fuzz.h"

static size_t max_seen;  /* read by nothing: keeps the reads of the text */

static void on_text(const char *text, size_t len, void *userdata) {
        size_t max = *(const size_t *)userdata;
        FUZZ_ASSERT(len <= max);
        for (size_t i = 0; i < len; i++)  /* every byte readable: a sanitizer sees it */
                max_seen += (unsigned char)text[i] & 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *text = (const char *)data;
        size_t used = 0, len = 0;
        enum listener_parse r = listener_parse_ready(text, size, &used);
        if (r == LISTENER_PARSE_DONE)
                FUZZ_ASSERT(used == 6 && used <= size && memcmp(text, "READY\n", 6) == 0);
        r = listener_parse_result_line(text, size, 65536, &len, &used);
        if (r == LISTENER_PARSE_DONE)
                FUZZ_ASSERT(used <= size && text[used - 1] == '\n' && len <= 65536);
        else if (r == LISTENER_PARSE_MORE)
                FUZZ_ASSERT(!memchr(text, '\n', size));

        size_t max = size > 0 ? (size_t)data[0] % 64 + 1 : 1, step = size > 1 ? (size_t)data[1] % 17 + 1 : 1;
        struct event_capture capture;
        event_capture_init(&capture, max);
        for (size_t at = 0; at < size; at += step) {
                size_t n = size - at < step ? size - at : step;
                FUZZ_ASSERT(event_capture_feed(&capture, text + at, n, on_text, &max) == 0);
        }
        event_capture_done(&capture);
        return 0;
}
