/* SPDX-License-Identifier: MIT */
/* bench-baseline: the floor set by the libraries heedd loads.
 *
 *   bench-baseline --state FILE [--fetch URL [--cafile FILE] [--every SECONDS]]
 *
 * Links the same libraries as heedd (libcurl with OpenSSL, libevent,
 * GLib/GIO + libnotify, SQLite, jansson, libxml2, libsystemd), initialises
 * each the way heedd does, then does nothing: it sleeps in
 * event_base_dispatch() until SIGTERM or SIGINT. bench/run.py compares
 * heedd's memory and wakeups against it. What "initialise" means here:
 *
 *   curl     curl_global_init + one multi handle; with --fetch also one
 *            HTTPS GET through the multi (a TLS handshake, the CA file
 *            loaded, the connection kept in the multi's cache), which is
 *            the floor of a process that has talked HTTPS once; with
 *            --every the same GET again every SECONDS on the kept
 *            connection, from a libevent timer: the floor of one poll
 *            (an HTTPS request and its answer, nothing done with it);
 *   libevent event_base_new, signal events;
 *   GLib     a thread with its own thread-default GMainContext running a
 *            GMainLoop, like heedd's notification thread, where
 *            notify_init() is called and the notification server's
 *            capabilities are asked once (this opens the session-bus
 *            connection and GDBus's worker thread, as heedd's bus-name
 *            watch does);
 *   SQLite   a database file opened in WAL mode with one table;
 *   jansson  one small document parsed; libxml2 xmlInitParser().
 *
 * When everything is ready it prints "ready" on stdout, so the driver
 * knows when to measure.
 */
#include <curl/curl.h>
#include <event2/event.h>
#include <glib.h>
#include <jansson.h>
#include <libnotify/notify.h>
#include <libxml/parser.h>
#include <signal.h>
#include <stdbool.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

struct baseline {
    GMainContext *ctx;
    GMainLoop *loop;
    GMutex lock;
    GCond ready_cond;
    bool ready;
};

static gpointer baseline_glib_thread(gpointer data)
{
    struct baseline *b = data;
    g_main_context_push_thread_default(b->ctx);
    notify_init("heed-baseline");
    GList *caps = notify_get_server_caps();
    g_list_free_full(caps, g_free);
    g_mutex_lock(&b->lock);
    b->ready = true;
    g_cond_signal(&b->ready_cond);
    g_mutex_unlock(&b->lock);
    g_main_loop_run(b->loop);
    notify_uninit();
    while (g_main_context_iteration(b->ctx, FALSE))
        ;
    g_main_context_pop_thread_default(b->ctx);
    return NULL;
}

static gboolean baseline_quit(gpointer data)
{
    g_main_loop_quit(data);
    return G_SOURCE_REMOVE;
}

static size_t baseline_discard(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    (void)arg;
    return size * nmemb;
}

/* One blocking HTTPS GET through the multi, which keeps the connection. */
static int baseline_fetch(CURLM *multi, const char *url, const char *cafile)
{
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (cafile)
        curl_easy_setopt(e, CURLOPT_CAINFO, cafile);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, baseline_discard);
    curl_multi_add_handle(multi, e);
    int running = 1;
    while (running) {
        if (curl_multi_perform(multi, &running) != CURLM_OK)
            break;
        if (running)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    int rc = 1;
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(multi, &left)) != NULL)
        if (msg->msg == CURLMSG_DONE)
            rc = msg->data.result == CURLE_OK ? 0 : 1;
    if (rc)
        fprintf(stderr, "bench-baseline: fetching %s failed\n", url);
    curl_multi_remove_handle(multi, e);
    curl_easy_cleanup(e);
    return rc;
}

struct baseline_poll {
    CURLM *multi;
    const char *url, *cafile;
};

static void baseline_on_poll(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct baseline_poll *p = arg;
    baseline_fetch(p->multi, p->url, p->cafile);
}

static void baseline_on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(arg);
}

int main(int argc, char **argv)
{
    const char *state = NULL, *fetch = NULL, *cafile = NULL;
    int every = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
            state = argv[++i];
        else if (strcmp(argv[i], "--fetch") == 0 && i + 1 < argc)
            fetch = argv[++i];
        else if (strcmp(argv[i], "--cafile") == 0 && i + 1 < argc)
            cafile = argv[++i];
        else if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
            every = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench-baseline --state FILE [--fetch URL [--cafile FILE] [--every SECONDS]]\n");
            return 2;
        }
    }
    if (!state) {
        fprintf(stderr, "bench-baseline: --state FILE is required\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    if (fetch && baseline_fetch(multi, fetch, cafile) != 0)
        return 1;

    struct event_base *base = event_base_new();
    struct event *sig_term = evsignal_new(base, SIGTERM, baseline_on_signal, base);
    struct event *sig_int = evsignal_new(base, SIGINT, baseline_on_signal, base);
    event_add(sig_term, NULL);
    event_add(sig_int, NULL);
    struct baseline_poll poll = { multi, fetch, cafile };
    struct event *poll_ev = event_new(base, -1, EV_PERSIST, baseline_on_poll, &poll);
    if (fetch && every > 0) {
        struct timeval tv = { every, 0 };
        event_add(poll_ev, &tv);
    }

    sqlite3 *db = NULL;
    if (sqlite3_open_v2(state, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                     "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT);"
                     "SELECT count(*) FROM t;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench-baseline: %s: %s\n", state, db ? sqlite3_errmsg(db) : "cannot open");
        return 1;
    }

    json_error_t jerr;
    json_t *doc = json_loads("{\"id\":\"1\",\"type\":\"mention\",\"n\":[1,2,3]}", JSON_REJECT_DUPLICATES, &jerr);
    json_decref(doc);
    xmlInitParser();
    sd_notify(0, "READY=1");

    struct baseline b = { 0 };
    g_mutex_init(&b.lock);
    g_cond_init(&b.ready_cond);
    b.ctx = g_main_context_new();
    b.loop = g_main_loop_new(b.ctx, FALSE);
    GThread *thread = g_thread_new("baseline-glib", baseline_glib_thread, &b);
    g_mutex_lock(&b.lock);
    while (!b.ready)
        g_cond_wait(&b.ready_cond, &b.lock);
    g_mutex_unlock(&b.lock);

    printf("ready\n");
    fflush(stdout);
    event_base_dispatch(base);

    g_main_context_invoke(b.ctx, baseline_quit, b.loop);
    g_thread_join(thread);
    g_main_loop_unref(b.loop);
    g_main_context_unref(b.ctx);
    g_mutex_clear(&b.lock);
    g_cond_clear(&b.ready_cond);
    sqlite3_close(db);
    event_free(poll_ev);
    event_free(sig_term);
    event_free(sig_int);
    event_base_free(base);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
