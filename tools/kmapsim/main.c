/* main.c - kmapsim command line: one option parser for every subcommand (layout, replay, run),
 * the trace's machine header, --help and --version; the work is done by layout.c, replay.c and run.c.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "highmem_arch.h"
#include "kmapsim.h"
#include "harness/print.h"
#include "run.h"
#include "harness/trace.h"

static const char usage_text[] =
    "usage: kmapsim layout [--json] [machine options]\n"
    "       kmapsim replay [--format text|jsonl] [--locking fast|kernel] [machine options] TRACE|-\n"
    "       kmapsim run [WORKLOAD] [run options] [machine options]\n"
    "       kmapsim run trace [run options] [machine options] TRACE|-\n"
    "       kmapsim --help | --version\n"
    "\n"
    "Simulates the Linux 2.6.24 persistent-kmap machinery (libhighmem) on a simulated MMU.\n"
    "\n"
    "machine options:\n"
    "  --arch NAME          x86 (default; 32-bit, no PAE), x86-pae, ppc, sparc, generic\n"
    "                       (no highmem), arm (VIVT cache), arm-vipt (VIPT cache), xtensa\n"
    "                       (3.17 coloured pkmap); layout and run also take 'all'\n"
    "  --cpus N             simulated CPUs, 1..64 (default 1; run: see below)\n"
    "  --pkmap-entries N    override LAST_PKMAP: a power of two 2..4096 (ignored by generic)\n"
    "  --highmem-pages N    highmem page frames after the lowmem ones (default: the arch's)\n"
    "  --debug-highmem      CONFIG_DEBUG_HIGHMEM behaviour\n"
    "  --need-flush         2.6.30 flush_all_zero_pkmaps: flush the TLB only if a slot was freed\n"
    "  --kernel VERSION     the kernel generation: 2.6.24 (default), 2.6.30 (need_flush always,\n"
    "                       kmap_high_get where the arch needs it) or 5.11 (kmap_local)\n"
    "  --cache on|off       (replay, run) the sim's data cache model with the arch's cache\n"
    "                       kind (docs/arches.md); off by default; replay reports stale reads\n"
    "                       as stale_cache, run as a row, a JSON cache object and exit 1\n"
    "A trace may carry its machine options in a header line before its first command,\n"
    "  # machine: --arch x86 --pkmap-entries 16\n"
    "which replay and run trace honour; options given on the command line override it\n"
    "(a difference is noted on standard error).\n"
    "replay and run also take --locking fast (the default: kmaps that find their page\n"
    "mapped, and kunmaps, take no lock) or --locking kernel (2.6.24's kmap_lock around every\n"
    "kmap and kunmap); one thread sees the same output from both.\n"
    "A configuration that does not fit the arch's layout (e.g. --pkmap-entries 4096 on ppc,\n"
    "whose pkmap window would run into the kmap_atomic window) is an error (exit 2).\n"
    "\n"
    "layout prints the virtual kernel memory layout (--json: one JSON object).\n"
    "layout --arch all compares every arch side by side with the same machine options (--json:\n"
    "a JSON array of the per-arch objects); an arch the options do not fit is shown as\n"
    "\"invalid config\" (JSON: {\"arch\",\"error\":\"invalid config\",\"message\"}), still exit 0.\n"
    "replay runs a trace (a file, or - for standard input) on a fresh machine, one line of\n"
    "output per command; replay --arch all is a usage error (exit 2): a trace's pfns and\n"
    "addresses belong to one arch's layout, so replay it once per arch.\n"
    "Trace commands, one per line ('#' starts a comment):\n"
    "  kmap PFN                      kunmap PFN                 flush\n"
    "  kmap_atomic CPU TYPE PFN      kunmap_atomic CPU TYPE [VADDR]\n"
    "  load CPU VADDR                store CPU VADDR VALUE\n"
    "  kmap_atomic_pfn CPU TYPE PFN  kmap_to_page VADDR         kmap_atomic_to_page VADDR\n"
    "  page_address PFN              kmap_high_get PFN (2.6.30 on arm; elsewhere EINVAL)\n"
    "  inject MODE                   fault injection into the simulated MMU; MODE is\n"
    "                                none (flushes work, writes succeed: the default),\n"
    "                                drop-next-flush (the next TLB flush of any kind leaves\n"
    "                                every TLB as it was) or drop-all-flushes (every one,\n"
    "                                until 'inject none'): dropped flushes still show as\n"
    "                                events; fail-next-map, fail-all-maps, fail-next-clear,\n"
    "                                fail-all-clears (the machine refuses the next / every\n"
    "                                PTE map or clear: pte_set/pte_clear then machine_fail,\n"
    "                                the command undoes what it began and fails with\n"
    "                                EMACHINE); always succeeds, no events\n"
    "Numbers are decimal or 0x hex; TYPE is a km_type name (KM_USER0) or its index.\n"
    "jsonl objects may carry \"bug\" (the BUG a failure stands for) and \"stale_tlb\" (how many\n"
    "stale translations the MMU saw: a load or store through a TLB entry that disagrees with\n"
    "the PTE, or a pkmap PTE written while a TLB still holds another page there).\n"
    "\n"
    "\n"
    "run executes a workload on a fresh machine per arch and prints its statistics: kmaps\n"
    "that found the page mapped, count-1 reuses, new mappings, flush_all_zero_pkmaps calls,\n"
    "TLB and cache flushes, TLB hits/misses, sleeps and wake-ups, slots in use, stale\n"
    "translations and wrong bytes (both must be 0), wall time per operation.\n"
    "Workloads (default pagecache-hot; docs/usage.md has the models):\n"
    "  pagecache-read   stream through a file larger than the window: kmap, copy, kunmap\n"
    "  pagecache-hot    the same over a Zipf(s)-distributed working set (most kmaps reuse)\n"
    "  bounce           kmap_atomic(KM_BOUNCE_READ), copy, kunmap_atomic; one thread per CPU\n"
    "  pipe             writer/reader thread pairs passing pages through a bounded queue\n"
    "  hold-many        threads each holding many kmaps: the window fills and kmaps sleep\n"
    "  random           uniform random pages; one access in four writes the page\n"
    "  trace            a trace file (the replay language) as the workload\n"
    "  local-switch     (--kernel 5.11) kmap_local stacks of two tasks per CPU across\n"
    "                   context switches; one thread per CPU\n"
    "run options:\n"
    "  --arch all           every arch, side by side (one column each)\n"
    "  --threads N          worker threads (default: bounce, local-switch = CPUs, pipe 2, hold-many 4,\n"
    "                       others 1); thread t runs on CPU t mod CPUs\n"
    "                       (--cpus default: bounce/local-switch/pipe 2, hold-many 4, others 1, or\n"
    "                       the thread count when --threads is given)\n"
    "  --ops N              operations (default 100000; trace: the trace once)\n"
    "  --working-set N      distinct pages (default per workload: 4 x LAST_PKMAP for\n"
    "                       pagecache-*/hold-many, 2 x for random/pipe, 1024 for bounce\n"
    "                       and local-switch)\n"
    "  --seed N             PRNG seed (default 1); single-threaded runs are reproducible\n"
    "  --zipf S             pagecache-hot exponent, 0..10 (default 1.0; 0 = uniform)\n"
    "  --queue N            pipe queue depth (default 16)\n"
    "  --watchdog SECONDS   fail (exit 1) if a run takes longer; 0 = off (default: 60 with\n"
    "                       more than one thread, off for a single thread)\n"
    "  --json               one JSON document (schema: docs/usage.md)\n"
    "  --svg FILE           draw the runs (occupancy over time, flushes, sleeps, slot heat map)\n"
    "  --no-progress        no progress bar (it is only drawn when stderr is a terminal)\n"
    "\n"
    "exit status: 0 success, 1 some trace command failed (replay) or a run saw a stale\n"
    "translation, a stale cache read (--cache on), a wrong byte, broken invariants, a failed\n"
    "call or its watchdog fired (run),\n"
    "2 usage, configuration, read or parse error.\n";

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("kmapsim: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'kmapsim --help'.\n", stderr);
    return 2;
}

