/* SPDX-License-Identifier: MIT */
/* args: see args.h. */
#include "args.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "config.h"
#include "login.h"
#include "net/net.h"

/* Arguments are quoted in messages through this so that a stray control
 * character typed or pasted on the command line cannot garble the terminal. */
static char *cli_quote(const char *s)
{
    GString *q = g_string_new("\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf(q, "\\x%02x", *p);
        else
            g_string_append_c(q, (char)*p);
    }
    g_string_append_c(q, '"');
    return g_string_free(q, FALSE);
}

static bool cli_fail(char **error, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool cli_fail(char **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    *error = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    return false;
}

/* A whole decimal number in [min, max]; no sign, no spaces, no suffix. */
static bool cli_parse_number(const char *s, long long min, long long max, long long *out)
{
    if (!g_ascii_isdigit(*s))
        return false;
    for (const char *p = s; *p; p++)
        if (!g_ascii_isdigit(*p))
            return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno == ERANGE || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* "--name=value" or "--name value": returns the value (advancing *i for the
 * second form), or NULL when arg is not that option. *missing is set when
 * the option is there but its value is not. */
static const char *cli_option_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    const char *arg = argv[*i];
    size_t n = strlen(name);
    *missing = false;
    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = true;
        return NULL;
    }
    return argv[++*i];
}

/* "-12" is a (bad) mention id rather than an unknown option, so that the
 * message talks about ids. */
static bool cli_is_option(const char *arg)
{
    return arg[0] == '-' && arg[1] != '\0' && !g_ascii_isdigit(arg[1]);
}

/* "status, list, show, explain or stats": the verbs that print JSON. */
static char *cli_json_commands(void)
{
    GPtrArray *names = g_ptr_array_new();
    for (const struct cmd_entry *const *e = cmd_table(); *e; e++)
        if ((*e)->flags & CMD_F_JSON)
            g_ptr_array_add(names, (gpointer)(*e)->name);
    GString *s = g_string_new(NULL);
    for (guint k = 0; k < names->len; k++)
        g_string_append_printf(s, "%s%s", k == 0 ? "" : k + 1 == names->len ? " or " : ", ",
                               (const char *)g_ptr_array_index(names, k));
    g_ptr_array_free(names, TRUE);
    return g_string_free(s, FALSE);
}

static bool cli_no_json(const struct cmd_entry *spec, char **error)
{
    g_autofree char *with = cli_json_commands();
    return cli_fail(error, "%s: --json is not supported here; expected it with %s", spec->name, with);
}

static bool cli_positional(const struct cmd_entry *spec, const char *arg, int *n_pos, struct cli_args *out,
                           char **error)
{
    g_autofree char *q = cli_quote(arg);
    int pos = (*n_pos)++;
    if ((spec->flags & (CMD_F_ID | CMD_F_ID_OPTIONAL)) && pos == 0) {
        long long id;
        if (!cli_parse_number(arg, 1, INT64_MAX, &id))
            return cli_fail(error, "%s: %s is not a mention id; expected a number from heed list", spec->name, q);
        out->id = id;
        return true;
    }
    if ((spec->flags & CMD_F_DURATION) && pos == 1) {
        int64_t s = config_parse_duration(arg);
        if (s < 0)
            return cli_fail(error, "%s: %s is not a duration; expected e.g. 90s, 30m, 2h or 1d", spec->name, q);
        if (s == 0 || s > CLI_MAX_SNOOZE_SECONDS)
            return cli_fail(error, "%s: %s is out of range; expected from 1s to 30d", spec->name, q);
        out->snooze_seconds = s;
        return true;
    }
    if ((spec->flags & CMD_F_FILE) && pos == 0) {
        if (!*arg)
            return cli_fail(error, "%s: the file name is empty", spec->name);
        out->file = arg;
        return true;
    }
    if ((spec->flags & CMD_F_LOGIN) && pos == 0) {
        const struct net_driver *d = net_driver_find(arg);
        if (!d || d->login == NET_LOGIN_NONE) {
            g_autofree char *list = login_network_list(" or ");
            return cli_fail(error, "%s: %s is not a network; expected %s", spec->name, q, list);
        }
        out->network = arg;
        return true;
    }
    const struct net_driver *drv = out->network ? net_driver_find(out->network) : NULL;
    if ((spec->flags & CMD_F_LOGIN) && pos == 1 && drv && drv->login_target) {
        if (!*arg)
            return cli_fail(error, "%s: the %s is empty", spec->name, drv->login_target);
        out->target = arg;
        return true;
    }
    if ((spec->flags & CMD_F_COMMAND) && pos == 0) {
        const struct cmd_entry *about = cmd_find(arg);
        if (!about || about == spec)
            return cli_fail(error, "%s: unknown command %s", spec->name, q);
        /* "heed help list" is "heed list --help". */
        out->cmd = about;
        out->help = true;
        return true;
    }
    return cli_fail(error, "%s: unexpected argument %s", spec->name, q);
}

