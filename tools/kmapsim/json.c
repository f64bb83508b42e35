/* json.c - growable text buffer and JSON string escaping for kmapsim (see json.h).
 * SPDX-License-Identifier: MIT */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void reserve(struct kbuf *b, size_t extra)
{
    size_t need = b->n + extra + 1, ncap;
    char *np;
    if (need <= b->cap)
        return;
    ncap = b->cap ? b->cap : 128;
    while (ncap < need)
        ncap *= 2;
    np = realloc(b->p, ncap);
    if (!np) {
        fputs("kmapsim: out of memory\n", stderr);
        exit(2);
    }
    b->p = np;
    b->cap = ncap;
}

void kbuf_add(struct kbuf *b, const char *s, size_t n)
{
    reserve(b, n);
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void kbuf_printf(struct kbuf *b, const char *fmt, ...)
{
    va_list ap;
    int k;
    char small[256];
    va_start(ap, fmt);
    k = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    if ((size_t)k < sizeof small) {
        kbuf_add(b, small, (size_t)k);
        return;
    }
    reserve(b, (size_t)k);
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

void kbuf_json_str(struct kbuf *b, const char *s)
{
    kbuf_add(b, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"': kbuf_add(b, "\\\"", 2); break;
        case '\\': kbuf_add(b, "\\\\", 2); break;
        case '\n': kbuf_add(b, "\\n", 2); break;
        case '\r': kbuf_add(b, "\\r", 2); break;
        case '\t': kbuf_add(b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f)
                kbuf_printf(b, "\\u%04x", c);
            else
                kbuf_add(b, (const char *)&c, 1);
        }
    }
    kbuf_add(b, "\"", 1);
}

void kbuf_reset(struct kbuf *b)
{
    b->n = 0;
    if (b->p)
        b->p[0] = 0;
}

void kbuf_free(struct kbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

const char *kbuf_str(const struct kbuf *b)
{
    return b->p ? b->p : "";
}
