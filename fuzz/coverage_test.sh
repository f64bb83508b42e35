#!/usr/bin/env bash
# coverage_test.sh - checks `fuzz/coverage --lcov` (.ci/run): the lcov tracefiles a CI dashboard would
# read hold every core/*.c with lines hit, and agree with llvm-cov's own summary table.
# SPDX-License-Identifier: MIT
#
# Usage: fuzz/coverage_test.sh   (runs fuzz/coverage --lcov on every target: about 10 s; writes
#                                 build/coverage/ of this checkout, as fuzz/coverage does)
# For the union report (build/coverage/all/coverage.lcov) and each target's:
#   - one SF:...end_of_record record per file, SF: paths relative to the checkout and existing;
#   - the sums of LF/LH and BRF/BRH equal the TOTAL row of summary.txt (lines, branches);
#   - per record LH <= LF and BRH <= BRF.
# For the union: every core/*.c of the tree has a record with LH > 0.
set -u

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT" || exit 1
# shellcheck source=tests/testlib.sh
source tests/testlib.sh # pass, fail, judge, finish

mkdir -p build/coverage
fuzz/coverage --lcov >build/coverage/test.log 2>&1
rc=$?
judge $rc "fuzz/coverage --lcov exits 0" "fuzz/coverage --lcov exits $rc (log: build/coverage/test.log)"

# check_lcov DIR: the tracefile of DIR against DIR/summary.txt
check_lcov() {
    local dir=$1 name=${1##*/} msg
    msg=$(python3 - "$dir/coverage.lcov" "$dir/summary.txt" <<'PY' 2>&1
import os, sys
lcov, summary = sys.argv[1], sys.argv[2]
records, cur, sums = {}, None, {"LF": 0, "LH": 0, "BRF": 0, "BRH": 0}
for line in open(lcov):
    line = line.rstrip("\n")
    if line.startswith("SF:"):
        assert cur is None, "SF:%s inside the record of %s" % (line[3:], cur)
        cur = line[3:]
        assert not os.path.isabs(cur), "absolute path " + cur
        assert os.path.isfile(cur), "no such file " + cur
        assert cur not in records, "two records for " + cur
        records[cur] = {}
    elif line == "end_of_record":
        assert cur is not None, "end_of_record outside a record"
        r = records[cur]
        for k in ("LF", "LH", "BRF", "BRH"):
            assert k in r, "%s: no %s" % (cur, k)
            sums[k] += r[k]
        assert r["LH"] <= r["LF"] and r["BRH"] <= r["BRF"], "%s: hits above totals %s" % (cur, r)
        cur = None
    elif cur is not None and line.split(":")[0] in sums:
        k, v = line.split(":", 1)
        records[cur][k] = int(v)
assert cur is None, "unterminated record " + str(cur)
total = next(l.split() for l in open(summary) if l.startswith("TOTAL"))
# TOTAL regions missed cover functions missed executed lines missed cover branches missed cover
lines, lmiss, branches, bmiss = int(total[7]), int(total[8]), int(total[10]), int(total[11])
want = {"LF": lines, "LH": lines - lmiss, "BRF": branches, "BRH": branches - bmiss}
assert sums == want, "sums %s, summary.txt %s" % (sums, want)
print("%d files, lines %d/%d, branches %d/%d" % (len(records), sums["LH"], sums["LF"], sums["BRH"], sums["BRF"]))
for f, r in sorted(records.items()):
    print("%s %d" % (f, r["LH"]))
PY
)
    judge $? "$name: coverage.lcov is well formed and matches summary.txt ($(head -1 <<<"$msg"))" \
        "$name: coverage.lcov: $(tail -1 <<<"$msg")"
    records=$(tail -n +2 <<<"$msg")
}

for dir in build/coverage/*/; do
    dir=${dir%/}
    [ -f "$dir/summary.txt" ] || continue
    check_lcov "$dir"
    [ "${dir##*/}" = all ] && all_records=$records
done

# the union: every core/*.c, each with lines hit
missing="" zero=""
for f in core/*.c; do
    lh=$(awk -v f="$f" '$1 == f { print $2 }' <<<"${all_records:-}")
    if [ -z "$lh" ]; then missing+=" $f"; elif [ "$lh" -eq 0 ]; then zero+=" $f"; fi
done
judge "$([ -z "$missing" ]; echo $?)" "all: a record for each of the $(ls core/*.c | wc -l) core/*.c files" \
    "all: no SF: record for$missing"
judge "$([ -z "$zero" ]; echo $?)" "all: LH > 0 for every core/*.c file" "all: LH is 0 for$zero"
finish
