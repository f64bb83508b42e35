#!/usr/bin/env bash
# kmapsim_examples_test.sh - replays every examples/*.trace with the options of its first line,
# in both locking modes, and diffs against examples/NAME.expected.jsonl (hand-verified); plus CLI
# contract checks.
# Usage: under Bazel (sh_test, runfiles) or by hand: KMAPSIM=path/to/kmapsim tests/kmapsim_examples_test.sh
set -u

# Under Bazel the working directory is the workspace's runfiles tree.
KMAPSIM="${1:-${KMAPSIM:-tools/kmapsim}}"
EXAMPLES="${2:-${EXAMPLES_DIR:-examples}}"
lib="$(dirname "${BASH_SOURCE[0]}")/testlib.sh"
[ -f "$lib" ] || lib="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/testlib.sh"
# shellcheck source=tests/testlib.sh
source "$lib" # pass, fail, testlib_tmpdir, finish
testlib_tmpdir kmapsim_examples

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

if [ ! -x "$KMAPSIM" ]; then
  fail "kmapsim binary not found at '$KMAPSIM'"
  finish
fi
KMAPSIM="$(cd "$(dirname "$KMAPSIM")" && pwd)/$(basename "$KMAPSIM")"

# ---- The examples ---------------------------------------------------------------------------
# Line 1 of each trace: "# kmapsim replay OPTIONS... examples/NAME.trace"; its machine options
# are in its "# machine: ..." header, which replay honours; "# exit status: N" (default 0).
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
  if [ -z "$want_rc" ]; then
    fail "$name: no '# exit status: N' line (examples/README promises one)"
    want_rc=0
  fi
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

  # The header's options given on the command line too: the same output, no note (no conflict).
  hdr="$(sed -n 's/^# machine: *//p' "$trace" | head -n 1)"
  if [ -n "$hdr" ]; then
    rc=0
    read -r -a hwords <<<"$hdr"
    "$KMAPSIM" replay "${opts[@]}" "${hwords[@]}" "$trace" >"$tmp/$name.cli" 2>"$tmp/$name.clierr" || rc=$?
    if [ "$rc" -eq "$want_rc" ] && cmp -s "$tmp/$name.out" "$tmp/$name.cli" && [ ! -s "$tmp/$name.clierr" ]; then
      pass "$name: header options repeated on the command line"
    else
      fail "$name: header options repeated on the command line (exit $rc): $(head -c 300 "$tmp/$name.clierr")"
    fi
  fi

  # The kernel's locking (the replay above ran the default, fast): the same output, op for op.
  rc=0
  "$KMAPSIM" replay "${opts[@]}" --locking kernel "$trace" >"$tmp/$name.kernel" 2>/dev/null || rc=$?
  if [ "$rc" -eq "$want_rc" ] && cmp -s "$expected" "$tmp/$name.kernel"; then
    pass "$name: --locking kernel"
  else
    fail "$name: --locking kernel (exit $rc) differs from $expected"
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

# ---- The machine header ------------------------------------------------------------------------
printf '# machine: --pkmap-entries 4\nkmap 0x38001\nkmap 0x38002\nkmap 0x38003\nkmap 0x38004\nkmap 0x38005\n' >"$tmp/hdr.trace"
rc=0
"$KMAPSIM" replay --format jsonl "$tmp/hdr.trace" >"$tmp/hdr.out" 2>"$tmp/hdr.err" || rc=$?
[ "$rc" -eq 1 ] && [ "$(grep -c '"ok":true' "$tmp/hdr.out")" -eq 4 ] && grep -q EAGAIN "$tmp/hdr.out"
judge $? "machine header: --pkmap-entries 4 from the trace (4 kmaps fit, then EAGAIN)" "machine header: --pkmap-entries 4 from the trace (exit $rc): $(head -c 300 "$tmp/hdr.out")"
rc=0
"$KMAPSIM" replay --format jsonl --pkmap-entries 8 "$tmp/hdr.trace" >"$tmp/hdr.out" 2>"$tmp/hdr.err" || rc=$?
[ "$rc" -eq 0 ] && grep -q -- 'note: --pkmap-entries 8 on the command line overrides --pkmap-entries 4' "$tmp/hdr.err"
judge $? "machine header: the command line overrides it, and says so" "machine header: command-line override (exit $rc): $(head -c 300 "$tmp/hdr.err")"
printf '# machine: --json\nflush\n' >"$tmp/hdrbad.trace"
check "machine header: only machine options" 2 "'--json' is not a machine option" 1 -- replay "$tmp/hdrbad.trace"
printf 'flush\n# machine: --cpus 2\nflush\n' >"$tmp/hdrlate.trace"
check "machine header: only before the first command" 2 "hdrlate.trace:2: the machine header must come before" 0 -- \
  replay "$tmp/hdrlate.trace"

