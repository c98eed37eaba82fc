/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/text.c. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <string.h>

#include "text.h"
#include "../text_property.h"

#define ELLIPSIS "\xE2\x80\xA6"

static void check_html(const char *html, const char *expected)
{
    char *got = text_html_to_plain(html, strlen(html));
    assert_non_null(got);
    assert_string_equal(got, expected);
    g_free(got);
}

static void check_sanitize(const char *in, bool keep_newlines, const char *expected)
{
    char *got = text_sanitize(in, keep_newlines);
    assert_non_null(got);
    assert_string_equal(got, expected);
    g_free(got);
}

/* ---- text_html_to_plain --------------------------------------------------- */

static void test_html_mastodon_status(void **state)
{
    (void)state;
    check_html("<p>Hey <span class=\"h-card\"><a href=\"https://x.social/@me\" class=\"u-url mention\">"
               "@<span>me</span></a></span> what about <a href=\"https://example.com/long/path\" "
               "rel=\"nofollow noopener\" target=\"_blank\"><span class=\"invisible\">https://</span>"
               "<span class=\"ellipsis\">example.com/long</span><span class=\"invisible\">/path</span>"
               "</a>?</p><p>Second para<br>line two &amp; more</p>",
               "Hey @me what about example.com/long" ELLIPSIS "?\n\nSecond para\nline two & more");
}

static void test_html_entities(void **state)
{
    (void)state;
    check_html("&lt;b&gt; &amp;&quot;&#39; caf&eacute; &#x1F600; &#8364;",
               "<b> &\"' caf\xC3\xA9 \xF0\x9F\x98\x80 \xE2\x82\xAC");
    /* Unknown entities stay literal rather than vanishing. */
    check_html("a &nosuchentity; b", "a &nosuchentity; b");
    /* Numeric references to controls and bidi overrides are not let in by
     * the back door. */
    check_html("a&#1;b&#x202E;c&#x200B;d&#127;e", "abcde");
}

static void test_html_breaks_and_paragraphs(void **state)
{
    (void)state;
    check_html("one<br>two<br/>three", "one\ntwo\nthree");
    check_html("<p>a</p><p>b</p>", "a\n\nb");
    check_html("<p>a</p>\n   \n<p>b</p>", "a\n\nb");
    /* Leading and trailing breaks are padding; long runs become one blank line. */
    check_html("<br><br><p></p>a<br><br><br><br><br>b<br><br>", "a\n\nb");
    check_html("<p>a<br></p><p>b</p>", "a\n\nb");
    check_html("<div>a</div><div>b</div>", "a\nb");
    check_html("<ul><li>one</li><li>two</li></ul>tail", "one\ntwo\n\ntail");
}

static void test_html_whitespace(void **state)
{
    (void)state;
    check_html("  <p>  lots \n\t of\r\n   space  </p>  ", "lots of space");
    check_html("<p>a<b> b </b>c</p>", "a b c");
    check_html("<pre>line 1\nline 2</pre>", "line 1\nline 2");
    check_html("x&nbsp;&nbsp;y", "x y");
}

static void test_html_links_and_spans(void **state)
{
    (void)state;
    check_html("<a href=\"https://e.com/\"><span class=\"invisible\">https://</span>"
               "<span class=\"\">e.com/</span><span class=\"invisible\"></span></a>",
               "e.com/");
    /* class is a token list: "invisible" must match a whole token. */
    check_html("<span class=\"foo invisible bar\">hidden</span>shown", "shown");
    check_html("<span class=\"invisibleish\">kept</span>", "kept");
    check_html("<span class=\"ellipsis\">abc</span>", "abc" ELLIPSIS);
    check_html("<span class=\"ellipsis\"></span>", ELLIPSIS);
    check_html("<a href=\"javascript:alert(1)\" title=\"t\">click</a>", "click");
}

static void test_html_dropped_elements(void **state)
{
    (void)state;
    check_html("x<script>alert('<p>hi</p>')</script>y", "xy");
    check_html("x<SCRIPT type=\"text/javascript\">document.write(\"</div>\")</SCRIPT>y", "xy");
    check_html("a<style>p { color: red }</style> b", "a b");
    check_html("a<!-- comment <b>x</b> --> b", "a b");
    check_html("<script>never closed", "");
    check_html("<template>t</template>ok", "ok");
}

