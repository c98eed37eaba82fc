/* SPDX-License-Identifier: MIT */
/* ctl-mentions: list, show, explain and stats (ctl.h). */
#include <string.h>
#include <time.h>

#include "clock.h"
#include "control.h"
#include "ctl.h"

/* ---------------------------------------------------------------- list
 *
 * heed list can name every stored mention, 100,000 of them: it is written
 * as JSON text straight from the mentions, in pieces as the client reads
 * (control_ok_stream), never as one tree. Each mention's object is the one
 * ctl_mention_json builds for show (same members, same order); bench/run.py
 * --only list checks that they agree. */

/* s as a JSON string (null for NULL); invalid UTF-8 is mended, not refused. */
static void ctl_text_str(GString *out, const char *s)
{
    if (!s) {
        g_string_append(out, "null");
        return;
    }
    g_autofree char *valid = g_utf8_validate(s, -1, NULL) ? NULL : g_utf8_make_valid(s, -1);
    const unsigned char *p = (const unsigned char *)(valid ? valid : s);
    g_string_append_c(out, '"');
    for (const unsigned char *run = p;; p++) {
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        g_string_append_len(out, (const char *)run, p - run);
        if (c == 0)
            break;
        if (c == '"' || c == '\\') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, (char)c);
        } else if (c == '\n')
            g_string_append(out, "\\n");
        else if (c == '\t')
            g_string_append(out, "\\t");
        else if (c == '\r')
            g_string_append(out, "\\r");
        else
            g_string_append_printf(out, "\\u%04x", c);
        run = p + 1;
    }
    g_string_append_c(out, '"');
}

/* As clock_iso_utc(t), without a GDateTime per date. */
static void ctl_text_time(GString *out, int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;
    char buf[32] = "";
    if (gmtime_r(&tt, &tm) && tm.tm_year + 1900 >= 1 && tm.tm_year + 1900 <= 9999)
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    g_string_append_printf(out, "\"%s\"", buf);
}

/* A JSON value starting at *p, skipped; false if it is not one. Strict
 * where jansson is (no NUL escape, no raw control characters). */
static bool ctl_json_skip(const char **p, int depth);

static void ctl_json_ws(const char **p)
{
    while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r')
        (*p)++;
}

static bool ctl_json_skip_string(const char **p)
{
    const char *s = *p + 1;
    for (; *s != '"'; s++) {
        if ((unsigned char)*s < 0x20)
            return false;
        if (*s != '\\')
            continue;
        s++;
        if (*s == 'u') {
            if (!g_ascii_isxdigit(s[1]) || !g_ascii_isxdigit(s[2]) || !g_ascii_isxdigit(s[3]) ||
                !g_ascii_isxdigit(s[4]) || strncmp(s + 1, "0000", 4) == 0)
                return false;
            s += 4;
        } else if (!strchr("\"\\/bfnrt", *s) || !*s) {
            return false;
        }
    }
    *p = s + 1;
    return true;
}

static bool ctl_json_skip_items(const char **p, int depth, char close, bool keyed)
{
    (*p)++;
    ctl_json_ws(p);
    if (**p == close) {
        (*p)++;
        return true;
    }
    for (;;) {
        if (keyed) {
            if (**p != '"' || !ctl_json_skip_string(p))
                return false;
            ctl_json_ws(p);
            if (*(*p)++ != ':')
                return false;
        }
        if (!ctl_json_skip(p, depth + 1))
            return false;
        ctl_json_ws(p);
        char c = *(*p)++;
        if (c == close)
            return true;
        if (c != ',')
            return false;
        ctl_json_ws(p);
    }
}

static bool ctl_json_skip(const char **p, int depth)
{
    ctl_json_ws(p);
    const char *s = *p;
    if (depth > 32)
        return false;
    if (*s == '[' || *s == '{')
        return ctl_json_skip_items(p, depth, *s == '[' ? ']' : '}', *s == '{');
    if (*s == '"')
        return ctl_json_skip_string(p);
    for (const char *const *w = (const char *const[]){ "true", "false", "null", NULL }; *w; w++)
        if (strncmp(s, *w, strlen(*w)) == 0) {
            *p += strlen(*w);
            return true;
        }
    /* A number: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? */
    s += *s == '-';
    if (!g_ascii_isdigit(*s))
        return false;
    if (*s == '0')
        s++;
    while (g_ascii_isdigit(*s))
        s++;
    if (*s == '.' && g_ascii_isdigit(s[1]))
        for (s++; g_ascii_isdigit(*s); s++)
            ;
    if ((*s == 'e' || *s == 'E') && (g_ascii_isdigit(s[1]) || ((s[1] == '+' || s[1] == '-') && g_ascii_isdigit(s[2]))))
        for (s += 2; g_ascii_isdigit(*s); s++)
            ;
    *p = s;
    return true;
}