/* ---- options ---------------------------------------------------------------------------- */

/* The subcommands an option belongs to; MACHINE marks the machine options a trace header may
 * carry. */
enum { SC_LAYOUT = 1u, SC_REPLAY = 2u, SC_RUN = 4u, SC_ALL = 7u, MACHINE = 8u };

/* The machine options, one bit each in opts.given (in the order of the option table). */
enum { M_ARCH, M_CPUS, M_PKMAP, M_HIGHMEM, M_DEBUG, M_NEED_FLUSH, M_KERNEL, M_CACHE, M__COUNT };

struct opts {
    unsigned given;          /* M_* bits of the machine options set */
    const char *arch_name;
    uint64_t cpus, pkmap_entries, highmem_pages;
    int debug_highmem, need_flush;
    int cache;               /* replay, run --cache: enum harness_cache (0: the default, off) */
    int json;                /* layout --json, run --json */
    int format;              /* replay --format */
    const char *trace;       /* replay TRACE; run trace TRACE */
    const char *workload, *svg;
    uint64_t threads, ops, working_set, seed, queue, watchdog;
    int watchdog_given;
    double zipf;
    int zipf_given, no_progress;
    int machine;             /* run --machine: enum kmapsim_machine */
    int locking;             /* replay, run --locking: enum hm_locking */
    char arch_buf[64];       /* a header's --arch value */
    int kernel;              /* --kernel: enum hm_kernel */
};

