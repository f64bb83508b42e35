/* trace.c - the kmap trace language (trace.h): line splitting, one-line parsing, the machine
 * header, the streaming reader and whole-text parsing. Robust against arbitrary bytes.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include "trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Argument kinds in a command's signature. */
#define A_NUM 'N'   /* a number */
#define A_TYPE 'T'  /* a km_type name or index */
#define A_OPT 'O'   /* an optional trailing number */
#define A_MODE 'M'  /* an inject mode name, stored in arg[] as enum trace_inject */

struct op_desc {
    const char *name;
    const char *sig;   /* one letter per argument */
    const char *usage; /* for error messages */
};

static const struct op_desc ops[KOP__COUNT] = {
    [KOP_KMAP] = {"kmap", "N", "kmap PFN"},
    [KOP_KUNMAP] = {"kunmap", "N", "kunmap PFN"},
    [KOP_FLUSH] = {"flush", "", "flush"},
    [KOP_KMAP_ATOMIC] = {"kmap_atomic", "NTN", "kmap_atomic CPU TYPE PFN"},
    [KOP_KUNMAP_ATOMIC] = {"kunmap_atomic", "NTO", "kunmap_atomic CPU TYPE [VADDR]"},
    [KOP_LOAD] = {"load", "NN", "load CPU VADDR"},
    [KOP_STORE] = {"store", "NNN", "store CPU VADDR VALUE"},
    [KOP_KMAP_ATOMIC_PFN] = {"kmap_atomic_pfn", "NTN", "kmap_atomic_pfn CPU TYPE PFN"},
    [KOP_KMAP_TO_PAGE] = {"kmap_to_page", "N", "kmap_to_page VADDR"},
    [KOP_KMAP_ATOMIC_TO_PAGE] = {"kmap_atomic_to_page", "N", "kmap_atomic_to_page VADDR"},
    [KOP_PAGE_ADDRESS] = {"page_address", "N", "page_address PFN"},
    [KOP_INJECT] = {"inject", "M",
                    "inject none|drop-next-flush|drop-all-flushes|fail-next-map|fail-all-maps|"
                    "fail-next-clear|fail-all-clears"},
    [KOP_KMAP_HIGH_GET] = {"kmap_high_get", "N", "kmap_high_get PFN"},
    [KOP_KMAP_LOCAL] = {"kmap_local", "NN", "kmap_local CPU PFN"},
    [KOP_KUNMAP_LOCAL] = {"kunmap_local", "NN", "kunmap_local CPU VADDR"},
    [KOP_SWITCH] = {"switch", "NN", "switch CPU TASK"},
};

static const char *const inject_names[KINJ__COUNT] = {
    [KINJ_NONE] = "none",
    [KINJ_DROP_NEXT_FLUSH] = "drop-next-flush",
    [KINJ_DROP_ALL_FLUSHES] = "drop-all-flushes",
    [KINJ_FAIL_NEXT_MAP] = "fail-next-map",
    [KINJ_FAIL_ALL_MAPS] = "fail-all-maps",
    [KINJ_FAIL_NEXT_CLEAR] = "fail-next-clear",
    [KINJ_FAIL_ALL_CLEARS] = "fail-all-clears",
};

const char *trace_inject_name(int mode)
{
    if (mode < 0 || mode >= KINJ__COUNT)
        return "?";
    return inject_names[mode];
}

/* Names of the numeric arguments, for error messages, per op and position. */
static const char *arg_label(int op, unsigned pos)
{
    static const char *const labels[KOP__COUNT][3] = {
        [KOP_KMAP] = {"PFN", NULL, NULL},
        [KOP_KUNMAP] = {"PFN", NULL, NULL},
        [KOP_KMAP_ATOMIC] = {"CPU", "TYPE", "PFN"},
        [KOP_KUNMAP_ATOMIC] = {"CPU", "TYPE", "VADDR"},
        [KOP_LOAD] = {"CPU", "VADDR", NULL},
        [KOP_STORE] = {"CPU", "VADDR", "VALUE"},
        [KOP_KMAP_ATOMIC_PFN] = {"CPU", "TYPE", "PFN"},
        [KOP_KMAP_TO_PAGE] = {"VADDR", NULL, NULL},
        [KOP_KMAP_ATOMIC_TO_PAGE] = {"VADDR", NULL, NULL},
        [KOP_PAGE_ADDRESS] = {"PFN", NULL, NULL},
        [KOP_INJECT] = {"MODE", NULL, NULL},
        [KOP_KMAP_HIGH_GET] = {"PFN", NULL, NULL},
        [KOP_KMAP_LOCAL] = {"CPU", "PFN", NULL},
        [KOP_KUNMAP_LOCAL] = {"CPU", "VADDR", NULL},
        [KOP_SWITCH] = {"CPU", "TASK", NULL},
    };
    if (op < 0 || op >= KOP__COUNT || pos >= 3 || !labels[op][pos])
        return "argument";
    return labels[op][pos];
}

