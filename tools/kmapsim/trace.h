/* trace.h - the kmap trace parser of kmapsim: text -> list of commands (no machine needed).
 * Parse errors are reported with the trace line number; nothing here can crash on any input.
 * SPDX-License-Identifier: MIT */
#ifndef KMAPSIM_TRACE_H
#define KMAPSIM_TRACE_H

#include <stddef.h>
#include <stdint.h>

enum kmapsim_op {
    KOP_KMAP = 0,            /* kmap PFN */
    KOP_KUNMAP,              /* kunmap PFN */
    KOP_FLUSH,               /* flush */
    KOP_KMAP_ATOMIC,         /* kmap_atomic CPU TYPE PFN */
    KOP_KUNMAP_ATOMIC,       /* kunmap_atomic CPU TYPE [VADDR] */
    KOP_LOAD,                /* load CPU VADDR */
    KOP_STORE,               /* store CPU VADDR VALUE */
    KOP_KMAP_ATOMIC_PFN,     /* kmap_atomic_pfn CPU TYPE PFN (extension) */
    KOP_KMAP_TO_PAGE,        /* kmap_to_page VADDR (extension) */
    KOP_KMAP_ATOMIC_TO_PAGE, /* kmap_atomic_to_page VADDR (extension) */
    KOP_PAGE_ADDRESS,        /* page_address PFN (extension) */
    KOP_INJECT,              /* inject MODE (extension): arg[0] = enum kmapsim_inject */
    KOP__COUNT
};

/* The MODEs of `inject` (fault injection into the simulated machine, sim.h hm_sim_inject). */
enum kmapsim_inject {
    KINJ_NONE = 0,          /* "none": flushes work again (also cancels a pending drop) */
    KINJ_DROP_NEXT_FLUSH,   /* "drop-next-flush": the next TLB flush of any kind is dropped */
    KINJ_DROP_ALL_FLUSHES,  /* "drop-all-flushes": every TLB flush is dropped until "none" */
    KINJ__COUNT
};

/* The trace name of an inject mode ("none", ...); "?" for a bad mode. */
const char *kmapsim_inject_name(int mode);

/* The command name of an op ("kmap", ...); "?" for a bad op. */
const char *kmapsim_op_name(int op);

/* A TYPE argument: a number (an index into km_types) or a name looked up at run time. */
struct kmapsim_type {
    int is_name;     /* 1: name (NUL-terminated, malloc'd), 0: index */
    uint64_t index;
    char *name;
};

struct kmapsim_cmd {
    int op;                    /* enum kmapsim_op */
    unsigned long line;        /* 1-based line number in the trace */
    unsigned nargs;            /* numeric arguments in arg[] (TYPE not counted) */
    uint64_t arg[3];           /* numeric arguments, in order, TYPE skipped (inject: MODE) */
    struct kmapsim_type type;  /* the TYPE argument of the atomic ops */
};

struct kmapsim_trace {
    struct kmapsim_cmd *cmds;
    size_t n, cap;
};

/* Parse a whole trace. text need not be NUL-terminated and may contain any bytes.
 * Returns 0 and fills *out (free with kmapsim_trace_free), or -1 with "LINE: message" in err
 * (always NUL-terminated when errlen > 0) and *out left empty. Out of memory is reported as a
 * parse error "out of memory" on the line being parsed. */
int kmapsim_parse_trace(const char *text, size_t len, struct kmapsim_trace *out, char *err,
                        size_t errlen);

/* Release what kmapsim_parse_trace allocated; leaves *t empty. NULL-safe. */
void kmapsim_trace_free(struct kmapsim_trace *t);

/* Parse one number token: decimal or 0x/0X hex, non-negative, fits in 64 bits, nothing else.
 * Returns 0 on success. */
int kmapsim_parse_u64(const char *s, size_t n, uint64_t *out);

#endif /* KMAPSIM_TRACE_H */
