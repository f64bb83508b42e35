/* model.h - interface of the kmap_ops reference model (spec §2-§9 and the generations' §10.1 and
 * §10.6 semantics on five arches, TLBs and physical memory to predict loads); shares no code
 * with core/ or arch/.
 * SPDX-License-Identifier: MIT */
#ifndef HM_FUZZ_MODEL_H
#define HM_FUZZ_MODEL_H

#include <stdint.h>

#include "highmem.h" /* types, error codes, bug and event names only */

enum model_arch { MA_X86, MA_X86_PAE, MA_PPC, MA_SPARC, MA_GENERIC, MA_ARM, MA_ARM_VIPT, MA_XTENSA };

struct model_config {
    const char *arch;       /* "x86", "x86-pae", "ppc", "sparc", "generic" */
    uint32_t last_pkmap;    /* 0: the arch's own */
    uint32_t nr_cpus;       /* 1.. */
    uint32_t highmem_pages; /* 0: the arch's default */
    int debug_highmem, need_flush;
    int kernel;             /* enum hm_kernel (docs/generations.md): 2.6.24, 2.6.30, 5.11 */
    uint32_t nr_tasks;      /* 5.11's tasks (0: nr_cpus + 2) */
};

/* The machine as the model computes it from the spec formulas (§3.1, §4.1, §5.1) and the
 * documented constants of docs/design.md and docs/arches.md. */
struct model_layout {
    int arch;                   /* enum model_arch */
    uint32_t page_offset, high_memory;
    uint32_t highmem_start_pfn, max_pfn;
    uint32_t S;                 /* LAST_PKMAP (0 on generic) */
    uint32_t pkmap_base;
    uint32_t nr_km_types;       /* real km_type members */
    uint32_t km_max_idx;        /* 5.11: KM_MAX_IDX (16, 33 with DEBUG_KMAP_LOCAL); 0 before */
    uint32_t nr_tasks;          /* 5.11: the tasks of switch (nr_cpus + 2 by default); 0 before */
    uint32_t km_type_nr;        /* KM_TYPE_NR, fences included */
    uint32_t config_nr_cpus;    /* NR_CPUS the fixmap is sized for */
    uint32_t fixaddr_top, fixaddr_start, fix_kmap_begin, nr_fixmap; /* x86, sparc */
    uint32_t kmap_fix_begin;    /* ppc KMAP_FIX_BEGIN */
    uint32_t atomic_idx0;       /* the address of atomic slot idx 0 (FIX_KMAP_BEGIN / KMAP_FIX_BEGIN) */
    uint64_t pt_start, pt_end;  /* the page-table-backed window */
};

struct model_event {
    int kind; /* enum hm_event_kind */
    uint32_t cpu;
    uint64_t a, b; /* 64 bits, as struct hm_event's */
    uint64_t pte;
};

/* What one operation is expected to do. */
struct model_out {
    int err;                   /* enum hm_err */
    int bug;                   /* the last enum hm_bug reported through the bug hook (HM_BUG_NONE: none) */
    int bug_err;               /* the error that bug report carried */
    uint32_t nbugs;            /* bug reports (a flush may report one and still succeed) */
    uint64_t val;              /* vaddr, pfn or byte, when err == HM_OK */
    uint32_t stale_tlb_hits;   /* accesses served by a TLB entry that disagrees with the PTE */
    uint32_t stale_pte_writes; /* pkmap PTEs written while another page is cached there */
    int flushed;               /* flush_all_zero_pkmaps ran */
};

struct model_byte {
    uint32_t pfn, off;
    uint8_t val;
};

