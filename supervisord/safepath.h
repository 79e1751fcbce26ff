/* safepath.h — the files supervisord writes as root (service logs, the pidfile and its
 * records, the control socket) opened so that no other user can redirect them.
 *
 * A directory is resolved once, component by component, into a descriptor, judging on the
 * way who could change what the path leads to; files are then created, opened, renamed
 * and removed relative to that descriptor, never following a symbolic link in the last
 * component, and what was opened is checked with fstat(2) before a byte is written. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Who can change what a directory's path leads to, and what lands in it. */
enum dir_trust {
        DIR_TRUSTED,  /* only root and supervisord's own user */
        DIR_SHARED,   /* others can add entries but not replace ours (a sticky directory
                       * such as /tmp), or an ancestor is writable by a group: a warning */
        DIR_UNSAFE,   /* another user can replace the directory or the entries in it:
                       * refused at start-up */
};

/* Resolve directory PATH into an O_PATH descriptor (close-on-exec).  A symbolic link on the
 * way is followed (its target judged like the rest); with CREATE, missing directories are
 * made, mode 0755.  *ret_trust is the worst found, and WHY (if not NULL) says what made it
 * so ("/srv/logs is writable by everyone").  A relative PATH is taken from the current
 * directory.  Returns the fd or a negative errno. */
int safe_directory_open(const char *path, bool create, enum dir_trust *ret_trust, char *why, size_t why_size);

/* openat(DIR_FD, NAME) with O_NOFOLLOW, O_CLOEXEC, O_NOCTTY (and O_NONBLOCK while opening,
 * so that a FIFO planted there cannot block us), then fstat: the file must be a regular
 * file owned by supervisord's user with no other hard link.  Returns the fd or a negative
 * errno: -ELOOP a symbolic link, -EFTYPE_SAFE not a regular file, -EPERM owned by another
 * user, -EMLINK another hard link; safe_strerror() words them.  RET_ST (if not NULL)
 * receives the fstat. */
#define EFTYPE_SAFE EMEDIUMTYPE
int safe_file_open(int dir_fd, const char *name, int flags, mode_t mode, struct stat *ret_st);

/* A file refused because its directory judged DIR_UNSAFE after start-up. */
#define EDIRUNSAFE_SAFE EUCLEAN

/* strerror(-ERROR), but worded for the refusals of safe_file_open() and EDIRUNSAFE_SAFE. */
const char *safe_strerror(int error);

/* PATH's directory ("." when it has none) into DIR, and a pointer to its last component. */
int safe_path_split(const char *path, char *dir, size_t dir_size, const char **ret_name);
