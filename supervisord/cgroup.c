/* cgroup.c — see cgroup.h.
 *
 * The subtree: with `cgroup = PATH`, that directory of the cgroup v2 file system; with
 * `cgroup = auto`, supervisord's own cgroup (the "0::" line of /proc/self/cgroup, under
 * the cgroup2 mount of /proc/self/mountinfo, which is not always /sys/fs/cgroup) when it
 * was delegated: systemd marks a unit's cgroup with Delegate=yes by the xattr
 * trusted.delegate (user.delegate for a user manager), and a container's PID 1 whose
 * cgroup is the root of its cgroup namespace (not the host's root) owns all of it.  Anything else — a session scope,
 * the root cgroup of a host shared with other supervisords — is not ours to divide, and
 * auto falls back to process groups.
 *
 * When the subtree is supervisord's own cgroup, supervisord moves itself into a leaf,
 * SUBTREE/supervisord: cgroup v2 enables controllers (memory.current) for children only
 * of a cgroup without processes of its own.  Each service process is then made in
 * SUBTREE/NAME.service, which it joins before its exec (spawn.c writes "0" to the
 * cgroup.procs this module opens), so that nothing it runs is ever outside.  NAME is the
 * process name (web, web@2). */
#include "cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int base_fd = -1;  /* owned: the subtree's directory, -1 in the process-group mode */
static char base_path[4096];

bool cgroup_enabled(void) { return base_fd >= 0; }

/* Read a small file at PATH under DIR_FD into buf; the length, or a negative errno. */
static ssize_t read_at(int dir_fd, const char *path, char *buf, size_t size) {
        int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        size_t len = 0;
        ssize_t n = 0;
        while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
                len += (size_t)n;
        int saved = errno;
        close(fd);
        if (n < 0 && len == 0)
                return -saved;
        buf[len] = '\0';
        return (ssize_t)len;
}

