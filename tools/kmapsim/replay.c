/* replay.c - kmapsim's `replay` subcommand: streams a trace through the harness interpreter
 * on a fresh simulated machine, printing one line (text or jsonl) per command as it goes.
 * SPDX-License-Identifier: MIT */
#include "kmapsim.h"

#include "harness/exec.h"
#include "harness/print.h"

int kmapsim_replay(const struct hm_config *cfg, int cache, struct trace_reader *in, const char *name,
                   int format, FILE *out)
{
    struct harness_machine m = {0};
    struct harness_hooks hooks = {0};
    struct harness_exec x;
    struct trace_cmd c;
    struct kbuf line = {0};
    char err[256];
    int status = 0, rc;

    hooks.capture = 1;
    hooks.cache = cache;
    if (harness_machine_open(&m, cfg, &hooks, err, sizeof err) != 0) {
        fprintf(stderr, "kmapsim: %s\n", err);
        harness_machine_close(&m);
        return 2;
    }
    if (harness_exec_init(&x, &m, 0) != 0) {
        fputs("kmapsim: out of memory\n", stderr);
        harness_machine_close(&m);
        return 2;
    }
    while ((rc = trace_read(in, &c, err, sizeof err)) != 0) {
        struct harness_result r;
        if (rc < 0) {
            fprintf(stderr, "kmapsim: %s:%s\n", name, err);
            status = 2;
            break;
        }
        if (rc != 1) /* a header after the first line is refused by the reader */
            continue;
        harness_machine_begin(&m);
        harness_exec(&x, &c, &r);
        if (m.oom) {
            fputs("kmapsim: out of memory while recording events\n", stderr);
            status = 2;
            break;
        }
        if (r.err != HM_OK)
            status = 1;
        kbuf_reset(&line);
        print_result(&line, format, &m, &c, &r);
        fwrite(line.p, 1, line.n, out);
    }
    if (fflush(out) != 0 && status != 2) {
        fputs("kmapsim: error writing the output\n", stderr);
        status = 2;
    }
    kbuf_free(&line);
    harness_exec_free(&x);
    harness_machine_close(&m);
    return status;
}
