/* SPDX-License-Identifier: MIT */
/* test_conffile: editing heed.conf without disturbing it (lib/conffile.c).
 *
 * The promise under test is byte-for-byte: every line heed login did not
 * mean to touch - comments, blank lines, spacing, other groups, other keys
 * of the same group - comes out exactly as it went in, and what was set
 * reads back through GKeyFile (and config_load) as given.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conffile.h"
#include "config.h"

static const char user_conf[] =
    "# My heed configuration.\n"
    "#   (hand-written; keep the spacing)\n"
    "\n"
    "[heed]\n"
    "# poll often, I am impatient\n"
    "poll_interval   =   30\n"
    "vip = alice@example.social;bob.test\n"
    "\n"
    "# my work account\n"
    "[account work]\n"
    "network = mastodon\n"
    "server = https://work.example\n"
    "# the token lives next to this file\n"
    "token_file = work.token\n"
    "poll_interval = 120\n"
    "\n"
    "\n"
    "# trailing words at the end of the file\n";

static char *data_of(struct conffile *cf)
{
    GError *err = NULL;
    gsize len = 0;
    char *d = conffile_to_data(cf, &len, &err);
    if (!d)
        fail_msg("conffile_to_data: %s", err->message);
    assert_int_equal(strlen(d), len);
    return d;
}

static struct conffile *load_str(const char *s)
{
    GError *err = NULL;
    struct conffile *cf = conffile_new_from_data("heed.conf", s, strlen(s), &err);
    if (!cf)
        fail_msg("conffile_new_from_data: %s", err->message);
    return cf;
}

static void set_ok(struct conffile *cf, const char *group, const char *key, const char *value, const char *comment)
{
    GError *err = NULL;
    if (!conffile_set(cf, group, key, value, comment, &err))
        fail_msg("conffile_set [%s] %s: %s", group, key, err->message);
}

static void test_untouched_is_identical(void **state)
{
    (void)state;
    struct conffile *cf = load_str(user_conf);
    g_autofree char *d = data_of(cf);
    assert_string_equal(d, user_conf);
    conffile_free(cf);

    /* No final newline: left so when nothing changes. */
    cf = load_str("[heed]\npoll_interval = 5");
    g_autofree char *d2 = data_of(cf);
    assert_string_equal(d2, "[heed]\npoll_interval = 5");
    conffile_free(cf);
}

static void test_new_group_is_appended(void **state)
{
    (void)state;
    struct conffile *cf = load_str(user_conf);
    assert_true(conffile_has_group(cf, "account work"));
    assert_false(conffile_has_group(cf, "account sky"));
    set_ok(cf, "account sky", "network", "bluesky", "Added by heed login bluesky.");
    set_ok(cf, "account sky", "identifier", "alice.test", NULL);
    set_ok(cf, "account sky", "token_file", "/home/a/.config/heed/sky.token", NULL);
    assert_true(conffile_has_group(cf, "account sky"));
    g_autofree char *d = data_of(cf);
    /* Everything the user wrote, then a blank line and the new group. */
    g_autofree char *want = g_strconcat(user_conf,
                                        "\n"
                                        "# Added by heed login bluesky.\n"
                                        "[account sky]\n"
                                        "network = bluesky\n"
                                        "identifier = alice.test\n"
                                        "token_file = /home/a/.config/heed/sky.token\n",
                                        NULL);
    assert_string_equal(d, want);
    conffile_free(cf);
}

static void test_append_to_file_without_newline_or_empty(void **state)
{
    (void)state;
    struct conffile *cf = load_str("[heed]\npoll_interval = 5");
    set_ok(cf, "account x", "network", "x", NULL);
    g_autofree char *d = data_of(cf);
    assert_string_equal(d, "[heed]\npoll_interval = 5\n\n[account x]\nnetwork = x\n");
    conffile_free(cf);

    cf = load_str("");
    set_ok(cf, "account x", "network", "x", "one\n\ntwo");
    g_autofree char *d2 = data_of(cf);
    assert_string_equal(d2, "# one\n#\n# two\n[account x]\nnetwork = x\n");
    conffile_free(cf);

    /* A file that already ends in a blank line gets no second one. */
    cf = load_str("[heed]\n\n");
    set_ok(cf, "account x", "network", "x", NULL);
    g_autofree char *d3 = data_of(cf);
    assert_string_equal(d3, "[heed]\n\n[account x]\nnetwork = x\n");
    conffile_free(cf);
}