/* Parse a number for option name into *out (lo..hi). Returns 0 or 2 (message printed). */
static int num_value(const char *name, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t x;
    if (trace_parse_u64(v, strlen(v), &x) != 0 || x < lo || x > hi) {
        fprintf(stderr, "kmapsim: bad value '%s' for %s (expected %llu..%llu)\n", v, name,
                (unsigned long long)lo, (unsigned long long)hi);
        return 2;
    }
    *out = x;
    return 0;
}

static int set_arch(struct opts *o, const char *v)
{
    o->arch_name = v;
    return 0;
}
static int set_cpus(struct opts *o, const char *v)
{
    return num_value("--cpus", v, 1, HM_MAX_CPUS, &o->cpus);
}
static int set_pkmap(struct opts *o, const char *v)
{
    if (num_value("--pkmap-entries", v, 2, HM_MAX_PKMAP, &o->pkmap_entries))
        return 2;
    if (o->pkmap_entries & (o->pkmap_entries - 1)) {
        fprintf(stderr, "kmapsim: bad value '%s' for --pkmap-entries (must be a power of two)\n", v);
        return 2;
    }
    return 0;
}
static int set_highmem(struct opts *o, const char *v)
{
    return num_value("--highmem-pages", v, 1, UINT32_MAX, &o->highmem_pages);
}
static int set_debug(struct opts *o, const char *v)
{
    (void)v;
    o->debug_highmem = 1;
    return 0;
}
static int set_need_flush(struct opts *o, const char *v)
{
    (void)v;
    o->need_flush = 1;
    return 0;
}
static int set_kernel(struct opts *o, const char *v)
{
    int k = hm_kernel_find(v);
    if (k < 0)
        return usage_error("bad value '%s' for --kernel (expected %s, %s or %s)", v,
                           hm_kernel_name(HM_KERNEL_2_6_24), hm_kernel_name(HM_KERNEL_2_6_30),
                           hm_kernel_name(HM_KERNEL_5_11));
    o->kernel = k;
    return 0;
}
static int set_cache(struct opts *o, const char *v)
{
    if (strcmp(v, "on") == 0 || strcmp(v, "off") == 0) {
        o->cache = strcmp(v, "on") == 0 ? HARNESS_CACHE_ON : HARNESS_CACHE_OFF;
        return 0;
    }
    fprintf(stderr, "kmapsim: bad value '%s' for --cache (expected on or off)\n", v);
    return 2;
}
static int set_json(struct opts *o, const char *v)
{
    (void)v;
    o->json = 1;
    return 0;
}
static int set_format(struct opts *o, const char *v)
{
    if (strcmp(v, "text") == 0)
        o->format = PRINT_TEXT;
    else if (strcmp(v, "jsonl") == 0)
        o->format = PRINT_JSONL;
    else
        return usage_error("unknown format '%s' (expected text or jsonl)", v);
    return 0;
}
static int set_threads(struct opts *o, const char *v)
{
    return num_value("--threads", v, 1, KMAPSIM_RUN_MAX_THREADS, &o->threads);
}
static int set_ops(struct opts *o, const char *v)
{
    return num_value("--ops", v, 1, UINT64_C(1) << 40, &o->ops);
}
static int set_working_set(struct opts *o, const char *v)
{
    return num_value("--working-set", v, 1, UINT32_MAX, &o->working_set);
}
static int set_seed(struct opts *o, const char *v)
{
    return num_value("--seed", v, 0, UINT64_MAX, &o->seed);
}
static int set_queue(struct opts *o, const char *v)
{
    return num_value("--queue", v, 1, 1u << 20, &o->queue);
}
static int set_watchdog(struct opts *o, const char *v)
{
    o->watchdog_given = 1;
    return num_value("--watchdog", v, 0, 86400, &o->watchdog);
}
static int set_zipf(struct opts *o, const char *v)
{
    char *end = NULL;
    errno = 0;
    o->zipf = strtod(v, &end);
    if (errno || end == v || *end || !(o->zipf >= 0 && o->zipf <= 10)) {
        fprintf(stderr, "kmapsim: bad value '%s' for --zipf (expected 0..10)\n", v);
        return 2;
    }
    o->zipf_given = 1;
    return 0;
}
static int set_svg(struct opts *o, const char *v)
{
    o->svg = v;
    return 0;
}
static int set_trace(struct opts *o, const char *v)
{
    o->trace = v;
    return 0;
}
static int set_machine(struct opts *o, const char *v)
{
    if (strcmp(v, "sim") == 0 || strcmp(v, "host") == 0) {
        o->machine = strcmp(v, "host") == 0 ? KMAPSIM_MACHINE_HOST : KMAPSIM_MACHINE_SIM;
        return 0;
    }
    fprintf(stderr, "kmapsim: bad value '%s' for --machine (expected sim or host)\n", v);
    return 2;
}
static int set_locking(struct opts *o, const char *v)
{
    if (strcmp(v, "fast") == 0 || strcmp(v, "kernel") == 0) {
        o->locking = strcmp(v, "kernel") == 0 ? HM_LOCKING_KERNEL : HM_LOCKING_FAST;
        return 0;
    }
    fprintf(stderr, "kmapsim: bad value '%s' for --locking (expected fast or kernel)\n", v);
    return 2;
}
static int set_no_progress(struct opts *o, const char *v)
{
    (void)v;
    o->no_progress = 1;
    return 0;
}

