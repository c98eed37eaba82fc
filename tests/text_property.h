/* SPDX-License-Identifier: MIT */
/* The property text_sanitize() promises about invisible characters, as a
 * check shared by tests/unit/test_text.c and tests/fuzz/fuzz_html.c. It is
 * stated by Unicode property, not with the implementation's list: no
 * control character but '\n', and no format character (Cf) at all, except
 * a zero-width joiner that joins two pictographs (an emoji ZWJ sequence)
 * and the tag characters of a flag (U+1F3F4, tags, the cancel tag).
 * Pictograph: GLib's Other_Symbol (So), as every emoji that joins is;
 * variation selectors U+FE0E/U+FE0F and skin tones may sit between a
 * pictograph and its joiner. */
#ifndef HEED_TESTS_TEXT_PROPERTY_H
#define HEED_TESTS_TEXT_PROPERTY_H

#include <glib.h>
#include <stdbool.h>

static inline bool text_property_pictograph(gunichar c)
{
    return g_unichar_type(c) == G_UNICODE_OTHER_SYMBOL;
}

static inline bool text_property_emoji_tail(gunichar c)
{
    return c == 0xFE0E || c == 0xFE0F || (c >= 0x1F3FB && c <= 0x1F3FF);
}

/* The first character of the valid UTF-8 string s that breaks the
 * property, or NULL. */
static inline const char *text_property_violation(const char *s)
{
    for (const char *p = s; *p; p = g_utf8_next_char(p)) {
        gunichar c = g_utf8_get_char(p);
        if (g_unichar_type(c) == G_UNICODE_CONTROL && c != '\n')
            return p;
        if (g_unichar_type(c) != G_UNICODE_FORMAT)
            continue;
        const char *q = p;
        gunichar before = 0;
        if (c == 0x200D) {
            while (q > s) {
                q = g_utf8_prev_char(q);
                before = g_utf8_get_char(q);
                if (!text_property_emoji_tail(before))
                    break;
            }
            if (text_property_pictograph(before) && text_property_pictograph(g_utf8_get_char(g_utf8_next_char(p))))
                continue;
            return p;
        }
        if (c >= 0xE0020 && c <= 0xE007F) {
            while (q > s) {
                q = g_utf8_prev_char(q);
                before = g_utf8_get_char(q);
                if (!(before >= 0xE0020 && before <= 0xE007E))
                    break;
            }
            if (before == 0x1F3F4)
                continue;
        }
        return p;
    }
    return NULL;
}

#endif
