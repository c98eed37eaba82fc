/* SPDX-License-Identifier: MIT */
/* score-text: see score-text.h. The word lists and the reading. */
#include "score-text.h"

#include <glib.h>
#include <stddef.h>
#include <string.h>

#include "score.h"
#include "score-shape.h"

/* ---- reading the text ------------------------------------------------------
 *
 * All lists are lower case. ASCII entries match on word boundaries; entries
 * with non-ASCII bytes (other scripts, emoji) match as substrings, since
 * those scripts do not separate words with spaces. A few common languages
 * besides English are covered because the people who write to a maintainer
 * do not all write English; the rest still get the weak '?' signal. */

/* Words that make a question be about the reader (Spanish verbs too,
 * since Spanish drops the pronoun: "¿puedes ...?"). */
static const char *const score_you_words[] = {
    "you", "your", "you're", "you've", "you'd", "you'll", "u", "ya", "yours",
    "du", "dir", "dich", "dein", "deine", "euch",       /* de */
    "tú", "usted", "ustedes", "puedes", "podrías",      /* es */
    "vous", "toi", "votre",                             /* fr */
    "você", "vocês",                                    /* pt */
    NULL,
};

/* Asking for something, whether or not it ends in '?'. */
static const char *const score_request_phrases[] = {
    "can you", "could you", "would you", "will you", "can u", "could u", "would you mind", "do you mind",
    "please", "pls", "plz", "ptal", "lmk", "let me know", "any chance", "mind taking", "take a look",
    "have a look", "when you get a chance", "when you have a moment", "your eyes on", "your input",
    "your review", "need you to", "need your", "can we", "could we", "can i", "may i", "is it ok if",
    "would it be ok", "would you accept", "what do you think",
    "kannst du", "könntest du", "können sie", "könnten sie", "bitte",   /* de */
    "puedes", "podrías", "puede", "podría", "por favor",              /* es, pt */
    "peux-tu", "pouvez-vous", "pourrais-tu", "pourriez-vous", "s'il te plaît", "s'il vous plaît", /* fr */
    "você pode", "poderia",                                            /* pt */
    "potresti", "puoi", "per favore",                                  /* it */
    "ください", "お願い", "请", "麻烦",                                  /* ja, zh */
    NULL,
};

/* Questions that do not want an answer. Only common, general forms: a list
 * tuned to a test set would not survive real mentions. */
static const char *const score_rhetorical_phrases[] = {
    "isn't it", "isn't that", "aren't we", "aren't they", "wasn't it", "who even", "who needs", "who cares",
    "who decided", "who knew", "who still", "who uses", "why does every", "why do people",
    "why is it always", "is anyone surprised", "anyone surprised", "does anyone even", "how hard is it",
    "what could go wrong", "am i the only one", "amirite", "change my mind", "can you believe",
    "have you heard of", "imagine", "n'est-ce pas", NULL,
};

/* Tag questions: "..., right?" The '?' is gone by the time a sentence is
 * looked at, so these match at its end. */
static const char *const score_rhetorical_tags[] = { " right", ",right", " oder", " verdad", NULL };

/* A question put to the room rather than to the user. */
static const char *const score_crowd_phrases[] = {
    "anyone", "anybody", "does someone", "somebody", "everyone", "y'all", "folks", "jemand", "alguien",
    "quelqu'un", "alguém", NULL,
};

/* A joking tone turns a question into banter. */
static const char *const score_joke_markers[] = {
    "lol", "lmao", "rofl", "haha", "hehe", "😂", "🤣", "😅", "😄", "😆", "🙃", "😜", NULL,
};

/* Openers that look like "Name," but are not a name. */
static const char *const score_not_names[] = {
    "hi", "hey", "hello", "so", "ok", "okay", "well", "sorry", "also", "btw", "yes", "no", "yeah", "yep",
    "nope", "thanks", "please", "oh", "hmm", "honestly", "seriously", "quick", "actually", "anyway", "sure",
    "great", "cool", "nice", "now", "first", "second", "then", "and", "but", "dear", "friends", "folks", "all",
    "everyone", "guys", "y'all", "ah", "lol", "wow", "alright", "right", "look", "listen", "hallo", "hola", "salut",
    "bonjour", "olá", "ciao", "moin", "servus", NULL,
};

