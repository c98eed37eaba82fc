/* SPDX-License-Identifier: MIT */
/* score-shape: see score-shape.h.
 *
 * The word classes below are general vocabulary of each kind (verbs of
 * failure, family nouns, recruiting terms), not phrases of any labelled
 * mention; the rules combine them by position: a failure verb after a
 * subject that is not a person, a negation just before a working verb, a
 * life event in a first-person sentence. A few common German, Spanish,
 * French and Portuguese forms are included where a single word carries
 * the meaning.
 */
#include "score-shape.h"

#include <glib.h>
#include <string.h>

#include "score-token.h"

enum {
    SH_FAIL = 1u << 0,     /* a failure predicate, unless a person is its subject */
    SH_BUG = 1u << 1,      /* bug-report vocabulary whoever the subject is */
    SH_WEAK = 1u << 2,     /* wrong, empty, missing: a problem only in context */
    SH_NEG = 1u << 3,      /* doesn't, can't, not */
    SH_WORKS = 1u << 4,    /* work, start, build: what a negation breaks */
    SH_RETURN = 1u << 5,   /* returns, shows, gives: before a WEAK word */
    SH_PERSON = 1u << 6,   /* subject pronouns */
    SH_SINCE = 1u << 7,    /* since, after: before a version */
    SH_UPGRADE = 1u << 8,  /* "after upgrading": a regression context on its own */
    SH_HTTP = 1u << 9,     /* words next to an HTTP status that make it one */
    SH_FIRST = 1u << 10,   /* first person */
    SH_OPENER = 1u << 11,  /* a sentence opener that drops the "I" ("got", "just") */
    SH_EVENT = 1u << 12,   /* a life event */
    SH_FAMILY = 1u << 13,
    SH_LOSS = 1u << 14,    /* died, lost: a life event with a family noun */
    SH_PITCH = 1u << 15,   /* recruiting or selling on its own */
    SH_PITCH_WEAK = 1u << 16, /* ... when two are present */
    SH_HOSTILE = 1u << 17,
    SH_HOSTILE_Q = 1u << 18,  /* hostile in a question ("seriously?") */
    SH_CRED = 1u << 19,    /* a credential noun */
    SH_EXPOSE = 1u << 20,  /* shows, contains, public: it is visible */
    SH_MEDIUM = 1u << 21,  /* where it is visible: screenshot, logs, repo */
    SH_NOT_CRED = 1u << 22,/* "login page", "password manager": not the credential */
    SH_NEG_AFTER = 1u << 23,  /* negations that follow the verb (de "geht nicht", fr "marche pas") */
    SH_IF = 1u << 24,      /* "if CI fails": a failure that has not happened */
    SH_HOSTILE_END = 1u << 25, /* dismissive when it ends the sentence ("lol ok") */
};

