/* SPDX-License-Identifier: MIT */
/* mention: see mention.h. */
#include "mention.h"

#include <string.h>

static const char *const mention_kind_names[MENTION_KIND__COUNT] = {
    [MENTION_KIND_MENTION] = "mention", [MENTION_KIND_REPLY] = "reply",
    [MENTION_KIND_QUOTE] = "quote",     [MENTION_KIND_DIRECT] = "direct",
    [MENTION_KIND_REVIEW] = "review",   [MENTION_KIND_ASSIGN] = "assign",
    [MENTION_KIND_TEAM] = "team",
};

static const char *const mention_state_names[] = {
    [MENTION_WAITING] = "waiting", [MENTION_SNOOZED] = "snoozed",
    [MENTION_DONE] = "done",       [MENTION_REPLIED] = "replied",
};

struct mention *mention_new(void)
{
    struct mention *m = g_new0(struct mention, 1);
    m->mention_count = 1;
    m->author_bot = m->follows_me = m->i_follow = MENTION_UNKNOWN;
    return m;
}

void mention_free(struct mention *m)
{
    if (!m)
        return;
    g_free(m->account);
    g_free(m->network);
    g_free(m->remote_id);
    g_free(m->post_id);
    g_free(m->author_id);
    g_free(m->author_handle);
    g_free(m->author_name);
    g_free(m->text);
    g_free(m->url);
    g_free(m->thread_id);
    g_free(m->context);
    g_free(m->avatar_url);
    g_free(m->reasons_json);
    g_free(m);
}

const char *mention_kind_name(enum mention_kind kind)
{
    if ((int)kind < 0 || kind >= MENTION_KIND__COUNT)
        return "mention";
    return mention_kind_names[kind];
}

enum mention_kind mention_kind_from_name(const char *name)
{
    for (int i = 0; name && i < MENTION_KIND__COUNT; i++)
        if (strcmp(name, mention_kind_names[i]) == 0)
            return (enum mention_kind)i;
    return MENTION_KIND_MENTION;
}

const char *mention_state_name(enum mention_state state)
{
    if ((unsigned)state > MENTION_REPLIED)
        return "waiting";
    return mention_state_names[state];
}

bool mention_state_from_name(const char *name, enum mention_state *out)
{
    for (unsigned i = 0; name && i <= MENTION_REPLIED; i++) {
        if (strcmp(name, mention_state_names[i]) == 0) {
            *out = (enum mention_state)i;
            return true;
        }
    }
    return false;
}