# ---- Rough edges of the command line ----------------------------------------------------------
check "--version" 0 "" 0 -- --version
grep -Eq '^kmapsim \(libhighmem\) [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/c.out"
judge $? "--version prints the release" "--version prints the release: $(head -c 200 "$tmp/c.out")"
check "--locking takes fast or kernel" 2 "bad value 'spin' for --locking (expected fast or kernel)" 1 -- replay --locking spin "$EXAMPLES/fill-window.trace"
check "--locking is not a layout option" 2 "unknown option '--locking'" 1 -- layout --locking kernel
check "--cache takes on or off" 2 "bad value 'maybe' for --cache (expected on or off)" 1 -- replay --cache maybe "$EXAMPLES/sparc-cache.trace"
check "--cache is not a layout option" 2 "unknown option '--cache'" 1 -- layout --cache on
# The cache model is what makes sparc-cache.trace's pkmap load stale: with --cache off (the
# command line overriding its header) the same load reads the newest byte and reports nothing.
rc=0
"$KMAPSIM" replay --format jsonl --cache off "$EXAMPLES/sparc-cache.trace" >"$tmp/nocache.out" 2>"$tmp/nocache.err" || rc=$?
[ "$rc" -eq 0 ] && [ "$(sed -n 7p "$tmp/nocache.out")" = '{"op":"load","ok":true,"value":88,"events":[]}' ] &&
  ! grep -q stale_cache "$tmp/nocache.out" && grep -q 'note: --cache off on the command line overrides --cache on' "$tmp/nocache.err"
judge $? "--cache off: no cache model, no stale_cache" "--cache off (exit $rc): $(head -c 300 "$tmp/nocache.out")"
check "--help after an unknown subcommand still helps" 0 "fuzz/campaign --help" 0 -- campaign --help

# ---- --kernel: the generation, on every subcommand and in the machine header ------------------
check "--kernel takes a known generation" 2 "bad value '2.6.31' for --kernel (expected 2.6.24, 2.6.30 or 5.11)" 1 -- \
  layout --kernel 2.6.31
check "--kernel on replay" 2 "bad value 'latest' for --kernel" 1 -- replay --kernel latest "$EXAMPLES/fill-window.trace"
check "--kernel on run" 2 "bad value '' for --kernel" 1 -- run --kernel= --ops 10
check "--kernel needs a value" 2 "option --kernel needs a value" 1 -- layout --kernel
for k in 2.6.24 2.6.30 5.11; do
  rc=0
  "$KMAPSIM" layout --json --kernel "$k" >"$tmp/k.json" 2>/dev/null || rc=$?
  "$KMAPSIM" layout --kernel "$k" >"$tmp/k.txt" 2>/dev/null || rc=$?
  python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["kernel"] == sys.argv[2], d["kernel"]
assert d["need_flush"] == (sys.argv[2] != "2.6.24"), d["need_flush"]
' "$tmp/k.json" "$k" 2>"$tmp/py.err" && [ "$rc" -eq 0 ] && grep -q "kernel $k, " "$tmp/k.txt"
  judge $? "layout --kernel $k: JSON key kernel, need_flush from 2.6.30, the table says so" "layout --kernel $k (exit $rc): $(tail -n 1 "$tmp/py.err") $(head -n 1 "$tmp/k.txt")"
done
# 2.6.30 implies need_flush: a wrap that frees nothing flushes no TLB; from the command line
# and from the trace's machine header alike, and 2.6.24 still flushes.
printf '# machine: --pkmap-entries 4 --kernel 2.6.30\nkmap 0x38001\nkmap 0x38002\nkmap 0x38003\nkmap 0x38004\n' >"$tmp/k30.trace"
rc=0
"$KMAPSIM" replay --format jsonl "$tmp/k30.trace" >"$tmp/k30.out" 2>"$tmp/k30.err" || rc=$?
[ "$rc" -eq 0 ] && grep -q '"flush_all_zero_pkmaps"' "$tmp/k30.out" && ! grep -q tlb_flush "$tmp/k30.out" && [ ! -s "$tmp/k30.err" ]
judge $? "machine header --kernel 2.6.30: a wrap freeing nothing flushes no TLB" "machine header --kernel 2.6.30 (exit $rc): $(head -c 300 "$tmp/k30.out")"
rc=0
"$KMAPSIM" replay --format jsonl --kernel 2.6.24 "$tmp/k30.trace" >"$tmp/k24.out" 2>"$tmp/k24.err" || rc=$?
[ "$rc" -eq 0 ] && grep -q 'tlb_flush_range 0xffc00000 0xffc04000' "$tmp/k24.out" &&
  grep -q -- 'note: --kernel 2.6.24 on the command line overrides --kernel 2.6.30' "$tmp/k24.err"
