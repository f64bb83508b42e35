#!/usr/bin/env bash
# kmapsim_examples_test.sh - replays every examples/*.trace with the options of its first line
# and diffs against examples/NAME.expected.jsonl (hand-verified); plus CLI contract checks.
# Usage: under Bazel (sh_test, runfiles) or by hand: KMAPSIM=path/to/kmapsim tests/kmapsim_examples_test.sh
set -u

# Under Bazel the working directory is the workspace's runfiles tree.
KMAPSIM="${1:-${KMAPSIM:-tools/kmapsim}}"
EXAMPLES="${2:-${EXAMPLES_DIR:-examples}}"
tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/kmapsim_examples.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

if [ ! -x "$KMAPSIM" ]; then
  echo "kmapsim binary not found at '$KMAPSIM'"
  echo "0 passed, 1 failed"
  exit 1
fi

# ---- The examples ---------------------------------------------------------------------------
# Line 1 of each trace: "# kmapsim replay OPTIONS... examples/NAME.trace";
# optional "# exit status: N" line in the header (default 0).
shopt -s nullglob
traces=("$EXAMPLES"/*.trace)
if [ "${#traces[@]}" -eq 0 ]; then
  fail "no examples found in '$EXAMPLES'"
fi
for trace in "${traces[@]}"; do
  name="$(basename "$trace" .trace)"
  expected="$EXAMPLES/$name.expected.jsonl"
  read -r -a words <"$trace"
  if [ "${#words[@]}" -lt 3 ] || [ "${words[0]}" != "#" ] || [ "${words[1]}" != "kmapsim" ] ||
     [ "${words[2]}" != "replay" ]; then
    fail "$name: first line is not '# kmapsim replay OPTIONS... TRACE'"
    continue
  fi
  opts=()
  for w in "${words[@]:3}"; do
    case "$w" in
      *.trace) ;;
      *) opts+=("$w") ;;
    esac
  done
  want_rc="$(sed -n 's/^# exit status: *\([0-9][0-9]*\) *$/\1/p' "$trace" | head -n 1)"
  want_rc="${want_rc:-0}"
  if [ ! -f "$expected" ]; then
    fail "$name: missing $expected"
    continue
  fi

  rc=0
  "$KMAPSIM" replay "${opts[@]}" "$trace" >"$tmp/$name.out" 2>"$tmp/$name.err" || rc=$?
  if [ "$rc" -ne "$want_rc" ]; then
    fail "$name: exit status $rc, expected $want_rc (stderr: $(head -c 300 "$tmp/$name.err"))"
  elif ! diff -u "$expected" "$tmp/$name.out" >"$tmp/$name.diff"; then
    fail "$name: output differs from $expected:"
    head -n 40 "$tmp/$name.diff"
  else
    pass "$name (kmapsim replay ${opts[*]})"
  fi

  # The same trace from standard input gives the same output.
  rc=0
  "$KMAPSIM" replay "${opts[@]}" - <"$trace" >"$tmp/$name.stdin" 2>/dev/null || rc=$?
  if [ "$rc" -eq "$want_rc" ] && cmp -s "$tmp/$name.out" "$tmp/$name.stdin"; then
    pass "$name: from standard input"
  else
    fail "$name: replay from standard input differs (exit $rc)"
  fi

  # The text format: same exit status, one line per command.
  rc=0
  "$KMAPSIM" replay "${opts[@]}" --format text "$trace" >"$tmp/$name.txt" 2>/dev/null || rc=$?
  if [ "$rc" -eq "$want_rc" ] && [ "$(wc -l <"$tmp/$name.txt")" -eq "$(wc -l <"$expected")" ]; then
    pass "$name: text format"
  else
    fail "$name: text format (exit $rc, $(wc -l <"$tmp/$name.txt") lines)"
  fi
done

# ---- CLI contract checks ---------------------------------------------------------------------
# check NAME WANT_RC STDERR_SUBSTRING_OR_EMPTY STDOUT_MUST_BE_EMPTY(0/1) -- kmapsim args...
check() {
  local label="$1" want_rc="$2" want_err="$3" empty_out="$4" rc=0
  shift 5
  "$KMAPSIM" "$@" >"$tmp/c.out" 2>"$tmp/c.err" </dev/null || rc=$?
  if [ "$rc" -ne "$want_rc" ]; then
    fail "$label: exit status $rc, expected $want_rc"
  elif [ -n "$want_err" ] && ! grep -qF -- "$want_err" "$tmp/c.err"; then
    fail "$label: stderr lacks '$want_err': $(head -c 300 "$tmp/c.err")"
  elif [ "$empty_out" = 1 ] && [ -s "$tmp/c.out" ]; then
    fail "$label: stdout is not empty"
  else
    pass "$label"
  fi
}

printf 'kmap 0x38001\n# comment\nkmapp 5\n' >"$tmp/bad.trace"
check "parse error: unknown command, with line number" 2 "bad.trace:3: unknown command 'kmapp'" 1 -- \
  replay --format jsonl "$tmp/bad.trace"
printf 'kmap 1\r\n\r\nkunmap 12abc\r\n' >"$tmp/bad2.trace"
check "parse error: bad number (CRLF trace)" 2 "bad2.trace:3:" 1 -- replay "$tmp/bad2.trace"
printf 'kmap 0x10000000000000000\n' >"$tmp/bad3.trace"
check "parse error: number above 64 bits" 2 "bad3.trace:1:" 1 -- replay "$tmp/bad3.trace"
printf 'kmap\n' >"$tmp/bad4.trace"
check "parse error: missing argument" 2 "bad4.trace:1:" 1 -- replay "$tmp/bad4.trace"
printf 'flush\nload 0 0 0 0\n' >"$tmp/bad5.trace"
check "parse error: too many arguments" 2 "bad5.trace:2:" 1 -- replay "$tmp/bad5.trace"
printf 'kmap 5\nkmap_atomic 0 KM_NOPE 5\n' >"$tmp/rt.trace"
check "unknown type name is a runtime EINVAL" 1 "" 0 -- replay --format jsonl "$tmp/rt.trace"
line2="$(sed -n 2p "$tmp/c.out")"
case "$line2" in
  '{"op":"kmap_atomic","ok":false,"error":"EINVAL","events":[]'*) pass "unknown type name: EINVAL object" ;;
  *) fail "unknown type name: EINVAL object: $line2" ;;
esac
check "missing trace file" 2 "" 1 -- replay "$tmp/does-not-exist.trace"
check "unknown arch" 2 "unknown arch" 1 -- layout --arch vax
check "bad --pkmap-entries" 2 "" 1 -- layout --pkmap-entries 3
check "bad --cpus" 2 "" 1 -- layout --cpus 0
check "unknown option" 2 "" 1 -- replay --frobnicate "$tmp/rt.trace"
check "no subcommand" 2 "" 1
check "--help" 0 "" 0 -- --help
check "layout table" 0 "" 0 -- layout

rc=0
"$KMAPSIM" layout --json >"$tmp/layout.json" 2>/dev/null || rc=$?
missing=""
for key in '"arch":"x86"' '"page_size":4096' '"page_offset":"0xc0000000"' \
           '"highmem_start_pfn":229376' '"max_pfn":' '"pkmap_base":"0xff800000"' \
           '"last_pkmap":1024' '"km_types":["KM_BOUNCE_READ",' '"nr_cpus":1'; do
  grep -qF -- "$key" "$tmp/layout.json" || missing="$missing $key"
done
if [ "$rc" -eq 0 ] && [ -z "$missing" ] && [ "$(wc -l <"$tmp/layout.json")" -eq 1 ]; then
  pass "layout --json: required keys"
else
  fail "layout --json (exit $rc): missing$missing"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
