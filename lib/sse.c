/* SPDX-License-Identifier: MIT */
/* sse: see sse.h. */
#include "sse.h"

#include <glib.h>
#include <string.h>

struct sse {
    sse_event_fn on_event;
    void *user_data;
    GString *line;       /* the line being received */
    GString *event;      /* event name of the event being built */
    GString *data;       /* its data */
    bool has_data;
    bool last_cr;        /* the previous byte was CR: a following LF belongs to it */
    bool poisoned;
    unsigned long comments;
};

struct sse *sse_new(sse_event_fn on_event, void *user_data)
{
    struct sse *p = g_new0(struct sse, 1);
    p->on_event = on_event;
    p->user_data = user_data;
    p->line = g_string_new(NULL);
    p->event = g_string_new(NULL);
    p->data = g_string_new(NULL);
    return p;
}

void sse_free(struct sse *p)
{
    if (!p)
        return;
    g_string_free(p->line, TRUE);
    g_string_free(p->event, TRUE);
    g_string_free(p->data, TRUE);
    g_free(p);
}

unsigned long sse_comments(const struct sse *p)
{
    return p->comments;
}

static void sse_dispatch(struct sse *p)
{
    if (p->has_data)
        p->on_event(p->event->len ? p->event->str : "message", p->data->str, p->data->len, p->user_data);
    g_string_truncate(p->event, 0);
    g_string_truncate(p->data, 0);
    p->has_data = false;
}

static bool sse_line(struct sse *p)
{
    const char *l = p->line->str;
    size_t n = p->line->len;
    if (n == 0) {
        sse_dispatch(p);
        return true;
    }
    if (l[0] == ':') {
        p->comments++;
        return true;
    }
    const char *colon = memchr(l, ':', n);
    size_t flen = colon ? (size_t)(colon - l) : n;
    const char *value = colon ? colon + 1 : l + n;
    if (colon && *value == ' ')
        value++;
    size_t vlen = (size_t)(l + n - value);
    if (flen == 5 && memcmp(l, "event", 5) == 0) {
        g_string_assign(p->event, "");
        g_string_append_len(p->event, value, (gssize)vlen);
    } else if (flen == 4 && memcmp(l, "data", 4) == 0) {
        if (p->has_data)
            g_string_append_c(p->data, '\n');
        g_string_append_len(p->data, value, (gssize)vlen);
        p->has_data = true;
        if (p->data->len > SSE_MAX_EVENT)
            return false;
    }
    /* "id:" and "retry:" are not used by heed's streams; unknown fields are ignored. */
    return true;
}

bool sse_feed(struct sse *p, const char *bytes, size_t len)
{
    if (p->poisoned)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = bytes[i];
        if (c == '\n' && p->last_cr) {
            p->last_cr = false;
            continue;
        }
        p->last_cr = c == '\r';
        if (c == '\n' || c == '\r') {
            if (!sse_line(p)) {
                p->poisoned = true;
                return false;
            }
            g_string_truncate(p->line, 0);
            continue;
        }
        /* Append the run up to the next line end in one go. */
        size_t j = i;
        while (j < len && bytes[j] != '\n' && bytes[j] != '\r')
            j++;
        g_string_append_len(p->line, bytes + i, (gssize)(j - i));
        i = j - 1;
        if (p->line->len > SSE_MAX_LINE) {
            p->poisoned = true;
            return false;
        }
    }
    return true;
}
