/* SPDX-License-Identifier: MIT */
/* format: see format.h. */
#include "format.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define CLI_ELLIPSIS "\u2026"
#define CLI_GAP 2 /* spaces between table columns */

int cli_term_width(bool tty, int tty_cols, const char *columns_env)
{
    int w = 0;
    if (tty && tty_cols > 0)
        w = tty_cols;
    if (w == 0 && columns_env && *columns_env) {
        char *end;
        long v = strtol(columns_env, &end, 10);
        if (*end == '\0' && v > 0 && v < 10000)
            w = (int)v;
    }
    if (w == 0)
        w = tty ? 80 : CLI_PIPE_WIDTH;
    return w < CLI_MIN_WIDTH ? CLI_MIN_WIDTH : w;
}

bool cli_use_color(bool tty, const char *no_color_env, const char *term_env)
{
    if (!tty)
        return false;
    if (no_color_env && *no_color_env)
        return false;
    return !(term_env && strcmp(term_env, "dumb") == 0);
}

static int cli_char_width(gunichar c)
{
    if (g_unichar_iszerowidth(c))
        return 0;
    return g_unichar_iswide(c) ? 2 : 1;
}

int cli_width(const char *s)
{
    int w = 0;
    for (const char *p = s; p && *p; p = g_utf8_next_char(p))
        w += cli_char_width(g_utf8_get_char(p));
    return w;
}

char *cli_clean(const char *s)
{
    return text_sanitize(s ? s : "", false);
}

/* s (already clean) cut to cols columns; a mark of zero width stays with
 * the character before it. */
static char *cli_cut(const char *s, int cols)
{
    if (cli_width(s) <= cols)
        return g_strdup(s);
    if (cols <= 0)
        return g_strdup("");
    int room = cols - 1; /* the ellipsis takes one */
    int used = 0;
    const char *p = s;
    while (*p) {
        int w = cli_char_width(g_utf8_get_char(p));
        if (used + w > room)
            break;
        used += w;
        p = g_utf8_next_char(p);
    }
    /* No space right before the ellipsis: "foo …" reads like a gap. */
    const char *end = p;
    while (end > s && end[-1] == ' ')
        end--;
    return g_strdup_printf("%.*s" CLI_ELLIPSIS, (int)(end - s), s);
}

char *cli_fit(const char *s, int cols)
{
    g_autofree char *clean = cli_clean(s);
    return cli_cut(clean, cols);
}

/* Append one paragraph line wrapped at cols. */
static void cli_wrap_line(GString *out, const char *line, int cols)
{
    int used = 0;
    g_auto(GStrv) words = g_strsplit(line, " ", -1);
    for (char **wp = words; *wp; wp++) {
        const char *word = *wp;
        if (!*word)
            continue;
        int w = cli_width(word);
        if (used > 0 && used + 1 + w <= cols) {
            g_string_append_c(out, ' ');
            used++;
        } else if (used > 0) {
            g_string_append_c(out, '\n');
            used = 0;
        }
        /* A word longer than the line (a URL, say) is broken where it must. */
        for (const char *p = word; *p; p = g_utf8_next_char(p)) {
            int cw = cli_char_width(g_utf8_get_char(p));
            if (used + cw > cols && used > 0) {
                g_string_append_c(out, '\n');
                used = 0;
            }
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
            used += cw;
        }
    }
    g_string_append_c(out, '\n');
}

char *cli_wrap(const char *s, int cols)
{
    if (cols < 1)
        cols = 1;
    g_autofree char *clean = text_sanitize(s ? s : "", true);
    GString *out = g_string_new(NULL);
    g_auto(GStrv) lines = g_strsplit(clean, "\n", -1);
    for (char **l = lines; *l; l++)
        cli_wrap_line(out, *l, cols);
    /* The caller decides about the final newline. */
    if (out->len > 0 && out->str[out->len - 1] == '\n')
        g_string_truncate(out, out->len - 1);
    return g_string_free(out, FALSE);
}

char *cli_age(int64_t seconds)
{
    if (seconds < 60)
        return g_strdup("<1 min");
    if (seconds < 3600)
        return g_strdup_printf("%d min", (int)(seconds / 60));
    if (seconds < 2 * 86400)
        return g_strdup_printf("%d h", (int)(seconds / 3600));
    return g_strdup_printf("%lld d", (long long)(seconds / 86400));
}

int64_t cli_parse_time(const char *iso)
{
    if (!iso)
        return -1;
    g_autoptr(GDateTime) dt = g_date_time_new_from_iso8601(iso, NULL);
    return dt ? g_date_time_to_unix(dt) : -1;
}

char *cli_local_time(const char *iso, int64_t now)
{
    if (!iso)
        return NULL;
    g_autoptr(GDateTime) utc = g_date_time_new_from_iso8601(iso, NULL);
    if (!utc)
        return NULL;
    g_autoptr(GDateTime) t = g_date_time_to_local(utc);
    g_autoptr(GDateTime) n = g_date_time_new_from_unix_local(now);
    if (!t || !n)
        return NULL;
    bool same_day = g_date_time_get_year(t) == g_date_time_get_year(n) &&
                    g_date_time_get_day_of_year(t) == g_date_time_get_day_of_year(n);
    return g_date_time_format(t, same_day ? "%H:%M:%S" : "%Y-%m-%d %H:%M");
}

