/* bug.c - BUG reporting: hm_core_bug counts a BUG, emits HM_EV_BUG and calls the embedder's
 * on_bug hook.
 * SPDX-License-Identifier: MIT */
#include "hm_internal.h"

int hm_core_bug(struct hm_ctx *ctx, int bug, int err, const char *function, uint32_t arg)
{
    struct hm_bug_report r = {bug, err, function, arg};
    atomic_fetch_add_explicit(&ctx->bugs, 1u, memory_order_relaxed);
    if (bug > 0 && bug < HM_BUG__COUNT)
        atomic_fetch_add_explicit(&ctx->bug_by_kind[bug], 1u, memory_order_relaxed);
    hm_emit(ctx, HM_EV_BUG, HM_CPU_ALL, (uint32_t)bug, arg, 0);
    if (ctx->hooks.on_bug)
        ctx->hooks.on_bug(ctx->hooks.bug_cookie, &r);
    return err;
}
