/* SPDX-License-Identifier: MIT */
/* secret-job: a token_command run off the main loop.
 *
 * A token command can take seconds (secret-tool waiting for the user to
 * unlock the keyring) and the daemon's loop must not wait with it: the
 * control socket, clicks, other accounts' polls and the watchdog all run
 * there. secret_job_start() runs secret_from_command() (secret.h: no shell,
 * its own process group, a time limit) on a worker thread and calls done on
 * the loop when it ends. Cancelling drops the answer; the worker ends by
 * itself (the command is killed at its time limit at the latest) and frees
 * what it used, wiping the secret.
 */
#ifndef HEED_SECRET_JOB_H
#define HEED_SECRET_JOB_H

#include <event2/event.h>
#include <glib.h>

struct secret_job;

/* secret (owned; free with secret_free) or error (owned), never both. */
typedef void (*secret_job_done_fn)(char *secret, GError *error, void *user_data);

/* argv is copied. timeout_ms <= 0: secret_from_command's default (10 s).
 * Returns NULL with *error when the job cannot be set up. */
struct secret_job *secret_job_start(struct event_base *base, char *const *argv, int timeout_ms,
                                    secret_job_done_fn done, void *user_data, GError **error);
/* done will not be called. NULL is fine. */
void secret_job_cancel(struct secret_job *job);

#endif
