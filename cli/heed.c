/* heed: the command-line client. It knows nothing the daemon does not tell
 * it over the control socket, except check-config, which reads the file.
 *
 * --json prints the daemon's answer as it came (documented in docs/JSON.md);
 * human output is laid out by format.c for the terminal's width. Exit
 * status: 0 ok, 1 error, 2 usage, 3 heedd not running (see args.h).
 */
#include <glib.h>
#include <jansson.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "args.h"
#include "build_config.h"
#include "config.h"
#include "control.h"
#include "doctor.h"
#include "format.h"
#include "login.h"
#include "score.h"
#include "secret.h"

/* Long enough for a daemon busy with a slow disk, short enough that a
 * wedged one does not hang a shell prompt forever. */
#define CLI_TIMEOUT_MS 10000

#define SGR_BOLD "\033[1m"
#define SGR_DIM "\033[2m"
#define SGR_RED "\033[31m"
#define SGR_BOLD_RED "\033[1;31m"
#define SGR_GREEN "\033[32m"
#define SGR_YELLOW "\033[33m"
#define SGR_RESET "\033[0m"

struct cli {
    struct cli_args a;
    bool color;
    int width;
    int64_t now;
};

static const char *cli_sgr(const struct cli *c, const char *code)
{
    return c->color ? code : "";
}

/* Printed messages may quote the daemon, which may quote the network. */
static void cli_error(const char *msg)
{
    g_autofree char *clean = cli_clean(msg);
    fprintf(stderr, "heed: %s\n", clean);
}

/* Send a command; on failure prints one line and returns NULL with *rc set. */
static json_t *cli_call(const char *cmd, json_t *args, int *rc)
{
    GError *err = NULL;
    g_autofree char *path = control_default_path(&err);
    if (!path) {
        g_autofree char *msg = g_strdup_printf("cannot reach heedd: %s", err->message);
        cli_error(msg);
        g_error_free(err);
        *rc = CLI_EXIT_NOT_RUNNING;
        return NULL;
    }
    json_t *res = control_call(path, cmd, args, CLI_TIMEOUT_MS, &err);
    if (res)
        return res;
    if (g_error_matches(err, CONTROL_ERROR, CONTROL_ERROR_NOT_RUNNING)) {
        cli_error("heedd is not running (start it with: systemctl --user start heed)");
        *rc = CLI_EXIT_NOT_RUNNING;
    } else {
        cli_error(err->message);
        *rc = CLI_EXIT_ERROR;
    }
    g_error_free(err);
    return NULL;
}

static void cli_print_json(json_t *v)
{
    /* Not ASCII-escaped: names and texts stay readable, and JSON is UTF-8. */
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
}

static const char *cli_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_int_t cli_int(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* ---- mentions ----------------------------------------------------------- */

static const char *cli_author(json_t *m)
{
    json_t *a = json_object_get(m, "author");
    const char *name = cli_str(a, "name");
    const char *handle = cli_str(a, "handle");
    if (name && *name)
        return name;
    return handle && *handle ? handle : "?";
}

/* "waiting 3 h", "snoozed till 14:05:00", "done", "replied". */
static char *cli_state(const struct cli *c, json_t *m)
{
    const char *state = cli_str(m, "state");
    if (g_strcmp0(state, "waiting") == 0) {
        g_autofree char *age = cli_age(cli_int(m, "waiting_seconds"));
        return g_strdup_printf("waiting %s", age);
    }
    if (g_strcmp0(state, "snoozed") == 0) {
        g_autofree char *until = cli_local_time(cli_str(m, "snoozed_until"), c->now);
        return until ? g_strdup_printf("snoozed till %s", until) : g_strdup("snoozed");
    }
    return g_strdup(state ? state : "?");
}

static const char *cli_urgency_color(const struct cli *c, json_t *m)
{
    const char *urg = cli_str(m, "urgency");
    if (g_strcmp0(urg, "critical") == 0)
        return cli_sgr(c, SGR_BOLD_RED);
    if (g_strcmp0(urg, "normal") == 0)
        return cli_sgr(c, SGR_BOLD);
    return cli_sgr(c, SGR_DIM);
}

static const struct cli_column cli_mention_columns[] = {
    { "ID", CLI_ALIGN_RIGHT, 2, 0 },   { "SCORE", CLI_ALIGN_RIGHT, 3, 0 }, { "STATE", CLI_ALIGN_LEFT, 7, 0 },
    { "NETWORK", CLI_ALIGN_LEFT, 4, 0 }, { "FROM", CLI_ALIGN_LEFT, 6, 24 }, { "TEXT", CLI_ALIGN_LEFT, 12, 0 },
};

static void cli_print_mentions(const struct cli *c, json_t *list)
{
    struct cli_table *t = cli_table_new(cli_mention_columns, G_N_ELEMENTS(cli_mention_columns));
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m) {
        g_autofree char *id = g_strdup_printf("%lld", (long long)cli_int(m, "id"));
        g_autofree char *score = g_strdup_printf("%lld", (long long)cli_int(m, "score"));
        g_autofree char *state = cli_state(c, m);
        const char *cells[] = { id, score, state, cli_str(m, "network"), cli_author(m), cli_str(m, "text") };
        const char *colors[] = { NULL, cli_urgency_color(c, m), NULL, NULL, NULL, NULL };
        cli_table_add(t, cells, colors);
    }
    g_autofree char *out = cli_table_render(t, c->width, true, c->color);
    fputs(out, stdout);
    cli_table_free(t);
}

