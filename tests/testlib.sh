# testlib.sh - what the shell tests share (sourced, not run): the PASS/FAIL counters, a scratch
# directory removed on exit, and the closing "N passed, N failed" line with the exit status.
# SPDX-License-Identifier: MIT
#
# Sourced by tests/kmapsim_examples_test.sh, tests/docs_links_test.sh, tests/run/run_cli_test.sh,
# tests/run/run_cache_cli_test.sh and fuzz/campaign_test.sh, each of which looks for it next to
# itself (or in tests/ of its checkout) first, then beside the file its own path resolves to:
# under Bazel the first is the runfiles copy, when the target lists this file as data; by hand,
# from tools/cross-check or from .ci/run the second is the checkout's. tools/consumers-check and
# tools/bazel-consumer-check source the checkout's.
#
#   pass MSG, fail MSG   count one check and print "PASS MSG" or "FAIL MSG"
#   testlib_tmpdir NAME  sets tmp to a new directory $TEST_TMPDIR/NAME.XXXXXX (else under /tmp),
#                        removed when the script exits
#   finish               prints "N passed, N failed" and exits 0, or 1 if a check failed
#   judge STATUS P F     pass P if STATUS is 0, else fail F
#   judge_log STATUS P F LOG  judge, then the end of LOG, indented, if it failed

# shellcheck shell=bash
passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

testlib_tmpdir() {
  tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/$1.XXXXXX")" || exit 1
  trap 'rm -rf "$tmp"' EXIT
}

finish() {
  echo "$passed passed, $failed failed"
  exit $((failed > 0))
}

# judge STATUS PASS_MSG FAIL_MSG: right after a condition, `judge $? "what" "what: why"` counts
# one check: pass PASS_MSG when STATUS is 0, else fail FAIL_MSG. ($? comes first: it must be
# expanded before any command substitution in the messages.)
judge() {
  if [ "$1" -eq 0 ]; then pass "$2"; else fail "$3"; fi
}

# judge_log STATUS PASS_MSG FAIL_MSG LOG: judge, then the last 25 lines of LOG if it failed.
judge_log() {
  judge "$1" "$2" "$3"
  [ "$1" -eq 0 ] || tail -n 25 "$4" | sed 's/^/    /'
}