static void test_html_broken_markup(void **state)
{
    (void)state;
    check_html("<p>unclosed <b>bold <i>both", "unclosed bold both");
    check_html("<b><i>mis</b>nested</i>", "misnested");
    check_html("</p></div></span>stray end tags", "stray end tags");
    check_html("a < b > c", "a < b > c");
    check_html("<p attr=\"unterminated>text", "");
    check_html("&lt;&lt;&lt;&gt;&gt;&gt;", "<<<>>>");
    check_html("x<p>a</p>1 < 2</p>", "x\n\na\n\n1 < 2");
}

static void test_html_empty_and_odd_input(void **state)
{
    (void)state;
    char *s = text_html_to_plain("", 0);
    assert_string_equal(s, "");
    g_free(s);
    s = text_html_to_plain(NULL, 10);
    assert_string_equal(s, "");
    g_free(s);
    check_html("   \n\t ", "");
    check_html("<p></p><br><div></div>", "");

    /* len is honoured: nothing after it is read. */
    s = text_html_to_plain("<p>abc</p>garbage", 10);
    assert_string_equal(s, "abc");
    g_free(s);

    /* An embedded NUL and invalid UTF-8 become U+FFFD; the rest survives
     * (libxml2 would otherwise reinterpret everything after as Latin-1). */
    static const char raw[] = "a\0b \xff caf\xC3\xA9";
    s = text_html_to_plain(raw, sizeof raw - 1);
    assert_string_equal(s, "a\xEF\xBF\xBD" "b \xEF\xBF\xBD caf\xC3\xA9");
    g_free(s);

    /* A charset declaration cannot switch the decoder away from UTF-8. */
    check_html("<meta charset=\"iso-8859-1\"><p>caf\xC3\xA9</p>", "caf\xC3\xA9");
}

static void test_html_large_input(void **state)
{
    (void)state;
    GString *html = g_string_new(NULL);
    while (html->len < 100 * 1024)
        g_string_append(html, "<p>Hello <a href=\"https://e.com/x\"><span class=\"invisible\">https://</span>"
                              "e.com/x</a> &amp; more<br>line</p>");
    gint64 start = g_get_monotonic_time();
    char *s = text_html_to_plain(html->str, html->len);
    gint64 elapsed_ms = (g_get_monotonic_time() - start) / 1000;
    assert_true(g_utf8_validate(s, -1, NULL));
    assert_true(g_str_has_prefix(s, "Hello e.com/x & more\nline\n\nHello e.com/x"));
    /* Generous, for sanitizers and valgrind; quadratic behaviour would take
     * minutes. */
    assert_true(elapsed_ms < 5000);
    g_free(s);
    g_string_free(html, TRUE);

    /* Deep nesting must not recurse: libxml2 stops at its depth limit and
     * we return what was parsed up to there. */
    html = g_string_new(NULL);
    while (html->len < 100 * 1024)
        g_string_append(html, "<span>x");
    s = text_html_to_plain(html->str, html->len);
    assert_true(g_utf8_validate(s, -1, NULL));
    assert_true(g_str_has_prefix(s, "xxx"));
    g_free(s);
    g_string_free(html, TRUE);
}

/* ---- text_sanitize -------------------------------------------------------- */

static void test_sanitize_bidi(void **state)
{
    (void)state;
    /* The classic "gnp.exe" trick: U+202E reverses what follows. */
    check_sanitize("invoice\xE2\x80\xAEgnp.exe", false, "invoicegnp.exe");
    check_sanitize("a\xE2\x80\xAA" "b\xE2\x80\xAB" "c\xE2\x80\xAC" "d\xE2\x80\xAD" "e", false, "abcde");
    check_sanitize("a\xE2\x81\xA6" "b\xE2\x81\xA7" "c\xE2\x81\xA8" "d\xE2\x81\xA9" "e", false, "abcde");
    check_sanitize("a\xE2\x80\x8E" "b\xE2\x80\x8F" "c\xD8\x9C" "d", false, "abcd");
}

static void test_sanitize_zero_width(void **state)
{
    (void)state;
    check_sanitize("z\xE2\x80\x8Bw\xE2\x80\x8Cs\xE2\x80\x8Dp\xE2\x81\xA0" "a\xEF\xBB\xBF" "ce", false, "zwspace");
    /* Ordinary non-ASCII text is left alone. */
    check_sanitize("\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85 caf\xC3\xA9 \xF0\x9F\x98\x80", false,
                   "\xD8\xB3\xD9\x84\xD8\xA7\xD9\x85 caf\xC3\xA9 \xF0\x9F\x98\x80");
}

