/* SPDX-License-Identifier: MIT */
/* test_config: heed.conf parsing and validation (lib/config.c).
 *
 * Most cases write their config into a fresh temporary directory, because
 * relative token_file / ca_file paths resolve against the config's own
 * directory and ca_file must exist. The fixtures in tests/data/config cover
 * the file-level cases.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "config.h"

#ifndef HEED_TEST_DATA
#error "HEED_TEST_DATA must name the tests/data directory"
#endif

struct fixture {
    char *dir;
    char *conf;   /* dir/heed.conf */
};

static void rm_rf(const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        GDir *d = g_dir_open(path, 0, NULL);
        const char *name;
        while (d && (name = g_dir_read_name(d)) != NULL) {
            char *child = g_build_filename(path, name, NULL);
            rm_rf(child);
            g_free(child);
        }
        if (d)
            g_dir_close(d);
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

static int setup(void **state)
{
    struct fixture *f = g_new0(struct fixture, 1);
    f->dir = g_dir_make_tmp("heed-test-config-XXXXXX", NULL);
    if (f->dir == NULL)
        return -1;
    f->conf = g_build_filename(f->dir, "heed.conf", NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    rm_rf(f->dir);
    g_free(f->dir);
    g_free(f->conf);
    g_free(f);
    return 0;
}

static char *write_file(const struct fixture *f, const char *name, const char *text)
{
    char *path = g_build_filename(f->dir, name, NULL);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static struct config *load_text(const struct fixture *f, const char *text, GError **error)
{
    assert_true(g_file_set_contents(f->conf, text, -1, NULL));
    return config_load(f->conf, true, error);
}

/* Does some problem contain every one of the given strings (NULL-ended)? */
static bool has_problem(const struct config *cfg, ...)
{
    for (guint i = 0; i < cfg->problems->len; i++) {
        const char *p = g_ptr_array_index(cfg->problems, i);
        bool all = true;
        va_list ap;
        va_start(ap, cfg);
        for (const char *want; (want = va_arg(ap, const char *)) != NULL;)
            if (strstr(p, want) == NULL)
                all = false;
        va_end(ap);
        if (all)
            return true;
    }
    return false;
}

static void print_problems(const struct config *cfg)
{
    for (guint i = 0; i < cfg->problems->len; i++)
        print_message("problem: %s\n", (const char *)g_ptr_array_index(cfg->problems, i));
}

static const struct config_account *find_account(const struct config *cfg, const char *name)
{
    for (int i = 0; i < cfg->n_accounts; i++)
        if (strcmp(cfg->accounts[i].name, name) == 0)
            return &cfg->accounts[i];
    return NULL;
}

/* ---- whole files ------------------------------------------------------- */

static void test_full_config(void **state)
{
    struct fixture *f = *state;
    g_free(write_file(f, "ca.pem", "-----BEGIN CERTIFICATE-----\n"));
    GError *err = NULL;
    struct config *cfg = load_text(f,
        "# every key heed knows\n"
        "[heed]\n"
        "poll_interval = 90s\n"
        "open_command = firefox --new-tab %u\n"
        "snooze = 2h\n"
        "digest_threshold = 7\n"
        "digest_window = 3m\n"
        "nudge = 1h, 4h; 1d\n"
        "quiet_hours = 22:30-07:15\n"
        "quiet_hours_allow = none\n"
        "vip = @alice@example.social; bob.bsky.social\n"
        "muted = spam@x.example\n"
        "keywords = heed; #release ;\n"
        "mute_repos = octo-org/noisy; bots/*\n"
        "mute_kinds = quote; Review\n"
        "keyword_points = invoice:+20; news letter: -40\n"
        "sound = on\n"
        "avatars = false\n"
        "\n"
        "[score]\n"
        "mention = 3\n"
        "vip = 10\n"
        "\n"
        "[account work]\n"
        "network = mastodon\n"
        "server = https://mastodon.example/\n"
        "web_host = Example.Social\n"
        "token_file = tokens/work.token\n"
        "ca_file = ca.pem\n"
        "poll_interval = 30\n"
        "catchup_max_pages = 20\n"
        "\n"
        "[account sky]\n"
        "network = bluesky\n"
        "identifier = alice.bsky.social\n"
        "token_command = secret-tool lookup service heed account \"sky one\"\n"
        "\n"
        "[account gh]\n"
        "network = github\n"
        "token_file = ~/.config/heed/gh.token\n"
        "reasons = mention; review_requested\n"
        "participating = false\n"
        "\n"
        "[account tw]\n"
        "network = x\n"
        "token_file = /abs/x.token\n"
        "\n"
        "[account play]\n"
        "network = demo\n",
        &err);
    assert_null(err);
    assert_non_null(cfg);
    print_problems(cfg);
    assert_int_equal(cfg->problems->len, 0);

    assert_string_equal(cfg->path, f->conf);
    assert_int_equal(cfg->poll_interval, 90);
    assert_non_null(cfg->open_command);
    assert_string_equal(cfg->open_command[0], "firefox");
    assert_string_equal(cfg->open_command[1], "--new-tab");
    assert_string_equal(cfg->open_command[2], "%u");
    assert_null(cfg->open_command[3]);
    assert_int_equal(cfg->snooze_seconds, 7200);
    assert_int_equal(cfg->digest_threshold, 7);
    assert_int_equal(cfg->digest_window, 180);
    assert_int_equal(cfg->n_nudges, 3);
    assert_int_equal(cfg->nudge_schedule[0], 3600);
    assert_int_equal(cfg->nudge_schedule[1], 4 * 3600);
    assert_int_equal(cfg->nudge_schedule[2], 86400);
    assert_true(cfg->quiet.enabled);
    assert_int_equal(cfg->quiet.start_min, 22 * 60 + 30);
    assert_int_equal(cfg->quiet.end_min, 7 * 60 + 15);
    assert_false(cfg->quiet_allow_vip);
    assert_int_equal(g_strv_length(cfg->vip), 2);
    assert_string_equal(cfg->vip[0], "@alice@example.social");
    assert_string_equal(cfg->vip[1], "bob.bsky.social");
    assert_int_equal(g_strv_length(cfg->muted), 1);
    assert_string_equal(cfg->muted[0], "spam@x.example");
    /* '#' inside a value is data, and the empty element is dropped. */
    assert_int_equal(g_strv_length(cfg->keywords), 2);
    assert_string_equal(cfg->keywords[0], "heed");
    assert_string_equal(cfg->keywords[1], "#release");
    assert_int_equal(g_strv_length(cfg->mute_repos), 2);
    assert_string_equal(cfg->mute_repos[1], "bots/*");
    assert_int_equal(g_strv_length(cfg->mute_kinds), 2);
    assert_int_equal(cfg->n_keyword_points, 2);
    assert_string_equal(cfg->keyword_points[0].word, "invoice");
    assert_int_equal(cfg->keyword_points[0].points, 20);
    assert_string_equal(cfg->keyword_points[1].word, "news letter");
    assert_int_equal(cfg->keyword_points[1].points, -40);
    assert_string_equal(cfg->sound, "message-new-instant");
    assert_false(cfg->avatars);

    assert_non_null(cfg->score_group);
    char *v = g_key_file_get_value(cfg->score_group, "score", "mention", NULL);
    assert_string_equal(v, "3");
    g_free(v);
    v = g_key_file_get_value(cfg->score_group, "score", "vip", NULL);
    assert_string_equal(v, "10");
    g_free(v);
    assert_false(g_key_file_has_group(cfg->score_group, "heed"));

    assert_int_equal(cfg->n_accounts, 5);
    /* File order is kept. */
    assert_string_equal(cfg->accounts[0].name, "work");
    assert_string_equal(cfg->accounts[4].name, "play");

    const struct config_account *a = find_account(cfg, "work");
    assert_non_null(a);
    assert_string_equal(a->network, "mastodon");
    assert_string_equal(a->server, "https://mastodon.example");
    assert_string_equal(a->web_host, "example.social");
    assert_null(a->identifier);
    char *want = g_build_filename(f->dir, "tokens", "work.token", NULL);
    assert_string_equal(a->token_file, want);
    g_free(want);
    assert_null(a->token_command);
    want = g_build_filename(f->dir, "ca.pem", NULL);
    assert_string_equal(a->ca_file, want);
    g_free(want);
    assert_int_equal(a->poll_interval, 30);
    assert_int_equal(a->catchup_max_pages, 20);
    assert_null(a->reasons);
    assert_true(a->participating);

    a = find_account(cfg, "sky");
    assert_non_null(a);
    assert_string_equal(a->network, "bluesky");
    assert_string_equal(a->server, "https://bsky.social");
    assert_string_equal(a->web_host, "bsky.app");
    assert_string_equal(a->identifier, "alice.bsky.social");
    assert_null(a->token_file);
    assert_non_null(a->token_command);
    assert_int_equal(g_strv_length(a->token_command), 6);
    assert_string_equal(a->token_command[0], "secret-tool");
    assert_string_equal(a->token_command[5], "sky one");
    assert_null(a->ca_file);
    assert_int_equal(a->poll_interval, 0);
    assert_int_equal(a->catchup_max_pages, 10);

    a = find_account(cfg, "gh");
    assert_non_null(a);
    assert_string_equal(a->network, "github");
    assert_string_equal(a->server, "https://api.github.com");
    assert_string_equal(a->web_host, "github.com");
    want = g_build_filename(g_get_home_dir(), ".config", "heed", "gh.token", NULL);
    assert_string_equal(a->token_file, want);
    g_free(want);
    assert_int_equal(g_strv_length(a->reasons), 2);
    assert_string_equal(a->reasons[0], "mention");
    assert_string_equal(a->reasons[1], "review_requested");
    assert_false(a->participating);

    a = find_account(cfg, "tw");
    assert_non_null(a);
    assert_string_equal(a->network, "x");
    assert_string_equal(a->server, "https://api.x.com");
    assert_string_equal(a->web_host, "x.com");
    assert_string_equal(a->token_file, "/abs/x.token");

    a = find_account(cfg, "play");
    assert_non_null(a);
    assert_string_equal(a->network, "demo");
    assert_null(a->server);
    assert_null(a->web_host);
    assert_null(a->token_file);
    assert_null(a->token_command);
    config_free(cfg);
}

static void check_defaults(const struct config *cfg)
{
    assert_int_equal(cfg->poll_interval, 60);
    assert_null(cfg->open_command);
    assert_int_equal(cfg->snooze_seconds, 3600);
    assert_int_equal(cfg->digest_threshold, 5);
    assert_int_equal(cfg->digest_window, 120);
    assert_int_equal(cfg->n_nudges, 2);
    assert_int_equal(cfg->nudge_schedule[0], 7200);
    assert_int_equal(cfg->nudge_schedule[1], 28800);
    assert_false(cfg->quiet.enabled);
    assert_true(cfg->quiet_allow_vip);
    assert_null(cfg->vip);
    assert_null(cfg->muted);
    assert_null(cfg->keywords);
    assert_null(cfg->score_group);
    assert_int_equal(cfg->n_accounts, 0);
    assert_null(cfg->accounts);
    assert_non_null(cfg->problems);
    assert_int_equal(cfg->problems->len, 0);
}

static void test_missing_file_optional(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = config_load(f->conf, false, &err);
    assert_null(err);
    assert_non_null(cfg);
    assert_string_equal(cfg->path, f->conf);
    check_defaults(cfg);
    config_free(cfg);
}

static void test_missing_file_required(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = config_load(f->conf, true, &err);
    assert_null(cfg);
    assert_non_null(err);
    assert_true(g_error_matches(err, CONFIG_ERROR, CONFIG_ERROR_READ));
    assert_non_null(strstr(err->message, f->conf));
    g_error_free(err);
}

static void test_unreadable_file(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    /* A directory where the file should be: unreadable, even when optional. */
    assert_int_equal(g_mkdir(f->conf, 0700), 0);
    struct config *cfg = config_load(f->conf, false, &err);
    assert_null(cfg);
    assert_true(g_error_matches(err, CONFIG_ERROR, CONFIG_ERROR_READ));
    assert_non_null(strstr(err->message, f->conf));
    g_error_free(err);
}

static void test_empty_file(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "", &err);
    assert_null(err);
    assert_non_null(cfg);
    check_defaults(cfg);
    config_free(cfg);
}

static void test_syntax_error_names_line(void **state)
{
    (void)state;
    GError *err = NULL;
    const char *path = HEED_TEST_DATA "/config/bad-syntax.conf";
    struct config *cfg = config_load(path, true, &err);
    assert_null(cfg);
    assert_non_null(err);
    print_message("%s\n", err->message);
    assert_true(g_error_matches(err, CONFIG_ERROR, CONFIG_ERROR_PARSE));
    assert_true(g_str_has_prefix(err->message, path));
    assert_non_null(strstr(err->message, "line 4:"));
    g_error_free(err);
}

static void test_syntax_error_no_group(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "poll_interval = 60\n", &err);
    assert_null(cfg);
    assert_true(g_error_matches(err, CONFIG_ERROR, CONFIG_ERROR_PARSE));
    assert_true(g_str_has_prefix(err->message, f->conf));
    g_error_free(err);
}

static void test_bad_heed_fixture(void **state)
{
    (void)state;
    GError *err = NULL;
    const char *path = HEED_TEST_DATA "/config/bad-heed.conf";
    struct config *cfg = config_load(path, true, &err);
    assert_null(cfg);
    assert_true(g_error_matches(err, CONFIG_ERROR, CONFIG_ERROR_INVALID));
    char *want = g_strdup_printf("%s: [heed] quiet_hours: \"22:00-22:00\"", path);
    assert_non_null(strstr(err->message, want));
    assert_non_null(strstr(err->message, "; expected "));
    g_free(want);
    g_error_free(err);
}

static void test_bad_heed_values_fatal(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *line;
        const char *key;
    } cases[] = {
        { "poll_interval = 0", "poll_interval" },
        { "poll_interval = abc", "poll_interval" },
        { "poll_interval = 60 # seconds", "poll_interval" },
        { "poll_interval = 2d", "poll_interval" },
        { "poll_interval =", "poll_interval" },
        { "snooze = -5", "snooze" },
        { "snooze = 1y", "snooze" },
        { "digest_threshold = 0", "digest_threshold" },
        { "digest_threshold = 5s", "digest_threshold" },
        { "digest_window = 1x", "digest_window" },
        { "nudge = 8h, 2h", "nudge" },
        { "nudge = 2h, 2h", "nudge" },
        { "nudge = 1h,2h,3h,4h,5h,6h", "nudge" },
        { "nudge = 1h, soon", "nudge" },
        { "nudge = 0", "nudge" },
        { "quiet_hours = 25:00-01:00", "quiet_hours" },
        { "quiet_hours = 22:00", "quiet_hours" },
        { "quiet_hours_allow = maybe", "quiet_hours_allow" },
        { "open_command = browser %u %u", "open_command" },
        { "open_command = browser --url=%u", "open_command" },
        { "open_command = browser 'unterminated", "open_command" },
        { "vip = a\\qb", "vip" },
        { "mute_repos = octo-org", "mute_repos" },
        { "mute_repos = octo-org/a/b", "mute_repos" },
        { "mute_kinds = quote; sarcasm", "mute_kinds" },
        { "keyword_points = invoice", "keyword_points" },
        { "keyword_points = invoice:+500", "keyword_points" },
        { "keyword_points = :+5", "keyword_points" },
        { "keyword_points = invoice:lots", "keyword_points" },
        { "sound = bell; rm -rf", "sound" },
        { "avatars = maybe", "avatars" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *err = NULL;
        char *text = g_strdup_printf("[heed]\n%s\n", cases[i].line);
        struct config *cfg = load_text(f, text, &err);
        if (cfg != NULL)
            fail_msg("accepted: %s", cases[i].line);
        assert_non_null(err);
        assert_true(g_error_matches(err, CONFIG_ERROR, CONFIG_ERROR_INVALID));
        char *want = g_strdup_printf("%s: [heed] %s: ", f->conf, cases[i].key);
        if (strstr(err->message, want) == NULL || strstr(err->message, "; expected ") == NULL)
            fail_msg("%s -> %s", cases[i].line, err->message);
        g_free(want);
        g_free(text);
        g_error_free(err);
    }
}

static void test_comment_hint(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[heed]\npoll_interval = 60   # seconds\n", &err);
    assert_null(cfg);
    assert_non_null(strstr(err->message, "comment"));
    g_error_free(err);
}

static void test_all_heed_errors_reported(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[heed]\nsnooze = x\ndigest_window = y\n", &err);
    assert_null(cfg);
    assert_non_null(strstr(err->message, "[heed] snooze: "));
    assert_non_null(strstr(err->message, "[heed] digest_window: "));
    g_error_free(err);
}

/* ---- [heed] details ---------------------------------------------------- */

static void test_open_command(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[heed]\nopen_command = '/opt/my browser/run' --private \"%u\"\n", &err);
    assert_non_null(cfg);
    assert_int_equal(g_strv_length(cfg->open_command), 3);
    assert_string_equal(cfg->open_command[0], "/opt/my browser/run");
    assert_string_equal(cfg->open_command[1], "--private");
    assert_string_equal(cfg->open_command[2], "%u");
    config_free(cfg);

    /* Without %u url_open() appends the URL, so this is fine. */
    cfg = load_text(f, "[heed]\nopen_command = xdg-open\n", &err);
    assert_non_null(cfg);
    assert_int_equal(g_strv_length(cfg->open_command), 1);
    config_free(cfg);

    cfg = load_text(f, "[heed]\nopen_command =\n", &err);
    assert_non_null(cfg);
    assert_null(cfg->open_command);
    config_free(cfg);
}

