/* host_test.c - host/host.c: kmap, kunmap, kmap_atomic give pointers whose bytes are the fd's,
 * wrap and flush, strict mode faults, and every bad input and machine fault is a named error
 * that leaves the state unchanged. SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "host/host.h"
#include "tests/host/hostcheck.h"

static size_t ps;

/* A host and a context on it. */
struct rig {
    struct hm_host *h;
    struct hm_ctx *ctx;
    void *mem;
};

/* The page patterns of hostcheck.h, on this host's page size. */
#define pat hc_pat
#define fill(buf, p, salt) hc_fill(buf, ps, p, salt)
#define mismatch(buf, p, salt) hc_mismatch(buf, ps, p, salt)

static int rig_open(struct rig *r, const struct hm_host_config *hc)
{
    struct hm_config cfg;
    struct hm_machine m;
    size_t size;
    int err;
    memset(r, 0, sizeof *r);
    err = hm_host_open(hc, &r->h);
    CHECK(err == 0, "hm_host_open: %s (%s)", hm_window_strerror(err), strerror(errno));
    if (err)
        return -1;
    hm_host_config_of(r->h, &cfg);
    hm_host_machine(r->h, &m);
    size = hm_ctx_size(&cfg);
    r->mem = aligned_alloc(hm_ctx_align(), (size + hm_ctx_align() - 1) / hm_ctx_align() * hm_ctx_align());
    err = hm_ctx_init(r->mem, size, &cfg, &m, NULL, &r->ctx);
    CHECK(err == HM_OK, "hm_ctx_init: %s", hm_strerror(err));
    return err ? -1 : 0;
}

static void rig_close(struct rig *r)
{
    if (r->ctx)
        CHECK(hm_kmap_flush_unused(r->ctx) == HM_OK, "flush_unused");
    CHECK(hm_host_close(r->h, 0) == 0, "close: %s", strerror(errno));
    free(r->mem);
}

static void invariants(struct hm_ctx *ctx)
{
    char msg[200] = "";
    CHECK(hm_check_invariants(ctx, msg, sizeof msg) == 0, "invariants: %s", msg);
}

/* Through pointer p (page pfn): written bytes land in the fd, the fd's bytes show through p. */
static void roundtrip(struct rig *r, unsigned char *p, uint64_t pfn)
{
    unsigned char buf[65536];
    int fd = hm_host_fd(r->h);
    long bad;
    for (size_t i = 0; i < ps; i++)
        p[i] = pat(pfn, i, 1);
    CHECK(pread(fd, buf, ps, (off_t)(pfn * ps)) == (ssize_t)ps, "pread");
    CHECK((bad = mismatch(buf, pfn, 1)) < 0, "pfn %llu: written through the pointer, read "
          "through the fd: byte %ld", (unsigned long long)pfn, bad);
    fill(buf, pfn, 2);
    CHECK(pwrite(fd, buf, ps, (off_t)(pfn * ps)) == (ssize_t)ps, "pwrite");
    CHECK((bad = mismatch(p, pfn, 2)) < 0, "pfn %llu: written through the fd, read through "
          "the pointer: byte %ld", (unsigned long long)pfn, bad);
}

static const struct hm_host_config small = {.fd = -1, .mem_size = 0, .lowmem_pages = 4,
                                             .last_pkmap = 8, .nr_cpus = 2};

static struct hm_host_config cfg_pages(uint64_t pages)
{
    struct hm_host_config c = small;
    c.mem_size = pages * ps;
    return c;
}

