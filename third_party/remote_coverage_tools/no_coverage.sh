#!/usr/bin/env bash
# Offline stand-in for Bazel's coverage tools (@remote_coverage_tools, declared by deps.bzl).
# `bazel coverage` is unsupported here; use clang -fprofile-instr-generate + llvm-cov by hand.
echo "coverage unavailable offline" >&2
exit 1
