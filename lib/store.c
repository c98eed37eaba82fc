/* SPDX-License-Identifier: MIT */
/* store: see store.h.
 *
 * Times are epoch seconds. The mention table keeps the network's record and
 * heed's view of it (state, score, notification history) side by side.
 *
 * This file: the schema and its migrations, opening and closing,
 * transactions, the accounts' driver state, and the mentions themselves
 * (add, read, list, change state and score). Its neighbours share
 * store-int.h: store-attend.c (notifications, reminders, snoozes, replies
 * seen, counts) and store-learn.c (the learn table).
 */
#include "store.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-int.h"

/* The write-ahead log is copied back into the database (two fsyncs) once
 * it holds STORE_WAL_PAGES, as wal_autocheckpoint=64 did, but not again
 * within STORE_CHECKPOINT_GAP_US unless it reaches STORE_WAL_MAX_PAGES
 * (2 MB): a burst of one-mention commits (a stream) paid two fsyncs per
 * few mentions and kept the loop busy for over a second at a time; a
 * quiet log stays as small as before (on a nearly full disk a large log
 * is what fills it; journal_size_limit cuts it back). */
#define STORE_WAL_PAGES 64
#define STORE_WAL_MAX_PAGES 512
#define STORE_CHECKPOINT_GAP_US (250 * 1000)

G_DEFINE_QUARK(heed-store-error-quark, store_error)

#define STORE_SCHEMA_VERSION 3

/* Each entry migrates from version (index) to (index + 1). */
static const char *const store_migrations[STORE_SCHEMA_VERSION] = {
    "CREATE TABLE account(\n"
    "  name TEXT PRIMARY KEY, network TEXT NOT NULL, state TEXT, updated_at INTEGER);\n"
    "CREATE TABLE mention(\n"
    "  id INTEGER PRIMARY KEY,\n"
    "  account TEXT NOT NULL, network TEXT NOT NULL, remote_id TEXT NOT NULL,\n"
    "  post_id TEXT, kind TEXT NOT NULL, author_id TEXT, author_handle TEXT, author_name TEXT,\n"
    "  text TEXT, url TEXT, thread_id TEXT, context TEXT,\n"
    "  created_at INTEGER NOT NULL, fetched_at INTEGER NOT NULL,\n"
    "  mention_count INTEGER NOT NULL DEFAULT 1,\n"
    "  author_bot INTEGER NOT NULL DEFAULT -1, follows_me INTEGER NOT NULL DEFAULT -1,\n"
    "  i_follow INTEGER NOT NULL DEFAULT -1,\n"
    "  state TEXT NOT NULL DEFAULT 'waiting', snooze_until INTEGER NOT NULL DEFAULT 0,\n"
    "  handled_at INTEGER NOT NULL DEFAULT 0,\n"
    "  initial INTEGER NOT NULL DEFAULT 0, notified_at INTEGER NOT NULL DEFAULT 0,\n"
    "  nudges INTEGER NOT NULL DEFAULT 0, last_nudge_at INTEGER NOT NULL DEFAULT 0,\n"
    "  score INTEGER NOT NULL DEFAULT 0, reasons TEXT,\n"
    "  UNIQUE(account, remote_id));\n"
    "CREATE INDEX mention_state ON mention(state, score DESC, created_at);\n"
    "CREATE INDEX mention_author ON mention(account, author_id, created_at);\n"
    "CREATE INDEX mention_unnotified ON mention(notified_at, initial, state);\n"
    "CREATE INDEX mention_post ON mention(account, post_id);\n"
    "CREATE TABLE reply(\n"
    "  account TEXT NOT NULL, author_id TEXT NOT NULL, remote_id TEXT NOT NULL, at INTEGER NOT NULL,\n"
    "  PRIMARY KEY(account, remote_id));\n"
    "CREATE INDEX reply_author ON reply(account, author_id, at);\n",
    /* 2: what lib/learn.c learned from the user's actions (one row per
     * feature or person), and which actions on a mention it has seen. */
    "CREATE TABLE learn(\n"
    "  key TEXT PRIMARY KEY, weight REAL NOT NULL DEFAULT 0, events INTEGER NOT NULL DEFAULT 0,\n"
    "  replies INTEGER NOT NULL DEFAULT 0, replies_hour INTEGER NOT NULL DEFAULT 0,\n"
    "  replies_day INTEGER NOT NULL DEFAULT 0, seen_at INTEGER NOT NULL DEFAULT 0);\n"
    "ALTER TABLE mention ADD COLUMN learned INTEGER NOT NULL DEFAULT 0;\n",
    /* 3: indexes for the reads each attend pass makes, so they cost what
     * they return rather than the backlog: the oldest unshown mentions in
     * order (created_at added), the reminders that fall due, and the
     * people waiting (counted in index order, without a sort). */
    "DROP INDEX IF EXISTS mention_unnotified;\n"
    "CREATE INDEX mention_unnotified ON mention(notified_at, initial, state, created_at);\n"
    "CREATE INDEX IF NOT EXISTS mention_nudge ON mention(state, nudges, notified_at, score);\n"
    "CREATE INDEX IF NOT EXISTS mention_person ON mention(state, account, coalesce(author_id, author_handle));\n",
};

