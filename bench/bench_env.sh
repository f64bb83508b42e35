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

# ---- kmap_ops' libFuzzer binary outside Bazel (bench/time_to_crash, bench/fuzz_throughput --compare)
# The flags of .bazelrc's config libfuzzer: ASan + UBSan at -O2 everywhere; the library (core/,
# arch/) with libFuzzer's coverage counters but neither comparison tracing nor indirect-call
# tracing (BENCH_FUZZ_LIB_COV); the harness, the model, sim/, harness/ and machine/ without
# coverage (NO_COVERAGE in tools/build_defs.bzl). Keep these in step with .bazelrc.
# shellcheck disable=SC2054 # -fsanitize=address,undefined: one flag
BENCH_FUZZ_CFLAGS=(-std=c11 -Iinclude -I. -D_POSIX_C_SOURCE=200809L -pthread -g -O2 -w
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
    -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
BENCH_FUZZ_LIB_COV=(-fsanitize=fuzzer-no-link -fno-sanitize-coverage=trace-cmp
    -fno-sanitize-coverage=indirect-calls)

# bench_fuzz_tree TREE CMD...: runs CMD (one of the bench_fuzz_* functions below) in a subshell
# that has sourced TREE's own bench/bench_env.sh first, so that each tree of a --compare is built
# with ITS flags (a checkout from before a flag change is measured as it was built then); this
# file's definitions stay when TREE has no bench_env.sh.
bench_fuzz_tree() {
    local tree=$1
    shift
    (
        # shellcheck source=/dev/null
        [[ -f $tree/bench/bench_env.sh ]] && . "$tree/bench/bench_env.sh"
        "$@"
    )
}

# bench_fuzz_cc TREE SRC REL OBJ: compiles SRC (TREE's file REL, or a patched copy of it) to OBJ.
bench_fuzz_cc() {
    local tree=$1 src=$2 rel=$3 obj=$4 cov
    case $rel in
    core/* | arch/*) cov=("${BENCH_FUZZ_LIB_COV[@]}") ;;
    *) cov=() ;;
    esac
    mkdir -p "$(dirname "$obj")"
    (cd "$tree" && "${CC:-clang}" "${BENCH_FUZZ_CFLAGS[@]}" "${cov[@]}" -I"$(dirname "$rel")" \
        -c "$src" -o "$obj")
}

# bench_fuzz_sources TREE: the sources of TREE's kmap_ops libFuzzer binary, one per line
# (fuzz/build_afl.sh's target_sources kmap_ops and library_sources, as TREE defines them).
bench_fuzz_sources() {
    # shellcheck source=fuzz/build_afl.sh
    (cd "$1" && . fuzz/build_afl.sh && target_sources kmap_ops && library_sources)
}

# bench_fuzz_objects TREE OBJDIR: every object of TREE's kmap_ops fuzzer in OBJDIR/<path>.o
# (two compilers at a time; objects already there are kept).
# shellcheck disable=SC2016 # the single-quoted $1..$3 are the inner shell's arguments
bench_fuzz_objects() {
    local tree=$1 dir=$2 rel
    while read -r rel; do
        [[ -f $dir/${rel%.c}.o ]] || echo "$rel"
    done < <(bench_fuzz_sources "$tree") |
        xargs -r -P 2 -I{} bash -c "$(declare -p BENCH_FUZZ_CFLAGS BENCH_FUZZ_LIB_COV); $(declare -f bench_fuzz_cc);"' \
            bench_fuzz_cc "$1" "$2" "$2" "$3/${2%.c}.o"' _ "$tree" {} "$dir"
}

# bench_fuzz_link TREE OBJDIR OUT [REL OBJ]: links the fuzzer OUT from OBJDIR's objects, with
# OBJ in place of REL's object.
bench_fuzz_link() {
    local tree=$1 dir=$2 out=$3 rel=${4:-} obj=${5:-} objs=() s
    while read -r s; do
        if [[ $s == "$rel" ]]; then objs+=("$obj"); else objs+=("$dir/${s%.c}.o"); fi
    done < <(bench_fuzz_sources "$tree")
    "${CC:-clang}" -fsanitize=fuzzer,address,undefined -pthread "${objs[@]}" -o "$out"
}
