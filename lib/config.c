/* SPDX-License-Identifier: MIT */
/* config: see config.h.
 *
 * Parsing is split by group: [heed] is all-or-nothing because the daemon
 * cannot run on a half-understood global setting, while every [account NAME]
 * collects all of its problems before deciding, so one run of heed shows the
 * user everything that is wrong with an account instead of one problem per
 * restart. Messages quote user values through config_quote() so a stray
 * control character cannot forge extra log lines; token_command is never
 * quoted because people do paste secrets into command lines.
 */
#include "config.h"
#include "config-int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "net/net.h"

G_DEFINE_QUARK(config-error-quark, config_error)

/* Larger than any sane heed.conf; stops a mistyped path like /dev/zero from
 * eating memory. */
#define CONFIG_MAX_FILE_BYTES (1024 * 1024)
#define CONFIG_MAX_NUDGES 5
/* Upper bounds keep every duration far from int overflow once callers turn
 * it into milliseconds or add it to a timestamp. */
#define CONFIG_MAX_LONG_DURATION (30 * CONFIG_DAY)
#define CONFIG_MAX_DIGEST_THRESHOLD 1000


static const char *const config_heed_keys[] = {
    "poll_interval", "open_command", "snooze", "digest_threshold", "digest_window", "nudge",
    "quiet_hours", "quiet_hours_allow", "vip", "muted", "keywords", "mute_repos", "mute_kinds",
    "keyword_points", "sound", "avatars", NULL,
};
const char *const config_account_keys[] = {
    "network", "server", "web_host", "identifier", "client_id", "token_file", "token_command", "ca_file",
    "poll_interval", "catchup_max_pages", "reasons", "participating", "streaming", "stream_timeout", NULL,
};

#define CONFIG_ACCOUNT_PREFIX "account"


char *config_default_path(void)
{
    return g_build_filename(g_get_user_config_dir(), "heed", "heed.conf", NULL);
}

/* ---- messages ---------------------------------------------------------- */

