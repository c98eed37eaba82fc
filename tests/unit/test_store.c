/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/store.c against a real SQLite file in a temporary directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mention.h"
#include "store.h"

#define T0 ((int64_t)1785592200) /* 2026-08-01T13:50:00Z */

struct fx {
    char *tmp;   /* g_dir_make_tmp() */
    char *path;  /* tmp/state/heed/heed.db (parents do not exist yet) */
    struct store *st;
};

/* ---- helpers ------------------------------------------------------------------ */

static void rm_rf(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        g_chmod(path, 0700);
        GDir *d = g_dir_open(path, 0, NULL);
        if (d) {
            const char *name;
            while ((name = g_dir_read_name(d)) != NULL) {
                g_autofree char *child = g_build_filename(path, name, NULL);
                rm_rf(child);
            }
            g_dir_close(d);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

static int setup(void **state)
{
    struct fx *f = g_new0(struct fx, 1);
    GError *err = NULL;
    f->tmp = g_dir_make_tmp("heed-test-store-XXXXXX", &err);
    if (!f->tmp) {
        fprintf(stderr, "g_dir_make_tmp: %s\n", err->message);
        g_error_free(err);
        g_free(f);
        return -1;
    }
    f->path = g_build_filename(f->tmp, "state", "heed", "heed.db", NULL);
    *state = f;
    return 0;
}

/* setup plus an open store. */
static int setup_open(void **state)
{
    if (setup(state) != 0)
        return -1;
    struct fx *f = *state;
    GError *err = NULL;
    f->st = store_open(f->path, &err);
    if (!f->st) {
        fprintf(stderr, "store_open: %s\n", err->message);
        g_error_free(err);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    store_close(f->st);
    rm_rf(f->tmp);
    g_free(f->tmp);
    g_free(f->path);
    g_free(f);
    return 0;
}

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), SQLITE_OK);
    return db;
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

static char *raw_text(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    char *v = g_strdup((const char *)sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = raw_open(path);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static struct mention *mk(const char *account, const char *remote_id, const char *author_id, int64_t created,
                          int score)
{
    struct mention *m = mention_new();
    m->account = g_strdup(account);
    m->network = g_strdup("mastodon");
    m->remote_id = g_strdup(remote_id);
    m->post_id = g_strdup_printf("post-%s", remote_id);
    m->author_id = g_strdup(author_id);
    m->author_handle = g_strdup_printf("@%s@other.social", author_id);
    m->author_name = g_strdup(author_id);
    m->text = g_strdup_printf("mention %s", remote_id);
    m->url = g_strdup_printf("https://m.example/@%s/%s", author_id, remote_id);
    m->created_at = created;
    m->fetched_at = created + 5;
    m->score = score;
    return m;
}

/* Store a new mention and return its id. */
static int64_t add_full(struct store *st, const char *account, const char *remote_id, const char *author_id,
                        int64_t created, int score, bool initial)
{
    struct mention *m = mk(account, remote_id, author_id, created, score);
    bool inserted = false;
    GError *err = NULL;
    if (!store_add_mention(st, m, initial, &inserted, &err))
        fail_msg("store_add_mention: %s", err->message);
    assert_true(inserted);
    assert_true(m->id > 0);
    int64_t id = m->id;
    mention_free(m);
    return id;
}

static int64_t add(struct store *st, const char *remote_id, const char *author_id, int64_t created, int score)
{
    return add_full(st, "home", remote_id, author_id, created, score, false);
}

static struct mention *get(struct store *st, int64_t id)
{
    GError *err = NULL;
    struct mention *m = store_get(st, id, &err);
    if (!m)
        fail_msg("store_get(%lld): %s", (long long)id, err->message);
    return m;
}

static void set_state(struct store *st, int64_t id, enum mention_state s, int64_t until, int64_t now)
{
    GError *err = NULL;
    if (!store_set_state(st, id, s, until, now, &err))
        fail_msg("store_set_state: %s", err->message);
}

static void mark_notified(struct store *st, int64_t id, int64_t when)
{
    GError *err = NULL;
    if (!store_mark_notified(st, id, when, &err))
        fail_msg("store_mark_notified: %s", err->message);
}

/* The ids of a mention list, in order, as "1,2,3". */
static char *ids(GPtrArray *list)
{
    assert_non_null(list);
    GString *s = g_string_new(NULL);
    for (guint i = 0; i < list->len; i++) {
        const struct mention *m = g_ptr_array_index(list, i);
        g_string_append_printf(s, "%s%lld", i ? "," : "", (long long)m->id);
    }
    g_ptr_array_unref(list);
    return g_string_free(s, FALSE);
}

static char *fmt_ids(int n, ...)
{
    GString *s = g_string_new(NULL);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        g_string_append_printf(s, "%s%lld", i ? "," : "", (long long)va_arg(ap, int64_t));
    va_end(ap);
    return g_string_free(s, FALSE);
}

#define assert_ids(list, ...)                                                                                      \
    do {                                                                                                           \
        g_autofree char *got_ = ids(list);                                                                         \
        g_autofree char *want_ = fmt_ids(__VA_ARGS__);                                                             \
        assert_string_equal(got_, want_);                                                                          \
    } while (0)

static GPtrArray *unnotified(struct store *st, int64_t now, int limit)
{
    GError *err = NULL;
    GPtrArray *l = store_unnotified(st, now, limit, &err);
    if (!l)
        fail_msg("store_unnotified: %s", err->message);
    return l;
}

static GPtrArray *list(struct store *st, enum store_filter filter, int limit)
{
    GError *err = NULL;
    GPtrArray *l = store_list(st, filter, limit, T0, &err);
    if (!l)
        fail_msg("store_list: %s", err->message);
    return l;
}

static const int schedule[] = { 7200, 28800 };

static GPtrArray *nudges(struct store *st, int64_t now, int min_score)
{
    GError *err = NULL;
    GPtrArray *l = store_due_nudges(st, now, schedule, (int)G_N_ELEMENTS(schedule), min_score, &err);
    if (!l)
        fail_msg("store_due_nudges: %s", err->message);
    return l;
}

/* ---- open, schema, reopen ---------------------------------------------------------- */

static void test_open_creates_dirs_and_schema(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    g_autofree char *dir = g_path_get_dirname(f->path);
    assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    f->st = store_open(f->path, &err);
    assert_null(err);
    assert_non_null(f->st);
    assert_true(g_file_test(dir, G_FILE_TEST_IS_DIR));
    assert_true(g_file_test(f->path, G_FILE_TEST_IS_REGULAR));

    /* Private: mentions are the user's correspondence. */
    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    g_autofree char *parent = g_path_get_dirname(dir);
    assert_int_equal(stat(parent, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);

    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 3);
    g_autofree char *mode = raw_text(f->path, "PRAGMA journal_mode");
    assert_string_equal(mode, "wal");
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                                      "('account', 'mention', 'reply')"),
                     3);
    assert_true(store_check(f->st, &err));
    assert_null(err);
}

/* The database holds Bluesky's session (its long-lived refresh token among
 * it) in the account state: the file and the WAL and shared-memory files
 * next to it stay 0600 whatever the umask, and a file found with looser
 * permissions is made 0600 again when opened. */
static void test_database_stays_private(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    mode_t old_umask = umask(022);
    f->st = store_open(f->path, &err);
    assert_null(err);
    assert_true(store_set_account_state(f->st, "sky", "bluesky", "{\"refreshJwt\":\"r.e.f\"}", &err));
    assert_null(err);
    g_autofree char *wal = g_strconcat(f->path, "-wal", NULL);
    g_autofree char *shm = g_strconcat(f->path, "-shm", NULL);
    const char *const files[] = { f->path, wal, shm };
    struct stat sb;
    for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
        assert_int_equal(stat(files[i], &sb), 0);
        if ((sb.st_mode & 0777) != 0600)
            fail_msg("%s has mode %04o", files[i], (unsigned)(sb.st_mode & 0777));
    }
    store_close(f->st);
    f->st = NULL;

    assert_int_equal(chmod(f->path, 0644), 0);
    f->st = store_open(f->path, &err);
    assert_null(err);
    assert_int_equal(stat(f->path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    umask(old_umask);
}

static void test_default_path(void **unused)
{
    (void)unused;
    g_autofree char *p = store_default_path();
    g_autofree char *want = g_build_filename(g_get_user_state_dir(), "heed", "heed.db", NULL);
    assert_string_equal(p, want);
}

static void test_reopen_keeps_data(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    f->st = store_open(f->path, &err);
    assert_non_null(f->st);
    int64_t id = add(f->st, "113402875522116021", "alice", T0 - 100, 42);
    set_state(f->st, id, MENTION_SNOOZED, T0 + 3600, T0);
    assert_true(store_set_account_state(f->st, "home", "mastodon", "{\"since_id\":\"5\"}", &err));
    int64_t objects = raw_int(f->path, "SELECT count(*) FROM sqlite_master");
    store_close(f->st);

    f->st = store_open(f->path, &err);
    assert_null(err);
    assert_non_null(f->st);
    struct mention *m = get(f->st, id);
    assert_string_equal(m->remote_id, "113402875522116021");
    assert_int_equal(m->state, MENTION_SNOOZED);
    assert_int_equal(m->snooze_until, T0 + 3600);
    assert_int_equal(m->score, 42);
    mention_free(m);
    g_autofree char *js = store_account_state(f->st, "home", &err);
    assert_string_equal(js, "{\"since_id\":\"5\"}");
    /* Migrations ran once: same schema, same version. */
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 3);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master"), objects);
    /* Ids keep growing after a reopen. */
    int64_t id2 = add(f->st, "113402875522116022", "alice", T0, 1);
    assert_true(id2 > id);
}

static void test_future_schema_refused(void **state)
{
    struct fx *f = *state;
    g_autofree char *dir = g_path_get_dirname(f->path);
    assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
    raw_exec(f->path, "CREATE TABLE mention(id INTEGER PRIMARY KEY, future TEXT); PRAGMA user_version = 99;");

    GError *err = NULL;
    f->st = store_open(f->path, &err);
    assert_null(f->st);
    assert_non_null(err);
    assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_OPEN));
    assert_non_null(strstr(err->message, f->path));
    assert_non_null(strstr(err->message, "99"));
    assert_non_null(strstr(err->message, "upgrade heed"));
    g_error_free(err);
    /* The newer database is left as it was. */
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 99);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'reply'"), 0);
}