struct optdef {
    const char *name;
    unsigned where;  /* SC_* | MACHINE */
    int has_value;
    int (*set)(struct opts *o, const char *v); /* 0, or 2 with a message printed */
};

/* Every option of every subcommand; the machine options first, in M_* order. */
static const struct optdef options[] = {
    {"--arch", SC_ALL | MACHINE, 1, set_arch},
    {"--cpus", SC_ALL | MACHINE, 1, set_cpus},
    {"--pkmap-entries", SC_ALL | MACHINE, 1, set_pkmap},
    {"--highmem-pages", SC_ALL | MACHINE, 1, set_highmem},
    {"--debug-highmem", SC_ALL | MACHINE, 0, set_debug},
    {"--need-flush", SC_ALL | MACHINE, 0, set_need_flush},
    {"--kernel", SC_ALL | MACHINE, 1, set_kernel},
    {"--cache", SC_REPLAY | SC_RUN | MACHINE, 1, set_cache},
    {"--json", SC_LAYOUT | SC_RUN, 0, set_json},
    {"--format", SC_REPLAY, 1, set_format},
    {"--threads", SC_RUN, 1, set_threads},
    {"--ops", SC_RUN, 1, set_ops},
    {"--working-set", SC_RUN, 1, set_working_set},
    {"--seed", SC_RUN, 1, set_seed},
    {"--queue", SC_RUN, 1, set_queue},
    {"--watchdog", SC_RUN, 1, set_watchdog},
    {"--zipf", SC_RUN, 1, set_zipf},
    {"--svg", SC_RUN, 1, set_svg},
    {"--trace", SC_RUN, 1, set_trace},
    {"--no-progress", SC_RUN, 0, set_no_progress},
    {"--machine", SC_RUN, 1, set_machine},
    {"--locking", SC_REPLAY | SC_RUN, 1, set_locking},
};
#define NOPTIONS (sizeof options / sizeof options[0])

/* The option argv[*i] names (as "--name" or "--name=value"), if it belongs to `where`. */
static const struct optdef *find_option(const char *a, unsigned where, const char **inline_value)
{
    size_t k;
    for (k = 0; k < NOPTIONS; k++) {
        size_t n = strlen(options[k].name);
        if (!(options[k].where & where) || strncmp(a, options[k].name, n) != 0)
            continue;
        if (a[n] == 0 || (a[n] == '=' && options[k].has_value)) {
            *inline_value = a[n] ? a + n + 1 : NULL;
            return &options[k];
        }
    }
    return NULL;
}

/* Parse argv[0..argc) for one subcommand (where = SC_*, or MACHINE for a trace header) into o.
 * Positional arguments go to positional() (NULL: none allowed). Returns 0, 1 for --help
 * (printed), or 2 (message printed). */
static int parse_options(int argc, char **argv, unsigned where, struct opts *o,
                         int (*positional)(struct opts *o, const char *a))
{
    int i, rc, no_more_opts = 0;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        const struct optdef *d;
        if (no_more_opts || a[0] != '-' || strcmp(a, "-") == 0) {
            if (!positional)
                return usage_error("unexpected argument '%s'", a);
            if ((rc = positional(o, a)) != 0)
                return rc;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            no_more_opts = 1;
            continue;
        }
        if (where != MACHINE && (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)) {
            fputs(usage_text, stdout);
            return 1;
        }
        d = find_option(a, where, &v);
        if (!d)
            return usage_error(where == MACHINE ? "'%s' is not a machine option" : "unknown option '%s'", a);
        if (d->has_value && !v) {
            if (i + 1 >= argc)
                return usage_error("option %s needs a value", d->name);
            v = argv[++i];
        }
        if (d->has_value && !*v && (d->set == set_arch || d->set == set_svg || d->set == set_trace))
            return usage_error("option %s needs a value", d->name);
        if ((rc = d->set(o, v)) != 0)
            return rc;
        if (d->where & MACHINE)
            o->given |= 1u << (unsigned)(d - options);
    }
    return 0;
}

