#!/usr/bin/env bash
# run_cache_cli_test.sh - `kmapsim run --cache on|off` on the command line: a bad value is
# refused by name (exit 2), as replay refuses it; not with --machine host; --cache off is the
# default; with on every workload on every arch reports 0 stale cache reads (table row and JSON
# cache object); a trace's machine header turns it on, the command line overrides it; a stale
# read fails the run (exit 1) with the stale_cache failure.
# Usage: run_cache_cli_test.sh KMAPSIM SPARC_CACHE_TRACE (examples/sparc-cache.trace).
# Last line: N passed, N failed.
# SPDX-License-Identifier: MIT
set -u
KMAPSIM="${1:-tools/kmapsim}"
TRACE="${2:-examples/sparc-cache.trace}"
lib="$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
[ -f "$lib" ] || lib="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../testlib.sh"
# shellcheck source=tests/testlib.sh
source "$lib" # pass, fail, judge, testlib_tmpdir, finish
testlib_tmpdir run_cache_cli

# ---- bad values: the same named error as replay's, exit 2, nothing run --------------------------
for bad in maybe ON 1 ""; do
  rc=0
  "$KMAPSIM" run random --ops 10 --cache "$bad" >"$tmp/out" 2>"$tmp/err" || rc=$?
  [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] &&
    grep -qx "kmapsim: bad value '$bad' for --cache (expected on or off)" "$tmp/err"
  judge $? "run --cache '$bad': exit 2, named error" "run --cache '$bad': exit $rc, $(head -c 300 "$tmp/err")"
done
rc=0
"$KMAPSIM" replay --cache maybe "$TRACE" >/dev/null 2>"$tmp/replay.err" || rc=$?
"$KMAPSIM" run --cache maybe >/dev/null 2>"$tmp/run.err"
[ $rc -eq 2 ] && cmp -s "$tmp/replay.err" "$tmp/run.err"
judge $? "run and replay refuse a bad --cache with the same message" "replay: $(cat "$tmp/replay.err") / run: $(cat "$tmp/run.err")"
rc=0
"$KMAPSIM" run random --ops 10 --cache >/dev/null 2>"$tmp/err" || rc=$?
[ $rc -eq 2 ] && grep -q "option --cache needs a value" "$tmp/err"
judge $? "run --cache without a value: exit 2" "run --cache: exit $rc, $(head -c 300 "$tmp/err")"
rc=0
"$KMAPSIM" run random --ops 10 --cache=on --machine host >"$tmp/out" 2>"$tmp/err" || rc=$?
[ $rc -eq 2 ] && [ ! -s "$tmp/out" ] &&
  grep -qx "kmapsim: x86: --cache on models the sim's data caches: not with --machine host" "$tmp/err"
judge $? "run --cache on --machine host: exit 2, named error" "exit $rc, $(head -c 300 "$tmp/err")"

# ---- off is the default: the same table, no cache rows -------------------------------------------
strip_times() { grep -v -e '^wall time' -e '^time asleep' -e '^longest single sleep' "$1"; }
"$KMAPSIM" run random --arch all --ops 2000 >"$tmp/default" 2>&1 &&
  "$KMAPSIM" run random --arch all --ops 2000 --cache off >"$tmp/off" 2>&1 &&
  [ "$(strip_times "$tmp/default")" = "$(strip_times "$tmp/off")" ] &&
  ! grep -q 'stale cache reads' "$tmp/off"
judge $? "--cache off is the default (same table, no cache rows)" "$(diff "$tmp/default" "$tmp/off" | head -5)"

# ---- on: every workload, every arch, 0 stale cache reads (table and JSON) ------------------------
for w in pagecache-read pagecache-hot bounce pipe hold-many random local-switch; do
  extra=""
  case $w in
    local-switch) extra="--kernel 5.11" ;;
  esac
  rc=0
  # shellcheck disable=SC2086
  "$KMAPSIM" run "$w" --arch all --cache on --ops 2000 $extra >"$tmp/out" 2>"$tmp/err" || rc=$?
  row="$(grep '^stale cache reads (must be 0)' "$tmp/out" | sed 's/^stale cache reads (must be 0) *//')"
  [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$row" = "0             0             0             0             0             0             0             0" ] &&
    grep -q '^data cache hits (--cache on)' "$tmp/out" && grep -q '^  flush_cache_page calls' "$tmp/out"
  judge $? "run $w --arch all --cache on: 0 stale cache reads on every arch" "run $w --cache on (exit $rc): '$row' $(head -c 300 "$tmp/err")"
  rc=0
  # shellcheck disable=SC2086
  "$KMAPSIM" run "$w" --arch all --cache on --ops 2000 --json $extra >"$tmp/json" 2>"$tmp/err" || rc=$?
  python3 - "$tmp/json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["runs"]) == 8, len(d["runs"])
for r in d["runs"]:
    c = r["cache"]
    assert set(c) == {"hits", "misses", "writebacks", "page_flushes", "stale_cache"}, c
    assert c["stale_cache"] == 0 and c["hits"] + c["misses"] > 0 and r["ok"], r
EOF
  judge $? "run $w --cache on --json: a cache object per run, stale_cache 0" "run $w --cache on --json (exit $rc): $(head -c 300 "$tmp/json")"
done

# ---- a trace's machine header, the command line over it, a stale read fails the run -------------
# examples/sparc-cache.trace: its header says --cache on; part 2 reads a stale byte.
rc=0
"$KMAPSIM" run trace "$TRACE" --json >"$tmp/out" 2>"$tmp/err" || rc=$?
python3 - "$tmp/out" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["runs"][0]
assert r["arch"] == "sparc" and r["cache"]["stale_cache"] == 1, r
assert r["failure"]["kind"] == "stale_cache" and r["failure"]["message"] == "stale cache reads (1)", r
assert r["failure"]["first"].startswith("stale cache read: cpu 0 loaded 0xfc801010 "), r
EOF
st=$?
[ $rc -eq 1 ] && [ $st -eq 0 ] && grep -q "failed: stale cache reads (1)" "$tmp/err"
judge $? "run trace sparc-cache.trace: its header's --cache on, a stale read fails the run (exit 1)" "exit $rc: $(head -c 300 "$tmp/err")"
rc=0
"$KMAPSIM" run trace "$TRACE" --cache off >"$tmp/out" 2>"$tmp/err" || rc=$?
[ $rc -eq 0 ] && ! grep -q 'stale cache' "$tmp/out" &&
  grep -q "note: --cache off on the command line overrides --cache on of the machine header" "$tmp/err"
judge $? "run trace --cache off overrides the header (no model, no stale read)" "exit $rc: $(head -c 300 "$tmp/err")"

finish
