/* window_test.c - host/window.c in one thread: bytes through a slot and through the fd agree,
 * remapping, strict mode faults, each policy's system calls for one known sequence, and every
 * named error (bad input, a too-small or unreadable fd, reservation and mmap failing under
 * limits set in a forked child, busy close, a page past the memory). SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "host/window.h"
#include "tests/host/hostcheck.h"

#define RW (HM_WINDOW_READ | HM_WINDOW_WRITE)
#define NPOL 3

static size_t ps;

/* The page patterns of hostcheck.h, on this host's page size. */
#define pat hc_pat
#define fill(buf, p, salt) hc_fill(buf, ps, p, salt)
#define mismatch(buf, p, salt) hc_mismatch(buf, ps, p, salt)

/* A memfd of n pages, page p filled with pattern salt 0. */
static int make_memfd(uint64_t n)
{
    unsigned char buf[65536];
    int fd = memfd_create("window_test", MFD_CLOEXEC);
    CHECK(fd >= 0 && ps <= sizeof buf && ftruncate(fd, (off_t)(n * ps)) == 0, "memfd: %s",
          strerror(errno));
    for (uint64_t p = 0; p < n; p++) {
        fill(buf, p, 0);
        CHECK(pwrite(fd, buf, ps, (off_t)(p * ps)) == (ssize_t)ps, "pwrite: %s", strerror(errno));
    }
    return fd;
}

/* A window over its own memfd of pages pages (filled like make_memfd's unless blank). */
static struct hm_window *open_memfd_window(int policy, int strict, uint32_t slots, uint64_t pages)
{
    struct hm_window_config cfg = {.fd = -1, .mem_size = pages * ps, .slots = slots,
                                   .policy = policy, .strict = strict};
    struct hm_window *w = NULL;
    unsigned char buf[65536];
    int err = hm_window_open(&cfg, &w);
    CHECK(err == HM_WINDOW_OK, "open %s: %s (%s)", hm_window_policy_name(policy),
          hm_window_strerror(err), strerror(errno));
    for (uint64_t p = 0; w && p < pages; p++) {
        fill(buf, p, 0);
        CHECK(pwrite(hm_window_fd(w), buf, ps, (off_t)(p * ps)) == (ssize_t)ps, "pwrite");
    }
    return w;
}

static unsigned char *slot_ptr(struct hm_window *w, uint32_t slot)
{
    return hm_window_addr(w, slot);
}

static int open_err(const struct hm_window_config *cfg, int *err_no)
{
    struct hm_window *w = NULL;
    int err;
    errno = 0;
    err = hm_window_open(cfg, &w);
    *err_no = errno;
    CHECK((err == HM_WINDOW_OK) == (w != NULL), "*out set on success only (%s)",
          hm_window_strerror(err));
    if (w)
        hm_window_close(w, HM_WINDOW_CLOSE_FORCE);
    return err;
}

/* Expect cfg to be refused with err and errno e, leaving no descriptor open. */
#define EXPECT_OPEN_FAILS(cfg, err, e)                                                       \
    do {                                                                                   \
        int fds_ = hc_open_fds(), e_, got_ = open_err(cfg, &e_);                           \
        CHECK(got_ == (err) && e_ == (e), "%s: got %s, errno %s", #err,                    \
              hm_window_strerror(got_), strerror(e_));                                     \
        CHECK(hc_open_fds() == fds_, "descriptors leaked: %d -> %d", fds_, hc_open_fds()); \
    } while (0)

static void stats(struct hm_window *w, struct hm_window_stats *s)
{
    hm_window_stats(w, s);
}

/* ---------------------------------------------------------------------------------------
 * Data: through a slot and through the fd.
 * ------------------------------------------------------------------------------------- */
static void check_roundtrip(struct hm_window *w, int fd, uint32_t slot, uint64_t page,
                            uint64_t file_page)
{
    unsigned char buf[65536];
    unsigned char *s = slot_ptr(w, slot);
    long bad;

    CHECK(hm_window_map(w, slot, page, RW) == HM_WINDOW_OK, "map: %s", strerror(errno));
    CHECK((bad = mismatch(s, file_page, 0)) < 0, "slot %u shows page %llu's old bytes: byte %ld",
          slot, (unsigned long long)page, bad);
    for (size_t i = 0; i < ps; i++)
        s[i] = pat(file_page, i, 1);
    CHECK(pread(fd, buf, ps, (off_t)(file_page * ps)) == (ssize_t)ps, "pread");
    CHECK((bad = mismatch(buf, file_page, 1)) < 0, "written through the slot, read through the "
          "fd: byte %ld differs", bad);
    fill(buf, file_page, 2);
    CHECK(pwrite(fd, buf, ps, (off_t)(file_page * ps)) == (ssize_t)ps, "pwrite");
    CHECK((bad = mismatch(s, file_page, 2)) < 0, "written through the fd, read through the "
          "slot: byte %ld differs", bad);
}

