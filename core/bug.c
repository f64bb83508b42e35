/* bug.c - BUG reporting: a BUG found under a lock is noted in a struct hm_bug_report and
 * delivered after the lock is released; every report is delivered here, in one place.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

int hm_bug_note(struct hm_bug_report *r, int bug, int err, const char *function, uint64_t arg)
{
    r->bug = bug;
    r->err = err;
    r->function = function;
    r->arg = arg;
    return err;
}

int hm_bug_deliver(struct hm_ctx *ctx, const struct hm_bug_report *r)
{
    HM_ADD(&ctx->bugs, 1u);
    if (r->bug > 0 && r->bug < HM_BUG__COUNT)
        HM_ADD(&ctx->bug_by_kind[r->bug], 1u);
    hm_emit(ctx, HM_EV_BUG, HM_CPU_ALL, (uint64_t)r->bug, r->arg, 0);
    if (ctx->hooks.on_bug)
        ctx->hooks.on_bug(ctx->hooks.bug_cookie, r);
    return r->err;
}

int hm_core_bug(struct hm_ctx *ctx, int bug, int err, const char *function, uint64_t arg)
{
    struct hm_bug_report r;
    hm_bug_note(&r, bug, err, function, arg);
    return hm_bug_deliver(ctx, &r);
}
