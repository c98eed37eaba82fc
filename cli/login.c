/* login: see login.h.
 *
 * The order of a login is the promise: (1) everything that can be checked
 * without the network (the server is https, the name is free, the CA file
 * is readable, secret-tool is there if asked for) is checked before the
 * first request; (2) the plan - what will be written where - is shown
 * before the secret is asked for; (3) the secret is proven with one request
 * to the network; (4) only then is anything written, the secret first and
 * the config last, so an account never points at a secret that is not
 * there.
 *
 * Mastodon is the one network with a real sign-in: heed registers itself
 * (POST /api/v1/apps) with read-only scopes and the out-of-band redirect,
 * the user approves it in the browser and pastes the code the instance
 * shows, and the code is exchanged for a token with PKCE (S256; instances
 * older than 4.3 ignore the challenge). The others take a secret the user
 * makes on the network's web site; heed says which one and with which scope.
 */
#include "login.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "build_config.h"
#include "conffile.h"
#include "config.h"
#include "control.h"
#include "format.h"
#include "secret.h"
#include "store.h"
#include "url.h"

/* heed never writes: these four are all it reads (network-apis.md §1.8). */
#define LOGIN_MASTODON_SCOPES "read:notifications read:statuses read:accounts read:follows"
#define LOGIN_OOB "urn:ietf:wg:oauth:2.0:oob"
#define LOGIN_MAX_SECRET (16 * 1024)
#define LOGIN_MAX_NAME 64

/* ---- HTTPS ---------------------------------------------------------------- */

struct login_http_sink {
    struct login_http *r;
    bool too_big;
};

static size_t login_http_write(char *ptr, size_t size, size_t n, void *ud)
{
    struct login_http_sink *s = ud;
    size_t len = size * n;
    /* MAXFILESIZE does not stop a chunked body; this does. */
    if (s->r->body->len + len > LOGIN_HTTP_MAX_BODY) {
        s->too_big = true;
        return 0;
    }
    g_byte_array_append(s->r->body, (const guint8 *)ptr, (guint)len);
    return len;
}

static size_t login_http_header(char *buf, size_t size, size_t n, void *ud)
{
    struct login_http_sink *s = ud;
    size_t len = size * n;
    /* A new status line starts a new response (100 Continue, say): only the
     * final one's headers count. */
    if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0) {
        g_hash_table_remove_all(s->r->headers);
        return len;
    }
    const char *colon = memchr(buf, ':', len);
    if (!colon)
        return len;
    char *name = g_ascii_strdown(buf, colon - buf);
    char *value = g_strndup(colon + 1, len - (size_t)(colon + 1 - buf));
    g_strstrip(value);
    g_hash_table_replace(s->r->headers, name, value);
    return len;
}

bool login_https(const char *method, const char *url, const char *ca_file, const char *const *headers,
                 const char *body, struct login_http *out)
{
    memset(out, 0, sizeof *out);
    out->body = g_byte_array_new();
    out->headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    CURL *c = curl_easy_init();
    if (!c) {
        out->error = g_strdup("cannot start an HTTP request (curl_easy_init failed)");
        return false;
    }
    struct login_http_sink sink = { out, false };
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *list = NULL;
    for (const char *const *h = headers; h && *h; h++)
        list = curl_slist_append(list, *h);
    g_autofree char *agent = g_strdup_printf("heed/%s", HEED_VERSION);

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
    if (ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 15000L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, agent);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, login_http_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, login_http_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &sink);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (method && strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);

    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    } else if (sink.too_big) {
        out->error = g_strdup_printf("the answer was larger than %d bytes", LOGIN_HTTP_MAX_BODY);
    } else {
        /* curl's text names the host and the TLS problem; heed never puts
         * a secret in a URL, so it is safe to show. */
        g_autofree char *host = url_host(url);
        out->error = g_strdup_printf("no answer from %s: %s", host ? host : url,
                                     *errbuf ? errbuf : curl_easy_strerror(rc));
    }
    curl_easy_cleanup(c);
    /* The list may carry "Authorization: Bearer ...". */
    for (struct curl_slist *l = list; l; l = l->next)
        explicit_bzero(l->data, strlen(l->data));
    curl_slist_free_all(list);
    return out->status != 0;
}

void login_http_clear(struct login_http *r)
{
    if (r->body) {
        /* Bodies carry tokens (an OAuth answer, a session). */
        explicit_bzero(r->body->data, r->body->len);
        g_byte_array_free(r->body, TRUE);
    }
    if (r->headers)
        g_hash_table_destroy(r->headers);
    g_free(r->error);
    memset(r, 0, sizeof *r);
}

json_t *login_http_json(const struct login_http *r)
{
    if (!r->body || r->body->len == 0)
        return NULL;
    return json_loadb((const char *)r->body->data, r->body->len, 0, NULL);
}

static const char *login_json_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

char *login_http_problem(const struct login_http *r, const char *secret)
{
    if (r->status == 0)
        return g_strdup(r->error ? r->error : "no answer");
    json_t *j = login_http_json(r);
    GString *s = g_string_new(NULL);
    g_string_printf(s, "HTTP %ld", r->status);
    if (json_is_object(j)) {
        /* Mastodon/OAuth: error + error_description; Bluesky: error +
         * message; GitHub: message; X: title + detail. */
        const char *first = login_json_str(j, "error");
        const char *second = login_json_str(j, "error_description");
        if (!second)
            second = login_json_str(j, "message");
        if (!first && !second) {
            first = login_json_str(j, "title");
            second = login_json_str(j, "detail");
            if (first && second && strcmp(first, second) == 0)
                second = NULL;
        }
        if (first)
            g_string_append_printf(s, ": %s", first);
        if (second)
            g_string_append_printf(s, "%s%s", first ? " - " : ": ", second);
    }
    json_decref(j);
    char *text = g_string_free(s, FALSE);
    /* A server that quotes the secret back must not get it printed. */
    if (secret && *secret && strstr(text, secret)) {
        g_auto(GStrv) parts = g_strsplit(text, secret, -1);
        explicit_bzero(text, strlen(text));
        g_free(text);
        text = g_strjoinv("(the secret)", parts);
    }
    char *out = cli_fit(text, 200);
    g_free(text);
    return out;
}