static int layout_positional(struct opts *o, const char *a)
{
    (void)o;
    return usage_error("layout takes no arguments (got '%s')", a);
}

static int replay_positional(struct opts *o, const char *a)
{
    if (o->trace)
        return usage_error("replay takes one TRACE (extra argument '%s')", a);
    o->trace = a;
    return 0;
}

static int run_positional(struct opts *o, const char *a)
{
    if (!o->workload)
        o->workload = a;
    else if (strcmp(o->workload, "trace") == 0 && !o->trace)
        o->trace = a;
    else
        return usage_error("run: unexpected argument '%s'", a);
    return 0;
}

/* ---- the trace's machine header ------------------------------------------------------------ */

/* One machine option's value as text, for the override note. */
static void machine_value(const struct opts *o, int m, char *dst, size_t len)
{
    switch (m) {
    case M_ARCH: snprintf(dst, len, " %s", o->arch_name); break;
    case M_CPUS: snprintf(dst, len, " %llu", (unsigned long long)o->cpus); break;
    case M_PKMAP: snprintf(dst, len, " %llu", (unsigned long long)o->pkmap_entries); break;
    case M_HIGHMEM: snprintf(dst, len, " %llu", (unsigned long long)o->highmem_pages); break;
    case M_KERNEL: snprintf(dst, len, " %s", hm_kernel_name(o->kernel)); break;
    case M_CACHE: snprintf(dst, len, " %s", o->cache == HARNESS_CACHE_ON ? "on" : "off"); break;
    default: dst[0] = 0; break; /* flags */
    }
}

/* Apply the machine options of trace header h (of trace `name`) to o: each one the command
 * line did not give is taken; one it gave with another value is overridden, with a note.
 * Returns 0 or 2 (message printed). */
static int apply_header(struct opts *o, const struct trace_header *h, const char *name)
{
    struct opts ho;
    char *words[TRACE_HEADER_MAX_WORDS];
    int i, rc;

    if (!h->line)
        return 0;
    memset(&ho, 0, sizeof ho);
    for (i = 0; i < h->nwords; i++)
        words[i] = (char *)h->words[i];
    rc = parse_options(h->nwords, words, MACHINE, &ho, NULL);
    if (rc) {
        fprintf(stderr, "kmapsim: %s:%lu: in the machine header\n", name, h->line);
        return 2;
    }
    for (i = 0; i < M__COUNT; i++) {
        char hv[80], cv[80];
        if (!(ho.given & (1u << i)))
            continue;
        machine_value(&ho, i, hv, sizeof hv);
        if (o->given & (1u << i)) {
            machine_value(o, i, cv, sizeof cv);
            if (strcmp(hv, cv) != 0)
                fprintf(stderr, "kmapsim: note: %s%s on the command line overrides %s%s of the "
                        "machine header (%s:%lu)\n", options[i].name, cv, options[i].name, hv,
                        name, h->line);
            continue;
        }
        o->given |= 1u << i;
        switch (i) {
        case M_ARCH:
            snprintf(o->arch_buf, sizeof o->arch_buf, "%s", ho.arch_name);
            o->arch_name = o->arch_buf;
            break;
        case M_CPUS: o->cpus = ho.cpus; break;
        case M_PKMAP: o->pkmap_entries = ho.pkmap_entries; break;
        case M_HIGHMEM: o->highmem_pages = ho.highmem_pages; break;
        case M_DEBUG: o->debug_highmem = 1; break;
        case M_NEED_FLUSH: o->need_flush = 1; break;
        case M_CACHE: o->cache = ho.cache; break;
        default: o->kernel = ho.kernel; break; /* M_KERNEL */
        }
    }
    return 0;
}

/* ---- configs ------------------------------------------------------------------------------ */

