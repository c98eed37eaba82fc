/* url: deciding whether a URL from the network may be opened, and opening it.
 *
 * A URL is opened only if it is https, at most 2048 bytes of valid UTF-8,
 * free of control characters, spaces, invisible (format) characters and
 * backslashes (which browsers and GUri read differently), has no userinfo,
 * has a clean host name (letters, digits, dots, hyphens; no empty label, no
 * label starting or ending with '-') and - when allowed_host is given - its
 * host is allowed_host or a subdomain of it (case-insensitive; an IPv4
 * allowed_host matches only itself).
 *
 * Ports: allowed_host is "host" or "host:port". With a port there, the URL
 * must have exactly that port (no port counts as 443); otherwise, and when
 * no allowed_host is given, the port must be 443 or absent. The port form
 * exists for test servers such as https://127.0.0.1:8443/.
 *
 * Opening never involves a shell: either an argv template from the user's
 * config or GIO's default handler for https. In the template, an argument
 * equal to "%u" is replaced by the re-serialised URL, "%u" inside a longer
 * argument is substituted in place (each argument stays one argument), and
 * a template without "%u" gets the URL appended. (A template that itself
 * runs "sh -c" with "%u" in the script would hand the URL to a shell, which
 * is why the configuration's open_command refuses "%u" inside a word:
 * config.c accepts it only as a word of its own, at most once.) Children get an environment without systemd's
 * NOTIFY_SOCKET, WATCHDOG_USEC/PID and LISTEN_FDS/PID, stdin on /dev/null,
 * no inherited descriptors beyond 0-2, and are reaped by GLib's
 * intermediate process, so no zombies are left behind.
 */
#ifndef HEED_URL_H
#define HEED_URL_H

#include <glib.h>
#include <stdbool.h>

#define URL_ERROR (url_error_quark())
GQuark url_error_quark(void);
enum url_error { URL_ERROR_UNSAFE, URL_ERROR_LAUNCH };

/* Validate url. On success returns the re-serialised URL (g_free it), which
 * is what must be opened (dot segments resolved, non-ASCII percent-encoded,
 * host in punycode); on failure NULL with a URL_ERROR_UNSAFE GError saying
 * why. An empty allowed_host counts as none. */
char *url_check(const char *url, const char *allowed_host, GError **error);

/* Check and open. open_argv is NULL (use the desktop default handler) or a
 * NULL-terminated argv template, e.g. {"firefox", "--new-tab", "%u", NULL};
 * argv[0] is looked up in PATH. Returns false with a GError: URL_ERROR_UNSAFE
 * if the check failed (nothing is started), URL_ERROR_LAUNCH if starting the
 * program failed (including exec failure). It does not wait for the child. */
bool url_open(const char *url, const char *allowed_host, char *const *open_argv, GError **error);

/* Host part of an https URL, lower-cased (g_free it), or NULL for anything
 * else or an unparsable URL. Does not validate the URL. */
char *url_host(const char *url);

#endif
