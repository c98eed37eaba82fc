/* SPDX-License-Identifier: MIT */
/* http: HTTPS requests on the daemon's libevent loop, through one curl multi.
 *
 * Every transfer is https only (redirects too), verifies the certificate
 * (optionally against a per-account CA file), caps the body in the write
 * callback, and has connect, total and low-speed time limits. All
 * transfers share one multi handle, so connections to the same host are
 * reused and multiplexed over HTTP/2 where the server offers it. The done
 * callback runs on the loop, outside any libcurl callback, exactly once per
 * transfer that was not cancelled. A URL that is not https is refused
 * (through the done callback, like any failure), except file:// when the
 * caller allows local files: the demo's sample, read on the next loop turn.
 */
#ifndef HEED_HTTP_H
#define HEED_HTTP_H

#include <event2/event.h>
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

#include "wire.h"

struct http;
struct http_transfer;

/* Streaming: called with each piece of the body as it arrives. The answer
 * says what became of the piece: taken; left for later (the transfer pauses,
 * and the same piece comes again after http_resume()); or the transfer is to
 * be aborted. */
enum http_data { HTTP_DATA_TAKEN, HTTP_DATA_PAUSE, HTTP_DATA_ABORT };
typedef enum http_data (*http_data_fn)(const char *data, size_t len, void *user_data);

struct http_options {
    const char *ca_file;      /* NULL: system trust store */
    http_data_fn on_data;     /* set for a stream: no body is kept, no time limit at all;
                                 the caller watches for silence (heartbeats are too sparse
                                 for curl's low-speed check) */
    void *data_user_data;
    size_t max_body;          /* bytes; 0 = HTTP_DEFAULT_MAX_BODY */
    long connect_timeout_ms;  /* 0 = 15 s */
    long timeout_ms;          /* whole transfer; 0 = 60 s */
    bool local_files;         /* a file:// URL is read from disk (the demo network only) */
};
#define HTTP_DEFAULT_MAX_BODY (8u * 1024 * 1024)

struct http_result {
    long status;              /* HTTP status, 0 when the transfer failed */
    GByteArray *body;
    GHashTable *headers;      /* lower-case name -> value, of the final response */
    char *error;              /* transport error text when status is 0 (no secrets in it) */
    bool transient;           /* a failure worth retrying (network, timeout) */
};

typedef void (*http_done_fn)(struct http_result *res, void *user_data);

struct http *http_new(struct event_base *base, GError **error);
/* Cancels all transfers (no callbacks), then frees. */
void http_free(struct http *h);

struct http_transfer *http_start(struct http *h, const struct wire_request *req, const struct http_options *opts,
                                 http_done_fn done, void *user_data);
/* Let a stream paused by its on_data run again. Not from inside on_data.
 * The piece it left may be handed over before this returns. */
void http_resume(struct http *h, struct http_transfer *t);
/* Stop a transfer; its callback is not called. */
void http_cancel(struct http *h, struct http_transfer *t);

/* Counters for benchmarks and status. */
struct http_stats {
    unsigned long transfers;
    unsigned long connects;   /* new connections (TLS handshakes) */
    unsigned long failures;
};
void http_get_stats(const struct http *h, struct http_stats *out);

/* A wire_response view of a result (headers and body borrowed). */
void http_result_view(const struct http_result *res, struct wire_response *out);

#endif
