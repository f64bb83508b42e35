#!/usr/bin/env bash
# run_cli_test.sh - `kmapsim run` end to end: the --arch all table names every arch, every
# workload runs on every arch with a quiet standard error, --svg writes XML that python parses
# (and an unwritable --svg fails before the run), exit statuses (1 stale translation or
# watchdog, 2 usage), --watchdog 0 turns the watchdog off, the progress bar only on a terminal,
# --machine host (real memory: the report plus system calls, bad workloads refused).
# Usage: run_cli_test.sh KMAPSIM. Last line: N passed, N failed.
# SPDX-License-Identifier: MIT
set -u
KMAPSIM="${1:-tools/kmapsim}"
lib="$(dirname "${BASH_SOURCE[0]}")/../testlib.sh"
[ -f "$lib" ] || lib="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../testlib.sh"
# shellcheck source=tests/testlib.sh
source "$lib" # pass, fail, testlib_tmpdir, finish
testlib_tmpdir run_cli
ARCHES="x86 x86-pae ppc sparc generic arm arm-vipt"
WORKLOADS="pagecache-read pagecache-hot bounce pipe hold-many random"

# ---- the default run, every arch side by side --------------------------------------------
"$KMAPSIM" run --arch all >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ]; then pass "run --arch all exits 0"; else fail "run --arch all exits $rc"; fi
header="$(grep '^arch ' "$tmp/out")"
for a in $ARCHES; do
  if echo " $header " | grep -q " $a "; then pass "table has a column for $a"; else fail "no $a column: $header"; fi
done
if grep -q '^kmapsim run pagecache-hot:' "$tmp/out"; then pass "default workload is pagecache-hot"; else fail "default workload"; fi
for row in "new mappings" "flush_all_zero_pkmaps calls" "global TLB flushes" "per-page TLB flushes" \
           "cache flushes" "TLB hits" "TLB misses" "sleeps" "wake-ups" "peak slots in use" \
           "mean slots in use" "stale translations" "wall time per operation"; do
  if grep -q "$row" "$tmp/out"; then pass "row: $row"; else fail "missing row: $row"; fi
done
stale="$(grep '^stale translations' "$tmp/out" | awk '{print $(NF-6), $(NF-5), $(NF-4), $(NF-3), $(NF-2), $(NF-1), $NF}')"
if [ "$stale" = "0 0 0 0 0 0 0" ]; then pass "no stale translation on any arch"; else fail "stale: $stale"; fi
if [ ! -s "$tmp/err" ]; then pass "stderr empty when it is not a terminal"; else fail "stderr: $(head -c 300 "$tmp/err")"; fi

# ---- --arch all with options some arches cannot take: those sit out, with a note ----------------
"$KMAPSIM" run --arch all --cpus 20 --ops 200 >"$tmp/out" 2>"$tmp/err"
rc=$?
header="$(grep '^arch ' "$tmp/out")"
if [ $rc -eq 0 ] && grep -q "note: arm left out: --cpus 20 does not fit the arm layout (at most 16)" "$tmp/err" &&
   echo " $header " | grep -q " x86 " && ! echo " $header " | grep -q " arm "; then
  pass "run --arch all --cpus 20: arm (16 CPUs at most) left out, the others run"
else
  fail "run --arch all --cpus 20 (exit $rc): $(head -c 300 "$tmp/err") / $header"
fi

# ---- --machine host: real memory through a window, the same report plus system calls ----------
for w in pagecache-read pagecache-hot random pipe hold-many; do
  "$KMAPSIM" run "$w" --machine host --ops 3000 >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && grep -q '^failed calls  *0$' "$tmp/out" &&
     grep -q '^wrong bytes read (must be 0)  *0$' "$tmp/out" &&
     grep -Eq '^host: host machine: [1-9][0-9]* system calls \([1-9][0-9]* map, [0-9]+ unmap, [0-9]+ setup, 0 failed\), [1-9][0-9]* bytes checked' "$tmp/out"; then
    pass "run $w --machine host: no failed call, no wrong byte, system calls reported"
  else
    fail "run $w --machine host (exit $rc): $(tail -3 "$tmp/out") $(head -c 300 "$tmp/err")"
  fi
