/* json_test.c - harness/json.c: JSON string literals are valid JSON whatever the bytes (UTF-8
 * passes through, control characters and bytes that are not well-formed UTF-8 are escaped).
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>

#include "harness/json.h"

/* The literal kbuf_json_str makes of s. */
static void quoted(const char *s, char *out, size_t len)
{
    struct kbuf b = {0};
    kbuf_json_str(&b, s);
    cr_assert(b.n < len, "literal too long: %zu", b.n);
    memcpy(out, kbuf_str(&b), b.n + 1);
    kbuf_free(&b);
}

#define CHECK_LITERAL(in, want)                                                                  \
    do {                                                                                         \
        char got_[256];                                                                          \
        quoted((in), got_, sizeof got_);                                                         \
        cr_assert(eq(str, got_, (want)));                                                        \
    } while (0)

Test(json, ascii_and_escapes)
{
    CHECK_LITERAL("pte_set 0xff801000 1", "\"pte_set 0xff801000 1\"");
    CHECK_LITERAL("a\"b\\c\nd\re\tf", "\"a\\\"b\\\\c\\nd\\re\\tf\"");
    CHECK_LITERAL("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    CHECK_LITERAL("", "\"\"");
}

Test(json, well_formed_utf8_passes_through)
{
    CHECK_LITERAL("caf\xc3\xa9", "\"caf\xc3\xa9\"");                  /* U+00E9 */
    CHECK_LITERAL("\xe2\x82\xac", "\"\xe2\x82\xac\"");                /* U+20AC */
    CHECK_LITERAL("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");        /* U+1F600 */
    CHECK_LITERAL("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");        /* U+10FFFF */
}

Test(json, bytes_that_are_not_utf8_are_escaped)
{
    CHECK_LITERAL("\xff", "\"\\u00ff\"");                             /* never in UTF-8 */
    CHECK_LITERAL("\x80x", "\"\\u0080x\"");                           /* lone continuation */
    CHECK_LITERAL("\xc3", "\"\\u00c3\"");                             /* truncated at the end */
    CHECK_LITERAL("\xc3(", "\"\\u00c3(\"");                           /* bad continuation */
    CHECK_LITERAL("\xc0\xaf", "\"\\u00c0\\u00af\"");                  /* overlong '/' */
    CHECK_LITERAL("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\"");       /* overlong, 3 bytes */
    CHECK_LITERAL("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\"");       /* a surrogate */
    CHECK_LITERAL("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""); /* above U+10FFFF */
    CHECK_LITERAL("\xf0\x9f\x98", "\"\\u00f0\\u009f\\u0098\"");       /* truncated, 4 bytes */
}

/* Every byte value, alone: the literal is pure ASCII or well-formed UTF-8 of that byte. */
Test(json, every_single_byte_gives_ascii)
{
    for (int c = 1; c < 256; c++) {
        char in[2] = {(char)c, 0}, got[32];
        quoted(in, got, sizeof got);
        for (const unsigned char *p = (const unsigned char *)got; *p; p++)
            cr_assert(all(ge(int, *p, 0x20), lt(int, *p, 0x7f)), "byte 0x%02x gave a non-ASCII literal", c);
    }
}
