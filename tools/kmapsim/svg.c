/* svg.c - kmapsim run's picture (see svg.h): per run, a stacked occupancy chart of the pkmap
 * window over ops with flush/sleep marks, and a slot reuse heat map, as one SVG document.
 * SPDX-License-Identifier: MIT */
#include "svg.h"

#include <inttypes.h>
#include <string.h>

/* Geometry (user units = CSS pixels). */
#define DOC_W 1000u
#define CHART_L 70u   /* chart left edge */
#define CHART_W 900u  /* chart width: one x bucket per pixel */
#define CHART_H 200u  /* chart height */
#define PANEL_GAP 20u /* between panels */
#define HEAT_MAX_CELLS 1024u
#define HEAT_MAX_COLS 64u
#define HEAT_CELL_H 14u
#define BAR_STEPS 16u /* colour-bar swatches */
#define GUIDE_MAX 60u /* mark columns up to which marks also get a line across the chart */

/* Okabe-Ito colours (colour-blind friendly) for the occupancy areas and the marks. */
#define COL_IN_USE "#0072B2"
#define COL_COUNT1 "#E69F00"
#define COL_FREE "#DDDDDD"
#define COL_FLUSH "#CC79A7"
#define COL_SLEEP "#D55E00"

/* The state drawn in one x bucket (one pixel column of the chart). */
struct bucket {
    uint32_t in_use, count1, free;   /* the state drawn */
    struct kmapsim_svg_sample end;   /* the state at the end of the bucket */
    int has; /* a sample fell in this bucket (else the previous state carries on) */
};

/* Merged marks of one kind in one pixel column. */
struct markcol {
    uint64_t n, lo, hi; /* how many, first and last op */
};

/* v * mul / div without overflow for mul < 2^16 (div > 0): both v and div are shifted right
 * until div * mul fits, which keeps the ratio (and the result's precision to a pixel). */
static uint64_t muldiv(uint64_t v, uint64_t mul, uint64_t div)
{
    unsigned shift = 0;
    while ((div >> shift) > UINT64_MAX / 65536u || (v >> shift) > UINT64_MAX / 65536u)
        shift++;
    v >>= shift;
    div >>= shift;
    if (div == 0)
        return mul;
    return v * mul / div;
}

/* Write s XML-escaped; bytes that would make the document ill-formed (control characters,
 * invalid UTF-8) become '?'. */
static void put_text(FILE *out, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "?");
    while (*p) {
        unsigned char c = *p;
        size_t len = 0, i;
        uint32_t cp = 0;
        switch (c) {
        case '&': fputs("&amp;", out); p++; continue;
        case '<': fputs("&lt;", out); p++; continue;
        case '>': fputs("&gt;", out); p++; continue;
        case '"': fputs("&quot;", out); p++; continue;
        case '\'': fputs("&apos;", out); p++; continue;
        default: break;
        }
        if (c < 0x80) {
            fputc(c < 0x20 && c != '\t' && c != '\n' ? '?' : (int)c, out);
            p++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1Fu;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0Fu;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07u;
        }
        for (i = 1; i < len; i++) {
            if ((p[i] & 0xC0u) != 0x80u)
                break;
            cp = (cp << 6) | (p[i] & 0x3Fu);
        }
        if (len == 0 || i < len || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0xFFFE || cp == 0xFFFF) {
            fputc('?', out);
            p++;
            continue;
        }
        fwrite(p, 1, len, out);
        p += len;
    }
}

/* A coordinate in tenths of a unit, printed with one decimal (locale independent). */
static void put_tenths(FILE *out, uint64_t t)
{
    fprintf(out, "%" PRIu64 ".%u", t / 10, (unsigned)(t % 10));
}

/* The smallest 1/2/5 * 10^k step giving at most max_ticks steps over range. */
static uint64_t nice_step(uint64_t range, uint64_t max_ticks)
{
    uint64_t mag = 1;
    static const uint64_t mult[3] = {1, 2, 5};
    for (;;) {
        for (int i = 0; i < 3; i++) {
            uint64_t s = mult[i] * mag;
            if (range / s <= max_ticks)
                return s;
        }
        if (mag > UINT64_MAX / 100)
            return range ? range : 1;
        mag *= 10;
    }
}

