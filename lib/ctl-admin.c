/* SPDX-License-Identifier: MIT */
/* ctl-admin: reload and the test hooks (ctl.h). */
#include "clock.h"
#include "control.h"
#include "ctl.h"

json_t *ctl_reload(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    (void)m;
    GError *err = NULL;
    struct config *cfg = config_load(e->cfg->path, false, &err);
    if (!cfg)
        return ctl_fail_error(err);
    engine_reload(e, cfg);
    return control_ok(json_pack("{s:i}", "accounts", (int)e->lanes->len));
}

json_t *ctl_test_clock(struct engine *e, json_t *args, struct mention *m)
{
    (void)m;
    json_int_t advance;
    json_t *fail = NULL;
    if (!ctl_int_arg(args, "advance", -366 * 86400, 366 * 86400, 0, &advance, &fail)) /* back too: clock jumps */
        return fail;
    clock_advance(advance);
    deliver_soon(e->deliver, 0);
    return control_ok(json_pack("{s:I}", "now", (json_int_t)clock_now()));
}

json_t *ctl_test_stall(struct engine *e, json_t *args, struct mention *m)
{
    (void)args;
    (void)m;
    e->stall = true;
    deliver_stall(e->deliver);
    return control_ok(NULL);
}
