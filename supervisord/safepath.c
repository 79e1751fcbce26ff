/* safepath.c — see safepath.h.
 *
 * The judgement follows the kernel's rules for who may rename or remove an entry: the
 * directory's owner, and whoever may write it, except that in a sticky directory only
 * the entry's owner (and root) may.  So an entry is safe from other users when its
 * directory is owned by root or by us and writable by no one else, or when the directory
 * is sticky and the entry is ours.  Write permission through the directory's group counts
 * as someone else's unless the group is root's or ours; POSIX ACLs are not looked at.
 *
 * Resolving by hand, one openat(O_NOFOLLOW) per component, is what lets the judgement be
 * about the very directories the descriptor ends up in: a path judged first and opened
 * afterwards could be swapped in between. */
#include "safepath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAX_SYMLINKS 40

static bool is_ours_uid(uid_t uid) { return uid == 0 || uid == geteuid(); }
static bool is_ours_gid(gid_t gid) { return gid == 0 || gid == getegid(); }

/* Judge the directory DIR (at PATH): whether others can replace the entry owned by
 * *ENTRY_UID in it, or, for the last directory (ENTRY_UID NULL), add entries to it. */
static void judge(const struct stat *dir, const char *path, const uid_t *entry_uid, enum dir_trust *worst, char *why,
                  size_t why_size) {
        char who[64];
        enum dir_trust trust;
        bool sticky = dir->st_mode & S_ISVTX;
        bool by_all = dir->st_mode & S_IWOTH;
        bool by_group = (dir->st_mode & S_IWGRP) && !is_ours_gid(dir->st_gid);

        if (!path[0])
                path = "/";
        if (!is_ours_uid(dir->st_uid)) {
                trust = DIR_UNSAFE;
                snprintf(who, sizeof who, "owned by uid %lu", (unsigned long)dir->st_uid);
        } else if (!by_all && !by_group)
                return;
        else {
                if (by_all)
                        snprintf(who, sizeof who, "writable by everyone");
                else
                        snprintf(who, sizeof who, "writable by group %lu", (unsigned long)dir->st_gid);
                if (entry_uid) {
                        /* Others cannot rename or remove what is ours in a sticky directory.
                         * An ancestor writable by a group only is a warning: distributions
                         * ship /var/log as root:syslog 0775. */
                        if (sticky && is_ours_uid(*entry_uid))
                                return;
                        trust = by_all ? DIR_UNSAFE : DIR_SHARED;
                } else
                        trust = sticky ? DIR_SHARED : DIR_UNSAFE;
        }
        if (trust <= *worst)
                return;
        *worst = trust;
        if (why && why_size)
                snprintf(why, why_size, "%s is %s%s", path, who,
                         !entry_uid && trust == DIR_SHARED ? " (sticky: others can take names in it first)" : "");
}

/* Append "/NAME" to PATH (the human-readable path resolved so far), or drop its last
 * component for "..". */
static void path_push(char *path, size_t size, const char *name) {
        size_t len = strlen(path);
        if (strcmp(name, "..") == 0) {
                char *slash = strrchr(path, '/');
                if (slash)
                        *slash = '\0';
                return;
        }
        snprintf(path + len, size - len, "/%s", name);
}