judge $? "--kernel 2.6.24 on the command line overrides the header: the wrap flushes" "--kernel 2.6.24 override (exit $rc): $(head -c 300 "$tmp/k24.err")"
printf 'flush\n' >"$tmp/wd.trace"
rc=0
(cd / && BUILD_WORKING_DIRECTORY="$tmp" "$KMAPSIM" replay wd.trace) >"$tmp/wd.out" 2>"$tmp/wd.err" || rc=$?
[ "$rc" -eq 0 ] && grep -q 'flush -> ok' "$tmp/wd.out"
judge $? "BUILD_WORKING_DIRECTORY: relative paths are the caller's (bazel run)" "BUILD_WORKING_DIRECTORY (exit $rc): $(head -c 300 "$tmp/wd.err")"
printf 'kmap 1\rkmap 2\rkmap 3' >"$tmp/cr.trace"
rc=0
"$KMAPSIM" replay "$tmp/cr.trace" >"$tmp/cr.out" 2>&1 || rc=$?
[ "$rc" -eq 0 ] && [ "$(wc -l <"$tmp/cr.out")" -eq 3 ] && grep -q '^   3 kmap 3 -> ' "$tmp/cr.out"
judge $? "a CR-only trace is three lines" "a CR-only trace is three lines (exit $rc): $(head -c 300 "$tmp/cr.out")"
check "--highmem-pages on generic is noted, not silent" 0 "generic has no highmem: --highmem-pages ignored" 0 -- \
  layout --arch generic --highmem-pages 4294967295
