/* SPDX-License-Identifier: MIT */
/* text: see text.h.
 *
 * Everything here assumes its input is hostile: it is made valid UTF-8 first
 * and every function treats NULL as "". HTML goes through libxml2's HTML
 * parser (never a hand-rolled tokenizer) and the resulting tree is walked
 * iteratively, so deeply nested markup cannot exhaust the stack.
 */
#include "text.h"

#include <glib.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <limits.h>
#include <string.h>

#define TEXT_ELLIPSIS "\xE2\x80\xA6" /* U+2026 */
#define TEXT_ELLIPSIS_LEN 3

/* A blank line is the most vertical space a notification ever gets. */
#define TEXT_MAX_NEWLINES 2

/* ---- sanitising ---------------------------------------------------------- */

/* Characters that are not visible themselves: bidi controls can make a URL
 * or a name read backwards, zero-width and other invisible ones hide words
 * from filters and users alike. Decided by property, not by a list: every
 * format character (Cf: bidi controls, zero-width characters, soft hyphen,
 * invisible operators, interlinear annotation, tags, ...), the Hangul
 * fillers (letters by category, but default-ignorable: they show nothing
 * and are a classic "invisible name"), and the code points Unicode reserves
 * as default-ignorable (DerivedCoreProperties.txt), which a renderer that
 * meets one shows as nothing. The emoji joiner and tags are let back in by
 * text_sanitize() where they belong to an emoji. */
static bool text_is_invisible(gunichar c)
{
    GUnicodeType t = g_unichar_type(c);
    if (t == G_UNICODE_FORMAT)
        return true;
    if (c == 0x115F || c == 0x1160 || c == 0x3164 || c == 0xFFA0)
        return true;
    return t == G_UNICODE_UNASSIGNED
        && (c == 0x2065 || (c >= 0xFFF0 && c <= 0xFFF8) || (c >= 0xE0000 && c <= 0xE0FFF));
}

/* A pictograph, as far as joining is concerned: GLib has no
 * Extended_Pictographic property, but every emoji that takes part in a ZWJ
 * sequence is an Other_Symbol (So), and a joiner between two symbols hides
 * no word. */
static bool text_is_pictograph(gunichar c)
{
    return g_unichar_type(c) == G_UNICODE_OTHER_SYMBOL;
}

static bool text_is_variation_selector(gunichar c)
{
    return (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF);
}

/* Emoji modifiers (skin tones): part of the emoji before them. */
static bool text_is_emoji_modifier(gunichar c)
{
    return c >= 0x1F3FB && c <= 0x1F3FF;
}

#define TEXT_ZWJ 0x200D
#define TEXT_BLACK_FLAG 0x1F3F4
#define TEXT_CANCEL_TAG 0xE007F

/* The bytes at p that complete a flag after U+1F3F4 (UTS #51 emoji tag
 * sequence: tag characters, then the cancel tag), or 0. Only what a
 * subdivision code is made of (tag digits and small letters, 3 to 7 of
 * them: "gbeng", "gbsct", "gbwls") is accepted, so tags cannot carry a
 * hidden message. */
static size_t text_flag_tags(const char *p)
{
    const char *q = p;
    for (int n = 0;; n++) {
        gunichar c = g_utf8_get_char(q);
        if (c == TEXT_CANCEL_TAG)
            return n >= 3 ? (size_t)(g_utf8_next_char(q) - p) : 0;
        if (n == 7 || !((c >= 0xE0030 && c <= 0xE0039) || (c >= 0xE0061 && c <= 0xE007A)))
            return 0;
        q = g_utf8_next_char(q);
    }
}

static void text_strip_trailing_spaces(GString *out)
{
    while (out->len > 0 && out->str[out->len - 1] == ' ')
        g_string_truncate(out, out->len - 1);
}

static size_t text_trailing_newlines(const GString *out)
{
    size_t n = 0;
    while (n < out->len && out->str[out->len - 1 - n] == '\n')
        n++;
    return n;
}