/* Sequential colour scale (viridis anchors), t in 0..1000. */
static void put_scale_colour(FILE *out, uint64_t t)
{
    static const unsigned char anchors[9][3] = {
        {68, 1, 84},    {71, 44, 122},  {59, 81, 139},  {44, 113, 142}, {33, 144, 141},
        {39, 173, 129}, {92, 200, 99},  {170, 220, 50}, {253, 231, 37},
    };
    unsigned seg, rgb[3];
    uint64_t f;
    if (t > 1000)
        t = 1000;
    seg = (unsigned)(t * 8 / 1000);
    if (seg > 7)
        seg = 7;
    f = t * 8 - (uint64_t)seg * 1000; /* 0..1000 within the segment */
    for (int c = 0; c < 3; c++) {
        int a = anchors[seg][c], b = anchors[seg + 1][c];
        rgb[c] = (unsigned)(a + ((b - a) * (int)f) / 1000);
    }
    fprintf(out, "#%02X%02X%02X", rgb[0], rgb[1], rgb[2]);
}

static uint32_t heat_cells(const struct kmapsim_svg_run *r)
{
    return r->nr_slots < HEAT_MAX_CELLS ? r->nr_slots : HEAT_MAX_CELLS;
}

static uint32_t heat_cols(uint32_t cells)
{
    return cells < HEAT_MAX_COLS ? cells : HEAT_MAX_COLS;
}

static uint32_t heat_rows(uint32_t cells)
{
    uint32_t cols = heat_cols(cells);
    return cols ? (cells + cols - 1) / cols : 0;
}

/* Vertical layout of one panel, relative to its top. */
#define TITLE_Y 20u
#define CHART_T 56u /* below the title and the two mark rows */
#define HEAT_T (CHART_T + CHART_H + 86u)

static uint32_t panel_height(const struct kmapsim_svg_run *r)
{
    if (r->nr_slots == 0)
        return 70u;
    return HEAT_T + heat_rows(heat_cells(r)) * HEAT_CELL_H + 48u;
}

/* The x axis extent: total_ops, widened to cover every sample and mark; at least 1. */
static uint64_t run_extent(const struct kmapsim_svg_run *r)
{
    uint64_t e = r->total_ops;
    for (size_t i = 0; i < r->nsamples; i++)
        if (r->samples[i].op > e)
            e = r->samples[i].op;
    for (size_t i = 0; i < r->nmarks; i++)
        if (r->marks[i].op > e)
            e = r->marks[i].op;
    return e ? e : 1;
}

static uint32_t op_bucket(uint64_t op, uint64_t extent)
{
    uint64_t b = muldiv(op, CHART_W, extent);
    return b >= CHART_W ? CHART_W - 1 : (uint32_t)b;
}

/* y of value v (slots) in tenths of a unit, for a chart whose top is at top. */
static uint64_t value_y10(uint64_t top, uint64_t v, uint32_t nr_slots)
{
    if (v > nr_slots)
        v = nr_slots;
    return (top + CHART_H) * 10 - v * CHART_H * 10 / nr_slots;
}

/* Cumulative level of a bucket for series 0 (in use), 1 (+count 1), 2 (+free). */
static uint64_t level(const struct bucket *b, int series)
{
    uint64_t v = b->in_use;
    if (series >= 1)
        v += b->count1;
    if (series >= 2)
        v += b->free;
    return v;
}

/* One stacked area as a step polygon over the buckets first..CHART_W-1, a point only where
 * the level changes. */
static void put_area(FILE *out, const struct bucket *bk, uint32_t first, int series,
                     const char *colour, const char *cls, uint64_t top, uint32_t nr_slots)
{
    uint64_t base = (top + CHART_H) * 10, prev = 0;
    fprintf(out, "<polygon class=\"%s\" fill=\"%s\" stroke=\"none\" points=\"", cls, colour);
    fprintf(out, "%u,", CHART_L + first);
    put_tenths(out, base);
    for (uint32_t b = first; b < CHART_W; b++) {
        uint64_t y = value_y10(top, level(&bk[b], series), nr_slots);
        if (b == first || y != prev) {
            if (b != first) {
                fprintf(out, " %u,", CHART_L + b);
                put_tenths(out, prev);
            }
            fprintf(out, " %u,", CHART_L + b);
            put_tenths(out, y);
            prev = y;
        }
    }
    fprintf(out, " %u,", CHART_L + CHART_W);
    put_tenths(out, prev);
    fprintf(out, " %u,", CHART_L + CHART_W);
    put_tenths(out, base);
    fputs("\"/>\n", out);
}

