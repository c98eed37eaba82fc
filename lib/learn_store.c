/* SPDX-License-Identifier: MIT */
/* learn_store: the learned model in the state database (store_learn_*).
 * See learn.h for the contract.
 *
 * One row per entry that holds something: "bias", "slope", "trust.*",
 * "f:<feature>", "w:<bucket>" and "a:<account>\x1f<author>". A key this
 * version does not know (a newer heed's feature) is ignored. Only what
 * changed since the last save is written.
 */
#include <stdlib.h>
#include <string.h>

#include "learn_model.h"

static const char *const learn_trust_keys[LEARN_T_COUNT] = {
    "trust.n", "trust.r", "trust.y", "trust.rr", "trust.yy", "trust.ry",
};

static void learn_load_row(const struct store_learn_row *row, void *data)
{
    struct learn *l = data;
    struct learn_weight wt = { row->weight, row->events, false };
    if (strcmp(row->key, "bias") == 0) {
        l->bias = wt;
    } else if (strcmp(row->key, "slope") == 0) {
        l->slope = wt;
    } else if (g_str_has_prefix(row->key, "trust.")) {
        for (int i = 0; i < LEARN_T_COUNT; i++)
            if (strcmp(row->key, learn_trust_keys[i]) == 0)
                l->trust[i] = row->weight;
    } else if (g_str_has_prefix(row->key, "f:")) {
        for (int i = 0; i < LEARN_F_COUNT; i++)
            if (strcmp(row->key + 2, learn_fixed_key(i)) == 0)
                l->fixed[i] = wt;
    } else if (g_str_has_prefix(row->key, "w:")) {
        char *end;
        unsigned long b = strtoul(row->key + 2, &end, 10);
        if (*end == '\0' && end != row->key + 2 && b < LEARN_WORD_BUCKETS)
            l->words[b] = wt;
    } else if (g_str_has_prefix(row->key, "a:") && !g_hash_table_contains(l->authors, row->key + 2)) {
        struct learn_author *a = g_new0(struct learn_author, 1);
        *a = (struct learn_author){ g_strdup(row->key + 2), row->weight, row->events, row->replies,
                                    row->replies_hour, row->replies_day, row->seen_at, false, { 0 } };
        a->node.data = a;
        g_hash_table_insert(l->authors, a->key, a);
        g_queue_push_head_link(&l->lru, &a->node);
    }
}

static gint learn_newer_first(gconstpointer x, gconstpointer y, gpointer unused)
{
    (void)unused;
    const struct learn_author *a = x, *b = y;
    return (a->seen_at < b->seen_at) - (a->seen_at > b->seen_at);
}

struct learn *learn_load(struct store *st, const struct learn_params *params, GError **error)
{
    struct learn *l = learn_new(params);
    if (!store_learn_read(st, learn_load_row, l, error)) {
        learn_free(l);
        return NULL;
    }
    g_queue_sort(&l->lru, learn_newer_first, NULL);
    while (g_hash_table_size(l->authors) > (guint)l->p.authors)
        learn_author_drop(l, g_queue_peek_tail(&l->lru));
    return l;
}

static void learn_row(GArray *rows, GPtrArray *keys, char *key, const struct learn_weight *wt)
{
    g_ptr_array_add(keys, key);
    struct store_learn_row r = { .key = key, .weight = wt->w, .events = wt->events };
    g_array_append_val(rows, r);
}

/* Rows for everything changed since the last save. */
static void learn_dirty_rows(const struct learn *l, GArray *rows, GPtrArray *keys)
{
    if (l->bias.dirty)
        learn_row(rows, keys, g_strdup("bias"), &l->bias);
    if (l->slope.dirty)
        learn_row(rows, keys, g_strdup("slope"), &l->slope);
    for (int i = 0; l->trust_dirty && i < LEARN_T_COUNT; i++)
        learn_row(rows, keys, g_strdup(learn_trust_keys[i]), &(struct learn_weight){ l->trust[i], 0, true });
    for (int i = 0; i < LEARN_F_COUNT; i++)
        if (l->fixed[i].dirty)
            learn_row(rows, keys, g_strconcat("f:", learn_fixed_key(i), NULL), &l->fixed[i]);
    for (int i = 0; i < LEARN_WORD_BUCKETS; i++)
        if (l->words[i].dirty)
            learn_row(rows, keys, g_strdup_printf("w:%d", i), &l->words[i]);
    for (GList *n = l->lru.head; n; n = n->next) {
        const struct learn_author *a = n->data;
        if (!a->dirty)
            continue;
        char *key = g_strconcat("a:", a->key, NULL);
        g_ptr_array_add(keys, key);
        struct store_learn_row r = { key, a->weight, a->events, a->replies, a->replies_hour, a->replies_day,
                                     a->seen_at };
        g_array_append_val(rows, r);
    }
}

static void learn_clean(struct learn *l)
{
    l->bias.dirty = l->slope.dirty = l->trust_dirty = false;
    for (int i = 0; i < LEARN_F_COUNT; i++)
        l->fixed[i].dirty = false;
    for (int i = 0; i < LEARN_WORD_BUCKETS; i++)
        l->words[i].dirty = false;
    for (GList *n = l->lru.head; n; n = n->next)
        ((struct learn_author *)n->data)->dirty = false;
    g_ptr_array_set_size(l->gone, 0);
    l->cleared = false;
}

bool learn_save(struct learn *l, struct store *st, GError **error)
{
    if (l->cleared && !store_learn_clear(st, "", error))
        return false;
    g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(struct store_learn_row));
    g_autoptr(GPtrArray) keys = g_ptr_array_new_with_free_func(g_free);
    learn_dirty_rows(l, rows, keys);
    g_ptr_array_add(l->gone, NULL);
    bool ok = store_learn_write(st, (const struct store_learn_row *)(void *)rows->data, rows->len,
                                (char **)l->gone->pdata, error);
    g_ptr_array_remove_index(l->gone, l->gone->len - 1);
    if (ok)
        learn_clean(l);
    return ok;
}

bool learn_record(struct learn *l, struct store *st, const struct score_weights *w, const struct score_input *in,
                  enum learn_event ev, int64_t at, GError **error)
{
    if (!w->learn || in->muted || ev >= LEARN_EVENT_COUNT)
        return true;
    bool first = false;
    if (!store_learn_mark(st, in->m->id, 1u << ev, &first, error))
        return false;
    if (!first)
        return true;
    learn_observe(l, w, in, ev, at);
    return learn_save(l, st, error);
}

bool learn_forget_saved(struct learn *l, struct store *st, const char *account, const char *author_id,
                        GError **error)
{
    learn_forget(l, account, author_id);
    return learn_save(l, st, error);
}
