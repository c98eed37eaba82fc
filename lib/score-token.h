/* SPDX-License-Identifier: MIT */
/* score-token: shapes of single whitespace-separated tokens in the original
 * text (case kept), for score-shape.c only.
 *
 * Looks at each token once and reports what it is shaped like: a
 * credential (a known key prefix, a long high-entropy string mixing upper
 * and lower case and digits, user:password@ in a URL, a key=value whose key
 * looks secret), a file that holds secrets (.env, .npmrc, id_rsa, ...), an
 * error (FooError, FooException, file.c:123), a price ($499), shouting (a
 * word of four or more capitals) and "?!". Hex strings (commit hashes,
 * checksums, UUIDs) are not secrets. Pure; no allocation.
 */
#ifndef HEED_SCORE_TOKEN_H
#define HEED_SCORE_TOKEN_H

#include <stdbool.h>

struct score_tokens {
    bool secret;        /* a token shaped like a credential */
    bool secret_file;   /* names a file that usually holds credentials */
    bool error;         /* an exception name or a source file:line */
    bool price;         /* $12, €499 */
    bool angry_punct;   /* "?!" or "!?" */
    int shouted;        /* words of 4+ letters, all capitals */
};

void score_tokens_read(const char *text, struct score_tokens *out);
/* Shannon entropy of s[0..len), in bits per character (exposed for tests). */
double score_token_entropy(const char *s, int len);

#endif
