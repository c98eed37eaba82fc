/* SPDX-License-Identifier: MIT */
/* store-learn: the learn table (store.h, store_learn_*): what lib/learn.c
 * learned from the user's actions, one row per feature or person, and
 * which actions on a mention it has already seen. Written in savepoints so
 * that it can run inside an ingest transaction or on its own.
 */
#include "store-int.h"

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