struct model {
    struct model_config cfg;
    struct model_layout L;
    uint32_t ncpus, nslots;  /* nslots: atomic slots of the simulated CPUs (ncpus * spc) */
    uint32_t spc;            /* fixmap slots per CPU in the arrays below: nr_km_types (each
                              * type's slot; x86's debug fences are never mapped), KM_MAX_IDX
                              * in 5.11 (each stack position's); xtensa: times its colours */
    /* mm/highmem.c */
    int32_t *count;          /* pkmap_count[S] */
    uint32_t *pk_pte;        /* [S]: the page the PTE of PKMAP_ADDR(i) maps, plus one (0: none) */
    uint32_t *rec_page, *rec_slot; /* the page_address records: page -> PKMAP_ADDR(slot) */
    uint32_t nrec;           /* records in use (at most S: the pool holds the rest) */
    uint32_t last_nr;        /* last_pkmap_nr (of colour 0 where the pkmap is coloured) */
    uint32_t last_nr1;       /* xtensa: colour 1's cursor, last_pkmap_nr_arr[1] + 1 */
    uint32_t colours;        /* pkmap colours: 2 on xtensa (DCACHE_N_COLORS), else 1 */
    /* kmap_atomic */
    uint32_t *atomic_pte;    /* [cpu * types + type]: pfn + 1, 0 = none */
    int32_t *depth;          /* [cpu]: pagefault-disable depth */
    int in_interrupt;        /* what in_interrupt() answers */
    int fail_write;          /* the machine's PTE-write fault: a MODEL_INJECT_* mode (0: none) */
    uint32_t machine_fails;  /* PTE writes of the library the machine refused, since the set-up */
    /* 5.11 kmap_local (spec §10.6, docs/generations.md): one kmap_ctrl per task record; record
     * c < ncpus is CPU c's idle task (task 0 there), record ncpus + t - 1 is task t >= 1 */
    uint32_t incr;           /* KM_INCR: 1, 2 with DEBUG_KMAP_LOCAL (even positions are guards) */
    uint32_t *cur;           /* [cpu]: the record of the task running there */
    int32_t *t_idx;          /* [record]: kmap_ctrl.idx */
    uint32_t *t_pte;         /* [record * KM_MAX_IDX + pos]: pteval's page + 1 (0: none) */
    uint32_t *t_home;        /* [record]: the CPU it last ran on (where its mappings live) */
    uint32_t *t_on;          /* [record]: the CPU it runs on + 1 (0: switched out) */
    /* the hardware */
    uint32_t *tlb_pk;        /* [cpu * S + i]: pfn + 1 cached for PKMAP_ADDR(i), 0 = none */
    uint32_t *tlb_at;        /* [cpu * nslots + j]: likewise for atomic slot j */
    struct model_byte *mem;  /* every byte ever stored (memory starts zero-filled) */
    uint32_t nmem, capmem;
    /* events of the current operation */
    struct model_event *ev;
    uint32_t nev, capev;
    int overflow;            /* an allocation failed: the model is unusable */
    void *block;             /* the one allocation behind the arrays above */
    size_t block_size;       /* its size in bytes (kept by model_init for reuse) */
};

/* Build the model for a config. m must be zero-filled before its first model_init; a model
 * already built (or whose init failed) may be passed again: its allocations are then reused.
 * Returns 0, or -1 if the spec/docs make the config invalid or memory ran out. model_free
 * releases the allocations (safe after a failed init) and zero-fills m. */
int model_init(struct model *m, const struct model_config *cfg);
void model_free(struct model *m);

/* Each operation starts a new event list (m->ev, m->nev) and fills *out. Addresses are 64-bit
 * numbers (hm_vaddr_t); every modelled machine has a 32-bit space, and an address at or above
 * 2^32 is refused before anything looks at it: BAD_ADDR (ERANGE) by the library's calls (after
 * kunmap_atomic's cpu and type checks), ERANGE without a bug by the sim's load and store. */
void model_kmap(struct model *m, uint32_t pfn, struct model_out *out);
void model_kunmap(struct model *m, uint32_t pfn, struct model_out *out);
void model_flush_unused(struct model *m, struct model_out *out);
void model_kmap_atomic(struct model *m, uint32_t cpu, uint32_t type, uint32_t pfn, struct model_out *out);
void model_kmap_atomic_pfn(struct model *m, uint32_t cpu, uint32_t type, uint32_t pfn, struct model_out *out);
void model_kunmap_atomic(struct model *m, uint32_t cpu, uint32_t type, uint64_t vaddr, struct model_out *out);
void model_load(struct model *m, uint32_t cpu, uint64_t vaddr, struct model_out *out);
void model_store(struct model *m, uint32_t cpu, uint64_t vaddr, uint8_t value, struct model_out *out);
void model_kmap_to_page(struct model *m, uint64_t vaddr, struct model_out *out);
void model_kmap_atomic_to_page(struct model *m, uint64_t vaddr, struct model_out *out);
void model_page_address(struct model *m, uint32_t pfn, struct model_out *out);
void model_set_in_interrupt(struct model *m, int on, struct model_out *out);
/* The calls of later generations (docs/generations.md). kmap_high_get exists from 2.6.30 on an
 * arch with ARCH_NEEDS_KMAP_HIGH_GET, none of the model's five: after the pfn check it is
 * UNAVAILABLE (EINVAL) everywhere. kmap_local, kunmap_local and switch exist from 5.11:
 * before, UNAVAILABLE (EINVAL) before any argument check. */
void model_kmap_high_get(struct model *m, uint32_t pfn, struct model_out *out);
void model_kmap_local(struct model *m, uint32_t cpu, uint32_t pfn, struct model_out *out);
void model_kunmap_local(struct model *m, uint32_t cpu, uint64_t vaddr, struct model_out *out);
void model_switch(struct model *m, uint32_t cpu, uint32_t task, struct model_out *out);
/* What hm_cpu_task and hm_task_local_idx must say (-1 before 5.11 or for a bad task or cpu). */
int model_cpu_task(const struct model *m, uint32_t cpu);
int model_task_local_idx(const struct model *m, uint32_t task, uint32_t cpu);
/* The machine's PTE-write fault injection (sim.h hm_sim_inject): from now on the machine
 * refuses the next map (a present word), every map, the next clear or every clear; NONE ends
 * it. A refused write leaves the PTE as it was; the library call that made it reports it
 * (machine_fail) and undoes what it began (highmem.h, struct hm_machine). No event. */