char *text_sanitize(const char *s, bool keep_newlines)
{
    char *valid = g_utf8_make_valid(s ? s : "", -1);
    GString *out = g_string_sized_new(strlen(valid));
    /* What was appended last: a visible character a variation selector may
     * follow (one, not a run of them: that is a way to hide bytes), and
     * whether it ends an emoji a joiner may follow. */
    bool selectable = false, pictograph = false;

    for (const char *p = valid; *p;) {
        gunichar c = g_utf8_get_char(p);
        const char *next = g_utf8_next_char(p);
        bool newline = c == '\n' || c == 0x2028 || c == 0x2029;

        if (newline && keep_newlines) {
            /* Spaces at line ends are invisible noise; leading newlines and
             * runs beyond one blank line are padding, not content. */
            text_strip_trailing_spaces(out);
            if (out->len > 0 && text_trailing_newlines(out) < TEXT_MAX_NEWLINES)
                g_string_append_c(out, '\n');
            selectable = pictograph = false;
        } else if (newline || c == '\t' || c == '\r' || c == '\v' || c == '\f'
                   || (g_unichar_isspace(c) && !g_unichar_iscntrl(c))) {
            /* '\r' joins the spaces so that "\r\n" ends up as a plain '\n'. */
            if (out->len > 0 && out->str[out->len - 1] != ' '
                && out->str[out->len - 1] != '\n')
                g_string_append_c(out, ' ');
            selectable = pictograph = false;
        } else if (c == TEXT_ZWJ) {
            /* Kept only inside an emoji ZWJ sequence (family, rainbow flag). */
            if (pictograph && text_is_pictograph(g_utf8_get_char(next))) {
                g_string_append_len(out, p, next - p);
                selectable = pictograph = false;
            }
        } else if (text_is_variation_selector(c)) {
            if (selectable) {
                g_string_append_len(out, p, next - p);
                selectable = false;
            }
        } else if (g_unichar_iscntrl(c) || text_is_invisible(c)) {
            /* dropped */
        } else {
            g_string_append_len(out, p, next - p);
            selectable = true;
            if (!text_is_emoji_modifier(c))
                pictograph = text_is_pictograph(c);
            if (c == TEXT_BLACK_FLAG) {
                size_t tags = text_flag_tags(next);
                g_string_append_len(out, next, (gssize)tags);
                next += tags;
            }
        }
        p = next;
    }
    while (out->len > 0 && (out->str[out->len - 1] == ' ' || out->str[out->len - 1] == '\n'))
        g_string_truncate(out, out->len - 1);

    g_free(valid);
    return g_string_free(out, FALSE);
}

/* ---- HTML ---------------------------------------------------------------- */

/* Output state of the tree walk. Whitespace and line breaks are held back
 * until the next visible character so that nothing dangles at either end
 * and block boundaries never stack up into runs of empty lines. */
struct text_walk {
    GString *out;
    unsigned pending_newlines;
    bool pending_space;
    unsigned pre_depth;
};

static void text_walk_break(struct text_walk *w, unsigned newlines)
{
    if (w->pending_newlines < newlines)
        w->pending_newlines = newlines;
}

static void text_walk_emit(struct text_walk *w, const char *chars, size_t len)
{
    if (w->out->len > 0) {
        if (w->pending_newlines > 0) {
            for (unsigned i = 0; i < w->pending_newlines; i++)
                g_string_append_c(w->out, '\n');
        } else if (w->pending_space) {
            g_string_append_c(w->out, ' ');
        }
    }
    w->pending_newlines = 0;
    w->pending_space = false;
    g_string_append_len(w->out, chars, (gssize)len);
}

static void text_walk_text(struct text_walk *w, const char *s)
{
    while (*s) {
        size_t run = strcspn(s, " \t\n\r\f");
        if (run > 0) {
            text_walk_emit(w, s, run);
            s += run;
            continue;
        }
        /* HTML whitespace is a word separator except inside <pre>, where
         * the author's line breaks are meant to be kept. */
        if (*s == '\n' && w->pre_depth > 0) {
            if (w->pending_newlines < TEXT_MAX_NEWLINES)
                w->pending_newlines++;
        } else {
            w->pending_space = true;
        }
        s++;
    }
}

