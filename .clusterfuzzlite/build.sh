#!/bin/bash -eu
# build.sh - the ClusterFuzzLite / OSS-Fuzz build: every fuzz target of fuzz/build_afl.sh's table, built
# without Bazel into $OUT, each with its seed corpus zip, dictionary and options file beside it.
# SPDX-License-Identifier: MIT
#
# Environment, as infra/helper.py build_fuzzers (the `compile` step of base-builder) sets it:
#   CC, CXX, CFLAGS, CXXFLAGS  compilers and flags: sanitizers, -fsanitize=fuzzer-no-link, ...
#   LIB_FUZZING_ENGINE         what the fuzzers link to get an engine (-fsanitize=fuzzer)
#   OUT                        where the fuzzers and their files go
#   WORK                       scratch space for the objects
#   SRC                        where the checkout lives ($SRC/libhighmem, the Dockerfile's WORKDIR)
# Run from the checkout (the Dockerfile's WORKDIR) or from .clusterfuzzlite/ of one.
#
# Written to $OUT for each target NAME:
#   NAME                   the fuzzer: the harness sources (target_sources NAME), the library
#                          (library_sources), $LIB_FUZZING_ENGINE, linked with $CXX
#   NAME_seed_corpus.zip   fuzz/corpus/NAME without the crash-* files
#   NAME.dict              tokens of the input encoding (fuzz/gen_engine_files.c; none for kmap_threads,
#                          whose bytes are all reduced modulo small ranges)
#   NAME.options           [libfuzzer] max_len, and dict when there is one
# Instrumentation, as Bazel's --config=libfuzzer does it (NO_COVERAGE in tools/build_defs.bzl): when
# CFLAGS ask for -fsanitize=fuzzer-no-link, only core/, arch/ and the sources the target is about
# (target_reported) keep the coverage instrumentation, and core/ and arch/ lose comparison tracing;
# the simulator, the machine opener, the harness and the reference model are compiled without it.
set -euo pipefail

: "${OUT:?OUT is not set}" "${WORK:?WORK is not set}"
CC=${CC:-clang}
CXX=${CXX:-clang++}
CFLAGS=${CFLAGS:-}
CXXFLAGS=${CXXFLAGS:-$CFLAGS}
LIB_FUZZING_ENGINE=${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}

# The checkout: around this script, else the working directory, else $SRC/libhighmem.
for root in "$(dirname "$0")/.." "$PWD" "${SRC:-/src}/libhighmem"; do
    [[ -f $root/fuzz/build_afl.sh ]] && break
done
[[ -f $root/fuzz/build_afl.sh ]] || { echo "build.sh: no libhighmem checkout found (cd into one)" >&2; exit 1; }
cd "$root"
# shellcheck source=fuzz/build_afl.sh
source fuzz/build_afl.sh # ALL_TARGETS, target_sources, target_reported, library_sources, COMMON_CFLAGS

obj_dir=$WORK/libhighmem-obj
rm -rf "$obj_dir"
mkdir -p "$obj_dir" "$OUT"
read -r -a cflags <<<"$CFLAGS"
read -r -a cxxflags <<<"$CXXFLAGS"
read -r -a engine <<<"$LIB_FUZZING_ENGINE"
guided=no
[[ " $CFLAGS " == *fuzzer-no-link* ]] && guided=yes

# extra_flags SOURCE REPORTED...: the flags that place SOURCE in or out of the engine's feedback.
extra_flags() {
    local src=$1 r
    shift
    [[ $guided == yes ]] || return 0
    case "$src" in
    core/* | arch/*) echo "-fno-sanitize-coverage=trace-cmp"; return 0 ;;
    esac
    for r in "$@"; do
        [[ $src == "$r" ]] && return 0
    done
    echo "-fno-sanitize=fuzzer-no-link"
}

# compile DIR REPORTED_LIST SOURCE...: one object per source under DIR, as many at once as there
# are cores; prints the objects. REPORTED_LIST is a space-separated list of target_reported.
compile() {
    local dir=$1 reported=$2 src obj pids=() objs=() jobs p rc=0
    shift 2
    jobs=$(nproc 2>/dev/null || echo 2)
    mkdir -p "$dir"
    for src in "$@"; do
        obj=$dir/${src//\//__}.o
        # shellcheck disable=SC2046,SC2086 # extra_flags prints zero or one flag; $reported: words
        "$CC" "${COMMON_CFLAGS[@]}" "${cflags[@]}" $(extra_flags "$src" $reported) \
            -c "$src" -o "$obj" >&2 &
        pids+=("$!")
        objs+=("$obj")
        if [[ ${#pids[@]} -ge $jobs ]]; then
            wait "${pids[0]}" || rc=1
            pids=("${pids[@]:1}")
        fi
    done
    for p in "${pids[@]}"; do
        wait "$p" || rc=1
    done
    [[ $rc -eq 0 ]] || { echo "build.sh: compiling into $dir failed" >&2; return 1; }
    printf '%s\n' "${objs[@]}"
}

# The dictionary and max_len generator runs on the build machine: no sanitizer, no engine.
echo "build.sh: $obj_dir/gen_engine_files"
"$CC" "${COMMON_CFLAGS[@]}" fuzz/gen_engine_files.c harness/trace.c -o "$obj_dir/gen_engine_files"

echo "build.sh: the library ($(library_sources | wc -l) sources)"
# shellcheck disable=SC2046 # the source lists are plain paths without spaces
mapfile -t lib_objs < <(compile "$obj_dir/lib" "" $(library_sources))
[[ ${#lib_objs[@]} -gt 0 ]] || exit 1

built=0
for target in $ALL_TARGETS; do
    if ! target_available "$target"; then
        echo "build.sh: $target unavailable (missing $(target_sources "$target" | head -1)), skipped"
        continue
    fi
    echo "build.sh: $target -> $OUT/$target"
    # shellcheck disable=SC2046 # the source lists are plain paths without spaces
    mapfile -t objs < <(compile "$obj_dir/$target" "$(target_reported "$target" | tr '\n' ' ')" \
        $(target_sources "$target"))
    [[ ${#objs[@]} -gt 0 ]] || exit 1
    "$CXX" "${cxxflags[@]}" "${objs[@]}" "${lib_objs[@]}" "${engine[@]}" -pthread -o "$OUT/$target"

    rm -f "$OUT/${target}_seed_corpus.zip" "$OUT/$target.dict"
    (cd "fuzz/corpus/$target" && find . -maxdepth 1 -type f ! -name 'crash-*' -printf '%f\n' | sort |
        zip -q -X "$OUT/${target}_seed_corpus.zip" -@)
    "$obj_dir/gen_engine_files" dict "$target" >"$OUT/$target.dict"
    {
        echo "[libfuzzer]"
        echo "max_len = $("$obj_dir/gen_engine_files" max_len "$target")"
        if [[ -s $OUT/$target.dict ]]; then echo "dict = $target.dict"; fi
    } >"$OUT/$target.options"
    [[ -s $OUT/$target.dict ]] || rm -f "$OUT/$target.dict"
    built=$((built + 1))
done
echo "build.sh: built $built fuzzer(s) in $OUT"
