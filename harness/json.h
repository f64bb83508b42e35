/* json.h - a growable text buffer with JSON string escaping, for every printed line.
 * SPDX-License-Identifier: MIT */
#ifndef HARNESS_JSON_H
#define HARNESS_JSON_H

#include <stddef.h>

struct kbuf {
    char *p;    /* NUL-terminated text (NULL while empty) */
    size_t n;   /* length without the NUL */
    size_t cap;
};

/* Append formatted text. Out of memory ends the program (exit 2) with a message. */
void kbuf_printf(struct kbuf *b, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Append raw bytes. */
void kbuf_add(struct kbuf *b, const char *s, size_t n);
/* Append s as a JSON string literal, quotes included: well-formed UTF-8 passes through,
 * control characters and every byte that is not part of well-formed UTF-8 are escaped
 * (\u00XX, the byte read as Latin-1), so the result is always valid JSON. */
void kbuf_json_str(struct kbuf *b, const char *s);
/* Forget the contents, keep the storage. */
void kbuf_reset(struct kbuf *b);
/* Release the storage. */
void kbuf_free(struct kbuf *b);
/* The text ("" while empty). */
const char *kbuf_str(const struct kbuf *b);

#endif /* HARNESS_JSON_H */