char *login_http_rate(const struct login_http *r, long *remaining)
{
    /* Mastodon, GitHub: x-ratelimit-*; X: x-rate-limit-*; Bluesky: ratelimit-*. */
    static const char *const prefixes[] = { "x-ratelimit-", "x-rate-limit-", "ratelimit-" };
    *remaining = -1;
    for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        g_autofree char *rk = g_strconcat(prefixes[i], "remaining", NULL);
        g_autofree char *lk = g_strconcat(prefixes[i], "limit", NULL);
        const char *rem = r->headers ? g_hash_table_lookup(r->headers, rk) : NULL;
        const char *lim = r->headers ? g_hash_table_lookup(r->headers, lk) : NULL;
        gint64 nrem, nlim;
        if (!rem || !g_ascii_string_to_signed(rem, 10, 0, G_MAXINT32, &nrem, NULL))
            continue;
        *remaining = (long)nrem;
        if (lim && g_ascii_string_to_signed(lim, 10, 0, G_MAXINT32, &nlim, NULL))
            return g_strdup_printf("%" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " requests left", nrem, nlim);
        return g_strdup_printf("%" G_GINT64_FORMAT " requests left", nrem);
    }
    return NULL;
}

/* ---- talking to the user ----------------------------------------------------- */

static void login_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void login_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "heed login: %s\n", msg);
}

/* The signal that arrived while the terminal's echo was off. Static
 * because a signal handler can reach nothing else; it lives only for the
 * duration of one login_read_tty(). */
static volatile sig_atomic_t login_signal;

static void login_on_signal(int signo)
{
    login_signal = signo;
}

static const int login_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* A line typed on the terminal. With secret, echo is off while it is typed
 * (the newline is still echoed), and a signal first gives the terminal
 * back its echo and then takes effect as it would have. */
static char *login_read_tty(const char *prompt, bool secret, GError **error)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot open the terminal (%s)", g_strerror(errno));
        return NULL;
    }
    struct termios saved, quiet;
    bool restore = false;
    struct sigaction old[G_N_ELEMENTS(login_signals)];
    if (secret && tcgetattr(fd, &saved) == 0) {
        login_signal = 0;
        struct sigaction sa = { 0 };
        sa.sa_handler = login_on_signal;
        sigemptyset(&sa.sa_mask);
        /* No SA_RESTART: read() must return so the echo can be restored. */
        for (size_t i = 0; i < G_N_ELEMENTS(login_signals); i++)
            sigaction(login_signals[i], &sa, &old[i]);
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
        if (!restore)
            for (size_t i = 0; i < G_N_ELEMENTS(login_signals); i++)
                sigaction(login_signals[i], &old[i], NULL);
    }
    fflush(stdout);
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* Nothing to do: the read below still works without the prompt. */
    }
    char *buf = g_malloc(LOGIN_MAX_SECRET + 1);
    size_t len = 0;
    bool ok = true, eof = false;
    for (;;) {
        char ch;
        ssize_t n = read(fd, &ch, 1);
        if (n < 0 && errno == EINTR && !login_signal)
            continue;
        if (n < 0) {
            ok = false;
            break;
        }
        if (n == 0) {
            eof = true;
            break;
        }
        if (ch == '\n')
            break;
        if (len == LOGIN_MAX_SECRET) {
            ok = false;
            break;
        }
        buf[len++] = ch;
    }
    buf[len] = '\0';
    if (restore) {
        tcsetattr(fd, TCSAFLUSH, &saved);
        for (size_t i = 0; i < G_N_ELEMENTS(login_signals); i++)
            sigaction(login_signals[i], &old[i], NULL);
    }
    close(fd);
    if (restore && login_signal) {
        explicit_bzero(buf, LOGIN_MAX_SECRET + 1);
        g_free(buf);
        raise(login_signal);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted");
        return NULL;
    }
    if (!ok || (eof && len == 0)) {
        explicit_bzero(buf, LOGIN_MAX_SECRET + 1);
        g_free(buf);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, eof ? "nothing was typed" : "cannot read the terminal");
        return NULL;
    }
    return buf;
}

/* One line of standard input, read a byte at a time so that nothing after
 * it is swallowed. */
static char *login_read_stdin(GError **error)
{
    char *buf = g_malloc(LOGIN_MAX_SECRET + 1);
    size_t len = 0;
    bool got_newline = false;
    for (;;) {
        char ch;
        ssize_t n = read(STDIN_FILENO, &ch, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (ch == '\n') {
            got_newline = true;
            break;
        }
        if (len == LOGIN_MAX_SECRET) {
            explicit_bzero(buf, LOGIN_MAX_SECRET + 1);
            g_free(buf);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the line on standard input is longer than 16 KiB");
            return NULL;
        }
        buf[len++] = ch;
    }
    buf[len] = '\0';
    if (len == 0 && !got_newline) {
        g_free(buf);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "nothing on standard input");
        return NULL;
    }
    return buf;
}

/* The code or secret, from the terminal or from standard input; surrounding
 * white space (a pasted newline, "\r") removed. NULL after saying why. */
static char *login_ask(bool interactive, const char *prompt, bool secret)
{
    GError *err = NULL;
    char *line = interactive ? login_read_tty(prompt, secret, &err) : login_read_stdin(&err);
    if (!line) {
        login_error("%s", err->message);
        g_error_free(err);
        return NULL;
    }
    g_strstrip(line);
    if (!*line) {
        login_error("nothing was entered; nothing was written");
        g_free(line);
        return NULL;
    }
    return line;
}

static bool login_ask_yes(const char *prompt)
{
    GError *err = NULL;
    char *line = login_read_tty(prompt, false, &err);
    if (!line) {
        g_error_free(err);
        return false;
    }
    g_strstrip(line);
    bool yes = g_ascii_strcasecmp(line, "y") == 0 || g_ascii_strcasecmp(line, "yes") == 0;
    g_free(line);
    return yes;
}

