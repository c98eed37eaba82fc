/* heed: the command-line client. It knows nothing the daemon does not tell
 * it over the control socket, except check-config, which reads the file.
 *
 * Exit status: 0 ok, 1 error, 2 usage, 3 heedd not running. */
#include <glib.h>
#include <jansson.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "build_config.h"
#include "config.h"
#include "control.h"
#include "text.h"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2, EXIT_NOT_RUNNING = 3 };
#define CLI_TIMEOUT_MS 10000

struct cli {
    bool json, color;
    int width;
};

static int cli_usage(FILE *out)
{
    fputs("usage: heed [--version] [--help] COMMAND [ARGS]\n"
          "\n"
          "Commands:\n"
          "  status [--json]              is heedd running, accounts, who is waiting\n"
          "  list [--all] [--limit N] [--json]\n"
          "                               mentions waiting for you, most urgent first\n"
          "  show ID [--json]             one mention in full\n"
          "  explain ID [--json]          why a mention scored what it did\n"
          "  open ID                      open the post in the browser\n"
          "  done ID                      mark handled; withdraws its notification\n"
          "  snooze ID [DURATION]         hide until later (default from heed.conf; e.g. 30m, 2h, 1d)\n"
          "  reload                       re-read heed.conf\n"
          "  check-config [FILE]          validate a configuration file\n"
          "\n"
          "Exit status: 0 ok, 1 error, 2 usage, 3 heedd not running.\n",
          out);
    return out == stdout ? EXIT_OK : EXIT_USAGE;
}

static int cli_fail_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int cli_fail_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "heed: %s (see heed --help)\n", msg);
    return EXIT_USAGE;
}

/* Send a command; prints errors and returns NULL with *rc set. */
static json_t *cli_call(const char *cmd, json_t *args, int *rc)
{
    GError *err = NULL;
    g_autofree char *path = control_default_path(&err);
    json_t *res = path ? control_call(path, cmd, args, CLI_TIMEOUT_MS, &err) : NULL;
    if (res)
        return res;
    if (g_error_matches(err, CONTROL_ERROR, CONTROL_ERROR_NOT_RUNNING)) {
        fprintf(stderr, "heed: heedd is not running (start it with: systemctl --user start heed)\n");
        *rc = EXIT_NOT_RUNNING;
    } else {
        fprintf(stderr, "heed: %s\n", err->message);
        *rc = EXIT_ERR;
    }
    g_error_free(err);
    return NULL;
}

static void cli_print_json(json_t *v)
{
    char *s = json_dumps(v, JSON_INDENT(2) | JSON_ENSURE_ASCII * 0 | JSON_ENCODE_ANY);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
}

static const char *cli_c(const struct cli *c, const char *code)
{
    return c->color ? code : "";
}

static char *cli_age(json_int_t seconds)
{
    if (seconds < 60)
        return g_strdup("now");
    if (seconds < 3600)
        return g_strdup_printf("%d min", (int)(seconds / 60));
    if (seconds < 86400 * 2)
        return g_strdup_printf("%d h", (int)(seconds / 3600));
    return g_strdup_printf("%d d", (int)(seconds / 86400));
}

/* Fit s into `cols` terminal columns (one column per character is a fair
 * approximation for the text we print), on one line. */
static char *cli_fit(const char *s, int cols)
{
    g_autofree char *flat = text_sanitize(s ? s : "", false);
    if (cols <= 0)
        return g_strdup("");
    if ((int)g_utf8_strlen(flat, -1) <= cols)
        return g_steal_pointer(&flat);
    const char *end = g_utf8_offset_to_pointer(flat, cols > 1 ? cols - 1 : 0);
    return g_strdup_printf("%.*s…", (int)(end - flat), flat);
}