static const struct { unsigned cls; const char *const *words; } score_shape_lists[] = {
    { SH_FAIL, (const char *const[]){ "fails", "failed", "failing", "fail", "crashes", "crashed", "crashing",
      "hangs", "freezes", "froze", "throws", "threw", "wiped", "deleted", "dies", "vanish",
      "vanished", "vanishes", "disappears", "disappeared", "expired", "corrupts", "corrupted", "overflows",
      "times out", "timed out", "stops working", "broke", "breaks", "went missing",
      "goes missing",  "schlägt fehl", "falla", "falha", "plante", NULL } },
    { SH_BUG, (const char *const[]){ "segfault", "segfaults", "segfaulted", "sigsegv", "sigabrt", "traceback",
      "backtrace", "stack trace", "stacktrace", "core dump", "core dumped", "exit code", "exit status",
      "non-zero exit", "reproduced", "reproduces", "repro", "steps to reproduce", "regressed", "regression",
      "stopped working", "memory leak", "deadlock", "deadlocks", "absturz", NULL } },
    { SH_WEAK, (const char *const[]){ "nothing", "empty", "wrong", "missing", "gone", "blank", "stale",
      "outdated", "old", "slower", "error", "errors", "anymore", "incorrect", "garbage", "truncated", NULL } },
    { SH_NEG, (const char *const[]){ "doesn't", "don't", "won't", "can't", "cannot", "couldn't", "didn't",
      "isn't", "wouldn't", "not", "never", "no", "não", "kein", "keine", NULL } },
    { SH_NEG_AFTER, (const char *const[]){ "nicht", "pas", NULL } },
    { SH_IF, (const char *const[]){ "if", "unless", "whenever", "in case", "wenn", "falls", "si", NULL } },
    { SH_WORKS, (const char *const[]){ "work", "works", "working", "worked", "start", "starts", "build",
      "builds", "compile", "compiles", "load", "loads", "install", "installs", "run", "runs", "boot", "boots",
      "open", "opens", "connect", "connects", "match", "matches", "link", "links", "launch", "launches",
      "resolve", "resolves", "render", "renders", "import", "imports", "arrive", "arrives", "respond",
      "responds", "exist", "exists", "download", "downloads", "sync", "syncs", "funktioniert", "funciona",
      "marche", "fonctionne", NULL } },
    { SH_RETURN, (const char *const[]){ "returns", "returned", "returning", "shows", "showing", "gives",
      "giving", "serves", "serving", NULL } },
    { SH_PERSON, (const char *const[]){ "i", "you", "he", "she", "they", "u", NULL } },
    { SH_SINCE, (const char *const[]){ "since", "after", "from", "seit", "desde", "depuis", NULL } },
    { SH_UPGRADE, (const char *const[]){ "after upgrading", "since upgrading", "after updating",
      "since updating", "after the upgrade", "since the upgrade", "after the update", "since the update",
      NULL } },
    { SH_HTTP, (const char *const[]){ "returns", "returning", "returned", "throwing", "throws", "giving",
      "gives", "got", "getting", "http", "status", "error", "errors", "serving", "response", NULL } },
    { SH_FIRST, (const char *const[]){ "i", "i'm", "i've", "i'll", "me", "my", "we", "we're", "we've",
      "our", "us", "mine", "ich", "mein", "meine", "mi", "mis", "je", "mon", "ma", "mes", "eu", "minha",
      "meu", NULL } },
    { SH_OPENER, (const char *const[]){ "got", "just", "out", "finally", "been", "had", "back", "lost",
      "still", NULL } },
    { SH_EVENT, (const char *const[]){ "hospital", "hospitalized", "hospitalised", "diagnosed", "diagnosis",
      "funeral", "surgery", "pregnant", "miscarriage", "cancer", "chemo", "stroke", "heart attack",
      "married", "engaged", "wedding", "divorce", "divorced", "born", "laid off", "layoff", "lost my job",
      "accident", "injured", "icu", "ambulance", "a fire", "evacuated",
      "grief", "grieving", "passed away", "krankenhaus", "hospital", "hôpital", "enterrement", "entierro",
      "velório", NULL } },
    { SH_FAMILY, (const char *const[]){ "mom", "mum", "mother", "dad", "father", "parent", "parents", "wife",
      "husband", "partner", "son", "daughter", "kid", "kids", "child", "baby", "brother", "sister",
      "grandma", "grandmother", "grandpa", "grandfather", "aunt", "uncle", "cousin", "friend", "family",
      "mutter", "vater", "madre", "padre", "mère", "père", "mãe", "pai", NULL } },
    { SH_LOSS, (const char *const[]){ "died", "dies", "passed", "lost", "losing", "death", "gestorben",
      "murió", "falleció", "décédé", "morreu", NULL } },
    { SH_PITCH, (const char *const[]){ "recruiter", "recruiting", "recruitment", "headhunter", "hiring",
      "talent", "compensation", "salary", "equity", "calendly", "dm me", "paid partnership",
      "job opportunity", "open role", "open position", NULL } },
    { SH_PITCH_WEAK, (const char *const[]){ "role", "roles", "position", "positions", "opportunity",
      "opportunities", "opening", "openings", "partnership", "collab", "collaboration", "sponsor",
      "sponsored", "sponsorship", "promote", "promotion", "audience", "followers", "newsletter",
      "quick call", "quick chat", "reach out", "reaching out", "your background", "your profile",
      "came across", "great fit", "perfect fit", "good fit", "we help", "our platform", "our product",
      "startup", "monetize", "monetise", "deck", "remote", "consulting", NULL } },
    { SH_HOSTILE, (const char *const[]){ "did you even", "do you even", "have you even", "are you even",
      "clown", "clowns", "idiot", "idiots", "moron", "morons", "stupid", "garbage",
      "pathetic", "clueless", "incompetent", "amateurs", "skill issue", "wtf", "ffs", "bullshit",
      "get a clue", "rtfm", "ridiculous", "embarrassing", "shame on you", "ashamed", NULL } },
    { SH_HOSTILE_END, (const char *const[]){ "lol ok", "k lol", "ok buddy", "sure jan", NULL } },
    { SH_HOSTILE_Q, (const char *const[]){ "seriously", "ernsthaft", "sérieux", "sério", NULL } },
    { SH_CRED, (const char *const[]){ "password", "passwords", "passwd", "passphrase", "token", "tokens",
      "secret", "secrets", "credentials", "credential", "login", "logins", "connection string",
      "auth header", "authorization header", "api key", "api keys", "private key", "access key",
      "secret key", "ssh key", "signing key", "session cookie", "cookie", "cookies", "bearer", "passwort",
      "contraseña", "senha", "mot de passe", NULL } },
    { SH_EXPOSE, (const char *const[]){ "shows", "showing", "shown", "visible", "exposed", "exposes",
      "exposing", "leaked", "leaks", "leaking", "contains", "containing", "includes", "including", "prints",
      "printed", "printing", "plain text", "plaintext", "cleartext", "public", "publicly", "committed",
      "pushed", "still valid", "in the open", NULL } },
    { SH_MEDIUM, (const char *const[]){ "screenshot", "screenshots", "recording", "video", "stream",
      "livestream", "screencast", "photo", "picture", "image", "gif", "slides", "log", "logs", "repo",
      "repository", "commit", "gist", "paste", "pastebin", "terminal", NULL } },
    { SH_NOT_CRED, (const char *const[]){ "page", "screen", "form", "button", "flow", "prompt", "field",
      "reset", "manager", "managers", "policy", "rotation", NULL } },
};