/* Merge the marks of one kind per pixel column and draw one tick per non-empty column in the
 * kind's row above the chart; when few columns have one, also a guide line across the chart. */
static uint64_t put_marks(FILE *out, const struct kmapsim_svg_run *r, uint64_t extent, int kind,
                          uint64_t top)
{
    struct markcol col[CHART_W];
    uint64_t total = 0, row = top - (kind == KMAPSIM_MARK_FLUSH ? 22u : 11u);
    uint32_t ncols = 0;
    const char *name = kind == KMAPSIM_MARK_FLUSH ? "flush" : "sleep";
    memset(col, 0, sizeof col);
    for (size_t i = 0; i < r->nmarks; i++) {
        struct markcol *c;
        if (r->marks[i].kind != kind)
            continue;
        c = &col[op_bucket(r->marks[i].op, extent)];
        if (c->n == 0 || r->marks[i].op < c->lo)
            c->lo = r->marks[i].op;
        if (c->n == 0 || r->marks[i].op > c->hi)
            c->hi = r->marks[i].op;
        c->n++;
        total++;
    }
    fprintf(out, "<text x=\"%u\" y=\"%" PRIu64 "\" text-anchor=\"end\" font-size=\"10\">%s</text>\n",
            CHART_L - 6, row + 8, name);
    if (total == 0)
        return 0;
    for (uint32_t x = 0; x < CHART_W; x++)
        ncols += col[x].n > 0;
    if (ncols <= GUIDE_MAX) {
        fprintf(out, "<g stroke=\"%s\" stroke-width=\"1\" stroke-opacity=\"0.7\"%s>\n",
                kind == KMAPSIM_MARK_FLUSH ? COL_FLUSH : COL_SLEEP,
                kind == KMAPSIM_MARK_SLEEP ? " stroke-dasharray=\"4,2\"" : "");
        for (uint32_t x = 0; x < CHART_W; x++)
            if (col[x].n)
                fprintf(out,
                        "<line class=\"guide\" x1=\"%u.5\" y1=\"%" PRIu64 "\" x2=\"%u.5\" y2=\"%" PRIu64
                        "\"/>\n",
                        CHART_L + x, top, CHART_L + x, top + CHART_H);
        fputs("</g>\n", out);
    }
    fprintf(out, "<g stroke=\"%s\" stroke-width=\"1\">\n",
            kind == KMAPSIM_MARK_FLUSH ? COL_FLUSH : COL_SLEEP);
    for (uint32_t x = 0; x < CHART_W; x++) {
        const struct markcol *c = &col[x];
        if (c->n == 0)
            continue;
        fprintf(out, "<line class=\"%s\" x1=\"%u.5\" y1=\"%" PRIu64 "\" x2=\"%u.5\" y2=\"%" PRIu64
                     "\"><title>",
                name, CHART_L + x, row, CHART_L + x, row + 9);
        if (c->n == 1)
            fprintf(out, "%s at op %" PRIu64, name, c->lo);
        else
            fprintf(out, "%" PRIu64 " %s%s, ops %" PRIu64 "..%" PRIu64, c->n, name,
                    kind == KMAPSIM_MARK_FLUSH ? "es" : "s", c->lo, c->hi);
        fputs("</title></line>\n", out);
    }
    fputs("</g>\n", out);
    return total;
}