# Streaming: a bad first line is reported at once, while the input is still open.
rc=0
{ printf 'kmapp 1\n'; sleep 20; } | timeout 10 "$KMAPSIM" replay - >"$tmp/st.out" 2>"$tmp/st.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q '<stdin>:1: unknown command' "$tmp/st.err"
judge $? "replay streams: a parse error on line 1 is reported before the end of the input" "replay streams: parse error at once (exit $rc, 124 = still waiting for the input)"
# ... and memory stays bounded: 160 MB of comments between 21 flushes, peak RSS under 80 MiB
# (reading the whole input first, as replay once did, needs more than 160 MB).
rc=0
python3 - "$KMAPSIM" >"$tmp/big.out" 2>"$tmp/big.err" <<'PYEOF' || rc=$?
import resource, subprocess, sys
p = subprocess.Popen([sys.argv[1], "replay", "--format", "jsonl", "-"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
chunk = b"# a comment line of about sixty-four bytes, repeated many times.\n" * 10000
p.stdin.write(b"flush\n" * 20)
for _ in range(250):
    p.stdin.write(chunk)
p.stdin.write(b"flush\n")
p.stdin.close()
lines = p.stdout.read().count(b"\n")
rc = p.wait()
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
print(f"exit {rc}, {lines} lines, peak RSS {peak} MiB")
sys.exit(0 if rc == 0 and lines == 21 and peak < 80 else 1)
PYEOF
[ "$rc" -eq 0 ]
judge $? "replay streams: 160 MB of trace in bounded memory ($(cat "$tmp/big.out"))" "replay streams: 160 MB of trace in bounded memory: $(cat "$tmp/big.out") $(head -c 200 "$tmp/big.err")"

# ---- CLI contract checks ---------------------------------------------------------------------

printf 'kmap 0x38001\n# comment\nkmapp 5\n' >"$tmp/bad.trace"
check "parse error: unknown command, with line number" 2 "bad.trace:3: unknown command 'kmapp'" 0 -- \
  replay --format jsonl "$tmp/bad.trace"
# replay streams: the commands before the bad line ran and were printed, nothing after it
[ "$(wc -l <"$tmp/c.out")" -eq 1 ] && grep -q '^{"op":"kmap","ok":true' "$tmp/c.out"
judge $? "parse error: the lines before it ran and were printed" "parse error: the lines before it ran and were printed: $(head -c 300 "$tmp/c.out")"
printf 'kmap 1\r\n\r\nkunmap 12abc\r\n' >"$tmp/bad2.trace"
check "parse error: bad number (CRLF trace)" 2 "bad2.trace:3:" 0 -- replay "$tmp/bad2.trace"
printf 'kmap 0x10000000000000000\n' >"$tmp/bad3.trace"
check "parse error: number above 64 bits" 2 "bad3.trace:1:" 1 -- replay "$tmp/bad3.trace"
printf 'kmap\n' >"$tmp/bad4.trace"
check "parse error: missing argument" 2 "bad4.trace:1:" 1 -- replay "$tmp/bad4.trace"
printf 'flush\nload 0 0 0 0\n' >"$tmp/bad5.trace"
check "parse error: too many arguments" 2 "bad5.trace:2:" 0 -- replay "$tmp/bad5.trace"
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
[ "$rc" -eq 0 ] && [ -z "$missing" ] && [ "$(wc -l <"$tmp/layout.json")" -eq 1 ]
judge $? "layout --json: required keys" "layout --json (exit $rc): missing$missing"

# ---- Every arch ------------------------------------------------------------------------------
arches="x86 x86-pae ppc sparc generic arm arm-vipt xtensa"
if ! command -v python3 >/dev/null 2>&1; then
  fail "python3 is needed for the JSON checks (tools/setup installs it)"
  finish
fi

check "unknown arch lists every arch" 2 "(available: x86, x86-pae, ppc, sparc, generic" 1 -- \
  layout --arch vax
check "unknown arch (replay)" 2 "unknown arch 'pdp11'" 1 -- replay --arch pdp11 "$tmp/rt.trace"
check "--help documents --arch all and inject" 0 "" 0 -- --help
if grep -q -- 'x86-pae, ppc, sparc, generic' "$tmp/c.out" && grep -q -- 'inject MODE' "$tmp/c.out" &&
   grep -q -- 'drop-all-flushes' "$tmp/c.out" && grep -q -- 'replay --arch all' "$tmp/c.out"; then
  pass "--help text: arches, layout/replay --arch all, inject"
else
  fail "--help text lacks the arches, --arch all or inject"
fi

# The per-arch facts the contract tests pin (spec §3-§7): PKMAP_BASE, LAST_PKMAP, km_types.
cat >"$tmp/check_layout.py" <<'PY'
import json, sys
arch, path, cpus = sys.argv[1], sys.argv[2], int(sys.argv[3])
want = {  # pkmap_base, last_pkmap, len(km_types), page_offset
    "x86": (0xff800000, 1024, 13, 0xc0000000),
    "x86-pae": (0xffc00000, 512, 13, 0xc0000000),
    "ppc": (0xfe000000, 1024, 15, 0xc0000000),
    "sparc": (0xfc800000, 1024, 13, 0xf0000000),
    "generic": (0, 0, 13, 0xc0000000),
    "arm": (0xbfe00000, 512, 14, 0xc0000000),  # PAGE_OFFSET - PMD_SIZE, PTRS_PER_PTE, + KM_L2_CACHE
    "arm-vipt": (0xbfe00000, 512, 14, 0xc0000000),
    "xtensa": (0xbf000000, 2048, 13, 0xd0000000),
}[arch]
text = open(path).read()
assert text.count("\n") == 1 and text.endswith("\n"), "not one line"
d = json.loads(text)
for key, typ in [("arch", str), ("page_size", int), ("page_offset", str),
                 ("highmem_start_pfn", int), ("max_pfn", int), ("pkmap_base", str),
                 ("last_pkmap", int), ("km_types", list), ("nr_cpus", int)]:
    assert key in d, "missing key " + key
    assert type(d[key]) is typ, "%s is %s" % (key, type(d[key]).__name__)
hexv = lambda k: int(d[k], 16) if d[k].startswith("0x") else None
assert d["arch"] == arch, d["arch"]
assert d["page_size"] == 4096
assert hexv("page_offset") == want[3], d["page_offset"]
assert hexv("pkmap_base") == want[0], d["pkmap_base"]
assert d["last_pkmap"] == want[1], d["last_pkmap"]
assert len(d["km_types"]) == want[2], d["km_types"]
assert all(isinstance(t, str) and t.startswith("KM_") for t in d["km_types"])
assert d["km_types"][3] == "KM_USER0" and d["km_types"][4] == "KM_USER1"
if arch == "ppc":
    assert d["km_types"][-2:] == ["KM_PPC_SYNC_PAGE", "KM_PPC_SYNC_ICACHE"], d["km_types"]
assert d["nr_cpus"] == cpus
assert d["kernel"] == "2.6.24", d.get("kernel")  # the default generation
assert 0 < d["highmem_start_pfn"] <= d["max_pfn"]
if arch == "generic":
    assert d["highmem_start_pfn"] == d["max_pfn"]
else:
    assert d["highmem_start_pfn"] < d["max_pfn"]
    base, end = want[0], want[0] + want[1] * 4096
    low_end = want[3] + d["highmem_start_pfn"] * 4096  # end of the direct map
    assert (base >= low_end or end <= want[3]) and end <= 1 << 32, "pkmap window overlaps the direct map"
if arch == "x86-pae":
    assert d["max_pfn"] > 0x100000, "no frames above 4 GiB"
PY
for a in $arches; do
  for cpus in 1 3; do
    rc=0
    "$KMAPSIM" layout --json --arch "$a" --cpus "$cpus" >"$tmp/l-$a.json" 2>"$tmp/l-$a.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
      fail "layout --json --arch $a --cpus $cpus: exit $rc: $(head -c 300 "$tmp/l-$a.err")"
    elif python3 "$tmp/check_layout.py" "$a" "$tmp/l-$a.json" "$cpus" 2>"$tmp/py.err"; then
      pass "layout --json --arch $a --cpus $cpus: contract keys and values"
    else
      fail "layout --json --arch $a --cpus $cpus: $(tail -n 1 "$tmp/py.err")"
    fi
  done
  # The boot-log table: ranges from the top of the address space down.
  rc=0
  "$KMAPSIM" layout --arch "$a" >"$tmp/t-$a.txt" 2>/dev/null || rc=$?
  starts="$(sed -n 's/^    [a-z]* *: 0x\([0-9a-f]*\) - .*/\1/p' "$tmp/t-$a.txt")"
  sorted="$(printf '%s\n' "$starts" | sort -r)"
  names="$(sed -n 's/^    \([a-z]*\) *: .*/\1/p' "$tmp/t-$a.txt" | sort | tr '\n' ' ')"
  case "$a" in
    ppc) want_names="kmap lowmem pkmap vmalloc " ;;
    generic) want_names="fixmap lowmem vmalloc " ;;
    *) want_names="fixmap lowmem pkmap vmalloc " ;;
  esac
  # the lowest region: the direct map, except where the pkmap window lies below PAGE_OFFSET (arm:
  # just below it; xtensa, whose KSEG lies above the rest)
  case "$a" in arm* | xtensa) lowest=pkmap ;; *) lowest=lowmem ;; esac
  if [ "$rc" -eq 0 ] && grep -q '^virtual kernel memory layout:' "$tmp/t-$a.txt" &&
     [ "$starts" = "$sorted" ] && [ "$names" = "$want_names" ] &&
     [ "$(sed -n 's/^    \([a-z]*\) *: .*/\1/p' "$tmp/t-$a.txt" | tail -n 1)" = "$lowest" ]; then
    pass "layout --arch $a: table ($names)"
  else
    fail "layout --arch $a: table (exit $rc, regions '$names', want '$want_names')"
    cat "$tmp/t-$a.txt"
  fi