/* ---- the lexicon: phrases of up to three words, by their first word ----- */

struct score_shape_phrase {
    char *rest;       /* words after the first, space-separated, or NULL */
    unsigned cls;
};

static void score_shape_phrase_free(gpointer p)
{
    struct score_shape_phrase *ph = p;
    g_free(ph->rest);
    g_free(ph);
}

static GHashTable *score_shape_lexicon(void)
{
    static GHashTable *by_first;
    static gsize ready;
    if (g_once_init_enter(&ready)) {
        by_first = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
        for (size_t l = 0; l < G_N_ELEMENTS(score_shape_lists); l++) {
            for (const char *const *w = score_shape_lists[l].words; *w; w++) {
                const char *space = strchr(*w, ' ');
                char *first = space ? g_strndup(*w, (gsize)(space - *w)) : g_strdup(*w);
                GPtrArray *list = g_hash_table_lookup(by_first, first);
                if (!list) {
                    list = g_ptr_array_new_with_free_func(score_shape_phrase_free);
                    g_hash_table_insert(by_first, first, list);
                } else {
                    g_free(first);
                }
                struct score_shape_phrase *ph = g_new(struct score_shape_phrase, 1);
                *ph = (struct score_shape_phrase){ space ? g_strdup(space + 1) : NULL, score_shape_lists[l].cls };
                g_ptr_array_add(list, ph);
            }
        }
        g_once_init_leave(&ready, 1);
    }
    return by_first;
}

/* ---- words ---------------------------------------------------------------- */

#define SCORE_SHAPE_WORD_BYTES 40
#define SCORE_SHAPE_MAX_SENTENCES 32

struct score_shape_word {
    char w[SCORE_SHAPE_WORD_BYTES];
    unsigned cls;     /* classes of phrases that start here */
    int sentence;
    char after;       /* the byte right after the word */
};

struct score_shape_words {
    struct score_shape_word w[SCORE_SHAPE_MAX_WORDS];
    int n;
    bool question[SCORE_SHAPE_MAX_SENTENCES];  /* sentence ends in '?' */
    int sentences;
};

/* Inside a word: letters, digits, other scripts, apostrophes; '.', '_',
 * '-' and '/' between word characters ("1.0.2", "read-only"). */
static bool score_shape_inner(const char *p, const char *start)
{
    unsigned char c = (unsigned char)*p;
    if (g_ascii_isalnum(c) || c >= 0x80 || c == '\'')
        return true;
    return (c == '.' || c == '_' || c == '-' || c == '/') && p > start &&
           (g_ascii_isalnum(p[1]) || (unsigned char)p[1] >= 0x80);
}