/* Opens url the way the rest of heed would, with one addition: $BROWSER,
 * read like xdg-open reads it (a ':'-separated list of commands, the first
 * one found on PATH is used, "%s" stands for the URL). */
static void login_open_browser(const char *url, const char *allowed_host)
{
    const char *browser = g_getenv("BROWSER");
    g_auto(GStrv) chosen = NULL;
    if (browser && *browser) {
        g_auto(GStrv) entries = g_strsplit(browser, ":", -1);
        for (char **e = entries; *e && !chosen; e++) {
            g_auto(GStrv) words = g_strsplit_set(*e, " \t", -1);
            GStrvBuilder *b = g_strv_builder_new();
            for (char **w = words; *w; w++) {
                if (!**w)
                    continue;
                g_auto(GStrv) parts = g_strsplit(*w, "%s", -1);
                g_autofree char *word = g_strjoinv("%u", parts);
                g_strv_builder_add(b, word);
            }
            g_auto(GStrv) argv = g_strv_builder_end(b);
            g_strv_builder_unref(b);
            g_autofree char *found = argv[0] ? g_find_program_in_path(argv[0]) : NULL;
            if (found)
                chosen = g_steal_pointer(&argv);
        }
        if (!chosen)
            login_error("none of the browsers in $BROWSER was found; trying the desktop's default");
    }
    GError *err = NULL;
    if (!url_open(url, allowed_host, chosen, &err)) {
        login_error("could not open a browser (%s); open the address above yourself", err->message);
        g_error_free(err);
    }
}

/* ---- the login ------------------------------------------------------------- */

struct login {
    const struct cli_args *a;
    const char *network;
    bool interactive;       /* standard input is a terminal */
    char *server;           /* https base URL, no trailing '/' */
    bool server_explicit;   /* write server = ... (not the network's default) */
    char *allowed_host;     /* what url_open may open: "host" or "host:port" */
    char *name;             /* the account's name */
    char *group;            /* "account NAME" */
    char *ca_file;          /* absolute, or NULL */
    char *config_path;
    char *token_path;
    char *secret_tool;      /* its path when on PATH */
    struct conffile *cf;
    /* What the network told: */
    char *secret;           /* what is stored (wiped) */
    char *identifier;       /* bluesky: the handle as typed */
    char *who;              /* "@alice@example.social", for the summary */
    json_t *session;        /* bluesky: the session for the state database */
    bool keyring;
};

static void login_free(struct login *l)
{
    g_free(l->server);
    g_free(l->allowed_host);
    g_free(l->name);
    g_free(l->group);
    g_free(l->ca_file);
    g_free(l->config_path);
    g_free(l->token_path);
    g_free(l->secret_tool);
    conffile_free(l->cf);
    secret_free(l->secret);
    g_free(l->identifier);
    g_free(l->who);
    if (l->session) {
        /* The session's tokens live in jansson's strings. */
        json_t *v;
        const char *k;
        json_object_foreach(l->session, k, v) {
            if (json_is_string(v))
                explicit_bzero((char *)json_string_value(v), json_string_length(v));
        }
        json_decref(l->session);
    }
}

static const char *login_default_server(const char *network)
{
    if (strcmp(network, "bluesky") == 0)
        return "https://bsky.social";
    if (strcmp(network, "github") == 0)
        return "https://api.github.com";
    if (strcmp(network, "x") == 0)
        return "https://api.x.com";
    return NULL;
}

/* "mastodon.social", "https://mastodon.social/" or "https://host:8443/api"
 * into an https base URL; http:// and anything else are refused with one
 * line. A path is allowed only where an API lives under one (GitHub
 * Enterprise's /api/v3), never for a Mastodon instance. */
static bool login_parse_server(struct login *l, const char *input, bool path_ok)
{
    g_autofree char *q = cli_clean(input);
    if (g_ascii_strncasecmp(input, "http://", 7) == 0) {
        login_error("refusing %s: heed talks to servers only over https (https://%s)", q, q + 7);
        return false;
    }
    g_autofree char *full = strstr(input, "://") ? g_strdup(input) : g_strconcat("https://", input, NULL);
    if (g_ascii_strncasecmp(full, "https://", 8) != 0) {
        login_error("refusing %s: expected an https:// address", q);
        return false;
    }
    for (const char *p = full; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '%' || *p == '\\') {
            login_error("%s is not a server address: it contains spaces, control characters, non-ASCII or %%-escapes",
                        q);
            return false;
        }
    GUri *uri = g_uri_parse(full, G_URI_FLAGS_NONE, NULL);
    const char *problem = NULL;
    const char *host = uri ? g_uri_get_host(uri) : NULL;
    const char *path = uri ? g_uri_get_path(uri) : "";
    if (!uri)
        problem = "is not a valid address";
    else if (!host || !*host || strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") !=
                                    strlen(host) || host[0] == '.' || host[0] == '-')
        problem = "has no valid host name";
    else if (g_uri_get_userinfo(uri))
        problem = "has a user name or password in it";
    else if (g_uri_get_query(uri) || g_uri_get_fragment(uri))
        problem = "has a query or fragment";
    else if (!path_ok && *path && strcmp(path, "/") != 0)
        problem = "has a path; expected just the instance, e.g. mastodon.social";
    if (problem) {
        login_error("%s %s", q, problem);
        if (uri)
            g_uri_unref(uri);
        return false;
    }
    g_autofree char *lower = g_ascii_strdown(host, -1);
    int port = g_uri_get_port(uri);
    GString *base = g_string_new("https://");
    g_string_append(base, lower);
    if (port > 0 && port != 443)
        g_string_append_printf(base, ":%d", port);
    g_string_append(base, path);
    while (base->len > 8 && base->str[base->len - 1] == '/')
        g_string_truncate(base, base->len - 1);
    l->server = g_string_free(base, FALSE);
    l->allowed_host = port > 0 && port != 443 ? g_strdup_printf("%s:%d", lower, port) : g_strdup(lower);
    g_uri_unref(uri);
    return true;
}

