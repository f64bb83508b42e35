/* main.c - kmapsim command line: subcommands (layout, replay, run, --help), machine options,
 * and reading traces; the work is done by layout.c, replay.c and run.c.
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
    "       kmapsim replay [--format text|jsonl] [machine options] TRACE|-\n"
    "       kmapsim run [WORKLOAD] [run options] [machine options]\n"
    "       kmapsim run trace [run options] [machine options] TRACE|-\n"
    "       kmapsim --help\n"
    "\n"
    "Simulates the Linux 2.6.24 persistent-kmap machinery (libhighmem) on a simulated MMU.\n"
    "\n"
    "machine options:\n"
    "  --arch NAME          x86 (default; 32-bit, no PAE), x86-pae, ppc, sparc, generic\n"
    "                       (no highmem); layout and run also take 'all'\n"
    "  --cpus N             simulated CPUs, 1..64 (default 1; run: see below)\n"
    "  --pkmap-entries N    override LAST_PKMAP: a power of two 2..4096 (ignored by generic)\n"
    "  --highmem-pages N    highmem page frames after the lowmem ones (default: the arch's)\n"
    "  --debug-highmem      CONFIG_DEBUG_HIGHMEM behaviour\n"
    "  --need-flush         2.6.30 flush_all_zero_pkmaps: flush the TLB only if a slot was freed\n"
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
    "  page_address PFN\n"
    "  inject MODE                   fault injection into the simulated MMU; MODE is\n"
    "                                none (flushes work: the default), drop-next-flush (the\n"
    "                                next TLB flush of any kind leaves every TLB as it was)\n"
    "                                or drop-all-flushes (every one, until 'inject none');\n"
    "                                dropped flushes still show as events; always succeeds,\n"
    "                                no events\n"
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
    "run options:\n"
    "  --arch all           every arch, side by side (one column each)\n"
    "  --threads N          worker threads (default: bounce = CPUs, pipe 2, hold-many 4,\n"
    "                       others 1); thread t runs on CPU t mod CPUs\n"
    "                       (--cpus default: bounce/pipe 2, hold-many 4, others 1, or\n"
    "                       the thread count when --threads is given)\n"
    "  --ops N              operations (default 100000; trace: the trace once)\n"
    "  --working-set N      distinct pages (default per workload: 4 x LAST_PKMAP for\n"
    "                       pagecache-*/hold-many, 2 x for random/pipe, 1024 for bounce)\n"
    "  --seed N             PRNG seed (default 1); single-threaded runs are reproducible\n"
    "  --zipf S             pagecache-hot exponent, 0..10 (default 1.0; 0 = uniform)\n"
    "  --queue N            pipe queue depth (default 16)\n"
    "  --watchdog SECONDS   fail (exit 1) if a run takes longer (default 60)\n"
    "  --json               one JSON document (schema: docs/usage.md)\n"
    "  --svg FILE           draw the runs (occupancy over time, flushes, sleeps, slot heat map)\n"
    "  --no-progress        no progress bar (it is only drawn when stderr is a terminal)\n"
    "\n"
    "exit status: 0 success, 1 some trace command failed (replay) or a run saw a stale\n"
    "translation, a wrong byte, broken invariants, a failed call or its watchdog fired (run),\n"
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

struct opts {
    const char *arch_name;
    uint64_t cpus, pkmap_entries, highmem_pages; /* 0: not given */
    int debug_highmem, need_flush;
    int json;          /* layout --json */
    int format;        /* replay --format */
    int format_given;
    const char *trace; /* replay positional; run trace FILE */
    /* run */
    const char *workload, *svg;
    uint64_t threads, ops, working_set, seed, queue, watchdog;
    double zipf;
    int zipf_given, no_progress;
};

/* Is arg the option name (either "--name" alone or "--name=value")? Sets *val to the inline
 * value, or NULL. */
static int opt_is(const char *arg, const char *name, const char **val)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == 0) {
        *val = NULL;
        return 1;
    }
    if (arg[n] == '=') {
        *val = arg + n + 1;
        return 1;
    }
    return 0;
}

/* The value of an option: inline, or the next argument. */
static const char *opt_value(int argc, char **argv, int *i, const char *inl)
{
    if (inl)
        return inl;
    if (*i + 1 >= argc)
        return NULL;
    return argv[++*i];
}

