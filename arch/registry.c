/* registry.c - the table of built-in backends and the lookups by name: a backend's (an explicit
 * array, like SQLite's aVfs[], so nothing depends on constructor order or linker keep rules) and
 * a kernel generation's.
 * SPDX-License-Identifier: MIT */
#include "highmem_arch.h"

/* Every backend, unless the build defines HM_REGISTRY_ONLY and then HM_REGISTRY_X86, _PPC, _SPARC or _ARM
 * for each backend it links (Bazel's //:highmem_x86 and the like); generic, in the core, always. */
#ifndef HM_REGISTRY_ONLY
#define HM_REGISTRY_X86
#define HM_REGISTRY_PPC
#define HM_REGISTRY_SPARC
#define HM_REGISTRY_ARM
#endif

static const struct hm_arch *const hm_arches[] = {
#ifdef HM_REGISTRY_X86
    &hm_arch_x86,
    &hm_arch_x86_pae,
#endif
#ifdef HM_REGISTRY_PPC
    &hm_arch_ppc,
#endif
#ifdef HM_REGISTRY_SPARC
    &hm_arch_sparc,
#endif
    &hm_arch_generic,
#ifdef HM_REGISTRY_ARM /* after generic: the first five keep their indexes */
    &hm_arch_arm,
    &hm_arch_arm_vipt,
#endif
};

const struct hm_arch *hm_arch_at(unsigned i)
{
    return i < sizeof hm_arches / sizeof hm_arches[0] ? hm_arches[i] : 0;
}

static int same(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

const struct hm_arch *hm_arch_find(const char *name)
{
    if (!name)
        return 0;
    for (unsigned i = 0; hm_arch_at(i); i++)
        if (same(hm_arch_at(i)->name, name))
            return hm_arch_at(i);
    return 0;
}

const char *hm_arch_name(const struct hm_arch *arch)
{
    return arch ? arch->name : 0;
}

int hm_kernel_find(const char *name)
{
    if (!name)
        return -1;
    for (int k = 0; hm_kernel_name(k); k++)
        if (same(hm_kernel_name(k), name))
            return k;
    return -1;
}
