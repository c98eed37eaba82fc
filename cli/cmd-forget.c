/* SPDX-License-Identifier: MIT */
/* cmd-forget: heed forget [ID], what heed learned from you, dropped. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"

static int cmd_forget_exec(const struct cmd_ctx *c)
{
    int rc = CLI_EXIT_OK;
    json_t *args = c->a->id ? json_pack("{s:I}", "id", (json_int_t)c->a->id) : NULL;
    json_t *res = cmd_call("forget", args, &rc);
    if (!res)
        return rc;
    const char *who = json_string_value(json_object_get(res, "author"));
    if (c->a->id)
        printf("heed forgot what it learned about %s; urgency for them follows the rules again.\n",
               who ? who : "the author of that mention");
    else
        printf("heed forgot what it learned from you; urgency follows the rules again.\n");
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_forget_entry = {
    .name = "forget",
    .args = "[ID]",
    .summary = "forget what heed learned from what you answer",
    .flags = CMD_F_ID_OPTIONAL,
    .usage =
        "usage: heed forget [ID]\n"
        "\n"
        "heed learns, on this machine only, from what you do with mentions:\n"
        "whom you answer and how soon, what you mark done, snooze or leave.\n"
        "Without ID it forgets all of it; with ID, only what it learned about\n"
        "the person who wrote that mention. Urgency then follows the rules\n"
        "alone until you act again ([score] learn = false stops learning).\n",
    .exec = cmd_forget_exec,
};
