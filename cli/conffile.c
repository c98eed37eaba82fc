/* SPDX-License-Identifier: MIT */
/* conffile: see conffile.h.
 *
 * The file is held as an array of lines without their '\n'. Edits touch
 * only the lines of the keys they name (or append new ones), and every
 * edit is remembered as an expectation ("[group] key reads back as value",
 * or "is absent"), which conffile_to_data() checks against GKeyFile's own
 * reading of the result: if the line model and GLib ever disagreed about
 * what a line means, the edit is refused instead of written.
 */
#include "conffile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

G_DEFINE_QUARK(conffile-error-quark, conffile_error)

/* The same limit config_load() puts on heed.conf. */
#define CONFFILE_MAX_BYTES (1024 * 1024)

struct conffile_expect {
    char *group;
    char *key;
    char *value; /* NULL: the key must be absent */
};

struct conffile {
    char *path;
    GPtrArray *lines;     /* char *, without '\n' */
    bool final_newline;   /* the original ended in '\n' (an empty file counts as yes) */
    bool edited;
    GPtrArray *expect;    /* struct conffile_expect *, in edit order */
};

enum conffile_line { CONFFILE_LINE_COMMENT, CONFFILE_LINE_GROUP, CONFFILE_LINE_KEY };

static void conffile_expect_free(gpointer p)
{
    struct conffile_expect *e = p;
    g_free(e->group);
    g_free(e->key);
    g_free(e->value);
    g_free(e);
}

/* What GKeyFile makes of a line (gkeyfile.c: leading white space is
 * skipped; '#' or nothing is a comment; '[' starts a group whose name runs
 * to the last ']'; anything else is a key up to '=', trailing white space
 * removed). *name gets the group or key name (g_free it) unless a comment. */
static enum conffile_line conffile_classify(const char *line, char **name)
{
    const char *p = line;
    *name = NULL;
    while (g_ascii_isspace(*p))
        p++;
    if (*p == '\0' || *p == '#')
        return CONFFILE_LINE_COMMENT;
    if (*p == '[') {
        const char *end = strrchr(p, ']');
        *name = end ? g_strndup(p + 1, (gsize)(end - p - 1)) : g_strdup(p + 1);
        return CONFFILE_LINE_GROUP;
    }
    const char *eq = strchr(p, '=');
    const char *end = eq ? eq : p + strlen(p);
    while (end > p && g_ascii_isspace(end[-1]))
        end--;
    *name = g_strndup(p, (gsize)(end - p));
    return CONFFILE_LINE_KEY;
}

static bool conffile_line_is(const char *line, enum conffile_line kind, const char *name)
{
    char *n = NULL;
    bool yes = conffile_classify(line, &n) == kind && g_strcmp0(n, name) == 0;
    g_free(n);
    return yes;
}

/* Index of the group's header line, or -1. */
static int conffile_find_group(const struct conffile *cf, const char *group)
{
    for (guint i = 0; i < cf->lines->len; i++)
        if (conffile_line_is(g_ptr_array_index(cf->lines, i), CONFFILE_LINE_GROUP, group))
            return (int)i;
    return -1;
}

/* One past the group's last line: the next header, or the end. */
static guint conffile_group_end(const struct conffile *cf, int header)
{
    guint i = (guint)header + 1;
    for (; i < cf->lines->len; i++) {
        char *n = NULL;
        enum conffile_line k = conffile_classify(g_ptr_array_index(cf->lines, i), &n);
        g_free(n);
        if (k == CONFFILE_LINE_GROUP)
            break;
    }
    return i;
}

/* The parse GLib does, plus the one thing it lets pass that heed cannot
 * live with: a group given twice (GKeyFile merges them, config_load()
 * ignores the second). */
