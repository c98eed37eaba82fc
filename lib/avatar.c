/* SPDX-License-Identifier: MIT */
/* avatar: see avatar.h. */
#include "avatar.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "log.h"

#define AVATAR_RETRY_S (24 * 3600)

struct avatar_fetch {
    struct avatar *a;
    char *key;
    struct wire_request *req;
    struct http_transfer *xfer;
};

struct avatar {
    struct http *http;
    char *dir;
    GHashTable *fetching;   /* key -> struct avatar_fetch* */
    GHashTable *failed;     /* key -> GINT64 time of the failure */
    bool dir_ok, said_dir;
};

static char *avatar_key(const char *network, const char *author_id)
{
    g_autofree char *id = g_strdup_printf("%s\x1f%s", network, author_id);
    return g_compute_checksum_for_string(G_CHECKSUM_SHA256, id, -1);
}

static char *avatar_file(const struct avatar *a, const char *key)
{
    return g_build_filename(a->dir, key, NULL);
}

/* The image type by its first bytes, or NULL. */
static const char *avatar_sniff(const guint8 *b, size_t n)
{
    if (n >= 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0)
        return "png";
    if (n >= 3 && memcmp(b, "\xff\xd8\xff", 3) == 0)
        return "jpeg";
    if (n >= 6 && (memcmp(b, "GIF87a", 6) == 0 || memcmp(b, "GIF89a", 6) == 0))
        return "gif";
    if (n >= 12 && memcmp(b, "RIFF", 4) == 0 && memcmp(b + 8, "WEBP", 4) == 0)
        return "webp";
    return NULL;
}

struct avatar_entry {
    char *path;
    time_t mtime;
    off_t size;
};

static gint avatar_by_age(gconstpointer x, gconstpointer y)
{
    const struct avatar_entry *p = x, *q = y;
    return (p->mtime > q->mtime) - (p->mtime < q->mtime);
}

/* Keep the cache under AVATAR_MAX_CACHE_BYTES: oldest pictures go first. */
static void avatar_trim(struct avatar *a)
{
    GDir *d = g_dir_open(a->dir, 0, NULL);
    if (!d)
        return;
    GArray *all = g_array_new(FALSE, FALSE, sizeof(struct avatar_entry));
    off_t total = 0;
    const char *name;
    while ((name = g_dir_read_name(d)) != NULL) {
        struct avatar_entry e = { .path = g_build_filename(a->dir, name, NULL) };
        GStatBuf st;
        if (g_lstat(e.path, &st) == 0 && S_ISREG(st.st_mode)) {
            e.mtime = st.st_mtime;
            e.size = st.st_size;
            total += st.st_size;
            g_array_append_val(all, e);
        } else {
            g_free(e.path);
        }
    }
    g_dir_close(d);
    g_array_sort(all, avatar_by_age);
    for (guint i = 0; i < all->len; i++) {
        struct avatar_entry *e = &g_array_index(all, struct avatar_entry, i);
        if (total > AVATAR_MAX_CACHE_BYTES && g_unlink(e->path) == 0)
            total -= e->size;
        g_free(e->path);
    }
    g_array_unref(all);
}

static bool avatar_store(struct avatar *a, const char *key, const GByteArray *body)
{
    g_autofree char *path = avatar_file(a, key);
    g_autofree char *tmp = g_strconcat(path, ".part", NULL);
    GError *err = NULL;
    if (!g_file_set_contents_full(tmp, (const char *)body->data, body->len, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                  &err) ||
        g_rename(tmp, path) != 0) {
        log_debug("saving a picture in %s: %s", a->dir, err ? err->message : g_strerror(errno));
        g_clear_error(&err);
        g_unlink(tmp);
        return false;
    }
    avatar_trim(a);
    return true;
}

static void avatar_fetch_free(struct avatar_fetch *f)
{
    wire_request_free(f->req);
    g_free(f->key);
    g_free(f);
}