static bool text_name_in(const xmlChar *name, const char *const *list)
{
    for (; *list; list++)
        if (g_ascii_strcasecmp((const char *)name, *list) == 0)
            return true;
    return false;
}

static bool text_has_class(xmlNode *node, const char *cls)
{
    xmlChar *attr = xmlGetNoNsProp(node, (const xmlChar *)"class");
    bool found = false;
    if (attr) {
        char **tokens = g_strsplit_set((const char *)attr, " \t\n\r\f", -1);
        for (char **t = tokens; *t && !found; t++)
            found = strcmp(*t, cls) == 0;
        g_strfreev(tokens);
        xmlFree(attr);
    }
    return found;
}

static const char *const text_dropped_elements[] = {
    "script", "style", "head", "title", "template", "noscript", "iframe", "object", NULL
};
static const char *const text_paragraph_elements[] = {
    "p", "blockquote", "pre", "ul", "ol", "dl", "table", "hr", "figure",
    "h1", "h2", "h3", "h4", "h5", "h6", NULL
};
static const char *const text_line_elements[] = {
    "div", "li", "dt", "dd", "tr", "section", "article", "header", "footer",
    "figcaption", "address", "details", "summary", NULL
};

/* Called when the walk reaches a node; returns whether it (and so its
 * children) takes part in the output. */
static bool text_walk_enter(struct text_walk *w, xmlNode *node)
{
    switch (node->type) {
    case XML_TEXT_NODE:
    case XML_CDATA_SECTION_NODE:
        if (node->content)
            text_walk_text(w, (const char *)node->content);
        return true;
    case XML_ELEMENT_NODE:
        break;
    default:
        return false; /* comments, processing instructions, DTDs */
    }
    if (!node->name || text_name_in(node->name, text_dropped_elements))
        return false;
    /* Mastodon shortens link text by hiding the scheme and the tail of the
     * URL in spans with class "invisible". */
    if (text_has_class(node, "invisible"))
        return false;
    if (g_ascii_strcasecmp((const char *)node->name, "br") == 0) {
        if (w->pending_newlines < TEXT_MAX_NEWLINES)
            w->pending_newlines++;
    } else if (text_name_in(node->name, text_paragraph_elements)) {
        text_walk_break(w, 2);
    } else if (text_name_in(node->name, text_line_elements)) {
        text_walk_break(w, 1);
    }
    if (g_ascii_strcasecmp((const char *)node->name, "pre") == 0)
        w->pre_depth++;
    return true;
}

/* Called after an element's children (if any) were walked. */
static void text_walk_leave(struct text_walk *w, xmlNode *node)
{
    if (node->type != XML_ELEMENT_NODE)
        return;
    if (g_ascii_strcasecmp((const char *)node->name, "pre") == 0 && w->pre_depth > 0)
        w->pre_depth--;
    if (text_has_class(node, "ellipsis"))
        text_walk_emit(w, TEXT_ELLIPSIS, TEXT_ELLIPSIS_LEN);
    if (text_name_in(node->name, text_paragraph_elements))
        text_walk_break(w, 2);
    else if (text_name_in(node->name, text_line_elements))
        text_walk_break(w, 1);
}

static void text_walk_tree(struct text_walk *w, htmlDocPtr doc)
{
    xmlNode *top = (xmlNode *)doc;
    xmlNode *node = doc->children;

    while (node) {
        bool entered = text_walk_enter(w, node);
        if (entered && node->children) {
            node = node->children;
            continue;
        }
        if (entered)
            text_walk_leave(w, node);
        /* Climb until there is a next sibling; every ancestor passed on the
         * way was entered, since we only descend into entered nodes. */
        while (!node->next) {
            node = node->parent;
            if (!node || node == top)
                return;
            text_walk_leave(w, node);
        }
        node = node->next;
    }
}