done
# ppc's atomic window: [0xfe400000, + 15 types * 4 CPUs (NR_CPUS) pages) = 0xfe43c000.
grep -q '^    kmap    : 0xfe400000 - 0xfe43c000' "$tmp/t-ppc.txt"
judge $? "layout --arch ppc: kmap line for the atomic window" "layout --arch ppc: kmap line: $(grep kmap "$tmp/t-ppc.txt")"
# The data cache of each descriptor (docs/arches.md, "Data caches").
grep -qx 'data cache: VIVT, 16 colours' "$tmp/t-sparc.txt" && grep -qx 'data cache: PIPT' "$tmp/t-x86.txt" &&
  grep -qx 'data cache: PIPT' "$tmp/t-ppc.txt"
judge $? "layout: the data cache line (sparc VIVT, x86 and ppc PIPT)" "layout: data cache: $(grep -h 'data cache' "$tmp"/t-*.txt)"

# layout --arch all: one table naming every arch; --json: an array of one object per arch,
# each equal to that arch's own layout --json.
rc=0
"$KMAPSIM" layout --arch all >"$tmp/all.txt" 2>"$tmp/all.err" || rc=$?
missing=""
for a in $arches; do
  grep -qw -- "$a" "$tmp/all.txt" || missing="$missing $a"
done
for row in PAGE_OFFSET PKMAP_BASE LAST_PKMAP KM_TYPE_NR 'vmalloc start' 'PTE bytes' 'NR_CPUS'; do
  grep -q -- "^$row" "$tmp/all.txt" || missing="$missing '$row'"
