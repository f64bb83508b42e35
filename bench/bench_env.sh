# bench/bench_env.sh - shell helpers the bench/ scripts source: a -c opt build, the load average,
# the machine line and the tree revision that head a bench/results.md section. SPDX-License-Identifier: MIT
# Sourced from the repository's root (the scripts cd there first).
# shellcheck shell=bash

# bench_load: the three load averages.
bench_load() { cut -d' ' -f1-3 /proc/loadavg; }

# bench_build_opt LABEL LOG: bazel build -c opt //pkg:name (output in LOG; its tail on stderr
# when the build fails, and status 1); prints the binary's path.
bench_build_opt() {
    local label=$1 log=$2 pkg
    bazel build -c opt "$label" >/dev/null 2>"$log" || {
        tail -20 "$log" >&2
        return 1
    }
    pkg=${label#//}
    echo "$(bazel info -c opt bazel-bin 2>/dev/null)/${pkg%%:*}/${pkg##*:}"
}

# bench_machine: cores, CPU model, the compiler -c opt builds with, page size, kernel.
bench_machine() {
    local model
    model=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -1)
    echo "$(nproc) cores, $model; compiler: $(clang --version | head -1) (-c opt); page size $(getconf PAGESIZE); kernel $(uname -r)"
}

# bench_rev DIR...: the short commit, with "+dirty" when a DIR differs from it.
bench_rev() { echo "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- "$@" 2>/dev/null || echo "+dirty")"; }
