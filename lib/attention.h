/* attention: when and how to tell the user. Pure policy, no I/O.
 *
 * For each mention that has not been shown it decides: pop up on its own,
 * fold into the digest, hold (quiet hours, do-not-disturb) or stay silent
 * (muted). Individual popups are rate-limited: more than digest_threshold
 * within digest_window seconds and the rest go to one digest, updated in
 * place, so a post going viral costs the user a handful of popups.
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

#endif