done
[ "$rc" -eq 0 ] && [ -z "$missing" ] && ! grep -q 'invalid config' "$tmp/all.txt"
judge $? "layout --arch all: comparison table" "layout --arch all (exit $rc): missing$missing"

cat >"$tmp/check_all.py" <<'PY'
import json, sys
arr = json.load(open(sys.argv[1]))
arches = sys.argv[2].split()
assert isinstance(arr, list) and len(arr) == len(arches), "not an array of %d" % len(arches)
assert [o.get("arch") for o in arr] == arches, [o.get("arch") for o in arr]
for o, a in zip(arr, arches):
    single = json.load(open(sys.argv[3] + "/one-" + a + ".json"))
    assert o == single, a + " differs from its single-arch object"
PY
rc=0
"$KMAPSIM" layout --json --arch all --cpus 2 >"$tmp/all.json" 2>/dev/null || rc=$?
for a in $arches; do
  "$KMAPSIM" layout --json --arch "$a" --cpus 2 >"$tmp/one-$a.json" 2>/dev/null || rc=$?
done
[ "$rc" -eq 0 ] && python3 "$tmp/check_all.py" "$tmp/all.json" "$arches" "$tmp" 2>"$tmp/py.err"
judge $? "layout --json --arch all: array of the per-arch objects" "layout --json --arch all (exit $rc): $(tail -n 1 "$tmp/py.err")"

# A config that fits some arches only: the others are "invalid config", the rest still shown.
rc=0
"$KMAPSIM" layout --arch all --pkmap-entries 4096 >"$tmp/all4096.txt" 2>/dev/null || rc=$?
if [ "$rc" -eq 0 ] && grep -q '^ppc: invalid config: --pkmap-entries 4096 does not fit the ppc layout' "$tmp/all4096.txt" &&
   grep -q '^sparc: invalid config: ' "$tmp/all4096.txt" && ! grep -q '^x86' "$tmp/all4096.txt" &&
   grep -q '^PKMAP_BASE .*0xfec00000' "$tmp/all4096.txt"; then
  pass "layout --arch all --pkmap-entries 4096: ppc and sparc invalid, the rest shown"
else
  fail "layout --arch all --pkmap-entries 4096 (exit $rc)"
  cat "$tmp/all4096.txt"
fi
rc=0
"$KMAPSIM" layout --json --arch all --pkmap-entries 4096 >"$tmp/all4096.json" 2>/dev/null || rc=$?
if [ "$rc" -eq 0 ] && python3 -c '
import json, sys
arr = json.load(open(sys.argv[1]))
bad = [o["arch"] for o in arr if "error" in o]
assert len(arr) == 8 and bad == ["ppc", "sparc", "arm", "arm-vipt"], bad
for o in arr:
    if "error" in o:
        assert o["error"] == "invalid config" and "does not fit" in o["message"]
    else:
        assert o["last_pkmap"] == (0 if o["arch"] == "generic" else 4096)
' "$tmp/all4096.json" 2>"$tmp/py.err"; then
  pass "layout --json --arch all --pkmap-entries 4096: invalid objects"
else
  fail "layout --json --arch all --pkmap-entries 4096 (exit $rc): $(tail -n 1 "$tmp/py.err")"
fi

# Single-arch invalid configs are exit 2 with the reason; replay refuses --arch all.
printf 'flush\n' >"$tmp/flush.trace"
check "layout --arch ppc --pkmap-entries 4096" 2 "--pkmap-entries 4096 does not fit the ppc layout" 1 -- \
  layout --arch ppc --pkmap-entries 4096
check "replay --arch ppc --pkmap-entries 2048" 2 "--pkmap-entries 2048 does not fit the ppc layout" 1 -- \
  replay --arch ppc --pkmap-entries 2048 "$tmp/flush.trace"
check "replay --arch sparc --pkmap-entries 4096" 2 "--pkmap-entries 4096 does not fit the sparc layout" 1 -- \
  replay --format jsonl --arch sparc --pkmap-entries 4096 "$tmp/flush.trace"
check "layout --arch x86 --highmem-pages too many" 2 "--highmem-pages 2097152 does not fit the x86 layout" 1 -- \
  layout --arch x86 --highmem-pages 2097152
check "layout --arch x86-pae --highmem-pages 2097152 fits" 0 "" 0 -- \
  layout --arch x86-pae --highmem-pages 2097152
