/* metrics.h — GET /metrics: the processes' figures in Prometheus' text exposition format
 * (version 0.0.4), made from the line protocol's `status` answer (protocol.h, STATUS
 * records), so that a fleet is scraped without an exporter. */
#pragma once

#include <stddef.h>

/* The exposition of REPLY, the whole answer to `status` (NUL-terminated; split in place),
 * into *ret (malloc'd, NUL-terminated) and *ret_len: 0; -EINVAL when REPLY does not end
 * with OK; -ENOMEM. */
int metrics_format(char *reply, char **ret, size_t *ret_len);