/* The stored reasons, when they are a JSON array (else none, as show says). */
static bool ctl_reasons_ok(const char *r)
{
    const char *p = r;
    if (!r || !g_utf8_validate(r, -1, NULL))
        return false;
    ctl_json_ws(&p);
    if (*p != '[' || !ctl_json_skip(&p, 0))
        return false;
    ctl_json_ws(&p);
    return *p == '\0';
}

/* The reasons array, with the waiting time added as show adds it. */
static void ctl_text_reasons(GString *out, struct engine *e, const struct mention *m, const struct judgement *j,
                             int64_t now)
{
    bool open = m->state == MENTION_WAITING || m->state == MENTION_SNOOZED;
    const char *r = ctl_reasons_ok(m->reasons_json) ? m->reasons_json : "[]";
    int wait = score_wait_points(&e->weights, m->created_at, now);
    if (!(wait > 0 && open && !j->muted)) {
        g_string_append(out, r);
        return;
    }
    const char *close = strrchr(r, ']');
    const char *inside = r + strspn(r, " \t\r\n") + 1;
    bool empty = inside + strspn(inside, " \t\r\n") == close;
    g_string_append_len(out, r, close - r);
    g_autofree char *age = clock_age_words(now - m->created_at);
    g_autofree char *why = g_strdup_printf("waiting %s", age);
    g_string_append(out, empty ? "{\"reason\":" : ",{\"reason\":");
    ctl_text_str(out, why);
    g_string_append_printf(out, ",\"points\":%d}]", wait);
}

/* ctl_mention_json(e, m, now), written as JSON text. */
static void ctl_mention_text(struct engine *e, const struct mention *m, int64_t now, GString *out)
{
    static const char *const urgency[] = { "low", "normal", "critical" };
    struct judgement j = judge_now(&e->judge, m, now);
    g_string_append_printf(out, "{\"id\":%" G_GINT64_FORMAT ",\"network\":", m->id);
    ctl_text_str(out, m->network);
    g_string_append(out, ",\"account\":");
    ctl_text_str(out, m->account);
    g_string_append_printf(out, ",\"kind\":\"%s\",\"author\":{\"id\":", mention_kind_name(m->kind));
    ctl_text_str(out, m->author_id);
    g_string_append(out, ",\"handle\":");
    ctl_text_str(out, m->author_handle);
    g_string_append(out, ",\"name\":");
    ctl_text_str(out, m->author_name);
    g_string_append(out, "},\"text\":");
    ctl_text_str(out, m->text ? m->text : "");
    g_string_append(out, ",\"url\":");
    ctl_text_str(out, m->url);
    g_string_append(out, ",\"created_at\":");
    ctl_text_time(out, m->created_at);
    g_string_append_printf(out, ",\"state\":\"%s\",\"score\":%d,\"urgency\":\"%s\",\"reasons\":",
                           mention_state_name(m->state), j.score, urgency[j.urgency]);
    ctl_text_reasons(out, e, m, &j, now);
    g_string_append_printf(out, ",\"waiting_seconds\":%" G_GINT64_FORMAT, now - m->created_at);
    if (m->context) {
        g_string_append(out, ",\"context\":");
        ctl_text_str(out, m->context);
    }
    if (m->state == MENTION_SNOOZED) {
        g_string_append(out, ",\"snoozed_until\":");
        ctl_text_time(out, m->snooze_until);
    }
    g_string_append_printf(out, ",\"notified\":%s}", m->notified_at > 0 ? "true" : "false");
}

/* One mention's place in the list. */
struct ctl_list_item {
    int64_t id, created_at;
    int rank;             /* 0 waiting, 1 snoozed, 2 handled */
    int score;            /* judge_now's: with waiting time, 0 when muted */
    int static_score;
    struct mention *m;    /* kept when open (few); NULL: read again when written */
};

struct ctl_list {
    struct engine *e;
    int64_t now;
    GArray *items;        /* struct ctl_list_item, in list order */
    guint next;           /* the next one to write */
    bool wrote;           /* one is written: the next needs a comma */
};

static void ctl_list_add(struct mention *m, void *data)
{
    struct ctl_list *l = data;
    struct judgement j = judge_now(&l->e->judge, m, l->now);
    struct ctl_list_item it = {
        .id = m->id, .created_at = m->created_at, .score = j.score, .static_score = m->score,
        .rank = m->state == MENTION_WAITING ? 0 : m->state == MENTION_SNOOZED ? 1 : 2,
    };
    if (it.rank < 2)
        it.m = m;
    else
        mention_free(m);
    g_array_append_val(l->items, it);
}

/* Waiting first, then snoozed, then handled; by urgency (waiting time
 * included) within each, the longest waiting first, then as stored. */
static int ctl_list_cmp(gconstpointer a, gconstpointer b)
{
    const struct ctl_list_item *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->created_at != y->created_at)
        return x->created_at < y->created_at ? -1 : 1;
    if (x->static_score != y->static_score)
        return x->static_score > y->static_score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static void ctl_list_free(void *data)
{
    struct ctl_list *l = data;
    for (guint i = l->next; i < l->items->len; i++)
        mention_free(g_array_index(l->items, struct ctl_list_item, i).m);
    g_array_unref(l->items);
    g_free(l);
}

