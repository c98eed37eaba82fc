/* SPDX-License-Identifier: MIT */
/* Unit tests for the heed command line: argument parsing (cli/args.c) and
 * the layout helpers behind its human output (cli/format.c). */
#include "args.h"
#include "cmd.h"
#include "format.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* ---- helpers ----------------------------------------------------------- */

/* Every argv made by parse(), freed at the end: cli_args may point into it. */
static GPtrArray *test_argvs;

/* Parse a space-separated command line ("heed" is prepended). */
static bool parse(const char *line, struct cli_args *out, char **error)
{
    g_autofree char *full = g_strconcat("heed", *line ? " " : "", line, NULL);
    char **argv = g_strsplit(full, " ", -1);
    g_ptr_array_add(test_argvs, argv);
    return cli_args_parse((int)g_strv_length(argv), argv, out, error);
}

static struct cli_args parse_ok(const char *line)
{
    struct cli_args a;
    char *error = NULL;
    bool ok = parse(line, &a, &error);
    if (!ok)
        fail_msg("\"%s\" should parse, got: %s", line, error);
    assert_null(error);
    return a;
}

/* Parse must fail and the message must contain each of the fragments. */
static void parse_fails(const char *line, const char *fragment)
{
    struct cli_args a;
    char *error = NULL;
    if (parse(line, &a, &error))
        fail_msg("\"%s\" should be a usage error", line);
    assert_non_null(error);
    if (!strstr(error, fragment))
        fail_msg("\"%s\": message \"%s\" lacks \"%s\"", line, error, fragment);
    assert_null(strchr(error, '\n'));
    g_free(error);
}

/* ---- parsing ----------------------------------------------------------- */

static void test_no_command_help_version(void **state)
{
    (void)state;
    struct cli_args none = parse_ok("");
    assert_null(none.cmd);
    assert_false(none.version);
    assert_ptr_equal(parse_ok("--help").cmd, &cmd_help_entry);
    assert_ptr_equal(parse_ok("-h").cmd, &cmd_help_entry);
    assert_ptr_equal(parse_ok("help").cmd, &cmd_help_entry);
    assert_false(parse_ok("help").help);
    assert_true(parse_ok("--version").version);
    assert_null(parse_ok("--version").cmd);
    assert_true(parse_ok("-V").version);
    parse_fails("--version list", "unexpected argument \"list\"");
    parse_fails("--bogus", "unknown option \"--bogus\"");
    parse_fails("bogus", "unknown command \"bogus\"");
    parse_fails("--json", "--json needs a command");
}

static void test_every_command_takes_help(void **state)
{
    (void)state;
    /* Every verb of the table, so a new one is covered without a word here. */
    int n = 0;
    for (const struct cmd_entry *const *e = cmd_table(); *e; e++, n++) {
        const char *name = (*e)->name;
        assert_ptr_equal(cmd_find(name), *e);
        g_autofree char *line = g_strconcat(name, " --help", NULL);
        struct cli_args a = parse_ok(line);
        assert_true(a.help);
        assert_ptr_equal(a.cmd, *e);
        g_autofree char *usage = cmd_usage(a.cmd);
        g_autofree char *want = g_strconcat("usage: heed ", name, NULL);
        if (!g_str_has_prefix(usage, want))
            fail_msg("heed %s --help starts: %.40s", name, usage);
        assert_true(g_str_has_suffix(usage, "\n"));

        g_autofree char *line3 = g_strconcat(name, " -h", NULL);
        assert_true(parse_ok(line3).help);
        if (*e == &cmd_help_entry)
            continue;
        /* help COMMAND is the same. */
        g_autofree char *line2 = g_strconcat("help ", name, NULL);
        struct cli_args b = parse_ok(line2);
        assert_true(b.help);
        assert_ptr_equal(b.cmd, a.cmd);
    }
    assert_true(n >= 14);
    assert_null(cmd_find("frobnicate"));
    /* --help wins over a mistake on the same line. */
    assert_true(parse_ok("list --limit nope --help").help);
    assert_true(parse_ok("show --help").help);
    parse_fails("help bogus", "unknown command \"bogus\"");
    parse_fails("help list extra", "unexpected argument \"extra\"");
}

