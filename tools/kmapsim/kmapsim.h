/* kmapsim.h - internal interfaces of the kmapsim tool: the simulated machine it drives, the
 * replay and layout subcommands (called by main.c after option parsing).
 * SPDX-License-Identifier: MIT */
#ifndef KMAPSIM_H
#define KMAPSIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "highmem.h"
#include "harness/trace.h"

/* The config of one arch from the machine options in opts (opts->arch is ignored):
 * LAST_PKMAP overrides are dropped for arches without highmem. */
void kmapsim_config_for(const struct hm_config *opts, const struct hm_arch *arch,
                        struct hm_config *out);

/* Compute cfg's layout into out. Returns 0, or -1 with a one-line reason in msg saying which
 * option does not fit the arch's layout, e.g. "--pkmap-entries 4096 does not fit the ppc
 * layout: ...". */
int kmapsim_config_check(const struct hm_config *cfg, struct hm_layout *out, char *msg,
                         size_t len);

/* Run a trace on a fresh machine as it is read from in (name is the trace's name for
 * messages), printing one line per command to out in format (PRINT_TEXT, PRINT_JSONL). cache:
 * the sim's data cache model (enum harness_cache; 0 = the arch's default).
 * Returns the exit status: 0 every command succeeded, 1 some failed, 2 the machine could not
 * be built or the trace could not be read or parsed (message on standard error, with the line
 * number; the lines before it have been run and printed). */
int kmapsim_replay(const struct hm_config *cfg, int cache, struct trace_reader *in, const char *name,
                   int format, FILE *out);

/* Print the layout of cfg (JSON object or the boot-log table). Returns the exit status:
 * 0, or 2 (message on standard error) when the config does not fit the arch. */
int kmapsim_layout(const struct hm_config *cfg, int json, FILE *out);

/* Print every built-in arch (hm_arch_at order) with the machine options of opts: one
 * comparison table, or (json) a JSON array of the per-arch objects. An arch the options do
 * not fit shows "invalid config" (JSON: {"arch", "error", "message"}). Returns 0, or 2 when
 * the output could not be written. */
int kmapsim_layout_all(const struct hm_config *opts, int json, FILE *out);

#endif /* KMAPSIM_H */
