/* SPDX-License-Identifier: MIT */
/* store: see store.h.
 *
 * Times are epoch seconds. The mention table keeps the network's record and
 * heed's view of it (state, score, notification history) side by side.
 *
 * Over 700 lines, for now: every SQL statement heed runs is here, next to
 * the schema and migrations they depend on, so that a change of a column is
 * one file's change. The learn table's queries (store_learn_*) and the
 * cached counts are the first candidates to move into rooms of their own.
 */
#include "store.h"

#include <errno.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define STORE_DUE_MAX_SCHEDULE 16
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

/* The raw times behind store_next_due, as of one generation. */
struct store_due {
    uint64_t gen;                 /* gen_due when read; 0: nothing cached */
    int min_score, n;
    int schedule[STORE_DUE_MAX_SCHEDULE];
    int64_t snooze_min;           /* the earliest end of a snooze, 0 if none is snoozed */
    int64_t nudge_min;            /* the earliest time a reminder falls due, 0 if none can */
};

struct store {
    sqlite3 *db;
    char *path;
    bool in_txn;
    GHashTable *stmts;       /* SQL text -> prepared statement, reused across calls */
    /* Reads that visit the whole backlog are kept until a write could
     * change them, so an idle poll reads nothing from the file. Every write
     * below bumps the generations it can move (store_touch), a rollback
     * bumps both. heedd is the only writer of mentions (store.h). */
    uint64_t gen_rows;       /* which mentions exist, and their states */
    uint64_t gen_due;        /* states, snoozes, notifications, reminders, scores */
    struct store_summary summary;
    uint64_t summary_gen;    /* gen_rows when summary was read; 0: none */
    struct store_due due;
    uint64_t unnotified_none_gen; /* gen_due when store_unnotified found none; 0: unknown */
    int64_t checkpoint_at;   /* monotonic µs of the last checkpoint */
};

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

static bool store_fail(struct store *st, GError **error, const char *what)
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

static bool store_exec(struct store *st, const char *sql, GError **error)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return store_fail(st, error, "write");
    return true;
}

/* Statements are prepared once and kept: ingesting a page of mentions runs
 * the same few statements thousands of times. store_done() resets one for
 * its next use. */
static sqlite3_stmt *store_prepare(struct store *st, const char *sql, GError **error)
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

static void store_done(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
}

/* Run a statement that returns no rows and finalize it. */
static bool store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what, GError **error)
{
    int rc = sqlite3_step(stmt);
    store_done(stmt);
    if (rc != SQLITE_DONE)
        return store_fail(st, error, what);
    return true;
}

enum { STORE_TOUCH_ROWS = 1, STORE_TOUCH_DUE = 2, STORE_TOUCH_ALL = 3 };

/* A write changed what the cached reads saw (called when it changed rows). */
static void store_touch(struct store *st, unsigned what)
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

static void store_bind_text(sqlite3_stmt *stmt, int col, const char *s)
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

#define STORE_MENTION_COLUMNS                                                                                     \
    "id, account, network, remote_id, kind, author_id, author_handle, author_name, text, url, thread_id,\n"       \
    "context, created_at, fetched_at, mention_count, author_bot, follows_me, i_follow, state, snooze_until,\n"   \
    "handled_at, notified_at, nudges, score, reasons, post_id"

static char *store_col_text(sqlite3_stmt *stmt, int col)
{
    const unsigned char *s = sqlite3_column_text(stmt, col);
    return s ? g_strdup((const char *)s) : NULL;
}

static struct mention *store_row_mention(sqlite3_stmt *stmt)
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

static GPtrArray *store_collect(struct store *st, sqlite3_stmt *stmt, GError **error)
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

GPtrArray *store_unnotified(struct store *st, int64_t now, int limit, GError **error)
{
    (void)now;
    if (st->unnotified_none_gen == st->gen_due)
        return g_ptr_array_new_with_free_func((GDestroyNotify)mention_free); /* still none */
    sqlite3_stmt *stmt = store_prepare(st,
                                       "SELECT " STORE_MENTION_COLUMNS " FROM mention\n"
                                       "WHERE notified_at = 0 AND initial = 0 AND state = 'waiting'\n"
                                       "ORDER BY created_at ASC, id ASC LIMIT ?",
                                       error);
    if (!stmt)
        return NULL;
    sqlite3_bind_int(stmt, 1, limit > 0 ? limit : -1);
    GPtrArray *out = store_collect(st, stmt, error);
    if (out && out->len == 0)
        st->unnotified_none_gen = st->gen_due;
    return out;
}