check "generic ignores --pkmap-entries" 0 "" 0 -- layout --arch generic --pkmap-entries 4096
check "replay --arch all is a usage error" 2 "replay --arch all" 1 -- replay --arch all "$tmp/flush.trace"

# inject: a parse-time MODE check; the command itself always succeeds, with no events.
printf 'flush\ninject sometimes\n' >"$tmp/badinject.trace"
check "inject: unknown MODE is a parse error" 2 "badinject.trace:2: bad MODE 'sometimes'" 0 -- \
  replay "$tmp/badinject.trace"
printf 'inject\n' >"$tmp/badinject2.trace"
check "inject: missing MODE" 2 "badinject2.trace:1:" 1 -- replay "$tmp/badinject2.trace"
printf 'inject drop-next-flush\ninject drop-all-flushes\ninject none\n' >"$tmp/inject.trace"
for a in $arches; do
  rc=0
  "$KMAPSIM" replay --format jsonl --arch "$a" "$tmp/inject.trace" >"$tmp/inject.out" 2>/dev/null || rc=$?
  if [ "$rc" -eq 0 ] && [ "$(grep -c '^{"op":"inject","ok":true,"events":\[\]}$' "$tmp/inject.out")" -eq 3 ]; then
    pass "inject on $a"
  else
    fail "inject on $a (exit $rc): $(head -c 300 "$tmp/inject.out")"
  fi
done

# ---- --pkmap-entries 16 on every arch ---------------------------------------------------------
# Fifteen kmaps fill slots 1..15, a kunmap frees slot 1 lazily, the 16th kmap wraps (the flush
# tears slot 1 down, then slot 0 is taken), the 17th takes slot 1, the 18th finds every slot
# busy after one more wrap flush (EAGAIN). Expectations are computed from the arch's own
# layout --json: slot n at pkmap_base + n*0x1000; ppc and sparc flush_cache_kmaps() =
# flush_cache_all() (spec §7); generic has no highmem: kmap is page_address(), no events.
cat >"$tmp/pkmap16.py" <<'PY'
import json, sys
arch, layout, trace, expected = sys.argv[1:5]
d = json.load(open(layout))
want_base = {"x86": 0xffc00000, "x86-pae": 0xffe00000, "ppc": 0xfe000000,
             "sparc": 0xfc800000, "generic": 0, "arm": 0xbfe00000, "arm-vipt": 0xbfe00000}[arch]
base = int(d["pkmap_base"], 16)
assert base == want_base, "pkmap_base %#x, expected %#x" % (base, want_base)
assert d["last_pkmap"] == (0 if arch == "generic" else 16), d["last_pkmap"]
highmem = d["last_pkmap"] != 0
first = d["highmem_start_pfn"] if highmem else 0x100
pfn = [first + k for k in range(19)]
cache = ["cache_flush_all"] if arch in ("ppc", "sparc", "arm") else []  # arm: VIVT
slot = lambda n: "0x%x" % (base + n * 0x1000)
lowmem = lambda p: "0x%x" % (int(d["page_offset"], 16) + p * 0x1000)
rng = "tlb_flush_range %s 0x%x" % (slot(0), base + 16 * 0x1000)
cmds, out = [], []
def ok(op, ev=(), **kw):
    o = {"op": op, "ok": True}
    o.update(kw)
    o["events"] = list(ev)
    out.append(o)
for k in range(1, 16):
    cmds.append("kmap %d" % pfn[k])
    if highmem:
        ok("kmap", ["pte_set %s %d" % (slot(k), pfn[k])], vaddr=slot(k))
    else:
        ok("kmap", vaddr=lowmem(pfn[k]))
cmds.append("kunmap %d" % pfn[1]); ok("kunmap")
cmds.append("kmap %d" % pfn[16])
if highmem:
    ok("kmap", ["flush_all_zero_pkmaps"] + cache + ["pte_clear " + slot(1), rng,
                "pte_set %s %d" % (slot(0), pfn[16])], vaddr=slot(0))
else:
    ok("kmap", vaddr=lowmem(pfn[16]))
cmds.append("kmap %d" % pfn[17])
if highmem:
    ok("kmap", ["pte_set %s %d" % (slot(1), pfn[17])], vaddr=slot(1))
else:
    ok("kmap", vaddr=lowmem(pfn[17]))
cmds.append("kmap %d" % pfn[18])
if highmem:
    out.append({"op": "kmap", "ok": False, "error": "EAGAIN",
                "events": ["flush_all_zero_pkmaps"] + cache + [rng]})
else:
    ok("kmap", vaddr=lowmem(pfn[18]))
