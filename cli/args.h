/* args: the heed command line, parsed without side effects.
 *
 * Kept apart from heed.c so the grammar can be unit-tested: parsing never
 * prints, exits or talks to heedd. A usage problem comes back as one line of
 * text (without "heed: " and without a newline) for the caller to print and
 * turn into exit status 2.
 *
 * Grammar: heed [--json] [--version | --help | COMMAND [ARGS]]. Options may
 * come before or after positional arguments, "--opt=value" and "--opt value"
 * are both accepted, "--" ends the options, and every command takes --help.
 * --json is accepted only where there is JSON to print (status, list, show,
 * explain, stats), before or after the command name.
 */
#ifndef HEED_CLI_ARGS_H
#define HEED_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* Exit statuses, as documented in heed(1). */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_ERROR = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_NOT_RUNNING = 3,
};

enum cli_cmd {
    CLI_CMD_NONE, /* no command given: print the usage, exit 2 */
    CLI_CMD_HELP, /* heed --help / heed help */
    CLI_CMD_VERSION,
    CLI_CMD_STATUS,
    CLI_CMD_LIST,
    CLI_CMD_SHOW,
    CLI_CMD_EXPLAIN,
    CLI_CMD_OPEN,
    CLI_CMD_DONE,
    CLI_CMD_SNOOZE,
    CLI_CMD_WAKE,
    CLI_CMD_STATS,
    CLI_CMD_RELOAD,
    CLI_CMD_CHECK_CONFIG,
    CLI_CMD_LOGIN,
    CLI_CMD_DOCTOR,
};

/* The longest snooze (and the longest stats window) accepted, the same
 * limit heed.conf puts on its snooze key. */
#define CLI_MAX_SNOOZE_SECONDS (30 * 24 * 60 * 60)
#define CLI_MAX_DAYS 3660
#define CLI_MAX_LIMIT 1000000

struct cli_args {
    enum cli_cmd cmd;
    bool help;              /* --help after a command: print that command's usage */
    bool json;
    bool all;               /* list --all */
    long limit;             /* list --limit N; 0 = everything */
    long long id;           /* show, explain, open, done, snooze, wake; > 0 */
    int64_t snooze_seconds; /* snooze DURATION; 0 = heed.conf's default */
    long days;              /* stats --days N; 0 = the daemon's default (7) */
    const char *file;       /* check-config FILE (points into argv), or NULL */
    /* login NETWORK [INSTANCE|HANDLE] (all point into argv, or NULL) */
    const char *network;    /* "mastodon", "bluesky", "github" or "x" */
    const char *target;     /* mastodon: the instance; bluesky: the handle */
    const char *name;       /* --name: the account's name in heed.conf */
    const char *server;     /* --server: another API server (bluesky, github, x) */
    const char *ca_file;    /* --ca-file: a PEM bundle for a private CA */
    bool force;             /* --force: replace an account of the same name */
    bool keyring;           /* --keyring: keep the secret in the desktop keyring */
    bool no_browser;        /* --no-browser: only print the authorisation page's address */
};

/* Parse argv[1..argc-1]. On success fills *out and returns true; on a usage
 * error returns false and sets *error to a newly allocated one-line message
 * (g_free it) that names the command and the offending argument. */
bool cli_args_parse(int argc, char **argv, struct cli_args *out, char **error);

/* "list", "check-config", ...; NULL for CLI_CMD_NONE/HELP/VERSION. */
const char *cli_cmd_name(enum cli_cmd cmd);

/* Usage text (several lines ending in '\n'): the overview for
 * CLI_CMD_NONE/HELP/VERSION, else the command's own. */
const char *cli_usage_text(enum cli_cmd cmd);

#endif
