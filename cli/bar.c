/* SPDX-License-Identifier: MIT */
/* bar: see bar.h. */
#include "bar.h"

#include <glib.h>
#include <stdio.h>
#include <unistd.h>

#include "args.h"
#include "control.h"
#include "format.h"

#define BAR_TIMEOUT_MS 5000
#define BAR_RETRY_S 5

/* "3 · Ana" and the tooltip's longer words. */
static void bar_words(json_t *g, char **text, char **tip)
{
    json_int_t people = json_integer_value(json_object_get(g, "people"));
    json_t *top = json_object_get(g, "top");
    const char *name = json_string_value(json_object_get(top, "name"));
    const char *handle = json_string_value(json_object_get(top, "handle"));
    g_autofree char *who = cli_clean(name ? name : handle ? handle : "");
    if (people == 0) {
        *text = g_strdup("0");
        *tip = g_strdup("Nobody is waiting for you.");
        return;
    }
    *text = who[0] ? g_strdup_printf("%lld · %s", (long long)people, who) : g_strdup_printf("%lld", (long long)people);
    json_int_t secs = json_integer_value(json_object_get(top, "waiting_seconds"));
    g_autofree char *age = cli_age(secs > 0 ? secs : 0);
    *tip = g_strdup_printf("%lld %s waiting; most urgent: %s, waiting %s (heed list)", (long long)people,
                           people == 1 ? "person" : "people", who, age);
}

char *bar_line(const char *format, json_t *glance, const char *why_down)
{
    if (g_strcmp0(format, "json") == 0) {
        json_t *o = glance ? json_deep_copy(glance) : json_pack("{s:s?}", "error", why_down);
        json_object_set_new(o, "running", json_boolean(glance != NULL));
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        return s;
    }
    g_autofree char *text = NULL, *tip = NULL;
    const char *cls;
    if (!glance) {
        text = g_strdup("");
        tip = g_strdup(why_down ? why_down : "heedd is not running");
        cls = "down";
    } else {
        bar_words(glance, &text, &tip);
        json_int_t people = json_integer_value(json_object_get(glance, "people"));
        const char *urgency = json_string_value(json_object_get(json_object_get(glance, "top"), "urgency"));
        cls = people == 0 ? "none" : g_strcmp0(urgency, "critical") == 0 ? "critical" : "waiting";
    }
    if (g_strcmp0(format, "waybar") == 0) {
        json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "text", text, "tooltip", tip, "class", cls, "alt", cls);
        char *s = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        return s;
    }
    if (g_strcmp0(format, "i3blocks") == 0 && !glance)
        return g_strdup("heed: off");
    return g_strdup(text); /* polybar, i3blocks: one plain line */
}

static void bar_print(const char *format, json_t *glance, const char *why_down)
{
    g_autofree char *line = bar_line(format, glance, why_down);
    if (line)
        printf("%s\n", line);
    fflush(stdout);
}

int bar_run(const char *format, bool follow)
{
    GError *err = NULL;
    g_autofree char *path = control_default_path(&err);
    if (!follow) {
        json_t *g = path ? control_call(path, "glance", NULL, BAR_TIMEOUT_MS, &err) : NULL;
        bar_print(format, g, g ? NULL : err->message);
        int rc = g ? CLI_EXIT_OK : g_error_matches(err, CONTROL_ERROR, CONTROL_ERROR_REMOTE) ? CLI_EXIT_ERROR
                                                                                           : CLI_EXIT_NOT_RUNNING;
        json_decref(g);
        g_clear_error(&err);
        return rc;
    }
    g_autofree char *last = NULL;
    for (;;) {
        struct control_watch *w = path ? control_watch_open(path, BAR_TIMEOUT_MS, &err) : NULL;
        json_t *g;
        while (w && (g = control_watch_next(w, -1, &err)) != NULL) {
            g_autofree char *line = bar_line(format, g, NULL);
            json_decref(g);
            if (g_strcmp0(line, last) != 0) {
                printf("%s\n", line);
                fflush(stdout);
                g_free(last);
                last = g_steal_pointer(&line);
            }
        }
        control_watch_close(w);
        g_autofree char *down = bar_line(format, NULL, err ? err->message : NULL);
        if (g_strcmp0(down, last) != 0) {
            printf("%s\n", down);
            if (fflush(stdout) != 0 || ferror(stdout))
                return CLI_EXIT_ERROR; /* the bar went away */
            g_free(last);
            last = g_steal_pointer(&down);
        }
        g_clear_error(&err);
        sleep(BAR_RETRY_S);
    }
}
