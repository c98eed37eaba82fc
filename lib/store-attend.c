/* SPDX-License-Identifier: MIT */
/* store-attend: the store's side of attention (store.h): which mentions
 * were shown and reminded, when the next reminder or snooze end falls due,
 * the user's replies seen on the networks, and the counts that status and
 * stats show.
 *
 * An attend pass runs after every poll, so these reads are answered from
 * memory (struct store's generations, store-int.h) until a write could
 * change them: an idle poll reads nothing from the file, whatever the
 * backlog.
 */
#include <string.h>

#include "store-int.h"

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
