/* args: see args.h. */
#include "args.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

enum {
    CLI_F_JSON = 1 << 0,     /* has --json */
    CLI_F_ID = 1 << 1,       /* takes a mention id */
    CLI_F_DURATION = 1 << 2, /* takes an optional DURATION after the id */
    CLI_F_FILE = 1 << 3,     /* takes an optional FILE */
    CLI_F_LIST = 1 << 4,     /* --all, --limit */
    CLI_F_DAYS = 1 << 5,     /* --days */
    CLI_F_LOGIN = 1 << 6,    /* NETWORK [TARGET] and the login options */
};

struct cli_cmd_spec {
    const char *name;
    enum cli_cmd cmd;
    unsigned flags;
    const char *usage;
};

static const char cli_overview[] =
    "usage: heed [--json] COMMAND [ARGS]\n"
    "       heed --version | --help\n"
    "\n"
    "Commands:\n"
    "  status [--json]              is heedd running, its accounts, who is waiting\n"
    "  list [--all] [--limit N] [--json]\n"
    "                               mentions waiting for you, most urgent first\n"
    "  show ID [--json]             one mention in full\n"
    "  explain ID [--json]          why a mention scored what it did\n"
    "  open ID                      open the post in your browser\n"
    "  done ID                      mark a mention handled; withdraws its notification\n"
    "  snooze ID [DURATION]         hide a mention for a while (e.g. 30m, 2h, 1d)\n"
    "  wake ID                      end a snooze now\n"
    "  stats [--days N] [--json]    mentions, answers and waiting times lately\n"
    "  reload                       make heedd re-read heed.conf\n"
    "  check-config [FILE]          check a configuration file (heedd not needed)\n"
    "  login NETWORK [INSTANCE|HANDLE]\n"
    "                               add an account: mastodon, bluesky, github or x\n"
    "  doctor                       check the whole set-up, one line per check\n"
    "  help [COMMAND]               this text, or a command's\n"
    "\n"
    "Every command takes --help. Exit status: 0 ok, 1 error, 2 usage error,\n"
    "3 heedd not running. See heed(1).\n";

static const struct cli_cmd_spec cli_cmds[] = {
    { "status", CLI_CMD_STATUS, CLI_F_JSON,
      "usage: heed status [--json]\n"
      "\n"
      "Whether heedd is running, each account's health and last successful\n"
      "poll, how many people are waiting for you and for how long.\n" },
    { "list", CLI_CMD_LIST, CLI_F_JSON | CLI_F_LIST,
      "usage: heed list [--all] [--limit N] [--json]\n"
      "\n"
      "Mentions waiting for you, most urgent first, with how long each has\n"
      "waited; snoozed ones are marked so.\n"
      "\n"
      "  -a, --all     also list handled mentions (done, replied)\n"
      "  --limit N     at most N mentions\n"
      "  --json        every field of every mention; never truncated unless\n"
      "                --limit is given\n" },
    { "show", CLI_CMD_SHOW, CLI_F_JSON | CLI_F_ID,
      "usage: heed show ID [--json]\n"
      "\n"
      "One mention in full: who, where, its whole text and link.\n" },
    { "explain", CLI_CMD_EXPLAIN, CLI_F_JSON | CLI_F_ID,
      "usage: heed explain ID [--json]\n"
      "\n"
      "Why a mention scored what it did: every contribution to its score.\n" },
    { "open", CLI_CMD_OPEN, CLI_F_ID,
      "usage: heed open ID\n"
      "\n"
      "Open the post in your browser (open_command in heed.conf), from heedd.\n" },
    { "done", CLI_CMD_DONE, CLI_F_ID,
      "usage: heed done ID\n"
      "\n"
      "Mark a mention handled; its notification is withdrawn.\n" },
    { "snooze", CLI_CMD_SNOOZE, CLI_F_ID | CLI_F_DURATION,
      "usage: heed snooze ID [DURATION]\n"
      "\n"
      "Hide a mention until DURATION has passed (90s, 30m, 2h, 1d; at most\n"
      "30d); without DURATION, for the snooze time set in heed.conf (1h).\n" },
    { "wake", CLI_CMD_WAKE, CLI_F_ID,
      "usage: heed wake ID\n"
      "\n"
      "End a snooze now: the mention is waiting again.\n" },
    { "stats", CLI_CMD_STATS, CLI_F_JSON | CLI_F_DAYS,
      "usage: heed stats [--days N] [--json]\n"
      "\n"
      "A mirror: mentions of the last N days (default 7), how many you\n"
      "answered, the median time people waited for that, and who has waited\n"
      "longest.\n" },
    { "reload", CLI_CMD_RELOAD, 0,
      "usage: heed reload\n"
      "\n"
      "Make heedd re-read heed.conf. A broken file is reported and heedd keeps\n"
      "running on the configuration it has.\n" },
    { "check-config", CLI_CMD_CHECK_CONFIG, CLI_F_FILE,
      "usage: heed check-config [FILE]\n"
      "\n"
      "Check a configuration file (default: $XDG_CONFIG_HOME/heed/heed.conf)\n"
      "without heedd: every problem is printed with its file, group and key.\n"
      "Exit status 1 if there is any.\n" },
    { "login", CLI_CMD_LOGIN, CLI_F_LOGIN,
      "usage: heed login mastodon INSTANCE [OPTIONS]\n"
      "       heed login bluesky HANDLE [OPTIONS]\n"
      "       heed login github [OPTIONS]\n"
      "       heed login x [OPTIONS]\n"
      "\n"
      "Add an account to heed.conf. Mastodon: registers heed on the instance\n"
      "with read-only scopes, opens the authorisation page ($BROWSER or the\n"
      "desktop's browser; the address is printed too) and asks for the code it\n"
      "shows. Bluesky: asks for an app password (never your main password).\n"
      "GitHub, X: says which token to create and asks for it. Every secret is\n"
      "checked with one request before anything is written, read without echo\n"
      "on a terminal, or as one line from standard input when that is not a\n"
      "terminal, and never printed. It goes to $XDG_CONFIG_HOME/heed/NAME.token\n"
      "(mode 0600) or, with secret-tool, to the desktop keyring.\n"
      "\n"
      "  --name NAME      the account's name (default: the instance's host,\n"
      "                   the handle, github or x)\n"
      "  --server URL     another API server (a Bluesky PDS, GitHub Enterprise)\n"
      "  --ca-file FILE   trust this PEM CA bundle (a server behind a private CA)\n"
      "  --force          replace an account of the same name\n"
      "  --keyring        keep the secret in the desktop keyring (secret-tool)\n"
      "  --no-browser     print the authorisation page's address, do not open it\n" },
    { "doctor", CLI_CMD_DOCTOR, 0,
      "usage: heed doctor\n"
      "\n"
      "Check the whole set-up and say how to fix what is wrong, one line per\n"
      "check: the configuration, token files and their modes, each account's\n"
      "sign-in and rate limit, the session bus, the notification server and\n"
      "its capabilities, do-not-disturb, the systemd user unit and its\n"
      "environment, the state database. Exit status 1 if anything needs\n"
      "fixing (a FAIL line); warnings alone exit 0.\n" },
    { "help", CLI_CMD_HELP, 0,
      "usage: heed help [COMMAND]\n"
      "\n"
      "The list of commands, or what one command does.\n" },
};