done
"$KMAPSIM" run random --machine host --ops 2000 --json >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["runs"][0]; assert r["arch"]=="host" and r["host"]["map_syscalls"]>0 and r["bytes_checked"]>0 and r["ok"]' "$tmp/out"; then
  pass "run --machine host --json: a host object with the system calls"
else
  fail "run --machine host --json: $(head -c 300 "$tmp/out")"
fi
"$KMAPSIM" run pagecache-hot --ops 1000 --machine sim >"$tmp/out" 2>"$tmp/err"
if [ $? -eq 0 ] && ! grep -q 'host machine' "$tmp/out"; then pass "--machine sim: the simulated MMU"; else fail "--machine sim"; fi
for bad in "--machine vax" "bounce --machine host" "trace --machine host"; do
  # shellcheck disable=SC2086
  "$KMAPSIM" run $bad >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ $rc -eq 2 ] && [ -s "$tmp/err" ]; then pass "run $bad: exit 2 with a message"; else fail "run $bad: exit $rc"; fi
done

# ---- every workload on every arch ------------------------------------------------------------
for w in $WORKLOADS; do
  "$KMAPSIM" run "$w" --arch all --ops 3000 >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$(grep -c '^operations' "$tmp/out")" = 1 ]; then
    pass "$w on every arch"
  else
    fail "$w: exit $rc, stderr $(head -c 300 "$tmp/err")"
  fi
done
printf 'kmap 229377\nkmap 229378\nkunmap 229377\nkunmap 229378\nflush\n' >"$tmp/t.trace"
"$KMAPSIM" run trace "$tmp/t.trace" --arch x86 --ops 500 >"$tmp/out" 2>"$tmp/err"
rc=$?
ops="$(awk '/^operations/ {print $2}' "$tmp/out")"
if [ $rc -eq 0 ] && [ "$ops" = 500 ] && [ ! -s "$tmp/err" ]; then pass "trace workload"; else fail "trace: exit $rc, ops '$ops'"; fi

# ---- --svg -------------------------------------------------------------------------------------
for w in pagecache-hot hold-many; do
  "$KMAPSIM" run "$w" --arch all --ops 5000 --svg "$tmp/$w.svg" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && python3 - "$tmp/$w.svg" "$ARCHES" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "{http://www.w3.org/2000/svg}svg", root.tag
text = open(sys.argv[1], encoding="utf-8").read()
for a in sys.argv[2].split():
    assert a in text, "arch %s not drawn" % a
PY
  then pass "--svg $w: well-formed XML naming every arch"; else fail "--svg $w (exit $rc)"; fi
done
"$KMAPSIM" run --svg "$tmp/no/such/dir/x.svg" >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && [ -s "$tmp/err" ]; then pass "--svg to an unwritable path: exit 2"; else fail "--svg unwritable: exit $rc"; fi
# ... and it fails before the run: a run that would take until its 3 s watchdog is not started.
start=$(date +%s%N)
"$KMAPSIM" run pagecache-read --ops 1000000000 --watchdog 3 --svg "$tmp/no/such/dir/x.svg" >"$tmp/out" 2>"$tmp/err"
rc=$?
took=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc -eq 2 ] && grep -q "no/such/dir/x.svg" "$tmp/err" && ! grep -q watchdog "$tmp/err" &&
   [ ! -s "$tmp/out" ] && [ "$took" -lt 2500 ]; then
  pass "--svg to an unwritable path fails before the run (${took} ms)"
else
  fail "--svg unwritable, long run: exit $rc after ${took} ms, stderr $(head -c 300 "$tmp/err")"
fi