const char *trace_op_name(int op)
{
    if (op < 0 || op >= KOP__COUNT)
        return "?";
    return ops[op].name;
}

int trace_parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    if (n == 0)
        return -1;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        i = 2;
        if (i == n)
            return -1;
        for (; i < n; i++) {
            unsigned d;
            char c = s[i];
            if (c >= '0' && c <= '9')
                d = (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                d = (unsigned)(c - 'A' + 10);
            else
                return -1;
            if (v > (UINT64_MAX >> 4))
                return -1;
            v = (v << 4) | d;
        }
    } else {
        for (; i < n; i++) {
            char c = s[i];
            unsigned d;
            if (c < '0' || c > '9')
                return -1;
            d = (unsigned)(c - '0');
            if (v > (UINT64_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
        }
    }
    *out = v;
    return 0;
}

/* Copy a token into dst for a message: printable ASCII as is, other bytes as \xNN, at most
 * about 40 source bytes (then "..."). */
static void quote_token(char *dst, size_t dstlen, const char *s, size_t n)
{
    size_t o = 0, i;
    if (dstlen == 0)
        return;
    for (i = 0; i < n && i < 40; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[8];
        size_t k;
        if (c >= 0x20 && c < 0x7f && c != '\\')
            tmp[0] = (char)c, tmp[1] = 0;
        else
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
        k = strlen(tmp);
        if (o + k + 4 >= dstlen)
            break;
        memcpy(dst + o, tmp, k);
        o += k;
    }
    if (i < n && o + 4 <= dstlen) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o] = 0;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void set_err(char *err, size_t errlen, unsigned long line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%lu: %s", line, msg);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

struct tok {
    const char *s;
    size_t n;
};

#define MAX_TOKS 8 /* more than any command takes; extra tokens only make an arity error */

/* Parse the tokens of one line into cmd. Returns 0, or -1 with err set. */
static int parse_cmd(const struct tok *tk, size_t ntok, unsigned long line, struct trace_cmd *cmd,
                     char *err, size_t errlen)
{
    char q[200];
    int op = -1;
    size_t i, nreq = 0, nmax;
    const char *sig;
    for (i = 0; i < KOP__COUNT; i++) {
        if (strlen(ops[i].name) == tk[0].n && memcmp(ops[i].name, tk[0].s, tk[0].n) == 0) {
            op = (int)i;
            break;
        }
    }
    if (op < 0) {
        quote_token(q, sizeof q, tk[0].s, tk[0].n);
        set_err(err, errlen, line, "unknown command '%s'", q);
        return -1;
    }
    sig = ops[op].sig;
    nmax = strlen(sig);
    for (i = 0; i < nmax; i++)
        if (sig[i] != A_OPT)
            nreq++;
    if (ntok - 1 < nreq || ntok - 1 > nmax) {
        set_err(err, errlen, line, "wrong number of arguments for '%s' (usage: %s)", ops[op].name,
                ops[op].usage);
        return -1;
    }
    memset(cmd, 0, sizeof *cmd);
    cmd->op = op;
    cmd->line = line;
    for (i = 0; i + 1 < ntok; i++) {
        const struct tok *t = &tk[i + 1];
        if (sig[i] == A_TYPE) {
            unsigned char c0 = (unsigned char)t->s[0];
            if ((c0 >= '0' && c0 <= '9') || c0 == '-' || c0 == '+') {
                if (trace_parse_u64(t->s, t->n, &cmd->type.index) != 0) {
                    quote_token(q, sizeof q, t->s, t->n);
                    set_err(err, errlen, line,
                            "bad TYPE '%s' for '%s' (expected a km_type name or a non-negative index)",
                            q, ops[op].name);
                    return -1;
                }
                cmd->type.is_name = 0;
            } else {
                size_t keep = t->n < TRACE_NAME_MAX ? t->n : TRACE_NAME_MAX;
                memcpy(cmd->type.name, t->s, keep);
                cmd->type.name[keep] = 0;
                cmd->type.name_len = t->n;
                cmd->type.is_name = 1;
            }
        } else if (sig[i] == A_MODE) {
            int k, found = -1;
            for (k = 0; k < KINJ__COUNT; k++)
                if (strlen(inject_names[k]) == t->n && memcmp(inject_names[k], t->s, t->n) == 0)
                    found = k;
            if (found < 0) {
                quote_token(q, sizeof q, t->s, t->n);
                set_err(err, errlen, line,
                        "bad MODE '%s' for '%s' (expected none, drop-next-flush, "
                        "drop-all-flushes, fail-next-map, fail-all-maps, fail-next-clear or "
                        "fail-all-clears)",
                        q, ops[op].name);
                return -1;
            }
            cmd->arg[cmd->nargs++] = (uint64_t)found;
        } else {
            if (trace_parse_u64(t->s, t->n, &cmd->arg[cmd->nargs]) != 0) {
                quote_token(q, sizeof q, t->s, t->n);
                set_err(err, errlen, line,
                        "bad %s '%s' for '%s' (expected a decimal or 0x hex number below 2^64)",
                        arg_label(op, (unsigned)i), q, ops[op].name);
                return -1;
            }
            cmd->nargs++;
        }
    }
    return 0;
}

int trace_line_end(const char *s, size_t n, int more, size_t *len, size_t *next)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (s[i] == '\n') {
            *len = i;
            *next = i + 1;
            return 1;
        }
        if (s[i] == '\r') {
            if (i + 1 < n) {
                *len = i;
                *next = i + (s[i + 1] == '\n' ? 2 : 1);
                return 1;
            }
            if (more)
                return 0; /* maybe the first half of "\r\n" */
            *len = i;
            *next = i + 1;
            return 1;
        }
    }
    if (more || n == 0)
        return 0;
    *len = *next = n;
    return 1;
}

