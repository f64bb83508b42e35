#!/usr/bin/env bash
# campaign_test.sh - tests of fuzz/campaign. No argument (sh_test, ~1 s of CPU): the command line; with stub
# engines, a failed merge and how --jobs starts the engines. --heavy afl|libfuzzer (.ci/run): real short
# campaigns, one process then --jobs 2, each merged into a copy of the checkout under /tmp.
set -u

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=fuzz/build_afl.sh
source "$ROOT/fuzz/build_afl.sh" # ALL_TARGETS, target_sources, library_sources
set +e                           # build_afl.sh sets -e; the checks look at every exit status
lib="$ROOT/tests/testlib.sh"
[ -f "$lib" ] || lib="$(dirname "$(readlink -f "$0")")/../tests/testlib.sh"
# shellcheck source=tests/testlib.sh
source "$lib" # pass, fail, testlib_tmpdir, finish
testlib_tmpdir campaign_test

# check NAME COMMAND...: PASS if the command succeeds, else FAIL.
check() {
    local name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}

# run COMMAND...: sets rc, and out / err (the paths of its stdout and stderr).
run() {
    out=$tmp/out err=$tmp/err rc=0
    "$@" >"$out" 2>"$err" || rc=$?
}

# ---- Command line ---------------------------------------------------------------------------
cli_checks() {
    local campaign=$ROOT/fuzz/campaign opt line missing=""
    run "$campaign" --help
    check "--help exits 0" [ "$rc" -eq 0 ]
    check "--help writes nothing on stderr" [ ! -s "$err" ]
    check "--help prints the usage on stdout" grep -q '^Usage: fuzz/campaign TARGET' "$out"
    cp "$out" "$tmp/help"
    # every line of the header comment from "# Usage:" to the end of the comment block
    while IFS= read -r line; do
        line=${line#\#}
        line=${line# }
        grep -qxF -- "$line" "$tmp/help" || missing+=" [$line]"
    done < <(awk '/^# Usage:/ { on = 1 } on && !/^#/ { exit } on' "$campaign")
    check "--help prints the whole header from Usage: on${missing:+ (missing: ${missing:0:200})}" [ -z "$missing" ]
    check "--help lists the targets" grep -qxF "Targets: $ALL_TARGETS" "$tmp/help"
    # every long option the argument loop accepts is documented
    missing=""
    while IFS= read -r opt; do
        grep -qE -- "(^| )$opt( |,|=|$)" "$tmp/help" || missing+=" $opt"
    done < <(sed -n '/^while \[\[ \$# -gt 0 \]\]/,/^done/p' "$campaign" | grep -E '^ *-.*\)' |
        grep -oE -- '--[a-z][a-z-]*' | sort -u)
    check "--help documents every option${missing:+ (missing:$missing)}" [ -z "$missing" ]

    run "$campaign" -h
    check "-h exits 0" [ "$rc" -eq 0 ]
    check "-h prints the same text as --help" cmp -s "$out" "$tmp/help"

    # usage errors: status 2, nothing on stdout, the reason and the usage on stderr
    usage_error() {
        local name=$1 reason=$2
        shift 2
        run "$campaign" "$@"
        check "$name: exit 2" [ "$rc" -eq 2 ]
        check "$name: stdout empty" [ ! -s "$out" ]
        check "$name: stderr says '$reason'" grep -qF -- "campaign: $reason" "$err"
        check "$name: stderr shows the usage" grep -q '^Usage: fuzz/campaign' "$err"
    }
    usage_error "unknown option" "unknown option --bogus" kmap_ops --bogus
    usage_error "no target" "no target given"
    usage_error "--seconds without a value" "--seconds needs a value" kmap_ops --seconds
    usage_error "--seconds 0" "--seconds wants a positive integer" kmap_ops --seconds 0
    usage_error "unknown engine" "--engine libfuzzer|afl" kmap_ops --engine honggfuzz
    usage_error "--jobs 0" "--jobs wants a positive integer" kmap_ops --jobs 0
    usage_error "unknown target" "unknown target 'nope'" nope
    usage_error "two targets" "one target only" kmap_ops trace_parse
}

# ---- A failing merge (stub engines) ----------------------------------------------------------
# A fake checkout holding the real fuzz/campaign and fuzz/build_afl.sh, empty source files, a
# one-file corpus, and stubs for bazel, the libFuzzer binary and the AFL++ tools on PATH. The
# engines "find" a crash when STUB_CRASH=1 (content "boom"), and every merge tool fails.
make_fake_checkout() {
    local repo=$tmp/repo stubs=$tmp/stubs f
    rm -rf "$repo" "$stubs"
    mkdir -p "$repo/fuzz/corpus/kmap_ops" "$stubs/bazel-bin/fuzz"
    cp "$ROOT/fuzz/campaign" "$ROOT/fuzz/build_afl.sh" "$repo/fuzz/"
    (
        cd "$repo" || exit 1
        mkdir -p core arch/stub sim
        touch core/stub.c arch/stub/stub.c arch/registry.c sim/sim.c && mkdir -p machine && touch machine/kmap_wait.c
        for f in $(target_sources kmap_ops); do mkdir -p "$(dirname "$f")" && touch "$f"; done
    )
    printf 'seed' >"$repo/fuzz/corpus/kmap_ops/seed"

    cat >"$stubs/bazel" <<EOF
#!/bin/sh
# stub bazel: build succeeds, info bazel-bin names the stub output tree
[ "\$1" = info ] && echo "$stubs/bazel-bin"
exit 0
EOF
    cat >"$stubs/bazel-bin/fuzz/kmap_ops_fuzz" <<'EOF'
#!/bin/sh
# stub libFuzzer binary: -merge=1 fails; a campaign prints stats (fork mode: job lines) and maybe
# writes a crash; each call appends its arguments to $STUB_ARGS
echo "$*" >>"$STUB_ARGS"
fork=""
for a in "$@"; do
    case "$a" in
    -merge=1) echo "MERGE-OUTER: stub failure" >&2; exit 1 ;;
    -artifact_prefix=*) prefix=${a#*=} ;;
    -fork=*) fork=${a#*=} ;;
    esac
done
if [ -n "$fork" ]; then
    echo "INFO: -fork=$fork: fuzzing in separate process(s)"
    echo "#600: cov: 5 ft: 6 corp: 1 exec/s 600 oom/timeout/crash: 0/0/0 time: 1s job: 1 dft_time: 0"
    echo "#1234: cov: 5 ft: 7 corp: 2 exec/s 617 oom/timeout/crash: 0/0/0 time: 2s job: 2 dft_time: 0"
else
    echo "#1234 DONE cov: 5 ft: 7 corp: 1/4b"
    echo "stat::number_of_executed_units: 1234"
    echo "stat::average_exec_per_sec:     99"
fi
[ "$STUB_CRASH" = 1 ] || exit 0
printf boom >"${prefix}crash-stub"
exit 1
EOF
    cat >"$stubs/afl-clang-fast" <<'EOF'
#!/bin/sh
# stub afl-clang-fast: writes an executable to the -o path
while [ $# -gt 0 ]; do [ "$1" = -o ] && out=$2; shift; done
printf '#!/bin/sh\nexit 0\n' >"$out" && chmod +x "$out"
EOF
    cat >"$stubs/afl-fuzz" <<'EOF'
#!/bin/sh
# stub afl-fuzz: an instance directory (default, or the -M/-S name) with stats, one queue entry,
# its arguments (args) and maybe a crash
name=default args="$*"
while [ $# -gt 0 ]; do
    case "$1" in
    -o) out=$2 ;;
    -M | -S) name=$2 ;;
    esac
    shift
done
dir=$out/$name
mkdir -p "$dir/queue" "$dir/crashes" "$dir/hangs"
echo "$args" >"$dir/args"
printf 'execs_done : 1234\nexecs_per_sec : 99.00\nbitmap_cvg : 1.00%%\ncorpus_count : 2\nedges_found : 5\ntotal_edges : 100\n' \
    >"$dir/fuzzer_stats"
printf 'queued' >"$dir/queue/id:000000,orig:seed"
[ "$STUB_CRASH" = 1 ] && printf boom >"$dir/crashes/id:000000,sig:06"
exit 0
EOF
    cat >"$stubs/afl-cmin" <<'EOF'
#!/bin/sh
# stub afl-cmin: always fails
echo "[-] Error: stub failure" >&2
exit 1
EOF
    chmod +x "$stubs"/* "$stubs/bazel-bin/fuzz/kmap_ops_fuzz"
}

# merge_failure_checks ENGINE CRASH WANT_RC
merge_failure_checks() {
    local engine=$1 crash=$2 want=$3 name boom
    name="failed merge ($engine, $([[ $crash == 1 ]] && echo "a crash" || echo "no crash"))"
    make_fake_checkout
    run env STUB_CRASH="$crash" STUB_ARGS="$tmp/stub-args" PATH="$tmp/stubs:$PATH" \
        "$tmp/repo/fuzz/campaign" kmap_ops --seconds 1 --engine "$engine"
    check "$name: exit $want" [ "$rc" -eq "$want" ]
    check "$name: the summary is printed" grep -q '^==== campaign summary: kmap_ops' "$out"
    check "$name: the summary has the stats" grep -q '^executions: *1234$' "$out"
    check "$name: the summary says the merge failed" grep -q '^merge: *FAILED' "$out"
    check "$name: the corpus keeps its one input" [ "$(find "$tmp/repo/fuzz/corpus/kmap_ops" -type f ! -name 'crash-*' | wc -l)" -eq 1 ]
    if [[ $crash == 1 ]]; then
        boom=crash-$(printf boom | sha1sum | cut -d' ' -f1)
        check "$name: the crash is saved as fuzz/corpus/kmap_ops/$boom" [ -f "$tmp/repo/fuzz/corpus/kmap_ops/$boom" ]
        check "$name: the summary names the crash" grep -q "^  fuzz/corpus/kmap_ops/$boom .*reproduce:" "$out"
    fi
}

# jobs_stub_checks: how --jobs starts the stub engines (the merge fails, as above).
jobs_stub_checks() {
    local out_dir=$tmp/repo/build/campaign/kmap_ops.afl/afl-out
    make_fake_checkout
    run env STUB_CRASH=0 STUB_ARGS="$tmp/stub-args" PATH="$tmp/stubs:$PATH" "$tmp/repo/fuzz/campaign" \
        kmap_ops --seconds 1 --engine afl --jobs 3
    check "afl --jobs 3: the summary says 3 jobs" grep -q '^==== campaign summary: kmap_ops (afl, 1 s, 3 jobs)' "$out"
    check "afl --jobs 3: one sync directory holding main, sec1 and sec2" \
        [ "$(ls "$out_dir" 2>/dev/null | tr '\n' ' ')" = "main sec1 sec2 " ]
    check "afl --jobs 3: main runs with -M main and the CMPLOG binary" \
        grep -qE -- '-M main .*-c [^ ]*kmap_ops\.cmplog' "$out_dir/main/args"
    check "afl --jobs 3: sec1 runs with -S sec1 and the next power schedule" grep -q -- '-S sec1 -p explore ' "$out_dir/sec1/args"
    check "afl --jobs 3: sec2 runs with -S sec2 and the one after" grep -q -- '-S sec2 -p coe ' "$out_dir/sec2/args"
    check "afl --jobs 3: only main runs CMPLOG" [ "$(cat "$out_dir"/*/args | grep -c -- ' -c ')" -eq 1 ]
    check "afl --jobs 3: the executions of the instances are summed" grep -q '^executions: *3702$' "$out"
    check "afl --jobs 3: the coverage line names each instance" grep -q '^coverage: *main: .*; sec1: .*; sec2: ' "$out"

    make_fake_checkout
    rm -f "$tmp/stub-args"
    run env STUB_CRASH=0 STUB_ARGS="$tmp/stub-args" PATH="$tmp/stubs:$PATH" "$tmp/repo/fuzz/campaign" \
        kmap_ops --seconds 1 --jobs 2
    check "libfuzzer --jobs 2: the summary says 2 jobs" grep -q '^==== campaign summary: kmap_ops (libfuzzer, 1 s, 2 jobs)' "$out"
    check "libfuzzer --jobs 2: the fuzzer runs in fork mode, -fork=2 (and the merge does not)" \
        [ "$(grep -c -- '-fork=2 ' "$tmp/stub-args")" -eq 1 ]
    check "libfuzzer --jobs 2: the executions come from the last job line" grep -q '^executions: *1234$' "$out"
    check "libfuzzer --jobs 2: the coverage line counts the finished jobs" grep -q '^coverage: .*, 2 jobs finished$' "$out"
}