static void put_axes(FILE *out, const struct kmapsim_svg_run *r, uint64_t extent, uint64_t top)
{
    uint64_t step = nice_step(extent, 6), ystep = nice_step(r->nr_slots, 5);
    fprintf(out,
            "<rect x=\"%u\" y=\"%" PRIu64 "\" width=\"%u\" height=\"%u\" fill=\"none\" "
            "stroke=\"#333333\"/>\n",
            CHART_L, top, CHART_W, CHART_H);
    fputs("<g stroke=\"#333333\" fill=\"#333333\">\n", out);
    for (uint64_t t = 0; t <= extent; t += step) {
        uint64_t x = CHART_L + muldiv(t, CHART_W, extent);
        fprintf(out,
                "<line x1=\"%" PRIu64 "\" y1=\"%" PRIu64 "\" x2=\"%" PRIu64 "\" y2=\"%" PRIu64
                "\"/><text stroke=\"none\" x=\"%" PRIu64 "\" y=\"%" PRIu64
                "\" text-anchor=\"middle\">%" PRIu64 "</text>\n",
                x, top + CHART_H, x, top + CHART_H + 4, x, top + CHART_H + 16, t);
        if (t > UINT64_MAX - step)
            break;
    }
    for (uint64_t v = 0; v <= r->nr_slots; v += ystep) {
        uint64_t y10 = value_y10(top, v, r->nr_slots);
        fprintf(out, "<line x1=\"%u\" y1=\"", CHART_L - 4);
        put_tenths(out, y10);
        fprintf(out, "\" x2=\"%u\" y2=\"", CHART_L);
        put_tenths(out, y10);
        fprintf(out, "\"/><text stroke=\"none\" x=\"%u\" y=\"", CHART_L - 6);
        put_tenths(out, y10 + 40);
        fprintf(out, "\" text-anchor=\"end\">%" PRIu64 "</text>\n", v);
    }
    fputs("</g>\n", out);
    fprintf(out,
            "<text x=\"%u\" y=\"%" PRIu64 "\" text-anchor=\"middle\">operation</text>\n"
            "<text x=\"16\" y=\"%" PRIu64 "\" text-anchor=\"middle\" "
            "transform=\"rotate(-90 16 %" PRIu64 ")\">slots</text>\n",
            CHART_L + CHART_W / 2, top + CHART_H + 32, top + CHART_H / 2, top + CHART_H / 2);
}

static void put_legend(FILE *out, uint64_t y, uint64_t nflush, uint64_t nsleep)
{
    static const struct {
        const char *colour, *label;
    } sw[3] = {{COL_IN_USE, "in use (count \xe2\x89\xa5 2)"},
               {COL_COUNT1, "count 1 (mapped, unused)"},
               {COL_FREE, "free (count 0)"}};
    uint32_t x = CHART_L;
    fprintf(out, "<g class=\"legend\">\n");
    for (int i = 0; i < 3; i++) {
        fprintf(out,
                "<rect x=\"%u\" y=\"%" PRIu64 "\" width=\"12\" height=\"12\" fill=\"%s\" "
                "stroke=\"#333333\"/><text x=\"%u\" y=\"%" PRIu64 "\">%s</text>\n",
                x, y - 10, sw[i].colour, x + 16, y, sw[i].label);
        x += i == 0 ? 150u : i == 1 ? 185u : 120u;
    }
    fprintf(out,
            "<line x1=\"%u\" y1=\"%" PRIu64 "\" x2=\"%u\" y2=\"%" PRIu64 "\" stroke=\"%s\" "
            "stroke-width=\"2\"/><text x=\"%u\" y=\"%" PRIu64 "\">flush (%" PRIu64 ")</text>\n",
            x + 6, y - 11, x + 6, y + 2, COL_FLUSH, x + 14, y, nflush);
    x += 110;
    fprintf(out,
            "<line x1=\"%u\" y1=\"%" PRIu64 "\" x2=\"%u\" y2=\"%" PRIu64 "\" stroke=\"%s\" "
            "stroke-width=\"2\" stroke-dasharray=\"4,2\"/><text x=\"%u\" y=\"%" PRIu64
            "\">sleep (%" PRIu64 ")</text>\n",
            x + 6, y - 11, x + 6, y + 2, COL_SLEEP, x + 14, y, nsleep);
    fputs("</g>\n", out);
}