static int cli_cmd_list(const struct cli *c)
{
    json_t *args = json_pack("{s:b}", "all", c->a.all);
    if (c->a.limit > 0)
        json_object_set_new(args, "limit", json_integer(c->a.limit));
    int rc = CLI_EXIT_OK;
    json_t *res = cli_call("list", args, &rc);
    json_decref(args);
    if (!res)
        return rc;
    if (c->a.json)
        cli_print_json(res);
    else if (json_array_size(res) == 0)
        puts(c->a.all ? "No mentions stored yet." : "Nobody is waiting for you.");
    else
        cli_print_mentions(c, res);
    json_decref(res);
    return CLI_EXIT_OK;
}

/* One "label  value" line of show, cut to the width. */
static void cli_field(const struct cli *c, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    g_autofree char *v = cli_fit(value, c->width - 10);
    printf("%s%-8s%s  %s\n", cli_sgr(c, SGR_DIM), label, cli_sgr(c, SGR_RESET), v);
}

static void cli_print_show(const struct cli *c, json_t *m)
{
    json_t *a = json_object_get(m, "author");
    const char *name = cli_str(a, "name"), *handle = cli_str(a, "handle");
    g_autofree char *who = name && *name && handle && *handle ? g_strdup_printf("%s (%s)", name, handle)
                                                               : g_strdup(cli_author(m));
    g_autofree char *head = g_strdup_printf("#%lld  %s", (long long)cli_int(m, "id"), who);
    g_autofree char *head_fit = cli_fit(head, c->width);
    printf("%s%s%s\n", cli_sgr(c, SGR_BOLD), head_fit, cli_sgr(c, SGR_RESET));

    g_autofree char *where = g_strdup_printf("%s, account %s, %s", cli_str(m, "network"), cli_str(m, "account"),
                                             cli_str(m, "kind") ? cli_str(m, "kind") : "mention");
    cli_field(c, "network", where);
    g_autofree char *state = cli_state(c, m);
    cli_field(c, "state", state);
    g_autofree char *score = g_strdup_printf("%lld, %s (heed explain %lld says why)", (long long)cli_int(m, "score"),
                                             cli_str(m, "urgency") ? cli_str(m, "urgency") : "?",
                                             (long long)cli_int(m, "id"));
    cli_field(c, "score", score);
    g_autofree char *created = cli_local_time(cli_str(m, "created_at"), c->now);
    g_autofree char *age = cli_age(c->now - cli_parse_time(cli_str(m, "created_at")));
    g_autofree char *when = created ? g_strdup_printf("%s (%s ago)", created, age) : NULL;
    cli_field(c, "created", when);
    cli_field(c, "context", cli_str(m, "context"));
    cli_field(c, "link", cli_str(m, "url"));
    g_autofree char *text = cli_wrap(cli_str(m, "text"), c->width);
    if (*text)
        printf("\n%s\n", text);
}

