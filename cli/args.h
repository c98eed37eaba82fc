/* SPDX-License-Identifier: MIT */
/* args: the heed command line, parsed without side effects.
 *
 * Kept apart from heed.c so the grammar can be unit-tested: parsing never
 * prints, exits or talks to heedd. A usage problem comes back as one line of
 * text (without "heed: " and without a newline) for the caller to print and
 * turn into exit status 2.
 *
 * Grammar: heed [--json] [--version | --help | COMMAND [ARGS]], where what a
 * COMMAND takes is its table entry's flags (cmd.h). Options may
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

/* The longest snooze (and the longest stats window) accepted, the same
 * limit heed.conf puts on its snooze key. */
#define CLI_MAX_SNOOZE_SECONDS (30 * 24 * 60 * 60)
#define CLI_MAX_DAYS 3660
#define CLI_MAX_LIMIT 1000000

struct cmd_entry;

struct cli_args {
    const struct cmd_entry *cmd; /* the verb (cmd.h), or NULL: no command given, or --version */
    bool version;           /* --version */
    bool help;              /* --help after a command: print that command's usage */
    bool json;
    bool all;               /* list --all */
    long limit;             /* list --limit N; 0 = everything */
    long long id;           /* show, explain, open, done, snooze, wake; > 0 */
    int64_t snooze_seconds; /* snooze DURATION; 0 = heed.conf's default */
    long days;              /* stats --days N; 0 = the daemon's default (7) */
    const char *file;       /* check-config FILE (points into argv), or NULL */
    /* login NETWORK [TARGET] (all point into argv, or NULL) */
    const char *network;    /* a network heed login knows (a driver whose login is not NONE) */
    const char *target;     /* the driver's login_target: the instance, the handle */
    const char *name;       /* --name: the account's name in heed.conf */
    const char *server;     /* --server: another API server (where the target is not the server) */
    const char *ca_file;    /* --ca-file: a PEM bundle for a private CA */
    bool force;             /* --force: replace an account of the same name */
    bool keyring;           /* --keyring: keep the secret in the desktop keyring */
    bool no_browser;        /* --no-browser: only print the authorisation page's address */
    const char *format;     /* status --format: waybar, polybar, i3blocks, json or text (points into argv) */
    bool follow;            /* status --follow: a line on every change */
    const char *client_id;  /* --client-id: the OAuth 2.0 client id of the user's own app (x) */
};

/* Parse argv[1..argc-1]. On success fills *out and returns true; on a usage
 * error returns false and sets *error to a newly allocated one-line message
 * (g_free it) that names the command and the offending argument; out->cmd
 * is then the command when it was known. "heed --help" and "heed help" are
 * the help entry; "heed help CMD" and "heed CMD --help" are CMD with help. */
bool cli_args_parse(int argc, char **argv, struct cli_args *out, char **error);

#endif