static void roundtrip(void)
{
    for (int pol = 0; pol < NPOL; pol++) {
        struct hm_window *w = open_memfd_window(pol, 0, 8, 64);
        if (!w)
            continue;
        check_roundtrip(w, hm_window_fd(w), 3, 17, 17);
        check_roundtrip(w, hm_window_fd(w), 0, 63, 63);
        check_roundtrip(w, hm_window_fd(w), 7, 0, 0);
        CHECK(hm_window_pages(w) == 64 && hm_window_slots(w) == 8 && hm_window_page_size(w) == ps,
              "geometry");
        CHECK(hm_window_close(w, HM_WINDOW_CLOSE_FORCE) == HM_WINDOW_EBUSY, "3 slots mapped");
    }
}

/* The caller's fd at an offset: window page p is file page p + 4; the window keeps its own
 * duplicate, so the caller may close its fd; the caller's file offset does not move. */
static void caller_fd(void)
{
    int fd = make_memfd(40), fd2;
    struct hm_window_config cfg = {.fd = fd, .offset = 4 * ps, .mem_size = 32 * ps, .slots = 4,
                                   .policy = HM_WINDOW_COALESCED};
    struct hm_window *w = NULL;

    CHECK(lseek(fd, 123, SEEK_SET) == 123, "lseek");
    CHECK(hm_window_open(&cfg, &w) == HM_WINDOW_OK, "open: %s", strerror(errno));
    CHECK(lseek(fd, 0, SEEK_CUR) == 123, "the caller's file offset moved");
    fd2 = dup(fd);
    close(fd);
    if (w) {
        CHECK(hm_window_fd(w) != fd2 && hm_window_pages(w) == 32, "own fd, 32 pages");
        check_roundtrip(w, fd2, 1, 5, 9);
        CHECK(hm_window_map(w, 2, 32, HM_WINDOW_READ) == HM_WINDOW_ERANGE, "page 32 is file page 36 "
              "but past mem_size");
        hm_window_unmap(w, 1);
        CHECK(hm_window_close(w, 0) == HM_WINDOW_OK, "close");
    }
    /* mem_size 0: every whole page from the offset to the end (40 - 4 pages + a part page). */
    CHECK(ftruncate(fd2, (off_t)(40 * ps + ps / 2)) == 0, "ftruncate");
    cfg.fd = fd2;
    cfg.mem_size = 0;
    w = NULL;
    CHECK(hm_window_open(&cfg, &w) == HM_WINDOW_OK && hm_window_pages(w) == 36, "36 pages");
    hm_window_close(w, 0);
    close(fd2);
}

/* Remapping a slot to another page shows the new page, whatever came before. */
static void remap(void)
{
    for (int pol = 0; pol < NPOL; pol++) {
        struct hm_window *w = open_memfd_window(pol, 0, 4, 16);
        uint64_t page = 0;
        unsigned prot = 0;
        if (!w)
            continue;
        CHECK(hm_window_map(w, 2, 1, RW) == 0 && mismatch(slot_ptr(w, 2), 1, 0) < 0, "page 1");
        CHECK(hm_window_map(w, 2, 7, HM_WINDOW_READ) == 0 && mismatch(slot_ptr(w, 2), 7, 0) < 0,
              "%s: mapped over a mapped slot: page 7", hm_window_policy_name(pol));
        CHECK(hm_window_get(w, 2, &page, &prot) == 1 && page == 7 && prot == HM_WINDOW_READ,
              "get: page %llu prot %u", (unsigned long long)page, prot);
        CHECK(hm_window_unmap(w, 2) == 0 && hm_window_get(w, 2, NULL, NULL) == 0, "cleared");
        CHECK(hm_window_map(w, 2, 9, RW) == 0 && mismatch(slot_ptr(w, 2), 9, 0) < 0,
              "%s: cleared, not flushed, reused: page 9", hm_window_policy_name(pol));
        CHECK(hm_window_unmap(w, 2) == 0 && hm_window_flush(w, 0, 4) == 0, "flush");
        CHECK(hm_window_map(w, 2, 15, RW) == 0 && mismatch(slot_ptr(w, 2), 15, 0) < 0,
              "%s: cleared and flushed, reused: page 15", hm_window_policy_name(pol));
        CHECK(hm_window_slot_of(w, slot_ptr(w, 2) + ps - 1) == 2 &&
              hm_window_slot_of(w, slot_ptr(w, 0) - 1) == -1 &&
              hm_window_slot_of(w, slot_ptr(w, 3) + ps) == -1 && hm_window_addr(w, 4) == NULL,
              "slot_of / addr");
        hm_window_unmap(w, 2);
        CHECK(hm_window_close(w, 0) == HM_WINDOW_OK, "close");
    }
}

