/* SPDX-License-Identifier: MIT */
/* fuzz_net: one network driver's response parser, through the generic
 * driver contract only (net_driver_find -> begin/history_begin -> handle),
 * so it works whatever the driver's internals are. Built once per network
 * with -DFUZZ_NETWORK="name" (targets fuzz_mastodon, fuzz_bluesky,
 * fuzz_github, fuzz_x).
 *
 * Input layout:
 *   byte 0  request and status:
 *           bits 0-2  step tag of a synthetic request (0..7; drivers use
 *                     1..4, bluesky adds flags above bit 8: see "@step")
 *           bits 3-4  request: 1 = the one begin() builds from the state,
 *                     2 = the one history_begin() builds (synthetic when it
 *                     has none), 0/3 = synthetic with the step above
 *           bits 5-7  HTTP status: 200 (0-2), 304, 400, 401, 403, 429
 *   byte 1  state and environment presets:
 *           bit 0  "initialized": true
 *           bit 1  identity and session known ("me", "did", "handle",
 *                  "accessJwt", "refreshJwt", ...)
 *           bit 2  cursors set ("since_id", "newest", "last_modified",
 *                  "seen_until", ...)
 *           bit 3  a chain in flight ("poll_pages", "poll_newest",
 *                  "poll_cursor", "history_pages", ...)
 *           bit 4  response headers: a same-origin Link rel="next",
 *                  rate-limit headers, Last-Modified, Retry-After, Date
 *           bit 5  other account: catchup_max_pages 1, a server with a
 *                  port and a path, participating off, custom reasons
 *           bit 6  follow result.next: handle up to 3 more steps with the
 *                  same body (the multi-page state machine)
 *           bit 7  the rest is PREFIX NUL BODY: PREFIX is a JSON object
 *                  merged into the state, except for three members that
 *                  set the exchange instead: "@headers" (an object of
 *                  strings: response headers), "@status" (an integer: the
 *                  HTTP status) and "@step" (an integer: the synthetic
 *                  request's step tag)
 *   rest    the response body (not NUL-terminated, exactly body_len bytes)
 *
 * After every step the result is checked against the contract and every
 * string in it is read (so ASan sees dangling pointers), the state is
 * serialised, and begin()/history_begin() are run on the new state as the
 * next poll would.
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <sanitizer/common_interface_defs.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "net/net.h"

#ifndef FUZZ_NETWORK
#error "define FUZZ_NETWORK"
#endif

#define FUZZ_NOW 1700000000

/* Not assert(): it must hold in every build type, and the message must
 * reach libFuzzer's output even when the target's stderr is closed
 * (-close_fd_mask=2): the sanitizer report fd is libFuzzer's. */
#define CHECK(c)                                                                                  \
    do {                                                                                          \
        if (!(c)) {                                                                               \
            __sanitizer_report_error_summary("fuzz_net(" FUZZ_NETWORK "): check failed: " #c);   \
            abort();                                                                              \
        }                                                                                         \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const struct net_driver *drv;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Debug level: every log line's arguments get formatted (scripts/fuzz
     * passes -close_fd_mask=2 so they cost little). */
    log_setup("fuzz", LOG_LVL_DEBUG);
    drv = net_driver_find(FUZZ_NETWORK);
    if (!drv)
        abort();
    return 0;
}

static void touch(const char *s)
{
    if (s) {
        volatile size_t n = strlen(s);
        (void)n;
    }
}

static void check_request(const struct wire_request *req)
{
    if (!req)
        return;
    CHECK(req->method && req->url);
    touch(req->method);
    touch(req->url);
    /* A request carries the user's token: it must go over https. */
    CHECK(strncmp(req->url, "https://", 8) == 0);
    for (guint i = 0; req->headers && i < req->headers->len; i++) {
        const char *h = g_ptr_array_index(req->headers, i);
        /* No header smuggling: one header line each, no CR/LF. */
        CHECK(!strchr(h, '\r') && !strchr(h, '\n'));
    }
    touch(req->body);
    touch(req->content_type);
}

