/* SPDX-License-Identifier: MIT */
/* cmd-help: heed help [COMMAND] (heed help list is heed list --help, which
 * args.c turns it into; what is left here is the overview). */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"

static int cmd_help_exec(const struct cmd_ctx *c)
{
    (void)c;
    g_autofree char *text = cmd_overview();
    fputs(text, stdout);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_help_entry = {
    .name = "help",
    .args = "[COMMAND]",
    .summary = "this text, or a command's",
    .flags = CMD_F_COMMAND,
    .usage =
        "usage: heed help [COMMAND]\n"
        "\n"
        "The list of commands, or what one command does.\n",
    .exec = cmd_help_exec,
};
