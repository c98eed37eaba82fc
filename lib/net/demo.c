/* SPDX-License-Identifier: MIT */
/* net/demo: replays the bundled sample of mentions (data/demo/mentions.json).
 *
 * The sample is a JSON array of mentions as they would arrive from several
 * networks ({"network", "handle", "name", "text", "url", "kind",
 * "minutes_ago", "mentions", "bot", "follows_me", "i_follow", "context"}).
 * Each poll releases the next two, so the demo shows the pipeline working
 * over time rather than all at once. State: {"next": index}. The engine
 * serves the file:// request from disk; this driver stays pure.
 */
#include <string.h>

#include "net/net.h"
#include "text.h"

#define DEMO_PER_POLL 2

/* "avatar": a picture in avatars/ beside the sample (a bare file name). */
static void demo_avatar(const struct net_account *acct, json_t *o, struct mention *m)
{
    const char *file = json_string_value(json_object_get(o, "avatar"));
    if (!file || !*file || strchr(file, '/') || file[0] == '.' || !g_str_has_prefix(acct->server, "file://"))
        return;
    g_autofree char *dir = g_path_get_dirname(acct->server + strlen("file://"));
    m->avatar_url = g_strconcat("file://", dir, "/avatars/", file, NULL);
}

static struct wire_request *demo_begin(const struct net_account *acct, json_t *state, char **error)
{
    (void)state;
    (void)error;
    return wire_request_new("GET", g_strdup(acct->server), 0);
}

static enum mention_tri demo_tri(json_t *v)
{
    return json_is_boolean(v) ? (json_is_true(v) ? MENTION_YES : MENTION_NO) : MENTION_UNKNOWN;
}

static void demo_handle(const struct net_account *acct, json_t *state, const struct wire_request *req,
                        const struct wire_response *resp, struct net_result *out)
{
    (void)req;
    g_autoptr(json_t) root = net_parse_json(resp, out, "demo sample");
    if (!root)
        return;
    if (!json_is_array(root)) {
        net_result_fail(out, NET_FATAL, "demo sample: expected a JSON array");
        return;
    }
    size_t next = (size_t)json_integer_value(json_object_get(state, "next"));
    for (size_t i = next; i < json_array_size(root) && i < next + DEMO_PER_POLL; i++) {
        json_t *o = json_array_get(root, i);
        struct mention *m = mention_new();
        m->account = g_strdup(acct->name);
        m->network = net_json_strdup(o, "network");
        if (!m->network)
            m->network = g_strdup("demo");
        m->remote_id = g_strdup_printf("demo-%zu", i);
        m->author_handle = net_json_strdup(o, "handle");
        m->author_id = g_strdup(m->author_handle);
        const char *name = json_string_value(json_object_get(o, "name"));
        m->author_name = text_sanitize(name ? name : "Someone", false);
        const char *text = json_string_value(json_object_get(o, "text"));
        m->text = text_sanitize(text ? text : "", true);
        m->url = net_json_strdup(o, "url");
        m->context = net_json_strdup(o, "context");
        m->kind = mention_kind_from_name(json_string_value(json_object_get(o, "kind")));
        m->created_at = acct->now - 60 * json_integer_value(json_object_get(o, "minutes_ago"));
        json_int_t n = json_integer_value(json_object_get(o, "mentions"));
        m->mention_count = n > 0 ? (int)n : 1;
        m->author_bot = demo_tri(json_object_get(o, "bot"));
        m->follows_me = demo_tri(json_object_get(o, "follows_me"));
        m->i_follow = demo_tri(json_object_get(o, "i_follow"));
        demo_avatar(acct, o, m);
        g_ptr_array_add(out->mentions, m);
    }
    size_t taken = out->mentions->len;
    json_object_set_new(state, "next", json_integer((json_int_t)(next + taken)));
    out->state_changed = taken > 0;
}

const struct net_driver net_demo_driver = {
    .name = "demo",
    .default_server = NULL,
    .web_host = NULL,
    .needs_secret = false,
    .begin = demo_begin,
    .handle = demo_handle,
    .title = "the demo",
};
