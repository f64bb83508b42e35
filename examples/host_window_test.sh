#!/bin/sh
# host_window_test.sh - runs examples/host_window (8 threads, 64 GiB memfd, 1024-slot window)
# with 2000 operations per thread and checks its one-line summary: every byte right, no error.
set -eu
out=$("$1" 2000)
echo "$out"
echo "$out" | grep -q '^host_window: 8 threads, 64 GiB memory, 1024-slot window: 16000 kmaps, .* 0 errors$'
