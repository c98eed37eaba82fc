/* url: deciding whether a URL from the network may be opened, and opening it.
 *
 * A URL is opened only if it is https, at most 2 KiB, free of control
 * characters and spaces, has no userinfo, has a clean host name (letters,
 * digits, dots, hyphens) and a port of 443 or none, and - when allowed_host
 * is given - its host is allowed_host or a subdomain of it. Opening never
 * involves a shell: either an argv template from the user's config, in which
 * the single argument "%u" is replaced by the re-serialised URL, or GIO's
 * default handler for https. Children get an environment without systemd's
 * NOTIFY_SOCKET / WATCHDOG_* variables.
 */
#ifndef HEED_URL_H
#define HEED_URL_H

#include <glib.h>
#include <stdbool.h>

#define URL_ERROR (url_error_quark())
GQuark url_error_quark(void);
enum url_error { URL_ERROR_UNSAFE, URL_ERROR_LAUNCH };

/* Validate url. On success returns the re-serialised URL (g_free it), which
 * is what must be opened; on failure NULL with a GError saying why. */
char *url_check(const char *url, const char *allowed_host, GError **error);

/* Check and open. open_argv is NULL (use the desktop default handler) or a
 * NULL-terminated argv template, e.g. {"firefox", "--new-tab", "%u", NULL};
 * an argv without "%u" gets the URL appended. Returns false with a GError. */
bool url_open(const char *url, const char *allowed_host, char *const *open_argv, GError **error);

/* Host part of an https URL (g_free it), or NULL. */
char *url_host(const char *url);

#endif