static char *config_vmsg(const char *path, const char *group, const char *key, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static char *config_vmsg(const char *path, const char *group, const char *key, const char *fmt, va_list ap)
{
    char *body = g_strdup_vprintf(fmt, ap);
    char *msg;
    if (group == NULL)
        msg = g_strdup_printf("%s: %s", path, body);
    else if (key == NULL)
        msg = g_strdup_printf("%s: [%s]: %s", path, group, body);
    else
        msg = g_strdup_printf("%s: [%s] %s: %s", path, group, key, body);
    g_free(body);
    return msg;
}

void config_add(GPtrArray *to, const struct config_group *g, const char *key, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(to, config_vmsg(g->path, g->group, key, fmt, ap));
    va_end(ap);
}


static void config_set_error(GError **error, int code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void config_set_error(GError **error, int code, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = config_vmsg(path, NULL, NULL, fmt, ap);
    va_end(ap);
    g_set_error_literal(error, CONFIG_ERROR, code, msg);
    g_free(msg);
}

/* A value as shown in a message: quoted, control characters escaped, long
 * values cut (at a UTF-8 boundary) so one bad line cannot flood the log. */
char *config_quote(const char *value)
{
    enum { MAX_SHOWN = 80 };
    GString *s = g_string_new("\"");
    size_t n = 0;
    for (const char *p = value; *p; p++, n++) {
        unsigned char c = (unsigned char)*p;
        if (n >= MAX_SHOWN && (c & 0xC0) != 0x80) {
            g_string_append(s, "...");
            break;
        }
        if (c == '"' || c == '\\')
            g_string_append_printf(s, "\\%c", c);
        else if (c < 0x20 || c == 0x7f)
            g_string_append_printf(s, "\\x%02x", c);
        else
            g_string_append_c(s, (char)c);
    }
    g_string_append_c(s, '"');
    return g_string_free(s, FALSE);
}

/* GKeyFile has no trailing comments, so "60  # seconds" arrives whole;
 * saying so spares the user a puzzle. */
static const char *config_comment_hint(const char *value)
{
    return strchr(value, '#') ? " ('#' starts a comment only at the beginning of a line)" : "";
}

/* ---- pure parsers ------------------------------------------------------ */

int64_t config_parse_duration(const char *s)
{
    if (s == NULL)
        return -1;
    while (g_ascii_isspace(*s))
        s++;
    if (!g_ascii_isdigit(*s))
        return -1;
    int64_t n = 0;
    for (; g_ascii_isdigit(*s); s++) {
        int d = *s - '0';
        if (n > (INT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    int64_t unit = 1;
    switch (*s) {
    case 's': unit = 1; s++; break;
    case 'm': unit = 60; s++; break;
    case 'h': unit = 60 * 60; s++; break;
    case 'd': unit = CONFIG_DAY; s++; break;
    default: break;
    }
    while (g_ascii_isspace(*s))
        s++;
    if (*s != '\0')
        return -1;
    if (n > INT64_MAX / unit)
        return -1;
    return n * unit;
}

/* "H:MM" or "HH:MM"; returns the rest of the string or NULL. */
static const char *config_parse_clock(const char *s, int *minutes)
{
    int h = 0;
    int digits = 0;
    while (g_ascii_isdigit(*s) && digits < 2) {
        h = h * 10 + (*s - '0');
        s++;
        digits++;
    }
    if (digits == 0 || *s != ':')
        return NULL;
    s++;
    if (!g_ascii_isdigit(s[0]) || !g_ascii_isdigit(s[1]))
        return NULL;
    int m = (s[0] - '0') * 10 + (s[1] - '0');
    if (h > 23 || m > 59)
        return NULL;
    *minutes = h * 60 + m;
    return s + 2;
}

bool config_parse_quiet_hours(const char *s, struct config_quiet *out)
{
    int start, end;
    if (s == NULL)
        return false;
    while (g_ascii_isspace(*s))
        s++;
    s = config_parse_clock(s, &start);
    if (s == NULL)
        return false;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '-')
        return false;
    s++;
    while (*s == ' ' || *s == '\t')
        s++;
    s = config_parse_clock(s, &end);
    if (s == NULL)
        return false;
    while (g_ascii_isspace(*s))
        s++;
    if (*s != '\0' || start == end)
        return false;
    out->enabled = true;
    out->start_min = start;
    out->end_min = end;
    return true;
}

/* ---- typed getters ----------------------------------------------------- */

/* The stripped value of key, or NULL when the key is absent. A value GLib
 * cannot decode (bad escape, invalid UTF-8) is reported and also yields
 * NULL, with *bad set so callers do not add a second "missing" message. */
char *config_get(const struct config_group *g, const char *key, bool *bad)
{
    GError *err = NULL;
    if (bad)
        *bad = false;
    if (!g_key_file_has_key(g->kf, g->group, key, NULL))
        return NULL;
    char *v = g_key_file_get_string(g->kf, g->group, key, &err);
    /* GLib may hand back a half-decoded value along with the error. */
    if (err != NULL) {
        g_free(v);
        config_error_at(g, key, "cannot be decoded (%s); expected UTF-8 text with valid escapes",
                        err->message);
        g_error_free(err);
        if (bad)
            *bad = true;
        return NULL;
    }
    return g_strstrip(v);
}

/* A duration key in [min, max] seconds; leaves *out alone when absent. */
void config_get_duration(const struct config_group *g, const char *key, int64_t min, int64_t max,
                                int *out)
{
    char *v = config_get(g, key, NULL);
    if (v == NULL)
        return;
    int64_t d = config_parse_duration(v);
    if (d < 0) {
        char *q = config_quote(v);
        config_error_at(g, key, "%s is not a duration%s; expected seconds, or a number with s, m, h or d (e.g. 90s, 2m)",
                        q, config_comment_hint(v));
        g_free(q);
    } else if (d < min || d > max) {
        char *q = config_quote(v);
        config_error_at(g, key, "%s is out of range; expected between %" G_GINT64_FORMAT " and %" G_GINT64_FORMAT " seconds",
                        q, min, max);
        g_free(q);
    } else {
        *out = (int)d;
    }
    g_free(v);
}

void config_get_int(const struct config_group *g, const char *key, int64_t min, int64_t max, int *out)
{
    char *v = config_get(g, key, NULL);
    if (v == NULL)
        return;
    gint64 n;
    if (!g_ascii_string_to_signed(v, 10, min, max, &n, NULL)) {
        char *q = config_quote(v);
        config_error_at(g, key, "%s is not an allowed number%s; expected a whole number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT,
                        q, config_comment_hint(v), min, max);
        g_free(q);
    } else {
        *out = (int)n;
    }
    g_free(v);
}

void config_get_bool(const struct config_group *g, const char *key, bool *out)
{
    char *v = config_get(g, key, NULL);
    if (v == NULL)
        return;
    if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
        *out = true;
    } else if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0) {
        *out = false;
    } else {
        char *q = config_quote(v);
        config_error_at(g, key, "%s is not a boolean; expected true or false", q);
        g_free(q);
    }
    g_free(v);
}

/* A ';'-separated list, elements stripped, empty elements dropped; NULL
 * when absent or empty so that callers only have one "nothing" to test. */
char **config_get_list(const struct config_group *g, const char *key)
{
    GError *err = NULL;
    if (!g_key_file_has_key(g->kf, g->group, key, NULL))
        return NULL;
    char **raw = g_key_file_get_string_list(g->kf, g->group, key, NULL, &err);
    if (err != NULL) {
        g_strfreev(raw);
        config_error_at(g, key, "cannot be decoded (%s); expected a list separated by ';'", err->message);
        g_error_free(err);
        return NULL;
    }
    if (raw == NULL)
        return NULL;
    GPtrArray *out = g_ptr_array_new();
    for (char **p = raw; *p; p++) {
        g_strstrip(*p);
        if (**p != '\0')
            g_ptr_array_add(out, g_strdup(*p));
    }
    g_strfreev(raw);
    if (out->len == 0) {
        g_ptr_array_free(out, TRUE);
        return NULL;
    }
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

void config_check_unknown_keys(const struct config_group *g, const char *const *known)
{
    char **keys = g_key_file_get_keys(g->kf, g->group, NULL, NULL);
    if (keys == NULL)
        return;
    char *list = g_strjoinv(", ", (char **)known);
    for (char **k = keys; *k; k++)
        if (!g_strv_contains(known, *k))
            config_warn_at(g, *k, "unknown key, ignored; expected one of %s", list);
    g_free(list);
    g_strfreev(keys);
}

/* ---- [heed] ------------------------------------------------------------ */

/* url_open() replaces "%u" inside a word too (each word stays one
 * argument), but inside a word the URL can land in a script ("sh -c
 * 'firefox %u'") and be read by a shell after all. The configuration
 * therefore takes "%u" only as a word of its own, at most once. */
static char **config_parse_open_command(const struct config_group *g, const char *v)
{
    char **argv = NULL;
    GError *err = NULL;
    if (!g_shell_parse_argv(v, NULL, &argv, &err)) {
        config_error_at(g, "open_command", "cannot be split into words (%s); expected a command like: firefox --new-tab %%u",
                        err->message);
        g_error_free(err);
        return NULL;
    }
    int n_u = 0;
    for (char **a = argv; *a; a++) {
        if (strcmp(*a, "%u") == 0) {
            n_u++;
        } else if (strstr(*a, "%u") != NULL) {
            char *q = config_quote(*a);
            config_error_at(g, "open_command", "%s has %%u inside a word; expected %%u as a word of its own", q);
            g_free(q);
            g_strfreev(argv);
            return NULL;
        }
    }
    if (n_u > 1) {
        config_error_at(g, "open_command", "has %d %%u placeholders; expected at most one", n_u);
        g_strfreev(argv);
        return NULL;
    }
    return argv;
}

static void config_parse_nudges(const struct config_group *g, const char *v, struct config *cfg)
{
    if (*v == '\0' || g_ascii_strcasecmp(v, "none") == 0) {
        g_clear_pointer(&cfg->nudge_schedule, g_free);
        cfg->n_nudges = 0;
        return;
    }
    char **parts = g_strsplit_set(v, ",;", -1);
    int vals[CONFIG_MAX_NUDGES];
    int n = 0;
    bool ok = true;
    for (char **p = parts; *p && ok; p++) {
        g_strstrip(*p);
        int64_t d = config_parse_duration(*p);
        char *q = config_quote(*p);
        if (d < 1 || d > CONFIG_MAX_LONG_DURATION) {
            config_error_at(g, "nudge", "%s is not a duration from 1s to 30d%s; expected a list like 2h, 8h (or none)",
                            q, config_comment_hint(*p));
            ok = false;
        } else if (n == CONFIG_MAX_NUDGES) {
            config_error_at(g, "nudge", "more than %d nudges; expected at most %d durations", CONFIG_MAX_NUDGES,
                            CONFIG_MAX_NUDGES);
            ok = false;
        } else if (n > 0 && d <= vals[n - 1]) {
            config_error_at(g, "nudge", "%s is not later than the nudge before it; expected durations in ascending order", q);
            ok = false;
        } else {
            vals[n++] = (int)d;
        }
        g_free(q);
    }
    g_strfreev(parts);
    if (!ok)
        return;
    g_free(cfg->nudge_schedule);
    cfg->nudge_schedule = n ? g_memdup2(vals, sizeof vals[0] * (gsize)n) : NULL;
    cfg->n_nudges = n;
}

/* mute_repos, mute_kinds, keyword_points. */
static void config_parse_filters(const struct config_group *g, struct config *cfg)
{
    cfg->mute_repos = config_get_list(g, "mute_repos");
    for (char **r = cfg->mute_repos; r && *r; r++) {
        const char *slash = strchr(*r, '/');
        if (!slash || slash == *r || !slash[1] || strchr(slash + 1, '/')) {
            char *q = config_quote(*r);
            config_error_at(g, "mute_repos", "%s is not a repository; expected OWNER/REPO or OWNER/* (GitHub)", q);
            g_free(q);
        }
    }
    cfg->mute_kinds = config_get_list(g, "mute_kinds");
    for (char **k = cfg->mute_kinds; k && *k; k++) {
        bool known = false;
        for (int i = 0; i < MENTION_KIND__COUNT && !known; i++)
            known = g_ascii_strcasecmp(*k, mention_kind_name((enum mention_kind)i)) == 0;
        if (!known) {
            char *q = config_quote(*k);
            config_error_at(g, "mute_kinds", "%s is not a kind of mention; expected some of mention, reply, quote, "
                            "direct, review, assign, team", q);
            g_free(q);
        }
    }
    char **pairs = config_get_list(g, "keyword_points");
    for (char **p = pairs; p && *p; p++) {
        char *colon = strrchr(*p, ':');
        char *end = NULL;
        long pts = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon == *p || !end || end == colon + 1 || *end || pts < -100 || pts > 100 || pts == 0) {
            char *q = config_quote(*p);
            config_error_at(g, "keyword_points",
                            "%s is not WORD:POINTS; expected e.g. invoice:+20;newsletter:-40 (points from -100 to 100)",
                            q);
            g_free(q);
            continue;
        }
        cfg->keyword_points = g_renew(struct config_keyword, cfg->keyword_points, cfg->n_keyword_points + 1);
        cfg->keyword_points[cfg->n_keyword_points++] =
            (struct config_keyword){ .word = g_strstrip(g_strndup(*p, (gsize)(colon - *p))), .points = (int)pts };
    }
    g_strfreev(pairs);
}

/* sound = off | on | NAME (a freedesktop sound theme name). */
static void config_parse_sound(const struct config_group *g, struct config *cfg)
{
    char *v = config_get(g, "sound", NULL);
    if (!v)
        return;
    g_strstrip(v);
    if (g_ascii_strcasecmp(v, "off") == 0 || *v == '\0') {
        g_free(v);
        return;
    }
    if (g_ascii_strcasecmp(v, "on") == 0) {
        cfg->sound = g_strdup("message-new-instant");
        g_free(v);
        return;
    }
    for (const char *c = v; *c; c++) {
        if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_' && *c != '.') {
            char *q = config_quote(v);
            config_error_at(g, "sound", "%s is not a sound name; expected on, off or a sound theme name such as "
                            "message-new-instant", q);
            g_free(q);
            g_free(v);
            return;
        }
    }
    cfg->sound = v;
}

static void config_parse_heed(const struct config_group *g, struct config *cfg)
{
    char *v;

    config_get_duration(g, "poll_interval", 1, CONFIG_MAX_POLL, &cfg->poll_interval);
    config_get_duration(g, "snooze", 1, CONFIG_MAX_LONG_DURATION, &cfg->snooze_seconds);
    config_get_int(g, "digest_threshold", 1, CONFIG_MAX_DIGEST_THRESHOLD, &cfg->digest_threshold);
    config_get_duration(g, "digest_window", 1, CONFIG_DAY, &cfg->digest_window);

    if ((v = config_get(g, "open_command", NULL)) != NULL) {
        if (*v != '\0')
            cfg->open_command = config_parse_open_command(g, v);
        g_free(v);
    }
    if ((v = config_get(g, "nudge", NULL)) != NULL) {
        config_parse_nudges(g, v, cfg);
        g_free(v);
    }
    if ((v = config_get(g, "quiet_hours", NULL)) != NULL) {
        if (*v == '\0' || g_ascii_strcasecmp(v, "none") == 0) {
            cfg->quiet.enabled = false;
        } else if (!config_parse_quiet_hours(v, &cfg->quiet)) {
            char *q = config_quote(v);
            config_error_at(g, "quiet_hours", "%s is not a time range%s; expected HH:MM-HH:MM with different start and end (e.g. 22:00-07:00)",
                            q, config_comment_hint(v));
            g_free(q);
        }
        g_free(v);
    }
    if ((v = config_get(g, "quiet_hours_allow", NULL)) != NULL) {
        if (strcmp(v, "vip") == 0) {
            cfg->quiet_allow_vip = true;
        } else if (strcmp(v, "none") == 0) {
            cfg->quiet_allow_vip = false;
        } else {
            char *q = config_quote(v);
            config_error_at(g, "quiet_hours_allow", "%s is not allowed; expected vip or none", q);
            g_free(q);
        }
        g_free(v);
    }
    cfg->vip = config_get_list(g, "vip");
    cfg->muted = config_get_list(g, "muted");
    cfg->keywords = config_get_list(g, "keywords");
    config_parse_filters(g, cfg);
    config_parse_sound(g, cfg);
    config_get_bool(g, "avatars", &cfg->avatars);
    config_check_unknown_keys(g, config_heed_keys);
}

/* ---- [score] ----------------------------------------------------------- */

/* Raw values are copied, not interpreted: score.c owns their meaning. */
static GKeyFile *config_copy_group(GKeyFile *kf, const char *group)
{
    GKeyFile *copy = g_key_file_new();
    char *header = g_strdup_printf("[%s]\n", group);
    /* The only way to create a group with no keys yet. */
    g_key_file_load_from_data(copy, header, (gsize)-1, G_KEY_FILE_NONE, NULL);
    g_free(header);
    char **keys = g_key_file_get_keys(kf, group, NULL, NULL);
    for (char **k = keys; k && *k; k++) {
        char *v = g_key_file_get_value(kf, group, *k, NULL);
        if (v)
            g_key_file_set_value(copy, group, *k, v);
        g_free(v);
    }
    g_strfreev(keys);
    return copy;
}

/* ---- loading ----------------------------------------------------------- */

/* On failure either *why says what is wrong or errno does. */
static bool config_read(const char *path, char **data, gsize *len, const char **why)
{
    *why = NULL;
    /* O_NONBLOCK so that a FIFO cannot hang start-up; fstat rejects it. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return false;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return false;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        *why = "is not a regular file";
        return false;
    }
    GString *buf = g_string_new(NULL);
    char chunk[8192];
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            g_string_free(buf, TRUE);
            close(fd);
            errno = e;
            return false;
        }
        if (n == 0)
            break;
        if (buf->len + (size_t)n > CONFIG_MAX_FILE_BYTES) {
            g_string_free(buf, TRUE);
            close(fd);
            *why = "is larger than 1 MiB";
            return false;
        }
        g_string_append_len(buf, chunk, n);
    }
    close(fd);
    *len = buf->len;
    *data = g_string_free(buf, FALSE);
    return true;
}

/* GLib names the offending line's text but not its number; find the number
 * by loading ever longer prefixes, which relies on GLib failing on the first
 * bad line it meets. Returns 0 when no prefix fails. */
static int config_find_bad_line(const char *data, gsize len)
{
    GArray *ends = g_array_new(FALSE, FALSE, sizeof(gsize));
    for (gsize i = 0; i < len; i++)
        if (data[i] == '\n') {
            gsize e = i + 1;
            g_array_append_val(ends, e);
        }
    if (len > 0 && data[len - 1] != '\n')
        g_array_append_val(ends, len);

    int lo = 1, hi = (int)ends->len, found = 0;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        GKeyFile *kf = g_key_file_new();
        bool ok = g_key_file_load_from_data(kf, data, g_array_index(ends, gsize, mid - 1), G_KEY_FILE_NONE, NULL);
        g_key_file_free(kf);
        if (ok) {
            lo = mid + 1;
        } else {
            found = mid;
            hi = mid - 1;
        }
    }
    g_array_free(ends, TRUE);
    return found;
}

static struct config *config_new_defaults(const char *path)
{
    struct config *cfg = g_new0(struct config, 1);
    cfg->path = g_strdup(path);
    cfg->poll_interval = 60;
    cfg->open_command = NULL;
    cfg->snooze_seconds = 3600;
    cfg->avatars = true;
    cfg->digest_threshold = 5;
    cfg->digest_window = 120;
    cfg->nudge_schedule = g_new(int, 2);
    cfg->nudge_schedule[0] = 7200;
    cfg->nudge_schedule[1] = 28800;
    cfg->n_nudges = 2;
    cfg->quiet.enabled = false;
    cfg->quiet_allow_vip = true;
    cfg->problems = g_ptr_array_new_with_free_func(g_free);
    return cfg;
}

/* Moves the group's messages into one fatal error, one per line. */
static void config_fail_with(GError **error, GPtrArray *errors)
{
    g_ptr_array_add(errors, NULL);
    char *msg = g_strjoinv("\n", (char **)errors->pdata);
    g_ptr_array_remove_index(errors, errors->len - 1);
    g_set_error_literal(error, CONFIG_ERROR, CONFIG_ERROR_INVALID, msg);
    g_free(msg);
}

static void config_move_all(GPtrArray *to, GPtrArray *from)
{
    for (guint i = 0; i < from->len; i++)
        g_ptr_array_add(to, g_strdup(g_ptr_array_index(from, i)));
    g_ptr_array_set_size(from, 0);
}

/* "account NAME" -> NAME (stripped, possibly empty); NULL for other groups. */
static char *config_account_name(const char *group)
{
    size_t n = strlen(CONFIG_ACCOUNT_PREFIX);
    if (strncmp(group, CONFIG_ACCOUNT_PREFIX, n) != 0)
        return NULL;
    if (group[n] != '\0' && group[n] != ' ' && group[n] != '\t')
        return NULL;
    return g_strstrip(g_strdup(group + n));
}

struct config *config_load(const char *path, bool must_exist, GError **error)
{
    char *default_path = NULL;
    if (path == NULL)
        path = default_path = config_default_path();

    char *data = NULL;
    gsize len = 0;
    const char *why = NULL;
    if (!config_read(path, &data, &len, &why)) {
        if (why == NULL && errno == ENOENT && !must_exist) {
            struct config *cfg = config_new_defaults(path);
            g_free(default_path);
            return cfg;
        }
        if (why == NULL && errno == ENOENT)
            config_set_error(error, CONFIG_ERROR_READ, path, "no such file; expected a heed configuration file here");
        else
            config_set_error(error, CONFIG_ERROR_READ, path, "cannot be read (%s)", why ? why : g_strerror(errno));
        g_free(default_path);
        return NULL;
    }

    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &err)) {
        int line = config_find_bad_line(data, len);
        if (line > 0)
            config_set_error(error, CONFIG_ERROR_PARSE, path, "line %d: %s; expected [GROUP] headers, KEY = VALUE lines and # comments",
                             line, err->message);
        else
            config_set_error(error, CONFIG_ERROR_PARSE, path, "%s; expected [GROUP] headers, KEY = VALUE lines and # comments",
                             err->message);
        g_error_free(err);
        g_key_file_free(kf);
        g_free(data);
        g_free(default_path);
        return NULL;
    }
    g_free(data);

    struct config *cfg = config_new_defaults(path);
    g_free(default_path);
    GPtrArray *errors = g_ptr_array_new_with_free_func(g_free);
    struct config_group g = { cfg->path, "heed", kf, errors, cfg->problems };

    if (g_key_file_has_group(kf, "heed")) {
        config_parse_heed(&g, cfg);
        if (errors->len > 0) {
            config_fail_with(error, errors);
            g_ptr_array_free(errors, TRUE);
            g_key_file_free(kf);
            config_free(cfg);
            return NULL;
        }
    }
    if (g_key_file_has_group(kf, "score"))
        cfg->score_group = config_copy_group(kf, "score");

    GArray *accounts = g_array_new(FALSE, TRUE, sizeof(struct config_account));
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    char **groups = g_key_file_get_groups(kf, NULL);
    for (char **grp = groups; *grp; grp++) {
        if (strcmp(*grp, "heed") == 0 || strcmp(*grp, "score") == 0)
            continue;
        g.group = *grp;
        char *name = config_account_name(*grp);
        if (name == NULL) {
            config_warn_at(&g, NULL, "unknown group, ignored; expected [heed], [score] or [account NAME]");
            continue;
        }
        if (*name == '\0') {
            config_warn_at(&g, NULL, "account has no name, ignored; expected [account NAME]");
        } else if (g_hash_table_contains(seen, name)) {
            config_warn_at(&g, NULL, "a second account named \"%s\", ignored; expected each account name once", name);
        } else {
            struct config_account a = { 0 };
            g_hash_table_add(seen, g_strdup(name));
            config_parse_account(&g, name, &a);
            if (errors->len > 0) {
                config_move_all(cfg->problems, errors);
                config_warn_at(&g, NULL, "account disabled; expected the problems above to be fixed");
                config_free_account(&a);
            } else {
                g_array_append_val(accounts, a);
            }
        }
        g_free(name);
    }
    g_strfreev(groups);
    g_hash_table_destroy(seen);
    g_ptr_array_free(errors, TRUE);
    g_key_file_free(kf);

    cfg->n_accounts = (int)accounts->len;
    cfg->accounts = (struct config_account *)(void *)g_array_free(accounts, cfg->n_accounts == 0);
    return cfg;
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    g_free(cfg->path);
    g_strfreev(cfg->open_command);
    g_free(cfg->nudge_schedule);
    g_strfreev(cfg->vip);
    g_strfreev(cfg->muted);
    g_strfreev(cfg->keywords);
    g_strfreev(cfg->mute_repos);
    g_strfreev(cfg->mute_kinds);
    for (int i = 0; i < cfg->n_keyword_points; i++)
        g_free(cfg->keyword_points[i].word);
    g_free(cfg->keyword_points);
    g_free(cfg->sound);
    if (cfg->score_group)
        g_key_file_free(cfg->score_group);
    for (int i = 0; i < cfg->n_accounts; i++)
        config_free_account(&cfg->accounts[i]);
    g_free(cfg->accounts);
    if (cfg->problems)
        g_ptr_array_free(cfg->problems, TRUE);
    g_free(cfg);
}
