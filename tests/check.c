/* check.c - counted checks (check.h): the running case's name and its failure count, both
 * atomic so that worker threads may check. SPDX-License-Identifier: MIT */
#include "tests/check.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const char *_Atomic g_case = "setup";
static atomic_int g_failures;

void tc_check_failed(const char *file, int line, const char *expr, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s:%d: [%s] check failed: %s -- %s\n", file, line, atomic_load(&g_case), expr,
            buf);
    atomic_fetch_add(&g_failures, 1);
}

void tc_case_begin(const char *name)
{
    atomic_store(&g_case, name);
    atomic_store(&g_failures, 0);
}

const char *tc_case_name(void)
{
    return atomic_load(&g_case);
}

int tc_failures(void)
{
    return atomic_load(&g_failures);
}

void tc_add_failures(int n)
{
    atomic_fetch_add(&g_failures, n);
}

int tc_selected(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}