static void test_nudge_forms(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    const char *none[] = { "nudge = none", "nudge = None", "nudge =" };
    for (size_t i = 0; i < G_N_ELEMENTS(none); i++) {
        char *text = g_strdup_printf("[heed]\n%s\n", none[i]);
        struct config *cfg = load_text(f, text, &err);
        assert_non_null(cfg);
        assert_int_equal(cfg->n_nudges, 0);
        assert_null(cfg->nudge_schedule);
        config_free(cfg);
        g_free(text);
    }
    struct config *cfg = load_text(f, "[heed]\nnudge = 30m,1h,2h,4h,8h\n", &err);
    assert_non_null(cfg);
    assert_int_equal(cfg->n_nudges, 5);
    assert_int_equal(cfg->nudge_schedule[0], 1800);
    assert_int_equal(cfg->nudge_schedule[4], 8 * 3600);
    config_free(cfg);
}

static void test_quiet_hours_key(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[heed]\nquiet_hours = 23:00 - 6:30\nquiet_hours_allow = vip\n", &err);
    assert_non_null(cfg);
    assert_true(cfg->quiet.enabled);
    assert_int_equal(cfg->quiet.start_min, 23 * 60);
    assert_int_equal(cfg->quiet.end_min, 6 * 60 + 30);
    assert_true(cfg->quiet_allow_vip);
    config_free(cfg);

    cfg = load_text(f, "[heed]\nquiet_hours = none\n", &err);
    assert_non_null(cfg);
    assert_false(cfg->quiet.enabled);
    config_free(cfg);
}

