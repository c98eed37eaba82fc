/* SPDX-License-Identifier: MIT */
/* cmd-stats: heed stats, a mirror of the last days. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"
#include "format.h"

static void cmd_stats_print(const struct cmd_ctx *c, json_t *res)
{
    long long days = cmd_int(res, "days"), mentions = cmd_int(res, "mentions");
    long long answered = cmd_int(res, "answered"), replied = cmd_int(res, "replied_on_network");
    printf("%sLast %lld day%s:%s %lld mention%s", cmd_sgr(c, CMD_SGR_BOLD), days, days == 1 ? "" : "s",
           cmd_sgr(c, CMD_SGR_RESET), mentions, mentions == 1 ? "" : "s");
    if (mentions > 0)
        printf(", %lld answered (%lld%%), %lld of them with a reply on the network", answered,
               answered * 100 / mentions, replied);
    puts(".");
    json_t *median = json_object_get(res, "median_wait_seconds");
    if (json_is_integer(median)) {
        g_autofree char *age = cli_age(json_integer_value(median));
        printf("Half of the answered people waited less than %s for you.\n", age);
    } else if (mentions > 0) {
        puts("Nothing answered yet, so no waiting time to measure.");
    }
    json_t *longest = json_object_get(res, "longest_waiting");
    if (json_array_size(longest) > 0) {
        puts("\nWaited longest:");
        cmd_print_mentions(c, longest);
    }
}

static int cmd_stats_exec(const struct cmd_ctx *c)
{
    json_t *args = json_object();
    if (c->a->days > 0)
        json_object_set_new(args, "days", json_integer(c->a->days));
    int rc = CLI_EXIT_OK;
    json_t *res = cmd_call("stats", args, &rc);
    json_decref(args);
    if (!res)
        return rc;
    if (c->a->json)
        cmd_print_json(res);
    else
        cmd_stats_print(c, res);
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_stats_entry = {
    .name = "stats",
    .args = "[--days N] [--json]",
    .summary = "mentions, answers and waiting times lately",
    .flags = CMD_F_JSON | CMD_F_DAYS,
    .usage =
        "usage: heed stats [--days N] [--json]\n"
        "\n"
        "A mirror: mentions of the last N days (default 7), how many you\n"
        "answered, the median time people waited for that, and who has waited\n"
        "longest.\n",
    .exec = cmd_stats_exec,
};