/* The next few mentions of the answer (control_piece_fn). */
static bool ctl_list_piece(void *data, GString *out)
{
    struct ctl_list *l = data;
    if (l->next == 0)
        g_string_append_c(out, '[');
    for (int n = 0; n < 64 && l->next < l->items->len; n++) {
        struct ctl_list_item *it = &g_array_index(l->items, struct ctl_list_item, l->next);
        struct mention *m = it->m ? it->m : store_get(l->e->store, it->id, NULL);
        it->m = NULL;
        if (m) {
            if (l->wrote)
                g_string_append_c(out, ',');
            ctl_mention_text(l->e, m, l->now, out);
            mention_free(m);
            l->wrote = true;
        }
        l->next++;
    }
    if (l->next < l->items->len)
        return true;
    g_string_append_c(out, ']');
    return false;
}

json_t *ctl_list(struct engine *e, json_t *args, struct mention *unused)
{
    (void)unused;
    bool all = json_is_true(json_object_get(args, "all"));
    json_int_t limit;
    json_t *fail = NULL;
    if (!ctl_int_arg(args, "limit", 0, CONTROL_MAX_LIMIT, 0, &limit, &fail))
        return fail;
    struct ctl_list *l = g_new0(struct ctl_list, 1);
    *l = (struct ctl_list){ .e = e, .now = clock_now(), .items = g_array_new(FALSE, FALSE, sizeof(struct ctl_list_item)) };
    GError *err = NULL;
    if (!store_each_mention(e->store, all ? STORE_ALL : STORE_WAITING, ctl_list_add, l, &err)) {
        ctl_list_free(l);
        return ctl_fail_error(err);
    }
    g_array_sort(l->items, ctl_list_cmp);
    for (guint i = (guint)limit; limit > 0 && i < l->items->len; i++)
        mention_free(g_array_index(l->items, struct ctl_list_item, i).m);
    if (limit > 0 && (json_int_t)l->items->len > limit)
        g_array_set_size(l->items, (guint)limit);
    return control_ok_stream(ctl_list_piece, ctl_list_free, l);
}

json_t *ctl_show(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    return control_ok(ctl_mention_json(e, m, clock_now()));
}

json_t *ctl_explain(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    json_t *o = ctl_mention_json(e, m, clock_now());
    json_t *out = json_pack("{s:I, s:i, s:i, s:s, s:O}", "id", (json_int_t)m->id, "score",
                            (int)json_integer_value(json_object_get(o, "score")), "static_score", m->score,
                            "urgency", json_string_value(json_object_get(o, "urgency")), "reasons",
                            json_object_get(o, "reasons"));
    json_decref(o);
    return control_ok(out);
}

json_t *ctl_stats(struct engine *e, json_t *args, struct mention *unused)
{
    (void)unused;
    json_int_t days;
    json_t *fail = NULL;
    if (!ctl_int_arg(args, "days", 1, CONTROL_MAX_DAYS, 7, &days, &fail))
        return fail;
    int64_t now = clock_now();
    struct store_stats s;
    GError *err = NULL;
    if (!store_stats(e->store, now - days * 86400, 5, &s, &err)) {
        store_stats_clear(&s);
        return ctl_fail_error(err);
    }
    json_t *longest = json_array();
    for (guint i = 0; i < s.longest->len; i++)
        json_array_append_new(longest, ctl_mention_json(e, g_ptr_array_index(s.longest, i), now));
    json_t *out = json_pack("{s:I, s:i, s:i, s:i, s:o, s:o}", "days", days, "mentions", s.mentions, "answered",
                            s.answered, "replied_on_network", s.replied, "median_wait_seconds",
                            s.median_wait >= 0 ? json_integer(s.median_wait) : json_null(), "longest_waiting",
                            longest);
    store_stats_clear(&s);
    return control_ok(out);
}

/* Forget what was learned: about the author of mention "id", or everything. */
json_t *ctl_forget(struct engine *e, json_t *args, struct mention *unused)
{
    (void)unused;
    GError *err = NULL;
    struct mention *m = NULL;
    json_t *id = json_object_get(args, "id");
    if (id && !json_is_integer(id))
        return control_fail("expected a numeric mention id");
    if (id && !(m = store_get(e->store, json_integer_value(id), &err)))
        return ctl_fail_error(err);
    const char *who = m ? (m->author_id ? m->author_id : m->author_handle) : NULL;
    bool ok = learn_forget_saved(e->learn, e->store, m ? m->account : NULL, who, &err);
    json_t *answer = ok ? control_ok(json_pack("{s:s?, s:I}", "author", m ? m->author_handle : NULL, "remembered",
                                               (json_int_t)learn_people(e->learn)))
                        : ctl_fail_error(err);
    mention_free(m);
    return answer;
}
