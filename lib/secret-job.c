/* SPDX-License-Identifier: MIT */
/* secret-job: see secret-job.h.
 *
 * Two owners share a job: the loop (until done runs or the job is
 * cancelled) and the worker thread (until it has posted its answer). The
 * last one to let go frees it. The worker wakes the loop through an
 * eventfd, which never raises SIGPIPE whoever has gone. */
#include "secret-job.h"

#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "secret.h"

struct secret_job {
    gint refs;
    gint cancelled;
    char **argv;
    int timeout_ms;
    int wake_fd;
    struct event *wake_ev;         /* loop side; NULL once the loop let go */
    secret_job_done_fn done;
    void *user_data;
    char *secret;                  /* the worker's answer */
    GError *error;
};

static void secret_job_unref(struct secret_job *job)
{
    if (!g_atomic_int_dec_and_test(&job->refs))
        return;
    g_strfreev(job->argv);
    secret_free(job->secret);
    g_clear_error(&job->error);
    close(job->wake_fd);
    g_free(job);
}

static gpointer secret_job_run(gpointer data)
{
    struct secret_job *job = data;
    if (!g_atomic_int_get(&job->cancelled)) {
        job->secret = job->timeout_ms > 0 ? secret_from_command_timeout(job->argv, job->timeout_ms, &job->error)
                                          : secret_from_command(job->argv, &job->error);
        uint64_t one = 1;
        ssize_t w = write(job->wake_fd, &one, sizeof one);
        (void)w; /* an eventfd write only fails when its counter is full */
    }
    secret_job_unref(job);
    return NULL;
}

static void secret_job_on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct secret_job *job = arg;
    uint64_t count;
    ssize_t r = read(fd, &count, sizeof count);
    (void)r;
    event_free(job->wake_ev);
    job->wake_ev = NULL;
    char *secret = g_steal_pointer(&job->secret);
    GError *error = g_steal_pointer(&job->error);
    secret_job_done_fn done = job->done;
    void *user_data = job->user_data;
    secret_job_unref(job);
    done(secret, error, user_data);
}

struct secret_job *secret_job_start(struct event_base *base, char *const *argv, int timeout_ms,
                                    secret_job_done_fn done, void *user_data, GError **error)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
        g_set_error(error, SECRET_ERROR, SECRET_ERROR_COMMAND, "cannot run the token command: eventfd: %s",
                    g_strerror(errno));
        return NULL;
    }
    struct secret_job *job = g_new0(struct secret_job, 1);
    job->refs = 2;
    job->argv = g_strdupv((char **)argv);
    job->timeout_ms = timeout_ms;
    job->wake_fd = fd;
    job->done = done;
    job->user_data = user_data;
    job->wake_ev = event_new(base, fd, EV_READ, secret_job_on_wake, job);
    event_add(job->wake_ev, NULL);
    GThread *t = g_thread_try_new("heed-token", secret_job_run, job, error);
    if (!t) {
        event_free(job->wake_ev);
        job->refs = 1;
        secret_job_unref(job);
        return NULL;
    }
    g_thread_unref(t); /* detached: it frees its share itself */
    return job;
}

void secret_job_cancel(struct secret_job *job)
{
    if (!job)
        return;
    g_atomic_int_set(&job->cancelled, 1);
    if (job->wake_ev) {
        event_free(job->wake_ev);
        job->wake_ev = NULL;
    }
    secret_job_unref(job);
}