addr = slot(5) if highmem else lowmem(pfn[5])
cmds.append("store 0 %s 7" % addr); ok("store")
cmds.append("load 0 %s" % addr); ok("load", value=7)
open(trace, "w").write("\n".join(cmds) + "\n")
open(expected, "w").write("".join(json.dumps(o, separators=(",", ":")) + "\n" for o in out))
print(1 if highmem else 0)
PY
# The uncoloured arches: xtensa's coloured scan (consecutive pfns alternate colours) is pinned by
# tests/xtensa_test.c instead.
for a in $(printf '%s\n' $arches | grep -vx xtensa); do
  rc=0
  "$KMAPSIM" layout --json --arch "$a" --pkmap-entries 16 >"$tmp/p16-$a.json" 2>/dev/null || rc=$?
  if [ "$rc" -ne 0 ] ||
     ! want_rc="$(python3 "$tmp/pkmap16.py" "$a" "$tmp/p16-$a.json" "$tmp/p16-$a.trace" \
                  "$tmp/p16-$a.expected" 2>"$tmp/py.err")"; then
    fail "--pkmap-entries 16 on $a: layout (exit $rc): $(tail -n 1 "$tmp/py.err")"
    continue
  fi
  rc=0
  "$KMAPSIM" replay --format jsonl --arch "$a" --pkmap-entries 16 "$tmp/p16-$a.trace" \
    >"$tmp/p16-$a.out" 2>"$tmp/p16-$a.err" || rc=$?
  if [ "$rc" -ne "$want_rc" ]; then
    fail "--pkmap-entries 16 on $a: exit $rc, expected $want_rc ($(head -c 300 "$tmp/p16-$a.err"))"
  elif ! diff -u "$tmp/p16-$a.expected" "$tmp/p16-$a.out" >"$tmp/p16-$a.diff"; then
    fail "--pkmap-entries 16 on $a: output differs:"
    head -n 40 "$tmp/p16-$a.diff"
  else
    pass "--pkmap-entries 16 on $a: fill 15 slots, wrap, EAGAIN"
  fi
done


# ---- 5.11: kmap_local's layout keys ----------------------------------------------------------
# layout --json names KM_MAX_IDX and the tasks only from 5.11 (16 and nr_cpus + 2; 33 with
# --debug-highmem, the guard slots), and the text says where the local slots are.
rc=0
"$KMAPSIM" layout --json --kernel 5.11 --cpus 2 >"$tmp/l511.json" 2>/dev/null || rc=$?
"$KMAPSIM" layout --json --kernel 5.11 --debug-highmem >"$tmp/l511d.json" 2>/dev/null || rc=$?
"$KMAPSIM" layout --json --kernel 2.6.30 >"$tmp/l2630.json" 2>/dev/null || rc=$?
"$KMAPSIM" layout --kernel 5.11 >"$tmp/l511.txt" 2>/dev/null || rc=$?
python3 -c '
import json, sys
a, d, o = (json.load(open(f)) for f in sys.argv[1:4])
assert (a["km_max_idx"], a["nr_tasks"]) == (16, 4), a
assert (d["km_max_idx"], d["nr_tasks"]) == (33, 3), d
assert "km_max_idx" not in o and "nr_tasks" not in o, o
' "$tmp/l511.json" "$tmp/l511d.json" "$tmp/l2630.json" 2>"$tmp/py.err" && [ "$rc" -eq 0 ] &&
  grep -q "^kmap_local: slot idx = stack position + KM_MAX_IDX 16\*cpu" "$tmp/l511.txt"
judge $? "layout --kernel 5.11: km_max_idx and nr_tasks, the kmap_local line" "layout 5.11 (exit $rc): $(tail -n 1 "$tmp/py.err")"
# xtensa 5.11 (arch_kmap_local_map_idx): each stack position has a slot per colour, 2 * 16 * 4
rc=0
"$KMAPSIM" layout --arch xtensa --kernel 5.11 >"$tmp/lx511.txt" 2>/dev/null || rc=$?
[ "$rc" -eq 0 ] && grep -q "^kmap_local: slot idx = (stack position + KM_MAX_IDX 16\*cpu)\*2 + the page's colour at 0xbfc00000 + idx\*4096 (upward), 128 slots for NR_CPUS 4;" "$tmp/lx511.txt"
judge $? "layout --arch xtensa --kernel 5.11: the coloured kmap_local line" "layout xtensa 5.11 (exit $rc): $(grep kmap_local "$tmp/lx511.txt")"
finish