/* "cc @x": the people after it are copied, not asked. */
static const char *const score_cc_markers[] = {
    "cc @", "cc: @", "cc:@", "/cc", "cc'ing", "ccing", "copying in", "looping in", "+cc", NULL,
};

static const char *const score_thanks_words[] = {
    "thanks", "thank", "thx", "ty", "tysm", "cheers", "merci", "danke", "gracias", "obrigado", "obrigada",
    "grazie", "ありがとう", "谢谢", "🙏", NULL,
};

static const char *const score_resolved_phrases[] = {
    "never mind", "nevermind", "nvm", "found it", "figured it out", "sorted it", "all good now", "ignore me",
    "disregard", "solved it", NULL,
};

static const char *const score_alarm_words[] = {
    "vulnerability", "vulnerabilities", "vuln", "security", "exploit", "cve", "leak", "leaked", "leaking",
    "api key", "credentials", "password", "is down", "site down", "outage", "502", "503", "crash", "crashes",
    "crashing", "broke", "broken", "breaks", "regression", "data loss", "corrupted", "corruption", NULL,
};

/* Time pressure. Not "closes" (GitHub's "Closes #12") nor "before the"
 * ("before the redesign"): too often about something else. */
static const char *const score_deadline_words[] = {
    "deadline", "asap", "urgent", "urgently", "today", "tonight", "tomorrow", "this morning",
    "this afternoon", "this evening", "by friday", "by monday", "by tuesday", "by wednesday", "by thursday",
    "by saturday", "by sunday", "by eod", "end of day", "within the hour", "in an hour", "right now",
    "blocks the", "blocks our", "blocks us", "blocking", "blocked", "heute", "morgen", "hoy", "mañana", "hoje",
    "amanhã", "aujourd'hui", "demain", NULL,
};

static const char *const score_no_rush_phrases[] = {
    "no rush", "no hurry", "no pressure", "not urgent", "low priority", "whenever you", "next week is fine",
    "in your own time", "keine eile", "sin prisa", "sem pressa", NULL,
};

/* ---- the lexicon ----------------------------------------------------------
 *
 * Every list above is matched in one pass over the text: at each word start
 * the word is looked up in a table of the phrases that begin with it, so the
 * cost grows with the length of the text, not with the number of phrases
 * (scoring runs for every stored mention, and on catch-up for thousands). */

enum {
    SCORE_YOU = 1u << 0, SCORE_REQUEST = 1u << 1, SCORE_RHETORICAL = 1u << 2, SCORE_CROWD = 1u << 3,
    SCORE_JOKE = 1u << 4, SCORE_CC = 1u << 5, SCORE_THANKS = 1u << 6, SCORE_RESOLVED = 1u << 7,
    SCORE_ALARM = 1u << 8, SCORE_DEADLINE = 1u << 9, SCORE_NO_RUSH = 1u << 10, SCORE_CHANGE_MIND = 1u << 11,
};

static const char *const score_change_mind[] = { "change my mind", NULL };

static const struct { const char *const *list; unsigned category; } score_lists[] = {
    { score_you_words, SCORE_YOU },           { score_request_phrases, SCORE_REQUEST },
    { score_rhetorical_phrases, SCORE_RHETORICAL }, { score_crowd_phrases, SCORE_CROWD },
    { score_joke_markers, SCORE_JOKE },       { score_cc_markers, SCORE_CC },
    { score_thanks_words, SCORE_THANKS },     { score_resolved_phrases, SCORE_RESOLVED },
    { score_alarm_words, SCORE_ALARM },       { score_deadline_words, SCORE_DEADLINE },
    { score_no_rush_phrases, SCORE_NO_RUSH }, { score_change_mind, SCORE_CHANGE_MIND | SCORE_RHETORICAL },
};

struct score_phrase {
    const char *text;
    size_t len;
    unsigned category;
};

struct score_lexicon {
    GHashTable *by_word;    /* first word -> GPtrArray of struct score_phrase (ASCII phrases) */
    GPtrArray *anywhere;    /* other scripts, emoji, phrases opening with punctuation: substrings */
};

static bool score_word_char(char c)
{
    /* Bytes of other scripts count as word characters, so "du" does not
     * match inside "dürfen"; apostrophes too, so "you" not in "you're". */
    return g_ascii_isalnum(c) || (unsigned char)c >= 0x80 || c == '\'';
}

