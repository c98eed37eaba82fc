/* SPDX-License-Identifier: MIT */
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
 * config or the desktop's default. In the template, an argument
 * equal to "%u" is replaced by the re-serialised URL, "%u" inside a longer
 * argument is substituted in place (each argument stays one argument), and
 * a template without "%u" gets the URL appended. (A template that itself
 * runs "sh -c" with "%u" in the script would hand the URL to a shell, which
 * is why the configuration's open_command refuses "%u" inside a word:
 * config.c accepts it only as a word of its own, at most once.)
 *
 * Where the browser runs: never inside heed.service's sandbox if it can be
 * helped (no_new_privs, seccomp filters, umask 0077 and a read-only file
 * system are inherited by children). In this order:
 *   1. without a template (the portal cannot run a given program), the
 *      desktop portal (org.freedesktop.portal.OpenURI on the session bus),
 *      if it is running now: it is not activated, and the bus is asked
 *      with short timeouts (1 s, 5 s for OpenURI);
 *   2. under systemd (INVOCATION_ID set), a transient service of the user
 *      manager: systemd-run --user --collect --unit=heed-open-RANDOM with
 *      Type=exec (a program that cannot be executed fails here) and
 *      ExitType=cgroup (the service lasts as long as the browser it started),
 *      running the template, or xdg-open (else "gio open") without one, with
 *      each "$" doubled (the manager would expand "${NAME}" and "$$"); the
 *      environment is passed by name (--setenv=NAME), without the variables
 *      systemd sets for one unit;
 *   3. directly as our child: the template, or GIO's default handler (under
 *      systemd the browser then inherits the sandbox, hence a warning).
 * A failure of one step goes on to the next; if all fail, the error names
 * each step that did not work and what to change.
 *
 * Children get an environment without systemd's NOTIFY_SOCKET,
 * WATCHDOG_USEC/PID and LISTEN_FDS/PID, stdin on /dev/null, no inherited
 * descriptors beyond 0-2, and are reaped (by GLib's intermediate process, or,
 * for systemd-run, which is waited for at most 10 s, by url_open), so no
 * zombies are left behind.
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

/* Check and open. open_argv is NULL (the desktop's default: portal, xdg-open
 * or GIO) or a NULL-terminated argv template, e.g.
 * {"firefox", "--new-tab", "%u", NULL}; argv[0] is looked up in PATH.
 * Returns false with a GError: URL_ERROR_UNSAFE if the check failed (nothing
 * is started), URL_ERROR_LAUNCH if no way of opening worked (including exec
 * failure), saying what was tried. It does not wait for the browser. Called
 * from one thread at a time (it remembers whether systemd-run knows
 * ExitType=). */
bool url_open(const char *url, const char *allowed_host, char *const *open_argv, GError **error);

/* Host part of an https URL, lower-cased (g_free it), or NULL for anything
 * else or an unparsable URL. Does not validate the URL. */
char *url_host(const char *url);

#endif