bool store_fail(struct store *st, GError **error, const char *what)
{
    int code = sqlite3_extended_errcode(st->db);
    int primary = code & 0xff;
    int kind = (primary == SQLITE_FULL || (primary == SQLITE_IOERR)) ? STORE_ERROR_FULL : STORE_ERROR_SQL;
    /* "disk I/O error" reads like failing hardware; say what the system said. */
    int sys = primary == SQLITE_IOERR || primary == SQLITE_FULL || primary == SQLITE_CANTOPEN
                  ? sqlite3_system_errno(st->db) : 0;
    g_autofree char *why = sys ? g_strdup_printf(" (%s)", g_strerror(sys)) : g_strdup("");
    g_set_error(error, STORE_ERROR, kind, "%s: %s: %s%s", st->path, what, sqlite3_errmsg(st->db), why);
    return false;
}

bool store_exec(struct store *st, const char *sql, GError **error)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return store_fail(st, error, "write");
    return true;
}

/* Statements are prepared once and kept: ingesting a page of mentions runs
 * the same few statements thousands of times. store_done() resets one for
 * its next use. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, GError **error)
{
    sqlite3_stmt *stmt = g_hash_table_lookup(st->stmts, sql);
    if (stmt)
        return stmt;
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK) {
        store_fail(st, error, "prepare");
        return NULL;
    }
    g_hash_table_insert(st->stmts, g_strdup(sql), stmt);
    return stmt;
}

static void store_finalize(gpointer stmt)
{
    sqlite3_finalize(stmt);
}

void store_done(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

/* Run a statement that returns no rows and finalize it. */
bool store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what, GError **error)
{
    int rc = sqlite3_step(stmt);
    store_done(stmt);
    if (rc != SQLITE_DONE)
        return store_fail(st, error, what);
    return true;
}

/* A write changed what the cached reads saw (called when it changed rows). */
void store_touch(struct store *st, unsigned what)
{
    if (what & STORE_TOUCH_ROWS)
        st->gen_rows++;
    if (what & STORE_TOUCH_DUE)
        st->gen_due++;
}

/* After each commit (sqlite3_wal_hook): checkpoint when the log is long
 * enough and the last checkpoint is not too recent (see STORE_WAL_PAGES). */
static int store_wal_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
    struct store *st = arg;
    int64_t now = g_get_monotonic_time();
    if (pages >= STORE_WAL_MAX_PAGES ||
        (pages >= STORE_WAL_PAGES && now - st->checkpoint_at >= STORE_CHECKPOINT_GAP_US)) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        st->checkpoint_at = now;
    }
    return SQLITE_OK;
}

char *store_default_path(void)
{
    return g_build_filename(g_get_user_state_dir(), "heed", "heed.db", NULL);
}