/* ---------------------------------------------------------------------------------------
 * Strict mode: a cleared and flushed slot faults at once; never executable.
 * ------------------------------------------------------------------------------------- */
static void strict_eager(void)
{
    struct hm_window *w = open_memfd_window(HM_WINDOW_EAGER, 1, 4, 8);
    char perms[5];
    if (!w)
        return;
    CHECK(hc_faults(slot_ptr(w, 1), 0) == 1, "an unmapped slot faults");
    CHECK(hm_window_map(w, 1, 3, RW) == 0 && hc_faults(slot_ptr(w, 1), 0) == 0, "mapped: no fault");
    hc_perms_at(slot_ptr(w, 1), perms);
    CHECK(strcmp(perms, "rw-s") == 0, "mapped slot perms '%s'", perms);
    CHECK(hm_window_unmap(w, 1) == 0, "unmap");
    CHECK(hc_faults(slot_ptr(w, 1), 0) == 1 && hc_faults(slot_ptr(w, 1) + ps - 1, 1) == 1,
          "eager: the slot faults right after the unmap (read and write)");
    hc_perms_at(slot_ptr(w, 1), perms);
    CHECK(strcmp(perms, "---p") == 0, "cleared slot perms '%s'", perms);
    hm_window_close(w, 0);
}

static void strict_coalesced(void)
{
    struct hm_window *w = open_memfd_window(HM_WINDOW_COALESCED, 1, 4, 8);
    if (!w)
        return;
    CHECK(hm_window_map(w, 1, 3, RW) == 0 && hm_window_map(w, 2, 4, RW) == 0, "map");
    CHECK(hm_window_unmap(w, 1) == 0 && hm_window_unmap(w, 2) == 0, "unmap");
    CHECK(hc_faults(slot_ptr(w, 1), 0) == 0 && slot_ptr(w, 1)[5] == pat(3, 5, 0),
          "coalesced: cleared but not flushed, the old page is still there");
    CHECK(hm_window_flush(w, 0, 4) == 0, "flush");
    CHECK(hc_faults(slot_ptr(w, 1), 0) == 1 && hc_faults(slot_ptr(w, 2), 1) == 1,
          "coalesced: cleared and flushed, the slots fault");
    hm_window_close(w, 0);
}

static void lazy_is_not_strict(void)
{
    struct hm_window_config cfg = {.fd = -1, .mem_size = 8 * ps, .slots = 4,
                                   .policy = HM_WINDOW_LAZY, .strict = 1};
    struct hm_window *w;
    EXPECT_OPEN_FAILS(&cfg, HM_WINDOW_EINVAL, EINVAL);
    if (!(w = open_memfd_window(HM_WINDOW_LAZY, 0, 4, 8)))
        return;
    CHECK(hm_window_map(w, 1, 3, RW) == 0 && hm_window_unmap(w, 1) == 0 &&
          hm_window_flush(w, 0, 4) == 0, "map, unmap, flush");
    CHECK(hm_window_get(w, 1, NULL, NULL) == 0, "the slot is clear");
    CHECK(hc_faults(slot_ptr(w, 1), 0) == 0 && slot_ptr(w, 1)[9] == pat(3, 9, 0),
          "lazy: the old page stays reachable until the slot is reused (use-after-kunmap missed)");
    hm_window_close(w, 0);
}