/* Write "x86, x86-pae, ..." (every built-in arch, hm_arch_at order) into dst. */
static void list_arches(char *dst, size_t len)
{
    size_t k, used = 0;
    const struct hm_arch *it;
    dst[0] = 0;
    for (k = 0; (it = hm_arch_at((unsigned)k)) != NULL; k++) {
        int n = snprintf(dst + used, len - used, "%s%s", k ? ", " : "", hm_arch_name(it));
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

/* The arch named by --arch (x86 by default); NULL after printing the error. */
static const struct hm_arch *find_arch(const struct opts *o, const char *also)
{
    const char *name = o->arch_name ? o->arch_name : "x86";
    const struct hm_arch *arch = hm_arch_find(name);
    if (!arch) {
        char avail[256];
        list_arches(avail, sizeof avail);
        fprintf(stderr, "kmapsim: unknown arch '%s' (available: %s%s)\n", name, avail, also);
    }
    return arch;
}

/* The machine options as a config without an arch. */
static void options_config(const struct opts *o, struct hm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->nr_cpus = o->cpus ? (uint32_t)o->cpus : 1;
    cfg->last_pkmap = (uint32_t)o->pkmap_entries;
    cfg->highmem_pages = (uint32_t)o->highmem_pages;
    cfg->debug_highmem = o->debug_highmem;
    cfg->need_flush = o->need_flush;
    cfg->locking = o->locking;
    cfg->kernel = o->kernel;
}

/* Is the --arch value "all"? */
static int arch_is_all(const struct opts *o)
{
    return o->arch_name && strcmp(o->arch_name, "all") == 0;
}

/* The config of arch from base, checked against its layout. An option the arch ignores
 * (LAST_PKMAP and highmem size without highmem) is noted. Returns 0 or 2 (message printed). */
static int arch_config(const struct opts *o, const struct hm_config *base, const struct hm_arch *arch,
                       struct hm_config *cfg)
{
    struct hm_layout l;
    char msg[512];
    kmapsim_config_for(base, arch, cfg);
    if (!arch->has_highmem && !arch_is_all(o) && (o->given & ((1u << M_PKMAP) | (1u << M_HIGHMEM))))
        fprintf(stderr, "kmapsim: note: %s has no highmem: %s%s%s ignored\n", hm_arch_name(arch),
                (o->given & (1u << M_PKMAP)) ? "--pkmap-entries" : "",
                (o->given & (1u << M_PKMAP)) && (o->given & (1u << M_HIGHMEM)) ? " and " : "",
                (o->given & (1u << M_HIGHMEM)) ? "--highmem-pages" : "");
    if (kmapsim_config_check(cfg, &l, msg, sizeof msg) != 0) {
        fprintf(stderr, "kmapsim: %s\n", msg);
        return 2;
    }
    return 0;
}

/* ---- subcommands -------------------------------------------------------------------------- */

static int cmd_layout(int argc, char **argv)
{
    struct opts o;
    struct hm_config base, cfg;
    const struct hm_arch *arch;
    int rc;
    memset(&o, 0, sizeof o);
    rc = parse_options(argc, argv, SC_LAYOUT, &o, layout_positional);
    if (rc)
        return rc == 1 ? 0 : rc;
    options_config(&o, &base);
    if (arch_is_all(&o))
        return kmapsim_layout_all(&base, o.json, stdout);
    if (!(arch = find_arch(&o, "; layout also takes all")) || arch_config(&o, &base, arch, &cfg))
        return 2;
    return kmapsim_layout(&cfg, o.json, stdout);
}

/* The display name of a trace path. */
static const char *trace_name(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

static int cmd_replay(int argc, char **argv)
{
    struct opts o;
    struct hm_config base, cfg;
    const struct hm_arch *arch;
    struct trace_reader *rd = NULL;
    FILE *f = NULL;
    char err[512];
    int rc;

    memset(&o, 0, sizeof o);
    rc = parse_options(argc, argv, SC_REPLAY, &o, replay_positional);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!o.trace)
        return usage_error("%s", "replay needs a TRACE file (or - for standard input)");
    f = strcmp(o.trace, "-") == 0 ? stdin : fopen(o.trace, "rb");
    if (!f) {
        fprintf(stderr, "kmapsim: cannot open '%s': %s\n", o.trace, strerror(errno));
        return 2;
    }
    rd = malloc(sizeof *rd);
    if (!rd) {
        fputs("kmapsim: out of memory\n", stderr);
        rc = 2;
        goto out;
    }
    trace_reader_init(rd, f);
    if (trace_read_header(rd, err, sizeof err) < 0) {
        fprintf(stderr, "kmapsim: %s:%s\n", trace_name(o.trace), err);
        rc = 2;
        goto out;
    }
    if ((rc = apply_header(&o, &rd->header, trace_name(o.trace))) != 0)
        goto out;
    if (arch_is_all(&o)) {
        rc = usage_error("%s", "replay --arch all is not supported: a trace's pfns and "
                               "addresses belong to one arch; replay it once per arch");
        goto out;
    }
    options_config(&o, &base);
    if (!(arch = find_arch(&o, "")) || arch_config(&o, &base, arch, &cfg)) {
        rc = 2;
        goto out;
    }
    rc = kmapsim_replay(&cfg, o.cache, rd, trace_name(o.trace), o.format, stdout);
out:
    free(rd);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* Read and parse a whole trace file (or standard input for "-") for run trace.
 * Returns 0, or 2 with a message printed. */
static int load_trace(const char *path, struct trace_list *t)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *p = NULL, err[512];
    size_t n = 0, cap = 0;
    int rc = 0;
    if (!f) {
        fprintf(stderr, "kmapsim: cannot open '%s': %s\n", path, strerror(errno));
        return 2;
    }
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *np = realloc(p, ncap);
            if (!np) {
                fprintf(stderr, "kmapsim: out of memory reading '%s'\n", path);
                rc = 2;
                goto out;
            }
            p = np;
            cap = ncap;
        }
        got = fread(p + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "kmapsim: cannot read '%s': %s\n", path, strerror(errno));
        rc = 2;
    } else if (trace_parse_text(p, n, t, err, sizeof err) != 0) {
        fprintf(stderr, "kmapsim: %s:%s\n", trace_name(path), err);
        rc = 2;
    }
out:
    free(p);
    if (f != stdin)
        fclose(f);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    struct opts o;
    struct hm_config base, cfgs[16];
    struct kmapsim_run_opts ro, resolved[16];
    struct kmapsim_run_result *res = NULL;
    struct trace_list t;
    const struct hm_arch *arches[16];
    FILE *svg = NULL;
    size_t narch = 0, i;
    char err[512];
    int rc, w, status = 0;

    memset(&o, 0, sizeof o);
    memset(&t, 0, sizeof t);
    o.seed = 1;
    rc = parse_options(argc, argv, SC_RUN, &o, run_positional);
    if (rc)
        return rc == 1 ? 0 : rc;
    w = kmapsim_workload_find(o.workload ? o.workload : "pagecache-hot");
    if (w < 0) {
        char names[256] = "";
        int k;
        for (k = 0; k < KW__COUNT; k++) {
            strcat(names, k ? ", " : "");
            strcat(names, kmapsim_workload_name(k));
        }
        return usage_error("unknown workload '%s' (available: %s)", o.workload, names);
    }
    if (w == KW_TRACE && !o.trace)
        return usage_error("%s", "run trace needs a TRACE file (or - for standard input)");
    if (w != KW_TRACE && o.trace)
        return usage_error("a trace file is only used by the trace workload (got '%s')",
                           o.trace);
    if (w == KW_TRACE) {
        if (load_trace(o.trace, &t) != 0 || apply_header(&o, &t.header, trace_name(o.trace)) != 0) {
            status = 2;
            goto out;
        }
    }

    /* The arches. */
    if (arch_is_all(&o)) {
        const struct hm_arch *a;
        while (narch < 16 && (a = hm_arch_at((unsigned)narch)) != NULL)
            arches[narch++] = a;
    } else {
        if (!(arches[0] = find_arch(&o, "; run also takes all"))) {
            status = 2;
            goto out;
        }
        narch = 1;
    }

    memset(&ro, 0, sizeof ro);
    ro.workload = w;
    ro.threads = (uint32_t)o.threads;
    ro.ops = o.ops;
    ro.working_set = o.working_set;
    ro.seed = o.seed;
    ro.zipf_s = o.zipf_given ? (o.zipf == 0 ? -1.0 : o.zipf) : 0;
    ro.queue_depth = (uint32_t)o.queue;
    ro.watchdog_s = (uint32_t)o.watchdog;
    ro.watchdog_set = o.watchdog_given;
    ro.json = o.json;
    ro.record = o.svg != NULL;
    ro.progress = !o.no_progress && isatty(2);
    ro.trace = w == KW_TRACE ? &t : NULL;
    ro.machine = o.machine;
    ro.cache = o.cache;

    options_config(&o, &base);
    if (!o.cpus)
        base.nr_cpus = kmapsim_run_default_cpus(w, ro.threads);
    if (arch_is_all(&o)) { /* as layout --arch all: an arch the options do not fit sits out */
        size_t kept = 0;
        for (i = 0; i < narch; i++) {
            struct hm_layout l;
            char msg[512];
            kmapsim_config_for(&base, arches[i], &cfgs[0]);
            if (kmapsim_config_check(&cfgs[0], &l, msg, sizeof msg) == 0)
                arches[kept++] = arches[i];
            else
                fprintf(stderr, "kmapsim: note: %s left out: %s\n", hm_arch_name(arches[i]), msg);
        }
        narch = kept;
        if (!narch) {
            status = usage_error("%s", "the machine options fit no arch");
            goto out;
        }
    }
    for (i = 0; i < narch; i++) {
        if (arch_config(&o, &base, arches[i], &cfgs[i]) != 0) {
            status = 2;
            goto out;
        }
        if (kmapsim_run_resolve(&cfgs[i], &ro, &resolved[i], err, sizeof err) != 0) {
            fprintf(stderr, "kmapsim: %s: %s\n", hm_arch_name(arches[i]), err);
            status = 2;
            goto out;
        }
        resolved[i].label = hm_arch_name(arches[i]);
    }
    /* Outputs are opened before the run, so a bad path fails at once. */
    if (o.svg && !(svg = fopen(o.svg, "w"))) {
        fprintf(stderr, "kmapsim: cannot write '%s': %s\n", o.svg, strerror(errno));
        status = 2;
        goto out;
    }

    res = calloc(narch, sizeof *res);
    if (!res) {
        fputs("kmapsim: out of memory\n", stderr);
        status = 2;
        goto out;
    }
    for (i = 0; i < narch; i++) {
        resolved[i].prior = res; /* the watchdog's JSON document shows the runs before */
        resolved[i].nprior = i;
        if (kmapsim_run_one(&cfgs[i], &resolved[i], &res[i], err, sizeof err) != 0) {
            fprintf(stderr, "kmapsim: %s: %s\n", hm_arch_name(arches[i]), err);
            status = 2;
            goto out;
        }
    }
    if (o.json)
        kmapsim_run_print_json(stdout, &resolved[0], res, narch);
    else
        kmapsim_run_print_table(stdout, res, narch);
    if (fflush(stdout) != 0) {
        fputs("kmapsim: error writing the output\n", stderr);
        status = 2;
        goto out;
    }
    if (svg) {
        rc = kmapsim_run_write_svg(svg, o.svg, res, narch);
        if (fclose(svg) != 0 && rc == 0) {
            fprintf(stderr, "kmapsim: error writing '%s'\n", o.svg);
            rc = -1;
        }
        svg = NULL;
        if (rc != 0) {
            status = 2;
            goto out;
        }
    }
    for (i = 0; i < narch; i++) {
        if (!kmapsim_run_failed(&res[i]))
            continue;
        kmapsim_run_failure_message(&res[i], err, sizeof err);
        fprintf(stderr, "kmapsim: the %s run on %s failed: %s\n", kmapsim_workload_name(w),
                res[i].arch, err);
        if (res[i].failure[0])
            fprintf(stderr, "kmapsim:   first failure: %s\n", res[i].failure);
        status = 1;
    }
out:
    if (svg)
        fclose(svg);
    if (res)
        for (i = 0; i < narch; i++)
            kmapsim_run_result_free(&res[i]);
    free(res);
    trace_list_free(&t);
    return status;
}