static void test_sanitize_controls(void **state)
{
    (void)state;
    check_sanitize("a\x01" "b\x1b[31mc\x7f" "d", false, "ab[31mcd");
    /* C1 controls, e.g. U+009B (CSI) encoded as UTF-8. */
    check_sanitize("a\xC2\x9B" "b\xC2\x85" "c", false, "abc");
    check_sanitize("tab\there", false, "tab here");
    check_sanitize("line\none", false, "line one");
    check_sanitize("line\none", true, "line\none");
    check_sanitize("crlf\r\nline", true, "crlf\nline");
    check_sanitize("cr\ronly", true, "cr only");
}

static void test_sanitize_spaces(void **state)
{
    (void)state;
    check_sanitize("   lots    of \t  space   ", false, "lots of space");
    check_sanitize("\n\n  a  \n  \n\n\n  b \n\n", true, "a\n\nb");
    check_sanitize("a\xC2\xA0\xC2\xA0" "b", false, "a b"); /* NBSP */
    check_sanitize("", false, "");
    check_sanitize("  \t\n ", true, "");
    check_sanitize(NULL, true, "");
}

static void test_sanitize_invalid_utf8(void **state)
{
    (void)state;
    check_sanitize("a\xff" "b", false, "a\xEF\xBF\xBD" "b");
    check_sanitize("\xC3", false, "\xEF\xBF\xBD");
    /* Overlong encoding of '/' and an encoded surrogate. */
    char *s = text_sanitize("x\xC0\xAFy\xED\xA0\x80z", false);
    assert_true(g_utf8_validate(s, -1, NULL));
    assert_null(strchr(s, '/'));
    assert_true(g_str_has_prefix(s, "x") && g_str_has_suffix(s, "z"));
    g_free(s);
}

/* ---- text_sanitize by Unicode property -------------------------------------- */

static void assert_format_clean(const char *out)
{
    const char *bad = text_property_violation(out);
    if (bad)
        fail_msg("U+%04X kept at byte %zu", (unsigned)g_utf8_get_char(bad), (size_t)(bad - out));
}

/* Every code point, between two letters and between two emoji: nothing that
 * is Cf survives (except the joiner between the emoji), whatever list the
 * implementation keeps. */
static void test_sanitize_every_code_point(void **state)
{
    (void)state;
    const char *const contexts[][2] = {
        { "x", "y " },
        { "\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80 " },       /* U+1F600 */
        { "\xE2\x9D\xA4\xEF\xB8\x8F", "\xF0\x9F\x94\xA5 " }, /* U+2764 U+FE0F ... U+1F525 */
        { "\xF0\x9F\x8F\xB4", " " },                         /* U+1F3F4 (a flag's base) */
    };
    for (size_t k = 0; k < G_N_ELEMENTS(contexts); k++) {
        GString *in = g_string_new(NULL);
        for (gunichar c = 1; c <= 0x10FFFF; c++) {
            if (c >= 0xD800 && c <= 0xDFFF)
                continue;
            g_string_append(in, contexts[k][0]);
            g_string_append_unichar(in, c);
            g_string_append(in, contexts[k][1]);
        }
        char *out = text_sanitize(in->str, true);
        assert_true(g_utf8_validate(out, -1, NULL));
        assert_format_clean(out);
        /* Between two emoji the joiner survives, once: for U+200D itself. */
        size_t joiners = 0;
        for (const char *p = out; (p = strstr(p, "\xE2\x80\x8D")) != NULL; p += 3)
            joiners++;
        assert_int_equal(joiners, k == 1 || k == 2 ? 1 : 0);
        g_free(out);
        if (k == 0) {
            out = text_sanitize(in->str, false);
            assert_format_clean(out);
            g_free(out);
        }
        g_string_free(in, TRUE);
    }
}