static void never_executable(void)
{
    struct hm_window *w = open_memfd_window(HM_WINDOW_EAGER, 1, 4, 8);
    char perms[5];
    int err;
    if (!w)
        return;
    hc_perms_at(slot_ptr(w, 0), perms);
    CHECK(strcmp(perms, "---p") == 0, "the reservation is '%s'", perms);
    CHECK(hm_window_map(w, 0, 1, HM_WINDOW_READ) == 0, "map read-only");
    hc_perms_at(slot_ptr(w, 0), perms);
    CHECK(strcmp(perms, "r--s") == 0, "read-only slot perms '%s'", perms);
    CHECK(hc_faults(slot_ptr(w, 0), 1) == 1, "a write to a read-only slot faults");
    for (unsigned prot = 0; prot < 16; prot++) {
        if (prot == HM_WINDOW_READ || prot == RW)
            continue;
        errno = 0;
        err = hm_window_map(w, 1, 1, prot);
        CHECK(err == HM_WINDOW_EPROT && errno == EINVAL, "prot %u: %s", prot,
              hm_window_strerror(err));
    }
    CHECK(hm_window_get(w, 1, NULL, NULL) == 0, "refused maps left slot 1 clear");
    hm_window_unmap(w, 0);
    hm_window_close(w, 0);
}

/* ---------------------------------------------------------------------------------------
 * System calls: one known sequence, each policy's count after every step.
 * ------------------------------------------------------------------------------------- */
enum { MAP, UNMAP, FLUSH };
static const struct step {
    int op;
    uint32_t slot;
    uint64_t page; /* FLUSH: the count of slots */
    int sc[NPOL];  /* map + unmap system calls of the step: eager, coalesced, lazy */
} seq[] = {
    {MAP, 0, 0, {1, 1, 1}},   {MAP, 1, 1, {1, 1, 1}}, {MAP, 2, 2, {1, 1, 1}},
    {MAP, 3, 3, {1, 1, 1}},   {MAP, 4, 4, {1, 1, 1}}, {MAP, 5, 5, {1, 1, 1}},
    {UNMAP, 0, 0, {1, 0, 0}}, {UNMAP, 1, 0, {1, 0, 0}}, {UNMAP, 2, 0, {1, 0, 0}},
    {UNMAP, 4, 0, {1, 0, 0}}, {UNMAP, 5, 0, {1, 0, 0}},
    {FLUSH, 0, 8, {0, 2, 0}},   /* coalesced: runs 0-2 and 4-5 (slot 3 is mapped) */
    {MAP, 1, 1, {1, 1, 0}},     /* lazy: page 1 is still there, no call */
    {MAP, 4, 9, {1, 1, 1}},     /* another page: one call whatever the policy */
    {UNMAP, 1, 0, {1, 0, 0}}, {UNMAP, 3, 0, {1, 0, 0}},
    {MAP, 3, 3, {1, 0, 0}},     /* cleared, not flushed, same page: coalesced reuses it too */
    {UNMAP, 3, 0, {1, 0, 0}},
    {FLUSH, 0, 8, {0, 2, 0}},   /* coalesced: 1 and 3 (2 was torn down already) */
    {FLUSH, 0, 8, {0, 0, 0}},   /* nothing left */
    {UNMAP, 4, 0, {1, 0, 0}},
    {UNMAP, 4, 0, {0, 0, 0}},   /* already clear: nothing */
    {FLUSH, 4, 1, {0, 1, 0}},
};
#define NSTEPS (sizeof seq / sizeof seq[0])