static void test_unknown_key_in_heed_not_fatal(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[heed]\npoll_intervall = 30\n", &err);
    assert_non_null(cfg);
    assert_int_equal(cfg->poll_interval, 60);
    assert_true(has_problem(cfg, f->conf, "[heed] poll_intervall: ", "unknown key", "; expected ", NULL));
    config_free(cfg);
}

static void test_unknown_group(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[heed]\n[weird]\na = b\n[accounts x]\n[account play]\nnetwork = demo\n", &err);
    assert_non_null(cfg);
    assert_int_equal(cfg->n_accounts, 1);
    assert_true(has_problem(cfg, f->conf, "[weird]: ", "unknown group", NULL));
    assert_true(has_problem(cfg, "[accounts x]: ", "unknown group", NULL));
    config_free(cfg);
}

static void test_empty_account_name(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[account ]\nnetwork = demo\n[account]\nnetwork = demo\n", &err);
    assert_non_null(cfg);
    print_problems(cfg);
    assert_int_equal(cfg->n_accounts, 0);
    assert_true(has_problem(cfg, f->conf, "[account ]: ", "no name", NULL));
    assert_true(has_problem(cfg, f->conf, "[account]: ", "no name", NULL));
    config_free(cfg);
}

static void test_duplicate_account_name(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[account play]\nnetwork = demo\n[account  play]\nnetwork = demo\n", &err);
    assert_non_null(cfg);
    assert_int_equal(cfg->n_accounts, 1);
    assert_true(has_problem(cfg, "[account  play]: ", "second account", NULL));
    config_free(cfg);
}