static void check_result(const struct net_result *out)
{
    CHECK(out->outcome >= NET_OK && out->outcome <= NET_FATAL);
    CHECK(out->mentions && out->replies);
    for (guint i = 0; i < out->mentions->len; i++) {
        const struct mention *m = g_ptr_array_index(out->mentions, i);
        CHECK(m);
        touch(m->account);
        touch(m->network);
        touch(m->remote_id);
        touch(m->post_id);
        touch(m->author_id);
        touch(m->author_handle);
        touch(m->author_name);
        touch(m->context);
        touch(m->url);
        touch(m->thread_id);
        CHECK(m->kind >= 0 && m->kind < MENTION_KIND__COUNT);
        /* mention.h: text is plain, sanitised UTF-8. */
        if (m->text)
            CHECK(g_utf8_validate(m->text, -1, NULL));
        if (m->author_name)
            CHECK(g_utf8_validate(m->author_name, -1, NULL));
    }
    for (guint i = 0; i < out->replies->len; i++) {
        const struct net_reply *r = g_ptr_array_index(out->replies, i);
        CHECK(r);
        touch(r->remote_id);
        touch(r->to_author_id);
        touch(r->to_post_id);
    }
    check_request(out->next);
    touch(out->error);
    touch(out->notice);
}

static void add_preset_state(json_t *state, unsigned flags, const struct net_account *acct)
{
    if (flags & 0x01)
        json_object_set_new(state, "initialized", json_true());
    if (flags & 0x02) {
        json_object_set_new(state, "me", json_string("1000"));
        json_object_set_new(state, "me_username", json_string("me"));
        json_object_set_new(state, "did", json_string("did:plc:fuzzme"));
        json_object_set_new(state, "handle", json_string("me.bsky.social"));
        json_object_set_new(state, "accessJwt", json_string("access.jwt"));
        json_object_set_new(state, "refreshJwt", json_string("refresh.jwt"));
        json_object_set_new(state, "login_identifier", json_string(acct->identifier));
        json_object_set_new(state, "login_server", json_string(acct->server));
    }
    if (flags & 0x04) {
        json_object_set_new(state, "since_id", json_string("100"));
        json_object_set_new(state, "history_since", json_string("100"));
        json_object_set_new(state, "newest", json_integer(FUZZ_NOW - 86400));
        json_object_set_new(state, "last_modified", json_string("Tue, 14 Nov 2023 22:13:20 GMT"));
        json_object_set_new(state, "seen_at", json_string("2023-11-14T22:13:20.000Z"));
        json_object_set_new(state, "seen_until", json_string("2023-11-14T22:13:20.000Z"));
        json_object_set_new(state, "history_seen", json_string("2023-11-14T22:13:20.000Z"));
    }
    if (flags & 0x08) {
        json_object_set_new(state, "poll_pages", json_integer(2));
        json_object_set_new(state, "poll_fresh", json_integer(790));
        json_object_set_new(state, "poll_last_modified", json_string("Tue, 14 Nov 2023 22:13:20 GMT"));
        json_object_set_new(state, "poll_cursor", json_string("1699999000000::bafy"));
        json_object_set_new(state, "history_pages", json_integer(1));
        json_object_set_new(state, "history_cursor", json_string("2023-11-14T22:00:00.000Z"));
        json_object_set_new(state, "history_newest", json_string("2023-11-14T22:10:00.000Z"));
        /* Drivers disagree on its type; offer both. */
        if (flags & 0x04)
            json_object_set_new(state, "poll_newest", json_integer(FUZZ_NOW - 3600));
        else
            json_object_set_new(state, "poll_newest", json_string("150"));
    }
}

static void add_preset_headers(GHashTable *headers, const char *server)
{
    g_hash_table_insert(headers, g_strdup("link"),
                        g_strdup_printf("<%s/page?max_id=1&page=2>; rel=\"next\", <%s/page?min_id=9>; rel=\"prev\"",
                                        server, server));
    g_hash_table_insert(headers, g_strdup("x-ratelimit-remaining"), g_strdup("0"));
    g_hash_table_insert(headers, g_strdup("x-ratelimit-reset"), g_strdup("1700000060"));
    g_hash_table_insert(headers, g_strdup("x-rate-limit-remaining"), g_strdup("0"));
    g_hash_table_insert(headers, g_strdup("x-rate-limit-reset"), g_strdup("1700000060"));
    g_hash_table_insert(headers, g_strdup("ratelimit-remaining"), g_strdup("0"));
    g_hash_table_insert(headers, g_strdup("ratelimit-reset"), g_strdup("1700000060"));
    g_hash_table_insert(headers, g_strdup("retry-after"), g_strdup("30"));
    g_hash_table_insert(headers, g_strdup("x-poll-interval"), g_strdup("60"));
    g_hash_table_insert(headers, g_strdup("last-modified"), g_strdup("Tue, 14 Nov 2023 22:13:20 GMT"));
    g_hash_table_insert(headers, g_strdup("date"), g_strdup("Tue, 14 Nov 2023 22:13:20 GMT"));
}

