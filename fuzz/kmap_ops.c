/* kmap_ops.c - the main fuzz target (LLVMFuzzerTestOneInput): opens the decoded machine, runs up to
 * 256 ops on libhighmem + sim and on model.c, and checks them against each other (check.c).
 * SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/kmap_ops_internal.h"
#include "highmem_arch.h" /* enum hm_cache_kind */
#include "sim/sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct run R;

/* ---------------------------------------------------------------------------------------
 * Hooks: the library's events and bug reports, the sim's stale translations and cache lines.
 * ------------------------------------------------------------------------------------- */
static void on_event(void *cookie, const struct hm_event *ev)
{
    struct run *r = cookie;
    if (ev->kind == HM_EV_STALE_TLB) { /* the sim's (the library never emits one) */
        r->stale_events++;
        return;
    }
    if (ev->kind == HM_EV_STALE_CACHE) { /* the sim's cache model (FOP_EXT_CACHE inputs only) */
        r->stale_cache_events++;
        return;
    }
    if (ev->kind == HM_EV_MACHINE_FAIL)
        r->all_machine_fails++;
    if (r->nev == r->capev) {
        r->ev_overflow = 1;
        return;
    }
    r->ev[r->nev++] = *ev;
}

static void on_bug(void *cookie, const struct hm_bug_report *rep)
{
    struct run *r = cookie;
    r->nbugs++;
    r->bug = rep->bug;
    r->bug_err = rep->err;
    r->all_bugs++;
    if (rep->bug >= 0 && rep->bug < HM_BUG__COUNT)
        r->bugs_by_kind[rep->bug]++;
}

/* ---------------------------------------------------------------------------------------
 * Set-up and the op loop.
 * ------------------------------------------------------------------------------------- */
/* Build the machine (reusing the previous input's sim and context storage); 0 if the library
 * refuses the config (the input is skipped). */
/* The locking mode of an input: HM_TEST_LOCKING (fast or kernel) for a whole run, as the
 * suites take it (.ci/run replays the corpora with each); unset, the input's length chooses
 * (odd: kernel), so that a campaign explores both modes against the same model without any
 * byte of the input decoding differently. */
static int locking_of(size_t size)
{
    static int forced = -2;
    if (forced == -2) {
        const char *e = getenv("HM_TEST_LOCKING");
        forced = !e ? -1 : strcmp(e, "kernel") == 0 ? HM_LOCKING_KERNEL : HM_LOCKING_FAST;
    }
    return forced >= 0 ? forced : (size & 1u) ? HM_LOCKING_KERNEL : HM_LOCKING_FAST;
}

static int setup(struct run *r, struct fz_input *in, size_t size)
{
    struct harness_hooks hooks = {.on_event = on_event, .event_cookie = r, .on_bug = on_bug, .bug_cookie = r};
    struct hm_config cfg;
    struct hm_layout L;
    struct model_config mc;
    uint32_t flags;
    int ext, cache = 0;
    char err[160];

    memset(&cfg, 0, sizeof cfg);
    cfg.arch = hm_arch_at(fz_back_range(in, 0, FOP_NR_ARCHES - 1u));
    cfg.last_pkmap = fop_window(fz_back_range(in, 0, FOP_NR_WINDOWS - 1u));
    cfg.nr_cpus = fz_back_range(in, 1, 4);
    flags = fz_back_range(in, 0, 255); /* one byte, as (0, 3) took: bits 0-1 the same */
    cfg.debug_highmem = (flags & FOP_FLAG_DEBUG) != 0;
    cfg.need_flush = (flags & FOP_FLAG_NEED_FLUSH) != 0;
    cfg.highmem_pages = fop_highmem(fz_back_range(in, 0, FOP_NR_HIGHMEM - 1u));
    ext = (flags & FOP_FLAG_EXT_MASK) == FOP_FLAG_EXT; /* the ext byte follows */
    if (ext) {
        uint32_t e = fz_back_range(in, 0, 255);
        cfg.kernel = fop_kernel(e);
        if (fop_ext_arch(e) >= 0) /* arm, arm-vipt, xtensa: the ext byte's bits 2-3 */
            cfg.arch = hm_arch_at((unsigned)fop_ext_arch(e));
        cache = (e & FOP_EXT_CACHE) != 0;
    }
    cfg.locking = locking_of(size);
    if (!cfg.arch || !model_knows(hm_arch_name(cfg.arch), cfg.kernel))
        return 0; /* the model does not know this machine (yet): the input is skipped */
    /* the data cache model where the arch's cache aliases (sparc and arm VIVT, xtensa VIPT) */
    r->cache_on = cache && hm_layout_compute(&cfg, &L) == HM_OK && L.cache_kind != HM_CACHE_PIPT;
    hooks.cache = r->cache_on ? HARNESS_CACHE_ON : HARNESS_CACHE_DEFAULT;
    if (harness_machine_open(&r->m, &cfg, &hooks, err, sizeof err) != 0) {
        if (hm_layout_compute(&cfg, &L) != HM_OK)
            return 0;
        fprintf(stderr, "kmap_ops: %s for a config hm_layout_compute accepts\n", err);
        abort();
    }
    r->ctx = r->m.ctx;
    r->sim = r->m.sim;
    r->L = &r->m.layout;

    fop_model_config(&cfg, &mc);
    if (model_init(&r->model, &mc) != 0)
        fail(r, "the library accepts this machine, the model does not");
    r->model_ok = 1;
    r->S = r->L->last_pkmap;
    r->ncpus = r->L->nr_cpus;
    r->ntypes = r->L->nr_km_types;
    check_layout(r);

    r->capev = 2u * r->S + 64u; /* a flush may refuse every clear: two events per slot */
    r->capev += 14u * r->L->km_max_idx; /* a 5.11 switch: as model_init counts them */
    if (r->capev > sizeof r->ev / sizeof r->ev[0] || fop_decoder_init(&r->dec, r->L, &r->model, ext) != 0)
        fail(r, "machine too large for the harness's buffers");
    r->dec.cache = cache;
    hm_sim_get_stats(r->sim, &r->st);
    if (r->verbose)
        fop_print_machine(stdout, &cfg, r->L, ext, cache);
    return 1;
}