static void test_not_a_database(void **state)
{
    struct fx *f = *state;
    g_autofree char *dir = g_path_get_dirname(f->path);
    assert_int_equal(g_mkdir_with_parents(dir, 0700), 0);
    char junk[4096];
    memset(junk, 'x', sizeof junk);
    assert_true(g_file_set_contents(f->path, junk, sizeof junk, NULL));
    GError *err = NULL;
    f->st = store_open(f->path, &err);
    assert_null(f->st);
    assert_non_null(err);
    assert_non_null(strstr(err->message, f->path));
    g_error_free(err);
}

static void test_unwritable_state_dir(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;

    /* A parent that is a regular file: the directory cannot be created. */
    g_autofree char *file = g_build_filename(f->tmp, "not-a-dir", NULL);
    assert_true(g_file_set_contents(file, "x", 1, NULL));
    g_autofree char *under_file = g_build_filename(file, "heed", "heed.db", NULL);
    assert_null(store_open(under_file, &err));
    assert_non_null(err);
    assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_OPEN));
    assert_non_null(strstr(err->message, file));
    g_clear_error(&err);

    assert_null(store_open("/dev/null/x/heed.db", &err));
    assert_non_null(err);
    assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_OPEN));
    assert_non_null(strstr(err->message, "/dev/null"));
    g_clear_error(&err);

    /* A read-only directory (root bypasses permissions, so only as a user). */
    if (geteuid() != 0) {
        g_autofree char *ro = g_build_filename(f->tmp, "ro", NULL);
        assert_int_equal(g_mkdir(ro, 0700), 0);
        assert_int_equal(g_chmod(ro, 0500), 0);
        g_autofree char *p = g_build_filename(ro, "heed.db", NULL);
        struct store *st = store_open(p, &err);
        g_chmod(ro, 0700);
        assert_null(st);
        assert_non_null(err);
        assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_OPEN));
        assert_non_null(strstr(err->message, ro));
        g_clear_error(&err);
    }
}

/* ---- mentions ------------------------------------------------------------------- */