bool store_mark_notified(struct store *st, int64_t id, int64_t when, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(st, "UPDATE mention SET notified_at = ? WHERE id = ?", error);
    if (!stmt)
        return false;
    sqlite3_bind_int64(stmt, 1, when);
    sqlite3_bind_int64(stmt, 2, id);
    store_touch(st, STORE_TOUCH_DUE);
    return store_step_done(st, stmt, "mark notified", error);
}

bool store_mark_notified_many(struct store *st, const int64_t *ids, size_t n, int64_t when, GError **error)
{
    if (n == 0)
        return true;
    /* One statement for the batch: each row is rewritten once, without a
     * statement run (and a B-tree descent from the top) per mention. */
    sqlite3_stmt *stmt = store_prepare(
        st, "UPDATE mention SET notified_at = ?1 WHERE id IN (SELECT value FROM json_each(?2))", error);
    if (!stmt)
        return false;
    GString *list = g_string_sized_new(n * 8 + 2);
    g_string_append_c(list, '[');
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(list, "%s%" G_GINT64_FORMAT, i ? "," : "", ids[i]);
    g_string_append_c(list, ']');
    sqlite3_bind_int64(stmt, 1, when);
    sqlite3_bind_text(stmt, 2, list->str, (int)list->len, SQLITE_TRANSIENT);
    g_string_free(list, TRUE);
    store_touch(st, STORE_TOUCH_DUE);
    return store_step_done(st, stmt, "mark notified", error);
}

/* The cached raw times, if they were read for this schedule and nothing
 * they depend on was written since; NULL otherwise. */
static const struct store_due *store_due_cached(struct store *st, const int *schedule, int n_schedule,
                                                int min_score)
{
    const struct store_due *d = &st->due;
    if (d->gen == 0 || d->gen != st->gen_due || d->min_score != min_score || d->n != n_schedule ||
        (n_schedule > 0 && memcmp(d->schedule, schedule, sizeof schedule[0] * (size_t)n_schedule) != 0))
        return NULL;
    return d;
}

GPtrArray *store_due_nudges(struct store *st, int64_t now, const int *schedule, int n_schedule, int min_score,
                            GError **error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)mention_free);
    const struct store_due *d = store_due_cached(st, schedule, n_schedule, min_score);
    if (d && (d->nudge_min == 0 || d->nudge_min > now))
        return out; /* nothing is due before nudge_min: no need to look */
    for (int i = 0; i < n_schedule; i++) {
        /* Each reminder also waits its own gap after the previous one, so
         * after a suspend of days they do not all fire at once. The range
         * on notified_at (and +score, kept off the index choice) lets
         * SQLite walk mention_nudge instead of every waiting mention. */
        sqlite3_stmt *stmt = store_prepare(st,
                                           "SELECT " STORE_MENTION_COLUMNS " FROM mention\n"
                                           "WHERE state = 'waiting' AND nudges = ?1\n"
                                           "  AND notified_at BETWEEN 1 AND ?3 - ?2 AND +score >= ?4\n"
                                           "  AND (?1 = 0 OR last_nudge_at + ?5 <= ?3)\n"
                                           "ORDER BY score DESC, created_at ASC",
                                           error);
        if (!stmt) {
            g_ptr_array_unref(out);
            return NULL;
        }
        sqlite3_bind_int(stmt, 1, i);
        sqlite3_bind_int64(stmt, 2, schedule[i]);
        sqlite3_bind_int64(stmt, 3, now);
        sqlite3_bind_int(stmt, 4, min_score);
        sqlite3_bind_int64(stmt, 5, i > 0 ? schedule[i] - schedule[i - 1] : 0);
        GPtrArray *part = store_collect(st, stmt, error);
        if (!part) {
            g_ptr_array_unref(out);
            return NULL;
        }
        for (guint j = 0; j < part->len; j++)
            g_ptr_array_add(out, g_ptr_array_steal_index(part, j--));
        g_ptr_array_unref(part);
    }
    return out;
}

