/* log: see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Process-wide by nature (stderr is too); written once at start-up. */
static struct {
    const char *progname;
    enum log_level max_level;
    bool journal;
} log_state = { "heed", LOG_LVL_NOTICE, false };

void log_setup(const char *progname, enum log_level max_level)
{
    log_state.progname = progname;
    log_state.max_level = max_level;
    log_state.journal = getenv("JOURNAL_STREAM") != NULL;
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
    /* Messages carry text from the network (a server's error message): no
     * control character may reach a terminal or forge a second log line,
     * and no bidi override may disguise one. One write per line keeps lines
     * whole when several processes share stderr. */
    char *w = line;
    for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t') {
            *w++ = ' ';
        } else if (*p < 0x20 || *p == 0x7f) {
            *w++ = '?';
        } else if (p[0] == 0xe2 && ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
                                    (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9))) {
            p += 2; /* U+202A..U+202E, U+2066..U+2069 */
        } else {
            *w++ = (char)*p;
        }
    }
    *w = '\0';
    if (log_state.journal)
        fprintf(stderr, "<%d>%s\n", (int)level, line);
    else
        fprintf(stderr, "%s: %s%s\n", log_state.progname, log_level_word(level), line);
}