/* ---- [account NAME] ---------------------------------------------------- */

/* Each body is an [account work] group next to a good [account ok]: the
 * bad one must be reported against the right key and disabled alone. */
static void test_account_errors(void **state)
{
    struct fixture *f = *state;
    static const struct {
        const char *body;
        const char *key;
    } cases[] = {
        { "network = mastodon\nserver = http://m.example\ntoken_file = t", "server" },
        { "network = mastodon\ntoken_file = t", "server" },
        { "network = mastodon\nserver = https://u:p@m.example\ntoken_file = t", "server" },
        { "network = mastodon\nserver = https://m.example/?a=b\ntoken_file = t", "server" },
        { "network = mastodon\nserver = https://m.example/#top\ntoken_file = t", "server" },
        { "network = mastodon\nserver = https://m example\ntoken_file = t", "server" },
        { "network = mastodon\nserver = https://\ntoken_file = t", "server" },
        { "network = mastodon\nserver = https://ex%41mple.com\ntoken_file = t", "server" },
        { "network = mastodon\nserver = m.example\ntoken_file = t", "server" },
        { "network = myspace\ntoken_file = t", "network" },
        { "token_file = t", "network" },
        { "network = mastodon\nserver = https://m.example\ntoken_file = t\ntoken_command = pass show heed", "token_command" },
        { "network = mastodon\nserver = https://m.example", "token_file" },
        { "network = github\ntoken_command = 'unbalanced", "token_command" },
        { "network = github\ntoken_file = ~bob/t", "token_file" },
        { "network = bluesky\ntoken_file = t", "identifier" },
        { "network = bluesky\nidentifier = a\\qb\ntoken_file = t", "identifier" },
        { "network = github\ntoken_file = t\nca_file = missing.pem", "ca_file" },
        { "network = github\ntoken_file = t\nca_file = .", "ca_file" },
        { "network = github\ntoken_file = t\npoll_interval = 0", "poll_interval" },
        { "network = github\ntoken_file = t\npoll_interval = often", "poll_interval" },
        { "network = github\ntoken_file = t\ncatchup_max_pages = 0", "catchup_max_pages" },
        { "network = github\ntoken_file = t\ncatchup_max_pages = 1001", "catchup_max_pages" },
        { "network = github\ntoken_file = t\nreasons = Mention!", "reasons" },
        { "network = github\ntoken_file = t\nparticipating = maybe", "participating" },
        { "network = github\ntoken_file = t\nweb_host = https://github.com", "web_host" },
        { "network = x\ntoken_file = t\nclient_id = two words", "client_id" },
        { "network = x\ntoken_file = t\nclient_id = caf\xc3\xa9", "client_id" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        GError *err = NULL;
        char *text = g_strdup_printf("[account ok]\nnetwork = demo\n\n[account work]\n%s\n", cases[i].body);
        struct config *cfg = load_text(f, text, &err);
        assert_null(err);
        assert_non_null(cfg);
        char *key = g_strdup_printf(" %s: ", cases[i].key);
        if (cfg->n_accounts != 1 || strcmp(cfg->accounts[0].name, "ok") != 0) {
            print_problems(cfg);
            fail_msg("account not disabled by: %s", cases[i].body);
        }
        if (!has_problem(cfg, f->conf, "[account work]", key, "; expected ", NULL)) {
            print_problems(cfg);
            fail_msg("no [account work]%s problem for: %s", key, cases[i].body);
        }
        assert_true(has_problem(cfg, f->conf, "[account work]: account disabled", NULL));
        g_free(key);
        g_free(text);
        config_free(cfg);
    }
}

/* The list of networks comes from the drivers' table. */
static void test_network_list_from_drivers(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[account a]\nnetwork = myspace\n[account b]\ntoken_file = t\n", &err);
    assert_non_null(cfg);
    assert_true(has_problem(cfg, "[account a] network: ", "is not a known network; expected one of mastodon, "
                                 "bluesky, github, x or demo", NULL));
    assert_true(has_problem(cfg, "[account b] network: missing; expected one of mastodon, bluesky, github, x or demo",
                            NULL));
    assert_int_equal(cfg->n_accounts, 0);
    config_free(cfg);
}

static void test_http_server_message(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[account work]\nnetwork = mastodon\nserver = http://x\ntoken_file = t\n", &err);
    assert_non_null(cfg);
    assert_int_equal(cfg->n_accounts, 0);
    char *want = g_strdup_printf("%s: [account work] server: \"http://x\" is not an https URL; expected https://host",
                                 f->conf);
    assert_string_equal(g_ptr_array_index(cfg->problems, 0), want);
    g_free(want);
    config_free(cfg);
}

static void test_server_forms(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f,
        "[account a]\nnetwork = mastodon\nserver = https://M.Example:8443/social//\ntoken_file = t\n"
        "[account b]\nnetwork = mastodon\nserver = https://127.0.0.1:4443\ntoken_file = t\n"
        "[account c]\nnetwork = bluesky\nserver = https://pds.example/\nidentifier = did:plc:abc\ntoken_file = t\n"
        "[account d]\nnetwork = github\nserver = https://ghe.example/api/v3\ntoken_file = t\n"
        "[account e]\nnetwork = github\ntoken_file = t\n"
        "[account f]\nnetwork = mastodon\nserver = https://m.example\nweb_host = 127.0.0.1:8443\ntoken_file = t\n"
        "[account g]\nnetwork = mastodon\nserver = https://m.example\nweb_host = m.example:0\ntoken_file = t\n"
        "[account h]\nnetwork = github\nserver = HTTPS://API.GitHub.com:443/\ntoken_file = t\n",
        &err);
    assert_non_null(cfg);
    print_problems(cfg);
    assert_int_equal(cfg->n_accounts, 7); /* g is refused: port 0 */
    /* Any spelling of the default server is the default server. */
    assert_string_equal(cfg->accounts[6].server, "https://api.github.com");
    assert_string_equal(cfg->accounts[6].web_host, "github.com");
    assert_string_equal(cfg->accounts[3].web_host, "ghe.example"); /* GitHub Enterprise serves its own pages */
    assert_string_equal(cfg->accounts[4].web_host, "github.com");
    assert_string_equal(cfg->accounts[5].web_host, "127.0.0.1:8443");
    bool named = false;
    for (guint i = 0; i < cfg->problems->len; i++)
        named |= strstr(g_ptr_array_index(cfg->problems, i), "[account g] web_host") != NULL;
    assert_true(named);
    assert_string_equal(cfg->accounts[0].server, "https://m.example:8443/social"); /* one spelling */
    assert_string_equal(cfg->accounts[0].web_host, "m.example:8443");
    assert_string_equal(cfg->accounts[1].server, "https://127.0.0.1:4443");
    assert_string_equal(cfg->accounts[1].web_host, "127.0.0.1:4443");
    assert_string_equal(cfg->accounts[2].server, "https://pds.example");
    assert_string_equal(cfg->accounts[2].web_host, "bsky.app");
    config_free(cfg);
}

