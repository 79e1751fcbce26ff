/* preflight.c — see preflight.h.
 *
 * A file that loads can still describe services that fail at their first start: a
 * command misspelt or not executable for its user, a directory that is missing, a user
 * switch a non-root supervisord cannot make, a log-dir nobody may create.  These are
 * found here from the file system and the user database, as the spawn would meet them
 * (spawn.c: chdir, then the credentials, then exec searching PATH), but nothing is
 * started, created or changed. */
#include "preflight.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* Who a process runs as, for permission checks by mode bits (ACLs are not read). */
struct credentials {
        uid_t uid;
        gid_t gid;
        const gid_t *groups;
        size_t n_groups;
};

struct preflight {
        FILE *out;
        unsigned errors;
};

static void __attribute__((format(printf, 5, 6)))
report(struct preflight *p, bool error, const char *file, int line, const char *format, ...) {
        va_list ap;
        va_start(ap, format);
        if (line > 0)
                fprintf(p->out, "%s:%d: %s", file, line, error ? "" : "warning: ");
        else
                fprintf(p->out, "%s: %s", file, error ? "" : "warning: ");
        vfprintf(p->out, format, ap);
        fputc('\n', p->out);
        va_end(ap);
        if (error)
                p->errors++;
}

static bool in_groups(const struct credentials *who, gid_t gid) {
        if (who->gid == gid)
                return true;
        for (size_t i = 0; i < who->n_groups; i++)
                if (who->groups[i] == gid)
                        return true;
        return false;
}

/* Mode bits MASK (some of 4 r, 2 w, 1 x) of ST for WHO, as the kernel decides without ACLs:
 * root may read and write anything and execute what anyone may. */
static bool permits(const struct stat *st, const struct credentials *who, unsigned mask) {
        if (who->uid == 0)
                return !(mask & 1) || S_ISDIR(st->st_mode) || (st->st_mode & 0111);
        unsigned bits = st->st_uid == who->uid      ? (st->st_mode >> 6) & 7
                        : in_groups(who, st->st_gid) ? (st->st_mode >> 3) & 7
                                                     : st->st_mode & 7;
        return (bits & mask) == mask;
}

/* Can WHO reach PATH (absolute): search permission on each directory above it?  On
 * failure, the directory that stops it into blocker. */
static bool can_reach(const char *path, const struct credentials *who, char *blocker, size_t size) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", path);
        for (char *slash = strchr(dir + 1, '/'); slash; slash = strchr(slash + 1, '/')) {
                *slash = '\0';
                struct stat st;
                bool ok = stat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || permits(&st, who, 1);
                if (!ok) {
                        snprintf(blocker, size, "%s", dir);
                        return false;
                }
                *slash = '/';
        }
        struct stat root;
        if (stat("/", &root) == 0 && !permits(&root, who, 1)) {
                snprintf(blocker, size, "/");
                return false;
        }
        return true;
}

static const char *user_label(const struct service_config *s, char *buf, size_t size) {
        if (s->has_user)
                snprintf(buf, size, "user %s", s->user_name);
        else
                snprintf(buf, size, "uid %u", (unsigned)geteuid());
        return buf;
}

/* PATH as the service's exec sees it: an executable regular file for WHO.  0 if so, else
 * the errno exec would meet; *ret_script_error an error of its #! interpreter. */
static int check_executable(const char *path, const struct credentials *who, char *blocker, size_t size) {
        struct stat st;
        blocker[0] = '\0';
        if (stat(path, &st) < 0)
                return -errno;
        if (!can_reach(path, who, blocker, size))
                return -EACCES;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (!S_ISREG(st.st_mode) || !permits(&st, who, 1))
                return -EACCES;
        return 0;
}

/* Why exec of a file failed with R, in words. */
static const char *exec_problem(int r, const char *blocker, const struct service_config *s, char *buf, size_t size) {
        char label[128];
        if (blocker[0])
                snprintf(buf, size, "%s cannot enter %s", user_label(s, label, sizeof label), blocker);
        else if (r == -EACCES)
                snprintf(buf, size, "not executable by %s", user_label(s, label, sizeof label));
        else if (r == -EISDIR)
                snprintf(buf, size, "is a directory");
        else
                snprintf(buf, size, "%s", strerror(-r));
        return buf;
}