/* Account names become a group name, a file name and a word of a
 * token_command, so they keep to characters that are safe in all three. */
static bool login_name_char(char c)
{
    return g_ascii_isalnum(c) || c == '.' || c == '_' || c == '-' || c == '@' || c == '+';
}

static bool login_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > LOGIN_MAX_NAME || name[0] == '.' || name[0] == '-')
        return false;
    for (const char *p = name; *p; p++)
        if (!login_name_char(*p))
            return false;
    return true;
}

static char *login_default_name(struct login *l)
{
    const char *base = strcmp(l->network, "mastodon") == 0 ? l->allowed_host
                       : strcmp(l->network, "bluesky") == 0 ? l->identifier
                                                            : l->network;
    GString *s = g_string_new(NULL);
    for (const char *p = base; *p && s->len < LOGIN_MAX_NAME; p++) {
        if (*p == ':' && strcmp(l->network, "mastodon") == 0)
            break; /* the port is not part of the name */
        g_string_append_c(s, login_name_char(*p) ? g_ascii_tolower(*p) : '-');
    }
    while (s->len > 0 && (s->str[0] == '.' || s->str[0] == '-'))
        g_string_erase(s, 0, 1);
    return g_string_free(s, FALSE);
}

/* Step 1: everything that needs no network. */
static bool login_prepare(struct login *l)
{
    const struct cli_args *a = l->a;
    if (strcmp(l->network, "mastodon") == 0) {
        if (!login_parse_server(l, a->target, false))
            return false;
        l->server_explicit = true;
    } else {
        const char *def = login_default_server(l->network);
        if (!login_parse_server(l, a->server ? a->server : def, true))
            return false;
        l->server_explicit = strcmp(l->server, def) != 0;
    }
    if (strcmp(l->network, "bluesky") == 0) {
        const char *h = a->target[0] == '@' ? a->target + 1 : a->target;
        bool ok = *h != '\0';
        for (const char *p = h; *p; p++)
            if (!(g_ascii_isalnum(*p) || *p == '.' || *p == '-' || *p == ':' || *p == '_'))
                ok = false;
        if (!ok) {
            g_autofree char *q = cli_clean(a->target);
            login_error("\"%s\" is not a Bluesky handle or DID; expected e.g. alice.bsky.social", q);
            return false;
        }
        l->identifier = g_ascii_strdown(h, -1);
    }
    if (a->name) {
        if (!login_name_ok(a->name)) {
            g_autofree char *q = cli_clean(a->name);
            login_error("--name \"%s\" cannot be an account name; expected up to %d letters, digits, '.', '_', "
                        "'-', '@' or '+', not starting with '.' or '-'",
                        q, LOGIN_MAX_NAME);
            return false;
        }
        l->name = g_strdup(a->name);
    } else {
        l->name = login_default_name(l);
        if (!login_name_ok(l->name)) {
            login_error("cannot make an account name from that; choose one with --name NAME");
            return false;
        }
    }
    l->group = g_strdup_printf("account %s", l->name);

    if (a->ca_file) {
        l->ca_file = g_canonicalize_filename(a->ca_file, NULL);
        struct stat st;
        if (stat(l->ca_file, &st) != 0 || !S_ISREG(st.st_mode) || access(l->ca_file, R_OK) != 0) {
            g_autofree char *q = cli_clean(l->ca_file);
            login_error("--ca-file %s cannot be read; expected a readable PEM file", q);
            return false;
        }
    }

    l->config_path = config_default_path();
    GError *err = NULL;
    l->cf = conffile_load(l->config_path, &err);
    if (!l->cf) {
        login_error("%s", err->message);
        g_error_free(err);
        return false;
    }
    if (conffile_has_group(l->cf, l->group) && !a->force) {
        login_error("%s already has [%s]; choose another name with --name NAME, or replace it with --force",
                    l->config_path, l->group);
        return false;
    }
    g_autofree char *dir = g_path_get_dirname(l->config_path);
    g_autofree char *file = g_strconcat(l->name, ".token", NULL);
    l->token_path = g_build_filename(dir, file, NULL);

    l->secret_tool = g_find_program_in_path("secret-tool");
    if (a->keyring && !l->secret_tool) {
        login_error("--keyring needs secret-tool (Debian: apt install libsecret-tools); or leave --keyring out to "
                    "use a token file");
        return false;
    }
    struct stat st;
    if (!a->keyring && lstat(l->token_path, &st) == 0 && !a->force) {
        login_error("%s already exists; use --force to replace it, or --name NAME for another account",
                    l->token_path);
        return false;
    }
    return true;
}

static const char *login_secret_word(const struct login *l)
{
    if (strcmp(l->network, "mastodon") == 0)
        return "access token";
    if (strcmp(l->network, "bluesky") == 0)
        return "app password";
    return "token";
}

/* Step 2: what will be written where, before anything is asked. */
static void login_show_plan(const struct login *l)
{
    printf("heed login: %s account \"%s\" on %s\n", l->network, l->name, l->server);
    printf("Once the %s works, heed writes:\n", strcmp(l->network, "mastodon") == 0 ? "sign-in" : "secret");
    if (l->a->keyring)
        printf("  - the %s to the desktop keyring (secret-tool: service heed account %s)\n", login_secret_word(l),
               l->name);
    else
        printf("  - the %s to %s (mode 0600)%s\n", login_secret_word(l), l->token_path,
               l->secret_tool && l->interactive ? ", or to the desktop keyring if you choose" : "");
    if (strcmp(l->network, "bluesky") == 0) {
        g_autofree char *db = store_default_path();
        printf("  - the session to %s, so heedd need not sign in again\n", db);
    }
    printf("  - [%s] to %s (%s)\n", l->group, l->config_path,
           conffile_has_group(l->cf, l->group) ? "replacing its sign-in keys; other keys and comments stay"
                                               : "comments and other groups stay as they are");
    printf("\n");
}

