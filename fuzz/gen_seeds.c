/* gen_seeds.c - encodes the seed scenarios fuzz/seeds/NAME.seed (trace text, seed_text.c) into
 * kmap_ops inputs: gen_seeds [--check] OUTDIR [SEED...], writing (or comparing) OUTDIR/NAME.
 * SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/kmap_ops_internal.h"

#define SEED_DIR "fuzz/seeds"
#define MAX_BYTES (FOP_MAX_OPS * (1u + FOP_MAX_OPERANDS) + 5u)

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (*len == cap) {
            char *nb = realloc(buf, cap = cap ? 2 * cap : 4096);
            if (!nb)
                break;
            buf = nb;
        }
        size_t got = fread(buf + *len, 1, cap - *len, f);
        *len += got;
        if (got == 0)
            break;
    }
    if (ferror(f) || *len == cap) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* Encode one seed text into out; returns its length, or 0 with a message on stderr. */
static size_t encode(const char *path, const char *text, size_t len, uint8_t *out)
{
    static struct model model;
    struct trace_header h = {0};
    struct hm_config cfg;
    struct hm_layout L;
    struct model_config mc;
    struct fop_decoder d;
    uint8_t tail[6];
    int ntail = 0;
    size_t pos = 0, n = 0, llen, next;
    unsigned long line = 0;
    unsigned nops = 0;
    int started = 0;
    char err[256];

    while (pos < len && trace_line_end(text + pos, len - pos, 0, &llen, &next)) {
        const char *s = text + pos;
        struct fop_rec want, x;
        struct model_out mo;
        uint8_t bytes[FOP_MAX_OPERANDS], enc[1 + FOP_MAX_OPERANDS];
        int cls, nbytes, rc, k;

        pos += next;
        line++;
        if (!started) {
            rc = trace_parse_header(s, llen, line, &h, err, sizeof err);
            if (rc < 0)
                goto bad;
            if (rc == 0)
                continue;
            if ((ntail = fop_parse_machine(&h, &cfg, tail, err, sizeof err)) < 0)
                goto bad;
            fop_model_config(&cfg, &mc);
            if (hm_layout_compute(&cfg, &L) != HM_OK || model_init(&model, &mc) != 0 ||
                fop_decoder_init(&d, &L, &model, ntail == 6) != 0) {
                snprintf(err, sizeof err, "%lu: kmap_ops cannot run this machine", line);
                goto bad;
            }
            started = 1;
            continue;
        }
        rc = fop_parse_line(&d, s, llen, line, &want, &cls, bytes, &nbytes, err, sizeof err);
        if (rc < 0)
            goto bad;
        if (rc == 0)
            continue;
        if (nbytes > 0) { /* `#@ bytes`: exactly those, if they decode to the line's operands */
            enc[0] = fop_byte_of(want.op, d.ext);
            memcpy(enc + 1, bytes, (size_t)nbytes);
            k = 1 + nbytes;
        } else {
            k = fop_encode(&d, &want, cls, enc);
        }
        if (k > 0) {
            struct fz_input in;
            fz_init(&in, enc, (size_t)k);
            fop_decode(&d, &in, &x);
        }
        if (k <= 0 || !fop_same_operands(&x, &want) || (size_t)x.nraw + 1u != (size_t)k) {
            snprintf(err, sizeof err, "%lu: no operand bytes %sdecode to this line's operands", line,
                     cls >= 0 || nbytes ? "of the hint " : "");
            goto bad;
        }
        if (++nops > FOP_MAX_OPS || n + (size_t)k + 6u > MAX_BYTES) {
            snprintf(err, sizeof err, "%lu: more than %u ops", line, FOP_MAX_OPS);
            goto bad;
        }
        memcpy(out + n, enc, (size_t)k);
        n += (size_t)k;
        /* what the following lines' operands refer to: the model's results (the library's,
         * as long as the replay of this seed passes) */
        fop_model(&model, &x, &mo);
        x.err = mo.err;
        x.val = mo.val;
        fop_remember(&d, &x);
    }
    if (!started) {
        snprintf(err, sizeof err, "no `%s` header", TRACE_HEADER_PREFIX);
        goto bad;
    }
    memcpy(out + n, tail, (size_t)ntail); /* the machine: arch is the last byte */
    return n + (size_t)ntail;
bad:
    fprintf(stderr, "gen_seeds: %s:%s\n", path, err);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every SEED_DIR/NAME.seed, sorted; NULL-terminated. */
static char **seed_files(void)
{
    DIR *dir = opendir(SEED_DIR);
    struct dirent *e;
    char **v = NULL;
    size_t n = 0;
    if (!dir)
        return NULL;
    while ((e = readdir(dir)) != NULL) {
        size_t l = strlen(e->d_name);
        char **nv;
        if (l <= 5 || strcmp(e->d_name + l - 5, ".seed") != 0)
            continue;
        nv = realloc(v, (n + 2) * sizeof *v);
        if (!nv)
            break;
        v = nv;
        v[n] = malloc(sizeof SEED_DIR + 1 + l);
        if (!v[n])
            break;
        snprintf(v[n++], sizeof SEED_DIR + 1 + l, "%s/%s", SEED_DIR, e->d_name);
        v[n] = NULL;
    }
    closedir(dir);
    if (v)
        qsort(v, n, sizeof *v, by_name);
    return v;
}

int main(int argc, char **argv)
{
    static uint8_t out[MAX_BYTES];
    int check = argc > 1 && strcmp(argv[1], "--check") == 0, bad = 0, count = 0;
    const char *dir = argc > 1 + check ? argv[1 + check] : NULL;
    char **listed = NULL, **files;

    if (dir && argc == 2 + check)
        listed = seed_files();
    files = listed ? listed : argv + 2 + check;
    if (!dir || !files[0]) {
        fprintf(stderr, "usage: gen_seeds [--check] OUTDIR [SEED...]   (default: every %s/*.seed)\n",
                SEED_DIR);
        free(listed);
        return 2;
    }
    for (; *files; files++) {
        const char *base = strrchr(*files, '/') ? strrchr(*files, '/') + 1 : *files;
        size_t len, n, blen = strlen(base);
        char *text = read_all(*files, &len), path[1024];
        uint8_t *old;

        if (blen > 5 && strcmp(base + blen - 5, ".seed") == 0)
            blen -= 5;
        snprintf(path, sizeof path, "%s/%.*s", dir, (int)blen, base);
        n = text ? encode(*files, text, len, out) : 0;
        if (!text)
            fprintf(stderr, "gen_seeds: cannot read %s\n", *files);
        free(text);
        count++;
        if (n == 0) {
            bad++;
            continue;
        }
        if (check) {
            old = (uint8_t *)read_all(path, &len);
            if (!old || len != n || memcmp(old, out, n) != 0) {
                fprintf(stderr, "gen_seeds: %s differs from what %s encodes to (%zu bytes)\n", path, *files, n);
                bad++;
            }
            free(old);
            continue;
        }
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(out, 1, n, f) != n || fclose(f) != 0) {
            fprintf(stderr, "gen_seeds: cannot write %s\n", path);
            bad++;
            continue;
        }
        printf("%s (%zu bytes)\n", path, n);
    }
    if (check)
        printf("%d seeds, %d differ or fail\n", count, bad);
    for (char **f = listed; f && *f; f++)
        free(*f);
    free(listed);
    return bad ? 1 : 0;
}
