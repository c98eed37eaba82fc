/* SPDX-License-Identifier: MIT */
/* cmd-done: heed done ID, a mention handled. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"

static int cmd_done_exec(const struct cmd_ctx *c)
{
    int rc = CLI_EXIT_OK;
    json_t *res = cmd_call_id(c, "done", NULL, &rc);
    if (!res)
        return rc;
    printf("#%lld is done.\n", c->a->id);
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_done_entry = {
    .name = "done",
    .args = "ID",
    .summary = "mark a mention handled; withdraws its notification",
    .flags = CMD_F_ID,
    .usage =
        "usage: heed done ID\n"
        "\n"
        "Mark a mention handled; its notification is withdrawn.\n",
    .exec = cmd_done_exec,
};
