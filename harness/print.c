/* print.c - commands, events and replay lines as text and jsonl (print.h).
 * SPDX-License-Identifier: MIT */
#include "print.h"

#include <inttypes.h>
#include <stdio.h>

int print_event(const struct hm_event *ev, char *dst, size_t dstlen)
{
    switch (ev->kind) {
    case HM_EV_PTE_SET:
        snprintf(dst, dstlen, "pte_set 0x%" PRIx64 " %" PRIu64, ev->a, ev->b);
        return 1;
    case HM_EV_PTE_CLEAR:
        snprintf(dst, dstlen, "pte_clear 0x%" PRIx64, ev->a);
        return 1;
    case HM_EV_TLB_FLUSH_RANGE: /* the end is exclusive (a window ending at 4 GiB: 0x100000000) */
        snprintf(dst, dstlen, "tlb_flush_range 0x%" PRIx64 " 0x%" PRIx64, ev->a, ev->b);
        return 1;
    case HM_EV_TLB_FLUSH_PAGE:
        snprintf(dst, dstlen, "tlb_flush_page 0x%" PRIx64, ev->a);
        return 1;
    case HM_EV_TLB_FLUSH_ALL:
        snprintf(dst, dstlen, "tlb_flush_all");
        return 1;
    case HM_EV_CACHE_FLUSH_ALL:
        snprintf(dst, dstlen, "cache_flush_all");
        return 1;
    case HM_EV_FLUSH_ALL_ZERO_PKMAPS:
        snprintf(dst, dstlen, "flush_all_zero_pkmaps");
        return 1;
    case HM_EV_MACHINE_FAIL: /* the pte_set / pte_clear just before it was refused */
        snprintf(dst, dstlen, "machine_fail 0x%" PRIx64, ev->a);
        return 1;
    case HM_EV_CACHE_FLUSH_PAGE:
        snprintf(dst, dstlen, "cache_flush_page 0x%" PRIx64, ev->a);
        return 1;
    case HM_EV_LOCAL_SAVE:
        snprintf(dst, dstlen, "local_save %" PRIu64, ev->a);
        return 1;
    case HM_EV_LOCAL_RESTORE:
        snprintf(dst, dstlen, "local_restore %" PRIu64, ev->a);
        return 1;
    default:
        return 0;
    }
}

void print_cmd(struct kbuf *b, const struct trace_cmd *c)
{
    const uint64_t *a = c->arg;
    kbuf_printf(b, "%s", trace_op_name(c->op));
    switch (c->op) {
    case KOP_KMAP:
    case KOP_KUNMAP:
    case KOP_PAGE_ADDRESS:
    case KOP_KMAP_HIGH_GET:
        kbuf_printf(b, " %" PRIu64, a[0]);
        break;
    case KOP_KMAP_TO_PAGE:
    case KOP_KMAP_ATOMIC_TO_PAGE:
        kbuf_printf(b, " 0x%" PRIx64, a[0]);
        break;
    case KOP_KMAP_ATOMIC:
    case KOP_KMAP_ATOMIC_PFN:
    case KOP_KUNMAP_ATOMIC:
        kbuf_printf(b, " %" PRIu64 " ", a[0]);
        if (c->type.is_name) {
            const unsigned char *s = (const unsigned char *)c->type.name;
            for (; *s; s++)
                kbuf_printf(b, (*s >= 0x20 && *s < 0x7f) ? "%c" : "\\x%02x", *s);
            if (c->type.name_len > TRACE_NAME_MAX)
                kbuf_add(b, "...", 3);
        } else {
            kbuf_printf(b, "%" PRIu64, c->type.index);
        }
        if (c->op == KOP_KUNMAP_ATOMIC) {
            if (c->nargs >= 2)
                kbuf_printf(b, " 0x%" PRIx64, a[1]);
        } else {
            kbuf_printf(b, " %" PRIu64, a[1]);
        }
        break;
    case KOP_LOAD:
        kbuf_printf(b, " %" PRIu64 " 0x%" PRIx64, a[0], a[1]);
        break;
    case KOP_STORE:
        kbuf_printf(b, " %" PRIu64 " 0x%" PRIx64 " %" PRIu64, a[0], a[1], a[2]);
        break;
    case KOP_INJECT:
        kbuf_printf(b, " %s", trace_inject_name((int)a[0]));
        break;
    case KOP_KMAP_LOCAL:
    case KOP_SWITCH:
        kbuf_printf(b, " %" PRIu64 " %" PRIu64, a[0], a[1]);
        break;
    case KOP_KUNMAP_LOCAL:
        kbuf_printf(b, " %" PRIu64 " 0x%" PRIx64, a[0], a[1]);
        break;
    default:
        break;
    }
}

