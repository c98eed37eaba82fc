/* SPDX-License-Identifier: MIT */
/* cmd-wake: heed wake ID, a snooze ended now. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"

static int cmd_wake_exec(const struct cmd_ctx *c)
{
    int rc = CLI_EXIT_OK;
    json_t *res = cmd_call_id(c, "wake", NULL, &rc);
    if (!res)
        return rc;
    printf("#%lld is waiting again.\n", c->a->id);
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_wake_entry = {
    .name = "wake",
    .args = "ID",
    .summary = "end a snooze now",
    .flags = CMD_F_ID,
    .usage =
        "usage: heed wake ID\n"
        "\n"
        "End a snooze now: the mention is waiting again.\n",
    .exec = cmd_wake_exec,
};