/* The invisible characters of issue #15, each between two letters. */
static void test_sanitize_invisibles(void **state)
{
    (void)state;
    static const gunichar invisible[] = {
        0x00AD,                                     /* soft hyphen */
        0x180E,                                     /* Mongolian vowel separator */
        0x2061, 0x2062, 0x2063, 0x2064,             /* invisible operators */
        0xFFF9, 0xFFFA, 0xFFFB,                     /* interlinear annotation */
        0x115F, 0x1160, 0x3164, 0xFFA0,             /* Hangul fillers */
        0xE0000, 0xE0001, 0xE0020, 0xE0041, 0xE007E, 0xE007F, /* tags */
        0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF,     /* zero width */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(invisible); i++) {
        GString *in = g_string_new("ab");
        g_string_append_unichar(in, invisible[i]);
        g_string_append(in, "cd");
        char *out = text_sanitize(in->str, false);
        if (strcmp(out, "abcd") != 0)
            fail_msg("U+%04X: \"%s\"", (unsigned)invisible[i], out);
        g_free(out);
        g_string_free(in, TRUE);
    }
    /* Tags spelling out hidden text after a word, or an overlong "flag". */
    check_sanitize("hi\xF3\xA0\x81\xA9\xF3\xA0\x81\xA7\xF3\xA0\x81\xAE\xF3\xA0\x81\xBF there", false, "hi there");
    GString *flag = g_string_new("\xF0\x9F\x8F\xB4");
    for (int i = 0; i < 20; i++)
        g_string_append_unichar(flag, 0xE0061);
    g_string_append_unichar(flag, 0xE007F);
    check_sanitize(flag->str, false, "\xF0\x9F\x8F\xB4");
    g_string_free(flag, TRUE);
}

/* Emoji sequences survive whole: ZWJ sequences, flags made of tags,
 * keycaps, presentation selectors, skin tones. */
static void test_sanitize_emoji_sequences(void **state)
{
    (void)state;
    static const char *const seqs[] = {
        /* family: man, woman, girl, boy */
        "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7\xE2\x80\x8D\xF0\x9F\x91\xA6",
        /* rainbow flag: white flag, VS16, ZWJ, rainbow */
        "\xF0\x9F\x8F\xB3\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x8C\x88",
        /* transgender flag: white flag, VS16, ZWJ, U+26A7, VS16 */
        "\xF0\x9F\x8F\xB3\xEF\xB8\x8F\xE2\x80\x8D\xE2\x9A\xA7\xEF\xB8\x8F",
        /* woman technologist, medium skin tone */
        "\xF0\x9F\x91\xA9\xF0\x9F\x8F\xBD\xE2\x80\x8D\xF0\x9F\x92\xBB",
        /* heart on fire */
        "\xE2\x9D\xA4\xEF\xB8\x8F\xE2\x80\x8D\xF0\x9F\x94\xA5",
        /* people holding hands */
        "\xF0\x9F\xA7\x91\xE2\x80\x8D\xF0\x9F\xA4\x9D\xE2\x80\x8D\xF0\x9F\xA7\x91",
        /* England: black flag, tags g b e n g, cancel tag */
        "\xF0\x9F\x8F\xB4\xF3\xA0\x81\xA7\xF3\xA0\x81\xA2\xF3\xA0\x81\xA5\xF3\xA0\x81\xAE\xF3\xA0\x81\xA7"
        "\xF3\xA0\x81\xBF",
        /* keycap one: 1, VS16, U+20E3 */
        "1\xEF\xB8\x8F\xE2\x83\xA3",
        /* smiling face, text presentation */
        "\xE2\x98\xBA\xEF\xB8\x8E",
        /* thumbs up, dark skin tone */
        "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBF",
        /* flag of France: two regional indicators */
        "\xF0\x9F\x87\xAB\xF0\x9F\x87\xB7",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(seqs); i++) {
        check_sanitize(seqs[i], false, seqs[i]);
        char *in = g_strdup_printf("I %s it", seqs[i]);
        check_sanitize(in, true, in);
        g_free(in);
    }
}

/* A joiner or a variation selector with nothing to join or select is dropped;
 * so is a run of selectors (a way to hide bytes after an emoji). */
static void test_sanitize_stray_joiners_and_selectors(void **state)
{
    (void)state;
#define SMILE "\xF0\x9F\x98\x80"
#define ZWJ "\xE2\x80\x8D"
#define VS16 "\xEF\xB8\x8F"
    check_sanitize("a" ZWJ "b", false, "ab");
    check_sanitize(SMILE ZWJ, false, SMILE);
    check_sanitize(ZWJ SMILE, false, SMILE);
    check_sanitize(SMILE ZWJ "a", false, SMILE "a");
    check_sanitize("a" ZWJ SMILE, false, "a" SMILE);
    check_sanitize(SMILE ZWJ ZWJ SMILE, false, SMILE ZWJ SMILE);
    check_sanitize(SMILE " " ZWJ SMILE, false, SMILE " " SMILE);
    check_sanitize(VS16 "a", false, "a");
    check_sanitize("a " VS16 "b", false, "a b");
    check_sanitize(SMILE VS16 VS16 VS16 "\xEF\xB8\x80\xF3\xA0\x84\x80", false, SMILE VS16);
    /* Bidi controls stay out, also next to emoji. */
    check_sanitize(SMILE "\xE2\x80\xAE" ZWJ SMILE "\xE2\x81\xA6", false, SMILE ZWJ SMILE);
#undef SMILE
#undef ZWJ
#undef VS16
}

