/* SPDX-License-Identifier: MIT */
/* sse: an incremental parser for server-sent events (text/event-stream).
 *
 * Bytes arrive in arbitrary pieces (a curl write callback); complete events
 * come out through a callback, in order: "event:" sets the name, each
 * "data:" line adds a line to the data (joined with '\n'), a blank line
 * dispatches, lines starting with ':' are comments (heartbeats) and are
 * counted but otherwise ignored. LF, CR LF and CR all end a line. A line
 * longer than SSE_MAX_LINE, or an event whose data grows past
 * SSE_MAX_EVENT, poisons the stream: sse_feed() returns false and the caller
 * must reconnect. A half-received event is never dispatched.
 */
#ifndef HEED_SSE_H
#define HEED_SSE_H

#include <stdbool.h>
#include <stddef.h>

#define SSE_MAX_LINE (1024 * 1024)
#define SSE_MAX_EVENT (4 * 1024 * 1024)

typedef void (*sse_event_fn)(const char *event, const char *data, size_t data_len, void *user_data);

struct sse;

struct sse *sse_new(sse_event_fn on_event, void *user_data);
void sse_free(struct sse *p);
/* Feed bytes; false when the stream is malformed beyond repair. */
bool sse_feed(struct sse *p, const char *bytes, size_t len);
/* Comment lines seen so far (":)" on open, ":thump" heartbeats). */
unsigned long sse_comments(const struct sse *p);

#endif