/* Split [s, s + n) into words (stopping at '#'); returns how many there are (tk holds the
 * first MAX_TOKS). */
static size_t tokenise(const char *s, size_t n, struct tok *tk)
{
    size_t p = 0, ntok = 0;
    for (;;) {
        size_t st;
        while (p < n && is_space(s[p]))
            p++;
        if (p >= n || s[p] == '#')
            break;
        st = p;
        while (p < n && !is_space(s[p]) && s[p] != '#')
            p++;
        if (ntok < MAX_TOKS) {
            tk[ntok].s = s + st;
            tk[ntok].n = p - st;
        }
        ntok++;
    }
    return ntok;
}

int trace_parse_line(const char *s, size_t n, unsigned long line, struct trace_cmd *cmd,
                     char *err, size_t errlen)
{
    struct tok tk[MAX_TOKS];
    size_t ntok;
    if (err && errlen)
        err[0] = 0;
    ntok = tokenise(s, n, tk);
    if (ntok == 0)
        return 0;
    if (ntok > MAX_TOKS)
        ntok = MAX_TOKS; /* still more than any signature: an arity error follows */
    return parse_cmd(tk, ntok, line, cmd, err, errlen) == 0 ? 1 : -1;
}

int trace_parse_header(const char *s, size_t n, unsigned long line, struct trace_header *h,
                       char *err, size_t errlen)
{
    static const char prefix[] = TRACE_HEADER_PREFIX;
    size_t plen = sizeof prefix - 1, p = plen;
    if (n < plen || memcmp(s, prefix, plen) != 0)
        return 0;
    memset(h, 0, sizeof *h);
    h->line = line;
    for (;;) {
        size_t st;
        while (p < n && is_space(s[p]))
            p++;
        if (p >= n)
            return 1;
        st = p;
        while (p < n && !is_space(s[p]))
            p++;
        if (h->nwords == TRACE_HEADER_MAX_WORDS) {
            set_err(err, errlen, line, "machine header has more than %d words",
                    TRACE_HEADER_MAX_WORDS);
            return -1;
        }
        if (p - st >= sizeof h->words[0]) {
            char q[200];
            quote_token(q, sizeof q, s + st, p - st);
            set_err(err, errlen, line, "machine header word '%s' is too long", q);
            return -1;
        }
        memcpy(h->words[h->nwords], s + st, p - st);
        h->words[h->nwords][p - st] = 0;
        h->nwords++;
    }
}

/* One line of either source: a header (before any command), a command, or nothing. */
static int take_line(const char *s, size_t n, unsigned long line, int seen_cmd,
                     struct trace_header *h, struct trace_cmd *cmd, char *err, size_t errlen)
{
    struct trace_header tmp;
    int rc = trace_parse_header(s, n, line, &tmp, err, errlen);
    if (rc < 0)
        return -1;
    if (rc > 0) {
        if (seen_cmd) {
            set_err(err, errlen, line, "the machine header must come before the first command");
            return -1;
        }
        if (h->line) {
            set_err(err, errlen, line, "a second machine header (the first is on line %lu)",
                    h->line);
            return -1;
        }
        *h = tmp;
        return 2;
    }
    return trace_parse_line(s, n, line, cmd, err, errlen);
}

