/* fuzz_config.c — config_load() on arbitrary text: our scanner, libconfuse's parser and
 * every validation rule, exactly as `supervisord -c FILE` and a reload run them.
 *
 * config_load() takes a path, so the input goes into a memfd and is loaded through
 * /proc/self/fd/N: nothing is written to the file system and nothing is left behind.
 * config_peek_socket() (supervisorctl's look at `socket` alone) reads the same input.
 * Input in supervisord's INI form goes to the INI reader, as config_load() sends it.
 * Checked besides memory errors and leaks: a rejected config has a "FILE..." message (a
 * malformed one "FILE:LINE: ..."); an
 * accepted one holds only values the rest of supervisord may rely on without checking
 * again, and its service definitions outlive the config by reference as a reload needs. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "ini_config.h"
#include "model.h"
#include "fuzz.h"

static int write_input(const uint8_t *data, size_t size) {
        int fd = memfd_create("fuzz-config", MFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        /* A memfd is made writable by everyone, which the loader refuses. */
        if (fchmod(fd, 0600) < 0) {
                close(fd);
                return -errno;
        }
        for (size_t done = 0; done < size;) {
                ssize_t n = write(fd, data + done, size - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        close(fd);
                        return -EIO;
                }
                done += (size_t)n;
        }
        return fd;
}

/* INI: the names supervisord takes for programs (the model's rule), wider than the native one. */
static void check_config(const struct config *c, bool ini) {
        FUZZ_ASSERT(c->socket && c->socket[0] == '/' && strlen(c->socket) < 108);
        FUZZ_ASSERT(c->pidfile && c->pidfile[0] == '/');
        FUZZ_ASSERT(c->log_dir && c->log_dir[0] == '/');
        FUZZ_ASSERT(c->socket_mode <= 0777);
        FUZZ_ASSERT(c->n_services == 0 || c->services);
        for (size_t i = 0; i < c->n_services; i++) {
                const struct service_config *s = c->services[i];
                FUZZ_ASSERT(s && s->refcount >= 1);
                FUZZ_ASSERT((ini ? config_model_name_is_valid(s->name) : service_name_is_valid(s->name)) &&
                            strcmp(s->name, "all") != 0);
                FUZZ_ASSERT(config_find_service(c, s->name) == (ssize_t)i);  /* names are unique */
                FUZZ_ASSERT(s->command && s->argv && s->argv[0]);
                FUZZ_ASSERT(s->instances >= 1 && s->instances <= 10000);
                FUZZ_ASSERT((s->type == SERVICE_FORKING) == (s->pidfile != NULL));
                FUZZ_ASSERT(s->after && s->environment);
                for (char **a = s->after; *a; a++)
                        FUZZ_ASSERT(config_find_service(c, *a) >= 0);
                for (char **e = s->environment; *e; e++)
                        FUZZ_ASSERT(strchr(*e, '=') && strncmp(*e, "SUPERVISOR_", 11) != 0);
                FUZZ_ASSERT(!s->directory || s->directory[0] == '/');
                FUZZ_ASSERT(s->restart_delay > 0 && s->restart_delay_max >= s->restart_delay);
                FUZZ_ASSERT(s->stop_signal > 0);
                FUZZ_ASSERT(s->heartbeat_interval == 0 || s->heartbeat_timeout <= s->heartbeat_interval);
                FUZZ_ASSERT(s->log_max_size == 0 || s->log_max_size >= 4096);
                FUZZ_ASSERT(service_config_equal(s, s));
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        int fd = write_input(data, size);
        if (fd < 0)
                return 0;
        char path[64], error[512];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        struct config *config = NULL;
        int r = config_load(path, &config, error, sizeof error);
        /* supervisorctl's look at the socket alone never finds another path than the
         * whole load.  It may refuse what libconfuse lets pass (a stray character that
         * its scanner skips), with a message. */
        char *socket = NULL, peek_error[512];
        int peeked = config_peek_socket(path, &socket, peek_error, sizeof peek_error);
        close(fd);
        FUZZ_ASSERT((peeked == 1) == (socket != NULL));
        if (peeked < 0)
                FUZZ_ASSERT(strncmp(peek_error, path, strlen(path)) == 0);
        /* In the INI form the client's [supervisorctl] serverurl may name another socket
         * than the daemon's, as for Python supervisord; the rest holds for both. */
        bool ini = ini_config_sniff((const char *)data, size);
        if (r == 0 && peeked == 1 && !ini)
                FUZZ_ASSERT(strcmp(socket, config->socket) == 0);
        if (r == 0 && peeked == 0 && !ini) {  /* the default, as the load computed it */
                char *fallback = NULL;
                FUZZ_ASSERT(config_default_path(CONFIG_DEFAULT_OF_SOCKET, &fallback, peek_error, sizeof peek_error) == 0);
                FUZZ_ASSERT(strcmp(fallback, config->socket) == 0);
                free(fallback);
        }
        free(socket);
        if (r < 0) {
                FUZZ_ASSERT(!config);
                FUZZ_ASSERT(strncmp(error, path, strlen(path)) == 0);
                /* A malformed file gets the line of its problem, always. */
                if (r == -EINVAL) {
                        const char *p = error + strlen(path);
                        FUZZ_ASSERT(p[0] == ':' && p[1] >= '1' && p[1] <= '9');
                        for (p++; *p >= '0' && *p <= '9'; p++)
                                ;
                        FUZZ_ASSERT(p[0] == ':' && p[1] == ' ');
                }
                return 0;
        }
        FUZZ_ASSERT(r == 0 && config);
        check_config(config, ini);
        /* A reload keeps running services on their old definition after the old config is
         * freed: the reference must keep every field alive. */
        struct service_config *kept = config->n_services ? service_config_ref(config->services[0]) : NULL;
        config_free(config);
        if (kept) {
                FUZZ_ASSERT((ini ? config_model_name_is_valid(kept->name) : service_name_is_valid(kept->name)) && kept->argv[0]);
                service_config_unref(kept);
        }
        return 0;
}