static void test_mixed_fixture(void **state)
{
    (void)state;
    GError *err = NULL;
    const char *path = HEED_TEST_DATA "/config/accounts-mixed.conf";
    struct config *cfg = config_load(path, true, &err);
    assert_null(err);
    assert_non_null(cfg);
    assert_int_equal(cfg->poll_interval, 120);
    assert_int_equal(cfg->n_accounts, 2);
    assert_string_equal(cfg->accounts[0].name, "good");
    assert_string_equal(cfg->accounts[0].server, "https://mastodon.example");
    assert_string_equal(cfg->accounts[0].token_file, HEED_TEST_DATA "/config/good.token");
    assert_string_equal(cfg->accounts[1].name, "play");
    assert_true(has_problem(cfg, path, "[account work] server: ", "\"http://mastodon.example\"", NULL));
    config_free(cfg);
}

static void test_account_warnings_do_not_disable(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f,
        "[account work]\n"
        "network = mastodon\n"
        "server = https://m.example\n"
        "token_file = t\n"
        "colour = blue\n"
        "identifier = me\n"
        "reasons = mention\n"
        "participating = true\n"
        "client_id = abc\n"
        "[account bird]\n"
        "network = x\n"
        "client_id = cl-ient_ID.42~\n"
        "token_file = t\n"
        "[account play]\n"
        "network = demo\n"
        "token_command = echo hi\n",
        &err);
    assert_non_null(cfg);
    print_problems(cfg);
    assert_int_equal(cfg->n_accounts, 3);
    assert_true(has_problem(cfg, "client_id: ignored for mastodon accounts; expected only in x accounts", NULL));
    assert_false(has_problem(cfg, "[account bird]", NULL));
    assert_string_equal(cfg->accounts[1].client_id, "cl-ient_ID.42~");
    assert_true(has_problem(cfg, f->conf, "[account work] colour: ", "unknown key", "; expected ", NULL));
    assert_true(has_problem(cfg, "[account work] identifier: ", "ignored", NULL));
    assert_true(has_problem(cfg, "[account work] reasons: ", "ignored", NULL));
    assert_true(has_problem(cfg, "[account work] participating: ", "ignored", NULL));
    /* Which networks read a key comes from the drivers' account_keys. */
    assert_true(has_problem(cfg, "identifier: ignored for mastodon accounts; expected only in bluesky accounts",
                            NULL));
    assert_true(has_problem(cfg, "reasons: ignored for mastodon accounts; expected only in github accounts", NULL));
    assert_true(has_problem(cfg, "[account play] token_command: ", "ignored", NULL));
    assert_false(has_problem(cfg, "account disabled", NULL));
    assert_null(cfg->accounts[2].token_command);
    config_free(cfg);
}