static bool conffile_check_text(const char *path, const char *data, gsize len, GError **error)
{
    if (memchr(data, '\0', len)) {
        g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_PARSE, "%s: contains a NUL byte; expected a text file",
                    path);
        return false;
    }
    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    bool ok = g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &err);
    g_key_file_free(kf);
    if (!ok) {
        g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_PARSE,
                    "%s: cannot be parsed (%s); fix it first (heed check-config shows the line)", path, err->message);
        g_error_free(err);
        return false;
    }
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (char **l = lines; *l; l++) {
        char *n = NULL;
        if (conffile_classify(*l, &n) != CONFFILE_LINE_GROUP) {
            g_free(n);
            continue;
        }
        if (g_hash_table_contains(seen, n)) {
            g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_PARSE,
                        "%s: [%s] appears twice; merge the two groups first", path, n);
            g_free(n);
            g_hash_table_destroy(seen);
            return false;
        }
        g_hash_table_add(seen, n);
    }
    g_hash_table_destroy(seen);
    return true;
}

struct conffile *conffile_new_from_data(const char *path, const char *data, gsize len, GError **error)
{
    if (!conffile_check_text(path, data, len, error))
        return NULL;
    struct conffile *cf = g_new0(struct conffile, 1);
    cf->path = g_strdup(path);
    cf->lines = g_ptr_array_new_with_free_func(g_free);
    cf->expect = g_ptr_array_new_with_free_func(conffile_expect_free);
    g_autofree char *copy = g_strndup(data, len);
    char **parts = g_strsplit(copy, "\n", -1);
    guint n = g_strv_length(parts);
    /* "a\nb\n" splits into a, b and an empty last piece: that piece is the
     * final newline, not a line. */
    cf->final_newline = n == 0 || parts[n - 1][0] == '\0';
    for (guint i = 0; i < n; i++) {
        if (i == n - 1 && parts[i][0] == '\0')
            g_free(parts[i]);
        else
            g_ptr_array_add(cf->lines, parts[i]);
    }
    g_free(parts); /* the strings now belong to cf->lines */
    return cf;
}

