/* SPDX-License-Identifier: MIT */
/* log: see log.h. */
#include "log.h"

#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Process-wide by nature (stderr is too); written once at start-up. */
static struct {
    const char *progname;
    enum log_level max_level;
    bool journal;
} log_state = { "heed", LOG_LVL_NOTICE, false };

/* Whether stderr is the journal stream systemd named in JOURNAL_STREAM
 * ("DEVICE:INODE", decimal), as sd-daemon(3) says to check: a process whose
 * stderr was redirected (a terminal started from a journald-logged
 * session inherits the variable) must not get "<N>" prefixes. */
static bool log_stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    if (!js || !g_ascii_isdigit(js[0]))
        return false;
    char *end;
    guint64 dev = g_ascii_strtoull(js, &end, 10);
    if (*end != ':' || !g_ascii_isdigit(end[1]))
        return false;
    guint64 ino = g_ascii_strtoull(end + 1, &end, 10);
    if (*end != '\0')
        return false;
    struct stat st;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (guint64)st.st_dev == dev && (guint64)st.st_ino == ino;
}

void log_setup(const char *progname, enum log_level max_level)
{
    log_state.progname = progname;
    log_state.max_level = max_level;
    log_state.journal = log_stderr_is_journal();
}

bool log_enabled(enum log_level level)
{
    return level <= log_state.max_level;
}

static const char *log_level_word(enum log_level level)
{
    switch (level) {
    case LOG_LVL_ERR: return "error: ";
    case LOG_LVL_WARN: return "warning: ";
    case LOG_LVL_DEBUG: return "debug: ";
    default: return "";
    }
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (!log_enabled(level))
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* Messages carry text from the network (a server's error message, a
     * URL): no control character, C0, DEL or C1 (U+0080..U+009F; U+009B is
     * a one-character CSI), may reach a terminal or forge a second log line,
     * and no bidi override may disguise one. Bytes that are not UTF-8 (a raw
     * 0x9B is CSI to a Latin-1 terminal) and a character cut by the size
     * limit become '?' too. One write per line keeps lines whole when
     * several processes share stderr. */
    char *w = line;
    const char *p = line, *end = line + strlen(line);
    while (p < end) {
        gunichar c = g_utf8_get_char_validated(p, end - p);
        if (c == (gunichar)-1 || c == (gunichar)-2) {
            *w++ = '?';
            p++;
            continue;
        }
        size_t n = (size_t)(g_utf8_next_char(p) - p);
        if (c == '\n' || c == '\r' || c == '\t') {
            *w++ = ' ';
        } else if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
            *w++ = '?';
        } else if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069)) {
            /* bidi embeddings, overrides and isolates: dropped */
        } else {
            memmove(w, p, n);
            w += n;
        }
        p += n;
    }
    *w = '\0';
    if (log_state.journal)
        fprintf(stderr, "<%d>%s\n", (int)level, line);
    else
        fprintf(stderr, "%s: %s%s\n", log_state.progname, log_level_word(level), line);
}
