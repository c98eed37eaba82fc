/* SPDX-License-Identifier: MIT */
/* conffile: small edits to heed.conf that leave the rest of it as the user
 * wrote it.
 *
 * heed login adds or updates one [account NAME] group. Round-tripping the
 * file through GKeyFile would keep comments but still reflow it ("key = v"
 * becomes "key=v", a comment drifts away from the group it describes), so
 * the file is edited as text, line by line, and GKeyFile is used only to
 * judge it: the original must parse, values are escaped the way GKeyFile
 * reads them back, and the edited text is parsed again and checked to say
 * exactly what was asked before anything is written. Every line outside the
 * edited keys - comments, blank lines, other groups, other keys of the same
 * group, spacing - stays byte for byte.
 *
 * Lines are classified as GKeyFile does: leading white space is ignored; a
 * line starting with '#' or empty is a comment; "[...]" is a group header;
 * anything else is "KEY = VALUE". A file that names one group twice is
 * refused (GKeyFile would merge the two and heed would ignore the second).
 */
#ifndef HEED_CLI_CONFFILE_H
#define HEED_CLI_CONFFILE_H

#include <glib.h>
#include <stdbool.h>

#define CONFFILE_ERROR (conffile_error_quark())
GQuark conffile_error_quark(void);
enum conffile_error {
    CONFFILE_ERROR_READ,    /* unreadable, not a regular file, over 1 MiB */
    CONFFILE_ERROR_PARSE,   /* not a valid key file, or a group given twice */
    CONFFILE_ERROR_INVALID, /* a group, key or value that cannot be written */
    CONFFILE_ERROR_WRITE,   /* saving failed */
};

struct conffile;

/* Read path; a missing file is an empty one (it is created by save).
 * Returns NULL with a CONFFILE_ERROR naming the file (and line, for a parse
 * error). */
struct conffile *conffile_load(const char *path, GError **error);
/* Start from text in memory instead (tests, previews); path is only used in
 * messages and by conffile_save. */
struct conffile *conffile_new_from_data(const char *path, const char *data, gsize len, GError **error);
void conffile_free(struct conffile *cf);

const char *conffile_path(const struct conffile *cf);
bool conffile_has_group(const struct conffile *cf, const char *group);

/* Set KEY in GROUP to value (plain text, escaped here). An existing key line
 * is rewritten in place as "KEY = VALUE"; a new key goes after the group's
 * last key line; a new group goes at the end of the file, after a blank line
 * and the given comment (plain text lines, '#' is added; NULL for none).
 * Group names may not contain '[', ']' or control characters, keys are
 * [A-Za-z0-9_-]+, values must be valid UTF-8 without control characters
 * other than tab. */
bool conffile_set(struct conffile *cf, const char *group, const char *key, const char *value,
                  const char *new_group_comment, GError **error);
/* Remove every line of KEY in GROUP; nothing happens when it is absent. */
void conffile_unset(struct conffile *cf, const char *group, const char *key);

/* The edited text (g_free it), checked: it parses, and every key set or
 * unset since loading reads back as asked. NULL with an error otherwise. */
char *conffile_to_data(const struct conffile *cf, gsize *len, GError **error);

/* Write the edited text atomically (a temporary file renamed over the
 * original). A symlinked heed.conf (dotfile managers) is written through to
 * its target. An existing file keeps its permission bits; a new one gets
 * 0600, and its directory is created 0700. */
bool conffile_save(const struct conffile *cf, GError **error);

#endif
