/* SPDX-License-Identifier: MIT */
/* doctor: see doctor.h.
 *
 * Every check is one function that ends in exactly one doctor_say() per
 * thing it looked at, so the output stays one line per finding and the
 * exit status is simply "was anything FAIL". Lines are passed through
 * cli_clean(): they quote servers, file names and command output.
 */
#include "doctor.h"

#include <errno.h>
#include <gio/gio.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "format.h"
#include "https.h"
#include "net/net.h"
#include "secret.h"
#include "store.h"
#include "url.h"

/* A notification server that takes longer than this is as good as absent
 * for heedd too (DESIGN: a hung server must not stall anything). */
#define DOCTOR_DBUS_TIMEOUT_MS 2000

enum doctor_level { DOCTOR_OK, DOCTOR_WARN, DOCTOR_FAIL };

struct doctor {
    bool color;
    int fails, warns;
    struct config *cfg;   /* NULL when heed.conf does not load */
    json_t *heedd;        /* heedd's status answer, or NULL when it did not give one */
    char *heedd_error;    /* why not (NULL: it is not running) */
    struct store *st;     /* read-only; NULL when there is no database or it is broken */
    char *db_path;        /* the one heedd uses (its status says), else the default */
    char *db_error;       /* why store_open_readonly failed, or NULL */
    GDBusConnection *bus; /* NULL when there is no session bus */
    bool notify_server;
    bool user_manager;    /* systemctl --user reached a manager */
    bool has_systemctl;
    char *manager_env;    /* its show-environment output */
};

