/* spare.c — see spare.h. */
#include "spare.h"

#include <fcntl.h>
#include <unistd.h>

/* Owned: /dev/null.  Given up and taken by the loop and by the config loader's thread
 * (loader.c), hence the atomic exchanges. */
static int spare_fd = -1;

bool spare_take(void) {
        if (__atomic_load_n(&spare_fd, __ATOMIC_ACQUIRE) >= 0)
                return true;
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return false;
        int none = -1;
        if (!__atomic_compare_exchange_n(&spare_fd, &none, fd, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                close(fd);  /* taken meanwhile by the other thread */
        return true;
}

bool spare_give_up(void) {
        int fd = __atomic_exchange_n(&spare_fd, -1, __ATOMIC_ACQ_REL);
        if (fd < 0)
                return false;
        close(fd);
        return true;
}

void spare_close(void) { (void)spare_give_up(); }
