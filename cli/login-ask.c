/* SPDX-License-Identifier: MIT */
/* login-ask: the login's side of the conversation (see login.h): messages,
 * a line from the terminal without echo or from standard input, a yes/no
 * question, the browser. */
#include "login.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>

#include "url.h"

void login_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "heed login: %s\n", msg);
}

/* The signal that arrived while the terminal's echo was off. Static
 * because a signal handler can reach nothing else; it lives only for the
 * duration of one login_read_tty(). */
static volatile sig_atomic_t login_signal;

static void login_on_signal(int signo)
{
    login_signal = signo;
}

static const int login_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* A line typed on the terminal. With secret, echo is off while it is typed
 * (the newline is still echoed), and a signal first gives the terminal
 * back its echo and then takes effect as it would have. */
static char *login_read_tty(const char *prompt, bool secret, GError **error)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot open the terminal (%s)", g_strerror(errno));
        return NULL;
    }
    struct termios saved, quiet;
    bool restore = false;
    struct sigaction old[G_N_ELEMENTS(login_signals)];
    if (secret && tcgetattr(fd, &saved) == 0) {
        login_signal = 0;
        struct sigaction sa = { 0 };
        sa.sa_handler = login_on_signal;
        sigemptyset(&sa.sa_mask);
        /* No SA_RESTART: read() must return so the echo can be restored. */
        for (size_t i = 0; i < G_N_ELEMENTS(login_signals); i++)
            sigaction(login_signals[i], &sa, &old[i]);
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
        if (!restore)
            for (size_t i = 0; i < G_N_ELEMENTS(login_signals); i++)
                sigaction(login_signals[i], &old[i], NULL);
    }
    fflush(stdout);
    if (write(fd, prompt, strlen(prompt)) < 0) {
        /* Nothing to do: the read below still works without the prompt. */
    }
    char *buf = g_malloc(LOGIN_MAX_SECRET + 1);
    size_t len = 0;
    bool ok = true, eof = false;
    for (;;) {
        char ch;
        ssize_t n = read(fd, &ch, 1);
        if (n < 0 && errno == EINTR && !login_signal)
            continue;
        if (n < 0) {
            ok = false;
            break;
        }
        if (n == 0) {
            eof = true;
            break;
        }
        if (ch == '\n')
            break;
        if (len == LOGIN_MAX_SECRET) {
            ok = false;
            break;
        }
        buf[len++] = ch;
    }
    buf[len] = '\0';
    if (restore) {
        tcsetattr(fd, TCSAFLUSH, &saved);
        for (size_t i = 0; i < G_N_ELEMENTS(login_signals); i++)
            sigaction(login_signals[i], &old[i], NULL);
    }
    close(fd);
    if (restore && login_signal) {
        explicit_bzero(buf, LOGIN_MAX_SECRET + 1);
        g_free(buf);
        raise(login_signal);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted");
        return NULL;
    }
    if (!ok || (eof && len == 0)) {
        explicit_bzero(buf, LOGIN_MAX_SECRET + 1);
        g_free(buf);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, eof ? "nothing was typed" : "cannot read the terminal");
        return NULL;
    }
    return buf;
}

/* One line of standard input, read a byte at a time so that nothing after
 * it is swallowed. */
static char *login_read_stdin(GError **error)
{
    char *buf = g_malloc(LOGIN_MAX_SECRET + 1);
    size_t len = 0;
    bool got_newline = false;
    for (;;) {
        char ch;
        ssize_t n = read(STDIN_FILENO, &ch, 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (ch == '\n') {
            got_newline = true;
            break;
        }
        if (len == LOGIN_MAX_SECRET) {
            explicit_bzero(buf, LOGIN_MAX_SECRET + 1);
            g_free(buf);
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "the line on standard input is longer than 16 KiB");
            return NULL;
        }
        buf[len++] = ch;
    }
    buf[len] = '\0';
    if (len == 0 && !got_newline) {
        g_free(buf);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "nothing on standard input");
        return NULL;
    }
    return buf;
}

/* Surrounding white space (a pasted newline, "\r") is removed. */
char *login_ask(const struct login *l, const char *prompt, bool secret)
{
    GError *err = NULL;
    char *line = l->interactive ? login_read_tty(prompt, secret, &err) : login_read_stdin(&err);
    if (!line) {
        login_error("%s", err->message);
        g_error_free(err);
        return NULL;
    }
    g_strstrip(line);
    if (!*line) {
        login_error("nothing was entered; nothing was written");
        g_free(line);
        return NULL;
    }
    return line;
}

bool login_ask_yes(const char *prompt)
{
    GError *err = NULL;
    char *line = login_read_tty(prompt, false, &err);
    if (!line) {
        g_error_free(err);
        return false;
    }
    g_strstrip(line);
    bool yes = g_ascii_strcasecmp(line, "y") == 0 || g_ascii_strcasecmp(line, "yes") == 0;
    g_free(line);
    return yes;
}

/* Opens url the way the rest of heed would, with one addition: $BROWSER,
 * read like xdg-open reads it (a ':'-separated list of commands, the first
 * one found on PATH is used, "%s" stands for the URL). */
void login_open_browser(const char *url, const char *allowed_host)
{
    const char *browser = g_getenv("BROWSER");
    g_auto(GStrv) chosen = NULL;
    if (browser && *browser) {
        g_auto(GStrv) entries = g_strsplit(browser, ":", -1);
        for (char **e = entries; *e && !chosen; e++) {
            g_auto(GStrv) words = g_strsplit_set(*e, " \t", -1);
            GStrvBuilder *b = g_strv_builder_new();
            for (char **w = words; *w; w++) {
                if (!**w)
                    continue;
                g_auto(GStrv) parts = g_strsplit(*w, "%s", -1);
                g_autofree char *word = g_strjoinv("%u", parts);
                g_strv_builder_add(b, word);
            }
            g_auto(GStrv) argv = g_strv_builder_end(b);
            g_strv_builder_unref(b);
            g_autofree char *found = argv[0] ? g_find_program_in_path(argv[0]) : NULL;
            if (found)
                chosen = g_steal_pointer(&argv);
        }
        if (!chosen)
            login_error("none of the browsers in $BROWSER was found; trying the desktop's default");
    }
    GError *err = NULL;
    if (!url_open(url, allowed_host, chosen, &err)) {
        login_error("could not open a browser (%s); open the address above yourself", err->message);
        g_error_free(err);
    }
}
