/* SPDX-License-Identifier: MIT */
/* heedd: the heed daemon. Wires the loop, signals, control socket and
 * systemd notifications around the engine; no business logic lives here. */
#include <event2/event.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "build_config.h"
#include "config.h"
#include "control.h"
#include "engine.h"
#include "log.h"
#include "store.h"

struct heedd {
    struct event_base *base;
    struct engine *engine;
    struct control_server *control;
    char *config_path;
    const char *state_path;     /* absolute: told to clients in status (heed doctor reads it) */
    struct event *sig_term, *sig_int, *sig_hup, *watchdog;
    char *last_status;
    struct event *glance_ev;    /* a change for the status bars (control.h: watch), sent at most every 250 ms */
    json_t *last_glance;
    uint64_t watchdog_usec;
    int exit_code;
    bool stopping;
};

static void heedd_stop_now(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct heedd *d = arg;
    event_base_loopbreak(d->base);
}

static void heedd_send_status(struct heedd *d)
{
    g_autofree char *line = engine_status_line(d->engine);
    if (g_strcmp0(line, d->last_status) == 0)
        return;
    sd_notifyf(0, "STATUS=%s", line);
    g_free(d->last_status);
    d->last_status = g_steal_pointer(&line);
}

static void heedd_stopped(void *arg)
{
    struct heedd *d = arg;
    event_base_loopbreak(d->base);
}

static void heedd_on_stop(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct heedd *d = arg;
    if (d->stopping) {
        event_base_loopbreak(d->base); /* asked twice: now */
        return;
    }
    d->stopping = true;
    log_notice("received %s, stopping", strsignal((int)sig));
    sd_notify(0, "STOPPING=1");
    /* Answers already on their way are stored first, for a couple of seconds at most. */
    struct timeval grace = { 2, 0 };
    event_base_once(d->base, -1, EV_TIMEOUT, heedd_stop_now, d, &grace);
    engine_shutdown(d->engine, heedd_stopped, d);
}

static void heedd_on_hup(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    struct heedd *d = arg;
    sd_notify(0, "RELOADING=1");
    GError *err = NULL;
    struct config *cfg = config_load(d->config_path, false, &err);
    if (!cfg) {
        /* Keep running on the old configuration: a typo must not stop heed. */
        log_err("reload failed, keeping the running configuration: %s", err->message);
        g_error_free(err);
    } else {
        engine_reload(d->engine, cfg);
        log_notice("configuration reloaded from %s", d->config_path);
    }
    sd_notify(0, "READY=1");
    heedd_send_status(d);
}

static void heedd_on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct heedd *d = arg;
    /* Fed only while the engine really works, so a stuck loop gets restarted. */
    if (engine_healthy(d->engine))
        sd_notify(0, "WATCHDOG=1");
}

/* Tell the watching status bars, when what they show changed. */
static void heedd_send_glance(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct heedd *d = arg;
    if (!d->control || control_server_watchers(d->control) == 0)
        return;
    json_t *g = engine_glance(d->engine);
    if (d->last_glance && json_equal(g, d->last_glance)) {
        json_decref(g);
        return;
    }
    control_server_broadcast(d->control, g);
    json_decref(d->last_glance);
    d->last_glance = g;
}

static void heedd_on_change(void *arg)
{
    struct heedd *d = arg;
    heedd_send_status(d);
    if (d->control && control_server_watchers(d->control) > 0 && !evtimer_pending(d->glance_ev, NULL)) {
        struct timeval tv = { 0, 250 * 1000 };
        evtimer_add(d->glance_ev, &tv);
    }
}

/* The engine answers every command; heedd adds to status where its state
 * database is, so that heed doctor reads the one heedd uses, --state's and
 * --demo's included. */
static json_t *heedd_control(json_t *request, void *arg)
{
    struct heedd *d = arg;
    json_t *answer = engine_control(request, d->engine);
    json_t *result = json_object_get(answer, "result");
    if (g_strcmp0(json_string_value(json_object_get(request, "cmd")), "status") == 0 && json_is_object(result))
        json_object_set_new(result, "state", json_string(d->state_path));
    return answer;
}

/* The sample the demo replays: --demo-file or HEED_DEMO_FILE when given (an
 * uninstalled build tree: scripts/demo), else the installed one, looked up
 * beside this executable first (HEED_DATADIR_FROM_BINDIR, so an install moved
 * to another prefix finds its own), then in the configured datadir. No path
 * of the build or source tree is compiled in. NULL, and *looked says where,
 * when there is none. */
