/* hostcheck.h - the runner of the plain host/ tests (no Criterion, TSan-safe) over
 * tests/check.h's counted checks: cases in order under an alarm, the closing "N passed, N failed"
 * line, forked children for what must not happen in the test process (faults, lowered limits).
 * SPDX-License-Identifier: MIT */
#ifndef HM_TESTS_HOSTCHECK_H
#define HM_TESTS_HOSTCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "tests/check.h" /* CHECK */

struct hc_case {
    const char *name;
    void (*run)(void);
};

/* Run the cases in order (only those named in $HC_ONLY, comma-separated, when it is set),
 * each under a HC_ALARM_S alarm (SIGALRM ends a stuck run): "RUN name", "PASS name" or
 * "FAIL name (n failed checks)", last "N passed, N failed". Returns main's exit status. */
#define HC_ALARM_S 60
int hc_main(const struct hc_case *cases, size_t n);

/* Run fn(arg) in a forked child. Its failed checks are printed there and added to this
 * process's count; a child killed by a signal counts as one failure. */
void hc_in_child(void (*fn)(void *), void *arg);

/* Whether one access to addr (a read, or a write of 0 when write is set) raises SIGSEGV at
 * exactly addr: 1 yes, 0 no fault, -1 a fault elsewhere or the child could not run. Tried in
 * a forked child, so a write that lands changes only the child's private pages (a MAP_SHARED
 * page is shared with the child: write only where the change does not matter). */
int hc_faults(volatile unsigned char *addr, int write);

/* The number of open file descriptors of this process (-1 on error). */
int hc_open_fds(void);

/* The permissions ("rw-s", "---p", ...) of the mapping holding addr, from /proc/self/maps;
 * "" when no mapping holds it. out must hold 5 bytes. */
void hc_perms_at(const void *addr, char out[5]);

/* The bytes of address space this process uses (/proc/self/statm), 0 on error. */
uint64_t hc_vm_size(void);

/* Fill this process's mappings up to vm.max_map_count, so that any mmap that would split a
 * mapping in three fails with ENOMEM (run it in a forked child). Returns the region (mprotect
 * it whole, PROT_READ, to lift the limit, then munmap *len bytes), NULL on error. */
void *hc_exhaust_map_count(size_t *len);

/* The test pattern: byte i of page p (salt tells two patterns apart); fill a page of ps bytes
 * with it; the offset of the first byte of a page that differs from it, -1 if none. */
unsigned char hc_pat(uint64_t p, size_t i, unsigned salt);
void hc_fill(unsigned char *buf, size_t ps, uint64_t p, unsigned salt);
long hc_mismatch(const unsigned char *buf, size_t ps, uint64_t p, unsigned salt);

#endif /* HM_TESTS_HOSTCHECK_H */