static const struct cli_cmd_spec *cli_spec_by_name(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cli_cmds); i++)
        if (strcmp(cli_cmds[i].name, name) == 0)
            return &cli_cmds[i];
    return NULL;
}

static const struct cli_cmd_spec *cli_spec(enum cli_cmd cmd)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cli_cmds); i++)
        if (cli_cmds[i].cmd == cmd)
            return &cli_cmds[i];
    return NULL;
}

const char *cli_cmd_name(enum cli_cmd cmd)
{
    if (cmd == CLI_CMD_NONE || cmd == CLI_CMD_HELP || cmd == CLI_CMD_VERSION)
        return NULL;
    const struct cli_cmd_spec *s = cli_spec(cmd);
    return s ? s->name : NULL;
}

const char *cli_usage_text(enum cli_cmd cmd)
{
    if (cmd == CLI_CMD_NONE || cmd == CLI_CMD_HELP || cmd == CLI_CMD_VERSION)
        return cli_overview;
    const struct cli_cmd_spec *s = cli_spec(cmd);
    return s ? s->usage : cli_overview;
}

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

static bool cli_positional(const struct cli_cmd_spec *spec, const char *arg, int *n_pos, struct cli_args *out,
                           char **error)
{
    g_autofree char *q = cli_quote(arg);
    int pos = (*n_pos)++;
    if ((spec->flags & CLI_F_ID) && pos == 0) {
        long long id;
        if (!cli_parse_number(arg, 1, INT64_MAX, &id))
            return cli_fail(error, "%s: %s is not a mention id; expected a number from heed list", spec->name, q);
        out->id = id;
        return true;
    }
    if ((spec->flags & CLI_F_DURATION) && pos == 1) {
        int64_t s = config_parse_duration(arg);
        if (s < 0)
            return cli_fail(error, "%s: %s is not a duration; expected e.g. 90s, 30m, 2h or 1d", spec->name, q);
        if (s == 0 || s > CLI_MAX_SNOOZE_SECONDS)
            return cli_fail(error, "%s: %s is out of range; expected from 1s to 30d", spec->name, q);
        out->snooze_seconds = s;
        return true;
    }
    if ((spec->flags & CLI_F_FILE) && pos == 0) {
        if (!*arg)
            return cli_fail(error, "%s: the file name is empty", spec->name);
        out->file = arg;
        return true;
    }
    if ((spec->flags & CLI_F_LOGIN) && pos == 0) {
        static const char *const networks[] = { "mastodon", "bluesky", "github", "x" };
        for (size_t i = 0; i < G_N_ELEMENTS(networks); i++)
            if (strcmp(arg, networks[i]) == 0) {
                out->network = arg;
                return true;
            }
        return cli_fail(error, "%s: %s is not a network; expected mastodon, bluesky, github or x", spec->name, q);
    }
    if ((spec->flags & CLI_F_LOGIN) && pos == 1 && out->network &&
        (strcmp(out->network, "mastodon") == 0 || strcmp(out->network, "bluesky") == 0)) {
        if (!*arg)
            return cli_fail(error, "%s: the %s is empty", spec->name,
                            strcmp(out->network, "mastodon") == 0 ? "instance" : "handle");
        out->target = arg;
        return true;
    }
    if (spec->cmd == CLI_CMD_HELP && pos == 0) {
        const struct cli_cmd_spec *about = cli_spec_by_name(arg);
        if (!about || about->cmd == CLI_CMD_HELP)
            return cli_fail(error, "help: unknown command %s", q);
        /* "heed help list" is "heed list --help". */
        out->cmd = about->cmd;
        out->help = true;
        return true;
    }
    return cli_fail(error, "%s: unexpected argument %s", spec->name, q);
}