/* ---- text_truncate -------------------------------------------------------- */

static void check_truncate_valid(const char *in, size_t max)
{
    char *s = text_truncate(in, max);
    assert_true(strlen(s) <= max);
    assert_true(g_utf8_validate(s, -1, NULL));
    g_free(s);
}

static void test_truncate_fits(void **state)
{
    (void)state;
    char *s = text_truncate("hello", 5);
    assert_string_equal(s, "hello");
    g_free(s);
    s = text_truncate("hello", 100);
    assert_string_equal(s, "hello");
    g_free(s);
    s = text_truncate("", 0);
    assert_string_equal(s, "");
    g_free(s);
    s = text_truncate(NULL, 10);
    assert_string_equal(s, "");
    g_free(s);
}

static void test_truncate_ascii(void **state)
{
    (void)state;
    char *s = text_truncate("abcdefghij", 8);
    assert_string_equal(s, "abcde" ELLIPSIS);
    g_free(s);
    /* Too small for the ellipsis itself. */
    s = text_truncate("abcdefghij", 2);
    assert_string_equal(s, "");
    g_free(s);
    s = text_truncate("abcdefghij", 3);
    assert_string_equal(s, ELLIPSIS);
    g_free(s);
}

static void test_truncate_word_boundary(void **state)
{
    (void)state;
    /* Budget 20 for text: "the quick brown fox " -> the space at 19 is
     * within the last fifth, so the cut lands there. */
    char *s = text_truncate("the quick brown fox jumps over", 23);
    assert_string_equal(s, "the quick brown fox" ELLIPSIS);
    g_free(s);
    /* The only space is far back: cut mid-word instead of losing most. */
    s = text_truncate("a bcdefghijklmnopqrstuvwxyz", 13);
    assert_string_equal(s, "a bcdefghi" ELLIPSIS);
    g_free(s);
    /* No trailing space before the ellipsis. */
    s = text_truncate("abcdefg     hijklmnop", 13);
    assert_string_equal(s, "abcdefg" ELLIPSIS);
    g_free(s);
}

static void test_truncate_multibyte(void **state)
{
    (void)state;
    /* 2-byte characters at every budget, odd ones included. */
    GString *accents = g_string_new(NULL);
    for (int i = 0; i < 40; i++)
        g_string_append(accents, "\xC3\xA9");
    /* 4-byte emoji with a skin tone modifier and variation selectors mixed in. */
    GString *emoji = g_string_new(NULL);
    for (int i = 0; i < 20; i++)
        g_string_append(emoji, "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD" "a\xE2\x9D\xA4\xEF\xB8\x8F");
    for (size_t max = 0; max < 90; max++) {
        check_truncate_valid(accents->str, max);
        check_truncate_valid(emoji->str, max);
    }

    char *s = text_truncate(accents->str, 8);
    assert_string_equal(s, "\xC3\xA9\xC3\xA9" ELLIPSIS);
    g_free(s);
    s = text_truncate(accents->str, 9);
    assert_string_equal(s, "\xC3\xA9\xC3\xA9\xC3\xA9" ELLIPSIS);
    g_free(s);
    /* A thumbs-up is not separated from its skin tone... */
    s = text_truncate("ab\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD" "cdef", 12);
    assert_string_equal(s, "ab" ELLIPSIS);
    g_free(s);
    s = text_truncate("ab\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD" "cdef", 13);
    assert_string_equal(s, "ab\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD" ELLIPSIS);
    g_free(s);
    /* ...unless the whole text is one cluster too big to keep. */
    s = text_truncate(emoji->str, 10);
    assert_string_equal(s, "\xF0\x9F\x91\x8D" ELLIPSIS);
    g_free(s);
    /* A combining accent stays with its letter. */
    s = text_truncate("abcde\xCC\x81" "fghij", 9);
    assert_string_equal(s, "abcd" ELLIPSIS);
    g_free(s);

    g_string_free(accents, TRUE);
    g_string_free(emoji, TRUE);
}

/* A ZWJ sequence or a tag flag is cut whole, never after a joiner or in
 * the middle of its tags. */