static void cli_print_explain(const struct cli *c, json_t *res)
{
    printf("%s#%lld scores %lld (%s)%s\n", cli_sgr(c, SGR_BOLD), (long long)cli_int(res, "id"),
           (long long)cli_int(res, "score"), cli_str(res, "urgency") ? cli_str(res, "urgency") : "?",
           cli_sgr(c, SGR_RESET));
    json_t *reasons = json_object_get(res, "reasons");
    long long sum = 0;
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r) {
        long long p = cli_int(r, "points");
        sum += p;
        g_autofree char *why = cli_fit(cli_str(r, "reason"), c->width - 8);
        printf("  %+5lld  %s\n", p, why);
    }
    if (sum != cli_int(res, "score"))
        printf("  %5lld  total, kept within 0-100\n", (long long)cli_int(res, "score"));
}

static int cli_cmd_with_id(const struct cli *c)
{
    const char *cmd = cli_cmd_name(c->a.cmd);
    json_t *args = json_pack("{s:I}", "id", (json_int_t)c->a.id);
    if (c->a.cmd == CLI_CMD_SNOOZE && c->a.snooze_seconds > 0)
        json_object_set_new(args, "seconds", json_integer(c->a.snooze_seconds));
    int rc = CLI_EXIT_OK;
    json_t *res = cli_call(cmd, args, &rc);
    json_decref(args);
    if (!res)
        return rc;
    if (c->a.json) {
        cli_print_json(res);
        json_decref(res);
        return CLI_EXIT_OK;
    }
    long long id = c->a.id;
    switch (c->a.cmd) {
    case CLI_CMD_SHOW:
        cli_print_show(c, res);
        break;
    case CLI_CMD_EXPLAIN:
        cli_print_explain(c, res);
        break;
    case CLI_CMD_OPEN: {
        g_autofree char *url = cli_clean(cli_str(res, "url"));
        printf("Opened %s\n", url);
        break;
    }
    case CLI_CMD_DONE:
        printf("#%lld is done.\n", id);
        break;
    case CLI_CMD_WAKE:
        printf("#%lld is waiting again.\n", id);
        break;
    case CLI_CMD_SNOOZE: {
        const char *iso = cli_str(res, "snoozed_until");
        g_autofree char *until = cli_local_time(iso, c->now);
        /* The length asked for is exact; otherwise it is heed.conf's,
         * which only the daemon knows, so work it out from its answer. */
        int64_t t = cli_parse_time(iso);
        int64_t secs = c->a.snooze_seconds > 0 ? c->a.snooze_seconds : t > c->now ? t - c->now : 0;
        g_autofree char *span = cli_age(secs);
        if (until)
            printf("#%lld is snoozed for %s, till %s.\n", id, span, until);
        else
            printf("#%lld is snoozed for %s.\n", id, span);
        break;
    }
    default:
        break;
    }
    json_decref(res);
    return CLI_EXIT_OK;
}

/* ---- status, stats, reload ---------------------------------------------- */

static const struct cli_column cli_account_columns[] = {
    { "ACCOUNT", CLI_ALIGN_LEFT, 4, 20 },     { "NETWORK", CLI_ALIGN_LEFT, 4, 0 },
    { "HEALTH", CLI_ALIGN_LEFT, 2, 0 },       { "LAST GOOD POLL", CLI_ALIGN_LEFT, 5, 0 },
    { "PROBLEM", CLI_ALIGN_LEFT, 10, 0 },
};

static const char *cli_health_color(const struct cli *c, const char *health)
{
    if (g_strcmp0(health, "ok") == 0)
        return cli_sgr(c, SGR_GREEN);
    if (g_strcmp0(health, "starting") == 0)
        return "";
    if (g_strcmp0(health, "retrying") == 0)
        return cli_sgr(c, SGR_YELLOW);
    return cli_sgr(c, SGR_RED);
}