bool store_mark_nudged(struct store *st, int64_t id, int64_t when, GError **error)
{
    sqlite3_stmt *stmt =
        store_prepare(st, "UPDATE mention SET nudges = nudges + 1, last_nudge_at = ? WHERE id = ?", error);
    if (!stmt)
        return false;
    sqlite3_bind_int64(stmt, 1, when);
    sqlite3_bind_int64(stmt, 2, id);
    store_touch(st, STORE_TOUCH_DUE);
    return store_step_done(st, stmt, "mark nudged", error);
}

/* One query's single integer answer; 0 when it has none (no row, NULL), -1 on error. */
static int64_t store_step_int(sqlite3_stmt *stmt)
{
    int rc = sqlite3_step(stmt);
    int64_t v = rc == SQLITE_DONE ? 0 : rc != SQLITE_ROW ? -1
              : sqlite3_column_type(stmt, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(stmt, 0);
    store_done(stmt);
    return v;
}

/* The earliest time reminder i (0-based) falls due for any mention, 0 if
 * none can, -1 on error. The first reminder's is the oldest notification's
 * (an index walk that stops at the first mention scoring enough); later
 * ones visit only the mentions already reminded that often. */
static int64_t store_nudge_min(struct store *st, const int *schedule, int i, int min_score)
{
    sqlite3_stmt *stmt;
    if (i == 0) {
        stmt = store_prepare(st,
                             "SELECT notified_at + ?1 FROM mention WHERE state = 'waiting' AND nudges = 0\n"
                             "  AND notified_at > 0 AND score >= ?2 ORDER BY notified_at LIMIT 1",
                             NULL);
        if (!stmt)
            return -1;
        sqlite3_bind_int64(stmt, 1, schedule[0]);
        sqlite3_bind_int(stmt, 2, min_score);
        return store_step_int(stmt);
    }
    stmt = store_prepare(st,
                         "SELECT min(max(notified_at + ?1, last_nudge_at + ?4)) FROM mention\n"
                         "WHERE state = 'waiting' AND nudges = ?2 AND notified_at > 0 AND +score >= ?3",
                         NULL);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, schedule[i]);
    sqlite3_bind_int(stmt, 2, i);
    sqlite3_bind_int(stmt, 3, min_score);
    sqlite3_bind_int64(stmt, 4, schedule[i] - schedule[i - 1]);
    return store_step_int(stmt);
}

/* Read the raw times again into st->due; false on error (nothing cached). */
static bool store_due_read(struct store *st, const int *schedule, int n_schedule, int min_score)
{
    struct store_due d = { .min_score = min_score, .n = n_schedule };
    sqlite3_stmt *stmt = store_prepare(st, "SELECT min(snooze_until) FROM mention WHERE state = 'snoozed'", NULL);
    if (!stmt || (d.snooze_min = store_step_int(stmt)) < 0)
        return false;
    for (int i = 0; i < n_schedule; i++) {
        int64_t due = store_nudge_min(st, schedule, i, min_score);
        if (due < 0)
            return false;
        if (due > 0 && (d.nudge_min == 0 || due < d.nudge_min))
            d.nudge_min = due;
    }
    if (n_schedule > STORE_DUE_MAX_SCHEDULE) {
        st->due.gen = 0; /* too long to remember: read every time */
        st->due.snooze_min = d.snooze_min;
        st->due.nudge_min = d.nudge_min;
        return true;
    }
    if (n_schedule > 0)
        memcpy(d.schedule, schedule, sizeof schedule[0] * (size_t)n_schedule);
    d.gen = st->gen_due;
    st->due = d;
    return true;
}

/* The earliest snooze end after now; the exact query, for the rare case
 * of a snooze that ended but was not woken (its wake failed). */
static int64_t store_next_snooze_end(struct store *st, int64_t now)
{
    sqlite3_stmt *stmt = store_prepare(
        st, "SELECT min(snooze_until) FROM mention WHERE state = 'snoozed' AND snooze_until > ?", NULL);
    if (!stmt)
        return 0;
    sqlite3_bind_int64(stmt, 1, now);
    int64_t v = store_step_int(stmt);
    return v > 0 ? v : 0;
}

int64_t store_next_due(struct store *st, int64_t now, const int *schedule, int n_schedule, int min_score)
{
    if (!store_due_cached(st, schedule, n_schedule, min_score) &&
        !store_due_read(st, schedule, n_schedule, min_score))
        return 0;
    const struct store_due *d = &st->due;
    int64_t next = d->snooze_min > now ? d->snooze_min : d->snooze_min ? store_next_snooze_end(st, now) : 0;
    if (d->nudge_min) {
        /* overdue but not yet shown (held): look again soon */
        int64_t due = d->nudge_min <= now ? now + 1 : d->nudge_min;
        if (next == 0 || due < next)
            next = due;
    }
    return next;
}