/* The interpreter of a #! script, checked as exec would (one level). */
static void check_interpreter(struct preflight *p, const struct service_config *s, const char *path,
                              const struct credentials *who) {
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return;  /* exec needs no read permission for a binary; a script's reader will say */
        char line[256];
        ssize_t n = read(fd, line, sizeof line - 1);
        close(fd);
        if (n < 3 || line[0] != '#' || line[1] != '!')
                return;
        line[n] = '\0';
        char *interpreter = line + 2;
        interpreter += strspn(interpreter, " \t");
        interpreter[strcspn(interpreter, " \t\r\n")] = '\0';
        if (!interpreter[0])
                return;
        char blocker[PATH_MAX], problem[PATH_MAX + 160];
        int r = check_executable(interpreter, who, blocker, sizeof blocker);
        if (r < 0)
                report(p, true, s->file, s->command_line, "service %s: command: %s: its interpreter %s: %s", s->name,
                       path, interpreter, exec_problem(r, blocker, s, problem, sizeof problem));
}

static void check_command(struct preflight *p, const struct service_config *s, const struct credentials *who) {
        const char *name = s->argv[0];
        char path[PATH_MAX], blocker[PATH_MAX], problem[PATH_MAX + 160];
        int r;
        if (strchr(name, '/')) {
                if (name[0] == '/' || !s->directory)
                        snprintf(path, sizeof path, "%s", name);
                else
                        snprintf(path, sizeof path, "%s/%s", s->directory, name);
                r = check_executable(path, who, blocker, sizeof blocker);
                if (r < 0) {
                        report(p, true, s->file, s->command_line, "service %s: command: %s: %s", s->name, name,
                               exec_problem(r, blocker, s, problem, sizeof problem));
                        return;
                }
                check_interpreter(p, s, path, who);
                return;
        }
        /* Searched in PATH, the service's own if its environment sets one. */
        const char *search = getenv("PATH");
        for (char **e = s->environment; e && *e; e++)
                if (strncmp(*e, "PATH=", 5) == 0)
                        search = *e + 5;
        if (!search)
                search = "/bin:/usr/bin";
        int first_error = -ENOENT;
        char first_path[PATH_MAX] = "", first_blocker[PATH_MAX] = "";
        for (const char *dir = search;;) {
                size_t len = strcspn(dir, ":");
                if (len > 0 && dir[0] == '/') {  /* a relative entry depends on the directory: skipped */
                        snprintf(path, sizeof path, "%.*s/%s", (int)len, dir, name);
                        r = check_executable(path, who, blocker, sizeof blocker);
                        if (r == 0) {
                                check_interpreter(p, s, path, who);
                                return;
                        }
                        if (r != -ENOENT && r != -ENOTDIR && first_error == -ENOENT) {
                                first_error = r;
                                snprintf(first_path, sizeof first_path, "%s", path);
                                snprintf(first_blocker, sizeof first_blocker, "%s", blocker);
                        }
                }
                if (!dir[len])
                        break;
                dir += len + 1;
        }
        if (first_error == -ENOENT)
                report(p, true, s->file, s->command_line, "service %s: command: %s: not found in PATH (%s)", s->name,
                       name, search);
        else
                report(p, true, s->file, s->command_line, "service %s: command: %s: found as %s, but %s", s->name, name,
                       first_path, exec_problem(first_error, first_blocker, s, problem, sizeof problem));
}

static void check_directory(struct preflight *p, const struct service_config *s, const struct credentials *who) {
        char blocker[PATH_MAX], label[128];
        struct stat st;
        if (!s->directory)
                return;
        if (stat(s->directory, &st) < 0)
                report(p, true, s->file, s->directory_line, "service %s: directory: %s: %s", s->name, s->directory,
                       strerror(errno));
        else if (!S_ISDIR(st.st_mode))
                report(p, true, s->file, s->directory_line, "service %s: directory: %s: Not a directory", s->name,
                       s->directory);
        else if (!can_reach(s->directory, who, blocker, sizeof blocker) || !permits(&st, who, 1))
                report(p, true, s->file, s->directory_line, "service %s: directory: %s: cannot be entered by %s",
                       s->name, s->directory, user_label(s, label, sizeof label));
}

/* The nearest directory of PATH that exists, into buf. */
static void existing_ancestor(const char *path, char *buf, size_t size) {
        snprintf(buf, size, "%s", path);
        struct stat st;
        while (stat(buf, &st) < 0) {
                char *slash = strrchr(buf, '/');
                if (!slash || slash == buf) {
                        snprintf(buf, size, "/");
                        return;
                }
                *slash = '\0';
        }
}