/* Form encoding for application/x-www-form-urlencoded bodies and queries. */
static void login_form_add(GString *s, const char *key, const char *value)
{
    if (s->len)
        g_string_append_c(s, '&');
    g_autofree char *k = g_uri_escape_string(key, NULL, FALSE);
    g_autofree char *v = g_uri_escape_string(value, NULL, FALSE);
    g_string_append_printf(s, "%s=%s", k, v);
    explicit_bzero(v, strlen(v));
}

static void login_wipe_gstring(GString *s)
{
    explicit_bzero(s->str, s->len);
    g_string_free(s, TRUE);
}

static char *login_base64url(const guchar *data, gsize len)
{
    char *b = g_base64_encode(data, len);
    for (char *p = b; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    char *eq = strchr(b, '=');
    if (eq)
        *eq = '\0';
    return b;
}

/* PKCE (RFC 7636): 32 bytes from the kernel's CSPRNG make a 43-character
 * verifier; GRand is a Mersenne twister and must not make secrets. */
static bool login_pkce(char **verifier, char **challenge)
{
    guchar raw[32];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        got += (size_t)n;
    }
    *verifier = login_base64url(raw, sizeof raw);
    explicit_bzero(raw, sizeof raw);
    guint8 digest[32];
    gsize dlen = sizeof digest;
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, (const guchar *)*verifier, (gssize)strlen(*verifier));
    g_checksum_get_digest(sum, digest, &dlen);
    g_checksum_free(sum);
    *challenge = login_base64url(digest, dlen);
    return true;
}

static bool login_has_scope(char **granted, const char *scope)
{
    /* "read" includes every "read:..." (network-apis.md §1.8). */
    for (char **g = granted; g && *g; g++)
        if (strcmp(*g, scope) == 0 || (g_str_has_prefix(scope, "read:") && strcmp(*g, "read") == 0))
            return true;
    return false;
}

/* A token heed will not keep is given back, so it does not linger on the
 * user's "authorised apps" page. Best effort. */
static void login_mastodon_revoke(struct login *l, const char *client_id, const char *client_secret,
                                  const char *token)
{
    GString *form = g_string_new(NULL);
    login_form_add(form, "client_id", client_id);
    login_form_add(form, "client_secret", client_secret);
    login_form_add(form, "token", token);
    g_autofree char *url = g_strconcat(l->server, "/oauth/revoke", NULL);
    const char *hdr[] = { "Content-Type: application/x-www-form-urlencoded", NULL };
    struct login_http r;
    login_https("POST", url, l->ca_file, hdr, form->str, &r);
    login_http_clear(&r);
    login_wipe_gstring(form);
}