int main(int argc, char **argv)
{
    static const char *const subcommands[] = {"layout", "replay", "run"};
    const char *wd = getenv("BUILD_WORKING_DIRECTORY");
    int i;

    /* Under `bazel run`, relative paths (traces, --svg) mean the caller's directory. */
    if (wd && *wd && chdir(wd) != 0) {
        fprintf(stderr, "kmapsim: cannot change to BUILD_WORKING_DIRECTORY '%s': %s\n", wd,
                strerror(errno));
        return 2;
    }
    if (argc < 2)
        return usage_error("%s", "missing subcommand (layout, replay or run)");
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("kmapsim (libhighmem) %s\n", HM_VERSION_STRING);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(argv[1], "layout") == 0)
        return cmd_layout(argc - 2, argv + 2);
    if (strcmp(argv[1], "replay") == 0)
        return cmd_replay(argc - 2, argv + 2);
    if (strcmp(argv[1], "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    /* An unknown subcommand: --help still helps (exit 0), naming what exists. */
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            fprintf(stderr, "kmapsim: '%s' is not a subcommand (%s, %s or %s)%s\n", argv[1],
                    subcommands[0], subcommands[1], subcommands[2],
                    strcmp(argv[1], "campaign") == 0 ? "; fuzz campaigns: fuzz/campaign --help" : "");
            return 0;
        }
    }
    return usage_error("unknown subcommand '%s' (expected layout, replay or run)%s", argv[1],
                       strcmp(argv[1], "campaign") == 0 ? "; fuzz campaigns: fuzz/campaign" : "");
}
