/* SPDX-License-Identifier: MIT */
/* fuzz_link: the small parsers every driver shares (lib/net/net.c):
 * net_link_rel (RFC 8288 Link headers), net_parse_time (ISO 8601 / RFC
 * 3339), net_id_compare (numeric id strings) and net_uri_escape.
 *
 * The input is split at '\n' into up to four pieces:
 *   1  a Link header value     2  the rel to look for ("next" when absent)
 *   3, 4  two ids (also compared with piece 1, and each parsed as a time).
 * Checked: a found link is the text between a '<' and the next '>' of the
 * header; net_id_compare is a total order (antisymmetric, reflexive,
 * transitive on the three ids, and only -1, 0 or 1); an escaped value has
 * only unreserved characters and %XX.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/common_interface_defs.h>

#include "net/net.h"

#define CHECK(c)                                                                \
    do {                                                                        \
        if (!(c)) {                                                             \
            __sanitizer_report_error_summary("fuzz_link: check failed: " #c); \
            abort();                                                            \
        }                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_escape(const char *s)
{
    char *e = net_uri_escape(s);
    for (const char *p = e; *p; p++) {
        if (*p == '%') {
            CHECK(g_ascii_isxdigit(p[1]) && g_ascii_isxdigit(p[2]));
            p += 2;
        } else {
            CHECK(g_ascii_isalnum(*p) || strchr("-._~", *p));
        }
    }
    char *back = g_uri_unescape_string(e, NULL);
    CHECK(back && strcmp(back, s) == 0);
    g_free(back);
    g_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *copy = g_strndup((const char *)data, size);
    char **piece = g_strsplit(copy, "\n", 4);
    const char *link = piece[0] ? piece[0] : "";
    const char *rel = piece[0] && piece[1] ? piece[1] : "next";
    const char *a = link, *b = link, *c = link;
    if (piece[0] && piece[1] && piece[2]) {
        b = piece[2];
        if (piece[3])
            c = piece[3];
    }

    char *url = net_link_rel(link, rel);
    if (url) {
        CHECK(!strchr(url, '>'));
        char *bracketed = g_strconcat("<", url, ">", NULL);
        CHECK(strstr(link, bracketed));
        g_free(bracketed);
        g_free(url);
    }
    CHECK(net_link_rel(NULL, rel) == NULL);

    const char *ids[3] = { a, b, c };
    for (int i = 0; i < 3; i++) {
        int r = net_id_compare(ids[i], ids[i]);
        CHECK(r == 0);
        (void)net_parse_time(ids[i]);
        for (int j = 0; j < 3; j++) {
            int x = net_id_compare(ids[i], ids[j]), y = net_id_compare(ids[j], ids[i]);
            CHECK(x >= -1 && x <= 1);
            CHECK(x == -y);
            for (int k = 0; k < 3; k++)
                if (x <= 0 && net_id_compare(ids[j], ids[k]) <= 0)
                    CHECK(net_id_compare(ids[i], ids[k]) <= 0);
        }
    }
    (void)net_parse_time(copy);
    check_escape(b);

    g_strfreev(piece);
    g_free(copy);
    return 0;
}
