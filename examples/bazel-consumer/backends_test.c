/* backends_test.c - the backends a libhighmem library names: hm_arch_at lists exactly the names
 * given on the command line, in order, hm_arch_find finds each, and each computes its layout.
 * Usage: backends_test NAME... ; last line `N passed, N failed`. SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "highmem.h"

static int passed, failed;

static void check(int ok, const char *what, const char *name)
{
    ok ? passed++ : failed++;
    printf("%s %s: %s\n", ok ? "PASS" : "FAIL", name, what);
}

int main(int argc, char **argv)
{
    unsigned n = 0;

    for (const struct hm_arch *arch; (arch = hm_arch_at(n)) != NULL; n++) {
        const char *name = hm_arch_name(arch);
        struct hm_config cfg = {.arch = arch, .nr_cpus = 1};
        struct hm_layout layout;

        check(n + 1 < (unsigned)argc && strcmp(name, argv[n + 1]) == 0, "listed where expected",
              name);
        check(hm_arch_find(name) == arch, "hm_arch_find finds it", name);
        check(hm_layout_compute(&cfg, &layout) == HM_OK, "hm_layout_compute", name);
    }
    for (int i = (int)n + 1; i < argc; i++)
        check(0, "in the registry", argv[i]);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