static bool login_mastodon(struct login *l)
{
    const char *form_hdr[] = { "Content-Type: application/x-www-form-urlencoded", "Accept: application/json", NULL };
    /* 1. Register heed on the instance. */
    GString *form = g_string_new(NULL);
    login_form_add(form, "client_name", "heed");
    login_form_add(form, "redirect_uris", LOGIN_OOB);
    login_form_add(form, "scopes", LOGIN_MASTODON_SCOPES);
    g_autofree char *apps_url = g_strconcat(l->server, "/api/v1/apps", NULL);
    struct login_http r;
    login_https("POST", apps_url, l->ca_file, form_hdr, form->str, &r);
    g_string_free(form, TRUE);
    json_t *app = r.status == 200 ? login_http_json(&r) : NULL;
    const char *cid = login_json_str(app, "client_id");
    const char *csecret = login_json_str(app, "client_secret");
    if (!cid || !csecret || !*cid || !*csecret) {
        g_autofree char *why = r.status == 200 ? g_strdup("the answer has no client_id/client_secret")
                                               : login_http_problem(&r, NULL);
        if (r.status == 0)
            login_error("cannot reach %s (%s); nothing was written", l->server, why);
        else
            login_error("%s did not register heed (%s); is it a Mastodon server?", l->server, why);
        json_decref(app);
        login_http_clear(&r);
        return false;
    }
    g_autofree char *client_id = g_strdup(cid);
    char *client_secret = g_strdup(csecret);
    json_decref(app);
    login_http_clear(&r);

    /* 2. The user approves heed in the browser. */
    g_autofree char *verifier = NULL, *challenge = NULL;
    if (!login_pkce(&verifier, &challenge)) {
        login_error("cannot get random bytes for the sign-in (%s)", g_strerror(errno));
        secret_free(client_secret);
        return false;
    }
    GString *q = g_string_new(NULL);
    login_form_add(q, "response_type", "code");
    login_form_add(q, "client_id", client_id);
    login_form_add(q, "redirect_uri", LOGIN_OOB);
    login_form_add(q, "scope", LOGIN_MASTODON_SCOPES);
    login_form_add(q, "code_challenge", challenge);
    login_form_add(q, "code_challenge_method", "S256");
    g_autofree char *authorize = g_strdup_printf("%s/oauth/authorize?%s", l->server, q->str);
    g_string_free(q, TRUE);
    printf("Open this page, sign in if asked, and authorise heed (it asks only to read):\n\n  %s\n\n"
           "The page then shows an authorisation code; paste it here.\n",
           authorize);
    fflush(stdout);
    if (!l->a->no_browser)
        login_open_browser(authorize, l->allowed_host);
    char *code = login_ask(l->interactive, "Authorisation code: ", false);
    if (!code) {
        secret_free(client_secret);
        return false;
    }

    /* 3. The code for a token. */
    form = g_string_new(NULL);
    login_form_add(form, "grant_type", "authorization_code");
    login_form_add(form, "code", code);
    login_form_add(form, "client_id", client_id);
    login_form_add(form, "client_secret", client_secret);
    login_form_add(form, "redirect_uri", LOGIN_OOB);
    login_form_add(form, "code_verifier", verifier);
    login_form_add(form, "scope", LOGIN_MASTODON_SCOPES);
    g_autofree char *token_url = g_strconcat(l->server, "/oauth/token", NULL);
    login_https("POST", token_url, l->ca_file, form_hdr, form->str, &r);
    login_wipe_gstring(form);
    json_t *tok = r.status == 200 ? login_http_json(&r) : NULL;
    const char *access = login_json_str(tok, "access_token");
    if (!access || !*access) {
        g_autofree char *why = r.status == 200 ? g_strdup("the answer has no access_token")
                                               : login_http_problem(&r, code);
        if (r.status == 0)
            login_error("could not hand in the code (%s); run heed login again. Nothing was written.", why);
        else
            login_error("%s refused the code (%s). A code works once and only for a few minutes: run heed login "
                        "again. Nothing was written.",
                        l->server, why);
        json_decref(tok);
        login_http_clear(&r);
        secret_free(code);
        secret_free(client_secret);
        return false;
    }
    secret_free(code);
    l->secret = g_strdup(access);
    /* No scope in the answer means the scope asked for (RFC 6749 §5.1). */
    g_autofree char *scope = g_strdup(login_json_str(tok, "scope"));
    g_auto(GStrv) granted = g_strsplit_set(scope ? scope : LOGIN_MASTODON_SCOPES, " +", -1);
    json_decref(tok);
    login_http_clear(&r);

    if (!login_has_scope(granted, "read:notifications")) {
        g_autofree char *shown = cli_clean(scope);
        login_error("%s granted only \"%s\", without read:notifications, which heed needs to see your mentions; "
                    "the token was given back and nothing was written",
                    l->server, shown);
        login_mastodon_revoke(l, client_id, client_secret, l->secret);
        secret_free(client_secret);
        return false;
    }
    static const char *const wanted[] = { "read:statuses", "read:accounts", "read:follows" };
    for (size_t i = 0; i < G_N_ELEMENTS(wanted); i++)
        if (!login_has_scope(granted, wanted[i]))
            login_error("warning: %s was not granted; %s", wanted[i],
                        strcmp(wanted[i], "read:follows") == 0 ? "heed cannot tell who you follow"
                                                               : "some of heed's features will not work");
    for (char **g = granted; *g; g++)
        if (g_str_has_prefix(*g, "write") || strcmp(*g, "follow") == 0 || strcmp(*g, "push") == 0) {
            g_autofree char *shown = cli_clean(*g);
            login_error("warning: the token also carries \"%s\", which heed never uses", shown);
        }

    /* 4. Prove the token. */
    g_autofree char *auth = g_strdup_printf("Authorization: Bearer %s", l->secret);
    const char *hdr[] = { auth, "Accept: application/json", NULL };
    g_autofree char *me_url = g_strconcat(l->server, "/api/v1/accounts/verify_credentials", NULL);
    login_https("GET", me_url, l->ca_file, hdr, NULL, &r);
    explicit_bzero(auth, strlen(auth));
    json_t *me = r.status == 200 ? login_http_json(&r) : NULL;
    const char *acct = login_json_str(me, "acct");
    if (!me) {
        g_autofree char *why = login_http_problem(&r, l->secret);
        login_error("the new token does not work (%s); nothing was written", why);
        login_http_clear(&r);
        login_mastodon_revoke(l, client_id, client_secret, l->secret);
        secret_free(client_secret);
        return false;
    }
    g_autofree char *acct_clean = cli_clean(acct ? acct : "?");
    l->who = g_strdup_printf("@%s on %s", acct_clean, l->allowed_host);
    json_decref(me);
    login_http_clear(&r);
    secret_free(client_secret);
    return true;
}

/* The "scope" claim of a JWT's payload, or NULL. The signature is not
 * checked: this only asks what the server said it issued. */
static char *login_jwt_scope(const char *jwt)
{
    g_auto(GStrv) parts = g_strsplit(jwt, ".", 3);
    if (g_strv_length(parts) < 2)
        return NULL;
    GString *b = g_string_new(parts[1]);
    for (gsize i = 0; i < b->len; i++) {
        if (b->str[i] == '-')
            b->str[i] = '+';
        else if (b->str[i] == '_')
            b->str[i] = '/';
    }
    while (b->len % 4)
        g_string_append_c(b, '=');
    gsize len = 0;
    guchar *raw = g_base64_decode(b->str, &len);
    g_string_free(b, TRUE);
    json_t *payload = raw ? json_loadb((const char *)raw, len, 0, NULL) : NULL;
    char *scope = g_strdup(login_json_str(payload, "scope"));
    json_decref(payload);
    g_free(raw);
    return scope;
}

static bool login_app_password_shaped(const char *s)
{
    /* xxxx-xxxx-xxxx-xxxx (network-apis.md §2.1). */
    if (strlen(s) != 19)
        return false;
    for (int i = 0; i < 19; i++)
        if (i % 5 == 4 ? s[i] != '-' : !g_ascii_isalnum(s[i]))
            return false;
    return true;
}