static void test_token_command_not_echoed(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    struct config *cfg = load_text(f, "[account work]\nnetwork = github\ntoken_command = echo 'hunter2\n", &err);
    assert_non_null(cfg);
    assert_int_equal(cfg->n_accounts, 0);
    assert_true(has_problem(cfg, "[account work] token_command: ", NULL));
    assert_false(has_problem(cfg, "hunter2", NULL));
    config_free(cfg);
}

static void test_relative_config_path(void **state)
{
    struct fixture *f = *state;
    GError *err = NULL;
    g_free(write_file(f, "heed.conf", "[account gh]\nnetwork = github\ntoken_file = gh.token\n"));
    char *cwd = g_get_current_dir();
    assert_int_equal(g_chdir(f->dir), 0);
    struct config *cfg = config_load("heed.conf", true, &err);
    assert_int_equal(g_chdir(cwd), 0);
    g_free(cwd);
    assert_non_null(cfg);
    assert_int_equal(cfg->n_accounts, 1);
    char *want = g_build_filename(f->dir, "gh.token", NULL);
    char *canon = g_canonicalize_filename(want, NULL);
    assert_string_equal(cfg->accounts[0].token_file, canon);
    g_free(canon);
    g_free(want);
    config_free(cfg);
}

/* ---- pure parsers ------------------------------------------------------ */

