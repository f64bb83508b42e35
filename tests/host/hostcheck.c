/* hostcheck.c - the host tests' runner (hostcheck.h): cases, forked children, the fault probe,
 * open descriptors and mapping permissions. SPDX-License-Identifier: MIT */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "tests/host/hostcheck.h"

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
