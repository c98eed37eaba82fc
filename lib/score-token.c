/* SPDX-License-Identifier: MIT */
/* score-token: see score-token.h. */
#include "score-token.h"

#include <glib.h>
#include <math.h>
#include <string.h>

/* Prefixes that vendors put on their keys so that scanners can find them.
 * A token needs 20 characters in all to count ("sk-learn" is not a key). */
static const char *const score_token_prefixes[] = {
    "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "xoxb-", "xoxp-", "xoxa-", "xoxs-",
    "sk-", "sk_live_", "rk_live_", "pk_live_", "AKIA", "ASIA", "AIza", "npm_", "pypi-", "hf_", NULL,
};

/* Parts of a key name that say its value is a secret ("DB_PASSWORD=",
 * "?session="). Matched case-insensitively inside the key. */
static const char *const score_token_secret_keys[] = {
    "pass", "pwd", "secret", "token", "apikey", "api_key", "api-key", "authorization", "auth_", "session",
    "private_key", "access_key", "database_url", "db_url", "webhook", "credential", NULL,
};

/* Files that hold credentials; a name ending in ".env" counts too. */
static const char *const score_token_secret_files[] = {
    ".env", ".npmrc", ".pypirc", ".netrc", ".pgpass", ".htpasswd", ".git-credentials", ".dockercfg",
    "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "credentials.json", "kubeconfig", "secrets.yml",
    "secrets.yaml", "secrets.json", "service-account.json", NULL,
};
static const char *const score_token_secret_exts[] = { ".env", ".pem", ".p12", ".pfx", ".jks", ".keystore", NULL };

static const char *const score_token_source_exts[] = {
    "c", "h", "cc", "cpp", "hpp", "rs", "go", "py", "js", "ts", "java", "rb", "zig", "swift", "kt", "cs", NULL,
};

double score_token_entropy(const char *s, int len)
{
    int count[256] = { 0 };
    for (int i = 0; i < len; i++)
        count[(unsigned char)s[i]]++;
    double h = 0;
    for (int c = 0; c < 256; c++) {
        if (count[c]) {
            double p = (double)count[c] / len;
            h -= p * log2(p);
        }
    }
    return h;
}

static bool score_token_keyish(char c)
{
    return g_ascii_isalnum(c) || c == '_' || c == '-' || c == '+';
}

/* A run of key characters that looks random: 20+ long, upper and lower
 * case and at least three digits, and high entropy. Hex has one case, so
 * commit hashes and checksums never pass; nor do words in camelCase. */
static bool score_token_random(const char *s, int len)
{
    if (len < 20 || len > 512)
        return false;
    int upper = 0, lower = 0, digit = 0;
    for (int i = 0; i < len; i++) {
        upper += g_ascii_isupper(s[i]);
        lower += g_ascii_islower(s[i]);
        digit += g_ascii_isdigit(s[i]);
    }
    return upper && lower && digit >= 3 && score_token_entropy(s, len) >= 3.5;
}

static bool score_token_has_digit(const char *s, int len)
{
    for (int i = 0; i < len; i++)
        if (g_ascii_isdigit(s[i]))
            return true;
    return false;
}

static bool score_token_prefixed(const char *s, int len)
{
    /* Real keys are long and carry digits; "sk-learn-contrib-tools" does not. */
    if (len < 20 || !score_token_has_digit(s, len))
        return false;
    for (int i = 0; score_token_prefixes[i]; i++) {
        size_t n = strlen(score_token_prefixes[i]);
        if ((size_t)len > n + 8 && strncmp(s, score_token_prefixes[i], n) == 0)
            return true;
    }
    return false;
}

/* Any key-character run in the token that is a prefixed or random key. */
static bool score_token_has_key(const char *s, int len)
{
    for (int i = 0; i < len;) {
        int j = i;
        while (j < len && score_token_keyish(s[j]))
            j++;
        if (score_token_prefixed(s + i, j - i) || score_token_random(s + i, j - i))
            return true;
        i = j + 1;
    }
    return false;
}

