/* plain_kmap.c - the baseline of bench/kmap_paths (plain_kmap.h): 2.6.24's pkmap written
 * straight, every kmap and kunmap under one mutex. SPDX-License-Identifier: MIT */
#include "plain_kmap.h"

#include <stdlib.h>
#include <string.h>

#define NIL (-1)

int plain_kmap_init(struct plain_kmap *p, const struct hm_layout *l, hm_pte_t prot,
                    void (*flush)(void *m, hm_vaddr_t start, hm_vaddr_t end), void *m)
{
    memset(p, 0, sizeof *p);
    p->last_pkmap = l->last_pkmap;
    p->page_shift = l->page_shift;
    p->mem_map = (uint32_t)l->mem_map;
    p->struct_page_size = l->struct_page_size;
    p->highmem_start = l->highmem_start_pfn;
    p->pkmap_base = l->pkmap_base;
    p->page_offset = l->page_offset;
    p->prot = prot;
    p->flush_tlb_range = flush;
    p->m = m;
    p->count = calloc(p->last_pkmap, sizeof *p->count);
    p->pte = calloc(p->last_pkmap, sizeof *p->pte);
    p->rec = calloc(p->last_pkmap, sizeof *p->rec);
    if (!p->count || !p->pte || !p->rec) {
        plain_kmap_destroy(p);
        return -1;
    }
    /* the pool in the order the library's init leaves it (the last record first); the order
     * only decides which record holds which page, never an address */
    p->pool.head = p->pool.tail = NIL;
    for (uint32_t i = 0; i < p->last_pkmap; i++) {
        p->rec[i].next = p->pool.head;
        p->pool.head = (int32_t)i;
        if (p->pool.tail == NIL)
            p->pool.tail = (int32_t)i;
    }
    for (uint32_t b = 0; b < HM_PA_HASH_SIZE; b++)
        p->bucket[b].head = p->bucket[b].tail = NIL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wait, NULL);
    return 0;
}

void plain_kmap_destroy(struct plain_kmap *p)
{
    if (p->count && p->pte && p->rec) {
        pthread_cond_destroy(&p->wait);
        pthread_mutex_destroy(&p->lock);
    }
    free(p->count);
    free(p->pte);
    free(p->rec);
    p->count = NULL, p->pte = NULL, p->rec = NULL;
}

uint32_t plain_kmap_bucket(const struct plain_kmap *p, hm_pfn_t pfn)
{
    uint32_t page = p->mem_map + pfn * p->struct_page_size; /* modulo 2^32, a 32-bit pointer */
    return (page * 0x9e370001u) >> (32 - HM_PA_HASH_ORDER);
}

static void append(struct plain_kmap *p, struct plain_list *list, int32_t r)
{
    p->rec[r].next = NIL;
    if (list->tail == NIL)
        list->head = r;
    else
        p->rec[list->tail].next = r;
    list->tail = r;
}

/* page_address of a highmem page: 0 when it has no slot. */
static hm_vaddr_t lookup(const struct plain_kmap *p, hm_pfn_t pfn)
{
    for (int32_t r = p->bucket[plain_kmap_bucket(p, pfn)].head; r != NIL; r = p->rec[r].next)
        if (p->rec[r].pfn == pfn)
            return p->rec[r].vaddr;
    return 0;
}

/* flush_all_zero_pkmaps: every slot mapped but unused (count 1) is cleared, its page unhashed
 * and its record returned to the pool's tail; then one TLB flush of the window. */
