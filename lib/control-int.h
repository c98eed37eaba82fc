/* SPDX-License-Identifier: MIT */
/* control-int: what the two ends of the control protocol share beyond
 * control.h (lib/control.c, lib/control-client.c). */
#ifndef HEED_CONTROL_INT_H
#define HEED_CONTROL_INT_H

#include <glib.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/un.h>

/* The socket address for path; a path that does not fit is an error that names it. */
bool control_fill_addr(struct sockaddr_un *sa, const char *path, GError **error);

/* A listening socket at path (absolute), in a directory of ours with mode
 * 0700, replacing a dead daemon's socket but never a live one's; SIGPIPE is
 * ignored from then on (libevent's writev cannot take MSG_NOSIGNAL).
 * Returns the fd, with the socket file's identity in *st, or -1. */
int control_socket_listen(const char *path, struct stat *st, GError **error);

#endif