static void test_list(void **state)
{
    (void)state;
    struct cli_args a = parse_ok("list");
    assert_ptr_equal(a.cmd, &cmd_list_entry);
    assert_false(a.all);
    assert_false(a.json);
    assert_int_equal(a.limit, 0);

    a = parse_ok("list --all --limit 5 --json");
    assert_true(a.all);
    assert_true(a.json);
    assert_int_equal(a.limit, 5);
    a = parse_ok("--json list -a --limit=7");
    assert_true(a.json);
    assert_true(a.all);
    assert_int_equal(a.limit, 7);

    parse_fails("list --limit", "--limit needs a number");
    parse_fails("list --limit 0", "--limit \"0\" is not a count");
    parse_fails("list --limit -3", "is not a count");
    parse_fails("list --limit 3x", "is not a count");
    parse_fails("list --limit 99999999999999999999", "is not a count");
    parse_fails("list --limit= ", "is not a count");
    parse_fails("list --limitless", "unknown option \"--limitless\"");
    parse_fails("list --days 3", "unknown option \"--days\"");
    parse_fails("list extra", "list: unexpected argument \"extra\"");
}

static void test_ids(void **state)
{
    (void)state;
    const char *cmds[] = { "show", "explain", "open", "done", "snooze", "wake" };
    const struct cmd_entry *want[] = { &cmd_show_entry, &cmd_explain_entry, &cmd_open_entry,
                                       &cmd_done_entry, &cmd_snooze_entry,  &cmd_wake_entry };
    for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
        g_autofree char *line = g_strconcat(cmds[i], " 42", NULL);
        struct cli_args a = parse_ok(line);
        assert_ptr_equal(a.cmd, want[i]);
        assert_int_equal(a.id, 42);
        g_autofree char *bare = g_strdup(cmds[i]);
        parse_fails(bare, "needs a mention id");
        g_autofree char *zero = g_strconcat(cmds[i], " 0", NULL);
        parse_fails(zero, "\"0\" is not a mention id");
        g_autofree char *neg = g_strconcat(cmds[i], " -5", NULL);
        parse_fails(neg, "\"-5\" is not a mention id");
        g_autofree char *word = g_strconcat(cmds[i], " abc", NULL);
        parse_fails(word, "\"abc\" is not a mention id");
    }
    assert_int_equal(parse_ok("show 9223372036854775807").id, INT64_MAX);
    parse_fails("show 9223372036854775808", "is not a mention id");
    parse_fails("show 1 2", "show: unexpected argument \"2\"");
    assert_true(parse_ok("show 3 --json").json);
    assert_true(parse_ok("explain --json 3").json);
    parse_fails("open 3 --json", "--json is not supported");
    parse_fails("--json done 3", "--json is not supported");
    /* "--" ends the options. */
    assert_int_equal(parse_ok("show -- 8").id, 8);
}

static void test_snooze_duration(void **state)
{
    (void)state;
    struct cli_args a = parse_ok("snooze 4");
    assert_int_equal(a.snooze_seconds, 0);
    assert_int_equal(parse_ok("snooze 4 90").snooze_seconds, 90);
    assert_int_equal(parse_ok("snooze 4 30m").snooze_seconds, 1800);
    assert_int_equal(parse_ok("snooze 4 2h").snooze_seconds, 7200);
    assert_int_equal(parse_ok("snooze 4 30d").snooze_seconds, 30 * 86400);
    parse_fails("snooze 4 31d", "\"31d\" is out of range");
    parse_fails("snooze 4 0", "out of range");
    parse_fails("snooze 4 2x", "\"2x\" is not a duration");
    parse_fails("snooze 4 -2h", "\"-2h\" is not a duration");
    parse_fails("snooze 4 1h 2h", "unexpected argument \"2h\"");
    parse_fails("done 4 1h", "done: unexpected argument \"1h\"");
}