static bool cli_option(const struct cmd_entry *spec, int argc, char **argv, int *i, struct cli_args *out,
                       char **error)
{
    const char *arg = argv[*i];
    const char *v;
    bool missing;
    long long n;
    if (strcmp(arg, "--json") == 0) {
        if (!(spec->flags & CMD_F_JSON))
            return cli_no_json(spec, error);
        out->json = true;
        return true;
    }
    if ((spec->flags & CMD_F_LIST) && (strcmp(arg, "--all") == 0 || strcmp(arg, "-a") == 0)) {
        out->all = true;
        return true;
    }
    if (spec->flags & CMD_F_LIST) {
        v = cli_option_value(argc, argv, i, "--limit", &missing);
        if (missing)
            return cli_fail(error, "%s: --limit needs a number", spec->name);
        if (v) {
            g_autofree char *q = cli_quote(v);
            if (!cli_parse_number(v, 1, CLI_MAX_LIMIT, &n))
                return cli_fail(error, "%s: --limit %s is not a count; expected a whole number from 1 to %d",
                                spec->name, q, CLI_MAX_LIMIT);
            out->limit = (long)n;
            return true;
        }
    }
    if (spec->flags & CMD_F_DAYS) {
        v = cli_option_value(argc, argv, i, "--days", &missing);
        if (missing)
            return cli_fail(error, "%s: --days needs a number", spec->name);
        if (v) {
            g_autofree char *q = cli_quote(v);
            if (!cli_parse_number(v, 1, CLI_MAX_DAYS, &n))
                return cli_fail(error, "%s: --days %s is not a number of days; expected a whole number from 1 to %d",
                                spec->name, q, CLI_MAX_DAYS);
            out->days = (long)n;
            return true;
        }
    }
    if (spec->flags & CMD_F_FORMAT) {
        v = cli_option_value(argc, argv, i, "--format", &missing);
        if (missing)
            return cli_fail(error, "%s: --format needs a name", spec->name);
        if (v) {
            static const char *const formats[] = { "text", "json", "waybar", "polybar", "i3blocks" };
            bool known = false;
            for (size_t k = 0; k < G_N_ELEMENTS(formats) && !known; k++)
                known = strcmp(v, formats[k]) == 0;
            g_autofree char *q = cli_quote(v);
            if (!known)
                return cli_fail(error, "%s: --format %s is not known; expected text, json, waybar, polybar or i3blocks",
                                spec->name, q);
            out->format = v;
            return true;
        }
        if (strcmp(arg, "--follow") == 0 || strcmp(arg, "-f") == 0) {
            out->follow = true;
            return true;
        }
    }
    if (spec->flags & CMD_F_LOGIN) {
        const char *const value_options[] = { "--name", "--server", "--ca-file", "--client-id" };
        const char **slots[] = { &out->name, &out->server, &out->ca_file, &out->client_id };
        for (size_t k = 0; k < G_N_ELEMENTS(value_options); k++) {
            v = cli_option_value(argc, argv, i, value_options[k], &missing);
            if (missing || (v && !*v))
                return cli_fail(error, "%s: %s needs a value", spec->name, value_options[k]);
            if (v) {
                *slots[k] = v;
                return true;
            }
        }
        if (strcmp(arg, "--force") == 0) {
            out->force = true;
            return true;
        }
        if (strcmp(arg, "--keyring") == 0) {
            out->keyring = true;
            return true;
        }
        if (strcmp(arg, "--no-browser") == 0) {
            out->no_browser = true;
            return true;
        }
    }
    g_autofree char *q = cli_quote(arg);
    return cli_fail(error, "%s: unknown option %s", spec->name, q);
}

