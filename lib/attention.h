/* SPDX-License-Identifier: MIT */
/* attention: when and how to tell the user. Pure policy, no I/O.
 *
 * For each mention that has not been shown it decides: pop up on its own,
 * fold into the digest, hold (quiet hours, do-not-disturb) or stay silent
 * (muted, scored 0, a bot: listed by `heed list`, never a banner). Individual popups are rate-limited: more than digest_threshold
 * within digest_window seconds and the rest go to one digest, updated in
 * place, so a post going viral costs the user a handful of popups.
 *
 * It also keeps the digest's contents and decides when it may change on
 * screen, whether reminders may go out, and how long the daemon may sleep.
 * Every decision takes the time as an argument: deliver.c passes the
 * clock, tests pass whatever they like.
 */
#ifndef HEED_ATTENTION_H
#define HEED_ATTENTION_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"

enum attention_verdict { ATTENTION_POPUP, ATTENTION_DIGEST, ATTENTION_HOLD, ATTENTION_SILENT };

#define ATTENTION_MAX_WINDOW 64

struct attention {
    int threshold;                 /* popups allowed per window */
    int window;                    /* seconds */
    struct config_quiet quiet;
    bool quiet_allow_vip;
    int64_t recent[ATTENTION_MAX_WINDOW]; /* times of recent popups, a ring */
    int n_recent, head;
};

struct attention_input {
    int urgency;        /* 0 low, 1 normal, 2 critical */
    bool vip, muted;
    bool noise;         /* scored 0, or a bot: stored and listed, never shown on its own */
    bool dnd;           /* the desktop asks not to be disturbed */
    int64_t now;
    int local_minute;   /* minutes after local midnight at `now` */
};

void attention_init(struct attention *a, const struct config *cfg);
enum attention_verdict attention_decide(struct attention *a, const struct attention_input *in);
/* Count a popup shown at `now` (attention_decide does this for POPUP). */
void attention_note_popup(struct attention *a, int64_t now);
/* Give back the newest popup's place (it was not shown after all). */
void attention_forget_popup(struct attention *a);
/* Popups in the current window. */
int attention_recent(const struct attention *a, int64_t now);
bool attention_in_quiet_hours(const struct config_quiet *q, int local_minute);
/* Minutes after local midnight for an epoch time, in the local time zone. */
int attention_local_minute(int64_t when);

/* Take one place of the popup allowance for something that is not a
 * mention's own popup (a reminder); false when the allowance is used up. */
bool attention_take_popup(struct attention *a, int64_t now);
/* After quiet hours, do-not-disturb or a burst, everything waiting goes
 * into one summary instead of popping up one by one. */
bool attention_summarise(const struct attention *a, bool was_holding, int waiting);
/* Reminders wait while anything is held, in quiet hours and in DND. */
bool attention_nudges_held(const struct attention *a, bool holding, int local_minute, bool dnd);

/* The digest: one banner counting what did not pop up on its own, naming
 * the two most urgent. */
#define ATTENTION_DIGEST_TOP 2
#define ATTENTION_DIGEST_MIN_UPDATE_MS 5000 /* a digest on screen changes at most this often */
struct attention_digest {
    int count, need_you;
    int64_t top_id[ATTENTION_DIGEST_TOP];
    int top_score[ATTENTION_DIGEST_TOP];
    char *top_line[ATTENTION_DIGEST_TOP];  /* "Alice: Are you coming…" */
    bool dirty, shown;
    int64_t flushed_ms;            /* monotonic time of the last update on screen */
};
void attention_digest_add(struct attention_digest *d, int64_t id, int score, int urgency, const char *who,
                          const char *text);
void attention_digest_reset(struct attention_digest *d);
/* Milliseconds until the digest may be updated on screen: 0 now, -1 when
 * there is nothing new to show. */
int attention_digest_wait_ms(const struct attention_digest *d, int64_t now_ms);
/* Mark the digest as put on screen at now_ms. */
void attention_digest_flushed(struct attention_digest *d, int64_t now_ms);
/* Summary and body of a digest of more than one (g_free both): the body
 * names the most urgent and ends with "and N more" for the rest. */
void attention_digest_text(const struct attention_digest *d, char **summary, char **body);

/* How long the daemon may sleep (seconds, at least 1, at most an hour):
 * until next_due (0: nothing scheduled), shorter while DND is on (re-check)
 * and until a notification server that failed may be tried again. */
int64_t attention_sleep_s(int64_t now, int64_t next_due, bool dnd, int64_t notify_retry_at);

#endif
