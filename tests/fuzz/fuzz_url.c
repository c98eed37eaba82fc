/* SPDX-License-Identifier: MIT */
/* fuzz_url: the check that decides whether a URL from the network may be
 * opened (url_check) and url_host.
 *
 * Input: byte 0 picks the allowed host for the second check (below); the
 * rest, up to a NUL, is the URL. With byte 0 = 7 the rest is
 * "ALLOWED\nURL" instead. Every URL is checked without an allowed host and
 * with one.
 *
 * Checked for every accepted URL: it starts with "https://"; its authority
 * has no userinfo ('@'); it is printable ASCII without spaces or
 * backslashes (non-ASCII percent-encoded); checking it again (with the same allowed host)
 * accepts it unchanged, so what is opened is what was checked; url_host()
 * finds its host, and with an allowed host that host is the allowed one or
 * a subdomain of it (an IPv4 address only itself), on the allowed port.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/common_interface_defs.h>

#include "url.h"

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            __sanitizer_report_error_summary("fuzz_url: check failed: " #c); \
            abort();                                                           \
        }                                                                      \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const allowed_hosts[7] = {
    NULL, "", "example.social", "github.com", "127.0.0.1:8443", "x.com", "Example.Social:443",
};

/* allowed is "name" or "name:port"; plain ASCII only (others are not checked here). */
static void check_host(const char *url, const char *allowed)
{
    char *host = url_host(url);
    CHECK(host && *host);
    if (allowed && *allowed) {
        const char *colon = strrchr(allowed, ':');
        char *name = colon ? g_strndup(allowed, (gsize)(colon - allowed)) : g_strdup(allowed);
        size_t hl = strlen(host), nl = strlen(name);
        bool ipv4 = name[strspn(name, "0123456789.")] == '\0';
        bool same = g_ascii_strcasecmp(host, name) == 0;
        bool sub = !ipv4 && hl > nl + 1 && host[hl - nl - 1] == '.' && g_ascii_strcasecmp(host + hl - nl, name) == 0;
        CHECK(same || sub);
        g_free(name);
    }
    g_free(host);
}

static void check_one(const char *url, const char *allowed)
{
    GError *err = NULL;
    char *ok = url_check(url, allowed, &err);
    if (!ok) {
        CHECK(err && err->domain == URL_ERROR && err->code == URL_ERROR_UNSAFE);
        g_error_free(err);
        return;
    }
    CHECK(!err);
    CHECK(strncmp(ok, "https://", 8) == 0);
    size_t authority = strcspn(ok + 8, "/?#");
    CHECK(!memchr(ok + 8, '@', authority));
    /* url.h: non-ASCII comes back percent-encoded, so what is opened is
     * printable ASCII without spaces or backslashes. */
    for (const char *p = ok; *p; p++)
        CHECK(*p > 0x20 && *p < 0x7f && *p != '\\');
    check_host(ok, allowed);

    char *again = url_check(ok, allowed, &err);
    CHECK(again);
    CHECK(strcmp(again, ok) == 0);
    g_free(again);
    g_free(ok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *rest = g_strndup((const char *)data + 1, size - 1);
    const char *url = rest;
    const char *allowed;
    if (data[0] % 8 == 7) {
        char *nl = strchr(rest, '\n');
        if (!nl) {
            g_free(rest);
            return 0;
        }
        *nl = '\0';
        allowed = rest;
        url = nl + 1;
    } else {
        allowed = allowed_hosts[data[0] % 8];
    }
    check_one(url, NULL);
    check_one(url, allowed);
    g_free(url_host(url));
    g_free(rest);
    return 0;
}
