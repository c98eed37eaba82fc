/* SPDX-License-Identifier: MIT */
/* cmd-open: heed open ID; heedd opens the post (open_command). */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"
#include "format.h"

static int cmd_open_exec(const struct cmd_ctx *c)
{
    int rc = CLI_EXIT_OK;
    json_t *res = cmd_call_id(c, "open", NULL, &rc);
    if (!res)
        return rc;
    g_autofree char *url = cli_clean(cmd_str(res, "url"));
    printf("Opened %s\n", url);
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_open_entry = {
    .name = "open",
    .args = "ID",
    .summary = "open the post in your browser",
    .flags = CMD_F_ID,
    .usage =
        "usage: heed open ID\n"
        "\n"
        "Open the post in your browser (open_command in heed.conf), from heedd.\n",
    .exec = cmd_open_exec,
};