static int write_at(int dir_fd, const char *path, const char *text) {
        int fd = openat(dir_fd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        ssize_t n = write(fd, text, strlen(text));
        int r = n < 0 ? -errno : 0;
        close(fd);
        return r;
}

/* Where the cgroup2 file system is mounted, and the root it shows there. */
static bool find_mount(char *ret_mount, size_t mount_size, char *ret_root, size_t root_size) {
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[8192];
        bool found = false;
        while (f && !found && fgets(line, sizeof line, f)) {
                char root[4096], mount_point[4096], fstype[64];
                const char *dash = strstr(line, " - ");
                if (!dash || sscanf(dash, " - %63s", fstype) != 1 || strcmp(fstype, "cgroup2") != 0)
                        continue;
                /* A path with blanks comes escaped (\040): not one we can use as it is. */
                if (sscanf(line, "%*s %*s %*s %4095s %4095s", root, mount_point) != 2 || strchr(mount_point, '\\'))
                        continue;
                snprintf(ret_mount, mount_size, "%s", mount_point);
                snprintf(ret_root, root_size, "%s", root);
                found = true;
        }
        if (f)
                fclose(f);
        return found;
}

/* supervisord's own cgroup v2 directory, into buf; *ret_relative: its path in the
 * hierarchy ("/" at the top). */
static bool own_cgroup(char *buf, size_t size, char *relative, size_t relative_size) {
        char mount_point[4096], root[4096], text[8192];
        if (!find_mount(mount_point, sizeof mount_point, root, sizeof root))
                return false;
        if (read_at(AT_FDCWD, "/proc/self/cgroup", text, sizeof text) < 0)
                return false;
        for (char *line = text; line && *line;) {
                char *end = strchr(line, '\n');
                if (end)
                        *end = '\0';
                if (strncmp(line, "0::", 3) == 0) {
                        const char *path = line + 3;
                        size_t root_len = strcmp(root, "/") == 0 ? 0 : strlen(root);
                        if (root_len > 0) {
                                if (strncmp(path, root, root_len) != 0 || (path[root_len] && path[root_len] != '/'))
                                        return false;  /* outside what this mount shows */
                                path += root_len;
                        }
                        snprintf(relative, relative_size, "%s", path[0] ? path : "/");
                        snprintf(buf, size, "%s%s", mount_point, strcmp(path, "/") == 0 ? "" : path);
                        return true;
                }
                line = end ? end + 1 : NULL;
        }
        return false;
}

static bool delegated(const char *dir) {
        static const char *const names[] = { "trusted.delegate", "user.delegate" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                char value[8];
                ssize_t n = getxattr(dir, names[i], value, sizeof value);
                if (n == 1 && value[0] == '1')
                        return true;
        }
        return false;
}

/* A container's PID 1 in the root of its cgroup namespace owns the cgroup.  The root of
 * the whole hierarchy has no cgroup.events: that is the host's (a pid namespace without
 * a cgroup namespace of its own), shared with everything else on it. */
static bool container_root(const char *dir, const char *relative) {
        char events[4200];
        snprintf(events, sizeof events, "%s/cgroup.events", dir);
        return getpid() == 1 && strcmp(relative, "/") == 0 && access(events, F_OK) == 0;
}

/* Each process listed in the cgroup.procs at PATH (under base_fd); returns how many. */
static int for_each_process(const char *path, void (*fn)(pid_t pid, void *userdata), void *userdata) {
        int fd = openat(base_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return 0;
        char buf[8192];
        size_t kept = 0;
        int count = 0;
        for (ssize_t n; (n = read(fd, buf + kept, sizeof buf - 1 - kept)) > 0;) {
                size_t len = kept + (size_t)n;
                buf[len] = '\0';
                char *p = buf, *nl;
                while ((nl = strchr(p, '\n'))) {
                        *nl = '\0';
                        long pid;
                        if (parse_long(p, 1, INT32_MAX, &pid) == 0) {
                                if (fn)
                                        fn((pid_t)pid, userdata);
                                count++;
                        }
                        p = nl + 1;
                }
                kept = len - (size_t)(p - buf);
                memmove(buf, p, kept);
        }
        close(fd);
        return count;
}

static void signal_one(pid_t pid, void *userdata) {
        int sig = *(int *)userdata;
        kill(pid, sig);
        if (sig != SIGKILL && sig != SIGCONT)
                kill(pid, SIGCONT);  /* a stopped process only sees it once continued */
}

/* SIG to everything in the cgroup DIR (a path under base_fd). */
static int signal_dir(const char *dir, int sig) {
        char path[512];
        snprintf(path, sizeof path, "%s/cgroup.procs", dir);
        int count = for_each_process(path, NULL, NULL);
        if (count == 0)
                return 0;
        if (sig == SIGKILL) {
                /* One write, and the kernel makes sure that a fork racing with it is
                 * killed too (Linux 5.14). */
                snprintf(path, sizeof path, "%s/cgroup.kill", dir);
                if (write_at(base_fd, path, "1") == 0)
                        return count;
        }
        /* Older kernels: each process, again while new ones turn up. */
        snprintf(path, sizeof path, "%s/cgroup.procs", dir);
        for (int pass = 0; pass < 8 && for_each_process(path, signal_one, &sig) > 0 && sig == SIGKILL; pass++)
                ;
        return count;
}

static bool is_service_dir(const char *name) {
        size_t n = strlen(name);
        return n > 8 && strcmp(name + n - 8, ".service") == 0;
}

/* What a previous supervisord left in the service cgroups of the subtree: killed. */
static void kill_leftovers(void) {
        int fd = dup(base_fd);
        DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
        if (!dir) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        rewinddir(dir);
        for (struct dirent *e; (e = readdir(dir));) {
                if (e->d_type != DT_DIR || !is_service_dir(e->d_name))
                        continue;
                int n = signal_dir(e->d_name, SIGKILL);
                if (n > 0)
                        log_warning("killing %d processes left running in cgroup %s/%s by a previous supervisord", n,
                                    base_path, e->d_name);
                (void)unlinkat(base_fd, e->d_name, AT_REMOVEDIR);  /* EBUSY while they die: reused then */
        }
        closedir(dir);
}

/* Controllers of the subtree for its children, those the kernel offers there: memory for
 * memory.current.  Best effort: CPU time (cpu.stat) needs none. */
static bool enable_controllers(void) {
        char available[1024];
        if (read_at(base_fd, "cgroup.controllers", available, sizeof available) < 0)
                available[0] = '\0';
        static const char *const wanted[] = { "memory", "cpu", "pids" };
        for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
                /* A whole word of the list: "cpu" is not "cpuset". */
                size_t len = strlen(wanted[i]);
                const char *at = available;
                while ((at = strstr(at, wanted[i]))
                       && ((at > available && at[-1] != ' ') || (at[len] && at[len] != ' ' && at[len] != '\n')))
                        at += len;
                if (!at)
                        continue;
                char change[32];
                snprintf(change, sizeof change, "+%s", wanted[i]);
                int r = write_at(base_fd, "cgroup.subtree_control", change);
                if (r < 0)
                        log_info("cgroup: cannot enable the %s controller in %s: %s", wanted[i], base_path, strerror(-r));
        }
        char enabled[1024];
        return read_at(base_fd, "cgroup.subtree_control", enabled, sizeof enabled) >= 0 && strstr(enabled, "memory");
}

int cgroup_setup(enum cgroup_mode mode, const char *path, char *error, size_t error_size) {
        char own[4096], relative[4096], why[4200];
        bool have_own = own_cgroup(own, sizeof own, relative, sizeof relative);
        const char *dir = NULL;

        switch (mode) {
        case CGROUP_OFF:
                log_notice("process-group mode: cgroup = off");
                return 0;
        case CGROUP_AUTO:
                if (!have_own)
                        snprintf(why, sizeof why, "no cgroup v2 file system is mounted");
                else if (access(own, W_OK) < 0)
                        snprintf(why, sizeof why, "cgroup %s is not writable: %s", own, strerror(errno));
                else if (!delegated(own) && !container_root(own, relative))
                        snprintf(why, sizeof why, "cgroup %s was not delegated to supervisord (Delegate=yes)", own);
                else
                        dir = own;
                if (!dir) {
                        log_notice("process-group mode: %s", why);
                        return 0;
                }
                break;
        case CGROUP_PATH: {
                struct statfs sfs;
                if (statfs(path, &sfs) < 0) {
                        snprintf(error, error_size, "cgroup %s: %s", path, strerror(errno));
                        return -errno;
                }
                if ((unsigned long)sfs.f_type != CGROUP2_SUPER_MAGIC) {
                        snprintf(error, error_size, "cgroup %s: not a directory of the cgroup v2 file system", path);
                        return -ENOTDIR;
                }
                dir = path;
                break;
        }
        }

        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || faccessat(fd, "cgroup.procs", W_OK, 0) < 0) {
                int r = -errno;
                if (fd >= 0)
                        close(fd);
                if (mode == CGROUP_PATH) {
                        snprintf(error, error_size, "cgroup %s: %s", dir, strerror(-r));
                        return r;
                }
                log_notice("process-group mode: cgroup %s: %s", dir, strerror(-r));
                return 0;
        }
        base_fd = fd;
        snprintf(base_path, sizeof base_path, "%s", dir);

        /* Out of the subtree's own cgroup, into a leaf of it: controllers can then be
         * enabled for the services' cgroups. */
        struct stat own_st, base_st;
        if (have_own && stat(own, &own_st) == 0 && fstat(base_fd, &base_st) == 0 && own_st.st_ino == base_st.st_ino
            && own_st.st_dev == base_st.st_dev) {
                int r = 0;
                if (mkdirat(base_fd, "supervisord", 0755) < 0 && errno != EEXIST)
                        r = -errno;
                if (r == 0)
                        r = write_at(base_fd, "supervisord/cgroup.procs", "0");
                if (r < 0)
                        log_warning("cgroup: cannot move supervisord into %s/supervisord, ignoring: %s", base_path,
                                    strerror(-r));
        }
        bool memory = enable_controllers();
        kill_leftovers();
        log_notice("cgroup mode: every service in a cgroup of its own under %s%s", base_path,
                   memory ? "" : " (no memory controller there: status shows CPU time, no memory)");
        return 0;
}

