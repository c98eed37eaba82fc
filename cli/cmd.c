/* SPDX-License-Identifier: MIT */
/* cmd: see cmd.h. The table, the overview made from it, and what the verbs
 * that talk to heedd share. */
#include "cmd.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "control.h"
#include "format.h"
#include "login.h"

/* Long enough for a daemon busy with a slow disk, short enough that a
 * wedged one does not hang a shell prompt forever. */
#define CMD_TIMEOUT_MS 10000
/* The overview's second column starts here. */
#define CMD_OVERVIEW_COLUMN 31

/* Adding a verb: one cli/cmd-NAME.c and one line here. */
static const struct cmd_entry *const cmd_entries[] = {
    &cmd_status_entry, &cmd_list_entry,   &cmd_show_entry,   &cmd_explain_entry,      &cmd_open_entry,
    &cmd_done_entry,   &cmd_snooze_entry, &cmd_wake_entry,   &cmd_stats_entry,        &cmd_reload_entry,
    &cmd_check_config_entry, &cmd_login_entry, &cmd_doctor_entry, &cmd_forget_entry, &cmd_help_entry, NULL,
};

const struct cmd_entry *const *cmd_table(void)
{
    return cmd_entries;
}

const struct cmd_entry *cmd_find(const char *name)
{
    for (const struct cmd_entry *const *e = cmd_entries; name && *e; e++)
        if (strcmp((*e)->name, name) == 0)
            return *e;
    return NULL;
}

char *cmd_usage(const struct cmd_entry *e)
{
    return e->make_usage ? e->make_usage() : g_strdup(e->usage);
}

static char *cmd_expand(const char *text)
{
    if (!strstr(text, "{networks}"))
        return g_strdup(text);
    g_autofree char *list = login_network_list(" or ");
    g_auto(GStrv) parts = g_strsplit(text, "{networks}", -1);
    return g_strjoinv(list, parts);
}

char *cmd_overview(void)
{
    GString *s = g_string_new("usage: heed [--json] COMMAND [ARGS]\n"
                              "       heed --version | --help\n"
                              "\n"
                              "Commands:\n");
    for (const struct cmd_entry *const *e = cmd_entries; *e; e++) {
        g_autofree char *left = (*e)->args ? g_strdup_printf("%s %s", (*e)->name, (*e)->args) : g_strdup((*e)->name);
        g_autofree char *summary = cmd_expand((*e)->summary);
        int room = CMD_OVERVIEW_COLUMN - 3;
        if ((int)strlen(left) > room)
            g_string_append_printf(s, "  %s\n%*s%s\n", left, CMD_OVERVIEW_COLUMN, "", summary);
        else
            g_string_append_printf(s, "  %-*s %s\n", room, left, summary);
    }
    g_string_append(s, "\n"
                       "Every command takes --help. Exit status: 0 ok, 1 error, 2 usage error,\n"
                       "3 heedd not running. See heed(1).\n");
    return g_string_free(s, FALSE);
}

/* ---- shared by the verbs --------------------------------------------------- */

const char *cmd_sgr(const struct cmd_ctx *c, const char *code)
{
    return c->color ? code : "";
}

void cmd_error(const char *msg)
{
    g_autofree char *clean = cli_clean(msg);
    fprintf(stderr, "heed: %s\n", clean);
}

json_t *cmd_call(const char *cmd, json_t *args, int *rc)
{
    GError *err = NULL;
    g_autofree char *path = control_default_path(&err);
    if (!path) {
        g_autofree char *msg = g_strdup_printf("cannot reach heedd: %s", err->message);
        cmd_error(msg);
        g_error_free(err);
        *rc = CLI_EXIT_NOT_RUNNING;
        return NULL;
    }
    json_t *res = control_call(path, cmd, args, CMD_TIMEOUT_MS, &err);
    if (res)
        return res;
    if (g_error_matches(err, CONTROL_ERROR, CONTROL_ERROR_NOT_RUNNING)) {
        cmd_error("heedd is not running (start it with: systemctl --user start heed)");
        *rc = CLI_EXIT_NOT_RUNNING;
    } else {
        cmd_error(err->message);
        *rc = CLI_EXIT_ERROR;
    }
    g_error_free(err);
    return NULL;
}

json_t *cmd_call_id(const struct cmd_ctx *c, const char *cmd, json_t *extra, int *rc)
{
    json_t *args = json_pack("{s:I}", "id", (json_int_t)c->a->id);
    if (extra)
        json_object_update(args, extra);
    json_t *res = cmd_call(cmd, args, rc);
    json_decref(args);
    return res;
}

void cmd_print_json(json_t *v)
{
    /* Not ASCII-escaped: names and texts stay readable, and JSON is UTF-8. */
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
}

const char *cmd_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

json_int_t cmd_int(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

const char *cmd_author(json_t *m)
{
    json_t *a = json_object_get(m, "author");
    const char *name = cmd_str(a, "name");
    const char *handle = cmd_str(a, "handle");
    if (name && *name)
        return name;
    return handle && *handle ? handle : "?";
}

char *cmd_mention_state(const struct cmd_ctx *c, json_t *m)
{
    const char *state = cmd_str(m, "state");
    if (g_strcmp0(state, "waiting") == 0) {
        g_autofree char *age = cli_age(cmd_int(m, "waiting_seconds"));
        return g_strdup_printf("waiting %s", age);
    }
    if (g_strcmp0(state, "snoozed") == 0) {
        g_autofree char *until = cli_local_time(cmd_str(m, "snoozed_until"), c->now);
        return until ? g_strdup_printf("snoozed till %s", until) : g_strdup("snoozed");
    }
    return g_strdup(state ? state : "?");
}

static const char *cmd_urgency_color(const struct cmd_ctx *c, json_t *m)
{
    const char *urg = cmd_str(m, "urgency");
    if (g_strcmp0(urg, "critical") == 0)
        return cmd_sgr(c, CMD_SGR_BOLD_RED);
    if (g_strcmp0(urg, "normal") == 0)
        return cmd_sgr(c, CMD_SGR_BOLD);
    return cmd_sgr(c, CMD_SGR_DIM);
}

static const struct cli_column cmd_mention_columns[] = {
    { "ID", CLI_ALIGN_RIGHT, 2, 0 },   { "SCORE", CLI_ALIGN_RIGHT, 3, 0 }, { "STATE", CLI_ALIGN_LEFT, 7, 0 },
    { "NETWORK", CLI_ALIGN_LEFT, 4, 0 }, { "FROM", CLI_ALIGN_LEFT, 6, 24 }, { "TEXT", CLI_ALIGN_LEFT, 12, 0 },
};

void cmd_print_mentions(const struct cmd_ctx *c, json_t *list)
{
    struct cli_table *t = cli_table_new(cmd_mention_columns, G_N_ELEMENTS(cmd_mention_columns));
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m) {
        g_autofree char *id = g_strdup_printf("%lld", (long long)cmd_int(m, "id"));
        g_autofree char *score = g_strdup_printf("%lld", (long long)cmd_int(m, "score"));
        g_autofree char *state = cmd_mention_state(c, m);
        const char *cells[] = { id, score, state, cmd_str(m, "network"), cmd_author(m), cmd_str(m, "text") };
        const char *colors[] = { NULL, cmd_urgency_color(c, m), NULL, NULL, NULL, NULL };
        cli_table_add(t, cells, colors);
    }
    g_autofree char *out = cli_table_render(t, c->width, true, c->color);
    fputs(out, stdout);
    cli_table_free(t);
}
