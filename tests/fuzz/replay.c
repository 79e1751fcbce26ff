/* replay.c — main() for `make check`: feeds a fuzz target the saved inputs of its corpus,
 * so every seed and every input that once crashed it is re-run by the ordinary test build
 * (and under ASan/UBSan by `make check-asan`) without clang or libFuzzer.
 *
 *   replay_TARGET              every file in $FUZZ_CORPUS/TARGET (default tests/fuzz/corpus)
 *   replay_TARGET FILE|DIR...  those inputs, e.g. a crash artifact from build-fuzz/
 *
 * TARGET comes from the program's name (replay_config runs the config corpus), so one
 * source serves every target.  An empty or missing corpus is a failure: a replay that
 * silently ran nothing would prove nothing. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

/* Read PATH into an exactly-sized heap buffer, so that ASan catches a read past the end. */
static int replay_file(const char *path) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        size_t size = (size_t)st.st_size;
        uint8_t *data = malloc(size ? size : 1);
        size_t done = 0;
        while (data && done < size) {
                ssize_t n = read(fd, data + done, size - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                done += (size_t)n;
        }
        close(fd);
        if (!data || done != size) {
                fprintf(stderr, "%s: short read\n", path);
                free(data);
                return -1;
        }
        LLVMFuzzerTestOneInput(data, size);
        free(data);
        return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
        return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replay every regular file in DIR (sorted, for a stable order); the count, or -1. */
static int replay_dir(const char *dir) {
        struct dirent **entries;
        int n = scandir(dir, &entries, NULL, by_name), count = 0, failed = 0;
        if (n < 0) {
                fprintf(stderr, "%s: %s\n", dir, strerror(errno));
                return -1;
        }
        for (int i = 0; i < n; i++) {
                char path[4096];
                struct stat st;
                snprintf(path, sizeof path, "%s/%s", dir, entries[i]->d_name);
                if (entries[i]->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                        if (replay_file(path) < 0)
                                failed = 1;
                        count++;
                }
                free(entries[i]);
        }
        free(entries);
        return failed ? -1 : count;
}

static int replay_path(const char *path) {
        struct stat st;
        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return -1;
        }
        if (S_ISDIR(st.st_mode))
                return replay_dir(path);
        return replay_file(path) < 0 ? -1 : 1;
}

int main(int argc, char **argv) {
        const char *name = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
        const char *target = strncmp(name, "replay_", 7) == 0 ? name + 7 : name;
        int total = 0;

        if (argc > 1) {
                for (int i = 1; i < argc; i++) {
                        int n = replay_path(argv[i]);
                        if (n < 0)
                                return 1;
                        total += n;
                }
        } else {
                const char *corpus = getenv("FUZZ_CORPUS");
                char dir[4096];
                snprintf(dir, sizeof dir, "%s/%s", corpus && *corpus ? corpus : "tests/fuzz/corpus", target);
                total = replay_dir(dir);
                if (total < 0)
                        return 1;
        }
        if (total == 0) {
                fprintf(stderr, "%s: no inputs to replay\n", name);
                return 1;
        }
        printf("%s: %d inputs replayed, no crash\n", name, total);
        return 0;
}
