/* testenv.h - the environment variables that choose how a test run configures its machines:
 * HM_TEST_LOCKING (fast or kernel) and HM_TEST_KERNEL (a generation name, docs/generations.md).
 * Shared by the Criterion fixture (testlib.c) and the thread tests (threadlib.c). SPDX-License-Identifier: MIT */
#ifndef HM_TESTENV_H
#define HM_TESTENV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "highmem.h"

/* The locking mode a config left at its default runs in: HM_LOCKING_KERNEL when
 * HM_TEST_LOCKING is "kernel", else HM_LOCKING_FAST (.ci/run runs the suites with each). */
static inline int test_env_locking(void)
{
    const char *env = getenv("HM_TEST_LOCKING");
    return env && strcmp(env, "kernel") == 0 ? HM_LOCKING_KERNEL : HM_LOCKING_FAST;
}

/* The kernel generation a test's machine follows unless the test names one: HM_TEST_KERNEL
 * ("2.6.24", "2.6.30", "5.11"; .ci/run runs the suites with each), else 2.6.24. A name that is
 * not a generation aborts the run rather than silently testing the default. */
static inline int test_env_kernel(void)
{
    const char *env = getenv("HM_TEST_KERNEL");
    int k = env && *env ? hm_kernel_find(env) : HM_KERNEL_2_6_24;
    if (k < 0) {
        fprintf(stderr, "HM_TEST_KERNEL=%s is not a kernel generation\n", env);
        abort();
    }
    return k;
}

#endif
