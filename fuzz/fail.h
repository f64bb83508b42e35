/* fail.h - how a fuzz harness stops on a finding: a one-line message naming the harness on
 * standard error, then abort() (which the engines record as a crash).
 * SPDX-License-Identifier: MIT */
#ifndef HM_FUZZ_FAIL_H
#define HM_FUZZ_FAIL_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_FAIL(who, ...)                                                                  \
    do {                                                                                     \
        fprintf(stderr, who ": " __VA_ARGS__);                                               \
        fputc('\n', stderr);                                                                 \
        abort();                                                                             \
    } while (0)

#endif /* HM_FUZZ_FAIL_H */
