/* SPDX-License-Identifier: MIT */
/* fuzz_control: the control protocol's request parser.
 *
 * The input is one request line (read through its length, not
 * NUL-terminated). A request control_parse_request() accepts must be an
 * object with a string "cmd" and, if present, an object "args"; dumped
 * back as JSON it must parse again to an equal request. Rejected input must
 * come back as a CONTROL_ERROR_PROTOCOL, which is answered with
 * control_fail() the way the daemon does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sanitizer/common_interface_defs.h>

#include "control.h"

#define CHECK(c)                                                                   \
    do {                                                                           \
        if (!(c)) {                                                                \
            __sanitizer_report_error_summary("fuzz_control: check failed: " #c); \
            abort();                                                               \
        }                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = g_malloc(size ? size : 1);
    if (size)
        memcpy(line, data, size);
    GError *err = NULL;
    json_t *req = control_parse_request(line, size, &err);
    if (!req) {
        CHECK(err && err->domain == CONTROL_ERROR && err->code == CONTROL_ERROR_PROTOCOL);
        json_t *answer = control_fail("%s", err->message);
        CHECK(json_is_object(answer));
        char *s = json_dumps(answer, JSON_COMPACT);
        CHECK(s);
        free(s);
        json_decref(answer);
        g_error_free(err);
        g_free(line);
        return 0;
    }
    CHECK(!err);
    CHECK(json_is_object(req));
    CHECK(json_is_string(json_object_get(req, "cmd")));
    json_t *args = json_object_get(req, "args");
    CHECK(!args || json_is_object(args));

    char *dump = json_dumps(req, JSON_COMPACT);
    CHECK(dump);
    json_t *again = control_parse_request(dump, strlen(dump), &err);
    CHECK(again);
    CHECK(json_equal(req, again));

    /* The answer path: a result wrapped and serialised. */
    json_t *answer = control_ok(json_incref(req));
    char *s = json_dumps(answer, JSON_COMPACT);
    CHECK(s);
    free(s);

    json_decref(answer);
    json_decref(again);
    free(dump);
    json_decref(req);
    g_free(line);
    return 0;
}
