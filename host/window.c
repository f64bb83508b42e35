/* window.c - the host window (window.h): a memfd or caller's fd as the memory, a PROT_NONE
 * reservation as the window, one mmap(MAP_FIXED) per mapped page, three unmapping policies.
 * SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create, MAP_NORESERVE */
#endif

#include "host/window.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define NO_PAGE UINT64_MAX

/* The counters, kept as one array of atomics so that each is bumped the same way. */
enum ctr {
    C_SETUP, C_MAP_SC, C_UNMAP_SC, C_FAILED, C_MAPS, C_REUSES, C_UNMAPS, C_FLUSHES, C_MAPPED,
    C__COUNT
};

/* One slot. page/prot: what the caller asked for (what hm_window_get reports); phys_*: what
 * the address range really holds (NO_PAGE: the PROT_NONE reservation). They differ only for a
 * cleared slot whose tear-down is deferred (coalesced, lazy, a failed eager one). */
struct slot {
    uint64_t page, phys_page;
    unsigned prot, phys_prot;
};

struct hm_window {
    unsigned char *base;
    size_t page_size, len;
    uint32_t slots;
    int policy;
    int fd, writable;
    uint64_t offset, pages;
    _Atomic uint64_t ctr[C__COUNT];
    struct slot *slot;
};

static const char *const err_names[] = {
    "OK", "EINVAL", "EBADF", "EACCES", "ETOOSMALL", "EMEMFD", "ERESERVE",
    "ENOMEM", "ERANGE", "EPROT", "EMAP", "EUNMAP", "EBUSY",
};
static const char *const policy_names[] = {"eager", "coalesced", "lazy"};

const char *hm_window_strerror(int err)
{
    if (err < 0 || (size_t)err >= sizeof err_names / sizeof err_names[0])
        return "EUNKNOWN";
    return err_names[err];
}

const char *hm_window_policy_name(int policy)
{
    if (policy < 0 || (size_t)policy >= sizeof policy_names / sizeof policy_names[0])
        return NULL;
    return policy_names[policy];
}

int hm_window_policy_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof policy_names / sizeof policy_names[0]; i++)
        if (strcmp(name, policy_names[i]) == 0)
            return (int)i;
    return -1;
}

static void bump(struct hm_window *w, enum ctr c)
{
    atomic_fetch_add_explicit(&w->ctr[c], 1, memory_order_relaxed);
}

/* A named error with errno set to e (0: keep the errno of the system call that failed). */
static int fail(int err, int e)
{
    if (e)
        errno = e;
    return err;
}

/* A system call's result: counted as a setup call when it succeeded, else as a failure. */
static int setup_call(struct hm_window *w, int ok)
{
    bump(w, ok ? C_SETUP : C_FAILED);
    return ok;
}

/* ---------------------------------------------------------------------------------------
 * Open and close.
 * ------------------------------------------------------------------------------------- */
static int check_config(const struct hm_window_config *cfg, size_t ps)
{
    if (!cfg || cfg->slots == 0 || !hm_window_policy_name(cfg->policy))
        return HM_WINDOW_EINVAL;
    if ((cfg->strict && cfg->policy == HM_WINDOW_LAZY) || cfg->offset % ps || cfg->mem_size % ps)
        return HM_WINDOW_EINVAL;
    if (cfg->fd < 0 && (cfg->fd != -1 || cfg->offset || cfg->mem_size == 0))
        return HM_WINDOW_EINVAL;
    if (cfg->offset > INT64_MAX || cfg->mem_size > INT64_MAX - cfg->offset ||
        cfg->slots > SIZE_MAX / ps)
        return HM_WINDOW_EINVAL;
    return HM_WINDOW_OK;
}

/* The byte length of the caller's fd, without moving its file offset (a block device has no
 * st_size: its end is found with lseek, then the offset is put back). -1 on error. */
static int64_t fd_length(struct hm_window *w, int fd, const struct stat *st)
{
    off_t cur, end;
    if (S_ISREG(st->st_mode))
        return st->st_size;
    if (!setup_call(w, (cur = lseek(fd, 0, SEEK_CUR)) >= 0) ||
        !setup_call(w, (end = lseek(fd, 0, SEEK_END)) >= 0))
        return -1;
    setup_call(w, lseek(fd, cur, SEEK_SET) >= 0);
    return end;
}

/* Take the caller's fd (checked, then duplicated) as the memory. */
static int adopt_fd(struct hm_window *w, const struct hm_window_config *cfg)
{
    struct stat st;
    int fl;
    int64_t len;

    if (!setup_call(w, (fl = fcntl(cfg->fd, F_GETFL)) != -1))
        return HM_WINDOW_EBADF;
    if ((fl & O_PATH) || (fl & O_ACCMODE) == O_WRONLY)
        return fail(HM_WINDOW_EACCES, EACCES);
    if (!setup_call(w, fstat(cfg->fd, &st) == 0))
        return HM_WINDOW_EBADF;
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        return fail(HM_WINDOW_EBADF, ENODEV);
    if ((len = fd_length(w, cfg->fd, &st)) < 0)
        return HM_WINDOW_EBADF;
    w->pages = cfg->mem_size / w->page_size;
    if (cfg->mem_size == 0 && (uint64_t)len > cfg->offset)
        w->pages = ((uint64_t)len - cfg->offset) / w->page_size;
    if (w->pages == 0 || (uint64_t)len < cfg->offset + w->pages * w->page_size)
        return fail(HM_WINDOW_ETOOSMALL, EOVERFLOW);
    if (!setup_call(w, (w->fd = fcntl(cfg->fd, F_DUPFD_CLOEXEC, 0)) >= 0))
        return HM_WINDOW_ENOMEM;
    w->writable = (fl & O_ACCMODE) == O_RDWR;
    w->offset = cfg->offset;
    return HM_WINDOW_OK;
}