static bool store_migrate(struct store *st, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(st, "PRAGMA user_version", error);
    if (!stmt)
        return false;
    int version = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
    store_done(stmt);
    if (version > STORE_SCHEMA_VERSION) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
                    "%s: schema version %d is newer than this heed understands (%d); upgrade heed", st->path,
                    version, STORE_SCHEMA_VERSION);
        return false;
    }
    for (; version < STORE_SCHEMA_VERSION; version++) {
        if (!store_begin(st, error))
            return false;
        g_autofree char *bump = g_strdup_printf("PRAGMA user_version = %d", version + 1);
        if (!store_exec(st, store_migrations[version], error) || !store_exec(st, bump, error)) {
            store_rollback(st);
            return false;
        }
        if (!store_commit(st, error))
            return false;
    }
    return true;
}

struct store *store_open(const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        int e = errno;
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "cannot create state directory %s: %s", dir,
                    g_strerror(e));
        return NULL;
    }
    if (access(dir, W_OK) != 0) {
        int e = errno;
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "state directory %s is not writable: %s", dir,
                    g_strerror(e));
        return NULL;
    }
    struct store *st = g_new0(struct store, 1);
    st->path = g_strdup(path);
    st->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, store_finalize);
    st->gen_rows = st->gen_due = 1; /* 0 would match "nothing cached" */
    int rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "cannot open %s: %s", path,
                    st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        store_close(st);
        return NULL;
    }
    chmod(path, 0600);
    if (sqlite3_db_readonly(st->db, "main") == 1) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "%s is read-only; heed needs to write its state there", path);
        store_close(st);
        return NULL;
    }
    sqlite3_busy_timeout(st->db, 5000);
    sqlite3_wal_hook(st->db, store_wal_hook, st);
    /* WAL: readers never block the writer and a crash never corrupts.
     * synchronous=NORMAL is durable across process crashes in WAL mode. */
    if (!store_exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;\n"
                      /* Keep the log small: on a nearly full disk a 4 MB WAL is what fills it. */
                      "PRAGMA journal_size_limit=524288;", error) ||
        !store_migrate(st, error)) {
        store_close(st);
        return NULL;
    }
    return st;
}

/* A WAL database whose -wal file is absent is whole in its main file, and
 * nobody has it open (heedd keeps the -wal while it runs): it is read as
 * immutable, which takes no lock and makes no -wal or -shm. With a -wal
 * there, heedd may be writing: read-only through its WAL index. */
static char *store_readonly_uri(const char *path)
{
    g_autofree char *wal = g_strconcat(path, "-wal", NULL);
    g_autofree char *abs = g_canonicalize_filename(path, NULL);
    g_autofree char *uri = g_filename_to_uri(abs, NULL, NULL);
    if (!uri)
        return NULL;
    bool live = g_file_test(wal, G_FILE_TEST_EXISTS);
    return g_strconcat(uri, live ? "?mode=ro" : "?mode=ro&immutable=1", NULL);
}

static bool store_check_schema(struct store *st, GError **error)
{
    sqlite3_stmt *stmt = NULL;
    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &stmt, NULL) != SQLITE_OK ||
        sqlite3_step(stmt) != SQLITE_ROW) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "cannot read %s: %s", st->path, sqlite3_errmsg(st->db));
        sqlite3_finalize(stmt);
        return false;
    }
    int version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    if (version == 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "%s is not a heed state database (it has no schema)",
                    st->path);
        return false;
    }
    if (version > STORE_SCHEMA_VERSION) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN,
                    "%s: schema version %d is newer than this heed understands (%d); upgrade heed", st->path,
                    version, STORE_SCHEMA_VERSION);
        return false;
    }
    return true;
}

