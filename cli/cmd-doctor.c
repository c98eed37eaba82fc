/* SPDX-License-Identifier: MIT */
/* cmd-doctor: heed doctor (doctor.c does the checking). */
#include <glib.h>
#include "args.h"
#include "cmd.h"
#include "doctor.h"

static int cmd_doctor_exec(const struct cmd_ctx *c)
{
    return doctor_main(c->a, c->color);
}

const struct cmd_entry cmd_doctor_entry = {
    .name = "doctor",
    .args = NULL,
    .summary = "check the whole set-up, one line per check",
    .flags = 0,
    .usage =
        "usage: heed doctor\n"
        "\n"
        "Check the whole set-up and say how to fix what is wrong, one line per\n"
        "check: the configuration, token files and their modes, each account's\n"
        "sign-in and rate limit, the session bus, the notification server and\n"
        "its capabilities, do-not-disturb, the systemd user unit and its\n"
        "environment, the state database. Exit status 1 if anything needs\n"
        "fixing (a FAIL line); warnings alone exit 0.\n",
    .exec = cmd_doctor_exec,
};
