/* SPDX-License-Identifier: MIT */
/* fuzz_config: the config loader (GKeyFile parsing and validation of
 * heed.conf), the [score] group it hands on, and the value parsers.
 *
 * The input is written to a memfd (created once; rewritten for every
 * input) and loaded with config_load("/proc/self/fd/N", true). A config that
 * loads must satisfy what config.h promises of it (ranges, defaults, one
 * credential source per account, ...); a failure must be a CONFIG_ERROR.
 * config_parse_duration() and config_parse_quiet_hours() get a
 * NUL-terminated copy of the whole input and of each of its first lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sanitizer/common_interface_defs.h>

#include "config.h"
#include "score.h"

#define CHECK(c)                                                                  \
    do {                                                                          \
        if (!(c)) {                                                               \
            __sanitizer_report_error_summary("fuzz_config: check failed: " #c); \
            abort();                                                              \
        }                                                                         \
    } while (0)

#define DAY (24 * 60 * 60)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static int conf_fd = -1;
static char conf_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    conf_fd = memfd_create("heed-fuzz.conf", MFD_CLOEXEC);
    if (conf_fd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(conf_path, sizeof conf_path, "/proc/self/fd/%d", conf_fd);
    return 0;
}

static void check_value_parsers(const char *s)
{
    int64_t d = config_parse_duration(s);
    CHECK(d >= -1);
    if (d >= 0) {
        /* The same number of seconds, spelled canonically, reads the same. */
        char canon[32];
        snprintf(canon, sizeof canon, "%llds", (long long)d);
        CHECK(config_parse_duration(canon) == d);
    }
    struct config_quiet q = { .enabled = false, .start_min = -7, .end_min = -7 };
    if (config_parse_quiet_hours(s, &q)) {
        CHECK(q.enabled);
        CHECK(q.start_min >= 0 && q.start_min < 24 * 60);
        CHECK(q.end_min >= 0 && q.end_min < 24 * 60);
        CHECK(q.start_min != q.end_min);
    } else {
        CHECK(!q.enabled && q.start_min == -7 && q.end_min == -7);
    }
}

static void check_strv(char **v)
{
    for (char **p = v; p && *p; p++)
        CHECK(g_utf8_validate(*p, -1, NULL));
}

static bool net_needs_secret(const char *network)
{
    return strcmp(network, "demo") != 0;
}

static void check_config(const struct config *cfg)
{
    CHECK(cfg->path);
    CHECK(cfg->problems);
    for (guint i = 0; i < cfg->problems->len; i++)
        CHECK(g_ptr_array_index(cfg->problems, i));
    CHECK(cfg->poll_interval >= 1 && cfg->poll_interval <= DAY);
    CHECK(cfg->snooze_seconds >= 0 && cfg->snooze_seconds <= 30 * DAY);
    CHECK(cfg->digest_threshold >= 1 && cfg->digest_threshold <= 1000);
    CHECK(cfg->digest_window >= 0 && cfg->digest_window <= DAY);
    CHECK(cfg->n_nudges >= 0 && cfg->n_nudges <= 5);
    CHECK((cfg->n_nudges == 0) == (cfg->nudge_schedule == NULL));
    for (int i = 0; i < cfg->n_nudges; i++) {
        CHECK(cfg->nudge_schedule[i] > 0 && cfg->nudge_schedule[i] <= 30 * DAY);
        if (i > 0)
            CHECK(cfg->nudge_schedule[i] > cfg->nudge_schedule[i - 1]);
    }
    if (cfg->quiet.enabled) {
        CHECK(cfg->quiet.start_min >= 0 && cfg->quiet.start_min < 24 * 60);
        CHECK(cfg->quiet.end_min >= 0 && cfg->quiet.end_min < 24 * 60);
        CHECK(cfg->quiet.start_min != cfg->quiet.end_min);
    }
    if (cfg->open_command) {
        CHECK(cfg->open_command[0]);
        int words = 0;
        for (char **a = cfg->open_command; *a; a++) {
            if (strcmp(*a, "%u") == 0)
                words++;
            else
                CHECK(!strstr(*a, "%u"));
        }
        CHECK(words <= 1);
    }
    check_strv(cfg->vip);
    check_strv(cfg->muted);
    check_strv(cfg->keywords);
    if (cfg->score_group) {
        struct score_weights w;
        score_weights_default(&w);
        GError *err = NULL;
        if (!score_weights_load(&w, cfg->score_group, cfg->path, &err)) {
            CHECK(err);
            g_error_free(err);
        }
    }
    CHECK((cfg->n_accounts == 0) == (cfg->accounts == NULL));
    for (int i = 0; i < cfg->n_accounts; i++) {
        const struct config_account *a = &cfg->accounts[i];
        CHECK(a->name && a->network);
        static const char *const networks[] = { "mastodon", "bluesky", "github", "x", "demo" };
        bool known = false;
        for (size_t k = 0; k < G_N_ELEMENTS(networks); k++)
            known = known || strcmp(a->network, networks[k]) == 0;
        CHECK(known);
        for (int j = 0; j < i; j++)
            CHECK(strcmp(cfg->accounts[j].name, a->name) != 0);
        if (a->server) {
            CHECK(g_str_has_prefix(a->server, "https://"));
            CHECK(!g_str_has_suffix(a->server, "/"));
        } else {
            CHECK(strcmp(a->network, "demo") == 0);
        }
        if (net_needs_secret(a->network))
            CHECK((a->token_file != NULL) != (a->token_command != NULL));
        else
            CHECK(!a->token_file && !a->token_command);
        if (a->token_file)
            CHECK(a->token_file[0] == '/');
        if (a->token_command)
            CHECK(a->token_command[0]);
        if (a->ca_file)
            CHECK(a->ca_file[0] == '/');
        if (a->web_host) {
            for (const char *p = a->web_host; *p; p++)
                CHECK(!g_ascii_isupper(*p));
        }
        CHECK(a->poll_interval >= 0 && a->poll_interval <= DAY);
        CHECK(a->catchup_max_pages >= 1 && a->catchup_max_pages <= 1000);
        check_strv(a->reasons);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (ftruncate(conf_fd, 0) != 0 || (size && pwrite(conf_fd, data, size, 0) != (ssize_t)size))
        abort();
    GError *err = NULL;
    struct config *cfg = config_load(conf_path, true, &err);
    if (cfg) {
        CHECK(!err);
        check_config(cfg);
        config_free(cfg);
    } else {
        CHECK(err && err->domain == CONFIG_ERROR && err->message);
        g_error_free(err);
    }

    char *copy = g_strndup((const char *)data, size);
    check_value_parsers(copy);
    char **lines = g_strsplit(copy, "\n", 9);
    for (char **l = lines; *l; l++) {
        check_value_parsers(*l);
        const char *eq = strchr(*l, '=');
        if (eq)
            check_value_parsers(eq + 1);
    }
    g_strfreev(lines);
    g_free(copy);
    return 0;
}
