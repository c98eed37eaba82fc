/* SPDX-License-Identifier: MIT */
/* mention: the record every network driver produces and everyone else reads.
 *
 * A mention is one thing a person said to the user that may deserve a
 * personal reply. Strings are owned by the record (g_free'd by
 * mention_free); text is already plain, sanitised UTF-8.
 */
#ifndef HEED_MENTION_H
#define HEED_MENTION_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

enum mention_kind {
    MENTION_KIND_MENTION = 0,   /* the user is named in a post */
    MENTION_KIND_REPLY,         /* a reply to the user's own post */
    MENTION_KIND_QUOTE,         /* the user's post quoted */
    MENTION_KIND_DIRECT,        /* private / direct message */
    MENTION_KIND_REVIEW,        /* review requested (GitHub) */
    MENTION_KIND_ASSIGN,        /* assigned to the user (GitHub) */
    MENTION_KIND_TEAM,          /* a team the user is in was mentioned (GitHub) */
    MENTION_KIND__COUNT
};

/* Tri-state for facts a network may or may not tell. */
enum mention_tri { MENTION_UNKNOWN = -1, MENTION_NO = 0, MENTION_YES = 1 };

enum mention_state { MENTION_WAITING = 0, MENTION_SNOOZED, MENTION_DONE, MENTION_REPLIED };

struct mention {
    int64_t id;              /* store row id; 0 until stored */
    char *account;           /* config account name */
    char *network;           /* driver name */
    char *remote_id;         /* the network's identity for this event (unique per account) */
    char *post_id;           /* the network's id of the post itself (a reply to it marks the mention replied), or NULL */
    enum mention_kind kind;
    char *author_id;
    char *author_handle;     /* "@alice@example.social", "alice.bsky.social", "octocat" */
    char *author_name;       /* display name; may equal the handle */
    char *text;              /* plain text */
    char *url;               /* https web URL of the post */
    char *thread_id;         /* conversation/thread id, or NULL */
    char *context;           /* short context (repository, title), or NULL */
    char *avatar_url;        /* https URL of the author's picture, or NULL; not stored */
    int64_t created_at;      /* epoch seconds */
    int mention_count;       /* how many accounts the post names (>= 1) */
    enum mention_tri author_bot;
    enum mention_tri follows_me;
    enum mention_tri i_follow;
    bool question;           /* filled by score: asks the user something */

    /* Filled by the store when read back. */
    enum mention_state state;
    int64_t fetched_at;
    int64_t snooze_until;
    int64_t handled_at;
    int64_t notified_at;     /* 0 = never shown */
    int nudges;              /* reminders shown so far */
    int score;               /* 0-100 */
    char *reasons_json;      /* JSON array of {"reason","points"} */
};

struct mention *mention_new(void);
void mention_free(struct mention *m);
const char *mention_kind_name(enum mention_kind kind);
enum mention_kind mention_kind_from_name(const char *name);
const char *mention_state_name(enum mention_state state);
bool mention_state_from_name(const char *name, enum mention_state *out);

#endif
