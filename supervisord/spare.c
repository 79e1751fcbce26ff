/* spare.c — see spare.h. */
#include "spare.h"

#include <fcntl.h>
#include <unistd.h>

static int spare_fd = -1;  /* owned: /dev/null */

bool spare_take(void) {
        if (spare_fd < 0)
                spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        return spare_fd >= 0;
}

bool spare_give_up(void) {
        if (spare_fd < 0)
                return false;
        close(spare_fd);
        spare_fd = -1;
        return true;
}

void spare_close(void) { (void)spare_give_up(); }