/* scheme://user:password@host */
static bool score_token_url_login(const char *s, int len)
{
    const char *scheme = g_strstr_len(s, len, "://");
    if (!scheme)
        return false;
    const char *host = scheme + 3, *end = s + len;
    const char *slash = memchr(host, '/', (size_t)(end - host));
    const char *at = memchr(host, '@', (size_t)((slash ? slash : end) - host));
    const char *colon = at ? memchr(host, ':', (size_t)(at - host)) : NULL;
    return colon && colon > host && at - colon > 1;
}

static bool score_token_secret_key(const char *key, int len)
{
    char low[64];
    if (len <= 0 || len >= (int)sizeof low)
        return false;
    for (int i = 0; i < len; i++)
        low[i] = g_ascii_tolower(key[i]);
    low[len] = '\0';
    if (strcmp(low, "auth") == 0 || strcmp(low, "key") == 0)
        return true; /* but not "author" nor "keyword" */
    for (int i = 0; score_token_secret_keys[i]; i++)
        if (strstr(low, score_token_secret_keys[i]))
            return true;
    return false;
}

/* A value that is really there: not empty, a placeholder or a reference. */
static bool score_token_real_value(const char *v, int len)
{
    if (len < 6 || strchr("<${*%[", v[0]))
        return false;
    for (int i = 1; i < len; i++)
        if (v[i] != v[0])
            return g_ascii_strncasecmp(v, "xxx", 3) != 0;
    return false;
}

/* key=value pairs inside the token (a query string, an env line). */
static bool score_token_pairs(const char *s, int len)
{
    int start = 0;
    for (int i = 0; i <= len; i++) {
        if (i < len && !strchr("?&;,", s[i]))
            continue;
        const char *eq = memchr(s + start, '=', (size_t)(i - start));
        if (eq && score_token_secret_key(s + start, (int)(eq - s - start)) &&
            score_token_real_value(eq + 1, (int)(s + i - eq - 1)))
            return true;
        start = i + 1;
    }
    return false;
}

static bool score_token_ends_with(const char *s, int len, const char *suffix)
{
    int n = (int)strlen(suffix);
    return len >= n && g_ascii_strncasecmp(s + len - n, suffix, (size_t)n) == 0;
}

static bool score_token_file(const char *s, int len)
{
    const char *slash = g_strrstr_len(s, len, "/");
    const char *base = slash ? slash + 1 : s;
    int n = (int)(s + len - base);
    for (int i = 0; score_token_secret_files[i]; i++) {
        int k = (int)strlen(score_token_secret_files[i]);
        if (n >= k && g_ascii_strncasecmp(base, score_token_secret_files[i], (size_t)k) == 0 &&
            (n == k || base[k] == '.'))
            return true;
    }
    for (int i = 0; score_token_secret_exts[i]; i++)
        if (n > (int)strlen(score_token_secret_exts[i]) && score_token_ends_with(base, n, score_token_secret_exts[i]))
            return true;
    return false;
}

/* FooError, FooException (CamelCase, so not "terror"), or src/x.c:123. */
static bool score_token_error(const char *s, int len)
{
    static const char *const kinds[] = { "Error", "Exception", NULL };
    for (int i = 0; kinds[i]; i++) {
        int k = (int)strlen(kinds[i]);
        if (len > k + 1 && g_ascii_isupper(s[0]) && strncmp(s + len - k, kinds[i], (size_t)k) == 0 &&
            g_ascii_isalpha(s[len - k - 1]))
            return true;
    }
    const char *colon = memchr(s, ':', (size_t)len);
    if (!colon || colon + 1 >= s + len || !g_ascii_isdigit(colon[1]))
        return false;
    const char *dot = g_strrstr_len(s, colon - s, ".");
    for (int i = 0; dot && score_token_source_exts[i]; i++)
        if ((size_t)(colon - dot - 1) == strlen(score_token_source_exts[i]) &&
            strncmp(dot + 1, score_token_source_exts[i], (size_t)(colon - dot - 1)) == 0)
            return true;
    return false;
}