static void put_chart(FILE *out, const struct kmapsim_svg_run *r, uint64_t top)
{
    struct bucket bk[CHART_W];
    uint64_t extent = run_extent(r), nflush, nsleep;
    uint32_t first = CHART_W;

    memset(bk, 0, sizeof bk);
    /* Per bucket: the sample with the most slots in use (the earliest such) is drawn, and
     * the last sample is the state the bucket hands on to the buckets after it. */
    for (size_t i = 0; i < r->nsamples; i++) {
        const struct kmapsim_svg_sample *s = &r->samples[i];
        struct bucket *b = &bk[op_bucket(s->op, extent)];
        if (!b->has || s->in_use > b->in_use) {
            b->in_use = s->in_use;
            b->count1 = s->count1;
            b->free = s->free;
        }
        b->has = 1;
        b->end = *s;
    }
    /* Buckets without a sample show the state the last sample before them left. */
    for (uint32_t x = 0; x < CHART_W; x++) {
        if (bk[x].has) {
            if (first == CHART_W)
                first = x;
        } else if (first != CHART_W) {
            bk[x].end = bk[x - 1].end;
            bk[x].in_use = bk[x].end.in_use;
            bk[x].count1 = bk[x].end.count1;
            bk[x].free = bk[x].end.free;
        }
    }
    if (first != CHART_W) {
        put_area(out, bk, first, 2, COL_FREE, "free", top, r->nr_slots);
        put_area(out, bk, first, 1, COL_COUNT1, "count1", top, r->nr_slots);
        put_area(out, bk, first, 0, COL_IN_USE, "in-use", top, r->nr_slots);
    } else {
        fprintf(out,
                "<text x=\"%u\" y=\"%" PRIu64 "\" text-anchor=\"middle\" fill=\"#666666\">"
                "no samples</text>\n",
                CHART_L + CHART_W / 2, top + CHART_H / 2);
    }
    nflush = put_marks(out, r, extent, KMAPSIM_MARK_FLUSH, top);
    nsleep = put_marks(out, r, extent, KMAPSIM_MARK_SLEEP, top);
    put_axes(out, r, extent, top);
    put_legend(out, top + CHART_H + 54, nflush, nsleep);
}

static void put_heatmap(FILE *out, const struct kmapsim_svg_run *r, uint64_t top)
{
    uint32_t cells = heat_cells(r), cols = heat_cols(cells), rows = heat_rows(cells);
    uint32_t cw = CHART_W / cols, per = (r->nr_slots + cells - 1) / cells;
    uint64_t max = 0, y;
    uint32_t c, s;

    if (cw > 40)
        cw = 40;
    /* Pass 1: the largest cell sum (cell c holds slots c*n/cells .. (c+1)*n/cells - 1). */
    for (c = 0, s = 0; c < cells; c++) {
        uint32_t end = (uint32_t)(((uint64_t)c + 1) * r->nr_slots / cells);
        uint64_t sum = 0;
        for (; s < end; s++)
            sum = r->slot_uses[s] > UINT64_MAX - sum ? UINT64_MAX : sum + r->slot_uses[s];
        if (sum > max)
            max = sum;
    }
    fprintf(out, "<text x=\"%u\" y=\"%" PRIu64 "\">new mappings per %s (heat map",
            CHART_L, top - 8, per > 1 ? "bucket of slots" : "slot");
    if (per > 1)
        fprintf(out, ", a cell sums up to %u slots", per);
    fputs(")</text>\n<g class=\"heatmap\" stroke=\"#FFFFFF\" stroke-width=\"0.5\">\n", out);
    for (c = 0, s = 0; c < cells; c++) {
        uint32_t start = s, end = (uint32_t)(((uint64_t)c + 1) * r->nr_slots / cells);
        uint64_t sum = 0;
        for (; s < end; s++)
            sum = r->slot_uses[s] > UINT64_MAX - sum ? UINT64_MAX : sum + r->slot_uses[s];
        fprintf(out,
                "<rect class=\"hm\" x=\"%u\" y=\"%" PRIu64 "\" width=\"%u\" height=\"%u\" fill=\"",
                CHART_L + (c % cols) * cw, top + (uint64_t)(c / cols) * HEAT_CELL_H, cw,
                HEAT_CELL_H);
        put_scale_colour(out, max ? muldiv(sum, 1000, max) : 0);
        if (end - start == 1)
            fprintf(out, "\"><title>slot %u: %" PRIu64 " new mappings</title></rect>\n", start,
                    sum);
        else
            fprintf(out, "\"><title>slots %u-%u: %" PRIu64 " new mappings</title></rect>\n",
                    start, end - 1, sum);
    }
    fputs("</g>\n", out);
    /* Colour bar: the scale from 0 to the maximum. */
    y = top + (uint64_t)rows * HEAT_CELL_H + 10;
    fputs("<g class=\"colourbar\">\n", out);
    for (uint32_t i = 0; i < BAR_STEPS; i++) {
        fprintf(out, "<rect x=\"%u\" y=\"%" PRIu64 "\" width=\"12\" height=\"10\" fill=\"",
                CHART_L + i * 12, y);
        put_scale_colour(out, (uint64_t)i * 1000 / (BAR_STEPS - 1));
        fputs("\"/>\n", out);
    }
    fprintf(out,
            "<text x=\"%u\" y=\"%" PRIu64 "\" text-anchor=\"middle\">0</text>"
            "<text x=\"%u\" y=\"%" PRIu64 "\" text-anchor=\"middle\">%" PRIu64 "</text>"
            "<text x=\"%u\" y=\"%" PRIu64 "\">new mappings per cell (0 .. max)</text>\n</g>\n",
            CHART_L + 6, y + 24, CHART_L + BAR_STEPS * 12 - 6, y + 24, max,
            CHART_L + BAR_STEPS * 12 + 10, y + 9);
}