static void score_shape_add_word(struct score_shape_words *ws, const char *start, const char *end, int sentence)
{
    struct score_shape_word *w = &ws->w[ws->n];
    size_t o = 0;
    for (const char *c = start; c < end && o + 1 < sizeof w->w; c++) {
        if (*c == '\xE2' && c[1] == '\x80' && c[2] == '\x99') { /* ’ */
            w->w[o++] = '\'';
            c += 2;
        } else {
            w->w[o++] = *c;
        }
    }
    w->w[o] = '\0';
    w->cls = 0;
    w->sentence = MIN(sentence, SCORE_SHAPE_MAX_SENTENCES - 1);
    w->after = *end;
    ws->n++;
}

/* Split clean (lower case) into words and sentences. */
static void score_shape_split(const char *clean, struct score_shape_words *ws)
{
    memset(ws->question, 0, sizeof ws->question);
    ws->n = 0;
    int sentence = 0;
    const char *p = clean;
    while (*p && ws->n < SCORE_SHAPE_MAX_WORDS) {
        if (*p == '?' || *p == '!' || *p == '\n' || (*p == '.' && (!p[1] || g_ascii_isspace(p[1])))) {
            /* "?!" and "!?" end one sentence, a question either way. */
            const struct score_shape_word *last = ws->n > 0 ? &ws->w[ws->n - 1] : NULL;
            if (*p == '?' && last)
                ws->question[last->sentence] = true;
            if (last && last->sentence == MIN(sentence, SCORE_SHAPE_MAX_SENTENCES - 1))
                sentence++;
            p++;
            continue;
        }
        if (!score_shape_inner(p, p) || *p == '\'') {
            p++;
            continue;
        }
        const char *start = p;
        while (*p && score_shape_inner(p, start))
            p++;
        score_shape_add_word(ws, start, p, sentence);
    }
    ws->sentences = MIN(sentence + 1, SCORE_SHAPE_MAX_SENTENCES);
}

/* Do the words from i on read "rest" (space-separated)? Returns how many. */
static int score_shape_follows(const struct score_shape_words *ws, int i, const char *rest)
{
    int n = 0;
    while (*rest) {
        const char *space = strchr(rest, ' ');
        size_t len = space ? (size_t)(space - rest) : strlen(rest);
        if (i + n >= ws->n || strlen(ws->w[i + n].w) != len || strncmp(ws->w[i + n].w, rest, len) != 0)
            return 0;
        n++;
        rest += len + (space ? 1 : 0);
    }
    return n;
}

static void score_shape_classify(struct score_shape_words *ws)
{
    GHashTable *lex = score_shape_lexicon();
    for (int i = 0; i < ws->n; i++) {
        /* NPM_TOKEN, db_password: the part after the last '_' says what it is. */
        const char *under = strrchr(ws->w[i].w, '_');
        if (under && under[1]) {
            GPtrArray *tail = g_hash_table_lookup(lex, under + 1);
            for (guint k = 0; tail && k < tail->len; k++) {
                const struct score_shape_phrase *ph = g_ptr_array_index(tail, k);
                ws->w[i].cls |= ph->rest ? 0 : ph->cls & SH_CRED;
            }
        }
        GPtrArray *list = g_hash_table_lookup(lex, ws->w[i].w);
        for (guint k = 0; list && k < list->len; k++) {
            const struct score_shape_phrase *ph = g_ptr_array_index(list, k);
            if (!ph->rest || score_shape_follows(ws, i + 1, ph->rest) > 0)
                ws->w[i].cls |= ph->cls;
        }
    }
}

/* ---- the rules ------------------------------------------------------------ */

static bool score_shape_same(const struct score_shape_words *ws, int i, int j)
{
    return j >= 0 && j < ws->n && ws->w[i].sentence == ws->w[j].sentence;
}

/* Any word within `ahead` words after i, in i's sentence, of class cls? */
static bool score_shape_near(const struct score_shape_words *ws, int i, int ahead, unsigned cls)
{
    for (int j = i + 1; j <= i + ahead && score_shape_same(ws, i, j); j++)
        if (ws->w[j].cls & cls)
            return true;
    return false;
}

