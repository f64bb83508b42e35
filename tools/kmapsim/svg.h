/* svg.h - kmapsim run's picture: slot occupancy over time (in use / count 1 / free, flushes
 * and sleeps marked) and a per-slot reuse heat map, one panel per arch, as one self-contained
 * SVG file.  SPDX-License-Identifier: MIT */
#ifndef KMAPSIM_SVG_H
#define KMAPSIM_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The pkmap window at one moment of a run (after operation `op`, counted from 1). */
struct kmapsim_svg_sample {
    uint64_t op;
    uint32_t in_use; /* slots with pkmap_count >= 2 (mapped and held) */
    uint32_t count1; /* slots with pkmap_count == 1 (mapped, unused: lazily kept) */
    uint32_t free;   /* slots with pkmap_count == 0 */
};

enum kmapsim_svg_mark_kind {
    KMAPSIM_MARK_FLUSH = 1, /* a flush_all_zero_pkmaps run */
    KMAPSIM_MARK_SLEEP = 2  /* a kmap slept waiting for a free slot */
};

struct kmapsim_svg_mark {
    uint64_t op; /* the operation during which it happened */
    int kind;    /* enum kmapsim_svg_mark_kind */
};

/* One run (one arch) to draw. All arrays are owned by the caller. */
struct kmapsim_svg_run {
    const char *arch;      /* e.g. "x86-pae" */
    const char *workload;  /* e.g. "pagecache-hot" */
    uint32_t nr_slots;     /* LAST_PKMAP of the run; 0 = no pkmap window (generic) */
    uint64_t total_ops;    /* x axis extent */
    const struct kmapsim_svg_sample *samples; /* increasing op order */
    size_t nsamples;
    const struct kmapsim_svg_mark *marks;     /* increasing op order */
    size_t nmarks;
    const uint64_t *slot_uses; /* nr_slots entries: new mappings made in each slot */
};

/* Write one SVG document with a panel per run (stacked vertically) to out: for each run an
 * occupancy chart (stacked areas in use / count 1 / free over ops, a vertical tick per flush
 * and per sleep, a legend) and a heat map of slot_uses (one cell per slot, colour scaled to
 * the run's maximum, with the scale written out). Text is XML-escaped; the document is
 * self-contained (no scripts, no external references) and well-formed XML.
 * Large inputs are thinned so the file stays small (at most ~2000 drawn points per chart,
 * ~2000 marks, heat map cells merged into at most 1024 buckets; merged cells use the sum).
 * Returns 0, or -1 on a write error or bad arguments (NULL out, runs NULL with nruns > 0,
 * a run with nsamples > 0 and samples NULL, nmarks > 0 and marks NULL, nr_slots > 0 and
 * slot_uses NULL). */
int kmapsim_svg_write(FILE *out, const struct kmapsim_svg_run *runs, size_t nruns);

#endif /* KMAPSIM_SVG_H */