static void test_stats_reload_check_config(void **state)
{
    (void)state;
    struct cli_args a = parse_ok("stats");
    assert_ptr_equal(a.cmd, &cmd_stats_entry);
    assert_int_equal(a.days, 0);
    a = parse_ok("stats --days 30 --json");
    assert_int_equal(a.days, 30);
    assert_true(a.json);
    assert_int_equal(parse_ok("stats --days=1").days, 1);
    parse_fails("stats --days", "--days needs a number");
    parse_fails("stats --days 0", "is not a number of days");
    parse_fails("stats --days 9999", "is not a number of days");
    parse_fails("stats --all", "unknown option \"--all\"");

    assert_ptr_equal(parse_ok("reload").cmd, &cmd_reload_entry);
    parse_fails("reload now", "reload: unexpected argument");
    parse_fails("reload --json", "--json is not supported");

    a = parse_ok("check-config");
    assert_ptr_equal(a.cmd, &cmd_check_config_entry);
    assert_null(a.file);
    a = parse_ok("check-config /tmp/x.conf");
    assert_string_equal(a.file, "/tmp/x.conf");
    a = parse_ok("check-config -- -odd.conf");
    assert_string_equal(a.file, "-odd.conf");
    parse_fails("check-config a b", "unexpected argument \"b\"");
    parse_fails("check-config --json", "--json is not supported");
    parse_fails("status --limit 3", "status: unknown option");
    assert_true(parse_ok("status --json").json);
}

static void test_overview_from_table(void **state)
{
    (void)state;
    g_autofree char *text = cmd_overview();
    assert_true(g_str_has_prefix(text, "usage: heed [--json] COMMAND [ARGS]\n"));
    for (const struct cmd_entry *const *e = cmd_table(); *e; e++) {
        g_autofree char *line = g_strconcat("\n  ", (*e)->name, NULL);
        if (!strstr(text, line))
            fail_msg("the overview does not list %s:\n%s", (*e)->name, text);
    }
    /* The login line names the networks, from the drivers. */
    assert_non_null(strstr(text, "add an account: mastodon, bluesky, github or x\n"));
    /* --json is offered exactly where the table says. */
    parse_fails("reload --json", "expected it with status, list, show, explain or stats");
}

static void test_login_from_drivers(void **state)
{
    (void)state;
    struct cli_args a = parse_ok("login mastodon example.social --name fedi --ca-file /tmp/ca.pem");
    assert_ptr_equal(a.cmd, &cmd_login_entry);
    assert_string_equal(a.network, "mastodon");
    assert_string_equal(a.target, "example.social");
    assert_string_equal(a.name, "fedi");
    assert_string_equal(a.ca_file, "/tmp/ca.pem");
    a = parse_ok("login bluesky @alice.test --server https://pds.example --force --keyring");
    assert_string_equal(a.target, "@alice.test");
    assert_string_equal(a.server, "https://pds.example");
    assert_true(a.force && a.keyring);
    a = parse_ok("login github --no-browser");
    assert_null(a.target);
    assert_true(a.no_browser);

    parse_fails("login", "needs a network: mastodon, bluesky, github or x");
    parse_fails("login demo", "\"demo\" is not a network; expected mastodon, bluesky, github or x");
    parse_fails("login mastodon", "mastodon needs your instance, e.g. heed login mastodon mastodon.social");
    parse_fails("login bluesky", "bluesky needs your handle, e.g. heed login bluesky alice.bsky.social");
    parse_fails("login x extra", "unexpected argument \"extra\"");
    parse_fails("login mastodon a.example --server https://b.example", "--server is not for mastodon");
    parse_fails("login github --name", "--name needs a value");

    g_autofree char *usage = cmd_usage(&cmd_login_entry);
    assert_true(g_str_has_prefix(usage, "usage: heed login mastodon INSTANCE [OPTIONS]\n"
                                        "       heed login bluesky HANDLE [OPTIONS]\n"
                                        "       heed login github [OPTIONS]\n"
                                        "       heed login x [OPTIONS]\n"));
    assert_non_null(strstr(usage, "GitHub: says which token"));
    assert_non_null(strstr(usage, "developer app"));
    assert_non_null(strstr(usage, "--client-id ID"));

    a = parse_ok("login x --client-id abc-123");
    assert_string_equal(a.client_id, "abc-123");
    parse_fails("login x --client-id", "--client-id needs a value");
    parse_fails("login github --client-id abc", "--client-id is not for github");
}