struct conffile *conffile_load(const char *path, GError **error)
{
    /* O_NONBLOCK: a FIFO named heed.conf must not hang the command. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT)
            return conffile_new_from_data(path, "", 0, error);
        g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_READ, "%s: cannot be read (%s)", path, g_strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_READ, "%s: is not a regular file", path);
        close(fd);
        return NULL;
    }
    GString *buf = g_string_new(NULL);
    char chunk[8192];
    bool failed = false;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_READ, "%s: cannot be read (%s)", path,
                        g_strerror(errno));
            failed = true;
            break;
        }
        if (n == 0)
            break;
        if (buf->len + (size_t)n > CONFFILE_MAX_BYTES) {
            g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_READ, "%s: is larger than 1 MiB", path);
            failed = true;
            break;
        }
        g_string_append_len(buf, chunk, n);
    }
    close(fd);
    if (failed) {
        g_string_free(buf, TRUE);
        return NULL;
    }
    struct conffile *cf = conffile_new_from_data(path, buf->str, buf->len, error);
    g_string_free(buf, TRUE);
    return cf;
}

void conffile_free(struct conffile *cf)
{
    if (!cf)
        return;
    g_free(cf->path);
    g_ptr_array_free(cf->lines, TRUE);
    g_ptr_array_free(cf->expect, TRUE);
    g_free(cf);
}

const char *conffile_path(const struct conffile *cf)
{
    return cf->path;
}

bool conffile_has_group(const struct conffile *cf, const char *group)
{
    return conffile_find_group(cf, group) >= 0;
}

/* ---- edits ------------------------------------------------------------- */

static bool conffile_group_ok(const char *group)
{
    if (!*group || !g_utf8_validate(group, -1, NULL))
        return false;
    for (const unsigned char *p = (const unsigned char *)group; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '[' || *p == ']')
            return false;
    /* GKeyFile would read leading/trailing blanks differently. */
    return !g_ascii_isspace(group[0]) && !g_ascii_isspace(group[strlen(group) - 1]);
}

static bool conffile_key_ok(const char *key)
{
    if (!*key)
        return false;
    for (const char *p = key; *p; p++)
        if (!(g_ascii_isalnum(*p) || *p == '_' || *p == '-'))
            return false;
    return true;
}

static bool conffile_value_ok(const char *value)
{
    if (!g_utf8_validate(value, -1, NULL))
        return false;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
            return false;
    return true;
}

/* The value as GKeyFile writes it (leading blanks, tabs and backslashes
 * escaped), so that g_key_file_get_string() reads back exactly value. */
static char *conffile_escape(const char *value)
{
    GKeyFile *kf = g_key_file_new();
    g_key_file_set_string(kf, "g", "k", value);
    char *raw = g_key_file_get_value(kf, "g", "k", NULL);
    g_key_file_free(kf);
    return raw;
}

static void conffile_expect(struct conffile *cf, const char *group, const char *key, const char *value)
{
    /* The last edit of a key is what must hold. */
    for (guint i = 0; i < cf->expect->len; i++) {
        struct conffile_expect *e = g_ptr_array_index(cf->expect, i);
        if (strcmp(e->group, group) == 0 && strcmp(e->key, key) == 0) {
            g_free(e->value);
            e->value = g_strdup(value);
            return;
        }
    }
    struct conffile_expect *e = g_new0(struct conffile_expect, 1);
    e->group = g_strdup(group);
    e->key = g_strdup(key);
    e->value = g_strdup(value);
    g_ptr_array_add(cf->expect, e);
}

static void conffile_insert(struct conffile *cf, guint at, char *line /* stolen */)
{
    g_ptr_array_insert(cf->lines, (gint)at, line);
}

bool conffile_set(struct conffile *cf, const char *group, const char *key, const char *value,
                  const char *new_group_comment, GError **error)
{
    if (!conffile_group_ok(group)) {
        g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_INVALID,
                    "cannot write a group named \"%s\"; expected no brackets or control characters", group);
        return false;
    }
    if (!conffile_key_ok(key)) {
        g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_INVALID, "cannot write a key named \"%s\"", key);
        return false;
    }
    if (!conffile_value_ok(value)) {
        g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_INVALID,
                    "[%s] %s: the value is not UTF-8 text without control characters", group, key);
        return false;
    }
    g_autofree char *escaped = conffile_escape(value);
    char *line = g_strdup_printf("%s = %s", key, escaped);
    cf->edited = true;
    conffile_expect(cf, group, key, value);

    int header = conffile_find_group(cf, group);
    if (header < 0) {
        /* A new group: after a blank line, so it reads as a paragraph. */
        guint n = cf->lines->len;
        if (n > 0) {
            const char *last = g_ptr_array_index(cf->lines, n - 1);
            if (last[strspn(last, " \t\r")] != '\0')
                g_ptr_array_add(cf->lines, g_strdup(""));
        }
        if (new_group_comment) {
            g_auto(GStrv) parts = g_strsplit(new_group_comment, "\n", -1);
            for (char **p = parts; *p; p++)
                g_ptr_array_add(cf->lines, **p ? g_strdup_printf("# %s", *p) : g_strdup("#"));
        }
        g_ptr_array_add(cf->lines, g_strdup_printf("[%s]", group));
        g_ptr_array_add(cf->lines, line);
        return true;
    }

    guint end = conffile_group_end(cf, header);
    guint last_key = (guint)header;
    bool done = false;
    for (guint i = (guint)header + 1; i < end;) {
        char *n = NULL;
        enum conffile_line k = conffile_classify(g_ptr_array_index(cf->lines, i), &n);
        bool same = k == CONFFILE_LINE_KEY && strcmp(n, key) == 0;
        g_free(n);
        if (same && !done) {
            /* In place: the key keeps its position among the user's. */
            g_free(g_ptr_array_index(cf->lines, i));
            cf->lines->pdata[i] = line;
            done = true;
        } else if (same) {
            /* A repeat would win over the line just written. */
            g_ptr_array_remove_index(cf->lines, i);
            end--;
            continue;
        }
        if (k == CONFFILE_LINE_KEY)
            last_key = i;
        i++;
    }
    if (!done)
        conffile_insert(cf, last_key + 1, line);
    return true;
}

