/* SPDX-License-Identifier: MIT */
/* cmd-reload: heed reload, heedd re-reads heed.conf. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"

static int cmd_reload_exec(const struct cmd_ctx *c)
{
    (void)c;
    int rc = CLI_EXIT_OK;
    json_t *res = cmd_call("reload", NULL, &rc);
    if (!res)
        return rc;
    long long n = cmd_int(res, "accounts");
    printf("heedd re-read its configuration: %lld account%s.\n", n, n == 1 ? "" : "s");
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_reload_entry = {
    .name = "reload",
    .args = NULL,
    .summary = "make heedd re-read heed.conf",
    .flags = 0,
    .usage =
        "usage: heed reload\n"
        "\n"
        "Make heedd re-read heed.conf. A broken file is reported and heedd keeps\n"
        "running on the configuration it has.\n",
    .exec = cmd_reload_exec,
};
