/* SPDX-License-Identifier: MIT */
/* triage_data: see triage_data.h. */
#include "triage_data.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TRIAGE_ERROR (g_quark_from_static_string("triage-data"))


static char **triage_strv(json_t *arr)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return NULL;
    char **v = g_new0(char *, json_array_size(arr) + 1);
    size_t i, n = 0;
    json_t *s;
    json_array_foreach(arr, i, s)
        if (json_is_string(s))
            v[n++] = g_strdup(json_string_value(s));
    return v;
}

static enum mention_tri triage_tri(json_t *v)
{
    return json_is_true(v) ? MENTION_YES : json_is_false(v) ? MENTION_NO : MENTION_UNKNOWN;
}

static const char *triage_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static bool triage_load_item(struct triage_set *set, json_t *o, size_t index, struct triage_item *it,
                             const char *path, GError **error)
{
    const char *id = triage_str(o, "id");
    json_t *author = json_object_get(o, "author");
    const char *network = triage_str(o, "network"), *kind = triage_str(o, "kind");
    const char *text = triage_str(o, "text");
    json_t *label = json_object_get(o, "label"), *minutes = json_object_get(o, "minutes_ago");
    if (!id || !network || !kind || !text || !json_is_object(author) || !triage_str(author, "handle") ||
        !json_is_integer(label) || !json_is_integer(minutes)) {
        g_set_error(error, TRIAGE_ERROR, 1,
                    "%s: mention #%zu (%s): needs id, network, kind, author.handle, text, minutes_ago and label",
                    path, index + 1, id ? id : "no id");
        return false;
    }
    if (json_integer_value(label) < 0 || json_integer_value(label) > 3) {
        g_set_error(error, TRIAGE_ERROR, 1, "%s: %s: label must be 0-3", path, id);
        return false;
    }
    struct mention *m = mention_new();
    it->id = g_strdup(id);
    it->m = m;
    it->label = (int)json_integer_value(label);
    m->id = (int64_t)index + 1;
    m->account = g_strdup(network);
    m->network = g_strdup(network);
    m->remote_id = g_strdup(id);
    m->kind = mention_kind_from_name(kind);
    m->author_handle = g_strdup(triage_str(author, "handle"));
    m->author_id = g_strdup(m->author_handle);
    const char *name = triage_str(author, "name");
    m->author_name = g_strdup(name ? name : m->author_handle);
    m->text = g_strdup(text);
    const char *context = triage_str(o, "context");
    m->context = context ? g_strdup(context) : NULL;
    m->created_at = set->now - json_integer_value(minutes) * 60;
    json_t *count = json_object_get(o, "mention_count");
    m->mention_count = json_is_integer(count) && json_integer_value(count) > 0 ? (int)json_integer_value(count) : 1;
    m->author_bot = triage_tri(json_object_get(o, "bot"));
    m->follows_me = triage_tri(json_object_get(o, "follows_me"));
    m->i_follow = triage_tri(json_object_get(o, "i_follow"));

    /* The daemon scores a mention when it stores it, shortly after it was
     * posted; history in the file is relative to that moment. */
    it->in = (struct score_input){ .m = m, .now = m->created_at };
    json_t *hist = json_object_get(o, "history");
    it->in.replies = (int)json_integer_value(json_object_get(hist, "replies"));
    json_t *last = json_object_get(hist, "last_reply_days_ago");
    if (json_is_integer(last))
        it->in.last_reply = m->created_at - json_integer_value(last) * 86400 - 60;
    it->in.prior_mentions = (int)json_integer_value(json_object_get(o, "prior_mentions"));
    it->in.vip = score_list_has(set->vip, m->author_handle);
    it->in.muted = score_list_has(set->muted, m->author_handle);
    it->in.keyword = score_find_keyword(set->keywords, m->text);
    return true;
}