/* What kinds of byte a token has, so that plain words skip the checks. */
enum { TOK_UPPER = 1, TOK_LOWER = 2, TOK_DIGIT = 4, TOK_DOT = 8, TOK_EQ = 16, TOK_COLON = 32, TOK_UNDER = 64,
       TOK_OTHER = 128 };

static unsigned score_token_kinds(const char *s, int len)
{
    unsigned k = 0;
    for (int i = 0; i < len; i++) {
        char c = s[i];
        k |= g_ascii_isupper(c) ? TOK_UPPER : g_ascii_islower(c) ? TOK_LOWER : g_ascii_isdigit(c) ? TOK_DIGIT
             : c == '.' ? TOK_DOT : c == '=' ? TOK_EQ : c == ':' ? TOK_COLON : c == '_' ? TOK_UNDER : TOK_OTHER;
    }
    return k;
}

static bool score_token_opener(char c)
{
    return c == '(' || c == '[' || c == '{' || c == '<' || c == '"' || c == '\'' || c == '`';
}

static bool score_token_closer(char c)
{
    return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == ')' || c == ']' ||
           c == '}' || c == '>' || c == '"' || c == '\'' || c == '`';
}

static void score_token_one(const char *s, int len, struct score_tokens *out)
{
    while (len > 0 && score_token_opener(s[0])) {
        s++;
        len--;
    }
    int full = len;
    while (len > 0 && score_token_closer(s[len - 1]))
        len--;
    if (full - len >= 2 && (g_strstr_len(s + len, full - len, "?!") || g_strstr_len(s + len, full - len, "!?")))
        out->angry_punct = true;
    if (len <= 0)
        return;
    unsigned k = score_token_kinds(s, len);
    if ((k & ~(unsigned)TOK_LOWER) == 0 && len < 10)
        return; /* a plain word */
    if ((len >= 20 && score_token_has_key(s, len)) || ((k & TOK_COLON) && score_token_url_login(s, len)) ||
        ((k & TOK_EQ) && score_token_pairs(s, len)))
        out->secret = true;
    if ((k & (TOK_DOT | TOK_UNDER)) || ((s[0] | 0x20) == 'k' && g_ascii_strncasecmp(s, "kubeconfig", 10) == 0))
        out->secret_file |= score_token_file(s, len);
    if ((k & TOK_UPPER) || (k & TOK_COLON))
        out->error |= score_token_error(s, len);
    int sign = s[0] == '$' ? 1 : strncmp(s, "\xC2\xA3", 2) == 0 ? 2 : strncmp(s, "\xE2\x82\xAC", 3) == 0 ? 3 : 0;
    if (sign && len > sign && g_ascii_isdigit(s[sign]))
        out->price = true; /* $499, £20, €99 */
    bool caps = len >= 4;
    for (int i = 0; i < len && caps; i++)
        caps = g_ascii_isupper(s[i]);
    out->shouted += caps;
}

void score_tokens_read(const char *text, struct score_tokens *out)
{
    memset(out, 0, sizeof *out);
    if (!text)
        return;
    /* "-----BEGIN OPENSSH PRIVATE KEY-----" spans tokens. */
    if (strstr(text, "-----BEGIN") && strstr(text, "PRIVATE KEY-----"))
        out->secret = true;
    const char *p = text;
    while (*p) {
        while (*p && g_ascii_isspace(*p))
            p++;
        const char *end = p;
        while (*end && !g_ascii_isspace(*end))
            end++;
        if (end > p)
            score_token_one(p, (int)(end - p), out);
        p = end;
    }
}
