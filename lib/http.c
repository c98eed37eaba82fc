/* SPDX-License-Identifier: MIT */
/* http: see http.h. The hiperfifo pattern: libcurl tells us which sockets to
 * watch and when to time out; libevent tells libcurl when they are ready. */
#include "http.h"

#include <curl/curl.h>
#include <gio/gio.h>
#include <string.h>

#include "http_policy.h"

struct http {
    struct event_base *base;
    CURLM *multi;
    struct event *timer;
    GList *transfers;       /* struct http_transfer*, owned */
    struct http_stats stats;
};

struct http_transfer {
    struct http *h;
    CURL *easy;
    struct event *local_ev;   /* a transfer that needs no curl: file:// or a refusal */
    char *local_path;         /* the file to read, or NULL: refuse with res.error */
    struct curl_slist *headers;
    struct http_result res;
    size_t max_body;
    bool too_big;
    http_data_fn on_data;
    void *data_user_data;
    char errbuf[CURL_ERROR_SIZE];
    http_done_fn done;
    void *user_data;
};

struct http_sock {
    struct event *ev;
};

static void http_check_done(struct http *h);

static void http_result_free_parts(struct http_result *res)
{
    if (res->body)
        g_byte_array_unref(res->body);
    if (res->headers)
        g_hash_table_unref(res->headers);
    g_free(res->error);
}

static void http_transfer_free(struct http_transfer *t)
{
    if (t->easy) {
        curl_multi_remove_handle(t->h->multi, t->easy);
        curl_easy_cleanup(t->easy);
    }
    if (t->local_ev)
        event_free(t->local_ev);
    g_free(t->local_path);
    curl_slist_free_all(t->headers);
    http_result_free_parts(&t->res);
    g_free(t);
}

static void http_on_socket(evutil_socket_t fd, short kind, void *arg)
{
    struct http *h = arg;
    int action = ((kind & EV_READ) ? CURL_CSELECT_IN : 0) | ((kind & EV_WRITE) ? CURL_CSELECT_OUT : 0);
    int running = 0;
    curl_multi_socket_action(h->multi, fd, action, &running);
    http_check_done(h);
}

static void http_on_timer(evutil_socket_t fd, short kind, void *arg)
{
    (void)fd;
    (void)kind;
    struct http *h = arg;
    int running = 0;
    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    http_check_done(h);
}

/* Never calls libcurl: that is forbidden from inside its callbacks. */
static int http_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
    (void)multi;
    struct http *h = arg;
    if (timeout_ms < 0) {
        evtimer_del(h->timer);
        return 0;
    }
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    evtimer_add(h->timer, &tv);
    return 0;
}

static int http_socket_cb(CURL *easy, curl_socket_t s, int what, void *arg, void *sockp)
{
    (void)easy; /* may be an internal handle: never assume it is ours */
    struct http *h = arg;
    struct http_sock *sock = sockp;
    if (what == CURL_POLL_REMOVE) {
        if (sock) {
            event_free(sock->ev);
            g_free(sock);
            curl_multi_assign(h->multi, s, NULL);
        }
        return 0;
    }
    short kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) | ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
    if (!sock) {
        sock = g_new0(struct http_sock, 1);
        sock->ev = event_new(h->base, s, kind, http_on_socket, h);
        curl_multi_assign(h->multi, s, sock);
    } else {
        event_del(sock->ev);
        event_assign(sock->ev, h->base, s, kind, http_on_socket, h);
    }
    event_add(sock->ev, NULL);
    return 0;
}

static size_t http_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    struct http_transfer *t = arg;
    size_t n = size * nmemb;
    if (t->on_data) {
        /* Only a successful stream is handed on; an error body is kept for the caller. */
        long status = 0;
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
        if (status == 200) {
            switch (t->on_data(data, n, t->data_user_data)) {
            case HTTP_DATA_TAKEN:
                return n;
            case HTTP_DATA_PAUSE:
                return CURL_WRITEFUNC_PAUSE;
            case HTTP_DATA_ABORT:
                return 0;
            }
            return 0;
        }
    }
    /* curl 7.88 does not enforce MAXFILESIZE on chunked bodies: cap here. */
    if (!http_policy_body_append(t->res.body, data, n, t->max_body)) {
        t->too_big = true;
        return 0;
    }
    return n;
}

