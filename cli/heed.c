/* SPDX-License-Identifier: MIT */
/* heed: the command-line client. It knows nothing the daemon does not tell
 * it over the control socket, except check-config, which reads the file,
 * and login and doctor, which read the drivers' descriptions.
 *
 * The verbs are a table (cmd.h): this file parses the line, finds the verb,
 * sets up the terminal and runs it. --json prints the daemon's answer as it
 * came (documented in docs/JSON.md); human output is laid out by format.c
 * for the terminal's width. Exit status: 0 ok, 1 error, 2 usage, 3 heedd not
 * running (see args.h).
 */
#include <glib.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "args.h"
#include "build_config.h"
#include "cmd.h"
#include "format.h"

/* "heed list: unknown option" names its command; anything else is heed's. */
static void heed_usage_error(const struct cli_args *a, const char *error)
{
    const char *name = a->cmd ? a->cmd->name : NULL;
    g_autofree char *clean = cli_clean(error);
    size_t n = name ? strlen(name) : 0;
    if (name && strncmp(clean, name, n) == 0 && clean[n] == ':')
        fprintf(stderr, "heed %s (see heed %s --help)\n", clean, name);
    else
        fprintf(stderr, "heed: %s (see heed --help)\n", clean);
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    struct cli_args a;
    g_autofree char *error = NULL;
    if (!cli_args_parse(argc, argv, &a, &error)) {
        heed_usage_error(&a, error);
        return CLI_EXIT_USAGE;
    }
    if (a.version) {
        printf("heed %s\n", HEED_VERSION);
        return CLI_EXIT_OK;
    }
    if (!a.cmd) {
        g_autofree char *overview = cmd_overview();
        fputs(overview, stderr);
        return CLI_EXIT_USAGE;
    }
    if (a.help) {
        g_autofree char *usage = cmd_usage(a.cmd);
        fputs(usage, stdout);
        return CLI_EXIT_OK;
    }

    bool tty = isatty(STDOUT_FILENO) == 1;
    struct winsize ws = { 0 };
    int tty_cols = tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 ? ws.ws_col : 0;
    struct cmd_ctx c = {
        .a = &a,
        .width = cli_term_width(tty, tty_cols, getenv("COLUMNS")),
        .color = cli_use_color(tty, getenv("NO_COLOR"), getenv("TERM")),
        .now = g_get_real_time() / G_USEC_PER_SEC,
    };
    int rc = a.cmd->exec(&c);
    /* Output that never arrived (a full disk, a closed pipe) is a failure. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (rc == CLI_EXIT_OK)
            fprintf(stderr, "heed: cannot write the output\n");
        return rc == CLI_EXIT_OK ? CLI_EXIT_ERROR : rc;
    }
    return rc;
}