static void doctor_say(struct doctor *d, enum doctor_level level, const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void doctor_say(struct doctor *d, enum doctor_level level, const char *fix, const char *fmt, ...)
{
    static const char *const words[] = { "ok", "warn", "FAIL" };
    static const char *const colors[] = { "\033[32m", "\033[33m", "\033[1;31m" };
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_autofree char *line = fix && level != DOCTOR_OK ? g_strdup_printf("%s — %s", what, fix) : g_strdup(what);
    g_autofree char *clean = cli_clean(line);
    if (d->color)
        printf("%s%-4s\033[0m  %s\n", colors[level], words[level], clean);
    else
        printf("%-4s  %s\n", words[level], clean);
    if (level == DOCTOR_FAIL)
        d->fails++;
    else if (level == DOCTOR_WARN)
        d->warns++;
}

/* ---- configuration and accounts --------------------------------------------- */

/* "heed login mastodon INSTANCE (or bluesky HANDLE, github, x)": where a
 * newcomer starts, from the drivers. */
static char *doctor_login_hint(void)
{
    g_autoptr(GPtrArray) ways = g_ptr_array_new_with_free_func(g_free);
    for (const struct net_driver *const *d = net_drivers(); *d; d++) {
        if ((*d)->login == NET_LOGIN_NONE)
            continue;
        g_autofree char *target = (*d)->login_target ? g_ascii_strup((*d)->login_target, -1) : NULL;
        g_ptr_array_add(ways, target ? g_strdup_printf("%s %s", (*d)->name, target) : g_strdup((*d)->name));
    }
    GString *s = g_string_new("heed login");
    for (guint i = 0; i < ways->len; i++)
        g_string_append_printf(s, "%s%s", i == 0 ? " " : i == 1 ? " (or " : ", ",
                               (const char *)g_ptr_array_index(ways, i));
    if (ways->len > 1)
        g_string_append_c(s, ')');
    return g_string_free(s, FALSE);
}

static void doctor_config(struct doctor *d)
{
    g_autofree char *path = config_default_path();
    bool exists = g_file_test(path, G_FILE_TEST_EXISTS);
    GError *err = NULL;
    d->cfg = config_load(path, false, &err);
    if (!d->cfg) {
        /* The first line names the file and the line; check-config has the rest. */
        g_auto(GStrv) lines = g_strsplit(err->message, "\n", 2);
        doctor_say(d, DOCTOR_FAIL, "fix it; heed check-config lists every problem", "%s", lines[0]);
        g_error_free(err);
        return;
    }
    g_autofree char *hint = doctor_login_hint();
    if (!exists) {
        g_autofree char *fix = g_strconcat("add an account: ", hint, NULL);
        doctor_say(d, DOCTOR_WARN, fix, "no configuration yet (%s)", path);
        return;
    }
    guint n = d->cfg->problems->len;
    if (n > 0)
        doctor_say(d, DOCTOR_FAIL, "heed check-config lists them all", "%s has %u problem%s, e.g. %s", path, n,
                   n == 1 ? "" : "s", (const char *)g_ptr_array_index(d->cfg->problems, 0));
    else
        doctor_say(d, DOCTOR_OK, NULL, "%s parses: %d account%s", path, d->cfg->n_accounts,
                   d->cfg->n_accounts == 1 ? "" : "s");
    if (d->cfg->n_accounts == 0)
        doctor_say(d, DOCTOR_WARN, hint, "no accounts are configured, so heed watches nothing");
}

/* "heed login github --name gh --force": what redoes this account's login. */
static char *doctor_relogin(const struct net_driver *drv, const struct config_account *a)
{
    GString *s = g_string_new("heed login ");
    g_string_append(s, a->network);
    if (drv->server_required && a->server)
        g_string_append_printf(s, " %s", a->server + strlen("https://"));
    else if (drv->identifier_hint && a->identifier)
        g_string_append_printf(s, " %s", a->identifier);
    if (a->server && !drv->server_required && g_strcmp0(a->server, drv->default_server) != 0)
        g_string_append_printf(s, " --server %s", a->server);
    if (a->ca_file)
        g_string_append_printf(s, " --ca-file %s", a->ca_file);
    g_string_append_printf(s, " --name %s --force", a->name);
    return g_string_free(s, FALSE);
}

/* The account's secret, read the way heedd reads it; NULL after a FAIL line. */
static char *doctor_secret(struct doctor *d, const struct net_driver *drv, const struct config_account *a)
{
    GError *err = NULL;
    g_autofree char *relogin = doctor_relogin(drv, a);
    if (a->token_file) {
        char *s = secret_from_file(a->token_file, &err);
        if (!s) {
            g_autofree char *fix = NULL;
            if (g_error_matches(err, SECRET_ERROR, SECRET_ERROR_PERMISSIONS))
                fix = g_strdup_printf("chmod 600 %s (heed refuses a secret others can read)", a->token_file);
            else
                fix = g_strdup_printf("put the token there (mode 0600), or: %s", relogin);
            doctor_say(d, DOCTOR_FAIL, fix, "account %s: %s", a->name, err->message);
            g_error_free(err);
            return NULL;
        }
        struct stat st;
        unsigned mode = stat(a->token_file, &st) == 0 ? (unsigned)(st.st_mode & 07777) : 0;
        doctor_say(d, DOCTOR_OK, NULL, "account %s: token file %s (mode %04o)", a->name, a->token_file, mode);
        return s;
    }
    if (a->token_command) {
        char *s = secret_from_command(a->token_command, &err);
        if (!s) {
            g_autofree char *fix = g_strdup_printf("run %s yourself to see why (is the keyring unlocked?), or: %s",
                                                   a->token_command[0], relogin);
            doctor_say(d, DOCTOR_FAIL, fix, "account %s: token_command: %s", a->name, err->message);
            g_error_free(err);
            return NULL;
        }
        doctor_say(d, DOCTOR_OK, NULL, "account %s: token_command (%s) gives a secret", a->name, a->token_command[0]);
        return s;
    }
    return NULL;
}

/* What heedd keeps for the account (a Bluesky session), read-only; an
 * empty object when there is nothing. */
static json_t *doctor_account_state(struct doctor *d, const struct config_account *a)
{
    g_autofree char *js = d->st ? store_account_state(d->st, a->name, NULL) : NULL;
    json_t *state = js ? json_loads(js, 0, NULL) : NULL;
    if (js)
        explicit_bzero(js, strlen(js));
    if (json_is_object(state))
        return state;
    json_decref(state);
    return json_object();
}

/* Tokens in the state live in jansson's strings. */
static void doctor_wipe_state(json_t *state)
{
    const char *k;
    json_t *v;
    json_object_foreach(state, k, v) {
        if (json_is_string(v))
            explicit_bzero((char *)json_string_value(v), json_string_length(v));
    }
    json_decref(state);
}

/* The identity check's answer, as one line. */
static void doctor_say_identity(struct doctor *d, const struct net_driver *drv, const struct config_account *a,
                                const struct https_answer *ans, const struct net_identity *id, const char *secret)
{
    g_autofree char *relogin = doctor_relogin(drv, a);
    long left = -1;
    g_autofree char *rate = https_rate(ans, &left);
    g_autofree char *why = id->error ? g_strdup(id->error) : https_problem(ans, secret);
    g_autofree char *as = id->handle ? g_strdup_printf(" as %s", id->handle) : g_strdup("");
    g_autofree char *fix = id->hint ? g_strdup_printf("%s; or: %s", id->hint, relogin) : g_strdup(relogin);
    const char *what = drv->session_end ? "session" : "token";
    if (id->outcome == NET_OK && left == 0)
        doctor_say(d, DOCTOR_WARN, "heedd waits for the limit to reset; poll less often (poll_interval)",
                   "account %s: signed in to %s%s, but no requests are left", a->name, a->server, as);
    else if (id->outcome == NET_OK)
        doctor_say(d, DOCTOR_OK, NULL, "account %s: signed in to %s%s%s%s%s%s", a->name, a->server, as,
                   id->note ? "; " : "", id->note ? id->note : "", rate ? "; " : "", rate ? rate : "");
    else if (ans->status == 0)
        doctor_say(d, DOCTOR_FAIL, "check the address and the network; a private CA needs ca_file", "account %s: %s",
                   a->name, why);
    else if (id->outcome == NET_AUTH)
        doctor_say(d, DOCTOR_FAIL, fix, "account %s: %s refused the %s (%s)", a->name, a->server, what, why);
    else if (id->outcome == NET_RETRY)
        /* Rate limited or server trouble: heedd retries; nothing to fix here. */
        doctor_say(d, DOCTOR_WARN, "heedd retries by itself; see heed status", "account %s: %s answered %s", a->name,
                   a->server, why);
    else
        doctor_say(d, DOCTOR_FAIL, "check server in heed.conf", "account %s: %s is not a %s server (%s)", a->name,
                   a->server, drv->title, why);
}

/* One request that proves the secret and shows the rate limit left. Where
 * that would mean signing in (Bluesky's createSession, about 100 a day),
 * the session heedd keeps is tried instead, and none is made. */
static void doctor_auth(struct doctor *d, const struct net_driver *drv, const struct config_account *a,
                        const char *secret)
{
    struct net_account acct = {
        .name = a->name,
        .network = a->network,
        .server = a->server,
        .web_host = a->web_host,
        .identifier = a->identifier,
        .secret = secret,
        .client_id = a->client_id,
        .now = g_get_real_time() / G_USEC_PER_SEC,
    };
    json_t *state = doctor_account_state(d, a);
    struct https_answer ans;
    struct net_identity id;
    g_autofree char *error = NULL;
    if (https_identity(drv, &acct, state, false, a->ca_file, &ans, &id, &error))
        doctor_say_identity(d, drv, a, &ans, &id, secret);
    else if (error)
        doctor_say(d, DOCTOR_FAIL, "fix the account in heed.conf", "account %s: %s", a->name, error);
    else
        doctor_say(d, DOCTOR_WARN, "heedd signs in when it starts polling the account",
                   "account %s: not signed in yet, so the %s is untested", a->name, drv->secret_word);
    https_answer_clear(&ans);
    net_identity_clear(&id);
    doctor_wipe_state(state);
}

static void doctor_accounts(struct doctor *d)
{
    if (!d->cfg)
        return;
    for (int i = 0; i < d->cfg->n_accounts; i++) {
        const struct config_account *a = &d->cfg->accounts[i];
        const struct net_driver *drv = net_driver_find(a->network);
        if (!drv->needs_secret) {
            doctor_say(d, DOCTOR_OK, NULL, "account %s: %s needs no sign-in", a->name, drv->title);
            continue;
        }
        char *secret = doctor_secret(d, drv, a);
        if (secret)
            doctor_auth(d, drv, a, secret);
        secret_free(secret);
    }
}

/* ---- the desktop -------------------------------------------------------------- */

static void doctor_bus(struct doctor *d)
{
    GError *err = NULL;
    d->bus = g_bus_get_sync(G_BUS_TYPE_SESSION, NULL, &err);
    if (!d->bus) {
        doctor_say(d, DOCTOR_FAIL, "run heed inside your desktop session (DBUS_SESSION_BUS_ADDRESS must lead to it)",
                   "no session bus: %s", err->message);
        g_error_free(err);
        return;
    }
    doctor_say(d, DOCTOR_OK, NULL, "the session bus answers");
}

static GVariant *doctor_call(struct doctor *d, const char *iface, const char *method, GVariant *args,
                             const GVariantType *reply, GError **error)
{
    return g_dbus_connection_call_sync(d->bus, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                                       iface, method, args, reply, G_DBUS_CALL_FLAGS_NONE, DOCTOR_DBUS_TIMEOUT_MS,
                                       NULL, error);
}

/* What opens a post on this server, as it comes out of the box. */
static const char *doctor_click_words(const char *server)
{
    static const struct {
        const char *name, *words;
    } servers[] = {
        { "dunst", "on dunst (as Debian ships it) a left click closes a notification and a middle click opens the "
                   "post; the Reply button is in the context menu (ctrl+shift+period, or dunstctl context)" },
        { "mako", "on mako a left click opens the post (on-button-left=invoke-default-action); the buttons are in "
                  "makoctl menu" },
        { "gnome-shell", "on GNOME a click opens the post; Reply, Snooze and Done are buttons" },
        { "Plasma", "on KDE Plasma a click opens the post; Reply, Snooze and Done are buttons" },
        { "Xfce Notify Daemon", "on Xfce a click opens the post; Reply, Snooze and Done are buttons" },
        { "SwayNotificationCenter", "on swaync a click opens the post; Reply, Snooze and Done are buttons" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(servers); i++)
        if (g_ascii_strcasecmp(server, servers[i].name) == 0)
            return servers[i].words;
    return NULL;
}

static void doctor_notifications(struct doctor *d)
{
    if (!d->bus)
        return;
    GError *err = NULL;
    GVariant *info = doctor_call(d, "org.freedesktop.Notifications", "GetServerInformation", NULL,
                                 G_VARIANT_TYPE("(ssss)"), &err);
    if (!info) {
        g_dbus_error_strip_remote_error(err);
        doctor_say(d, DOCTOR_FAIL,
                   "start one (dunst, mako, xfce4-notifyd or your desktop's own); until then heedd keeps "
                   "mentions for heed list",
                   "no notification server answers (%s)", err->message);
        g_error_free(err);
        return;
    }
    d->notify_server = true;
    const char *name, *vendor, *version, *spec;
    g_variant_get(info, "(&s&s&s&s)", &name, &vendor, &version, &spec);
    GVariant *caps = doctor_call(d, "org.freedesktop.Notifications", "GetCapabilities", NULL, G_VARIANT_TYPE("(as)"),
                                 NULL);
    GString *list = g_string_new(NULL);
    bool actions = false;
    if (caps) {
        GVariantIter *it;
        const char *cap;
        g_variant_get(caps, "(as)", &it);
        while (g_variant_iter_next(it, "&s", &cap)) {
            g_string_append_printf(list, "%s%s", list->len ? " " : "", cap);
            actions = actions || strcmp(cap, "actions") == 0;
        }
        g_variant_iter_free(it);
        g_variant_unref(caps);
    }
    if (actions)
        doctor_say(d, DOCTOR_OK, NULL, "notification server: %s %s (%s), capabilities: %s", name, version, vendor,
                   list->str);
    else
        doctor_say(d, DOCTOR_WARN, "heed list, heed open ID and heed done ID do what the buttons would",
                   "notification server: %s %s has no action buttons (capabilities: %s), so Reply, Snooze and Done "
                   "will not show",
                   name, version, list->len ? list->str : "none");
    g_string_free(list, TRUE);
    const char *clicks = doctor_click_words(name);
    doctor_say(d, DOCTOR_OK, NULL, "clicks: %s",
               clicks ? clicks : "this server's own settings say which click opens the post (the default action); "
                                 "heed open ID always does");
    g_variant_unref(info);
}

/* A boolean property of the notification server, or -1 (as notify.c asks). */
static int doctor_bool_property(struct doctor *d, const char *iface, const char *prop)
{
    GVariant *v = doctor_call(d, "org.freedesktop.DBus.Properties", "Get", g_variant_new("(ss)", iface, prop),
                              G_VARIANT_TYPE("(v)"), NULL);
    if (!v)
        return -1;
    GVariant *inner = NULL;
    g_variant_get(v, "(v)", &inner);
    int out = g_variant_is_of_type(inner, G_VARIANT_TYPE_BOOLEAN) ? g_variant_get_boolean(inner) : -1;
    g_variant_unref(inner);
    g_variant_unref(v);
    return out;
}

static void doctor_dnd(struct doctor *d)
{
    if (!d->notify_server)
        return;
    /* A running heedd follows every desktop it knows (lib/notify-dnd.c):
     * what it sees is what decides. */
    json_t *seen = json_object_get(json_object_get(d->heedd, "notifications"), "dnd");
    if (json_is_true(seen)) {
        doctor_say(d, DOCTOR_WARN, "turn do-not-disturb off in your desktop's notification settings",
                   "do-not-disturb is on (as heedd sees it): heed holds mentions until it ends");
        return;
    }
    if (json_is_false(seen)) {
        doctor_say(d, DOCTOR_OK, NULL, "do-not-disturb is off (as heedd sees it)");
        return;
    }
    int paused = doctor_bool_property(d, "org.dunstproject.cmd0", "paused");
    if (paused == 1) {
        doctor_say(d, DOCTOR_WARN, "dunstctl set-paused false",
                   "do-not-disturb is on (dunst is paused): heed holds mentions until it ends");
        return;
    }
    if (paused == 0) {
        doctor_say(d, DOCTOR_OK, NULL, "do-not-disturb is off (dunst is not paused)");
        return;
    }
    int inhibited = doctor_bool_property(d, "org.freedesktop.Notifications", "Inhibited");
    if (inhibited == 1) {
        doctor_say(d, DOCTOR_WARN, "turn do-not-disturb off in your desktop's notification settings",
                   "do-not-disturb is on (the notification server is inhibited): heed holds mentions until it ends");
        return;
    }
    if (inhibited == 0) {
        doctor_say(d, DOCTOR_OK, NULL, "do-not-disturb is off");
        return;
    }
    /* GNOME keeps it in GSettings; look the schema up first, since
     * g_settings_new() aborts on a missing one. */
    GSettingsSchemaSource *src = g_settings_schema_source_get_default();
    GSettingsSchema *schema = src ? g_settings_schema_source_lookup(src, "org.gnome.desktop.notifications", TRUE) : NULL;
    if (schema && g_settings_schema_has_key(schema, "show-banners")) {
        GSettings *gs = g_settings_new("org.gnome.desktop.notifications");
        bool dnd = !g_settings_get_boolean(gs, "show-banners");
        g_object_unref(gs);
        if (dnd)
            doctor_say(d, DOCTOR_WARN, "turn Do Not Disturb off in GNOME's notification settings",
                       "do-not-disturb is on (GNOME): heed holds mentions until it ends");
        else
            doctor_say(d, DOCTOR_OK, NULL, "do-not-disturb is off (GNOME)");
    } else {
        doctor_say(d, DOCTOR_OK, NULL, "do-not-disturb: the notification server does not say; taken as off");
    }
    if (schema)
        g_settings_schema_unref(schema);
}

/* ---- heedd and systemd ------------------------------------------------------- */

/* Asked first: a running heedd says where its state database is. */
static void doctor_ask_heedd(struct doctor *d)
{
    GError *err = NULL;
    g_autofree char *path = control_default_path(&err);
    d->heedd = path ? control_call(path, "status", NULL, 3000, &err) : NULL;
    if (!d->heedd && !g_error_matches(err, CONTROL_ERROR, CONTROL_ERROR_NOT_RUNNING))
        d->heedd_error = g_strdup(err ? err->message : "?");
    g_clear_error(&err);
}

static void doctor_heedd(struct doctor *d)
{
    if (d->heedd) {
        const char *version = json_string_value(json_object_get(d->heedd, "version"));
        doctor_say(d, DOCTOR_OK, NULL, "heedd %s is running (pid %lld)", version ? version : "?",
                   (long long)json_integer_value(json_object_get(d->heedd, "pid")));
    } else if (!d->heedd_error) {
        doctor_say(d, DOCTOR_WARN, "systemctl --user enable --now heed (or start heedd yourself)",
                   "heedd is not running");
    } else {
        doctor_say(d, DOCTOR_FAIL, "journalctl --user -u heed shows what it is doing",
                   "heedd does not answer on its control socket (%s)", d->heedd_error);
    }
}

/* systemctl --user ARGS...: its exit status, first line of stdout and
 * stderr; false when it could not be run at all. */
static bool doctor_systemctl(const char *systemctl, const char *const *args, int *status, char **out, char **err)
{
    GStrvBuilder *b = g_strv_builder_new();
    g_strv_builder_add(b, systemctl);
    g_strv_builder_add(b, "--user");
    g_strv_builder_addv(b, (const char **)args);
    g_auto(GStrv) argv = g_strv_builder_end(b);
    g_strv_builder_unref(b);
    int wait_status = 0;
    g_autofree char *o = NULL, *e = NULL;
    if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, &o, &e, &wait_status, NULL))
        return false;
    *status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
    *out = g_strdup(g_strstrip(o));
    *err = g_strdup(g_strstrip(e));
    return true;
}