static void test_messages_quote_control_characters(void **state)
{
    (void)state;
    char *argv[] = { "heed", "\033[2Jx", NULL };
    struct cli_args a;
    char *error = NULL;
    assert_false(cli_args_parse(2, argv, &a, &error));
    assert_null(strchr(error, '\033'));
    assert_non_null(strstr(error, "\\x1b[2Jx"));
    g_free(error);
}

/* ---- format ------------------------------------------------------------ */

static void test_term_width_and_color(void **state)
{
    (void)state;
    assert_int_equal(cli_term_width(true, 120, NULL), 120);
    assert_int_equal(cli_term_width(true, 120, "60"), 120);
    assert_int_equal(cli_term_width(true, 0, "60"), 60);
    assert_int_equal(cli_term_width(true, 0, NULL), 80);
    assert_int_equal(cli_term_width(false, 0, NULL), CLI_PIPE_WIDTH);
    assert_int_equal(cli_term_width(false, 0, "132"), 132);
    assert_int_equal(cli_term_width(false, 0, "junk"), CLI_PIPE_WIDTH);
    assert_int_equal(cli_term_width(true, 10, NULL), CLI_MIN_WIDTH);

    assert_true(cli_use_color(true, NULL, "xterm"));
    assert_true(cli_use_color(true, "", NULL));
    assert_false(cli_use_color(true, "1", "xterm"));
    assert_false(cli_use_color(false, NULL, "xterm"));
    assert_false(cli_use_color(true, NULL, "dumb"));
}

static void test_width_fit_clean(void **state)
{
    (void)state;
    assert_int_equal(cli_width("abc"), 3);
    assert_int_equal(cli_width("日本"), 4);
    assert_int_equal(cli_width("e\u0301"), 1);
    assert_int_equal(cli_width(""), 0);

    g_autofree char *a = cli_fit("hello world", 20);
    assert_string_equal(a, "hello world");
    g_autofree char *b = cli_fit("hello world", 8);
    assert_string_equal(b, "hello w\u2026");
    g_autofree char *b2 = cli_fit("hello world", 7);
    assert_string_equal(b2, "hello\u2026");
    g_autofree char *c = cli_fit("日本語テキスト", 6);
    assert_string_equal(c, "日本\u2026");
    assert_true(cli_width(c) <= 6);
    g_autofree char *d = cli_fit("anything", 0);
    assert_string_equal(d, "");
    g_autofree char *e = cli_fit(NULL, 5);
    assert_string_equal(e, "");

    /* Terminal escapes, newlines and bidi overrides never reach the screen. */
    g_autofree char *f = cli_clean("a\033[31mred\033[0m\nnext\u202Eevil");
    assert_null(strchr(f, '\033'));
    assert_null(strchr(f, '\n'));
    assert_null(strstr(f, "\u202E"));
}

static void test_wrap(void **state)
{
    (void)state;
    g_autofree char *a = cli_wrap("the quick brown fox jumps over the lazy dog", 10);
    g_auto(GStrv) lines = g_strsplit(a, "\n", -1);
    for (char **l = lines; *l; l++)
        assert_true(cli_width(*l) <= 10);
    assert_string_equal(lines[0], "the quick");
    g_autofree char *joined = g_strjoinv(" ", lines);
    assert_string_equal(joined, "the quick brown fox jumps over the lazy dog");

    g_autofree char *b = cli_wrap("https://example.social/@someone/113000000000000001", 12);
    g_auto(GStrv) blines = g_strsplit(b, "\n", -1);
    for (char **l = blines; *l; l++)
        assert_true(cli_width(*l) <= 12);
    g_autofree char *bj = g_strjoinv("", blines);
    assert_string_equal(bj, "https://example.social/@someone/113000000000000001");

    g_autofree char *c = cli_wrap("para one\n\npara two", 40);
    assert_string_equal(c, "para one\n\npara two");
}