char *text_html_to_plain(const char *html, size_t len)
{
    if (!html || len == 0)
        return g_strdup("");
    /* The size goes through libxml2 as an int. */
    if (len > INT_MAX / 2)
        len = INT_MAX / 2;

    /* Repair the encoding first: on an invalid byte libxml2 would switch to
     * Latin-1 for the rest of the document. NUL bytes become U+FFFD too. */
    char *valid = g_utf8_make_valid(html, (gssize)len);
    int options = HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET
                | HTML_PARSE_RECOVER | HTML_PARSE_IGNORE_ENC | HTML_PARSE_COMPACT;
    htmlDocPtr doc = htmlReadMemory(valid, (int)strlen(valid), NULL, "UTF-8", options);
    g_free(valid);
    if (!doc)
        return g_strdup("");

    struct text_walk w = { .out = g_string_new(NULL) };
    text_walk_tree(&w, doc);
    xmlFreeDoc(doc);

    char *raw = g_string_free(w.out, FALSE);
    char *plain = text_sanitize(raw, true);
    g_free(raw);
    return plain;
}

/* ---- truncation, escaping, width ----------------------------------------- */

/* Characters that belong to the one before them: cutting in front of them
 * would leave a bare base letter or a half emoji. */
static bool text_is_attached(gunichar c)
{
    return g_unichar_ismark(c)              /* variation selectors included */
        || c == TEXT_ZWJ
        || text_is_emoji_modifier(c)
        || (c >= 0xE0020 && c <= TEXT_CANCEL_TAG); /* a flag's tags */
}

char *text_truncate(const char *s, size_t max_bytes)
{
    char *valid = g_utf8_make_valid(s ? s : "", -1);
    size_t len = strlen(valid);
    if (len <= max_bytes)
        return valid;
    if (max_bytes < TEXT_ELLIPSIS_LEN) {
        /* Not even the ellipsis fits; anything shown would misrepresent. */
        g_free(valid);
        return g_strdup("");
    }

    size_t budget = max_bytes - TEXT_ELLIPSIS_LEN;
    size_t cut = budget;
    while (cut > 0 && ((unsigned char)valid[cut] & 0xC0) == 0x80)
        cut--;
    size_t char_cut = cut;
    /* Nor is anything cut right after a joiner: that would split an emoji
     * ZWJ sequence and leave the joiner dangling. */
    while (cut > 0 && (text_is_attached(g_utf8_get_char(valid + cut))
                       || g_utf8_get_char(g_utf8_prev_char(valid + cut)) == TEXT_ZWJ))
        cut = (size_t)(g_utf8_prev_char(valid + cut) - valid);
    if (cut == 0) {
        /* One giant cluster: splitting it beats showing nothing, but a
         * joiner left at the end would join the ellipsis. */
        cut = char_cut;
        while (cut > 0 && g_utf8_get_char(g_utf8_prev_char(valid + cut)) == TEXT_ZWJ)
            cut = (size_t)(g_utf8_prev_char(valid + cut) - valid);
    }

    /* A word boundary in the last fifth of the budget reads better than a
     * chopped word; further back it would throw away too much. */
    size_t floor = budget - budget / 5;
    for (size_t i = cut; i > floor && i > 0; i--) {
        if (valid[i] == ' ' || valid[i] == '\n') {
            cut = i;
            break;
        }
    }
    while (cut > 0 && (valid[cut - 1] == ' ' || valid[cut - 1] == '\n'))
        cut--;

    GString *out = g_string_new_len(valid, (gssize)cut);
    g_string_append(out, TEXT_ELLIPSIS);
    g_free(valid);
    return g_string_free(out, FALSE);
}

char *text_markup_escape(const char *s)
{
    char *valid = g_utf8_make_valid(s ? s : "", -1);
    char *escaped = g_markup_escape_text(valid, -1);
    g_free(valid);
    return escaped;
}

size_t text_display_width(const char *s)
{
    if (!s)
        return 0;
    if (g_utf8_validate(s, -1, NULL))
        return (size_t)g_utf8_strlen(s, -1);
    char *valid = g_utf8_make_valid(s, -1);
    size_t n = (size_t)g_utf8_strlen(valid, -1);
    g_free(valid);
    return n;
}