/* The cache model before 5.11: a kmap_atomic's (cpu, type) stays open until a kunmap_atomic of
 * that (cpu, type) and address succeeds. A kmap_atomic onto an open one reuses a slot its caller
 * never unmapped (no BUG without DEBUG_HIGHMEM), so nothing flushed the old page's lines there
 * (arm's kunmap_atomic would have): the harness, as that caller, flushes them on the CPU first,
 * so that only a flush the library owes can leave a stale line. Returns the (cpu, type) entry,
 * or NULL (bad cpu or type, 5.11's stack positions, no cache model). */
static uint64_t *atomic_open(struct run *r, const struct fop_rec *o)
{
    if (!r->cache_on || r->L->km_max_idx || o->cpu >= r->ncpus || o->type >= r->ntypes ||
        (size_t)o->cpu * r->ntypes + o->type >= sizeof r->atomic_open / sizeof r->atomic_open[0])
        return NULL;
    return &r->atomic_open[o->cpu * r->ntypes + o->type];
}

static void atomic_open_flush(struct run *r, const struct fop_rec *o)
{
    uint64_t *open = atomic_open(r, o);
    if (open && *open)
        r->m.hw.flush_cache_page(r->m.hw.m, o->cpu, *open);
}

/* The cache model: a load or store through a kmap slot that is not the accessing CPU's live
 * mapping (another CPU's slot, or before 5.11 a (cpu, type) no kmap_atomic holds open: the PTE
 * a kunmap_atomic without DEBUG_HIGHMEM leaves) fills a line that no flush of the library's
 * owes anything to (arm flushes only the unmapping CPU's lines, and only at kunmap): the
 * harness, as that misbehaving caller, drops the page from the accessing CPU's cache after the
 * access. */
static void slot_access_flush(struct run *r, const struct fop_rec *o)
{
    const struct model *m = &r->model;
    uint32_t page = (uint32_t)(o->vaddr & ~(uint64_t)0xfff);

    if (!r->cache_on || o->err != HM_OK || o->cpu >= r->ncpus || !r->S)
        return;
    for (uint32_t c = 0; c < r->ncpus; c++)
        for (uint32_t k = 0; k < m->spc; k++) {
            uint64_t open;
            if (model_row_slot_addr(m, c, k) != page)
                continue;
            /* before 5.11 slot k is type k (xtensa: k / 2, of colour k % 2) */
            open = r->L->km_max_idx ? page : r->atomic_open[c * r->ntypes + k / (m->spc / r->ntypes)];
            if (c != o->cpu || (open & ~(uint64_t)0xfff) != page)
                r->m.hw.flush_cache_page(r->m.hw.m, o->cpu, page);
            return;
        }
}

