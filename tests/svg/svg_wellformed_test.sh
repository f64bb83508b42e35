#!/usr/bin/env bash
# svg_wellformed_test.sh - runs svg_gen twice (synthetic runs -> SVG + input description) and
# checks the pictures with svg_check.py (well-formed, self-contained, counts match the input,
# bounded, deterministic). Usage: svg_wellformed_test.sh SVG_GEN SVG_CHECK (sh_test passes their
# runfiles paths), or SVG_GEN=... SVG_CHECK=... by hand. SPDX-License-Identifier: MIT
set -u
GEN="${1:-${SVG_GEN:-tests/svg/svg_gen}}"
CHECK="${2:-${SVG_CHECK:-tests/svg/svg_check.py}}"
tmp="$(mktemp -d "${TEST_TMPDIR:-/tmp}/svg_test.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/a" "$tmp/b"
if ! "$GEN" "$tmp/a" || ! "$GEN" "$tmp/b"; then
  echo "FAIL svg_gen exited non-zero"
  echo "0 passed, 1 failed"
  exit 1
fi
python3 "$CHECK" "$tmp/a" "$tmp/b"
