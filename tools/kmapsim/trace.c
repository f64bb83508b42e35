/* trace.c - the kmap trace parser of kmapsim (see docs in trace.h and the kmap-trace contract).
 * Robust against arbitrary bytes: NULs, non-UTF-8, huge numbers, very long lines.
 * SPDX-License-Identifier: MIT */
#include "trace.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Argument kinds in a command's signature. */
#define A_NUM 'N'   /* a number */
#define A_TYPE 'T'  /* a km_type name or index */
#define A_OPT 'O'   /* an optional trailing number */
#define A_MODE 'M'  /* an inject mode name, stored in arg[] as enum kmapsim_inject */

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
    [KOP_INJECT] = {"inject", "M", "inject none|drop-next-flush|drop-all-flushes"},
};

static const char *const inject_names[KINJ__COUNT] = {
    [KINJ_NONE] = "none",
    [KINJ_DROP_NEXT_FLUSH] = "drop-next-flush",
    [KINJ_DROP_ALL_FLUSHES] = "drop-all-flushes",
};

const char *kmapsim_inject_name(int mode)
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
    };
    if (op < 0 || op >= KOP__COUNT || pos >= 3 || !labels[op][pos])
        return "argument";
    return labels[op][pos];
}

const char *kmapsim_op_name(int op)
{
    if (op < 0 || op >= KOP__COUNT)
        return "?";
    return ops[op].name;
}

int kmapsim_parse_u64(const char *s, size_t n, uint64_t *out)
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

void kmapsim_trace_free(struct kmapsim_trace *t)
{
    size_t i;
    if (!t)
        return;
    for (i = 0; i < t->n; i++)
        free(t->cmds[i].type.name);
    free(t->cmds);
    t->cmds = NULL;
    t->n = t->cap = 0;
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
static int parse_cmd(const struct tok *tk, size_t ntok, unsigned long line, struct kmapsim_cmd *cmd,
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
                if (kmapsim_parse_u64(t->s, t->n, &cmd->type.index) != 0) {
                    quote_token(q, sizeof q, t->s, t->n);
                    set_err(err, errlen, line,
                            "bad TYPE '%s' for '%s' (expected a km_type name or a non-negative index)",
                            q, ops[op].name);
                    return -1;
                }
                cmd->type.is_name = 0;
            } else {
                char *name = malloc(t->n + 1);
                if (!name) {
                    set_err(err, errlen, line, "out of memory");
                    return -1;
                }
                memcpy(name, t->s, t->n);
                name[t->n] = 0;
                cmd->type.is_name = 1;
                cmd->type.name = name;
            }
        } else if (sig[i] == A_MODE) {
            int k, found = -1;
            for (k = 0; k < KINJ__COUNT; k++)
                if (strlen(inject_names[k]) == t->n && memcmp(inject_names[k], t->s, t->n) == 0)
                    found = k;
            if (found < 0) {
                quote_token(q, sizeof q, t->s, t->n);
                set_err(err, errlen, line,
                        "bad MODE '%s' for '%s' (expected none, drop-next-flush or "
                        "drop-all-flushes)",
                        q, ops[op].name);
                return -1;
            }
            cmd->arg[cmd->nargs++] = (uint64_t)found;
        } else {
            if (kmapsim_parse_u64(t->s, t->n, &cmd->arg[cmd->nargs]) != 0) {
                quote_token(q, sizeof q, t->s, t->n);
                set_err(err, errlen, line,
                        "bad %s '%s' for '%s' (expected a decimal or 0x hex number below 2^64)",
                        arg_label(op, (unsigned)i), q, ops[op].name);
                free(cmd->type.name);
                cmd->type.name = NULL;
                return -1;
            }
            cmd->nargs++;
        }
    }
    return 0;
}

int kmapsim_parse_trace(const char *text, size_t len, struct kmapsim_trace *out, char *err,
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
    out->cmds = NULL;
    out->n = out->cap = 0;
    if (!text && len) {
        set_err(err, errlen, 0, "no input");
        return -1;
    }
    while (pos < len) {
        struct tok tk[MAX_TOKS];
        size_t ntok = 0, end = pos, p;
        line++;
        while (end < len && text[end] != '\n')
            end++;
        /* Tokenise [pos, end), stopping at '#'. */
        p = pos;
        for (;;) {
            size_t st;
            while (p < end && is_space(text[p]))
                p++;
            if (p >= end || text[p] == '#')
                break;
            st = p;
            while (p < end && !is_space(text[p]) && text[p] != '#')
                p++;
            if (ntok < MAX_TOKS) {
                tk[ntok].s = text + st;
                tk[ntok].n = p - st;
            }
            ntok++;
        }
        pos = end < len ? end + 1 : end;
        if (ntok == 0)
            continue;
        if (ntok > MAX_TOKS)
            ntok = MAX_TOKS; /* still more than any signature: an arity error follows */
        if (out->n == out->cap) {
            size_t ncap = out->cap ? out->cap * 2 : 64;
            struct kmapsim_cmd *nc = realloc(out->cmds, ncap * sizeof *nc);
            if (!nc) {
                set_err(err, errlen, line, "out of memory");
                kmapsim_trace_free(out);
                return -1;
            }
            out->cmds = nc;
            out->cap = ncap;
        }
        if (parse_cmd(tk, ntok, line, &out->cmds[out->n], err, errlen) != 0) {
            kmapsim_trace_free(out);
            return -1;
        }
        out->n++;
    }
    return 0;
}
