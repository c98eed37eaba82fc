/* SPDX-License-Identifier: MIT */
/* bar: heed status for status bars and scripts (waybar, polybar,
 * i3blocks, JSON), once or following every change.
 *
 * The line shows how many people are waiting and the most urgent one,
 * from heedd's "glance" answer; --follow keeps one connection open with
 * the "watch" command (control.h) and prints a line each time heedd says
 * something changed: no polling. While heedd is down the line says so
 * (and --follow tries to reconnect every few seconds).
 */
#ifndef HEED_CLI_BAR_H
#define HEED_CLI_BAR_H

#include <jansson.h>
#include <stdbool.h>

/* One line (no newline) for glance (NULL: heedd is not running) in
 * format "waybar", "polybar", "i3blocks" or "json" (g_free). */
char *bar_line(const char *format, json_t *glance, const char *why_down);
/* heed status --format F [--follow]; returns the exit status. */
int bar_run(const char *format, bool follow);

#endif
