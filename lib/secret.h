/* secret: reading an account's token without ever exposing it.
 *
 * A token comes from token_file (which must be a regular file owned by the
 * user and not readable or writable by group or others, as ssh demands of
 * private keys) or from token_command (an argv run without a shell, with
 * stdin closed, stderr discarded, a 10 s time limit and its first line of
 * stdout taken as the secret). Error messages name the file or the command's
 * program, never the secret. Secrets are wiped before they are freed.
 */
#ifndef HEED_SECRET_H
#define HEED_SECRET_H

#include <glib.h>
#include <stdbool.h>

#define SECRET_ERROR (secret_error_quark())
GQuark secret_error_quark(void);
enum secret_error { SECRET_ERROR_MISSING, SECRET_ERROR_PERMISSIONS, SECRET_ERROR_EMPTY, SECRET_ERROR_COMMAND };

/* Read the secret from a file; trailing whitespace is removed. */
char *secret_from_file(const char *path, GError **error);
/* Run argv and take the first line of its stdout. */
char *secret_from_command(char *const *argv, GError **error);
/* Zero and free. */
void secret_free(char *secret);

#endif
