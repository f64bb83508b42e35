/* probe.c - kmap_ops' API and config probes (FOP_PROBE, FOP_CONFIG): the public calls the machine
 * ops do not reach, each predicted by the model or highmem.h, and the config probe's mini MMU.
 * SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/kmap_ops_internal.h"
#include "highmem_arch.h" /* struct hm_arch: broken descriptors for the config probe */

/* ---------------------------------------------------------------------------------------
 * API probes (FOP_PROBE, FOP_CONFIG): the public calls the machine ops do not reach. Each one
 * is predicted by the model (names, layouts, hashes, counts) or by highmem.h's contract.
 * ------------------------------------------------------------------------------------- */
/* An uninitialised context: zeroed storage hm_ctx_init never saw. */
static _Alignas(16) unsigned char never_inited[512];

static void probe_null_out(struct run *r, struct fop_rec *o, struct model_out *mo)
{
    uint32_t which = o->value % 8u;
    hm_vaddr_t va = r->S ? fop_pkmap_addr(r->L, 0) : r->L->page_offset;
    o->pfn = fop_decode_pfn(&r->dec, o->value);
    switch (which) {
    case 0: o->err = hm_kmap(r->ctx, o->pfn, NULL); break;
    case 1: o->err = hm_kmap_try(r->ctx, o->pfn, NULL); break;
    case 2: o->err = hm_kmap_atomic(r->ctx, 0, o->pfn, 0, NULL); break;
    case 3: o->err = hm_kmap_atomic_pfn(r->ctx, 0, o->pfn, 0, NULL); break;
    case 4: o->err = hm_kmap_atomic_prot(r->ctx, 0, o->pfn, 0, 0, NULL); break;
    case 5: o->err = hm_kmap_atomic_to_page(r->ctx, va, NULL); break;
    case 6: o->err = hm_kmap_to_page(r->ctx, va, NULL); break;
    default: o->err = hm_page_address(r->ctx, o->pfn, NULL); break;
    }
    model_bad_arg(&r->model, mo);
}

/* Every call with a NULL or never initialised context: EINVAL, no event, no bug. */
static void probe_null_ctx(struct run *r, struct fop_rec *o, struct model_out *mo)
{
    struct hm_ctx *c = (o->value & 1u) ? (struct hm_ctx *)(void *)never_inited : NULL;
    hm_vaddr_t v = 0;
    hm_pfn_t p = 0;
    uint32_t pfn = r->L->highmem_start_pfn;
    int rc[] = {hm_kmap(c, pfn, &v), hm_kmap_try(c, pfn, &v), hm_kunmap(c, pfn), hm_kmap_flush_unused(c),
                hm_kmap_atomic(c, 0, pfn, 0, &v), hm_kmap_atomic_prot(c, 0, pfn, 0, 0, &v),
                hm_kmap_atomic_pfn(c, 0, pfn, 0, &v), hm_kunmap_atomic(c, 0, r->L->page_offset, 0),
                hm_kmap_atomic_to_page(c, r->L->page_offset, &p), hm_kmap_to_page(c, r->L->page_offset, &p),
                hm_page_address(c, pfn, &v)};
    for (size_t i = 0; i < sizeof rc / sizeof rc[0]; i++)
        if (rc[i] != HM_EINVAL)
            fail(r, "call %zu with a %s context returned %s, not EINVAL", i, c ? "never initialised" : "NULL",
                 hm_strerror(rc[i]));
    if (v != 0 || p != 0)
        fail(r, "a call with a bad context wrote its out pointer");
    o->err = HM_EINVAL;
    model_no_op(&r->model, mo);
    mo->err = HM_EINVAL;
}