static void syscall_counts(void)
{
    static const uint64_t total[NPOL] = {18, 13, 7}, reuses[NPOL] = {0, 1, 2};
    for (int pol = 0; pol < NPOL; pol++) {
        struct hm_window *w = open_memfd_window(pol, 0, 8, 32);
        struct hm_window_stats s0, a, b;
        int err = 0;
        if (!w)
            continue;
        stats(w, &s0);
        CHECK(s0.syscalls == s0.setup_syscalls && s0.setup_syscalls == 3 && s0.failed_syscalls == 0,
              "open of a memfd window: memfd_create, ftruncate, mmap (got %llu)",
              (unsigned long long)s0.setup_syscalls);
        for (size_t i = 0; i < NSTEPS; i++) {
            const struct step *st = &seq[i];
            stats(w, &a);
            if (st->op == MAP)
                err = hm_window_map(w, st->slot, st->page, RW);
            else if (st->op == UNMAP)
                err = hm_window_unmap(w, st->slot);
            else
                err = hm_window_flush(w, st->slot, (uint32_t)st->page);
            stats(w, &b);
            CHECK(err == 0 && b.syscalls - a.syscalls == (uint64_t)st->sc[pol] &&
                  b.map_syscalls + b.unmap_syscalls - a.map_syscalls - a.unmap_syscalls ==
                      (uint64_t)st->sc[pol],
                  "%s, step %zu: %llu system calls, expected %d", hm_window_policy_name(pol), i,
                  (unsigned long long)(b.syscalls - a.syscalls), st->sc[pol]);
        }
        stats(w, &b);
        CHECK(b.syscalls - s0.syscalls == total[pol] && b.map_reuses == reuses[pol] &&
                  b.maps == 9 && b.unmaps == 9 && b.flushes == 4 && b.mapped == 0 &&
                  b.failed_syscalls == 0,
              "%s: %llu calls, %llu reuses, %llu maps, %llu unmaps, %llu flushes, %llu mapped",
              hm_window_policy_name(pol), (unsigned long long)(b.syscalls - s0.syscalls),
              (unsigned long long)b.map_reuses, (unsigned long long)b.maps,
              (unsigned long long)b.unmaps, (unsigned long long)b.flushes,
              (unsigned long long)b.mapped);
        CHECK(hm_window_close(w, 0) == HM_WINDOW_OK, "close");
    }
}

/* ---------------------------------------------------------------------------------------
 * Named errors.
 * ------------------------------------------------------------------------------------- */
static void bad_config(void)
{
    struct hm_window_config ok = {.fd = -1, .mem_size = 8 * ps, .slots = 4};
    struct hm_window_config c;
    struct hm_window *w = NULL;

    CHECK(hm_window_open(NULL, &w) == HM_WINDOW_EINVAL && !w, "NULL config");
    CHECK(hm_window_open(&ok, NULL) == HM_WINDOW_EINVAL, "NULL out");
#define BAD(field, value)                                                                  \
    c = ok, c.field = value;                                                               \
    EXPECT_OPEN_FAILS(&c, HM_WINDOW_EINVAL, EINVAL)
    BAD(slots, 0);
    BAD(policy, 3);
    BAD(policy, -1);
    BAD(mem_size, 0);          /* a memfd needs a size */
    BAD(mem_size, ps + 1);     /* not a page multiple */
    BAD(offset, ps);           /* no offset into the window's own memfd */
    BAD(fd, -2);
    BAD(mem_size, UINT64_MAX - ps + 1);
#undef BAD
    c = ok, c.fd = make_memfd(4), c.offset = 1;
    EXPECT_OPEN_FAILS(&c, HM_WINDOW_EINVAL, EINVAL);
    close(c.fd);
}

static void fd_too_small(void)
{
    struct hm_window_config c = {.fd = make_memfd(3), .mem_size = 4 * ps, .slots = 2};
    struct hm_window *w = NULL;
    EXPECT_OPEN_FAILS(&c, HM_WINDOW_ETOOSMALL, EOVERFLOW); /* 4 pages of a 3-page file */
    c.mem_size = 2 * ps, c.offset = 2 * ps;
    EXPECT_OPEN_FAILS(&c, HM_WINDOW_ETOOSMALL, EOVERFLOW); /* pages 2-3 of it */
    c.mem_size = 0, c.offset = 3 * ps;
    EXPECT_OPEN_FAILS(&c, HM_WINDOW_ETOOSMALL, EOVERFLOW); /* the rest of it: nothing */
    c.mem_size = 3 * ps, c.offset = 0;
    CHECK(hm_window_open(&c, &w) == HM_WINDOW_OK, "exactly its size");
    hm_window_close(w, 0);
    close(c.fd);
}

/* Reopen fd through /proc with other flags. */
static int reopen(int fd, int flags)
{
    char path[64];
    int r;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    r = open(path, flags | O_CLOEXEC);
    CHECK(r >= 0, "reopen %s: %s", path, strerror(errno));
    return r;
}

static void fd_unreadable(void)
{
    int fd = make_memfd(4);
    struct hm_window_config c = {.fd = reopen(fd, O_WRONLY), .mem_size = 4 * ps, .slots = 2};
    EXPECT_OPEN_FAILS(&c, HM_WINDOW_EACCES, EACCES);
    close(c.fd);
    c.fd = reopen(fd, O_PATH);
    EXPECT_OPEN_FAILS(&c, HM_WINDOW_EACCES, EACCES);
    close(c.fd);
    close(fd);
}

