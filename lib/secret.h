/* SPDX-License-Identifier: MIT */
/* secret: reading an account's token without ever exposing it.
 *
 * A token comes from token_file (which must be a regular file owned by the
 * user and not readable or writable by group or others, as ssh demands of
 * private keys) or from token_command (an argv run without a shell, in its
 * own process group, with stdin from /dev/null, stderr discarded, systemd's
 * NOTIFY_SOCKET / WATCHDOG_* removed from its environment, a 10 s time limit
 * and the first line of its stdout taken as the secret). Either way at most
 * 16 KiB is accepted, and trailing whitespace is removed. What is left must
 * be one word: a line break, space or control character inside would
 * inject a line into the Authorization header (or be no token at all), so
 * it is refused. Error messages name the file or the command's
 * program, never the secret. Secrets are wiped before they are freed.
 */
#ifndef HEED_SECRET_H
#define HEED_SECRET_H

#include <glib.h>
#include <stdbool.h>

#define SECRET_ERROR (secret_error_quark())
GQuark secret_error_quark(void);
enum secret_error {
    SECRET_ERROR_MISSING,     /* file absent or not openable */
    SECRET_ERROR_PERMISSIONS, /* symlink, not a regular file, wrong owner, group/other bits set */
    SECRET_ERROR_EMPTY,       /* nothing left after trimming */
    SECRET_ERROR_COMMAND,     /* command not started, failed, killed or timed out */
    SECRET_ERROR_INVALID,     /* more than 16 KiB, a NUL byte, a line break, space or control character
                                 inside: not a token */
};

/* Read the secret from a file; trailing whitespace is removed and the rest
 * must hold no whitespace or control character. The final path component
 * must not be a symlink. Returns NULL with a GError. */
char *secret_from_file(const char *path, GError **error);
/* Run argv and take the first line of its stdout (trailing whitespace
 * removed, no whitespace or control character inside); the command must
 * exit with status 0 within 10 s. */
char *secret_from_command(char *const *argv, GError **error);
/* Same with a time limit in milliseconds, so tests need not wait 10 s. On
 * timeout the command's process group is killed with SIGKILL. */
char *secret_from_command_timeout(char *const *argv, int timeout_ms, GError **error);
/* Zero and free; NULL is fine. */
void secret_free(char *secret);

#endif
