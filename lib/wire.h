/* SPDX-License-Identifier: MIT */
/* wire: one HTTP request and its answer, as plain data.
 *
 * The network drivers (net/) build wire requests and read wire responses;
 * the transports carry them (http.c on the daemon's loop, cli/https.c for
 * heed login and doctor). Neither side knows the other: http never sees a
 * driver's types, a driver never sees curl. A request owns its strings; its
 * headers and body may hold a token and are wiped when it is freed.
 */
#ifndef HEED_WIRE_H
#define HEED_WIRE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

struct wire_request {
    char *method;            /* "GET" or "POST" */
    char *url;
    GPtrArray *headers;      /* char* "Name: value" (Authorization included) */
    char *body;              /* POST body or NULL */
    char *content_type;      /* for body */
    int step;                /* the sender's own tag, handed back with the answer (drivers: the step) */
    bool stream;             /* open as a long-lived event stream */
};

struct wire_response {
    long status;             /* HTTP status; 0 when the transport failed */
    const char *body;
    size_t body_len;
    GHashTable *headers;     /* lower-cased name -> value (last one wins) */
};

/* url is taken. */
struct wire_request *wire_request_new(const char *method, char *url, int step);
void wire_request_add_header(struct wire_request *req, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Wipes headers and body, then frees; NULL is fine. */
void wire_request_free(struct wire_request *req);
/* A response header by its lower-case name, or NULL. */
const char *wire_response_header(const struct wire_response *resp, const char *lower_name);

#endif
