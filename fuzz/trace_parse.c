/* trace_parse.c - fuzz target for trace_parse_text: any bytes, no crash/leak, "N: " errors in
 * range, accepted traces match an independent tokenizer of the contract and re-parse the same.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fail.h"
#include "harness/trace.h"

#define TP_FAIL(...) FUZZ_FAIL("trace_parse", __VA_ARGS__)

/* The command words of the contract plus the parser's extensions, with their arity:
 * min/max arguments, the position of the TYPE argument (-1: none), 1 if the argument is an
 * inject MODE name. Written from the contract text, not from trace.c's table. */
static const struct {
    const char *word;
    int op;
    unsigned min, max;
    int type_pos;
    int is_mode;
} words[] = {
    {"kmap", KOP_KMAP, 1, 1, -1, 0},
    {"kunmap", KOP_KUNMAP, 1, 1, -1, 0},
    {"flush", KOP_FLUSH, 0, 0, -1, 0},
    {"kmap_atomic", KOP_KMAP_ATOMIC, 3, 3, 1, 0},
    {"kunmap_atomic", KOP_KUNMAP_ATOMIC, 2, 3, 1, 0},
    {"load", KOP_LOAD, 2, 2, -1, 0},
    {"store", KOP_STORE, 3, 3, -1, 0},
    {"kmap_atomic_pfn", KOP_KMAP_ATOMIC_PFN, 3, 3, 1, 0},
    {"kmap_to_page", KOP_KMAP_TO_PAGE, 1, 1, -1, 0},
    {"kmap_atomic_to_page", KOP_KMAP_ATOMIC_TO_PAGE, 1, 1, -1, 0},
    {"page_address", KOP_PAGE_ADDRESS, 1, 1, -1, 0},
    {"inject", KOP_INJECT, 1, 1, -1, 1},
};
#define NWORDS (sizeof words / sizeof words[0])

static const char *const modes[] = {"none",          "drop-next-flush", "drop-all-flushes",
                                     "fail-next-map", "fail-all-maps",   "fail-next-clear",
                                     "fail-all-clears"};
#define NMODES (sizeof modes / sizeof modes[0])

struct span {
    const uint8_t *s;
    size_t n;
};

#define MAXTOK 8

/* One line split into tokens: blanks are space, tab, CR; '#' starts a comment. */
static size_t split_line(const uint8_t *s, size_t n, struct span *tok)
{
    size_t i = 0, nt = 0;
    while (i < n) {
        size_t st;
        if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r') {
            i++;
            continue;
        }
        if (s[i] == '#')
            break;
        st = i;
        while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '#')
            i++;
        if (nt < MAXTOK) {
            tok[nt].s = s + st;
            tok[nt].n = i - st;
        }
        nt++;
    }
    return nt;
}

static int span_eq(struct span t, const char *w)
{
    return strlen(w) == t.n && memcmp(w, t.s, t.n) == 0;
}

