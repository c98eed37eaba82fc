/* SPDX-License-Identifier: MIT */
/* cmd-status: heed status, whether heedd runs, its accounts, who waits. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "bar.h"
#include "control.h"
#include "cmd.h"
#include "format.h"

static const struct cli_column cmd_status_columns[] = {
    { "ACCOUNT", CLI_ALIGN_LEFT, 4, 20 },     { "NETWORK", CLI_ALIGN_LEFT, 4, 0 },
    { "HEALTH", CLI_ALIGN_LEFT, 2, 0 },       { "LAST GOOD POLL", CLI_ALIGN_LEFT, 5, 0 },
    { "PROBLEM", CLI_ALIGN_LEFT, 10, 0 },
};

static const char *cmd_status_health_color(const struct cmd_ctx *c, const char *health)
{
    if (g_strcmp0(health, "ok") == 0)
        return cmd_sgr(c, CMD_SGR_GREEN);
    if (g_strcmp0(health, "starting") == 0)
        return "";
    if (g_strcmp0(health, "retrying") == 0)
        return cmd_sgr(c, CMD_SGR_YELLOW);
    return cmd_sgr(c, CMD_SGR_RED);
}

static void cmd_status_waiting(const struct cmd_ctx *c, json_t *res)
{
    json_int_t people = cmd_int(res, "people"), waiting = cmd_int(res, "waiting");
    if (waiting == 0) {
        puts("Nobody is waiting for you.");
        return;
    }
    /* heedd's own count of seconds: its clock is the one that matters. */
    json_t *secs = json_object_get(res, "oldest_waiting_seconds");
    int64_t oldest = cli_parse_time(cmd_str(res, "oldest_waiting"));
    int64_t waited = json_is_integer(secs) ? json_integer_value(secs)
                     : oldest > 0 && c->now > oldest ? c->now - oldest : 0;
    g_autofree char *age = cli_age(waited);
    printf("%lld %s waiting (%lld mention%s); the oldest for %s.\n", (long long)people,
           people == 1 ? "person" : "people", (long long)waiting, waiting == 1 ? "" : "s", age);
}

static void cmd_status_accounts(const struct cmd_ctx *c, json_t *accounts)
{
    struct cli_table *t = cli_table_new(cmd_status_columns, G_N_ELEMENTS(cmd_status_columns));
    size_t i;
    json_t *a;
    json_array_foreach(accounts, i, a) {
        const char *health = cmd_str(a, "health");
        const char *last = cmd_str(a, "last_ok");
        g_autofree char *when = cli_local_time(last, c->now);
        int64_t t_last = cli_parse_time(last);
        g_autofree char *ago = cli_age(t_last > 0 && c->now > t_last ? c->now - t_last : 0);
        g_autofree char *last_cell = when ? g_strdup_printf("%s (%s ago)", when, ago) : g_strdup("never");
        const char *cells[] = { cmd_str(a, "name"), cmd_str(a, "network"), health, last_cell, cmd_str(a, "error") };
        const char *colors[] = { NULL, NULL, cmd_status_health_color(c, health), NULL, cmd_sgr(c, CMD_SGR_RED) };
        cli_table_add(t, cells, colors);
    }
    g_autofree char *out = cli_table_render(t, c->width, true, c->color);
    fputs(out, stdout);
    cli_table_free(t);
}

/* --json when heedd is down: still JSON, for scripts. */
static int cmd_status_down_json(void)
{
    GError *err = NULL;
    g_autofree char *path = control_default_path(&err);
    json_t *res = path ? control_call(path, "status", NULL, 10000, &err) : NULL;
    if (res) {
        json_object_set_new(res, "running", json_true());
        cmd_print_json(res);
        json_decref(res);
        return CLI_EXIT_OK;
    }
    bool down = !g_error_matches(err, CONTROL_ERROR, CONTROL_ERROR_REMOTE);
    json_t *o = json_pack("{s:b, s:s}", "running", !down, "error", err->message);
    cmd_print_json(o);
    json_decref(o);
    g_error_free(err);
    return down ? CLI_EXIT_NOT_RUNNING : CLI_EXIT_ERROR;
}

static int cmd_status_exec(const struct cmd_ctx *c)
{
    const char *format = c->a->format;
    if (c->a->follow && !format)
        format = "json";
    if (format && (c->a->follow || g_strcmp0(format, "text") != 0) && g_strcmp0(format, "json") != 0)
        return bar_run(format, c->a->follow);
    if (format && g_strcmp0(format, "json") == 0 && c->a->follow)
        return bar_run("json", true);
    if (c->a->json || g_strcmp0(format, "json") == 0)
        return cmd_status_down_json();
    int rc = CLI_EXIT_OK;
    json_t *res = cmd_call("status", NULL, &rc);
    if (!res)
        return rc;
    if (c->a->json) {
        cmd_print_json(res);
        json_decref(res);
        return CLI_EXIT_OK;
    }
    g_autofree char *version = cli_clean(cmd_str(res, "version"));
    printf("%sheedd %s is running%s (pid %lld)\n", cmd_sgr(c, CMD_SGR_BOLD), version, cmd_sgr(c, CMD_SGR_RESET),
           (long long)cmd_int(res, "pid"));
    cmd_status_waiting(c, res);
    json_t *n = json_object_get(res, "notifications");
    if (json_is_true(json_object_get(n, "server")))
        puts("Notifications: the desktop's notification server is answering.");
    else
        puts("Notifications: no notification server is answering.");

    json_t *accounts = json_object_get(res, "accounts");
    if (json_array_size(accounts) == 0) {
        puts("No accounts are configured: add an [account NAME] group to heed.conf (see heed.conf(5)).");
    } else {
        putchar('\n');
        cmd_status_accounts(c, accounts);
    }
    json_decref(res);
    return CLI_EXIT_OK;
}

const struct cmd_entry cmd_status_entry = {
    .name = "status",
    .args = "[--json] [--format F] [--follow]",
    .summary = "is heedd running, its accounts, who is waiting",
    .flags = CMD_F_JSON | CMD_F_FORMAT,
    .usage =
        "usage: heed status [--json] [--format waybar|polybar|i3blocks|json] [--follow]\n"
        "\n"
        "Whether heedd is running, each account's health and last successful\n"
        "poll, how many people are waiting for you and for how long. With\n"
        "--json, also when heedd is down: {\"running\": false, ...}, exit 3.\n"
        "\n"
        "--format prints one line for a status bar: the number of people\n"
        "waiting and the most urgent one (waybar: its JSON with text, tooltip\n"
        "and class none, waiting, critical or down; polybar, i3blocks: plain\n"
        "text; json: heedd's glance). --follow keeps printing a line each time\n"
        "that changes, as heedd says so (no polling); while heedd is down it\n"
        "says so and tries again every few seconds.\n",
    .exec = cmd_status_exec,
};