/* Create the memory: a memfd of mem_size bytes (zero-filled). */
static int create_memfd(struct hm_window *w, const struct hm_window_config *cfg)
{
    if (!setup_call(w, (w->fd = memfd_create("libhighmem-window", MFD_CLOEXEC)) >= 0))
        return HM_WINDOW_EMEMFD;
    if (!setup_call(w, ftruncate(w->fd, (off_t)cfg->mem_size) == 0))
        return HM_WINDOW_EMEMFD;
    w->pages = cfg->mem_size / w->page_size;
    w->writable = 1;
    return HM_WINDOW_OK;
}

/* Undo what a failed open did, keeping the errno of the failure. */
static int open_failed(struct hm_window *w, int err)
{
    int e = errno;
    if (w->base)
        munmap(w->base, w->len);
    if (w->fd >= 0)
        close(w->fd);
    free(w->slot);
    free(w);
    errno = e;
    return err;
}

int hm_window_open(const struct hm_window_config *cfg, struct hm_window **out)
{
    long ps = sysconf(_SC_PAGESIZE);
    struct hm_window *w;
    void *base;
    int err;

    if (!out || ps <= 0)
        return fail(HM_WINDOW_EINVAL, EINVAL);
    if ((err = check_config(cfg, (size_t)ps)) != HM_WINDOW_OK)
        return fail(err, EINVAL);
    if (!(w = calloc(1, sizeof *w)))
        return fail(HM_WINDOW_ENOMEM, ENOMEM);
    w->fd = -1;
    w->page_size = (size_t)ps;
    w->slots = cfg->slots;
    w->len = (size_t)cfg->slots * w->page_size;
    w->policy = cfg->policy;
    err = cfg->fd == -1 ? create_memfd(w, cfg) : adopt_fd(w, cfg);
    if (err != HM_WINDOW_OK)
        return open_failed(w, err);
    base = mmap(NULL, w->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!setup_call(w, base != MAP_FAILED))
        return open_failed(w, HM_WINDOW_ERESERVE);
    w->base = base;
    if (!(w->slot = malloc((size_t)w->slots * sizeof *w->slot)))
        return open_failed(w, fail(HM_WINDOW_ENOMEM, ENOMEM));
    for (uint32_t i = 0; i < w->slots; i++)
        w->slot[i] = (struct slot){NO_PAGE, NO_PAGE, 0, 0};
    *out = w;
    return HM_WINDOW_OK;
}

int hm_window_close(struct hm_window *w, unsigned flags)
{
    int busy;
    if (!w)
        return HM_WINDOW_OK;
    if (flags & ~HM_WINDOW_CLOSE_FORCE)
        return fail(HM_WINDOW_EINVAL, EINVAL);
    busy = atomic_load(&w->ctr[C_MAPPED]) != 0;
    if (busy && !(flags & HM_WINDOW_CLOSE_FORCE))
        return fail(HM_WINDOW_EBUSY, EBUSY);
    munmap(w->base, w->len);
    close(w->fd);
    free(w->slot);
    free(w);
    return busy ? fail(HM_WINDOW_EBUSY, EBUSY) : HM_WINDOW_OK;
}

/* ---------------------------------------------------------------------------------------
 * Slots.
 * ------------------------------------------------------------------------------------- */
static int os_prot(unsigned prot)
{
    return PROT_READ | (prot & HM_WINDOW_WRITE ? PROT_WRITE : 0);
}

int hm_window_map(struct hm_window *w, uint32_t slot, uint64_t page, unsigned prot)
{
    struct slot *s;
    void *addr;

    if (!w || slot >= w->slots)
        return fail(HM_WINDOW_EINVAL, EINVAL);
    if (prot != HM_WINDOW_READ && prot != (HM_WINDOW_READ | HM_WINDOW_WRITE))
        return fail(HM_WINDOW_EPROT, EINVAL);
    if (page >= w->pages)
        return fail(HM_WINDOW_ERANGE, ERANGE);
    if ((prot & HM_WINDOW_WRITE) && !w->writable)
        return fail(HM_WINDOW_EACCES, EACCES);
    s = &w->slot[slot];
    if (s->phys_page == page && s->phys_prot == prot) {
        bump(w, C_REUSES);
    } else {
        addr = w->base + (size_t)slot * w->page_size;
        if (mmap(addr, w->page_size, os_prot(prot), MAP_SHARED | MAP_FIXED, w->fd,
                 (off_t)(w->offset + page * w->page_size)) == MAP_FAILED) {
            bump(w, C_FAILED);
            return HM_WINDOW_EMAP;
        }
        bump(w, C_MAP_SC);
        s->phys_page = page;
        s->phys_prot = prot;
    }
    if (s->page == NO_PAGE)
        bump(w, C_MAPPED);
    s->page = page;
    s->prot = prot;
    bump(w, C_MAPS);
    return HM_WINDOW_OK;
}