static char *heedd_demo_file(const char *given, char **looked)
{
    if (!given || !*given)
        given = g_getenv("HEED_DEMO_FILE");
    if (given && *given) {
        char *f = g_canonicalize_filename(given, NULL); /* the engine makes a file:// URL of it */
        if (g_file_test(f, G_FILE_TEST_IS_REGULAR))
            return f;
        *looked = f;
        return NULL;
    }
    g_autofree char *exe = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *bindir = exe ? g_path_get_dirname(exe) : NULL;
    g_autofree char *near = NULL;
    if (bindir) {
        g_autofree char *raw = g_build_filename(bindir, HEED_DATADIR_FROM_BINDIR, "demo", "mentions.json", NULL);
        near = g_canonicalize_filename(raw, NULL);
        if (g_file_test(near, G_FILE_TEST_IS_REGULAR))
            return g_steal_pointer(&near);
    }
    char *f = g_build_filename(HEED_DATADIR, "demo", "mentions.json", NULL);
    if (g_file_test(f, G_FILE_TEST_IS_REGULAR))
        return f;
    *looked = near ? g_strdup_printf("%s nor %s", near, f) : g_strdup(f);
    g_free(f);
    return NULL;
}

/* What the command line asked for. */
struct heedd_args {
    gboolean demo, verbose, version, debug, test_hooks;
    char *config_path, *state_path, *demo_file_opt;
};

static void heedd_args_clear(struct heedd_args *a)
{
    g_free(a->config_path);
    g_free(a->state_path);
    g_free(a->demo_file_opt);
}

/* Parse argv; -1 to go on, else the exit status (a usage error, --version). */
static int heedd_parse(int argc, char **argv, struct heedd_args *a)
{
    GOptionEntry entries[] = {
        { "config", 'c', 0, G_OPTION_ARG_FILENAME, &a->config_path, "Read the configuration from FILE", "FILE" },
        { "demo", 0, 0, G_OPTION_ARG_NONE, &a->demo, "Replay a bundled sample of mentions; needs no account", NULL },
        { "demo-file", 0, 0, G_OPTION_ARG_FILENAME, &a->demo_file_opt,
          "With --demo, replay FILE instead of the installed sample", "FILE" },
        { "state", 0, 0, G_OPTION_ARG_FILENAME, &a->state_path, "Keep state in this SQLite file", "FILE" },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &a->verbose, "Log what heedd does, not only problems", NULL },
        { "debug", 0, 0, G_OPTION_ARG_NONE, &a->debug, "Log in detail", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &a->version, "Print the version and exit", NULL },
        { "test-hooks", 0, HEED_TEST_HOOKS ? 0 : G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &a->test_hooks,
          "Accept test-only control commands (test builds only)", NULL },
        { NULL, 0, 0, 0, NULL, NULL, NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("- watch your mentions and tell you who is waiting");
    g_option_context_add_main_entries(ctx, entries, NULL);
    GError *err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "heedd: %s (see heedd --help)\n", err->message);
        g_error_free(err);
        return 2;
    }
    if (a->version) {
        printf("heedd %s\n", HEED_VERSION);
        return 0;
    }
    /* HEED_TEST_HOOKS in the environment asks the same (the test harness, the systemd test). */
    a->test_hooks = a->test_hooks || g_getenv("HEED_TEST_HOOKS") != NULL;
    if (a->test_hooks && !HEED_TEST_HOOKS) {
        fprintf(stderr, "heedd: this heedd has no test hooks (asked by --test-hooks or HEED_TEST_HOOKS): "
                        "they are built only into test builds (cmake -DHEED_TEST_HOOKS=ON)\n");
        return 2;
    }
    if (a->demo_file_opt && !a->demo) {
        fprintf(stderr, "heedd: --demo-file goes with --demo (see heedd --help)\n");
        return 2;
    }
    return -1;
}

/* The demo keeps its state in a scratch directory so it never mixes with
 * yours; demo_dir and demo_db are set, or the reason is logged. */
static bool heedd_demo_scratch(char **demo_dir, char **demo_db)
{
    GError *err = NULL;
    *demo_dir = g_dir_make_tmp("heed-demo-XXXXXX", &err);
    if (!*demo_dir) {
        log_err("cannot create a scratch directory for the demo: %s", err->message);
        g_error_free(err);
        return false;
    }
    *demo_db = g_build_filename(*demo_dir, "demo.db", NULL);
    return true;
}

static void heedd_demo_scratch_remove(const char *demo_dir, const char *demo_db)
{
    if (!demo_dir)
        return;
    g_autofree char *wal = g_strconcat(demo_db, "-wal", NULL), *shm = g_strconcat(demo_db, "-shm", NULL);
    g_unlink(demo_db);
    g_unlink(wal);
    g_unlink(shm);
    g_rmdir(demo_dir);
}