static int cli_list(const struct cli *c, int argc, char **argv)
{
    bool all = false;
    long limit = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0)
            all = true;
        else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc) {
            char *end;
            limit = strtol(argv[++i], &end, 10);
            if (*end || limit <= 0)
                return cli_fail_usage("--limit needs a positive number, not \"%s\"", argv[i]);
        } else if (strcmp(argv[i], "--help") == 0) {
            puts("usage: heed list [--all] [--limit N] [--json]\n\n"
                 "Mentions still waiting for you, most urgent first. --all adds handled ones.\n"
                 "--json prints every field, never truncated unless --limit is given.");
            return EXIT_OK;
        } else
            return cli_fail_usage("list: unknown argument \"%s\"", argv[i]);
    }
    json_t *args = json_pack("{s:b}", "all", all);
    if (limit > 0)
        json_object_set_new(args, "limit", json_integer(limit));
    int rc = EXIT_OK;
    json_t *res = cli_call("list", args, &rc);
    json_decref(args);
    if (!res)
        return rc;
    if (c->json) {
        cli_print_json(res);
        json_decref(res);
        return EXIT_OK;
    }
    if (json_array_size(res) == 0) {
        puts(all ? "No mentions stored yet." : "Nobody is waiting for you.");
        json_decref(res);
        return EXIT_OK;
    }
    size_t i;
    json_t *m;
    /* id, score, age, who, text: fixed columns then the rest of the width. */
    int who_w = 24;
    json_array_foreach(res, i, m) {
        json_int_t id = json_integer_value(json_object_get(m, "id"));
        json_int_t score = json_integer_value(json_object_get(m, "score"));
        const char *urg = json_string_value(json_object_get(m, "urgency"));
        const char *state = json_string_value(json_object_get(m, "state"));
        json_t *author = json_object_get(m, "author");
        const char *name = json_string_value(json_object_get(author, "name"));
        const char *handle = json_string_value(json_object_get(author, "handle"));
        g_autofree char *age = cli_age(json_integer_value(json_object_get(m, "waiting_seconds")));
        g_autofree char *who = cli_fit(name ? name : handle, who_w);
        const char *col = g_strcmp0(urg, "critical") == 0 ? "\033[1;31m"
                          : g_strcmp0(urg, "normal") == 0 ? "\033[1m"
                                                           : "\033[2m";
        g_autofree char *state_col = g_strcmp0(state, "waiting") == 0 ? g_strdup("") : g_strdup_printf(" [%s]", state);
        int fixed = 6 + 1 + 3 + 1 + 7 + 1 + who_w + 2 + (int)strlen(state_col);
        g_autofree char *text = cli_fit(json_string_value(json_object_get(m, "text")), c->width - fixed);
        int pad = who_w - (int)g_utf8_strlen(who, -1);
        printf("%6lld %s%3lld%s %7s %s%s%*s  %s%s\n", (long long)id, cli_c(c, col), (long long)score,
               cli_c(c, "\033[0m"), age, who, state_col, pad > 0 ? pad : 0, "", text, "");
    }
    json_decref(res);
    return EXIT_OK;
}

static bool cli_parse_id(const char *s, json_int_t *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v <= 0)
        return false;
    *out = v;
    return true;
}

static void cli_print_reasons(json_t *reasons)
{
    size_t i;
    json_t *r;
    json_array_foreach(reasons, i, r) {
        json_int_t p = json_integer_value(json_object_get(r, "points"));
        printf("  %+4lld  %s\n", (long long)p, json_string_value(json_object_get(r, "reason")));
    }
}

static int cli_with_id(const struct cli *c, const char *cmd, int argc, char **argv)
{
    json_int_t id = 0;
    const char *duration = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            printf("usage: heed %s ID%s%s\n", cmd, strcmp(cmd, "snooze") == 0 ? " [DURATION]" : "",
                   strcmp(cmd, "show") == 0 || strcmp(cmd, "explain") == 0 ? " [--json]" : "");
            return EXIT_OK;
        }
        if (id == 0) {
            if (!cli_parse_id(argv[i], &id))
                return cli_fail_usage("expected a mention id (a number from heed list), not \"%s\"", argv[i]);
        } else if (strcmp(cmd, "snooze") == 0 && !duration) {
            duration = argv[i];
        } else {
            return cli_fail_usage("unexpected argument \"%s\"", argv[i]);
        }
    }
    if (id == 0)
        return cli_fail_usage("%s needs a mention id", cmd);
    json_t *args = json_pack("{s:I}", "id", id);
    if (duration) {
        int64_t s = config_parse_duration(duration);
        if (s <= 0) {
            json_decref(args);
            return cli_fail_usage("not a duration: \"%s\" (try 30m, 2h or 1d)", duration);
        }
        json_object_set_new(args, "seconds", json_integer(s));
    }
    int rc = EXIT_OK;
    json_t *res = cli_call(cmd, args, &rc);
    json_decref(args);
    if (!res)
        return rc;
    if (c->json) {
        cli_print_json(res);
    } else if (strcmp(cmd, "show") == 0) {
        json_t *a = json_object_get(res, "author");
        g_autofree char *age = cli_age(json_integer_value(json_object_get(res, "waiting_seconds")));
        printf("%s (%s) on %s · %s · %s ago · score %lld\n", json_string_value(json_object_get(a, "name")),
               json_string_value(json_object_get(a, "handle")), json_string_value(json_object_get(res, "network")),
               json_string_value(json_object_get(res, "state")), age,
               (long long)json_integer_value(json_object_get(res, "score")));
        const char *ctx = json_string_value(json_object_get(res, "context"));
        if (ctx)
            printf("%s\n", ctx);
        printf("\n%s\n\n%s\n", json_string_value(json_object_get(res, "text")),
               json_string_value(json_object_get(res, "url")));
    } else if (strcmp(cmd, "explain") == 0) {
        printf("score %lld (%s)\n", (long long)json_integer_value(json_object_get(res, "score")),
               json_string_value(json_object_get(res, "urgency")));
        cli_print_reasons(json_object_get(res, "reasons"));
    } else if (strcmp(cmd, "snooze") == 0) {
        printf("snoozed until %s\n", json_string_value(json_object_get(res, "snoozed_until")));
    } else if (strcmp(cmd, "open") == 0) {
        printf("opened %s\n", json_string_value(json_object_get(res, "url")));
    }
    json_decref(res);
    return EXIT_OK;
}

