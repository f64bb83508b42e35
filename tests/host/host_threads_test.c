/* host_threads_test.c - host/host.c under threads: 4 threads kmap, write, read back, kunmap their
 * own pages through 2 pkmap slots with the blocking hm_kmap (kmaps sleep and are woken); every
 * byte then checked through the fd. SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host.h"
#include "tests/host/hostcheck.h"

#define NTHREADS 4
#define PAGES_EACH 6
#define ROUNDS 3000

static struct hm_ctx *ctx;
static size_t ps;

static unsigned char val(uint64_t pfn, unsigned round)
{
    return (unsigned char)(pfn * 37u + round);
}

static void *worker(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    for (unsigned round = 0; round < ROUNDS; round++) {
        hm_pfn_t pfn = (hm_pfn_t)(t * PAGES_EACH + round % PAGES_EACH);
        hm_vaddr_t v;
        unsigned char *p;
        int err = hm_kmap(ctx, pfn, &v);
        CHECK(err == HM_OK, "thread %u kmap %u: %s", t, pfn, hm_strerror(err));
        if (err)
            return NULL;
        p = hm_host_ptr(v);
        memset(p, val(pfn, round), ps);
        CHECK(p[0] == val(pfn, round) && p[ps - 1] == val(pfn, round), "read back");
        CHECK(hm_kunmap(ctx, pfn) == HM_OK, "kunmap");
    }
    return NULL;
}

static void threads(void)
{
    struct hm_host_config c = {.fd = -1, .mem_size = NTHREADS * PAGES_EACH * 4096u * 16u,
                               .last_pkmap = 2, .nr_cpus = 1};
    struct hm_host *h;
    struct hm_host_stats st;
    struct hm_config cfg;
    struct hm_machine m;
    pthread_t th[NTHREADS];
    unsigned char *buf = malloc(ps);
    void *mem;
    size_t size;
    char msg[200] = "";

    CHECK(hm_host_open(&c, &h) == 0, "open");
    hm_host_config_of(h, &cfg);
    hm_host_machine(h, &m);
    size = hm_ctx_size(&cfg);
    mem = aligned_alloc(hm_ctx_align(), (size + hm_ctx_align() - 1) / hm_ctx_align() * hm_ctx_align());
    CHECK(hm_ctx_init(mem, size, &cfg, &m, NULL, &ctx) == HM_OK, "ctx");
    for (unsigned t = 0; t < NTHREADS; t++)
        pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t);
    for (unsigned t = 0; t < NTHREADS; t++)
        pthread_join(th[t], NULL);
    for (hm_pfn_t pfn = 0; pfn < NTHREADS * PAGES_EACH; pfn++) {
        unsigned i = pfn % PAGES_EACH, last = (ROUNDS - 1 - i) / PAGES_EACH * PAGES_EACH + i;
        CHECK(pread(hm_host_fd(h), buf, ps, (off_t)(pfn * ps)) == (ssize_t)ps &&
                  buf[0] == val(pfn, last) && buf[ps / 2] == val(pfn, last),
              "pfn %u holds its last round's bytes", pfn);
    }
    CHECK(hm_check_invariants(ctx, msg, sizeof msg) == 0, "invariants: %s", msg);
    hm_host_stats(h, &st);
    CHECK(st.sleeps > 0 && st.wakeups > 0, "kmaps slept (%llu) and were woken (%llu)",
          (unsigned long long)st.sleeps, (unsigned long long)st.wakeups);
    CHECK(hm_kmap_flush_unused(ctx) == HM_OK && hm_host_close(h, 0) == 0, "close");
    free(mem);
    free(buf);
}

int main(void)
{
    static const struct hc_case cases[] = {{"four_threads_two_slots", threads}};
    ps = (size_t)sysconf(_SC_PAGESIZE);
    return hc_main(cases, sizeof cases / sizeof cases[0]);
}