static void doctor_unit(struct doctor *d)
{
    g_autofree char *systemctl = g_find_program_in_path("systemctl");
    if (!systemctl) {
        doctor_say(d, DOCTOR_WARN, "start heedd from your session's autostart instead",
                   "systemctl is not installed, so heed cannot run as a systemd user service");
        return;
    }
    d->has_systemctl = true;
    /* show-environment needs the manager itself (is-enabled reads unit
     * files and answers without one), so it tells whether there is one. */
    const char *env_args[] = { "show-environment", NULL };
    int status = 0;
    g_autofree char *env_err = NULL;
    if (doctor_systemctl(systemctl, env_args, &status, &d->manager_env, &env_err) && status == 0) {
        d->user_manager = true;
    } else {
        g_clear_pointer(&d->manager_env, g_free);
    }

    const char *enabled_args[] = { "is-enabled", "heed.service", NULL };
    g_autofree char *out = NULL, *err = NULL;
    if (!doctor_systemctl(systemctl, enabled_args, &status, &out, &err)) {
        doctor_say(d, DOCTOR_WARN, NULL, "cannot run systemctl");
        return;
    }
    if (strcmp(out, "not-found") == 0 || strstr(err, "No such file") || strstr(err, "not found")) {
        doctor_say(d, DOCTOR_WARN,
                   "install it (sudo cmake --install build), then systemctl --user daemon-reload && "
                   "systemctl --user enable --now heed",
                   "heed.service is not installed");
        return;
    }
    if (strcmp(out, "enabled") != 0 && strcmp(out, "enabled-runtime") != 0 && strcmp(out, "linked") != 0) {
        doctor_say(d, DOCTOR_WARN, "systemctl --user enable --now heed", "heed.service is installed but %s",
                   *out ? out : "not enabled");
        return;
    }
    if (!d->user_manager) {
        doctor_say(d, DOCTOR_OK, NULL, "heed.service is enabled");
        return;
    }
    const char *active_args[] = { "is-active", "heed.service", NULL };
    g_autofree char *aout = NULL, *aerr = NULL;
    if (!doctor_systemctl(systemctl, active_args, &status, &aout, &aerr))
        aout = g_strdup("unknown");
    if (strcmp(aout, "active") == 0 || strcmp(aout, "reloading") == 0)
        doctor_say(d, DOCTOR_OK, NULL, "heed.service is enabled and running");
    else if (strcmp(aout, "failed") == 0)
        doctor_say(d, DOCTOR_FAIL, "journalctl --user -u heed says why; then systemctl --user restart heed",
                   "heed.service is enabled but has failed");
    else
        doctor_say(d, DOCTOR_WARN, "systemctl --user start heed (it starts with graphical-session.target)",
                   "heed.service is enabled but %s", *aout ? aout : "not running");
}

