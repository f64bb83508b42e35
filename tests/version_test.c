/* version_test.c - Criterion test of the release identity: hm_version(), HM_VERSION_STRING and
 * the HM_VERSION_MAJOR/MINOR/PATCH macros all name the same release.
 * SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>
#include <criterion/new/assert.h>
#include <stdio.h>

#include "highmem.h"

Test(version, string_is_the_macros)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", HM_VERSION_MAJOR, HM_VERSION_MINOR, HM_VERSION_PATCH);
    cr_assert(eq(str, (char *)HM_VERSION_STRING, want));
}

Test(version, library_is_the_headers)
{
    const char *v = hm_version();
    cr_assert(ne(ptr, (void *)v, NULL));
    cr_assert(eq(str, (char *)v, (char *)HM_VERSION_STRING));
}

Test(version, numbers_are_plain)
{
    int major = -1, minor = -1, patch = -1, end = 0;
    cr_assert(eq(int, sscanf(hm_version(), "%d.%d.%d%n", &major, &minor, &patch, &end), 3));
    cr_assert(eq(int, end, (int)sizeof HM_VERSION_STRING - 1), "trailing text in '%s'", hm_version());
    cr_assert(eq(int, major, HM_VERSION_MAJOR));
    cr_assert(eq(int, minor, HM_VERSION_MINOR));
    cr_assert(eq(int, patch, HM_VERSION_PATCH));
}
