/* trace.h - the kmap trace language: one line of text -> one command, a streaming reader
 * (constant memory, errors at the line where they occur), and whole-text parsing.
 * Nothing here needs a machine, and nothing can crash on any input. SPDX-License-Identifier: MIT */
#ifndef HARNESS_TRACE_H
#define HARNESS_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The commands of the trace language (the one op enum of the tree). */
enum trace_op {
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
    KOP_INJECT,              /* inject MODE (extension): arg[0] = enum trace_inject */
    KOP_KMAP_HIGH_GET,       /* kmap_high_get PFN (2.6.30 on an arch with it; else EINVAL) */
    KOP_KMAP_LOCAL,          /* kmap_local CPU PFN (5.11) */
    KOP_KUNMAP_LOCAL,        /* kunmap_local CPU VADDR (5.11) */
    KOP_SWITCH,              /* switch CPU TASK (5.11) */
    KOP__COUNT
};

/* The MODEs of `inject` (fault injection into the simulated machine, sim.h hm_sim_inject):
 * the flush modes and the PTE-write modes are two independent settings; "none" ends both. */
enum trace_inject {
    KINJ_NONE = 0,          /* "none": flushes work, writes succeed (cancels anything pending) */
    KINJ_DROP_NEXT_FLUSH,   /* "drop-next-flush": the next TLB flush of any kind is dropped */
    KINJ_DROP_ALL_FLUSHES,  /* "drop-all-flushes": every TLB flush is dropped until "none" */
    KINJ_FAIL_NEXT_MAP,     /* "fail-next-map": the machine refuses the next map (set_pte of a
                             * present PTE), as a real machine out of memory would */
    KINJ_FAIL_ALL_MAPS,     /* "fail-all-maps": it refuses every map until "none" */
    KINJ_FAIL_NEXT_CLEAR,   /* "fail-next-clear": it refuses the next clear (a none PTE) */
    KINJ_FAIL_ALL_CLEARS,   /* "fail-all-clears": it refuses every clear until "none" */
    KINJ__COUNT
};

/* The trace name of an inject mode ("none", ...); "?" for a bad mode. */
const char *trace_inject_name(int mode);

/* The command name of an op ("kmap", ...); "?" for a bad op. */
const char *trace_op_name(int op);

/* Bytes of a TYPE name kept (a longer name names no km_type: it fails at run time). */
#define TRACE_NAME_MAX 63

/* A TYPE argument: a number (an index into km_types) or a name looked up at run time. */
struct trace_type {
    int is_name;                     /* 1: name, 0: index */
    uint64_t index;
    size_t name_len;                 /* the name's length in the trace (may exceed the copy) */
    char name[TRACE_NAME_MAX + 1];   /* its first TRACE_NAME_MAX bytes, NUL-terminated */
};

struct trace_cmd {
    int op;                    /* enum trace_op */
    unsigned long line;        /* 1-based line number in the trace */
    unsigned nargs;            /* numeric arguments in arg[] (TYPE not counted) */
    uint64_t arg[3];           /* numeric arguments, in order, TYPE skipped (inject: MODE) */
    struct trace_type type;    /* the TYPE argument of the atomic ops */
};

/* The machine header: a comment line `# machine: OPTIONS...` before the first command carries
 * the trace's own machine options (the kmapsim option syntax, e.g. `--arch x86
 * --pkmap-entries 16`). The trace language only splits it into words; the front end gives
 * them meaning. */
#define TRACE_HEADER_PREFIX "# machine:"
#define TRACE_HEADER_MAX_WORDS 16
#define TRACE_LINE_MAX 4096 /* longest line the reader accepts (bytes, without the line end) */

struct trace_header {
    unsigned long line;                 /* where it was, 0 if the trace has none */
    int nwords;
    char words[TRACE_HEADER_MAX_WORDS][64];
};

/* Parse one line (without its line end; any bytes). Returns 1 with *cmd filled, 0 for a blank
 * or comment line (a machine header too), or -1 with "LINE: message" in err (always
 * NUL-terminated when errlen > 0). */
int trace_parse_line(const char *s, size_t n, unsigned long line, struct trace_cmd *cmd,
                     char *err, size_t errlen);

/* Parse a machine header line. Returns 1 with *h filled when s is one, 0 when it is not a
 * header, -1 with err for a malformed one (too many or too long words). */
int trace_parse_header(const char *s, size_t n, unsigned long line, struct trace_header *h,
                       char *err, size_t errlen);

/* Where the line starting at s ends: *len = its length without the line end, *next = where
 * the next one starts. A line ends at "\n", "\r\n" or a lone "\r". With more = 1 (more input
 * may follow beyond s + n), returns 0 when no line end is complete yet (including a "\r" at
 * the very end, which may be half of "\r\n"); with more = 0 the rest is the last line.
 * Returns 1 when a line was found. */
int trace_line_end(const char *s, size_t n, int more, size_t *len, size_t *next);

/* A streaming reader over a FILE: reads one line at a time through a fixed buffer, so memory
 * stays constant whatever the trace's length, and a bad line is reported as soon as it is
 * read. */
struct trace_reader {
    FILE *in;
    char buf[2 * TRACE_LINE_MAX + 2];
    size_t start, end;        /* unread bytes are buf[start, end) */
    int eof, error;
    unsigned long line;       /* lines read so far */
    int seen_cmd;             /* a command was returned already */
    struct trace_header header; /* the machine header, if one was read */
};

/* Start reading in (not closed by the reader). */
void trace_reader_init(struct trace_reader *r, FILE *in);

/* Next command. Returns 1 with *cmd, 0 at the end of the input, 2 when a machine header was
 * read (r->header; only before the first command), or -1 with "LINE: message" in err (a
 * parse error, a line longer than TRACE_LINE_MAX, a header after a command, a read error). */
int trace_read(struct trace_reader *r, struct trace_cmd *cmd, char *err, size_t errlen);

/* Read past the comments before the first command, stopping after the machine header if
 * there is one. Returns 1 (r->header filled), 0 (no header: stopped before the first command
 * or at the end), or -1 with err. trace_read then goes on from there. */
int trace_read_header(struct trace_reader *r, char *err, size_t errlen);

/* A whole trace in memory (kmapsim run's trace workload repeats it). */
struct trace_list {
    struct trace_cmd *cmds;
    size_t n, cap;
    struct trace_header header;
};

/* Parse a whole trace text (need not be NUL-terminated, any bytes), split into lines as
 * trace_line_end does. Returns 0 and fills *out (free with trace_list_free), or -1 with
 * "LINE: message" in err and *out left empty. Out of memory is reported as a parse error
 * "out of memory" on the line being parsed. */
int trace_parse_text(const char *text, size_t len, struct trace_list *out, char *err,
                     size_t errlen);

/* Release what trace_parse_text allocated; leaves *t empty. NULL-safe. */
void trace_list_free(struct trace_list *t);

/* Parse one number token: decimal or 0x/0X hex, non-negative, fits in 64 bits, nothing else.
 * Returns 0 on success. */
int trace_parse_u64(const char *s, size_t n, uint64_t *out);

#endif /* HARNESS_TRACE_H */
