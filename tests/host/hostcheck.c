/* hostcheck.c - the host tests' runner (hostcheck.h): cases, forked children, the fault probe,
 * open descriptors, mapping permissions, address space in use, the map count
 * limit, the page patterns. SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "tests/host/hostcheck.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int hc_main(const struct hc_case *cases, size_t n)
{
    const char *only = getenv("HC_ONLY");
    int passed = 0, failed = 0;

    setvbuf(stdout, NULL, _IOLBF, 0);
    for (size_t i = 0; i < n; i++) {
        if (only && *only && !tc_selected(only, cases[i].name))
            continue;
        tc_case_begin(cases[i].name);
        printf("RUN  %s\n", cases[i].name);
        alarm(HC_ALARM_S);
        cases[i].run();
        alarm(0);
        fflush(stderr);
        if (tc_failures() == 0) {
            passed++;
            printf("PASS %s\n", cases[i].name);
        } else {
            failed++;
            printf("FAIL %s (%d failed checks)\n", cases[i].name, tc_failures());
        }
    }
    if (passed + failed == 0) {
        fprintf(stderr, "HC_ONLY=%s: no such case\n", only);
        return 2;
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}

void hc_in_child(void (*fn)(void *), void *arg)
{
    int st;
    pid_t pid;

    fflush(NULL);
    if ((pid = fork()) < 0) {
        CHECK(pid >= 0, "fork failed");
        return;
    }
    if (pid == 0) {
        tc_case_begin(tc_case_name()); /* the child's own count, its exit status */
        fn(arg);
        fflush(NULL);
        _exit(tc_failures() > 125 ? 125 : tc_failures());
    }
    if (waitpid(pid, &st, 0) != pid) {
        CHECK(0, "waitpid failed");
    } else if (WIFSIGNALED(st)) {
        CHECK(0, "the child was killed by signal %d", WTERMSIG(st));
    } else {
        tc_add_failures(WEXITSTATUS(st));
    }
}

/* ---- the fault probe: the child's SIGSEGV handler says where the fault was ------------- */
enum { PROBE_NO_FAULT = 10, PROBE_AT_ADDR = 11, PROBE_ELSEWHERE = 12 };
static volatile unsigned char *g_probe_addr;

static void probe_handler(int sig, siginfo_t *si, void *uc)
{
    (void)sig, (void)uc;
    _exit((volatile unsigned char *)si->si_addr == g_probe_addr ? PROBE_AT_ADDR : PROBE_ELSEWHERE);
}

int hc_faults(volatile unsigned char *addr, int write)
{
    struct sigaction sa;
    int st;
    pid_t pid;

    fflush(NULL);
    if ((pid = fork()) < 0)
        return -1;
    if (pid == 0) {
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = probe_handler;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        g_probe_addr = addr;
        if (sigaction(SIGSEGV, &sa, NULL) != 0 || sigaction(SIGBUS, &sa, NULL) != 0)
            _exit(1);
        if (write)
            *addr = 0;
        else
            (void)*addr;
        _exit(PROBE_NO_FAULT);
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
        return -1;
    return WEXITSTATUS(st) == PROBE_AT_ADDR ? 1 : WEXITSTATUS(st) == PROBE_NO_FAULT ? 0 : -1;
}

int hc_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 3; /* ".", ".." and the directory's own descriptor */
}

void hc_perms_at(const void *addr, char out[5])
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    unsigned long lo, hi;
    uintptr_t a = (uintptr_t)addr;

    out[0] = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (sscanf(line, "%lx-%lx %4s", &lo, &hi, out) == 3 && a >= lo && a < hi)
            break;
        out[0] = 0;
    }
    if (f)
        fclose(f);
}

/* The number of bytes of address space in use (/proc/self/statm), 0 on error. */
uint64_t hc_vm_size(void)
{
    unsigned long long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%llu", &pages) != 1)
        pages = 0;
    if (f)
        fclose(f);
    return pages * (uint64_t)sysconf(_SC_PAGESIZE);
}

/* Fill this process's mappings up to vm.max_map_count (every other page of a region
 * mprotect'ed, each splitting off two more, then single pages off its end), so that any mmap
 * that would split a mapping in three fails with ENOMEM. Returns the region (mprotect it whole
 * to lift the limit), NULL on error. */
void *hc_exhaust_map_count(size_t *len)
{
    size_t ps = (size_t)sysconf(_SC_PAGESIZE);
    char buf[32] = "";
    unsigned long max = 0;
    int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    unsigned char *r;
    if (fd >= 0)
        close(fd);
    if (n <= 0 || sscanf(buf, "%lu", &max) != 1 || max > (1ul << 22))
        return NULL;
    *len = (2 * max + 64) * ps;
    r = mmap(NULL, *len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (r == MAP_FAILED)
        return NULL;
    for (size_t i = 1; i < 2 * max + 64; i += 2) {
        if (mprotect(r + i * ps, ps, PROT_NONE) == 0)
            continue;
        /* That needed two more; one more may still fit: split pages off the region's end. */
        for (size_t j = 2 * max + 63; j > i + 1; j--)
            if (mprotect(r + j * ps, ps, j % 2 ? PROT_NONE : PROT_READ | PROT_WRITE) != 0)
                return r;
        break;
    }
    munmap(r, *len);
    return NULL;
}

unsigned char hc_pat(uint64_t p, size_t i, unsigned salt)
{
    return (unsigned char)(p * 131u + i * 7u + salt * 29u + 1u);
}

void hc_fill(unsigned char *buf, size_t ps, uint64_t p, unsigned salt)
{
    for (size_t i = 0; i < ps; i++)
        buf[i] = hc_pat(p, i, salt);
}

long hc_mismatch(const unsigned char *buf, size_t ps, uint64_t p, unsigned salt)
{
    for (size_t i = 0; i < ps; i++)
        if (buf[i] != hc_pat(p, i, salt))
            return (long)i;
    return -1;
}
