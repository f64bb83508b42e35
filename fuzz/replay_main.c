/* replay_main.c - standalone main for fuzz targets without libFuzzer: runs every file/directory
 * given through LLVMFuzzerTestOneInput (exact-size buffers), ends with `N passed, N failed`.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional one-time set-up; called only when the target defines it. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static unsigned passed, failed;

/* Read a whole file into a buffer of exactly its size (so ASan sees a one-byte overread). */
static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    int c;

    if (!f)
        return -1;
    /* read in chunks, then shrink to the exact size */
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? 2 * cap : 4096;
            uint8_t *p = realloc(buf, ncap);
            if (!p) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = p;
            cap = ncap;
        }
        c = fgetc(f);
        if (c == EOF)
            break;
        buf[len++] = (uint8_t)c;
    }
    if (ferror(f)) {
        free(buf);
        fclose(f);
        return -1;
    }
    fclose(f);
    *data = malloc(len ? len : 1);
    if (!*data) {
        free(buf);
        return -1;
    }
    memcpy(*data, buf, len);
    free(buf);
    *size = len;
    return 0;
}

static void run_file(const char *path)
{
    uint8_t *data;
    size_t size;
    int rc;

    if (read_file(path, &data, &size) != 0) {
        fprintf(stderr, "%s: cannot read\n", path);
        failed++;
        return;
    }
    rc = LLVMFuzzerTestOneInput(data, size);
    free(data);
    /* 0, or -1 ("do not add to the corpus") are the only values a target may return */
    if (rc != 0 && rc != -1) {
        fprintf(stderr, "%s: LLVMFuzzerTestOneInput returned %d\n", path, rc);
        failed++;
        return;
    }
    printf("%s: ok\n", path);
    passed++;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_path(const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: no such file or directory\n", path);
        failed++;
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        run_file(path);
        return;
    }
    d = opendir(path);
    if (!d) {
        fprintf(stderr, "%s: cannot open directory\n", path);
        failed++;
        return;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len;
        char *full;
        if (e->d_name[0] == '.') /* ".", "..", hidden files */
            continue;
        len = strlen(path) + strlen(e->d_name) + 2;
        full = malloc(len);
        if (!full)
            break;
        snprintf(full, len, "%s/%s", path, e->d_name);
        if (n == cap) {
            size_t ncap = cap ? 2 * cap : 64;
            char **p = realloc(names, ncap * sizeof *p);
            if (!p) {
                free(full);
                break;
            }
            names = p;
            cap = ncap;
        }
        names[n++] = full;
    }
    closedir(d);
    if (n == 0) { /* an unreadable or empty corpus must not pass as "0 failed" */
        fprintf(stderr, "%s: no input files\n", path);
        failed++;
    }
    /* a stable order, so a failure is reproducible from the log */
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    for (size_t i = 0; i < n; i++) {
        run_path(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++)
        run_path(argv[i]);
    printf("%u passed, %u failed\n", passed, failed);
    /* no input at all is a failure too: an empty corpus directory proves nothing */
    return failed || passed == 0 ? 1 : 0;
}
