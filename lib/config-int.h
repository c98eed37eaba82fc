/* SPDX-License-Identifier: MIT */
/* config-int: the inside of config, shared by config.c ([heed], [score],
 * loading) and config-account.c ([account NAME]). Nothing else includes it. */
#ifndef HEED_CONFIG_INT_H
#define HEED_CONFIG_INT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"

#define CONFIG_DAY (24 * 60 * 60)
#define CONFIG_MAX_POLL CONFIG_DAY
#define CONFIG_MAX_CATCHUP_PAGES 1000

/* What one group's parser needs: where to point in messages and where to put
 * them. Problems that should stop the group go to errors, the rest to
 * warnings. */
struct config_group {
    const char *path;
    const char *group;
    GKeyFile *kf;
    GPtrArray *errors;
    GPtrArray *warnings;
};

#define config_error_at(g, key, ...) config_add((g)->errors, (g), (key), __VA_ARGS__)
#define config_warn_at(g, key, ...) config_add((g)->warnings, (g), (key), __VA_ARGS__)

extern const char *const config_account_keys[];

/* One message about key of group g, "PATH: [GROUP] KEY: ...", added to `to`. */
void config_add(GPtrArray *to, const struct config_group *g, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A value as shown in a message: quoted, control characters escaped, long
 * values cut (at a UTF-8 boundary) so one bad line cannot flood the log. */
char *config_quote(const char *value);

/* The stripped value of key, or NULL when the key is absent. A value GLib
 * cannot decode (bad escape, invalid UTF-8) is reported and also yields
 * NULL, with *bad set so callers do not add a second "missing" message. */
char *config_get(const struct config_group *g, const char *key, bool *bad);

/* A duration key in [min, max] seconds; leaves *out alone when absent. */
void config_get_duration(const struct config_group *g, const char *key, int64_t min, int64_t max,
                                int *out);

void config_get_int(const struct config_group *g, const char *key, int64_t min, int64_t max, int *out);

void config_get_bool(const struct config_group *g, const char *key, bool *out);

/* A ';'-separated list, elements stripped, empty elements dropped; NULL
 * when absent or empty so that callers only have one "nothing" to test. */
char **config_get_list(const struct config_group *g, const char *key);

void config_check_unknown_keys(const struct config_group *g, const char *const *known);

void config_free_account(struct config_account *a);

void config_parse_account(const struct config_group *g, const char *name, struct config_account *a);

#endif