void conffile_unset(struct conffile *cf, const char *group, const char *key)
{
    conffile_expect(cf, group, key, NULL);
    int header = conffile_find_group(cf, group);
    if (header < 0)
        return;
    guint end = conffile_group_end(cf, header);
    for (guint i = (guint)header + 1; i < end;) {
        if (conffile_line_is(g_ptr_array_index(cf->lines, i), CONFFILE_LINE_KEY, key)) {
            g_ptr_array_remove_index(cf->lines, i);
            end--;
            cf->edited = true;
        } else {
            i++;
        }
    }
}

/* ---- output ------------------------------------------------------------ */

static char *conffile_join(const struct conffile *cf, gsize *len)
{
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < cf->lines->len; i++) {
        if (i > 0)
            g_string_append_c(s, '\n');
        g_string_append(s, g_ptr_array_index(cf->lines, i));
    }
    /* An untouched file keeps its missing final newline; an edited one
     * ends in one, like every file an editor writes. */
    if (cf->lines->len > 0 && (cf->final_newline || cf->edited))
        g_string_append_c(s, '\n');
    *len = s->len;
    return g_string_free(s, FALSE);
}

char *conffile_to_data(const struct conffile *cf, gsize *len, GError **error)
{
    gsize n = 0;
    char *data = conffile_join(cf, &n);
    if (!conffile_check_text(cf->path, data, n, error)) {
        g_free(data);
        return NULL;
    }
    GKeyFile *kf = g_key_file_new();
    g_key_file_load_from_data(kf, data, n, G_KEY_FILE_NONE, NULL);
    bool ok = true;
    for (guint i = 0; i < cf->expect->len && ok; i++) {
        const struct conffile_expect *e = g_ptr_array_index(cf->expect, i);
        char *got = g_key_file_get_string(kf, e->group, e->key, NULL);
        ok = e->value ? g_strcmp0(got, e->value) == 0 : !g_key_file_has_key(kf, e->group, e->key, NULL);
        if (!ok)
            g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_INVALID,
                        "%s: [%s] %s would not read back as written; the file was left alone", cf->path, e->group,
                        e->key);
        g_free(got);
    }
    g_key_file_free(kf);
    if (!ok) {
        g_free(data);
        return NULL;
    }
    if (len)
        *len = n;
    return data;
}

/* Where to write: the file itself, or what a symlink points to. */
static char *conffile_target(const char *path, GError **error)
{
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISLNK(st.st_mode))
        return g_strdup(path);
    char *real = realpath(path, NULL);
    if (!real) {
        g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_WRITE, "%s: is a symlink to a missing file (%s)", path,
                    g_strerror(errno));
        return NULL;
    }
    char *out = g_strdup(real);
    free(real);
    return out;
}

bool conffile_save(const struct conffile *cf, GError **error)
{
    gsize len = 0;
    g_autofree char *data = conffile_to_data(cf, &len, error);
    if (!data)
        return false;
    g_autofree char *target = conffile_target(cf->path, error);
    if (!target)
        return false;
    struct stat st;
    int mode = 0600;
    if (stat(target, &st) == 0) {
        mode = (int)(st.st_mode & 07777);
    } else {
        g_autofree char *dir = g_path_get_dirname(target);
        if (g_mkdir_with_parents(dir, 0700) != 0) {
            g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_WRITE, "%s: cannot create its directory (%s)", cf->path,
                        g_strerror(errno));
            return false;
        }
    }
    GError *err = NULL;
    if (!g_file_set_contents_full(target, data, (gssize)len, G_FILE_SET_CONTENTS_CONSISTENT, mode, &err)) {
        g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_WRITE, "%s: cannot be written (%s)", cf->path,
                    err->message);
        g_error_free(err);
        return false;
    }
    /* The temporary file was created through the umask; give back the
     * bits the file had. */
    if (g_chmod(target, mode) != 0) {
        g_set_error(error, CONFFILE_ERROR, CONFFILE_ERROR_WRITE, "%s: cannot restore its mode (%s)", cf->path,
                    g_strerror(errno));
        return false;
    }
    return true;
}
