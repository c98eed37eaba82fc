/* SPDX-License-Identifier: MIT */
/* text: turning hostile text from the network into something safe to show.
 *
 * Every function takes UTF-8 (invalid sequences are replaced with U+FFFD),
 * treats NULL as "" and returns a newly allocated string the caller frees
 * with g_free(). None of them fails on bad input; they only ever produce less.
 */
#ifndef HEED_TEXT_H
#define HEED_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* HTML (as Mastodon sends it) to plain text, through libxml2's HTML parser:
 * entities decoded, <br> becomes a newline, </p><p> a blank line,
 * class="invisible" spans dropped (Mastodon hides URL prefixes that way),
 * class="ellipsis" spans followed by "…", script/style dropped, whitespace
 * runs collapsed, leading/trailing blank space trimmed, then sanitised with
 * text_sanitize(). Other block elements (div, li, ...) end a line; at most
 * one blank line separates anything. Only len bytes are read; NUL bytes
 * become U+FFFD. Linear in len; markup nested deeper than libxml2's limit
 * (256) is cut off there, and what libxml2 2.9 discards as broken markup
 * (e.g. a bare '<' before a non-letter) is lost. */
char *text_html_to_plain(const char *html, size_t len);

/* Make valid UTF-8, drop C0/C1 control characters (keeping '\n' when
 * keep_newlines, else turning it into a space; '\t', '\r', '\v', '\f' and
 * Unicode spaces become a space) and invisible characters, decided by
 * property: every format character (Cf: bidi overrides, isolates and
 * marks, zero-width characters, soft hyphen, invisible operators, tags,
 * ...), the Hangul fillers and the reserved default-ignorable code points.
 * Emoji stay whole: a zero-width joiner is kept between two pictographs
 * (So; after its variation selector or skin tone), the tags of a flag
 * (U+1F3F4, 3 to 7 tag letters or digits, cancel tag) are kept, and one
 * variation selector is kept after a visible character (not a run of
 * them, not after a space). Runs of spaces collapse, spaces at line ends
 * go, at most one blank line is kept, and the result is trimmed. */
char *text_sanitize(const char *s, bool keep_newlines);

/* At most max_bytes bytes of s, cut on a UTF-8 character boundary (and on a
 * word boundary when one is within the last fifth), with "…" appended when
 * anything was cut. The result including the ellipsis never exceeds
 * max_bytes; if s must be cut and max_bytes < 3 it is "". Combining marks,
 * variation selectors and skin tones are not cut off their base character,
 * nor an emoji ZWJ sequence or a flag's tags apart, unless that character
 * alone would not fit. */
char *text_truncate(const char *s, size_t max_bytes);

/* Escape &, <, >, ', " for notification body markup (g_markup_escape_text). */
char *text_markup_escape(const char *s);

/* Number of user-visible characters (code points) in valid UTF-8; invalid
 * sequences count as one U+FFFD each. */
size_t text_display_width(const char *s);

#endif
