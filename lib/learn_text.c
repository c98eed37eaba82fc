/* SPDX-License-Identifier: MIT */
/* learn_text: see learn_text.h.
 *
 * The topic lists name kinds of message, broadly, in plain words; they are
 * not tuned to any labelled mention, and a wrong entry costs little: its
 * topic's weight is learned from what the user does, starting at 0.
 */
#include "learn_text.h"

#include <glib.h>
#include <string.h>

#define LEARN_TEXT_MAX_TOKENS 256

static const char *const learn_problem_words[] = {
    "error", "errors", "fails", "failed", "failing", "failure", "doesn't work", "does not work", "not working",
    "stopped working", "no longer", "won't", "can't", "cannot", "unable", "segfault", "segfaults", "panic",
    "panics", "exception", "traceback", "stack trace", "backtrace", "404", "404s", "500", "500s", "timeout",
    "times out", "hangs", "freezes", "deadlock", "memory leak", "wrong", "incorrect", "missing", "bug", "bugs",
    "typo", "regression", "deleted", "wiped", "lost", "corrupt", "corrupted", "mismatch", "doesn't match",
    "broken", "breaks", "broke", "crash", "crashes", "crashed", "dead link", "reproduce", "reproduced", "repro",
    "workaround", "undefined", "invalid", "warning", "downgrade", "rollback", "revert", NULL,
};

static const char *const learn_secret_words[] = {
    "token", "tokens", "secret", "secrets", "api key", "apikey", "private key", "ssh key", "password",
    "passwords", "passwd", "credential", "credentials", "env", "dotenv", "bearer", "authorization",
    "session cookie", "exposed", "exposes", "in plain text", "plaintext", "publicly visible", "leaked", "leaks",
    "leak", "rotate", "revoke", "access key", "signing key", NULL,
};

static const char *const learn_life_words[] = {
    "passed away", "passed", "died", "death", "funeral", "hospital", "hospitalized", "surgery", "diagnosed",
    "diagnosis", "cancer", "illness", "stroke", "heart attack", "accident", "grief", "grieving", "miscarriage",
    "pregnant", "baby", "born", "married", "wedding", "engaged", "divorce", "breakup", "laid off", "layoffs",
    "fired", "lost my job", "new job", "got the job", "burnout", "burned out", "burnt out", "mental health",
    "my mom", "my mum", "my dad", "my father", "my mother", "my wife", "my husband", "my partner", "my kid",
    "my son", "my daughter", "my family", "rough week", "rough day", "hard time", "going through", NULL,
};

static const char *const learn_pitch_words[] = {
    "opportunity", "opportunities", "role", "position", "hiring", "recruiter", "recruiting", "talent",
    "candidate", "compensation", "salary", "equity", "stealth", "founding", "your profile", "your background",
    "came across", "quick call", "quick chat", "hop on a call", "jump on a call", "calendly", "schedule a call",
    "partnership", "collab", "collaboration", "sponsor", "sponsored", "promote", "promotion", "grow your",
    "followers", "audience", "monetize", "deck", "discount", "free trial", "dm me", "check your dm", "we help",
    "our platform", "our product", "great fit", "perfect fit", "reach out", "reaching out", "open to", NULL,
};

static const char *const learn_hostile_words[] = {
    "did you even", "do you even", "have you even", "seriously", "ridiculous", "unbelievable", "pathetic",
    "embarrassing", "garbage", "trash", "crap", "shit", "damn", "wtf", "idiot", "idiots", "stupid", "dumb",
    "clueless", "incompetent", "lazy", "ashamed", "shame", "worst", "terrible", "awful", "useless", "nonsense",
    "bullshit", "clown", "hypocrite", "arrogant", "who taught you", "learn to", "skill issue", "get a clue",
    "go back to", "ever heard of", NULL,
};

static const char *const *const learn_topic_lists[LEARN_TOPIC_COUNT] = {
    [LEARN_TOPIC_PROBLEM] = learn_problem_words, [LEARN_TOPIC_SECRET] = learn_secret_words,
    [LEARN_TOPIC_LIFE] = learn_life_words,       [LEARN_TOPIC_PITCH] = learn_pitch_words,
    [LEARN_TOPIC_HOSTILE] = learn_hostile_words,
};

