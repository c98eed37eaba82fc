/* SPDX-License-Identifier: MIT */
/* triage_data: the labelled mentions of tests/data/triage/ and the ranking
 * measures computed over them.
 *
 * Shared by bench/triage.c (which prints the figures) and
 * tests/unit/test_score.c (which asserts on them); the test #includes
 * triage_data.c because the unit-test build links each test from a single
 * source file. The file format is described in tests/data/triage/README.md.
 */
#ifndef HEED_TRIAGE_DATA_H
#define HEED_TRIAGE_DATA_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mention.h"
#include "score.h"

struct triage_item {
    char *id;                   /* "t001" */
    struct mention *m;
    struct score_input in;      /* in.m == m; in.keyword points into the set's keywords */
    int label;                  /* 0 ignore, 1 low, 2 answer today, 3 answer now */
};

struct triage_set {
    struct triage_item *items;
    size_t n;
    int64_t now;                /* the fixed "now" every figure is computed at */
    char **vip, **muted, **keywords;
};

/* Parse the labelled file; errors name the file and the mention id. */
bool triage_load(const char *path, struct triage_set *set, GError **error);
void triage_free(struct triage_set *set);

/* heed's order: static score plus waiting points at set->now, as the
 * daemon's list shows it. scores has set->n entries. */
void triage_score_all(const struct score_weights *w, const struct triage_set *set, int *scores);
/* Plain time order as a key: newer mentions get larger keys. */
void triage_time_keys(const struct triage_set *set, int64_t *keys);
void triage_int_keys(const int *scores, size_t n, int64_t *keys);

/* Over all pairs with different labels, the fraction the keys order
 * correctly (higher label, higher key); a tie in key counts half. */
double triage_pairwise_accuracy(const struct triage_set *set, const int64_t *keys);
/* NDCG@k with gain 2^label - 1. Ties in key are broken newest first, as
 * the daemon's list does, then by file order, so the figure is stable. */
double triage_ndcg(const struct triage_set *set, const int64_t *keys, size_t k);

#endif