static void test_age_and_time(void **state)
{
    (void)state;
    const struct { int64_t s; const char *want; } cases[] = {
        { 0, "<1 min" }, { 59, "<1 min" }, { 60, "1 min" }, { 3599, "59 min" }, { 3600, "1 h" },
        { 3 * 3600 + 59, "3 h" }, { 47 * 3600, "47 h" }, { 48 * 3600, "2 d" }, { 400 * 86400, "400 d" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *got = cli_age(cases[i].s);
        assert_string_equal(got, cases[i].want);
    }

    /* Local time is UTC here (set in main). 2026-01-02T03:04:05Z = 1767323045. */
    assert_int_equal(cli_parse_time("2026-01-02T03:04:05Z"), 1767323045);
    assert_int_equal(cli_parse_time("yesterday"), -1);
    assert_int_equal(cli_parse_time(NULL), -1);
    g_autofree char *same_day = cli_local_time("2026-01-02T03:04:05Z", 1767323045 + 3600);
    assert_string_equal(same_day, "03:04:05");
    g_autofree char *other_day = cli_local_time("2026-01-02T03:04:05Z", 1767323045 + 2 * 86400);
    assert_string_equal(other_day, "2026-01-02 03:04");
    assert_null(cli_local_time("nonsense", 0));
}

static const struct cli_column test_cols[] = {
    { "ID", CLI_ALIGN_RIGHT, 2, 0 },
    { "WHO", CLI_ALIGN_LEFT, 3, 8 },
    { "TEXT", CLI_ALIGN_LEFT, 5, 0 },
};

static void test_table(void **state)
{
    (void)state;
    struct cli_table *t = cli_table_new(test_cols, 3);
    const char *r1[] = { "7", "Alice Example", "short" };
    const char *r2[] = { "1234", "Bob", "a much longer text that will not fit in forty columns at all" };
    const char *r3[] = { "9", "\033[31mEve", NULL };
    const char *colors[] = { NULL, "\033[1m", NULL };
    cli_table_add(t, r1, colors);
    cli_table_add(t, r2, NULL);
    cli_table_add(t, r3, NULL);
    assert_int_equal(cli_table_rows(t), 3);

    g_autofree char *plain = cli_table_render(t, 40, true, false);
    g_auto(GStrv) lines = g_strsplit(plain, "\n", -1);
    assert_int_equal(g_strv_length(lines), 5); /* header, 3 rows, "" after the last newline */
    assert_string_equal(lines[0], "  ID  WHO       TEXT");
    assert_string_equal(lines[1], "   7  Alice E\u2026  short");
    assert_true(g_str_has_prefix(lines[2], "1234  Bob       a much longer"));
    /* The escape character is gone; what is left is harmless text. */
    assert_string_equal(lines[3], "   9  [31mEve");
    for (int i = 0; i < 4; i++) {
        assert_true(cli_width(lines[i]) <= 40);
        assert_false(g_str_has_suffix(lines[i], " "));
        assert_null(strchr(lines[i], '\033'));
    }
    assert_int_equal(cli_width(lines[2]), 40);
    assert_true(g_str_has_suffix(lines[2], "\u2026"));

    /* Colour codes only when asked, and only around the text. */
    g_autofree char *colored = cli_table_render(t, 40, false, true);
    assert_non_null(strstr(colored, "\033[1mAlice E\u2026\033[0m"));
    g_autofree char *nohead = cli_table_render(t, 40, false, false);
    assert_true(g_str_has_prefix(nohead, "   7  Alice"));

    /* Too narrow for the fixed columns: they shrink, the line still fits. */
    g_autofree char *narrow = cli_table_render(t, 12, true, false);
    g_auto(GStrv) nl = g_strsplit(narrow, "\n", -1);
    for (char **l = nl; *l; l++)
        assert_true(cli_width(*l) <= 12);
    cli_table_free(t);
}

int main(void)
{
    /* Local times in the tests are UTC. */
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_command_help_version),
        cmocka_unit_test(test_every_command_takes_help),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_snooze_duration),
        cmocka_unit_test(test_stats_reload_check_config),
        cmocka_unit_test(test_overview_from_table),
        cmocka_unit_test(test_login_from_drivers),
        cmocka_unit_test(test_messages_quote_control_characters),
        cmocka_unit_test(test_term_width_and_color),
        cmocka_unit_test(test_width_fit_clean),
        cmocka_unit_test(test_wrap),
        cmocka_unit_test(test_age_and_time),
        cmocka_unit_test(test_table),
    };
    test_argvs = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    g_ptr_array_free(test_argvs, TRUE);
    return rc;
}
