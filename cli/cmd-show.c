/* SPDX-License-Identifier: MIT */
/* cmd-show: heed show ID, one mention in full. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"
#include "format.h"

/* One "label  value" line, cut to the width. */
static void cmd_show_field(const struct cmd_ctx *c, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    g_autofree char *v = cli_fit(value, c->width - 10);
    printf("%s%-8s%s  %s\n", cmd_sgr(c, CMD_SGR_DIM), label, cmd_sgr(c, CMD_SGR_RESET), v);
}

static void cmd_show_print(const struct cmd_ctx *c, json_t *m)
{
    json_t *a = json_object_get(m, "author");
    const char *name = cmd_str(a, "name"), *handle = cmd_str(a, "handle");
    g_autofree char *who = name && *name && handle && *handle ? g_strdup_printf("%s (%s)", name, handle)
                                                               : g_strdup(cmd_author(m));
    g_autofree char *head = g_strdup_printf("#%lld  %s", (long long)cmd_int(m, "id"), who);
    g_autofree char *head_fit = cli_fit(head, c->width);
    printf("%s%s%s\n", cmd_sgr(c, CMD_SGR_BOLD), head_fit, cmd_sgr(c, CMD_SGR_RESET));

    g_autofree char *where = g_strdup_printf("%s, account %s, %s", cmd_str(m, "network"), cmd_str(m, "account"),
                                             cmd_str(m, "kind") ? cmd_str(m, "kind") : "mention");
    cmd_show_field(c, "network", where);
    g_autofree char *state = cmd_mention_state(c, m);
    cmd_show_field(c, "state", state);
    g_autofree char *score = g_strdup_printf("%lld, %s (heed explain %lld says why)", (long long)cmd_int(m, "score"),
                                             cmd_str(m, "urgency") ? cmd_str(m, "urgency") : "?",
                                             (long long)cmd_int(m, "id"));
    cmd_show_field(c, "score", score);
    g_autofree char *created = cli_local_time(cmd_str(m, "created_at"), c->now);
    g_autofree char *age = cli_age(c->now - cli_parse_time(cmd_str(m, "created_at")));
    g_autofree char *when = created ? g_strdup_printf("%s (%s ago)", created, age) : NULL;
    cmd_show_field(c, "created", when);
    cmd_show_field(c, "context", cmd_str(m, "context"));
    cmd_show_field(c, "link", cmd_str(m, "url"));
    g_autofree char *text = cli_wrap(cmd_str(m, "text"), c->width);
    if (*text)
        printf("\n%s\n", text);
}

static int cmd_show_exec(const struct cmd_ctx *c)
{
    int rc = CLI_EXIT_OK;
    json_t *res = cmd_call_id(c, "show", NULL, &rc);
    if (!res)
        return rc;
    if (c->a->json)
        cmd_print_json(res);
    else
        cmd_show_print(c, res);
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_show_entry = {
    .name = "show",
    .args = "ID [--json]",
    .summary = "one mention in full",
    .flags = CMD_F_JSON | CMD_F_ID,
    .usage =
        "usage: heed show ID [--json]\n"
        "\n"
        "One mention in full: who, where, its whole text and link.\n",
    .exec = cmd_show_exec,
};