/* ---- tables ------------------------------------------------------------ */

struct cli_row {
    char **cells;  /* clean */
    char **colors; /* may hold NULLs */
};

struct cli_table {
    const struct cli_column *cols;
    int n_cols;
    GPtrArray *rows;
};

static void cli_row_free(gpointer p)
{
    struct cli_row *r = p;
    g_strfreev(r->cells);
    g_strfreev(r->colors);
    g_free(r);
}

struct cli_table *cli_table_new(const struct cli_column *cols, int n_cols)
{
    struct cli_table *t = g_new0(struct cli_table, 1);
    t->cols = cols;
    t->n_cols = n_cols;
    t->rows = g_ptr_array_new_with_free_func(cli_row_free);
    return t;
}

void cli_table_add(struct cli_table *t, const char *const *cells, const char *const *colors)
{
    struct cli_row *r = g_new0(struct cli_row, 1);
    r->cells = g_new0(char *, (gsize)t->n_cols + 1);
    r->colors = g_new0(char *, (gsize)t->n_cols + 1);
    for (int c = 0; c < t->n_cols; c++)
        r->cells[c] = cli_clean(cells[c]);
    /* g_strfreev stops at the first NULL, so store "" for "no colour". */
    for (int c = 0; c < t->n_cols; c++)
        r->colors[c] = g_strdup(colors && colors[c] ? colors[c] : "");
    g_ptr_array_add(t->rows, r);
}

int cli_table_rows(const struct cli_table *t)
{
    return (int)t->rows->len;
}

void cli_table_free(struct cli_table *t)
{
    if (!t)
        return;
    g_ptr_array_free(t->rows, TRUE);
    g_free(t);
}

/* Take one column from the fixed column with the most to give above floor;
 * false when none has anything left. */
static bool cli_shrink_one(int *w, const int *floor, int n)
{
    int best = -1;
    for (int c = 0; c < n; c++)
        if (w[c] > floor[c] && (best < 0 || w[c] - floor[c] > w[best] - floor[best]))
            best = c;
    if (best < 0)
        return false;
    w[best]--;
    return true;
}

static void cli_append_cell(GString *line, const char *text, int w, enum cli_align align, bool pad_right,
                            const char *color, bool use_color)
{
    g_autofree char *cut = cli_cut(text, w);
    int pad = w - cli_width(cut);
    if (pad < 0)
        pad = 0;
    if (align == CLI_ALIGN_RIGHT)
        g_string_append_printf(line, "%*s", pad, "");
    bool colored = use_color && color && *color && *cut;
    if (colored)
        g_string_append(line, color);
    g_string_append(line, cut);
    if (colored)
        g_string_append(line, "\033[0m");
    if (align == CLI_ALIGN_LEFT && pad_right)
        g_string_append_printf(line, "%*s", pad, "");
}

char *cli_table_render(const struct cli_table *t, int width, bool header, bool color)
{
    int n = t->n_cols;
    g_autofree int *w = g_new0(int, (gsize)n);
    g_autofree int *floor = g_new0(int, (gsize)n);
    for (int c = 0; c < n; c++) {
        if (header)
            w[c] = cli_width(t->cols[c].title);
        for (guint r = 0; r < t->rows->len; r++) {
            const struct cli_row *row = g_ptr_array_index(t->rows, r);
            int cw = cli_width(row->cells[c]);
            if (cw > w[c])
                w[c] = cw;
        }
        if (t->cols[c].max > 0 && w[c] > t->cols[c].max)
            w[c] = t->cols[c].max;
        floor[c] = t->cols[c].min < w[c] ? t->cols[c].min : w[c];
    }
    int last = n - 1;
    int fixed = 0;
    for (int c = 0; c < last; c++)
        fixed += w[c] + CLI_GAP;
    int want_last = w[last] < t->cols[last].min ? w[last] : t->cols[last].min;
    /* First shrink fixed columns to their floors to give the last column
     * its minimum; if the line is still too wide, go down to one column. */
    while (width - fixed < want_last && cli_shrink_one(w, floor, last))
        fixed--;
    for (int c = 0; c < last; c++)
        floor[c] = 1;
    while (width - fixed < 0 && cli_shrink_one(w, floor, last))
        fixed--;
    int avail = width - fixed;
    if (w[last] > avail)
        w[last] = avail > 0 ? avail : 0;

    GString *out = g_string_new(NULL);
    GString *line = g_string_new(NULL);
    for (int r = header ? -1 : 0; r < (int)t->rows->len; r++) {
        const struct cli_row *row = r >= 0 ? g_ptr_array_index(t->rows, (guint)r) : NULL;
        g_string_truncate(line, 0);
        for (int c = 0; c < n; c++) {
            if (c > 0)
                g_string_append_printf(line, "%*s", CLI_GAP, "");
            const char *text = row ? row->cells[c] : t->cols[c].title;
            const char *col = row ? row->colors[c] : "\033[1m";
            cli_append_cell(line, text, w[c], t->cols[c].align, c < last, col, color);
        }
        /* Empty trailing cells leave padding behind. */
        gsize len = line->len;
        while (len > 0 && line->str[len - 1] == ' ')
            len--;
        g_string_append_len(out, line->str, (gssize)len);
        g_string_append_c(out, '\n');
    }
    g_string_free(line, TRUE);
    return g_string_free(out, FALSE);
}