static void data(void)
{
    struct hm_host_config c = cfg_pages(64);
    struct rig r;
    hm_vaddr_t v, v2;
    if (rig_open(&r, &c))
        return;
    const struct hm_layout *l = hm_ctx_layout(r.ctx);
    CHECK(l->max_pfn == 64 && l->highmem_start_pfn == 4 && l->page_size == ps && l->va_bits == 64,
          "layout");
    CHECK(l->pkmap_base == (hm_vaddr_t)(uintptr_t)hm_window_addr(hm_host_window(r.h), 0),
          "PKMAP_BASE is the window");
    /* lowmem: the direct address, no slot */
    CHECK(hm_kmap(r.ctx, 2, &v) == HM_OK && v == l->page_offset + 2 * ps, "lowmem kmap");
    roundtrip(&r, hm_host_ptr(v), 2);
    CHECK(hm_kunmap(r.ctx, 2) == HM_OK, "lowmem kunmap");
    /* highmem: a pkmap slot */
    for (hm_pfn_t pfn = 4; pfn < 64; pfn += 13) {
        CHECK(hm_kmap(r.ctx, pfn, &v) == HM_OK && v >= l->pkmap_base &&
                  v < l->pkmap_base + 8 * ps, "kmap %u", pfn);
        roundtrip(&r, hm_host_ptr(v), pfn);
        CHECK(hm_kmap(r.ctx, pfn, &v2) == HM_OK && v2 == v, "a second kmap: the same address");
        CHECK(hm_kunmap(r.ctx, pfn) == HM_OK && hm_kunmap(r.ctx, pfn) == HM_OK, "kunmap x2");
    }
    /* kmap_atomic on CPU 1: its slot, after the pkmaps; strict: faults once unmapped */
    CHECK(hm_kmap_atomic(r.ctx, 1, 40, HM_HOST_KM_USER1, &v) == HM_OK &&
              v == l->kmap_atomic_base + (HM_HOST_NR_KM_TYPES + 1) * ps, "kmap_atomic");
    roundtrip(&r, hm_host_ptr(v), 40);
    CHECK(hm_kmap_atomic(r.ctx, 1, 41, HM_HOST_KM_USER1, &v2) == HM_EBUSY, "slot busy");
    CHECK(hm_kunmap_atomic(r.ctx, 1, v, HM_HOST_KM_USER1) == HM_OK, "kunmap_atomic");
    CHECK(hc_faults(hm_host_ptr(v), 0) == 1, "the atomic slot faults after kunmap_atomic");
    CHECK(hm_kmap_atomic(r.ctx, 0, 1, HM_HOST_KM_USER0, &v) == HM_OK && v == l->page_offset + ps,
          "kmap_atomic of lowmem: its direct address");
    CHECK(hm_kunmap_atomic(r.ctx, 0, v, HM_HOST_KM_USER0) == HM_OK, "kunmap_atomic lowmem");
    invariants(r.ctx);
    rig_close(&r);
}

/* 8 slots, 20 pages: the scan wraps, flush_all_zero_pkmaps clears the count-1 slots and the
 * window's flush tears them down; a kunmapped-and-flushed slot faults (strict). */
static void wrap(void)
{
    struct hm_host_config c = cfg_pages(24);
    struct hm_host_stats a, b;
    struct hm_stats st;
    struct rig r;
    hm_vaddr_t v, first = 0;
    if (rig_open(&r, &c))
        return;
    hm_host_stats(r.h, &a);
    for (hm_pfn_t pfn = 4; pfn < 24; pfn++) {
        CHECK(hm_kmap(r.ctx, pfn, &v) == HM_OK, "kmap %u", pfn);
        if (pfn == 4)
            first = v;
        roundtrip(&r, hm_host_ptr(v), pfn);
        CHECK(hm_kunmap(r.ctx, pfn) == HM_OK, "kunmap %u", pfn);
    }
    hm_get_stats(r.ctx, &st);
    hm_host_stats(r.h, &b);
    CHECK(st.flushes >= 2 && st.slots_freed >= 8, "wrapped: %llu flushes",
          (unsigned long long)st.flushes);
    CHECK(b.window.unmap_syscalls > a.window.unmap_syscalls &&
              b.window.map_syscalls - a.window.map_syscalls == 20,
          "20 maps, coalesced tear-downs");
    CHECK(hm_kmap_flush_unused(r.ctx) == HM_OK, "flush_unused");
    CHECK(hc_faults(hm_host_ptr(first), 1) == 1, "a kunmapped, flushed slot faults");
    for (hm_pfn_t pfn = 4; pfn < 24; pfn += 5) { /* the bytes stayed in the memory */
        CHECK(hm_kmap(r.ctx, pfn, &v) == HM_OK && mismatch(hm_host_ptr(v), pfn, 2) < 0,
              "pfn %u kept its bytes", pfn);
        CHECK(hm_kunmap(r.ctx, pfn) == HM_OK, "kunmap");
    }
    invariants(r.ctx);
    rig_close(&r);
}

/* Open refuses bad input with named errors and leaves no descriptor open. */
static int open_err(const struct hm_host_config *c)
{
    struct hm_host *h = NULL;
    int fds = hc_open_fds(), err = hm_host_open(c, &h);
    CHECK((err == 0) == (h != NULL), "*out set on success only");
    if (h)
        hm_host_close(h, HM_HOST_CLOSE_FORCE);
    CHECK(hc_open_fds() == fds, "descriptors leaked");
    return err;
}