static void put_panel(FILE *out, const struct kmapsim_svg_run *r, uint64_t y0)
{
    fprintf(out, "<g class=\"panel\">\n<text class=\"title\" x=\"%u\" y=\"%" PRIu64
                 "\" font-size=\"14\" font-weight=\"bold\">",
            CHART_L, y0 + TITLE_Y);
    put_text(out, r->arch);
    fputs(" \xe2\x80\x94 ", out); /* em dash */
    put_text(out, r->workload);
    fprintf(out, ", %" PRIu32 " slots, %" PRIu64 " ops</text>\n", r->nr_slots, r->total_ops);
    if (r->nr_slots == 0) {
        fprintf(out,
                "<text class=\"note\" x=\"%u\" y=\"%" PRIu64 "\" fill=\"#666666\">"
                "no pkmap window (no highmem)</text>\n",
                CHART_L, y0 + 46);
    } else {
        put_chart(out, r, y0 + CHART_T);
        put_heatmap(out, r, y0 + HEAT_T);
    }
    fputs("</g>\n", out);
}

/* See svg.h. */
int kmapsim_svg_write(FILE *out, const struct kmapsim_svg_run *runs, size_t nruns)
{
    uint64_t height = 0, y;
    if (!out || (nruns > 0 && !runs))
        return -1;
    for (size_t i = 0; i < nruns; i++) {
        const struct kmapsim_svg_run *r = &runs[i];
        if ((r->nsamples > 0 && !r->samples) || (r->nmarks > 0 && !r->marks) ||
            (r->nr_slots > 0 && !r->slot_uses))
            return -1;
        height += panel_height(r) + PANEL_GAP;
    }
    if (height == 0)
        height = 40;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", out);
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%" PRIu64
            "\" viewBox=\"0 0 %u %" PRIu64 "\" font-family=\"sans-serif\" font-size=\"12\">\n",
            DOC_W, height, DOC_W, height);
    fputs("<title>kmapsim run: pkmap slot occupancy and reuse</title>\n", out);
    fprintf(out, "<rect x=\"0\" y=\"0\" width=\"%u\" height=\"%" PRIu64 "\" fill=\"#FFFFFF\"/>\n",
            DOC_W, height);
    if (nruns == 0)
        fputs("<text x=\"10\" y=\"24\" fill=\"#666666\">no runs</text>\n", out);
    y = PANEL_GAP / 2;
    for (size_t i = 0; i < nruns; i++) {
        put_panel(out, &runs[i], y);
        y += panel_height(&runs[i]) + PANEL_GAP;
    }
    fputs("</svg>\n", out);
    if (fflush(out) != 0 || ferror(out))
        return -1;
    return 0;
}
