/* SPDX-License-Identifier: MIT */
/* wire: see wire.h. */
#include "wire.h"

#include <stdarg.h>
#include <string.h>

struct wire_request *wire_request_new(const char *method, char *url, int step)
{
    struct wire_request *req = g_new0(struct wire_request, 1);
    req->method = g_strdup(method);
    req->url = url;
    req->headers = g_ptr_array_new_with_free_func(g_free);
    req->step = step;
    return req;
}

void wire_request_add_header(struct wire_request *req, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(req->headers, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

void wire_request_free(struct wire_request *req)
{
    if (!req)
        return;
    g_free(req->method);
    g_free(req->url);
    if (req->headers) {
        /* Headers carry the Authorization value: wipe before freeing. */
        for (guint i = 0; i < req->headers->len; i++) {
            char *h = g_ptr_array_index(req->headers, i);
            explicit_bzero(h, strlen(h));
        }
        g_ptr_array_unref(req->headers);
    }
    if (req->body) {
        explicit_bzero(req->body, strlen(req->body));
        g_free(req->body);
    }
    g_free(req->content_type);
    g_free(req);
}

const char *wire_response_header(const struct wire_response *resp, const char *lower_name)
{
    if (!resp->headers)
        return NULL;
    return g_hash_table_lookup(resp->headers, lower_name);
}
