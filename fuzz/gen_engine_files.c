/* gen_engine_files.c - prints what .clusterfuzzlite/build.sh ships beside a fuzzer: its libFuzzer
 * dictionary (the tokens of its input encoding, from kmap_ops.h and harness/trace.h) and max_len.
 * SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fuzz/kmap_ops_internal.h"
#include "harness/trace.h"

/* One dictionary line NAME="BYTES": printable ASCII as is, '"', '\\' and every other byte as
 * \xNN (the syntax libFuzzer and AFL++ share). */
static void entry(const char *name, const uint8_t *b, size_t n)
{
    printf("%s=\"", name);
    for (size_t i = 0; i < n; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '"' && b[i] != '\\')
            putchar(b[i]);
        else
            printf("\\x%02X", b[i]);
    }
    printf("\"\n");
}

static void text(const char *name, const char *s)
{
    entry(name, (const uint8_t *)s, strlen(s));
}

/* An op named PREFIX_I: its opcode byte, then up to three operand bytes (ops are read from the
 * front). */
static void op(const char *prefix, unsigned i, uint8_t opcode, int n, uint8_t a, uint8_t b, uint8_t c)
{
    char name[48];
    const uint8_t bytes[4] = {opcode, a, b, c};
    snprintf(name, sizeof name, "%s_%u", prefix, i);
    entry(name, bytes, (size_t)n);
}

/* kmap_ops: whole ops whose operand bytes select something besides a plain page or address
 * (the probes, fault injection, broken descriptors, the special and bad operands). The
 * harness is compiled without comparison tracing, so the mutator cannot learn these values
 * from the decoder's comparisons. */
static void dict_kmap_ops(void)
{
    uint8_t kmap = fop_byte_of(FOP_KMAP, 0), atomic = fop_byte_of(FOP_KMAP_ATOMIC, 0);
    uint8_t unmap_atomic = fop_byte_of(FOP_KUNMAP_ATOMIC, 0), load = fop_byte_of(FOP_LOAD, 0);
    uint8_t irq = fop_byte_of(FOP_IRQ, 0);

    printf("# kmap_ops (fuzz/kmap_ops.h): one opcode byte, then the operand bytes\n");
    for (int o = 0; o < FOP__COUNT; o++)
        op("opcode", (unsigned)o, fop_byte_of(o, o >= FOP_KMAP_HIGH_GET), 1, 0, 0, 0);
    /* the machine's tail with the ext byte (kmap_ops.h): ext (the generation), highmem, flags */
    for (unsigned k = 0; k < FOP_NR_KERNELS - 1u; k++)
        op("kernel", k, (uint8_t)k, 3, 0, FOP_FLAG_EXT, 0);
    for (unsigned k = 0; k < KPROBE__COUNT; k++)
        op("probe", k, FOP_EXT_BASE, 2, (uint8_t)k, 0, 0);
    for (unsigned m = 0; m < KIRQ_NR_MODES; m++)
        op("inject", m, irq, 2, (uint8_t)(KIRQ_INJECT + m), 0, 0);
    for (unsigned k = 0; k < 10; k++) /* (b - KCFG_BAD_DESC) % 10: the broken descriptors */
        op("config_desc", k, FOP_EXT_CONFIG, 2, (uint8_t)(KCFG_BAD_DESC + k), 0, 0);
    op("poke_none", 0, FOP_EXT_POKE, 3, 0, 0, 0);
    for (unsigned k = 0; k < 256u - KPFN_SPECIAL; k++)
        op("kmap_special_pfn", k, kmap, 2, (uint8_t)(KPFN_SPECIAL + k), 0, 0);
    for (unsigned k = 0; k < KADDR_NR_SPECIAL; k++)
        op("load_special_addr", k, load, 4, 0, (uint8_t)(KADDR_SPECIAL + k), 0);
    for (unsigned k = 0; k < 256u - KUA_SPECIAL; k++)
        op("kunmap_atomic_special", k, unmap_atomic, 4, 0, 0, (uint8_t)(KUA_SPECIAL + k));
    op("kmap_atomic_bad_cpu", 0, atomic, 4, KCPU_BAD, 0, 0);
    op("kmap_atomic_bad_type", 0, atomic, 4, 0, KTYPE_BAD, 0);
}

/* trace_parse: the trace language's words (harness/trace.h) and the numbers at its limits. */
static void dict_trace_parse(void)
{
    char name[48];
    printf("# trace_parse (harness/trace.h): commands, inject modes, the header, number limits\n");
    for (int o = 0; o < KOP__COUNT; o++) {
        snprintf(name, sizeof name, "command_%d", o);
        text(name, trace_op_name(o));
    }
    for (int m = 0; m < KINJ__COUNT; m++) {
        snprintf(name, sizeof name, "inject_%d", m);
        text(name, trace_inject_name(m));
    }
    text("header", TRACE_HEADER_PREFIX " ");
    text("comment", "#");
    text("crlf", "\r\n");
    text("hex", "0x");
    text("hex_upper", "0X");
    text("u64_max", "18446744073709551615");
    text("u64_overflow", "18446744073709551616");
    text("hex_u64_max", "0xffffffffffffffff");
    text("hex_u64_overflow", "0x10000000000000000");
    text("type_name", "KM_USER0");
    text("type_minus", "-1");
    text("type_plus", "+1");
}

/* The longest input worth mutating. */
static long max_len(const char *target)
{
    if (strcmp(target, "kmap_ops") == 0) /* FOP_MAX_OPS ops of at most 1 + 5 bytes, the machine */
        return (long)(FOP_MAX_OPS * (1u + FOP_MAX_OPERANDS) + 5u);
    if (strcmp(target, "trace_parse") == 0) /* a line past the reader's limit, and more lines */
        return 4L * TRACE_LINE_MAX;
    if (strcmp(target, "kmap_threads") == 0) /* 4 threads x 16 script bytes + 6 configuration
                                              * bytes (kmap_threads.c), with room to grow */
        return 128;
    return -1;
}

int main(int argc, char **argv)
{
    const char *what = argc == 3 ? argv[1] : "", *target = argc == 3 ? argv[2] : "";
    if (strcmp(what, "dict") == 0 && strcmp(target, "kmap_ops") == 0)
        dict_kmap_ops();
    else if (strcmp(what, "dict") == 0 && strcmp(target, "trace_parse") == 0)
        dict_trace_parse();
    else if (strcmp(what, "dict") == 0 && max_len(target) > 0)
        ; /* kmap_threads: every byte is reduced modulo a small range; no value stands out */
    else if (strcmp(what, "max_len") == 0 && max_len(target) > 0)
        printf("%ld\n", max_len(target));
    else {
        fprintf(stderr, "usage: gen_engine_files dict|max_len kmap_ops|trace_parse|kmap_threads\n");
        return 2;
    }
    return 0;
}