void trace_reader_init(struct trace_reader *r, FILE *in)
{
    memset(r, 0, sizeof *r);
    r->in = in;
}

/* Make the next line of r available: returns 1 with *s / *len (not consumed; *next is its
 * size with the line end), 0 at the end of the input, -1 with err (too long, read error). */
static int next_line(struct trace_reader *r, const char **s, size_t *len, size_t *next, char *err,
                     size_t errlen)
{
    for (;;) {
        size_t got;
        if (r->error)
            return -1;
        if (trace_line_end(r->buf + r->start, r->end - r->start, !r->eof, len, next)) {
            if (*len > TRACE_LINE_MAX)
                break;
            *s = r->buf + r->start;
            return 1;
        }
        if (r->eof)
            return 0;
        if (r->end - r->start > TRACE_LINE_MAX + 1) /* no line end in sight */
            break;
        if (r->start > 0) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        /* One character at a time up to the next line end: stdio hands over what a pipe has
         * so far, so a command is run as soon as its line is complete. */
        got = 0;
        while (r->end < sizeof r->buf) {
            int ch = getc_unlocked(r->in);
            if (ch == EOF)
                break;
            r->buf[r->end++] = (char)ch;
            got++;
            if (ch == '\n' || ch == '\r')
                break;
        }
        if (got == 0) {
            if (ferror(r->in)) {
                set_err(err, errlen, r->line + 1, "read error");
                r->error = 1;
                return -1;
            }
            r->eof = 1;
        }
    }
    set_err(err, errlen, r->line + 1, "line longer than %d bytes", TRACE_LINE_MAX);
    r->error = 1;
    return -1;
}

int trace_read(struct trace_reader *r, struct trace_cmd *cmd, char *err, size_t errlen)
{
    const char *s;
    size_t len, next;
    int rc;
    if (err && errlen)
        err[0] = 0;
    while ((rc = next_line(r, &s, &len, &next, err, errlen)) == 1) {
        r->start += next;
        r->line++;
        rc = take_line(s, len, r->line, r->seen_cmd, &r->header, cmd, err, errlen);
        if (rc < 0)
            r->error = 1;
        if (rc == 1)
            r->seen_cmd = 1;
        if (rc != 0)
            return rc;
    }
    return rc;
}

int trace_read_header(struct trace_reader *r, char *err, size_t errlen)
{
    struct tok tk[MAX_TOKS];
    const char *s;
    size_t len, next;
    int rc;
    if (err && errlen)
        err[0] = 0;
    while (!r->seen_cmd && (rc = next_line(r, &s, &len, &next, err, errlen)) == 1) {
        if (tokenise(s, len, tk) != 0)
            return 0; /* the first command: left for trace_read */
        r->start += next;
        r->line++;
        rc = trace_parse_header(s, len, r->line, &r->header, err, errlen);
        if (rc < 0)
            r->error = 1;
        if (rc != 0)
            return rc;
    }
    return r->error ? -1 : 0;
}

void trace_list_free(struct trace_list *t)
{
    if (!t)
        return;
    free(t->cmds);
    t->cmds = NULL;
    t->n = t->cap = 0;
}

int trace_parse_text(const char *text, size_t len, struct trace_list *out, char *err,
                     size_t errlen)
{
    size_t pos = 0;
    unsigned long line = 0;
    if (err && errlen)
        err[0] = 0;
    if (!out) {
        set_err(err, errlen, 0, "no output");
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (!text && len) {
        set_err(err, errlen, 0, "no input");
        return -1;
    }
    while (pos < len) {
        size_t n, next;
        int rc;
        trace_line_end(text + pos, len - pos, 0, &n, &next);
        line++;
        if (out->n == out->cap) {
            size_t ncap = out->cap ? out->cap * 2 : 64;
            struct trace_cmd *nc = realloc(out->cmds, ncap * sizeof *nc);
            if (!nc) {
                set_err(err, errlen, line, "out of memory");
                trace_list_free(out);
                return -1;
            }
            out->cmds = nc;
            out->cap = ncap;
        }
        rc = take_line(text + pos, n, line, out->n > 0, &out->header, &out->cmds[out->n], err,
                       errlen);
        pos += next;
        if (rc < 0) {
            trace_list_free(out);
            return -1;
        }
        if (rc == 1)
            out->n++;
    }
    return 0;
}