static void test_truncate_emoji_sequences(void **state)
{
    (void)state;
#define FAMILY "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7"
#define ENGLAND "\xF0\x9F\x8F\xB4\xF3\xA0\x81\xA7\xF3\xA0\x81\xA2\xF3\xA0\x81\xA5\xF3\xA0\x81\xAE\xF3\xA0\x81\xA7" \
                "\xF3\xA0\x81\xBF"
    const char *in = "ab" FAMILY "cd" ENGLAND "ef";
    for (size_t max = 0; max <= strlen(in); max++) {
        char *s = text_truncate(in, max);
        assert_true(strlen(s) <= max);
        assert_format_clean(s);
        /* The family is whole or absent. */
        if (strstr(s, "\xF0\x9F\x91\xA8"))
            assert_non_null(strstr(s, FAMILY));
        if (strstr(s, "\xF0\x9F\x8F\xB4"))
            assert_non_null(strstr(s, ENGLAND));
        g_free(s);
    }
    /* One cluster too big to keep is split, but not after its joiner. */
    for (size_t max = 0; max <= strlen(FAMILY); max++) {
        char *s = text_truncate(FAMILY, max);
        assert_format_clean(s);
        g_free(s);
    }
    char *s = text_truncate(FAMILY, 10);
    assert_string_equal(s, "\xF0\x9F\x91\xA8" ELLIPSIS);
    g_free(s);
    s = text_truncate(in, 2 + 18 + 3);
    assert_string_equal(s, "ab" FAMILY ELLIPSIS);
    g_free(s);
    s = text_truncate(in, 2 + 17 + 3);
    assert_string_equal(s, "ab" ELLIPSIS);
    g_free(s);
#undef FAMILY
#undef ENGLAND
}

static void test_truncate_invalid_utf8(void **state)
{
    (void)state;
    check_truncate_valid("\xff\xff\xff\xff\xff\xff", 7);
    char *s = text_truncate("ab\xff", 10);
    assert_string_equal(s, "ab\xEF\xBF\xBD");
    g_free(s);
}

/* ---- text_markup_escape, text_display_width -------------------------------- */

static void test_markup_escape(void **state)
{
    (void)state;
    char *s = text_markup_escape("<b>&\"'");
    assert_string_equal(s, "&lt;b&gt;&amp;&quot;&apos;");
    g_free(s);
    s = text_markup_escape("plain caf\xC3\xA9");
    assert_string_equal(s, "plain caf\xC3\xA9");
    g_free(s);
    s = text_markup_escape("bad\xff");
    assert_true(g_utf8_validate(s, -1, NULL));
    g_free(s);
    s = text_markup_escape(NULL);
    assert_string_equal(s, "");
    g_free(s);
}

static void test_display_width(void **state)
{
    (void)state;
    assert_int_equal(text_display_width(""), 0);
    assert_int_equal(text_display_width(NULL), 0);
    assert_int_equal(text_display_width("abc"), 3);
    assert_int_equal(text_display_width("caf\xC3\xA9 \xF0\x9F\x98\x80"), 6);
    assert_int_equal(text_display_width("a\xff" "b"), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_mastodon_status),
        cmocka_unit_test(test_html_entities),
        cmocka_unit_test(test_html_breaks_and_paragraphs),
        cmocka_unit_test(test_html_whitespace),
        cmocka_unit_test(test_html_links_and_spans),
        cmocka_unit_test(test_html_dropped_elements),
        cmocka_unit_test(test_html_broken_markup),
        cmocka_unit_test(test_html_empty_and_odd_input),
        cmocka_unit_test(test_html_large_input),
        cmocka_unit_test(test_sanitize_bidi),
        cmocka_unit_test(test_sanitize_zero_width),
        cmocka_unit_test(test_sanitize_controls),
        cmocka_unit_test(test_sanitize_spaces),
        cmocka_unit_test(test_sanitize_invalid_utf8),
        cmocka_unit_test(test_sanitize_every_code_point),
        cmocka_unit_test(test_sanitize_invisibles),
        cmocka_unit_test(test_sanitize_emoji_sequences),
        cmocka_unit_test(test_sanitize_stray_joiners_and_selectors),
        cmocka_unit_test(test_truncate_fits),
        cmocka_unit_test(test_truncate_ascii),
        cmocka_unit_test(test_truncate_word_boundary),
        cmocka_unit_test(test_truncate_multibyte),
        cmocka_unit_test(test_truncate_emoji_sequences),
        cmocka_unit_test(test_truncate_invalid_utf8),
        cmocka_unit_test(test_markup_escape),
        cmocka_unit_test(test_display_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
