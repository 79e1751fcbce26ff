/* loader.c — see loader.h.
 *
 * A detached thread per load: it writes the result into its job, then, under the job's
 * mutex and only while the loader still wants it, signals the loop through an eventfd.
 * A loader freed while a load is under way marks the job abandoned; the thread then frees
 * it itself.  Signals stay blocked in the thread (it inherits the loop's mask), so every
 * signal still reaches the loop's signalfd. */
#include "loader.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "spare.h"

struct config_load {
        struct config_loader *loader;
        config_loaded_fn done;
        void *userdata;
        struct config_load *next;  /* in the queue */
        bool started;
};

struct job {
        pthread_mutex_t lock;
        char *path;              /* owned */
        config_load_fn load;
        int efd;                 /* the loader's, written once while not abandoned */
        bool own_thread;         /* runs on a thread of its own, not on the loop */
        struct config *config;   /* owned: the result */
        char error[4096];
        bool finished, abandoned;
};

struct config_loader {
        sd_event_source *source;     /* owned: the eventfd on the loop */
        int efd;                     /* owned */
        char *path;                  /* owned */
        config_load_fn load;
        struct config_load *queue;   /* owned: waiting, in order */
        struct config_load *running; /* owned: the request being loaded, NULL once cancelled */
        struct job *job;             /* the load under way, NULL when none */
};

static void job_free(struct job *job) {
        if (!job)
                return;
        config_free(job->config);
        free(job->path);
        pthread_mutex_destroy(&job->lock);
        free(job);
}

/* Out of descriptors, a reload that removes services is the way out: it must be able to
 * read the config (a directory of includes and a file of it at once) and the user and
 * group databases.  A thread of its own gets a table of descriptors of its own, a copy
 * of the loop's, in which it closes all but its eventfd: every slot is then free for it,
 * none is taken from the loop, and closing copies changes nothing for the loop (an open
 * file lives while one descriptor refers to it; the pidfile's lock is flock's, held by
 * the open file).  The table goes with the thread.  False if it could not be had. */
static bool job_own_descriptors(const struct job *job) {
        struct rlimit nofile;
        if (!job->own_thread || getrlimit(RLIMIT_NOFILE, &nofile) < 0 || unshare(CLONE_FILES) < 0)
                return false;
        /* Up to the limit only: a tool that runs supervisord (valgrind) keeps descriptors
         * of its own above it. */
        unsigned last = nofile.rlim_cur == RLIM_INFINITY || nofile.rlim_cur > ~0U ? ~0U : (unsigned)nofile.rlim_cur - 1;
        if (job->efd > 3)
                (void)syscall(SYS_close_range, 3U, (unsigned)job->efd - 1, 0U);
        if ((unsigned)job->efd < last)
                (void)syscall(SYS_close_range, (unsigned)job->efd + 1, last, 0U);
        return true;
}

static void *job_run(void *userdata) {
        struct job *job = userdata;
        bool own_table = job_own_descriptors(job);
        int r;
        for (int tries = 0;; tries++) {
                /* On the loop's table: the spare, given up right before the open. */
                bool gave_up_spare = !own_table && spare_give_up();
                job->error[0] = '\0';
                r = job->load(job->path, &job->config, job->error, sizeof job->error);
                if (gave_up_spare)
                        (void)spare_take();
                /* The system's table full, or on the loop's table the loop took the
                 * slot first (a log file opened at its first byte, a client): wait for
                 * one to be freed, a little. */
                if ((r != -EMFILE && r != -ENFILE) || tries == 20)
                        break;
                (void)nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000 * 1000 }, NULL);
        }
        if (r < 0) {
                job->config = NULL;
                if (!job->error[0])
                        snprintf(job->error, sizeof job->error, "%s: cannot be loaded", job->path);
        }
        pthread_mutex_lock(&job->lock);
        bool abandoned = job->abandoned;
        if (!abandoned) {
                uint64_t one = 1;
                /* An eventfd's counter does not fill up from one write. */
                (void)!write(job->efd, &one, sizeof one);
        }
        job->finished = true;
        pthread_mutex_unlock(&job->lock);
        if (abandoned)
                job_free(job);
        return NULL;
}