int store_wake_snoozed(struct store *st, int64_t now, GError **error)
{
    if (st->due.gen == st->gen_due && (st->due.snooze_min == 0 || st->due.snooze_min > now))
        return 0; /* no snooze has ended: nothing to write */
    /* A woken mention pops up again: clear notified_at and its reminders. */
    sqlite3_stmt *stmt = store_prepare(st,
                                       "UPDATE mention SET state = 'waiting', snooze_until = 0, notified_at = 0,\n"
                                       "  nudges = 0 WHERE state = 'snoozed' AND snooze_until <= ?",
                                       error);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, now);
    if (!store_step_done(st, stmt, "wake snoozed", error))
        return -1;
    int woken = sqlite3_changes(st->db);
    if (woken > 0)
        store_touch(st, STORE_TOUCH_ALL);
    return woken;
}

bool store_add_reply(struct store *st, const char *account, const char *author_id, const char *reply_remote_id,
                     int64_t when, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(
        st, "INSERT INTO reply(account, author_id, remote_id, at) VALUES(?, ?, ?, ?) ON CONFLICT DO NOTHING", error);
    if (!stmt)
        return false;
    sqlite3_bind_text(stmt, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, author_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, reply_remote_id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 4, when);
    return store_step_done(st, stmt, "store reply", error);
}

int64_t store_mark_replied(struct store *st, const char *account, const char *post_id, int64_t when, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(st,
                                       "UPDATE mention SET state = 'replied', handled_at = ?, snooze_until = 0\n"
                                       "WHERE account = ? AND post_id = ? AND state IN ('waiting', 'snoozed')\n"
                                       "RETURNING id",
                                       error);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, when);
    sqlite3_bind_text(stmt, 2, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 3, post_id, -1, SQLITE_STATIC);
    int rc;
    int64_t id = 0;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
        id = sqlite3_column_int64(stmt, 0);
    store_done(stmt);
    if (id > 0 || rc != SQLITE_DONE)
        store_touch(st, STORE_TOUCH_ALL);
    if (rc != SQLITE_DONE) {
        store_fail(st, error, "mark replied");
        return -1;
    }
    return id;
}

bool store_interactions(struct store *st, const char *account, const char *author_id, int *replies,
                        int64_t *last_reply, GError **error)
{
    sqlite3_stmt *stmt =
        store_prepare(st, "SELECT count(*), coalesce(max(at), 0) FROM reply WHERE account = ? AND author_id = ?", error);
    if (!stmt)
        return false;
    sqlite3_bind_text(stmt, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, author_id ? author_id : "", -1, SQLITE_STATIC);
    bool ok = sqlite3_step(stmt) == SQLITE_ROW;
    if (ok) {
        *replies = sqlite3_column_int(stmt, 0);
        *last_reply = sqlite3_column_int64(stmt, 1);
    }
    store_done(stmt);
    return ok ? true : store_fail(st, error, "read replies");
}

GArray *store_shown_upto(struct store *st, const char *account, const char *upto, int64_t since, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(st,
                                       "SELECT id FROM mention WHERE account = ?1 AND notified_at >= ?3\n"
                                       "  AND (length(remote_id) < length(?2)\n"
                                       "       OR (length(remote_id) = length(?2) AND remote_id <= ?2))",
                                       error);
    if (!stmt)
        return NULL;
    sqlite3_bind_text(stmt, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, upto, -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, since > 0 ? since : 1);
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(stmt, 0);
        g_array_append_val(ids, id);
    }
    store_done(stmt);
    if (rc != SQLITE_DONE) {
        g_array_unref(ids);
        store_fail(st, error, "read marker");
        return NULL;
    }
    return ids;
}