static void test_existing_group_is_edited_in_place(void **state)
{
    (void)state;
    struct conffile *cf = load_str(user_conf);
    /* A re-login: credentials change, the user's tuning (poll_interval,
     * the comments) stays where it was. */
    set_ok(cf, "account work", "server", "https://new.example", NULL);
    conffile_unset(cf, "account work", "token_file");
    set_ok(cf, "account work", "token_command", "secret-tool lookup service heed account work", NULL);
    conffile_unset(cf, "account work", "ca_file"); /* absent: no change */
    g_autofree char *d = data_of(cf);
    assert_string_equal(d,
                        "# My heed configuration.\n"
                        "#   (hand-written; keep the spacing)\n"
                        "\n"
                        "[heed]\n"
                        "# poll often, I am impatient\n"
                        "poll_interval   =   30\n"
                        "vip = alice@example.social;bob.test\n"
                        "\n"
                        "# my work account\n"
                        "[account work]\n"
                        "network = mastodon\n"
                        "server = https://new.example\n"
                        "# the token lives next to this file\n"
                        "poll_interval = 120\n"
                        "token_command = secret-tool lookup service heed account work\n"
                        "\n"
                        "\n"
                        "# trailing words at the end of the file\n");
    conffile_free(cf);
}

static void test_repeated_key_collapses(void **state)
{
    (void)state;
    /* GKeyFile lets the last of two equal keys win; after an edit there is
     * one line, the new one, where the first was. */
    struct conffile *cf = load_str("[account a]\nserver = https://one\n# c\nserver = https://two\nnetwork = x\n");
    set_ok(cf, "account a", "server", "https://three", NULL);
    g_autofree char *d = data_of(cf);
    assert_string_equal(d, "[account a]\nserver = https://three\n# c\nnetwork = x\n");
    conffile_free(cf);

    /* A group with no keys gets the key right after its header. */
    cf = load_str("[account a]\n# nothing yet\n\n[heed]\npoll_interval = 3\n");
    set_ok(cf, "account a", "network", "x", NULL);
    g_autofree char *d2 = data_of(cf);
    assert_string_equal(d2, "[account a]\nnetwork = x\n# nothing yet\n\n[heed]\npoll_interval = 3\n");
    conffile_free(cf);
}

static void test_values_are_escaped(void **state)
{
    (void)state;
    const char *odd = "  leading spaces, a \\ backslash and\ta tab; # not a comment";
    struct conffile *cf = load_str("");
    set_ok(cf, "account a", "token_file", odd, NULL);
    g_autofree char *d = data_of(cf);
    GKeyFile *kf = g_key_file_new();
    assert_true(g_key_file_load_from_data(kf, d, (gsize)-1, G_KEY_FILE_NONE, NULL));
    g_autofree char *back = g_key_file_get_string(kf, "account a", "token_file", NULL);
    assert_string_equal(back, odd);
    g_key_file_free(kf);
    conffile_free(cf);
}

static void test_bad_input_refused(void **state)
{
    (void)state;
    GError *err = NULL;
    assert_null(conffile_new_from_data("x.conf", "[heed\nnot a pair\n", 17, &err));
    assert_true(g_error_matches(err, CONFFILE_ERROR, CONFFILE_ERROR_PARSE));
    assert_non_null(strstr(err->message, "x.conf"));
    g_clear_error(&err);

    const char *twice = "[account a]\nnetwork = x\n[heed]\n[account a]\nnetwork = github\n";
    assert_null(conffile_new_from_data("x.conf", twice, strlen(twice), &err));
    assert_true(g_error_matches(err, CONFFILE_ERROR, CONFFILE_ERROR_PARSE));
    assert_non_null(strstr(err->message, "[account a] appears twice"));
    g_clear_error(&err);

    assert_null(conffile_new_from_data("x.conf", "[heed]\0x", 8, &err));
    g_clear_error(&err);

    struct conffile *cf = load_str("[heed]\n");
    assert_false(conffile_set(cf, "account a]b", "network", "x", NULL, &err));
    assert_true(g_error_matches(err, CONFFILE_ERROR, CONFFILE_ERROR_INVALID));
    g_clear_error(&err);
    assert_false(conffile_set(cf, "account a", "net work", "x", NULL, &err));
    g_clear_error(&err);
    assert_false(conffile_set(cf, "account a", "network", "x\ny = z", NULL, &err));
    g_clear_error(&err);
    assert_false(conffile_set(cf, "account a", "network", "\xff", NULL, &err));
    g_clear_error(&err);
    /* Nothing of the refused edits made it in. */
    g_autofree char *d = data_of(cf);
    assert_string_equal(d, "[heed]\n");
    conffile_free(cf);
}

