/* config: heed.conf, a GKeyFile, parsed and validated.
 *
 * The file has one [heed] group for global settings, an optional [score]
 * group, and one [account NAME] group per watched account. Every problem is
 * reported as "FILE: [GROUP] KEY: what was wrong, what was expected".
 * A problem in an account group disables that account only (it is listed in
 * config.problems and the account is left out of config.accounts); a
 * problem in [heed] or an unreadable file fails the whole load. Unknown keys
 * are reported as problems but do not disable anything.
 */
#ifndef HEED_CONFIG_H
#define HEED_CONFIG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);
enum config_error { CONFIG_ERROR_READ, CONFIG_ERROR_PARSE, CONFIG_ERROR_INVALID };

struct config_account {
    char *name;          /* from the group name "[account NAME]" */
    char *network;       /* "mastodon", "bluesky", "github", "x", "demo" */
    char *server;        /* https base URL without trailing slash; per-network default when unset */
    char *web_host;      /* host allowed for opened links; derived from server when unset */
    char *identifier;    /* bluesky: handle or DID used to log in */
    char *token_file;    /* absolute path, or NULL */
    char **token_command;/* argv, or NULL */
    char *ca_file;       /* PEM bundle for a private CA, or NULL */
    int poll_interval;   /* seconds; 0 = use the global one */
    int catchup_max_pages; /* pages to follow after downtime before giving up the gap */
    char **reasons;      /* github: notification reasons to watch, or NULL for the default */
    bool participating;  /* github */
};

struct config_quiet {
    bool enabled;
    int start_min;       /* minutes after local midnight */
    int end_min;
};

struct config {
    char *path;
    int poll_interval;            /* seconds, default 60 */
    char **open_command;          /* argv template with "%u", or NULL for the desktop default */
    int snooze_seconds;           /* default 3600 */
    int digest_threshold;         /* default 5 popups ... */
    int digest_window;            /* ... within this many seconds (default 120) */
    int *nudge_schedule;          /* seconds after first notification; default {7200, 28800} */
    int n_nudges;
    struct config_quiet quiet;
    bool quiet_allow_vip;
    char **vip;                   /* handles (any network), NULL-terminated, may be NULL */
    char **muted;
    char **keywords;
    GKeyFile *score_group;        /* the raw [score] group for score_weights_load(), or NULL */
    struct config_account *accounts;
    int n_accounts;
    GPtrArray *problems;          /* char*: every non-fatal problem, already formatted */
};

/* Default path: $XDG_CONFIG_HOME/heed/heed.conf (g_free it). */
char *config_default_path(void);

/* Load and validate. Returns NULL with a GError for fatal problems. A missing
 * file is fatal only when must_exist; otherwise an empty config results. */
struct config *config_load(const char *path, bool must_exist, GError **error);
void config_free(struct config *cfg);

/* Parse "22:00-07:00" into a quiet-hours range. */
bool config_parse_quiet_hours(const char *s, struct config_quiet *out);
/* Parse "90", "90s", "15m", "2h", "1d" into seconds; -1 on error. */
int64_t config_parse_duration(const char *s);

#endif
