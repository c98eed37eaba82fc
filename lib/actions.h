/* SPDX-License-Identifier: MIT */
/* actions: what the user does to a mention (done, snooze, wake, open),
 * from a banner's buttons or from the command line.
 *
 * Every change of a mention's state goes through actions_set_state, which
 * also withdraws its banner; every link is opened through actions_open,
 * which only opens URLs on the host the mention's network serves (the
 * account's web host). Stateless: the functions work on the environment
 * they are given.
 */
#ifndef HEED_ACTIONS_H
#define HEED_ACTIONS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "deliver.h"
#include "judge.h"
#include "mention.h"
#include "store.h"

struct actions_env {
    struct store *store;
    struct deliver *deliver;
    const struct judge *judge;       /* learns from what the user does */
    const struct config *cfg;        /* open_command, snooze_seconds */
    /* The host links of this account may point at (g_free), or NULL when
     * its links must not be opened. */
    char *(*allowed_host)(void *ctx, const char *account);
    void *ctx;
};

/* Open the post (learned from as "opened"). */
bool actions_open(const struct actions_env *env, const struct mention *m, GError **error);
/* Set a mention's state (snooze_s: how long a snooze lasts) and take its
 * banner down; done and snoozed are learned from. */
bool actions_set_state(const struct actions_env *env, int64_t id, enum mention_state state, int64_t snooze_s,
                       GError **error);
/* A click on a banner: key "m<ID>" or "digest"; action "default", "reply",
 * "snooze" or "done". Failures are logged: nobody is there to answer. */
void actions_on_click(const struct actions_env *env, const char *key, const char *action);

#endif
