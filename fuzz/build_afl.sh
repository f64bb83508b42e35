#!/usr/bin/env bash
# build_afl.sh - builds the fuzz targets for AFL++ outside Bazel (afl-clang-fast, and afl-clang-lto
# when it works) into build/afl/. Sourcing it only defines the target table (fuzz/coverage does).
# SPDX-License-Identifier: MIT
#
# Usage: fuzz/build_afl.sh [--no-lto] [TARGET...]   (default: every available target)
#   --no-lto   skip the afl-clang-lto builds (fuzz/campaign uses only the afl-clang-fast ones)
#
# For each target it writes
#   build/afl/<target>             afl-clang-fast, ASan + UBSan, AFL++ libFuzzer driver
#   build/afl/<target>.cmplog      afl-clang-fast, AFL_LLVM_CMPLOG=1 (no sanitizers), for afl-fuzz -c
#   build/afl/<target>.dict        dictionary extracted at compile time (AFL_LLVM_DICT2FILE)
#   build/afl/<target>.lto         afl-clang-lto, ASan + UBSan        (only if afl-clang-lto works)
#   build/afl/<target>.lto.cmplog  afl-clang-lto, AFL_LLVM_CMPLOG=1   (only if afl-clang-lto works)
# Bazel cannot link AFL++ binaries here ("multiple definition of __sanitizer_cov_trace_pc_guard"),
# hence this script.
set -euo pipefail

# ---- Target table (shared with fuzz/coverage) -------------------------------------------------
ALL_TARGETS="kmap_ops trace_parse kmap_threads"

# The sources of TARGET besides the library, main file first, one per line.
target_sources() {
    case "$1" in
    kmap_ops)
        printf '%s\n' fuzz/kmap_ops.c fuzz/check.c fuzz/probe.c fuzz/decode.c fuzz/seed_text.c \
            fuzz/model.c harness/machine.c harness/exec.c harness/print.c harness/json.c harness/trace.c
        ;;
    trace_parse) printf '%s\n' fuzz/trace_parse.c harness/trace.c ;;
    kmap_threads) printf '%s\n' fuzz/kmap_threads.c harness/machine.c ;;
    *) return 1 ;;
    esac
}

# The sources outside core/ and arch/ whose coverage TARGET is about (fuzz/coverage reports
# them), one per line: trace_parse fuzzes the trace language; the others link harness/ only
# to open and print a machine.
target_reported() {
    case "$1" in
    trace_parse) printf '%s\n' harness/trace.c ;;
    *) ;;
    esac
}

# The library sources every target links, one per line.
library_sources() {
    ls core/*.c arch/*/*.c arch/registry.c sim/*.c machine/kmap_wait.c
}

# Compiler flags shared by every build of a target (the repository's C11 + warnings setup).
COMMON_CFLAGS=(-std=c11 -Wall -Wextra -Iinclude -I. -D_POSIX_C_SOURCE=200809L -pthread
    -g -O1 -fno-omit-frame-pointer -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)

# True if TARGET is known and all of its harness sources exist.
target_available() {
    local src
    target_sources "$1" >/dev/null || return 1
    for src in $(target_sources "$1"); do
        [[ -f $src ]] || return 1
    done
}

# ---- Building ---------------------------------------------------------------------------------

# compile COMPILER OUTPUT [ENV=VALUE...] -- TARGET: one afl-cc invocation over every source.
compile() {
    local cc=$1 out=$2 target
    shift 2
    local envs=()
    while [[ $1 != -- ]]; do
        envs+=("$1")
        shift
    done
    target=$2
    # shellcheck disable=SC2046 # the source lists are plain paths without spaces
    env "${envs[@]}" AFL_QUIET=1 "$cc" "${COMMON_CFLAGS[@]}" -fsanitize=fuzzer \
        $(target_sources "$target") $(library_sources) -o "$out"
}

# True if afl-clang-lto can build and link a trivial libFuzzer-style harness.
lto_works() {
    local dir
    command -v afl-clang-lto >/dev/null || return 1
    dir=$(mktemp -d)
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { return n && d[0] == 1; }' \
        >"$dir/probe.c"
    if AFL_QUIET=1 afl-clang-lto -fsanitize=fuzzer "$dir/probe.c" -o "$dir/probe" >"$dir/log" 2>&1
    then
        rm -rf "$dir"
        return 0
    fi
    sed 's/^/  | /' "$dir/log" | tail -5 >&2
    rm -rf "$dir"
    return 1
}

build_target() {
    local target=$1 out=build/afl/$1
    echo "build_afl: $target -> $out (afl-clang-fast, ASan+UBSan)"
    rm -f "$out.dict"
    compile afl-clang-fast "$out" AFL_USE_ASAN=1 AFL_USE_UBSAN=1 \
        "AFL_LLVM_DICT2FILE=$PWD/$out.dict" -- "$target"
    echo "build_afl: $target -> $out.cmplog (afl-clang-fast, CMPLOG)"
    compile afl-clang-fast "$out.cmplog" AFL_LLVM_CMPLOG=1 -- "$target"
    if [[ $LTO_OK == yes ]]; then
        echo "build_afl: $target -> $out.lto, $out.lto.cmplog (afl-clang-lto)"
        compile afl-clang-lto "$out.lto" AFL_USE_ASAN=1 AFL_USE_UBSAN=1 -- "$target"
        compile afl-clang-lto "$out.lto.cmplog" AFL_LLVM_CMPLOG=1 -- "$target"
    fi
}

main() {
    local targets=() target built=0 lto=yes
    for target in "$@"; do
        case "$target" in
        --no-lto) lto=no ;;
        -*) echo "usage: fuzz/build_afl.sh [--no-lto] [TARGET...]" >&2; exit 2 ;;
        *) targets+=("$target") ;;
        esac
    done
    cd "$(dirname "$0")/.."
    command -v afl-clang-fast >/dev/null || {
        echo "build_afl: afl-clang-fast not found (apt-get install afl++)" >&2
        exit 1
    }
    [[ ${#targets[@]} -gt 0 ]] || read -r -a targets <<<"$ALL_TARGETS"
    mkdir -p build/afl
    if [[ $lto == no ]]; then
        LTO_OK=no
    elif lto_works; then
        LTO_OK=yes
    else
        LTO_OK=no
        echo "build_afl: afl-clang-lto does not work here (needs lld-14); building afl-clang-fast only" >&2
    fi
    for target in "${targets[@]}"; do
        if ! target_sources "$target" >/dev/null; then
            echo "build_afl: unknown target '$target' (known: $ALL_TARGETS)" >&2
            exit 2
        fi
        if ! target_available "$target"; then
            echo "build_afl: $target unavailable (missing $(target_sources "$target" | head -1)), skipped"
            continue
        fi
        build_target "$target"
        built=$((built + 1))
    done
    echo "build_afl: built $built target(s) in build/afl/"
}

# Run only when executed, not when sourced.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    main "$@"
fi
