/* json.c - growable text buffer and JSON string escaping (json.h).
 * SPDX-License-Identifier: MIT */
#include "json.h"

#include <stdarg.h>
#include <stdint.h>
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
        fputs("out of memory\n", stderr);
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

/* Length of the well-formed UTF-8 sequence at s (1 to 4 bytes), or 0 if it is not one
 * (overlong forms, surrogates and code points above U+10FFFF are not well formed). */
static size_t utf8_len(const unsigned char *s)
{
    size_t n, i;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0u) != 0x80u) /* also stops at the NUL */
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

void kbuf_json_str(struct kbuf *b, const char *s)
{
    kbuf_add(b, "\"", 1);
    while (s && *s) {
        unsigned char c = (unsigned char)*s;
        size_t n;
        switch (c) {
        case '"': kbuf_add(b, "\\\"", 2); s++; continue;
        case '\\': kbuf_add(b, "\\\\", 2); s++; continue;
        case '\n': kbuf_add(b, "\\n", 2); s++; continue;
        case '\r': kbuf_add(b, "\\r", 2); s++; continue;
        case '\t': kbuf_add(b, "\\t", 2); s++; continue;
        default: break;
        }
        if (c < 0x20 || c == 0x7f) {
            kbuf_printf(b, "\\u%04x", c);
            s++;
            continue;
        }
        n = utf8_len((const unsigned char *)s);
        if (n == 0) { /* not UTF-8: the byte as the code point of the same value (Latin-1) */
            kbuf_printf(b, "\\u%04x", c);
            s++;
            continue;
        }
        kbuf_add(b, s, n);
        s += n;
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
