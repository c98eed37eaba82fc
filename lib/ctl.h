/* SPDX-License-Identifier: MIT */
/* ctl: the daemon's control commands, one table (tmux style).
 *
 * Each command is one row: its name, what it needs, and one function.
 * ctl_dispatch() finds the row, checks what the row asks for (a mention
 * id that exists, test hooks enabled) and bounds the numbers it takes, so
 * exec functions get valid input. Adding a command is one row here and one
 * function in a ctl-*.c file:
 *   ctl-mentions.c  list, show, explain, stats, forget
 *   ctl-act.c       open, done, wake, snooze
 *   ctl-status.c    status, glance, watch
 *   ctl-admin.c     reload, test-clock, test-stall
 */
#ifndef HEED_CTL_H
#define HEED_CTL_H

#include <jansson.h>

#include "engine-int.h"
#include "mention.h"

enum ctl_flags {
    CTL_MENTION = 1 << 0,   /* args.id names a stored mention, passed as m */
    CTL_TEST = 1 << 1,      /* only with test hooks (heedd --test-hooks) */
    CTL_CHANGES = 1 << 2,   /* may change what waits: the status line and watchers hear of it */
};

struct ctl_cmd {
    const char *name;
    unsigned flags;
    json_t *(*exec)(struct engine *e, json_t *args, struct mention *m);
};

/* The answer to one request {"cmd": NAME, "args": {...}} (control.h). */
json_t *ctl_dispatch(struct engine *e, json_t *request);

/* For the ctl-*.c files. */
json_t *ctl_mention_json(struct engine *e, const struct mention *m, int64_t now);
json_t *ctl_fail_error(GError *err);   /* control_fail with err's message; frees err */
/* args[key] as a whole number from lo to hi, dflt when absent; false (with
 * *fail set to the answer) when it is there but not such a number. */
bool ctl_int_arg(json_t *args, const char *key, json_int_t lo, json_int_t hi, json_int_t dflt, json_int_t *out,
                 json_t **fail);

json_t *ctl_list(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_show(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_explain(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_stats(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_forget(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_status(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_glance(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_open(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_done(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_wake(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_snooze(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_reload(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_test_clock(struct engine *e, json_t *args, struct mention *m);
json_t *ctl_test_stall(struct engine *e, json_t *args, struct mention *m);

#endif