static void fd_bad(void)
{
    int p[2];
    struct hm_window_config c = {.fd = make_memfd(4), .mem_size = 4 * ps, .slots = 2};
    close(c.fd); /* a closed number */
    EXPECT_OPEN_FAILS(&c, HM_WINDOW_EBADF, EBADF);
    CHECK(pipe(p) == 0, "pipe");
    c.fd = p[0]; /* open and readable, but nothing to map */
    EXPECT_OPEN_FAILS(&c, HM_WINDOW_EBADF, ENODEV);
    close(p[0]);
    close(p[1]);
}

/* A read-only fd: read mappings work, a write mapping is refused (and the slot left alone). */
static void fd_read_only(void)
{
    int fd = make_memfd(4);
    struct hm_window_config c = {.fd = reopen(fd, O_RDONLY), .mem_size = 4 * ps, .slots = 2,
                                 .policy = HM_WINDOW_EAGER, .strict = 1};
    struct hm_window *w = NULL;
    CHECK(hm_window_open(&c, &w) == HM_WINDOW_OK, "open read-only: %s", strerror(errno));
    if (w) {
        CHECK(hm_window_map(w, 0, 2, HM_WINDOW_READ) == 0 && mismatch(slot_ptr(w, 0), 2, 0) < 0,
              "read mapping of page 2");
        errno = 0;
        CHECK(hm_window_map(w, 0, 3, RW) == HM_WINDOW_EACCES && errno == EACCES, "write mapping");
        CHECK(mismatch(slot_ptr(w, 0), 2, 0) < 0, "slot 0 still shows page 2");
        hm_window_unmap(w, 0);
        CHECK(hm_window_close(w, 0) == 0, "close");
    }
    close(c.fd);
    close(fd);
}

/* In a child: RLIMIT_AS 64 MiB above what is in use, a window of 1 GiB cannot be reserved;
 * one of 16 pages still can. */
static void reserve_child(void *arg)
{
    struct hm_window_config c = {.fd = -1, .mem_size = 16 * ps, .slots = (uint32_t)((1u << 30) / ps)};
    struct rlimit rl;
    struct hm_window *w = NULL;
    uint64_t in_use = hc_vm_size();
    (void)arg;
    CHECK(in_use > 0, "statm");
    rl.rlim_cur = rl.rlim_max = in_use + (64u << 20);
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit: %s", strerror(errno));
    EXPECT_OPEN_FAILS(&c, HM_WINDOW_ERESERVE, ENOMEM);
    c.slots = 16;
    CHECK(hm_window_open(&c, &w) == HM_WINDOW_OK, "a small window: %s", strerror(errno));
    hm_window_close(w, 0);
}

static void reserve_fails(void)
{
    hc_in_child(reserve_child, NULL);
}

/* Whether two snapshots of the counters agree but for failed_syscalls (what a failed call
 * may change). */
static int same_but_failures(const struct hm_window_stats *a, const struct hm_window_stats *b)
{
    struct hm_window_stats x = *a, y = *b;
    x.failed_syscalls = y.failed_syscalls = 0;
    return memcmp(&x, &y, sizeof x) == 0;
}

/* In a child: at the map count limit, a map that splits a mapping in three fails with EMAP
 * (slot, page and counters as they were), an eager unmap and a coalesced flush likewise with
 * EUNMAP (the slot cleared, torn down later); once the limit is lifted every call works again. */