/* Decimal or 0x/0X hex, below 2^64, nothing else. */
static int num(struct span t, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    unsigned base = 10;
    if (t.n >= 2 && t.s[0] == '0' && (t.s[1] == 'x' || t.s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == t.n)
        return -1;
    for (; i < t.n; i++) {
        unsigned c = t.s[i], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        if (v > (UINT64_MAX - d) / base)
            return -1;
        v = v * base + d;
    }
    *out = v;
    return 0;
}

static void same_trace(const struct trace_list *a, const struct trace_list *b)
{
    if (a->n != b->n)
        TP_FAIL("re-parse gave %zu commands, first parse %zu", b->n, a->n);
    for (size_t i = 0; i < a->n; i++) {
        const struct trace_cmd *x = &a->cmds[i], *y = &b->cmds[i];
        int same = x->op == y->op && x->line == y->line && x->nargs == y->nargs &&
                   x->type.is_name == y->type.is_name;
        for (unsigned k = 0; same && k < x->nargs && k < 3; k++)
            same = x->arg[k] == y->arg[k];
        if (same && x->type.is_name)
            same = x->type.name_len == y->type.name_len && strcmp(x->type.name, y->type.name) == 0;
        else if (same)
            same = x->type.index == y->type.index;
        if (!same)
            TP_FAIL("re-parse differs at command %zu (line %lu)", i, x->line);
    }
}

/* Check command c (parsed from line `line`, tokens tok[0..nt)) against the contract. */
static void check_cmd(const struct trace_cmd *c, unsigned long line, const struct span *tok,
                      size_t nt)
{
    size_t w;
    unsigned nnum = 0;
    for (w = 0; w < NWORDS; w++)
        if (span_eq(tok[0], words[w].word))
            break;
    if (w == NWORDS)
        TP_FAIL("line %lu: accepted a command word the contract does not have", line);
    if (c->op != words[w].op)
        TP_FAIL("line %lu: '%s' parsed as op %d (%s)", line, words[w].word, c->op,
                trace_op_name(c->op));
    if (c->line != line)
        TP_FAIL("line %lu: command records line %lu", line, c->line);
    if (nt - 1 < words[w].min || nt - 1 > words[w].max)
        TP_FAIL("line %lu: '%s' accepted with %zu arguments", line, words[w].word, nt - 1);
    for (size_t i = 1; i < nt; i++) {
        struct span t = tok[i];
        if ((int)i - 1 == words[w].type_pos) {
            uint64_t v;
            if (c->type.is_name) {
                size_t keep = t.n < TRACE_NAME_MAX ? t.n : TRACE_NAME_MAX;
                if (c->type.name_len != t.n || memcmp(c->type.name, t.s, keep) != 0 || c->type.name[keep])
                    TP_FAIL("line %lu: TYPE name differs from the token", line);
                if (t.s[0] >= '0' && t.s[0] <= '9')
                    TP_FAIL("line %lu: TYPE starting with a digit taken as a name", line);
            } else if (num(t, &v) != 0 || v != c->type.index) {
                TP_FAIL("line %lu: TYPE index wrong or accepted from a non-number", line);
            }
        } else if (words[w].is_mode) {
            int m = -1;
            for (int k = 0; k < (int)NMODES; k++)
                if (span_eq(t, modes[k]))
                    m = k;
            if (m < 0 || nnum >= 3 || c->arg[nnum] != (uint64_t)m)
                TP_FAIL("line %lu: inject MODE wrong", line);
            nnum++;
        } else {
            uint64_t v;
            if (num(t, &v) != 0)
                TP_FAIL("line %lu: argument %zu is not a contract number but was accepted", line, i);
            if (nnum >= 3 || c->arg[nnum] != v)
                TP_FAIL("line %lu: argument %zu value differs (parser %llu, expected %llu)", line, i,
                        nnum < 3 ? (unsigned long long)c->arg[nnum] : 0ull,
                        (unsigned long long)v);
            nnum++;
        }
    }
    if (c->nargs != nnum)
        TP_FAIL("line %lu: nargs %u, expected %u", line, c->nargs, nnum);
    if (words[w].type_pos < 0 && c->type.is_name)
        TP_FAIL("line %lu: a TYPE name on an op without TYPE", line);
}

/* The contract's lines: each ends at "\n", "\r\n" or a lone "\r"; a final unterminated one
 * counts. Returns the length of the line at pos and sets *next to where the next starts. */
static size_t line_at(const uint8_t *data, size_t size, size_t pos, size_t *next)
{
    size_t i = pos;
    while (i < size && data[i] != '\n' && data[i] != '\r')
        i++;
    *next = i + (i < size) + (i + 1 < size && data[i] == '\r' && data[i + 1] == '\n');
    return i - pos;
}

/* Is the line a machine header ("# machine:" at its very start)? */
static int is_header(const uint8_t *s, size_t n)
{
    static const char h[] = TRACE_HEADER_PREFIX;
    return n >= sizeof h - 1 && memcmp(s, h, sizeof h - 1) == 0;
}

/* The streaming reader must agree with the whole-text parser: the same commands, then the same
 * end or the same error (where no line is longer than the reader accepts). */
static void same_as_reader(const uint8_t *data, size_t size, const struct trace_list *tr, int rc,
                           const char *err)
{
    struct trace_reader *rd;
    struct trace_cmd c;
    struct trace_list one = {0};
    char rerr[512];
    size_t pos = 0, next, k = 0;
    int r;
    FILE *f;
    while (pos < size) {
        if (line_at(data, size, pos, &next) > TRACE_LINE_MAX)
            return;
        pos = next;
    }
    f = fmemopen((void *)(size ? data : (const uint8_t *)""), size ? size : 1, "rb");
    rd = malloc(sizeof *rd);
    if (!f || !rd)
        TP_FAIL("fmemopen/malloc failed");
    if (!size)
        fgetc(f); /* an empty stream */
    trace_reader_init(rd, f);
    while ((r = trace_read(rd, &c, rerr, sizeof rerr)) > 0) {
        if (r != 1)
            continue;
        if (rc == 0 && k >= tr->n)
            TP_FAIL("the reader returned more commands than the parser (%zu)", tr->n);
        if (rc == 0) {
            one.cmds = &c;
            one.n = 1;
            {
                struct trace_list ref = {(struct trace_cmd *)&tr->cmds[k], 1, 1, {0}};
                same_trace(&ref, &one);
            }
        }
        k++;
    }
    if (rc == 0 && (r != 0 || k != tr->n))
        TP_FAIL("the reader ended with %d after %zu commands ('%.80s'); the parser took %zu", r, k,
                rerr, tr->n);
    if (rc != 0 && (r != -1 || strcmp(rerr, err) != 0))
        TP_FAIL("the reader ended with %d '%.80s'; the parser rejected with '%.80s'", r, rerr, err);
    fclose(f);
    free(rd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    struct trace_list tr, tr2;
    char err[512], err2[512];
    unsigned long nlines = 0, line = 0;
    size_t pos = 0, ci = 0;
    int rc, rc2;

    for (size_t p = 0, next; p < size; p = next) {
        line_at(data, size, p, &next);
        nlines++;
    }

    memset(err, 'X', sizeof err);
    rc = trace_parse_text(text, size, &tr, err, sizeof err);
    if (rc != 0 && rc != -1)
        TP_FAIL("returned %d", rc);
    if (!memchr(err, 0, sizeof err))
        TP_FAIL("error buffer not NUL-terminated");
    if (rc != 0) {
        char *end;
        unsigned long n;
        if (tr.n || tr.cmds)
            TP_FAIL("rejected but *out not left empty");
        if (err[0] < '1' || err[0] > '9')
            TP_FAIL("error message does not start with a positive line number: '%.80s'", err);
        n = strtoul(err, &end, 10);
        if (end[0] != ':' || end[1] != ' ')
            TP_FAIL("error message is not 'N: ...': '%.80s'", err);
        if (n == 0 || n > nlines + 1)
            TP_FAIL("error line %lu outside 1..%lu: '%.80s'", n, nlines + 1, err);
        /* the reported line must hold a command, and everything before it must parse */
        {
            size_t st = 0;
            unsigned long l = 1;
            struct span tok[MAXTOK];
            struct trace_list pre;
            size_t next;
            while (l < n && st < size) {
                line_at(data, size, st, &next);
                st = next;
                l++;
            }
            if (l == n && st < size) {
                size_t ln = line_at(data, size, st, &next);
                if (split_line(data + st, ln, tok) == 0 && !is_header(data + st, ln))
                    TP_FAIL("error reported on line %lu, which is blank or a comment: '%.80s'", n, err);
            }
            if (strstr(err, "out of memory") == NULL) {
                if (trace_parse_text(text, st, &pre, err2, sizeof err2) != 0)
                    TP_FAIL("the lines before error line %lu do not parse: '%.80s'", n, err2);
                trace_list_free(&pre);
            }
        }
        /* a rejection is deterministic, with the same message */
        rc2 = trace_parse_text(text, size, &tr2, err2, sizeof err2);
        if (rc2 == 0 || strcmp(err, err2) != 0)
            TP_FAIL("re-parse of a rejected trace gave rc %d '%.80s' (first '%.80s')", rc2, err2, err);
        trace_list_free(&tr2);
        same_as_reader(data, size, &tr, rc, err);
        return 0;
    }

    /* accepted: each non-blank line is exactly one command, in order */
    while (pos < size) {
        size_t next, ln = line_at(data, size, pos, &next);
        struct span tok[MAXTOK];
        size_t nt = split_line(data + pos, ln, tok);
        line++;
        if (nt) {
            if (nt > MAXTOK)
                TP_FAIL("line %lu: %zu tokens accepted", line, nt);
            if (ci >= tr.n)
                TP_FAIL("line %lu holds a command but the parser produced only %zu", line, tr.n);
            check_cmd(&tr.cmds[ci], line, tok, nt);
            ci++;
        }
        pos = next;
    }
    if (ci != tr.n)
        TP_FAIL("%zu commands parsed but %zu non-blank lines", tr.n, ci);
    if (line != nlines)
        TP_FAIL("line count mismatch (%lu vs %lu)", line, nlines);

    rc2 = trace_parse_text(text, size, &tr2, err2, sizeof err2);
    if (rc2 != 0)
        TP_FAIL("re-parse rejected an accepted trace: '%.80s'", err2);
    same_trace(&tr, &tr2);
    trace_list_free(&tr2);
    same_as_reader(data, size, &tr, rc, err);
    trace_list_free(&tr);
    if (tr.cmds || tr.n || tr.cap)
        TP_FAIL("trace_list_free left the trace non-empty");
    return 0;
}