static bool score_is_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s >= 0x80)
            return false;
    return true;
}

static const struct score_lexicon *score_lexicon(void)
{
    static struct score_lexicon lex;
    static gsize ready;
    if (g_once_init_enter(&ready)) {
        lex.by_word = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
        lex.anywhere = g_ptr_array_new_with_free_func(g_free);
        for (size_t l = 0; l < G_N_ELEMENTS(score_lists); l++) {
            for (const char *const *p = score_lists[l].list; *p; p++) {
                struct score_phrase *ph = g_new(struct score_phrase, 1);
                *ph = (struct score_phrase){ *p, strlen(*p), score_lists[l].category };
                size_t w = 0;
                while (ph->text[w] && score_word_char(ph->text[w]))
                    w++;
                if (!score_is_ascii(ph->text) || w == 0) {
                    g_ptr_array_add(lex.anywhere, ph);
                    continue;
                }
                char *word = g_strndup(ph->text, w);
                GPtrArray *list = g_hash_table_lookup(lex.by_word, word);
                if (!list) {
                    list = g_ptr_array_new_with_free_func(g_free);
                    g_hash_table_insert(lex.by_word, word, list);
                } else {
                    g_free(word);
                }
                g_ptr_array_add(list, ph);
            }
        }
        g_once_init_leave(&ready, 1);
    }
    return &lex;
}

#define SCORE_MAX_SENTENCES 32

struct score_sentence {
    size_t start, end;      /* byte offsets in the cleaned text */
    bool question;
    unsigned found;         /* SCORE_* categories inside */
};

struct score_scan {
    struct score_sentence s[SCORE_MAX_SENTENCES];
    int n;
    unsigned found;         /* over the whole text */
};

static void score_mark(struct score_scan *sc, size_t at, unsigned category)
{
    sc->found |= category;
    for (int i = sc->n - 1; i >= 0; i--) {
        if (at >= sc->s[i].start) {
            sc->s[i].found |= category;
            return;
        }
    }
}

/* Which phrases occur where. Only whole-text categories are needed for a
 * text that is not split into sentences (a GitHub title), so sentences are
 * optional: with none, only sc->found is filled. */
static void score_find(const char *clean, struct score_scan *sc)
{
    const struct score_lexicon *lex = score_lexicon();
    bool ascii = true;
    char word[48];
    for (const char *p = clean; *p; p++) {
        if ((unsigned char)*p >= 0x80)
            ascii = false;
        if (!score_word_char(*p) || (p > clean && score_word_char(p[-1])))
            continue;
        size_t w = 0;
        while (score_word_char(p[w]))
            w++;
        if (w >= sizeof word)
            continue;
        memcpy(word, p, w);
        word[w] = '\0';
        GPtrArray *list = g_hash_table_lookup(lex->by_word, word);
        for (guint i = 0; list && i < list->len; i++) {
            const struct score_phrase *ph = g_ptr_array_index(list, i);
            /* A phrase that ends in punctuation bounds itself. */
            if (strncmp(p, ph->text, ph->len) == 0 &&
                (!score_word_char(p[ph->len]) || !g_ascii_isalnum(ph->text[ph->len - 1])))
                score_mark(sc, (size_t)(p - clean), ph->category);
        }
    }
    for (guint i = 0; i < lex->anywhere->len; i++) {
        const struct score_phrase *ph = g_ptr_array_index(lex->anywhere, i);
        if (ascii && !score_is_ascii(ph->text))
            continue;
        for (const char *q = strstr(clean, ph->text); q; q = strstr(q + 1, ph->text))
            score_mark(sc, (size_t)(q - clean), ph->category);
    }
}


/* Lower-cased text with @handles replaced by "@" and links by "url", so
 * that their dots and words do not pass for sentences; counts the words and
 * visible characters left. */
