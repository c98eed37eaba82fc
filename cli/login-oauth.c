/* SPDX-License-Identifier: MIT */
/* login-oauth: what the OAuth 2.0 sign-ins share (login-mastodon.c,
 * login-x.c): form bodies that are wiped, PKCE, random values. */
#include "login.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "https.h"

void login_form_add(GString *s, const char *key, const char *value)
{
    if (s->len)
        g_string_append_c(s, '&');
    g_autofree char *k = g_uri_escape_string(key, NULL, FALSE);
    g_autofree char *v = g_uri_escape_string(value, NULL, FALSE);
    g_string_append_printf(s, "%s=%s", k, v);
    explicit_bzero(v, strlen(v));
}

void login_form_post(const struct login *l, const char *path, GString *form, struct https_answer *ans)
{
    struct wire_request *req = wire_request_new("POST", g_strconcat(l->server, path, NULL), 0);
    wire_request_add_header(req, "Accept: application/json");
    req->body = g_strdup(form->str);
    req->content_type = g_strdup("application/x-www-form-urlencoded");
    explicit_bzero(form->str, form->len);
    g_string_free(form, TRUE);
    https_send(req, l->ca_file, ans);
    wire_request_free(req); /* wipes the body */
}

static char *login_base64url(const guchar *data, gsize len)
{
    char *b = g_base64_encode(data, len);
    for (char *p = b; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
    }
    char *eq = strchr(b, '=');
    if (eq)
        *eq = '\0';
    return b;
}

/* GRand is a Mersenne twister and must not make secrets: the kernel's
 * CSPRNG does. */
char *login_random(void)
{
    guchar raw[32];
    size_t got = 0;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return NULL;
        got += (size_t)n;
    }
    char *s = login_base64url(raw, sizeof raw);
    explicit_bzero(raw, sizeof raw);
    return s;
}

bool login_pkce(char **verifier, char **challenge)
{
    *verifier = login_random();
    if (!*verifier)
        return false;
    guint8 digest[32];
    gsize dlen = sizeof digest;
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, (const guchar *)*verifier, (gssize)strlen(*verifier));
    g_checksum_get_digest(sum, digest, &dlen);
    g_checksum_free(sum);
    *challenge = login_base64url(digest, dlen);
    return true;
}

void login_wipe_answer(json_t *answer)
{
    const char *k;
    json_t *v;
    json_object_foreach(answer, k, v) {
        if (json_is_string(v))
            explicit_bzero((char *)json_string_value(v), json_string_length(v));
    }
}
