/* SPDX-License-Identifier: MIT */
/* avatar: the sender's picture beside a banner, never in its way.
 *
 * When a new mention is stored, avatar_want() starts fetching its author's
 * picture (if it is not cached yet) over the daemon's own HTTP stack:
 * https only, no token, no redirects, at most AVATAR_MAX_BYTES, and only
 * PNG, JPEG, GIF or WebP by their first bytes (whatever the server calls
 * them). Pictures are cached under $XDG_CACHE_HOME/heed/avatars (0700, files
 * 0600), named by a hash of network and author, kept AVATAR_MAX_AGE_S, and
 * the whole cache is trimmed to AVATAR_MAX_CACHE_BYTES, oldest first.
 * avatar_path() only looks at the disk: a banner shown before the picture
 * arrived goes without a face. A failed fetch is not retried for a day.
 */
#ifndef HEED_AVATAR_H
#define HEED_AVATAR_H

#include <event2/event.h>
#include <stdbool.h>

#include "http.h"

#define AVATAR_MAX_BYTES (512 * 1024)
#define AVATAR_MAX_AGE_S (7 * 24 * 3600)
#define AVATAR_MAX_CACHE_BYTES (32 * 1024 * 1024)
#define AVATAR_MAX_FETCHES 4          /* at once; more wait for the next mention */

struct avatar;

/* dir NULL: $XDG_CACHE_HOME/heed/avatars. */
struct avatar *avatar_new(struct http *http, const char *dir);
void avatar_free(struct avatar *a);
/* Fetch network/author_id's picture from url unless it is cached and fresh
 * or being fetched. ca_file: the account's CA, or NULL. local_ok: url may
 * be a file:// picture to copy (the demo's bundled faces), else https only. */
void avatar_want(struct avatar *a, const char *network, const char *author_id, const char *url, const char *ca_file,
                 bool local_ok);
/* The cached picture's path (g_free), or NULL when there is none (yet). */
char *avatar_path(struct avatar *a, const char *network, const char *author_id);

#endif
