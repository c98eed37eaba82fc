/* SPDX-License-Identifier: MIT */
/* store: everything heed remembers, in one SQLite file.
 *
 * $XDG_STATE_HOME/heed/heed.db, WAL mode, schema version in
 * PRAGMA user_version with forward migrations run at open. The unique key
 * (account, remote_id) makes ingesting idempotent: the same mention stored
 * twice is one row, so a repeated poll after a crash neither loses nor
 * duplicates anything. Callers group writes with store_begin/commit; every
 * function returns false (or NULL) with a GError on failure, including a
 * full disk, and never leaves a half-written transaction open.
 *
 * The reads an attend pass makes after every poll (store_summary,
 * store_next_due, store_due_nudges, store_wake_snoozed, store_unnotified)
 * are answered from memory until a write through this struct store could
 * change them, so an idle poll costs the same with 100,000 mentions as
 * with none. heedd is the only writer of mentions: a mention changed by
 * another connection is seen once this one writes again.
 */
#ifndef HEED_STORE_H
#define HEED_STORE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "mention.h"

#define STORE_ERROR (store_error_quark())
GQuark store_error_quark(void);
enum store_error { STORE_ERROR_OPEN, STORE_ERROR_SQL, STORE_ERROR_FULL, STORE_ERROR_NOT_FOUND };

struct store;

/* $XDG_STATE_HOME/heed/heed.db (g_free it). */
char *store_default_path(void);
/* Open or create (with parent directories, mode 0700), migrate. */
struct store *store_open(const char *path, GError **error);
/* Open an existing database only to read it (heed doctor): nothing is
 * created, migrated, chmod-ed or written, and no -wal/-shm file is left
 * behind. Fails with STORE_ERROR_NOT_FOUND when path does not exist and
 * STORE_ERROR_OPEN when it is not a heed database or has a schema this
 * heed does not know (a newer one). Only the reading functions may be
 * called on the result. */
struct store *store_open_readonly(const char *path, GError **error);
void store_close(struct store *st);

bool store_begin(struct store *st, GError **error);
bool store_commit(struct store *st, GError **error);
void store_rollback(struct store *st);

/* Account state: the driver's JSON state and the account's health. */
char *store_account_state(struct store *st, const char *account, GError **error); /* NULL if none, no error */
bool store_set_account_state(struct store *st, const char *account, const char *network, const char *state_json,
                             GError **error);

/* Insert unless (account, remote_id) exists. *inserted tells which; m->id is
 * set either way. initial marks history that must not pop up. */
bool store_add_mention(struct store *st, struct mention *m, bool initial, bool *inserted, GError **error);

enum store_filter { STORE_WAITING, STORE_ALL };
/* Mentions sorted by score (desc) then age (oldest first); limit 0 = all. */
GPtrArray *store_list(struct store *st, enum store_filter filter, int limit, int64_t now, GError **error);
/* Each mention the filter takes, in no set order, handed to fn (which owns
 * it): for a caller that keeps only a little of each. */
bool store_each_mention(struct store *st, enum store_filter filter, void (*fn)(struct mention *m, void *data),
                        void *data, GError **error);
/* The waiting mentions (not the snoozed), highest stored score first, then
 * oldest, handed to fn (which owns each) until it returns false: for a
 * caller that needs only the top few. Walks an index; no sort. */
bool store_each_waiting_by_score(struct store *st, bool (*fn)(struct mention *m, void *data), void *data,
                                 GError **error);
/* A number that changes whenever a write changes which mentions exist or
 * any of their states, scores, notifications or reminders: a caller may
 * keep what it derived from the store until it moves. */
uint64_t store_generation(const struct store *st);
struct mention *store_get(struct store *st, int64_t id, GError **error);
bool store_set_state(struct store *st, int64_t id, enum mention_state state, int64_t snooze_until, int64_t now,
                     GError **error);
bool store_set_score(struct store *st, int64_t id, int score, const char *reasons_json, GError **error);

/* Mentions that may deserve a popup: waiting, not initial history, never
 * shown, oldest first, at most limit. (Snoozes that ended are turned back
 * into waiting mentions by store_wake_snoozed first.) */
GPtrArray *store_unnotified(struct store *st, int64_t now, int limit, GError **error);
/* Record that a mention was (about to be) shown; 0 clears it so it is
 * offered again (the show failed for certain). */