static void test_add_mention_round_trip(void **state)
{
    struct fx *f = *state;
    struct mention *m = mk("home", "113402875522116021", "109876543210987654", T0 - 600, 57);
    m->kind = MENTION_KIND_DIRECT;
    m->thread_id = g_strdup("113402875498765000");
    m->context = g_strdup("owner/repo");
    m->mention_count = 12;
    m->author_bot = MENTION_YES;
    m->follows_me = MENTION_NO;
    m->i_follow = MENTION_UNKNOWN;
    m->reasons_json = g_strdup("[{\"reason\":\"private message\",\"points\":30}]");
    bool inserted = false;
    GError *err = NULL;
    assert_true(store_add_mention(f->st, m, false, &inserted, &err));
    assert_true(inserted);

    struct mention *g = get(f->st, m->id);
    assert_int_equal(g->id, m->id);
    assert_string_equal(g->account, "home");
    assert_string_equal(g->network, "mastodon");
    assert_string_equal(g->remote_id, "113402875522116021");
    assert_string_equal(g->post_id, "post-113402875522116021");
    assert_int_equal(g->kind, MENTION_KIND_DIRECT);
    assert_string_equal(g->author_id, "109876543210987654");
    assert_string_equal(g->author_handle, m->author_handle);
    assert_string_equal(g->author_name, m->author_name);
    assert_string_equal(g->text, m->text);
    assert_string_equal(g->url, m->url);
    assert_string_equal(g->thread_id, "113402875498765000");
    assert_string_equal(g->context, "owner/repo");
    assert_int_equal(g->created_at, T0 - 600);
    assert_int_equal(g->fetched_at, T0 - 595);
    assert_int_equal(g->mention_count, 12);
    assert_int_equal(g->author_bot, MENTION_YES);
    assert_int_equal(g->follows_me, MENTION_NO);
    assert_int_equal(g->i_follow, MENTION_UNKNOWN);
    assert_int_equal(g->state, MENTION_WAITING);
    assert_int_equal(g->snooze_until, 0);
    assert_int_equal(g->handled_at, 0);
    assert_int_equal(g->notified_at, 0);
    assert_int_equal(g->nudges, 0);
    assert_int_equal(g->score, 57);
    assert_string_equal(g->reasons_json, m->reasons_json);
    mention_free(g);
    mention_free(m);

    /* NULL optional fields come back NULL. */
    m = mention_new();
    m->account = g_strdup("home");
    m->network = g_strdup("github");
    m->remote_id = g_strdup("thread-1");
    m->created_at = T0;
    assert_true(store_add_mention(f->st, m, false, &inserted, &err));
    g = get(f->st, m->id);
    assert_null(g->post_id);
    assert_null(g->author_id);
    assert_null(g->text);
    assert_null(g->url);
    assert_null(g->reasons_json);
    assert_int_equal(g->kind, MENTION_KIND_MENTION);
    assert_int_equal(g->author_bot, MENTION_UNKNOWN);
    mention_free(g);
    mention_free(m);
}

static void test_add_mention_idempotent(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    int64_t id = add(f->st, "113402875522116021", "alice", T0 - 60, 40);

    struct mention *again = mk("home", "113402875522116021", "alice", T0 - 60, 99);
    g_free(again->text);
    again->text = g_strdup("edited later");
    bool inserted = true;
    assert_true(store_add_mention(f->st, again, false, &inserted, &err));
    assert_null(err);
    assert_false(inserted);
    assert_int_equal(again->id, id);
    mention_free(again);

    /* The first copy stays as it was. */
    struct mention *g = get(f->st, id);
    assert_string_equal(g->text, "mention 113402875522116021");
    assert_int_equal(g->score, 40);
    mention_free(g);

    /* The same remote id on another account is another mention. */
    int64_t other = add_full(f->st, "work", "113402875522116021", "alice", T0 - 60, 40, false);
    assert_true(other != id);

    struct store_summary sum;
    assert_true(store_summary(f->st, &sum, &err));
    assert_int_equal(sum.total, 2);
}

static void test_list_order_and_filters(void **state)
{
    struct fx *f = *state;
    int64_t a = add(f->st, "a", "alice", T0 - 300, 50);
    int64_t b = add(f->st, "b", "bob", T0 - 200, 80);
    int64_t c = add(f->st, "c", "carol", T0 - 400, 50); /* same score as a, older */
    int64_t d = add(f->st, "d", "dave", T0 - 100, 10);
    int64_t e = add(f->st, "e", "erin", T0 - 500, 90); /* done */
    int64_t s = add(f->st, "s", "sam", T0 - 50, 60);   /* snoozed */
    int64_t r = add(f->st, "r", "rita", T0 - 600, 95); /* replied */
    set_state(f->st, e, MENTION_DONE, 0, T0);
    set_state(f->st, s, MENTION_SNOOZED, T0 + 3600, T0);
    set_state(f->st, r, MENTION_REPLIED, 0, T0);

    /* Open mentions (waiting and snoozed): score desc, then oldest first. */
    assert_ids(list(f->st, STORE_WAITING, 0), 5, b, s, c, a, d);
    assert_ids(list(f->st, STORE_WAITING, 2), 2, b, s);
    /* All: open ones first, then handled ones, each by score then age. */
    assert_ids(list(f->st, STORE_ALL, 0), 7, b, s, c, a, d, r, e);
    assert_ids(list(f->st, STORE_ALL, 1), 1, b);
}

struct each_take {
    GPtrArray *seen; /* owned mentions */
    guint stop_after;
};

static bool each_take(struct mention *m, void *data)
{
    struct each_take *t = data;
    g_ptr_array_add(t->seen, m);
    return t->seen->len < t->stop_after;
}

/* Waiting only (not snoozed, not handled), score desc, then oldest first,
 * and the walk stops when the caller says so, owning what it was handed. */