/* PREFIX (a JSON object) into state, headers, status and step; anything
 * else is ignored. */
static void apply_prefix(const uint8_t *p, size_t n, json_t *state, GHashTable *headers, long *status, int *step)
{
    g_autoptr(json_t) obj = json_loadb((const char *)p, n, JSON_DECODE_ANY, NULL);
    if (!json_is_object(obj))
        return;
    json_t *h = json_object_get(obj, "@headers");
    if (json_is_object(h)) {
        const char *k;
        json_t *v;
        json_object_foreach(h, k, v) {
            if (json_is_string(v))
                g_hash_table_insert(headers, g_ascii_strdown(k, -1), g_strdup(json_string_value(v)));
        }
    }
    json_t *st = json_object_get(obj, "@status");
    if (json_is_integer(st) && json_integer_value(st) >= 0 && json_integer_value(st) < 1000)
        *status = (long)json_integer_value(st);
    json_t *sp = json_object_get(obj, "@step");
    if (json_is_integer(sp) && json_integer_value(sp) >= INT_MIN && json_integer_value(sp) <= INT_MAX)
        *step = (int)json_integer_value(sp);
    json_object_del(obj, "@headers");
    json_object_del(obj, "@status");
    json_object_del(obj, "@step");
    json_object_update(state, obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const long statuses[8] = { 200, 200, 200, 304, 400, 401, 403, 429 };
    unsigned mode = data[0], flags = data[1];
    const uint8_t *body = data + 2;
    size_t body_len = size - 2;

    bool alt = flags & 0x20;
    const char *server = alt ? "https://127.0.0.1:8443/api/v3"
                             : (drv->default_server ? drv->default_server : "https://social.example");
    static const char *const alt_reasons[] = { "mention", "comment", "author", NULL };
    struct net_account acct = {
        .name = "fuzz",
        .network = drv->name,
        .server = server,
        .identifier = "me.bsky.social",
        .secret = "fuzz-secret",
        .reasons = alt ? alt_reasons : NULL,
        .participating = !alt,
        .catchup_max_pages = alt ? 1 : 10,
        .now = FUZZ_NOW,
    };

    json_t *state = json_object();
    GHashTable *headers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    long status = statuses[mode >> 5];
    int step = (int)(mode & 7);
    add_preset_state(state, flags, &acct);
    if (flags & 0x10)
        add_preset_headers(headers, server);
    if (flags & 0x80) {
        const uint8_t *nul = memchr(body, 0, body_len);
        if (nul) {
            apply_prefix(body, (size_t)(nul - body), state, headers, &status, &step);
            body_len -= (size_t)(nul - body) + 1;
            body = nul + 1;
        }
    }
    /* The body in a buffer of exactly body_len bytes: reading past it is a bug. */
    char *buf = g_malloc(body_len ? body_len : 1);
    if (body_len)
        memcpy(buf, body, body_len);
    struct wire_response resp = {
        .status = status,
        .body = buf,
        .body_len = body_len,
        .headers = headers,
    };

    struct wire_request *req = NULL;
    char *err = NULL;
    unsigned source = (mode >> 3) & 3;
    if (source == 1 && drv->begin)
        req = drv->begin(&acct, state, &err);
    else if (source == 2 && drv->history_begin)
        req = drv->history_begin(&acct, state, &err);
    check_request(req);
    g_free(err);
    err = NULL;
    if (!req)
        req = wire_request_new("GET", g_strdup_printf("%s/fuzz", server), step);

    int steps = flags & 0x40 ? 4 : 1;
    for (int i = 0; i < steps && req; i++) {
        struct net_result out;
        net_result_init(&out);
        drv->handle(&acct, state, req, &resp, &out);
        check_result(&out);
        wire_request_free(req);
        req = out.next;
        out.next = NULL;
        net_result_clear(&out);
    }
    wire_request_free(req);

    /* The state is persisted as JSON, and the next poll starts from it. */
    char *dump = json_dumps(state, JSON_COMPACT);
    CHECK(dump);
    free(dump);
    if (drv->begin) {
        req = drv->begin(&acct, state, &err);
        check_request(req);
        wire_request_free(req);
        g_free(err);
        err = NULL;
    }
    if (drv->history_begin) {
        req = drv->history_begin(&acct, state, &err);
        check_request(req);
        wire_request_free(req);
        g_free(err);
    }

    g_free(buf);
    g_hash_table_unref(headers);
    json_decref(state);
    return 0;
}
