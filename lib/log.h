/* SPDX-License-Identifier: MIT */
/* log: one line per event on stderr.
 *
 * Under journald (JOURNAL_STREAM names the device and inode that stderr
 * really is, checked at log_setup() as sd-daemon(3) says) each line starts
 * with an "<N>" syslog priority prefix so the journal keeps the level;
 * otherwise (a terminal that merely inherited the variable too) lines read
 * "heedd: warning: ...". The level threshold is process-wide and set once by
 * the executable at start-up. Callers never pass secrets to these functions.
 */
#ifndef HEED_LOG_H
#define HEED_LOG_H

#include <stdbool.h>

enum log_level { LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_NOTICE = 5, LOG_LVL_INFO = 6, LOG_LVL_DEBUG = 7 };

/* Set the program name shown in plain output and the most verbose level printed. */
void log_setup(const char *progname, enum log_level max_level);
bool log_enabled(enum log_level level);

void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