static int cli_cmd_status(const struct cli *c)
{
    int rc = CLI_EXIT_OK;
    json_t *res = cli_call("status", NULL, &rc);
    if (!res)
        return rc;
    if (c->a.json) {
        cli_print_json(res);
        json_decref(res);
        return CLI_EXIT_OK;
    }
    g_autofree char *version = cli_clean(cli_str(res, "version"));
    printf("%sheedd %s is running%s (pid %lld)\n", cli_sgr(c, SGR_BOLD), version, cli_sgr(c, SGR_RESET),
           (long long)cli_int(res, "pid"));

    json_int_t people = cli_int(res, "people"), waiting = cli_int(res, "waiting");
    if (waiting == 0) {
        puts("Nobody is waiting for you.");
    } else {
        /* heedd's own count of seconds: its clock is the one that matters. */
        json_t *secs = json_object_get(res, "oldest_waiting_seconds");
        int64_t oldest = cli_parse_time(cli_str(res, "oldest_waiting"));
        int64_t waited = json_is_integer(secs) ? json_integer_value(secs)
                         : oldest > 0 && c->now > oldest ? c->now - oldest : 0;
        g_autofree char *age = cli_age(waited);
        printf("%lld %s waiting (%lld mention%s); the oldest for %s.\n", (long long)people,
               people == 1 ? "person" : "people", (long long)waiting, waiting == 1 ? "" : "s", age);
    }
    json_t *n = json_object_get(res, "notifications");
    if (json_is_true(json_object_get(n, "server")))
        puts("Notifications: the desktop's notification server is answering.");
    else
        puts("Notifications: no notification server is answering.");

    json_t *accounts = json_object_get(res, "accounts");
    if (json_array_size(accounts) == 0) {
        puts("No accounts are configured: add an [account NAME] group to heed.conf (see heed.conf(5)).");
        json_decref(res);
        return CLI_EXIT_OK;
    }
    putchar('\n');
    struct cli_table *t = cli_table_new(cli_account_columns, G_N_ELEMENTS(cli_account_columns));
    size_t i;
    json_t *a;
    json_array_foreach(accounts, i, a) {
        const char *health = cli_str(a, "health");
        const char *last = cli_str(a, "last_ok");
        g_autofree char *when = cli_local_time(last, c->now);
        int64_t t_last = cli_parse_time(last);
        g_autofree char *ago = cli_age(t_last > 0 && c->now > t_last ? c->now - t_last : 0);
        g_autofree char *last_cell = when ? g_strdup_printf("%s (%s ago)", when, ago) : g_strdup("never");
        const char *cells[] = { cli_str(a, "name"), cli_str(a, "network"), health, last_cell, cli_str(a, "error") };
        const char *colors[] = { NULL, NULL, cli_health_color(c, health), NULL, cli_sgr(c, SGR_RED) };
        cli_table_add(t, cells, colors);
    }
    g_autofree char *out = cli_table_render(t, c->width, true, c->color);
    fputs(out, stdout);
    cli_table_free(t);
    json_decref(res);
    return CLI_EXIT_OK;
}

static int cli_cmd_stats(const struct cli *c)
{
    json_t *args = json_object();
    if (c->a.days > 0)
        json_object_set_new(args, "days", json_integer(c->a.days));
    int rc = CLI_EXIT_OK;
    json_t *res = cli_call("stats", args, &rc);
    json_decref(args);
    if (!res)
        return rc;
    if (c->a.json) {
        cli_print_json(res);
        json_decref(res);
        return CLI_EXIT_OK;
    }
    long long days = cli_int(res, "days"), mentions = cli_int(res, "mentions");
    long long answered = cli_int(res, "answered"), replied = cli_int(res, "replied_on_network");
    printf("%sLast %lld day%s:%s %lld mention%s", cli_sgr(c, SGR_BOLD), days, days == 1 ? "" : "s",
           cli_sgr(c, SGR_RESET), mentions, mentions == 1 ? "" : "s");
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
        cli_print_mentions(c, longest);
    }
    json_decref(res);
    return CLI_EXIT_OK;
}

static int cli_cmd_reload(void)
{
    int rc = CLI_EXIT_OK;
    json_t *res = cli_call("reload", NULL, &rc);
    if (!res)
        return rc;
    long long n = cli_int(res, "accounts");
    printf("heedd re-read its configuration: %lld account%s.\n", n, n == 1 ? "" : "s");
    json_decref(res);
    return CLI_EXIT_OK;
}

/* ---- check-config ------------------------------------------------------- */

/* Configuration problems read like a compiler's: they start with the file
 * name, which already says where to look. */
static void cli_report(const char *msg)
{
    g_autofree char *clean = cli_clean(msg);
    fprintf(stderr, "%s\n", clean);
}

static void cli_problem(GPtrArray *problems, char *msg /* stolen */)
{
    g_ptr_array_add(problems, msg);
}

