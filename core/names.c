/* names.c - the printable names of errors (hm_strerror), BUG kinds (hm_bug_name), event
 * kinds (hm_event_name), kernel generations (hm_kernel_name) and of the release (hm_version).
 * SPDX-License-Identifier: MIT */
#include "highmem.h"

const char *hm_version(void)
{
    return HM_VERSION_STRING;
}

const char *hm_strerror(int err)
{
    static const char *const names[] = {"OK",    "EINVAL", "ERANGE", "EAGAIN",
                                        "EBUSY", "EFAULT", "ENOSPC", "EMACHINE"};
    if (err < 0 || (unsigned)err >= sizeof names / sizeof names[0])
        return "EUNKNOWN";
    return names[err];
}

const char *hm_bug_name(int bug)
{
    static const char *const names[HM_BUG__COUNT] = {
        "NONE", "PFN_RANGE", "BAD_ARG", "KUNMAP_UNMAPPED", "KUNMAP_ZERO", "KMAP_COUNT",
        "POOL_EMPTY", "SET_ADDR_LOWMEM", "FLUSH_PTE_NONE", "IN_INTERRUPT", "ATOMIC_BUSY",
        "ATOMIC_UNBALANCED", "ATOMIC_BAD_ADDR", "VIRT_TO_FIX", "BAD_ADDR", "NOT_MAPPED",
        "UNAVAILABLE", "KMAP_HIGH_GET_COUNT", "COLOUR_RANGE", "LOCAL_OVERFLOW", "LOCAL_BUSY",
        "LOCAL_NOT_TOP", "LOCAL_BAD_ADDR", "LOCAL_MIGRATE", "LOCAL_CORRUPT", "TASK_RUNNING",
        "SWITCH_ATOMIC"};
    if (bug < 0 || bug >= HM_BUG__COUNT)
        return "UNKNOWN";
    return names[bug];
}

const char *hm_event_name(int kind)
{
    static const char *const names[] = {
        "none", "pte_set", "pte_clear", "tlb_flush_range", "tlb_flush_page", "tlb_flush_all",
        "cache_flush_all", "flush_all_zero_pkmaps", "flush_done", "sleep", "wakeup", "stale_tlb", "bug",
        "machine_fail", "cache_flush_page", "stale_cache", "local_save", "local_restore"};
    if (kind < 0 || (unsigned)kind >= sizeof names / sizeof names[0])
        return "unknown";
    return names[kind];
}

const char *hm_kernel_name(int kernel)
{
    static const char *const names[] = {"2.6.24", "2.6.30", "5.11"}; /* enum hm_kernel order */
    if (kernel < 0 || (unsigned)kernel >= sizeof names / sizeof names[0])
        return 0;
    return names[kernel];
}
