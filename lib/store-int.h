/* SPDX-License-Identifier: MIT */
/* store-int: what the store's rooms share (store.c, store-attend.c,
 * store-learn.c); nothing outside lib/store*.c includes it.
 *
 * One struct store owns the SQLite connection, its prepared statements and
 * the cached reads. Every statement goes through store_prepare() and ends
 * with store_done(); every write that can change a cached read calls
 * store_touch() with what it moved; every failure becomes a GError through
 * store_fail(), which names the file and what was being done.
 */
#ifndef HEED_STORE_INT_H
#define HEED_STORE_INT_H

#include <sqlite3.h>

#include "store.h"

#define STORE_DUE_MAX_SCHEDULE 16

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

#define STORE_MENTION_COLUMNS                                                                                     \
    "id, account, network, remote_id, kind, author_id, author_handle, author_name, text, url, thread_id,\n"       \
    "context, created_at, fetched_at, mention_count, author_bot, follows_me, i_follow, state, snooze_until,\n"   \
    "handled_at, notified_at, nudges, score, reasons, post_id"


enum { STORE_TOUCH_ROWS = 1, STORE_TOUCH_DUE = 2, STORE_TOUCH_ALL = 3 };

/* Set *error from SQLite's last error on this connection; returns false. */
bool store_fail(struct store *st, GError **error, const char *what);
/* Run SQL without rows (no parameters). */
bool store_exec(struct store *st, const char *sql, GError **error);
/* A prepared statement for sql, kept for reuse; NULL on error. */
sqlite3_stmt *store_prepare(struct store *st, const char *sql, GError **error);
/* Reset a statement from store_prepare() for its next use. */
void store_done(sqlite3_stmt *stmt);
/* Step a statement that returns no rows, then store_done() it. */
bool store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what, GError **error);
/* A write changed rows that the cached reads saw (STORE_TOUCH_*). */
void store_touch(struct store *st, unsigned what);
/* NULL binds NULL. */
void store_bind_text(sqlite3_stmt *stmt, int col, const char *s);
/* A text column as a new string (g_free), NULL for NULL. */
char *store_col_text(sqlite3_stmt *stmt, int col);
/* The mention on a row of STORE_MENTION_COLUMNS. */
struct mention *store_row_mention(sqlite3_stmt *stmt);
/* Every row of stmt as a mention, then store_done(); NULL on error. */
GPtrArray *store_collect(struct store *st, sqlite3_stmt *stmt, GError **error);

#endif