/* ---- files --------------------------------------------------------------- */

struct files {
    char *dir;
};

static int files_setup(void **state)
{
    struct files *f = g_new0(struct files, 1);
    f->dir = g_dir_make_tmp("heed-test-conffile-XXXXXX", NULL);
    *state = f;
    return f->dir ? 0 : -1;
}

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

static int files_teardown(void **state)
{
    struct files *f = *state;
    rm_rf(f->dir);
    g_free(f->dir);
    g_free(f);
    return 0;
}

static char *slurp(const char *path)
{
    char *d = NULL;
    if (!g_file_get_contents(path, &d, NULL, NULL))
        fail_msg("cannot read %s", path);
    return d;
}

static void test_save_new_file(void **state)
{
    struct files *f = *state;
    g_autofree char *path = g_build_filename(f->dir, "sub", "heed", "heed.conf", NULL);
    GError *err = NULL;
    struct conffile *cf = conffile_load(path, &err);
    assert_non_null(cf);
    assert_false(conffile_has_group(cf, "heed"));
    set_ok(cf, "account d", "network", "demo", NULL);
    assert_true(conffile_save(cf, &err));
    conffile_free(cf);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    g_autofree char *dir = g_path_get_dirname(path);
    assert_int_equal(stat(dir, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0700);
    g_autofree char *d = slurp(path);
    assert_string_equal(d, "[account d]\nnetwork = demo\n");

    /* And heed itself reads it. */
    struct config *cfg = config_load(path, true, &err);
    assert_non_null(cfg);
    assert_int_equal(cfg->n_accounts, 1);
    assert_string_equal(cfg->accounts[0].network, "demo");
    config_free(cfg);
}

static void test_save_keeps_mode_and_follows_symlink(void **state)
{
    struct files *f = *state;
    g_autofree char *real = g_build_filename(f->dir, "dotfiles-heed.conf", NULL);
    g_autofree char *link = g_build_filename(f->dir, "heed.conf", NULL);
    assert_true(g_file_set_contents(real, user_conf, -1, NULL));
    assert_int_equal(g_chmod(real, 0640), 0);
    assert_int_equal(symlink(real, link), 0);

    GError *err = NULL;
    struct conffile *cf = conffile_load(link, &err);
    assert_non_null(cf);
    assert_string_equal(conffile_path(cf), link);
    set_ok(cf, "account x", "network", "x", NULL);
    assert_true(conffile_save(cf, &err));
    conffile_free(cf);

    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    assert_int_equal(stat(real, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
    g_autofree char *d = slurp(real);
    assert_true(g_str_has_prefix(d, user_conf));
    assert_true(g_str_has_suffix(d, "\n[account x]\nnetwork = x\n"));

    /* A broken file is refused as it is, never rewritten. */
    assert_true(g_file_set_contents(real, "[heed\n", -1, NULL));
    assert_null(conffile_load(link, &err));
    assert_true(g_error_matches(err, CONFFILE_ERROR, CONFFILE_ERROR_PARSE));
    g_clear_error(&err);
    g_autofree char *still = slurp(real);
    assert_string_equal(still, "[heed\n");

    /* A directory is not a config file. */
    assert_null(conffile_load(f->dir, &err));
    assert_true(g_error_matches(err, CONFFILE_ERROR, CONFFILE_ERROR_READ));
    g_clear_error(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untouched_is_identical),
        cmocka_unit_test(test_new_group_is_appended),
        cmocka_unit_test(test_append_to_file_without_newline_or_empty),
        cmocka_unit_test(test_existing_group_is_edited_in_place),
        cmocka_unit_test(test_repeated_key_collapses),
        cmocka_unit_test(test_values_are_escaped),
        cmocka_unit_test(test_bad_input_refused),
        cmocka_unit_test_setup_teardown(test_save_new_file, files_setup, files_teardown),
        cmocka_unit_test_setup_teardown(test_save_keeps_mode_and_follows_symlink, files_setup, files_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
