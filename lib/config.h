/* SPDX-License-Identifier: MIT */
/* config: heed.conf, a GKeyFile, parsed and validated.
 *
 * The file has one [heed] group for global settings, an optional [score]
 * group, and one [account NAME] group per watched account. Every problem is
 * reported as "FILE: [GROUP] KEY: what was wrong; expected ..." (a whole
 * group: "FILE: [GROUP]: ...", the file itself: "FILE: ...").
 * A problem in an account group disables that account only (it is listed in
 * config.problems and the account is left out of config.accounts); a
 * problem in [heed] or an unreadable file fails the whole load. Unknown keys
 * are reported as problems but do not disable anything; so are unknown
 * groups and [account] groups without a name or with a repeated name.
 */
#ifndef HEED_CONFIG_H
#define HEED_CONFIG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#define CONFIG_ERROR (config_error_quark())
GQuark config_error_quark(void);
enum config_error { CONFIG_ERROR_READ, CONFIG_ERROR_PARSE, CONFIG_ERROR_INVALID };

enum config_stream { CONFIG_STREAM_AUTO = 0, CONFIG_STREAM_ON, CONFIG_STREAM_OFF };

struct config_account {
    char *name;          /* from the group name "[account NAME]" */
    char *network;       /* a driver's name (lib/net: mastodon, bluesky, github, x, demo) */
    char *server;        /* https base URL without trailing slash; the driver's default_server
                            when unset (required where it has none and server_required) */
    char *web_host;      /* lower-case host allowed for opened links; when unset the driver's
                            web_host (unless web_follows_server and the server is not the
                            default), else the server's host (NULL if no server) */
    char *identifier;    /* where the driver has an identifier_hint (bluesky): handle or DID */
    char *client_id;     /* x: the user's OAuth 2.0 client; the secret is then its refresh token */
    char *token_file;    /* absolute path ("~/" expanded, relative = next to the config
                            file; not opened by config_load), or NULL */
    char **token_command;/* argv, or NULL; exactly one of the two is set when the network
                            needs a secret, neither for demo */
    char *ca_file;       /* absolute path of a PEM bundle for a private CA (checked readable
                            at load time), or NULL */
    int poll_interval;   /* seconds (1..86400); 0 = use the global one */
    int catchup_max_pages; /* pages to follow after downtime before giving up the gap; 1..1000, default 10 */
    char **reasons;      /* github: notification reasons to watch, or NULL for the default */
    bool participating;  /* github; default true */
    enum config_stream streaming; /* stream where the network offers it (auto: when its health check answers) */
    int stream_timeout;  /* seconds of silence after which a stream counts as dead; default 45 */
};

struct config_quiet {
    bool enabled;
    int start_min;       /* minutes after local midnight */
    int end_min;
};

struct config_keyword {
    char *word;                   /* matched case-insensitively inside the text */
    int points;                   /* -100..100 */
};

struct config {
    char *path;                   /* as given (or the default path); used in every message */
    int poll_interval;            /* seconds, default 60, 1..86400 */
    char **open_command;          /* argv template with at most one "%u" word (never "%u" inside
                                     a word), or NULL for the desktop default */
    int snooze_seconds;           /* default 3600, at most 30 days */
    int digest_threshold;         /* default 5 popups ... (1..1000) */
    int digest_window;            /* ... within this many seconds (default 120, at most 1 day) */
    int *nudge_schedule;          /* seconds after first notification, strictly ascending, each at
                                     most 30 days; default {7200, 28800}; NULL when "none" */
    int n_nudges;                 /* 0..5 */
    struct config_quiet quiet;    /* disabled by default */
    bool quiet_allow_vip;         /* quiet_hours_allow = vip (the default) / none */
    char **vip;                   /* handles (any network), NULL-terminated, NULL when empty */
    char **muted;
    char **keywords;
    char **mute_repos;            /* GitHub "owner/repo", or "owner/" and a star: muted repositories */
    char **mute_kinds;            /* mention kinds muted ("quote", "review", ...; mention_kind_name) */
    struct config_keyword *keyword_points; /* words that raise or lower a score */
    int n_keyword_points;
    char *sound;                  /* sound-name hint for popups, or NULL (off, the default) */
    bool avatars;                 /* show the sender's picture (default true) */
    GKeyFile *score_group;        /* the raw [score] group for score_weights_load(), or NULL */
    struct config_account *accounts; /* usable accounts in file order; NULL when none */
    int n_accounts;
    GPtrArray *problems;          /* char*: every non-fatal problem, already formatted; never NULL */
};

/* Default path: $XDG_CONFIG_HOME/heed/heed.conf (g_free it). */
char *config_default_path(void);

/* Load and validate; path NULL means config_default_path(). Returns NULL with
 * a CONFIG_ERROR for fatal problems: READ (missing when must_exist, not a
 * regular file, unreadable, over 1 MiB), PARSE (GKeyFile syntax; the message
 * names the line) or INVALID (bad values in [heed]; one message per line,
 * joined with '\n'). A missing file is fatal only when must_exist; otherwise
 * a config with defaults and no accounts results. */
struct config *config_load(const char *path, bool must_exist, GError **error);
void config_free(struct config *cfg);

/* Parse "22:00-07:00" (hours may have one digit, spaces around '-' are fine)
 * into an enabled quiet-hours range; the range may cross midnight but start
 * must differ from end. On failure returns false and leaves *out alone. */
bool config_parse_quiet_hours(const char *s, struct config_quiet *out);
/* Parse "90", "90s", "15m", "2h", "1d" into seconds; -1 on error (sign,
 * fraction, unknown or repeated suffix, overflow). Callers check the range. */
int64_t config_parse_duration(const char *s);

#endif
