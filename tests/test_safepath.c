/* test_safepath.c — unit tests for safepath.c: how directories are judged (owner, group
 * and world write, sticky, ancestors, links on the way, directories made), and what
 * safe_file_open() refuses (a link, a FIFO, a file with another link, another owner). */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "safepath.h"

static char base[64];

static void make_base(void) {
        snprintf(base, sizeof base, "/tmp/test_safepath.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(base));
        ck_assert_int_eq(chmod(base, 0755), 0);
}

static void remove_base(void) {
        char out[256];
        char *argv[] = { "rm", "-rf", base, NULL };
        run_capture(argv, out, sizeof out);
}

/* Make BASE/NAME with MODE and owner UID:GID; its path into a static buffer. */
static const char *dir_with(const char *name, mode_t mode, uid_t uid, gid_t gid) {
        static char path[256];
        snprintf(path, sizeof path, "%s/%s", base, name);
        ck_assert_int_eq(mkdir(path, 0700), 0);
        ck_assert_int_eq(chown(path, uid, gid), 0);
        ck_assert_int_eq(chmod(path, mode), 0);
        return path;
}

static enum dir_trust judged(const char *path, char *why, size_t size) {
        enum dir_trust trust;
        int fd = safe_directory_open(path, false, &trust, why, size);
        ck_assert_msg(fd >= 0, "%s: %s", path, strerror(-fd));
        close(fd);
        return trust;
}

START_TEST(test_directory_judgement) {
        char why[512], path[300];
        if (geteuid() != 0) {
                fprintf(stderr, "test_directory_judgement: needs root to give directories away, skipped\n");
                return;
        }
        make_base();
        ck_assert_int_eq(judged(dir_with("root", 0755, 0, 0), why, sizeof why), DIR_TRUSTED);
        ck_assert_str_eq(why, "");
        ck_assert_int_eq(judged(dir_with("all", 0777, 0, 0), why, sizeof why), DIR_UNSAFE);
        ck_assert_ptr_nonnull(strstr(why, "/all is writable by everyone"));
        ck_assert_int_eq(judged(dir_with("sticky", 01777, 0, 0), why, sizeof why), DIR_SHARED);
        ck_assert_ptr_nonnull(strstr(why, "sticky"));
        ck_assert_int_eq(judged(dir_with("theirs", 0755, 65534, 65534), why, sizeof why), DIR_UNSAFE);
        ck_assert_ptr_nonnull(strstr(why, "/theirs is owned by uid 65534"));
        ck_assert_int_eq(judged(dir_with("group", 0775, 0, 65534), why, sizeof why), DIR_UNSAFE);
        ck_assert_ptr_nonnull(strstr(why, "writable by group 65534"));
        ck_assert_int_eq(judged(dir_with("rootgroup", 0775, 0, 0), why, sizeof why), DIR_TRUSTED);

        /* below a directory of others: replaceable, so unsafe, but sticky keeps ours */
        snprintf(path, sizeof path, "%s/all/sub", base);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        ck_assert_int_eq(judged(path, why, sizeof why), DIR_UNSAFE);
        snprintf(path, sizeof path, "%s/sticky/mine", base);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        ck_assert_int_eq(judged(path, why, sizeof why), DIR_TRUSTED);
        snprintf(path, sizeof path, "%s/sticky/yours", base);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        ck_assert_int_eq(chown(path, 65534, 65534), 0);
        ck_assert_int_eq(judged(path, why, sizeof why), DIR_UNSAFE);
        /* below a directory a group may write: a warning (distributions' /var/log) */
        snprintf(path, sizeof path, "%s/group/sub", base);
        ck_assert_int_eq(mkdir(path, 0755), 0);
        ck_assert_int_eq(judged(path, why, sizeof why), DIR_SHARED);

        /* a link on the way is followed, and its target judged */
        char link[300];
        snprintf(link, sizeof link, "%s/to-theirs", base);
        ck_assert_int_eq(symlink("theirs", link), 0);
        ck_assert_int_eq(judged(link, why, sizeof why), DIR_UNSAFE);
        snprintf(link, sizeof link, "%s/to-root", base);
        ck_assert_int_eq(symlink("root", link), 0);
        ck_assert_int_eq(judged(link, why, sizeof why), DIR_TRUSTED);
        /* a link that another user could have made is unsafe itself */
        snprintf(link, sizeof link, "%s/all/to-root", base);
        ck_assert_int_eq(symlink("../root", link), 0);
        ck_assert_int_eq(judged(link, why, sizeof why), DIR_UNSAFE);
        remove_base();
}
END_TEST

START_TEST(test_directory_made) {
        char path[300];
        enum dir_trust trust;
        struct stat st;
        make_base();
        mode_t old = umask(077);
        snprintf(path, sizeof path, "%s/a/b/c", base);
        ck_assert_int_eq(safe_directory_open(path, false, &trust, NULL, 0), -ENOENT);
        int fd = safe_directory_open(path, true, &trust, NULL, 0);
        umask(old);
        ck_assert_int_ge(fd, 0);
        close(fd);
        ck_assert_int_eq(trust, DIR_TRUSTED);
        ck_assert_int_eq(stat(path, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, 0755);
        /* not through a file */
        snprintf(path, sizeof path, "%s/file", base);
        close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        snprintf(path, sizeof path, "%s/file/sub", base);
        ck_assert_int_eq(safe_directory_open(path, true, &trust, NULL, 0), -ENOTDIR);
        remove_base();
}
END_TEST

START_TEST(test_file_refusals) {
        char path[300], other[300];
        make_base();
        int dir = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(dir, 0);
        struct stat st;
        int fd = safe_file_open(dir, "log", O_WRONLY | O_CREAT, 0640, &st);
        ck_assert_int_ge(fd, 0);
        ck_assert(S_ISREG(st.st_mode));
        ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
        close(fd);
        snprintf(path, sizeof path, "%s/link", base);
        ck_assert_int_eq(symlink("log", path), 0);
        ck_assert_int_eq(safe_file_open(dir, "link", O_WRONLY | O_CREAT, 0640, NULL), -ELOOP);
        ck_assert_str_eq(safe_strerror(-ELOOP), "is a symbolic link, not followed");
        snprintf(path, sizeof path, "%s/fifo", base);
        ck_assert_int_eq(mkfifo(path, 0600), 0);
        ck_assert_int_eq(safe_file_open(dir, "fifo", O_RDONLY, 0, NULL), -EFTYPE_SAFE);  /* and did not block */
        snprintf(path, sizeof path, "%s/log", base);
        snprintf(other, sizeof other, "%s/hardlink", base);
        ck_assert_int_eq(link(path, other), 0);
        ck_assert_int_eq(safe_file_open(dir, "log", O_WRONLY, 0, NULL), -EMLINK);
        ck_assert_int_eq(unlink(other), 0);
        if (geteuid() == 0) {
                ck_assert_int_eq(chown(path, 65534, 65534), 0);
                ck_assert_int_eq(safe_file_open(dir, "log", O_WRONLY, 0, NULL), -EPERM);
        }
        close(dir);
        remove_base();
}
END_TEST

START_TEST(test_path_split) {
        char dir[64];
        const char *name;
        ck_assert_int_eq(safe_path_split("/run/supervisord.sock", dir, sizeof dir, &name), 0);
        ck_assert_str_eq(dir, "/run");
        ck_assert_str_eq(name, "supervisord.sock");
        ck_assert_int_eq(safe_path_split("/x", dir, sizeof dir, &name), 0);
        ck_assert_str_eq(dir, "/");
        ck_assert_int_eq(safe_path_split("x", dir, sizeof dir, &name), 0);
        ck_assert_str_eq(dir, ".");
        ck_assert_int_eq(safe_path_split("/run/", dir, sizeof dir, &name), -EISDIR);
}
END_TEST

static Suite *safepath_suite(void) {
        Suite *s = suite_create("safepath");
        TCase *tc = tcase_create("safepath");
        tcase_add_test(tc, test_directory_judgement);
        tcase_add_test(tc, test_directory_made);
        tcase_add_test(tc, test_file_refusals);
        tcase_add_test(tc, test_path_split);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) { return run_suite(safepath_suite()) ? 1 : 0; }
