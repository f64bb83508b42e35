/* host_window.c - libhighmem on real memory: 8 threads kmap, write, read back and kunmap their
 * own pages of a 64 GiB sparse memfd through a 1024-slot window (a few MiB of address space).
 * Usage: host_window [ops per thread]. SPDX-License-Identifier: MIT */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"

#define THREADS 8
#define PAGES_EACH 512 /* each thread's pages, spread over the whole memory */

static struct hm_host *host;
static struct hm_ctx *ctx;
static long ops = 20000;
static uint64_t stride, page_size;
static uint64_t checked[THREADS], errors[THREADS];

static void *worker(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    unsigned char last[PAGES_EACH] = {0}; /* what each page holds: 0 = a fresh, zero page */
    for (long op = 0; op < ops; op++) {
        unsigned i = (unsigned)(op * 37 % PAGES_EACH), v = (unsigned)(op % 255) + 1;
        hm_pfn_t pfn = (hm_pfn_t)(((uint64_t)i * THREADS + t) * stride);
        hm_vaddr_t addr;
        if (hm_kmap(ctx, pfn, &addr) != HM_OK) {
            errors[t]++;
            continue;
        }
        unsigned char *p = hm_host_ptr(addr);
        for (uint64_t b = 0; b < page_size; b++) /* read back what this thread wrote before */
            errors[t] += p[b] != last[i];
        memset(p, (int)v, page_size);
        last[i] = (unsigned char)v;
        checked[t] += page_size;
        errors[t] += hm_kunmap(ctx, pfn) != HM_OK;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct hm_host_config hc = {.fd = -1, .mem_size = 64ull << 30, .last_pkmap = 1024, .nr_cpus = 1};
    struct hm_host_stats st;
    struct hm_config cfg;
    struct hm_machine m;
    pthread_t th[THREADS];
    uint64_t bytes = 0, errs = 0;
    if (argc > 1)
        ops = atol(argv[1]);
    if (hm_host_open(&hc, &host) != 0) {
        perror("hm_host_open");
        return 1;
    }
    hm_host_config_of(host, &cfg);
    hm_host_machine(host, &m);
    size_t size = hm_ctx_size(&cfg), align = hm_ctx_align();
    void *mem = aligned_alloc(align, (size + align - 1) / align * align);
    if (!mem || hm_ctx_init(mem, size, &cfg, &m, NULL, &ctx) != HM_OK) {
        fprintf(stderr, "hm_ctx_init failed\n");
        return 1;
    }
    page_size = hm_host_page_size(host);
    stride = hm_host_pages(host) / ((uint64_t)PAGES_EACH * THREADS);
    for (unsigned t = 0; t < THREADS; t++)
        pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t);
    for (unsigned t = 0; t < THREADS; t++) {
        pthread_join(th[t], NULL);
        bytes += checked[t];
        errs += errors[t];
    }
    hm_kmap_flush_unused(ctx);
    hm_host_stats(host, &st);
    printf("host_window: %d threads, %llu GiB memory, %u-slot window: %llu kmaps, %llu bytes "
           "checked, %llu sleeps, %llu system calls, %llu errors\n", THREADS,
           (unsigned long long)(hc.mem_size >> 30), hc.last_pkmap, (unsigned long long)ops * THREADS,
           (unsigned long long)bytes, (unsigned long long)st.sleeps,
           (unsigned long long)st.window.syscalls, (unsigned long long)errs);
    errs += hm_host_close(host, 0) != 0;
    free(mem);
    return errs != 0;
}