int safe_directory_open(const char *path, bool create, enum dir_trust *ret_trust, char *why, size_t why_size) {
        /* The path still to resolve, rewritten when a symbolic link is met. */
        char todo[PATH_MAX * 2], resolved[PATH_MAX] = "";
        enum dir_trust worst = DIR_TRUSTED;
        unsigned links = 0;
        int r;

        if (why && why_size)
                why[0] = '\0';
        *ret_trust = DIR_TRUSTED;
        if (path[0] == '/')
                r = snprintf(todo, sizeof todo, "%s", path);
        else {
                char cwd[PATH_MAX];
                if (!getcwd(cwd, sizeof cwd))
                        return -errno;
                r = snprintf(todo, sizeof todo, "%s/%s", cwd, path);
        }
        if (r < 0 || (size_t)r >= sizeof todo)
                return -ENAMETOOLONG;

        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat dir;
        if (fstat(fd, &dir) < 0)
                goto fail_errno;
        char *p = todo;
        for (;;) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                char *end = strchrnul(p, '/');
                char name[NAME_MAX + 1];
                if ((size_t)(end - p) > NAME_MAX) {
                        r = -ENAMETOOLONG;
                        goto fail;
                }
                memcpy(name, p, (size_t)(end - p));
                name[end - p] = '\0';
                p = end;
                if (strcmp(name, ".") == 0)
                        continue;

                struct stat st;
                bool made = false;
                if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT || !create || strcmp(name, "..") == 0)
                                goto fail_errno;
                        if (mkdirat(fd, name, 0755) == 0)
                                made = true;
                        else if (errno != EEXIST)
                                goto fail_errno;
                        if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                goto fail_errno;
                }
                if (strcmp(name, "..") != 0)
                        judge(&dir, resolved, &st.st_uid, &worst, why, why_size);

                if (S_ISLNK(st.st_mode)) {
                        char target[PATH_MAX];
                        if (++links > MAX_SYMLINKS) {
                                r = -ELOOP;
                                goto fail;
                        }
                        ssize_t n = readlinkat(fd, name, target, sizeof target - 1);
                        if (n < 0)
                                goto fail_errno;
                        target[n] = '\0';
                        /* The target, then what was left after the link. */
                        char rest[sizeof todo];
                        if (snprintf(rest, sizeof rest, "%s/%s", target, p) >= (int)sizeof rest) {
                                r = -ENAMETOOLONG;
                                goto fail;
                        }
                        strcpy(todo, rest);
                        p = todo;
                        if (target[0] == '/') {
                                close(fd);
                                if ((fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                                        return -errno;
                                if (fstat(fd, &dir) < 0)
                                        goto fail_errno;
                                resolved[0] = '\0';
                        }
                        continue;
                }
                if (!S_ISDIR(st.st_mode)) {
                        r = -ENOTDIR;
                        goto fail;
                }
                /* O_NOFOLLOW: swapped for a link since the fstatat, it fails here. */
                int next = openat(fd, name, (made ? O_RDONLY : O_PATH) | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        goto fail_errno;
                close(fd);
                fd = next;
                struct stat now;
                if (fstat(fd, &now) < 0)
                        goto fail_errno;
                if (now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
                        r = -EAGAIN;  /* replaced between the look and the open */
                        goto fail;
                }
                if (made) {
                        /* 0755 whatever the umask; the fd is the directory we made. */
                        if (fchmod(fd, 0755) < 0)
                                goto fail_errno;
                        now.st_mode = (now.st_mode & ~07777u) | 0755;
                        int path_fd = openat(fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (path_fd < 0)
                                goto fail_errno;
                        close(fd);
                        fd = path_fd;
                }
                dir = now;
                path_push(resolved, sizeof resolved, name);
        }
        judge(&dir, resolved, NULL, &worst, why, why_size);
        *ret_trust = worst;
        return fd;

fail_errno:
        r = -errno;
fail:
        close(fd);
        return r;
}

int safe_file_open(int dir_fd, const char *name, int flags, mode_t mode, struct stat *ret_st) {
        int fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, mode);
        if (fd < 0)
                return -errno;
        struct stat st;
        int r = 0;
        if (fstat(fd, &st) < 0)
                r = -errno;
        else if (!S_ISREG(st.st_mode))
                r = -EFTYPE_SAFE;
        else if (st.st_uid != geteuid())
                r = -EPERM;
        else if (st.st_nlink > 1)
                r = -EMLINK;
        else if (!(flags & O_NONBLOCK)) {
                int fl = fcntl(fd, F_GETFL);
                if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
                        r = -errno;
        }
        if (r < 0) {
                close(fd);
                return r;
        }
        if (ret_st)
                *ret_st = st;
        return fd;
}

const char *safe_strerror(int error) {
        switch (error) {
        case -ELOOP:
                return "is a symbolic link, not followed";
        case -EFTYPE_SAFE:
                return "is not a regular file";
        case -EPERM:
                return "is owned by another user";
        case -EMLINK:
                return "has another hard link";
        case -EDIRUNSAFE_SAFE:
                return "is in a directory other users can change";
        default:
                return strerror(-error);
        }
}

int safe_path_split(const char *path, char *dir, size_t dir_size, const char **ret_name) {
        const char *slash = strrchr(path, '/');
        int n;
        if (!slash)
                n = snprintf(dir, dir_size, ".");
        else if (slash == path)
                n = snprintf(dir, dir_size, "/");
        else
                n = snprintf(dir, dir_size, "%.*s", (int)(slash - path), path);
        if (n < 0 || (size_t)n >= dir_size)
                return -ENAMETOOLONG;
        *ret_name = slash ? slash + 1 : path;
        return **ret_name ? 0 : -EISDIR;
}