/* Begin the first request of the queue, when none is under way. */
static void loader_next(struct config_loader *l) {
        if (l->job || !l->queue)
                return;
        struct config_load *req = l->queue;
        struct job *job = calloc(1, sizeof *job);
        if (job && !(job->path = strdup(l->path))) {
                free(job);
                job = NULL;
        }
        if (!job)
                return;  /* out of memory: tried again with the next request or completion */
        l->queue = req->next;
        req->next = NULL;
        req->started = true;
        l->running = req;
        pthread_mutex_init(&job->lock, NULL);
        job->load = l->load;
        job->efd = l->efd;
        l->job = job;
        pthread_attr_t attr;
        pthread_t thread;
        bool threaded = pthread_attr_init(&attr) == 0;
        if (threaded) {
                pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
                job->own_thread = true;
                threaded = pthread_create(&thread, &attr, job_run, job) == 0;
                pthread_attr_destroy(&attr);
        }
        if (!threaded) {
                job->own_thread = false;
                job_run(job);  /* no thread to be had: load here, rather than not at all */
        }
}

static int loader_on_done(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        struct config_loader *l = userdata;
        uint64_t count;
        (void)source;
        (void)revents;
        if (read(fd, &count, sizeof count) < 0 || !l->job)
                return 0;
        struct job *job = l->job;
        pthread_mutex_lock(&job->lock);  /* the thread is past its write: at most a moment */
        bool finished = job->finished;
        pthread_mutex_unlock(&job->lock);
        if (!finished)
                return 0;
        l->job = NULL;
        struct config_load *req = l->running;
        l->running = NULL;
        struct config *config = job->config;
        job->config = NULL;
        if (req && req->done)
                req->done(config, job->error, req->userdata);
        else
                config_free(config);
        free(req);
        job_free(job);
        loader_next(l);
        return 0;
}

int config_loader_new(sd_event *event, const char *path, config_load_fn load, struct config_loader **ret) {
        struct config_loader *l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        l->load = load;
        l->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (l->efd < 0 || !(l->path = strdup(path))) {
                int r = l->efd < 0 ? -errno : -ENOMEM;
                config_loader_free(l);
                return r;
        }
        int r = sd_event_add_io(event, &l->source, l->efd, EPOLLIN, loader_on_done, l);
        if (r < 0) {
                config_loader_free(l);
                return r;
        }
        *ret = l;
        return 0;
}

struct config_loader *config_loader_free(struct config_loader *l) {
        if (!l)
                return NULL;
        if (l->job) {
                struct job *job = l->job;
                pthread_mutex_lock(&job->lock);
                bool finished = job->finished;
                job->abandoned = true;
                pthread_mutex_unlock(&job->lock);
                if (finished)
                        job_free(job);  /* else its thread frees it */
        }
        free(l->running);
        while (l->queue) {
                struct config_load *next = l->queue->next;
                free(l->queue);
                l->queue = next;
        }
        sd_event_source_disable_unref(l->source);
        if (l->efd >= 0)
                close(l->efd);
        free(l->path);
        free(l);
        return NULL;
}

int config_loader_load(struct config_loader *l, config_loaded_fn done, void *userdata, struct config_load **ret) {
        struct config_load *req = calloc(1, sizeof *req);
        if (!req)
                return -ENOMEM;
        req->loader = l;
        req->done = done;
        req->userdata = userdata;
        struct config_load **tail = &l->queue;
        while (*tail)
                tail = &(*tail)->next;
        *tail = req;
        if (ret)
                *ret = req;
        loader_next(l);
        return 0;
}

bool config_load_started(const struct config_load *req) { return req->started; }

void config_load_cancel(struct config_load *req) {
        if (!req)
                return;
        struct config_loader *l = req->loader;
        if (l->running == req) {
                l->running = NULL;  /* its result is dropped when it comes */
                free(req);
                return;
        }
        for (struct config_load **p = &l->queue; *p; p = &(*p)->next)
                if (*p == req) {
                        *p = req->next;
                        free(req);
                        return;
                }
}

void config_loader_forget(struct config_loader *l, void *userdata) {
        if (l->running && l->running->userdata == userdata)
                config_load_cancel(l->running);
        for (struct config_load **p = &l->queue; *p;) {
                struct config_load *req = *p;
                if (req->userdata == userdata) {
                        *p = req->next;
                        free(req);
                } else
                        p = &req->next;
        }
}