/* Too common to say anything about one person's habits. */
static const char *const learn_stop_words[] = {
    "a", "an", "the", "and", "or", "but", "to", "of", "in", "on", "at", "for", "with", "is", "are", "was", "were",
    "be", "been", "it", "its", "it's", "this", "that", "i", "i'm", "me", "my", "we", "our", "you", "your", "so",
    "just", "if", "as", "by", "from", "do", "does", "did", "have", "has", "had", "not", "no", "yes", "will", "would",
    "there", "here", "what", "when", "how", "all", "any", "some", "about", "up", "out", "get", "got", "also",
    "still", "now", "then", "than", "too", "very", "really", "one", "they", "them", "he", "she", "his", "her",
    "am", "im", "u", NULL,
};

struct learn_phrase {
    char *words[4];
    int n;
    enum learn_topic topic;
};

struct learn_lexicon {
    GHashTable *by_first;   /* first word -> GPtrArray of struct learn_phrase */
    GHashTable *stop;       /* set */
};

static void learn_phrase_free(gpointer p)
{
    struct learn_phrase *ph = p;
    for (int i = 0; i < ph->n; i++)
        g_free(ph->words[i]);
    g_free(ph);
}

static void learn_lexicon_add(struct learn_lexicon *lex, const char *text, enum learn_topic topic)
{
    g_auto(GStrv) parts = g_strsplit(text, " ", 4);
    struct learn_phrase *ph = g_new0(struct learn_phrase, 1);
    ph->topic = topic;
    for (; parts[ph->n] && ph->n < 4; ph->n++)
        ph->words[ph->n] = g_strdup(parts[ph->n]);
    GPtrArray *list = g_hash_table_lookup(lex->by_first, ph->words[0]);
    if (!list) {
        list = g_ptr_array_new_with_free_func(learn_phrase_free);
        g_hash_table_insert(lex->by_first, g_strdup(ph->words[0]), list);
    }
    g_ptr_array_add(list, ph);
}

static const struct learn_lexicon *learn_lexicon(void)
{
    static struct learn_lexicon lex;
    static gsize ready;
    if (g_once_init_enter(&ready)) {
        lex.by_first = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
        lex.stop = g_hash_table_new(g_str_hash, g_str_equal);
        for (int t = 0; t < LEARN_TOPIC_COUNT; t++)
            for (const char *const *p = learn_topic_lists[t]; *p; p++)
                learn_lexicon_add(&lex, *p, (enum learn_topic)t);
        for (const char *const *p = learn_stop_words; *p; p++)
            g_hash_table_add(lex.stop, (gpointer)*p);
        g_once_init_leave(&ready, 1);
    }
    return &lex;
}

/* A whitespace-separated chunk that looks like a credential: long, letters
 * and digits mixed, only the characters keys are written in. */
static bool learn_secret_shaped(const char *chunk, size_t len)
{
    while (len > 0 && strchr(".,;:!?)(\"'`", chunk[len - 1]))
        len--;
    while (len > 0 && strchr("(\"'`", chunk[0])) {
        chunk++;
        len--;
    }
    if (len < 20 || len > 200)
        return false;
    bool digit = false, alpha = false;
    for (size_t i = 0; i < len; i++) {
        char c = chunk[i];
        if (g_ascii_isdigit(c))
            digit = true;
        else if (g_ascii_isalpha(c))
            alpha = true;
        else if (!strchr("_-+/=", c))
            return false;
    }
    return digit && alpha && !memchr(chunk, '/', len);
}

struct learn_tokens {
    char *t[LEARN_TEXT_MAX_TOKENS];
    int n;
};

/* Split a chunk into words: letters and digits, with inner apostrophes. */
static void learn_chunk_words(const char *p, const char *end, struct learn_tokens *tok)
{
    while (p < end && tok->n < LEARN_TEXT_MAX_TOKENS) {
        while (p < end && !g_unichar_isalnum(g_utf8_get_char(p)))
            p = g_utf8_next_char(p);
        const char *start = p;
        while (p < end) {
            gunichar u = g_utf8_get_char(p);
            const char *next = g_utf8_next_char(p);
            if (g_unichar_isalnum(u) ||
                (u == '\'' && p > start && next < end && g_unichar_isalnum(g_utf8_get_char(next))))
                p = next;
            else
                break;
        }
        if (p > start)
            tok->t[tok->n++] = g_strndup(start, (gsize)(p - start));
    }
}