static void probe_getters_null(struct run *r, struct fop_rec *o, struct model_out *mo)
{
    const struct hm_ctx *c = (o->value & 1u) ? (const struct hm_ctx *)(const void *)never_inited : NULL;
    struct hm_stats st, zero;
    memset(&zero, 0, sizeof zero);
    memset(&st, 0xa5, sizeof st);
    hm_get_stats(c, &st);
    hm_get_stats(r->ctx, NULL); /* nowhere to write: must not crash */
    if (hm_pkmap_count(c, 0) != -1 || hm_last_pkmap_nr(c) != 0 || hm_nr_waiters(c) != 0 ||
        hm_pagefault_depth(c, 0) != -1 || hm_pool_size(c) != 0 || hm_bucket_size(c, 0) != 0 ||
        hm_page_bucket(c, 1) != 0 || hm_page_is_highmem(c, 0) != -1 || hm_mk_kmap_pte(c, 1) != 0 ||
        hm_pte_none(c, 0x1000u) != 1 || hm_pte_pfn(c, 0x5000u) != 0 || hm_ctx_layout(c) != NULL ||
        memcmp(&st, &zero, sizeof st) != 0 || hm_arch_name(NULL) != NULL || hm_arch_find(NULL) != NULL)
        fail(r, "an inspection call on a %s context returned something", c ? "never initialised" : "NULL");
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

static void probe_getters(struct run *r, struct fop_rec *o, struct model_out *mo)
{
    const struct model *m = &r->model;
    uint32_t v = o->value, pfn = fop_decode_pfn(&r->dec, (uint8_t)v), b = v % HM_PA_HASH_SIZE, in_b = 0;
    int hi = pfn >= r->L->max_pfn ? -1 : (r->S && pfn >= r->L->highmem_start_pfn);
    unsigned bits = v % 34u;
    uint32_t x = v * 0x01010101u + 0x9e3u;
    const struct hm_layout *L = hm_ctx_layout(r->ctx);

    o->pfn = pfn;
    if (hm_page_is_highmem(r->ctx, pfn) != hi)
        fail(r, "page_is_highmem(0x%x) = %d, the model expects %d", pfn, hm_page_is_highmem(r->ctx, pfn), hi);
    if (r->S && pfn < r->L->max_pfn) {
        hm_pte_t pte = hm_mk_kmap_pte(r->ctx, pfn);
        if (pte != model_pte_word(m, pfn) || hm_pte_none(r->ctx, pte) != 0 || hm_pte_pfn(r->ctx, pte) != pfn)
            fail(r, "mk_kmap_pte(0x%x) = 0x%llx (none %d, pfn 0x%x), the model expects 0x%llx", pfn,
                 (unsigned long long)pte, hm_pte_none(r->ctx, pte), hm_pte_pfn(r->ctx, pte),
                 (unsigned long long)model_pte_word(m, pfn));
    }
    if (hm_pte_none(r->ctx, 0) != 1)
        fail(r, "pte_none(0) is not 1 (0 is none on every arch)");
    if (!r->S && pfn < r->L->max_pfn && hm_pte_pfn(r->ctx, hm_mk_kmap_pte(r->ctx, pfn)) != pfn)
        fail(r, "generic: pte_pfn(mk_kmap_pte(0x%x)) = 0x%x", pfn, hm_pte_pfn(r->ctx, hm_mk_kmap_pte(r->ctx, pfn)));
    if (hm_pkmap_count(r->ctx, r->S + v) != -1 || hm_pagefault_depth(r->ctx, r->ncpus + v) != -1 ||
        hm_bucket_size(r->ctx, HM_PA_HASH_SIZE + v) != 0)
        fail(r, "an index past the end (slot %u, cpu %u, bucket %u) was answered", r->S + v, r->ncpus + v,
             HM_PA_HASH_SIZE + v);
    if (hm_pool_size(r->ctx) != model_pool_size(m) || hm_nr_waiters(r->ctx) != 0 ||
        hm_last_pkmap_nr(r->ctx) != (r->S ? m->last_nr : 0u))
        fail(r, "pool %u (model %u), waiters %u, last_pkmap_nr %u", hm_pool_size(r->ctx), model_pool_size(m),
             hm_nr_waiters(r->ctx), hm_last_pkmap_nr(r->ctx));
    if (hm_page_bucket(r->ctx, pfn) != model_page_bucket(m, pfn))
        fail(r, "page_bucket(0x%x) = %u, the model expects %u", pfn, hm_page_bucket(r->ctx, pfn),
             model_page_bucket(m, pfn));
    for (uint32_t k = 0; k < m->nrec; k++)
        in_b += model_page_bucket(m, m->rec_page[k]) == b;
    if (hm_bucket_size(r->ctx, b) != in_b)
        fail(r, "bucket %u holds %u records, the model expects %u", b, hm_bucket_size(r->ctx, b), in_b);
    if (hm_hash_long32(x, bits) != model_hash_long32(x, bits))
        fail(r, "hash_long32(0x%x, %u) = 0x%x, the model expects 0x%x", x, bits, hm_hash_long32(x, bits),
             model_hash_long32(x, bits));
    if (!L || memcmp(L, r->L, sizeof *L) != 0)
        fail(r, "hm_ctx_layout differs from hm_layout_compute's layout");
    if (m->colours > 1) { /* a coloured pkmap (xtensa): every colour's cursor and waiters, then
                           * one colour past the end (COLOUR_RANGE, the op's result) */
        struct model_out t;
        for (uint32_t c = 0; c < m->colours; c++)
            for (int w = 0; w < 2; w++) {
                uint32_t got = 0x5a5a5a5au;
                int rc = w ? hm_pkmap_waiters(r->ctx, c, &got) : hm_pkmap_cursor(r->ctx, c, &got);
                model_pkmap_cursor(&r->model, c, w, &t);
                if (rc != t.err || got != t.val)
                    fail(r, "hm_pkmap_%s(%u) = %d, %u; the model expects %d, %u", w ? "waiters" : "cursor", c, rc,
                         got, t.err, (uint32_t)t.val);
            }
        {
            uint32_t c = m->colours + v % 3u, got = 0x5a5a5a5au;
            int w = (v >> 2) & 1;
            o->err = w ? hm_pkmap_waiters(r->ctx, c, &got) : hm_pkmap_cursor(r->ctx, c, &got);
            if (got != 0x5a5a5a5au)
                fail(r, "hm_pkmap_%s(%u) of a colour out of range wrote its out pointer", w ? "waiters" : "cursor", c);
            model_pkmap_cursor(&r->model, c, w, mo);
        }
        return;
    }
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

/* A name the model does not know must still be a string, and none of the known ones. */
static void check_name(struct run *r, const char *what, int i, const char *lib, const char *exp,
                       const char *(*known)(int), int nknown)
{
    if (exp) {
        if (!lib || strcmp(lib, exp) != 0)
            fail(r, "%s(%d) = \"%s\", the model expects \"%s\"", what, i, lib ? lib : "(null)", exp);
        return;
    }
    if (!lib)
        fail(r, "%s(%d) returned NULL", what, i);
    for (int k = -1; k <= nknown; k++)
        if (known(k) && strcmp(lib, known(k)) == 0)
            fail(r, "%s(%d) = \"%s\", the name of %d", what, i, lib, k);
}

static void probe_names(struct run *r, struct fop_rec *o, struct model_out *mo)
{
    int i = (int)(o->value % 20u) - 2;
    check_name(r, "hm_strerror", i, hm_strerror(i), model_err_name(i), model_err_name, 9);
    check_name(r, "hm_bug_name", i, hm_bug_name(i), model_bug_name(i), model_bug_name, HM_BUG__COUNT);
    check_name(r, "hm_event_name", i, hm_event_name(i), model_event_name(i), model_event_name, 14);
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

static void probe_registry(struct run *r, struct fop_rec *o, struct model_out *mo)
{
    static const char *const names[] = {"x86", "x86-pae", "ppc", "sparc", "generic", "x8", "x86-", "",
                                        "X86", "sparc64", "ppc ", "generic\n", NULL};
    const char *name = names[o->value % (sizeof names / sizeof names[0])];
    int exp = model_arch_index(name);
    const struct hm_arch *a = hm_arch_find(name);
    unsigned at = o->value % 7u;

    if (a != (exp < 0 ? NULL : hm_arch_at((unsigned)exp)) ||
        (a && strcmp(hm_arch_name(a), model_arch_name(exp)) != 0))
        fail(r, "hm_arch_find(\"%s\") = %s, the model expects %s", name ? name : "(null)",
             a ? hm_arch_name(a) : "NULL", exp < 0 ? "NULL" : model_arch_name(exp));
    /* The model knows the whole registry: the five arches, then arm, arm-vipt, xtensa (their
     * names; xtensa's behaviour it does not predict); past its end, NULL. The byte picks one
     * index below 7, and 7 (xtensa) and 8 (past the end) are asked every time. */
    const unsigned ats[3] = {at, 7u, 8u};
    for (int k = 0; k < 3; k++) {
        const struct hm_arch *at_arch = hm_arch_at(ats[k]);
        const char *exp_at = model_arch_name((int)ats[k]);
        if (exp_at ? !at_arch || strcmp(hm_arch_name(at_arch), exp_at) != 0 ||
                         hm_arch_find(exp_at) != at_arch
                   : at_arch != NULL)
            fail(r, "hm_arch_at(%u) is %s, the model expects %s", ats[k], at_arch ? hm_arch_name(at_arch) : "NULL",
                 exp_at ? exp_at : "NULL");
    }
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}


static void probe_invariants(struct run *r, struct fop_rec *o, struct model_out *mo)
{
    char buf[48];
    size_t len = o->value % 40u;
    int rc;

    /* this context (O(S) PTE reads: once, with or without a buffer) */
    memset(buf, 0x5a, sizeof buf);
    rc = hm_check_invariants(r->ctx, (o->value & 128u) ? NULL : buf, len);
    if (rc != model_check_code(&r->model))
        fail(r, "hm_check_invariants: %d, the model expects %d", rc, model_check_code(&r->model));
    if (!(o->value & 128u))
        check_message(r, "this context", rc, buf, len);
    memset(buf, 0x5a, sizeof buf);
    rc = hm_check_invariants((o->value & 64u) ? (const struct hm_ctx *)(const void *)never_inited : NULL, buf, len);
    if (rc == 0)
        fail(r, "hm_check_invariants accepts a %s context", (o->value & 64u) ? "never initialised" : "NULL");
    check_message(r, "bad context", rc, buf, len);
    if (hm_check_invariants(NULL, NULL, 16) == 0)
        fail(r, "hm_check_invariants with a NULL context and message buffer");
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

static void probe_stats(struct run *r, struct fop_rec *o, struct model_out *mo)
{
    struct hm_stats st;
    hm_get_stats(r->ctx, &st);
    if (st.bugs != r->all_bugs)
        fail(r, "stats: %llu bugs, the bug hook saw %u", (unsigned long long)st.bugs, r->all_bugs);
    for (int k = 0; k < HM_BUG__COUNT; k++)
        if (st.bug_by_kind[k] != r->bugs_by_kind[k])
            fail(r, "stats: %llu bugs %s, the bug hook saw %u", (unsigned long long)st.bug_by_kind[k],
                 hm_bug_name(k), r->bugs_by_kind[k]);
    if (st.machine_fails != r->all_machine_fails || st.machine_fails != r->model.machine_fails)
        fail(r, "stats: %llu machine_fails, the event hook saw %u, the model expects %u",
             (unsigned long long)st.machine_fails, r->all_machine_fails, r->model.machine_fails);
    o->err = HM_OK;
    model_no_op(&r->model, mo);
}

void run_probe(struct run *r, struct fop_rec *o, struct model_out *mo)
{
    switch (o->type) {
    case KPROBE_NULL_OUT: probe_null_out(r, o, mo); break;
    case KPROBE_NULL_CTX: probe_null_ctx(r, o, mo); break;
    case KPROBE_GETTERS_NULL: probe_getters_null(r, o, mo); break;
    case KPROBE_GETTERS: probe_getters(r, o, mo); break;
    case KPROBE_NAMES: probe_names(r, o, mo); break;
    case KPROBE_REGISTRY: probe_registry(r, o, mo); break;
    case KPROBE_INVARIANTS: probe_invariants(r, o, mo); break;
    default: probe_stats(r, o, mo); break;
    }
}

/* ---------------------------------------------------------------------------------------
 * FOP_CONFIG: another config through hm_layout_compute, hm_ctx_size and hm_ctx_init, in storage
 * of its own (the machine's context is untouched).
 * ------------------------------------------------------------------------------------- */
/* The scratch context's machine: page tables and nothing else. Every other hook is NULL
 * (highmem.h: a no-op; no sleep: hm_kmap fails with EAGAIN where it would sleep). */
#define MINI_DIRTY_MAX 64u
struct mini_mmu {
    hm_pte_t *pt;
    size_t cap;
    hm_vaddr_t start; /* the window [start, start + pages pages), compared in 64 bits */
    uint32_t pages;
    /* the indices of pt[] written non-zero since the last reset (every other word is zero),
     * unless `overflow`: mini_reset then clears only these instead of the whole table */
    uint32_t dirty[MINI_DIRTY_MAX], ndirty;
    int overflow;
};
static struct mini_mmu mini;

static int mini_set_pte(void *m, hm_vaddr_t vaddr, hm_pte_t pte)
{
    struct mini_mmu *u = m;
    uint32_t i;
    if (vaddr < u->start || (vaddr - u->start) >> 12 >= u->pages)
        return 1; /* no page table there (the core never asks) */
    i = (uint32_t)((vaddr - u->start) >> 12); /* < pages */
    if (pte && !u->pt[i]) {
        if (u->ndirty < MINI_DIRTY_MAX)
            u->dirty[u->ndirty++] = i;
        else
            u->overflow = 1;
    }
    u->pt[i] = pte;
    return 0;
}

static hm_pte_t mini_get_pte(void *m, hm_vaddr_t vaddr)
{
    const struct mini_mmu *u = m;
    if (vaddr >= u->start && (vaddr - u->start) >> 12 < u->pages)
        return u->pt[(vaddr - u->start) >> 12];
    return 0;
}

static void mini_reset(const struct hm_layout *L)
{
    size_t n = L->pt_pages ? L->pt_pages : 1u;
    if (n > mini.cap) {
        free(mini.pt);
        mini.pt = calloc(n, sizeof *mini.pt);
        mini.cap = mini.pt ? n : 0;
        if (!mini.pt) {
            fprintf(stderr, "kmap_ops: out of memory\n");
            abort();
        }
    } else if (mini.overflow) {
        memset(mini.pt, 0, mini.cap * sizeof *mini.pt);
    } else {
        for (uint32_t k = 0; k < mini.ndirty; k++)
            mini.pt[mini.dirty[k]] = 0;
    }
    mini.ndirty = 0;
    mini.overflow = 0;
    mini.start = L->pt_start;
    mini.pages = L->pt_pages;
}

/* A short script on the scratch context (small windows only), against a model of its own:
 * fill the window and one more (EAGAIN: hm_kmap cannot sleep without the hook), a bug without
 * a bug hook, a flush, one kmap_atomic round trip; then the invariants and the bug count. */
static void mini_run(struct run *r, struct hm_ctx *c2, const struct hm_config *cfg, const struct hm_layout *L)
{
    static struct model pm;
    struct model_config mc;
    struct model_out mo;
    struct hm_stats st;
    uint32_t hs = L->highmem_start_pfn, hp = L->max_pfn - L->highmem_start_pfn, nbugs = 0;
    hm_vaddr_t v = 0;
    int rc;

    fop_model_config(cfg, &mc);
    mc.nr_cpus = L->nr_cpus;
    if (model_init(&pm, &mc) != 0)
        fail(r, "config probe: the model refuses a config it accepted");
#define MINI_CHECK(call, what)                                                                           \
    do {                                                                                                 \
        rc = (call);                                                                                     \
        nbugs += mo.nbugs;                                                                               \
        if (rc != mo.err || (rc == HM_OK && (what) != mo.val))                                           \
            fail(r, "config probe, no-hook machine: %s returned %s 0x%" PRIx64 ", the model expects %s 0x%" \
                 PRIx64, #call, hm_strerror(rc), (uint64_t)(what), hm_strerror(mo.err), mo.val);         \
    } while (0)
    for (uint32_t k = 0; hp && k <= L->last_pkmap; k++) {
        model_kmap(&pm, hs + k % hp, &mo);
        MINI_CHECK(hm_kmap(c2, hs + k % hp, &v), v);
    }
    model_kunmap(&pm, L->max_pfn - 1u, &mo); /* never mapped in a window smaller than hp: a BUG */
    MINI_CHECK(hm_kunmap(c2, L->max_pfn - 1u), 0u);
    model_kunmap(&pm, hs, &mo);
    MINI_CHECK(hm_kunmap(c2, hs), 0u);
    model_kunmap(&pm, hs, &mo);
    MINI_CHECK(hm_kunmap(c2, hs), 0u);
    model_flush_unused(&pm, &mo);
    MINI_CHECK(hm_kmap_flush_unused(c2), 0u);
    model_kmap_atomic(&pm, 0, 3, L->max_pfn - 1u, &mo);
    MINI_CHECK(hm_kmap_atomic(c2, 0, L->max_pfn - 1u, 3, &v), v);
    model_kunmap_atomic(&pm, 0, 3, v, &mo);
    MINI_CHECK(hm_kunmap_atomic(c2, 0, v, 3), 0u);
#undef MINI_CHECK
    rc = hm_check_invariants(c2, NULL, 0);
    hm_get_stats(c2, &st);
    if (rc != model_check_code(&pm) || st.bugs != nbugs)
        fail(r, "config probe, no-hook machine: invariants %d (model %d), %llu bugs (model %u)", rc,
             model_check_code(&pm), (unsigned long long)st.bugs, nbugs);
}

#define KCFG_MAX_INIT 4096u

void run_config(struct run *r, struct fop_rec *o, struct model_out *mo)
{
    const uint8_t *b = o->raw;
    static struct hm_arch bad;
    static void *scratch;
    static size_t cap;
    struct hm_config cfg;
    struct model_config mc;
    struct model_layout M;
    struct hm_layout L;
    struct hm_machine mach;
    struct hm_ctx *c2 = NULL;
    const struct hm_arch *base =
        hm_arch_at(b[0] < KCFG_BAD_DESC ? b[0] % FOP_NR_ARCHES : (b[0] - KCFG_BAD_DESC) / 10u % FOP_NR_ARCHES);
    int valid, rc, want;
    size_t size, align = hm_ctx_align(), room;
    uint32_t what = (b[4] & 0x0fu) % KCFG_INIT__COUNT;

    memset(&cfg, 0, sizeof cfg);
    cfg.arch = base;
    cfg.nr_cpus = fop_cfg_cpus(b[1]);
    cfg.last_pkmap = fop_cfg_window(b[2]);
    cfg.highmem_pages = fop_cfg_highmem(b[3]);
    cfg.debug_highmem = (b[4] >> 4) & 1;
    cfg.need_flush = (b[4] >> 5) & 1;
    fop_model_config(&cfg, &mc); /* cfg.arch is base until a broken copy replaces it */
    valid = model_config_valid(&mc, &M) == 0;
    if (b[0] >= KCFG_BAD_DESC) {
        /* a descriptor the core must refuse (highmem_arch.h), or an unchanged copy */
        uint32_t kind = (b[0] - KCFG_BAD_DESC) % 10u;
        int x86 = model_arch_index(hm_arch_name(base)) == 0; /* PAE's 2 MiB PMD leaves room */
        bad = *base;
        switch (kind) {
        case 0: cfg.arch = NULL; break;
        case 1: bad.abi_version = HM_ARCH_ABI_VERSION + 1u; break;
        case 2: bad.layout = NULL; break;
        case 3: bad.page_shift = 9; break;
        case 4: bad.page_shift = 17; break;
        case 5: bad.lowmem_pages = 0, bad.has_highmem = 0; break; /* no memory at all */
        case 7:
            /* x86 (no PAE) with 1008 MiB of lowmem and 1024 slots: the direct map ends at
             * 0xff000000, VMALLOC_START (high_memory + 8 MiB, rounded up: 0xff800000) is not
             * below VMALLOC_END (PKMAP_BASE - 2 pages) */
            if (x86) {
                bad.lowmem_pages = 0x3f000u;
                cfg.last_pkmap = 1024; /* PKMAP_BASE 0xff800000 or lower: VMALLOC_END below it */
            }
            break;
        case 8: bad.default_last_pkmap = 0; break;    /* fine while the config names a window */
        case 9: bad.default_highmem_pages = 0; break; /* fine while it names a highmem size */
        default: break; /* the copy behaves as the original */
        }
        if (cfg.arch)
            cfg.arch = &bad;
        if (kind == 8u || kind == 9u) {
            if (base->has_highmem && (kind == 8u ? cfg.last_pkmap : cfg.highmem_pages) == 0)
                valid = 0;
        } else if (kind != 6u && (kind != 7u || x86)) {
            valid = 0;
        }
    }
    o->type = b[0];
    o->value = b[4];
    o->cpu = cfg.nr_cpus;
    o->pfn = cfg.highmem_pages;
    o->vaddr = cfg.last_pkmap;

    rc = hm_layout_compute(&cfg, &L);
    if ((rc == HM_OK) != valid || (rc != HM_OK && rc != HM_EINVAL))
        fail(r, "config probe: hm_layout_compute returned %s, the model %s the config", hm_strerror(rc),
             valid ? "accepts" : "refuses");
    if (valid && !layout_matches(&M, &L))
        fail(r, "config probe: layout (PKMAP_BASE 0x%08" PRIx64 ", max_pfn 0x%x) differs from the model's (0x%08x, 0x%x)",
             L.pkmap_base, L.max_pfn, M.pkmap_base, M.max_pfn);
    size = hm_ctx_size(&cfg);
    if ((size != 0) != valid)
        fail(r, "config probe: hm_ctx_size = %zu for a config the model %s", size, valid ? "accepts" : "refuses");
    if (hm_layout_compute(NULL, &L) != HM_EINVAL || hm_layout_compute(&cfg, NULL) != HM_EINVAL ||
        hm_ctx_size(NULL) != 0)
        fail(r, "config probe: NULL config or layout accepted");

    /* hm_ctx_init in storage of its own, with one argument wrong (or none) */
    room = (size ? size : 64u) + 2u * align;
    if (room > cap) {
        free(scratch);
        cap = room < 4096u ? 4096u : room;
        scratch = aligned_alloc(align, (cap + align - 1u) / align * align);
        if (!scratch) {
            fprintf(stderr, "kmap_ops: out of memory\n");
            abort();
        }
    }
    memset(&mach, 0, sizeof mach);
    mach.m = &mini;
    mach.set_pte = mini_set_pte;
    mach.get_pte = mini_get_pte;
    if (valid)
        mini_reset(&L);
    want = valid ? HM_OK : HM_EINVAL;
    switch (what) {
    case KCFG_INIT_NULL_MEM:
        rc = hm_ctx_init(NULL, room, &cfg, &mach, NULL, &c2);
        want = HM_EINVAL;
        break;
    case KCFG_INIT_MISALIGNED:
        rc = hm_ctx_init((unsigned char *)scratch + align / 2u, room - align, &cfg, &mach, NULL, &c2);
        want = HM_EINVAL;
        break;
    case KCFG_INIT_SHORT:
        rc = hm_ctx_init(scratch, size ? size - 1u : 0u, &cfg, &mach, NULL, &c2);
        want = valid ? HM_ENOSPC : HM_EINVAL;
        break;
    case KCFG_INIT_NO_SET_PTE:
        if (b[4] & 0x40u)
            mach.get_pte = NULL;
        else
            mach.set_pte = NULL;
        rc = hm_ctx_init(scratch, room, &cfg, &mach, NULL, &c2);
        if (valid && M.S)
            want = HM_EINVAL; /* a highmem arch needs set_pte and get_pte */
        break;
    case KCFG_INIT_NULL_ARGS:
        rc = hm_ctx_init(scratch, room, NULL, &mach, NULL, &c2);
        if (rc == HM_EINVAL)
            rc = hm_ctx_init(scratch, room, &cfg, NULL, NULL, &c2);
        if (rc == HM_EINVAL)
            rc = hm_ctx_init(scratch, room, &cfg, &mach, NULL, NULL);
        want = HM_EINVAL;
        break;
    default:
        /* hm_ctx_init zeroes the whole context byte by byte: for the large windows (up to
         * 4096 slots, ~90 KB) that alone would cost milliseconds under the fuzzer's comparison
         * tracing, so only contexts up to KCFG_MAX_INIT bytes are built */
        if (valid && size > KCFG_MAX_INIT) {
            o->err = HM_OK;
            o->val = 1;
            model_no_op(&r->model, mo);
            return;
        }
        rc = hm_ctx_init(scratch, room, &cfg, &mach, NULL, &c2);
        break;
    }
    if (rc != want)
        fail(r, "config probe: hm_ctx_init (case %u) returned %s, expected %s", what, hm_strerror(rc),
             hm_strerror(want));
    if (rc == HM_OK) {
        char msg[64];
        if (!c2 || hm_check_invariants(c2, msg, sizeof msg) != 0 || hm_pool_size(c2) != M.S ||
            hm_last_pkmap_nr(c2) != 0 || !hm_ctx_layout(c2) || memcmp(hm_ctx_layout(c2), &L, sizeof L) != 0)
            fail(r, "config probe: the new context is not in its initial state");
        if (M.S && M.S <= 64u && what == KCFG_INIT_OK)
            mini_run(r, c2, &cfg, &L);
    }
    o->err = rc;
    o->val = size != 0;
    model_no_op(&r->model, mo);
    mo->err = rc;
}