static char *score_clean(const char *lower, int *words, int *chars)
{
    GString *out = g_string_sized_new(strlen(lower));
    *words = *chars = 0;
    const char *p = lower;
    while (*p) {
        if (g_ascii_isspace(*p)) {
            g_string_append_c(out, *p == '\n' ? '\n' : ' ');
            p++;
            continue;
        }
        const char *end = p;
        while (*end && !g_ascii_isspace(*end))
            end++;
        size_t len = (size_t)(end - p);
        if (p[0] == '@' && len > 1) {
            /* Keep the punctuation after a handle: "@bob, can you" and "cc @kit." */
            size_t keep = len;
            while (keep > 1 && strchr(",.!?:;)", p[keep - 1]))
                keep--;
            g_string_append_c(out, '@');
            g_string_append_len(out, p + keep, (gssize)(len - keep));
        } else if (g_strstr_len(p, (gssize)len, "://") || strncmp(p, "www.", 4) == 0) {
            g_string_append(out, "url");
        } else {
            g_string_append_len(out, p, (gssize)len);
            bool word = false;
            for (const char *c = p; c < end; c = g_utf8_next_char(c)) {
                gunichar u = g_utf8_get_char_validated(c, end - c);
                if (u == (gunichar)-1 || u == (gunichar)-2)
                    break;
                if (g_unichar_isalnum(u))
                    word = true;
                if (!g_unichar_ispunct(u))
                    (*chars)++;
            }
            *words += word;
        }
        p = end;
    }
    return g_string_free(out, FALSE);
}

/* Length of a sentence terminator at p, 0 if none; *question is set when it
 * is a question mark. A '.' ends a sentence only before a space, so
 * "tideline 1.0" and "example.com" stay whole. */
static size_t score_terminator(const char *p, bool *question)
{
    *question = false;
    if (*p == '?') {
        *question = true;
        return 1;
    }
    if (*p == '!' || *p == '\n')
        return 1;
    if (*p == '.' && (p[1] == '\0' || g_ascii_isspace(p[1])))
        return 1;
    if (strncmp(p, "\xEF\xBC\x9F", 3) == 0) { /* ？ */
        *question = true;
        return 3;
    }
    if (strncmp(p, "\xEF\xBC\x81", 3) == 0 || strncmp(p, "\xE3\x80\x82", 3) == 0) /* ！ 。 */
        return 3;
    return 0;
}

/* Split into sentences, remembering which end in a question mark. Past
 * SCORE_MAX_SENTENCES the rest joins the last one. */
static void score_split(const char *clean, struct score_scan *sc)
{
    size_t start = 0;
    for (size_t i = 0;; i++) {
        bool question = false;
        size_t n = clean[i] ? score_terminator(clean + i, &question) : 1;
        if (n == 0)
            continue;
        /* Spanish opens questions with '¿'; the sentence may end elsewhere. */
        if (g_strstr_len(clean + start, (gssize)(i - start), "\xC2\xBF"))
            question = true;
        if (sc->n < SCORE_MAX_SENTENCES) {
            sc->s[sc->n++] = (struct score_sentence){ start, i, question, 0 };
        } else {
            sc->s[sc->n - 1].end = i;
            sc->s[sc->n - 1].question |= question;
        }
        if (!clean[i])
            break;
        i += n - 1;
        start = i + 1;
    }
}