bool triage_load(const char *path, struct triage_set *set, GError **error)
{
    memset(set, 0, sizeof *set);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root) {
        g_set_error(error, TRIAGE_ERROR, 1, "%s:%d: %s", path, jerr.line, jerr.text);
        return false;
    }
    json_t *config = json_object_get(root, "config"), *list = json_object_get(root, "mentions");
    if (!json_is_object(config) || !json_is_integer(json_object_get(config, "now")) || !json_is_array(list) ||
        json_array_size(list) == 0) {
        g_set_error(error, TRIAGE_ERROR, 1, "%s: expected {\"config\": {\"now\": ...}, \"mentions\": [...]}", path);
        json_decref(root);
        return false;
    }
    set->now = json_integer_value(json_object_get(config, "now"));
    set->vip = triage_strv(json_object_get(config, "vip"));
    set->muted = triage_strv(json_object_get(config, "muted"));
    set->keywords = triage_strv(json_object_get(config, "keywords"));
    set->items = g_new0(struct triage_item, json_array_size(list));
    size_t i;
    json_t *o;
    json_array_foreach(list, i, o) {
        if (!triage_load_item(set, o, i, &set->items[set->n], path, error)) {
            json_decref(root);
            triage_free(set);
            return false;
        }
        set->n++;
    }
    json_decref(root);
    return true;
}

void triage_free(struct triage_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        g_free(set->items[i].id);
        mention_free(set->items[i].m);
    }
    g_free(set->items);
    g_strfreev(set->vip);
    g_strfreev(set->muted);
    g_strfreev(set->keywords);
    memset(set, 0, sizeof *set);
}

void triage_score_all(const struct score_weights *w, const struct triage_set *set, int *scores)
{
    for (size_t i = 0; i < set->n; i++) {
        json_t *reasons = NULL;
        int s = score_compute(w, &set->items[i].in, &reasons);
        json_decref(reasons);
        scores[i] = score_with_wait(w, s, set->items[i].m->created_at, set->now);
    }
}

void triage_time_keys(const struct triage_set *set, int64_t *keys)
{
    for (size_t i = 0; i < set->n; i++)
        keys[i] = set->items[i].m->created_at;
}

void triage_int_keys(const int *scores, size_t n, int64_t *keys)
{
    for (size_t i = 0; i < n; i++)
        keys[i] = scores[i];
}

double triage_pairwise_accuracy(const struct triage_set *set, const int64_t *keys)
{
    double good = 0;
    size_t pairs = 0;
    for (size_t i = 0; i < set->n; i++) {
        for (size_t j = i + 1; j < set->n; j++) {
            int li = set->items[i].label, lj = set->items[j].label;
            if (li == lj)
                continue;
            pairs++;
            if (keys[i] == keys[j])
                good += 0.5;
            else if ((li > lj) == (keys[i] > keys[j]))
                good += 1;
        }
    }
    return pairs ? good / (double)pairs : 0;
}

struct triage_rank {
    int64_t key, created_at;
    size_t index;
    int label;
};

static int triage_rank_cmp(const void *a, const void *b)
{
    const struct triage_rank *x = a, *y = b;
    if (x->key != y->key)
        return x->key > y->key ? -1 : 1;
    if (x->created_at != y->created_at)
        return x->created_at > y->created_at ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

static int triage_label_desc(const void *a, const void *b)
{
    return *(const int *)b - *(const int *)a;
}

double triage_ndcg(const struct triage_set *set, const int64_t *keys, size_t k)
{
    struct triage_rank *r = g_new(struct triage_rank, set->n);
    int *ideal = g_new(int, set->n);
    for (size_t i = 0; i < set->n; i++) {
        r[i] = (struct triage_rank){ keys[i], set->items[i].m->created_at, i, set->items[i].label };
        ideal[i] = set->items[i].label;
    }
    qsort(r, set->n, sizeof *r, triage_rank_cmp);
    qsort(ideal, set->n, sizeof *ideal, triage_label_desc);
    double dcg = 0, idcg = 0;
    for (size_t i = 0; i < k && i < set->n; i++) {
        double discount = log2((double)i + 2.0);
        dcg += (exp2(r[i].label) - 1.0) / discount;
        idcg += (exp2(ideal[i]) - 1.0) / discount;
    }
    g_free(r);
    g_free(ideal);
    return idcg > 0 ? dcg / idcg : 0;
}