static size_t http_header_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    struct http_transfer *t = arg;
    size_t n = size * nmemb;
    if (n >= 5 && g_ascii_strncasecmp(data, "HTTP/", 5) == 0) {
        /* A new response (after a redirect or 100-continue): forget the old headers. */
        g_hash_table_remove_all(t->res.headers);
        return n;
    }
    const char *colon = memchr(data, ':', n);
    if (!colon || colon == data || n > 16384)
        return n;
    char *name = g_ascii_strdown(data, colon - data);
    char *value = g_strstrip(g_strndup(colon + 1, n - (size_t)(colon + 1 - data)));
    g_hash_table_replace(t->res.headers, name, value);
    return n;
}

struct http *http_new(struct event_base *base, GError **error)
{
    static gsize curl_ready = 0;
    if (g_once_init_enter(&curl_ready)) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        g_once_init_leave(&curl_ready, 1);
    }
    struct http *h = g_new0(struct http, 1);
    h->base = base;
    h->multi = curl_multi_init();
    if (!h->multi) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "curl_multi_init failed");
        g_free(h);
        return NULL;
    }
    h->timer = evtimer_new(base, http_on_timer, h);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 4L);
    /* The default pool holds four connections per transfer in flight; polls
     * rarely overlap, so a fifth host would evict another's idle connection
     * and every poll would pay a new TLS handshake. */
    curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 32L);
    return h;
}

void http_free(struct http *h)
{
    if (!h)
        return;
    for (GList *l = h->transfers; l; l = l->next)
        http_transfer_free(l->data);
    g_list_free(h->transfers);
    /* The multi may still call the socket callback while closing cached
     * connections, so the event base must outlive this. */
    curl_multi_cleanup(h->multi);
    event_free(h->timer);
    g_free(h);
}

/* The answer of a transfer without curl, on the loop's next turn. */
static void http_local_done(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct http_transfer *t = arg;
    GError *err = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;
    if (t->local_path && g_file_get_contents(t->local_path, &data, &len, &err) && len <= t->max_body) {
        t->res.status = 200;
        g_byte_array_append(t->res.body, (const guint8 *)data, (guint)len);
    } else if (t->local_path) {
        t->res.error = err ? g_strdup(err->message) : g_strdup_printf("%s is larger than %zu bytes", t->local_path,
                                                                       t->max_body);
        g_clear_error(&err);
    }
    t->h->transfers = g_list_remove(t->h->transfers, t);
    t->done(&t->res, t->user_data);
    http_transfer_free(t);
}

static struct http_transfer *http_transfer_new(struct http *h, const struct http_options *opts, http_done_fn done,
                                              void *user_data)
{
    struct http_transfer *t = g_new0(struct http_transfer, 1);
    t->h = h;
    t->done = done;
    t->user_data = user_data;
    t->max_body = opts && opts->max_body ? opts->max_body : HTTP_DEFAULT_MAX_BODY;
    t->res.body = g_byte_array_new();
    t->res.headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return t;
}

static struct http_transfer *http_start_local(struct http *h, const char *url, const struct http_options *opts,
                                              http_done_fn done, void *user_data)
{
    struct http_transfer *t = http_transfer_new(h, opts, done, user_data);
    if (g_str_has_prefix(url, "file://") && opts && opts->local_files)
        t->local_path = g_strdup(url + strlen("file://"));
    else
        t->res.error = g_strdup(g_str_has_prefix(url, "file://") ? "local files are only for the demo network"
                                                                 : "refusing a request that is not https");
    t->local_ev = evtimer_new(h->base, http_local_done, t);
    struct timeval now = { 0, 0 };
    evtimer_add(t->local_ev, &now);
    h->transfers = g_list_prepend(h->transfers, t);
    return t;
}