static bool score_ends_with(const char *s, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/* Does the sentence open with "Name," (after any @handles)? */
static bool score_opens_with_name(const char *body, const char *end)
{
    const char *p = body;
    while (p < end && *p != ',' && !g_ascii_isspace(*p))
        p++;
    if (p == end || *p != ',' || p == body)
        return false;
    char word[48];
    size_t n = (size_t)(p - body);
    if (n >= sizeof word)
        return false;
    memcpy(word, body, n);
    word[n] = '\0';
    if (!g_utf8_validate(word, -1, NULL))
        return false;
    for (const char *c = word; *c; c = g_utf8_next_char(c))
        if (!g_unichar_isalpha(g_utf8_get_char(c)) && *c != '-')
            return false;
    for (int i = 0; score_not_names[i]; i++)
        if (strcmp(word, score_not_names[i]) == 0)
            return false;
    return true;
}

static void score_sentence(struct score_text *t, const char *clean, const struct score_sentence *s, bool cc)
{
    const char *body = clean + s->start, *end = clean + s->end;
    int handles = 0;
    for (;;) {
        while (body < end && (g_ascii_isspace(*body) || *body == ',' || *body == ':'))
            body++;
        if (body == end || *body != '@')
            break;
        handles++;
        body++;
    }
    while (end > body && g_ascii_isspace(end[-1]))
        end--;
    bool question = s->question;
    if (question)
        t->any_question = true; /* even a bare "?" (a nudge) */
    if (body == end)
        return;
    size_t len = (size_t)(end - body);
    bool named = score_opens_with_name(body, end);
    /* "@bob can you ... cc @kit": the ask goes to the person it opens with. */
    bool elsewhere = cc && (handles > 0 || named);
    bool request = (s->found & SCORE_REQUEST) || (question && score_ends_with(body, len, "thoughts"));
    bool rhetorical = s->found & SCORE_RHETORICAL;
    for (int i = 0; question && score_rhetorical_tags[i]; i++)
        rhetorical = rhetorical || score_ends_with(body, len, score_rhetorical_tags[i]);
    if (rhetorical && (question || (s->found & SCORE_CHANGE_MIND))) {
        t->rhetorical = true;
        return;
    }
    if (request) {
        if (elsewhere)
            t->to_other = true;
        else {
            t->request = true;
            t->vocative = t->vocative || named;
        }
        return;
    }
    if (!question)
        return;
    bool you = s->found & SCORE_YOU;
    if (elsewhere)
        t->to_other = true;
    else if (!you && (s->found & SCORE_CROWD))
        t->crowd = true;
    else if (t->joking)
        t->rhetorical = true;
    else {
        if (you)
            t->addressed = true;
        else
            t->interrogative = true;
        t->vocative = t->vocative || named;
    }
}

void score_read(const char *text, struct score_text *t)
{
    memset(t, 0, sizeof *t);
    if (!text)
        return;
    g_autofree char *lower = score_lower(text);
    int words, chars;
    g_autofree char *clean = score_clean(lower, &words, &chars);
    struct score_scan sc = { .n = 0 };
    score_split(clean, &sc);
    score_find(clean, &sc);
    bool cc = sc.found & SCORE_CC;
    t->joking = sc.found & SCORE_JOKE;
    for (int i = 0; i < sc.n; i++)
        score_sentence(t, clean, &sc.s[i], cc);

    bool asks = t->request || t->addressed || t->interrogative;
    if (!t->any_question && !asks) {
        if (words <= 8 && (sc.found & SCORE_THANKS))
            t->thanks_only = true;
        else if (sc.found & SCORE_RESOLVED)
            t->resolved = true;
        else if (chars <= 8)
            t->tiny = true;
    }
    t->alarm = sc.found & SCORE_ALARM;
    if (t->tiny && t->alarm)
        t->tiny = false;
    t->no_rush = sc.found & SCORE_NO_RUSH;
    t->deadline = !t->no_rush && (sc.found & SCORE_DEADLINE);
    struct score_shape shape;
    score_shape_read(text, clean, &shape);
    t->problem = shape.problem;
    t->secret = shape.secret;
    t->life = shape.life;
    t->pitch = shape.pitch;
    t->hostile = shape.hostile;
    if (t->tiny && (t->problem || t->secret))
        t->tiny = false;
}

/* Alarm words in a short text that is not read as sentences (a title). */
bool score_mentions_alarm(const char *text)
{
    g_autofree char *lower = score_lower(text);
    struct score_scan sc = { .n = 0 };
    score_find(lower, &sc);
    return sc.found & SCORE_ALARM;
}

int score_question_strength(const char *text)
{
    struct score_text t;
    score_read(text, &t);
    if (t.request || t.addressed)
        return 2;
    return t.any_question || t.interrogative || t.rhetorical || t.crowd || t.to_other ? 1 : 0;
}

unsigned score_signals(const struct mention *m)
{
    struct score_text t;
    score_read(m->text, &t);
    if (!t.alarm && m->context)
        t.alarm = score_mentions_alarm(m->context);
    const bool bits[SCORE_SIGNAL_COUNT] = {
        t.any_question, t.addressed, t.interrogative, t.request, t.to_other, t.rhetorical, t.crowd,
        t.joking, t.thanks_only, t.resolved, t.tiny, t.alarm, t.deadline, t.no_rush,
        t.problem, t.secret, t.life, t.pitch, t.hostile,
    };
    unsigned out = 0;
    for (int i = 0; i < SCORE_SIGNAL_COUNT; i++)
        out |= bits[i] ? 1u << i : 0;
    return out;
}