/* Options before the command: --json, and --help or --version alone. Sets
 * *i to the command's index; returns false on a usage error, and sets *done
 * when the line is complete without a command. */
static bool cli_global_options(int argc, char **argv, int *i, struct cli_args *out, bool *json, bool *done,
                               char **error)
{
    for (; *i < argc && cli_is_option(argv[*i]); (*i)++) {
        const char *arg = argv[*i];
        if (strcmp(arg, "--json") == 0) {
            *json = true;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            (*i)++;
            break;
        }
        bool help = strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
        bool version = strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0;
        if (!help && !version) {
            g_autofree char *q = cli_quote(arg);
            return cli_fail(error, "unknown option %s", q);
        }
        if (*i + 1 < argc) {
            g_autofree char *q = cli_quote(argv[*i + 1]);
            return cli_fail(error, "unexpected argument %s after %s", q, arg);
        }
        out->cmd = help ? cmd_find("help") : NULL;
        out->version = version;
        *done = true;
        return true;
    }
    return true;
}

/* What must be there once the whole line is read. */
static bool cli_check_complete(const struct cmd_entry *spec, const struct cli_args *out, char **error)
{
    if ((spec->flags & CMD_F_ID) && out->id == 0)
        return cli_fail(error, "%s: needs a mention id, a number from heed list", spec->name);
    if (!(spec->flags & CMD_F_LOGIN))
        return true;
    if (!out->network) {
        g_autofree char *list = login_network_list(" or ");
        return cli_fail(error, "%s: needs a network: %s", spec->name, list);
    }
    const struct net_driver *d = net_driver_find(out->network);
    if (d->login_target && !out->target)
        return cli_fail(error, "%s: %s needs your %s, e.g. heed login %s %s", spec->name, d->name, d->login_target,
                        d->name, d->login_example);
    if (d->server_required && out->server)
        return cli_fail(error, "%s: --server is not for %s; the %s is the server", spec->name, d->name,
                        d->login_target);
    if (d->login != NET_LOGIN_OAUTH_APP && out->client_id)
        return cli_fail(error, "%s: --client-id is not for %s", spec->name, d->name);
    return true;
}

bool cli_args_parse(int argc, char **argv, struct cli_args *out, char **error)
{
    memset(out, 0, sizeof *out);
    *error = NULL;
    bool json = false, done = false;
    int i = 1;
    if (!cli_global_options(argc, argv, &i, out, &json, &done, error))
        return false;
    if (done)
        return true;
    if (i >= argc) {
        if (json)
            return cli_fail(error, "--json needs a command; expected e.g. heed --json list");
        return true; /* no command: the caller prints the overview */
    }

    const char *name = argv[i++];
    const struct cmd_entry *spec = cmd_find(name);
    if (!spec) {
        g_autofree char *q = cli_quote(name);
        return cli_fail(error, "unknown command %s", q);
    }
    out->cmd = spec;
    if (json && !(spec->flags & CMD_F_JSON))
        return cli_no_json(spec, error);
    out->json = json;

    /* --help wins over anything else on the line, even a mistake: someone
     * asking for help should get it. */
    for (int j = i; j < argc && strcmp(argv[j], "--") != 0; j++) {
        if (strcmp(argv[j], "--help") == 0 || strcmp(argv[j], "-h") == 0) {
            out->help = true;
            return true;
        }
    }

    int n_pos = 0;
    bool options_done = false;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        bool ok = !options_done && cli_is_option(arg) ? cli_option(spec, argc, argv, &i, out, error)
                                                       : cli_positional(spec, arg, &n_pos, out, error);
        if (!ok)
            return false;
    }
    return out->help || cli_check_complete(spec, out, error);
}