struct store *store_open_readonly(const char *path, GError **error)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int e = errno;
        g_set_error(error, STORE_ERROR, e == ENOENT ? STORE_ERROR_NOT_FOUND : STORE_ERROR_OPEN, "cannot open %s: %s",
                    path, g_strerror(e));
        return NULL;
    }
    g_autofree char *uri = store_readonly_uri(path);
    struct store *st = g_new0(struct store, 1);
    st->path = g_strdup(path);
    st->stmts = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, store_finalize);
    st->gen_rows = st->gen_due = 1; /* 0 would match "nothing cached" */
    int rc = uri ? sqlite3_open_v2(uri, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL)
                 : SQLITE_CANTOPEN;
    if (rc != SQLITE_OK) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_OPEN, "cannot open %s: %s", path,
                    st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
        store_close(st);
        return NULL;
    }
    sqlite3_busy_timeout(st->db, 5000);
    if (!store_check_schema(st, error)) {
        store_close(st);
        return NULL;
    }
    return st;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    g_hash_table_unref(st->stmts); /* finalizes every statement before the close */
    if (st->db)
        sqlite3_close_v2(st->db);
    g_free(st->path);
    g_free(st);
}

bool store_begin(struct store *st, GError **error)
{
    if (!store_exec(st, "BEGIN IMMEDIATE", error))
        return false;
    st->in_txn = true;
    return true;
}

bool store_commit(struct store *st, GError **error)
{
    if (!store_exec(st, "COMMIT", error)) {
        store_rollback(st);
        return false;
    }
    st->in_txn = false;
    return true;
}

void store_rollback(struct store *st)
{
    if (st->in_txn || !sqlite3_get_autocommit(st->db))
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    st->in_txn = false;
    /* What was read inside the transaction may be gone. */
    store_touch(st, STORE_TOUCH_ALL);
}

char *store_account_state(struct store *st, const char *account, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(st, "SELECT state FROM account WHERE name = ?", error);
    if (!stmt)
        return NULL;
    sqlite3_bind_text(stmt, 1, account, -1, SQLITE_STATIC);
    char *out = NULL;
    if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
        out = g_strdup((const char *)sqlite3_column_text(stmt, 0));
    store_done(stmt);
    return out;
}

bool store_set_account_state(struct store *st, const char *account, const char *network, const char *state_json,
                             GError **error)
{
    sqlite3_stmt *stmt = store_prepare(
        st,
        "INSERT INTO account(name, network, state, updated_at) VALUES(?, ?, ?, strftime('%s','now'))\n"
        "ON CONFLICT(name) DO UPDATE SET network = excluded.network, state = excluded.state,\n"
        "  updated_at = excluded.updated_at",
        error);
    if (!stmt)
        return false;
    sqlite3_bind_text(stmt, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, network, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, state_json, -1, SQLITE_STATIC);
    return store_step_done(st, stmt, "save account state", error);
}

void store_bind_text(sqlite3_stmt *stmt, int col, const char *s)
{
    if (s)
        sqlite3_bind_text(stmt, col, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt, col);
}

bool store_add_mention(struct store *st, struct mention *m, bool initial, bool *inserted, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(
        st,
        "INSERT INTO mention(account, network, remote_id, kind, author_id, author_handle, author_name,\n"
        "  text, url, thread_id, context, created_at, fetched_at, mention_count, author_bot, follows_me,\n"
        "  i_follow, initial, score, reasons, post_id)\n"
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)\n"
        "ON CONFLICT(account, remote_id) DO NOTHING",
        error);
    if (!stmt)
        return false;
    store_bind_text(stmt, 1, m->account);
    store_bind_text(stmt, 2, m->network);
    store_bind_text(stmt, 3, m->remote_id);
    store_bind_text(stmt, 4, mention_kind_name(m->kind));
    store_bind_text(stmt, 5, m->author_id);
    store_bind_text(stmt, 6, m->author_handle);
    store_bind_text(stmt, 7, m->author_name);
    store_bind_text(stmt, 8, m->text);
    store_bind_text(stmt, 9, m->url);
    store_bind_text(stmt, 10, m->thread_id);
    store_bind_text(stmt, 11, m->context);
    sqlite3_bind_int64(stmt, 12, m->created_at);
    sqlite3_bind_int64(stmt, 13, m->fetched_at);
    sqlite3_bind_int(stmt, 14, m->mention_count);
    sqlite3_bind_int(stmt, 15, m->author_bot);
    sqlite3_bind_int(stmt, 16, m->follows_me);
    sqlite3_bind_int(stmt, 17, m->i_follow);
    sqlite3_bind_int(stmt, 18, initial ? 1 : 0);
    sqlite3_bind_int(stmt, 19, m->score);
    store_bind_text(stmt, 20, m->reasons_json);
    store_bind_text(stmt, 21, m->post_id);
    if (!store_step_done(st, stmt, "store mention", error))
        return false;
    *inserted = sqlite3_changes(st->db) > 0;
    if (*inserted) {
        m->id = sqlite3_last_insert_rowid(st->db);
        store_touch(st, STORE_TOUCH_ALL);
        return true;
    }
    stmt = store_prepare(st, "SELECT id FROM mention WHERE account = ? AND remote_id = ?", error);
    if (!stmt)
        return false;
    sqlite3_bind_text(stmt, 1, m->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, m->remote_id, -1, SQLITE_STATIC);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        m->id = sqlite3_column_int64(stmt, 0);
    store_done(stmt);
    return true;
}