/* The captured events the trace shows, separated by sep, each as a JSON string or plain. */
static void add_events(struct kbuf *b, const struct harness_machine *m, const char *sep, int json)
{
    char ev[HARNESS_EV_LEN];
    size_t i, shown = 0;
    for (i = 0; i < m->nev; i++) {
        if (!print_event(&m->ev[i], ev, sizeof ev))
            continue;
        if (shown++)
            kbuf_printf(b, "%s", sep);
        if (json)
            kbuf_json_str(b, ev);
        else
            kbuf_printf(b, "%s", ev);
    }
}

static size_t shown_events(const struct harness_machine *m)
{
    char ev[HARNESS_EV_LEN];
    size_t i, n = 0;
    for (i = 0; i < m->nev; i++)
        n += (size_t)print_event(&m->ev[i], ev, sizeof ev);
    return n;
}

static void result_jsonl(struct kbuf *b, const struct harness_machine *m,
                         const struct trace_cmd *c, const struct harness_result *r)
{
    kbuf_printf(b, "{\"op\":\"%s\",\"ok\":%s", trace_op_name(c->op),
                r->err == HM_OK ? "true" : "false");
    if (r->err != HM_OK) {
        kbuf_add(b, ",\"error\":", 9);
        kbuf_json_str(b, hm_strerror(r->err));
    } else {
        if (r->has_vaddr)
            kbuf_printf(b, ",\"vaddr\":\"0x%" PRIx64 "\"", r->vaddr);
        if (r->has_value)
            kbuf_printf(b, ",\"value\":%u", r->value);
        if (r->has_pfn)
            kbuf_printf(b, ",\"pfn\":%" PRIu32, r->pfn);
    }
    kbuf_add(b, ",\"events\":[", 11);
    add_events(b, m, ",", 1);
    kbuf_add(b, "]", 1);
    if (r->bug != HM_BUG_NONE) {
        kbuf_add(b, ",\"bug\":", 7);
        kbuf_json_str(b, hm_bug_name(r->bug));
    }
    if (m->stale_tlb)
        kbuf_printf(b, ",\"stale_tlb\":%lu", m->stale_tlb);
    if (m->stale_cache)
        kbuf_printf(b, ",\"stale_cache\":%lu", m->stale_cache);
    kbuf_add(b, "}\n", 2);
}

static void result_text(struct kbuf *b, const struct harness_machine *m,
                        const struct trace_cmd *c, const struct harness_result *r)
{
    kbuf_printf(b, "%4lu ", c->line);
    print_cmd(b, c);
    kbuf_add(b, " -> ", 4);
    if (r->err != HM_OK) {
        kbuf_printf(b, "%s", hm_strerror(r->err));
        if (r->bug != HM_BUG_NONE)
            kbuf_printf(b, " (%s)", hm_bug_name(r->bug));
    } else if (r->has_vaddr) {
        kbuf_printf(b, "0x%" PRIx64, r->vaddr);
    } else if (r->has_value) {
        kbuf_printf(b, "%u", r->value);
    } else if (r->has_pfn) {
        kbuf_printf(b, "pfn %" PRIu32, r->pfn);
    } else {
        kbuf_add(b, "ok", 2);
    }
    if (r->err == HM_OK && r->bug != HM_BUG_NONE)
        kbuf_printf(b, " (bug %s)", hm_bug_name(r->bug));
    if (shown_events(m)) {
        kbuf_add(b, "  [", 3);
        add_events(b, m, ", ", 0);
        kbuf_add(b, "]", 1);
    }
    if (m->stale_tlb)
        kbuf_printf(b, "  stale_tlb=%lu", m->stale_tlb);
    if (m->stale_cache)
        kbuf_printf(b, "  stale_cache=%lu", m->stale_cache);
    kbuf_add(b, "\n", 1);
}

void print_result(struct kbuf *b, int format, const struct harness_machine *m,
                  const struct trace_cmd *c, const struct harness_result *r)
{
    if (format == PRINT_JSONL)
        result_jsonl(b, m, c, r);
    else
        result_text(b, m, c, r);
}