static void atomic_open_note(struct run *r, const struct fop_rec *o)
{
    uint64_t *open = atomic_open(r, o);
    if (!open || o->err != HM_OK)
        return;
    if (o->op != FOP_KUNMAP_ATOMIC)
        *open = o->val;
    else if ((o->vaddr & ~(uint64_t)0xfff) == (*open & ~(uint64_t)0xfff))
        *open = 0;
}

/* The library's side of a machine op (probes and config probes: probe.c). */
static void run_library(struct run *r, struct fop_rec *o)
{
    hm_vaddr_t v = 0;
    hm_pfn_t p = 0;
    uint8_t val = 0;

    if (o->op == FOP_KMAP_ATOMIC || o->op == FOP_KMAP_ATOMIC_PFN)
        atomic_open_flush(r, o);

    switch (o->op) {
    case FOP_KMAP:
        o->err = hm_kmap_try(r->ctx, o->pfn, &v);
        o->val = v;
        break;
    case FOP_KUNMAP:
        o->err = hm_kunmap(r->ctx, o->pfn);
        break;
    case FOP_FLUSH:
        o->err = hm_kmap_flush_unused(r->ctx);
        break;
    case FOP_KMAP_ATOMIC:
        o->err = hm_kmap_atomic(r->ctx, o->cpu, o->pfn, o->type, &v);
        o->val = v;
        break;
    case FOP_KMAP_ATOMIC_PFN:
        o->err = hm_kmap_atomic_pfn(r->ctx, o->cpu, o->pfn, o->type, &v);
        o->val = v;
        break;
    case FOP_KUNMAP_ATOMIC:
        o->err = hm_kunmap_atomic(r->ctx, o->cpu, o->vaddr, o->type);
        break;
    case FOP_LOAD:
        o->err = hm_sim_load(r->sim, o->cpu, o->vaddr, &val);
        o->val = val;
        slot_access_flush(r, o);
        break;
    case FOP_STORE:
        o->err = hm_sim_store(r->sim, o->cpu, o->vaddr, o->value);
        /* the cache model: the caller's discipline after a write that another mapping may read
         * (flush_dcache_page), made total: every CPU's cache written back and invalidated
         * through the machine's hook (no library call, no event). Memory then holds every
         * store, and a line read later is stale only if an address was remapped without the
         * flush the arch owes (fuzz/README.md, The data cache) */
        if (r->cache_on)
            r->m.hw.flush_cache_all(r->m.hw.m);
        break;
    case FOP_KMAP_TO_PAGE:
        o->err = hm_kmap_to_page(r->ctx, o->vaddr, &p);
        o->val = p;
        break;
    case FOP_KMAP_ATOMIC_TO_PAGE:
        o->err = hm_kmap_atomic_to_page(r->ctx, o->vaddr, &p);
        o->val = p;
        break;
    case FOP_KMAP_HIGH_GET:
        o->err = hm_kmap_high_get(r->ctx, o->pfn, &v);
        o->val = v;
        break;
    case FOP_KMAP_LOCAL:
        o->err = hm_kmap_local_page(r->ctx, o->cpu, o->pfn, &v);
        o->val = v;
        break;
    case FOP_KUNMAP_LOCAL:
        o->err = hm_kunmap_local(r->ctx, o->cpu, o->vaddr);
        break;
    case FOP_SWITCH:
        o->err = hm_switch(r->ctx, o->cpu, o->type);
        break;
    case FOP_POKE: /* the embedder writes the PTE through the machine's own hook */
        if (!r->S)
            break; /* no pkmap window */
        if (o->value >= KPOKE_NONE)
            o->pte = hm_mk_kmap_pte(r->ctx, o->pfn);
        /* an embedder that rewrites a PTE flushes the page's lines first (the cache model) */
        if (r->cache_on)
            r->m.hw.flush_cache_page(r->m.hw.m, HM_CPU_ALL, o->vaddr);
        /* the machine may refuse it (fault injection): nothing is written then */
        o->err = r->m.hw.set_pte(r->m.hw.m, o->vaddr, o->pte) ? HM_EMACHINE : HM_OK;
        break;
    case FOP_IRQ:
        if (o->value >= KIRQ_INJECT) {
            /* kmap_ops.h's inject modes, as the sim numbers them */
            static const int fault[KIRQ_NR_MODES] = {HM_SIM_FAULT_NONE, HM_SIM_FAULT_FAIL_NEXT_MAP,
                                                     HM_SIM_FAULT_FAIL_ALL_MAPS, HM_SIM_FAULT_FAIL_NEXT_CLEAR,
                                                     HM_SIM_FAULT_FAIL_ALL_CLEARS};
            hm_sim_inject(r->sim, fault[(o->value - KIRQ_INJECT) % KIRQ_NR_MODES]);
        } else {
            hm_sim_set_in_interrupt(r->sim, o->value);
        }
        break;
    default: /* FOP_PAGE_ADDRESS */
        o->err = hm_page_address(r->ctx, o->pfn, &v);
        o->val = v;
        break;
    }
    if (o->op == FOP_KMAP_ATOMIC || o->op == FOP_KMAP_ATOMIC_PFN || o->op == FOP_KUNMAP_ATOMIC)
        atomic_open_note(r, o);
}

