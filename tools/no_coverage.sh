#!/usr/bin/env bash
# Offline stand-in for Bazel's coverage report generator (.bazelrc --coverage_report_generator).
# `bazel coverage` is unsupported here; use clang -fprofile-instr-generate + llvm-cov by hand.
echo "coverage unavailable offline" >&2
exit 1