enum { MODEL_INJECT_NONE, MODEL_INJECT_FAIL_NEXT_MAP, MODEL_INJECT_FAIL_ALL_MAPS,
       MODEL_INJECT_FAIL_NEXT_CLEAR, MODEL_INJECT_FAIL_ALL_CLEARS, MODEL_INJECT__COUNT };
void model_inject(struct model *m, int mode, struct model_out *out);
/* A call that must change nothing and report nothing (a NULL context, an inspection call). */
void model_no_op(struct model *m, struct model_out *out);
/* A call given a NULL out pointer: BUG_BAD_ARG, EINVAL, nothing changes. */
void model_bad_arg(struct model *m, struct model_out *out);

/* Queries for the harness's checks. */
uint32_t model_pkmap_addr(const struct model *m, uint32_t i);           /* PKMAP_ADDR(i) */
uint32_t model_slot_addr(const struct model *m, uint32_t cpu, uint32_t type); /* atomic slot */
uint64_t model_pte_word(const struct model *m, uint32_t pfn);           /* mk_pte(pfn, kmap_prot) */
/* The raw PTE word the model expects at vaddr's page (0: none, and past 2^32). */
uint64_t model_pte_at(const struct model *m, uint64_t vaddr);
/* 1 and *pfn if the model says cpu's TLB caches vaddr's page (0 past 2^32). */
int model_tlb_lookup(const struct model *m, uint32_t cpu, uint64_t vaddr, uint32_t *pfn);
/* Number of TLB entries the model says cpu holds. */
uint32_t model_tlb_entries(const struct model *m, uint32_t cpu);
/* The pkmap slot page_address(pfn) points at (its record), or -1. */
int model_slot_of_page(const struct model *m, uint32_t pfn);
/* What hm_check_invariants must return: 0, or the code of the first invariant broken, in the
 * order the header's description implies (per slot I2/I3 in slot order, then the records). */
int model_check_code(const struct model *m);
/* The embedder's page table changes under the library: the PTE of pkmap slot `slot` now maps
 * pfn (pte_page = pfn + 1), or nothing (pte_page = 0). No library call, no event. The write
 * goes through the machine, which may refuse it (model_inject): out->err is then HM_EMACHINE
 * and the PTE unchanged. */
void model_poke_pte(struct model *m, uint32_t slot, uint32_t pte_page, struct model_out *out);
/* page_address(pfn) without touching the event list (0: none). pfn < max_pfn. */
uint32_t model_page_address_of(const struct model *m, uint32_t pfn);
/* Records left in the page_address pool: LAST_PKMAP minus the slots in use. */
uint32_t model_pool_size(const struct model *m);
/* The page_address bucket of pfn: hash_ptr of its struct page (docs/arches.md's mem_map). */
uint32_t model_page_bucket(const struct model *m, uint32_t pfn);

/* The rest of the public API, predicted without a machine. Names: NULL where highmem.h names
 * nothing (the library then returns some other string). */
const char *model_err_name(int err);
const char *model_bug_name(int bug);
const char *model_event_name(int kind);
int model_arch_index(const char *name);   /* 0..4 for the five arch names, else -1 */
const char *model_arch_name(int i);       /* i = 0..4, else NULL */
uint32_t model_hash_long32(uint32_t val, unsigned bits);
/* Whether the library accepts a config (nr_cpus 0 meaning 1; generic ignores the window and
 * highmem size); 0 and *out (may be NULL) if so, else -1. */
int model_config_valid(const struct model_config *cfg, struct model_layout *out);

/* 1 if the model predicts machines of this arch (hm_arch_name) and generation (enum hm_kernel):
 * every generation of each of the eight arches (a later arch: 0, its inputs skipped). */
int model_knows(const char *arch, int kernel);
/* The address of slot k (k < spc) of cpu's row of the atomic arrays (xtensa: type k / 2 of colour
 * k % 2; elsewhere model_slot_addr's type k). */
uint32_t model_row_slot_addr(const struct model *m, uint32_t cpu, uint32_t k);
/* hm_pkmap_cursor / hm_pkmap_waiters of colour c: the cursor (waiters: always 0, the model
 * never sleeps) in *val; a colour at or past the layout's count is COLOUR_RANGE. */
void model_pkmap_cursor(struct model *m, uint32_t c, int waiters, struct model_out *out);

#endif /* HM_FUZZ_MODEL_H */