bool store_mark_notified(struct store *st, int64_t id, int64_t when, GError **error);
/* The same for n mentions at once, in one statement (atomic on its own). */
bool store_mark_notified_many(struct store *st, const int64_t *ids, size_t n, int64_t when, GError **error);
/* Waiting mentions shown before, with fewer than max_nudges reminders, whose
 * next reminder is due: notified_at + schedule[nudges] <= now. */
GPtrArray *store_due_nudges(struct store *st, int64_t now, const int *schedule, int n_schedule, int min_score,
                            GError **error);
bool store_mark_nudged(struct store *st, int64_t id, int64_t when, GError **error);
/* The earliest time after `now` at which a snooze ends or a reminder falls
 * due (0 if nothing is scheduled): the daemon sleeps until then. */
int64_t store_next_due(struct store *st, int64_t now, const int *schedule, int n_schedule, int min_score);
/* Snoozed mentions whose snooze ended go back to waiting (and will pop up again). */
int store_wake_snoozed(struct store *st, int64_t now, GError **error);

/* Interaction history: the user's replies to a person. */
bool store_add_reply(struct store *st, const char *account, const char *author_id, const char *reply_remote_id,
                     int64_t when, GError **error);
/* The user answered post_id: its mention (if waiting) becomes replied.
 * Returns the mention's id, 0 if none was waiting, -1 on error. */
int64_t store_mark_replied(struct store *st, const char *account, const char *post_id, int64_t when, GError **error);
bool store_interactions(struct store *st, const char *account, const char *author_id, int *replies,
                        int64_t *last_reply, GError **error);
/* Shown mentions of `account` whose remote id is at most `upto` (ids
 * compared as numbers: by length, then text) and not older than `since`:
 * the ones a read marker covers. Returns their row ids. */
GArray *store_shown_upto(struct store *st, const char *account, const char *upto, int64_t since, GError **error);
/* How many mentions from this author were stored before `before` (first contact = 0). */
int store_author_mentions(struct store *st, const char *account, const char *author_id, int64_t before);

struct store_summary {
    int waiting;              /* mentions waiting */
    int people;               /* distinct authors waiting */
    int64_t oldest_created;   /* created_at of the oldest waiting mention, 0 if none */
    int total;                /* all mentions stored */
};
bool store_summary(struct store *st, struct store_summary *out, GError **error);

struct store_stats {
    int mentions;             /* created since `since` */
    int answered;             /* of those, replied to or done */
    int replied;              /* of those, answered on the network */
    int64_t median_wait;      /* median seconds from mention to handling, -1 if none */
    GPtrArray *longest;       /* struct mention*: the longest-waiting, one per person, oldest first */
};
/* A mirror for the user: what happened to mentions since `since`. */
bool store_stats(struct store *st, int64_t since, int n_longest, struct store_stats *out, GError **error);
void store_stats_clear(struct store_stats *s);

/* The learned model of lib/learn.c, which owns the meaning of its rows:
 * one per feature or person, keyed by a string. */
struct store_learn_row {
    const char *key;
    double weight;
    int events, replies, replies_hour, replies_day;
    int64_t seen_at;
};
typedef void (*store_learn_fn)(const struct store_learn_row *row, void *data);
/* Call fn for every row (row and key valid during the call only). */
bool store_learn_read(struct store *st, store_learn_fn fn, void *data, GError **error);
/* Insert or replace n rows and delete the keys in gone (NULL-terminated, may
 * be NULL), all or nothing; inside or outside a store_begin transaction. */
bool store_learn_write(struct store *st, const struct store_learn_row *rows, size_t n, char **gone,
                       GError **error);
/* Delete the rows whose key starts with prefix; "" or NULL deletes all. */
bool store_learn_clear(struct store *st, const char *prefix, GError **error);
/* Set `bit` in the mention's record of actions learned from; *first tells
 * whether it was unset (so each action is learned from once). */
bool store_learn_mark(struct store *st, int64_t id, unsigned bit, bool *first, GError **error);
/* Waiting mentions shown before shown_before on which no action was ever
 * learned from (store_learn_mark): ignored. Oldest shown first, at most limit. */
GPtrArray *store_learn_ignored(struct store *st, int64_t shown_before, int limit, GError **error);

/* PRAGMA integrity_check == "ok". */
bool store_check(struct store *st, GError **error);

#endif