# ---- Real campaigns in a copy of the checkout under /tmp ---------------------------------------
# The copy's kmap_ops corpus loses every fourth file, so that a campaign of a few seconds finds
# edges the remaining corpus misses and the merge has something to add.
make_copy() {
    copy=$(mktemp -d /tmp/hm-campaign-test.XXXXXX)
    tar -C "$ROOT" --exclude=./build --exclude='./bazel-*' --exclude=./.git -cf - . | tar -C "$copy" -xf -
    find "$copy/fuzz/corpus/kmap_ops" -maxdepth 1 -type f ! -name 'crash-*' | sort | awk 'NR % 4 == 1' |
        xargs rm -f
    cp -r "$copy/fuzz/corpus/kmap_ops" "$tmp/committed"
}

# The campaign's stdout, and the end of its stderr if it failed.
show_campaign() {
    cat "$out"
    [[ $rc -eq 0 ]] || tail -n 30 "$err"
}

# merge_report: from the campaign's stdout, N and E of "merge: N inputs added (+E edges)" and the
# files the merge added to the copy's corpus (sets n_added, e_added, added[]).
merge_report() {
    local line
    line=$(grep -E '^merge: +[0-9]+ inputs added \(\+[0-9]+ edges\)' "$out")
    n_added=$(sed -E 's/^merge: +([0-9]+) .*/\1/' <<<"$line")
    e_added=$(sed -E 's/.*\(\+([0-9]+) edges\).*/\1/' <<<"$line")
    mapfile -t added < <(comm -13 <(ls "$tmp/committed") <(ls "$copy/fuzz/corpus/kmap_ops"))
    check "the summary has a merge line" [ -n "$line" ]
    check "merge: the reported count (${n_added:-?}) is the number of files added (${#added[@]})" \
        [ "${n_added:-x}" = "${#added[@]}" ]
    check "merge: at least one input added (the copy's corpus misses edges)" [ "${#added[@]}" -ge 1 ]
    check "merge: no more inputs (${#added[@]}) than new edges (${e_added:-?})" [ "${#added[@]}" -le "${e_added:-0}" ]
}