char *store_col_text(sqlite3_stmt *stmt, int col)
{
    const unsigned char *s = sqlite3_column_text(stmt, col);
    return s ? g_strdup((const char *)s) : NULL;
}

struct mention *store_row_mention(sqlite3_stmt *stmt)
{
    struct mention *m = mention_new();
    m->id = sqlite3_column_int64(stmt, 0);
    m->account = store_col_text(stmt, 1);
    m->network = store_col_text(stmt, 2);
    m->remote_id = store_col_text(stmt, 3);
    m->kind = mention_kind_from_name((const char *)sqlite3_column_text(stmt, 4));
    m->author_id = store_col_text(stmt, 5);
    m->author_handle = store_col_text(stmt, 6);
    m->author_name = store_col_text(stmt, 7);
    m->text = store_col_text(stmt, 8);
    m->url = store_col_text(stmt, 9);
    m->thread_id = store_col_text(stmt, 10);
    m->context = store_col_text(stmt, 11);
    m->created_at = sqlite3_column_int64(stmt, 12);
    m->fetched_at = sqlite3_column_int64(stmt, 13);
    m->mention_count = sqlite3_column_int(stmt, 14);
    m->author_bot = (enum mention_tri)sqlite3_column_int(stmt, 15);
    m->follows_me = (enum mention_tri)sqlite3_column_int(stmt, 16);
    m->i_follow = (enum mention_tri)sqlite3_column_int(stmt, 17);
    if (!mention_state_from_name((const char *)sqlite3_column_text(stmt, 18), &m->state))
        m->state = MENTION_WAITING;
    m->snooze_until = sqlite3_column_int64(stmt, 19);
    m->handled_at = sqlite3_column_int64(stmt, 20);
    m->notified_at = sqlite3_column_int64(stmt, 21);
    m->nudges = sqlite3_column_int(stmt, 22);
    m->score = sqlite3_column_int(stmt, 23);
    m->reasons_json = store_col_text(stmt, 24);
    m->post_id = store_col_text(stmt, 25);
    return m;
}

GPtrArray *store_collect(struct store *st, sqlite3_stmt *stmt, GError **error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)mention_free);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        g_ptr_array_add(out, store_row_mention(stmt));
    store_done(stmt);
    if (rc != SQLITE_DONE) {
        store_fail(st, error, "read mentions");
        g_ptr_array_unref(out);
        return NULL;
    }
    return out;
}

GPtrArray *store_list(struct store *st, enum store_filter filter, int limit, int64_t now, GError **error)
{
    (void)now;
    g_autofree char *sql = g_strdup_printf(
        "SELECT " STORE_MENTION_COLUMNS " FROM mention %s ORDER BY %s score DESC, created_at ASC, id ASC LIMIT ?",
        filter == STORE_WAITING ? "WHERE state IN ('waiting', 'snoozed')" : "",
        filter == STORE_ALL ? "state IN ('waiting', 'snoozed') DESC," : "");
    sqlite3_stmt *stmt = store_prepare(st, sql, error);
    if (!stmt)
        return NULL;
    sqlite3_bind_int64(stmt, 1, limit > 0 ? limit : -1);
    return store_collect(st, stmt, error);
}