static void test_each_waiting_by_score(void **state)
{
    struct fx *f = *state;
    int64_t a = add(f->st, "a", "alice", T0 - 300, 50);
    int64_t b = add(f->st, "b", "bob", T0 - 200, 80);
    int64_t c = add(f->st, "c", "carol", T0 - 400, 50); /* same score as a, older */
    int64_t d = add(f->st, "d", "dave", T0 - 100, 10);
    int64_t e = add(f->st, "e", "erin", T0 - 500, 90);
    int64_t s = add(f->st, "s", "sam", T0 - 50, 60);
    set_state(f->st, e, MENTION_DONE, 0, T0);
    set_state(f->st, s, MENTION_SNOOZED, T0 + 3600, T0);
    struct each_take t = { g_ptr_array_new_with_free_func((GDestroyNotify)mention_free), 100 };
    assert_true(store_each_waiting_by_score(f->st, each_take, &t, NULL));
    assert_ids(t.seen, 4, b, c, a, d);
    t = (struct each_take){ g_ptr_array_new_with_free_func((GDestroyNotify)mention_free), 2 };
    assert_true(store_each_waiting_by_score(f->st, each_take, &t, NULL));
    assert_ids(t.seen, 2, b, c);
    /* Stopped half way, the statement is reset: the store goes on working. */
    assert_ids(list(f->st, STORE_WAITING, 0), 5, b, s, c, a, d);
    /* The walk follows an index: the first row costs no sort of all of them. */
    sqlite3 *db = raw_open(f->path);
    sqlite3_stmt *stmt = NULL;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "EXPLAIN QUERY PLAN SELECT id FROM mention WHERE state = 'waiting' "
                                        "ORDER BY score DESC, created_at",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    int steps = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
        const char *detail = (const char *)sqlite3_column_text(stmt, 3);
        assert_null(strstr(detail, "TEMP B-TREE"));
        steps++;
    }
    assert_true(steps > 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void test_get_missing(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    assert_null(store_get(f->st, 4242, &err));
    assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND));
    assert_non_null(strstr(err->message, "4242"));
    g_clear_error(&err);
    assert_false(store_set_state(f->st, 4242, MENTION_DONE, 0, T0, &err));
    assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND));
    g_clear_error(&err);
}

static void test_set_state(void **state)
{
    struct fx *f = *state;
    int64_t id = add(f->st, "1", "alice", T0 - 60, 30);

    set_state(f->st, id, MENTION_SNOOZED, T0 + 7200, T0);
    struct mention *m = get(f->st, id);
    assert_int_equal(m->state, MENTION_SNOOZED);
    assert_int_equal(m->snooze_until, T0 + 7200);
    assert_int_equal(m->handled_at, 0);
    mention_free(m);

    set_state(f->st, id, MENTION_DONE, T0 + 9999, T0 + 10);
    m = get(f->st, id);
    assert_int_equal(m->state, MENTION_DONE);
    assert_int_equal(m->snooze_until, 0);
    assert_int_equal(m->handled_at, T0 + 10);
    mention_free(m);

    set_state(f->st, id, MENTION_WAITING, 0, T0 + 20);
    m = get(f->st, id);
    assert_int_equal(m->state, MENTION_WAITING);
    assert_int_equal(m->handled_at, 0);
    mention_free(m);

    set_state(f->st, id, MENTION_REPLIED, 0, T0 + 30);
    m = get(f->st, id);
    assert_int_equal(m->state, MENTION_REPLIED);
    assert_int_equal(m->handled_at, T0 + 30);
    mention_free(m);

    GError *err = NULL;
    assert_true(store_set_score(f->st, id, 77, "[{\"reason\":\"x\",\"points\":77}]", &err));
    m = get(f->st, id);
    assert_int_equal(m->score, 77);
    assert_string_equal(m->reasons_json, "[{\"reason\":\"x\",\"points\":77}]");
    mention_free(m);
}

/* ---- notifications and reminders ----------------------------------------------------- */

static void test_unnotified(void **state)
{
    struct fx *f = *state;
    int64_t a = add(f->st, "a", "alice", T0 - 100, 10);
    add_full(f->st, "home", "initial", "old", T0 - 900, 90, true);
    int64_t notified = add(f->st, "n", "nina", T0 - 800, 50);
    int64_t done = add(f->st, "d", "dave", T0 - 700, 50);
    int64_t snoozed = add(f->st, "s", "sam", T0 - 600, 50);
    int64_t replied = add(f->st, "r", "rita", T0 - 500, 50);
    int64_t g = add(f->st, "g", "gina", T0 - 200, 5);
    mark_notified(f->st, notified, T0 - 10);
    set_state(f->st, done, MENTION_DONE, 0, T0);
    set_state(f->st, snoozed, MENTION_SNOOZED, T0 + 3600, T0);
    set_state(f->st, replied, MENTION_REPLIED, 0, T0);

    /* Oldest first, whatever the score. */
    assert_ids(unnotified(f->st, T0, 0), 2, g, a);
    assert_ids(unnotified(f->st, T0, 1), 1, g);

    mark_notified(f->st, g, T0);
    assert_ids(unnotified(f->st, T0, 0), 1, a);
    struct mention *m = get(f->st, g);
    assert_int_equal(m->notified_at, T0);
    mention_free(m);

    /* The show failed for certain: offered again. */
    mark_notified(f->st, g, 0);
    assert_ids(unnotified(f->st, T0, 0), 2, g, a);
}

static void test_mark_notified_many(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    int64_t a = add(f->st, "a", "alice", T0 - 300, 10);
    int64_t b = add(f->st, "b", "bob", T0 - 200, 10);
    int64_t c = add(f->st, "c", "carol", T0 - 100, 10);
    assert_true(store_mark_notified_many(f->st, NULL, 0, T0, &err));
    assert_ids(unnotified(f->st, T0, 0), 3, a, b, c);
    const int64_t two[] = { c, a, 4242 /* gone: ignored */ };
    assert_true(store_mark_notified_many(f->st, two, G_N_ELEMENTS(two), T0 + 5, &err));
    assert_null(err);
    assert_ids(unnotified(f->st, T0, 0), 1, b);
    struct mention *m = get(f->st, a);
    assert_int_equal(m->notified_at, T0 + 5);
    mention_free(m);
    m = get(f->st, b);
    assert_int_equal(m->notified_at, 0);
    mention_free(m);
}