/* Lower-cased words, without handles and links; secret-shaped chunks set
 * the topic instead of becoming words. */
static void learn_tokenize(const char *text, struct learn_tokens *tok, unsigned *topics)
{
    bool ascii = true;
    for (const char *c = text; *c && ascii; c++)
        ascii = (unsigned char)*c < 0x80;
    g_autofree char *norm = ascii ? g_ascii_strdown(text, -1) : g_utf8_strdown(text, -1);
    /* One apostrophe: "don’t" is "don't". The text only shrinks. */
    char *to = norm;
    for (const char *from = norm; *from;) {
        bool curly = strncmp(from, "\xE2\x80\x99", 3) == 0;
        *to++ = curly ? '\'' : *from;
        from += curly ? 3 : 1;
    }
    *to = '\0';
    const char *p = norm;
    while (*p && tok->n < LEARN_TEXT_MAX_TOKENS) {
        while (*p && g_ascii_isspace(*p))
            p++;
        const char *end = p;
        while (*end && !g_ascii_isspace(*end))
            end++;
        size_t len = (size_t)(end - p);
        if (len == 0)
            break;
        if (learn_secret_shaped(p, len))
            *topics |= 1u << LEARN_TOPIC_SECRET;
        else if (p[0] != '@' && !g_strstr_len(p, (gssize)len, "://") && strncmp(p, "www.", 4) != 0)
            learn_chunk_words(p, end, tok);
        p = end;
    }
}

static void learn_find_topics(const struct learn_tokens *tok, unsigned *topics)
{
    const struct learn_lexicon *lex = learn_lexicon();
    for (int i = 0; i < tok->n; i++) {
        GPtrArray *list = g_hash_table_lookup(lex->by_first, tok->t[i]);
        for (guint k = 0; list && k < list->len; k++) {
            const struct learn_phrase *ph = g_ptr_array_index(list, k);
            int j = 1;
            while (j < ph->n && i + j < tok->n && strcmp(tok->t[i + j], ph->words[j]) == 0)
                j++;
            if (j == ph->n)
                *topics |= 1u << ph->topic;
        }
    }
}

static unsigned learn_hash(const char *s)
{
    guint32 h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static void learn_keep_words(const struct learn_tokens *tok, unsigned buckets, struct learn_text *out)
{
    const struct learn_lexicon *lex = learn_lexicon();
    for (int i = 0; i < tok->n && out->n < LEARN_TEXT_MAX_WORDS; i++) {
        const char *w = tok->t[i];
        if (strlen(w) < 2 || g_hash_table_contains(lex->stop, w))
            continue;
        char cut[4 * 10 + 1];
        g_utf8_strncpy(cut, w, 10); /* the first 10 characters (at most 40 bytes) */
        if (strlen(cut) >= LEARN_TEXT_WORD_BYTES)
            continue;
        bool dup = false;
        for (int k = 0; k < out->n && !dup; k++)
            dup = strcmp(out->word[k], cut) == 0;
        if (dup)
            continue;
        memcpy(out->word[out->n], cut, strlen(cut) + 1);
        out->bucket[out->n] = learn_hash(cut) % buckets;
        out->n++;
    }
}

void learn_text_read(const char *text, const char *context, unsigned buckets, struct learn_text *out)
{
    memset(out, 0, sizeof *out);
    struct learn_tokens tok = { .n = 0 };
    if (text)
        learn_tokenize(text, &tok, &out->topics);
    int n_text = tok.n;
    if (context)
        learn_tokenize(context, &tok, &out->topics);
    learn_find_topics(&tok, &out->topics);
    /* Only the text's own words: a repository name in every title of a
     * project would learn the project, not the kind of message. */
    tok.n = n_text;
    learn_keep_words(&tok, buckets, out);
    for (int i = 0; i < LEARN_TEXT_MAX_TOKENS && tok.t[i]; i++)
        g_free(tok.t[i]);
}
