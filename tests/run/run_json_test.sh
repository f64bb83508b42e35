#!/usr/bin/env bash
# run_json_test.sh - runs run_json_check.py (schema, table = JSON, reproducibility) on the
# kmapsim binary. Usage: run_json_test.sh KMAPSIM SCHEMA CHECKER
# SPDX-License-Identifier: MIT
set -u
exec python3 "$3" "$1" "$2"
