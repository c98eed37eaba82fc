/* SPDX-License-Identifier: MIT */
/* doctor: heed doctor, the whole set-up checked in one go.
 *
 * One line per check, "ok    what", "warn  what — fix" or "FAIL  what — fix",
 * in the order a newcomer would fix things: the configuration, each
 * account's secret and sign-in (one request each, with the rate limit it
 * leaves), the session bus, the notification server and do-not-disturb,
 * heedd and its systemd user unit and environment, the state database.
 * FAIL is something heed cannot work around; warn is something it can, or
 * that depends on how the user runs it (no systemd user manager, say).
 * Doctor changes nothing: it never signs in, refreshes a session or writes
 * a file. The state database it reads is the one heedd uses (a running
 * heedd says which, --state and --demo included), opened read-only.
 */
#ifndef HEED_CLI_DOCTOR_H
#define HEED_CLI_DOCTOR_H

#include <stdbool.h>

#include "args.h"

/* Runs every check; returns CLI_EXIT_ERROR when any FAILed, else CLI_EXIT_OK.
 * color: colour the status words (stdout is a terminal that wants it). */
int doctor_main(const struct cli_args *a, bool color);

#endif
