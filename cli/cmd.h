/* SPDX-License-Identifier: MIT */
/* cmd: heed's verbs as a table, tmux style.
 *
 * Each verb is one `const struct cmd_entry` in its own cli/cmd-NAME.c: its
 * name, what it takes (flags that args.c's grammar reads), its help text
 * and one exec function. cmd_table() lists them: heed.c dispatches through
 * it, args.c parses with it, and the overview (heed --help) is made from it,
 * so a verb is one row and one function. An exec function prints what it
 * has to say and returns the exit status (args.h).
 *
 * Also here: what the verbs that talk to heedd share - one call over the
 * control socket that prints why it failed, JSON printing, colours.
 */
#ifndef HEED_CLI_CMD_H
#define HEED_CLI_CMD_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct cli_args;

enum cmd_flag {
    CMD_F_JSON = 1 << 0,     /* has --json */
    CMD_F_ID = 1 << 1,       /* takes a mention id (required) */
    CMD_F_DURATION = 1 << 2, /* takes an optional DURATION after the id */
    CMD_F_FILE = 1 << 3,     /* takes an optional FILE */
    CMD_F_LIST = 1 << 4,     /* --all, --limit */
    CMD_F_DAYS = 1 << 5,     /* --days */
    CMD_F_LOGIN = 1 << 6,    /* NETWORK [TARGET] and the login options */
    CMD_F_COMMAND = 1 << 7,  /* takes an optional COMMAND (help) */
    CMD_F_ID_OPTIONAL = 1 << 8, /* takes a mention id, or none */
    CMD_F_FORMAT = 1 << 9,   /* --format NAME and --follow (status) */
};

/* What an exec function gets: the parsed line and the terminal. */
struct cmd_ctx {
    const struct cli_args *a;
    bool color;              /* stdout is a terminal that wants colour */
    int width;               /* columns to lay out for */
    int64_t now;             /* seconds since the epoch, when heed started */
};

struct cmd_entry {
    const char *name;
    const char *args;        /* what it takes, for the overview: "[--all] [--limit N] [--json]" */
    const char *summary;     /* one line for the overview; "{networks}" is replaced by the
                                networks heed login knows */
    unsigned flags;          /* enum cmd_flag */
    const char *usage;       /* heed NAME --help, "usage: heed NAME ..." on */
    char *(*make_usage)(void); /* or this, when the text is made (g_free it) */
    int (*exec)(const struct cmd_ctx *c);
};

/* The verbs, one per cli/cmd-NAME.c. */
extern const struct cmd_entry cmd_status_entry, cmd_list_entry, cmd_show_entry, cmd_explain_entry, cmd_open_entry,
    cmd_done_entry, cmd_snooze_entry, cmd_wake_entry, cmd_stats_entry, cmd_reload_entry, cmd_check_config_entry,
    cmd_login_entry, cmd_doctor_entry, cmd_forget_entry, cmd_help_entry;

/* Every verb, NULL-terminated, in the order of the overview. */
const struct cmd_entry *const *cmd_table(void);
const struct cmd_entry *cmd_find(const char *name);
/* heed NAME --help (g_free it). */
char *cmd_usage(const struct cmd_entry *e);
/* heed --help: the overview, made from the table (g_free it). */
char *cmd_overview(void);

/* ---- shared by the verbs --------------------------------------------------- */

#define CMD_SGR_BOLD "\033[1m"
#define CMD_SGR_DIM "\033[2m"
#define CMD_SGR_RED "\033[31m"
#define CMD_SGR_BOLD_RED "\033[1;31m"
#define CMD_SGR_GREEN "\033[32m"
#define CMD_SGR_YELLOW "\033[33m"
#define CMD_SGR_RESET "\033[0m"

/* code, or "" when colour is off. */
const char *cmd_sgr(const struct cmd_ctx *c, const char *code);
/* "heed: msg" on stderr, cleaned (it may quote the daemon, which may quote
 * the network). */
void cmd_error(const char *msg);
/* Send a command to heedd; on failure prints one line and returns NULL
 * with *rc set (CLI_EXIT_NOT_RUNNING or CLI_EXIT_ERROR). */
json_t *cmd_call(const char *cmd, json_t *args, int *rc);
/* The same with {"id": ID} plus extra's members (extra may be NULL). */
json_t *cmd_call_id(const struct cmd_ctx *c, const char *cmd, json_t *extra, int *rc);
void cmd_print_json(json_t *v);
const char *cmd_str(json_t *o, const char *key);
json_int_t cmd_int(json_t *o, const char *key);
/* A mention's author as shown: the name, else the handle, else "?". */
const char *cmd_author(json_t *m);
/* "waiting 3 h", "snoozed till 14:05:00", "done" (g_free it). */
char *cmd_mention_state(const struct cmd_ctx *c, json_t *m);
/* The mentions table of list and stats. */
void cmd_print_mentions(const struct cmd_ctx *c, json_t *list);

#endif