bool store_each_mention(struct store *st, enum store_filter filter, void (*fn)(struct mention *m, void *data),
                        void *data, GError **error)
{
    /* No ORDER BY: the caller orders by what SQL cannot see (waiting time,
     * filters), so a sort here would be thrown away. */
    sqlite3_stmt *stmt = store_prepare(st,
                                       filter == STORE_WAITING
                                           ? "SELECT " STORE_MENTION_COLUMNS " FROM mention\n"
                                             "WHERE state IN ('waiting', 'snoozed')"
                                           : "SELECT " STORE_MENTION_COLUMNS " FROM mention",
                                       error);
    if (!stmt)
        return false;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        fn(store_row_mention(stmt), data);
    store_done(stmt);
    return rc == SQLITE_DONE ? true : store_fail(st, error, "read mentions");
}

bool store_each_waiting_by_score(struct store *st, bool (*fn)(struct mention *m, void *data), void *data,
                                 GError **error)
{
    sqlite3_stmt *stmt = store_prepare(st,
                                       "SELECT " STORE_MENTION_COLUMNS " FROM mention WHERE state = 'waiting'\n"
                                       "ORDER BY score DESC, created_at",
                                       error);
    if (!stmt)
        return false;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW && fn(store_row_mention(stmt), data))
        ;
    store_done(stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? true : store_fail(st, error, "read mentions");
}

uint64_t store_generation(const struct store *st)
{
    return st->gen_rows + st->gen_due; /* both only grow */
}

struct mention *store_get(struct store *st, int64_t id, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(st, "SELECT " STORE_MENTION_COLUMNS " FROM mention WHERE id = ?", error);
    if (!stmt)
        return NULL;
    sqlite3_bind_int64(stmt, 1, id);
    struct mention *m = NULL;
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        m = store_row_mention(stmt);
    store_done(stmt);
    if (!m) {
        if (rc == SQLITE_DONE)
            g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no mention with id %" G_GINT64_FORMAT, id);
        else
            store_fail(st, error, "read mention");
    }
    return m;
}

bool store_set_state(struct store *st, int64_t id, enum mention_state state, int64_t snooze_until, int64_t now,
                     GError **error)
{
    sqlite3_stmt *stmt = store_prepare(
        st, "UPDATE mention SET state = ?, snooze_until = ?, handled_at = ? WHERE id = ?", error);
    if (!stmt)
        return false;
    bool handled = state == MENTION_DONE || state == MENTION_REPLIED;
    sqlite3_bind_text(stmt, 1, mention_state_name(state), -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 2, state == MENTION_SNOOZED ? snooze_until : 0);
    sqlite3_bind_int64(stmt, 3, handled ? now : 0);
    sqlite3_bind_int64(stmt, 4, id);
    if (!store_step_done(st, stmt, "update mention", error))
        return false;
    store_touch(st, STORE_TOUCH_ALL);
    if (sqlite3_changes(st->db) == 0) {
        g_set_error(error, STORE_ERROR, STORE_ERROR_NOT_FOUND, "no mention with id %" G_GINT64_FORMAT, id);
        return false;
    }
    return true;
}

bool store_set_score(struct store *st, int64_t id, int score, const char *reasons_json, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(st, "UPDATE mention SET score = ?, reasons = ? WHERE id = ?", error);
    if (!stmt)
        return false;
    sqlite3_bind_int(stmt, 1, score);
    store_bind_text(stmt, 2, reasons_json);
    sqlite3_bind_int64(stmt, 3, id);
    store_touch(st, STORE_TOUCH_DUE);
    return store_step_done(st, stmt, "update score", error);
}

bool store_check(struct store *st, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(st, "PRAGMA integrity_check", error);
    if (!stmt)
        return false;
    bool ok = sqlite3_step(stmt) == SQLITE_ROW && g_strcmp0((const char *)sqlite3_column_text(stmt, 0), "ok") == 0;
    store_done(stmt);
    if (!ok)
        g_set_error(error, STORE_ERROR, STORE_ERROR_SQL, "%s: integrity check failed", st->path);
    return ok;
}
