/* SPDX-License-Identifier: MIT */
/* Unit tests for store_open_readonly() (lib/store.c): heed doctor reads the
 * daemon's database and must leave it exactly as it was - same inode, size,
 * modification time and mode, no -wal or -shm file made - whether heedd is
 * running (a live WAL) or not, and must fail clearly on a missing file, a
 * file that is not a heed database and a schema from a newer heed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mention.h"
#include "store.h"

struct fx {
    char *tmp;
    char *path; /* tmp/heed.db */
};

static int setup(void **state)
{
    struct fx *f = g_new0(struct fx, 1);
    f->tmp = g_dir_make_tmp("heed-test-store-ro-XXXXXX", NULL);
    if (!f->tmp) {
        g_free(f);
        return -1;
    }
    f->path = g_build_filename(f->tmp, "heed.db", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    const char *suffixes[] = { "", "-wal", "-shm" };
    for (size_t i = 0; i < G_N_ELEMENTS(suffixes); i++) {
        g_autofree char *p = g_strconcat(f->path, suffixes[i], NULL);
        g_unlink(p);
    }
    g_rmdir(f->tmp);
    g_free(f->path);
    g_free(f->tmp);
    g_free(f);
    return 0;
}

static bool exists(const char *path, const char *suffix)
{
    g_autofree char *p = g_strconcat(path, suffix, NULL);
    return g_file_test(p, G_FILE_TEST_EXISTS);
}

/* A database as heedd leaves it: one mention, one account state, closed. */
static void make_db(const char *path)
{
    GError *err = NULL;
    struct store *st = store_open(path, &err);
    assert_non_null(st);
    struct mention *m = mention_new();
    m->account = g_strdup("home");
    m->network = g_strdup("mastodon");
    m->remote_id = g_strdup("1");
    m->kind = MENTION_KIND_MENTION;
    m->created_at = 1785592200;
    m->fetched_at = 1785592200;
    bool inserted = false;
    assert_true(store_add_mention(st, m, false, &inserted, &err));
    mention_free(m);
    assert_true(store_set_account_state(st, "home", "mastodon", "{\"me\":\"42\"}", &err));
    store_close(st);
}

static void assert_same_file(const struct stat *a, const char *path)
{
    struct stat b;
    assert_int_equal(stat(path, &b), 0);
    assert_int_equal(a->st_ino, b.st_ino);
    assert_int_equal(a->st_size, b.st_size);
    assert_int_equal(a->st_mode, b.st_mode);
    assert_int_equal(a->st_mtim.tv_sec, b.st_mtim.tv_sec);
    assert_int_equal(a->st_mtim.tv_nsec, b.st_mtim.tv_nsec);
}

/* Read what doctor reads; every call must succeed. */
static void read_everything(struct store *st)
{
    GError *err = NULL;
    assert_true(store_check(st, &err));
    struct store_summary sum = { 0 };
    assert_true(store_summary(st, &sum, &err));
    assert_int_equal(sum.total, 1);
    g_autofree char *js = store_account_state(st, "home", &err);
    assert_string_equal(js, "{\"me\":\"42\"}");
}

static void test_closed_database_untouched(void **state)
{
    struct fx *f = *state;
    make_db(f->path);
    assert_int_equal(chmod(f->path, 0640), 0); /* a mode doctor must not "fix" */
    assert_false(exists(f->path, "-wal"));
    struct stat before;
    assert_int_equal(stat(f->path, &before), 0);
    sleep(1); /* a write would move the modification time */

    GError *err = NULL;
    struct store *st = store_open_readonly(f->path, &err);
    assert_null(err);
    assert_non_null(st);
    read_everything(st);
    assert_false(exists(f->path, "-wal"));
    assert_false(exists(f->path, "-shm"));
    store_close(st);
    assert_false(exists(f->path, "-wal"));
    assert_false(exists(f->path, "-shm"));
    assert_same_file(&before, f->path);
}

static void test_live_database_read_through_wal(void **state)
{
    struct fx *f = *state;
    make_db(f->path);
    /* heedd running: its connection holds the WAL, with a commit in it
     * that is not in the main file yet. */
    GError *err = NULL;
    struct store *writer = store_open(f->path, &err);
    assert_non_null(writer);
    assert_true(store_set_account_state(writer, "home", "mastodon", "{\"me\":\"43\"}", &err));
    assert_true(exists(f->path, "-wal"));

    struct store *st = store_open_readonly(f->path, &err);
    assert_null(err);
    assert_non_null(st);
    g_autofree char *js = store_account_state(st, "home", &err);
    assert_string_equal(js, "{\"me\":\"43\"}");
    store_close(st);
    store_close(writer);
}

static void test_missing_file(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    assert_null(store_open_readonly(f->path, &err));
    assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND));
    assert_non_null(strstr(err->message, f->path));
    g_error_free(err);
    assert_false(g_file_test(f->path, G_FILE_TEST_EXISTS));
    assert_false(exists(f->path, "-wal"));
}

static void test_not_heed_or_newer(void **state)
{
    struct fx *f = *state;
    GError *err = NULL;
    /* Not SQLite at all. */
    assert_true(g_file_set_contents(f->path, "this is not an SQLite database", -1, NULL));
    assert_null(store_open_readonly(f->path, &err));
    assert_true(g_error_matches(err, STORE_ERROR, STORE_ERROR_OPEN));
    assert_non_null(strstr(err->message, f->path));
    g_clear_error(&err);
    g_unlink(f->path);

    /* SQLite, but not heed's: no schema version. */
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE TABLE t(x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(store_open_readonly(f->path, &err));
    assert_non_null(strstr(err->message, "not a heed state database"));
    g_clear_error(&err);

    /* A newer heed's. */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(store_open_readonly(f->path, &err));
    assert_non_null(strstr(err->message, "999"));
    assert_non_null(strstr(err->message, "upgrade heed"));
    g_clear_error(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_closed_database_untouched, setup, teardown),
        cmocka_unit_test_setup_teardown(test_live_database_read_through_wal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_heed_or_newer, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