/* Signals, the watchdog timer, the status bars' timer, the change hook. */
static void heedd_wire_loop(struct heedd *d)
{
    d->sig_term = evsignal_new(d->base, SIGTERM, heedd_on_stop, d);
    d->sig_int = evsignal_new(d->base, SIGINT, heedd_on_stop, d);
    d->sig_hup = evsignal_new(d->base, SIGHUP, heedd_on_hup, d);
    event_add(d->sig_term, NULL);
    event_add(d->sig_int, NULL);
    event_add(d->sig_hup, NULL);
    if (sd_watchdog_enabled(0, &d->watchdog_usec) > 0 && d->watchdog_usec > 0) {
        d->watchdog = event_new(d->base, -1, EV_PERSIST, heedd_on_watchdog, d);
        struct timeval tv = { (time_t)(d->watchdog_usec / 2 / 1000000),
                              (suseconds_t)(d->watchdog_usec / 2 % 1000000) };
        event_add(d->watchdog, &tv);
    }
    d->glance_ev = evtimer_new(d->base, heedd_send_glance, d);
    engine_set_change_hook(d->engine, heedd_on_change, d);
}

/* The control socket; without one only the demo goes on. */
static bool heedd_listen(struct heedd *d, bool demo)
{
    GError *err = NULL;
    g_autofree char *sock = control_default_path(&err);
    if (sock)
        d->control = control_server_new(d->base, sock, heedd_control, d, &err);
    if (d->control)
        return true;
    if (demo)
        log_notice("demo without a control socket: %s", err->message);
    else
        log_err("%s", err->message);
    g_error_free(err);
    return demo;
}

static void heedd_teardown(struct heedd *d)
{
    if (d->glance_ev)
        event_free(d->glance_ev);
    json_decref(d->last_glance);
    control_server_free(d->control);
    engine_free(d->engine);
    if (d->sig_term)
        event_free(d->sig_term);
    if (d->sig_int)
        event_free(d->sig_int);
    if (d->sig_hup)
        event_free(d->sig_hup);
    if (d->watchdog)
        event_free(d->watchdog);
    if (d->base)
        event_base_free(d->base);
    g_free(d->last_status);
    g_free(d->config_path);
}

/* Load the configuration and start the engine on a new loop; false (said)
 * when heedd cannot run. */
static bool heedd_start(struct heedd *d, const struct heedd_args *a, const char *demo_file, const char *demo_db)
{
    GError *err = NULL;
    d->config_path = a->config_path ? g_strdup(a->config_path) : config_default_path();
    struct config *cfg = config_load(d->config_path, a->config_path != NULL, &err);
    if (!cfg) {
        log_err("%s", err->message);
        g_error_free(err);
        return false;
    }
    if (!a->demo && cfg->n_accounts == 0)
        log_warn("no accounts configured in %s; add an [account NAME] group (see heed.conf(5)) or try heedd --demo",
                 d->config_path);
    d->base = event_base_new();
    struct engine_options opts = {
        .state_path = a->demo ? demo_db : a->state_path,
        .demo = a->demo,
        .demo_file = demo_file,
        .test_hooks = a->test_hooks,
    };
    d->engine = engine_new(d->base, cfg, &opts, &err);
    if (!d->engine) {
        log_err("%s", err->message);
        g_error_free(err);
        return false;
    }
    return heedd_listen(d, a->demo);
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    struct heedd_args a = { 0 };
    int rc = heedd_parse(argc, argv, &a);
    if (rc >= 0) {
        heedd_args_clear(&a);
        return rc;
    }
    log_setup("heedd", a.debug ? LOG_LVL_DEBUG : a.verbose ? LOG_LVL_INFO : LOG_LVL_NOTICE);
    signal(SIGPIPE, SIG_IGN);
    g_autofree char *demo_file = NULL, *demo_dir = NULL, *demo_db = NULL;
    if (a.demo) {
        g_autofree char *looked = NULL;
        demo_file = heedd_demo_file(a.demo_file_opt, &looked);
        if (!demo_file) {
            log_err("the demo's sample of mentions is missing: there is no %s (an uninstalled build passes "
                    "--demo-file data/demo/mentions.json, as scripts/demo does)", looked);
            heedd_args_clear(&a);
            return 1;
        }
        if (!heedd_demo_scratch(&demo_dir, &demo_db)) {
            heedd_args_clear(&a);
            return 1;
        }
    }
    struct heedd d = { 0 };
    g_autofree char *default_state = store_default_path();
    g_autofree char *state_abs =
        g_canonicalize_filename(a.demo ? demo_db : a.state_path ? a.state_path : default_state, NULL);
    d.state_path = state_abs;
    if (!heedd_start(&d, &a, demo_file, demo_db)) {
        heedd_teardown(&d);
        heedd_demo_scratch_remove(demo_dir, demo_db);
        heedd_args_clear(&a);
        return 1;
    }
    heedd_wire_loop(&d);
    g_autofree char *line = engine_status_line(d.engine);
    sd_notifyf(0, "READY=1\nSTATUS=%s", line);
    log_info("heedd %s ready%s", HEED_VERSION, a.demo ? " (demo)" : "");

    event_base_dispatch(d.base);

    sd_notify(0, "STOPPING=1");
    heedd_teardown(&d);
    heedd_demo_scratch_remove(demo_dir, demo_db);
    heedd_args_clear(&a);
    return d.exit_code;
}