struct http_transfer *http_start(struct http *h, const struct wire_request *req, const struct http_options *opts,
                                 http_done_fn done, void *user_data)
{
    if (!g_str_has_prefix(req->url, "https://"))
        return http_start_local(h, req->url, opts, done, user_data);
    struct http_transfer *t = http_transfer_new(h, opts, done, user_data);
    t->easy = curl_easy_init();
    CURL *e = t->easy;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    /* https only, no redirects, verified, time limits, size cap, agent. */
    struct http_policy policy = {
        .ca_file = opts ? opts->ca_file : NULL,
        .connect_timeout_ms = opts ? opts->connect_timeout_ms : 0,
        .timeout_ms = opts && opts->on_data ? -1 : opts ? opts->timeout_ms : 0,
        .max_body = t->max_body,
    };
    http_policy_apply(e, &policy);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    if (opts && opts->on_data) {
        t->on_data = opts->on_data;
        t->data_user_data = opts->data_user_data;
        /* A stream never ends by itself; the caller's silence timer ends it. */
        curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    }
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    curl_easy_setopt(e, CURLOPT_PRIVATE, t);
    for (guint i = 0; req->headers && i < req->headers->len; i++)
        t->headers = curl_slist_append(t->headers, g_ptr_array_index(req->headers, i));
    if (req->body) {
        if (req->content_type) {
            g_autofree char *ct = g_strdup_printf("Content-Type: %s", req->content_type);
            t->headers = curl_slist_append(t->headers, ct);
        }
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
        curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->body);
    } else if (g_strcmp0(req->method, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    h->transfers = g_list_prepend(h->transfers, t);
    h->stats.transfers++;
    curl_multi_add_handle(h->multi, e);
    return t;
}

void http_resume(struct http *h, struct http_transfer *t)
{
    (void)h;
    if (t->easy)
        curl_easy_pause(t->easy, CURLPAUSE_CONT);
}

void http_cancel(struct http *h, struct http_transfer *t)
{
    h->transfers = g_list_remove(h->transfers, t);
    http_transfer_free(t);
}

static bool http_is_transient(CURLcode code)
{
    switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
        return false;
    default:
        return true;
    }
}

static void http_finish(struct http *h, struct http_transfer *t, CURLcode code)
{
    long connects = 0;
    curl_easy_getinfo(t->easy, CURLINFO_NUM_CONNECTS, &connects);
    h->stats.connects += (unsigned long)connects;
    if (code == CURLE_OK) {
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->res.status);
    } else {
        h->stats.failures++;
        t->res.status = 0;
        if (t->too_big)
            t->res.error = g_strdup_printf("response body larger than %zu bytes; refused", t->max_body);
        else
            t->res.error = g_strdup(t->errbuf[0] ? t->errbuf : curl_easy_strerror(code));
        t->res.transient = !t->too_big && http_is_transient(code);
    }
    h->transfers = g_list_remove(h->transfers, t);
    curl_multi_remove_handle(h->multi, t->easy);
    curl_easy_cleanup(t->easy);
    t->easy = NULL;
    t->done(&t->res, t->user_data);
    http_transfer_free(t);
}

static void http_check_done(struct http *h)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(h->multi, &left)) != NULL) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        /* Copy out before the message is invalidated by remove_handle. */
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result;
        struct http_transfer *t = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        if (t)
            http_finish(h, t, code);
    }
}

void http_get_stats(const struct http *h, struct http_stats *out)
{
    *out = h->stats;
}

void http_result_view(const struct http_result *res, struct wire_response *out)
{
    out->status = res->status;
    out->body = res->body ? (const char *)res->body->data : "";
    out->body_len = res->body ? res->body->len : 0;
    out->headers = res->headers;
}
