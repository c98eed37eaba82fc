/* SPDX-License-Identifier: MIT */
/* format: how heed lays out human output, with no I/O of its own.
 *
 * Everything that reaches the terminal from the network (names, texts,
 * links, error messages) goes through cli_clean() or the table first:
 * control characters, escape sequences and bidi overrides are removed, so
 * a hostile post cannot move the cursor, recolour or reorder the screen.
 * Widths are terminal columns, not bytes or code points: East Asian wide
 * characters take two, combining marks none.
 */
#ifndef HEED_CLI_FORMAT_H
#define HEED_CLI_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

/* Below this the columns stop making sense; narrower terminals get lines
 * that wrap rather than an unreadable squeeze. */
#define CLI_MIN_WIDTH 40
/* Width used when stdout is not a terminal and $COLUMNS says nothing. */
#define CLI_PIPE_WIDTH 100

/* The width to lay out for. tty: stdout is a terminal; tty_cols: what
 * TIOCGWINSZ said (0 if it failed); columns_env: $COLUMNS or NULL.
 * A terminal's own size wins, then $COLUMNS, then 80 on a terminal or
 * CLI_PIPE_WIDTH otherwise; never less than CLI_MIN_WIDTH. */
int cli_term_width(bool tty, int tty_cols, const char *columns_env);
/* Colour only on a terminal, never when NO_COLOR is set to anything but ""
 * (no-color.org) or TERM is "dumb". */
bool cli_use_color(bool tty, const char *no_color_env, const char *term_env);

/* One line of safe text: sanitised, newlines and tabs turned into spaces.
 * NULL gives "". g_free the result. */
char *cli_clean(const char *s);
/* Terminal columns taken by s (valid UTF-8 without control characters). */
int cli_width(const char *s);
/* cli_clean(s) cut to at most cols columns, ending in "…" when cut. */
char *cli_fit(const char *s, int cols);
/* Sanitised text (newlines kept) wrapped at cols columns on spaces; words
 * longer than a line are broken. Every line fits in cols. */
char *cli_wrap(const char *s, int cols);

/* "<1 min", "42 min", "3 h" (under two days), "5 d". */
char *cli_age(int64_t seconds);
/* An ISO 8601 time from heedd as local time: "HH:MM:SS" when it is on the
 * same local day as now, else "YYYY-MM-DD HH:MM". NULL if unparsable. */
char *cli_local_time(const char *iso, int64_t now);
/* Seconds since the Unix epoch for an ISO 8601 time; -1 if unparsable. */
int64_t cli_parse_time(const char *iso);

/* A table whose columns are sized to their contents and the width: every
 * column but the last is padded to its widest cell (up to its max); the
 * last takes what is left and is cut with "…". When even the fixed
 * columns do not fit, the widest ones shrink towards their min. */
enum cli_align { CLI_ALIGN_LEFT, CLI_ALIGN_RIGHT };
struct cli_column {
    const char *title;
    enum cli_align align;
    int min, max; /* columns; max 0 = no cap */
};
struct cli_table;
struct cli_table *cli_table_new(const struct cli_column *cols, int n_cols);
/* cells and colours (SGR sequences like "\033[1m", or NULL) have n_cols
 * entries; cells are copied through cli_clean(); NULL cells are empty. */
void cli_table_add(struct cli_table *t, const char *const *cells, const char *const *colors);
int cli_table_rows(const struct cli_table *t);
/* The whole table, one '\n'-terminated line per row (after a header line
 * when header is set); no line is wider than width and none ends in
 * spaces. Colour codes only when color. g_free the result. */
char *cli_table_render(const struct cli_table *t, int width, bool header, bool color);
void cli_table_free(struct cli_table *t);

#endif