static void test_quiet_hours_parse(void **state)
{
    (void)state;
    struct config_quiet q = { 0 };
    assert_true(config_parse_quiet_hours("22:00-07:00", &q));
    assert_true(q.enabled);
    assert_int_equal(q.start_min, 22 * 60);
    assert_int_equal(q.end_min, 7 * 60);

    assert_true(config_parse_quiet_hours("07:00-22:00", &q));
    assert_int_equal(q.start_min, 7 * 60);
    assert_int_equal(q.end_min, 22 * 60);

    assert_true(config_parse_quiet_hours("00:00-23:59", &q));
    assert_int_equal(q.start_min, 0);
    assert_int_equal(q.end_min, 23 * 60 + 59);

    assert_true(config_parse_quiet_hours("23:59-00:00", &q));
    assert_int_equal(q.start_min, 23 * 60 + 59);
    assert_int_equal(q.end_min, 0);

    assert_true(config_parse_quiet_hours(" 9:05 - 17:30 ", &q));
    assert_int_equal(q.start_min, 9 * 60 + 5);
    assert_int_equal(q.end_min, 17 * 60 + 30);

    const char *bad[] = {
        "", "22:00", "22:00-", "-07:00", "22:00-22:00", "24:00-01:00", "22:60-01:00", "22-07",
        "22:00-07:00x", "aa:bb-cc:dd", "22:0-07:00", "-1:00-02:00", "123:00-01:00", "22:00/07:00",
        "22:00--07:00", "22:00-07:000",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        struct config_quiet untouched = { false, 1, 2 };
        if (config_parse_quiet_hours(bad[i], &untouched))
            fail_msg("accepted quiet hours \"%s\"", bad[i]);
        assert_false(untouched.enabled);
    }
    assert_false(config_parse_quiet_hours(NULL, &q));
}