static void bad_open(void)
{
    struct hm_host_config c = cfg_pages(16);
    char path[] = "/tmp/host_testXXXXXX";
    int fd = mkstemp(path), wr, rd;
    CHECK(fd >= 0 && ftruncate(fd, (off_t)(8 * ps)) == 0, "temp file");
    unlink(path);
    c.fd = fd;
    CHECK(open_err(&c) == HM_WINDOW_ETOOSMALL, "16 pages of an 8-page fd: ETOOSMALL");
    c.offset = 4 * ps;
    c.mem_size = 8 * ps;
    CHECK(open_err(&c) == HM_WINDOW_ETOOSMALL, "offset + size past the end: ETOOSMALL");
    c.offset = 0;
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    wr = open(path, O_WRONLY | O_CLOEXEC);
    rd = open(path, O_RDONLY | O_CLOEXEC);
    c.fd = wr;
    CHECK(wr >= 0 && open_err(&c) == HM_WINDOW_EACCES, "write-only fd: EACCES");
    c.fd = rd;
    CHECK(rd >= 0 && open_err(&c) == HM_WINDOW_EACCES, "read-only fd: EACCES");
    c.fd = 999;
    CHECK(open_err(&c) == HM_WINDOW_EBADF, "closed fd: EBADF");
    c.fd = fd;
    CHECK(open_err(&c) == 0, "the whole fd");
    c.lowmem_pages = 8;
    CHECK(open_err(&c) == HM_WINDOW_EINVAL, "no highmem left: EINVAL");
    c = cfg_pages(16);
    c.last_pkmap = 12;
    CHECK(open_err(&c) == HM_WINDOW_EINVAL, "LAST_PKMAP 12: EINVAL");
    c.last_pkmap = 8;
    c.nr_cpus = HM_MAX_CPUS + 1;
    CHECK(open_err(&c) == HM_WINDOW_EINVAL, "too many CPUs: EINVAL");
    c = cfg_pages(16);
    c.lowmem_pages = 0;
    CHECK(open_err(&c) == 0, "no lowmem is fine");
    close(wr);
    close(rd);
    close(fd);
}

/* In a child: RLIMIT_AS 4 MiB above what is in use; a window of 16 MiB cannot be reserved. */
static void reserve_child(void *arg)
{
    struct hm_host_config c = cfg_pages(16);
    struct rlimit rl;
    (void)arg;
    c.last_pkmap = HM_MAX_PKMAP;
    c.lowmem_pages = 0;
    rl.rlim_cur = rl.rlim_max = hc_vm_size() + (4u << 20);
    CHECK(setrlimit(RLIMIT_AS, &rl) == 0, "setrlimit");
    CHECK(open_err(&c) == HM_WINDOW_ERESERVE, "ERESERVE");
}

static void reserve_fails(void)
{
    if (ps * (HM_MAX_PKMAP + 8) > (4u << 20))
        hc_in_child(reserve_child, NULL);
}

/* In a child at vm.max_map_count: kmap of a new page is refused (HM_EMACHINE), no slot is
 * consumed, the invariants hold; once the limit is lifted the same kmap works. Slots 1-7 map
 * pfns 10-16 (one merged mapping), slot 0 pfn 17; pfn 13 is kunmapped, so the kmap of pfn 20
 * wraps, frees slot 4 and maps it: a split of that mapping in three, which the limit refuses. */