int store_author_mentions(struct store *st, const char *account, const char *author_id, int64_t before)
{
    sqlite3_stmt *stmt = store_prepare(
        st, "SELECT count(*) FROM mention WHERE account = ? AND author_id = ? AND created_at < ?", NULL);
    if (!stmt)
        return 0;
    sqlite3_bind_text(stmt, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(stmt, 2, author_id ? author_id : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(stmt, 3, before);
    int n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int(stmt, 0) : 0;
    store_done(stmt);
    return n;
}

bool store_summary(struct store *st, struct store_summary *out, GError **error)
{
    if (st->summary_gen == st->gen_rows) {
        *out = st->summary;
        return true;
    }
    sqlite3_stmt *stmt = store_prepare(
        st,
        "SELECT (SELECT count(*) FROM mention WHERE state = 'waiting'),\n"
        "  (SELECT count(*) FROM (SELECT 1 FROM mention WHERE state = 'waiting'\n"
        "     GROUP BY account, coalesce(author_id, author_handle))),\n"
        "  (SELECT coalesce(min(created_at), 0) FROM mention WHERE state = 'waiting'),\n"
        "  (SELECT count(*) FROM mention)",
        error);
    if (!stmt)
        return false;
    bool ok = sqlite3_step(stmt) == SQLITE_ROW;
    if (ok) {
        out->waiting = sqlite3_column_int(stmt, 0);
        out->people = sqlite3_column_int(stmt, 1);
        out->oldest_created = sqlite3_column_int64(stmt, 2);
        out->total = sqlite3_column_int(stmt, 3);
        st->summary = *out;
        st->summary_gen = st->gen_rows;
    }
    store_done(stmt);
    return ok ? true : store_fail(st, error, "summary");
}

bool store_stats(struct store *st, int64_t since, int n_longest, struct store_stats *out, GError **error)
{
    *out = (struct store_stats){ .median_wait = -1 };
    sqlite3_stmt *stmt = store_prepare(
        st,
        "SELECT count(*), coalesce(sum(state IN ('done', 'replied')), 0), coalesce(sum(state = 'replied'), 0)\n"
        "FROM mention WHERE created_at >= ? AND initial = 0",
        error);
    if (!stmt)
        return false;
    sqlite3_bind_int64(stmt, 1, since);
    if (sqlite3_step(stmt) == SQLITE_ROW) {
        out->mentions = sqlite3_column_int(stmt, 0);
        out->answered = sqlite3_column_int(stmt, 1);
        out->replied = sqlite3_column_int(stmt, 2);
    }
    store_done(stmt);
    /* The median by OFFSET: SQLite has no median aggregate. */
    stmt = store_prepare(st,
                         "SELECT handled_at - created_at FROM mention\n"
                         "WHERE created_at >= ?1 AND initial = 0 AND state IN ('done', 'replied')\n"
                         "  AND handled_at >= created_at\n"
                         "ORDER BY 1 LIMIT 1 OFFSET (SELECT count(*) FROM mention WHERE created_at >= ?1\n"
                         "  AND initial = 0 AND state IN ('done', 'replied') AND handled_at >= created_at) / 2",
                         error);
    if (!stmt)
        return false;
    sqlite3_bind_int64(stmt, 1, since);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        out->median_wait = sqlite3_column_int64(stmt, 0);
    store_done(stmt);
    stmt = store_prepare(st,
                         "SELECT " STORE_MENTION_COLUMNS " FROM mention WHERE id IN (\n"
                         "  SELECT min(id) FROM mention WHERE state = 'waiting'\n"
                         "  GROUP BY account, coalesce(author_id, author_handle))\n"
                         "ORDER BY created_at ASC LIMIT ?",
                         error);
    if (!stmt)
        return false;
    sqlite3_bind_int(stmt, 1, n_longest);
    out->longest = store_collect(st, stmt, error);
    return out->longest != NULL;
}

void store_stats_clear(struct store_stats *s)
{
    if (s->longest)
        g_ptr_array_unref(s->longest);
    s->longest = NULL;
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

/* ---- the learned model (lib/learn.c) ------------------------------------- */

bool store_learn_read(struct store *st, store_learn_fn fn, void *data, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(
        st, "SELECT key, weight, events, replies, replies_hour, replies_day, seen_at FROM learn", error);
    if (!stmt)
        return false;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        struct store_learn_row row = {
            .key = (const char *)sqlite3_column_text(stmt, 0),
            .weight = sqlite3_column_double(stmt, 1),
            .events = sqlite3_column_int(stmt, 2),
            .replies = sqlite3_column_int(stmt, 3),
            .replies_hour = sqlite3_column_int(stmt, 4),
            .replies_day = sqlite3_column_int(stmt, 5),
            .seen_at = sqlite3_column_int64(stmt, 6),
        };
        if (row.key)
            fn(&row, data);
    }
    store_done(stmt);
    return rc == SQLITE_DONE ? true : store_fail(st, error, "read learned model");
}

static bool store_learn_put(struct store *st, const struct store_learn_row *r, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(
        st,
        "INSERT INTO learn(key, weight, events, replies, replies_hour, replies_day, seen_at)\n"
        "VALUES(?, ?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET weight = excluded.weight,\n"
        "  events = excluded.events, replies = excluded.replies, replies_hour = excluded.replies_hour,\n"
        "  replies_day = excluded.replies_day, seen_at = excluded.seen_at",
        error);
    if (!stmt)
        return false;
    sqlite3_bind_text(stmt, 1, r->key, -1, SQLITE_STATIC);
    sqlite3_bind_double(stmt, 2, r->weight);
    sqlite3_bind_int(stmt, 3, r->events);
    sqlite3_bind_int(stmt, 4, r->replies);
    sqlite3_bind_int(stmt, 5, r->replies_hour);
    sqlite3_bind_int(stmt, 6, r->replies_day);
    sqlite3_bind_int64(stmt, 7, r->seen_at);
    return store_step_done(st, stmt, "save learned model", error);
}

static bool store_learn_del(struct store *st, const char *prefix, bool whole, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(
        st, "DELETE FROM learn WHERE (?3 AND key = ?1) OR (NOT ?3 AND substr(key, 1, ?2) = ?1)", error);
    if (!stmt)
        return false;
    sqlite3_bind_text(stmt, 1, prefix, -1, SQLITE_STATIC);
    sqlite3_bind_int(stmt, 2, (int)strlen(prefix));
    sqlite3_bind_int(stmt, 3, whole);
    return store_step_done(st, stmt, "forget learned model", error);
}

/* A savepoint nests inside a caller's transaction and is one outside it. */
static bool store_learn_finish(struct store *st, bool ok, GError **error)
{
    if (ok)
        return store_exec(st, "RELEASE learn_write", error);
    sqlite3_exec(st->db, "ROLLBACK TO learn_write; RELEASE learn_write", NULL, NULL, NULL);
    return false;
}

bool store_learn_write(struct store *st, const struct store_learn_row *rows, size_t n, char **gone, GError **error)
{
    if (!store_exec(st, "SAVEPOINT learn_write", error))
        return false;
    bool ok = true;
    for (size_t i = 0; ok && i < n; i++)
        ok = store_learn_put(st, &rows[i], error);
    for (char **g = gone; ok && g && *g; g++)
        ok = store_learn_del(st, *g, true, error);
    return store_learn_finish(st, ok, error);
}

bool store_learn_clear(struct store *st, const char *prefix, GError **error)
{
    if (!store_exec(st, "SAVEPOINT learn_write", error))
        return false;
    return store_learn_finish(st, store_learn_del(st, prefix ? prefix : "", false, error), error);
}

bool store_learn_mark(struct store *st, int64_t id, unsigned bit, bool *first, GError **error)
{
    sqlite3_stmt *stmt =
        store_prepare(st, "UPDATE mention SET learned = learned | ?1 WHERE id = ?2 AND (learned & ?1) = 0", error);
    if (!stmt)
        return false;
    sqlite3_bind_int64(stmt, 1, bit);
    sqlite3_bind_int64(stmt, 2, id);
    if (!store_step_done(st, stmt, "mark learned", error))
        return false;
    *first = sqlite3_changes(st->db) > 0;
    return true;
}

GPtrArray *store_learn_ignored(struct store *st, int64_t shown_before, int limit, GError **error)
{
    sqlite3_stmt *stmt = store_prepare(st,
                                       "SELECT " STORE_MENTION_COLUMNS " FROM mention\n"
                                       "WHERE state = 'waiting' AND initial = 0 AND learned = 0\n"
                                       "  AND notified_at > 0 AND notified_at < ?\n"
                                       "ORDER BY notified_at ASC, id ASC LIMIT ?",
                                       error);
    if (!stmt)
        return NULL;
    sqlite3_bind_int64(stmt, 1, shown_before);
    sqlite3_bind_int(stmt, 2, limit > 0 ? limit : -1);
    return store_collect(st, stmt, error);
}