static void flush_all_zero(struct plain_kmap *p)
{
    for (uint32_t i = 0; i < p->last_pkmap; i++) {
        struct plain_list *b;
        hm_pfn_t pfn;
        int32_t r, prev = NIL;
        if (p->count[i] != 1)
            continue;
        p->count[i] = 0;
        pfn = (hm_pfn_t)(p->pte[i] >> p->page_shift);
        b = &p->bucket[plain_kmap_bucket(p, pfn)];
        for (r = b->head; p->rec[r].pfn != pfn; prev = r, r = p->rec[r].next)
            ;
        p->pte[(p->rec[r].vaddr - p->pkmap_base) >> p->page_shift] = 0;
        if (prev == NIL)
            b->head = p->rec[r].next;
        else
            p->rec[prev].next = p->rec[r].next;
        if (b->tail == r)
            b->tail = prev;
        append(p, &p->pool, r);
        p->freed++;
    }
    if (p->flush_tlb_range)
        p->flush_tlb_range(p->m, p->pkmap_base, p->pkmap_base + ((hm_vaddr_t)p->last_pkmap << p->page_shift));
    p->flushes++;
}

/* map_new_virtual: the next free slot after the cursor (a wrap flushes first); while none is
 * free, sleep and look again (another task may have mapped the page meanwhile). */
static hm_vaddr_t map_new(struct plain_kmap *p, hm_pfn_t pfn)
{
    uint32_t nr, budget;
    hm_vaddr_t v;
    int32_t r;
    for (;;) {
        budget = p->last_pkmap;
        for (;;) {
            nr = p->last_pkmap_nr = (p->last_pkmap_nr + 1) & (p->last_pkmap - 1);
            if (nr == 0) {
                flush_all_zero(p);
                budget = p->last_pkmap;
            }
            if (p->count[nr] == 0)
                goto found;
            if (--budget == 0)
                break;
        }
        p->waiters++;
        p->sleeps++;
        for (uint64_t gen = p->wake_gen; gen == p->wake_gen;)
            pthread_cond_wait(&p->wait, &p->lock);
        p->waiters--;
        if ((v = lookup(p, pfn)) != 0) {
            p->hits++;
            return v;
        }
    }
found:
    v = p->pkmap_base + ((hm_vaddr_t)nr << p->page_shift);
    p->pte[nr] = ((hm_pte_t)pfn << p->page_shift) | p->prot;
    p->count[nr] = 1;
    r = p->pool.head; /* never empty: a free slot means a free record */
    p->pool.head = p->rec[r].next;
    if (p->pool.head == NIL)
        p->pool.tail = NIL;
    p->rec[r].pfn = pfn;
    p->rec[r].vaddr = v;
    append(p, &p->bucket[plain_kmap_bucket(p, pfn)], r);
    p->news++;
    return v;
}

hm_vaddr_t plain_kmap(struct plain_kmap *p, hm_pfn_t pfn)
{
    hm_vaddr_t v;
    if (pfn < p->highmem_start)
        return p->page_offset + ((hm_vaddr_t)pfn << p->page_shift);
    pthread_mutex_lock(&p->lock);
    p->locks++;
    if ((v = lookup(p, pfn)) != 0)
        p->hits++;
    else
        v = map_new(p, pfn);
    p->count[(v - p->pkmap_base) >> p->page_shift]++;
    pthread_mutex_unlock(&p->lock);
    return v;
}

int plain_kunmap(struct plain_kmap *p, hm_pfn_t pfn)
{
    hm_vaddr_t v;
    int32_t *c;
    int wake;
    if (pfn < p->highmem_start)
        return 0;
    pthread_mutex_lock(&p->lock);
    p->locks++;
    v = lookup(p, pfn);
    c = v ? &p->count[(v - p->pkmap_base) >> p->page_shift] : NULL;
    if (!c || *c <= 1) {
        pthread_mutex_unlock(&p->lock);
        return -1;
    }
    wake = --*c == 1 && p->waiters;
    pthread_mutex_unlock(&p->lock);
    if (wake) {
        pthread_mutex_lock(&p->lock);
        p->locks++;
        p->wake_gen++;
        pthread_cond_broadcast(&p->wait);
        pthread_mutex_unlock(&p->lock);
    }
    return 0;
}