int cgroup_open_procs(const char *name) {
        if (base_fd < 0)
                return -ENXIO;
        char path[512];
        snprintf(path, sizeof path, "%s.service", name);
        if (mkdirat(base_fd, path, 0755) < 0 && errno != EEXIST)
                return -errno;
        snprintf(path, sizeof path, "%s.service/cgroup.procs", name);
        int fd = openat(base_fd, path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        return fd < 0 ? -errno : fd;
}

int cgroup_signal(const char *name, int sig) {
        if (base_fd < 0)
                return 0;
        char dir[256];
        snprintf(dir, sizeof dir, "%s.service", name);
        return signal_dir(dir, sig);
}

bool cgroup_populated(const char *name) {
        if (base_fd < 0)
                return false;
        char path[256], text[256];
        snprintf(path, sizeof path, "%s.service/cgroup.events", name);
        if (read_at(base_fd, path, text, sizeof text) < 0)
                return false;
        const char *p = strstr(text, "populated ");
        return p && p[10] == '1';
}

static bool read_number(const char *path, const char *key, uint64_t *ret) {
        char text[2048];
        if (base_fd < 0 || read_at(base_fd, path, text, sizeof text) < 0)
                return false;
        const char *p = text;
        if (key) {
                size_t len = strlen(key);
                for (p = text; p && strncmp(p, key, len) != 0; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                        ;
                if (!p || p[len] != ' ')
                        return false;
                p += len + 1;
        }
        char *end;
        errno = 0;
        unsigned long long n = strtoull(p, &end, 10);
        if (errno || end == p)
                return false;
        *ret = n;
        return true;
}

bool cgroup_memory(const char *name, uint64_t *ret_bytes) {
        char path[256];
        snprintf(path, sizeof path, "%s.service/memory.current", name);
        return read_number(path, NULL, ret_bytes);
}

bool cgroup_cpu_usec(const char *name, uint64_t *ret_usec) {
        char path[256];
        snprintf(path, sizeof path, "%s.service/cpu.stat", name);
        return read_number(path, "usage_usec", ret_usec);
}

void cgroup_remove(const char *name) {
        if (base_fd < 0)
                return;
        char path[256];
        snprintf(path, sizeof path, "%s.service", name);
        (void)unlinkat(base_fd, path, AT_REMOVEDIR);
}

void cgroup_free(void) {
        if (base_fd < 0)
                return;
        /* The empty service cgroups, those of services since removed from the config too. */
        int fd = dup(base_fd);
        DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
        if (dir)
                rewinddir(dir);  /* the offset is base_fd's, which kill_leftovers() left at the end */
        for (struct dirent *e; dir && (e = readdir(dir));)
                if (e->d_type == DT_DIR && is_service_dir(e->d_name))
                        (void)unlinkat(base_fd, e->d_name, AT_REMOVEDIR);
        if (dir)
                closedir(dir);
        else if (fd >= 0)
                close(fd);
        close(base_fd);
        base_fd = -1;
}
