/* SPDX-License-Identifier: MIT */
/* learn_text: the words of a mention as the learning half (learn.c) sees
 * them.
 *
 * Lower-cased words of the text, without @handles, links and very common
 * words, each with its hash bucket; and the topics the rules do not score
 * but a person may care about (a problem report phrased as a statement,
 * exposed credentials, personal news, a pitch or a recruiter, hostility).
 * A topic only names a feature: whether it raises or lowers a score, and by
 * how much, is learned from the user, and an empty model gives it nothing.
 * Pure and bounded: at most LEARN_TEXT_MAX_WORDS words are kept.
 */
#ifndef HEED_LEARN_TEXT_H
#define HEED_LEARN_TEXT_H

#include <stdbool.h>

enum learn_topic {
    LEARN_TOPIC_PROBLEM = 0,  /* something does not work, however it is phrased */
    LEARN_TOPIC_SECRET,       /* a credential in the open, or a string shaped like one */
    LEARN_TOPIC_LIFE,         /* personal news: illness, loss, a new job, a wedding */
    LEARN_TOPIC_PITCH,        /* recruiting, sales, "collabs", growth offers */
    LEARN_TOPIC_HOSTILE,      /* insults and contempt */
    LEARN_TOPIC_COUNT
};

#define LEARN_TEXT_MAX_WORDS 48
#define LEARN_TEXT_WORD_BYTES 24

struct learn_text {
    unsigned topics;          /* bit (1u << enum learn_topic) per topic found */
    int n;                    /* distinct words kept */
    char word[LEARN_TEXT_MAX_WORDS][LEARN_TEXT_WORD_BYTES];
    unsigned bucket[LEARN_TEXT_MAX_WORDS];   /* hash of word, mod buckets */
};

/* Read text (and a GitHub title, context, which may be NULL) into out.
 * buckets > 0. */
void learn_text_read(const char *text, const char *context, unsigned buckets, struct learn_text *out);

#endif
