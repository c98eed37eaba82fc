/* SPDX-License-Identifier: MIT */
/* fuzz_html: the HTML-to-text converter and the text functions after it,
 * as a mention's content goes: text_html_to_plain -> text_truncate ->
 * text_markup_escape; also text_sanitize and text_display_width on the raw
 * input, and score_question_strength on the plain text.
 *
 * Input: byte 0 picks truncate's max_bytes (4 * byte 0, 0..1020) and
 * text_sanitize's keep_newlines (its low bit); the rest is the HTML (read
 * through its length, not NUL-terminated).
 *
 * Checked (text.h's promises): every output is valid UTF-8 without control
 * characters other than '\n' (none at all where newlines are not kept),
 * without format characters (Cf: bidi controls, zero-width characters,
 * tags, ...) except a joiner inside an emoji ZWJ sequence and a flag's
 * tags (tests/text_property.h), also after truncation, without runs
 * of spaces, spaces at line ends, more than one blank line, or leading and
 * trailing blank space; the truncated text fits max_bytes, is the input
 * when that fits and otherwise a prefix of it plus "…" (or "" below 3
 * bytes); the escaped text has no raw markup characters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <sanitizer/common_interface_defs.h>

#include "score.h"
#include "text.h"
#include "../text_property.h"

#define CHECK(c)                                                                \
    do {                                                                        \
        if (!(c)) {                                                             \
            __sanitizer_report_error_summary("fuzz_html: check failed: " #c); \
            abort();                                                            \
        }                                                                       \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The shape text_sanitize() promises (and text_html_to_plain() ends with it). */
static void check_sanitized(const char *s, bool keep_newlines)
{
    CHECK(s);
    CHECK(g_utf8_validate(s, -1, NULL));
    for (const char *p = s; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (c == '\n')
            CHECK(keep_newlines);
        else
            CHECK(c >= 0x20 && !(c >= 0x7F && c <= 0x9F));
    }
    CHECK(!text_property_violation(s));
    size_t n = strlen(s);
    if (n > 0) {
        CHECK(s[0] != ' ' && s[0] != '\n');
        CHECK(s[n - 1] != ' ' && s[n - 1] != '\n');
    }
    CHECK(!strstr(s, "  "));
    CHECK(!strstr(s, " \n"));
    CHECK(!strstr(s, "\n\n\n"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t max_bytes = (size_t)data[0] * 4;
    bool keep_newlines = data[0] & 1;
    size_t len = size - 1;
    /* Exactly len bytes, so a read past the end is caught. */
    char *html = g_malloc(len ? len : 1);
    if (len)
        memcpy(html, data + 1, len);

    char *plain = text_html_to_plain(html, len);
    check_sanitized(plain, true);
    size_t plain_len = strlen(plain);
    CHECK(text_display_width(plain) == (size_t)g_utf8_strlen(plain, -1));
    int q = score_question_strength(plain);
    CHECK(q >= 0 && q <= 2);

    char *cut = text_truncate(plain, max_bytes);
    CHECK(g_utf8_validate(cut, -1, NULL));
    CHECK(!text_property_violation(cut));
    size_t cut_len = strlen(cut);
    CHECK(cut_len <= max_bytes);
    if (plain_len <= max_bytes) {
        CHECK(strcmp(cut, plain) == 0);
    } else if (max_bytes < 3) {
        CHECK(cut_len == 0);
    } else {
        CHECK(g_str_has_suffix(cut, "…"));
        size_t kept = cut_len - strlen("…");
        CHECK(memcmp(cut, plain, kept) == 0);
    }

    char *esc = text_markup_escape(cut);
    CHECK(g_utf8_validate(esc, -1, NULL));
    for (const char *p = esc; *p; p++) {
        CHECK(*p != '<' && *p != '>' && *p != '"' && *p != '\'');
        CHECK((unsigned char)*p >= 0x20 || *p == '\n');
    }

    /* The raw input, NUL-terminated, straight into the sanitiser. */
    char *raw = g_strndup(html, len);
    char *clean = text_sanitize(raw, keep_newlines);
    check_sanitized(clean, keep_newlines);
    (void)text_display_width(raw);

    g_free(clean);
    g_free(raw);
    g_free(esc);
    g_free(cut);
    g_free(plain);
    g_free(html);
    return 0;
}