static int cli_status(const struct cli *c)
{
    int rc = EXIT_OK;
    json_t *res = cli_call("status", NULL, &rc);
    if (!res)
        return rc;
    if (c->json) {
        cli_print_json(res);
        json_decref(res);
        return EXIT_OK;
    }
    printf("%sheedd%s %s running (pid %lld): %s\n", cli_c(c, "\033[1;32m"), cli_c(c, "\033[0m"),
           json_string_value(json_object_get(res, "version")), (long long)json_integer_value(json_object_get(res, "pid")),
           json_string_value(json_object_get(res, "summary")));
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(res, "accounts"), i, a) {
        const char *health = json_string_value(json_object_get(a, "health"));
        const char *err = json_string_value(json_object_get(a, "error"));
        const char *last = json_string_value(json_object_get(a, "last_ok"));
        printf("  %-16s %-9s %s%-15s%s last ok %s%s%s\n", json_string_value(json_object_get(a, "name")),
               json_string_value(json_object_get(a, "network")),
               cli_c(c, g_strcmp0(health, "ok") == 0 ? "\033[32m" : "\033[31m"), health, cli_c(c, "\033[0m"),
               last ? last : "never", err ? " · " : "", err ? err : "");
    }
    json_t *n = json_object_get(res, "notifications");
    printf("  notifications: %s\n", json_is_true(json_object_get(n, "server")) ? "server answering" : "no server");
    json_decref(res);
    return EXIT_OK;
}

static int cli_check_config(int argc, char **argv)
{
    g_autofree char *path = argc > 0 ? g_strdup(argv[0]) : config_default_path();
    GError *err = NULL;
    struct config *cfg = config_load(path, true, &err);
    if (!cfg) {
        fprintf(stderr, "%s\n", err->message);
        g_error_free(err);
        return EXIT_ERR;
    }
    int problems = cfg->problems ? (int)cfg->problems->len : 0;
    for (int i = 0; i < problems; i++)
        fprintf(stderr, "%s\n", (const char *)g_ptr_array_index(cfg->problems, i));
    printf("%s: %d account%s ready%s\n", path, cfg->n_accounts, cfg->n_accounts == 1 ? "" : "s",
           problems ? ", with problems above" : "");
    config_free(cfg);
    return problems ? EXIT_ERR : EXIT_OK;
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    struct cli c = { 0 };
    c.color = isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
    struct winsize ws;
    c.width = isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 ? ws.ws_col : 100;
    if (c.width < 40)
        c.width = 40;

    /* Global options first, then the command; --json is accepted anywhere. */
    GPtrArray *rest = g_ptr_array_new();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            c.json = true;
        else
            g_ptr_array_add(rest, argv[i]);
    }
    int n = (int)rest->len;
    char **args = (char **)rest->pdata;
    int rc;
    if (n == 0) {
        rc = cli_usage(stderr);
    } else if (strcmp(args[0], "--version") == 0 || strcmp(args[0], "version") == 0) {
        printf("heed %s\n", HEED_VERSION);
        rc = EXIT_OK;
    } else if (strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0 || strcmp(args[0], "help") == 0) {
        rc = cli_usage(stdout);
    } else if (strcmp(args[0], "list") == 0) {
        rc = cli_list(&c, n - 1, args + 1);
    } else if (strcmp(args[0], "status") == 0) {
        rc = n > 1 && strcmp(args[1], "--help") == 0 ? (puts("usage: heed status [--json]"), EXIT_OK) : cli_status(&c);
    } else if (strcmp(args[0], "show") == 0 || strcmp(args[0], "explain") == 0 || strcmp(args[0], "open") == 0 ||
               strcmp(args[0], "done") == 0 || strcmp(args[0], "snooze") == 0) {
        rc = cli_with_id(&c, args[0], n - 1, args + 1);
    } else if (strcmp(args[0], "reload") == 0) {
        json_t *res = cli_call("reload", NULL, &rc);
        if (res) {
            printf("reloaded: %lld account%s\n", (long long)json_integer_value(json_object_get(res, "accounts")),
                   json_integer_value(json_object_get(res, "accounts")) == 1 ? "" : "s");
            json_decref(res);
            rc = EXIT_OK;
        }
    } else if (strcmp(args[0], "check-config") == 0) {
        rc = cli_check_config(n - 1, args + 1);
    } else {
        rc = cli_fail_usage("unknown command \"%s\"", args[0]);
    }
    g_ptr_array_unref(rest);
    return rc;
}