static void test_wake_snoozed(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    int64_t id = add(f->st, "1", "alice", T0 - 100, 50);
    int64_t later = add(f->st, "2", "bob", T0 - 90, 50);
    mark_notified(f->st, id, T0 - 50);
    assert_true(store_mark_nudged(f->st, id, T0 - 40, &err));
    set_state(f->st, id, MENTION_SNOOZED, T0 + 3600, T0);
    set_state(f->st, later, MENTION_SNOOZED, T0 + 7200, T0);

    assert_int_equal(store_wake_snoozed(f->st, T0 + 3599, &err), 0);
    struct mention *m = get(f->st, id);
    assert_int_equal(m->state, MENTION_SNOOZED);
    mention_free(m);

    assert_int_equal(store_wake_snoozed(f->st, T0 + 3600, &err), 1);
    assert_null(err);
    m = get(f->st, id);
    assert_int_equal(m->state, MENTION_WAITING);
    assert_int_equal(m->snooze_until, 0);
    assert_int_equal(m->notified_at, 0);
    assert_int_equal(m->nudges, 0);
    mention_free(m);
    m = get(f->st, later);
    assert_int_equal(m->state, MENTION_SNOOZED);
    mention_free(m);
    /* Woken, it pops up again. */
    assert_ids(unnotified(f->st, T0 + 3600, 0), 1, id);
    /* Nothing left to wake yet. */
    assert_int_equal(store_wake_snoozed(f->st, T0 + 3600, &err), 0);
}

static void test_due_nudges(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    int64_t id = add(f->st, "1", "alice", T0 - 100, 50);
    int64_t done = add(f->st, "2", "bob", T0 - 100, 50);
    int64_t low = add(f->st, "3", "carol", T0 - 100, 5);
    add(f->st, "4", "dave", T0 - 100, 50); /* never shown: never nudged */
    mark_notified(f->st, id, T0);
    mark_notified(f->st, done, T0);
    mark_notified(f->st, low, T0);
    set_state(f->st, done, MENTION_DONE, 0, T0 + 60);

    assert_ids(nudges(f->st, T0 + 7199, 20), 0);
    assert_ids(nudges(f->st, T0 + 7200, 20), 1, id);
    assert_true(store_mark_nudged(f->st, id, T0 + 7200, &err));
    struct mention *m = get(f->st, id);
    assert_int_equal(m->nudges, 1);
    mention_free(m);

    assert_ids(nudges(f->st, T0 + 7200, 20), 0);
    assert_ids(nudges(f->st, T0 + 28799, 20), 0);
    assert_ids(nudges(f->st, T0 + 28800, 20), 1, id);
    assert_true(store_mark_nudged(f->st, id, T0 + 28800, &err));

    /* Two reminders are all the schedule has. */
    assert_ids(nudges(f->st, T0 + 28800, 20), 0);
    assert_ids(nudges(f->st, T0 + 30 * 86400, 20), 0);

    /* Below min_score: no reminders; with min_score 0 the low one is due. */
    assert_ids(nudges(f->st, T0 + 7200, 0), 1, low);
}

/* ---- replies and interaction history ------------------------------------------------- */

static void test_replies_and_interactions(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    int n = -1;
    int64_t last = -1;
    assert_true(store_interactions(f->st, "home", "alice", &n, &last, &err));
    assert_int_equal(n, 0);
    assert_int_equal(last, 0);

    assert_true(store_add_reply(f->st, "home", "alice", "r1", T0 - 3000, &err));
    assert_true(store_add_reply(f->st, "home", "alice", "r2", T0 - 1000, &err));
    assert_true(store_add_reply(f->st, "home", "alice", "r2", T0 - 1000, &err)); /* seen again */
    assert_true(store_add_reply(f->st, "home", "bob", "r3", T0 - 500, &err));
    assert_true(store_add_reply(f->st, "work", "alice", "r4", T0, &err));
    assert_null(err);

    assert_true(store_interactions(f->st, "home", "alice", &n, &last, &err));
    assert_int_equal(n, 2);
    assert_int_equal(last, T0 - 1000);
    assert_true(store_interactions(f->st, "home", "bob", &n, &last, &err));
    assert_int_equal(n, 1);
    assert_int_equal(last, T0 - 500);
    assert_true(store_interactions(f->st, "work", "alice", &n, &last, &err));
    assert_int_equal(n, 1);
    assert_true(store_interactions(f->st, "home", NULL, &n, &last, &err));
    assert_int_equal(n, 0);
}

static void test_mark_replied(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    int64_t waiting = add(f->st, "1", "alice", T0 - 100, 50);   /* post-1 */
    int64_t snoozed = add(f->st, "2", "bob", T0 - 100, 50);     /* post-2 */
    int64_t done = add(f->st, "3", "carol", T0 - 100, 50);      /* post-3 */
    int64_t elsewhere = add_full(f->st, "work", "1", "alice", T0 - 100, 50, false);
    set_state(f->st, snoozed, MENTION_SNOOZED, T0 + 3600, T0);
    set_state(f->st, done, MENTION_DONE, 0, T0 - 50);

    assert_int_equal(store_mark_replied(f->st, "home", "post-1", T0, &err), waiting);
    assert_null(err);
    struct mention *m = get(f->st, waiting);
    assert_int_equal(m->state, MENTION_REPLIED);
    assert_int_equal(m->handled_at, T0);
    mention_free(m);
    /* Only this account's mention. */
    m = get(f->st, elsewhere);
    assert_int_equal(m->state, MENTION_WAITING);
    mention_free(m);
    /* Already replied: nothing waiting any more. */
    assert_int_equal(store_mark_replied(f->st, "home", "post-1", T0 + 1, &err), 0);

    assert_int_equal(store_mark_replied(f->st, "home", "post-2", T0, &err), snoozed);
    m = get(f->st, snoozed);
    assert_int_equal(m->state, MENTION_REPLIED);
    assert_int_equal(m->snooze_until, 0);
    mention_free(m);

    /* Done stays done. */
    assert_int_equal(store_mark_replied(f->st, "home", "post-3", T0, &err), 0);
    m = get(f->st, done);
    assert_int_equal(m->state, MENTION_DONE);
    assert_int_equal(m->handled_at, T0 - 50);
    mention_free(m);

    assert_int_equal(store_mark_replied(f->st, "home", "no-such-post", T0, &err), 0);
    assert_null(err);
}

static void test_author_mentions(void **state)
{
    struct fx *f = *state;
    add(f->st, "1", "alice", T0 - 300, 10);
    add(f->st, "2", "alice", T0 - 200, 10);
    add(f->st, "3", "alice", T0 - 100, 10);
    add(f->st, "4", "bob", T0 - 250, 10);
    add_full(f->st, "work", "5", "alice", T0 - 400, 10, false);

    assert_int_equal(store_author_mentions(f->st, "home", "alice", T0 - 300), 0); /* first contact */
    assert_int_equal(store_author_mentions(f->st, "home", "alice", T0 - 100), 2);
    assert_int_equal(store_author_mentions(f->st, "home", "alice", T0), 3);
    assert_int_equal(store_author_mentions(f->st, "home", "bob", T0), 1);
    assert_int_equal(store_author_mentions(f->st, "work", "alice", T0), 1);
    assert_int_equal(store_author_mentions(f->st, "home", "nobody", T0), 0);
    assert_int_equal(store_author_mentions(f->st, "home", NULL, T0), 0);
}