static void limit_child(void *arg)
{
    struct hm_window *w = open_memfd_window(HM_WINDOW_EAGER, 1, 64, 32);
    struct hm_window *c = open_memfd_window(HM_WINDOW_COALESCED, 1, 8, 8);
    struct hm_window_stats a, b;
    uint64_t page = 0;
    size_t len = 0;
    void *region;
    (void)arg;
    if (!w || !c)
        return;
    /* Slots 29-31 map pages 4-6: one mapping the kernel merged, so any change to slot 30
     * splits it in three. */
    CHECK(hm_window_map(w, 29, 4, RW) == 0 && hm_window_map(w, 30, 5, RW) == 0 &&
          hm_window_map(w, 31, 6, RW) == 0, "map 29-31");
    CHECK(hm_window_map(c, 1, 1, RW) == 0 && hm_window_map(c, 2, 2, RW) == 0 &&
          hm_window_map(c, 3, 3, RW) == 0 && hm_window_unmap(c, 2) == 0,
          "coalesced: 1-3 mapped (merged), 2 cleared");
    slot_ptr(w, 30)[0] = 55;
    stats(w, &a);
    if (!(region = hc_exhaust_map_count(&len))) {
        CHECK(0, "could not reach vm.max_map_count");
        return;
    }
    errno = 0;
    CHECK(hm_window_map(w, 20, 2, RW) == HM_WINDOW_EMAP && errno == ENOMEM,
          "a map at the limit: EMAP / ENOMEM (errno %d)", errno);
    CHECK(hm_window_get(w, 20, NULL, NULL) == 0, "slot 20 still clear");
    CHECK(hm_window_map(w, 30, 7, RW) == HM_WINDOW_EMAP, "a remap at the limit: EMAP");
    CHECK(hm_window_get(w, 30, &page, NULL) == 1 && page == 5 && slot_ptr(w, 30)[0] == 55 &&
              slot_ptr(w, 30)[1] == pat(5, 1, 0),
          "slot 30 still maps page 5 (page %llu)", (unsigned long long)page);
    stats(w, &b);
    CHECK(same_but_failures(&a, &b) && b.failed_syscalls == a.failed_syscalls + 2,
          "counters unchanged, 2 failed calls counted");
    CHECK(hm_window_unmap(w, 30) == HM_WINDOW_EUNMAP && errno == ENOMEM, "eager unmap: EUNMAP");
    CHECK(hm_window_get(w, 30, NULL, NULL) == 0 && slot_ptr(w, 30)[1] == pat(5, 1, 0),
          "slot 30 cleared, its page still reachable");
    CHECK(hm_window_flush(c, 0, 8) == HM_WINDOW_EUNMAP, "coalesced flush: EUNMAP");
    /* Lift the limit by merging the region back into one mapping (no new mapping needed, so
     * TSan's munmap interceptor, which maps shadow memory, is not run at the limit). */
    CHECK(mprotect(region, len, PROT_READ) == 0, "merge the region: %s", strerror(errno));
    munmap(region, len);
    CHECK(hm_window_map(w, 20, 2, RW) == 0 && slot_ptr(w, 20)[1] == pat(2, 1, 0),
          "limit lifted: map slot 20");
    stats(w, &a);
    CHECK(hm_window_flush(w, 0, 64) == 0, "eager flush retries slot 30");
    stats(w, &b);
    CHECK(b.unmap_syscalls == a.unmap_syscalls + 1 && hc_faults(slot_ptr(w, 30), 0) == 1 &&
              hc_faults(slot_ptr(w, 31), 0) == 0,
          "slot 30 torn down by the flush, 31 still there");
    CHECK(hm_window_map(w, 30, 7, RW) == 0 && slot_ptr(w, 30)[1] == pat(7, 1, 0),
          "limit lifted: map slot 30");
    CHECK(hm_window_flush(c, 0, 8) == 0 && hc_faults(slot_ptr(c, 2), 0) == 1 &&
              hc_faults(slot_ptr(c, 1), 0) == 0 && hc_faults(slot_ptr(c, 3), 0) == 0,
          "coalesced: slot 2 torn down by the retry, 1 and 3 still mapped");
    hm_window_close(w, HM_WINDOW_CLOSE_FORCE);
    hm_window_close(c, HM_WINDOW_CLOSE_FORCE);
}

static void map_fails_midway(void)
{
    hc_in_child(limit_child, NULL);
}

static void close_busy(void)
{
    struct hm_window *w = open_memfd_window(HM_WINDOW_COALESCED, 1, 4, 8);
    int fds = hc_open_fds();
    if (!w)
        return;
    CHECK(hm_window_close(NULL, 0) == HM_WINDOW_OK, "NULL");
    CHECK(hm_window_map(w, 0, 1, RW) == 0 && hm_window_map(w, 3, 2, RW) == 0, "map");
    errno = 0;
    CHECK(hm_window_close(w, 0) == HM_WINDOW_EBUSY && errno == EBUSY, "2 slots mapped: refused");
    CHECK(hm_window_close(w, 2) == HM_WINDOW_EINVAL, "unknown flag");
    CHECK(hm_window_get(w, 0, NULL, NULL) == 1 && mismatch(slot_ptr(w, 3), 2, 0) < 0,
          "the refused close released nothing");
    CHECK(hm_window_unmap(w, 0) == 0 && hm_window_close(w, 0) == HM_WINDOW_EBUSY, "1 left");
    CHECK(hm_window_unmap(w, 3) == 0 && hm_window_close(w, 0) == HM_WINDOW_OK,
          "cleared (not flushed): closed");
    CHECK(hc_open_fds() == fds - 1, "the memfd closed");
    if (!(w = open_memfd_window(HM_WINDOW_LAZY, 0, 4, 8)))
        return;
    CHECK(hm_window_map(w, 2, 1, RW) == 0, "map");
    CHECK(hm_window_close(w, HM_WINDOW_CLOSE_FORCE) == HM_WINDOW_EBUSY, "forced: reported");
    CHECK(hc_open_fds() == fds - 1, "forced: the memfd closed");
}

