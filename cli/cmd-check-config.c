/* SPDX-License-Identifier: MIT */
/* cmd-check-config: heed check-config [FILE], heed.conf checked without
 * heedd. Problems read like a compiler's: each starts with the file name,
 * which already says where to look, and names the group and key. */
#include <glib.h>
#include <stdio.h>

#include "args.h"
#include "cmd.h"
#include "config.h"
#include "format.h"
#include "score.h"
#include "secret.h"

static void cmd_check_config_report(const char *msg)
{
    g_autofree char *clean = cli_clean(msg);
    fprintf(stderr, "%s\n", clean);
}

/* What config_load() leaves to others: [score] (score.c) and the token
 * files, read the way heedd will (ownership and mode included); token
 * commands are not run, they may prompt. */
static void cmd_check_config_more(const struct config *cfg, GPtrArray *problems)
{
    GError *err = NULL;
    struct score_weights w;
    score_weights_default(&w);
    if (cfg->score_group && !score_weights_load(&w, cfg->score_group, cfg->path, &err)) {
        g_ptr_array_add(problems, g_strdup(err->message));
        g_clear_error(&err);
    }
    for (int i = 0; i < cfg->n_accounts; i++) {
        const struct config_account *a = &cfg->accounts[i];
        if (!a->token_file)
            continue;
        char *secret = secret_from_file(a->token_file, &err);
        if (!secret) {
            g_ptr_array_add(problems,
                            g_strdup_printf("%s: [account %s] token_file: %s", cfg->path, a->name, err->message));
            g_clear_error(&err);
        }
        secret_free(secret);
    }
}

static int cmd_check_config_exec(const struct cmd_ctx *c)
{
    g_autofree char *path = c->a->file ? g_strdup(c->a->file) : config_default_path();
    GError *err = NULL;
    /* A named file must exist; the default one may be missing (heedd then
     * runs with defaults), but checking nothing deserves a word. */
    struct config *cfg = config_load(path, true, &err);
    if (!cfg) {
        /* One problem per line, each naming file, group and key. */
        g_auto(GStrv) lines = g_strsplit(err->message, "\n", -1);
        for (char **l = lines; *l; l++)
            cmd_check_config_report(*l);
        g_error_free(err);
        return CLI_EXIT_ERROR;
    }
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < cfg->problems->len; i++)
        g_ptr_array_add(problems, g_strdup(g_ptr_array_index(cfg->problems, i)));
    cmd_check_config_more(cfg, problems);
    for (guint i = 0; i < problems->len; i++)
        cmd_check_config_report(g_ptr_array_index(problems, i));
    g_autofree char *shown = cli_clean(cfg->path);
    printf("%s: %d account%s ready", shown, cfg->n_accounts, cfg->n_accounts == 1 ? "" : "s");
    if (problems->len > 0)
        printf(", %u problem%s (above)", problems->len, problems->len == 1 ? "" : "s");
    puts(".");
    config_free(cfg);
    return problems->len > 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

const struct cmd_entry cmd_check_config_entry = {
    .name = "check-config",
    .args = "[FILE]",
    .summary = "check a configuration file (heedd not needed)",
    .flags = CMD_F_FILE,
    .usage =
        "usage: heed check-config [FILE]\n"
        "\n"
        "Check a configuration file (default: $XDG_CONFIG_HOME/heed/heed.conf)\n"
        "without heedd: every problem is printed with its file, group and key.\n"
        "Exit status 1 if there is any.\n",
    .exec = cmd_check_config_exec,
};