static void test_summary(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    struct store_summary sum;
    memset(&sum, 0xff, sizeof sum);
    assert_true(store_summary(f->st, &sum, &err));
    assert_int_equal(sum.waiting, 0);
    assert_int_equal(sum.people, 0);
    assert_int_equal(sum.oldest_created, 0);
    assert_int_equal(sum.total, 0);

    add(f->st, "1", "alice", T0 - 300, 10);
    add(f->st, "2", "alice", T0 - 200, 10);
    add(f->st, "3", "bob", T0 - 100, 10);
    add_full(f->st, "work", "4", "alice", T0 - 50, 10, false); /* same id, another account: another person */
    int64_t done = add(f->st, "5", "carol", T0 - 900, 10);
    int64_t snoozed = add(f->st, "6", "dave", T0 - 800, 10);
    set_state(f->st, done, MENTION_DONE, 0, T0);
    set_state(f->st, snoozed, MENTION_SNOOZED, T0 + 60, T0);

    assert_true(store_summary(f->st, &sum, &err));
    assert_int_equal(sum.waiting, 4);
    assert_int_equal(sum.people, 3);
    assert_int_equal(sum.oldest_created, T0 - 300);
    assert_int_equal(sum.total, 6);
}

/* ---- cached reads ------------------------------------------------------------------------ */

/* A store at schema 2 (before the attend-pass indexes) gets them when opened,
 * and keeps its mentions. */
static void test_migration_3_adds_indexes(void **state)
{
    struct fx *f = *state;
    int64_t id = add(f->st, "1", "alice", T0 - 100, 50);
    store_close(f->st);
    f->st = NULL;
    raw_exec(f->path, "DROP INDEX mention_nudge; DROP INDEX mention_unnotified;\n"
                      "CREATE INDEX mention_unnotified ON mention(notified_at, initial, state);\n"
                      "PRAGMA user_version = 2;");
    GError *err = NULL;
    f->st = store_open(f->path, &err);
    assert_non_null(f->st);
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 3);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'mention_nudge'"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'mention_person'"), 1);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM pragma_index_info('mention_unnotified')"), 4);
    struct mention *m = get(f->st, id);
    assert_int_equal(m->score, 50);
    mention_free(m);
}

static void assert_summary(struct store *st, int waiting, int people, int64_t oldest, int total)
{
    GError *err = NULL;
    struct store_summary sum;
    memset(&sum, 0xff, sizeof sum);
    assert_true(store_summary(st, &sum, &err));
    assert_int_equal(sum.waiting, waiting);
    assert_int_equal(sum.people, people);
    assert_int_equal(sum.oldest_created, oldest);
    assert_int_equal(sum.total, total);
}

/* The summary is kept between writes; every write that changes it shows. */
static void test_summary_follows_writes(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    assert_summary(f->st, 0, 0, 0, 0);
    int64_t a = add(f->st, "1", "alice", T0 - 300, 50);
    assert_summary(f->st, 1, 1, T0 - 300, 1);
    int64_t b = add(f->st, "2", "bob", T0 - 400, 50);
    assert_summary(f->st, 2, 2, T0 - 400, 2);
    mark_notified(f->st, b, T0); /* no count moves */
    assert_summary(f->st, 2, 2, T0 - 400, 2);
    set_state(f->st, b, MENTION_SNOOZED, T0 + 60, T0);
    assert_summary(f->st, 1, 1, T0 - 300, 2);
    assert_int_equal(store_wake_snoozed(f->st, T0 + 60, &err), 1);
    assert_summary(f->st, 2, 2, T0 - 400, 2);
    assert_int_equal(store_mark_replied(f->st, "home", "post-2", T0 + 61, &err), b);
    assert_summary(f->st, 1, 1, T0 - 300, 2);
    set_state(f->st, a, MENTION_DONE, 0, T0 + 62);
    assert_summary(f->st, 0, 0, 0, 2);
    set_state(f->st, a, MENTION_WAITING, 0, T0 + 63);
    assert_summary(f->st, 1, 1, T0 - 300, 2);

    /* Read inside a transaction that is then rolled back: the read is forgotten. */
    assert_true(store_begin(f->st, &err));
    add(f->st, "3", "carol", T0 - 900, 50);
    assert_summary(f->st, 2, 2, T0 - 900, 3);
    store_rollback(f->st);
    assert_summary(f->st, 1, 1, T0 - 300, 2);
}

static int64_t next_due(struct store *st, int64_t now, int min_score)
{
    return store_next_due(st, now, schedule, (int)G_N_ELEMENTS(schedule), min_score);
}

/* store_next_due and the reads it lets the attend pass skip stay right
 * across every kind of write, and a new schedule or threshold is not
 * answered from the old one's figures. */
