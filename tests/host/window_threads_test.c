/* window_threads_test.c - host/window.c under threads (meant for --config=tsan too): threads
 * map, write, read back, unmap and flush disjoint slot ranges of one window at once while
 * another reads the counters; every policy. SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "host/window.h"
#include "tests/host/hostcheck.h"

#define RW (HM_WINDOW_READ | HM_WINDOW_WRITE)
#define THREADS 4
#define SLOTS_PER 16  /* slots a thread owns */
#define PAGES_PER 64  /* pages a thread owns (it alone writes them) */
#define ITERS 3000

struct worker {
    struct hm_window *w;
    unsigned t;
    uint64_t maps, unmaps; /* calls that succeeded and changed a mapped slot */
};

static atomic_int g_running;

/* The first word of page p: its number; the second: the last value written through a slot. */
static void *work(void *arg)
{
    struct worker *k = arg;
    size_t ps = hm_window_page_size(k->w);
    uint32_t first = k->t * SLOTS_PER;
    uint64_t x = 0x9e3779b97f4a7c15ull * (k->t + 1), word[2];
    int fd = hm_window_fd(k->w);

    for (unsigned i = 0; i < ITERS; i++) {
        uint32_t slot = first + (uint32_t)((x >> 20) % SLOTS_PER);
        uint64_t page = k->t * PAGES_PER + (x >> 40) % PAGES_PER;
        uint64_t *p = hm_window_addr(k->w, slot);
        int was = hm_window_get(k->w, slot, NULL, NULL);
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        if (hm_window_map(k->w, slot, page, RW) != HM_WINDOW_OK) {
            CHECK(0, "thread %u: map slot %u page %llu: %s", k->t, slot,
                  (unsigned long long)page, strerror(errno));
            break;
        }
        k->maps += !was;
        CHECK(p[0] == page, "thread %u: slot %u shows page %llu, not %llu", k->t, slot,
              (unsigned long long)p[0], (unsigned long long)page);
        p[1] = i;
        CHECK(pread(fd, word, sizeof word, (off_t)(page * ps)) == (ssize_t)sizeof word &&
                  word[1] == i,
              "thread %u: page %llu through the fd: %llu, not %u", k->t, (unsigned long long)page,
              (unsigned long long)word[1], i);
        if (x & 1) {
            CHECK(hm_window_unmap(k->w, slot) == HM_WINDOW_OK, "unmap");
            k->unmaps++;
        }
        if (i % 8 == 7)
            CHECK(hm_window_flush(k->w, first, SLOTS_PER) == HM_WINDOW_OK, "flush");
    }
    for (uint32_t s = first; s < first + SLOTS_PER; s++) {
        k->unmaps += hm_window_get(k->w, s, NULL, NULL);
        hm_window_unmap(k->w, s);
    }
    CHECK(hm_window_flush(k->w, first, SLOTS_PER) == HM_WINDOW_OK, "last flush");
    return NULL;
}

/* Reads the counters while the workers run: each only grows, and they add up. */
static void *watch(void *arg)
{
    struct hm_window *w = arg;
    struct hm_window_stats a, b;
    hm_window_stats(w, &a);
    while (atomic_load(&g_running)) {
        hm_window_stats(w, &b);
        CHECK(b.syscalls >= a.syscalls && b.maps >= a.maps && b.unmaps >= a.unmaps &&
                  b.flushes >= a.flushes && b.mapped <= THREADS * SLOTS_PER &&
                  b.syscalls == b.setup_syscalls + b.map_syscalls + b.unmap_syscalls,
              "counters went back or do not add up");
        a = b;
    }
    return NULL;
}

static void run_policy(int policy)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    struct hm_window_config cfg = {.fd = -1, .mem_size = (uint64_t)THREADS * PAGES_PER * ps,
                                   .slots = THREADS * SLOTS_PER, .policy = policy,
                                   .strict = policy != HM_WINDOW_LAZY};
    struct worker k[THREADS];
    struct hm_window *w = NULL;
    struct hm_window_stats st;
    pthread_t tid[THREADS], wt;
    uint64_t maps = 0, unmaps = 0;

    if (hm_window_open(&cfg, &w) != HM_WINDOW_OK) {
        CHECK(0, "open: %s", strerror(errno));
        return;
    }
    for (uint64_t p = 0; p < THREADS * PAGES_PER; p++)
        CHECK(pwrite(hm_window_fd(w), &p, sizeof p, (off_t)(p * ps)) == sizeof p, "pwrite");
    atomic_store(&g_running, 1);
    CHECK(pthread_create(&wt, NULL, watch, w) == 0, "watcher");
    for (unsigned t = 0; t < THREADS; t++) {
        k[t] = (struct worker){.w = w, .t = t};
        CHECK(pthread_create(&tid[t], NULL, work, &k[t]) == 0, "thread %u", t);
    }
    for (unsigned t = 0; t < THREADS; t++) {
        pthread_join(tid[t], NULL);
        maps += k[t].maps;
        unmaps += k[t].unmaps;
    }
    atomic_store(&g_running, 0);
    pthread_join(wt, NULL);
    hm_window_stats(w, &st);
    CHECK(st.maps == THREADS * ITERS && st.unmaps == unmaps && st.mapped == 0 &&
              st.failed_syscalls == 0 && maps == unmaps,
          "%s: %llu maps, %llu unmaps (want %llu), %llu mapped, %llu failed",
          hm_window_policy_name(policy), (unsigned long long)st.maps,
          (unsigned long long)st.unmaps, (unsigned long long)unmaps,
          (unsigned long long)st.mapped, (unsigned long long)st.failed_syscalls);
    CHECK(st.flushes == THREADS * (ITERS / 8 + 1), "%llu flushes", (unsigned long long)st.flushes);
    /* Single-threaded again: strict windows fault on every slot, a lazy one may not. */
    for (uint32_t s = 0; policy != HM_WINDOW_LAZY && s < THREADS * SLOTS_PER; s += 7)
        CHECK(hc_faults(hm_window_addr(w, s), 0) == 1, "%s: slot %u still reachable",
              hm_window_policy_name(policy), s);
    CHECK(hm_window_close(w, 0) == HM_WINDOW_OK, "close");
}

static void eager(void) { run_policy(HM_WINDOW_EAGER); }
static void coalesced(void) { run_policy(HM_WINDOW_COALESCED); }
static void lazy(void) { run_policy(HM_WINDOW_LAZY); }

int main(void)
{
    static const struct hc_case cases[] = {
        {"disjoint_ranges_eager", eager},
        {"disjoint_ranges_coalesced", coalesced},
        {"disjoint_ranges_lazy", lazy},
    };
    return hc_main(cases, sizeof cases / sizeof cases[0]);
}