static void limit_child(void *arg)
{
    struct hm_host_config c = cfg_pages(32);
    struct hm_stats s0, s1;
    struct rig r;
    hm_vaddr_t v = 0, pa = 1;
    size_t len = 0;
    void *region;
    (void)arg;
    if (rig_open(&r, &c))
        return;
    for (hm_pfn_t pfn = 10; pfn < 18; pfn++)
        CHECK(hm_kmap(r.ctx, pfn, &v) == HM_OK, "kmap %u", pfn);
    CHECK(hm_kunmap(r.ctx, 13) == HM_OK && hm_pkmap_count(r.ctx, 4) == 1, "slot 4 at count 1");
    hm_get_stats(r.ctx, &s0);
    if (!(region = hc_exhaust_map_count(&len))) {
        CHECK(0, "could not reach vm.max_map_count");
        return;
    }
    CHECK(hm_kmap(r.ctx, 20, &v) == HM_EMACHINE, "kmap at the limit: EMACHINE");
    hm_get_stats(r.ctx, &s1);
    CHECK(mprotect(region, len, PROT_READ) == 0, "lift the limit");
    munmap(region, len);
    CHECK(s1.machine_fails == s0.machine_fails + 1 && s1.kmap_calls == s0.kmap_calls, "counted");
    CHECK(hm_pkmap_count(r.ctx, 4) == 0, "slot 4 freed by the wrap's flush, not consumed");
    for (uint32_t s = 0; s < 8; s++)
        CHECK(s == 4 || hm_pkmap_count(r.ctx, s) == 2, "slot %u unchanged", s);
    CHECK(hm_page_address(r.ctx, 20, &pa) == HM_OK && pa == 0, "pfn 20 has no address");
    invariants(r.ctx);
    CHECK(hm_kmap(r.ctx, 20, &v) == HM_OK, "a later kmap works");
    roundtrip(&r, hm_host_ptr(v), 20);
    CHECK(hm_kunmap(r.ctx, 20) == HM_OK, "kunmap 20");
    for (hm_pfn_t pfn = 10; pfn < 18; pfn++)
        CHECK(pfn == 13 || hm_kunmap(r.ctx, pfn) == HM_OK, "kunmap %u", pfn);
    invariants(r.ctx);
    rig_close(&r);
}

static void mmap_fails(void)
{
    hc_in_child(limit_child, NULL);
}

/* Misuse: kunmap twice or of a never-mapped page (EINVAL), pfns past the memory (ERANGE),
 * state unchanged. */
static void misuse(void)
{
    struct hm_host_config c = cfg_pages(32);
    struct hm_host_stats a, b;
    struct rig r;
    hm_vaddr_t v;
    if (rig_open(&r, &c))
        return;
    CHECK(hm_kmap(r.ctx, 9, &v) == HM_OK && hm_kunmap(r.ctx, 9) == HM_OK, "kmap, kunmap");
    hm_host_stats(r.h, &a);
    CHECK(hm_kunmap(r.ctx, 9) == HM_EINVAL, "kunmap twice: EINVAL");
    CHECK(hm_kunmap(r.ctx, 20) == HM_EINVAL, "kunmap of a never-mapped page: EINVAL");
    CHECK(hm_kmap(r.ctx, 32, &v) == HM_ERANGE, "kmap past the memory: ERANGE");
    CHECK(hm_kmap_atomic(r.ctx, 0, 1000, 0, &v) == HM_ERANGE, "kmap_atomic past it: ERANGE");
    CHECK(hm_kunmap_atomic(r.ctx, 0, v, 0) == HM_EINVAL, "kunmap_atomic unbalanced: EINVAL");
    hm_host_stats(r.h, &b);
    CHECK(memcmp(&a, &b, sizeof a) == 0, "no system call, nothing changed");
    CHECK(hm_page_address(r.ctx, 9, &v) == HM_OK && v != 0, "pfn 9 still cached");
    invariants(r.ctx);
    rig_close(&r);
}

/* Close refuses while pages are mapped; the host stays usable; forced, it releases all. */
static void busy_close(void)
{
    struct hm_host_config c = cfg_pages(16);
    struct rig r;
    hm_vaddr_t v;
    int fds = hc_open_fds();
    if (rig_open(&r, &c))
        return;
    CHECK(hm_kmap(r.ctx, 5, &v) == HM_OK, "kmap");
    CHECK(hm_host_close(r.h, 0) == HM_WINDOW_EBUSY && errno == EBUSY, "close: EBUSY");
    roundtrip(&r, hm_host_ptr(v), 5);
    CHECK(hm_kunmap(r.ctx, 5) == HM_OK, "kunmap");
    CHECK(hm_host_close(r.h, 0) == HM_WINDOW_EBUSY, "a count-1 slot is still mapped: EBUSY");
    CHECK(hm_host_close(r.h, 7) == HM_WINDOW_EINVAL, "unknown flag");
    CHECK(hm_host_close(r.h, HM_HOST_CLOSE_FORCE) == HM_WINDOW_EBUSY, "forced: EBUSY reported");
    CHECK(hc_open_fds() == fds, "everything released");
    free(r.mem);
}

int main(void)
{
    static const struct hc_case cases[] = {
        {"data", data},           {"wrap", wrap},         {"bad_open", bad_open},
        {"reserve_fails", reserve_fails}, {"mmap_fails", mmap_fails}, {"misuse", misuse},
        {"busy_close", busy_close},
    };
    ps = (size_t)sysconf(_SC_PAGESIZE);
    return hc_main(cases, sizeof cases / sizeof cases[0]);
}