static void test_next_due_follows_writes(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    assert_int_equal(next_due(f->st, T0, 20), 0);
    int64_t a = add(f->st, "1", "alice", T0 - 100, 50);
    int64_t b = add(f->st, "2", "bob", T0 - 100, 10);
    assert_int_equal(next_due(f->st, T0, 20), 0); /* never shown: no reminder */
    mark_notified(f->st, a, T0);
    assert_int_equal(next_due(f->st, T0, 20), T0 + 7200);
    assert_ids(nudges(f->st, T0 + 7199, 20), 0);
    assert_ids(nudges(f->st, T0 + 7200, 20), 1, a);
    mark_notified(f->st, b, T0 - 60);
    assert_int_equal(next_due(f->st, T0, 20), T0 + 7200); /* b scores too low */
    assert_int_equal(next_due(f->st, T0, 5), T0 - 60 + 7200);   /* another threshold */
    const int other[] = { 60 };
    assert_int_equal(store_next_due(f->st, T0, other, 1, 20), T0 + 60); /* another schedule */
    assert_true(store_set_score(f->st, b, 90, NULL, &err));
    assert_int_equal(next_due(f->st, T0, 20), T0 - 60 + 7200);
    assert_ids(nudges(f->st, T0 - 60 + 7200, 20), 1, b);
    assert_true(store_mark_nudged(f->st, b, T0 + 7200, &err));
    assert_int_equal(next_due(f->st, T0 + 7200, 20), T0 + 7201); /* a is overdue now: look again in a second... */
    assert_int_equal(next_due(f->st, T0 + 7200 - 1, 20), T0 + 7200);
    assert_true(store_mark_nudged(f->st, a, T0 + 7200, &err));
    assert_int_equal(next_due(f->st, T0 + 7200, 20), T0 + 28800); /* ...then the second ones */

    /* Snoozes: the next end, woken when it comes. */
    set_state(f->st, a, MENTION_SNOOZED, T0 + 8000, T0 + 7300);
    assert_int_equal(next_due(f->st, T0 + 7300, 20), T0 + 8000);
    assert_int_equal(store_wake_snoozed(f->st, T0 + 7999, &err), 0);
    assert_int_equal(store_wake_snoozed(f->st, T0 + 8000, &err), 1);
    assert_int_equal(next_due(f->st, T0 + 8000, 20), T0 + 28800); /* b's; a pops up again, not shown yet */

    set_state(f->st, b, MENTION_SNOOZED, 1785600500, T0 + 8000);
    assert_int_equal(next_due(f->st, T0 + 8000, 20), 1785600500);
    assert_int_equal(store_wake_snoozed(f->st, 1785600500, &err), 1);
    assert_int_equal(next_due(f->st, 1785600500, 20), 0);
}

/* An overdue reminder that the pass did not show (held) is looked at again
 * in a second, as before; the read is not skipped while it is due. */
static void test_overdue_nudge_stays_due(void **state)
{
    struct fx *f = *state;
    int64_t a = add(f->st, "1", "alice", T0 - 100, 50);
    mark_notified(f->st, a, T0);
    assert_int_equal(next_due(f->st, T0 + 9000, 20), T0 + 9001);
    assert_ids(nudges(f->st, T0 + 9000, 20), 1, a);
    assert_ids(nudges(f->st, T0 + 9000, 20), 1, a);
    assert_int_equal(next_due(f->st, T0 + 9001, 20), T0 + 9002);
}

/* store_next_due as it was written before it cached anything: one query
 * per reminder over every waiting mention, straight from the file. */
static int64_t reference_next_due(const char *path, int64_t now, int min_score)
{
    g_autofree char *snooze = g_strdup_printf(
        "SELECT coalesce(min(snooze_until), 0) FROM mention WHERE state = 'snoozed' AND snooze_until > %lld",
        (long long)now);
    int64_t next = raw_int(path, snooze);
    for (int i = 0; i < (int)G_N_ELEMENTS(schedule); i++) {
        g_autofree char *sql = g_strdup_printf(
            "SELECT coalesce(min(max(notified_at + %d, CASE WHEN %d = 0 THEN 0 ELSE last_nudge_at + %d END)), 0)\n"
            "FROM mention WHERE state = 'waiting' AND notified_at > 0 AND nudges = %d AND score >= %d",
            schedule[i], i, i > 0 ? schedule[i] - schedule[i - 1] : 0, i, min_score);
        int64_t due = raw_int(path, sql);
        if (due == 0)
            continue;
        if (due <= now)
            due = now + 1;
        if (next == 0 || due < next)
            next = due;
    }
    return next;
}

/* store_due_nudges as it was written before: the ids, "1,2,3". */
static char *reference_due_nudges(const char *path, int64_t now, int min_score)
{
    GString *out = g_string_new(NULL);
    for (int i = 0; i < (int)G_N_ELEMENTS(schedule); i++) {
        g_autofree char *sql = g_strdup_printf(
            "SELECT coalesce(group_concat(id), '') FROM (SELECT id FROM mention\n"
            "WHERE state = 'waiting' AND notified_at > 0 AND nudges = %d AND notified_at + %d <= %lld\n"
            "  AND score >= %d AND (%d = 0 OR last_nudge_at + %d <= %lld) ORDER BY score DESC, created_at ASC)",
            i, schedule[i], (long long)now, min_score, i, i > 0 ? schedule[i] - schedule[i - 1] : 0, (long long)now);
        g_autofree char *part = raw_text(path, sql);
        if (*part)
            g_string_append_printf(out, "%s%s", out->len ? "," : "", part);
    }
    return g_string_free(out, FALSE);
}

/* Random writes, and after each one the cached answers compared with a
 * second connection that caches nothing yet (opened afresh each time). */
static void test_cached_reads_match_fresh_reads(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    GRand *rng = g_rand_new_with_seed(17);
    int64_t rows[40];
    int n = 0;
    for (int step = 0; step < 400; step++) {
        int64_t now = T0 + step * 600;
        int op = n < 3 ? 0 : g_rand_int_range(rng, 0, 9);
        int64_t id = n ? rows[g_rand_int_range(rng, 0, n)] : 0;
        if (op == 0 && n < (int)G_N_ELEMENTS(rows)) {
            g_autofree char *rid = g_strdup_printf("%d", step);
            g_autofree char *who = g_strdup_printf("p%d", g_rand_int_range(rng, 0, 6));
            rows[n++] = add(f->st, rid, who, now - g_rand_int_range(rng, 0, 5000), g_rand_int_range(rng, 0, 100));
        } else if (op == 1) {
            mark_notified(f->st, id, g_rand_boolean(rng) ? now - g_rand_int_range(rng, 0, 30000) : 0);
        } else if (op == 2) {
            set_state(f->st, id, (enum mention_state)g_rand_int_range(rng, 0, 4), now + g_rand_int_range(rng, 1, 9000),
                      now);
        } else if (op == 3) {
            assert_true(store_mark_nudged(f->st, id, now - g_rand_int_range(rng, 0, 9000), &err));
        } else if (op == 4) {
            assert_true(store_set_score(f->st, id, g_rand_int_range(rng, 0, 100), NULL, &err));
        } else if (op == 5) {
            assert_true(store_wake_snoozed(f->st, now, &err) >= 0);
        } else if (op == 6) {
            assert_true(store_begin(f->st, &err));
            mark_notified(f->st, id, now);
            store_rollback(f->st);
        } else if (op == 7) {
            int64_t some[3] = { id, rows[g_rand_int_range(rng, 0, n)], rows[g_rand_int_range(rng, 0, n)] };
            assert_true(store_mark_notified_many(f->st, some, (size_t)g_rand_int_range(rng, 0, 4), now, &err));
        }
        struct store *fresh = store_open(f->path, &err);
        assert_non_null(fresh);
        struct store_summary s1, s2;
        memset(&s1, 0, sizeof s1); /* compared byte for byte, padding included */
        memset(&s2, 0, sizeof s2);
        assert_true(store_summary(f->st, &s1, &err));
        assert_true(store_summary(fresh, &s2, &err));
        assert_memory_equal(&s1, &s2, sizeof s1);
        /* The people waiting, counted as before the index that counts them. */
        assert_int_equal(s1.people, raw_int(f->path, "SELECT count(DISTINCT account || ' ' || coalesce(author_id, "
                                                     "author_handle)) FROM mention WHERE state = 'waiting'"));
        assert_int_equal(next_due(f->st, now, 40), next_due(fresh, now, 40));
        assert_int_equal(next_due(f->st, now, 40), reference_next_due(f->path, now, 40));
        g_autofree char *due1 = ids(nudges(f->st, now, 40));
        g_autofree char *due2 = ids(nudges(fresh, now, 40));
        assert_string_equal(due1, due2);
        g_autofree char *due0 = reference_due_nudges(f->path, now, 40);
        assert_string_equal(due1, due0);
        g_autofree char *new1 = ids(unnotified(f->st, now, 0));
        g_autofree char *new2 = ids(unnotified(fresh, now, 0));
        assert_string_equal(new1, new2);
        store_close(fresh);
    }
    g_rand_free(rng);
}

