/* SPDX-License-Identifier: MIT */
/* login-write: step 4 of a login (see login.h): the secret to a token file
 * or the desktop keyring, read back the way heedd will read it, then the
 * [account NAME] group to heed.conf through conffile. A secret that no
 * account would point at is removed again. */
#include "login.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "secret.h"

/* secret-tool store ... with the secret on its standard input (never on
 * its command line, where ps would show it). */
static bool login_keyring_store(const struct login *l)
{
    g_autofree char *label = g_strdup_printf("--label=heed: %s (%s)", l->name, l->drv->name);
    char *argv[] = { l->secret_tool, "store", label, "service", "heed", "account", l->name, NULL };
    GPid pid;
    int in_fd = -1;
    GError *err = NULL;
    if (!g_spawn_async_with_pipes(NULL, argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid, &in_fd, NULL, NULL,
                                  &err)) {
        login_error("cannot run secret-tool (%s); nothing was written", err->message);
        g_error_free(err);
        return false;
    }
    size_t len = strlen(l->secret), off = 0;
    bool wrote = true;
    while (off < len) {
        ssize_t n = write(in_fd, l->secret + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            wrote = false;
            break;
        }
        off += (size_t)n;
    }
    close(in_fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    g_spawn_close_pid(pid);
    if (!wrote || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        login_error("secret-tool could not store the %s (is the keyring unlocked?); nothing was written",
                    login_secret_word(l));
        return false;
    }
    /* Read it back the way heedd will. */
    char *lookup[] = { l->secret_tool, "lookup", "service", "heed", "account", l->name, NULL };
    char *back = secret_from_command(lookup, &err);
    bool same = back && strcmp(back, l->secret) == 0;
    secret_free(back);
    if (!same) {
        login_error("secret-tool stored the %s but does not give it back (%s); nothing was written to heed.conf",
                    login_secret_word(l), err ? err->message : "it gives back something else");
        g_clear_error(&err);
        return false;
    }
    return true;
}

static void login_keyring_clear(const struct login *l)
{
    char *argv[] = { l->secret_tool, "clear", "service", "heed", "account", l->name, NULL };
    g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL,
                 NULL, NULL);
}

static bool login_write_token(const struct login *l)
{
    g_autofree char *dir = g_path_get_dirname(l->token_path);
    if (g_mkdir_with_parents(dir, 0700) != 0) {
        login_error("cannot create %s (%s); nothing was written", dir, g_strerror(errno));
        return false;
    }
    /* A temporary file made 0600 from the start and renamed over: no moment
     * where the secret sits in a file others could read, and no half file. */
    char *data = g_strconcat(l->secret, "\n", NULL);
    GError *err = NULL;
    bool ok = g_file_set_contents_full(l->token_path, data, (gssize)strlen(data), G_FILE_SET_CONTENTS_CONSISTENT,
                                       0600, &err);
    secret_free(data);
    if (!ok) {
        login_error("cannot write %s (%s); nothing was written", l->token_path, err->message);
        g_error_free(err);
        return false;
    }
    /* And read back the way heedd will: owner, mode, content. */
    char *back = secret_from_file(l->token_path, &err);
    bool same = back && strcmp(back, l->secret) == 0;
    secret_free(back);
    if (!same) {
        login_error("%s does not read back as written (%s)", l->token_path, err ? err->message : "different content");
        g_clear_error(&err);
        g_unlink(l->token_path);
        return false;
    }
    return true;
}

bool login_write(struct login *l)
{
    bool token_existed = g_file_test(l->token_path, G_FILE_TEST_EXISTS);
    if (l->keyring ? !login_keyring_store(l) : !login_write_token(l))
        return false;

    GError *err = NULL;
    g_autofree char *today = NULL;
    {
        GDateTime *now = g_date_time_new_now_local();
        today = g_date_time_format(now, "%Y-%m-%d");
        g_date_time_unref(now);
    }
    g_autofree char *comment = g_strdup_printf("Added by heed login %s on %s.", l->drv->name, today);
    g_autofree char *command = g_strdup_printf("secret-tool lookup service heed account %s", l->name);
    bool ok = conffile_set(l->cf, l->group, "network", l->drv->name, comment, &err);
    if (ok && l->server_explicit)
        ok = conffile_set(l->cf, l->group, "server", l->server, NULL, &err);
    else
        conffile_unset(l->cf, l->group, "server");
    if (ok && l->identifier)
        ok = conffile_set(l->cf, l->group, "identifier", l->identifier, NULL, &err);
    else
        conffile_unset(l->cf, l->group, "identifier");
    if (ok && l->client_id)
        ok = conffile_set(l->cf, l->group, "client_id", l->client_id, NULL, &err);
    else
        conffile_unset(l->cf, l->group, "client_id");
    if (ok && l->keyring) {
        conffile_unset(l->cf, l->group, "token_file");
        ok = conffile_set(l->cf, l->group, "token_command", command, NULL, &err);
    } else if (ok) {
        conffile_unset(l->cf, l->group, "token_command");
        ok = conffile_set(l->cf, l->group, "token_file", l->token_path, NULL, &err);
    }
    if (ok && l->ca_file)
        ok = conffile_set(l->cf, l->group, "ca_file", l->ca_file, NULL, &err);
    else
        conffile_unset(l->cf, l->group, "ca_file");
    if (ok)
        ok = conffile_save(l->cf, &err);
    if (!ok) {
        login_error("%s", err->message);
        g_error_free(err);
        /* Do not leave a secret behind that no account points at. */
        if (l->keyring)
            login_keyring_clear(l);
        else if (!token_existed)
            g_unlink(l->token_path);
        return false;
    }
    return true;
}