static bool cli_option(const struct cli_cmd_spec *spec, int argc, char **argv, int *i, struct cli_args *out,
                       char **error)
{
    const char *arg = argv[*i];
    const char *v;
    bool missing;
    long long n;
    if (strcmp(arg, "--json") == 0) {
        if (!(spec->flags & CLI_F_JSON))
            return cli_fail(error, "%s: --json is not supported here; expected it with status, list, show, "
                                   "explain or stats", spec->name);
        out->json = true;
        return true;
    }
    if ((spec->flags & CLI_F_LIST) && (strcmp(arg, "--all") == 0 || strcmp(arg, "-a") == 0)) {
        out->all = true;
        return true;
    }
    if (spec->flags & CLI_F_LIST) {
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
    if (spec->flags & CLI_F_DAYS) {
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
    if (spec->flags & CLI_F_LOGIN) {
        const char *const value_options[] = { "--name", "--server", "--ca-file" };
        const char **slots[] = { &out->name, &out->server, &out->ca_file };
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

bool cli_args_parse(int argc, char **argv, struct cli_args *out, char **error)
{
    memset(out, 0, sizeof *out);
    *error = NULL;
    bool json = false;
    int i = 1;

    /* Global options, before the command. */
    for (; i < argc && cli_is_option(argv[i]); i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--json") == 0) {
            json = true;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        enum cli_cmd c;
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            c = CLI_CMD_HELP;
        else if (strcmp(arg, "--version") == 0 || strcmp(arg, "-V") == 0)
            c = CLI_CMD_VERSION;
        else {
            g_autofree char *q = cli_quote(arg);
            return cli_fail(error, "unknown option %s", q);
        }
        if (i + 1 < argc) {
            g_autofree char *q = cli_quote(argv[i + 1]);
            return cli_fail(error, "unexpected argument %s after %s", q, arg);
        }
        out->cmd = c;
        return true;
    }
    if (i >= argc) {
        if (json)
            return cli_fail(error, "--json needs a command; expected e.g. heed --json list");
        out->cmd = CLI_CMD_NONE;
        return true;
    }

    const char *name = argv[i++];
    const struct cli_cmd_spec *spec = cli_spec_by_name(name);
    if (!spec) {
        g_autofree char *q = cli_quote(name);
        return cli_fail(error, "unknown command %s", q);
    }
    out->cmd = spec->cmd;
    if (json && !(spec->flags & CLI_F_JSON))
        return cli_fail(error, "%s: --json is not supported here; expected it with status, list, show, explain "
                               "or stats", spec->name);
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
    if ((spec->flags & CLI_F_ID) && out->id == 0 && !out->help)
        return cli_fail(error, "%s: needs a mention id, a number from heed list", spec->name);
    if ((spec->flags & CLI_F_LOGIN) && !out->help) {
        if (!out->network)
            return cli_fail(error, "%s: needs a network: mastodon, bluesky, github or x", spec->name);
        if (strcmp(out->network, "mastodon") == 0 && !out->target)
            return cli_fail(error, "%s: mastodon needs your instance, e.g. heed login mastodon mastodon.social",
                            spec->name);
        if (strcmp(out->network, "bluesky") == 0 && !out->target)
            return cli_fail(error, "%s: bluesky needs your handle, e.g. heed login bluesky alice.bsky.social",
                            spec->name);
        if (strcmp(out->network, "mastodon") == 0 && out->server)
            return cli_fail(error, "%s: --server is not for mastodon; the instance is the server", spec->name);
    }
    if (spec->cmd == CLI_CMD_HELP && !out->help)
        out->cmd = CLI_CMD_HELP;
    return true;
}