static int64_t file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : 0;
}

/* Checkpoints are spaced out in a burst of small commits, but the
 * write-ahead log still stays bounded, and it is cut back once the burst
 * is over (on a nearly full disk a large log is what fills it). */
static void test_wal_stays_bounded(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    g_autofree char *wal = g_strconcat(f->path, "-wal", NULL);
    g_autofree char *pad = g_strnfill(1500, 'x');
    int64_t largest = 0;
    for (int i = 0; i < 3000; i++) {
        struct mention *m = mk("home", "r", "alice", T0 - i, 50);
        g_free(m->remote_id);
        m->remote_id = g_strdup_printf("r%d", i);
        g_free(m->text);
        m->text = g_strdup_printf("%d %s", i, pad);
        bool inserted = false;
        assert_true(store_begin(f->st, &err));
        assert_true(store_add_mention(f->st, m, false, &inserted, &err));
        assert_true(store_commit(f->st, &err));
        mention_free(m);
        largest = MAX(largest, file_size(wal));
    }
    /* Without checkpoints the log would pass 20 MB here; the cap is 2 MB. */
    assert_true(largest > 0);
    assert_true(largest < 3 * 1024 * 1024);
    g_usleep(300 * 1000);
    for (int i = 0; i < 2; i++) {
        assert_true(store_begin(f->st, &err));
        assert_true(store_set_account_state(f->st, "home", "mastodon", i ? "{\"a\":1}" : "{}", &err));
        assert_true(store_commit(f->st, &err));
    }
    assert_true(file_size(wal) <= 1024 * 1024);
}

/* ---- account state, integrity, transactions ------------------------------------------- */

static void test_account_state(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    assert_null(store_account_state(f->st, "home", &err));
    assert_null(err);

    assert_true(store_set_account_state(f->st, "home", "mastodon", "{\"me\":\"1\"}", &err));
    assert_true(store_set_account_state(f->st, "work", "github", "{\"last_modified\":\"x\"}", &err));
    g_autofree char *a = store_account_state(f->st, "home", &err);
    assert_string_equal(a, "{\"me\":\"1\"}");

    assert_true(store_set_account_state(f->st, "home", "mastodon", "{\"me\":\"1\",\"since_id\":\"113402875522116021\"}",
                                        &err));
    g_autofree char *b = store_account_state(f->st, "home", &err);
    assert_string_equal(b, "{\"me\":\"1\",\"since_id\":\"113402875522116021\"}");
    g_autofree char *c = store_account_state(f->st, "work", &err);
    assert_string_equal(c, "{\"last_modified\":\"x\"}");
    assert_null(err);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM account"), 2);
}

static void test_check(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    add(f->st, "1", "alice", T0, 10);
    assert_true(store_check(f->st, &err));
    assert_null(err);
}

static void test_rollback_leaves_nothing(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    assert_true(store_begin(f->st, &err));
    int64_t id = add(f->st, "1", "alice", T0, 10);
    assert_true(store_add_reply(f->st, "home", "alice", "r1", T0, &err));
    assert_true(store_set_account_state(f->st, "home", "mastodon", "{\"since_id\":\"1\"}", &err));
    store_rollback(f->st);

    assert_null(store_get(f->st, id, &err));
    assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND));
    g_clear_error(&err);
    assert_null(store_account_state(f->st, "home", &err));
    int n = -1;
    int64_t last = -1;
    assert_true(store_interactions(f->st, "home", "alice", &n, &last, &err));
    assert_int_equal(n, 0);
    struct store_summary sum;
    assert_true(store_summary(f->st, &sum, &err));
    assert_int_equal(sum.total, 0);
    /* Nothing on disk either. */
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM mention"), 0);

    /* A rollback with no transaction open is harmless, and the store still works. */
    store_rollback(f->st);
    assert_true(store_begin(f->st, &err));
    id = add(f->st, "2", "alice", T0, 10);
    assert_true(store_commit(f->st, &err));
    assert_null(err);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM mention"), 1);
    struct mention *m = get(f->st, id);
    assert_string_equal(m->remote_id, "2");
    mention_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_dirs_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_stays_private, setup, teardown),
        cmocka_unit_test(test_default_path),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_future_schema_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_state_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_mention_round_trip, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_add_mention_idempotent, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_list_order_and_filters, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_each_waiting_by_score, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_get_missing, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_set_state, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_unnotified, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_mark_notified_many, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_wake_snoozed, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_due_nudges, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_replies_and_interactions, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_mark_replied, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_author_mentions, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_summary, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_migration_3_adds_indexes, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_summary_follows_writes, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_next_due_follows_writes, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_overdue_nudge_stays_due, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_cached_reads_match_fresh_reads, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_wal_stays_bounded, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_account_state, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_check, setup_open, teardown),
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup_open, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