static void test_durations(void **state)
{
    (void)state;
    assert_int_equal(config_parse_duration("90"), 90);
    assert_int_equal(config_parse_duration("90s"), 90);
    assert_int_equal(config_parse_duration("15m"), 900);
    assert_int_equal(config_parse_duration("2h"), 7200);
    assert_int_equal(config_parse_duration("1d"), 86400);
    assert_int_equal(config_parse_duration("0"), 0);
    assert_int_equal(config_parse_duration(" 5m "), 300);
    assert_int_equal(config_parse_duration("007"), 7);
    assert_true(config_parse_duration("9223372036854775807") == INT64_MAX);
    assert_true(config_parse_duration("106751991167300d") == INT64_C(106751991167300) * 86400);

    const char *bad[] = {
        "", " ", "-5", "+5", "5x", "m", "5 m", "1.5h", "5mm", "1h30m", "5M", "0x10",
        "9223372036854775808", "99999999999999999999", "106751991167301d", "153722867280912931m",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
        if (config_parse_duration(bad[i]) != -1)
            fail_msg("accepted duration \"%s\"", bad[i]);
    assert_int_equal(config_parse_duration(NULL), -1);
}

static void test_default_path(void **state)
{
    (void)state;
    char *p = config_default_path();
    char *want = g_build_filename(g_get_user_config_dir(), "heed", "heed.conf", NULL);
    assert_string_equal(p, want);
    g_free(want);
    g_free(p);
}

static void test_free_null(void **state)
{
    (void)state;
    config_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_full_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_optional, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_file_required, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
        cmocka_unit_test(test_syntax_error_names_line),
        cmocka_unit_test_setup_teardown(test_syntax_error_no_group, setup, teardown),
        cmocka_unit_test(test_bad_heed_fixture),
        cmocka_unit_test_setup_teardown(test_bad_heed_values_fatal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_comment_hint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_heed_errors_reported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nudge_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_quiet_hours_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_in_heed_not_fatal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_account_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_account_name, setup, teardown),
        cmocka_unit_test_setup_teardown(test_account_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_list_from_drivers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_server_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_forms, setup, teardown),
        cmocka_unit_test(test_mixed_fixture),
        cmocka_unit_test_setup_teardown(test_account_warnings_do_not_disable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_command_not_echoed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_relative_config_path, setup, teardown),
        cmocka_unit_test(test_quiet_hours_parse),
        cmocka_unit_test(test_durations),
        cmocka_unit_test(test_default_path),
        cmocka_unit_test(test_free_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
