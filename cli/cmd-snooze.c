/* SPDX-License-Identifier: MIT */
/* cmd-snooze: heed snooze ID [DURATION], a mention hidden for a while. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"
#include "format.h"

static int cmd_snooze_exec(const struct cmd_ctx *c)
{
    json_t *extra = json_object();
    if (c->a->snooze_seconds > 0)
        json_object_set_new(extra, "seconds", json_integer(c->a->snooze_seconds));
    int rc = CLI_EXIT_OK;
    json_t *res = cmd_call_id(c, "snooze", extra, &rc);
    json_decref(extra);
    if (!res)
        return rc;
    const char *iso = cmd_str(res, "snoozed_until");
    g_autofree char *until = cli_local_time(iso, c->now);
    /* The length asked for is exact; otherwise it is heed.conf's, which
     * only the daemon knows, so work it out from its answer. */
    int64_t t = cli_parse_time(iso);
    int64_t secs = c->a->snooze_seconds > 0 ? c->a->snooze_seconds : t > c->now ? t - c->now : 0;
    g_autofree char *span = cli_age(secs);
    if (until)
        printf("#%lld is snoozed for %s, till %s.\n", c->a->id, span, until);
    else
        printf("#%lld is snoozed for %s.\n", c->a->id, span);
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_snooze_entry = {
    .name = "snooze",
    .args = "ID [DURATION]",
    .summary = "hide a mention for a while (e.g. 30m, 2h, 1d)",
    .flags = CMD_F_ID | CMD_F_DURATION,
    .usage =
        "usage: heed snooze ID [DURATION]\n"
        "\n"
        "Hide a mention until DURATION has passed (90s, 30m, 2h, 1d; at most\n"
        "30d); without DURATION, for the snooze time set in heed.conf (1h).\n",
    .exec = cmd_snooze_exec,
};
