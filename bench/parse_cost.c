/* SPDX-License-Identifier: MIT */
/* bench-parse-cost: the CPU time jansson alone needs to parse some bytes.
 *
 *   bench-parse-cost [--repeat N] FILE...
 *
 * Reads every FILE (one HTTP response body each, e.g. the pages of a
 * catch-up as the fake server sent them) into memory first, then parses
 * each with json_loadb() and frees the result, the way heed's drivers do
 * (JSON_REJECT_DUPLICATES, as net_parse_json() asks), N times over (default
 * 5). CPU time is CLOCK_PROCESS_CPUTIME_ID around each pass, so reading
 * the files is not counted. Prints one JSON object: files, bytes, the CPU
 * seconds of every pass, their median and minimum. bench/run.py divides
 * heedd's CPU time for the same bytes by the median.
 */
#include <glib.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double parse_cost_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_cost_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int repeat = 5;
    GPtrArray *names = g_ptr_array_new();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else
            g_ptr_array_add(names, argv[i]);
    }
    if (names->len == 0 || repeat < 1) {
        fprintf(stderr, "usage: bench-parse-cost [--repeat N] FILE...\n");
        return 2;
    }
    char **bodies = g_new0(char *, names->len);
    gsize *lens = g_new0(gsize, names->len);
    size_t total = 0;
    for (guint i = 0; i < names->len; i++) {
        GError *err = NULL;
        if (!g_file_get_contents(g_ptr_array_index(names, i), &bodies[i], &lens[i], &err)) {
            fprintf(stderr, "bench-parse-cost: %s\n", err->message);
            return 1;
        }
        total += lens[i];
    }
    double *passes = g_new0(double, repeat);
    size_t failed = 0;
    for (int r = 0; r < repeat; r++) {
        double t0 = parse_cost_now();
        for (guint i = 0; i < names->len; i++) {
            json_error_t jerr;
            json_t *root = json_loadb(bodies[i], lens[i], JSON_REJECT_DUPLICATES, &jerr);
            if (!root)
                failed++;
            json_decref(root);
        }
        passes[r] = parse_cost_now() - t0;
    }
    if (failed) {
        fprintf(stderr, "bench-parse-cost: %zu documents did not parse\n", failed / (size_t)repeat);
        return 1;
    }
    double *sorted = g_memdup2(passes, sizeof(double) * (size_t)repeat);
    qsort(sorted, (size_t)repeat, sizeof(double), parse_cost_cmp);
    double median = repeat % 2 ? sorted[repeat / 2] : (sorted[repeat / 2 - 1] + sorted[repeat / 2]) / 2;
    printf("{\"files\": %u, \"bytes\": %zu, \"repeat\": %d, \"passes\": [", names->len, total, repeat);
    for (int r = 0; r < repeat; r++)
        printf("%s%.6f", r ? ", " : "", passes[r]);
    printf("], \"median\": %.6f, \"min\": %.6f}\n", median, sorted[0]);
    for (guint i = 0; i < names->len; i++)
        g_free(bodies[i]);
    g_free(bodies);
    g_free(lens);
    g_free(passes);
    g_free(sorted);
    g_ptr_array_unref(names);
    return 0;
}