static void doctor_environment(struct doctor *d)
{
    if (!d->user_manager) {
        if (!d->has_systemctl)
            return;
        doctor_say(d, DOCTOR_WARN, "log in through a systemd session (pam_systemd), or start heedd yourself",
                   "no systemd user manager is reachable, so heed.service cannot run here");
        return;
    }
    g_auto(GStrv) lines = g_strsplit(d->manager_env, "\n", -1);
    GString *found = g_string_new(NULL);
    for (char **l = lines; *l; l++)
        if (g_str_has_prefix(*l, "DISPLAY=") || g_str_has_prefix(*l, "WAYLAND_DISPLAY="))
            g_string_append_printf(found, "%s%s", found->len ? ", " : "", *l);
    if (found->len)
        doctor_say(d, DOCTOR_OK, NULL, "the user manager passes the desktop to heed.service (%s)", found->str);
    else
        doctor_say(d, DOCTOR_WARN,
                   "in your session's startup: systemctl --user import-environment DISPLAY WAYLAND_DISPLAY XAUTHORITY",
                   "the user manager has neither DISPLAY nor WAYLAND_DISPLAY, so heed.service cannot reach the "
                   "desktop (browser, notifications)");
    g_string_free(found, TRUE);
}

/* ---- state -------------------------------------------------------------------- */