/* Put the reservation back over slots [first, first + n): one mmap(PROT_NONE). */
static int tear_down(struct hm_window *w, uint32_t first, uint32_t n)
{
    void *addr = w->base + (size_t)first * w->page_size;
    if (mmap(addr, (size_t)n * w->page_size, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED) {
        bump(w, C_FAILED);
        return HM_WINDOW_EUNMAP;
    }
    bump(w, C_UNMAP_SC);
    for (uint32_t i = first; i < first + n; i++)
        w->slot[i].phys_page = NO_PAGE, w->slot[i].phys_prot = 0;
    return HM_WINDOW_OK;
}

int hm_window_unmap(struct hm_window *w, uint32_t slot)
{
    struct slot *s;
    if (!w || slot >= w->slots)
        return fail(HM_WINDOW_EINVAL, EINVAL);
    s = &w->slot[slot];
    if (s->page == NO_PAGE)
        return HM_WINDOW_OK;
    s->page = NO_PAGE;
    s->prot = 0;
    atomic_fetch_sub_explicit(&w->ctr[C_MAPPED], 1, memory_order_relaxed);
    bump(w, C_UNMAPS);
    return w->policy == HM_WINDOW_EAGER ? tear_down(w, slot, 1) : HM_WINDOW_OK;
}

/* A cleared slot whose old page is still reachable. */
static int stale(const struct slot *s)
{
    return s->page == NO_PAGE && s->phys_page != NO_PAGE;
}

int hm_window_flush(struct hm_window *w, uint32_t first, uint32_t count)
{
    uint32_t end, i, run;
    int err = HM_WINDOW_OK;

    if (!w || first >= w->slots)
        return fail(HM_WINDOW_EINVAL, EINVAL);
    bump(w, C_FLUSHES);
    if (w->policy == HM_WINDOW_LAZY)
        return HM_WINDOW_OK;
    end = count > w->slots - first ? w->slots : first + count;
    for (i = first; i < end; i += run) {
        for (run = 0; i + run < end && stale(&w->slot[i + run]); run++)
            ;
        if (run == 0)
            run = 1;
        else if (tear_down(w, i, run) != HM_WINDOW_OK && err == HM_WINDOW_OK)
            err = HM_WINDOW_EUNMAP;
    }
    return err;
}

/* ---------------------------------------------------------------------------------------
 * Inspection.
 * ------------------------------------------------------------------------------------- */
int hm_window_get(const struct hm_window *w, uint32_t slot, uint64_t *page, unsigned *prot)
{
    if (!w || slot >= w->slots || w->slot[slot].page == NO_PAGE)
        return 0;
    if (page)
        *page = w->slot[slot].page;
    if (prot)
        *prot = w->slot[slot].prot;
    return 1;
}

void *hm_window_addr(const struct hm_window *w, uint32_t slot)
{
    return w && slot < w->slots ? w->base + (size_t)slot * w->page_size : NULL;
}

int64_t hm_window_slot_of(const struct hm_window *w, const void *addr)
{
    uintptr_t a = (uintptr_t)addr, b;
    if (!w)
        return -1;
    b = (uintptr_t)w->base;
    return a >= b && a - b < w->len ? (int64_t)((a - b) / w->page_size) : -1;
}

size_t hm_window_page_size(const struct hm_window *w) { return w ? w->page_size : 0; }
uint32_t hm_window_slots(const struct hm_window *w) { return w ? w->slots : 0; }
uint64_t hm_window_pages(const struct hm_window *w) { return w ? w->pages : 0; }
int hm_window_fd(const struct hm_window *w) { return w ? w->fd : -1; }
int hm_window_policy(const struct hm_window *w) { return w ? w->policy : -1; }

void hm_window_stats(const struct hm_window *w, struct hm_window_stats *out)
{
    uint64_t c[C__COUNT];
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!w)
        return;
    for (int i = 0; i < C__COUNT; i++)
        c[i] = atomic_load_explicit(&w->ctr[i], memory_order_relaxed);
    out->setup_syscalls = c[C_SETUP];
    out->map_syscalls = c[C_MAP_SC];
    out->unmap_syscalls = c[C_UNMAP_SC];
    out->syscalls = c[C_SETUP] + c[C_MAP_SC] + c[C_UNMAP_SC];
    out->failed_syscalls = c[C_FAILED];
    out->maps = c[C_MAPS];
    out->map_reuses = c[C_REUSES];
    out->unmaps = c[C_UNMAPS];
    out->flushes = c[C_FLUSHES];
    out->mapped = c[C_MAPPED];
}
