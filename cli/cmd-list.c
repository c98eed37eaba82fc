/* SPDX-License-Identifier: MIT */
/* cmd-list: heed list, the mentions waiting, most urgent first. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"

static int cmd_list_exec(const struct cmd_ctx *c)
{
    json_t *args = json_pack("{s:b}", "all", c->a->all);
    if (c->a->limit > 0)
        json_object_set_new(args, "limit", json_integer(c->a->limit));
    int rc = CLI_EXIT_OK;
    json_t *res = cmd_call("list", args, &rc);
    json_decref(args);
    if (!res)
        return rc;
    if (c->a->json)
        cmd_print_json(res);
    else if (json_array_size(res) == 0)
        puts(c->a->all ? "No mentions stored yet." : "Nobody is waiting for you.");
    else
        cmd_print_mentions(c, res);
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_list_entry = {
    .name = "list",
    .args = "[--all] [--limit N] [--json]",
    .summary = "mentions waiting for you, most urgent first",
    .flags = CMD_F_JSON | CMD_F_LIST,
    .usage =
        "usage: heed list [--all] [--limit N] [--json]\n"
        "\n"
        "Mentions waiting for you, most urgent first, with how long each has\n"
        "waited; snoozed ones are marked so.\n"
        "\n"
        "  -a, --all     also list handled mentions (done, replied)\n"
        "  --limit N     at most N mentions\n"
        "  --json        every field of every mention; never truncated unless\n"
        "                --limit is given\n",
    .exec = cmd_list_exec,
};
