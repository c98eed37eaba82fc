/* SPDX-License-Identifier: MIT */
/* cmd-explain: heed explain ID, every contribution to a mention's score. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"
#include "format.h"

static void cmd_explain_print(const struct cmd_ctx *c, json_t *res)
{
    printf("%s#%lld scores %lld (%s)%s\n", cmd_sgr(c, CMD_SGR_BOLD), (long long)cmd_int(res, "id"),
           (long long)cmd_int(res, "score"), cmd_str(res, "urgency") ? cmd_str(res, "urgency") : "?",
           cmd_sgr(c, CMD_SGR_RESET));
    json_t *reasons = json_object_get(res, "reasons");
    long long sum = 0;
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r) {
        long long p = cmd_int(r, "points");
        sum += p;
        g_autofree char *why = cli_fit(cmd_str(r, "reason"), c->width - 8);
        printf("  %+5lld  %s\n", p, why);
    }
    if (sum != cmd_int(res, "score"))
        printf("  %5lld  total, kept within 0-100\n", (long long)cmd_int(res, "score"));
}

static int cmd_explain_exec(const struct cmd_ctx *c)
{
    int rc = CLI_EXIT_OK;
    json_t *res = cmd_call_id(c, "explain", NULL, &rc);
    if (!res)
        return rc;
    if (c->a->json)
        cmd_print_json(res);
    else
        cmd_explain_print(c, res);
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_explain_entry = {
    .name = "explain",
    .args = "ID [--json]",
    .summary = "why a mention scored what it did",
    .flags = CMD_F_JSON | CMD_F_ID,
    .usage =
        "usage: heed explain ID [--json]\n"
        "\n"
        "Why a mention scored what it did: every contribution to its score.\n",
    .exec = cmd_explain_exec,
};