static int parse_num_opt(const char *name, const char *v, uint64_t lo, uint64_t hi, uint64_t *out)
{
    uint64_t x;
    if (!v) {
        fprintf(stderr, "kmapsim: option %s needs a value\n", name);
        return -1;
    }
    if (trace_parse_u64(v, strlen(v), &x) != 0 || x < lo || x > hi) {
        fprintf(stderr, "kmapsim: bad value '%s' for %s (expected %llu..%llu)\n", v, name,
                (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *out = x;
    return 0;
}

/* Handle one machine option (--arch, --cpus, --pkmap-entries, --highmem-pages,
 * --debug-highmem, --need-flush) at argv[*i]. Returns 1 when handled, 0 when a is not a
 * machine option, -1 on a bad value (message printed). */
static int machine_opt(int argc, char **argv, int *i, const char *a, struct opts *o)
{
    const char *v = NULL;
    if (opt_is(a, "--arch", &v)) {
        v = opt_value(argc, argv, i, v);
        if (!v || !*v) {
            usage_error("option %s needs a value", "--arch");
            return -1;
        }
        o->arch_name = v;
    } else if (opt_is(a, "--cpus", &v)) {
        if (parse_num_opt("--cpus", opt_value(argc, argv, i, v), 1, HM_MAX_CPUS, &o->cpus))
            return -1;
    } else if (opt_is(a, "--pkmap-entries", &v)) {
        v = opt_value(argc, argv, i, v);
        if (parse_num_opt("--pkmap-entries", v, 2, HM_MAX_PKMAP, &o->pkmap_entries))
            return -1;
        if (o->pkmap_entries & (o->pkmap_entries - 1)) {
            fprintf(stderr,
                    "kmapsim: bad value '%s' for --pkmap-entries (must be a power of two)\n",
                    v);
            return -1;
        }
    } else if (opt_is(a, "--highmem-pages", &v)) {
        if (parse_num_opt("--highmem-pages", opt_value(argc, argv, i, v), 1, UINT32_MAX,
                          &o->highmem_pages))
            return -1;
    } else if (strcmp(a, "--debug-highmem") == 0) {
        o->debug_highmem = 1;
    } else if (strcmp(a, "--need-flush") == 0) {
        o->need_flush = 1;
    } else {
        return 0;
    }
    return 1;
}

/* Parse the arguments of a subcommand. Returns 0, 1 for --help (already printed), 2 on error. */
static int parse_args(int argc, char **argv, int is_replay, struct opts *o)
{
    int i, rc, no_more_opts = 0;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (no_more_opts || a[0] != '-' || strcmp(a, "-") == 0) {
            if (!is_replay)
                return usage_error("layout takes no arguments (got '%s')", a);
            if (o->trace)
                return usage_error("replay takes one TRACE (extra argument '%s')", a);
            o->trace = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            no_more_opts = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 1;
        } else if ((rc = machine_opt(argc, argv, &i, a, o)) != 0) {
            if (rc < 0)
                return 2;
        } else if (!is_replay && strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (is_replay && opt_is(a, "--format", &v)) {
            v = opt_value(argc, argv, &i, v);
            if (!v)
                return usage_error("option %s needs a value", "--format");
            if (strcmp(v, "text") == 0)
                o->format = PRINT_TEXT;
            else if (strcmp(v, "jsonl") == 0)
                o->format = PRINT_JSONL;
            else
                return usage_error("unknown format '%s' (expected text or jsonl)", v);
            o->format_given = 1;
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    if (is_replay && !o->trace)
        return usage_error("%s", "replay needs a TRACE file (or - for standard input)");
    return 0;
}

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

/* The machine options as a config without an arch. */
static void options_config(const struct opts *o, struct hm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->nr_cpus = o->cpus ? (uint32_t)o->cpus : 1;
    cfg->last_pkmap = (uint32_t)o->pkmap_entries;
    cfg->highmem_pages = (uint32_t)o->highmem_pages;
    cfg->debug_highmem = o->debug_highmem;
    cfg->need_flush = o->need_flush;
}

/* Is the --arch value "all"? */
static int arch_is_all(const struct opts *o)
{
    return o->arch_name && strcmp(o->arch_name, "all") == 0;
}

/* Resolve the arch, build the config and check that it fits the arch's layout.
 * Returns 0 or 2 (message printed). */
static int make_config(const struct opts *o, int is_layout, struct hm_config *cfg)
{
    const char *name = o->arch_name ? o->arch_name : "x86";
    const struct hm_arch *arch = hm_arch_find(name);
    struct hm_config opts;
    struct hm_layout l;
    char msg[512];

    if (!arch) {
        char avail[256];
        list_arches(avail, sizeof avail);
        fprintf(stderr, "kmapsim: unknown arch '%s' (available: %s%s)\n", name, avail,
                is_layout ? "; layout also takes all" : "");
        return 2;
    }
    options_config(o, &opts);
    kmapsim_config_for(&opts, arch, cfg);
    if (kmapsim_config_check(cfg, &l, msg, sizeof msg) != 0) {
        fprintf(stderr, "kmapsim: %s\n", msg);
        return 2;
    }
    return 0;
}

/* Read a whole file (or standard input for "-"). Returns 0, or -1 with errno-style message. */
static int read_all(const char *path, char **buf, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    char *p = NULL;
    size_t n = 0, cap = 0;
    int saved;
    if (!f) {
        fprintf(stderr, "kmapsim: cannot open '%s': %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            size_t ncap = cap ? cap * 2 : 65536;
            char *np = realloc(p, ncap);
            if (!np) {
                fprintf(stderr, "kmapsim: out of memory reading '%s'\n", path);
                free(p);
                if (f != stdin)
                    fclose(f);
                return -1;
            }
            p = np;
            cap = ncap;
        }
        got = fread(p + n, 1, cap - n, f);
        n += got;
        if (got == 0)
            break;
    }
    saved = errno;
    if (ferror(f)) {
        fprintf(stderr, "kmapsim: cannot read '%s': %s\n", path, strerror(saved));
        free(p);
        if (f != stdin)
            fclose(f);
        return -1;
    }
    if (f != stdin)
        fclose(f);
    *buf = p;
    *len = n;
    return 0;
}

static int cmd_layout(int argc, char **argv)
{
    struct opts o;
    struct hm_config cfg;
    int rc;
    memset(&o, 0, sizeof o);
    rc = parse_args(argc, argv, 0, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (arch_is_all(&o)) {
        options_config(&o, &cfg);
        return kmapsim_layout_all(&cfg, o.json, stdout);
    }
    if (make_config(&o, 1, &cfg))
        return 2;
    return kmapsim_layout(&cfg, o.json, stdout);
}

static int cmd_replay(int argc, char **argv)
{
    struct opts o;
    struct hm_config cfg;
    int rc;
    memset(&o, 0, sizeof o);
    rc = parse_args(argc, argv, 1, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (arch_is_all(&o))
        return usage_error("%s", "replay --arch all is not supported: a trace's pfns and "
                                 "addresses belong to one arch; replay it once per arch");
    if (make_config(&o, 0, &cfg))
        return 2;
    {
        FILE *f = strcmp(o.trace, "-") == 0 ? stdin : fopen(o.trace, "rb");
        struct trace_reader rd;
        if (!f) {
            fprintf(stderr, "kmapsim: cannot open '%s': %s\n", o.trace, strerror(errno));
            return 2;
        }
        trace_reader_init(&rd, f);
        rc = kmapsim_replay(&cfg, &rd, strcmp(o.trace, "-") == 0 ? "<stdin>" : o.trace, o.format,
                            stdout);
        if (f != stdin)
            fclose(f);
    }
    return rc;
}

/* Parse the arguments of `run`. Returns 0, 1 for --help (already printed), 2 on error. */
static int parse_run_args(int argc, char **argv, struct opts *o)
{
    int i, rc, no_more_opts = 0;
    o->seed = 1;
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (no_more_opts || a[0] != '-' || strcmp(a, "-") == 0) {
            if (!o->workload)
                o->workload = a;
            else if (strcmp(o->workload, "trace") == 0 && !o->trace)
                o->trace = a;
            else
                return usage_error("run: unexpected argument '%s'", a);
            continue;
        }
        if (strcmp(a, "--") == 0) {
            no_more_opts = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 1;
        } else if ((rc = machine_opt(argc, argv, &i, a, o)) != 0) {
            if (rc < 0)
                return 2;
        } else if (strcmp(a, "--json") == 0) {
            o->json = 1;
        } else if (strcmp(a, "--no-progress") == 0) {
            o->no_progress = 1;
        } else if (opt_is(a, "--threads", &v)) {
            if (parse_num_opt("--threads", opt_value(argc, argv, &i, v), 1,
                              KMAPSIM_RUN_MAX_THREADS, &o->threads))
                return 2;
        } else if (opt_is(a, "--ops", &v)) {
            if (parse_num_opt("--ops", opt_value(argc, argv, &i, v), 1, UINT64_C(1) << 40,
                              &o->ops))
                return 2;
        } else if (opt_is(a, "--working-set", &v)) {
            if (parse_num_opt("--working-set", opt_value(argc, argv, &i, v), 1, UINT32_MAX,
                              &o->working_set))
                return 2;
        } else if (opt_is(a, "--seed", &v)) {
            if (parse_num_opt("--seed", opt_value(argc, argv, &i, v), 0, UINT64_MAX, &o->seed))
                return 2;
        } else if (opt_is(a, "--queue", &v)) {
            if (parse_num_opt("--queue", opt_value(argc, argv, &i, v), 1, 1u << 20, &o->queue))
                return 2;
        } else if (opt_is(a, "--watchdog", &v)) {
            if (parse_num_opt("--watchdog", opt_value(argc, argv, &i, v), 1, 86400, &o->watchdog))
                return 2;
        } else if (opt_is(a, "--zipf", &v)) {
            char *end = NULL;
            v = opt_value(argc, argv, &i, v);
            if (!v)
                return usage_error("option %s needs a value", "--zipf");
            errno = 0;
            o->zipf = strtod(v, &end);
            if (errno || end == v || *end || !(o->zipf >= 0 && o->zipf <= 10)) {
                fprintf(stderr, "kmapsim: bad value '%s' for --zipf (expected 0..10)\n", v);
                return 2;
            }
            o->zipf_given = 1;
        } else if (opt_is(a, "--svg", &v)) {
            v = opt_value(argc, argv, &i, v);
            if (!v || !*v)
                return usage_error("option %s needs a value", "--svg");
            o->svg = v;
        } else if (opt_is(a, "--trace", &v)) {
            v = opt_value(argc, argv, &i, v);
            if (!v || !*v)
                return usage_error("option %s needs a value", "--trace");
            o->trace = v;
        } else {
            return usage_error("unknown option '%s'", a);
        }
    }
    return 0;
}

static int cmd_run(int argc, char **argv)
{
    struct opts o;
    struct hm_config base, cfgs[16];
    struct kmapsim_run_opts ro, resolved[16];
    struct kmapsim_run_result *res = NULL;
    struct trace_list t;
    const struct hm_arch *arches[16];
    size_t narch = 0, i;
    char err[512];
    int rc, w, status = 0, have_trace = 0;

    memset(&o, 0, sizeof o);
    memset(&t, 0, sizeof t);
    rc = parse_run_args(argc, argv, &o);
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

    /* The arches. */
    if (arch_is_all(&o)) {
        const struct hm_arch *a;
        while (narch < 16 && (a = hm_arch_at((unsigned)narch)) != NULL)
            arches[narch++] = a;
    } else {
        const char *name = o.arch_name ? o.arch_name : "x86";
        arches[0] = hm_arch_find(name);
        if (!arches[0]) {
            char avail[256];
            list_arches(avail, sizeof avail);
            fprintf(stderr, "kmapsim: unknown arch '%s' (available: %s; run also takes all)\n",
                    name, avail);
            return 2;
        }
        narch = 1;
    }

    if (w == KW_TRACE) {
        char *text = NULL;
        size_t len = 0;
        if (read_all(o.trace, &text, &len) != 0)
            return 2;
        if (trace_parse_text(text, len, &t, err, sizeof err) != 0) {
            fprintf(stderr, "kmapsim: %s:%s\n", strcmp(o.trace, "-") == 0 ? "<stdin>" : o.trace,
                    err);
            free(text);
            return 2;
        }
        free(text);
        have_trace = 1;
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
    ro.record = o.svg != NULL;
    ro.progress = !o.no_progress && isatty(2);
    ro.trace = have_trace ? &t : NULL;

    options_config(&o, &base);
    if (!o.cpus)
        base.nr_cpus = kmapsim_run_default_cpus(w, ro.threads);
    for (i = 0; i < narch; i++) {
        struct hm_layout l;
        kmapsim_config_for(&base, arches[i], &cfgs[i]);
        if (kmapsim_config_check(&cfgs[i], &l, err, sizeof err) != 0) {
            fprintf(stderr, "kmapsim: %s\n", err);
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

    res = calloc(narch, sizeof *res);
    if (!res) {
        fputs("kmapsim: out of memory\n", stderr);
        status = 2;
        goto out;
    }
    for (i = 0; i < narch; i++) {
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
    if (o.svg && kmapsim_run_write_svg(o.svg, res, narch) != 0) {
        status = 2;
        goto out;
    }
    for (i = 0; i < narch; i++) {
        if (!kmapsim_run_failed(&res[i]))
            continue;
        fprintf(stderr, "kmapsim: the %s run on %s failed: %s\n", kmapsim_workload_name(w),
                res[i].arch,
                res[i].stale ? "stale translations detected"
                : res[i].wrong_bytes ? "wrong bytes read"
                : res[i].invariants ? res[i].invariant_msg
                                    : "library calls failed");
        if (res[i].failure[0])
            fprintf(stderr, "kmapsim:   first failure: %s\n", res[i].failure);
        status = 1;
    }
out:
    if (res)
        for (i = 0; i < narch; i++)
            kmapsim_run_result_free(&res[i]);
    free(res);
    trace_list_free(&t);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("%s", "missing subcommand (layout, replay or run)");
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
    return usage_error("unknown subcommand '%s' (expected layout, replay or run)", argv[1]);
}