static bool login_bluesky(struct login *l)
{
    printf("heed signs in to Bluesky with an app password, never with your main password.\n"
           "Make one in the Bluesky app: Settings > Privacy and security > App passwords\n"
           "(https://bsky.app/settings/app-passwords). Name it \"heed\", leave access to\n"
           "direct messages off, and paste the password it shows (xxxx-xxxx-xxxx-xxxx).\n\n");
    g_autofree char *prompt = g_strdup_printf("App password for %s: ", l->identifier);
    char *pw = login_ask(l->interactive, prompt, true);
    if (!pw)
        return false;
    if (!login_app_password_shaped(pw)) {
        login_error("that is not an app password (they look like xxxx-xxxx-xxxx-xxxx); heed does not sign in with "
                    "your main password. Nothing was sent.");
        secret_free(pw);
        return false;
    }
    json_t *req = json_pack("{s:s, s:s}", "identifier", l->identifier, "password", pw);
    char *body = json_dumps(req, JSON_COMPACT);
    explicit_bzero((char *)json_string_value(json_object_get(req, "password")), strlen(pw));
    json_decref(req);
    g_autofree char *url = g_strconcat(l->server, "/xrpc/com.atproto.server.createSession", NULL);
    const char *hdr[] = { "Content-Type: application/json", "Accept: application/json", NULL };
    struct login_http r;
    login_https("POST", url, l->ca_file, hdr, body, &r);
    explicit_bzero(body, strlen(body));
    free(body);
    json_t *s = r.status == 200 ? login_http_json(&r) : NULL;
    const char *did = login_json_str(s, "did"), *access = login_json_str(s, "accessJwt");
    const char *refresh = login_json_str(s, "refreshJwt");
    if (!did || !access || !refresh) {
        g_autofree char *why = r.status == 200 ? g_strdup("the answer has no session") : login_http_problem(&r, pw);
        if (r.status == 0)
            login_error("could not check the app password (%s); nothing was written", why);
        else
            login_error("%s refused %s with that app password (%s); nothing was written", l->server, l->identifier,
                        why);
        json_decref(s);
        login_http_clear(&r);
        secret_free(pw);
        return false;
    }
    /* The reference PDS marks a main-password session com.atproto.access
     * and an app-password one com.atproto.appPass: a last guard against
     * storing the main password. */
    g_autofree char *scope = login_jwt_scope(access);
    if (g_strcmp0(scope, "com.atproto.access") == 0) {
        login_error("%s says this is your main password, not an app password; make an app password and run heed "
                    "login again. Nothing was written.",
                    l->server);
        json_decref(s);
        login_http_clear(&r);
        secret_free(pw);
        return false;
    }
    const char *handle = login_json_str(s, "handle");
    g_autofree char *h = cli_clean(handle ? handle : l->identifier);
    g_autofree char *d = cli_clean(did);
    l->who = g_strdup_printf("@%s (%s)", h, d);
    l->session = json_pack("{s:s, s:s, s:s, s:s}", "did", did, "handle", handle ? handle : l->identifier, "accessJwt",
                           access, "refreshJwt", refresh);
    json_decref(s);
    login_http_clear(&r);
    l->secret = pw;
    return true;
}