/* DIR (absolute) must be a directory WHO can create files in, or be creatable by WHO. */
static const char *check_writable_dir(const char *dir, const struct credentials *who, char *why, size_t size) {
        char at[PATH_MAX], blocker[PATH_MAX];
        struct stat st;
        existing_ancestor(dir, at, sizeof at);
        if (stat(at, &st) < 0 || !S_ISDIR(st.st_mode)) {
                snprintf(why, size, "%s is not a directory", at);
                return why;
        }
        if (!can_reach(at, who, blocker, sizeof blocker)) {
                snprintf(why, size, "%s cannot be entered by uid %u", blocker, (unsigned)who->uid);
                return why;
        }
        if (!permits(&st, who, 3)) {
                if (strcmp(at, dir) == 0)
                        snprintf(why, size, "not writable by uid %u", (unsigned)who->uid);
                else
                        snprintf(why, size, "cannot be created: %s is not writable by uid %u", at, (unsigned)who->uid);
                return why;
        }
        return NULL;
}

unsigned preflight_check(const struct config *c, FILE *out) {
        struct preflight p = { .out = out };
        gid_t own_groups[NGROUPS_MAX];
        int n_own = getgroups(NGROUPS_MAX, own_groups);
        struct credentials self = {
                .uid = geteuid(), .gid = getegid(), .groups = own_groups, .n_groups = n_own > 0 ? (size_t)n_own : 0,
        };
        char why[PATH_MAX + 128], dir[PATH_MAX];
        bool uses_log_dir = false;

        for (size_t i = 0; i < c->n_services; i++) {
                const struct service_config *s = c->services[i];
                struct credentials who = self;
                if (s->has_user)
                        who = (struct credentials){ .uid = s->uid, .gid = s->gid, .groups = s->groups,
                                                    .n_groups = s->n_groups };
                else if (s->has_group)
                        who = (struct credentials){ .uid = self.uid, .gid = s->gid, .groups = &s->gid, .n_groups = 1 };
                if (self.uid != 0 && ((s->has_user && s->uid != self.uid) || (s->has_group && s->gid != self.gid)))
                        report(&p, true, s->file, s->user_line,
                               "service %s: %s: only supervisord running as root can switch to it (this runs as uid "
                               "%u)",
                               s->name, s->has_user ? "user" : "group", (unsigned)self.uid);
                check_directory(&p, s, &who);
                check_command(&p, s, &who);
                if (s->stdout_target == OUTPUT_LOG || s->stderr_target == OUTPUT_LOG)
                        uses_log_dir = true;
                if (s->type == SERVICE_FORKING) {
                        snprintf(dir, sizeof dir, "%s", s->pidfile);
                        *strrchr(dir, '/') = '\0';
                        struct stat st;
                        if (dir[0] && stat(dir, &st) < 0)
                                report(&p, false, s->file, s->line,
                                       "service %s: pidfile: its directory %s does not exist (yet?)", s->name, dir);
                }
        }
        if (uses_log_dir && check_writable_dir(c->log_dir, &self, why, sizeof why))
                report(&p, true, c->path, c->log_dir_line, "log-dir: %s: %s", c->log_dir, why);
        snprintf(dir, sizeof dir, "%s", c->pidfile);
        *(strrchr(dir, '/') == dir ? dir + 1 : strrchr(dir, '/')) = '\0';
        if (access(dir, F_OK) < 0)
                report(&p, true, c->path, c->pidfile_line, "pidfile: %s: its directory %s does not exist", c->pidfile,
                       dir);
        else if (check_writable_dir(dir, &self, why, sizeof why))
                report(&p, true, c->path, c->pidfile_line, "pidfile: %s: its directory %s is %s", c->pidfile, dir, why);
        /* The socket may come from the service manager (socket activation): only a warning. */
        snprintf(dir, sizeof dir, "%s", c->socket);
        *(strrchr(dir, '/') == dir ? dir + 1 : strrchr(dir, '/')) = '\0';
        if (access(dir, F_OK) < 0)
                report(&p, false, c->path, c->socket_line, "socket: %s: its directory %s does not exist", c->socket,
                       dir);
        else if (check_writable_dir(dir, &self, why, sizeof why))
                report(&p, false, c->path, c->socket_line, "socket: %s: its directory %s is %s", c->socket, dir, why);
        return p.errors;
}