# per_file_edges EDGES_FN [STRICT]: EDGES_FN DIR prints the number of edges the inputs of DIR cover.
# All added files together must cover the reported E edges more. With STRICT (AFL: one input per
# process), every added file must also cover, on its own, an edge the committed corpus does not;
# libFuzzer merges in one process, where the harness's reused machine can make an input's edges
# depend on the inputs run before it, so there a file that adds no edge alone is only reported.
per_file_edges() {
    local edges_fn=$1 strict=${2:-} base all f n bad=()
    base=$("$edges_fn" "$tmp/committed")
    for f in "${added[@]}"; do
        rm -rf "$tmp/one"
        cp -r "$tmp/committed" "$tmp/one"
        cp "$copy/fuzz/corpus/kmap_ops/$f" "$tmp/one/"
        n=$("$edges_fn" "$tmp/one")
        [[ $n -gt $base ]] || bad+=("$f")
    done
    if [[ -n $strict ]]; then
        check "merge: each added file covers an edge the committed corpus ($base edges) does not$(
            [[ ${#bad[@]} -eq 0 ]] || echo " (${#bad[@]} do not, e.g. ${bad[*]:0:3})")" [ "${#bad[@]}" -eq 0 ]
    else
        echo "note: ${#bad[@]} of ${#added[@]} added files add no edge when run alone after the committed corpus"
    fi
    all=$("$edges_fn" "$copy/fuzz/corpus/kmap_ops")
    check "merge: corpus after merge covers $all edges = $base + the reported ${e_added:-?}" \
        [ "$all" -eq $((base + ${e_added:-0})) ]
}

# shellcheck disable=SC2317 # called through per_file_edges
afl_edges() {
    AFL_ALLOW_TMP=1 AFL_QUIET=1 afl-showmap -q -e -C -i "$1" -o "$tmp/showmap" -m none -t 1000 \
        -- "$copy/build/afl/kmap_ops" -1 >/dev/null 2>&1
    wc -l <"$tmp/showmap"
}

# jobs_heavy ENGINE SECONDS REPLAY...: a --jobs 2 campaign in the copy (after the one-process one),
# merged into the copy's corpus. Checks that both processes fuzzed and fed the campaign corpus (AFL++:
# main and sec1 in the one sync directory, each with executions and queue entries of its own, and
# the merge reads both queues; libFuzzer: fork mode with jobs from both workers, the corpus grown)
# and that the merged corpus is non-empty and valid: the reported count is the number of files
# added, each named by its SHA-1, and REPLAY... runs every file of it without a failure.
jobs_heavy() {
    local engine=$1 seconds=$2 scratch=$copy/build/campaign/kmap_ops.$1 name n own file misnamed=0 rc_replay
    shift 2
    rm -rf "$tmp/before-jobs"
    cp -r "$copy/fuzz/corpus/kmap_ops" "$tmp/before-jobs"
    run env AFL_NO_AFFINITY=1 "$copy/fuzz/campaign" kmap_ops --seconds "$seconds" --engine "$engine" --jobs 2
    show_campaign
    check "$engine --jobs 2: exit 0 (got $rc)" [ "$rc" -eq 0 ]
    check "$engine --jobs 2: the summary is printed" \
        grep -q "^==== campaign summary: kmap_ops ($engine, $seconds s, 2 jobs)" "$out"
    if [[ $engine == afl ]]; then
        check "afl --jobs 2: the sync directory holds main and sec1" \
            [ "$(ls "$scratch/afl-out" | tr '\n' ' ')" = "main sec1 " ]
        for name in main sec1; do
            file=$scratch/afl-out/$name/fuzzer_stats
            n=$(sed -n 's/^execs_done *: *//p' "$file" 2>/dev/null)
            own=$(find "$scratch/afl-out/$name/queue" -maxdepth 1 -name 'id:*' ! -name '*orig:*' 2>/dev/null | wc -l)
            check "afl --jobs 2: $name ran as $([[ $name == main ]] && echo "-M main" || echo "-S sec1")" \
                grep -qE -- "^command_line *: .*$([[ $name == main ]] && echo "-M main" || echo "-S sec1") " "$file"
            check "afl --jobs 2: $name executed inputs (${n:-none}) and queued $own of its own" \
                [ "${n:-0}" -gt 0 -a "$own" -gt 0 ]
            n=$(find "$scratch/merge/in" -name "$name.id:*" | wc -l)
            check "afl --jobs 2: the merge read $name's queue ($n files)" [ "$n" -gt 0 ]
        done
    else
        check "libfuzzer --jobs 2: the fuzzer ran in fork mode with 2 workers" grep -q '^INFO: -fork=2: ' "$scratch/fuzz.log"
        n=$(grep -oE ' job: [0-9]+ ' "$scratch/fuzz.log" | sort -u | wc -l)
        # the first two jobs start together, one per worker
        check "libfuzzer --jobs 2: job 1 finished ($n jobs in all)" grep -q ' job: 1 ' "$scratch/fuzz.log"
        check "libfuzzer --jobs 2: job 2 finished" grep -q ' job: 2 ' "$scratch/fuzz.log"
        n=$(find "$scratch/corpus" -maxdepth 1 -type f | wc -l)
        check "libfuzzer --jobs 2: the jobs' inputs joined the campaign corpus ($n files, $(ls "$tmp/before-jobs" | wc -l) seeds)" \
            [ "$n" -gt "$(ls "$tmp/before-jobs" | wc -l)" ]
    fi
    # the merged corpus
    local line n_added
    line=$(grep -E '^merge: +[0-9]+ inputs added' "$out")
    n_added=$(sed -E 's/^merge: +([0-9]+) .*/\1/' <<<"$line")
    mapfile -t added < <(comm -13 <(ls "$tmp/before-jobs") <(ls "$copy/fuzz/corpus/kmap_ops"))
    check "$engine --jobs 2: merge: the reported count (${n_added:-?}) is the number of files added (${#added[@]})" \
        [ "${n_added:-x}" = "${#added[@]}" ]
    for file in "${added[@]}"; do
        [[ $file == "$(sha1sum <"$copy/fuzz/corpus/kmap_ops/$file" | cut -d' ' -f1)" ]] || misnamed=$((misnamed + 1))
    done
    check "$engine --jobs 2: merge: every added file is named by its SHA-1" [ "$misnamed" -eq 0 ]
    n=$(find "$copy/fuzz/corpus/kmap_ops" -maxdepth 1 -type f | wc -l)
    check "$engine --jobs 2: merge: the corpus is not empty ($n files) and lost nothing" \
        [ "$n" -gt 0 -a "$n" -ge "$(ls "$tmp/before-jobs" | wc -l)" ]
    "$@" "$copy/fuzz/corpus/kmap_ops" >"$tmp/replay.log" 2>&1
    rc_replay=$?
    check "$engine --jobs 2: merge: every file of the merged corpus replays without a failure (exit $rc_replay)" \
        [ "$rc_replay" -eq 0 ]
}

# afl_replay DIR: the AFL++ build runs every file of DIR, each to "Execution successful.".
afl_replay() {
    local files=("$1"/*)
    "$copy/build/afl/kmap_ops" "${files[@]}" >"$tmp/afl-replay.log" 2>&1 || return 1
    [ "$(grep -c '^Execution successful\.$' "$tmp/afl-replay.log")" -eq "${#files[@]}" ]
}

heavy_afl() {
    make_copy
    # AFL_NO_AFFINITY: afl-fuzz aborts ("No more free CPU cores") when other afl-fuzz instances
    # hold every core, as on a shared CI machine
    run env AFL_NO_AFFINITY=1 "$copy/fuzz/campaign" kmap_ops --seconds 5 --engine afl
    show_campaign
    check "afl campaign under /tmp: exit 0 (got $rc)" [ "$rc" -eq 0 ]
    check "afl campaign under /tmp: the summary is printed" grep -q '^==== campaign summary: kmap_ops (afl, 5 s)' "$out"
    check "afl campaign under /tmp: afl-cmin succeeded" \
        grep -q 'Narrowed down to' "$copy/build/campaign/kmap_ops.afl/merge.log"
    merge_report
    per_file_edges afl_edges strict
    jobs_heavy afl 5 afl_replay
    rm -rf "$copy"
}

LIBFUZZER_BIN=""
# shellcheck disable=SC2317 # called through per_file_edges
libfuzzer_edges() {
    "$LIBFUZZER_BIN" -runs=0 "$1" 2>&1 | sed -n 's/.*INITED cov: \([0-9]*\) .*/\1/p' | tail -1
}

heavy_libfuzzer() {
    make_copy
    run "$copy/fuzz/campaign" kmap_ops --seconds 10
    show_campaign
    check "libFuzzer campaign: exit 0 (got $rc)" [ "$rc" -eq 0 ]
    check "libFuzzer campaign: the summary is printed" grep -q '^==== campaign summary: kmap_ops (libfuzzer, 10 s)' "$out"
    merge_report
    LIBFUZZER_BIN=$(cd "$copy" && bazel info --config=libfuzzer bazel-bin 2>/dev/null)/fuzz/kmap_ops_fuzz
    per_file_edges libfuzzer_edges
    jobs_heavy libfuzzer 8 "$LIBFUZZER_BIN" -runs=0
    # the copy is its own Bazel workspace: stop its server and delete its output tree
    (cd "$copy" && bazel clean --expunge >/dev/null 2>&1)
    rm -rf "$copy"
}

case "${1:-}" in
"")
    cli_checks
    merge_failure_checks afl 1 1
    merge_failure_checks afl 0 2
    merge_failure_checks libfuzzer 1 1
    jobs_stub_checks
    ;;
--heavy)
    case "${2:-}" in
    afl) heavy_afl ;;
    libfuzzer) heavy_libfuzzer ;;
    *) echo "usage: fuzz/campaign_test.sh [--heavy afl|libfuzzer]" >&2; exit 2 ;;
    esac
    ;;
*) echo "usage: fuzz/campaign_test.sh [--heavy afl|libfuzzer]" >&2; exit 2 ;;
esac
finish