static void out_of_range(void)
{
    struct hm_window *w = open_memfd_window(HM_WINDOW_EAGER, 1, 4, 8);
    struct hm_window_stats a, b;
    int err;
    if (!w)
        return;
    stats(w, &a);
    errno = 0;
    err = hm_window_map(w, 0, 8, RW);
    CHECK(err == HM_WINDOW_ERANGE && errno == ERANGE, "page 8 of 8: %s", hm_window_strerror(err));
    CHECK(hm_window_map(w, 0, UINT64_MAX, RW) == HM_WINDOW_ERANGE, "page 2^64-1");
    CHECK(hm_window_map(w, 4, 0, RW) == HM_WINDOW_EINVAL, "slot 4 of 4");
    CHECK(hm_window_map(NULL, 0, 0, RW) == HM_WINDOW_EINVAL, "NULL");
    CHECK(hm_window_unmap(w, 4) == HM_WINDOW_EINVAL && hm_window_unmap(NULL, 0) == HM_WINDOW_EINVAL,
          "unmap slot 4, NULL");
    CHECK(hm_window_flush(w, 4, 1) == HM_WINDOW_EINVAL && hm_window_flush(NULL, 0, 1) ==
          HM_WINDOW_EINVAL, "flush from slot 4, NULL");
    stats(w, &b);
    CHECK(memcmp(&a, &b, sizeof a) == 0, "counters unchanged");
    CHECK(hm_window_get(w, 0, NULL, NULL) == 0 && hc_faults(slot_ptr(w, 0), 0) == 1,
          "slot 0 untouched");
    CHECK(hm_window_flush(w, 3, UINT32_MAX) == 0, "a flush count past the end is clipped");
    hm_window_close(w, 0);
}

static void names(void)
{
    static const char *const want[] = {"OK", "EINVAL", "EBADF", "EACCES", "ETOOSMALL",
                                       "EMEMFD", "ERESERVE", "ENOMEM", "ERANGE", "EPROT",
                                       "EMAP", "EUNMAP", "EBUSY"};
    for (int e = 0; e <= HM_WINDOW_EBUSY; e++)
        CHECK(strcmp(hm_window_strerror(e), want[e]) == 0, "%d: %s", e, hm_window_strerror(e));
    CHECK(strcmp(hm_window_strerror(-1), "EUNKNOWN") == 0 &&
          strcmp(hm_window_strerror(HM_WINDOW_EBUSY + 1), "EUNKNOWN") == 0, "EUNKNOWN");
    for (int p = 0; p < NPOL; p++)
        CHECK(hm_window_policy_find(hm_window_policy_name(p)) == p, "policy %d", p);
    CHECK(hm_window_policy_name(NPOL) == NULL && hm_window_policy_find("fast") == -1 &&
          hm_window_policy_find(NULL) == -1, "unknown policies");
}

int main(void)
{
    static const struct hc_case cases[] = {
        {"roundtrip", roundtrip},
        {"caller_fd", caller_fd},
        {"remap", remap},
        {"strict_eager", strict_eager},
        {"strict_coalesced", strict_coalesced},
        {"lazy_is_not_strict", lazy_is_not_strict},
        {"never_executable", never_executable},
        {"syscall_counts", syscall_counts},
        {"bad_config", bad_config},
        {"fd_too_small", fd_too_small},
        {"fd_unreadable", fd_unreadable},
        {"fd_bad", fd_bad},
        {"fd_read_only", fd_read_only},
        {"reserve_fails", reserve_fails},
        {"map_fails_midway", map_fails_midway},
        {"close_busy", close_busy},
        {"out_of_range", out_of_range},
        {"names", names},
    };
    ps = (size_t)sysconf(_SC_PAGESIZE);
    return hc_main(cases, sizeof cases / sizeof cases[0]);
}