static void avatar_done(struct http_result *hr, void *arg)
{
    struct avatar_fetch *f = arg;
    struct avatar *a = f->a;
    f->xfer = NULL;
    const char *type = hr->status == 200 && hr->body ? avatar_sniff(hr->body->data, hr->body->len) : NULL;
    if (!type || !avatar_store(a, f->key, hr->body)) {
        gint64 *when = g_new(gint64, 1);
        *when = g_get_real_time() / G_USEC_PER_SEC;
        g_hash_table_insert(a->failed, g_strdup(f->key), when);
    }
    g_hash_table_remove(a->fetching, f->key); /* frees f */
}

static bool avatar_dir_ready(struct avatar *a)
{
    if (a->dir_ok)
        return true;
    if (g_mkdir_with_parents(a->dir, 0700) != 0) {
        if (!a->said_dir)
            log_warn("cannot make %s for senders' pictures: %s; banners go without them", a->dir, g_strerror(errno));
        a->said_dir = true;
        return false;
    }
    a->dir_ok = true;
    return true;
}

/* A cached picture younger than AVATAR_MAX_AGE_S. */
static bool avatar_fresh(const char *path)
{
    GStatBuf st;
    return g_stat(path, &st) == 0 && S_ISREG(st.st_mode) && time(NULL) - st.st_mtime < AVATAR_MAX_AGE_S;
}

/* The demo's faces come with heed: copied into the cache like a fetch. */
static void avatar_copy_local(struct avatar *a, const char *key, const char *path)
{
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!avatar_dir_ready(a) || !g_file_get_contents(path, &data, &len, NULL) || len > AVATAR_MAX_BYTES ||
        !avatar_sniff((const guint8 *)data, len))
        return;
    GByteArray body = { .data = (guint8 *)data, .len = (guint)len };
    avatar_store(a, key, &body);
}

void avatar_want(struct avatar *a, const char *network, const char *author_id, const char *url, const char *ca_file,
                 bool local_ok)
{
    if (!a || !network || !author_id || !url || strlen(url) > 2048)
        return;
    g_autofree char *key = avatar_key(network, author_id);
    if (local_ok && g_str_has_prefix(url, "file:///")) {
        g_autofree char *cached = avatar_file(a, key);
        if (!avatar_fresh(cached))
            avatar_copy_local(a, key, url + strlen("file://"));
        return;
    }
    if (!g_str_has_prefix(url, "https://"))
        return;
    if (g_hash_table_contains(a->fetching, key) || g_hash_table_size(a->fetching) >= AVATAR_MAX_FETCHES)
        return;
    gint64 *failed_at = g_hash_table_lookup(a->failed, key);
    if (failed_at && g_get_real_time() / G_USEC_PER_SEC - *failed_at < AVATAR_RETRY_S)
        return;
    g_autofree char *path = avatar_file(a, key);
    if (avatar_fresh(path) || !avatar_dir_ready(a))
        return;
    struct avatar_fetch *f = g_new0(struct avatar_fetch, 1);
    f->a = a;
    f->key = g_strdup(key);
    f->req = wire_request_new("GET", g_strdup(url), 0);
    struct http_options ho = { .ca_file = ca_file, .max_body = AVATAR_MAX_BYTES, .timeout_ms = 30000 };
    g_hash_table_insert(a->fetching, g_strdup(key), f);
    f->xfer = http_start(a->http, f->req, &ho, avatar_done, f);
}

char *avatar_path(struct avatar *a, const char *network, const char *author_id)
{
    if (!a || !network || !author_id)
        return NULL;
    g_autofree char *key = avatar_key(network, author_id);
    char *path = avatar_file(a, key);
    if (avatar_fresh(path))
        return path;
    g_free(path);
    return NULL;
}

static void avatar_fetch_cancel(gpointer data)
{
    struct avatar_fetch *f = data;
    if (f->xfer)
        http_cancel(f->a->http, f->xfer);
    avatar_fetch_free(f);
}

struct avatar *avatar_new(struct http *http, const char *dir)
{
    struct avatar *a = g_new0(struct avatar, 1);
    a->http = http;
    a->dir = dir ? g_strdup(dir) : g_build_filename(g_get_user_cache_dir(), "heed", "avatars", NULL);
    a->fetching = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, avatar_fetch_cancel);
    a->failed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return a;
}

void avatar_free(struct avatar *a)
{
    if (!a)
        return;
    g_hash_table_unref(a->fetching);
    g_hash_table_unref(a->failed);
    g_free(a->dir);
    g_free(a);
}
