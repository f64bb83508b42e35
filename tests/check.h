/* check.h - the counted checks of the plain (non-Criterion, TSan-safe) test programs: a failed
 * check is printed with the running case's name and counted; the runner starts each case and
 * reads its count (tests/threadlib.c, tests/host/hostcheck.c). SPDX-License-Identifier: MIT */
#ifndef HM_TESTS_CHECK_H
#define HM_TESTS_CHECK_H

/* A failed check is printed and counted; the case carries on (so that threads it started are
 * not left waiting) and is reported as failed at its end. Callable from any thread. */
void tc_check_failed(const char *file, int line, const char *expr, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond))                                                                       \
            tc_check_failed(__FILE__, __LINE__, #cond, __VA_ARGS__);                       \
    } while (0)

/* Name the running case (a string that outlives it) and reset its failure count. */
void tc_case_begin(const char *name);
/* The running case's name ("setup" before the first). */
const char *tc_case_name(void);
/* The failed checks of the running case; add n (the failures a forked child reported). */
int tc_failures(void);
void tc_add_failures(int n);

/* Whether name is one of the comma-separated list's items (the cases a run is limited to). */
int tc_selected(const char *list, const char *name);

#endif /* HM_TESTS_CHECK_H */