static bool login_token_plausible(const char *t)
{
    for (const char *p = t; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return false;
    return true;
}

static bool login_github(struct login *l)
{
    g_autofree char *web = NULL;
    if (!l->server_explicit) {
        web = g_strdup("https://github.com");
    } else {
        /* GitHub Enterprise: the web pages are on the API's host. */
        g_autofree char *host = url_host(l->server);
        web = g_strdup_printf("https://%s", l->allowed_host ? l->allowed_host : host);
    }
    printf("heed reads GitHub notifications with a classic personal access token (fine-grained\n"
           "tokens cannot read notifications). Create one at\n\n"
           "  %s/settings/tokens/new?scopes=notifications&description=heed\n\n"
           "with only the \"notifications\" scope (add \"repo\" only if you want links into\n"
           "private repositories), then paste it here.\n\n",
           web);
    char *tok = login_ask(l->interactive, "Token: ", true);
    if (!tok)
        return false;
    if (!login_token_plausible(tok)) {
        login_error("that is not a token (it has spaces or unusual characters); nothing was sent");
        secret_free(tok);
        return false;
    }
    g_autofree char *auth = g_strdup_printf("Authorization: Bearer %s", tok);
    const char *hdr[] = { auth, "Accept: application/vnd.github+json", "X-GitHub-Api-Version: 2022-11-28", NULL };
    g_autofree char *url = g_strconcat(l->server, "/notifications?per_page=1", NULL);
    struct login_http r;
    login_https("GET", url, l->ca_file, hdr, NULL, &r);
    explicit_bzero(auth, strlen(auth));
    if (r.status != 200) {
        g_autofree char *why = login_http_problem(&r, tok);
        if (r.status == 0)
            login_error("could not check the token (%s); nothing was written", why);
        else
            login_error("%s refused the token (%s)%s; nothing was written", l->server, why,
                        r.status == 403 ? "; a fine-grained token cannot read notifications: create a classic one"
                                        : "");
        login_http_clear(&r);
        secret_free(tok);
        return false;
    }
    /* Classic tokens list their scopes; notifications or repo is needed. */
    const char *scopes = g_hash_table_lookup(r.headers, "x-oauth-scopes");
    if (scopes) {
        g_auto(GStrv) list = g_strsplit_set(scopes, ", ", -1);
        if (!g_strv_contains((const char *const *)list, "notifications") &&
            !g_strv_contains((const char *const *)list, "repo")) {
            g_autofree char *shown = cli_clean(scopes);
            login_error("the token has the scopes \"%s\" but not notifications; create one with the notifications "
                        "scope. Nothing was written.",
                        shown);
            login_http_clear(&r);
            secret_free(tok);
            return false;
        }
    }
    l->who = g_strdup("a token that can read your notifications");
    login_http_clear(&r);
    l->secret = tok;
    return true;
}

static bool login_x(struct login *l)
{
    printf("heed reads your X mentions with an OAuth 2.0 user access token with the scopes\n"
           "tweet.read and users.read (an app-only Bearer Token cannot tell heed who you are).\n"
           "Make one for your app in the X developer portal\n"
           "(https://developer.x.com/en/portal/dashboard: User authentication settings,\n"
           "OAuth 2.0), and paste it here. Such tokens last 2 hours unless refreshed; a\n"
           "token_command in heed.conf can name a helper that prints a fresh one.\n\n");
    char *tok = login_ask(l->interactive, "Token: ", true);
    if (!tok)
        return false;
    if (!login_token_plausible(tok)) {
        login_error("that is not a token (it has spaces or unusual characters); nothing was sent");
        secret_free(tok);
        return false;
    }
    g_autofree char *auth = g_strdup_printf("Authorization: Bearer %s", tok);
    const char *hdr[] = { auth, NULL };
    g_autofree char *url = g_strconcat(l->server, "/2/users/me", NULL);
    struct login_http r;
    login_https("GET", url, l->ca_file, hdr, NULL, &r);
    explicit_bzero(auth, strlen(auth));
    json_t *me = r.status == 200 ? login_http_json(&r) : NULL;
    const char *username = login_json_str(json_object_get(me, "data"), "username");
    if (!username) {
        g_autofree char *why = r.status == 200 ? g_strdup("the answer names no user") : login_http_problem(&r, tok);
        if (r.status == 0)
            login_error("could not check the token (%s); nothing was written", why);
        else
            login_error("%s refused the token (%s)%s; nothing was written", l->server, why,
                        r.status == 403 ? "; heed needs a user-context token, not an app-only one" : "");
        json_decref(me);
        login_http_clear(&r);
        secret_free(tok);
        return false;
    }
    g_autofree char *u = cli_clean(username);
    l->who = g_strdup_printf("@%s", u);
    json_decref(me);
    login_http_clear(&r);
    l->secret = tok;
    return true;
}

/* ---- writing ---------------------------------------------------------------- */

/* secret-tool store ... with the secret on its standard input (never on
 * its command line, where ps would show it). */
static bool login_keyring_store(const struct login *l)
{
    g_autofree char *label = g_strdup_printf("--label=heed: %s (%s)", l->name, l->network);
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

/* The session createSession just made, for heedd to reuse instead of
 * signing in again (createSession is limited to about 100 a day). */
static void login_save_session(const struct login *l)
{
    g_autofree char *path = store_default_path();
    GError *err = NULL;
    struct store *st = store_open(path, &err);
    if (!st) {
        login_error("warning: the session was not kept (%s); heedd will sign in itself", err->message);
        g_error_free(err);
        return;
    }
    g_autofree char *old = store_account_state(st, l->name, NULL);
    json_t *state = old ? json_loads(old, 0, NULL) : NULL;
    if (old)
        explicit_bzero(old, strlen(old));
    /* Progress made for another account under this name is not ours. */
    if (!json_is_object(state) ||
        g_strcmp0(login_json_str(state, "did"), login_json_str(l->session, "did")) != 0) {
        json_decref(state);
        state = json_object();
    }
    json_object_update(state, l->session);
    json_object_set_new(state, "login_identifier", json_string(l->identifier));
    json_object_set_new(state, "login_server", json_string(l->server));
    char *js = json_dumps(state, JSON_COMPACT);
    if (!store_set_account_state(st, l->name, "bluesky", js, &err)) {
        login_error("warning: the session was not kept (%s); heedd will sign in itself", err->message);
        g_clear_error(&err);
    }
    explicit_bzero(js, strlen(js));
    free(js);
    json_decref(state);
    store_close(st);
}

static bool login_heedd_running(void)
{
    g_autofree char *path = control_default_path(NULL);
    if (!path)
        return false;
    json_t *res = control_call(path, "status", NULL, 3000, NULL);
    json_decref(res);
    return res != NULL;
}

/* Step 4: secret first, then the config. */
static bool login_write(struct login *l)
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
    g_autofree char *comment = g_strdup_printf("Added by heed login %s on %s.", l->network, today);
    g_autofree char *command = g_strdup_printf("secret-tool lookup service heed account %s", l->name);
    bool ok = conffile_set(l->cf, l->group, "network", l->network, comment, &err);
    if (ok && l->server_explicit)
        ok = conffile_set(l->cf, l->group, "server", l->server, NULL, &err);
    else
        conffile_unset(l->cf, l->group, "server");
    if (ok && l->identifier)
        ok = conffile_set(l->cf, l->group, "identifier", l->identifier, NULL, &err);
    else
        conffile_unset(l->cf, l->group, "identifier");
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
    if (l->session)
        login_save_session(l);
    return true;
}

static void login_show_result(const struct login *l)
{
    printf("\nSigned in: %s.\nWrote:\n", l->who ? l->who : l->name);
    if (l->keyring)
        printf("  - the %s to the desktop keyring (service heed account %s)\n", login_secret_word(l), l->name);
    else
        printf("  - the %s to %s (mode 0600)\n", login_secret_word(l), l->token_path);
    printf("  - [%s] to %s\n", l->group, l->config_path);

    /* What heed will make of it: the same check heedd does at start. */
    GError *err = NULL;
    struct config *cfg = config_load(l->config_path, true, &err);
    if (!cfg) {
        login_error("warning: heed.conf does not load now: %s", err->message);
        g_error_free(err);
    } else {
        for (guint i = 0; i < cfg->problems->len; i++) {
            g_autofree char *p = cli_clean(g_ptr_array_index(cfg->problems, i));
            login_error("warning: %s", p);
        }
        config_free(cfg);
    }
    if (login_heedd_running())
        printf("\nheedd is running; make it read the new account with:\n  systemctl --user reload heed\n"
               "(or heed reload when heedd was not started by systemd)\n");
    else
        printf("\nNext, start heed and have it start with your session:\n  systemctl --user enable --now heed\n"
               "(see README: Run it as a service; heed doctor checks the whole set-up)\n");
}

int login_main(const struct cli_args *a)
{
    struct login l = { 0 };
    l.a = a;
    l.network = a->network;
    l.interactive = isatty(STDIN_FILENO) == 1;
    int rc = CLI_EXIT_ERROR;
    if (!login_prepare(&l))
        goto out;
    login_show_plan(&l);
    fflush(stdout);

    bool ok;
    if (strcmp(l.network, "mastodon") == 0)
        ok = login_mastodon(&l);
    else if (strcmp(l.network, "bluesky") == 0)
        ok = login_bluesky(&l);
    else if (strcmp(l.network, "github") == 0)
        ok = login_github(&l);
    else
        ok = login_x(&l);
    if (!ok)
        goto out;

    l.keyring = a->keyring;
    if (!l.keyring && l.secret_tool && l.interactive)
        l.keyring = login_ask_yes("Keep it in your desktop keyring instead of a file? [y/N] ");
    if (!login_write(&l))
        goto out;
    login_show_result(&l);
    rc = CLI_EXIT_OK;
out:
    login_free(&l);
    return rc;
}