/* ... within `back` words before i? */
static bool score_shape_behind(const struct score_shape_words *ws, int i, int back, unsigned cls)
{
    for (int j = i - 1; j >= i - back && score_shape_same(ws, i, j); j--)
        if (ws->w[j].cls & cls)
            return true;
    return false;
}

static bool score_shape_version(const char *w)
{
    const char *p = w + (w[0] == 'v');
    if (!g_ascii_isdigit(*p))
        return false;
    bool dot = false;
    for (; *p; p++) {
        if (*p == '.' && g_ascii_isdigit(p[1]))
            dot = true;
        else if (!g_ascii_isdigit(*p))
            return false;
    }
    return dot;
}

/* 404, 500s: a 4xx/5xx number with an HTTP word next to it or a plural. */
static bool score_shape_status(const struct score_shape_words *ws, int i)
{
    const char *w = ws->w[i].w;
    size_t len = strlen(w);
    if ((len != 3 && !(len == 4 && w[3] == 's')) || (w[0] != '4' && w[0] != '5') || !g_ascii_isdigit(w[1]) ||
        !g_ascii_isdigit(w[2]))
        return false;
    return len == 4 || (score_shape_same(ws, i, i - 1) && (ws->w[i - 1].cls & SH_HTTP)) ||
           (score_shape_same(ws, i, i + 1) && (ws->w[i + 1].cls & SH_HTTP));
}

/* A sentence where a version follows "since"/"after", or "after upgrading". */
static bool score_shape_regression_at(const struct score_shape_words *ws, int i)
{
    if (ws->w[i].cls & SH_UPGRADE)
        return true;
    return (ws->w[i].cls & SH_SINCE) &&
           ((score_shape_same(ws, i, i + 1) && score_shape_version(ws->w[i + 1].w)) ||
            (score_shape_same(ws, i, i + 2) && score_shape_version(ws->w[i + 2].w)));
}

/* Something does not work, said by structure rather than by one word. */
static bool score_shape_problem(const struct score_shape_words *ws, const struct score_tokens *tok)
{
    if (tok->error)
        return true;
    bool regression[SCORE_SHAPE_MAX_SENTENCES] = { false }, weak[SCORE_SHAPE_MAX_SENTENCES] = { false };
    for (int i = 0; i < ws->n; i++) {
        const struct score_shape_word *w = &ws->w[i];
        /* "the upload fails", not "I failed my exam" nor "if CI fails". */
        bool person = score_shape_same(ws, i, i - 1) && (ws->w[i - 1].cls & SH_PERSON);
        if ((w->cls & SH_BUG) || ((w->cls & SH_FAIL) && !person && !score_shape_behind(ws, i, 3, SH_IF)))
            return true;
        if ((w->cls & SH_NEG) && score_shape_near(ws, i, 2, SH_WORKS))
            return true;
        if ((w->cls & SH_WORKS) && score_shape_near(ws, i, 2, SH_NEG_AFTER))
            return true;
        if ((w->cls & SH_RETURN) && score_shape_near(ws, i, 3, SH_WEAK))
            return true;
        if (score_shape_status(ws, i) || (strcmp(w->w, "panic") == 0 && w->after == ':'))
            return true;
        regression[w->sentence] |= score_shape_regression_at(ws, i);
        weak[w->sentence] |= (w->cls & SH_WEAK) != 0;
    }
    for (int s = 0; s < ws->sentences; s++)
        if (regression[s] && weak[s])
            return true;
    return false;
}

static bool score_shape_config_file(const char *w)
{
    static const char *const exts[] = { ".json", ".toml", ".yml", ".yaml", ".ini", ".conf", ".cfg", ".xml",
                                        ".properties", NULL };
    const char *dot = strrchr(w, '.');
    for (int i = 0; dot && exts[i]; i++)
        if (strcmp(dot, exts[i]) == 0)
            return true;
    return false;
}

/* A credential in the open: a token shaped like one, a secrets file or a
 * credential noun next to a word that says it can be seen. */