static void run_op(struct run *r, struct fz_input *in)
{
    struct fop_rec *o = &r->log[r->nlog++];
    struct model_out mo;

    fop_decode(&r->dec, in, o);
    r->nev = 0;
    r->nbugs = 0;
    r->bug = HM_BUG_NONE;
    r->bug_err = HM_OK;
    r->stale_events = 0;
    r->stale_cache_events = 0;

    if (o->op == FOP_PROBE) {
        run_probe(r, o, &mo);
    } else if (o->op == FOP_CONFIG) {
        run_config(r, o, &mo);
    } else {
        run_library(r, o);
        fop_model(&r->model, o, &mo);
    }
    o->bug = r->bug;
    if (r->verbose)
        fop_print_op(stdout, &r->dec, r->verbose >= 2, o);
    check_after(r, o, &mo);
    fop_remember(&r->dec, o); /* decoder state for the following ops */
}

/* HM_FUZZ_VERBOSE: 1 prints every op as seed text (seed_text.c) with its result; 2 adds the
 * `#@` byte hints, so that gen_seeds re-encodes the text to the same operand bytes. */
static int verbose(void)
{
    static int v = -1;
    if (v < 0) {
        const char *e = getenv("HM_FUZZ_VERBOSE");
        v = !e ? 0 : strcmp(e, "2") == 0 ? 2 : 1;
    }
    return v;
}

static int digest(void)
{
    static int d = -1;
    if (d < 0)
        d = getenv("HM_FUZZ_DIGEST") != NULL;
    return d;
}

/* With HM_FUZZ_DIGEST set, one line per input: an FNV-1a hash of every op's decoded operands
 * and results, fed as explicit little-endian 32-bit words so that every host (32/64-bit, big or
 * little endian) prints the same line for the same input: tools/cross-check compares them.
 * The 64-bit val and vaddr are fed as their low word, followed by their high word only when it
 * is not zero: every digest from before addresses were 64 bits wide stays the same. */
static uint32_t fnv_word(uint32_t h, uint32_t word)
{
    for (unsigned b = 0; b < 4; b++) {
        h ^= (word >> (8 * b)) & 0xffu;
        h *= 16777619u;
    }
    return h;
}

static uint32_t fnv_wide(uint32_t h, uint64_t v)
{
    h = fnv_word(h, (uint32_t)(v & 0xffffffffu));
    return v >> 32 ? fnv_word(h, (uint32_t)(v >> 32)) : h;
}

static void print_digest(const struct run *r)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < r->nlog; i++) {
        const struct fop_rec *o = &r->log[i];
        h = fnv_word(h, (uint32_t)o->op);
        h = fnv_word(h, (uint32_t)o->err);
        h = fnv_word(h, (uint32_t)o->bug);
        h = fnv_wide(h, o->val);
        h = fnv_word(h, o->pfn);
        h = fnv_wide(h, o->vaddr);
        h = fnv_word(h, o->cpu);
        h = fnv_word(h, o->type);
        h = fnv_word(h, o->value);
    }
    printf("digest %08x arch %s ops %u\n", h, r->nlog ? hm_arch_name(r->m.cfg.arch) : "-", r->nlog);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run *r = &R;
    struct fz_input in;

    memset(r, 0, offsetof(struct run, ev));
    r->verbose = verbose();
    fz_init(&in, data, size);
    if (setup(r, &in, size)) {
        while (fz_remaining(&in) > 0 && r->nlog < FOP_MAX_OPS)
            run_op(r, &in);
        check_final(r);
    }
    if (digest())
        print_digest(r);
    return 0;
}
