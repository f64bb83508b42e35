/* print.h - commands and results as text: a command written back in the trace language, an
 * event in its trace words, and one replay line per command (text or jsonl).
 * SPDX-License-Identifier: MIT */
#ifndef HARNESS_PRINT_H
#define HARNESS_PRINT_H

#include <stddef.h>

#include "exec.h"
#include "json.h"

#define HARNESS_EV_LEN 64 /* longest event string (53): "tlb_flush_range 0x<16 digits> 0x<16 digits>" */

/* Render one library event as its trace words into dst; returns 0 (dst untouched) when the
 * event kind is not one the trace shows (sleep, wakeup, bug, stale_tlb, stale_cache,
 * flush_done). */
int print_event(const struct hm_event *ev, char *dst, size_t dstlen);

/* Append the command as it would be written back (numbers normalised: pfn/cpu/value decimal,
 * addresses hex; a TYPE name as printable ASCII, other bytes as \xNN). */
void print_cmd(struct kbuf *b, const struct trace_cmd *c);

/* Output formats of a replay line. */
enum { PRINT_TEXT = 0, PRINT_JSONL = 1 };

/* Append one replay line (newline included) for command c, its result r and the machine's
 * capture of it (events, stale translations, stale cache reads). */
void print_result(struct kbuf *b, int format, const struct harness_machine *m,
                  const struct trace_cmd *c, const struct harness_result *r);

#endif /* HARNESS_PRINT_H */