static bool score_shape_secret(const struct score_shape_words *ws, const struct score_tokens *tok)
{
    if (tok->secret)
        return true;
    bool seen_anywhere = false;
    unsigned in[SCORE_SHAPE_MAX_SENTENCES] = { 0 };
    for (int i = 0; i < ws->n; i++) {
        unsigned c = ws->w[i].cls;
        /* A file path is somewhere a credential can be read ("config/app.toml"). */
        if (strchr(ws->w[i].w, '/') || score_shape_config_file(ws->w[i].w))
            c |= SH_MEDIUM;
        /* "the login page", "a password manager": not the credential itself. */
        if ((c & SH_CRED) && score_shape_same(ws, i, i + 1) && (ws->w[i + 1].cls & SH_NOT_CRED))
            c &= ~(unsigned)SH_CRED;
        in[ws->w[i].sentence] |= c;
        seen_anywhere |= (c & (SH_EXPOSE | SH_MEDIUM)) != 0;
    }
    if (tok->secret_file && seen_anywhere)
        return true;
    /* A question about credentials ("how do I hide the token in the logs?")
     * is not a report that one is out. */
    for (int s = 0; s < ws->sentences; s++)
        if ((in[s] & SH_CRED) && (in[s] & (SH_EXPOSE | SH_MEDIUM)) && !ws->question[s])
            return true;
    return false;
}

/* Personal news in the first person: "my dad passed away", "we lost the
 * baby", "got laid off this morning" (the "I" dropped at the start). */
static bool score_shape_life(const struct score_shape_words *ws)
{
    unsigned in[SCORE_SHAPE_MAX_SENTENCES] = { 0 };
    bool opener[SCORE_SHAPE_MAX_SENTENCES] = { false };
    for (int i = 0; i < ws->n; i++) {
        in[ws->w[i].sentence] |= ws->w[i].cls;
        if (i == 0 || ws->w[i - 1].sentence != ws->w[i].sentence)
            opener[ws->w[i].sentence] = (ws->w[i].cls & SH_OPENER) != 0;
    }
    for (int s = 0; s < ws->sentences; s++) {
        bool event = (in[s] & SH_EVENT) || ((in[s] & SH_FAMILY) && (in[s] & SH_LOSS));
        if (event && ((in[s] & SH_FIRST) || opener[s]))
            return true;
    }
    return false;
}

/* Recruiting, selling, sponsorship: one clear marker or two weaker ones. */
static bool score_shape_pitch(const struct score_shape_words *ws, const struct score_tokens *tok, const char *clean)
{
    int weak = tok->price;
    for (int i = 0; i < ws->n; i++) {
        if (ws->w[i].cls & SH_PITCH)
            return true;
        weak += (ws->w[i].cls & SH_PITCH_WEAK) != 0;
    }
    /* Booking links survive as words ("calendly.com/x"); other links are "url". */
    return weak >= 2 || strstr(clean, "calendly") || strstr(clean, "cal.com/");
}

/* Contempt or bad faith: a sneer, an insult, "seriously?", "?!", or a
 * question shouted in capitals. */
static bool score_shape_hostile(const struct score_shape_words *ws, const struct score_tokens *tok)
{
    if (tok->angry_punct)
        return true;
    bool any_question = false;
    for (int i = 0; i < ws->n; i++) {
        const struct score_shape_word *w = &ws->w[i];
        /* ... but "garbage collection" is a technique. */
        bool gc = strcmp(w->w, "garbage") == 0 && i + 1 < ws->n && strncmp(ws->w[i + 1].w, "collect", 7) == 0;
        if ((w->cls & SH_HOSTILE) && !gc)
            return true;
        if ((w->cls & SH_HOSTILE_Q) && ws->question[w->sentence])
            return true;
        if ((w->cls & SH_HOSTILE_END) && !score_shape_same(ws, i, i + 2))
            return true;
        any_question |= ws->question[w->sentence];
    }
    return tok->shouted >= 3 && any_question;
}

void score_shape_read(const char *text, const char *clean, struct score_shape *out)
{
    memset(out, 0, sizeof *out);
    if (!text || !clean)
        return;
    struct score_tokens tok;
    score_tokens_read(text, &tok);
    struct score_shape_words ws;
    score_shape_split(clean, &ws);
    score_shape_classify(&ws);
    out->problem = score_shape_problem(&ws, &tok);
    out->secret = score_shape_secret(&ws, &tok);
    out->life = score_shape_life(&ws);
    out->pitch = score_shape_pitch(&ws, &tok, clean);
    out->hostile = score_shape_hostile(&ws, &tok);
}