static int cli_cmd_check_config(const struct cli *c)
{
    g_autofree char *path = c->a.file ? g_strdup(c->a.file) : config_default_path();
    GError *err = NULL;
    /* A named file must exist; the default one may be missing (heedd then
     * runs with defaults), but checking nothing deserves a word. */
    struct config *cfg = config_load(path, true, &err);
    if (!cfg) {
        /* One problem per line, each naming file, group and key. */
        g_auto(GStrv) lines = g_strsplit(err->message, "\n", -1);
        for (char **l = lines; *l; l++)
            cli_report(*l);
        g_error_free(err);
        return CLI_EXIT_ERROR;
    }
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < cfg->problems->len; i++)
        cli_problem(problems, g_strdup(g_ptr_array_index(cfg->problems, i)));

    /* [score] is interpreted by score.c, not by config_load(). */
    struct score_weights w;
    score_weights_default(&w);
    if (cfg->score_group && !score_weights_load(&w, cfg->score_group, cfg->path, &err)) {
        cli_problem(problems, g_strdup(err->message));
        g_clear_error(&err);
    }
    /* Token files are checked the way heedd will read them (ownership and
     * mode included); token commands are not run, they may prompt. */
    for (int i = 0; i < cfg->n_accounts; i++) {
        const struct config_account *a = &cfg->accounts[i];
        if (!a->token_file)
            continue;
        char *secret = secret_from_file(a->token_file, &err);
        if (!secret) {
            cli_problem(problems, g_strdup_printf("%s: [account %s] token_file: %s", cfg->path, a->name, err->message));
            g_clear_error(&err);
        }
        secret_free(secret);
    }
    for (guint i = 0; i < problems->len; i++)
        cli_report(g_ptr_array_index(problems, i));
    g_autofree char *shown = cli_clean(cfg->path);
    printf("%s: %d account%s ready", shown, cfg->n_accounts, cfg->n_accounts == 1 ? "" : "s");
    if (problems->len > 0)
        printf(", %u problem%s (above)", problems->len, problems->len == 1 ? "" : "s");
    puts(".");
    config_free(cfg);
    return problems->len > 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* ---- main --------------------------------------------------------------- */

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    struct cli c = { 0 };
    g_autofree char *error = NULL;
    if (!cli_args_parse(argc, argv, &c.a, &error)) {
        /* The command name leads the message when there is one. */
        const char *name = cli_cmd_name(c.a.cmd);
        g_autofree char *clean = cli_clean(error);
        size_t n = name ? strlen(name) : 0;
        if (name && strncmp(clean, name, n) == 0 && clean[n] == ':')
            fprintf(stderr, "heed %s (see heed %s --help)\n", clean, name);
        else
            fprintf(stderr, "heed: %s (see heed --help)\n", clean);
        return CLI_EXIT_USAGE;
    }
    if (c.a.cmd == CLI_CMD_NONE) {
        fputs(cli_usage_text(CLI_CMD_NONE), stderr);
        return CLI_EXIT_USAGE;
    }
    if (c.a.cmd == CLI_CMD_HELP || c.a.help) {
        fputs(cli_usage_text(c.a.cmd), stdout);
        return CLI_EXIT_OK;
    }
    if (c.a.cmd == CLI_CMD_VERSION) {
        printf("heed %s\n", HEED_VERSION);
        return CLI_EXIT_OK;
    }

    bool tty = isatty(STDOUT_FILENO) == 1;
    struct winsize ws = { 0 };
    int tty_cols = tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
    c.width = cli_term_width(tty, tty_cols, getenv("COLUMNS"));
    c.color = cli_use_color(tty, getenv("NO_COLOR"), getenv("TERM"));
    c.now = g_get_real_time() / G_USEC_PER_SEC;

    int rc;
    switch (c.a.cmd) {
    case CLI_CMD_STATUS: rc = cli_cmd_status(&c); break;
    case CLI_CMD_LIST: rc = cli_cmd_list(&c); break;
    case CLI_CMD_STATS: rc = cli_cmd_stats(&c); break;
    case CLI_CMD_RELOAD: rc = cli_cmd_reload(); break;
    case CLI_CMD_CHECK_CONFIG: rc = cli_cmd_check_config(&c); break;
    case CLI_CMD_LOGIN: rc = login_main(&c.a); break;
    case CLI_CMD_DOCTOR: rc = doctor_main(&c.a, c.color); break;
    default: rc = cli_cmd_with_id(&c); break;
    }
    /* Output that never arrived (a full disk, a closed pipe) is a failure. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == CLI_EXIT_OK)
            fprintf(stderr, "heed: cannot write the output\n");
        return rc == CLI_EXIT_OK ? CLI_EXIT_ERROR : rc;
    }
    return rc;
}