/* Where heedd keeps its state (its --state or --demo database when it says
 * so), opened read-only: doctor never creates, migrates or writes it. */
static void doctor_open_store(struct doctor *d)
{
    const char *told = json_string_value(json_object_get(d->heedd, "state"));
    d->db_path = told ? g_strdup(told) : store_default_path();
    GError *err = NULL;
    d->st = store_open_readonly(d->db_path, &err);
    if (!d->st && !g_error_matches(err, STORE_ERROR, STORE_ERROR_NOT_FOUND))
        d->db_error = g_strdup(err->message);
    g_clear_error(&err);
}

static void doctor_database(struct doctor *d)
{
    g_autofree char *fix = g_strdup_printf("stop heed, move it aside (mv %s %s.broken) and start heed again; it "
                                           "starts afresh and catches up",
                                           d->db_path, d->db_path);
    if (!d->st && !d->db_error) {
        doctor_say(d, DOCTOR_WARN, "heedd creates it when it first runs", "no state database yet (%s)", d->db_path);
        return;
    }
    if (!d->st) {
        doctor_say(d, DOCTOR_FAIL, fix, "the state database cannot be opened: %s", d->db_error);
        return;
    }
    GError *err = NULL;
    if (!store_check(d->st, &err)) {
        doctor_say(d, DOCTOR_FAIL, fix, "the state database fails its integrity check: %s", err->message);
        g_error_free(err);
        return;
    }
    struct store_summary sum = { 0 };
    if (store_summary(d->st, &sum, NULL))
        doctor_say(d, DOCTOR_OK, NULL, "state database %s passes its integrity check (%d mention%s, %d waiting)",
                   d->db_path, sum.total, sum.total == 1 ? "" : "s", sum.waiting);
    else
        doctor_say(d, DOCTOR_OK, NULL, "state database %s passes its integrity check", d->db_path);
}

int doctor_main(const struct cli_args *a, bool color)
{
    (void)a;
    struct doctor d = { 0 };
    d.color = color;
    doctor_ask_heedd(&d);
    doctor_open_store(&d);
    doctor_config(&d);
    doctor_accounts(&d);
    doctor_bus(&d);
    doctor_notifications(&d);
    doctor_dnd(&d);
    doctor_heedd(&d);
    doctor_unit(&d);
    doctor_environment(&d);
    doctor_database(&d);

    if (d.fails)
        printf("\n%d thing%s to fix (FAIL above)%s.\n", d.fails, d.fails == 1 ? "" : "s",
               d.warns ? ", and warnings worth a look" : "");
    else if (d.warns)
        printf("\nNothing is broken; %d warning%s worth a look.\n", d.warns, d.warns == 1 ? "" : "s");
    else
        printf("\nAll good.\n");

    if (d.bus)
        g_object_unref(d.bus);
    store_close(d.st);
    json_decref(d.heedd);
    g_free(d.heedd_error);
    config_free(d.cfg);
    g_free(d.db_path);
    g_free(d.db_error);
    g_free(d.manager_env);
    return d.fails ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}