# ---- exit statuses ------------------------------------------------------------------------
expect_rc() { # expected-status name args...
  local want=$1 name=$2
  shift 2
  "$KMAPSIM" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ $rc -eq "$want" ]; then pass "$name: exit $want"; else fail "$name: exit $rc, expected $want"; fi
}
expect_rc 2 "unknown workload" run no-such-workload
expect_rc 2 "unknown option" run --frobnicate
expect_rc 2 "unknown arch" run --arch mips
expect_rc 2 "--threads 0" run --threads 0
expect_rc 2 "bounce with more threads than CPUs" run bounce --threads 3 --cpus 2
expect_rc 2 "pipe with one thread" run pipe --threads 1
expect_rc 2 "trace without a file" run trace
expect_rc 2 "local-switch before 5.11" run local-switch
expect_rc 2 "local-switch with more threads than CPUs" run local-switch --kernel 5.11 --threads 3 --cpus 2
expect_rc 2 "local-switch on the host machine" run local-switch --kernel 5.11 --machine host
for a in x86 x86-pae ppc sparc generic arm arm-vipt xtensa; do
  expect_rc 0 "local-switch on $a" run local-switch --kernel 5.11 --arch "$a" --ops 4000
done
expect_rc 2 "working set too large" run --working-set 99999999
expect_rc 2 "a trace file for another workload" run random "$tmp/t.trace"
expect_rc 2 "bad --zipf" run --zipf abc
printf 'inject drop-all-flushes\nkmap 229377\nkmap 229378\nkmap 229379\nstore 0 0xffc01000 1\nkunmap 229377\nkunmap 229378\nkunmap 229379\nkmap 229380\nkmap 229381\nload 0 0xffc01000\n' >"$tmp/stale.trace"
expect_rc 1 "a lost TLB flush (stale translation)" run trace "$tmp/stale.trace" --pkmap-entries 4
if grep -q "stale" "$tmp/err"; then pass "the failure names the stale translation"; else fail "stderr: $(cat "$tmp/err")"; fi
expect_rc 1 "watchdog on a run longer than --watchdog 1" run pagecache-read --ops 1000000000 --watchdog 1
if grep -q "watchdog" "$tmp/err" && [ ! -s "$tmp/out" ]; then pass "the watchdog says so on stderr"; else fail "watchdog stderr: $(cat "$tmp/err")"; fi
# --watchdog 0 is accepted and means no watchdog, also for runs with several threads (a 0 s
# limit would fire at the monitor's first 0.1 s tick).
start=$(date +%s%N)
expect_rc 0 "--watchdog 0 on a multi-threaded run" run hold-many --ops 300000 --watchdog 0
took=$(( ($(date +%s%N) - start) / 1000000 ))
if [ ! -s "$tmp/err" ] && [ "$took" -gt 200 ]; then pass "--watchdog 0: ${took} ms, quiet"; else fail "--watchdog 0: ${took} ms, stderr $(head -c 300 "$tmp/err")"; fi
expect_rc 0 "--watchdog 0 on a single-threaded run" run pagecache-read --ops 1000 --watchdog 0
"$KMAPSIM" run trace - --arch x86 <"$tmp/t.trace" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(awk '/^operations/ {print $2}' "$tmp/out")" = 5 ]; then pass "trace from standard input"; else fail "trace -: exit $rc"; fi
expect_rc 0 "--help" run --help
for w in $WORKLOADS trace; do
  if grep -q "^  $w " "$tmp/out"; then pass "--help describes $w"; else fail "--help lacks $w"; fi
done

# ---- progress bar: only on a terminal, erased at the end ----------------------------------
if command -v script >/dev/null 2>&1 && script -qfec true /dev/null >/dev/null 2>&1; then
  start=$(date +%s%N)
  script -qfec "\"$KMAPSIM\" run pagecache-read --ops 400000 >/dev/null" /dev/null >"$tmp/tty" 2>&1
  took=$(( ($(date +%s%N) - start) / 1000000 ))
  if grep -q '\[[#.]*\]' "$tmp/tty"; then
    if [ "$(tail -c 4 "$tmp/tty" | od -An -c | tr -d ' ')" = '\r033[K' ]; then
      pass "progress bar on a terminal, erased at the end (${took} ms)"
    else
      fail "progress bar not erased: $(tail -c 40 "$tmp/tty" | od -An -c | tr -s ' ')"
    fi
  elif [ "$took" -lt 700 ]; then
    pass "no progress bar for a run under 0.5 s (${took} ms)"
  else
    fail "no progress bar on a terminal for a ${took} ms run"
  fi
else
  echo "SKIP progress bar (no pseudo-terminal here)"
fi

finish
